"""The before/after HTML report (journeymap/report.py).

Two halves: pure checks of the page :func:`report_html` builds (sections,
self-containment, escaping of journey text), and a headless Chromium run
(``@pytest.mark.browser``) that opens the report of the bundled insurance
pair and fails on any console error, uncaught exception or request that
leaves the file. The ``chromium`` fixture and the DevTools client are in
tests/browser.py.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import DevTools, page_errors, requested
from helpers import JOURNEYS, dedent

from journeymap.comparison import compare
from journeymap.report import build_report, report_html
from journeymap.validation import check_text

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")

# --------------------------------------------------------------------------- a small pair with hostile text

EVIL = "<script>alert(1)</script>"
QUOTES = "\"Tom\" & 'Jerry'"
UNICODE = "Ünïcödé — 顧客 ✓"

SMALL = """
journey: {{id: small-{side}, name: {journey_name}}}
persona: {{id: buyer, tolerance: 4h}}
stages: [{{id: buy, name: {stage_name}}}]
departments: [{{id: sales, name: {dept_name}, capacity: 1, cost_per_hour: 90}}{legal}]
steps:
  - {{id: quote, stage: buy, owner: sales, name: {quote_name}, duration: {{exponential: {quote_minutes}min}},
     value_adding: true}}
{middle}  - {{id: sign, stage: buy, owner: customer, name: {sign_name}, duration: {{exponential: 10min}},
     moment_of_truth: true, emotion: 1}}
workload: {{arrivals: {{poisson: 2h}}, cases: 60}}
"""

REVIEW = "  - {id: review, stage: buy, owner: legal, duration: {exponential: 30min}, next: {to: sign, delay: 1d}}\n"


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return json.dumps(text, ensure_ascii=False)


def small_journey(side: str):
    """Before: quote -> review (legal, a day in the inbox) -> sign. After: a faster quote -> sign, no legal department.

    The journey, stage, department and step names carry markup, quotes, ``&`` and non-ASCII text.
    """
    text = SMALL.format(
        side=side, journey_name=_q(f"{EVIL} {QUOTES} {UNICODE} ({side})"), stage_name=_q(f"Buy {QUOTES}"),
        dept_name=_q(f"Sales {EVIL}"), quote_name=_q(EVIL), sign_name=_q(f"Sign {QUOTES} {UNICODE}"),
        middle=REVIEW if side == "before" else "",
        legal=", {id: legal, capacity: 1, cost_per_hour: 150}" if side == "before" else "",
        quote_minutes=40 if side == "before" else 30)  # the after design also quotes faster: a marked change
    checked = check_text(dedent(text), f"{side}.yaml", lint=False)
    assert checked.journey is not None, checked.problems
    return checked.journey


@pytest.fixture(scope="module")
def small_pair():
    """Two small journeys with hostile names and their comparison (3 paired replications)."""
    before, after = small_journey("before"), small_journey("after")
    return before, after, compare(before, after, replications=3)


#: Stand-ins for the pictures, so the pure tests need neither Graphviz nor matplotlib.
PICTURES = {name: f'<svg xmlns="http://www.w3.org/2000/svg" id="{name}"><rect width="10" height="10"/></svg>'
            for name in ("before_map", "after_map", "distribution_chart", "stage_chart", "emotion_chart")}


# --------------------------------------------------------------------------- reading a page


@dataclass
class Page:
    """What an HTML parser sees in a page: tags with their attributes, text, ids."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def parse(html: str) -> Page:
    """Parse ``html`` leniently (as a browser would) into a :class:`Page`."""
    page = Page()

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            page.tags.append((tag, dict(attrs)))

        handle_startendtag = handle_starttag

        def handle_data(self, data):
            page.text.append(data)

    reader = Reader(convert_charrefs=True)
    reader.feed(html)
    reader.close()
    return page


#: A resource the page would fetch from the network: src=/href= to http(s) or protocol-relative, url(...),
#: @import. (xmlns="http://www.w3.org/2000/svg" is a namespace name, not a resource, and is not matched.)
REMOTE = re.compile(r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
                    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|@import""", re.I)


def assert_self_contained(html: str) -> None:
    hits = [html[max(m.start() - 40, 0):m.end() + 40] for m in REMOTE.finditer(html)]
    assert not hits, f"network resources in the report: {hits}"
    page = parse(html)
    assert not [t for t, a in page.tags if t in ("link", "iframe", "object", "embed", "base")]
    external = [(t, a) for t, a in page.tags if t in ("script", "img") and a.get("src")]
    assert not external, f"external scripts or images: {external}"


def assert_escaped(html: str) -> None:
    """Journey text reaches the page as text: no injected tag or attribute, and it reads back unchanged."""
    assert EVIL not in html
    assert QUOTES not in html  # the raw & (and quotes) are always escaped
    page = parse(html)
    assert not [t for t, _ in page.tags if t == "script"], "a <script> element made it into the page"
    assert not [(t, k) for t, a in page.tags for k in a if k.lower().startswith("on")], "an event handler attribute"
    text = page.all_text
    assert EVIL in text and QUOTES in text and UNICODE in text  # the reader sees exactly what was written


# --------------------------------------------------------------------------- pure: report_html


def test_every_section_is_there(small_pair):
    _, _, comparison = small_pair
    html = report_html(comparison, **PICTURES)
    page = parse(html)
    # the headline, the metrics table, the two maps, both charts, the diff and the load table
    assert {"headline", "metrics", "maps", "cycle-time", "stages", "diff", "load"} <= page.ids
    assert set(PICTURES) <= page.ids  # each picture is inlined, not linked
    assert comparison["headline"] in page.all_text
    assert html.count("<tr>") >= len(comparison["metrics"])


def case_metrics(comparison: dict) -> list[dict]:
    """The metrics of the main table: all but per-department utilisation and cost, which their own tables show."""
    return [r for r in comparison["metrics"] if not r["key"].startswith(("utilisation:", "cost:"))]


def test_the_metrics_table_has_a_row_per_metric_with_its_interval(small_pair):
    _, _, comparison = small_pair
    html = report_html(comparison)
    metrics_table = parse(html[html.index('id="metrics"'):html.index("</table>", html.index('id="metrics"'))])
    for row in case_metrics(comparison):
        assert row["label"] in metrics_table.all_text
    assert "95% CI" in metrics_table.all_text


def test_department_table_has_utilisation_and_marks_absent_departments(small_pair):
    _, _, comparison = small_pair
    html = report_html(comparison, department_names={"legal": "Legal & contracts"})
    load = html[html.index('id="load"'):html.index("</table>", html.index('id="load"'))]
    cells = [c.strip() for c in parse(load).text if c.strip()]
    # legal exists before only: its "after" cells say so instead of showing an idle 0%
    legal = cells[cells.index("Legal & contracts"):]
    assert legal[1] == "1 → 0" and legal[2:5] == ["30min", "—", "gone"]
    assert "pp" in parse(load).all_text  # a change of utilisation is in percentage points


def test_missing_pictures_leave_a_note_not_a_hole(small_pair):
    _, _, comparison = small_pair
    html = report_html(comparison)  # no Graphviz, no charts
    assert "<svg" not in html
    assert "Graphviz" in html  # says why the maps are missing


def test_the_page_is_self_contained(small_pair):
    _, _, comparison = small_pair
    assert_self_contained(report_html(comparison, **PICTURES))


def test_the_self_containment_check_catches_a_remote_resource(small_pair):
    _, _, comparison = small_pair
    html = report_html(comparison, **PICTURES)
    for bad in ('<img src="https://example.com/x.png">', '<link rel="stylesheet" href="//cdn.example.com/a.css">',
                '<div style="background: url(http://example.com/bg.png)"></div>'):
        with pytest.raises(AssertionError):
            assert_self_contained(html.replace("</body>", bad + "</body>"))


def test_journey_text_is_escaped(small_pair):
    before, after, comparison = small_pair
    steps = {s.id: s.name for s in before.steps + after.steps}
    departments = {d.id: d.name for d in before.departments + after.departments}
    html = report_html(comparison, **PICTURES, step_names=steps, department_names=departments)
    assert_escaped(html)
    assert f"Sales {EVIL}" in parse(html).all_text  # a department name, in the department table


def test_inline_svg_drops_scripts_and_declarations():
    from journeymap.report import inline_svg

    svg = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- x --><svg><script>alert(1)</script><g/></svg>'
    assert str(inline_svg(svg)) == "<svg><g/></svg>"


def table_cells(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row of the table ``table_id``, cell by cell."""
    start = html.index(f'id="{table_id}"')
    body = html[html.index("<tbody>", start):html.index("</tbody>", start)]
    rows: list[list[str]] = []

    class Cells(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                rows.append([])
            elif tag == "td":
                rows[-1].append("")

        def handle_data(self, data):
            if rows and rows[-1]:
                rows[-1][-1] += data

    Cells(convert_charrefs=True).feed(body)
    return [[c.strip() for c in r] for r in rows]


def metric_row(html: str, label: str) -> list[str]:
    return next(r for r in table_cells(html, "metrics") if r[0] == label)


def test_points_and_relative_changes_are_labelled_apart(small_pair):
    _, _, comparison = small_pair
    html = report_html(comparison)
    flow = metric_row(html, "Flow efficiency")
    assert flow[3].endswith(" pp") and flow[4] == "—" and flow[5].count("pp") == 2   # change, relative, CI
    cycle = metric_row(html, "Cycle time, mean")
    assert cycle[4].endswith("%") and "pp" not in "".join(cycle)
    tiles = parse(html[html.index('id="tiles"'):html.index("</div>\n\n<h2")]).all_text
    assert "pp (" not in tiles  # a tile never adds a relative % to a change in points


def test_unchanged_rows_say_so_and_the_ci_note_is_there(small_pair):
    _, _, comparison = small_pair
    html = report_html(comparison)
    rework = metric_row(html, "Rework per case")
    assert rework[3] == "unchanged" and rework[6] == "unchanged"
    note = parse(html[html.index('id="ci-note"'):html.index("</p>", html.index('id="ci-note"'))]).all_text
    assert "simulation noise" in note and "not the uncertainty of the inputs" in note


def test_a_design_not_in_a_steady_state_gets_a_banner_and_no_significant_change(small_pair):
    import copy

    from journeymap.comparison import compare_metrics, stability_of_pair

    _, _, comparison = small_pair
    assert 'id="steady-warning"' not in report_html(comparison)
    unsteady = copy.deepcopy(comparison)
    unsteady["after"]["simulation"]["stability"] = {
        "steady": False, "message": "Legal is offered 252% of its capacity.",
        "hint": "If review is elapsed time, write it as a flow delay: instead of a duration."}
    unsteady["stability"] = stability_of_pair(unsteady["before"]["simulation"], unsteady["after"]["simulation"])
    reps = [{"cycle_time_mean": 100.0 + i} for i in range(3)], [{"cycle_time_mean": 900.0 + 5 * i} for i in range(3)]
    unsteady["metrics"] = compare_metrics(*reps, steady=False)
    html = report_html(unsteady)
    banner = parse(html[html.index('id="steady-warning"'):html.index("</div>", html.index('id="steady-warning"'))])
    assert "Legal is offered 252%" in banner.all_text and "flow delay" in banner.all_text
    assert metric_row(html, "Cycle time, mean")[6] == "not steady"
    assert "significant" not in [r[6] for r in table_cells(html, "metrics")]


def test_the_customer_side_and_the_money_are_shown_before_and_after(small_pair):
    before, after, comparison = small_pair
    steps = {s.id: s.name for s in before.steps + after.steps}
    names = {d.id: d.name for d in before.departments + after.departments}
    rates = {d.id: d.cost_per_hour for d in before.departments + after.departments}
    html = report_html(comparison, **PICTURES, step_names=steps, department_names=names, department_rates=rates)
    index = table_cells(html, "experience")[0]
    assert index[0] == "Index, as lived" and "[" in index[1] and "[" in index[2]   # each side with its CI
    moments = table_cells(html, "moments")
    assert moments[0][1] == "before" and moments[0][2] == "100%"   # the day in legal's inbox: every visit too long
    assert f"Sign {QUOTES}" in moments[0][0]
    cost = table_cells(html, "cost")
    assert cost[0][0] == "All departments" and "[" in cost[0][2]
    legal = next(r for r in cost if r[0] == "legal")
    assert legal[1] == "150" and legal[3] == "—"                  # legal is gone from the after design
    assert "emotion_chart" in parse(html).ids


def test_sections_without_content_are_left_out(small_pair):
    import copy

    _, _, comparison = small_pair
    bare = copy.deepcopy(comparison)
    bare["metrics"] = [r for r in bare["metrics"] if not r["key"].startswith(("cost", "experience"))]
    for side in ("before", "after"):
        bare[side]["simulation"].pop("moments_at_risk", None)
    bare["drivers"] = None
    html = report_html(bare)
    ids = parse(html).ids
    assert not {"cost", "cost-title", "customer", "moments", "breakdown", "stages"} & ids


def test_counts_read_as_words_and_an_unchanged_structure_has_no_empty_list(small_pair):
    import copy

    from journeymap.report import plural

    assert [plural(n, "step") for n in (0, 1, 3)] == ["no steps", "1 step", "3 steps"]
    _, _, comparison = small_pair
    same = copy.deepcopy(comparison)
    same["diff"]["steps"].update(added=[], removed=[], changed={})
    same["diff"]["handoffs"].update(added=[], removed=[])
    text = parse(report_html(same)).all_text
    assert "0 step" not in text and "No step was added" in text and "No handoff was added or removed" in text
    assert "<ul" not in report_html(same)


def test_a_long_list_of_changes_is_folded(small_pair):
    import copy

    _, _, comparison = small_pair
    long = copy.deepcopy(comparison)
    long["diff"]["steps"]["added"] = [f"step_{i}" for i in range(30)]
    html = report_html(long)
    start = html.index('id="step-changes"')
    assert html.rfind("<details", 0, start) > html.rfind("</details>", 0, start)   # the list sits in a <details>
    assert " open" not in html[start:html.index(">", start)]                     # folded
    assert "30 added" in parse(html[start:html.index("</summary>", start)]).all_text


def test_stage_chart_bars_add_up_to_the_cycle_time_in_one_unit():
    from journeymap.rendering.comparison_plots import stage_bars, stage_comparison

    def block(stages: dict) -> dict:
        total = {}
        for parts in stages.values():
            for k, v in parts.items():
                total[k] = total.get(k, 0.0) + v
        return {"components": list(total), "total": total, "stages": stages}

    # before: 43 days, mostly inboxes; after: 3 hours of work and queueing
    before = block({"apply": {"value_adding_work": 600.0, "handoff_inbox": 30000.0, "other_inbox": 20000.0},
                    "bind": {"queueing": 10000.0, "customer_time": 1320.0}})
    after = block({"apply": {"value_adding_work": 120.0, "queueing": 60.0}})
    bars = stage_bars(before, after, ["apply", "bind"])
    for side, tb in (("before", before), ("after", after)):
        assert sum(b["total"] for b in bars if b["side"] == side) == pytest.approx(sum(tb["total"].values()))
    fig = stage_comparison(before, after, ["apply", "bind"])
    ax = fig.axes[0]
    assert "days" in ax.get_xlabel()                             # one unit for both designs
    drawn = sum(p.get_width() for p in ax.patches)
    assert drawn == pytest.approx((61920.0 + 180.0) / 1440)     # every bar, in days: they add up to both cycle times
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["before 35.1", "before 7.9", "after 0.1", "after 0.0"]   # 50,600 and 11,320 min; 180 min


# --------------------------------------------------------------------------- with Graphviz and matplotlib


@pytest.fixture(scope="module")
def small_report(small_pair) -> str:
    """The full report of the small pair: maps from Graphviz, charts from matplotlib."""
    before, after, comparison = small_pair
    return build_report(comparison, before, after)


@pytest.mark.exe
@needs_dot
def test_full_report_escapes_journey_text_in_maps_too(small_report):
    assert small_report.count("<svg") == 5  # two maps, three charts (cycle time, stages, emotions)
    assert_escaped(small_report)
    assert_self_contained(small_report)
    # the step names reach the maps (Graphviz output of escaped DOT), escaped, and read back unchanged
    before_map = small_report[small_report.index('id="before-map"'):small_report.index('id="after-map"')]
    assert EVIL not in before_map
    assert EVIL in parse(before_map).all_text


@pytest.mark.exe
@needs_dot
def test_after_map_marks_the_changed_steps(small_pair, small_report):
    _, _, comparison = small_pair
    diff = comparison["diff"]["steps"]
    assert set(diff["added"]) | set(diff["changed"])  # the pair differs in a step
    after_map = small_report[small_report.index('id="after-map"'):]
    before_map = small_report[small_report.index('id="before-map"'):small_report.index('id="after-map"')]
    assert "CHANGED" in parse(after_map).all_text
    assert "CHANGED" not in parse(before_map).all_text


# --------------------------------------------------------------------------- headless Chromium


@dataclass
class Rendered:
    """What a headless Chromium saw when it opened a page."""

    errors: list[str]       # console.error/assert, uncaught exceptions, error log entries (e.g. failed loads)
    requests: list[str]     # every URL the page asked for, the page itself included
    headline: str | None
    metric_rows: int
    page_width: int         # document.documentElement.scrollWidth: wider than the viewport means sideways scrolling
    viewport_width: int
    screenshot: bytes       # PNG of the whole page
    layout: dict[str, Any] = field(default_factory=dict)   # what :data:`LAYOUT` found (cut-off elements, ...)


#: Evaluated in the page once it has loaded.
PROBE = """JSON.stringify({
  headline: document.getElementById('headline') && document.getElementById('headline').textContent,
  metric_rows: document.querySelectorAll('#metrics tbody tr').length,
  page_width: document.documentElement.scrollWidth,
  viewport_width: window.innerWidth,
})"""


#: Evaluated in the page once it has loaded: what a reader of that width cannot see or reach.
#: ``cut``: elements whose box leaves the viewport and that no scrolling box (overflow-x auto/scroll) inside
#: the viewport holds, so there is no way to scroll to them; ``empty``: headings with no text, or with
#: nothing (no text, no picture) before the next heading of the same or a higher level; ``charts``: the
#: drawn width of each chart, in CSS px.
LAYOUT = """JSON.stringify((() => {
  const vw = window.innerWidth;
  const inView = r => r.right <= vw + 1 && r.left >= -1;
  const scroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return p;
    }
    return null;
  };
  const cut = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || inView(r)) continue;
    const box = scroller(el);
    if (box && inView(box.getBoundingClientRect())) continue;
    cut.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' right=' + Math.round(r.right));
  }
  const empty = [];
  for (const h of document.querySelectorAll('h1, h2, h3, h4')) {
    const level = +h.tagName[1];
    let content = false;
    for (let n = h.nextElementSibling; n && !(/^H[1-4]$/.test(n.tagName) && +n.tagName[1] <= level);
         n = n.nextElementSibling) {
      content = content || n.textContent.trim() !== '' || !!n.querySelector('svg, img');
    }
    if (!h.textContent.trim() || !content) empty.push(h.textContent.trim() || '(blank ' + h.tagName + ')');
  }
  const charts = [...document.querySelectorAll('figure.chart > svg')]
    .map(s => Math.round(s.getBoundingClientRect().width));
  return {cut: cut.slice(0, 20), cut_count: cut.length, empty, charts};
})())"""


def render_in_chromium(executable: str, html_file: Path, workdir: Path, *, width: int = 1440,
                       height: int = 1000) -> Rendered:
    """Open ``html_file`` headless at ``width`` x ``height`` CSS pixels; report errors, requests and a screenshot."""
    workdir.mkdir(parents=True, exist_ok=True)
    chrome = DevTools(executable, workdir / "profile")
    try:
        target = chrome.send("Target.createTarget", url="about:blank")["targetId"]
        session = chrome.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            chrome.send(f"{domain}.enable", session)
        chrome.send("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                    deviceScaleFactor=1, mobile=False)
        chrome.send("Page.navigate", session, url=html_file.resolve().as_uri())
        chrome.wait_for("Page.loadEventFired")
        probe = json.loads(chrome.send("Runtime.evaluate", session, expression=PROBE,
                                       returnByValue=True)["result"]["value"])
        layout = json.loads(chrome.send("Runtime.evaluate", session, expression=LAYOUT,
                                        returnByValue=True)["result"]["value"])
        shot = chrome.send("Page.captureScreenshot", session, format="png", captureBeyondViewport=True)
    finally:
        chrome.close()
    errors, requests = page_errors(chrome.events), requested(chrome.events)
    return Rendered(errors=errors, requests=requests, headline=probe["headline"], metric_rows=probe["metric_rows"],
                    page_width=probe["page_width"], viewport_width=probe["viewport_width"],
                    screenshot=base64.b64decode(shot["data"]), layout=layout)


@pytest.fixture(scope="module")
def insurance_report(tmp_path_factory) -> tuple[Path, dict]:
    """The report of the bundled insurance before/after pair (3 paired replications), written to a temp file."""
    from journeymap import load_journey

    before = load_journey(JOURNEYS / "insurance-before.yaml")
    after = load_journey(JOURNEYS / "insurance-after.yaml")
    comparison = compare(before, after, replications=3)
    path = tmp_path_factory.mktemp("report") / "insurance.html"
    path.write_text(build_report(comparison, before, after), encoding="utf-8")
    return path, comparison


@pytest.fixture(scope="module")
def more_staff_report(tmp_path_factory) -> tuple[Path, dict]:
    """The report of insurance-more-staff against its base: no structural change at all (3 replications)."""
    from journeymap import load_journey

    before = load_journey(JOURNEYS / "insurance-before.yaml")
    after = load_journey(JOURNEYS / "insurance-more-staff.yaml")
    comparison = compare(before, after, replications=3)
    path = tmp_path_factory.mktemp("report") / "more-staff.html"
    path.write_text(build_report(comparison, before, after), encoding="utf-8")
    return path, comparison


def _local(url: str) -> bool:
    return url.startswith(("file:", "data:", "about:"))


@pytest.mark.browser
@pytest.mark.exe
@needs_dot
def test_report_renders_in_chromium_without_errors(chromium, insurance_report, tmp_path):
    path, comparison = insurance_report
    seen = render_in_chromium(chromium, path, tmp_path)
    (tmp_path / "report.png").write_bytes(seen.screenshot)  # kept by pytest's tmp_path, to look at by hand
    assert seen.errors == []
    assert [u for u in seen.requests if not _local(u)] == []  # nothing fetched from the network
    assert seen.headline == comparison["headline"]
    assert seen.metric_rows == len(case_metrics(comparison))
    assert seen.page_width <= seen.viewport_width, "the page scrolls sideways"
    assert seen.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(seen.screenshot) > 100_000  # a whole report with maps and charts, not a blank page


@pytest.mark.browser
@pytest.mark.exe
@needs_dot
def test_report_fits_a_narrow_screen(chromium, insurance_report, tmp_path):
    path, _ = insurance_report
    seen = render_in_chromium(chromium, path, tmp_path, width=720, height=1000)
    (tmp_path / "report-narrow.png").write_bytes(seen.screenshot)
    assert seen.errors == []
    assert seen.page_width <= seen.viewport_width, "the page scrolls sideways on a narrow screen"


@pytest.mark.browser
def test_the_browser_check_catches_console_errors_and_remote_requests(chromium, small_pair, tmp_path):
    _, _, comparison = small_pair
    html = report_html(comparison, **PICTURES)
    (tmp_path / "clean.html").write_text(html, encoding="utf-8")
    clean = render_in_chromium(chromium, tmp_path / "clean.html", tmp_path / "clean")
    assert clean.errors == [] and all(_local(u) for u in clean.requests)

    # port 9 (discard) on the loopback: refused at once, so the test does not wait on a network
    bad = html.replace("</body>", '<script>console.error("deliberate error")</script>'
                                  '<img alt="" src="http://127.0.0.1:9/pixel.png"></body>')
    (tmp_path / "bad.html").write_text(bad, encoding="utf-8")
    seen = render_in_chromium(chromium, tmp_path / "bad.html", tmp_path / "bad")
    assert any("deliberate error" in e for e in seen.errors), seen.errors
    assert "http://127.0.0.1:9/pixel.png" in seen.requests


@pytest.mark.browser
@pytest.mark.exe
@needs_dot
@pytest.mark.parametrize("report", ["insurance_report", "more_staff_report"])
@pytest.mark.parametrize("width", [390, 1440])   # a phone, a laptop
def test_nothing_is_cut_off_or_empty_on_a_phone_or_a_laptop(chromium, request, report, width, tmp_path):
    path, comparison = request.getfixturevalue(report)
    seen = render_in_chromium(chromium, path, tmp_path, width=width, height=844 if width < 600 else 900)
    (tmp_path / f"{report}-{width}.png").write_bytes(seen.screenshot)
    assert seen.errors == []
    assert [u for u in seen.requests if not _local(u)] == []
    assert seen.page_width <= seen.viewport_width, "the page scrolls sideways"
    # every table column (the CI and the verdict too) is on screen or in a box that scrolls to it
    assert seen.layout["cut"] == [], f"{seen.layout['cut_count']} elements cut off"
    assert seen.layout["empty"] == [], "headings with nothing under them"
    # charts keep a readable size (their frame scrolls on a phone) rather than shrinking to thumbnails
    assert len(seen.layout["charts"]) == 3 and min(seen.layout["charts"]) >= 560, seen.layout["charts"]


@pytest.mark.browser
def test_the_layout_check_catches_cut_off_content_and_empty_headings(chromium, small_pair, tmp_path):
    _, _, comparison = small_pair
    html = report_html(comparison, **PICTURES)
    bad = html.replace("</body>", '<div id="too-wide" style="width: 900px">wide</div>'
                                  '<div class="scroll"><div id="fine" style="width: 900px">scrolls</div></div>'
                                  '<h3>Nothing here</h3><h2>End</h2><p>text</p></body>')
    (tmp_path / "bad.html").write_text(bad, encoding="utf-8")
    seen = render_in_chromium(chromium, tmp_path / "bad.html", tmp_path / "bad", width=390, height=844)
    assert any(c.startswith("div#too-wide") for c in seen.layout["cut"]), seen.layout
    assert not any(c.startswith("div#fine") for c in seen.layout["cut"])   # inside a scrolling box: reachable
    assert "Nothing here" in seen.layout["empty"]
