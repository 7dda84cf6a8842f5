"""Comparing two books (journeymap.portfolio_compare, `journeymap compare BOOK BOOK`): paired changes with common
random numbers, the business case in money, the terminal table showing the JSON's numbers, and bad pairs refused."""

from __future__ import annotations

import json

import pytest
from helpers import JOURNEYS, copy_journey, small_book

from journeymap.cli import main
from journeymap.errors import EXIT_OK, EXIT_USAGE
from journeymap.money import format_amount
from journeymap.portfolio import load_portfolio
from journeymap.portfolio_compare import compare_books, compare_books_blocks
from journeymap.tables import plain


def _book(folder, name: str, *, juniors: bool = False, investment: bool = False, grow: bool = False):
    """helpers.SMALL_BOOK with its churn link, and optionally juniors, an expansion link and an investment."""
    money = ["churn: {below: 60, per_point: [0.5, 1.5]}"]
    money += ["expansion: {above: 50, per_point: [0.2, 0.6]}"] if grow else []
    money += ["investment: {one_off: 1000, per_month: 100}"] if investment else []
    path = folder / name
    path.write_text(small_book(juniors=juniors, money=money), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path):
    copy_journey(JOURNEYS / "book-renewal.yaml", tmp_path / "book-renewal.yaml")
    return tmp_path


def test_the_same_book_twice_changes_nothing_and_never_pays_back(folder):
    """AFTER = BEFORE: the same accounts and arrivals (common random numbers), so every paired change is exactly
    0 and its interval is [0, 0]; nothing saved or protected; no investment, so no payback."""
    p = load_portfolio(_book(folder, "before.yaml"))
    c = compare_books(p, p, replications=3, seed=2)
    assert c["changes"], "no figure was compared"
    for name, row in c["changes"].items():
        assert row["change"] == 0.0, name
        assert row["before"] == row["after"], name
        lo, hi = row["ci95"]
        assert lo <= 0.0 <= hi, name
    bc = c["business_case"]
    assert bc["cost_saved_per_year"]["mean"] == 0.0
    assert bc["revenue_protected_per_year"] == {"mean": 0.0, "low": 0.0, "high": 0.0}
    assert bc["investment"] is None and bc["payback_months"] is None


def test_managers_for_the_pooled_tier_protect_its_revenue(folder):
    """AFTER adds two junior managers for the 30 growth accounts: none is left to the pool, growth's renewals stop
    queueing behind the one pool person, its index rises and its revenue at risk falls: revenue protected > 0
    (central figure and the band's top); the key tier's accounts and managers are the same."""
    before = load_portfolio(_book(folder, "before.yaml"))
    after = load_portfolio(_book(folder, "after.yaml", juniors=True, investment=True))
    c = compare_books(before, after, replications=3, seed=2)
    assert c["without_manager"] == {"before": 30, "after": 0}
    growth = c["business_case"]["tiers"]["growth"]["revenue_protected_per_year"]
    assert growth["mean"] > 0 and growth["high"] >= growth["mean"] >= growth["low"]
    assert c["changes"]["growth.cycle_time"]["change"] < 0
    assert c["business_case"]["investment"] == {"one_off": 1000.0, "per_month": 100.0}
    assert set(c["business_case"]["payback_months"]) == {"months", "fastest", "slowest"}


def test_expansion_gained_is_the_paired_change_of_expansion_revenue_and_adds_to_the_benefit(folder, capsys):
    """Both books with an expansion link (above 50): expansion gained a year is the paired change AFTER − BEFORE of
    the expansion revenue (book and per tier), the benefit adds it to cost saved and revenue protected, and the
    table shows it."""
    before = load_portfolio(_book(folder, "before.yaml", grow=True))
    after = load_portfolio(_book(folder, "after.yaml", juniors=True, investment=True, grow=True))
    c = compare_books(before, after, replications=3, seed=2)
    bc = c["business_case"]
    gained = bc["expansion_gained_per_year"]
    assert gained["mean"] == pytest.approx(c["changes"]["expansion_revenue.mean"]["change"])
    assert gained["low"] <= gained["mean"] <= gained["high"]
    growth = bc["tiers"]["growth"]["expansion_gained_per_year"]
    assert growth["mean"] == pytest.approx(c["changes"]["growth.expansion_revenue.mean"]["change"])
    parts = (bc["cost_saved_per_year"]["mean"], bc["revenue_protected_per_year"]["mean"], gained["mean"])
    assert bc["benefit_per_year"]["mean"] == pytest.approx(sum(parts))
    text = plain(compare_books_blocks(c))
    assert "expansion gained a year" in text and format_amount(gained["mean"], "EUR") in text
    assert "expansion revenue a year" in text


def test_the_table_shows_the_numbers_of_the_json(folder, capsys, tmp_path):
    """`compare BEFORE AFTER` on two books: --json-output writes the JSON the terminal table is made from; each
    amount appears in the table as format_amount writes it, the index with two decimals."""
    before, after = _book(folder, "before.yaml"), _book(folder, "after.yaml", juniors=True, investment=True)
    out = tmp_path / "c.json"
    args = ["compare", str(before), str(after), "--replications", "3", "--seed", "2", "--no-progress"]
    assert main([*args, "--json-output", str(out)]) == EXIT_OK
    table = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert all(line in table for line in plain(compare_books_blocks(data)).splitlines())
    ex = data["changes"]["experience"]
    assert f"{ex['before']:,.2f}" in table and f"{ex['change']:,.2f}".replace("-", "−") in table
    bc = data["business_case"]
    assert format_amount(bc["cost_saved_per_year"]["mean"], "EUR") in table
    assert format_amount(bc["revenue_protected_per_year"]["mean"], "EUR") in table
    assert format_amount(data["changes"]["staff_cost"]["after"], "EUR") in table
    assert main([*args, "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == data


def test_a_portfolio_and_a_journey_are_refused(folder, capsys):
    """One side a portfolio, the other not: exit 2 with what to give instead, either way round."""
    book = _book(folder, "before.yaml")
    for pair in ((book, folder / "book-renewal.yaml"), (folder / "book-renewal.yaml", book)):
        assert main(["compare", *map(str, pair), "--no-progress"]) == EXIT_USAGE
        assert "is a portfolio and" in capsys.readouterr().err


@pytest.mark.parametrize("files, pairs", [
    # the bundled pair: the longest portfolio stem before a '-'
    (["j/book.yaml", "j/book-more-managers.yaml"],
     [("book-more-managers", "j/book.yaml", "j/book-more-managers.yaml")]),
    (["j/a.yaml", "j/a-b.yaml", "j/a-b-c.yaml"],
     [("a-b", "j/a.yaml", "j/a-b.yaml"), ("a-b-c", "j/a-b.yaml", "j/a-b-c.yaml")]),
    # no base beside it, or in another folder: nothing to compare
    (["j/book-more-managers.yaml", "k/book.yaml"], []),
])
def test_book_pairs(files, pairs):
    from journeymap.pipeline import book_pairs

    assert book_pairs(files) == pairs


def test_the_main_job_compares_the_bundled_books(tmp_path):
    """`journeymap run` on the bundled pair writes book-more-managers-compare.{json,txt}, the text made from the
    JSON, and logs the business case's line."""
    from journeymap.pipeline import run_all

    lines: list[str] = []
    run_all(["journeys/book.yaml", "journeys/book-more-managers.yaml"], str(tmp_path / "out"), quick=True,
            log=lines.append)
    data = json.loads((tmp_path / "out" / "book-more-managers-compare.json").read_text())
    assert data["without_manager"] == {"before": 320, "after": 0}
    text = (tmp_path / "out" / "book-more-managers-compare.txt").read_text()
    assert text == plain(compare_books_blocks(data)) + "\n"
    assert any("revenue protected" in line and "book-more-managers-compare.txt" in line for line in lines)


def test_the_books_own_runs_give_the_same_comparison(folder):
    """The main job hands compare_books the runs it already made (same seed, same replications): the comparison is
    the one compare_books makes by simulating them itself, to the byte; runs of other replications are refused."""
    from journeymap.simulation.portfolio import simulate_portfolio

    before = load_portfolio(_book(folder, "before.yaml"))
    after = load_portfolio(_book(folder, "after.yaml", juniors=True, investment=True))
    fresh = compare_books(before, after, replications=2, seed=3)
    runs = [simulate_portfolio(p, replications=2, seed=3) for p in (before, after)]
    assert json.dumps(compare_books(before, after, replications=2, seed=3, runs=runs)) == json.dumps(fresh)
    with pytest.raises(ValueError, match="2 replications"):
        compare_books(before, after, replications=2, seed=3, runs=[simulate_portfolio(before, replications=1,
                                                                                      seed=3)] * 2)


@pytest.mark.parametrize("minutes, text", [(525960.0, "a year"), (2 * 525960.0, "2 years"), (1440.0, "1 day"),
                                           (90 * 1440.0, "90 days")])
def test_the_main_jobs_line_names_the_horizon(minutes, text):
    from journeymap.distributions import YEAR
    from journeymap.pipeline import _horizon_text

    assert _horizon_text(minutes * YEAR / 525960.0) == text
