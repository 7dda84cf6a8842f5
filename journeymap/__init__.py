"""journeymap: model, validate, analyse, simulate and draw B2B customer journeys.

The library is the product; the ``journeymap`` command is a thin layer over it::

    from journeymap import load_journey, build_graph, analyze
    journey = load_journey("journeys/cio.yaml")
    report = analyze(build_graph(journey))
"""

from .analysis import analyze
from .errors import DotNotFound, JourneyInvalid, JourneymapError
from .graph import build_graph
from .model import Journey
from .problems import Problem
from .validation import check_file, load_journey

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
]
