"""Simulating a book of business (journeymap.simulation.portfolio): tagged arrivals on the ordinary engine.

Portfolios are built in Python (journeymap.portfolio's dataclasses), so that these tests do not depend on the
portfolio file's loader; each test states what it checks and its tolerance.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from helpers import journey_of

from journeymap.assignment import AccountRecord, Assignment
from journeymap.distributions import YEAR
from journeymap.model import Target as _Target
from journeymap.portfolio import AccountManagement, ManagerLevel, Portfolio, Template, Tier
from journeymap.simulation.portfolio import book_index, compile_book, pareto_view, simulate_book, summarize_book


def Target(within: float, goal: float):  # noqa: N802 - reads like the YAML's {within, goal}
    return _Target(id="", name="", scope="journey", ref="", within=within, goal=goal)


def accounts_of(portfolio, revenue=lambda tier, k: 1000.0 * (k + 1)):
    return tuple(AccountRecord(f"{t.id}-{k + 1:03d}", t.id, revenue(t, k)) for t in portfolio.tiers
                 for k in range(t.accounts))


DESK = journey_of("""
    journey: {id: desk, name: One desk}
    persona: {id: buyer, tolerance: 15min}
    stages: [serve]
    departments: [{id: desk, capacity: 1}]
    steps:
      - {id: ask, stage: serve, owner: customer, lane: customer, duration: 0min}
      - {id: work, stage: serve, owner: desk, lane: frontstage, duration: {exponential: 10min}, emotion: 1}
    """)

MANAGED = journey_of("""
    journey: {id: managed, name: Managed request}
    persona: {id: buyer}
    stages: [serve]
    departments: [{id: am, capacity: 1}, {id: ops, capacity: 2}]
    steps:
      - {id: call, stage: serve, owner: am, lane: frontstage, duration: 30min, emotion: 1}
      - {id: fix, stage: serve, owner: ops, duration: {exponential: 20min}}
    """)


def two_tier(rho: float, p_high: float, horizon: float, accounts=(10, 30)) -> Portfolio:
    """Two tiers sharing the desk (exponential 10 min): a total arrival rate of rho / 10 per minute, a share
    ``p_high`` from the strategic tier."""
    rate = rho / 10.0
    per_year = [rate * p_high * YEAR / accounts[0], rate * (1 - p_high) * YEAR / accounts[1]]
    tiers = (Tier("strategic", accounts[0], None, "strategic", (Template("desk.yaml", "journey", per_year[0], "d"),),
                  (Target(30.0, 0.9),)),
             Tier("transactional", accounts[1], None, "transactional",
                  (Template("desk.yaml", "journey", per_year[1], "d"),), (Target(30.0, 0.9),)))
    return Portfolio("two", "Two tiers", "EUR", horizon, None, (), None, tiers, None, "", {"desk.yaml": DESK},
                     {"desk.yaml": None})


def cobham(rho: float, service: float, p_high: float) -> tuple[float, float]:
    """Mean queueing per class of a non-preemptive two-class M/M/1 (Cobham 1954), high class first:
    W_k = W0 / ((1 - sigma_{k-1})(1 - sigma_k)), W0 = rho * S for exponential service."""
    w0 = rho * service
    s1 = p_high * rho
    return w0 / (1 - s1), w0 / ((1 - s1) * (1 - rho))


def test_two_tiers_sharing_a_department_are_served_by_priority_as_cobham_says():
    """rho 0.6, 40% strategic: each tier's mean queueing lies in its 95% CI over 8 replications of about 60
    days (~5,200 cases each); FCFS (15 min) lies between the two, so the test tells priority from FCFS."""
    rho, p_high = 0.6, 0.4
    book = compile_book(two_tier(rho, p_high, 60 * 1440.0), accounts_of(two_tier(rho, p_high, 1.0)), None)
    assert book.classes == ("strategic", "transactional")
    result = simulate_book(book, replications=8, seed=3)
    high, low = cobham(rho, 10.0, p_high)
    assert high < rho * 10.0 / (1 - rho) < low
    s = result.summary["classes"]
    for name, exact in (("strategic", high), ("transactional", low)):
        lo, hi = s[name]["waiting_time"]["ci95"]
        assert lo <= exact <= hi, (name, exact, lo, hi)
    assert s["strategic"]["share"] == pytest.approx(p_high, abs=0.02)


@pytest.fixture(scope="module")
def managed():
    """Two tiers of a managed request: the 'am' steps go to the account's manager or to the pool (1 person)."""
    tiers = (Tier("key", 3, None, "key", (Template("managed.yaml", "journey", 40.0, "m"),), (Target(240.0, 0.8),)),
             Tier("growth", 5, None, "growth", (Template("managed.yaml", "journey", 20.0, "m"),)))
    mg = AccountManagement("am", (ManagerLevel("senior", 1, 2, 100.0), ManagerLevel("junior", 1, 1, 60.0)),
                           "by_revenue", 1, 50.0)
    portfolio = Portfolio("m", "Managed", "EUR", YEAR / 4, None, (), mg, tiers, None, "",
                          {"managed.yaml": MANAGED}, {"managed.yaml": None})
    accounts = accounts_of(portfolio)
    assignment = Assignment(manager={"key-001": "senior-1", "key-002": "senior-1", "key-003": "junior-1",
                                     "growth-001": "junior-1"},
                            load={"senior-1": 2, "junior-1": 2},
                            unassigned=("growth-002", "growth-003", "growth-004", "growth-005"),
                            over_limit=("junior-1",))
    book = compile_book(portfolio, accounts, assignment)
    result = simulate_book(book, replications=3, seed=5)
    return book, result, summarize_book(book, result)


def test_routed_steps_go_to_the_accounts_manager_or_to_the_pool(managed):
    """Every visit of the 'am' step is served by its account's manager's department, or the pool's for an
    account without one: per department, its requests equal the cases of its accounts, exactly."""
    book, result, summary = managed
    depts = [d.id for d in book.journey.departments]
    for r in result.replications:
        per_account = np.bincount(r.case_account, minlength=len(book.accounts))
        expect = {"am": 0, "am:senior-1": 0, "am:junior-1": 0}
        for a, acc in enumerate(book.accounts):
            m = book.assignment.manager.get(acc.id)
            expect["am" if m is None else f"am:{m}"] += per_account[a]
        for d, n in expect.items():
            assert len(r.department_waits[depts.index(d)]) == n, d
    assert summary["management"]["without_manager"] == 4
    assert summary["management"]["pool"]["accounts"] == 4
    assert summary["tiers"]["growth"]["without_manager"] == 4


def test_manager_load_against_the_limit(managed):
    """The load and limit come from the assignment and the level; over the limit is flagged."""
    m = managed[2]["management"]["managers"]
    assert m["senior-1"] == {**m["senior-1"], "load": 2, "limit": 2, "over_limit": False, "load_share": 1.0}
    assert m["junior-1"]["load"] == 2 and m["junior-1"]["limit"] == 1 and m["junior-1"]["over_limit"] is True
    assert managed[2]["management"]["over_limit"] == ["junior-1"]
    assert 0.0 < m["senior-1"]["utilisation"]["mean"] < 1.0


def test_per_account_results_add_up_to_the_tiers_and_the_book(managed):
    """Cases, revenue and the case-weighted mean cycle time of a tier's accounts are the tier's (to 1e-9)."""
    _, _, s = managed
    total_cases = 0.0
    for tid, tier in s["tiers"].items():
        rows = [a for a in s["accounts"] if a["tier"] == tid]
        assert len(rows) == tier["accounts"]
        assert sum(a["revenue"] for a in rows) == pytest.approx(tier["revenue"], rel=1e-12)
        cases = sum(a["cases_per_replication"] for a in rows)
        assert cases == pytest.approx(tier["cases_per_replication"], rel=1e-12)
        mean = sum(a["cycle_time_mean"] * a["cases_per_replication"] for a in rows) / cases
        assert mean == pytest.approx(tier["cycle_time"]["mean"], rel=1e-9)
        total_cases += cases
        assert tier["experience"] == pytest.approx(book_index([a["revenue"] for a in rows],
                                                              [a["experience"] for a in rows]))
    assert total_cases * s["replications"] == pytest.approx(s["cases"])
    assert sum(t["revenue"] for t in s["tiers"].values()) == pytest.approx(s["book"]["revenue"])
    key = [a for a in s["accounts"] if a["tier"] == "key"]
    met = sum(a["sla"][0] * a["cases_per_replication"] for a in key) / sum(a["cases_per_replication"] for a in key)
    assert met == pytest.approx(s["tiers"]["key"]["sla"][0]["attainment"], rel=1e-9)


def test_one_and_two_workers_give_identical_results(managed):
    """The schedule and every stream depend only on the seed and the replication."""
    book, _, summary = managed
    two = summarize_book(book, simulate_book(book, replications=3, seed=5, workers=2))
    assert json.dumps(two, sort_keys=True, default=str) == json.dumps(summary, sort_keys=True, default=str)


def test_revenue_weighted_index_and_the_80_20_view_by_hand():
    """Two accounts: (100 x 50 + 300 x 70) / 400 = 65; an account without an index is left out; the top 20% of
    five accounts is the largest one."""
    assert book_index([100.0, 300.0], [50.0, 70.0]) == pytest.approx(65.0)
    assert book_index([100.0, 300.0, 1000.0], [50.0, 70.0, None]) == pytest.approx(65.0)
    view = pareto_view([10.0, 80.0, 5.0, 3.0, 2.0], [60.0, 40.0, 80.0, 90.0, None])
    assert view["top_accounts"] == 1
    assert view["revenue_share_of_top"] == pytest.approx(0.8)
    assert view["experience_top"] == pytest.approx(40.0)
    assert view["experience_rest"] == pytest.approx((10 * 60 + 5 * 80 + 3 * 90) / 18)
    assert [p["rank"] for p in view["curve"]] == [1, 2, 3, 4, 5]
    assert view["curve"][-1]["revenue_share"] == pytest.approx(1.0)


def test_account_experience_falls_when_its_waits_pass_the_tolerance():
    """The strategic tier (served first) waits less, so fewer of its visits pass the 15-min tolerance and
    its revenue-weighted index is higher than the transactional tier's (rho 0.8: waits of 15 and 75 min)."""
    portfolio = two_tier(0.8, 0.4, 30 * 1440.0)
    book = compile_book(portfolio, accounts_of(portfolio), None)
    s = summarize_book(book, simulate_book(book, replications=2, seed=2))
    assert s["tiers"]["strategic"]["experience"] > s["tiers"]["transactional"]["experience"]
    assert all(a["experience"] is not None for a in s["accounts"])


def test_tier_attainment_is_the_share_of_its_cases_within_the_target(managed):
    """The engine measures the tier's target per case: for an elapsed target that is cycle time <= within,
    exactly, and the accounts' shares weighted by their cases give the tier's."""
    book, result, s = managed
    tier_of = {a.id: a.tier for a in book.accounts}
    key = np.array([tier_of[a.id] == "key" for a in book.accounts])
    met = total = 0
    for r in result.replications:
        mine = key[r.case_account]
        met += int((r.cases["cycle_time"][mine] <= 240.0).sum())
        total += int(mine.sum())
    sla = s["tiers"]["key"]["sla"][0]
    assert sla["measured_cases"] == total
    assert sla["attainment"] == pytest.approx(met / total, rel=1e-12)
    assert s["tiers"]["growth"]["sla"] == []


def test_report_shows_the_numbers_of_the_json(managed):
    """The charts' data and the tables are read from the JSON: the same numbers."""
    from journeymap.portfolio_report import pareto_points, portfolio_blocks, tier_points
    from journeymap.tables import plain

    s = json.loads(json.dumps(managed[2], default=str))
    d = pareto_points(s)
    assert d["revenue_share"] == [c["revenue_share"] for c in s["pareto"]["curve"]]
    assert d["experience"] == [c["experience"] for c in s["pareto"]["curve"]]
    by_id = {a["id"]: a for a in s["accounts"]}
    ranked = [by_id[c["account"]] for c in s["pareto"]["curve"]]
    assert [a["revenue"] for a in ranked] == sorted((a["revenue"] for a in s["accounts"]), reverse=True)
    assert d["tier"] == [a["tier"] for a in ranked]
    assert d["experience"] == [a["experience"] for a in ranked]
    t = tier_points(s)
    assert t["experience"] == [x["experience"] for x in s["tiers"].values()]
    assert t["cycle_time"] == [x["cycle_time"]["mean"] for x in s["tiers"].values()]
    text = plain(portfolio_blocks(s))
    assert f"{s['book']['experience']:.1f}" in text
    assert s["money"] is not None and "money a year" in text
    for x in s["tiers"].values():
        assert f"{x['experience']:.1f}" in text


def test_portfolio_command_writes_the_report_and_refuses_bad_input(tmp_path, capsys):
    """The bundled book (one replication): exit 0, the JSON, the 80/20 and tiers charts; a tier with a negative
    count: exit 1 (EXIT_INVALID, as for an invalid journey), the located problem, no traceback, nothing written."""
    from journeymap.cli import main
    from journeymap.errors import EXIT_INVALID

    out = tmp_path / "out"
    assert main(["portfolio", "journeys/book.yaml", "--replications", "1", "--no-progress", "-o", str(out)]) == 0
    data = json.loads((out / "book-portfolio.json").read_text())
    assert data["book"]["accounts"] == 400
    assert (out / "book-pareto.png").stat().st_size > 10_000 and (out / "book-tiers.png").exists()
    assert data["management"]["without_manager"] == sum(t["without_manager"] for t in data["tiers"].values())
    capsys.readouterr()
    shutil.copytree("journeys", tmp_path / "j")
    bad = tmp_path / "j" / "bad.yaml"
    text = open("journeys/book.yaml", encoding="utf-8").read()
    assert "accounts: 20\n" in text
    bad.write_text(text.replace("accounts: 20\n", "accounts: -5\n", 1))
    assert main(["portfolio", str(bad), "-o", str(tmp_path / "bad-out")]) == EXIT_INVALID  # as every command
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [line.split(": error")[0].rsplit("/", 1)[-1] for line in err.splitlines() if ": error" in line] == \
        ["bad.yaml:47:15"]
    assert not (tmp_path / "bad-out").exists()


def test_money_per_tier_by_hand():
    """The managed book with a money block: the 30-min 'call' of a key account costs its manager's rate (senior
    100/h, junior 60/h); 'ops' has no rate, so its minutes and the 10-min handoff overhead (received by ops)
    cost nothing. Per year = per replication x a year / the horizon (a quarter). Revenue at risk: each account
    below 60 loses (60 - index) x 0.5..1.5 points of its revenue, summed over the tier; expansion the mirror."""
    tiers = (Tier("key", 3, None, "key", (Template("managed.yaml", "journey", 40.0, "m"),)),)
    mg = AccountManagement("am", (ManagerLevel("senior", 1, 2, 100.0), ManagerLevel("junior", 1, 1, 60.0)),
                           "by_revenue", 1, 50.0)
    portfolio = Portfolio("m", "Managed", "EUR", YEAR / 4, None, (), mg, tiers,
                          {"handoff_overhead": "10min", "churn": {"below": 60, "per_point": [0.5, 1.5]},
                           "expansion": {"above": 20, "per_point": [0.2, 0.6]}}, "",
                          {"managed.yaml": MANAGED}, {"managed.yaml": None})
    accounts = accounts_of(portfolio)
    assignment = Assignment(manager={"key-001": "senior-1", "key-002": "senior-1", "key-003": "junior-1"},
                            load={"senior-1": 2, "junior-1": 1}, unassigned=(), over_limit=())
    book = compile_book(portfolio, accounts, assignment)
    s = summarize_book(book, simulate_book(book, replications=2, seed=4))
    money = s["money"]["tiers"]["key"]
    per_year = {a["id"]: a["cases_per_replication"] * 4 for a in s["accounts"]}
    senior = per_year["key-001"] + per_year["key-002"]
    assert money["staff_minutes_per_year"]["am:senior-1"] == pytest.approx(30 * senior, rel=1e-9)
    assert money["staff_cost_per_year"]["am:senior-1"] == pytest.approx(30 * senior / 60 * 100, rel=1e-9)
    assert money["staff_cost_per_year"]["am:junior-1"] == pytest.approx(30 * per_year["key-003"] / 60 * 60, rel=1e-9)
    assert money["staff_cost_per_year"]["ops"] == 0.0
    assert money["staff_cost_per_year"]["total"] == pytest.approx(30 * senior / 60 * 100
                                                                   + 30 * per_year["key-003"] / 60 * 60, rel=1e-9)
    assert money["cases_per_year"] == pytest.approx(sum(per_year.values()))
    risk = [(max(0.0, 60 - a["experience"]), a["revenue"]) for a in s["accounts"]]
    assert money["revenue_at_risk"]["low"] == pytest.approx(sum(r * p * 0.5 / 100 for p, r in risk))
    assert money["revenue_at_risk"]["high"] == pytest.approx(sum(r * p * 1.5 / 100 for p, r in risk))
    assert s["money"]["book"]["revenue_at_risk"] == money["revenue_at_risk"]
    # expansion: each account above 20 gains (index - 20) x 0.2..0.6 points of its revenue, summed over the tier
    grow = [(max(0.0, a["experience"] - 20), a["revenue"]) for a in s["accounts"]]
    assert any(p > 0 for p, _ in grow)
    assert money["expansion_revenue"]["low"] == pytest.approx(sum(r * p * 0.2 / 100 for p, r in grow))
    assert money["expansion_revenue"]["mean"] == pytest.approx(sum(r * p * 0.4 / 100 for p, r in grow))
    assert money["expansion_revenue"]["high"] == pytest.approx(sum(r * p * 0.6 / 100 for p, r in grow))
    assert s["money"]["book"]["expansion_revenue"] == money["expansion_revenue"]


def test_the_main_job_writes_the_books_report(tmp_path):
    """`journeymap run` on the bundled book: its JSON, text and both charts in outputs/book/, with the
    main job's replications (PORTFOLIO_REPLICATIONS at most) and the same numbers in the text as in the JSON."""
    from journeymap.pipeline import PORTFOLIO_REPLICATIONS, run_all

    lines: list[str] = []
    run_all(["journeys/book.yaml"], str(tmp_path / "out"), quick=True, log=lines.append)
    folder = tmp_path / "out" / "book"
    data = json.loads((folder / "portfolio.json").read_text())
    assert data["replications"] == min(3, PORTFOLIO_REPLICATIONS)
    assert f"{data['book']['experience']:.1f}" in (folder / "portfolio.txt").read_text()
    assert (folder / "pareto.png").stat().st_size > 10_000 and (folder / "tiers.png").stat().st_size > 5_000
    assert any("400 accounts" in line for line in lines), lines


def test_the_bundled_books_departments_keep_the_templates_office_hours():
    """The book's shared departments, pool and managers are listed without calendars; they keep the templates'
    default calendar, as a journey's departments do (they once ran around the clock beside templates that kept
    office hours, and the pool's renewal queue never showed)."""
    from helpers import JOURNEYS

    from journeymap.assignment import assign, draw_accounts
    from journeymap.portfolio import load_portfolio

    book_file = load_portfolio(JOURNEYS / "book.yaml")
    accounts = draw_accounts(book_file, 1)
    book = compile_book(book_file, accounts, assign(book_file, accounts))
    frankfurt = book_file.journeys["book-renewal.yaml"].calendar
    assert frankfurt is not None and book.journey.calendar == frankfurt
    assert book.journey.has_calendars


def test_the_revenue_band_also_spans_the_replications_spread():
    """Revenue at risk of two accounts (1,000,000 each; churn below 60 at 0.5..1.5): the pooled indexes 50 and 70
    give 50,000 .. 150,000 (the second is above the line). Three replications gave the first account 48, 52 and 50:
    each end moves out by its t-interval's half-width over them, t(0.975, 2) x sd / sqrt(3), sd 10,000 at the low
    end (60,000, 40,000, 50,000) and 30,000 at the high end; one replication leaves the link's band as it is."""
    from types import SimpleNamespace

    from scipy import stats

    from journeymap.money import ChurnLink, revenue_at_risk
    from journeymap.simulation.portfolio import _band

    book = SimpleNamespace(accounts=[SimpleNamespace(revenue=1e6), SimpleNamespace(revenue=1e6)])
    link = ChurnLink(60, 0.5, 1.5)
    per_rep = [[48.0, 70.0], [52.0, 70.0], [50.0, None]]
    band = _band(revenue_at_risk, book, [50.0, 70.0], [0, 1], link, per_rep)
    half = stats.t.ppf(0.975, 2) / math.sqrt(3)
    assert band["mean"] == pytest.approx(100_000)
    assert band["low"] == pytest.approx(50_000 - half * 10_000)
    assert band["high"] == pytest.approx(150_000 + half * 30_000)
    assert _band(revenue_at_risk, book, [50.0, 70.0], [0, 1], link, per_rep[:1]) == \
        {"mean": 100_000, "low": 50_000, "high": 150_000}


def test_a_warmup_fills_the_queues_before_the_horizon_is_measured():
    """One desk as an M/M/1 at rho 0.8 (exponential 10 min): the exact mean queueing is rho x 10 / (1 - rho) = 40
    min. Ten-hour horizons that start empty measure far less (the queue is still building: the 95% CI over 200
    replications lies below 40); with a 50-hour warm-up before each, 40 lies in the CI. The measured cases are
    exactly those of the schedule that arrive after the warm-up."""
    import dataclasses

    from journeymap.statistics import t_interval

    exact = 0.8 * 10 / (1 - 0.8)
    cis = {}
    for warmup in (0.0, 3000.0):
        p = dataclasses.replace(two_tier(0.8, 1.0, 600.0, accounts=(10, 1)), warmup=warmup)
        book = compile_book(p, accounts_of(p), None)
        result = simulate_book(book, replications=200, seed=7)
        for r in result.replications:
            times = book.arrivals.arrivals(7, r.index)[0]
            assert len(r.cases["cycle_time"]) == int((times >= warmup).sum())
        cis[warmup] = t_interval([float(np.mean(r.cases["waiting_time"])) for r in result.replications
                                  if len(r.cases["waiting_time"])])
    assert cis[0.0][1] < exact, cis
    assert cis[3000.0][0] <= exact <= cis[3000.0][1], cis


def test_a_book_whose_run_measures_no_case_reports_n_a(tmp_path, capsys):
    """A day's horizon of four accounts after an 8-week warm-up measures no case: the report says n/a where there is
    no figure (cycle times, attainment, experience), with no traceback (it once crashed formatting a None)."""
    from helpers import JOURNEYS

    from journeymap.cli import main

    for f in ("book-renewal.yaml", "book-support.yaml", "acme-account.yaml"):
        shutil.copy(JOURNEYS / f, tmp_path / f)
    for f in JOURNEYS.glob("acme-*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    if (JOURNEYS / "holidays").is_dir():
        shutil.copytree(JOURNEYS / "holidays", tmp_path / "holidays")
    text = (JOURNEYS / "book.yaml").read_text(encoding="utf-8").replace("horizon: 1y", "horizon: 1d")
    for n in (20, 60, 120, 200):
        text = text.replace(f"accounts: {n}\n", "accounts: 1\n")
    (tmp_path / "tiny.yaml").write_text(text, encoding="utf-8")
    assert main(["portfolio", str(tmp_path / "tiny.yaml"), "--replications", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "0 cases measured" in out
    strategic = next(line for line in out.splitlines() if line.startswith("strategic "))
    assert strategic.split()[5:7] == ["n/a", "n/a"] and "n/a within 10.0d" in strategic  # "3.0M EUR" is two words
