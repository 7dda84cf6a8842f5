"""A journey as Mermaid text, for documentation that renders Mermaid (GitHub, GitLab, Notion, Obsidian).

Two diagrams, both pure text built here (no Mermaid needed to build them; a test renders them with
mermaid-cli):

* :func:`journey_diagram`, Mermaid's ``journey``: one ``section`` per stage, one task per touchpoint (the
  steps in the customer and frontstage lanes, in file order), scored by the persona's emotion with
  :func:`mermaid_score`, acted by the persona and, for a frontstage step, the department that owns it.
* :func:`flowchart`, a ``flowchart LR``: a subgraph for the customer and one per department, a node per
  step, an arrow per flow. Internal handoffs (a flow between two departments) are thick red arrows
  labelled with their H-number, the same as on the map (:func:`journeymap.analysis.handoff_numbers`);
  rework flows are dashed; the branches of a choice carry their probabilities.

Journey text reaches Mermaid only through :func:`escape`, which writes every character that could end a
label, start a comment or a tag as a Mermaid entity code (``#35;`` for ``#``); node and subgraph ids are
made by :func:`journeymap.interop.safe_ids`, never taken from the file as they are.

The emotion rule (documented in docs/interop.md): journeymap's -3..+3 becomes Mermaid's 1..5 as
``round(3 + 2 * emotion / 3)``, halves rounded up: -3 -> 1, -2 and -1 -> 2, 0 -> 3, +1 and +2 -> 4,
+3 -> 5. A touchpoint without an emotion scores 3 (neutral), as Mermaid needs a score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from ..analysis import handoff_numbers
from ..graph import build_graph
from ..model import CUSTOMER, Journey, Step
from . import safe_ids

__all__ = ["DIAGRAMS", "Diagram", "FLOWCHART_LAYOUT", "NEUTRAL_SCORE", "escape", "mermaid_score", "journey_diagram",
           "flowchart", "diagram_text", "markdown"]

Diagram = Literal["journey", "flowchart"]

#: The diagrams :func:`diagram_text` builds, by name (``export --diagram``).
DIAGRAMS: tuple[Diagram, ...] = ("journey", "flowchart")

#: The flowchart's layout engine. Mermaid's default (dagre) fails on some dense journeys with many rework loops
#: between departments ("Cannot set properties of undefined (setting 'order')", insurance-before.yaml with
#: Mermaid 11.x; dagrejs/dagre#234); ELK lays them out. A renderer without ELK (it comes with
#: ``@mermaid-js/layout-elk``, which mermaid-cli and mermaid.live bundle) falls back to dagre with a warning.
FLOWCHART_LAYOUT = "elk"

#: The score of a touchpoint without an emotion: the middle of Mermaid's 1..5.
NEUTRAL_SCORE = 3

#: Characters written as Mermaid entity codes. ``#`` and ``;`` would start an entity or end a statement,
#: ``:`` ends a journey task's name, ``%`` starts a comment, quotes and ``|`` end labels (brackets are safe
#: inside the quotes every label gets), ``<``, ``>`` and ``&`` would be HTML, a backtick starts a Markdown string.
#: Mermaid turns ``#35;`` back into ``#`` when it draws (its ``encodeEntities``/``decodeEntities``), so the
#: reader sees the journey's own text.
_ENTITIES = {c: f"#{ord(c)};" for c in "#;:%\"`<>|&"}
#: An actor of a journey task also may not hold ``,``, which separates actors.
_ACTOR_ENTITIES = {**_ENTITIES, ",": "#44;"}

#: The colours of the flowchart (Tableau's, as the map uses): handoffs red, customer steps blue.
_HANDOFF_STYLE = "stroke:#d62728,stroke-width:3px,color:#d62728"
_CLASSES = (
    ("customer", "fill:#e8f1fa,stroke:#1f77b4,color:#10314f"),
    ("department", "fill:#ffffff,stroke:#555555,color:#222222"),
    ("mot", "stroke:#9467bd,stroke-width:4px"),
)


def escape(text: str, limit: int = 200, *, actor: bool = False) -> str:
    """``text`` safe inside any Mermaid label, task, section or title (a journey task's actor with
    ``actor=True``): one line, entities for the characters that mean something to Mermaid, Markdown or HTML,
    at most ``limit`` characters of the original."""
    line = " ".join(text.split())  # newlines and tabs end statements
    if len(line) > limit:
        line = line[: limit - 1] + "\u2026"
    table = _ACTOR_ENTITIES if actor else _ENTITIES
    return "".join(table.get(c, c) for c in line if c.isprintable())


def mermaid_score(emotion: float | None) -> int:
    """Mermaid's journey score (1..5) of a journeymap emotion (-3..+3): ``round(3 + 2 * emotion / 3)``, halves
    up, clamped; :data:`NEUTRAL_SCORE` when there is none. The linear map keeps 0 at the middle and both
    ends at Mermaid's ends."""
    if emotion is None:
        return NEUTRAL_SCORE
    return max(1, min(5, math.floor(3 + 2 * emotion / 3 + 0.5)))


def _persona_name(journey: Journey, step: Step) -> str:
    """The persona of a step: its own in an account's combined journey, else the journey's."""
    return step.persona_name or journey.persona.name


def journey_diagram(journey: Journey) -> str:
    """Mermaid's ``journey``: a section per stage with touchpoints, a task per touchpoint (see the module)."""
    lines = ["journey", f"    title {escape(journey.name)}"]
    for stage in journey.stages:
        tasks = [s for s in journey.steps if s.stage == stage.id and s.is_touchpoint]
        if not tasks:
            continue  # Mermaid draws no empty section; the flowchart still shows the stage's steps
        lines.append(f"    section {escape(stage.name)}")
        for step in tasks:
            actors = [_persona_name(journey, step)]
            if not step.is_customer:
                actors.append(journey.department_by_id[step.owner].name)
            lines.append(f"      {escape(step.name)}: {mermaid_score(step.emotion)}: "
                         f"{', '.join(escape(a, actor=True) for a in actors)}")
    return "\n".join(lines) + "\n"


def _percent(p: float) -> str:
    """A probability as a short percentage: 65%, 2.5%."""
    return f"{round(p * 100, 1):g}%"


def _edge_label(flow_label: str, probability: float | None, handoff: int | None) -> str:
    parts = [f"H{handoff}"] if handoff is not None else []
    if flow_label:
        parts.append(escape(flow_label, limit=60))
    if probability is not None:
        parts.append(_percent(probability))
    return " · ".join(parts)


def _node(node_id: str, step: Step) -> str:
    label = escape(step.name)
    return f'{node_id}(["{label}"])' if step.is_customer else f'{node_id}["{label}"]'


def flowchart(journey: Journey) -> str:
    """A ``flowchart LR`` with a subgraph per department and the customer (see the module)."""
    step_ids = safe_ids((s.id for s in journey.steps), prefix="s_")
    lines = ["---", "config:", f"  layout: {FLOWCHART_LAYOUT}", "---", "flowchart LR",
             f"    %% {escape(journey.name)}: handoffs thick red (H-numbers as on the map), rework dashed, "
             "choices with their probabilities"]
    lines += _subgraphs(journey, step_ids)
    edges, handoff_edges = _edges(journey, step_ids)
    lines += edges
    if handoff_edges:
        lines.append(f"    linkStyle {','.join(map(str, handoff_edges))} {_HANDOFF_STYLE}")
    lines += [f"    classDef {name} {style}" for name, style in _CLASSES]
    lines += _class_lines("customer", [step_ids[s.id] for s in journey.steps if s.is_customer])
    lines += _class_lines("department", [step_ids[s.id] for s in journey.steps if not s.is_customer])
    lines += _class_lines("mot", [step_ids[s.id] for s in journey.steps if s.moment_of_truth])
    return "\n".join(lines) + "\n"


def _subgraphs(journey: Journey, step_ids: dict[str, str]) -> list[str]:
    """A subgraph for the customer, then one per department in the file's order, each with its steps."""
    owners = [CUSTOMER] + [d.id for d in journey.departments]
    group_ids = safe_ids(owners, prefix="g_")
    by_owner: dict[str, list[Step]] = {owner: [] for owner in owners}
    for step in journey.steps:
        by_owner[step.owner].append(step)
    lines = []
    for owner, steps in by_owner.items():
        if not steps:
            continue
        title = _persona_name(journey, steps[0]) if owner == CUSTOMER else journey.department_by_id[owner].name
        lines.append(f'    subgraph {group_ids[owner]}["{escape(title)}"]')
        lines += [f"        {_node(step_ids[s.id], s)}" for s in steps]
        lines.append("    end")
    return lines


def _edges(journey: Journey, step_ids: dict[str, str]) -> tuple[list[str], list[int]]:
    """An arrow per flow, in the file's order, and the positions of the handoffs among them (for linkStyle)."""
    numbers = handoff_numbers(build_graph(journey))
    lines: list[str] = []
    handoff_edges: list[int] = []
    for index, flow in enumerate(journey.flows):
        choice = len(journey.flows_from[flow.source]) > 1 and not flow.parallel
        handoff = numbers.get((flow.source, flow.target)) if journey.is_handoff(flow) else None
        label = _edge_label(flow.label, flow.probability if choice else None, handoff)
        if flow.parallel and not label:
            label = "parallel"
        arrow = "-.->" if flow.rework else ("==>" if handoff is not None else "-->")
        text = f'|"{label}"|' if label else ""
        lines.append(f"    {step_ids[flow.source]} {arrow}{text} {step_ids[flow.target]}")
        if handoff is not None:
            handoff_edges.append(index)
    return lines, handoff_edges


def _class_lines(name: str, ids: list[str], per_line: int = 50) -> list[str]:
    """``class a,b,c name`` statements, a few dozen ids to a line."""
    return [f"    class {','.join(ids[i:i + per_line])} {name}" for i in range(0, len(ids), per_line)]


def diagram_text(journey: Journey, kind: Diagram) -> str:
    """One diagram's text, by name (:data:`DIAGRAMS`): what a ``.mmd`` file holds."""
    return journey_diagram(journey) if kind == "journey" else flowchart(journey)


def markdown(journey: Journey, kinds: Iterable[Diagram] = DIAGRAMS) -> str:
    """A Markdown page with each diagram in a ```` ```mermaid ```` block, and a line on how to read it."""
    out = [f"# {_markdown_text(journey.name)}", ""]
    if journey.description:
        out += [_markdown_text(journey.description), ""]
    for kind in kinds:
        if kind == "journey":
            out += ["## Touchpoints and emotions", "",
                    "One section per stage, one task per touchpoint. Score = round(3 + 2 x emotion / 3): "
                    "emotion -3 scores 1, 0 scores 3, +3 scores 5; a touchpoint without an emotion scores 3."]
        else:
            out += ["## Steps, departments and handoffs", "",
                    "A box per department and one for the customer. Thick red arrows are handoffs between "
                    "departments (H-numbers as on journeymap's map), dashed arrows rework, percentages the "
                    "chance of each branch of a choice."]
        out += ["", "```mermaid", diagram_text(journey, kind).rstrip("\n"), "```", ""]
    out.append(f"Exported by journeymap from {_markdown_text(journey.id)}.")
    return "\n".join(out) + "\n"


def _markdown_text(text: str) -> str:
    """Plain Markdown text outside the diagrams: one line, with the characters that make HTML, emphasis, links,
    code or a heading backslash-escaped."""
    line = " ".join(text.split())
    return "".join("\\" + c if c in "\\`*_[]<>#|&" else c for c in line if c.isprintable())
