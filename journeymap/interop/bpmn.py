"""A journey as BPMN 2.0 XML with diagram interchange (BPMNDI), laid out so modellers open it drawn.

Process owners keep their processes in BPMN modellers (bpmn.io, Camunda Modeler, Signavio). This module
writes a journey as one pool (a collaboration with one participant) whose lanes are the customer (top) and
each department, in the file's order. The mapping, step by step:

* each step is a task in its owner's lane: a ``userTask`` for a department's step (people working with
  the organisation's systems), a ``manualTask`` for the customer's own work, a ``userTask`` when the
  customer works in a self-service channel (web, portal, app);
* a step with several next steps ends in a diverging ``exclusiveGateway``; each outgoing sequence flow
  carries its probability (in its name, its ``documentation`` and a ``jm:flow`` extension element);
* a step that several flows enter is entered through a converging ``exclusiveGateway``, so rework goes
  back *through a gateway*, as BPMN style guides ask, instead of a second arrow into the task;
* a fork (``join:`` in the file) ends in a diverging ``parallelGateway``, and its join step is entered
  through a converging one (branches that themselves branch are merged first, so the join never waits
  for a token that cannot come);
* a flow's delay (an inbox, a queue, a committee date) is an ``intermediateCatchEvent`` with a timer
  whose ``timeDuration`` is the mean delay as an ISO 8601 duration; the distribution is in its
  documentation. The timer sits in the receiving lane: the wait belongs to whoever has the inbox;
* one start event before the start step, one end event after each end step;
* each task's ``documentation`` says stage, touchpoint, channel, emotion, moment of truth and duration,
  in words a modeller shows in its properties panel; the ``jm:step`` extension element says the same
  in attributes, for tools (and the tests) to read back.

The layout (BPMNDI) puts lanes as horizontal bands and every element in a column: its longest distance
from the start event in the graph without its back edges (the rework loops, found by a depth-first
search from the start), so the flow reads left to right. Elements of one lane that share a column are
stacked in rows of that lane, which is what keeps shapes from overlapping. Sequence flows get
orthogonal waypoints; back edges run under the shapes, into the bottom of the merge gateway.

The builders are pure: :func:`build_model` (journey -> elements), :func:`layout` (elements ->
coordinates) and :func:`to_xml` (both -> text). :func:`export_bpmn` is the three in a row. The Prosimos
export (:mod:`journeymap.interop.prosimos`) reuses the same model with plain ``task`` elements, the
only kind of task Prosimos reads.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace

import networkx as nx

from ..distributions import Distribution, format_minutes
from ..graph import build_graph, reach
from ..model import CUSTOMER, EMOTION_SCALE, Journey, Step

__all__ = ["BPMN_NS", "BPMNDI_NS", "DC_NS", "DI_NS", "JM_NS", "Node", "Edge", "Model", "Bounds", "Layout",
           "build_model", "layout", "to_xml", "export_bpmn", "iso_duration"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
#: journeymap's own extension namespace (``jm:step``, ``jm:flow``); modellers keep what they do not know.
JM_NS = "https://journeymap.dev/schema/bpmn/1"

#: Channels in which the customer works in the organisation's own software (a user task, not manual work).
SELF_SERVICE = ("web", "portal", "app")

#: Sizes (px) of the shapes, as bpmn.io draws them; tasks are wider than its default 100 x 80 because
#: journey step names are sentences.
SIZE = {"task": (150.0, 90.0), "gateway": (50.0, 50.0), "event": (36.0, 36.0)}
#: Horizontal gap between columns, height of a row in a lane, padding above and below a lane's rows,
#: width of the pool's and of the lanes' label bands.
GAP, ROW, PAD, LABEL = 45.0, 120.0, 15.0, 30.0


@dataclass(frozen=True)
class Node:
    """One BPMN flow node. ``kind`` is its BPMN element name; ``step`` the journey step it stands for."""

    id: str
    kind: str
    name: str
    lane: str
    step: str | None = None
    direction: str | None = None  # gateways: "Diverging" or "Converging"
    documentation: str = ""
    delay: Distribution | None = None  # timer events: the flow's delay
    default: str = ""  # exclusive splits: the id of the most likely flow, taken when no condition holds
    extension: tuple[tuple[str, str], ...] = ()  # jm:step attributes of a task

    @property
    def shape(self) -> str:
        """``task``, ``gateway`` or ``event``: which :data:`SIZE` it has."""
        if self.kind.endswith("Gateway"):
            return "gateway"
        return "event" if self.kind.endswith("Event") else "task"


@dataclass(frozen=True)
class Edge:
    """One sequence flow. The first segment of a journey flow (out of its task or split gateway)
    carries the flow's ``probability`` (exclusive splits only), ``rework`` flag and ``extension``."""

    id: str
    source: str
    target: str
    name: str = ""
    probability: float | None = None
    rework: bool = False
    documentation: str = ""
    extension: tuple[tuple[str, str], ...] = ()
    #: Out of an exclusive split, except its default: ``next_step == 'x'`` (what an engine would test).
    condition: str = ""


@dataclass(frozen=True)
class Model:
    """The BPMN elements of a journey: lanes (id, name) top to bottom, nodes and sequence flows."""

    id: str
    name: str
    documentation: str
    lanes: tuple[tuple[str, str], ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    start: str

    @property
    def node_by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}


@dataclass(frozen=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Layout:
    """Where everything goes: the pool, each lane, each node, and each edge's waypoints."""

    pool: Bounds
    lanes: dict[str, Bounds]
    nodes: dict[str, Bounds]
    waypoints: dict[str, tuple[tuple[float, float], ...]]
    columns: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------- the model

def _ncname(text: str) -> str:
    """An XML ID from a journey id: letters, digits, ``_ . -`` only, not starting with a digit."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", text)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else "_" + cleaned


def iso_duration(minutes: float) -> str:
    """ISO 8601 duration of ``minutes`` to the second (``PT2H30M``; ``P2D`` for two days), as BPMN timers take."""
    seconds = max(0, round(minutes * 60))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    mins, secs = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (mins, "M"), (secs, "S")) if v)
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"


def _lane_id(owner: str) -> str:
    return "Lane_" + _ncname(owner)


def _describe(d: Distribution, basis: str) -> str:
    words = {"elapsed": "elapsed time", "working": "working time", "business": "business days"}[basis]
    return f"{d.describe()} (mean {format_minutes(d.mean)}, {words})"


def _step_doc(journey: Journey, s: Step) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The documentation text and the ``jm:step`` attributes of a step's task."""
    stage = journey.stage_by_id[s.stage].name if s.stage in journey.stage_by_id else s.stage
    emotion = "not recorded" if s.emotion is None else f"{s.emotion:g} ({EMOTION_SCALE.get(round(s.emotion), '')})"
    touch = f"yes ({s.lane})" if s.is_touchpoint else f"no ({s.lane})"
    lines = [f"Stage: {stage}", f"Touchpoint: {touch}", f"Channel: {s.channel or 'none'}", f"Emotion: {emotion}",
             f"Moment of truth: {'yes' if s.moment_of_truth else 'no'}",
             f"Duration: {_describe(s.duration, s.basis)}",
             f"Value adding: {'yes' if s.value_adding else 'no'}"]
    if s.notes:
        lines.append(f"Notes: {s.notes}")
    attrs = [("id", s.id), ("stage", s.stage), ("lane", s.lane), ("owner", s.owner),
             ("touchpoint", str(s.is_touchpoint).lower()), ("momentOfTruth", str(s.moment_of_truth).lower()),
             ("valueAdding", str(s.value_adding).lower()), ("duration", s.duration.describe()),
             ("meanDurationMinutes", f"{s.duration.mean:g}"), ("basis", s.basis)]
    if s.channel:
        attrs.append(("channel", s.channel))
    if s.emotion is not None:
        attrs.append(("emotion", f"{s.emotion:g}"))
    return "\n".join(lines), tuple(attrs)


def _task_kind(s: Step, plain: bool) -> str:
    if plain:
        return "task"
    if s.owner == CUSTOMER and s.channel not in SELF_SERVICE:
        return "manualTask"
    return "userTask"


@dataclass
class _Arrival:
    """A way into a step: the node it comes from, the journey step it started at, and the attributes of
    the edge still to be drawn (only when no split or timer has taken them already)."""

    node: str
    from_step: str | None
    rework: bool = False
    edge: dict = field(default_factory=dict)


class _Builder:
    """Collects nodes and edges with sequential flow ids (one instance per :func:`build_model` call)."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.taken: set[str] = set()

    def node(self, node: Node) -> str:
        """Add ``node``; an id already taken (``Timer_a_b_c`` from a_b -> c and from a -> b_c) gets ``_2``."""
        base, k = node.id, 1
        while node.id in self.taken:
            k += 1
            node = replace(node, id=f"{base}_{k}")
        self.taken.add(node.id)
        self.nodes.append(node)
        return node.id

    def edge(self, source: str, target: str, **attrs) -> None:
        self.edges.append(Edge(f"Flow_{len(self.edges) + 1}", source, target, **attrs))


def _flow_edge_attrs(journey: Journey, f, probability: float | None) -> dict:
    """What the first segment of a journey flow carries: its name (label and probability), documentation
    and ``jm:flow`` attributes."""
    pct = f" ({f.probability:.0%})" if probability is not None else ""
    name = (f.label + pct) if f.label else (pct.strip(" ()") if pct else "")
    doc = [f"From step {f.source} to step {f.target}."]
    if probability is not None:
        doc.append(f"Probability: {f.probability:g}.")
    if f.rework:
        doc.append("Rework: sends the case back to redo earlier work.")
    if f.delay is not None:
        doc.append(f"Delay: {_describe(f.delay, f.delay_basis)}.")
    if journey.is_handoff(f):
        doc.append("Handoff between departments.")
    ext = [("source", f.source), ("target", f.target), ("probability", f"{f.probability:g}"),
           ("rework", str(f.rework).lower()), ("parallel", str(f.parallel).lower()),
           ("handoff", str(journey.is_handoff(f)).lower())]
    if f.delay is not None:
        ext += [("delay", f.delay.describe()), ("meanDelayMinutes", f"{f.delay.mean:g}")]
    return {"name": name, "probability": probability, "rework": f.rework, "documentation": " ".join(doc),
            "extension": tuple(ext)}


def build_model(journey: Journey, *, plain_tasks: bool = False) -> Model:
    """The BPMN elements of ``journey`` (see the module docstring for the mapping).

    ``plain_tasks`` writes every step as a plain ``task`` (Prosimos reads no other kind).
    """
    b = _Builder()
    steps = journey.step_by_id
    arrivals: dict[str, list[_Arrival]] = {s.id: [] for s in journey.steps}
    start = b.node(Node("StartEvent_1", "startEvent", "Case arrives", _lane_id(steps[journey.start].owner)))
    arrivals[journey.start].append(_Arrival(start, None))
    for s in journey.steps:
        doc, ext = _step_doc(journey, s)
        b.node(Node(f"Task_{_ncname(s.id)}", _task_kind(s, plain_tasks), s.name, _lane_id(s.owner), s.id,
                    documentation=doc, extension=ext))
    for s in journey.steps:
        task, outs, lane = f"Task_{_ncname(s.id)}", journey.flows_from.get(s.id, ()), _lane_id(s.owner)
        if s.id in journey.ends:
            end = b.node(Node(f"EndEvent_{_ncname(s.id)}", "endEvent", "Done", lane, s.id))
            b.edge(task, end)
        if not outs:
            continue
        src, choice = task, None
        if s.join is not None:
            src = b.node(Node(f"Gateway_fork_{_ncname(s.id)}", "parallelGateway", "", lane, s.id, "Diverging",
                              documentation=f"All branches run in parallel and meet at {s.join}."))
            b.edge(task, src)
        elif len(outs) > 1:
            src = choice = b.node(Node(f"Gateway_split_{_ncname(s.id)}", "exclusiveGateway", "", lane, s.id,
                                       "Diverging", documentation="One way on, chosen with the flows' probabilities."))
            b.edge(task, src)
        for f in outs:
            attrs = _flow_edge_attrs(journey, f, f.probability if choice else None)
            if f.delay is not None:  # the timer shows the label; the flow into it only the probability
                attrs["name"] = attrs["name"][len(f.label):].strip(" ()") if f.label else attrs["name"]
                target_lane = _lane_id(steps[f.target].owner)
                timer = b.node(Node(f"Timer_{_ncname(f.source)}_{_ncname(f.target)}", "intermediateCatchEvent",
                                    f.label or f"waits {format_minutes(f.delay.mean)}", target_lane,
                                    documentation=f"Waits {_describe(f.delay, f.delay_basis)}.", delay=f.delay))
                b.edge(src, timer, **attrs)
                arrivals[f.target].append(_Arrival(timer, s.id, f.rework))
            else:
                arrivals[f.target].append(_Arrival(src, s.id, f.rework, attrs))
    _enter_steps(journey, b, arrivals)
    _add_conditions(b)
    stage_names = ", ".join(st.name for st in journey.stages)
    doc = (f"{journey.name}. Persona: {journey.persona.name} ({journey.persona.role}). Stages: {stage_names}. "
           f"{journey.description}").strip()
    lanes = ((_lane_id(CUSTOMER), f"Customer: {journey.persona.name}"),) + tuple(
        (_lane_id(d.id), d.name) for d in journey.departments)
    return Model(_ncname(journey.id), journey.name, doc, lanes, tuple(b.nodes), tuple(b.edges), start)


def _add_conditions(b: _Builder) -> None:
    """Make each exclusive split's most likely flow its default and give the others a condition on the
    next step, as engines (SpiffWorkflow, Camunda) require of a diverging exclusive gateway."""
    for i, n in enumerate(b.nodes):
        if n.kind != "exclusiveGateway" or n.direction != "Diverging":
            continue
        outs = [k for k, e in enumerate(b.edges) if e.source == n.id]
        default = max(outs, key=lambda k: (b.edges[k].probability or 0.0, -k))
        b.nodes[i] = replace(n, default=b.edges[default].id)
        for k in outs:
            if k != default:
                target = dict(b.edges[k].extension).get("target", "")
                b.edges[k] = replace(b.edges[k], condition=f"next_step == {target!r}")


def _fork_branches(journey: Journey) -> dict[str, list[set[str]]]:
    """For each join step, the blocks (sets of steps) of the branches of its fork; an empty branch
    (fork straight to join) is the block holding the fork alone."""
    g = build_graph(journey)
    out: dict[str, list[set[str]]] = {}
    for fork in journey.steps:
        if fork.join is None:
            continue
        join = fork.join
        blocks = out.setdefault(join, [])
        for f in journey.flows_from.get(fork.id, ()):
            blocks.append({fork.id} if f.target == join else
                          reach(g.successors, f.target, lambda n, j=join: n != j))
    return out


def _enter_steps(journey: Journey, b: _Builder, arrivals: dict[str, list[_Arrival]]) -> None:
    """Draw the edges into each step: straight in, or through a merge (and, at a join, a parallel join)."""
    branches = _fork_branches(journey)
    for s in journey.steps:
        task, lane, key = f"Task_{_ncname(s.id)}", _lane_id(s.owner), _ncname(s.id)
        inputs = arrivals[s.id]
        if s.id in branches:
            joined = [a for a in inputs if not a.rework]
            inputs = [a for a in inputs if a.rework]
            join = b.node(Node(f"Gateway_join_{key}", "parallelGateway", "", lane, s.id, "Converging",
                               documentation="Waits for every parallel branch."))
            for k, block in enumerate(branches[s.id]):
                group = [a for a in joined if a.from_step in block]
                joined = [a for a in joined if a.from_step not in block]
                if len(group) > 1:  # a branch that branched: merge it before the join counts it
                    merge = b.node(Node(f"Gateway_bmerge_{key}_{k + 1}", "exclusiveGateway", "", lane, s.id,
                                        "Converging"))
                    for a in group:
                        b.edge(a.node, merge, **a.edge)
                    b.edge(merge, join)
                elif group:
                    b.edge(group[0].node, join, **group[0].edge)
            for a in joined:  # not inside any block (should not happen in a valid journey): still drawn
                b.edge(a.node, join, **a.edge)
            inputs = [_Arrival(join, None)] + inputs
        if len(inputs) > 1:
            merge = b.node(Node(f"Gateway_merge_{key}", "exclusiveGateway", "", lane, s.id, "Converging"))
            for a in inputs:
                b.edge(a.node, merge, **a.edge)
            b.edge(merge, task)
        elif inputs:
            b.edge(inputs[0].node, task, **inputs[0].edge)


# ---------------------------------------------------------------------------------------- the layout

def _back_edges(model: Model) -> set[str]:
    """Edges that close a cycle in a depth-first search from the start event (rework loops first in
    line to be cut: a rework flow's edges are visited last, so the main line stays the tree)."""
    out: dict[str, list[Edge]] = {n.id: [] for n in model.nodes}
    for e in model.edges:
        out[e.source].append(e)
    for edges in out.values():
        edges.sort(key=lambda e: e.rework)
    back: set[str] = set()
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    roots = [model.start] + [n.id for n in model.nodes]
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt.target) == 1:
                back.add(nxt.id)
            elif nxt.target not in state:
                state[nxt.target] = 1
                stack.append((nxt.target, iter(out[nxt.target])))
    return back


def layout(model: Model) -> Layout:
    """Coordinates for every lane, node and edge (see the module docstring)."""
    back = _back_edges(model)
    dag = nx.DiGraph()
    dag.add_nodes_from(n.id for n in model.nodes)
    dag.add_edges_from((e.source, e.target) for e in model.edges if e.id not in back)
    order = list(nx.topological_sort(dag))
    column: dict[str, int] = {}
    for n in order:
        column[n] = max((column[p] + 1 for p in dag.predecessors(n)), default=0)
    nodes = model.node_by_id
    ncols = max(column.values(), default=0) + 1
    widths = [0.0] * ncols
    for n in model.nodes:
        widths[column[n.id]] = max(widths[column[n.id]], SIZE[n.shape][0])
    xs, x = [], 2 * LABEL + GAP
    for w in widths:
        xs.append(x)
        x += w + GAP
    total_width = x
    row: dict[str, int] = {}
    cells: dict[tuple[str, int], int] = {}
    for n in order:
        key = (nodes[n].lane, column[n])
        row[n] = cells.get(key, 0)
        cells[key] = row[n] + 1
    rows = {lane: max((c for (ln, _), c in cells.items() if ln == lane), default=1) for lane, _ in model.lanes}
    lanes: dict[str, Bounds] = {}
    y = 0.0
    for lane, _ in model.lanes:
        height = rows[lane] * ROW + 2 * PAD
        lanes[lane] = Bounds(LABEL, y, total_width - LABEL, height)
        y += height
    pool = Bounds(0, 0, total_width, y)
    boxes: dict[str, Bounds] = {}
    for n in model.nodes:
        w, h = SIZE[n.shape]
        c, band = column[n.id], lanes[n.lane]
        boxes[n.id] = Bounds(xs[c] + (widths[c] - w) / 2, band.y + PAD + row[n.id] * ROW + (ROW - h) / 2, w, h)
    waypoints = {e.id: _route(e, boxes, column, xs, lanes, nodes, e.id in back) for e in model.edges}
    return Layout(pool, lanes, boxes, waypoints, column)


def _route(e: Edge, boxes: dict[str, Bounds], column: dict[str, int], xs: list[float], lanes: dict[str, Bounds],
           nodes: dict[str, Node], is_back: bool) -> tuple[tuple[float, float], ...]:
    """Orthogonal waypoints: forward edges leave right (a gateway: up or down towards a target on
    another row) and bend just before the target's column; back edges run under both shapes."""
    s, t = boxes[e.source], boxes[e.target]
    if is_back or column[e.target] <= column[e.source]:
        lane_bottom = max(lanes[nodes[e.source].lane].y + lanes[nodes[e.source].lane].height,
                          lanes[nodes[e.target].lane].y + lanes[nodes[e.target].lane].height)
        under = min(max(s.y + s.height, t.y + t.height) + PAD, lane_bottom - 4)
        return ((s.cx, s.y + s.height), (s.cx, under), (t.cx, under), (t.cx, t.y + t.height))
    if abs(s.cy - t.cy) < 0.5:
        return ((s.x + s.width, s.cy), (t.x, t.cy))
    if nodes[e.source].shape == "gateway":
        y0 = s.y if t.cy < s.cy else s.y + s.height
        return ((s.cx, y0), (s.cx, t.cy), (t.x, t.cy))
    bend = xs[column[e.target]] - GAP / 2
    return ((s.x + s.width, s.cy), (bend, s.cy), (bend, t.cy), (t.x, t.cy))


# ------------------------------------------------------------------------------------------- the XML

def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _sub(parent: ET.Element, tag: str, ns: str = BPMN_NS, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, _q(ns, tag), {k: v for k, v in attrs.items() if v != ""})


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _documented(el: ET.Element, text: str, ext_tag: str, ext: tuple[tuple[str, str], ...]) -> None:
    if text:
        _sub(el, "documentation").text = text
    if ext:
        box = _sub(el, "extensionElements")
        ET.SubElement(box, _q(JM_NS, ext_tag), dict(ext))


def to_xml(model: Model, lay: Layout) -> str:
    """The BPMN 2.0 document: a collaboration with the journey's pool, its process and the diagram."""
    for prefix, ns in (("bpmn", BPMN_NS), ("bpmndi", BPMNDI_NS), ("dc", DC_NS), ("di", DI_NS), ("xsi", XSI_NS),
                       ("jm", JM_NS)):
        ET.register_namespace(prefix, ns)
    root = ET.Element(_q(BPMN_NS, "definitions"), {
        "id": f"Definitions_{model.id}", "targetNamespace": f"{JM_NS}/{model.id}", "exporter": "journeymap",
        "exporterVersion": "1"})
    collab = _sub(root, "collaboration", id=f"Collaboration_{model.id}")
    _sub(collab, "participant", id=f"Participant_{model.id}", name=model.name, processRef=f"Process_{model.id}")
    process = _sub(root, "process", id=f"Process_{model.id}", name=model.name, isExecutable="true")
    if model.documentation:
        _sub(process, "documentation").text = model.documentation
    lane_set = _sub(process, "laneSet", id=f"LaneSet_{model.id}")
    members: dict[str, list[str]] = {lane: [] for lane, _ in model.lanes}
    for n in model.nodes:
        members[n.lane].append(n.id)
    for lane, name in model.lanes:
        el = _sub(lane_set, "lane", id=lane, name=name)
        for nid in members[lane]:
            _sub(el, "flowNodeRef").text = nid
    incoming: dict[str, list[str]] = {n.id: [] for n in model.nodes}
    outgoing: dict[str, list[str]] = {n.id: [] for n in model.nodes}
    for e in model.edges:
        outgoing[e.source].append(e.id)
        incoming[e.target].append(e.id)
    for n in model.nodes:
        el = _sub(process, n.kind, id=n.id, name=n.name, gatewayDirection=n.direction or "", default=n.default)
        _documented(el, n.documentation, "step", n.extension)
        for fid in incoming[n.id]:
            _sub(el, "incoming").text = fid
        for fid in outgoing[n.id]:
            _sub(el, "outgoing").text = fid
        if n.delay is not None:
            timer = _sub(el, "timerEventDefinition", id=f"TimerDefinition_{n.id}")
            duration = _sub(timer, "timeDuration", **{_q(XSI_NS, "type"): "bpmn:tFormalExpression"})
            duration.text = iso_duration(n.delay.mean)
    for e in model.edges:
        el = _sub(process, "sequenceFlow", id=e.id, name=e.name, sourceRef=e.source, targetRef=e.target)
        _documented(el, e.documentation, "flow", e.extension)
        if e.condition:
            _sub(el, "conditionExpression", **{_q(XSI_NS, "type"): "bpmn:tFormalExpression"}).text = e.condition
    _diagram(root, model, lay)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _bounds(parent: ET.Element, b: Bounds) -> None:
    _sub(parent, "Bounds", DC_NS, x=_num(b.x), y=_num(b.y), width=_num(b.width), height=_num(b.height))


def _diagram(root: ET.Element, model: Model, lay: Layout) -> None:
    diagram = _sub(root, "BPMNDiagram", BPMNDI_NS, id=f"Diagram_{model.id}", name=model.name)
    plane = _sub(diagram, "BPMNPlane", BPMNDI_NS, id=f"Plane_{model.id}", bpmnElement=f"Collaboration_{model.id}")
    pool = _sub(plane, "BPMNShape", BPMNDI_NS, id=f"Participant_{model.id}_di",
                bpmnElement=f"Participant_{model.id}", isHorizontal="true")
    _bounds(pool, lay.pool)
    for lane, _ in model.lanes:
        shape = _sub(plane, "BPMNShape", BPMNDI_NS, id=f"{lane}_di", bpmnElement=lane, isHorizontal="true")
        _bounds(shape, lay.lanes[lane])
    for n in model.nodes:
        attrs = {"isMarkerVisible": "true"} if n.kind == "exclusiveGateway" else {}
        shape = _sub(plane, "BPMNShape", BPMNDI_NS, id=f"{n.id}_di", bpmnElement=n.id, **attrs)
        _bounds(shape, lay.nodes[n.id])
    for e in model.edges:
        edge = _sub(plane, "BPMNEdge", BPMNDI_NS, id=f"{e.id}_di", bpmnElement=e.id)
        for x, y in lay.waypoints[e.id]:
            _sub(edge, "waypoint", DI_NS, x=_num(x), y=_num(y))


def export_bpmn(journey: Journey) -> str:
    """The journey as BPMN 2.0 XML with a laid-out diagram, ready for bpmn.io or Camunda Modeler.

    >>> from journeymap import load_journey                              # doctest: +SKIP
    >>> xml = export_bpmn(load_journey("journeys/insurance-before.yaml"))  # doctest: +SKIP
    >>> xml.count("<bpmn:userTask")                                      # doctest: +SKIP
    33
    """
    model = build_model(journey)
    return to_xml(model, layout(model))
