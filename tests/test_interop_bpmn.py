"""BPMN and Prosimos export (journeymap/interop/bpmn.py, prosimos.py), checked against their real consumers.

* the OMG BPMN 2.0 XSD (the schema files the SpiffWorkflow package ships), read with lxml, and
  SpiffWorkflow's own BPMN parser;
* bpmn-js (the library inside bpmn.io and Camunda Modeler) in headless Chromium: installed from npm into
  the git-ignored ``.cache/bpmn-js`` by the fixture; the import must give no warnings, every element a
  shape, no two shapes overlapping. The test also takes docs/images/interop-bpmn.png;
* Prosimos (``@pytest.mark.slow``), installed with pip into its own virtualenv ``.cache/prosimos-venv``:
  it simulates the exported scenario and its mean cycle time must agree with journeymap's.

Fixtures install what is missing; without network the tests skip and say why.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

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
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (Debian: apt-get install npm); it installs bpmn-js for this test")
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
    from browser import Tab

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
            (ROOT / "docs" / "images").mkdir(exist_ok=True)
            (ROOT / "docs" / "images" / "interop-bpmn.png").write_bytes(png)
