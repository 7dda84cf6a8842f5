"""Drawing journeys: Graphviz views (map, blueprint, handoff network) and matplotlib charts.

* :mod:`~journeymap.rendering.dot` builds DOT source (pure, testable without Graphviz);
* :mod:`~journeymap.rendering.plots` draws charts (functions take data and ``ax=None``, return the Figure);
* :mod:`~journeymap.rendering.output` is the one place that runs ``dot`` and writes files, atomically.

Typical use::

    from journeymap import load_journey
    from journeymap.rendering import render_all, emotion_chart
    paths = render_all(load_journey("journeys/acme-cio.yaml"), "outputs/acme-cio", results=summary)
"""

from .dot import VIEWS, blueprint_dot, escape_html, handoff_network_dot, journey_dot, map_dot, quote
from .output import FORMATS, RenderError, emotion_chart, load_results, render_all, render_view, run_dot, write_graph

__all__ = [
    "VIEWS",
    "FORMATS",
    "RenderError",
    "journey_dot",
    "map_dot",
    "blueprint_dot",
    "handoff_network_dot",
    "escape_html",
    "quote",
    "run_dot",
    "write_graph",
    "render_view",
    "render_all",
    "emotion_chart",
    "load_results",
]
