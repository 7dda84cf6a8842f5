"""A grid layout for journey maps: stages as columns left to right, lanes as bands top to bottom.

Graphviz's own ``dot`` layout cannot keep both at once (clusters are either
lanes or stages, and rank constraints across clusters are ignored), so we
place every step ourselves and let Graphviz only route the edges around the
boxes (``layout=neato`` with pinned positions and ``splines=true``). The
placement is pure and cheap:

* **columns** come from a longest-path layering of the flow graph with rework
  and other backward flows left out, done stage by stage, so every stage owns a
  contiguous block of columns in stage order;
* **rows**: each lane is a band; steps of one lane that share a column are
  stacked inside the band, and a step keeps the row of its predecessor in the
  same lane where it can, so a branch reads as a straight line;
* **sizes**: column widths and row heights come from estimated label sizes
  (:func:`estimate_size`), generous enough that labels are never clipped.

A map wider than :data:`MAX_ASPECT` wraps its stages into rows of consecutive
stages (:func:`stage_rows`, :func:`stack`), each row a grid of its own.

Coordinates here are in points with y growing **downwards** from the top of
the first lane; the DOT builder flips them for Graphviz.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

__all__ = ["Row", "GridLayout", "back_edges", "assign_columns", "grid_layout", "estimate_size", "Block", "partition",
           "stage_rows", "stack", "MAX_ASPECT", "SCREEN_ASPECT", "ROW_GAP"]

#: Horizontal room between columns, for arrows and edge labels (points).
H_GAP = 80.0
#: Vertical room between stacked steps inside a lane (points).
V_GAP = 46.0
#: Padding at the top and bottom of each lane band (points).
LANE_PAD = 30.0
#: The narrowest a column may be (points).
MIN_COLUMN = 150.0


@dataclass(frozen=True)
class Row:
    """One line of text in a label: what the size estimate needs to know."""

    text: str
    size: float = 14.0
    bold: bool = False


def estimate_size(rows: Sequence[Sequence[Row]], padding: float = 8.0) -> tuple[float, float]:
    """Width and height (points) of an HTML table label with one cell per group of rows.

    Deliberately generous (average glyph width 0.6 em, bold 0.66 em) so that a
    label never overflows the box the layout reserves for it.
    """
    width = 0.0
    height = 0.0
    for cell in rows:
        for r in cell:
            per = 0.66 if r.bold else 0.6
            width = max(width, len(r.text) * r.size * per)
            height += r.size * 1.25
        height += padding
    return width + 2 * padding + 16.0, height + 16.0


@dataclass
class GridLayout:
    """Where everything goes; every coordinate in points, y downwards from the top of the lanes."""

    columns: dict[str, int]
    subrows: dict[str, int]
    lanes: list[str]
    lane_top: dict[str, float]
    lane_height: dict[str, float]
    column_left: list[float]
    column_width: list[float]
    stage_columns: dict[str, tuple[int, int]]
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def width(self) -> float:
        """Right edge of the last column."""
        return self.column_left[-1] + self.column_width[-1] if self.column_width else 0.0

    @property
    def height(self) -> float:
        """Bottom of the last lane."""
        last = self.lanes[-1]
        return self.lane_top[last] + self.lane_height[last]

    def stage_span(self, stage: str) -> tuple[float, float]:
        """Left and right x of a stage's block of columns."""
        first, last = self.stage_columns[stage]
        return self.column_left[first], self.column_left[last] + self.column_width[last]


def back_edges(g: nx.DiGraph) -> set[tuple[str, str]]:
    """Rework flows, plus any other flow that closes a loop (found depth-first from the start, in file order)."""
    back = {(u, v) for u, v, d in g.edges(data=True) if d.get("rework")}
    order = {n: g.nodes[n].get("order", 0) for n in g}
    state: dict[str, int] = {}
    roots = [g.graph["start"]] if g.graph.get("start") in g else []
    roots += sorted(g, key=order.__getitem__)
    for root in roots:
        if root in state:
            continue
        # iterative DFS: (node, iterator over successors)
        state[root] = 1
        stack = [(root, iter(sorted(g.successors(root), key=order.__getitem__)))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            if (node, nxt) in back:
                continue
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(g.successors(nxt), key=order.__getitem__))))
    return back


def assign_columns(g: nx.DiGraph, stages: Sequence[str]) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    """Column of every step and the (first, last) column of every stage.

    Longest-path layering over the forward flows, one stage after the other:
    a step sits one column right of its latest predecessor and never left of
    its stage's first column. A stage with no steps still gets one column.
    """
    back = back_edges(g)
    dag = nx.DiGraph()
    dag.add_nodes_from(g)
    dag.add_edges_from((u, v) for u, v in g.edges if (u, v) not in back)
    order = {n: g.nodes[n].get("order", 0) for n in g}
    topo = list(nx.lexicographical_topological_sort(dag, key=order.__getitem__))
    known = set(stages)
    col: dict[str, int] = {}
    spans: dict[str, tuple[int, int]] = {}
    start = 0
    for stage in list(stages) + sorted({g.nodes[n]["stage"] for n in g} - known):
        members = [n for n in topo if g.nodes[n]["stage"] == stage]
        for n in members:
            c = start
            for p in dag.predecessors(n):
                if p in col:
                    c = max(c, col[p] + 1)
            col[n] = c
        last = max((col[n] for n in members), default=start)
        spans[stage] = (start, last)
        start = last + 1
    return col, spans


def _subrows(g: nx.DiGraph, col: Mapping[str, int], lane_of: Mapping[str, str]) -> dict[str, int]:
    """Stack steps of one lane and column; keep each on its same-lane predecessor's row where possible."""
    cells: dict[tuple[int, str], list[str]] = {}
    for n in g:
        cells.setdefault((col[n], lane_of[n]), []).append(n)
    row: dict[str, int] = {}
    for c, lane in sorted(cells, key=lambda k: k[0]):
        members = cells[(c, lane)]

        def wish(n: str, lane: str = lane) -> float:
            same = sorted(row[p] for p in g.predecessors(n) if p in row and lane_of[p] == lane)
            return same[len(same) // 2] if same else 0

        members.sort(key=lambda n: (wish(n), g.nodes[n].get("order", 0)))
        taken = -1
        for n in members:
            r = max(int(wish(n)), taken + 1)
            row[n] = r
            taken = r
    return row


def grid_layout(g: nx.DiGraph, stages: Sequence[str], lanes: Sequence[str], lane_of: Mapping[str, str],
                sizes: Mapping[str, tuple[float, float]], *, left: float = 0.0,
                lane_min_height: Mapping[str, float] | None = None,
                room: Mapping[str, float] | None = None) -> GridLayout:
    """Place every step of ``g``: see the module docstring.

    ``lanes`` lists the bands top to bottom (empty ones are kept, at their
    minimum height); ``lane_of`` maps each step to its band; ``sizes`` gives
    each step's box (width, height) in points; ``left`` is where the first
    column starts (room for the lane titles); ``room`` is the width of the
    widest edge label at each step, kept free beside it.
    """
    col, spans = assign_columns(g, stages)
    sub = _subrows(g, col, lane_of)
    n_cols = max([c for c in col.values()] + [last for _, last in spans.values()] + [0]) + 1
    widths = [MIN_COLUMN] * n_cols
    for n in g:
        extra = (room or {}).get(n, 0.0) + 40.0
        widths[col[n]] = max(widths[col[n]], sizes[n][0] + max(H_GAP, extra))
    lefts: list[float] = []
    x = left
    for w in widths:
        lefts.append(x)
        x += w
    lane_minimum = dict(lane_min_height or {})
    lane_top: dict[str, float] = {}
    lane_height: dict[str, float] = {}
    row_height: dict[str, float] = {}
    y = 0.0
    for lane in lanes:
        members = [n for n in g if lane_of[n] == lane]
        rows = max((sub[n] for n in members), default=0) + 1
        rh = max((sizes[n][1] for n in members), default=40.0) + V_GAP
        row_height[lane] = rh
        h = max(rows * rh + LANE_PAD, lane_minimum.get(lane, 90.0))
        lane_top[lane] = y
        lane_height[lane] = h
        y += h
    layout = GridLayout(columns=col, subrows=sub, lanes=list(lanes), lane_top=lane_top, lane_height=lane_height,
                        column_left=lefts, column_width=widths, stage_columns=spans)
    rows_in_lane: dict[str, int] = {}
    for n in g:
        rows_in_lane[lane_of[n]] = max(rows_in_lane.get(lane_of[n], 0), sub[n] + 1)
    for n in g:
        lane = lane_of[n]
        rows_used = rows_in_lane[lane]
        # centre the stack of rows vertically in the band
        top = lane_top[lane] + (lane_height[lane] - rows_used * row_height[lane]) / 2
        cx = lefts[col[n]] + widths[col[n]] / 2
        cy = top + (sub[n] + 0.5) * row_height[lane]
        layout.positions[n] = (cx, cy)
    return layout


# --------------------------------------------------------------------------- rows of stages

#: The widest a whole map may be (width : height); wider maps wrap their stages into rows.
MAX_ASPECT = 3.0
#: The shape the wrapping aims for: a 16:9 screen.
SCREEN_ASPECT = 16 / 9
#: Vertical room between two rows of stages (points).
ROW_GAP = 60.0


def partition(widths: Sequence[float], k: int) -> list[int]:
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
class Block:
    """One row of stages: its stages, lanes and grid, and where its top sits (points from the frame top)."""

    stages: list[str]
    lanes: list[str]
    layout: GridLayout
    top: float = 0.0


def stage_rows(g: nx.DiGraph, stages: Sequence[str], lanes: Sequence[str], lane_of: Mapping[str, str],
               sizes: Mapping[str, tuple[float, float]], room: Mapping[str, float], keep_lanes: bool,
               rows: int, left: float) -> list[Block]:
    """Lay out ``stages`` in ``rows`` rows of consecutive stages, balanced by width.

    Each row keeps only the lanes it uses, unless ``keep_lanes`` (the blueprint's four lanes are its
    meaning); ``left`` is where each row's first column starts.
    """
    if rows <= 1:
        lay = grid_layout(g, stages, lanes, lane_of, sizes, left=left, room=room)
        return [Block(list(stages), list(lanes), lay)]
    whole = grid_layout(g, stages, lanes, lane_of, sizes, left=0.0, room=room)
    widths = [whole.stage_span(s)[1] - whole.stage_span(s)[0] for s in stages]
    out: list[Block] = []
    start = 0
    for size in partition(widths, rows):
        group = list(stages[start:start + size])
        start += size
        members = [n for n in g if g.nodes[n]["stage"] in group]
        sub = g.subgraph(members)
        used = {lane_of[n] for n in members}
        block_lanes = list(lanes) if keep_lanes else [lane for lane in lanes if lane in used] or list(lanes[:1])
        lay = grid_layout(sub, group, block_lanes, lane_of, sizes, left=left, room=room)
        out.append(Block(group, block_lanes, lay))
    return out


def stack(blocks: list[Block], top: float, header_h: float) -> float:
    """Give each block its top, below its stage headers; returns the bottom of the last one."""
    y = top
    for b in blocks:
        b.top = y + header_h + 10
        y = b.top + b.layout.height + ROW_GAP
    return y - ROW_GAP
