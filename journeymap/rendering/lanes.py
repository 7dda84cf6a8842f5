"""The lane views: ``map`` (a lane per department), ``blueprint`` (the service-blueprint lanes) and
``personas`` (an account: a lane per persona).

Every step is placed by :mod:`.layout` (a grid of stage columns and lane bands, wrapped into rows of
stages when one row would be wider than 3:1); the source sets ``layout=neato`` with pinned positions,
so plain ``dot -Tsvg file.dot`` draws it exactly as we do. Lane bands and stage separators are drawn
under everything as xdot shapes (``_background``); flow labels become nodes beside their lines where
there is room, so no line crosses them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..analysis import handoff_numbers, stage_counts
from ..graph import build_graph
from ..model import CUSTOMER, LANES, Journey
from . import palette
from .labels import (
    changed_badge,
    edge_label,
    edge_label_width,
    edge_lines,
    label_box,
    legend,
    step_cells,
    title_cells,
    wrap,
)
from .layout import MAX_ASPECT, SCREEN_ASPECT, Block, back_edges, stack, stage_rows
from .palette import HEADER_SIZE, NAME_SIZE, TEXT_SIZE
from .shading import (
    Results,
    bottleneck_badge,
    department_fill,
    flow_numbers,
    handoff_width,
    mark_bottleneck_step,
)
from .syntax import Cell, Html, cells_size, edge, left_table, node, num, pos, quote, table, xdot_line, xdot_rect

__all__ = ["lane_dot", "lanes_of", "is_account_journey", "BLUEPRINT_LANES", "LANE_TITLE_WIDTH", "ROUTE_LIMIT"]

#: Lane titles of the service blueprint, top to bottom.
BLUEPRINT_LANES = {
    "customer": ("Customer actions", "what the persona does"),
    "frontstage": ("Frontstage", "touchpoints the persona sees"),
    "backstage": ("Backstage", "internal steps, unseen"),
    "support": ("Support processes", "systems and teams behind"),
}

LANE_TITLE_WIDTH = 210.0
#: Up to this many steps Graphviz routes edges around the boxes (``splines=true``). Its router
#: grows roughly with the square of the boxes (60 steps: 1.2 s, 100 steps: 3.6 s, 200 steps: 20 s),
#: so bigger journeys get straight edges, drawn under the boxes, to stay within seconds.
ROUTE_LIMIT = 70
#: Height of a stage header (points).
HEADER_HEIGHT = 74.0

Point = tuple[float, float]
#: Lane keys top to bottom, each step's lane, and each lane's (title, subtitle).
Lanes = tuple[list[str], dict[str, str], dict[str, tuple[str, str]]]


def is_account_journey(journey: Journey) -> bool:
    """True for the combined journey of an account (see journeymap.simulation.account), which starts at
    ':deal-start'; only such a journey has the ``personas`` view."""
    return journey.start == ":deal-start"


def lanes_of(journey: Journey, g: nx.DiGraph, view: str) -> Lanes:
    """Lane keys top to bottom, each step's lane, and each lane's (title, subtitle)."""
    if view == "blueprint":
        return list(LANES), {n: g.nodes[n]["lane"] for n in g}, dict(BLUEPRINT_LANES)
    if view == "personas":
        return _persona_lanes(journey)
    owners = {g.nodes[n]["owner"] for n in g}
    lanes = ([CUSTOMER] if CUSTOMER in owners else []) + [d.id for d in journey.departments if d.id in owners]
    titles = {CUSTOMER: (journey.persona.name, "the customer")}
    for d in journey.departments:
        titles[d.id] = (d.name, f"{d.capacity} {'person' if d.capacity == 1 else 'people'}")
    return lanes, {n: g.nodes[n]["owner"] for n in g}, titles


def _persona_lanes(journey: Journey) -> Lanes:
    """An account's combined journey: each step carries its persona ("" for the deal's own steps)."""
    lane_of = {s.id: s.persona or "" for s in journey.steps}
    lanes = list(dict.fromkeys(lane_of[s.id] for s in journey.steps))
    titles = {}
    for s in journey.steps:
        lane = lane_of[s.id]
        if lane not in titles:
            titles[lane] = (s.persona_name or lane, "persona") if lane else ("The deal", "start and end")
    return lanes, lane_of, titles


def lane_dot(journey: Journey, g: nx.DiGraph, view: str, res: Results | None, highlight: set[str],
             stages_only: Sequence[str] | None = None) -> str:
    """DOT source of a lane view; ``g`` is the whole journey's graph, ``stages_only`` a close-up."""
    return _LaneDrawing.plan(journey, g, view, res, highlight, stages_only).source()


# --------------------------------------------------------------------------- the look of steps and flows


def _step_attrs(g: nx.DiGraph, n: str, res: Results | None) -> dict[str, Any]:
    """A step's box: rounded and blue or yellow for what the persona sees, square and white for internal work."""
    d = g.nodes[n]
    if d["touchpoint"]:
        attrs: dict[str, Any] = {"shape": "box", "style": "rounded,filled", "color": "#1F4E79", "penwidth": 2.5,
                                 "fillcolor": palette.CUSTOMER_FILL if d["customer"] else palette.TOUCHPOINT_FILL}
    else:
        attrs = {"shape": "box", "style": "filled", "color": "#666666", "penwidth": 1.2,
                 "fillcolor": palette.INTERNAL_FILL}
    mark_bottleneck_step(attrs, res, n)
    if d["moment_of_truth"]:
        attrs["peripheries"] = 2
    return attrs


def _flow_attrs(g: nx.DiGraph, u: str, v: str, number: int | None, waste: float | None,
                max_waste: float) -> dict[str, Any]:
    """A flow's line and label: handoffs thick and vermillion (width by time lost), rework dashed."""
    d = g.edges[u, v]
    lines = edge_lines(g, u, v, number, waste)
    attrs: dict[str, Any] = {"color": palette.FLOW, "penwidth": 1.6, "arrowsize": 1.1}
    colour = palette.FLOW
    bold = False
    if number is not None:
        colour, bold = palette.HANDOFF, True
        attrs.update(color=colour, penwidth=3.5, arrowsize=1.3, arrowtail="dot", dir="both")
        attrs["penwidth"] = handoff_width(waste, max_waste, 3.5)
    if d["rework"]:
        attrs["style"] = "dashed"
        if number is None:
            colour = palette.REWORK
            attrs.update(color=colour, penwidth=2.5)
    if lines:
        attrs["label"] = edge_label(lines, colour, NAME_SIZE if number is not None else TEXT_SIZE, bold)
    return attrs


# --------------------------------------------------------------------------- where flow labels go


class _LabelSpots:
    """Free room for flow labels: boxes no label may cover (frame coordinates, y down), and labels placed."""

    #: Where along the line to try a label, nearest the middle first.
    ALONG = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)

    def __init__(self, taken: list[tuple[float, float, float, float]]) -> None:
        self.taken = taken

    def find(self, pa: Point, pb: Point, w: float, h: float) -> Point | None:
        """A point along the straight line a-b where a w x h label touches no box and no other label."""
        # on the line first, then just beside it (above, below, left, right)
        beside = ((0.0, 0.0), (0.0, -(h / 2 + 8)), (0.0, h / 2 + 8), (-(w / 2 + 8), 0.0), (w / 2 + 8, 0.0))
        for dx, dy in beside:
            for t in self.ALONG:
                x, y = pa[0] + (pb[0] - pa[0]) * t + dx, pa[1] + (pb[1] - pa[1]) * t + dy
                box = (x - w / 2 - 6, y - h / 2 - 6, x + w / 2 + 6, y + h / 2 + 6)
                if all(box[2] <= o[0] or o[2] <= box[0] or box[3] <= o[1] or o[3] <= box[1] for o in self.taken):
                    self.taken.append(box)
                    return x, y
        return None


# --------------------------------------------------------------------------- the drawing


@dataclass
class _LaneDrawing:
    """One lane view being written: what was planned (rows of stages, frame, labels) and the lines so far."""

    journey: Journey
    whole: Journey
    g: nx.DiGraph
    view: str
    res: Results | None
    highlight: set[str]
    numbers: dict[tuple[str, str], int]
    stage_totals: dict[str, dict[str, int]]
    lane_titles: dict[str, tuple[str, str]]
    cells: dict[str, list[Cell]]
    sizes: dict[str, tuple[float, float]]
    title: list[Cell]
    legend: Html
    legend_size: tuple[float, float]
    blocks: list[Block]
    width: float
    height: float
    lanes_top: float
    #: The row of stages each step is drawn in.
    where: dict[str, Block] = field(init=False)
    #: Free room for flow labels, filled as labels are placed.
    spots: _LabelSpots = field(init=False)
    lines: list[str] = field(default_factory=list)
    #: The flows' labels as nodes, written after every line.
    late: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.where = {n: b for b in self.blocks for n in b.layout.positions}

    @classmethod
    def plan(cls, whole: Journey, whole_g: nx.DiGraph, view: str, res: Results | None, highlight: set[str],
             stages_only: Sequence[str] | None) -> _LaneDrawing:
        """Everything but the statements: the labels and their sizes, the rows of stages and the frame."""
        # as docs/simulation.md defines it: the whole journey's numbers, also in a close-up
        numbers = flow_numbers(handoff_numbers(whole_g), res)
        journey, g = whole, whole_g
        if stages_only:
            journey = whole.only_stages(list(stages_only))
            g = build_graph(journey)
        lanes, lane_of, titles = lanes_of(journey, g, view)
        cells = {n: step_cells(journey, g, n, res, view) for n in g}
        for n in highlight & set(g):
            cells[n].insert(0, changed_badge())
        sizes = {n: cells_size(cells[n]) for n in g}
        title = title_cells(journey, g, res, "service blueprint" if view == "blueprint" else "journey map", whole)
        title_w, title_h = cells_size(title)
        legend_html, legend_size = legend(res, view == "blueprint", bool(highlight))
        frame = _Frame(title_w, title_h + 20, 200.0 if view == "blueprint" else 40.0)
        stages = [s.id for s in journey.stages]
        room = _label_room(g, lane_of)

        def rows(k: int) -> list[Block]:
            return stage_rows(g, stages, lanes, lane_of, sizes, room, view == "blueprint", k, LANE_TITLE_WIDTH + 20)

        blocks = rows(1)
        width, height = frame.size(blocks, legend_size)
        if width / height > MAX_ASPECT and len(stages) > 1:
            blocks = _best_rows(rows, len(stages), frame, legend_size)
            legend_html, legend_size = legend(res, view == "blueprint", bool(highlight), wrapped=True)
            width, height = frame.size(blocks, legend_size)
        # the stage headers count the whole journey's handoffs (a close-up's stages have the same steps)
        return cls(journey, whole, g, view, res, highlight, numbers, stage_counts(whole_g), titles, cells, sizes,
                   title, legend_html, legend_size, blocks, width, height, frame.lanes_top)

    # ----------------------------------------------------------------------- coordinates

    def up(self, y: float) -> float:
        """Graphviz's y (up from the bottom) of a frame y (down from the top)."""
        return round(self.height - y, 1)

    def at(self, n: str) -> Point:
        """Position of a step, y downwards from the frame top."""
        b = self.where[n]
        x, y = b.layout.positions[n]
        return x, b.top + y

    # ----------------------------------------------------------------------- statements

    def source(self) -> str:
        """The DOT source: header, frame, lanes, stage headers, steps, flows, then the flows' labels."""
        self._header()
        self._frame_nodes()
        self._lane_titles()
        self._stage_headers()
        self._steps()
        self._flows()
        self.lines.append("  // the labels of the flows as nodes beside their lines: drawn after every line, "
                          "never crossed")
        self.lines.extend(self.late)
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"

    def _header(self) -> None:
        graph_attrs = {
            "layout": "neato", "inputscale": 72,
            "splines": "true" if self.g.number_of_nodes() <= ROUTE_LIMIT else "line", "overlap": "true",
            "outputorder": "edgesfirst", "bgcolor": "#FFFFFF", "pad": 0.3, "fontname": palette.FONT, "esep": "+3",
            "_background": self._background(),
        }
        self.lines += [
            f"// journeymap {self.view} of {self.journey.id!s}; positions are fixed: render with `dot -Tsvg` "
            "(layout=neato is set)",
            f"// size: {num(round(self.width))} x {num(round(self.height))} pt",
            f"digraph {quote(self.journey.id)} {{",
            node("graph", graph_attrs),
            node("node", {"fontname": palette.FONT, "fontsize": TEXT_SIZE, "margin": "0.12,0.06"}),
            node("edge", {"fontname": palette.FONT, "fontsize": TEXT_SIZE}),
        ]

    def _background(self) -> str:
        """Lane bands, stage separators and the blueprint's lines, drawn under everything (xdot)."""
        up, bg = self.up, []
        for b in self.blocks:
            lay = b.layout
            for i, lane in enumerate(b.lanes):
                top = b.top + lay.lane_top[lane]
                bottom = top + lay.lane_height[lane]
                bg.append(xdot_rect(0, up(top), self.width, up(bottom), "#F2F2F2" if i % 2 == 0 else "#FFFFFF"))
                bg.append(xdot_line(0, up(bottom), self.width, up(bottom), "#BBBBBB", 1, False))
            for s in b.stages[1:]:
                x0, _ = lay.stage_span(s)
                top, bottom = up(b.top - HEADER_HEIGHT - 6), up(b.top + lay.height)
                bg.append(xdot_line(x0, top, x0, bottom, "#888888", 1.5, True))
            if self.view == "blueprint":
                y = b.top + lay.lane_top["backstage"]
                bg.append(xdot_line(0, up(y), self.width, up(y), "#000000", 3, True))
                y2 = b.top + lay.lane_top["frontstage"]
                bg.append(xdot_line(0, up(y2), self.width, up(y2), "#777777", 1.5, False))
        return "".join(bg)

    def _frame_nodes(self) -> None:
        """The frame corners, the title and the legend."""
        # neato shifts the drawing so its lower-left corner is (0, 0); these tiny invisible points sit on
        # the corners so that shift is nil and the _background bands line up with the nodes
        corner = {"shape": "point", "style": "invis", "width": 0.001, "height": 0.001}
        title_w, title_h = cells_size(self.title)
        legend_w, legend_h = self.legend_size
        up = self.up
        self.lines += [
            node("_frame_bl", {**corner, "pos": "0,0!"}),
            node("_frame_tr", {**corner, "pos": f"{num(self.width)},{num(self.height)}!"}),
            node("_title", {"shape": "plaintext", "label": left_table(self.title),
                            "pos": pos(10 + title_w / 2, up(10 + title_h / 2))}),
            node("_legend", {"shape": "plaintext", "label": self.legend,
                             "pos": pos(10 + legend_w / 2, up(self.height - 10 - legend_h / 2))}),
        ]

    def _lane_titles(self) -> None:
        """Each lane's title box (shaded by its department's waiting), row by row; the blueprint's two lines."""
        wrapped = f"; the stages wrap into {len(self.blocks)} rows" if len(self.blocks) > 1 else ""
        self.lines.append("  // lanes, top to bottom" + wrapped)
        for k, b in enumerate(self.blocks):
            for lane in b.lanes:
                self.lines.append(self._lane_title(b, lane, "lane:" + lane + (f"#{k + 1}" if k else "")))
            if self.view == "blueprint":
                self._blueprint_lines(b, k)

    def _lane_title(self, b: Block, lane: str, name: str) -> str:
        top = b.top + b.layout.lane_top[lane]
        h = b.layout.lane_height[lane]
        title, sub = self.lane_titles.get(lane, (lane, ""))
        fill = "#DDDDDD"
        extra: list[Cell] = []
        res = self.res
        if res is not None and lane in res.dept_share:
            fill = department_fill(res, lane)
            extra.append(Cell(["department share", f"of waiting {100 * res.dept_share[lane]:.0f}%",
                               f"utilisation {100 * res.dept_util.get(lane, 0.0):.0f}%"], TEXT_SIZE, bold=True))
        if res is not None and lane == res.bottleneck_dept:
            extra.insert(0, bottleneck_badge())
        label = table([Cell(wrap(title, 18), HEADER_SIZE, bold=True), Cell(wrap(sub, 22), TEXT_SIZE, italic=True)]
                      + extra)
        return node(quote(name), {
            "shape": "box", "style": "filled", "fillcolor": fill, "color": "#888888", "fixedsize": True,
            "width": num(LANE_TITLE_WIDTH / 72), "height": num(max(h - 14, 20) / 72), "label": label,
            "pos": pos(10 + LANE_TITLE_WIDTH / 2, self.up(top + h / 2)), "class": "lane"})

    def _blueprint_lines(self, b: Block, k: int) -> None:
        """The labels of the line of visibility and the line of interaction, at the right of a row."""
        for name, lane, text, colour in (("_visibility", "backstage", "<B>LINE OF VISIBILITY</B>", "#000000"),
                                         ("_interaction", "frontstage", "line of interaction", "#555555")):
            y = b.top + b.layout.lane_top[lane]
            label = Html(f'<FONT POINT-SIZE="{num(TEXT_SIZE)}" COLOR="{colour}">{text}</FONT>')
            self.lines.append(node(f"{name}{'' if not k else k + 1}", {
                "shape": "plaintext", "label": label, "pos": pos(self.width - 100, self.up(y - 14))}))

    def _stage_headers(self) -> None:
        """Each stage's name over its columns, with its internal handoffs and touchpoints."""
        self.lines.append("  // stages, left to right: name, touchpoints and internal handoffs")
        for b in self.blocks:
            for sid in b.stages:
                s = self.journey.stage_by_id[sid]
                x0, x1 = b.layout.stage_span(s.id)
                n_h = self.stage_totals[s.id]["handoffs"]
                n_t = self.stage_totals[s.id]["touchpoints"]
                counts = f"{n_h} handoff{'s' if n_h != 1 else ''} \u00b7 {n_t} touchpoint{'s' if n_t != 1 else ''}"
                cells = [Cell(wrap(s.name.upper(), max(12, int((x1 - x0) / 12))), HEADER_SIZE, bold=True),
                         Cell([counts], TEXT_SIZE, bold=True, colour=palette.HANDOFF if n_h else "#333333")]
                self.lines.append(node(quote("stage:" + s.id), {
                    "shape": "box", "style": "filled", "fillcolor": "#E8E8E8", "color": "#888888",
                    "fixedsize": True, "width": num((x1 - x0 - 14) / 72), "height": num(HEADER_HEIGHT / 72),
                    "label": table(cells), "pos": pos((x0 + x1) / 2, self.up(b.top - 10 - HEADER_HEIGHT / 2)),
                    "class": "stage", "tooltip": f"{n_h} internal handoffs"}))

    def _steps(self) -> None:
        self.lines.append("  // steps")
        g = self.g
        for n in sorted(g, key=lambda k: g.nodes[k]["order"]):
            x, y = self.at(n)
            attrs = _step_attrs(g, n, self.res)
            if n in self.highlight:
                attrs.update(color=palette.CHANGED, penwidth=5.0)
            attrs["label"] = table(self.cells[n])
            attrs["pos"] = pos(x, self.up(y))
            attrs["class"] = "touchpoint" if g.nodes[n]["touchpoint"] else "internal"
            self.lines.append(node(quote(n), attrs))

    # ----------------------------------------------------------------------- flows

    def _flows(self) -> None:
        """Every flow in file order: straight, looping back under its steps, or to another row of stages."""
        self.lines.append("  // flows; internal handoffs are numbered H1, H2... in the whole journey's file order")
        g, res = self.g, self.res
        lost = res.flow_lost if res is not None else {}
        max_lost = max((w for e, w in lost.items() if e in self.numbers), default=0.0)
        backward = back_edges(g)
        self.spots = _LabelSpots(self._taken())
        for i, (u, v) in enumerate(sorted(g.edges, key=lambda e: (g.nodes[e[0]]["order"], g.nodes[e[1]]["order"]))):
            number = self.numbers.get((u, v)) if g.edges[u, v]["handoff"] else None
            waste = lost.get((u, v)) if lost else None
            attrs = _flow_attrs(g, u, v, number, waste, max_lost)
            kind = ["handoff"] if number is not None else []
            kind += ["rework"] if g.edges[u, v]["rework"] else []
            attrs["class"] = " ".join(kind) or "flow"
            if self.where[u] is not self.where[v]:
                self._to_another_row(i, u, v, attrs, number, waste)
            elif (u, v) in backward and u != v:
                self._loop_back(i, u, v, attrs)
            else:
                self._edge(quote(u), quote(v), attrs, self.at(u), self.at(v), (u, v))

    def _taken(self) -> list[tuple[float, float, float, float]]:
        """Where a label may not go: step boxes, lane titles, stage headers, the title (frame coordinates, y down)."""
        taken = []
        for n in self.g:
            x, y = self.at(n)
            w, h = self.sizes[n]
            taken.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        for b in self.blocks:
            taken.append((0.0, b.top - HEADER_HEIGHT - 12, self.width, b.top))
        taken.append((0.0, 0.0, self.width, self.lanes_top))
        taken.append((0.0, 0.0, LANE_TITLE_WIDTH + 24, self.height))
        return taken

    def _edge(self, a: str, b: str, attrs: Mapping[str, Any], pa: Point, pb: Point, flow: tuple[str, str]) -> None:
        """Draw the line; its label becomes a node of its own beside it where there is room.

        Graphviz draws every line before any node and routes lines around nodes, so a label
        drawn as a node is never crossed by a line (a label on the line itself is crossed by
        every line drawn after it). Where no free spot is found the label stays on the line.
        """
        attrs = dict(attrs)
        label = attrs.get("label")
        if label is not None:
            w, h = label_box(label)
            spot = self.spots.find(pa, pb, w, h)
            if spot is not None:
                attrs.pop("label")
                self.late.append(node(f"_label{len(self.late)}", {
                    "shape": "plaintext", "margin": 0, "label": label, "pos": pos(spot[0], self.up(spot[1])),
                    "class": "label", "comment": f"label of {flow[0]} -> {flow[1]}"}))
        self.lines.append(edge(a, b, attrs))

    def _to_another_row(self, i: int, u: str, v: str, attrs: dict[str, Any], number: int | None,
                        waste: float | None) -> None:
        """Two short stubs instead of an arc over everything: out at the right end of the source's row
        and in at the left end of the target's row."""
        row_of = {id(b): k + 1 for k, b in enumerate(self.blocks)}
        (xu, yu), (xv, yv) = self.at(u), self.at(v)
        out_x = self.where[u].layout.width + 18
        in_x = LANE_TITLE_WIDTH + 24
        for name, x, y in ((f"_out{i}", out_x, yu), (f"_in{i}", in_x, yv)):
            self.lines.append(node(name, {"shape": "point", "width": 0.12, "color": attrs["color"],
                                          "pos": pos(x, self.up(y))}))
        to_row, from_row = f"\u25b6 to row {row_of[id(self.where[v])]}", f"from row {row_of[id(self.where[u])]}"
        first = dict(attrs, arrowhead="none")
        first.pop("label", None)
        colour = attrs.get("color", palette.FLOW)
        first["label"] = edge_label(edge_lines(self.g, u, v, number, waste) + [to_row], colour,
                                    NAME_SIZE if number is not None else TEXT_SIZE, number is not None)
        self._edge(quote(u), f"_out{i}", first, (xu, yu), (out_x, yu), (u, v))
        second: dict[str, Any] = {k: attrs[k] for k in ("color", "penwidth", "style", "class", "arrowsize")
                                  if k in attrs}
        tag = (f"H{number} " if number is not None else "") + from_row
        second["label"] = edge_label([tag], colour, TEXT_SIZE, number is not None)
        self._edge(f"_in{i}", quote(v), second, (in_x, yv), (xv, yv), (u, v))

    def _loop_back(self, i: int, u: str, v: str, attrs: dict[str, Any]) -> None:
        """A loop back through an invisible point under both steps, so it reads as a loop and never hides
        under the forward flow between the same two steps."""
        (xu, yu), (xv, yv) = self.at(u), self.at(v)
        below = max(yu + self.sizes[u][1] / 2, yv + self.sizes[v][1] / 2) + 26
        via = f"_loop{i}"
        self.lines.append(node(via, {"shape": "point", "style": "invis", "width": 0.01,
                                     "pos": pos((xu + xv) / 2, self.up(below))}))
        first: dict[str, Any] = {k: attrs[k] for k in ("color", "penwidth", "style", "class") if k in attrs}
        if "arrowtail" in attrs:
            first.update(arrowtail="dot", dir="back")
        else:
            first["arrowhead"] = "none"
        self._edge(quote(u), via, first, (xu, yu), ((xu + xv) / 2, below), (u, v))
        attrs.pop("arrowtail", None)
        attrs.pop("dir", None)
        self._edge(via, quote(v), attrs, ((xu + xv) / 2, below), (xv, yv), (u, v))


@dataclass
class _Frame:
    """The frame around the rows of stages: the title above, the legend below, room on the right."""

    title_w: float
    lanes_top: float
    right_margin: float

    def size(self, blocks: list[Block], legend_size: tuple[float, float]) -> tuple[float, float]:
        """Width and height of the frame around ``blocks`` (giving each block its top)."""
        legend_w, legend_h = legend_size
        bottom = stack(blocks, self.lanes_top, HEADER_HEIGHT)
        w = max(max(b.layout.width for b in blocks) + self.right_margin, self.title_w + 40, legend_w + 40)
        return w, bottom + 30 + legend_h + 20


def _best_rows(rows: Callable[[int], list[Block]], n_stages: int, frame: _Frame,
               legend_size: tuple[float, float]) -> list[Block]:
    """The rows of stages whose frame is closest to a 16:9 screen (so the room reads it largest), never
    wider than 3:1 when any number of rows avoids it."""
    best: tuple[float, list[Block]] | None = None
    for k in range(2, n_stages + 1):
        cand = rows(k)
        w, h = frame.size(cand, legend_size)
        score = abs(math.log((w / h) / SCREEN_ASPECT)) + (10.0 if w / h > MAX_ASPECT else 0.0)
        if best is None or score < best[0]:
            best = (score, cand)
    assert best is not None  # n_stages > 1
    return best[1]


def _label_room(g: nx.DiGraph, lane_of: Mapping[str, str]) -> dict[str, float]:
    """The width of the widest label of a level flow at each step, kept free beside it."""
    room: dict[str, float] = {}
    for u, v in g.edges:
        if lane_of[u] != lane_of[v]:
            continue  # a slanted edge has room for its label already; only level ones need wider columns
        w = edge_label_width(g, u, v)
        room[u] = max(room.get(u, 0.0), w)
        room[v] = max(room.get(v, 0.0), w)
    return room

