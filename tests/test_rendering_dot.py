"""DOT builders (no Graphviz needed), the one writer, and the drawings when ``dot`` is installed."""

from __future__ import annotations

import re
import shutil

import pytest
from helpers import EXAMPLES, ROOT, example_ids, fake_results, flow_labels, handoff_labels

from journeymap import load_journey
from journeymap.analysis import handoffs
from journeymap.errors import DotNotFound
from journeymap.graph import build_graph
from journeymap.rendering import dot as rdot
from journeymap.rendering import layout, output, syntax

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")

TRICKY = 'Quote " <b>bold</b> & \\n back\\slash ünïcødé 日本 ✓ ]'


def _journey_with_tricky_text(write_journey):
    return load_journey(write_journey(f"""
        journey: {{id: tricky, name: {TRICKY!r}}}
        persona: {{id: p, name: "O'Brien <CFO> & \\"Co\\""}}
        stages: [evaluate, buy]
        departments:
          - {{id: sales, name: "Sales & <Marketing>"}}
          - {{id: legal, name: 'Legal \\ Risk'}}
        steps:
          - {{id: a, name: {TRICKY!r}, stage: evaluate, owner: sales, channel: email, duration: 1h, emotion: -2,
             moment_of_truth: true}}
          - {{id: b, name: "R&D check", stage: evaluate, owner: legal, duration: 1h}}
          - {{id: c, name: "Signs <here>", stage: buy, owner: customer, duration: 1h}}
        """))


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize("text, expected", [
    ('plain', '"plain"'),                      # nothing to do
    ('say "hi"', '"say \\"hi\\""'),            # quotes escaped
    ('C:\\new', '"C:\\\\new"'),                # backslash doubled: no accidental \n line break
    ('ends with \\', '"ends with \\\\"'),        # a trailing backslash cannot swallow the closing quote
    ('two\nlines', '"two\\nlines"'),           # newline becomes a DOT line break
    ('bell\x07', '"bell"'),                    # control characters dropped
    ('日本 ✓', '"日本 ✓"'),                     # any Unicode passes through
])
def test_quote(text, expected):
    assert rdot.quote(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('R&D', 'R&amp;D'),                                  # ampersand first, so entities are not doubled
    ('<b>', '&lt;b&gt;'),                                # tags are text, not markup
    ('"x"', '&quot;x&quot;'),                            # quotes
    ('a\\b', 'a\\b'),                                    # backslashes are literal in HTML labels
    ('one\ntwo', 'one<BR/>two'),                         # newline becomes a line break
    ('ünï ✓', 'ünï ✓'),                                  # Unicode passes through
    ('&amp;', '&amp;amp;'),                              # user text that looks like an entity stays literal
])
def test_escape_html(text, expected):
    assert rdot.escape_html(text) == expected


def test_attrs_render_html_labels_unquoted_and_everything_else_quoted():
    assert syntax.attr_list({"label": rdot.Html("<B>x</B>"), "color": "#fff", "penwidth": 2.5,
                             "fixedsize": True}) == '[label=<<B>x</B>>, color="#fff", penwidth=2.5, fixedsize=true]'


# --------------------------------------------------------------------------- map and blueprint source


def _node_y(src: str, node: str) -> float:
    m = re.search(rf'^\s*"?{re.escape(node)}"? \[.*?pos="([\d.]+),([\d.]+)!"', src, re.M)
    assert m, f"node {node} not found"
    return float(m.group(2))


def _node_x(src: str, node: str) -> float:
    m = re.search(rf'^\s*"?{re.escape(node)}"? \[.*?pos="([\d.]+),([\d.]+)!"', src, re.M)
    assert m, f"node {node} not found"
    return float(m.group(1))


def test_blueprint_lanes_top_to_bottom_with_line_of_visibility(acme):
    src = rdot.blueprint_dot(acme)
    ys = [_node_y(src, f"lane:{lane}") for lane in ("customer", "frontstage", "backstage", "support")]
    assert ys == sorted(ys, reverse=True), "lanes must run customer, frontstage, backstage, support from the top"
    assert "LINE OF VISIBILITY" in src
    # the visibility label sits on the boundary between frontstage and backstage
    assert ys[2] < _node_y(src, "_visibility") < ys[1]
    # each step sits in its lane's band: between the neighbouring lane title centres
    assert _node_y(src, "questionnaire") > _node_y(src, "briefing") > _node_y(src, "contract_review")


def test_map_has_one_lane_per_department_customer_first(acme):
    src = rdot.map_dot(acme)
    lanes = re.findall(r'^\s*"lane:([^"]+)"', src, re.M)
    used = {s.owner for s in acme.steps}
    assert lanes[0] == "customer"
    assert lanes[1:] == [d.id for d in acme.departments if d.id in used]
    for s in acme.steps:
        assert abs(_node_y(src, s.id) - _node_y(src, f"lane:{s.owner}")) < 200


def test_stages_run_left_to_right(acme):
    src = rdot.map_dot(acme)
    xs = [_node_x(src, f"stage:{s.id}") for s in acme.stages]
    assert xs == sorted(xs)
    for s in acme.steps:  # every step sits under its own stage's header
        order = [st.id for st in acme.stages]
        i = order.index(s.stage)
        assert (i == 0 or _node_x(src, s.id) > xs[i - 1]) and (i == len(xs) - 1 or _node_x(src, s.id) < xs[i + 1])


def test_every_handoff_is_a_numbered_vermillion_edge_and_counted_per_stage(acme):
    g = build_graph(acme)
    hs = handoffs(g)
    src = rdot.map_dot(acme, g=g)
    labels = re.findall(r">H(\d+)<", src)
    assert sorted(map(int, labels)) == list(range(1, len(hs) + 1))
    handoff_edges = [line for line in src.splitlines() if 'class="handoff' in line and " -> " in line]
    assert handoff_edges and all("#D55E00" in line for line in handoff_edges)
    for h in hs:
        assert re.search(rf'"{h["from_step"]}" -> ("{h["to_step"]}"|_loop\d+)', src)
    per_stage = {s.id: sum(1 for h in hs if h["stage"] == s.id) for s in acme.stages}
    for stage, n in per_stage.items():
        line = next(ln for ln in src.splitlines() if f'"stage:{stage}"' in ln)
        assert f"{n} handoff{'s' if n != 1 else ''}" in line


def test_title_carries_persona_and_totals(acme):
    g = build_graph(acme)
    src = rdot.map_dot(acme, g=g)
    title = next(ln for ln in src.splitlines() if ln.strip().startswith("_title"))
    assert rdot.escape_html(acme.persona.name) in title
    assert f"{len(handoffs(g))} internal handoffs" in title
    assert f"{len(acme.steps)} steps" in title


def test_touchpoints_internal_steps_channel_emotion_and_moments(acme):
    src = rdot.blueprint_dot(acme)
    for s in acme.steps:
        line = next(ln for ln in src.splitlines() if ln.strip().startswith(f'"{s.id}" ['))
        if s.is_touchpoint:
            assert 'class="touchpoint"' in line and "rounded" in line
            if s.channel:
                assert s.channel.replace("_", " ") in line
            if s.emotion is not None:
                assert f"{s.emotion:+g}".replace("+0", "0") in line
        else:
            assert 'class="internal"' in line and "rounded" not in line
        assert ("MOMENT OF TRUTH" in line) == s.moment_of_truth
        assert ("peripheries=2" in line) == s.moment_of_truth


def test_rework_is_a_dashed_loop_through_a_waypoint(acme):
    src = rdot.map_dot(acme)
    rework = [ln for ln in src.splitlines() if 'class="rework' in ln]
    assert rework and all("dashed" in ln for ln in rework)
    assert any("_loop" in ln for ln in rework)
    assert "\u21ba rework" in src and "25%" in src  # the arrow's own label (the legend says "rework loop")


def test_legend_is_there(acme):
    assert "Legend" in rdot.map_dot(acme)
    assert "line of visibility" in rdot.blueprint_dot(acme)


def test_text_from_files_is_escaped_everywhere(write_journey):
    j = _journey_with_tricky_text(write_journey)
    for view in rdot.JOURNEY_VIEWS:
        src = rdot.journey_dot(j, view)
        # no raw markup from the file survives: every < from it is an entity
        assert "<b>bold</b>" not in src and "<CFO>" not in src and "<Marketing>" not in src
        assert "&lt;CFO&gt;" in src and "&amp;" in src
        assert "日本" in src


@needs_dot
@pytest.mark.exe
@pytest.mark.parametrize("view", rdot.JOURNEY_VIEWS)
def test_tricky_text_renders(write_journey, tmp_path, view):
    j = _journey_with_tricky_text(write_journey)
    svg = output.run_dot(rdot.journey_dot(j, view), "svg").decode("utf-8")
    assert "日本" in svg and "&lt;CFO&gt;" in svg


def test_unknown_view_says_what_is_allowed(acme):
    with pytest.raises(ValueError,
                       match=r"unknown view: 'gant' \(must be one of map, overview, blueprint, handoffs, personas\)"):
        rdot.journey_dot(acme, "gant")


# --------------------------------------------------------------------------- with results


def contract_results(journey, seed: int = 7) -> dict:
    """fake_results plus the keys of the shared contract (flows, time_breakdown, bottleneck, stability), consistent.

    Waiting at a step = its queueing + the inbox delay of the arrows into it; the bottleneck is the
    department with the most of it, as docs/simulation.md defines it.
    """
    res = fake_results(journey, seed)
    g = build_graph(journey)
    numbers = {(h["from_step"], h["to_step"]): i for i, h in enumerate(handoffs(g), 1)}
    flows = []
    for k, f in enumerate(journey.flows):
        inbox = float(g.edges[f.source, f.target]["mean_delay"])
        queue = 30.0 * (k % 4)
        flows.append({"source": f.source, "target": f.target, "handoff": journey.is_handoff(f),
                      "number": numbers.get((f.source, f.target)),
                      "from_department": g.nodes[f.source]["owner"], "to_department": g.nodes[f.target]["owner"],
                      "traversals_per_case": 1.0, "inbox_per_case": inbox, "queue_per_case": queue,
                      "lost_per_case": inbox + queue})
    res["flows"] = flows
    wait = {n: res["steps"][n]["wait_per_case"] for n in g}
    for f in flows:
        wait[f["target"]] += f["inbox_per_case"]
    total = sum(wait.values())
    dept: dict = {}
    for n, w in wait.items():
        if g.nodes[n]["owner"] != "customer":
            dept[g.nodes[n]["owner"]] = dept.get(g.nodes[n]["owner"], 0.0) + w
    bd = max(dept, key=dept.get)
    bs = max((n for n in g if g.nodes[n]["owner"] == bd), key=wait.get)
    q = sum(res["steps"][n]["wait_per_case"] for n in g if g.nodes[n]["owner"] == bd)
    res["bottleneck"] = {"department": bd, "step": bs, "department_share": dept[bd] / total,
                         "step_share": wait[bs] / total, "lost_per_case": dept[bd], "queueing_per_case": q,
                         "inbox_per_case": dept[bd] - q, "step_lost_per_case": wait[bs],
                         "step_queueing_per_case": res["steps"][bs]["wait_per_case"],
                         "step_inbox_per_case": wait[bs] - res["steps"][bs]["wait_per_case"],
                         "where_time_goes": {"work": 600.0, "queueing": 3000.0, "inbox": 24000.0, "customer": 500.0,
                                             "gate": 0.0}}
    res["stability"] = {"steady": True, "overloaded": [], "growing": False, "message": None, "hint": None}
    return res


def test_results_shade_steps_and_call_out_the_bottleneck(acme):
    res = contract_results(acme)
    src = rdot.map_dot(acme, results=res)
    b = res["bottleneck"]
    line = next(ln for ln in src.splitlines() if ln.strip().startswith(f'"{b["step"]}" ['))
    assert "BOTTLENECK" in line and "penwidth=6" in line
    # the biggest share gets the darkest shade, in the step's own waiting cell; the box keeps its role's fill
    steps = [ln for ln in src.splitlines() if re.match(r'\s*"(?!lane:|stage:)[^"]+" \[', ln)]
    assert any('BGCOLOR="#FD8D3C"' in ln for ln in steps) and not any('fillcolor="#FD8D3C"' in ln for ln in steps)
    # the node, the lane and the banner give the same shares (defined in docs/simulation.md), each labelled
    assert f"step share of waiting {100 * b['step_share']:.0f}%" in line
    title = next(ln for ln in src.splitlines() if ln.strip().startswith("_title"))
    assert f"department share of waiting {100 * b['department_share']:.0f}%" in title
    assert f"step share of waiting {100 * b['step_share']:.0f}%" in title
    lane = next(ln for ln in src.splitlines() if f'"lane:{b["department"]}"' in ln)
    assert "BOTTLENECK" in lane and "department share" in lane
    assert f"of waiting {100 * b['department_share']:.0f}%" in lane
    assert "Bottleneck:" in src and "Simulated 400 cases" in src


def _edge_line(src: str, u: str, v: str) -> str:
    """The DOT line of the arrow u -> v (a forward arrow: loops go through a waypoint)."""
    return next(ln for ln in src.splitlines() if ln.strip().startswith(f'"{u}" -> "{v}" ['))


def test_handoff_label_and_width_follow_the_arrows_own_time_lost(acme):
    """as docs/simulation.md defines it: an instant handoff is thin and says so, whatever its department pair lost
    on other arrows."""
    res = contract_results(acme)
    back = layout.back_edges(build_graph(acme))
    hs = [(f["source"], f["target"]) for f in res["flows"] if f["handoff"] and (f["source"], f["target"]) not in back]
    assert len(hs) >= 2
    big, instant = hs[0], hs[1]
    for f in res["flows"]:
        if (f["source"], f["target"]) == big:
            f.update(inbox_per_case=2880.0, queue_per_case=1440.0, lost_per_case=4320.0)
        elif (f["source"], f["target"]) == instant:
            f.update(inbox_per_case=0.0, queue_per_case=0.0, lost_per_case=0.0)
    src = rdot.map_dot(acme, results=res)
    labels = flow_labels(src)
    assert "3.0d lost/case" in labels[big] and "penwidth=12" in _edge_line(src, *big)
    assert "0s lost/case" in labels[instant] and "penwidth=3," in _edge_line(src, *instant)
    # the legend says exactly what the width and label are
    assert "time lost on this arrow: its inbox delay" in src and "queueing at the receiving step" in src
    # the pair total is on the handoff network only
    assert "lost per case" in rdot.handoff_network_dot(acme, results=res)


def test_handoff_network(acme, acme_results):
    src = rdot.handoff_network_dot(acme)
    g = build_graph(acme)
    pairs = {(h["from"], h["to"]) for h in handoffs(g)}
    for a, b in pairs:  # each direction: from the department to its label node, and on to the receiver
        label = f'"_label {a} -> {b}"'
        assert f'"{a}" -> {label}' in src and f'{label} -> "{b}"' in src
    assert src.count("label of the handoffs") == len(pairs)
    assert sum(1 for line in src.splitlines() if '" -> "' in line) == 2 * len(pairs)
    with_results = rdot.handoff_network_dot(acme, results=acme_results)
    assert "lost per case" in with_results and "BOTTLENECK" in with_results


def test_ping_pong_is_flagged(write_journey):
    j = load_journey(write_journey("""
        journey: {id: pp, name: Ping pong}
        persona: {id: p, name: Buyer}
        stages: [buy]
        departments: [{id: sales, name: Sales}, {id: legal, name: Legal}]
        steps:
          - {id: a, name: Draft, stage: buy, owner: sales, duration: 1h}
          - {id: b, name: Review, stage: buy, owner: legal, duration: 1h}
          - {id: c, name: Fix, stage: buy, owner: sales, duration: 1h}
          - {id: d, name: Sign, stage: buy, owner: customer, duration: 1h}
        """))
    src = rdot.handoff_network_dot(j)
    assert src.count('class="ping-pong"') == 4 and "ping-pong" in src  # two directions, each in two halves


def test_highlight_marks_changed_steps(acme):
    src = rdot.map_dot(acme, highlight={"proposal"})
    line = next(ln for ln in src.splitlines() if ln.strip().startswith('"proposal" ['))
    assert "CHANGED" in line


# --------------------------------------------------------------------------- layout


def test_columns_follow_the_flow_and_stages_are_contiguous(acme):
    g = build_graph(acme)
    col, spans = layout.assign_columns(g, [s.id for s in acme.stages])
    back = layout.back_edges(g)
    assert ("security_call", "answer_questionnaire") in back
    for u, v in g.edges:
        if (u, v) not in back:
            assert col[v] > col[u]
    firsts = [spans[s.id][0] for s in acme.stages]
    assert firsts == sorted(firsts)
    for (_, a1), (b0, _) in zip(list(spans.values()), list(spans.values())[1:], strict=False):
        assert a1 < b0


def test_parallel_branches_are_stacked_not_overlapping(acme):
    g = build_graph(acme)
    lane_of = {n: g.nodes[n]["lane"] for n in g}
    sizes = {n: (150.0, 80.0) for n in g}
    lay = layout.grid_layout(g, [s.id for s in acme.stages], ["customer", "frontstage", "backstage", "support"],
                             lane_of, sizes)
    boxes = {n: (x - 75, y - 40, x + 75, y + 40) for n, (x, y) in lay.positions.items()}
    for a in boxes:
        for b in boxes:
            if a < b:
                ax0, ay0, ax1, ay1 = boxes[a]
                bx0, by0, bx1, by1 = boxes[b]
                assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, f"{a} overlaps {b}"


# --------------------------------------------------------------------------- the writer


def test_dot_format_needs_no_graphviz(acme, tmp_path, no_graphviz):
    path = output.render_view(acme, tmp_path / "map.dot", "map", fmt="dot")
    assert open(path, encoding="utf-8").read().startswith("// journeymap map")
    with pytest.raises(DotNotFound, match="apt-get install graphviz"):
        output.render_view(acme, tmp_path / "map.svg", "map")
    assert not (tmp_path / "map.svg").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["map.dot"]  # no temporary file left behind


def test_render_all_without_dot_still_writes_sources_then_says_so(acme, acme_results, tmp_path, no_graphviz):
    with pytest.raises(DotNotFound):
        output.render_all(acme, tmp_path, results=acme_results)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"map.dot", "blueprint.dot", "handoffs.dot"} <= names


def test_render_jobs_honour_formats_per_kind_and_per_name(acme, acme_results, tmp_path):
    """Maps and charts take their own formats, and any view or chart its own; planning writes nothing."""
    import os

    kwargs = {"formats": ("svg",), "chart_formats": ("png",), "formats_for": {"overview": ("svg", "png"),
                                                                              "emotion": ("svg", "png")}}
    jobs = output.render_jobs(acme, tmp_path, acme_results, **kwargs)
    paths = [p for job in jobs for p in job.paths]
    assert [os.path.basename(p) for p in paths] == [
        "map.svg", "overview.svg", "overview.png", "blueprint.svg", "handoffs.svg",
        "emotion.svg", "emotion.png", "cycle_time.png", "stage_breakdown.png", "utilisation.png"]
    assert set(paths) <= set(output.planned_files(acme, tmp_path, True, **kwargs))
    assert list(tmp_path.iterdir()) == []


def test_render_jobs_pickle_and_a_process_pool_writes_what_one_process_writes(acme, acme_results, tmp_path):
    """The jobs cross to worker processes; the files and the list of paths are the same either way."""
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    jobs = output.render_jobs(acme, tmp_path, acme_results, formats=("dot",), chart_formats=("svg",))
    assert pickle.loads(pickle.dumps(jobs)) == jobs
    alone = output.render_all(acme, tmp_path / "alone", acme_results, formats=("dot",), chart_formats=("svg",))
    with ProcessPoolExecutor(1) as pool:
        pooled = output.render_all(acme, tmp_path / "pool", acme_results, formats=("dot",), chart_formats=("svg",),
                                   executor=pool)
    names = [p.rsplit("/", 1)[-1] for p in alone]
    assert names == ["map.dot", "overview.dot", "blueprint.dot", "handoffs.dot", "emotion.svg", "cycle_time.svg",
                     "stage_breakdown.svg", "utilisation.svg"]
    assert [p.rsplit("/", 1)[-1] for p in pooled] == names
    for a, b in zip(alone[:4], pooled[:4], strict=True):
        assert open(a, encoding="utf-8").read() == open(b, encoding="utf-8").read()


@needs_dot
@pytest.mark.exe
def test_png_resolution_drops_for_huge_drawings():
    """A huge map's PNG is drawn at a lower resolution, so it stays under MAX_PNG_PIXELS."""
    small = "digraph { a -> b }\n"
    huge = "// size: 20000 x 20000 pt\n" + small

    def width(png: bytes) -> int:
        return int.from_bytes(png[16:20], "big")  # the IHDR chunk

    assert output.png_dpi(small) == output.PNG_DPI and output.png_dpi(huge) < output.PNG_DPI / 4
    ratio = width(output.run_dot(huge, "png")) / width(output.run_dot(small, "png"))
    assert ratio == pytest.approx(output.png_dpi(huge) / output.PNG_DPI, abs=0.05)


@needs_dot
@pytest.mark.exe
def test_graphviz_failure_is_a_render_error_with_its_message():
    with pytest.raises(output.RenderError, match=r"Graphviz failed to draw the SVG: .*syntax error"):
        output.run_dot("digraph { a -> }", "svg")
    with pytest.raises(ValueError, match=r"unknown format: 'gif' \(must be one of svg, png, pdf\)"):
        output.run_dot("digraph { a }", "gif")


@needs_dot
@pytest.mark.exe
def test_a_dot_job_draws_what_run_dot_draws_and_can_be_stopped():
    source = "digraph { a -> b }"
    assert output.DotJob(source, "svg").result() == output.run_dot(source, "svg")
    with pytest.raises(output.RenderError, match=r"Graphviz failed to draw the SVG: .*syntax error"):
        output.DotJob("digraph { a -> }", "svg").result()
    job = output.DotJob(source, "svg")
    job.stop()
    with pytest.raises(output.DrawingStopped):
        job.result()


def test_a_dot_job_without_graphviz_says_how_to_install_it(no_graphviz):
    with pytest.raises(DotNotFound):
        output.DotJob("digraph { a }", "svg")


# --------------------------------------------------------------------------- rendered files (need dot)


@needs_dot
@pytest.mark.exe
@pytest.mark.parametrize("path", EXAMPLES, ids=example_ids())
def test_every_example_renders(path, tmp_path):
    import xml.etree.ElementTree as ET

    j = load_journey(path)
    res = fake_results(j)
    drawn = {"map": {s.id for s in j.steps}, "blueprint": {s.id for s in j.steps},
             "handoffs": {d.id for d in j.departments}, "overview": {"_overview"}}
    for view in rdot.JOURNEY_VIEWS:
        svg = output.run_dot(rdot.journey_dot(j, view, res), "svg")
        assert svg.lstrip().startswith(b"<?xml") and b"</svg>" in svg
        # well-formed, and every step (department, table) is a node of the drawing: Graphviz titles each node
        titles = {t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}title")}
        assert drawn[view] <= titles, f"{view}: {sorted(drawn[view] - titles)[:5]} not drawn"


@needs_dot
@pytest.mark.exe
def test_render_all_writes_pngs_and_svgs(acme, acme_results, tmp_path):
    paths = output.render_all(acme, tmp_path, results=acme_results)
    names = {p.rsplit("/", 1)[-1] for p in paths}
    for stem in ("map", "overview", "blueprint", "handoffs", "cycle_time", "stage_breakdown", "utilisation", "emotion"):
        assert {f"{stem}.svg", f"{stem}.png"} <= names
    png = (tmp_path / "map.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing half-written or temporary left over
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".journeymap-")]


@needs_dot
@pytest.mark.exe
def test_layout_lines_up_with_background_bands(acme):
    """neato shifts drawings to (0, 0); the frame corners keep the shift nil so the bands stay under their steps."""
    svg = output.run_dot(rdot.blueprint_dot(acme), "svg").decode()
    m = re.search(r'class="graph" transform="scale\(1 1\) rotate\(0\) translate\(([\d.]+) ([\d.]+)\)"', svg)
    assert m and float(m.group(1)) < 30  # only the pad, no layout shift


def test_one_stage_close_up_keeps_only_that_stage():
    from journeymap.validation import load_journey

    journey = load_journey(ROOT / "journeys" / "insurance-before.yaml")
    part = journey.only_stages(["underwrite"])
    assert {s.stage for s in part.steps} == {"underwrite"} and [st.id for st in part.stages] == ["underwrite"]
    assert all(f.source in part.step_by_id and f.target in part.step_by_id for f in part.flows)
    src = rdot.journey_dot(part, "map")
    assert "1 stage \u00b7" in src and "UNDERWRITE" in src.upper() and "APPLY" not in src
    close = rdot.journey_dot(journey, "map", stages=["underwrite"])
    assert "Close-up of 1 stage of 5" in close and "Close-up" not in rdot.journey_dot(journey, "map")


def test_banner_shows_where_the_time_goes_beside_the_bottleneck(acme):
    """as docs/simulation.md defines it: queueing vs inbox vs work beside the badge, so it never points at a queue
    while time sits in inboxes."""
    src = rdot.map_dot(acme, results=contract_results(acme))
    title = next(ln for ln in src.splitlines() if ln.strip().startswith("_title"))
    assert "Where the time goes, per case: staff work 10.0h" in title
    assert "queueing 2.1d" in title and "inbox delay 16.7d" in title and "customer time 8.3h" in title
    assert "queueing" in title.split("department share of waiting")[1]  # the department's own split


def test_unsteady_design_is_flagged_in_the_title(acme):
    res = contract_results(acme)
    assert "NOT STEADY" not in rdot.map_dot(acme, results=res)
    res["stability"] = {"steady": False, "overloaded": [{"department": "security", "utilisation": 2.52}],
                        "growing": True,
                        "message": "Security is loaded at 252% of its capacity: queues grow without end.",
                        "hint": "Write elapsed time as a flow delay: instead of duration."}
    for view in ("map", "blueprint", "overview"):
        src = rdot.journey_dot(acme, view, res)
        assert "NOT STEADY" in src and "252% of its capacity" in src and "flow delay" in src


def test_simulated_steps_keep_the_fill_the_legend_describes(acme):
    """Shading used to replace the role fills: customer actions were drawn white where the legend says yellow."""
    from journeymap.rendering import palette

    plain = rdot.map_dot(acme)
    shaded = rdot.map_dot(acme, results=contract_results(acme))
    fill = re.compile(r'^\s*"((?!lane:|stage:)[^"]+)" \[.*?fillcolor="(#[0-9A-F]+)"', re.M)
    assert dict(fill.findall(plain)) == dict(fill.findall(shaded))
    assert palette.CUSTOMER_FILL in dict(fill.findall(shaded)).values()
    assert "step share" in shaded.split("_legend")[1].split("\n")[0]


def test_legend_shows_cross_department_rework_in_vermillion(acme):
    from journeymap.rendering import palette

    legend = next(ln for ln in rdot.map_dot(acme).splitlines() if ln.strip().startswith("_legend"))
    assert f'COLOR="{palette.REWORK}"' in legend and "rework loop" in legend
    row = next(r for r in legend.split("<TR>") if "crosses departments" in r)
    assert f'COLOR="{palette.HANDOFF}"' in row and "dashed vermillion" in row


INSURANCE = ROOT / "journeys" / "insurance-before.yaml"


@pytest.mark.parametrize("view", ["map", "blueprint"])
def test_close_up_keeps_the_whole_journeys_numbers_and_values(view):
    """as docs/simulation.md defines it: H1 in a --stage close-up is H1 on the map, with the same time lost."""
    j = load_journey(INSURANCE)
    res = contract_results(j)
    whole = handoff_labels(rdot.journey_dot(j, view, res))
    assert len(whole) == len(handoffs(build_graph(j)))
    for stage in ("underwrite", "quote"):
        part = handoff_labels(rdot.journey_dot(j, view, res, stages=[stage]))
        assert part and all(whole[k] == v for k, v in part.items())
        assert any(int(v[0][1:]) > 1 for v in part.values())  # not renumbered from 1
    with pytest.raises(ValueError, match="no stage 'nope'"):
        rdot.journey_dot(j, view, res, stages=["nope"])


# --------------------------------------------------------------------------- a room can read it (needs dot)


def svg_measure(svg: str) -> tuple[float, float]:
    """(aspect ratio, smallest text in pixels) of an SVG drawn as large as fits on a 1920 x 1080 screen.

    The scale comes from the viewBox (user units), the text from every ``font-size`` in it.
    """
    vb = re.search(r'viewBox="([\d.\-]+) ([\d.\-]+) ([\d.]+) ([\d.]+)"', svg)
    assert vb, "no viewBox"
    w, h = float(vb.group(3)), float(vb.group(4))
    sizes = [float(x) for x in re.findall(r'font-size="([\d.]+)"', svg)]
    assert sizes, "no text"
    return w / h, min(sizes) * min(1920 / w, 1080 / h)


def _subjects():
    from helpers import SUBJECTS

    from journeymap.loading import load_subject

    for path in SUBJECTS:
        journey, _, account = load_subject(str(path))
        yield pytest.param(journey, id=path.name)


@needs_dot
@pytest.mark.exe
@pytest.mark.parametrize("journey", list(_subjects()))
def test_a_room_can_read_it(journey):
    """The overview fits a 16:9 screen with text >= 14 px at 1920 x 1080; no whole map is wider than 3:1."""
    res = contract_results(journey)
    aspect, smallest = svg_measure(output.run_dot(rdot.journey_dot(journey, "overview", res), "svg").decode())
    assert smallest >= 14, f"overview text {smallest:.1f} px at 1920x1080"
    assert aspect <= 16 / 9 + 0.01, f"overview is {aspect:.2f}:1, wider than a 16:9 screen"
    views = ["map", "blueprint", "handoffs"] + (["personas"] if rdot.is_account_journey(journey) else [])
    for view in views:
        aspect, _ = svg_measure(output.run_dot(rdot.journey_dot(journey, view, res), "svg").decode())
        assert aspect <= 3.0, f"{view} is {aspect:.1f}:1"


def test_account_overview_is_one_row_per_persona_with_gates():
    from journeymap.loading import load_subject

    journey, _, account = load_subject(str(ROOT / "journeys" / "acme-account.yaml"))
    src = rdot.journey_dot(journey, "overview")
    assert len(journey.steps) > 100 and "persona" in src
    for p in account.personas:
        assert rdot.escape_html(p.journey.persona.name[:12]) in src
    for gate in account.gates:
        assert f"gate: {rdot.escape_html(gate.name)}" in src
    assert src.count(" -> ") == 0  # a table, not 104 boxes


def test_flow_labels_are_drawn_over_every_line():
    """Edge labels were crossed by edges drawn after them; as nodes beside their lines they are drawn last."""
    j = load_journey(INSURANCE)
    src = rdot.map_dot(j, results=contract_results(j))
    labels = flow_labels(src)
    as_nodes = [k for k, v in labels.items() if 'class="label"' in v]
    assert len(as_nodes) >= 0.9 * len(labels), f"only {len(as_nodes)} of {len(labels)} labels are nodes"
    assert 'outputorder="edgesfirst"' in src  # Graphviz draws every line, then every node


@needs_dot
@pytest.mark.exe
def test_no_line_is_drawn_over_a_label():
    j = load_journey(INSURANCE)
    svg = output.run_dot(rdot.map_dot(j, results=contract_results(j)), "svg").decode()
    last_edge = max(m.start() for m in re.finditer(r'class="edge', svg))
    first_label = min(m.start() for m in re.finditer(r'class="node label"|class="label"', svg))
    assert first_label > last_edge


@needs_dot
@pytest.mark.exe
@pytest.mark.parametrize("name", ["insurance-before.yaml", "acme-finance-exec.yaml"])
def test_no_line_is_drawn_over_a_handoff_label(name):
    """The handoff network's labels were dot's edge labels, crossed by other arrows; now each is a node on its
    arrow's path, drawn after every line, one per direction of handoffs, and the network is at most 3:1."""
    j = load_journey(ROOT / "journeys" / name)
    src = rdot.journey_dot(j, "handoffs", contract_results(j))
    svg = output.run_dot(src, "svg").decode()
    last_edge = max(m.start() for m in re.finditer(r'class="edge', svg))
    labels = [m.start() for m in re.finditer(r'class="node label"|class="label"', svg)]
    assert labels and min(labels) > last_edge
    assert len(labels) == src.count("label of the handoffs")
    assert svg_measure(svg)[0] <= 3.0
