"""Drawing journeys: Graphviz views (map, blueprint, handoff network) and matplotlib charts.

* :mod:`~journeymap.rendering.dot` builds the DOT source of any view (pure, testable without Graphviz),
  with one module per view (:mod:`.lanes`: map, blueprint, personas; :mod:`.overview`; :mod:`.handoffs`)
  over shared parts: :mod:`.syntax` (quoting, attributes, HTML-like tables), :mod:`.labels` (the words
  on the drawings), :mod:`.shading` (simulation results onto the drawings), :mod:`.layout` (the grid)
  and :mod:`.palette` (colours and sizes);
* :mod:`~journeymap.rendering.plots` draws charts (functions take data and ``ax=None``, return the Figure);
* :mod:`~journeymap.rendering.output` is the one place that runs ``dot`` (through the ``graphviz``
  package) and writes files, atomically; its jobs (:func:`render_jobs`, :func:`run_job`) pickle, so
  the drawing can run in worker processes.

Typical use::

    from journeymap import load_journey
    from journeymap.rendering import render_all, emotion_chart
    paths = render_all(load_journey("journeys/acme-cio.yaml"), "outputs/acme-cio", results=summary)
"""

from .dot import JOURNEY_VIEWS, VIEWS, blueprint_dot, handoff_network_dot, journey_dot, map_dot
from .output import (
    CHART_FORMATS,
    CHARTS,
    FORMATS,
    ChartJob,
    GraphJob,
    JobResult,
    RenderError,
    emotion_chart,
    load_results,
    render_all,
    render_jobs,
    render_view,
    run_dot,
    run_job,
    write_graph,
)
from .syntax import escape_html, quote

__all__ = [
    "VIEWS",
    "JOURNEY_VIEWS",
    "FORMATS",
    "CHART_FORMATS",
    "CHARTS",
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
    "render_jobs",
    "run_job",
    "GraphJob",
    "ChartJob",
    "JobResult",
    "emotion_chart",
    "load_results",
]
