"""DOT source of any view of a journey: a journey (and optional simulation results) in, DOT text out.

Nothing here runs Graphviz or touches files, so every mark on the drawings can
be tested by reading the source (see ``tests/test_rendering_dot.py``);
:mod:`journeymap.rendering.output` is the one place that runs ``dot``.

The views (:data:`VIEWS`), each built by a module of its own:

``map``
    one lane per department (the customer on top), stages left to right (:mod:`.lanes`);
``overview``
    the whole journey on one screen: a table of stages by lanes (:mod:`.overview`);
``blueprint``
    the service-blueprint lanes top to bottom: customer actions, frontstage
    touchpoints, the line of visibility, backstage steps, support processes (:mod:`.lanes`);
``handoffs``
    the handoff network: departments as nodes, one edge per direction
    weighted by how often work crosses it (and by the time lost, with results) (:mod:`.handoffs`);
``personas``
    an account's combined journey, one lane per persona (:mod:`.lanes`).

They share the DOT syntax helpers (:mod:`.syntax`), the words on the drawings (:mod:`.labels`) and
the reading of simulation results onto them (:mod:`.shading`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from ..graph import build_graph
from ..model import Journey
from .handoffs import handoff_network_dot, network_dot
from .lanes import is_account_journey, lane_dot
from .overview import overview_dot
from .shading import read_results
from .syntax import Html, escape_html, quote

__all__ = [
    "VIEWS",
    "JOURNEY_VIEWS",
    "views_of",
    "is_account_journey",
    "Html",
    "quote",
    "escape_html",
    "journey_dot",
    "map_dot",
    "blueprint_dot",
    "handoff_network_dot",
]

#: Every view, in the order the command line lists them.
VIEWS = ("map", "overview", "blueprint", "handoffs", "personas")
#: The views of a single journey; "personas" (a lane per persona) is for accounts.
JOURNEY_VIEWS = ("map", "overview", "blueprint", "handoffs")


def views_of(journey: Journey) -> tuple[str, ...]:
    """The views a journey has: all of them for an account's combined journey, else :data:`JOURNEY_VIEWS`."""
    return VIEWS if is_account_journey(journey) else JOURNEY_VIEWS


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
        return network_dot(journey, g, read_results(results, g))
    if view == "personas" and not is_account_journey(journey):
        raise ValueError("the personas view is for accounts: render an account file (a lane per persona)")
    res = read_results(results, g)
    if view == "overview":
        return overview_dot(journey, g, res, stages)
    return lane_dot(journey, g, view, res, set(highlight or ()), stages)


def map_dot(journey: Journey, results: Mapping[str, Any] | None = None, g: nx.DiGraph | None = None,
            highlight: Iterable[str] = (), stages: Sequence[str] | None = None) -> str:
    """The journey map: one lane per department, the customer on top."""
    return journey_dot(journey, "map", results, g, highlight, stages)


def blueprint_dot(journey: Journey, results: Mapping[str, Any] | None = None,
                  g: nx.DiGraph | None = None, highlight: Iterable[str] = (),
                  stages: Sequence[str] | None = None) -> str:
    """The service blueprint: customer, frontstage | line of visibility | backstage, support."""
    return journey_dot(journey, "blueprint", results, g, highlight, stages)
