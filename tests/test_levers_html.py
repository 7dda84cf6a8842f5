"""The HTML pages of ``explain`` (journeymap/attribution_report.py) and ``optimise`` (journeymap/levers_report.py).

Each page is written by the command beside its JSON, and checked against that JSON: every number on it names
its JSON path (``data-path``) and value (``data-value``), and is written as the terminal table writes it; the
contributions table is the terminal's table cell for cell. The chart is inlined as SVG, the page fetches
nothing, and hostile names (a journey's, a change's, a lever's) reach it as text. An output that is an input
is refused. Then both pages in headless Chromium at a phone's and a laptop's width (``@pytest.mark.browser``).
Small journeys without chance (a few simulations of 20 cases) keep this module fast.
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from helpers import SERIAL, SERIAL_JOURNEY, dedent

from journeymap.attribution import explain_blocks, format_share
from journeymap.attribution_report import explain_html
from journeymap.cli import main
from journeymap.comparison import metric_of
from journeymap.errors import EXIT_OK, EXIT_USAGE
from journeymap.levers_report import FRONT_NOTE, optimise_html
from journeymap.optimise import optimise_blocks
from journeymap.tables import format_change, format_value

HOSTILE = '<script>alert(1)</script> & "co"'

# The overlay's name, and a change's detail, are hostile (SERIAL: each speed-up saves exactly its own time).
FASTER = f"""
extends: serial.yaml
journey: {{id: faster, name: {json.dumps('Faster ' + HOSTILE)}}}
steps:
  - {{id: quote, duration: 30min}}                    # saves 90 minutes
  - {{id: review, duration: 180min, name: "<b>R</b>"}}  # saves 120 minutes; its detail is hostile
departments:
  - {{id: legal, cost_per_hour: 90}}                  # changes nothing a case waits for
"""

#: The levers of tests/test_optimise.py, one of them with a hostile name, on a journey with a hostile name.
LEVERS = """
journey: serial.yaml
levers:
  - {id: faster-pitch, kind: speed, step: pitch, range: [0.5, 1], cost: {once: 1000}}
  - {id: no-inbox, name: '<img src=x onerror=alert(1)>', kind: cut_delay, flow: pitch -> review, range: [0, 1],
     cost: {once: 100, per_month: 10}}
  - {id: more-legal, kind: staff, department: legal, range: [0, 2], cost: {per_person: {per_month: 5000}}}
"""


@pytest.fixture(scope="module")
def explained(tmp_path_factory) -> tuple[dict[str, Any], str, Path]:
    """`explain serial.yaml faster.yaml -o out`: the JSON and the page it wrote, and the folder."""
    folder = tmp_path_factory.mktemp("explain")
    (folder / "serial.yaml").write_text(dedent(SERIAL), encoding="utf-8")
    (folder / "faster.yaml").write_text(dedent(FASTER), encoding="utf-8")
    out = folder / "out"
    assert main(["explain", str(folder / "serial.yaml"), str(folder / "faster.yaml"), "--replications", "3",
                 "--cases", "20", "-o", str(out), "--no-progress"]) == EXIT_OK
    data = json.loads((out / "faster-explain.json").read_text(encoding="utf-8"))
    return data, (out / "faster-explain.html").read_text(encoding="utf-8"), folder


@pytest.fixture(scope="module")
def optimised(tmp_path_factory) -> tuple[dict[str, Any], str, Path]:
    """`optimise levers.yaml --budget-year 1000 -o out` (8 settings, 2 replications): the JSON, the page, the folder."""
    folder = tmp_path_factory.mktemp("optimise")
    (folder / "serial.yaml").write_text(dedent(SERIAL_JOURNEY).replace("name: Serial", f"name: {json.dumps(HOSTILE)}"),
                                        encoding="utf-8")
    (folder / "levers.yaml").write_text(dedent(LEVERS), encoding="utf-8")
    out = folder / "out"
    assert main(["optimise", str(folder / "levers.yaml"), "--replications", "2", "--budget-year", "1000",
                 "-o", str(out), "--no-progress"]) == EXIT_OK
    data = json.loads((out / "optimise.json").read_text(encoding="utf-8"))
    return data, (out / "optimise.html").read_text(encoding="utf-8"), folder


# --------------------------------------------------------------------------- reading a page


class _Page(HTMLParser):
    """The page as a reader sees it: each element with a data-path (attributes and text), every table's rows
    (by the table's id) as cell texts, the visible text outside <style> and <svg>, every tag, the figures'
    contents."""

    VOID = ("meta", "br", "img", "input", "link")

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[dict[str, Any]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.figures: dict[str, list[str]] = {}
        self._open: list[dict[str, Any]] = []
        self._skip = 0
        self._table: str | None = None
        self._td: list[str] | None = None
        self._figure: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if self._figure is not None:
            self.figures[self._figure].append(tag)
        if tag == "figure":
            self._figure = a.get("id") or ""
            self.figures[self._figure] = []
        if tag in ("style", "svg"):
            self._skip += 1
        if self._skip or tag in self.VOID:
            return
        if tag == "table":
            self._table = a.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._td = [] if tag == "td" else None
        if "data-path" in a:
            self.cells.append({"attrs": a, "text": ""})
            self._open.append(self.cells[-1])
        else:
            self._open.append({})

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = None
        if tag in ("style", "svg"):
            self._skip -= 1
            return
        if self._skip or tag in self.VOID:
            return
        if tag == "td" and self._td is not None:
            self.tables[self._table][-1].append("".join(self._td).strip())  # type: ignore[index]
            self._td = None
        if tag == "table":
            self._table = None
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._td is not None:
            self._td.append(data)
        for cell in self._open:
            if "attrs" in cell:
                cell["text"] += data


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _check_cells(page: _Page, data: dict[str, Any], text_of) -> set[str]:
    """Every number cell's value is the JSON's at its path, exactly, and its text is ``text_of(path, value)``."""
    for cell in page.cells:
        path = cell["attrs"]["data-path"]
        value = _at(data, path)
        assert float(cell["attrs"]["data-value"]) == value, path
        assert cell["text"].strip() == text_of(path, value), path
    return {c["attrs"]["data-path"] for c in page.cells}


def _fetches_nothing(html: str, page: _Page) -> None:
    """No script, no element that loads something, no address to load from, no CSS import."""
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe", "object", "embed", "video",
                                                   "audio", "source", "base", "form")]
    attrs = [(a, v or "") for _, tag_attrs in page.tags for a, v in tag_attrs.items()]
    assert not [a for a, _ in attrs if a.startswith("on")]
    # only links inside the page (the SVG's xlink:href="#glyph"), nothing to load
    assert not [(a, v) for a, v in attrs if a in ("src", "href", "xlink:href", "srcset") and not v.startswith("#")]
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(?:https?:)?//", html)


# --------------------------------------------------------------------------- explain


def _explain_text(unit: str):
    def text(path: str, value: float) -> str:
        last = path.rsplit(".", 1)[-1]
        if last == "share":
            return format_share(value)
        if path in ("before_value", "after_value") or last == "sampling_se":
            return format_value(value, unit)
        return format_change(value, unit)          # a contribution, the total, an end of a CI
    return text


def test_every_number_of_the_explain_page_is_the_jsons(explained):
    """Each number names its JSON path and is its value there, written as the terminal writes it; every
    contribution, its CI ends and share, and the total are on the page; the headline names the largest ones."""
    data, html, _ = explained
    page = _Page(html)
    shown = _check_cells(page, data, _explain_text(data["metric"]["unit"]))
    for i in range(len(data["contributions"])):
        assert {f"contributions.{i}.contribution", f"contributions.{i}.ci95.0", f"contributions.{i}.ci95.1",
                f"contributions.{i}.share"} <= shown
    assert {"before_value", "after_value", "total.change", "total.ci95.0", "total.ci95.1"} <= shown
    assert data["total"]["change"] == pytest.approx(-210.0)   # 90 + 120 minutes saved, as the overlay says
    headline = "".join(_Page(html.split('id="headline">')[1].split("</p>")[0]).text)
    assert "−3.5h" in headline and "−2.0h (57%)" in headline and "−1.5h (43%)" in headline


def test_the_explain_table_is_the_terminals(explained):
    """Row for row and cell for cell, the contributions table is the one `journeymap explain` prints."""
    data, html, _ = explained
    table = next(b for b in explain_blocks(data) if hasattr(b, "rows"))
    assert _Page(html).tables["contributions"] == [[], *[list(r) for r in table.rows]]   # [] is the header row


def test_the_explain_page_inlines_the_waterfall_and_says_what_the_intervals_cover(explained):
    data, html, _ = explained
    page = _Page(html)
    assert page.figures["waterfall"][:1] == ["svg"] and len(page.figures["waterfall"]) > 50   # drawn, not a stub
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    text = " ".join(page.text)
    assert data["ci_note"] in text and "exact Shapley values over all 8 partial designs" in text


def test_the_explain_page_fetches_nothing_and_escapes_names(explained):
    """The overlay's name and a change's detail reach the page as text: no injected element."""
    data, html, _ = explained
    page = _Page(html)
    _fetches_nothing(html, page)
    assert "<script>alert" not in html and "<b>R</b>" not in html
    text = " ".join(page.text)
    assert "Faster " + HOSTILE in text and "step review (duration 180min, name <b>R</b>)" in text


def test_a_sampled_explanation_shows_each_sampling_error(explained):
    """Beyond 8 changes the values are sampled: the page says so and adds each change's sampling error."""
    data = copy.deepcopy(explained[0])
    data.update(method="sampled", permutations=32)
    for k, row in enumerate(data["contributions"]):
        row["sampling_se"] = 1.5 * k if k else None
    page = _Page(explain_html(data))
    shown = _check_cells(page, data, _explain_text(data["metric"]["unit"]))
    assert {"contributions.1.sampling_se", "contributions.2.sampling_se"} <= shown
    assert page.tables["contributions"][1][-1] == "n/a"                     # no sampling error for that one
    assert "sampled over 32 random orders" in " ".join(page.text)
    assert "No chart was made" in " ".join(page.text)                       # no SVG given


def test_the_headline_says_when_a_large_contributions_interval_includes_zero(explained):
    """A contribution the headline names whose 95% CI includes zero is said to be so, not coloured; one of
    exactly zero is not named."""
    data = copy.deepcopy(explained[0])
    data["contributions"][0]["ci95"] = [-300.0, 60.0]
    html = explain_html(data)
    headline = " ".join("".join(_Page(html.split('id="headline">')[1].split("</p>")[0]).text).split())
    assert "−2.0h (57%, its 95% CI includes zero); step quote (duration 30min) −1.5h (43%)." in headline
    assert "department legal" not in headline                                  # its contribution is exactly 0
    assert _Page(html).tables["contributions"][1][2] == "[−5.0h, +1.0h]"


# --------------------------------------------------------------------------- optimise


def _optimise_text(data: dict[str, Any]):
    """How the optimise page writes the number at a path: as optimise's terminal report does (money with
    thousands separators, people signed, metric values and changes in the metric's unit)."""
    unit = metric_of(data["metric"]).unit

    def text(path: str, value: float) -> str:
        parts = path.split(".")
        if parts[-1] == "first_year_cost":
            return f"{value:,.0f}"
        if parts[-1] == "people":
            return f"{value:+d}"
        if parts[0] == "budget":
            return f"{value:,g}"
        if "means" in parts or parts[-1] == "mean" or (parts[0] == "verification" and "ci95" in parts
                                                       and not parts[1].startswith("against")):
            return format_value(value, unit)
        if parts[-1] == "change" and "effects" in parts and _at(data, path.rsplit(".", 1)[0])["unchanged"]:
            return "unchanged"
        return format_change(value, unit)      # a change from today or the runner-up, or an end of its CI
    return text


def test_every_number_of_the_optimise_page_is_the_jsons(optimised):
    """Every number names its JSON path and is its value there; the front, the winner, the runner-up, today
    and the verification are all on the page."""
    data, html, _ = optimised
    page = _Page(html)
    metric = data["metric"]
    shown = _check_cells(page, data, _optimise_text(data))
    for i in data["front"]:
        assert {f"settings.{i}.means.{metric}", f"settings.{i}.effects.{metric}.change",
                f"settings.{i}.first_year_cost", f"settings.{i}.people"} <= shown
    for name in ("winner", "today", "runner_up"):
        assert {f"verification.{name}.mean", f"verification.{name}.ci95.0"} <= shown
    assert {"verification.against_today.change", "verification.against_runner_up.ci95.1",
            "budget.first_year_cost", f"today.means.{metric}"} <= shown
    assert len(page.tables["settings"]) == 1 + len(data["settings"])           # every setting, folded


def test_the_optimise_front_is_the_terminals(optimised):
    """The front table lists the terminal's rows (setting, mean, first-year cost, people), numbered as on the
    chart, the winner marked."""
    data, html, _ = optimised
    table = next(b for b in optimise_blocks(data) if hasattr(b, "rows"))
    rows = _Page(html).tables["front"][1:]
    assert [[r[1].removesuffix(" best within the budget").strip(), r[2], r[4], r[5]] for r in rows] == \
        [list(r) for r in table.rows]
    assert [r[0] for r in rows] == [str(n) for n in range(1, len(data["front"]) + 1)]
    winner = data["front"].index(data["winner"])
    assert rows[winner][1].endswith("best within the budget")
    assert 'class="winner"' in html


def test_the_optimise_page_inlines_the_pareto_chart_and_says_what_the_front_is(optimised):
    data, html, _ = optimised
    page = _Page(html)
    assert page.figures["pareto"][:1] == ["svg"] and len(page.figures["pareto"]) > 50
    text = " ".join(page.text)
    assert FRONT_NOTE in text and "still beats it" in text
    assert "fresh replications (seed 1001)" in text


def test_the_optimise_page_fetches_nothing_and_escapes_names(optimised):
    data, html, _ = optimised
    page = _Page(html)
    _fetches_nothing(html, page)
    assert "<script>alert" not in html and "<img" not in html
    text = " ".join(page.text)
    assert HOSTILE in text and "<img src=x onerror=alert(1)> delay x0" in text


def test_a_factorial_without_a_budget_has_no_winner_section(optimised):
    """``factorial``'s data (no budget, no winner) makes a page too: the front, without the winner's section."""
    data = {k: v for k, v in optimised[0].items()
            if k not in ("budget", "within_budget", "winner", "runner_up", "verification")}
    html = optimise_html(data)
    assert 'id="front"' in html and 'id="verification"' not in html and 'class="winner"' not in html
    assert "Cost against cycle time, p90" in html


# --------------------------------------------------------------------------- an output that is an input


def test_a_page_that_would_overwrite_an_input_is_refused(explained, optimised, capsys):
    """The page's path leads to an input (a symlink): refused before anything runs, the input untouched."""
    for folder, name, target, args in (
            (explained[2], "faster-explain.html", "serial.yaml", ["explain", "serial.yaml", "faster.yaml"]),
            (optimised[2], "optimise.html", "levers.yaml", ["optimise", "levers.yaml"])):
        out = folder / "trap"
        out.mkdir()
        (out / name).symlink_to(folder / target)
        before = (folder / target).read_text(encoding="utf-8")
        argv = [args[0], *(str(folder / a) for a in args[1:]), "-o", str(out), "--no-progress"]
        assert main(argv) == EXIT_USAGE
        assert "never writes to the files it reads" in capsys.readouterr().err
        assert (folder / target).read_text(encoding="utf-8") == before
        assert sorted(p.name for p in out.iterdir()) == [name]


# --------------------------------------------------------------------------- headless Chromium


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1400])   # a phone, a laptop
def test_both_pages_read_on_a_phone_and_a_laptop(chromium, explained, optimised, width, tmp_path):
    """No console error, nothing fetched, no sideways scrolling of the page, nothing cut off that cannot be
    scrolled to, no empty heading, the headline shown; the chart at a readable width."""
    from test_report import render_in_chromium

    for name, (_, html, _) in (("explain", explained), ("optimise", optimised)):
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        seen = render_in_chromium(chromium, path, tmp_path / name, width=width, height=844 if width < 600 else 900)
        (tmp_path / f"{name}-{width}.png").write_bytes(seen.screenshot)
        assert seen.errors == [], name
        assert [u for u in seen.requests if not u.startswith(("file:", "data:", "about:"))] == [], name
        assert seen.page_width <= seen.viewport_width, f"{name}: the page scrolls sideways"
        assert seen.layout["cut"] == [], f"{name}: {seen.layout['cut_count']} elements cut off"
        assert seen.layout["empty"] == [], f"{name}: headings with nothing under them"
        assert seen.headline and seen.headline.startswith(("Cycle time", "Best within the budget")), name
        assert len(seen.layout["charts"]) == 1 and seen.layout["charts"][0] >= 560, (name, seen.layout["charts"])
