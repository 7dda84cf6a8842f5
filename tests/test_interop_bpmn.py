"""BPMN and Prosimos export (journeymap/interop/bpmn.py, prosimos.py), checked against their real consumers.

* the OMG BPMN 2.0 XSD (the schema files the SpiffWorkflow package ships), read with lxml, and
  SpiffWorkflow's own BPMN parser;
* bpmn-js (the library inside bpmn.io and Camunda Modeler) in headless Chromium: installed from npm into
  the git-ignored ``.cache/bpmn-js`` by the fixture; the import must give no warnings, every element a
  shape, no two shapes overlapping. The test also takes docs/images/interop-bpmn.png (when
  ``JOURNEYMAP_DOCS_IMAGES`` names the folder);
* Prosimos (``@pytest.mark.slow``), installed with pip into its own virtualenv ``.cache/prosimos-venv``:
  it simulates the exported scenario and its mean cycle time must agree with journeymap's.

Fixtures install what is missing; without network the tests skip and say why.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from helpers import find_npm

from journeymap import load_journey
from journeymap.interop.bpmn import BPMN_NS, JM_NS, build_model, export_bpmn, iso_duration, layout
from journeymap.model import CUSTOMER

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
JOURNEYS = ("insurance-before", "insurance-after", "acme-cio", "acme-lob-exec")
NS = {"bpmn": BPMN_NS, "jm": JM_NS}
BPMN_JS_VERSION = "18.31.1"


@pytest.fixture(scope="module", params=JOURNEYS)
def exported(request):
    """(journey, its BPMN text) for each bundled journey."""
    journey = load_journey(ROOT / "journeys" / f"{request.param}.yaml")
    return journey, export_bpmn(journey)


def _tree(text: str):
    etree = pytest.importorskip("lxml.etree")
    return etree.fromstring(text.encode())


# ------------------------------------------------------------------------------------ XSD and SpiffWorkflow

def test_export_is_valid_against_the_bpmn_xsd(exported):
    etree = pytest.importorskip("lxml.etree")
    parser_pkg = pytest.importorskip("SpiffWorkflow.bpmn.parser")
    schema = etree.XMLSchema(etree.parse(str(Path(parser_pkg.__file__).parent / "schema" / "BPMN20.xsd")))
    doc = _tree(exported[1])
    assert schema.validate(doc), [str(e) for e in schema.error_log][:5]


def test_spiffworkflow_parses_the_process(exported):
    bpmn_parser = pytest.importorskip("SpiffWorkflow.bpmn.parser.BpmnParser")
    journey, text = exported
    parser = bpmn_parser.BpmnParser(validator=bpmn_parser.BpmnValidator())
    parser.add_bpmn_str(text.encode())
    ids = parser.get_process_ids()
    assert ids == [f"Process_{journey.id}"]
    spec = parser.get_spec(ids[0])
    names = {t.bpmn_name for t in spec.task_specs.values() if getattr(t, "bpmn_name", None)}
    assert {s.name for s in journey.steps} <= names


# ------------------------------------------------------------------------------------ what the export keeps

def _flow_graph(doc):
    """The process as {node id: [target ids]} with each node's tag, read back from the XML."""
    process = doc.find("bpmn:process", NS)
    kinds = {el.get("id"): el.tag.split("}")[1] for el in process if el.get("id") and el.tag.split("}")[1]
             not in ("laneSet", "sequenceFlow", "documentation")}
    succ: dict[str, list[str]] = defaultdict(list)
    for f in process.findall("bpmn:sequenceFlow", NS):
        succ[f.get("sourceRef")].append(f.get("targetRef"))
    return kinds, succ


def test_export_keeps_every_step_department_and_flow(exported):
    """Contract the gateways and timer events: the tasks and their links are exactly the journey's steps
    and flows; the start event leads to the start step and the end events follow the end steps."""
    journey, text = exported
    doc = _tree(text)
    kinds, succ = _flow_graph(doc)
    step_of = {}
    for el in doc.iter():
        ext = el.find("bpmn:extensionElements/jm:step", NS)
        if ext is not None:
            step_of[el.get("id")] = ext.get("id")
    assert sorted(step_of.values()) == sorted(s.id for s in journey.steps)

    def reached(node: str) -> set[str]:
        out, todo, seen = set(), list(succ[node]), set()
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in step_of:
                out.add(step_of[n])
            elif kinds[n] == "endEvent":
                out.add("<end>")
            else:
                todo.extend(succ[n])
        return out

    links = {(step_of[t], n) for t in step_of for n in reached(t)}
    expected = {(f.source, f.target) for f in journey.flows} | {(e, "<end>") for e in journey.ends}
    assert links == expected
    start = [k for k, v in kinds.items() if v == "startEvent"]
    assert len(start) == 1 and reached(start[0]) == {journey.start}
    lanes = {lane.get("name") for lane in doc.iterfind(".//bpmn:lane", NS)}
    assert lanes == {d.name for d in journey.departments} | {f"Customer: {journey.persona.name}"}
    # every task sits in its owner's lane
    for lane in doc.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text in step_of:
                owner = journey.step_by_id[step_of[ref.text]].owner
                want = f"Customer: {journey.persona.name}" if owner == CUSTOMER else \
                    journey.department_by_id[owner].name
                assert lane.get("name") == want


def test_choices_carry_their_probabilities_and_delays_are_timers(exported):
    journey, text = exported
    doc = _tree(text)
    process = doc.find("bpmn:process", NS)
    by_pair = {}
    for f in process.iterfind("bpmn:sequenceFlow", NS):
        ext = f.find("bpmn:extensionElements/jm:flow", NS)
        if ext is not None:
            by_pair[(ext.get("source"), ext.get("target"))] = (f, ext)
    assert set(by_pair) == {(f.source, f.target) for f in journey.flows}
    splits = {g.get("id"): g for g in process.iterfind("bpmn:exclusiveGateway", NS)
              if g.get("gatewayDirection") == "Diverging"}
    for flow in journey.flows:
        el, ext = by_pair[(flow.source, flow.target)]
        assert float(ext.get("probability")) == pytest.approx(flow.probability)
        assert ext.get("rework") == str(flow.rework).lower()
        several = len(journey.flows_from[flow.source]) > 1 and journey.step_by_id[flow.source].join is None
        assert (el.get("sourceRef") in splits) == several
        if several:
            assert f"{flow.probability:.0%}" in el.get("name")
        if flow.delay is not None:  # the first segment goes into a timer whose duration is the mean delay
            timer = process.find(f"bpmn:intermediateCatchEvent[@id='{el.get('targetRef')}']", NS)
            duration = timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS).text
            assert duration == iso_duration(flow.delay.mean)
    for gid, g in splits.items():  # one default (the likeliest), a condition on every other branch
        outs = [f for f in process.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == gid]
        assert g.get("default") in {f.get("id") for f in outs}
        assert all((f.find("bpmn:conditionExpression", NS) is None) == (f.get("id") == g.get("default"))
                   for f in outs)
        assert sum(float(f.find("bpmn:extensionElements/jm:flow", NS).get("probability")) for f in outs) == \
            pytest.approx(1.0)


def test_forks_become_parallel_gateways_and_tasks_are_documented(exported):
    journey, text = exported
    doc = _tree(text)
    process = doc.find("bpmn:process", NS)
    forks = [s for s in journey.steps if s.join is not None]
    assert len(process.findall("bpmn:parallelGateway[@gatewayDirection='Diverging']", NS)) == len(forks)
    assert len(process.findall("bpmn:parallelGateway[@gatewayDirection='Converging']", NS)) == len(forks)
    for s in journey.steps:
        task = process.find(f".//jm:step[@id='{s.id}']/../..", NS)
        text = task.find("bpmn:documentation", NS).text
        assert f"Moment of truth: {'yes' if s.moment_of_truth else 'no'}" in text
        assert f"Channel: {s.channel or 'none'}" in text
        assert ("Touchpoint: yes" in text) == s.is_touchpoint
        if s.emotion is not None:
            assert f"Emotion: {s.emotion:g}" in text
        assert task.tag.split("}")[1] == ("manualTask" if s.owner == CUSTOMER and s.channel not in
                                          ("web", "portal", "app") else "userTask")


@pytest.mark.parametrize("name", JOURNEYS)
def test_layout_places_shapes_left_to_right_in_lanes_without_overlap(name):
    journey = load_journey(ROOT / "journeys" / f"{name}.yaml")
    model = build_model(journey)
    lay = layout(model)
    boxes = list(lay.nodes.items())
    for i, (a, p) in enumerate(boxes):
        lane = lay.lanes[model.node_by_id[a].lane]
        assert lane.y <= p.y and p.y + p.height <= lane.y + lane.height, a
        for b, q in boxes[i + 1:]:
            assert p.x + p.width <= q.x or q.x + q.width <= p.x or p.y + p.height <= q.y or q.y + q.height <= p.y, \
                (a, b)
    # flow order: along every edge that is not a loop back, the target is further right
    forward = [e for e in model.edges if lay.columns[e.target] > lay.columns[e.source]]
    assert len(forward) >= len(model.edges) - sum(f.rework for f in journey.flows) - 5
    for e in forward:
        assert lay.nodes[e.target].x > lay.nodes[e.source].x
    for e in model.edges:
        assert len(lay.waypoints[e.id]) >= 2


def test_iso_durations():
    assert iso_duration(0) == "PT0S"
    assert iso_duration(90) == "PT1H30M"
    assert iso_duration(2 * 1440) == "P2D"
    assert iso_duration(1440 + 0.5) == "P1DT30S"


# --------------------------------------------------------------------------------------------- bpmn.io

@pytest.fixture(scope="session")
def bpmn_js() -> Path:
    """bpmn-js's viewer bundle, installed from npm into .cache/bpmn-js (git-ignored) when missing."""
    folder = CACHE / "bpmn-js"
    bundle = folder / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"
    if bundle.exists():
        return bundle
    npm = find_npm()
    if npm is None:
        pytest.skip("npm is not installed (Debian: apt-get install npm) and installing it needs root and apt-get; "
                    "it installs bpmn-js for this test")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text('{"private": true}\n')
    proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", f"bpmn-js@{BPMN_JS_VERSION}"], cwd=folder,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not bundle.exists():
        pytest.skip(f"could not install bpmn-js from npm (exit {proc.returncode}): {proc.stderr[-300:]}")
    return bundle


_CHECK = """
(async () => {
  const viewer = new BpmnJS({container: '#canvas'});
  let warnings = [], error = null;
  try { warnings = (await viewer.importXML(XML)).warnings.map(w => w.message); }
  catch (e) { error = e.message; warnings = (e.warnings || []).map(w => w.message); }
  const registry = viewer.get('elementRegistry');
  const shapes = registry.filter(e => !e.waypoints && e.type !== 'label' && e.type !== 'bpmn:Process'
                                      && e.type !== 'bpmn:Collaboration')
    .map(e => ({id: e.id, type: e.type, x: e.x, y: e.y, width: e.width, height: e.height}));
  const edges = registry.filter(e => e.waypoints).map(e => ({id: e.id, n: e.waypoints.length}));
  window.viewer = viewer;
  window.result = {warnings, error, shapes, edges};
})();
"""


def _page(tmp_path: Path, bundle: Path, xml: str) -> Path:
    page = tmp_path / "view.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>html,body,#canvas{margin:0;width:100%;height:100%;background:#fff}</style></head>"
        f"<body><div id='canvas'></div><script src='{bundle.as_uri()}'></script>"
        f"<script>const XML = {json.dumps(xml)};{_CHECK}</script></body></html>")
    return page


@pytest.mark.browser
@pytest.mark.parametrize("name", ["insurance-before", "insurance-after"])
def test_bpmn_js_imports_without_warnings_and_nothing_overlaps(chromium, bpmn_js, tmp_path, name):
    from browser import Tab, docs_image

    journey = load_journey(ROOT / "journeys" / f"{name}.yaml")
    xml = export_bpmn(journey)
    doc = _tree(xml)
    node_ids = {el.get("id") for el in doc.find("bpmn:process", NS)
                if el.get("id") and el.tag.split("}")[1] not in ("laneSet", "sequenceFlow")}
    flow_ids = {el.get("id") for el in doc.iterfind(".//bpmn:sequenceFlow", NS)}
    lane_ids = {el.get("id") for el in doc.iterfind(".//bpmn:lane", NS)}
    with Tab(chromium, tmp_path / "chrome", width=1600, height=900) as tab:
        tab.open(_page(tmp_path, bpmn_js, xml).as_uri())
        tab.wait_until("window.result !== undefined", timeout=20)
        result = tab.evaluate("window.result")
        assert result["error"] is None
        assert result["warnings"] == []
        assert tab.errors() == []
        shapes = {s["id"]: s for s in result["shapes"]}
        assert node_ids | lane_ids <= set(shapes)  # every flow node and lane placed
        assert {e["id"] for e in result["edges"]} == flow_ids and all(e["n"] >= 2 for e in result["edges"])
        nodes = [shapes[i] for i in sorted(node_ids)]
        for s in nodes:
            assert all(isinstance(s[k], (int, float)) and math.isfinite(s[k]) for k in ("x", "y", "width", "height"))
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                         or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
                assert apart, (a["id"], b["id"])
        if name == "insurance-before":  # the picture in docs/interop.md: the apply stage, readable
            tab.evaluate("window.viewer.get('canvas').viewbox({x: 0, y: 0, width: 2200, height: 1240})")
            png = tab.screenshot()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000
            (tmp_path / "interop-bpmn.png").write_bytes(png)
            docs_image("interop-bpmn.png", png)  # JOURNEYMAP_DOCS_IMAGES=docs/images: the picture in the docs


# --------------------------------------------------------------------------------------------- Prosimos

PROSIMOS_VERSION = "2.1.0"


def _reference(name: str = "insurance-before"):
    """A bundled journey as Prosimos can run it: around the clock (Prosimos calendars have no holidays or time
    zones) and without the day-one backlog (Prosimos starts empty)."""
    from dataclasses import replace

    journey = load_journey(ROOT / "journeys" / f"{name}.yaml").around_the_clock()
    return replace(journey, workload=replace(journey.workload, backlog=()))


def test_prosimos_scenario_carries_durations_pools_and_probabilities(tmp_path):
    from journeymap.interop.prosimos import customer_pool_size, export_prosimos

    journey = _reference()
    paths = export_prosimos(journey, str(tmp_path / "out"))
    assert [Path(p).name for p in paths] == [f"{journey.id}.bpmn", f"{journey.id}.json"]
    params = json.loads(Path(paths[1]).read_text())
    doc = _tree(Path(paths[0]).read_text())
    process = doc.find("bpmn:process", NS)
    assert process.find("bpmn:userTask", NS) is None and process.find("bpmn:manualTask", NS) is None
    tasks = {t.get("id"): t.find("bpmn:extensionElements/jm:step", NS).get("id")
             for t in process.iterfind("bpmn:task", NS)}
    assert sorted(tasks.values()) == sorted(s.id for s in journey.steps)
    pools = {p["resource_list"][0]["id"]: p["resource_list"][0] for p in params["resource_profiles"]}
    assert {d.id: d.capacity for d in journey.departments} == {k: v["amount"] for k, v in pools.items()
                                                              if k != "customer"}
    assert pools["customer"]["amount"] == customer_pool_size(journey) >= 10
    for entry in params["task_resource_distribution"]:  # the mean survives, in seconds, whatever the family
        step = journey.step_by_id[tasks[entry["task_id"]]]
        (res,) = entry["resources"]
        assert res["resource_id"] == step.owner and entry["task_id"] in pools[step.owner]["assignedTasks"]
        values = [p["value"] for p in res["distribution_params"]]
        name = res["distribution_name"]
        mean = {"fix": values[0], "expon": values[0], "uniform": sum(values[:2]) / 2,
                "gamma": values[0], "lognorm": values[0]}[name]
        assert mean == pytest.approx(step.duration.mean * 60, rel=1e-6)
    timers = {t.get("id") for t in process.iterfind("bpmn:intermediateCatchEvent", NS)}
    assert {e["event_id"] for e in params["event_distribution"]} == timers
    assert len(timers) == sum(f.delay is not None for f in journey.flows)
    flows = {f.get("id"): f.find("bpmn:extensionElements/jm:flow", NS)
             for f in process.iterfind("bpmn:sequenceFlow", NS)}
    for g in params["gateway_branching_probabilities"]:
        assert sum(p["value"] for p in g["probabilities"]) == pytest.approx(1.0)
        for p in g["probabilities"]:
            ext = flows[p["path_id"]]
            want = next(f.probability for f in journey.flows if (f.source, f.target) == (ext.get("source"),
                                                                                          ext.get("target")))
            assert p["value"] == pytest.approx(want)
    assert params["arrival_time_distribution"]["distribution_name"] == "expon"
    assert params["arrival_time_distribution"]["distribution_params"][0]["value"] == pytest.approx(
        journey.workload.arrivals.gap * 60)


@pytest.fixture(scope="session")
def prosimos() -> Path:
    """The ``prosimos`` command, pip-installed into its own virtualenv .cache/prosimos-venv when missing."""
    venv = CACHE / "prosimos-venv"
    exe = venv / "bin" / "prosimos"
    if exe.exists():
        return exe
    if sys.version_info >= (3, 12):
        pytest.skip(f"Prosimos {PROSIMOS_VERSION} needs Python < 3.12")
    proc = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if proc.returncode == 0:
        proc = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"prosimos=={PROSIMOS_VERSION}"],
                              capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0 or not exe.exists():
        shutil.rmtree(venv, ignore_errors=True)
        pytest.skip(f"could not install Prosimos with pip (exit {proc.returncode}): {proc.stderr[-300:]}")
    return exe


def _prosimos_cycle_times(log: Path) -> list[float]:
    """Each case's cycle time in minutes from a Prosimos log: first enablement to last completion."""
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    with log.open(newline="") as fh:
        for row in csv.DictReader(fh):
            case = row["case_id"]
            enabled, ended = datetime.fromisoformat(row["enable_time"]), datetime.fromisoformat(row["end_time"])
            first[case] = min(first.get(case, enabled), enabled)
            last[case] = max(last.get(case, ended), ended)
    return [(last[c] - first[c]).total_seconds() / 60 for c in first]


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    "insurance-before",  # rework loops through four departments, 25 timers, 11 choices
    "insurance-after",   # two parallel blocks, one with a branch that branches again
])
def test_prosimos_agrees_with_journeymap_on_the_mean_cycle_time(prosimos, tmp_path, name):
    """Five replications of 200 cases in each simulator: the two 95% confidence intervals of the mean
    cycle time (Student t over replication means) must overlap. With equal true means they fail to
    overlap far less often than 1 time in 100; a wrong mapping (a lost rework loop, a delay in hours
    instead of days, a department of the wrong size) moves Prosimos' mean by more than a day, well
    outside (journeymap's interval is about +-1 day wide for insurance-before, +-0.3 day for -after)."""
    from journeymap.interop.prosimos import export_prosimos
    from journeymap.simulation import simulate
    from journeymap.statistics import t_interval

    journey, cases, reps = _reference(name), 200, 5
    bpmn, params = export_prosimos(journey, str(tmp_path / "scenario"))
    runs = []
    for r in range(reps):  # two at a time: the machines that run the suite have two cores
        out = tmp_path / f"run{r}"
        out.mkdir()
        runs.append((out, subprocess.Popen(
            [str(prosimos), "start-simulation", "--bpmn_path", bpmn, "--json_path", params, "--total_cases",
             str(cases), "--log_out_path", str(out / "log.csv"), "--stat_out_path", str(out / "stats.csv"),
             "--starting_at", "2027-01-04T09:00:00+00:00"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)))
        if len(runs) % 2 == 0 or r == reps - 1:
            for _, proc in runs[-2:]:
                err = proc.communicate(timeout=300)[1]
                assert proc.returncode == 0, err[-500:]
    theirs = [statistics.fmean(_prosimos_cycle_times(out / "log.csv")) for out, _ in runs]
    assert all(len(_prosimos_cycle_times(out / "log.csv")) == cases for out, _ in runs)
    ours = simulate(journey, cases=cases, replications=reps, seed=7).summary["replication_means"]["cycle_time"]
    lo_t, hi_t = t_interval(theirs)
    lo_o, hi_o = t_interval(ours)
    print(f"\nProsimos mean cycle time {statistics.fmean(theirs) / 1440:.2f} d [{lo_t / 1440:.2f}, {hi_t / 1440:.2f}]"
          f", journeymap {statistics.fmean(ours) / 1440:.2f} d [{lo_o / 1440:.2f}, {hi_o / 1440:.2f}]")
    assert lo_t is not None and hi_t is not None and lo_o is not None and hi_o is not None
    assert lo_t <= hi_o and lo_o <= hi_t, "the two confidence intervals do not overlap (printed above)"


def test_awkward_ids_empty_branches_and_branching_branches(write_journey):
    """Timer ids that would meet (a_b -> c and a -> b_c), an empty parallel branch with a delay (fork straight
    to the join), a branch that branches before the join, and a loop back to the start step."""
    from helpers import J

    path = write_journey(J("""
        - {id: a, stage: a, owner: customer, duration: 10min, next: {to: b_c, delay: 1h}}
        - {id: b_c, stage: a, owner: sales, duration: 1h, next: {to: a_b, delay: 2h}}
        - id: a_b
          stage: a
          owner: sales
          duration: 1h
          next: {parallel: [{to: c, delay: 1h}, {to: x, delay: 30min}, y], join: c}
        - id: x
          stage: b
          owner: ops
          duration: 1h
          next: [{to: c, probability: 0.5}, {to: y2, probability: 0.5}]
        - {id: y2, stage: b, owner: ops, duration: 1h, next: c}
        - {id: y, stage: b, owner: sales, duration: 1h, next: c}
        - id: c
          stage: b
          owner: ops
          duration: 1h
          next: [{to: done, probability: 0.9}, {to: a, probability: 0.1, rework: true}]
        - {id: done, stage: b, owner: customer, duration: 5min}
        """))
    journey = load_journey(path)
    text = export_bpmn(journey)
    doc = _tree(text)
    process = doc.find("bpmn:process", NS)
    ids = [el.get("id") for el in doc.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert len(process.findall("bpmn:intermediateCatchEvent", NS)) == 4
    assert {g.get("id") for g in process.iterfind("bpmn:exclusiveGateway", NS)
            if g.get("gatewayDirection") == "Converging"} == {"Gateway_bmerge_c_2", "Gateway_merge_a"}
    join = process.find("bpmn:parallelGateway[@id='Gateway_join_c']", NS)
    assert len(join.findall("bpmn:incoming", NS)) == 3  # one token per branch, the empty one included
    bpmn_parser = pytest.importorskip("SpiffWorkflow.bpmn.parser.BpmnParser")
    parser = bpmn_parser.BpmnParser(validator=bpmn_parser.BpmnValidator())
    parser.add_bpmn_str(text.encode())
    parser.get_spec(parser.get_process_ids()[0])
    lay = layout(build_model(journey))
    boxes = list(lay.nodes.values())
    assert all(p.x + p.width <= q.x or q.x + q.width <= p.x or p.y + p.height <= q.y or q.y + q.height <= p.y
               for i, p in enumerate(boxes) for q in boxes[i + 1:])


def test_prosimos_calendars_are_the_weekly_opening_hours(tmp_path):
    """insurance-before with its calendars: the London office's hours for departments, the exporter's for the
    customer, no weekend; a journey without calendars gets Prosimos' 24/7 calendar."""
    from journeymap.interop.prosimos import ALWAYS, export_prosimos

    journey = load_journey(ROOT / "journeys" / "insurance-before.yaml")
    params = json.loads(Path(export_prosimos(journey, str(tmp_path / "a"))[1]).read_text())
    calendars = {c["id"]: c["time_periods"] for c in params["resource_calendars"]}
    used = {p["resource_list"][0]["id"]: calendars[p["resource_list"][0]["calendar"]]
            for p in params["resource_profiles"]}
    days = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
    assert used["customer"] == [{"from": d, "to": d, "beginTime": "08:30:00.000", "endTime": "17:30:00.000"}
                                for d in days]
    assert used["underwriting"] == [{"from": d, "to": d, "beginTime": a, "endTime": b} for d in days
                                    for a, b in (("09:00:00.000", "12:30:00.000"), ("13:30:00.000", "17:30:00.000"))]
    assert all(used[d.id] == used["underwriting"] for d in journey.departments)
    plain = json.loads(Path(export_prosimos(_reference(), str(tmp_path / "b"))[1]).read_text())
    assert [c["time_periods"] for c in plain["resource_calendars"]] == [ALWAYS]
