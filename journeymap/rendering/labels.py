"""The words on the drawings: step boxes, arrows, titles and the legend.

Each function returns label content (cells of an HTML-like table, or lines of text) for one thing on
a drawing: a step (name, channel, emotion, who does it, its waiting), a flow (H-number, rework,
branch %, delay, time lost), the title (persona, totals, simulated figures, the bottleneck) and the
legend. Counts come from :mod:`journeymap.analysis`, shading from :mod:`.shading`; how a label is
placed is the view's business.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import Any

import networkx as nx

from ..analysis import stage_counts
from ..distributions import format_minutes
from ..model import CUSTOMER, EMOTION_SCALE, Journey
from ..simulation.summary import WHERE_TIME_GOES_LABELS
from . import palette
from .layout import Row, estimate_size
from .palette import HEADER_SIZE, NAME_SIZE, TEXT_SIZE, TITLE_SIZE
from .shading import Results, as_float, bottleneck_badge, mean, waiting_cell
from .syntax import Cell, Html, escape_html, num

__all__ = [
    "WRAP",
    "WHERE_TIME_GOES",
    "wrap",
    "count",
    "emotion_text",
    "channel_text",
    "changed_badge",
    "step_cells",
    "edge_lines",
    "edge_label",
    "label_box",
    "edge_label_width",
    "title_cells",
    "legend",
]

#: Characters per line of a step's name.
WRAP = 20

#: Labels of ``bottleneck.where_time_goes`` (defined in docs/simulation.md), in the order the title lists them.
WHERE_TIME_GOES = WHERE_TIME_GOES_LABELS


def wrap(text: str, width: int = WRAP) -> list[str]:
    """Lines of at most ``width`` characters, words kept whole (one empty line for no text)."""
    return textwrap.wrap(str(text), width, break_long_words=False, break_on_hyphens=False) or [""]


def count(n: int, what: str) -> str:
    """'1 stage', '3 stages', '2 moments of truth'."""
    if n == 1:
        return f"1 {what}"
    head, _, tail = what.partition(" of ")
    return f"{n} {head}s" + (f" of {tail}" if tail else "")


def emotion_text(value: float) -> str:
    """'☹ -2 frustrated', '○ 0 neutral', '☺ +1 pleased'."""
    word = EMOTION_SCALE.get(int(round(value)), "")
    face = "\u263a" if value > 0 else "\u2639" if value < 0 else "\u25cb"
    return f"{face} {value:+g} {word}".replace("+0 ", "0 ")


def channel_text(channel: str | None) -> str:
    """A channel as words: 'video_call' reads 'video call'."""
    return channel.replace("_", " ") if channel else ""


def changed_badge() -> Cell:
    """The green "✚ CHANGED" badge on a step a new design adds or changes."""
    return Cell(["\u271a CHANGED"], TEXT_SIZE, bold=True, colour="#FFFFFF", fill=palette.CHANGED)


# --------------------------------------------------------------------------- steps


def step_cells(journey: Journey, g: nx.DiGraph, n: str, res: Results | None, view: str) -> list[Cell]:
    """A step's box: badges, its name, what the persona sees or who works on it, its waiting."""
    d = g.nodes[n]
    cells: list[Cell] = []
    if res is not None and res.bottleneck_step == n:
        cells.append(bottleneck_badge())
    if d["moment_of_truth"]:
        cells.append(Cell(["\u2605 MOMENT OF TRUTH"], TEXT_SIZE, bold=True, fill=palette.OKABE_ITO["yellow"]))
    cells.append(Cell(wrap(d["name"]), NAME_SIZE, bold=True))
    owner = d["owner"]
    owner_name = "customer" if owner == CUSTOMER else journey.department_by_id[owner].name
    if d["touchpoint"]:
        cells += _touchpoint_cells(d, owner_name, view)
    else:
        who = f"internal \u00b7 {owner_name}" if view == "blueprint" else "internal step"
        cells.append(Cell(wrap(who, WRAP + 4), TEXT_SIZE, italic=True, colour="#555555"))
    if res is not None and n in res.step_share:
        cells.append(waiting_cell(res, n, f"waits {format_minutes(res.step_wait.get(n, 0.0))}/case"))
    return cells


def _touchpoint_cells(d: dict[str, Any], owner_name: str, view: str) -> list[Cell]:
    """What the persona sees: the channel (and, on the blueprint, who), and how it feels."""
    cells = []
    parts = [channel_text(d["channel"])] if d["channel"] else []
    if view == "blueprint" or d["owner"] == CUSTOMER:
        parts.append(owner_name if d["owner"] != CUSTOMER else "customer action")
    if parts:
        cells.append(Cell(wrap(" \u00b7 ".join(parts), WRAP + 4), TEXT_SIZE, colour="#1F4E79"))
    if d["emotion"] is not None:
        e = d["emotion"]
        cells.append(Cell([emotion_text(e)], TEXT_SIZE, bold=True, colour=palette.emotion_text_colour(e),
                          fill=palette.emotion_colour(e)))
    return cells


# --------------------------------------------------------------------------- flows


def edge_lines(g: nx.DiGraph, u: str, v: str, number: int | None, waste: float | None) -> list[str]:
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
    return parts + (wrap(d["label"], 22) if d["label"] else [])


def edge_label(lines: Sequence[str], colour: str, size: float, bold: bool = False) -> Html:
    """An edge label on a white box, one fact per line: readable where it crosses a line or a lane boundary."""
    body = "<BR/>".join(escape_html(t) for t in lines)
    if bold:
        body = f"<B>{body}</B>"
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLPADDING="2" BGCOLOR="#FFFFFF"><TR><TD>'
                f'<FONT POINT-SIZE="{num(size)}" COLOR="{colour}">{body}</FONT></TD></TR></TABLE>')


_POINT_SIZE = re.compile(r'POINT-SIZE="([\d.]+)"')


def label_box(label: str) -> tuple[float, float]:
    """Width and height (points) of an :func:`edge_label`, estimated as the layout estimates boxes."""
    m = _POINT_SIZE.search(label)
    size = float(m.group(1)) if m else TEXT_SIZE
    body = re.sub(r"<BR/>", "\n", label)
    body = re.sub(r"<[^>]+>", "", body)
    body = body.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    return estimate_size([[Row(t, size, "<B>" in label) for t in body.split("\n")]], padding=2.0)


def edge_label_width(g: nx.DiGraph, u: str, v: str) -> float:
    """Rough width of a flow's label (points), so the layout can leave room for it between columns."""
    d = g.edges[u, v]
    longest = max([len(t) for t in wrap(d["label"], 22)] if d["label"] else [0])
    longest = max(longest, 16 if d["mean_delay"] > 0 or d["handoff"] else 0)
    return longest * NAME_SIZE * 0.62


# --------------------------------------------------------------------------- title


def title_cells(journey: Journey, g: nx.DiGraph, res: Results | None, view: str,
                whole: Journey | None = None) -> list[Cell]:
    """Title lines; ``whole`` is the whole journey when drawing a close-up (for the bottleneck's names)."""
    p = journey.persona
    role = p.role.replace("_", " ")
    cells = [
        Cell([f"{journey.name} \u2014 {view}"], TITLE_SIZE, bold=True),
        Cell([f"Persona: {p.name} ({role})"], HEADER_SIZE),
        Cell([_totals_line(journey, g)], HEADER_SIZE, bold=True, colour="#000000"),
    ]
    if whole is not None and len(whole.stages) != len(journey.stages):
        cells.append(Cell([f"Close-up of {count(len(journey.stages), 'stage')} of {len(whole.stages)}: handoff "
                           "numbers, stage headers and simulated figures are the whole journey's"], HEADER_SIZE,
                          italic=True))
    if res is not None:
        cells += _results_cells(whole or journey, res)
    return cells


def _totals_line(journey: Journey, g: nx.DiGraph) -> str:
    """'5 stages · 41 steps · 17 touchpoints · 15 internal handoffs · 3 rework loops · 2 moments of truth'."""
    per_stage = stage_counts(g).values()
    totals = ((len(journey.stages), "stage"), (g.number_of_nodes(), "step"),
              (sum(c["touchpoints"] for c in per_stage), "touchpoint"),
              (sum(c["handoffs"] for c in per_stage), "internal handoff"),
              (sum(1 for *_, d in g.edges(data=True) if d["rework"]), "rework loop"),
              (sum(1 for n in g if g.nodes[n]["moment_of_truth"]), "moment of truth"))
    return " \u00b7 ".join(count(n, what) for n, what in totals)


def _results_cells(journey: Journey, res: Results) -> list[Cell]:
    """The title's simulated lines: stability warning, cycle time, where the time goes, the bottleneck."""
    cells = _stability_cells(res)
    cells.append(Cell([_simulated_line(res.summary)], HEADER_SIZE))
    where = _where_time_goes_line(res)
    if where:
        cells.append(Cell([where], HEADER_SIZE))
    for text in _bottleneck_lines(journey, res):
        cells.append(Cell([text], HEADER_SIZE, bold=True, colour="#FFFFFF", fill=palette.BOTTLENECK))
    return cells


def _simulated_line(s: dict[str, Any]) -> str:
    """'Simulated 400 cases × 10 runs: cycle time mean 5.2d, P50 4.8d, P90 8.1d · time lost on handoffs ...'."""
    case = s.get("case", {}) or {}
    ct = case.get("cycle_time", {}) or {}
    waste = (s.get("handoff_waste") or {})
    line = (f"Simulated {s.get('cases', '?')} cases \u00d7 {s.get('replications', '?')} runs: cycle time "
            f"mean {format_minutes(mean(ct))}, P50 {format_minutes(float(ct.get('p50', 0) or 0))}, "
            f"P90 {format_minutes(float(ct.get('p90', 0) or 0))}")
    if waste:
        line += (f" \u00b7 time lost on handoffs {format_minutes(mean(waste.get('total')))} per case "
                 f"({100 * mean(waste.get('share_of_cycle_time')):.0f}% of cycle time)")
    return line


def _bottleneck_lines(journey: Journey, res: Results) -> list[str]:
    """The bottleneck (defined in docs/simulation.md): department and step, each share labelled, and what
    the waiting is made of."""
    b = res.bottleneck
    if not (res.bottleneck_dept or res.bottleneck_step):
        return []
    dept = journey.department_by_id.get(res.bottleneck_dept or "")
    step = journey.step_by_id.get(res.bottleneck_step or "")
    lines = []
    if dept is not None:
        line = (f"\u26a0 Bottleneck: {dept.name} \u2014 department share of waiting "
                f"{100 * as_float(b.get('department_share')):.0f}%")
        if b.get("lost_per_case") is not None:
            line += _made_of(b, "lost_per_case", "queueing_per_case", "inbox_per_case")
        lines.append(line)
    if step is not None:
        line = (f"{'   its step' if dept is not None else chr(0x26a0) + ' Bottleneck step'}: {step.name} \u2014 "
                f"step share of waiting {100 * as_float(b.get('step_share')):.0f}%")
        if b.get("step_lost_per_case") is not None:
            line += _made_of(b, "step_lost_per_case", "step_queueing_per_case", "step_inbox_per_case")
        lines.append(line)
    return lines


def _made_of(b: dict[str, Any], lost: str, queueing: str, inbox: str) -> str:
    """' (2.1d/case: queueing 1.0d, inbox delay 1.1d)'."""
    return (f" ({format_minutes(as_float(b.get(lost)))}/case: queueing "
            f"{format_minutes(as_float(b.get(queueing)))}, inbox delay "
            f"{format_minutes(as_float(b.get(inbox)))})")


def _where_time_goes_line(res: Results) -> str | None:
    """'Where the time goes, per case: staff work 5.1d · queueing 1.1d · inbox delay 16.8d · ...'."""
    w = res.bottleneck.get("where_time_goes") or {}
    parts = [f"{label} {format_minutes(as_float(w.get(key)))}" for key, label in WHERE_TIME_GOES
             if key in w and (key != "gate" or as_float(w.get(key)) > 0)]
    return "Where the time goes, per case: " + " \u00b7 ".join(parts) if parts else None


def _stability_cells(res: Results) -> list[Cell]:
    """A warning under the title when the design is not in steady state: its CI is not a property of the design."""
    if res.steady:
        return []
    s = res.stability
    message = (s.get("message")
               or "Not in steady state: queues keep growing, so these figures depend on the run length.")
    cells = [Cell([f"\u26a0 NOT STEADY \u2014 {message}"], HEADER_SIZE, bold=True, colour="#FFFFFF",
                  fill=palette.HANDOFF)]
    if s.get("hint"):
        cells.append(Cell(wrap(str(s["hint"]), 140), TEXT_SIZE, bold=True, colour=palette.HANDOFF))
    return cells


# --------------------------------------------------------------------------- legend

#: The legend's rows: (sample text, sample colour, sample fill, meaning).
_LEGEND_ROWS: tuple[tuple[str, str, str | None, str], ...] = (
    ("\u25a2 rounded, blue", "#1F4E79", palette.TOUCHPOINT_FILL,
     "touchpoint (the persona sees it): channel and emotion"),
    ("\u25a2 rounded, yellow", "#1F4E79", palette.CUSTOMER_FILL, "customer action"),
    ("\u25a1 square, grey", "#555555", "#FFFFFF", "internal step (the persona does not see it)"),
    ("\u2605 MOMENT OF TRUTH", "#000000", palette.OKABE_ITO["yellow"], "moment of truth: double border"),
    ("\u2501\u2501\u25b6 H1", palette.HANDOFF, None, "internal handoff between departments, numbered"),
    ("\u2504\u2504\u25b6 \u21ba", palette.REWORK, None, "rework loop: the case goes back (dashed blue)"),
    ("\u2504\u2504\u25b6 H2 \u21ba", palette.HANDOFF, None,
     "rework that crosses departments: dashed vermillion, numbered"),
    ("\u2500\u2500\u25b6", palette.FLOW, None, "flow (with branch %, inbox delay \"+2.0d wait\")"),
)
_LEGEND_BLUEPRINT = (("\u2504\u2504\u2504\u2504", "#000000", None, "line of visibility"),)
_LEGEND_WRAPPED = (("\u2500\u25cf \u25b6 to row 2", palette.FLOW, None,
                    "an arrow that continues in another row of stages (\"from row 1\" where it arrives)"),)
_LEGEND_RESULTS = (
    ("waits 2.0h/case", "#000000", palette.waiting_colour(1.0),
     "step's waiting per case (queueing + inbox delay into it); darker = larger step share"),
    ("\u2501\u2501 thick", palette.HANDOFF, None,
     "handoff width and \"lost/case\" = time lost on this arrow: its inbox delay"),
    ("", "#000000", None, "+ queueing at the receiving step when entered through it"),
    ("BOTTLENECK", "#FFFFFF", palette.BOTTLENECK, "the department (and its step) where cases wait most"),
)
_LEGEND_CHANGED = (("\u271a CHANGED", "#FFFFFF", palette.CHANGED, "step added or changed by this design"),)


def legend(res: Results | None, blueprint: bool, changed: bool = False,
           wrapped: bool = False) -> tuple[Html, tuple[float, float]]:
    """The legend (what each mark means, as one HTML table) and its estimated size in points."""
    rows = list(_LEGEND_ROWS)
    rows += _LEGEND_BLUEPRINT if blueprint else ()
    rows += _LEGEND_WRAPPED if wrapped else ()
    rows += _LEGEND_RESULTS if res is not None else ()
    rows += _LEGEND_CHANGED if changed else ()
    emotions = "".join(
        f'<TD BGCOLOR="{palette.emotion_colour(v)}"><FONT POINT-SIZE="{num(TEXT_SIZE)}" '
        f'COLOR="{palette.emotion_text_colour(v)}">{v:+d}</FONT></TD>'.replace("+0", "0")
        for v in range(-3, 4))
    html = ['<TABLE BORDER="1" COLOR="#999999" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4" BGCOLOR="#FFFFFF">',
            f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="{num(HEADER_SIZE)}"><B>Legend</B></FONT></TD></TR>']
    for sample, colour, fill, meaning in rows:
        bg = f' BGCOLOR="{fill}"' if fill else ""
        sample_html = f"<B>{escape_html(sample)}</B>" if sample else " "
        html.append(f'<TR><TD ALIGN="LEFT"{bg}><FONT POINT-SIZE="{num(TEXT_SIZE)}" COLOR="{colour}">'
                    f'{sample_html}</FONT></TD><TD ALIGN="LEFT"><FONT POINT-SIZE="{num(TEXT_SIZE)}">'
                    f'{escape_html(meaning)}</FONT></TD></TR>')
    html.append(f'<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="3"><TR>{emotions}</TR>'
                f'</TABLE></TD><TD ALIGN="LEFT"><FONT POINT-SIZE="{num(TEXT_SIZE)}">emotion, -3 furious to +3 '
                f'delighted</FONT></TD></TR>')
    html.append("</TABLE>")
    width = (max(24, max(len(r[0]) for r in rows)) * TEXT_SIZE * 0.66
             + max(44, max(len(r[3]) for r in rows)) * TEXT_SIZE * 0.6 + 40)
    height = (len(rows) + 2) * (TEXT_SIZE * 1.25 + 12) + HEADER_SIZE * 1.25 + 20
    return Html("".join(html)), (width, height)
