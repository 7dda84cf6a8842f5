"""The business case of two books in HTML (journeymap/portfolio_report_html.py, `compare BOOK BOOK --report`).

Pure checks of the page :func:`book_report_html` builds from a comparison's JSON: every number on it is the
JSON's, written as the terminal table writes it (each number cell names its JSON path; the rest of the text,
the headline too, holds no number the JSON has not); the 80/20 charts draw the JSON's points; a figure the
business case gains shows without a code change; book names are escaped; nothing is fetched. Then the CLI
(`--report` writes it, `--uncertain` is refused, an input is never overwritten), the main job writing it, and
headless Chromium at a phone's and a laptop's width (``@pytest.mark.browser``).
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from helpers import JOURNEYS, copy_journey, small_book

from journeymap.cli import main
from journeymap.errors import EXIT_OK, EXIT_USAGE
from journeymap.money import format_amount
from journeymap.portfolio import load_portfolio
from journeymap.portfolio_compare import compare_books, figure_text
from journeymap.portfolio_report_html import book_headline, book_report_html


def _book(folder, name: str, *, after: bool = False, title: str = "Small book") -> Any:
    """helpers.SMALL_BOOK with uniform growth revenue and a handoff overhead; the after book adds two junior
    managers (no account left to the pool) and an investment."""
    money = ["handoff_overhead: 10min", "churn: {below: 60, per_point: [0.5, 1.5]}"]
    money += ["investment: {one_off: 20000, per_month: 500}"] if after else []
    text = small_book(book_id=name.removesuffix(".yaml"), name=json.dumps(title), juniors=after,
                      growth_revenue="{uniform: [10000, 30000]}", money=money)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with the renewal template and the two small books, small.yaml and small-juniors.yaml."""
    folder = tmp_path_factory.mktemp("books")
    copy_journey(JOURNEYS / "book-renewal.yaml", folder / "book-renewal.yaml")
    _book(folder, "small.yaml")
    _book(folder, "small-juniors.yaml", after=True, title='Juniors <script>alert(1)</script> & "more"')
    return folder


@pytest.fixture(scope="module")
def compared(folder) -> dict[str, Any]:
    """compare_books of the two small books (3 paired replications), read back from its JSON."""
    c = compare_books(load_portfolio(folder / "small.yaml"), load_portfolio(folder / "small-juniors.yaml"),
                      replications=3, seed=2)
    return json.loads(json.dumps(c))


# --------------------------------------------------------------------------- reading a page


class _Page(HTMLParser):
    """The page as a reader sees it: each element with a data-path (its attributes and text), the visible text
    outside those elements (not in <style> or <svg>), the SVG circles, and every tag."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[dict[str, Any]] = []
        self.loose: list[str] = []
        self.circles: list[dict[str, str | None]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._stack: list[dict[str, Any] | None] = []
        self._skip = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "circle":
            self.circles.append(a)
        if tag in ("style", "svg"):
            self._skip += 1
        if tag in ("circle", "line", "rect", "polyline", "path", "meta", "br"):
            return  # void or self-closed in practice
        cell = {"attrs": a, "text": ""} if "data-path" in a else None
        if cell is not None:
            self.cells.append(cell)
        self._stack.append(cell)

    def handle_endtag(self, tag):
        if tag in ("style", "svg"):
            self._skip -= 1
        if tag in ("circle", "line", "rect", "polyline", "path", "meta", "br"):
            return
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if self._skip:
            return
        open_cells = [c for c in self._stack if c is not None]
        if open_cells:
            open_cells[-1]["text"] += data
        else:
            self.loose.append(data)


def _at(data: Any, path: str) -> Any:
    for key in path.split("/"):
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data


def _expected_text(path: str, value: Any, cur: str) -> str:
    """How the page writes the JSON's number at ``path``: as the terminal table does."""
    parts = path.split("/")
    if parts[0] == "changes":
        return figure_text(parts[1], value, cur)
    if parts[0] == "business_case":
        if "payback_months" in parts:
            if value is None:
                return "never"
            return f"{value:,.1f} months" if parts[-1] == "months" else f"{value:,.1f}"
        return format_amount(value, cur)
    if parts[0] == "pareto":
        return f"{value:.0%}" if parts[-1] in ("top_share_of_accounts", "revenue_share_of_top") else \
            ("n/a" if value is None else f"{value:.1f}")
    if parts[0] == "assumptions":
        return format_amount(value, cur) if "investment" in parts else f"{value:g}"
    if parts[0] == "without_manager":
        return f"{value:,}"
    return str(value)


#: Numbers of the page's own prose (not figures): "95% CI", "the 80/20 view", "0–100, 50 neutral".
PROSE_NUMBERS = {"95", "80", "20", "0", "100", "50"}
NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _all_formats(c: dict[str, Any]) -> set[str]:
    """Every way the page may write a number of the JSON (its absolute value too: a headline says "adds EUR 49k"
    of a negative saving), as number tokens."""
    cur, out = c["currency"], set()

    def leaves(x: Any) -> Any:
        if isinstance(x, dict):
            for v in x.values():
                yield from leaves(v)
        elif isinstance(x, list):
            for v in x:
                yield from leaves(v)
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            yield x

    for v in leaves(c):
        for x in (v, abs(v)):
            texts = [format_amount(x, cur), f"{x:,.2f}", f"{x / 1440:,.2f}", f"{x:,.1f}", f"{x:g}", f"{x:.0%}",
                     f"{x:,}" if isinstance(x, int) else ""]
            out |= {t for text in texts for t in NUMBER.findall(text)}
    return out


# --------------------------------------------------------------------------- pure


def test_every_number_on_the_page_is_the_jsons(compared):
    """Each number cell names its JSON path: its data-value is the JSON's value there and its text is that value
    written as the terminal table writes it; every other number of the page's text (the headline, the prose)
    is one of the JSON's numbers so written, or a number of the prose ("95% CI")."""
    html = book_report_html(compared)
    page = _Page(html)
    cur = compared["currency"]
    assert len(page.cells) > 60, "too few number cells: the page lost a section"
    for cell in page.cells:
        path, text = cell["attrs"]["data-path"], cell["text"].strip()
        value = _at(compared, path)
        if value is None:
            assert "data-value" not in cell["attrs"] and text in ("n/a", "never"), path
            continue
        assert float(cell["attrs"]["data-value"]) == pytest.approx(value, rel=0, abs=0), path
        assert text == _expected_text(path, value, cur), path
    allowed = _all_formats(compared) | PROSE_NUMBERS
    loose = " ".join(page.loose)
    strays = [t for t in NUMBER.findall(loose) if t not in allowed]
    assert strays == [], f"numbers on the page that are not the JSON's: {strays}"


def test_the_tables_show_every_paired_figure_of_the_json(compared):
    """A row per paired figure (the churn link's ends aside, which the JSON keeps): the book's in #book, each
    tier's in #tier-<id>, with its before, after, change and interval."""
    page = _Page(book_report_html(compared))
    shown = {c["attrs"]["data-path"] for c in page.cells}
    for name, row in compared["changes"].items():
        if name.endswith((".low", ".high")):
            continue
        for key in ("before", "after", "change"):
            assert f"changes/{name}/{key}" in shown, name
        if row["ci95"][0] is not None:
            assert {f"changes/{name}/ci95/0", f"changes/{name}/ci95/1"} <= shown, name
    for tier in compared["tiers"]:
        assert f'id="tier-{tier}"' in book_report_html(compared)
    assert {"changes/growth.experience/before", "changes/growth.cycle_time/change"} <= shown


def test_the_business_case_tiles_and_the_headline(compared):
    """Tiles for staff cost saved, revenue protected and the benefit (each with its range) and the payback; the
    headline says what changed (the accounts without a manager) and what it buys, with the JSON's figures."""
    html = book_report_html(compared)
    page = _Page(html)
    shown = {c["attrs"]["data-path"] for c in page.cells}
    for key in ("cost_saved_per_year", "revenue_protected_per_year", "benefit_per_year"):
        assert f'data-key="{key}"' in html
        assert f"business_case/{key}/mean" in shown
    assert {"business_case/payback_months/months", "business_case/investment/per_month"} <= shown
    headline, _ = book_headline(compared)
    assert compared["without_manager"] == {"before": 30, "after": 0}
    assert "Every account gets a manager (30 had none)" in headline
    p = compared["business_case"]["revenue_protected_per_year"]
    assert f"protects {format_amount(p['mean'], 'EUR')} of revenue a year" in headline
    assert "payback" not in headline or "pays back" in headline


def test_a_figure_the_business_case_gains_shows_without_a_code_change(compared):
    """The business case is rendered from its keys: a new band (here a made-up expansion figure, book and per
    tier) becomes a tile and a column, labelled from its key, its numbers checked like the others; a new link
    in the assumptions becomes a sentence."""
    c = copy.deepcopy(compared)
    bc = c["business_case"]
    bc["revenue_expanded_per_year"] = {"mean": 12345.0, "low": 2345.0, "high": 22345.0}
    for t in bc["tiers"].values():
        t["revenue_expanded_per_year"] = {"mean": 111.0, "low": 11.0, "high": 1111.0}
    c["assumptions"]["after"]["expansion"] = {"above": 70.0, "low": 0.2, "high": 0.6}
    html = book_report_html(c)
    page = _Page(html)
    assert 'data-key="revenue_expanded_per_year"' in html and "Revenue expanded a year" in html
    cells = {x["attrs"]["data-path"]: x["text"].strip() for x in page.cells}
    assert cells["business_case/revenue_expanded_per_year/mean"] == "EUR 12,345"
    assert cells["business_case/tiers/growth/revenue_expanded_per_year/high"] == "EUR 1,111"
    assert cells["assumptions/after/expansion/above"] == "70"
    assert "points of annual expansion" in " ".join(page.loose)
    assert "revenue expanded a year: EUR 12,345 (EUR 2,345 to EUR 22,345)" in book_headline(c)[0]


def test_the_charts_draw_the_jsons_points(compared):
    """Both books' 80/20 charts: a dot per account with an index, carrying its share of accounts and its index
    from the JSON, in rank order, placed by them (x from the left edge, y from the top: index 100)."""
    page = _Page(book_report_html(compared))
    dots = [d for d in page.circles if d.get("data-x")]
    for side in ("before", "after"):
        v = compared["pareto"][side]
        want = [(x, e) for x, e in zip(v["account_share"], v["experience"], strict=True) if e is not None]
        got = [(float(d["data-x"]), float(d["data-e"])) for d in dots[:len(want)]]
        dots = dots[len(want):]
        assert got == want, side
        assert len(want) == 32
    assert dots == []
    first = page.circles[0]
    assert float(first["cx"]) == pytest.approx(56 + float(first["data-x"]) * 528, abs=0.06)
    assert float(first["cy"]) == pytest.approx(16 + (1 - float(first["data-e"]) / 100) * 300, abs=0.06)


def test_names_are_escaped_and_nothing_is_fetched(compared):
    """A book's name reaches the page as text (no injected element); no script, no remote resource."""
    html = book_report_html(compared)
    assert "<script>alert(1)</script>" not in html
    page = _Page(html)
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe", "img", "object", "embed")]
    assert 'Juniors <script>alert(1)</script> & "more"' in " ".join(page.loose)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)


def test_without_a_business_case_the_page_says_why(compared):
    c = copy.deepcopy(compared)
    c["business_case"] = None
    html = book_report_html(c)
    assert 'id="no-case"' in html and 'id="business-case"' not in html
    assert "no business case" in book_headline(c)[0]


# --------------------------------------------------------------------------- the command and the main job


def test_compare_report_writes_the_page_of_the_json(folder, tmp_path, capsys):
    """`compare BOOK BOOK --report F --json-output J`: F is the page of J; --uncertain is refused for books (exit
    2, nothing written); a report path that is an input is refused."""
    before, after = folder / "small.yaml", folder / "small-juniors.yaml"
    page, out = tmp_path / "c.html", tmp_path / "c.json"
    args = ["compare", str(before), str(after), "--replications", "3", "--seed", "2", "--no-progress"]
    assert main([*args, "--report", str(page), "--json-output", str(out)]) == EXIT_OK
    assert f"wrote {page}" in capsys.readouterr().err
    assert page.read_text(encoding="utf-8") == book_report_html(json.loads(out.read_text()))
    bad = tmp_path / "u.html"
    assert main([*args, "--report", str(bad), "--uncertain"]) == EXIT_USAGE
    assert "--uncertain is for journeys and accounts" in capsys.readouterr().err and not bad.exists()
    template = folder / "book-renewal.yaml"   # an input of both books, not named on the command line
    text = template.read_text()
    assert main([*args, "--report", str(template)]) == EXIT_USAGE
    assert "never writes to the files it reads" in capsys.readouterr().err
    assert template.read_text() == text


def test_the_main_job_writes_the_page(folder, tmp_path):
    """`journeymap run` on BOOK.yaml and BOOK-NAME.yaml writes BOOK-NAME-compare.html beside its JSON, the page
    of that JSON, and its log line names it."""
    from journeymap.pipeline import run_all

    lines: list[str] = []
    out = tmp_path / "out"
    run_all([str(folder / "small.yaml"), str(folder / "small-juniors.yaml")], str(out), quick=True,
            log=lines.append)
    data = json.loads((out / "small-juniors-compare.json").read_text())
    assert (out / "small-juniors-compare.html").read_text(encoding="utf-8") == book_report_html(data)
    assert any("small-juniors-compare.html" in line for line in lines)


# --------------------------------------------------------------------------- headless Chromium


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1400])   # a phone, a laptop
def test_the_page_reads_on_a_phone_and_a_laptop(chromium, compared, width, tmp_path):
    """No console error, nothing fetched, no sideways scrolling of the page, nothing cut off that cannot be
    scrolled to, no empty heading; both charts at a readable size."""
    from test_report import render_in_chromium

    path = tmp_path / "book.html"
    path.write_text(book_report_html(compared), encoding="utf-8")
    seen = render_in_chromium(chromium, path, tmp_path, width=width, height=844 if width < 600 else 900)
    (tmp_path / f"book-{width}.png").write_bytes(seen.screenshot)
    assert seen.errors == []
    assert [u for u in seen.requests if not u.startswith(("file:", "data:", "about:"))] == []
    assert seen.page_width <= seen.viewport_width, "the page scrolls sideways"
    assert seen.layout["cut"] == [], f"{seen.layout['cut_count']} elements cut off"
    assert seen.layout["empty"] == [], "headings with nothing under them"
    assert seen.headline == book_headline(compared)[0]
    assert len(seen.layout["charts"]) == 2 and min(seen.layout["charts"]) >= 560, seen.layout["charts"]
