"""Pure DOT builders: a journey (and optional simulation results) in, DOT source text out.

Nothing here runs Graphviz or touches files, so every mark on the drawings can
be tested by reading the source (see ``tests/test_rendering_dot.py``);
:mod:`journeymap.rendering.output` is the one place that runs ``dot``.

Three views:

``map``
    one lane per department (the customer on top), stages left to right;
``blueprint``
    the service-blueprint lanes top to bottom: customer actions, frontstage
    touchpoints, the line of visibility, backstage steps, support processes;
``handoffs``
    the handoff network: departments as nodes, one edge per direction
    weighted by how often work crosses it (and by the time lost, with results).

Map and blueprint are laid out by :mod:`journeymap.rendering.layout` (a grid
of stage columns and lane bands); the source sets ``layout=neato`` with pinned
positions, so plain ``dot -Tsvg file.dot`` draws it exactly as we do.

Every piece of text that comes from a journey file goes through
:func:`escape_html` (inside HTML-like labels) or :func:`quote` (everywhere
else), so quotes, ``<``, ``>``, ``&``, backslashes and any Unicode are safe.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

import networkx as nx

from ..analysis import expected_flow_counts, expected_visits, handoff_matrix, handoffs, ping_pongs, touchpoints
from ..distributions import format_minutes
from ..graph import build_graph
from ..model import CUSTOMER, EMOTION_SCALE, LANES, Journey
from . import palette
from .layout import Row, back_edges, estimate_size, grid_layout

__all__ = [
    "VIEWS",
    "Html",
    "quote",
    "escape_html",
    "journey_dot",
    "map_dot",
    "blueprint_dot",
    "handoff_network_dot",
]

VIEWS = ("map", "blueprint", "handoffs", "personas")
#: The views of a single journey; "personas" (a lane per persona) is for accounts.
JOURNEY_VIEWS = ("map", "blueprint", "handoffs")

#: Lane titles of the service blueprint, top to bottom.
BLUEPRINT_LANES = {
    "customer": ("Customer actions", "what the persona does"),
    "frontstage": ("Frontstage", "touchpoints the persona sees"),
    "backstage": ("Backstage", "internal steps, unseen"),
    "support": ("Support processes", "systems and teams behind"),
}

NAME_SIZE = 16.0
TEXT_SIZE = 14.0
HEADER_SIZE = 18.0
TITLE_SIZE = 26.0
LANE_TITLE_WIDTH = 210.0
WRAP = 20
#: Up to this many steps Graphviz routes edges around the boxes (``splines=true``). Its router
#: grows roughly with the square of the boxes (60 steps: 1.2 s, 100 steps: 3.6 s, 200 steps: 20 s),
#: so bigger journeys get straight edges, drawn under the boxes, to stay within seconds.
ROUTE_LIMIT = 70

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --------------------------------------------------------------------------- escaping


class Html(str):
    """A string to emit as an HTML-like label ``<...>`` rather than a quoted string."""


def quote(text: Any) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, control characters dropped.

    Backslashes are doubled because Graphviz reads ``\\n``, ``\\l``, ``\\N`` and
    friends inside labels; a user's ``C:\\new`` must not become a line break.
    Newlines become ``\\n`` (a centred line break).
    """
    s = _CONTROL.sub("", str(text)).replace("\\", "\\\\").replace('"', '\\"')
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{s}"'


def escape_html(text: Any) -> str:
    """Text safe inside an HTML-like label: ``& < > "`` become entities, newlines ``<BR/>``.

    Any other Unicode passes through (DOT files are UTF-8); control characters are dropped.

    >>> escape_html('R&D <fast> "now"')
    'R&amp;D &lt;fast&gt; &quot;now&quot;'
    """
    s = _CONTROL.sub("", str(text))
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<BR/>")


def _attrs(attrs: Mapping[str, Any]) -> str:
    parts = []
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, Html):
            parts.append(f"{k}=<{v}>")
        elif isinstance(v, bool):
            parts.append(f"{k}={'true' if v else 'false'}")
        elif isinstance(v, (int, float)):
            parts.append(f"{k}={_num(v)}")
        else:
            parts.append(f"{k}={quote(v)}")
    return "[" + ", ".join(parts) + "]" if parts else ""


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def _wrap(text: str, width: int = WRAP) -> list[str]:
    return textwrap.wrap(str(text), width, break_long_words=False, break_on_hyphens=False) or [""]


# --------------------------------------------------------------------------- labels


@dataclass
class _Cell:
    """One cell of an HTML table label: lines of text in one style."""

    lines: list[str]
    size: float = TEXT_SIZE
    bold: bool = False
    italic: bool = False
    colour: str = "#000000"
    fill: Optional[str] = None

    def rows(self) -> list[Row]:
        return [Row(t, self.size, self.bold) for t in self.lines]

    def html(self) -> str:
        body = "<BR/>".join(escape_html(t) for t in self.lines)
        if self.bold:
            body = f"<B>{body}</B>"
        if self.italic:
            body = f"<I>{body}</I>"
        bg = f' BGCOLOR="{self.fill}"' if self.fill else ""
        return (f'<TR><TD{bg}><FONT POINT-SIZE="{_num(self.size)}" COLOR="{self.colour}">{body}</FONT></TD></TR>')


def _table(cells: Sequence[_Cell]) -> Html:
    inner = "".join(c.html() for c in cells)
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4">{inner}</TABLE>')


def _size(cells: Sequence[_Cell]) -> tuple[float, float]:
    return estimate_size([c.rows() for c in cells])


def _emotion_text(value: float) -> str:
    word = EMOTION_SCALE.get(int(round(value)), "")
    face = "\u263a" if value > 0 else "\u2639" if value < 0 else "\u25cb"
    return f"{face} {value:+g} {word}".replace("+0 ", "0 ")


def _channel_text(channel: Optional[str]) -> str:
    return channel.replace("_", " ") if channel else ""


# --------------------------------------------------------------------------- results


@dataclass
class _Results:
    """Simulation results reduced to what the drawings shade and label."""

    step_share: dict[str, float] = field(default_factory=dict)
    step_wait: dict[str, float] = field(default_factory=dict)
    dept_share: dict[str, float] = field(default_factory=dict)
    dept_util: dict[str, float] = field(default_factory=dict)
    pair_waste: dict[tuple[str, str], float] = field(default_factory=dict)
    pair_handoffs: dict[tuple[str, str], float] = field(default_factory=dict)
    bottleneck_step: Optional[str] = None
    bottleneck_dept: Optional[str] = None
    bottleneck_share: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def max_step_share(self) -> float:
        return max(self.step_share.values(), default=0.0)

    @property
    def max_dept_share(self) -> float:
        return max(self.dept_share.values(), default=0.0)


def _mean(s: Any) -> float:
    """The mean of an ``S`` record, or the number itself."""
    if isinstance(s, Mapping):
        return float(s.get("mean", 0.0) or 0.0)
    return float(s or 0.0)


def _read_results(results: Optional[Mapping[str, Any]]) -> Optional[_Results]:
    if not results:
        return None
    r = _Results(summary=dict(results))
    for sid, d in (results.get("steps") or {}).items():
        r.step_share[sid] = float(d.get("share_of_waiting", 0.0) or 0.0)
        r.step_wait[sid] = float(d.get("wait_per_case", 0.0) or 0.0)
    for dept, d in (results.get("departments") or {}).items():
        r.dept_share[dept] = float(d.get("share_of_waiting", 0.0) or 0.0)
        r.dept_util[dept] = _mean(d.get("utilisation"))
    for p in (results.get("handoff_waste") or {}).get("pairs", []) or []:
        key = (p["from"], p["to"])
        r.pair_waste[key] = float(p.get("waste_per_case", 0.0) or 0.0)
        r.pair_handoffs[key] = float(p.get("handoffs_per_case", 0.0) or 0.0)
    b = results.get("bottleneck") or {}
    r.bottleneck_step = b.get("step")
    r.bottleneck_dept = b.get("department")
    r.bottleneck_share = float(b.get("share_of_waiting", 0.0) or 0.0)
    return r


def _edge_waste(g: nx.DiGraph, res: _Results) -> dict[tuple[str, str], float]:
    """Split each department pair's waste over its handoff edges, by expected traversals."""
    if not res.pair_waste:
        return {}
    flows = expected_flow_counts(g)
    by_pair: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for u, v, d in g.edges(data=True):
        if d["handoff"]:
            by_pair.setdefault((g.nodes[u]["owner"], g.nodes[v]["owner"]), []).append((u, v))
    out = {}
    for pair, edges in by_pair.items():
        total = sum(flows.get(e, 0.0) for e in edges)
        for e in edges:
            share = flows.get(e, 0.0) / total if total > 0 else 1.0 / len(edges)
            out[e] = res.pair_waste.get(pair, 0.0) * share
    return out


# --------------------------------------------------------------------------- totals and titles


def _count(n: int, what: str) -> str:
    """'1 stage', '3 stages', '2 moments of truth'."""
    if n == 1:
        return f"1 {what}"
    head, _, tail = what.partition(" of ")
    return f"{n} {head}s" + (f" of {tail}" if tail else "")


def journey_totals(journey: Journey, g: nx.DiGraph) -> dict[str, Any]:
    """The counts a title and the stage headers show."""
    hs = handoffs(g)
    per_stage = {s.id: 0 for s in journey.stages}
    for h in hs:
        per_stage[h["stage"]] = per_stage.get(h["stage"], 0) + 1
    tps = per_stage_tp = {s.id: 0 for s in journey.stages}
    for n in touchpoints(g):
        per_stage_tp[g.nodes[n]["stage"]] = per_stage_tp.get(g.nodes[n]["stage"], 0) + 1
    return {
        "steps": g.number_of_nodes(),
        "touchpoints": sum(tps.values()),
        "handoffs": len(hs),
        "handoffs_per_stage": per_stage,
        "touchpoints_per_stage": per_stage_tp,
        "rework": sum(1 for *_, d in g.edges(data=True) if d["rework"]),
        "moments_of_truth": sum(1 for n in g if g.nodes[n]["moment_of_truth"]),
        "ping_pongs": len(ping_pongs(g)),
    }


def _title_cells(journey: Journey, g: nx.DiGraph, res: Optional[_Results], view: str) -> list[_Cell]:
    t = journey_totals(journey, g)
    p = journey.persona
    role = p.role.replace("_", " ")
    cells = [
        _Cell([f"{journey.name} \u2014 {view}"], TITLE_SIZE, bold=True),
        _Cell([f"Persona: {p.name} ({role})"], HEADER_SIZE),
        _Cell([" \u00b7 ".join(_count(n, what) for n, what in (
            (len(journey.stages), "stage"), (t["steps"], "step"), (t["touchpoints"], "touchpoint"),
            (t["handoffs"], "internal handoff"), (t["rework"], "rework loop"), (t["moments_of_truth"], "moment of truth")))],
              HEADER_SIZE, bold=True, colour="#000000"),
    ]
    if res is not None:
        s = res.summary
        case = s.get("case", {}) or {}
        ct = case.get("cycle_time", {}) or {}
        waste = (s.get("handoff_waste") or {})
        line = (f"Simulated {s.get('cases', '?')} cases \u00d7 {s.get('replications', '?')} runs: cycle time "
                f"mean {format_minutes(_mean(ct))}, P50 {format_minutes(float(ct.get('p50', 0) or 0))}, "
                f"P90 {format_minutes(float(ct.get('p90', 0) or 0))}")
        if waste:
            line += (f" \u00b7 handoff waste {format_minutes(_mean(waste.get('total')))} per case "
                     f"({100 * _mean(waste.get('share_of_cycle_time')):.0f}% of cycle time)")
        cells.append(_Cell([line], HEADER_SIZE))
        if res.bottleneck_step or res.bottleneck_dept:
            step = journey.step_by_id.get(res.bottleneck_step or "")
            dept = journey.department_by_id.get(res.bottleneck_dept or "")
            what = " at ".join(x for x in [step.name if step else "", dept.name if dept else ""] if x)
            cells.append(_Cell([f"\u26a0 Bottleneck: {what} \u2014 {100 * res.bottleneck_share:.0f}% of all waiting"],
                               HEADER_SIZE, bold=True, colour="#FFFFFF", fill=palette.BOTTLENECK))
    return cells


def _left_table(cells: Sequence[_Cell]) -> Html:
    inner = "".join(c.html().replace("<TD", '<TD ALIGN="LEFT"', 1) for c in cells)
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4">{inner}</TABLE>')


def _legend_cells(res: Optional[_Results], blueprint: bool, changed: bool = False) -> tuple[Html, tuple[float, float]]:
    """The legend: what each mark means, as one HTML table."""
    rows: list[tuple[str, str, Optional[str], str]] = [
        # (sample text, sample colour, sample fill, meaning)
        ("\u25a2 rounded, blue", "#1F4E79", palette.TOUCHPOINT_FILL, "touchpoint (the persona sees it): channel and emotion"),
        ("\u25a2 rounded, yellow", "#1F4E79", palette.CUSTOMER_FILL, "customer action"),
        ("\u25a1 square, grey", "#555555", "#FFFFFF", "internal step (the persona does not see it)"),
        ("\u2605 MOMENT OF TRUTH", "#000000", palette.OKABE_ITO["yellow"], "moment of truth: double border"),
        ("\u2501\u2501\u25b6 H1", palette.HANDOFF, None, "internal handoff between departments, numbered"),
        ("\u2504\u2504\u25b6 \u21ba", palette.REWORK, None, "rework loop: the case goes back"),
        ("\u2500\u2500\u25b6", palette.FLOW, None, "flow (with branch %, wait)"),
    ]
    if blueprint:
        rows.append(("\u2504\u2504\u2504\u2504", "#000000", None, "line of visibility"))
    if res is not None:
        rows.append(("\u2588\u2588 orange", "#000000", palette.waiting_colour(1.0), "share of waiting (darker = more)"))
        rows.append(("\u2501\u2501 thick", palette.HANDOFF, None, "handoff edge width = time lost per case"))
        rows.append(("BOTTLENECK", "#FFFFFF", palette.BOTTLENECK, "where cases wait the most"))
    if changed:
        rows.append(("\u271a CHANGED", "#FFFFFF", palette.CHANGED, "step added or changed by this design"))
    emotions = "".join(
        f'<TD BGCOLOR="{palette.emotion_colour(v)}"><FONT POINT-SIZE="{_num(TEXT_SIZE)}" '
        f'COLOR="{palette.emotion_text_colour(v)}">{v:+d}</FONT></TD>'.replace("+0", "0")
        for v in range(-3, 4))
    html = ['<TABLE BORDER="1" COLOR="#999999" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4" BGCOLOR="#FFFFFF">',
            f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="{_num(HEADER_SIZE)}"><B>Legend</B></FONT></TD></TR>']
    for sample, colour, fill, meaning in rows:
        bg = f' BGCOLOR="{fill}"' if fill else ""
        html.append(f'<TR><TD ALIGN="LEFT"{bg}><FONT POINT-SIZE="{_num(TEXT_SIZE)}" COLOR="{colour}"><B>'
                    f'{escape_html(sample)}</B></FONT></TD><TD ALIGN="LEFT"><FONT POINT-SIZE="{_num(TEXT_SIZE)}">'
                    f'{escape_html(meaning)}</FONT></TD></TR>')
    html.append(f'<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="3"><TR>{emotions}</TR>'
                f'</TABLE></TD><TD ALIGN="LEFT"><FONT POINT-SIZE="{_num(TEXT_SIZE)}">emotion, -3 furious to +3 '
                f'delighted</FONT></TD></TR>')
    html.append("</TABLE>")
    width = 24 * TEXT_SIZE * 0.66 + 56 * TEXT_SIZE * 0.6 + 40
    height = (len(rows) + 2) * (TEXT_SIZE * 1.25 + 12) + HEADER_SIZE * 1.25 + 20
    return Html("".join(html)), (width, height)


# --------------------------------------------------------------------------- map and blueprint


def _step_cells(journey: Journey, g: nx.DiGraph, n: str, res: Optional[_Results], view: str) -> list[_Cell]:
    d = g.nodes[n]
    cells: list[_Cell] = []
    if res is not None and res.bottleneck_step == n:
        cells.append(_Cell(["\u26a0 BOTTLENECK"], TEXT_SIZE, bold=True, colour="#FFFFFF", fill=palette.BOTTLENECK))
    if d["moment_of_truth"]:
        cells.append(_Cell(["\u2605 MOMENT OF TRUTH"], TEXT_SIZE, bold=True, fill=palette.OKABE_ITO["yellow"]))
    cells.append(_Cell(_wrap(d["name"]), NAME_SIZE, bold=True))
    owner = d["owner"]
    owner_name = "customer" if owner == CUSTOMER else journey.department_by_id[owner].name
    if d["touchpoint"]:
        parts = [_channel_text(d["channel"])] if d["channel"] else []
        if view == "blueprint" or owner == CUSTOMER:
            parts.append(owner_name if owner != CUSTOMER else "customer action")
        if parts:
            cells.append(_Cell(_wrap(" \u00b7 ".join(parts), WRAP + 4), TEXT_SIZE, colour="#1F4E79"))
        if d["emotion"] is not None:
            e = d["emotion"]
            cells.append(_Cell([_emotion_text(e)], TEXT_SIZE, bold=True, colour=palette.emotion_text_colour(e),
                               fill=palette.emotion_colour(e)))
    else:
        who = f"internal \u00b7 {owner_name}" if view == "blueprint" else "internal step"
        cells.append(_Cell(_wrap(who, WRAP + 4), TEXT_SIZE, italic=True, colour="#555555"))
    if res is not None and n in res.step_share:
        cells.append(_Cell([f"waits {format_minutes(res.step_wait.get(n, 0.0))}/case",
                            f"{100 * res.step_share[n]:.0f}% of all waiting"], TEXT_SIZE, bold=True))
    return cells


def _step_attrs(g: nx.DiGraph, n: str, res: Optional[_Results]) -> dict[str, Any]:
    d = g.nodes[n]
    if d["touchpoint"]:
        attrs: dict[str, Any] = {"shape": "box", "style": "rounded,filled", "color": "#1F4E79", "penwidth": 2.5,
                                 "fillcolor": palette.CUSTOMER_FILL if d["customer"] else palette.TOUCHPOINT_FILL}
    else:
        attrs = {"shape": "box", "style": "filled", "color": "#666666", "penwidth": 1.2,
                 "fillcolor": palette.INTERNAL_FILL}
    if res is not None:
        attrs["fillcolor"] = palette.waiting_colour(res.step_share.get(n, 0.0), res.max_step_share)
        if res.bottleneck_step == n:
            attrs["penwidth"] = 6.0
            attrs["color"] = palette.BOTTLENECK
    if d["moment_of_truth"]:
        attrs["peripheries"] = 2
    return attrs


def _edge_label_and_attrs(g: nx.DiGraph, u: str, v: str, number: Optional[int], waste: Optional[float],
                          max_waste: float) -> dict[str, Any]:
    d = g.edges[u, v]
    parts: list[str] = []
    if number is not None:
        parts.append(f"H{number}")
    if d["rework"]:
        parts.append("\u21ba rework")
    if d["probability"] < 1 and not d["parallel"]:
        parts.append(f"{100 * d['probability']:.0f}%")
    if d["parallel"]:
        parts.append("\u2225 parallel")
    if d["mean_delay"] > 0:
        parts.append(f"+{format_minutes(d['mean_delay'])} wait")
    if waste:
        parts.append(f"{format_minutes(waste)} lost/case")
    attrs: dict[str, Any] = {"color": palette.FLOW, "penwidth": 1.6, "arrowsize": 1.1}
    colour = palette.FLOW
    bold = False
    if number is not None:
        colour, bold = palette.HANDOFF, True
        attrs.update(color=colour, penwidth=3.5, arrowsize=1.3, arrowtail="dot", dir="both")
        if waste is not None and max_waste > 0:
            attrs["penwidth"] = round(3.0 + 9.0 * waste / max_waste, 2)
    if d["rework"]:
        attrs["style"] = "dashed"
        if number is None:
            colour = palette.REWORK
            attrs.update(color=colour, penwidth=2.5)
    lines = parts + (_wrap(d["label"], 22) if d["label"] else [])
    if lines:
        attrs["label"] = _edge_label(lines, colour, NAME_SIZE if number is not None else TEXT_SIZE, bold)
    return attrs


def _edge_label(lines: Sequence[str], colour: str, size: float, bold: bool = False) -> Html:
    """An edge label on a white box, one fact per line: readable where it crosses a line or a lane boundary."""
    body = "<BR/>".join(escape_html(t) for t in lines)
    if bold:
        body = f"<B>{body}</B>"
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLPADDING="2" BGCOLOR="#FFFFFF"><TR><TD>'
                f'<FONT POINT-SIZE="{_num(size)}" COLOR="{colour}">{body}</FONT></TD></TR></TABLE>')


def _edge_label_width(g: nx.DiGraph, u: str, v: str) -> float:
    """Rough width of a flow's label (points), so the layout can leave room for it between columns."""
    d = g.edges[u, v]
    longest = max([len(t) for t in _wrap(d["label"], 22)] if d["label"] else [0])
    longest = max(longest, 16 if d["mean_delay"] > 0 or d["handoff"] else 0)
    return longest * NAME_SIZE * 0.62


def _xdot_rect(x0: float, y0: float, x1: float, y1: float, fill: str, pen: Optional[str] = None) -> str:
    pen = pen or fill
    return (f"c {len(pen)} -{pen} C {len(fill)} -{fill} "
            f"P 4 {_num(x0)} {_num(y0)} {_num(x1)} {_num(y0)} {_num(x1)} {_num(y1)} {_num(x0)} {_num(y1)} ")


def _xdot_line(x0: float, y0: float, x1: float, y1: float, colour: str, width: float, dashed: bool) -> str:
    style = f"setlinewidth({_num(width)})"
    out = f"c {len(colour)} -{colour} S {len(style)} -{style} "
    if dashed:
        out += "S 6 -dashed "
    out += f"L 2 {_num(x0)} {_num(y0)} {_num(x1)} {_num(y1)} "
    if dashed:
        out += "S 5 -solid "
    return out


def _lanes(journey: Journey, g: nx.DiGraph, view: str) -> tuple[list[str], dict[str, str], dict[str, tuple[str, str]]]:
    """Lane keys top to bottom, each step's lane, and each lane's (title, subtitle)."""
    if view == "blueprint":
        return list(LANES), {n: g.nodes[n]["lane"] for n in g}, dict(BLUEPRINT_LANES)
    if view == "personas":
        # an account's combined journey: step ids are "persona:step", names "Persona name: step name"
        lane_of = {n: n.split(":", 1)[0] for n in g}
        lanes = list(dict.fromkeys(lane_of[s.id] for s in journey.steps))
        titles = {}
        for s in journey.steps:
            lane = lane_of[s.id]
            if lane not in titles:
                name = s.name.split(": ", 1)[0] if ": " in s.name else lane
                titles[lane] = (name, "persona") if lane else ("The deal", "start and end")
        return lanes, lane_of, titles
    owners = {g.nodes[n]["owner"] for n in g}
    lanes = ([CUSTOMER] if CUSTOMER in owners else []) + [d.id for d in journey.departments if d.id in owners]
    titles = {CUSTOMER: (journey.persona.name, "the customer")}
    for d in journey.departments:
        titles[d.id] = (d.name, f"{d.capacity} {'person' if d.capacity == 1 else 'people'}")
    return lanes, {n: g.nodes[n]["owner"] for n in g}, titles


def is_account_journey(journey: Journey) -> bool:
    """True for the combined journey of an account (see journeymap.account_simulation), which starts at ':deal-start'."""
    return journey.start == ":deal-start"


def journey_dot(journey: Journey, view: str = "map", results: Optional[Mapping[str, Any]] = None,
                g: Optional[nx.DiGraph] = None, highlight: Iterable[str] = ()) -> str:
    """DOT source of one view of a journey; ``results`` is a simulation summary (optional).

    ``highlight`` names steps to mark as changed (a green border and a
    "CHANGED" badge), e.g. the steps an after-design adds or edits.

    >>> from journeymap import load_journey
    >>> src = journey_dot(load_journey("journeys/acme-cio.yaml"), "blueprint")  # doctest: +SKIP
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view: {view!r} (must be one of {', '.join(VIEWS)})")
    g = g if g is not None else build_graph(journey)
    if view == "handoffs":
        return handoff_network_dot(journey, g, results)
    if view == "personas" and not is_account_journey(journey):
        raise ValueError("the personas view is for accounts: render an account file (a lane per persona)")
    return _lane_dot(journey, g, view, _read_results(results), set(highlight or ()))


def map_dot(journey: Journey, results: Optional[Mapping[str, Any]] = None, g: Optional[nx.DiGraph] = None,
            highlight: Iterable[str] = ()) -> str:
    """The journey map: one lane per department, the customer on top."""
    return journey_dot(journey, "map", results, g, highlight)


def blueprint_dot(journey: Journey, results: Optional[Mapping[str, Any]] = None,
                  g: Optional[nx.DiGraph] = None, highlight: Iterable[str] = ()) -> str:
    """The service blueprint: customer, frontstage | line of visibility | backstage, support."""
    return journey_dot(journey, "blueprint", results, g, highlight)


def _lane_dot(journey: Journey, g: nx.DiGraph, view: str, res: Optional[_Results], highlight: set[str]) -> str:
    lanes, lane_of, titles = _lanes(journey, g, view)
    cells = {n: _step_cells(journey, g, n, res, view) for n in g}
    for n in highlight & set(g):
        cells[n].insert(0, _Cell(["\u271a CHANGED"], TEXT_SIZE, bold=True, colour="#FFFFFF", fill=palette.CHANGED))
    sizes = {n: _size(cells[n]) for n in g}
    stages = [s.id for s in journey.stages]
    room: dict[str, float] = {}
    for u, v in g.edges:
        if lane_of[u] != lane_of[v]:
            continue  # a slanted edge has room for its label already; only level ones need wider columns
        w = _edge_label_width(g, u, v)
        room[u] = max(room.get(u, 0.0), w)
        room[v] = max(room.get(v, 0.0), w)
    layout = grid_layout(g, stages, lanes, lane_of, sizes, left=LANE_TITLE_WIDTH + 20, room=room)
    totals = journey_totals(journey, g)

    title = _title_cells(journey, g, res, "service blueprint" if view == "blueprint" else "journey map")
    title_w, title_h = _size(title)
    header_h = 74.0
    legend, (legend_w, legend_h) = _legend_cells(res, view == "blueprint", bool(highlight))
    right_margin = 200.0 if view == "blueprint" else 40.0
    width = max(layout.width + right_margin, title_w + 40, legend_w + 40)
    # top-down frame: title, stage headers, lanes, legend
    lanes_top = title_h + 20 + header_h + 10
    height = lanes_top + layout.height + 30 + legend_h + 20

    def Y(y: float) -> float:
        return round(height - y, 1)

    lines: list[str] = []
    bg: list[str] = []
    add = lines.append
    graph_attrs = {
        "layout": "neato", "inputscale": 72, "splines": "true" if g.number_of_nodes() <= ROUTE_LIMIT else "line",
        "overlap": "true",
        "outputorder": "edgesfirst", "bgcolor": "#FFFFFF", "pad": 0.3, "fontname": palette.FONT,
        "esep": "+3",
    }
    # lane bands (drawn under everything via _background)
    for i, lane in enumerate(lanes):
        top = lanes_top + layout.lane_top[lane]
        bottom = top + layout.lane_height[lane]
        fill = "#F2F2F2" if i % 2 == 0 else "#FFFFFF"
        if res is not None and view == "map" and lane in res.dept_share:
            pass  # the lane title carries the shading; the band stays neutral for contrast
        bg.append(_xdot_rect(0, Y(top), width, Y(bottom), fill))
        bg.append(_xdot_line(0, Y(bottom), width, Y(bottom), "#BBBBBB", 1, False))
    # stage separators
    for s in stages[1:]:
        x0, _ = layout.stage_span(s)
        bg.append(_xdot_line(x0, Y(lanes_top - header_h - 6), x0, Y(lanes_top + layout.height), "#888888", 1.5, True))
    if view == "blueprint":
        y = lanes_top + layout.lane_top["backstage"]
        bg.append(_xdot_line(0, Y(y), width, Y(y), "#000000", 3, True))
        y2 = lanes_top + layout.lane_top["frontstage"]
        bg.append(_xdot_line(0, Y(y2), width, Y(y2), "#777777", 1.5, False))
    graph_attrs["_background"] = "".join(bg)

    add(f"// journeymap {view} of {journey.id!s}; positions are fixed: render with `dot -Tsvg` (layout=neato is set)")
    add(f"// size: {_num(round(width))} x {_num(round(height))} pt")
    add(f"digraph {quote(journey.id)} {{")
    add(f"  graph {_attrs(graph_attrs)};")
    add(f"  node {_attrs({'fontname': palette.FONT, 'fontsize': TEXT_SIZE, 'margin': '0.12,0.06'})};")
    add(f"  edge {_attrs({'fontname': palette.FONT, 'fontsize': TEXT_SIZE})};")

    # frame corners: neato shifts the drawing so its lower-left corner is (0, 0); these tiny invisible
    # points sit on the corners so that shift is nil and the _background bands line up with the nodes
    corner = {'shape': 'point', 'style': 'invis', 'width': 0.001, 'height': 0.001}
    add(f"  _frame_bl {_attrs({**corner, 'pos': '0,0!'})};")
    add(f"  _frame_tr {_attrs({**corner, 'pos': f'{_num(width)},{_num(height)}!'})};")
    add(f"  _title {_attrs({'shape': 'plaintext', 'label': _left_table(title), 'pos': _pos(10 + title_w / 2, Y(10 + title_h / 2))})};")
    add(f"  _legend {_attrs({'shape': 'plaintext', 'label': legend, 'pos': _pos(10 + legend_w / 2, Y(height - 10 - legend_h / 2))})};")

    # lane titles
    add("  // lanes, top to bottom")
    for lane in lanes:
        top = lanes_top + layout.lane_top[lane]
        h = layout.lane_height[lane]
        name, sub = titles.get(lane, (lane, ""))
        fill = "#DDDDDD"
        extra: list[_Cell] = []
        if res is not None and lane in res.dept_share:
            fill = palette.waiting_colour(res.dept_share[lane], res.max_dept_share)
            extra.append(_Cell([f"{100 * res.dept_share[lane]:.0f}% of waiting",
                                f"utilisation {100 * res.dept_util.get(lane, 0.0):.0f}%"], TEXT_SIZE, bold=True))
        if res is not None and lane == res.bottleneck_dept:
            extra.insert(0, _Cell(["\u26a0 BOTTLENECK"], TEXT_SIZE, bold=True, colour="#FFFFFF", fill=palette.BOTTLENECK))
        label = _table([_Cell(_wrap(name, 18), HEADER_SIZE, bold=True), _Cell(_wrap(sub, 22), TEXT_SIZE, italic=True)]
                       + extra)
        add(f"  {quote('lane:' + lane)} {_attrs({'shape': 'box', 'style': 'filled', 'fillcolor': fill, 'color': '#888888', 'fixedsize': True, 'width': _num(LANE_TITLE_WIDTH / 72), 'height': _num(max(h - 14, 20) / 72), 'label': label, 'pos': _pos(10 + LANE_TITLE_WIDTH / 2, Y(top + h / 2)), 'class': 'lane'})};")
    if view == "blueprint":
        for name, lane, text, colour in (("_visibility", "backstage", "<B>LINE OF VISIBILITY</B>", "#000000"),
                                         ("_interaction", "frontstage", "line of interaction", "#555555")):
            y = lanes_top + layout.lane_top[lane]
            label = Html(f'<FONT POINT-SIZE="{_num(TEXT_SIZE)}" COLOR="{colour}">{text}</FONT>')
            add(f"  {name} {_attrs({'shape': 'plaintext', 'label': label, 'pos': _pos(width - 100, Y(y - 14))})};")

    # stage headers with their handoff counts
    add("  // stages, left to right: name, touchpoints and internal handoffs")
    for s in journey.stages:
        x0, x1 = layout.stage_span(s.id)
        n_h = totals["handoffs_per_stage"].get(s.id, 0)
        n_t = totals["touchpoints_per_stage"].get(s.id, 0)
        cells_h = [_Cell(_wrap(s.name.upper(), max(12, int((x1 - x0) / 12))), HEADER_SIZE, bold=True),
                   _Cell([f"{n_h} handoff{'s' if n_h != 1 else ''} \u00b7 {n_t} touchpoint{'s' if n_t != 1 else ''}"],
                         TEXT_SIZE, bold=True, colour=palette.HANDOFF if n_h else "#333333")]
        add(f"  {quote('stage:' + s.id)} {_attrs({'shape': 'box', 'style': 'filled', 'fillcolor': '#E8E8E8', 'color': '#888888', 'fixedsize': True, 'width': _num((x1 - x0 - 14) / 72), 'height': _num(header_h / 72), 'label': _table(cells_h), 'pos': _pos((x0 + x1) / 2, Y(lanes_top - 10 - header_h / 2)), 'class': 'stage', 'tooltip': f'{n_h} internal handoffs'})};")

    # steps
    add("  // steps")
    for n in sorted(g, key=lambda k: g.nodes[k]["order"]):
        x, y = layout.positions[n]
        attrs = _step_attrs(g, n, res)
        if n in highlight:
            attrs.update(color=palette.CHANGED, penwidth=5.0)
        attrs["label"] = _table(cells[n])
        attrs["pos"] = _pos(x, Y(lanes_top + y))
        attrs["class"] = "touchpoint" if g.nodes[n]["touchpoint"] else "internal"
        add(f"  {quote(n)} {_attrs(attrs)};")

    # flows
    add("  // flows; internal handoffs are numbered H1, H2... in file order")
    numbers = {(h["from_step"], h["to_step"]): i for i, h in enumerate(handoffs(g), 1)}
    waste = _edge_waste(g, res) if res is not None else {}
    max_waste = max(waste.values(), default=0.0)
    backward = back_edges(g)
    for i, (u, v) in enumerate(sorted(g.edges, key=lambda e: (g.nodes[e[0]]["order"], g.nodes[e[1]]["order"]))):
        attrs = _edge_label_and_attrs(g, u, v, numbers.get((u, v)), waste.get((u, v)) if res else None, max_waste)
        kind = ["handoff"] if (u, v) in numbers else []
        kind += ["rework"] if g.edges[u, v]["rework"] else []
        attrs["class"] = " ".join(kind) or "flow"
        if (u, v) in backward and u != v:
            # a loop back: route it through an invisible point under both steps, so it reads as a loop
            # and never hides under the forward flow between the same two steps
            (xu, yu), (xv, yv) = layout.positions[u], layout.positions[v]
            below = max(yu + sizes[u][1] / 2, yv + sizes[v][1] / 2) + 26
            via = f"_loop{i}"
            add(f"  {via} {_attrs({'shape': 'point', 'style': 'invis', 'width': 0.01, 'pos': _pos((xu + xv) / 2, Y(lanes_top + below))})};")
            first = {k: attrs[k] for k in ("color", "penwidth", "style", "class") if k in attrs}
            if "arrowtail" in attrs:
                first.update(arrowtail="dot", dir="back")
            else:
                first["arrowhead"] = "none"
            add(f"  {quote(u)} -> {via} {_attrs(first)};")
            attrs.pop("arrowtail", None)
            attrs.pop("dir", None)
            add(f"  {via} -> {quote(v)} {_attrs(attrs)};")
            continue
        add(f"  {quote(u)} -> {quote(v)} {_attrs(attrs)};")
    add("}")
    return "\n".join(lines) + "\n"


def _pos(x: float, y: float) -> str:
    return f"{_num(round(x, 1))},{_num(round(y, 1))}!"


# --------------------------------------------------------------------------- handoff network


def handoff_network_dot(journey: Journey, g: Optional[nx.DiGraph] = None,
                        results: Optional[Mapping[str, Any]] = None) -> str:
    """Departments as nodes; one edge per direction with its handoff count (and waste, with results).

    Edges between two departments that hand work back and forth (both
    directions present) are drawn thick and vermillion and labelled
    "ping-pong", so the loops stand out.
    """
    g = g if g is not None else build_graph(journey)
    res = _read_results(results) if not isinstance(results, _Results) else results
    counts = handoff_matrix(g)
    flows = expected_flow_counts(g, expected_visits(g))
    per_case = handoff_matrix(g, flows)
    edges = [(a, b, c) for a, row in counts.items() for b, c in row.items() if c]
    max_count = max((c for *_, c in edges), default=1)
    waste = dict(res.pair_waste) if res is not None else {}
    max_waste = max(waste.values(), default=0.0)
    pong_pairs = {(a, b) for a, b, _ in edges if counts.get(b, {}).get(a)}
    chains = ping_pongs(g)
    total = sum(c for *_, c in edges)

    lines = [f"// journeymap handoff network of {journey.id}",
             f"digraph {quote(journey.id + ':handoffs')} {{"]
    title = (f"<FONT POINT-SIZE=\"{_num(TITLE_SIZE)}\"><B>{escape_html(journey.name)} \u2014 handoff network</B></FONT>"
             f"<BR/><FONT POINT-SIZE=\"{_num(HEADER_SIZE)}\">Persona: {escape_html(journey.persona.name)} \u00b7 "
             f"{total} internal handoffs between {len({x for e in edges for x in e[:2]})} departments \u00b7 "
             f"{len(pong_pairs) // 2} ping-pong pair{'s' if len(pong_pairs) // 2 != 1 else ''} \u00b7 "
             f"{len(chains)} A\u2192B\u2192A chain{'s' if len(chains) != 1 else ''}</FONT>"
             f"<BR/><FONT POINT-SIZE=\"{_num(TEXT_SIZE)}\">edge width = "
             f"{'time lost per case' if waste else 'number of handoffs'}; "
             f"<FONT COLOR=\"{palette.HANDOFF}\"><B>vermillion = ping-pong (work goes both ways)</B></FONT></FONT>")
    lines.append(f"  graph {_attrs({'layout': 'dot', 'rankdir': 'LR', 'label': Html(title), 'labelloc': 't', 'labeljust': 'l', 'fontname': palette.FONT, 'pad': 0.4, 'nodesep': 0.9, 'ranksep': 2.2, 'bgcolor': '#FFFFFF'})};")
    lines.append(f"  node {_attrs({'shape': 'box', 'style': 'rounded,filled', 'fontname': palette.FONT, 'fontsize': HEADER_SIZE, 'penwidth': 1.5, 'margin': '0.2,0.12'})};")
    lines.append(f"  edge {_attrs({'fontname': palette.FONT, 'fontsize': TEXT_SIZE})};")
    involved = {x for a, b, _ in edges for x in (a, b)}
    for d in journey.departments:
        cells = [_Cell(_wrap(d.name, 22), HEADER_SIZE, bold=True),
                 _Cell([f"{d.capacity} {'person' if d.capacity == 1 else 'people'}"], TEXT_SIZE, italic=True)]
        fill = "#D6EAF8" if d.id in involved else "#F2F2F2"
        attrs: dict[str, Any] = {"color": "#1F4E79" if d.id in involved else "#AAAAAA"}
        if res is not None and d.id in res.dept_share:
            fill = palette.waiting_colour(res.dept_share[d.id], res.max_dept_share)
            cells.append(_Cell([f"{100 * res.dept_share[d.id]:.0f}% of waiting \u00b7 "
                                f"utilisation {100 * res.dept_util.get(d.id, 0.0):.0f}%"], TEXT_SIZE, bold=True))
        if res is not None and d.id == res.bottleneck_dept:
            cells.insert(0, _Cell(["\u26a0 BOTTLENECK"], TEXT_SIZE, bold=True, colour="#FFFFFF", fill=palette.BOTTLENECK))
            attrs.update(penwidth=5, color=palette.BOTTLENECK)
        attrs.update(fillcolor=fill, label=_table(cells))
        lines.append(f"  {quote(d.id)} {_attrs(attrs)};")
    for a, b, c in edges:
        pong = (a, b) in pong_pairs
        w = waste.get((a, b))
        if w is not None and max_waste > 0:
            pen = 2.0 + 10.0 * w / max_waste
        else:
            pen = 2.0 + 8.0 * c / max_count
        label = [f"{c} handoff{'s' if c != 1 else ''}", f"{per_case[a][b]:.2f} per case"]
        if w is not None:
            label.append(f"{format_minutes(w)} lost per case")
        if pong:
            label.insert(0, "\u21c4 ping-pong")
        colour = palette.HANDOFF if pong else "#0072B2"
        attrs = {"penwidth": round(pen, 2), "color": colour, "label": _edge_label(label, colour, TEXT_SIZE, pong),
                 "arrowsize": 1.2, "class": "ping-pong" if pong else "handoff", "weight": int(c)}
        lines.append(f"  {quote(a)} -> {quote(b)} {_attrs(attrs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
