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

import math
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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

VIEWS = ("map", "overview", "blueprint", "handoffs", "personas")
#: The views of a single journey; "personas" (a lane per persona) is for accounts.
JOURNEY_VIEWS = ("map", "overview", "blueprint", "handoffs")

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
    fill: str | None = None

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


def _channel_text(channel: str | None) -> str:
    return channel.replace("_", " ") if channel else ""


# --------------------------------------------------------------------------- results


@dataclass
class _Results:
    """Simulation results reduced to what the drawings shade and label.

    Waiting follows the one definition of the bottleneck (docs/rendering.md): the waiting *at a step*
    is the queueing at it plus the inbox delay on the arrows into it, and every share is a share of
    all waiting of the journey. A handoff arrow's time lost is its own ``lost_per_case`` (the
    arrow's inbox delay plus the queueing at the receiving step on the visits it brought), never the
    department pair's total split over its arrows.
    """

    step_share: dict[str, float] = field(default_factory=dict)
    step_wait: dict[str, float] = field(default_factory=dict)
    dept_share: dict[str, float] = field(default_factory=dict)
    dept_util: dict[str, float] = field(default_factory=dict)
    pair_waste: dict[tuple[str, str], float] = field(default_factory=dict)
    pair_handoffs: dict[tuple[str, str], float] = field(default_factory=dict)
    flow_lost: dict[tuple[str, str], float] = field(default_factory=dict)
    flow_inbox: dict[tuple[str, str], float] = field(default_factory=dict)
    flow_queue: dict[tuple[str, str], float] = field(default_factory=dict)
    flow_number: dict[tuple[str, str], int] = field(default_factory=dict)
    bottleneck_step: str | None = None
    bottleneck_dept: str | None = None
    bottleneck: dict[str, Any] = field(default_factory=dict)
    stability: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def max_step_share(self) -> float:
        return max(self.step_share.values(), default=0.0)

    @property
    def max_dept_share(self) -> float:
        return max(self.dept_share.values(), default=0.0)

    @property
    def steady(self) -> bool:
        """False only when the summary says the design is not in steady state (defined in docs/simulation.md)."""
        return self.stability.get("steady", True) is not False


def _mean(s: Any) -> float:
    """The mean of an ``S`` record, or the number itself."""
    if isinstance(s, Mapping):
        return float(s.get("mean", 0.0) or 0.0)
    return float(s or 0.0)


def _f(x: Any) -> float:
    return float(x or 0.0)


def _read_results(results: Mapping[str, Any] | None, g: nx.DiGraph | None = None) -> _Results | None:
    """Reduce a simulation summary to the figures the drawings show (see :class:`_Results`).

    With ``summary["flows"]`` (the per-arrow data) a step's waiting is its queueing plus the inbox
    delay on the arrows into it, and department shares are sums over their steps, the same
    definition as ``summary["bottleneck"]``. Older summaries without flows fall back to their own
    per-step and per-department shares and show no per-arrow time lost.
    """
    if not results:
        return None
    r = _Results(summary=dict(results))
    steps = results.get("steps") or {}
    flows = results.get("flows") or []
    for f in flows:
        key = (f["source"], f["target"])
        r.flow_lost[key] = _f(f.get("lost_per_case"))
        r.flow_inbox[key] = _f(f.get("inbox_per_case"))
        r.flow_queue[key] = _f(f.get("queue_per_case"))
        if f.get("number") is not None:
            r.flow_number[key] = int(f["number"])
    if flows:
        wait = {sid: _f(d.get("wait_per_case")) for sid, d in steps.items()}
        for (_, target), inbox in r.flow_inbox.items():
            wait[target] = wait.get(target, 0.0) + inbox
        total = sum(wait.values())
        r.step_wait = wait
        r.step_share = {sid: (w / total if total > 0 else 0.0) for sid, w in wait.items()}
        if g is not None:
            for sid, w in wait.items():
                if sid in g and g.nodes[sid]["owner"] != CUSTOMER:
                    owner = g.nodes[sid]["owner"]
                    r.dept_share[owner] = r.dept_share.get(owner, 0.0) + (w / total if total > 0 else 0.0)
    else:
        for sid, d in steps.items():
            r.step_share[sid] = _f(d.get("share_of_waiting"))
            r.step_wait[sid] = _f(d.get("wait_per_case"))
    for dept, d in (results.get("departments") or {}).items():
        if not flows or g is None:
            r.dept_share[dept] = _f(d.get("share_of_waiting"))
        else:
            r.dept_share.setdefault(dept, 0.0)
        r.dept_util[dept] = _mean(d.get("utilisation"))
    for p in (results.get("handoff_waste") or {}).get("pairs", []) or []:
        key = (p["from"], p["to"])
        r.pair_waste[key] = _f(p.get("waste_per_case"))
        r.pair_handoffs[key] = _f(p.get("handoffs_per_case"))
    b = dict(results.get("bottleneck") or {})
    # older summaries named the department's share "share_of_waiting"
    b.setdefault("department_share", b.get("share_of_waiting", 0.0))
    b.setdefault("step_share", b.get("step_share_of_waiting", r.step_share.get(b.get("step") or "", 0.0)))
    r.bottleneck = b
    r.bottleneck_step = b.get("step")
    r.bottleneck_dept = b.get("department")
    r.stability = dict(results.get("stability") or {})
    return r


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


def _bottleneck_lines(journey: Journey, res: _Results) -> list[str]:
    """The bottleneck (defined in docs/simulation.md): department and step, each share labelled, and what the waiting is made of."""
    b = res.bottleneck
    if not (res.bottleneck_dept or res.bottleneck_step):
        return []
    dept = journey.department_by_id.get(res.bottleneck_dept or "")
    step = journey.step_by_id.get(res.bottleneck_step or "")
    lines = []
    if dept is not None:
        line = f"\u26a0 Bottleneck: {dept.name} \u2014 department share of waiting {100 * _f(b.get('department_share')):.0f}%"
        if b.get("lost_per_case") is not None:
            line += (f" ({format_minutes(_f(b.get('lost_per_case')))}/case: queueing "
                     f"{format_minutes(_f(b.get('queueing_per_case')))}, inbox delay "
                     f"{format_minutes(_f(b.get('inbox_per_case')))})")
        lines.append(line)
    if step is not None:
        line = (f"{'   its step' if dept is not None else chr(0x26a0) + ' Bottleneck step'}: {step.name} \u2014 "
                f"step share of waiting {100 * _f(b.get('step_share')):.0f}%")
        if b.get("step_lost_per_case") is not None:
            line += (f" ({format_minutes(_f(b.get('step_lost_per_case')))}/case: queueing "
                     f"{format_minutes(_f(b.get('step_queueing_per_case')))}, inbox delay "
                     f"{format_minutes(_f(b.get('step_inbox_per_case')))})")
        lines.append(line)
    return lines


#: Labels of ``bottleneck.where_time_goes`` (defined in docs/simulation.md), in the order the title lists them.
WHERE_TIME_GOES = (("work", "staff work"), ("queueing", "queueing"), ("inbox", "inbox delay"),
                   ("customer", "customer time"), ("gate", "waiting for other personas"))


def _where_time_goes_line(res: _Results) -> str | None:
    """'Where the time goes, per case: staff work 5.1d · queueing 1.1d · inbox delay 16.8d · ...'."""
    w = res.bottleneck.get("where_time_goes") or {}
    parts = [f"{label} {format_minutes(_f(w.get(key)))}" for key, label in WHERE_TIME_GOES
             if key in w and (key != "gate" or _f(w.get(key)) > 0)]
    return "Where the time goes, per case: " + " \u00b7 ".join(parts) if parts else None


def _stability_cells(res: _Results) -> list[_Cell]:
    """A warning under the title when the design is not in steady state: its CI is not a property of the design."""
    if res.steady:
        return []
    s = res.stability
    message = s.get("message") or "Not in steady state: queues keep growing, so these figures depend on the run length."
    cells = [_Cell([f"\u26a0 NOT STEADY \u2014 {message}"], HEADER_SIZE, bold=True, colour="#FFFFFF",
                   fill=palette.HANDOFF)]
    if s.get("hint"):
        cells.append(_Cell(_wrap(str(s["hint"]), 140), TEXT_SIZE, bold=True, colour=palette.HANDOFF))
    return cells


def _title_cells(journey: Journey, g: nx.DiGraph, res: _Results | None, view: str,
                 whole: Journey | None = None) -> list[_Cell]:
    """Title lines; ``whole`` is the whole journey when drawing a close-up (for the bottleneck's names)."""
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
    if whole is not None and len(whole.stages) != len(journey.stages):
        cells.append(_Cell([f"Close-up of {_count(len(journey.stages), 'stage')} of {len(whole.stages)}: handoff "
                            "numbers, stage headers and simulated figures are the whole journey's"], HEADER_SIZE,
                           italic=True))
    if res is not None:
        cells.extend(_stability_cells(res))
        s = res.summary
        case = s.get("case", {}) or {}
        ct = case.get("cycle_time", {}) or {}
        waste = (s.get("handoff_waste") or {})
        line = (f"Simulated {s.get('cases', '?')} cases \u00d7 {s.get('replications', '?')} runs: cycle time "
                f"mean {format_minutes(_mean(ct))}, P50 {format_minutes(float(ct.get('p50', 0) or 0))}, "
                f"P90 {format_minutes(float(ct.get('p90', 0) or 0))}")
        if waste:
            line += (f" \u00b7 time lost on handoffs {format_minutes(_mean(waste.get('total')))} per case "
                     f"({100 * _mean(waste.get('share_of_cycle_time')):.0f}% of cycle time)")
        cells.append(_Cell([line], HEADER_SIZE))
        where = _where_time_goes_line(res)
        if where:
            cells.append(_Cell([where], HEADER_SIZE))
        for k, text in enumerate(_bottleneck_lines(whole or journey, res)):
            cells.append(_Cell([text], HEADER_SIZE, bold=True, colour="#FFFFFF", fill=palette.BOTTLENECK))
    return cells


def _left_table(cells: Sequence[_Cell]) -> Html:
    inner = "".join(c.html().replace("<TD", '<TD ALIGN="LEFT" BALIGN="LEFT"', 1) for c in cells)
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4">{inner}</TABLE>')


def _legend_cells(res: _Results | None, blueprint: bool, changed: bool = False,
                  wrapped: bool = False) -> tuple[Html, tuple[float, float]]:
    """The legend: what each mark means, as one HTML table."""
    rows: list[tuple[str, str, str | None, str]] = [
        # (sample text, sample colour, sample fill, meaning)
        ("\u25a2 rounded, blue", "#1F4E79", palette.TOUCHPOINT_FILL, "touchpoint (the persona sees it): channel and emotion"),
        ("\u25a2 rounded, yellow", "#1F4E79", palette.CUSTOMER_FILL, "customer action"),
        ("\u25a1 square, grey", "#555555", "#FFFFFF", "internal step (the persona does not see it)"),
        ("\u2605 MOMENT OF TRUTH", "#000000", palette.OKABE_ITO["yellow"], "moment of truth: double border"),
        ("\u2501\u2501\u25b6 H1", palette.HANDOFF, None, "internal handoff between departments, numbered"),
        ("\u2504\u2504\u25b6 \u21ba", palette.REWORK, None, "rework loop: the case goes back (dashed blue)"),
        ("\u2504\u2504\u25b6 H2 \u21ba", palette.HANDOFF, None, "rework that crosses departments: dashed vermillion, numbered"),
        ("\u2500\u2500\u25b6", palette.FLOW, None, "flow (with branch %, inbox delay \"+2.0d wait\")"),
    ]
    if blueprint:
        rows.append(("\u2504\u2504\u2504\u2504", "#000000", None, "line of visibility"))
    if wrapped:
        rows.append(("\u2500\u25cf \u25b6 to row 2", palette.FLOW, None,
                     "an arrow that continues in another row of stages (\"from row 1\" where it arrives)"))
    if res is not None:
        rows.append(("waits 2.0h/case", "#000000", palette.waiting_colour(1.0),
                     "step's waiting per case (queueing + inbox delay into it); darker = larger step share"))
        rows.append(("\u2501\u2501 thick", palette.HANDOFF, None,
                     "handoff width and \"lost/case\" = time lost on this arrow: its inbox delay"))
        rows.append(("", "#000000", None, "+ queueing at the receiving step when entered through it"))
        rows.append(("BOTTLENECK", "#FFFFFF", palette.BOTTLENECK, "the department (and its step) where cases wait most"))
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
        sample_html = f"<B>{escape_html(sample)}</B>" if sample else " "
        html.append(f'<TR><TD ALIGN="LEFT"{bg}><FONT POINT-SIZE="{_num(TEXT_SIZE)}" COLOR="{colour}">'
                    f'{sample_html}</FONT></TD><TD ALIGN="LEFT"><FONT POINT-SIZE="{_num(TEXT_SIZE)}">'
                    f'{escape_html(meaning)}</FONT></TD></TR>')
    html.append(f'<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="3"><TR>{emotions}</TR>'
                f'</TABLE></TD><TD ALIGN="LEFT"><FONT POINT-SIZE="{_num(TEXT_SIZE)}">emotion, -3 furious to +3 '
                f'delighted</FONT></TD></TR>')
    html.append("</TABLE>")
    width = (max(24, max(len(r[0]) for r in rows)) * TEXT_SIZE * 0.66
             + max(44, max(len(r[3]) for r in rows)) * TEXT_SIZE * 0.6 + 40)
    height = (len(rows) + 2) * (TEXT_SIZE * 1.25 + 12) + HEADER_SIZE * 1.25 + 20
    return Html("".join(html)), (width, height)


# --------------------------------------------------------------------------- map and blueprint


def _step_cells(journey: Journey, g: nx.DiGraph, n: str, res: _Results | None, view: str) -> list[_Cell]:
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
        # the waiting is a shaded cell of its own, so the box keeps the fill of its role (legend)
        cells.append(_Cell([f"waits {format_minutes(res.step_wait.get(n, 0.0))}/case",
                            f"step share of waiting {100 * res.step_share[n]:.0f}%"], TEXT_SIZE, bold=True,
                           fill=palette.waiting_colour(res.step_share[n], res.max_step_share)))
    return cells


def _step_attrs(g: nx.DiGraph, n: str, res: _Results | None) -> dict[str, Any]:
    d = g.nodes[n]
    if d["touchpoint"]:
        attrs: dict[str, Any] = {"shape": "box", "style": "rounded,filled", "color": "#1F4E79", "penwidth": 2.5,
                                 "fillcolor": palette.CUSTOMER_FILL if d["customer"] else palette.TOUCHPOINT_FILL}
    else:
        attrs = {"shape": "box", "style": "filled", "color": "#666666", "penwidth": 1.2,
                 "fillcolor": palette.INTERNAL_FILL}
    if res is not None:
        if res.bottleneck_step == n:
            attrs["penwidth"] = 6.0
            attrs["color"] = palette.BOTTLENECK
    if d["moment_of_truth"]:
        attrs["peripheries"] = 2
    return attrs


def _edge_label_and_attrs(g: nx.DiGraph, u: str, v: str, number: int | None, waste: float | None,
                          max_waste: float) -> dict[str, Any]:
    d = g.edges[u, v]
    lines = _edge_lines(g, u, v, number, waste)
    attrs: dict[str, Any] = {"color": palette.FLOW, "penwidth": 1.6, "arrowsize": 1.1}
    colour = palette.FLOW
    bold = False
    if number is not None:
        colour, bold = palette.HANDOFF, True
        attrs.update(color=colour, penwidth=3.5, arrowsize=1.3, arrowtail="dot", dir="both")
        if waste is not None and max_waste > 0:
            attrs["penwidth"] = round(3.0 + 9.0 * waste / max_waste, 2)
        elif waste is not None:
            attrs["penwidth"] = 3.0
    if d["rework"]:
        attrs["style"] = "dashed"
        if number is None:
            colour = palette.REWORK
            attrs.update(color=colour, penwidth=2.5)
    if lines:
        attrs["label"] = _edge_label(lines, colour, NAME_SIZE if number is not None else TEXT_SIZE, bold)
    return attrs


def _edge_lines(g: nx.DiGraph, u: str, v: str, number: int | None, waste: float | None) -> list[str]:
    """The facts on an arrow, one a line: H-number, rework, branch %, inbox delay, time lost on it, its label."""
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
    if waste is not None and number is not None:
        parts.append(f"{format_minutes(waste)} lost/case")
    return parts + (_wrap(d["label"], 22) if d["label"] else [])


def _edge_label(lines: Sequence[str], colour: str, size: float, bold: bool = False) -> Html:
    """An edge label on a white box, one fact per line: readable where it crosses a line or a lane boundary."""
    body = "<BR/>".join(escape_html(t) for t in lines)
    if bold:
        body = f"<B>{body}</B>"
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLPADDING="2" BGCOLOR="#FFFFFF"><TR><TD>'
                f'<FONT POINT-SIZE="{_num(size)}" COLOR="{colour}">{body}</FONT></TD></TR></TABLE>')


def _label_box(label: str) -> tuple[float, float]:
    """Width and height (points) of an :func:`_edge_label`, estimated as the layout estimates boxes."""
    size = float(re.search(r'POINT-SIZE="([\d.]+)"', label).group(1)) if "POINT-SIZE" in label else TEXT_SIZE
    body = re.sub(r"<BR/>", "\n", label)
    body = re.sub(r"<[^>]+>", "", body)
    body = body.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    return estimate_size([[Row(t, size, "<B>" in label) for t in body.split("\n")]], padding=2.0)


def _edge_label_width(g: nx.DiGraph, u: str, v: str) -> float:
    """Rough width of a flow's label (points), so the layout can leave room for it between columns."""
    d = g.edges[u, v]
    longest = max([len(t) for t in _wrap(d["label"], 22)] if d["label"] else [0])
    longest = max(longest, 16 if d["mean_delay"] > 0 or d["handoff"] else 0)
    return longest * NAME_SIZE * 0.62


def _xdot_rect(x0: float, y0: float, x1: float, y1: float, fill: str, pen: str | None = None) -> str:
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
        # an account's combined journey: each step carries its persona ("" for the deal's own steps)
        lane_of = {s.id: s.persona or "" for s in journey.steps}
        lanes = list(dict.fromkeys(lane_of[s.id] for s in journey.steps))
        titles = {}
        for s in journey.steps:
            lane = lane_of[s.id]
            if lane not in titles:
                titles[lane] = (s.persona_name or lane, "persona") if lane else ("The deal", "start and end")
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


def journey_dot(journey: Journey, view: str = "map", results: Mapping[str, Any] | None = None,
                g: nx.DiGraph | None = None, highlight: Iterable[str] = (),
                stages: Sequence[str] | None = None) -> str:
    """DOT source of one view of a journey; ``results`` is a simulation summary (optional).

    ``highlight`` names steps to mark as changed (a green border and a
    "CHANGED" badge), e.g. the steps an after-design adds or edits.
    ``stages`` draws a close-up of those stages only; handoff numbers and every
    figure stay those of the whole journey (``g``, when given, is the whole
    journey's graph).

    >>> from journeymap import load_journey
    >>> src = journey_dot(load_journey("journeys/acme-cio.yaml"), "blueprint")  # doctest: +SKIP
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view: {view!r} (must be one of {', '.join(VIEWS)})")
    g = g if g is not None else build_graph(journey)
    if stages:
        unknown = [st for st in stages if st not in journey.stage_by_id]
        if unknown:
            raise ValueError(f"no stage {unknown[0]!r} (stages: {', '.join(journey.stage_by_id)})")
    if view == "handoffs":
        return handoff_network_dot(journey, g, results)
    if view == "personas" and not is_account_journey(journey):
        raise ValueError("the personas view is for accounts: render an account file (a lane per persona)")
    res = _read_results(results, g)
    if view == "overview":
        from .overview import overview_dot

        return overview_dot(journey, g, res, stages)
    return _lane_dot(journey, g, view, res, set(highlight or ()), stages)


def map_dot(journey: Journey, results: Mapping[str, Any] | None = None, g: nx.DiGraph | None = None,
            highlight: Iterable[str] = (), stages: Sequence[str] | None = None) -> str:
    """The journey map: one lane per department, the customer on top."""
    return journey_dot(journey, "map", results, g, highlight, stages)


def blueprint_dot(journey: Journey, results: Mapping[str, Any] | None = None,
                  g: nx.DiGraph | None = None, highlight: Iterable[str] = (),
                  stages: Sequence[str] | None = None) -> str:
    """The service blueprint: customer, frontstage | line of visibility | backstage, support."""
    return journey_dot(journey, "blueprint", results, g, highlight, stages)


def handoff_numbers(g: nx.DiGraph) -> dict[tuple[str, str], int]:
    """H-number of every handoff arrow (defined in docs/simulation.md): its 1-based place in ``analysis.handoffs`` of the WHOLE journey.

    Every view and every close-up takes its numbers from here, given the whole journey's graph,
    so "H3" is the same arrow on the map, the overview, a ``--stage`` close-up and in the report.
    """
    return {(h["from_step"], h["to_step"]): i for i, h in enumerate(handoffs(g), 1)}


#: The widest a whole map may be (width : height); wider maps wrap their stages into rows.
MAX_ASPECT = 3.0
#: The shape the wrapping aims for: a 16:9 screen.
SCREEN_ASPECT = 16 / 9
#: Vertical room between two rows of stages (points).
ROW_GAP = 60.0


def _partition(widths: Sequence[float], k: int) -> list[int]:
    """Split consecutive ``widths`` into ``k`` groups with the smallest widest group; returns the group sizes."""
    n = len(widths)
    prefix = [0.0]
    for w in widths:
        prefix.append(prefix[-1] + w)
    inf = float("inf")
    best = [[inf] * (k + 1) for _ in range(n + 1)]
    cut = [[0] * (k + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, min(i, k) + 1):
            for m in range(j - 1, i):
                cost = max(best[m][j - 1], prefix[i] - prefix[m])
                if cost < best[i][j]:
                    best[i][j], cut[i][j] = cost, m
    sizes = []
    i, j = n, k
    while j > 0:
        m = cut[i][j]
        sizes.append(i - m)
        i, j = m, j - 1
    return sizes[::-1]


@dataclass
class _Block:
    """One row of stages: its stages, lanes and grid, and where its top sits (points from the frame top)."""

    stages: list[str]
    lanes: list[str]
    layout: Any
    top: float = 0.0


def _blocks(g: nx.DiGraph, stages: Sequence[str], lanes: Sequence[str], lane_of: Mapping[str, str],
            sizes: Mapping[str, tuple[float, float]], room: Mapping[str, float], keep_lanes: bool,
            rows: int, header_h: float) -> list[_Block]:
    """Lay out ``stages`` in ``rows`` rows of consecutive stages, balanced by width."""
    if rows <= 1:
        lay = grid_layout(g, stages, lanes, lane_of, sizes, left=LANE_TITLE_WIDTH + 20, room=room)
        return [_Block(list(stages), list(lanes), lay)]
    whole = grid_layout(g, stages, lanes, lane_of, sizes, left=0.0, room=room)
    widths = [whole.stage_span(s)[1] - whole.stage_span(s)[0] for s in stages]
    out: list[_Block] = []
    start = 0
    for size in _partition(widths, rows):
        group = list(stages[start:start + size])
        start += size
        members = [n for n in g if g.nodes[n]["stage"] in group]
        sub = g.subgraph(members)
        used = {lane_of[n] for n in members}
        block_lanes = list(lanes) if keep_lanes else [lane for lane in lanes if lane in used] or list(lanes[:1])
        lay = grid_layout(sub, group, block_lanes, lane_of, sizes, left=LANE_TITLE_WIDTH + 20, room=room)
        out.append(_Block(group, block_lanes, lay))
    return out


def _stack(blocks: list[_Block], top: float, header_h: float) -> float:
    """Give each block its top; returns the bottom of the last one."""
    y = top
    for b in blocks:
        b.top = y + header_h + 10
        y = b.top + b.layout.height + ROW_GAP
    return y - ROW_GAP


def _lane_dot(journey: Journey, g: nx.DiGraph, view: str, res: _Results | None, highlight: set[str],
              stages_only: Sequence[str] | None = None) -> str:
    whole, whole_g = journey, g
    numbers = handoff_numbers(whole_g)  # as docs/simulation.md defines it: the whole journey's numbers, also in a close-up
    if res is not None and res.flow_number:
        numbers = {k: res.flow_number.get(k, v) for k, v in numbers.items()}
    if stages_only:
        journey = whole.only_stages(list(stages_only))
        g = build_graph(journey)
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
    totals = journey_totals(journey, g)
    totals["handoffs_per_stage"] = {s: sum(1 for (a, b) in numbers if b in g and g.nodes[b]["stage"] == s and a in whole_g)
                                    for s in stages}

    title = _title_cells(journey, g, res, "service blueprint" if view == "blueprint" else "journey map", whole)
    title_w, title_h = _size(title)
    header_h = 74.0
    legend, (legend_w, legend_h) = _legend_cells(res, view == "blueprint", bool(highlight))
    right_margin = 200.0 if view == "blueprint" else 40.0
    lanes_top = title_h + 20

    def frame(blocks: list[_Block]) -> tuple[float, float]:
        bottom = _stack(blocks, lanes_top, header_h)
        w = max(max(b.layout.width for b in blocks) + right_margin, title_w + 40, legend_w + 40)
        return w, bottom + 30 + legend_h + 20

    # wrap the stages into rows when one row would be wider than MAX_ASPECT: pick the number of rows
    # whose frame is closest to a 16:9 screen (so the room reads it largest), never wider than 3:1
    blocks = _blocks(g, stages, lanes, lane_of, sizes, room, view == "blueprint", 1, header_h)
    width, height = frame(blocks)
    if width / height > MAX_ASPECT and len(stages) > 1:
        best = None
        for k in range(2, len(stages) + 1):
            cand = _blocks(g, stages, lanes, lane_of, sizes, room, view == "blueprint", k, header_h)
            w, h = frame(cand)
            score = abs(math.log((w / h) / SCREEN_ASPECT)) + (10.0 if w / h > MAX_ASPECT else 0.0)
            if best is None or score < best[0]:
                best = (score, cand, w, h)
        _, blocks, width, height = best
        legend, (legend_w, legend_h) = _legend_cells(res, view == "blueprint", bool(highlight), wrapped=True)
        width, height = frame(blocks)
    where = {n: b for b in blocks for n in b.layout.positions}

    def Y(y: float) -> float:
        return round(height - y, 1)

    def P(n: str) -> tuple[float, float]:
        """Position of a step, y downwards from the frame top."""
        x, y = where[n].layout.positions[n]
        return x, where[n].top + y

    lines: list[str] = []
    bg: list[str] = []
    add = lines.append
    graph_attrs = {
        "layout": "neato", "inputscale": 72, "splines": "true" if g.number_of_nodes() <= ROUTE_LIMIT else "line",
        "overlap": "true",
        "outputorder": "edgesfirst", "bgcolor": "#FFFFFF", "pad": 0.3, "fontname": palette.FONT,
        "esep": "+3",
    }
    for b in blocks:
        lay = b.layout
        # lane bands (drawn under everything via _background)
        for i, lane in enumerate(b.lanes):
            top = b.top + lay.lane_top[lane]
            bottom = top + lay.lane_height[lane]
            fill = "#F2F2F2" if i % 2 == 0 else "#FFFFFF"
            bg.append(_xdot_rect(0, Y(top), width, Y(bottom), fill))
            bg.append(_xdot_line(0, Y(bottom), width, Y(bottom), "#BBBBBB", 1, False))
        # stage separators
        for s in b.stages[1:]:
            x0, _ = lay.stage_span(s)
            bg.append(_xdot_line(x0, Y(b.top - header_h - 6), x0, Y(b.top + lay.height), "#888888", 1.5, True))
        if view == "blueprint":
            y = b.top + lay.lane_top["backstage"]
            bg.append(_xdot_line(0, Y(y), width, Y(y), "#000000", 3, True))
            y2 = b.top + lay.lane_top["frontstage"]
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
    add("  // lanes, top to bottom" + (f"; the stages wrap into {len(blocks)} rows" if len(blocks) > 1 else ""))
    for k, b in enumerate(blocks):
        for lane in b.lanes:
            top = b.top + b.layout.lane_top[lane]
            h = b.layout.lane_height[lane]
            name, sub = titles.get(lane, (lane, ""))
            fill = "#DDDDDD"
            extra: list[_Cell] = []
            if res is not None and lane in res.dept_share:
                fill = palette.waiting_colour(res.dept_share[lane], res.max_dept_share)
                extra.append(_Cell(["department share", f"of waiting {100 * res.dept_share[lane]:.0f}%",
                                    f"utilisation {100 * res.dept_util.get(lane, 0.0):.0f}%"], TEXT_SIZE, bold=True))
            if res is not None and lane == res.bottleneck_dept:
                extra.insert(0, _Cell(["\u26a0 BOTTLENECK"], TEXT_SIZE, bold=True, colour="#FFFFFF", fill=palette.BOTTLENECK))
            label = _table([_Cell(_wrap(name, 18), HEADER_SIZE, bold=True), _Cell(_wrap(sub, 22), TEXT_SIZE, italic=True)]
                           + extra)
            node = "lane:" + lane + (f"#{k + 1}" if k else "")
            add(f"  {quote(node)} {_attrs({'shape': 'box', 'style': 'filled', 'fillcolor': fill, 'color': '#888888', 'fixedsize': True, 'width': _num(LANE_TITLE_WIDTH / 72), 'height': _num(max(h - 14, 20) / 72), 'label': label, 'pos': _pos(10 + LANE_TITLE_WIDTH / 2, Y(top + h / 2)), 'class': 'lane'})};")
        if view == "blueprint":
            for name, lane, text, colour in (("_visibility", "backstage", "<B>LINE OF VISIBILITY</B>", "#000000"),
                                             ("_interaction", "frontstage", "line of interaction", "#555555")):
                y = b.top + b.layout.lane_top[lane]
                label = Html(f'<FONT POINT-SIZE="{_num(TEXT_SIZE)}" COLOR="{colour}">{text}</FONT>')
                add(f"  {name}{'' if not k else k + 1} {_attrs({'shape': 'plaintext', 'label': label, 'pos': _pos(width - 100, Y(y - 14))})};")

    # stage headers with their handoff counts
    add("  // stages, left to right: name, touchpoints and internal handoffs")
    for b in blocks:
        for sid in b.stages:
            s = journey.stage_by_id[sid]
            x0, x1 = b.layout.stage_span(s.id)
            n_h = totals["handoffs_per_stage"].get(s.id, 0)
            n_t = totals["touchpoints_per_stage"].get(s.id, 0)
            cells_h = [_Cell(_wrap(s.name.upper(), max(12, int((x1 - x0) / 12))), HEADER_SIZE, bold=True),
                       _Cell([f"{n_h} handoff{'s' if n_h != 1 else ''} \u00b7 {n_t} touchpoint{'s' if n_t != 1 else ''}"],
                             TEXT_SIZE, bold=True, colour=palette.HANDOFF if n_h else "#333333")]
            add(f"  {quote('stage:' + s.id)} {_attrs({'shape': 'box', 'style': 'filled', 'fillcolor': '#E8E8E8', 'color': '#888888', 'fixedsize': True, 'width': _num((x1 - x0 - 14) / 72), 'height': _num(header_h / 72), 'label': _table(cells_h), 'pos': _pos((x0 + x1) / 2, Y(b.top - 10 - header_h / 2)), 'class': 'stage', 'tooltip': f'{n_h} internal handoffs'})};")

    # steps
    add("  // steps")
    for n in sorted(g, key=lambda k: g.nodes[k]["order"]):
        x, y = P(n)
        attrs = _step_attrs(g, n, res)
        if n in highlight:
            attrs.update(color=palette.CHANGED, penwidth=5.0)
        attrs["label"] = _table(cells[n])
        attrs["pos"] = _pos(x, Y(y))
        attrs["class"] = "touchpoint" if g.nodes[n]["touchpoint"] else "internal"
        add(f"  {quote(n)} {_attrs(attrs)};")

    # flows
    add("  // flows; internal handoffs are numbered H1, H2... in the whole journey's file order")
    lost = res.flow_lost if res is not None else {}
    max_lost = max((w for e, w in lost.items() if e in numbers), default=0.0)
    backward = back_edges(g)
    late: list[str] = []

    # where a label may not go: step boxes, lane titles, stage headers, the title (frame coordinates, y down)
    taken: list[tuple[float, float, float, float]] = []
    for n in g:
        x, y = P(n)
        w, h = sizes[n]
        taken.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    for b in blocks:
        taken.append((0.0, b.top - header_h - 12, width, b.top))
    taken.append((0.0, 0.0, width, lanes_top))
    taken.append((0.0, 0.0, LANE_TITLE_WIDTH + 24, height))

    def free_spot(pa: tuple[float, float], pb: tuple[float, float], w: float, h: float) -> tuple[float, float] | None:
        """A point along the straight line a-b where a w x h label touches no box and no other label."""
        # on the line first, then just beside it (above, below, left, right), nearest the middle first
        beside = ((0.0, 0.0), (0.0, -(h / 2 + 8)), (0.0, h / 2 + 8), (-(w / 2 + 8), 0.0), (w / 2 + 8, 0.0))
        for dx, dy in beside:
            for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
                x, y = pa[0] + (pb[0] - pa[0]) * t + dx, pa[1] + (pb[1] - pa[1]) * t + dy
                box = (x - w / 2 - 6, y - h / 2 - 6, x + w / 2 + 6, y + h / 2 + 6)
                if all(box[2] <= o[0] or o[2] <= box[0] or box[3] <= o[1] or o[3] <= box[1] for o in taken):
                    taken.append(box)
                    return x, y
        return None

    def edge(a: str, b: str, attrs: Mapping[str, Any], pa: tuple[float, float], pb: tuple[float, float],
             flow: tuple[str, str]) -> None:
        """Draw the line; its label becomes a node of its own beside it where there is room.

        Graphviz draws every line before any node and routes lines around nodes, so a label
        drawn as a node is never crossed by a line (a label on the line itself is crossed by
        every line drawn after it). Where no free spot is found the label stays on the line.
        """
        attrs = dict(attrs)
        label = attrs.get("label")
        if label is not None:
            w, h = _label_box(label)
            spot = free_spot(pa, pb, w, h)
            if spot is not None:
                attrs.pop("label")
                late.append(f"  _label{len(late)} {_attrs({'shape': 'plaintext', 'margin': 0, 'label': label, 'pos': _pos(spot[0], Y(spot[1])), 'class': 'label', 'comment': f'label of {flow[0]} -> {flow[1]}'})};")
        add(f"  {a} -> {b} {_attrs(attrs)};")

    for i, (u, v) in enumerate(sorted(g.edges, key=lambda e: (g.nodes[e[0]]["order"], g.nodes[e[1]]["order"]))):
        number = numbers.get((u, v)) if g.edges[u, v]["handoff"] else None
        attrs = _edge_label_and_attrs(g, u, v, number, lost.get((u, v)) if res is not None and lost else None,
                                      max_lost)
        kind = ["handoff"] if number is not None else []
        kind += ["rework"] if g.edges[u, v]["rework"] else []
        attrs["class"] = " ".join(kind) or "flow"
        if where[u] is not where[v]:
            # the arrow crosses to another row of stages: two short stubs instead of an arc over everything,
            # out at the right end of the source's row and in at the left end of the target's row
            row_of = {id(b): k + 1 for k, b in enumerate(blocks)}
            (xu, yu), (xv, yv) = P(u), P(v)
            out_x = where[u].layout.width + 18
            in_x = LANE_TITLE_WIDTH + 24
            add(f"  _out{i} {_attrs({'shape': 'point', 'width': 0.12, 'color': attrs['color'], 'pos': _pos(out_x, Y(yu))})};")
            add(f"  _in{i} {_attrs({'shape': 'point', 'width': 0.12, 'color': attrs['color'], 'pos': _pos(in_x, Y(yv))})};")
            to_row, from_row = f"\u25b6 to row {row_of[id(where[v])]}", f"from row {row_of[id(where[u])]}"
            first = dict(attrs, arrowhead="none")
            first.pop("label", None)
            lines_out = (_edge_lines(g, u, v, number, lost.get((u, v)) if lost else None) or []) + [to_row]
            colour = attrs.get("color", palette.FLOW)
            first["label"] = _edge_label(lines_out, colour, NAME_SIZE if number is not None else TEXT_SIZE,
                                         number is not None)
            edge(quote(u), f"_out{i}", first, (xu, yu), (out_x, yu), (u, v))
            second = {k: attrs[k] for k in ("color", "penwidth", "style", "class", "arrowsize") if k in attrs}
            tag = (f"H{number} " if number is not None else "") + from_row
            second["label"] = _edge_label([tag], colour, TEXT_SIZE, number is not None)
            edge(f"_in{i}", quote(v), second, (in_x, yv), (xv, yv), (u, v))
            continue
        if (u, v) in backward and u != v:
            # a loop back: route it through an invisible point under both steps, so it reads as a loop
            # and never hides under the forward flow between the same two steps
            (xu, yu), (xv, yv) = P(u), P(v)
            below = max(yu + sizes[u][1] / 2, yv + sizes[v][1] / 2) + 26
            via = f"_loop{i}"
            add(f"  {via} {_attrs({'shape': 'point', 'style': 'invis', 'width': 0.01, 'pos': _pos((xu + xv) / 2, Y(below))})};")
            first = {k: attrs[k] for k in ("color", "penwidth", "style", "class") if k in attrs}
            if "arrowtail" in attrs:
                first.update(arrowtail="dot", dir="back")
            else:
                first["arrowhead"] = "none"
            edge(quote(u), via, first, (xu, yu), ((xu + xv) / 2, below), (u, v))
            attrs.pop("arrowtail", None)
            attrs.pop("dir", None)
            edge(via, quote(v), attrs, ((xu + xv) / 2, below), (xv, yv), (u, v))
            continue
        edge(quote(u), quote(v), attrs, P(u), P(v), (u, v))
    add("  // the labels of the flows as nodes beside their lines: drawn after every line, never crossed")
    lines.extend(late)
    add("}")
    return "\n".join(lines) + "\n"


def _pos(x: float, y: float) -> str:
    return f"{_num(round(x, 1))},{_num(round(y, 1))}!"


# --------------------------------------------------------------------------- handoff network


def handoff_network_dot(journey: Journey, g: nx.DiGraph | None = None,
                        results: Mapping[str, Any] | None = None) -> str:
    """Departments as nodes; one edge per direction with its handoff count (and waste, with results).

    Edges between two departments that hand work back and forth (both
    directions present) are drawn thick and vermillion and labelled
    "ping-pong", so the loops stand out.
    """
    g = g if g is not None else build_graph(journey)
    res = _read_results(results, g) if not isinstance(results, _Results) else results
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
             f"{'time lost per case on all of the pair&#39;s arrows (the sum of their lost/case on the map)' if waste else 'number of handoffs'}; "
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
            cells.append(_Cell([f"department share of waiting {100 * res.dept_share[d.id]:.0f}%",
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
            label.append(f"{format_minutes(w)} lost per case (pair total)")
        if pong:
            label.insert(0, "\u21c4 ping-pong")
        colour = palette.HANDOFF if pong else "#0072B2"
        attrs = {"penwidth": round(pen, 2), "color": colour, "label": _edge_label(label, colour, TEXT_SIZE, pong),
                 "arrowsize": 1.2, "class": "ping-pong" if pong else "handoff", "weight": int(c)}
        lines.append(f"  {quote(a)} -> {quote(b)} {_attrs(attrs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
