"""The overview: a whole journey on one 16:9 screen, readable from the back of a workshop room.

A full map of 40 steps is too wide to project (its node text shrinks to a few
pixels), so the overview draws no steps at all: it is a stage-by-lane table.
Rows are the lanes of the map (the persona, then each department that owns a
step) or, for an account's combined journey, one row per persona with its
gates; columns are the stages. Each cell counts the steps there and, with
simulation results, the waiting per case at them (queueing plus inbox delay
into them, the bottleneck's definition), shaded white to orange. The last row
lists the handoffs each stage receives, with their global numbers (the ones
on the map and in every close-up) and, with results, each arrow's own time
lost per case, largest first.

Text is at least :data:`MIN_TEXT` points and the table is sized for a 16:9
screen; ``tests/test_rendering_dot.py`` measures the smallest text of the
rendered SVG scaled to fit 1920 x 1080.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import networkx as nx

from ..distributions import format_minutes
from ..model import Journey
from . import palette
from .dot import (
    _lanes,
    _left_table,
    _num,
    _Results,
    _title_cells,
    _wrap,
    escape_html,
    handoff_numbers,
    is_account_journey,
    quote,
)

__all__ = ["overview_dot", "MIN_TEXT"]

#: The smallest text in the overview (points); at 1920 x 1080 the table is drawn at least this large.
MIN_TEXT = 18.0
CELL_SIZE = 20.0
HEAD_SIZE = 22.0
#: Handoffs listed per stage before "+N more".
MAX_HANDOFFS_LISTED = 4

_GATE = re.compile(r"\(waits for everyone at gate: (.*)\)$")


def _font(text: str, size: float, colour: str = "#000000", bold: bool = False) -> str:
    body = escape_html(text) or "&#160;"  # Graphviz refuses an empty <FONT></FONT>
    if bold:
        body = f"<B>{body}</B>"
    return f'<FONT POINT-SIZE="{_num(size)}" COLOR="{colour}">{body}</FONT>'


def _lines(lines: Sequence[tuple[str, float, str, bool]]) -> str:
    return "<BR/>".join(_font(*ln) for ln in lines)


def overview_dot(journey: Journey, g: nx.DiGraph, res: _Results | None = None,
                 stages: Sequence[str] | None = None) -> str:
    """DOT source of the overview (see the module docstring); ``g`` is the whole journey's graph.

    ``stages`` limits the columns to those stages (the numbers stay global).
    """
    account = is_account_journey(journey)
    numbers = handoff_numbers(g)
    if res is not None and res.flow_number:
        numbers = {k: res.flow_number.get(k, v) for k, v in numbers.items()}
    stage_ids = [s.id for s in journey.stages if not stages or s.id in stages]
    lanes, lane_of, titles = _lanes(journey, g, "personas" if account else "map")
    if account:
        lanes = [lane for lane in lanes if lane]  # the deal's own start and end carry no work
    cell_steps: dict[tuple[str, str], list[str]] = {}
    for n in g:
        cell_steps.setdefault((lane_of[n], g.nodes[n]["stage"]), []).append(n)
    wait = {}
    if res is not None:
        for key, members in cell_steps.items():
            wait[key] = sum(res.step_wait.get(n, 0.0) for n in members)
    max_wait = max(wait.values(), default=0.0)

    rows: list[str] = []
    head = [f'<TD BGCOLOR="#DDDDDD">{_lines([("persona" if account else "lane", CELL_SIZE, "#000000", True)] + ([("dept. share of waiting", MIN_TEXT, "#333333", False)] if res is not None and not account else []))}</TD>']
    for sid in stage_ids:
        st = journey.stage_by_id[sid]
        n_tp = sum(1 for n in g if g.nodes[n]["stage"] == sid and g.nodes[n]["touchpoint"])
        head.append(f'<TD BGCOLOR="#E8E8E8">{_lines([(ln, HEAD_SIZE, "#000000", True) for ln in _wrap(st.name.upper(), 18)] + [(f"{n_tp} touchpoint" + ("s" if n_tp != 1 else ""), MIN_TEXT, "#333333", False)])}</TD>')
    rows.append("<TR>" + "".join(head) + "</TR>")
    for lane in lanes:
        name, sub = titles.get(lane, (lane, ""))
        colour, fill = "#000000", "#F2F2F2"
        if res is not None and lane == res.bottleneck_dept:
            colour, fill = "#FFFFFF", palette.BOTTLENECK
            name = "\u26a0 " + name
        body = "<BR/>".join(_font(ln, CELL_SIZE, colour, True) for ln in _wrap(name, 30))
        if res is not None and lane in res.dept_share:
            body += _font(f"  {100 * res.dept_share[lane]:.0f}%", CELL_SIZE, colour)
        row = [f'<TD ALIGN="LEFT" BGCOLOR="{fill}">{body}</TD>']
        for sid in stage_ids:
            members = cell_steps.get((lane, sid), [])
            if not members:
                row.append('<TD BGCOLOR="#FFFFFF"> </TD>')
                continue
            head_text = f"{len(members)} step" + ("s" if len(members) != 1 else "")
            fill = "#FFFFFF"
            if res is not None:
                w = wait.get((lane, sid), 0.0)
                head_text += f" \u00b7 {format_minutes(w)}"
                fill = palette.waiting_colour(w, max_wait)
                if res.bottleneck_step in members:
                    head_text = "\u26a0 " + head_text
            text = [(head_text, CELL_SIZE, "#000000", res is not None and res.bottleneck_step in members)]
            gates = sorted({m.group(1) for n in members if (m := _GATE.search(g.nodes[n]["name"]))})
            for gate in gates:
                text.append((f"\u25c6 gate: {gate}", MIN_TEXT, "#000000", True))
            row.append(f'<TD BGCOLOR="{fill}">{_lines(text)}</TD>')
        rows.append("<TR>" + "".join(row) + "</TR>")
    # the handoffs each stage receives, with their global numbers (and time lost on each arrow)
    hrow = [f'<TD ALIGN="LEFT" BGCOLOR="#F2F2F2">{_lines([("handoffs in", CELL_SIZE, palette.HANDOFF, True)] + ([("lost/case on the arrow", MIN_TEXT, palette.HANDOFF, False)] if res is not None and res.flow_lost else []))}</TD>']
    for sid in stage_ids:
        arrows = [(num, e) for e, num in numbers.items() if g.nodes[e[1]]["stage"] == sid]
        if res is not None and res.flow_lost:
            arrows.sort(key=lambda a: (-res.flow_lost.get(a[1], 0.0), a[0]))
            texts = [f"H{num} {format_minutes(res.flow_lost.get(e, 0.0))}" for num, e in arrows]
        else:
            arrows.sort()
            texts = [f"H{num}" for num, _ in arrows]
        shown = texts[:MAX_HANDOFFS_LISTED]
        if len(texts) > len(shown):
            shown.append(f"+{len(texts) - len(shown)} more")
        lines = [(f"{len(arrows)} handoff" + ("s" if len(arrows) != 1 else ""), CELL_SIZE, palette.HANDOFF, True)]
        # two to a line keeps the row short, so the table stays screen-shaped
        paired = [" \u00b7 ".join(shown[k:k + 2]) for k in range(0, len(shown), 2)]
        lines += [(t, MIN_TEXT, palette.HANDOFF, False) for t in (paired if res is not None and res.flow_lost
                                                                  else _wrap(" ".join(shown), 16))]
        hrow.append(f'<TD BGCOLOR="#FFFFFF">{_lines(lines)}</TD>')
    rows.append("<TR>" + "".join(hrow) + "</TR>")
    grid = ('<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="5" COLOR="#999999">'
            + "".join(rows) + "</TABLE>")

    title = _title_cells(journey if not stages else journey.only_stages(list(stages)),
                         g if not stages else g.subgraph([n for n in g if g.nodes[n]["stage"] in stage_ids]),
                         res, "overview", journey)
    for c in title:
        c.size = max(c.size, MIN_TEXT)
        # long title lines wrap so the overview stays screen-shaped
        c.lines = [w for line in c.lines for w in _wrap(line, 125)]
    note = ("Each cell: the steps of that lane in that stage" + (" \u00b7 the waiting per case at them (queueing + inbox "
            "delay into them; darker = more; \u26a0 = the bottleneck step). The % beside a department is its "
            "department share of waiting" if res is not None else "") + ". Handoff numbers are the map's.")
    html = (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="6" CELLPADDING="0">'
            f'<TR><TD ALIGN="LEFT">{_left_table(title)}</TD></TR>'
            f'<TR><TD ALIGN="LEFT">{grid}</TD></TR>'
            f'<TR><TD ALIGN="LEFT">{_lines([(ln, MIN_TEXT, "#333333", False) for ln in _wrap(note, 140)])}</TD></TR>'
            f'</TABLE>')
    return (f"// journeymap overview of {journey.id}: a stage-by-{'persona' if account else 'lane'} summary\n"
            f"digraph {quote(journey.id + ':overview')} {{\n"
            f"  graph [layout=dot, pad=0.3, bgcolor=\"#FFFFFF\", fontname={quote(palette.FONT)}];\n"
            f"  node [fontname={quote(palette.FONT)}];\n"
            f"  _overview [shape=plaintext, margin=0, label=<{html}>];\n"
            "}\n")
