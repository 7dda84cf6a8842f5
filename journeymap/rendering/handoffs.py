"""The handoff network view: departments as boxes, one arrow per direction of handoffs.

Arrow width is the number of handoffs, or with results the time lost per case on all of the pair's
arrows. Two departments that hand work both ways are drawn thick and vermillion, labelled
"ping-pong", so the loops stand out. Graphviz's ``dot`` lays it out (no pinned positions).

Each arrow's label is a node of its own on the arrow's path (the arrow goes from the department to its
label, then on to the receiver), on a white box, and every line is drawn before every node: dot routes
other arrows around nodes, and a line that still passes under a label is hidden by its box, so no label
is crossed (an edge label placed by dot is drawn once, wherever its line ends up, and other lines crossed
it). A network that dot lays out more than 3:1 wide is laid out top to bottom instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from ..analysis import expected_flow_counts, expected_visits, handoff_matrix, ping_pongs
from ..distributions import format_minutes
from ..graph import build_graph
from ..model import Department, Journey
from . import palette
from .labels import edge_label, wrap
from .palette import HEADER_SIZE, TEXT_SIZE, TITLE_SIZE
from .shading import Results, bottleneck_badge, department_fill, pair_width, read_results
from .syntax import Cell, Html, edge, escape_html, node, num, quote, table

__all__ = ["handoff_network_dot", "network_dot"]


def handoff_network_dot(journey: Journey, g: nx.DiGraph | None = None,
                        results: Mapping[str, Any] | None = None) -> str:
    """Departments as nodes; one edge per direction with its handoff count (and waste, with results).

    Edges between two departments that hand work back and forth (both
    directions present) are drawn thick and vermillion and labelled
    "ping-pong", so the loops stand out.
    """
    g = g if g is not None else build_graph(journey)
    return network_dot(journey, g, read_results(results, g))


@dataclass(frozen=True)
class _Pairs:
    """Handoffs between departments: each directed pair with its count, and which pairs go both ways."""

    edges: list[tuple[str, str, int]]
    per_case: dict[str, dict[str, float]]
    ping_pong: set[tuple[str, str]]

    @classmethod
    def of(cls, g: nx.DiGraph) -> _Pairs:
        counts = handoff_matrix(g)
        per_case = handoff_matrix(g, expected_flow_counts(g, expected_visits(g)))
        edges = [(a, b, int(c)) for a, row in counts.items() for b, c in row.items() if c]
        return cls(edges, per_case, {(a, b) for a, b, _ in edges if counts.get(b, {}).get(a)})

    @property
    def involved(self) -> set[str]:
        return {x for a, b, _ in self.edges for x in (a, b)}


def network_dot(journey: Journey, g: nx.DiGraph, res: Results | None, rankdir: str | None = None) -> str:
    """The handoff network of ``journey`` (``g`` its graph), shaded by results already read.

    ``rankdir`` LR (left to right) or TB; by default LR, unless dot is installed and lays the LR network out
    more than 3:1 wide (:func:`_too_wide`), then TB.
    """
    if rankdir is None:
        wide = network_dot(journey, g, res, "LR")
        return network_dot(journey, g, res, "TB") if _too_wide(wide) else wide
    pairs = _Pairs.of(g)
    waste = dict(res.pair_waste) if res is not None else {}
    lines = [f"// journeymap handoff network of {journey.id}",
             f"digraph {quote(journey.id + ':handoffs')} {{"]
    title = _title(journey, g, pairs, bool(waste))
    lines.append(node("graph", {"layout": "dot", "rankdir": rankdir, "label": title, "labelloc": "t",
                                "labeljust": "l", "fontname": palette.FONT, "pad": 0.4, "nodesep": 0.6,
                                "ranksep": 0.4, "bgcolor": "#FFFFFF", "outputorder": "edgesfirst"}))
    lines.append(node("node", {"shape": "box", "style": "rounded,filled", "fontname": palette.FONT,
                               "fontsize": HEADER_SIZE, "penwidth": 1.5, "margin": "0.2,0.12"}))
    lines.append(node("edge", {"fontname": palette.FONT, "fontsize": TEXT_SIZE}))
    involved = pairs.involved
    for d in journey.departments:
        lines.append(node(quote(d.id), _department_attrs(d, d.id in involved, res)))
    max_count = max((c for *_, c in pairs.edges), default=1)
    max_waste = max(waste.values(), default=0.0)
    for a, b, c in pairs.edges:
        attrs = _pair_attrs(pairs, a, b, c, waste.get((a, b)), pair_width(waste.get((a, b)), max_waste, c, max_count))
        label = quote(f"_label {a} -> {b}")
        lines.append(node(label, {"shape": "plaintext", "margin": 0, "label": attrs.pop("label"), "class": "label",
                                  "comment": f"label of the handoffs {a} -> {b}"}))
        lines.append(edge(quote(a), label, {**attrs, "arrowhead": "none"}))
        lines.append(edge(label, quote(b), attrs))
    lines.append("}")
    return "\n".join(lines) + "\n"


#: The widest a handoff network may be laid out left to right (width / height) before it is drawn top to bottom.
MAX_ASPECT = 3.0


def _too_wide(dot_source: str) -> bool:
    """Whether dot lays ``dot_source`` out more than :data:`MAX_ASPECT` wide; False when dot cannot be run (the
    DOT source is then written as is, and whoever renders it gets the left-to-right layout)."""
    import graphviz

    from .output import dot_available

    if not dot_available():
        return False
    try:
        plain = graphviz.pipe("dot", "plain", dot_source.encode("utf-8"), quiet=True)
        first = plain.decode("utf-8", "replace").split("\n", 1)[0].split()
        width, height = float(first[2]), float(first[3])  # "graph scale width height"
    except Exception:  # noqa: BLE001 - a layout that fails here fails again, with its message, when rendered
        return False
    return height > 0 and width / height > MAX_ASPECT


def _title(journey: Journey, g: nx.DiGraph, pairs: _Pairs, with_waste: bool) -> Html:
    """Name, persona and totals; what an arrow's width means."""
    chains = ping_pongs(g)
    total = sum(c for *_, c in pairs.edges)
    n_pong = len(pairs.ping_pong) // 2
    width = ("time lost per case on all of the pair&#39;s arrows (the sum of their lost/case on the map)"
             if with_waste else "number of handoffs")
    return Html(
        f"<FONT POINT-SIZE=\"{num(TITLE_SIZE)}\"><B>{escape_html(journey.name)} \u2014 handoff network</B></FONT>"
        f"<BR/><FONT POINT-SIZE=\"{num(HEADER_SIZE)}\">Persona: {escape_html(journey.persona.name)} \u00b7 "
        f"{total} internal handoffs between {len({x for e in pairs.edges for x in e[:2]})} departments \u00b7 "
        f"{n_pong} ping-pong pair{'s' if n_pong != 1 else ''} \u00b7 "
        f"{len(chains)} A\u2192B\u2192A chain{'s' if len(chains) != 1 else ''}</FONT>"
        f"<BR/><FONT POINT-SIZE=\"{num(TEXT_SIZE)}\">edge width = {width}; "
        f"<FONT COLOR=\"{palette.HANDOFF}\"><B>vermillion = ping-pong (work goes both ways)</B></FONT></FONT>")


def _department_attrs(d: Department, involved: bool, res: Results | None) -> dict[str, Any]:
    """A department's box: its name and staff; with results its waiting share, utilisation and the badge."""
    cells = [Cell(wrap(d.name, 22), HEADER_SIZE, bold=True),
             Cell([f"{d.capacity} {'person' if d.capacity == 1 else 'people'}"], TEXT_SIZE, italic=True)]
    fill = "#D6EAF8" if involved else "#F2F2F2"
    attrs: dict[str, Any] = {"color": "#1F4E79" if involved else "#AAAAAA"}
    if res is not None and d.id in res.dept_share:
        fill = department_fill(res, d.id)
        cells.append(Cell([f"department share of waiting {100 * res.dept_share[d.id]:.0f}%",
                           f"utilisation {100 * res.dept_util.get(d.id, 0.0):.0f}%"], TEXT_SIZE, bold=True))
    if res is not None and d.id == res.bottleneck_dept:
        cells.insert(0, bottleneck_badge())
        attrs.update(penwidth=5, color=palette.BOTTLENECK)
    attrs.update(fillcolor=fill, label=table(cells))
    return attrs


def _pair_attrs(pairs: _Pairs, a: str, b: str, c: int, waste: float | None, width: float) -> dict[str, Any]:
    """One direction of handoffs: count, expected per case, time lost (pair total); ping-pong in vermillion."""
    pong = (a, b) in pairs.ping_pong
    label = [f"{c} handoff{'s' if c != 1 else ''}", f"{pairs.per_case[a][b]:.2f} per case"]
    if waste is not None:
        label.append(f"{format_minutes(waste)} lost per case (pair total)")
    if pong:
        label.insert(0, "\u21c4 ping-pong")
    colour = palette.HANDOFF if pong else "#0072B2"
    return {"penwidth": width, "color": colour, "label": edge_label(label, colour, TEXT_SIZE, pong),
            "arrowsize": 1.2, "class": "ping-pong" if pong else "handoff", "weight": c}
