"""journeymap: model, validate, analyse, simulate and draw B2B customer journeys.

The library is the product; the ``journeymap`` command is a thin layer over it::

    from journeymap import load_journey, build_graph, analyze, simulate
    journey = load_journey("journeys/acme-cio.yaml")
    report = analyze(build_graph(journey))
    result = simulate(journey, replications=10, seed=1)   # result.summary is the JSON
"""

from .analysis import analyze
from .errors import DotNotFound, JourneyInvalid, JourneymapError
from .graph import build_graph
from .model import Journey
from .problems import Problem
from .validation import check_file, load_journey


def simulate(journey, **kwargs):
    """Simulate a journey; see :func:`journeymap.simulation.simulate` (imported lazily: SimPy is heavy)."""
    from .simulation import simulate as _simulate

    return _simulate(journey, **kwargs)

__version__ = "0.1.0"

__all__ = [
    "Journey",
    "Problem",
    "JourneymapError",
    "JourneyInvalid",
    "DotNotFound",
    "load_journey",
    "check_file",
    "build_graph",
    "analyze",
    "simulate",
]
