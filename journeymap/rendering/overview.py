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
from dataclasses import dataclass

import networkx as nx

from ..analysis import handoff_numbers, stage_counts
from ..distributions import format_minutes
from ..model import Journey
from . import palette
from .labels import title_cells, wrap
from .lanes import is_account_journey, lanes_of
from .shading import Results, flow_numbers
from .syntax import escape_html, left_table, num, quote

__all__ = ["overview_dot", "MIN_TEXT"]

#: The smallest text in the overview (points); at 1920 x 1080 the table is drawn at least this large.
MIN_TEXT = 18.0
CELL_SIZE = 20.0
HEAD_SIZE = 22.0
#: Handoffs listed per stage before "+N more".
MAX_HANDOFFS_LISTED = 4

_GATE = re.compile(r"\(waits for everyone at gate: (.*)\)$")

#: One line of a cell: text, size, colour, bold.
Line = tuple[str, float, str, bool]


def _font(text: str, size: float, colour: str = "#000000", bold: bool = False) -> str:
    body = escape_html(text) or "&#160;"  # Graphviz refuses an empty <FONT></FONT>
    if bold:
        body = f"<B>{body}</B>"
    return f'<FONT POINT-SIZE="{num(size)}" COLOR="{colour}">{body}</FONT>'


def _lines(lines: Sequence[Line]) -> str:
    return "<BR/>".join(_font(*ln) for ln in lines)


def overview_dot(journey: Journey, g: nx.DiGraph, res: Results | None = None,
                 stages: Sequence[str] | None = None) -> str:
    """DOT source of the overview (see the module docstring); ``g`` is the whole journey's graph.

    ``stages`` limits the columns to those stages (the numbers stay global).
    """
    t = _Table.of(journey, g, res, stages)
    rows = [t.header_row()] + [t.lane_row(lane) for lane in t.lanes] + [t.handoffs_row()]
    grid = ('<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="5" COLOR="#999999">'
            + "".join(rows) + "</TABLE>")
    title = title_cells(journey if not stages else journey.only_stages(list(stages)),
                        g if not stages else g.subgraph([n for n in g if g.nodes[n]["stage"] in t.stage_ids]),
                        res, "overview", journey)
    for c in title:
        c.size = max(c.size, MIN_TEXT)
        # long title lines wrap so the overview stays screen-shaped
        c.lines = [w for line in c.lines for w in wrap(line, 125)]
    html = (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="6" CELLPADDING="0">'
            f'<TR><TD ALIGN="LEFT">{left_table(title)}</TD></TR>'
            f'<TR><TD ALIGN="LEFT">{grid}</TD></TR>'
            f'<TR><TD ALIGN="LEFT">{_lines([(ln, MIN_TEXT, "#333333", False) for ln in wrap(_note(res), 140)])}'
            f'</TD></TR></TABLE>')
    return (f"// journeymap overview of {journey.id}: a stage-by-{'persona' if t.account else 'lane'} summary\n"
            f"digraph {quote(journey.id + ':overview')} {{\n"
            f"  graph [layout=dot, pad=0.3, bgcolor=\"#FFFFFF\", fontname={quote(palette.FONT)}];\n"
            f"  node [fontname={quote(palette.FONT)}];\n"
            f"  _overview [shape=plaintext, margin=0, label=<{html}>];\n"
            "}\n")


def _note(res: Results | None) -> str:
    """What a cell says, under the table."""
    return ("Each cell: the steps of that lane in that stage" + (
        " \u00b7 the waiting per case at them (queueing + inbox delay into them; darker = more; \u26a0 = the "
        "bottleneck step). The % beside a department is its department share of waiting" if res is not None else "")
        + ". Handoff numbers are the map's.")


@dataclass
class _Table:
    """The overview's table: lanes (rows) by stages (columns), and what each cell holds."""

    journey: Journey
    g: nx.DiGraph
    res: Results | None
    account: bool
    stage_ids: list[str]
    lanes: list[str]
    titles: dict[str, tuple[str, str]]
    numbers: dict[tuple[str, str], int]
    cell_steps: dict[tuple[str, str], list[str]]
    wait: dict[tuple[str, str], float]
    max_wait: float

    @classmethod
    def of(cls, journey: Journey, g: nx.DiGraph, res: Results | None, stages: Sequence[str] | None) -> _Table:
        account = is_account_journey(journey)
        stage_ids = [s.id for s in journey.stages if not stages or s.id in stages]
        lanes, lane_of, titles = lanes_of(journey, g, "personas" if account else "map")
        if account:
            lanes = [lane for lane in lanes if lane]  # the deal's own start and end carry no work
        cell_steps: dict[tuple[str, str], list[str]] = {}
        for n in g:
            cell_steps.setdefault((lane_of[n], g.nodes[n]["stage"]), []).append(n)
        wait = {}
        if res is not None:
            for key, members in cell_steps.items():
                wait[key] = sum(res.step_wait.get(n, 0.0) for n in members)
        return cls(journey, g, res, account, stage_ids, lanes, titles, flow_numbers(handoff_numbers(g), res),
                   cell_steps, wait, max(wait.values(), default=0.0))

    def header_row(self) -> str:
        """The corner cell, then each stage's name and touchpoints."""
        corner: list[Line] = [("persona" if self.account else "lane", CELL_SIZE, "#000000", True)]
        if self.res is not None and not self.account:
            corner.append(("dept. share of waiting", MIN_TEXT, "#333333", False))
        head = [f'<TD BGCOLOR="#DDDDDD">{_lines(corner)}</TD>']
        counts = stage_counts(self.g)
        for sid in self.stage_ids:
            st = self.journey.stage_by_id[sid]
            n_tp = counts[sid]["touchpoints"]
            text: list[Line] = [(ln, HEAD_SIZE, "#000000", True) for ln in wrap(st.name.upper(), 18)]
            text.append((f"{n_tp} touchpoint" + ("s" if n_tp != 1 else ""), MIN_TEXT, "#333333", False))
            head.append(f'<TD BGCOLOR="#E8E8E8">{_lines(text)}</TD>')
        return "<TR>" + "".join(head) + "</TR>"

    def lane_row(self, lane: str) -> str:
        """A lane's name (the bottleneck in black, each department's share), then its cell in each stage."""
        res = self.res
        name, _ = self.titles.get(lane, (lane, ""))
        colour, fill = "#000000", "#F2F2F2"
        if res is not None and lane == res.bottleneck_dept:
            colour, fill = "#FFFFFF", palette.BOTTLENECK
            name = "\u26a0 " + name
        body = "<BR/>".join(_font(ln, CELL_SIZE, colour, True) for ln in wrap(name, 30))
        if res is not None and lane in res.dept_share:
            body += _font(f"  {100 * res.dept_share[lane]:.0f}%", CELL_SIZE, colour)
        row = [f'<TD ALIGN="LEFT" BGCOLOR="{fill}">{body}</TD>']
        row += [self._cell(lane, sid) for sid in self.stage_ids]
        return "<TR>" + "".join(row) + "</TR>"

    def _cell(self, lane: str, sid: str) -> str:
        """The steps of a lane in a stage: how many, their waiting (shaded), the gates among them."""
        members = self.cell_steps.get((lane, sid), [])
        if not members:
            return '<TD BGCOLOR="#FFFFFF"> </TD>'
        res = self.res
        head_text = f"{len(members)} step" + ("s" if len(members) != 1 else "")
        fill = "#FFFFFF"
        bottleneck = res is not None and res.bottleneck_step in members
        if res is not None:
            w = self.wait.get((lane, sid), 0.0)
            head_text += f" \u00b7 {format_minutes(w)}"
            fill = palette.waiting_colour(w, self.max_wait)
            if bottleneck:
                head_text = "\u26a0 " + head_text
        text: list[Line] = [(head_text, CELL_SIZE, "#000000", bottleneck)]
        gates = sorted({m.group(1) for n in members if (m := _GATE.search(self.g.nodes[n]["name"]))})
        for gate in gates:
            text.append((f"\u25c6 gate: {gate}", MIN_TEXT, "#000000", True))
        return f'<TD BGCOLOR="{fill}">{_lines(text)}</TD>'

    def handoffs_row(self) -> str:
        """The handoffs each stage receives, with their global numbers (and time lost on each arrow)."""
        lost = self.res.flow_lost if self.res is not None else {}
        corner: list[Line] = [("handoffs in", CELL_SIZE, palette.HANDOFF, True)]
        if lost:
            corner.append(("lost/case on the arrow", MIN_TEXT, palette.HANDOFF, False))
        row = [f'<TD ALIGN="LEFT" BGCOLOR="#F2F2F2">{_lines(corner)}</TD>']
        for sid in self.stage_ids:
            arrows = [(n, e) for e, n in self.numbers.items() if self.g.nodes[e[1]]["stage"] == sid]
            if lost:
                arrows.sort(key=lambda a: (-lost.get(a[1], 0.0), a[0]))
                texts = [f"H{n} {format_minutes(lost.get(e, 0.0))}" for n, e in arrows]
            else:
                arrows.sort()
                texts = [f"H{n}" for n, _ in arrows]
            shown = texts[:MAX_HANDOFFS_LISTED]
            if len(texts) > len(shown):
                shown.append(f"+{len(texts) - len(shown)} more")
            lines: list[Line] = [(f"{len(arrows)} handoff" + ("s" if len(arrows) != 1 else ""), CELL_SIZE,
                                  palette.HANDOFF, True)]
            # two to a line keeps the row short, so the table stays screen-shaped
            paired = [" \u00b7 ".join(shown[k:k + 2]) for k in range(0, len(shown), 2)]
            lines += [(t, MIN_TEXT, palette.HANDOFF, False) for t in (paired if lost else wrap(" ".join(shown), 16))]
            row.append(f'<TD BGCOLOR="#FFFFFF">{_lines(lines)}</TD>')
        return "<TR>" + "".join(row) + "</TR>"
