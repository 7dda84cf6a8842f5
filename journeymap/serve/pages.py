"""What the workshop pages show, as plain data for the templates: pure functions, no I/O.

* :func:`headline` — the figures of a file for the index and its page (counts from
  :func:`journeymap.analysis.analyze`, times from the simulation summary);
* :func:`step_details` — what clicking a step shows (the step as written, and its simulated figures);
* :func:`annotate_svg` — a Graphviz SVG made ready for the page: no script, step nodes with ids the page's
  script can find (``step-<id>``, ``data-step``), handoff arrows whose tooltip says the time they lose, and
  arrows and the labels drawn apart from their arrow naming the arrow (``data-flow="a->b"``, DOT node names);
* :func:`located` — problems as ``file:line:column`` relative to the served folder.

Every string from a journey file reaches the page through Jinja2's autoescaping, or through
:func:`markupsafe.escape` here.
"""

from __future__ import annotations

import html
import os
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from ..distributions import format_minutes
from ..model import Journey
from ..problems import Problem
from ..report import inline_svg
from ..tables import format_value

__all__ = ["headline", "step_details", "annotate_svg", "located", "Tile"]

Tile = dict[str, str]


def headline(journey: Journey, summary: Mapping[str, Any] | None, report: Mapping[str, Any]) -> list[Tile]:
    """The figures a room looks at first: size, handoffs, and (once simulated) cycle time, waste, experience, cost.

    ``report`` is the journey's :func:`journeymap.analysis.analyze` (:meth:`.workshop.Workshop.analysis`).
    """
    tiles = [{"label": "Steps", "value": str(len(journey.steps))},
             {"label": "Touchpoints", "value": str(report["touchpoints"])},
             {"label": "Handoffs", "value": str(report["handoffs"])}]
    if not summary:
        return tiles
    cycle = summary["case"]["cycle_time"]
    tiles.append({"label": "Cycle time", "value": format_minutes(cycle["mean"]),
                  "note": f"P90 {format_minutes(cycle['p90'])}"})
    waste = summary["handoff_waste"]["total"]["mean"]
    tiles.append({"label": "Lost at handoffs", "value": format_minutes(waste), "note": "per case"})
    overall = (summary.get("experience") or {}).get("overall")
    if overall is not None:
        tiles.append({"label": "Experience index", "value": format_value(overall, "index"), "note": "of 100"})
    cost = summary.get("cost") or {}
    if cost.get("priced"):
        tiles.append({"label": "Cost", "value": format_value(cost["total"]["mean"], "money"), "note": "per case"})
    bottleneck = summary.get("bottleneck") or {}
    if bottleneck.get("department"):
        where = bottleneck.get("department_name") or bottleneck["department"]
        tiles.append({"label": "Bottleneck", "value": str(where), "kind": "words",
                      "note": f"{bottleneck['department_share']:.0%} of waiting"})
    return tiles


def step_details(journey: Journey, summary: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """For every step: its fields as written and, once simulated, its figures per visit and per case."""
    depts = {d.id: d.name for d in journey.departments}
    stages = {s.id: s.name for s in journey.stages}
    sims = (summary or {}).get("steps") or {}
    out = []
    for s in journey.steps:
        fields = [("Stage", stages.get(s.stage, s.stage)),
                  ("Owner", "Customer" if s.owner == "customer" else depts.get(s.owner, s.owner)),
                  ("Lane", s.lane), ("Duration", s.duration.describe())]
        if s.channel:
            fields.append(("Channel", s.channel))
        if s.emotion is not None:
            fields.append(("Emotion", f"{s.emotion:+g}"))
        if s.moment_of_truth:
            fields.append(("Moment of truth", "yes"))
        if s.notes:
            fields.append(("Notes", s.notes))
        figures = []
        sim = sims.get(s.id)
        if sim:
            figures = [("Visits per case", f"{sim['visits_per_case']:.2f}"),
                       ("Work per visit", format_minutes(sim["processing_per_visit"])),
                       ("Wait per visit", format_minutes(sim["wait_per_visit"])),
                       ("Lost at handoffs into it, per case", format_minutes(sim["handoff_delay_per_case"])),
                       ("Share of all waiting", f"{sim['share_of_waiting']:.0%}")]
            if s.is_touchpoint:
                figures.append(("Visits over the persona's tolerance", f"{sim['over_tolerance']:.0%}"))
        out.append({"id": s.id, "name": s.name, "fields": fields, "figures": figures})
    return out


def located(problems: list[Problem], folder: str) -> list[dict[str, Any]]:
    """Problems for the page: ``where`` is ``file:line:column`` with the file relative to the served folder."""
    out = []
    for p in problems:
        rel = os.path.relpath(p.file, folder) if os.path.isabs(p.file) == os.path.isabs(folder) else p.file
        file = p.file if rel.startswith("..") else rel
        out.append({"where": f"{file}:{p.line}:{p.column}", "severity": p.severity, "rule": p.rule,
                    "message": p.message, "hint": p.hint})
    return out


# --------------------------------------------------------------------------- the SVG on the page

_NODE = re.compile(r'<g id="node\d+" class="node([^"]*)">\s*<title>([^<]*)</title>')
#: an arrow's label drawn as a node of its own (journeymap.rendering.lanes), named by a DOT comment
_LABEL = re.compile(r'<!-- label of (.*?) -->\s*<g id="(node\d+)" class="node label">')
_EDGE = re.compile(r'<g id="(edge\d+)" class="edge([^"]*)">\s*<title>([^<]*)</title>')


def _flow_of(comment: str) -> str:
    """``a->b`` from a label's DOT comment ``a -> b`` (escaped as XML text), as an arrow's ``data-flow``."""
    a, _, b = html.unescape(comment).partition(" -> ")
    return f"{a}->{b}"


def _ends(title: str) -> tuple[str, str] | None:
    """The two node names of an edge's title ``a->b`` (Graphviz escapes it as XML text)."""
    a, sep, b = html.unescape(title).partition("->")
    return (a, b) if sep else None


def _flow_lost(journey: Journey, summary: Mapping[str, Any] | None) -> dict[tuple[str, str], dict[str, float]]:
    """The simulated time lost on each step-to-step arrow that is a handoff, summed over its flows."""
    lost: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: {"lost": 0.0, "inbox": 0.0, "queue": 0.0})
    for f in (summary or {}).get("flows") or []:
        if f.get("handoff"):
            row = lost[(f["source"], f["target"])]
            if f.get("number"):
                row["number"] = f["number"]
            row["lost"] += f["lost_per_case"]
            row["inbox"] += f["inbox_per_case"]
            row["queue"] += f["queue_per_case"]
    return lost


def _pair_lost(summary: Mapping[str, Any] | None) -> dict[tuple[str, str], dict[str, float]]:
    return {(p["from"], p["to"]): p for p in ((summary or {}).get("handoff_waste") or {}).get("pairs") or []}


def _handoff_tip(journey: Journey, view: str, a: str, b: str, summary: Mapping[str, Any] | None,
                 flows: Mapping[tuple[str, str], Mapping[str, float]],
                 pairs: Mapping[tuple[str, str], Mapping[str, Any]], handoffs: set[tuple[str, str]]) -> str | None:
    """The tooltip of a handoff arrow from ``a`` to ``b`` (steps, or departments in the handoff network);
    None for an arrow that is no handoff (within a department, or the customer's own)."""
    names = {d.id: d.name for d in journey.departments} | {"customer": "Customer"}
    steps = journey.step_by_id
    if view == "handoffs":
        if a not in names or b not in names:
            return None
        where = f"Handoff {names[a]} → {names[b]}"
        pair = pairs.get((a, b))
        if summary is None:
            return f"{where} (time lost: simulating…)"
        if pair is None:
            return f"{where}: no time lost in the simulation"
        return (f"{where}: {format_minutes(pair['waste_per_case'])} lost per case "
                f"({pair['handoffs_per_case']:.2f} handoffs per case)")
    if (a, b) not in handoffs:
        return None
    where = (f"Handoff {names.get(steps[a].owner, steps[a].owner)} → {names.get(steps[b].owner, steps[b].owner)}: "
             f"{steps[a].name} → {steps[b].name}")
    if summary is None:
        return f"{where} (time lost: simulating…)"
    row = flows.get((a, b))
    if row is None:
        return f"{where}: no time lost in the simulation"
    if row.get("number"):
        where = f"H{row['number']:g} " + where
    return (f"{where}: {format_minutes(row['lost'])} lost per case "
            f"(inbox {format_minutes(row['inbox'])}, queue {format_minutes(row['queue'])})")


Arrow = tuple[str, str]


def _step_pairs(titles: list[Arrow], steps: Mapping[str, Any]) -> dict[Arrow, list[Arrow]]:
    """Which step-to-step arrows each drawn edge stands for: itself, or, for the two halves of an arrow drawn
    through a helper node (a rework loop's ``_loop3``), the arrows through that node."""
    succ: dict[str, list[str]] = defaultdict(list)
    pred: dict[str, list[str]] = defaultdict(list)
    for a, b in titles:
        succ[a].append(b)
        pred[b].append(a)
    out: dict[Arrow, list[Arrow]] = {}
    for a, b in titles:
        if a in steps and b in steps:
            out[(a, b)] = [(a, b)]
        elif a in steps:
            out[(a, b)] = [(a, c) for c in succ[b] if c in steps]
        elif b in steps:
            out[(a, b)] = [(c, b) for c in pred[a] if c in steps]
    return out


def annotate_svg(svg: str | bytes, journey: Journey, view: str, summary: Mapping[str, Any] | None) -> Markup:
    """A Graphviz SVG of ``journey`` ready for the page (see the module's docstring)."""
    raw = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    # keep which arrow a label belongs to (``data-flow="a->b"``) before the comments go
    raw = _LABEL.sub(lambda m: f'<g id="{m.group(2)}" class="node label" data-flow="{escape(_flow_of(m.group(1)))}">',
                     raw)
    text = str(inline_svg(raw))
    steps = journey.step_by_id

    def node(m: re.Match) -> str:
        classes, title = m.group(1), m.group(2)
        name = html.unescape(title)
        if view != "handoffs" and name in steps:
            sid = escape(name)
            return (f'<g id="step-{sid}" class="node step{classes}" data-step="{sid}" tabindex="0">'
                    f"<title>{escape(steps[name].name)} (click for details)</title>")
        return m.group(0)

    text = _NODE.sub(node, text)
    titles = [e for e in (_ends(m.group(3)) for m in _EDGE.finditer(text)) if e]
    through = _step_pairs(titles, steps)
    flows, pairs = _flow_lost(journey, summary), _pair_lost(summary)
    handoffs = {(f.source, f.target) for f in journey.flows if journey.is_handoff(f)}

    def edge(m: re.Match) -> str:
        ends = _ends(m.group(3))
        if ends is None:
            return m.group(0)
        tips = ([_handoff_tip(journey, view, *ends, summary, flows, pairs, handoffs)] if view == "handoffs"
                else [_handoff_tip(journey, view, a, b, summary, flows, pairs, handoffs)
                      for a, b in through.get(ends, [])])
        tip = "\n".join(t for t in tips if t)
        flow = escape(f"{ends[0]}->{ends[1]}")
        if not tip:
            return f'<g id="{m.group(1)}" class="edge{m.group(2)}" data-flow="{flow}"><title></title>'
        return (f'<g id="{m.group(1)}" class="edge{m.group(2)} tip" data-flow="{flow}" data-tip="{escape(tip)}">'
                f"<title>{escape(tip)}</title>")

    return Markup(_EDGE.sub(edge, text))  # noqa: S704 - Graphviz's escaped SVG; every inserted text is escaped
