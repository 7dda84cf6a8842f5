"""The one module of :mod:`journeymap.rendering` that runs Graphviz and writes files.

Everything it writes goes through :mod:`journeymap.output`, so files appear
atomically (a temporary file renamed into place). ``dot`` is only needed for
SVG, PNG and PDF: ``format="dot"`` writes the DOT source and works without
Graphviz installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DotNotFound, JourneymapError, TooLarge
from ..graph import build_graph
from ..model import Journey
from ..output import write_bytes, write_text, write_with
from ..schema import MAX_STEPS
from .dot import JOURNEY_VIEWS, VIEWS, is_account_journey, journey_dot

__all__ = [
    "FORMATS",
    "RenderError",
    "dot_available",
    "run_dot",
    "write_graph",
    "write_figure",
    "load_results",
    "render_view",
    "render_all",
    "planned_files",
    "check_size",
    "MAX_RENDER_STEPS",
    "emotion_chart",
]

#: The largest journey drawn whole (steps). Graphviz's layout grows faster than the number of steps:
#: 2,000 steps draw in about 2 s, 5,000 in about 15 s and 170 MB, 20,000 in over 2 minutes and 1.9 GB
#: (benchmarks/bench_render.py). Above it, draw stages (``--stage``) or the handoff network.
MAX_RENDER_STEPS = MAX_STEPS  # the same limit validate enforces

#: Output formats of the Graphviz views.
FORMATS = ("svg", "png", "pdf", "dot")

#: PNG resolution: crisp on a projector...
PNG_DPI = 110
#: ...unless the picture would exceed this many pixels (a 200-step map), then the resolution drops to fit.
MAX_PNG_PIXELS = 40e6

_SIZE = re.compile(r"^// size: ([\d.]+) x ([\d.]+) pt$", re.M)


def png_dpi(source: str) -> float:
    """The PNG resolution for a DOT source: :data:`PNG_DPI`, lowered so huge drawings stay under the pixel cap."""
    m = _SIZE.search(source)
    if not m:
        return PNG_DPI
    w_in, h_in = float(m.group(1)) / 72, float(m.group(2)) / 72
    if w_in <= 0 or h_in <= 0:
        return PNG_DPI
    return round(min(PNG_DPI, (MAX_PNG_PIXELS / (w_in * h_in)) ** 0.5, 32000 / w_in, 32000 / h_in), 1)


class RenderError(JourneymapError):
    """Graphviz ran but could not draw the graph (its own message is included)."""


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` program is on PATH."""
    return shutil.which("dot") is not None


def run_dot(source: str, fmt: str) -> bytes:
    """Lay out and draw DOT ``source`` with ``dot -T<fmt>``; the layout engine is named in the source.

    Raises :class:`~journeymap.errors.DotNotFound` (with install instructions)
    when ``dot`` is missing, and :class:`RenderError` when it fails.
    """
    if fmt not in FORMATS or fmt == "dot":
        raise ValueError(f"unknown format: {fmt!r} (must be one of svg, png, pdf)")
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFound()
    args = [exe, f"-T{fmt}"]
    if fmt == "png":
        args.append(f"-Gdpi={png_dpi(source)}")
    try:
        proc = subprocess.run(args, input=source.encode("utf-8"), capture_output=True, check=False)
    except FileNotFoundError as exc:  # removed between which() and run()
        raise DotNotFound() from exc
    if proc.returncode != 0 or not proc.stdout:
        msg = proc.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"Graphviz failed to draw the {fmt.upper()}: {msg or 'no output'}")
    return proc.stdout


def write_graph(path: str | os.PathLike, source: str, fmt: str | None = None) -> str:
    """Write DOT ``source`` to ``path`` as ``fmt`` (default: the file's extension), atomically."""
    fmt = fmt or os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "svg"
    if fmt in ("dot", "gv"):
        return write_text(path, source)
    return write_bytes(path, run_dot(source, fmt))


def write_figure(path: str | os.PathLike, fig: Any, dpi: int = 150, close: bool = True) -> str:
    """Save a matplotlib figure atomically (format from the extension) and, unless told not to, close it."""
    import matplotlib.pyplot as plt

    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    try:
        return write_with(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight"))
    finally:
        if close:
            plt.close(fig)


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read a simulation results JSON (the summary dict, or a file holding it under ``"summary"``)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise JourneymapError(f"{os.fspath(path)}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise JourneymapError(f"{os.fspath(path)}: not simulation results (not UTF-8 text: {exc.reason})") from exc
    if isinstance(data, dict) and "case" not in data and isinstance(data.get("summary"), dict):
        data = data["summary"]
    if not isinstance(data, dict) or "case" not in data:
        raise JourneymapError(f"{os.fspath(path)}: not simulation results (no 'case' key); "
                              "make them with 'journeymap simulate FILE --json' or use --simulate")
    return data


#: Views that draw departments or stages rather than steps: any journey fits.
_UNLIMITED_VIEWS = ("handoffs", "overview")


def check_size(journey: Journey, view: str = "map", stages: Sequence[str] | None = None) -> None:
    """Refuse (:class:`~journeymap.errors.TooLarge`) to draw more than :data:`MAX_RENDER_STEPS` steps at once.

    ``stages``: a close-up of these stages of ``journey``; only their steps count. The handoff network
    (and the overview, where there is one) draws departments and stages, not steps, so it has no limit.
    """
    if view in _UNLIMITED_VIEWS:
        return
    n = len(journey.steps) if not stages else sum(1 for s in journey.steps if s.stage in stages)
    if n > MAX_RENDER_STEPS:
        others = " or ".join(f"--view {v}" for v in _UNLIMITED_VIEWS if v in VIEWS)
        raise TooLarge(f"{n:,} steps are too many to draw as one {view} (the limit is {MAX_RENDER_STEPS:,}: "
                       f"Graphviz would take minutes and gigabytes); draw one stage at a time with --stage STAGE, "
                       f"or the whole journey with {others}")


def render_view(journey: Journey, path: str | os.PathLike, view: str = "map",
                results: Mapping[str, Any] | None = None, fmt: str | None = None,
                stages: Sequence[str] | None = None) -> str:
    """Build one view's DOT source and write it to ``path`` (format from ``fmt`` or the extension).

    ``stages``: a close-up of those stages, with the whole journey's handoff numbers and figures.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view: {view!r} (must be one of {', '.join(VIEWS)})")
    check_size(journey, view, stages)
    return write_graph(path, journey_dot(journey, view, results, stages=stages), fmt)


def _views(journey: Journey) -> Sequence[str]:
    return VIEWS if is_account_journey(journey) else JOURNEY_VIEWS


def _charts(with_results: Any) -> list[str]:
    return ["emotion"] + (["cycle_time", "stage_breakdown", "utilisation"] if with_results else [])


#: Formats for :func:`render_all`: the same for every view and chart, or per view and chart name
#: (a name left out is not written), so a caller writes a PNG only where one is used.
Formats = Sequence[str] | Mapping[str, Sequence[str]]


def _formats_of(formats: Formats, name: str) -> Sequence[str]:
    return formats.get(name, ()) if isinstance(formats, Mapping) else formats


def planned_files(journey: Journey, out_dir: str | os.PathLike, with_results: bool = False,
                  formats: Formats = ("svg", "png"), charts: bool = True) -> list[str]:
    """The paths :func:`render_all` may write with these arguments (so a caller can check them before it
    simulates or draws anything); ``with_results``: whether it will be given simulation results."""
    out = os.fspath(out_dir)
    names = [f"{view}.{fmt}" for view in _views(journey) for fmt in (*_formats_of(formats, view), "dot")]
    if charts:
        names += [f"{c}.{fmt}" for c in _charts(with_results) for fmt in _formats_of(formats, c)
                  if fmt in ("png", "svg", "pdf")]
    return [os.path.join(out, n) for n in dict.fromkeys(names)]


def render_all(journey: Journey, out_dir: str | os.PathLike, results: Mapping[str, Any] | None = None,
               formats: Formats = ("svg", "png"), charts: bool = True,
               stages: Sequence[str] | None = None) -> list[str]:
    """Write every view (map, blueprint, handoffs) and, with results, every chart, for one journey.

    Files are named ``<view>.<fmt>`` and ``<chart>.<fmt>`` inside ``out_dir``; ``formats`` may name the
    formats per view and chart (``{"map": ("svg",), "overview": ("svg", "png"), ...}``).
    Without ``dot`` the DOT sources are still written and
    :class:`~journeymap.errors.DotNotFound` is raised afterwards, so a caller
    can report it once. Returns the paths written.
    """
    from . import plots

    out = os.fspath(out_dir)
    views = _views(journey)
    for view in views:
        check_size(journey, view, stages)
    g = build_graph(journey)
    written: list[str] = []
    missing_dot = False
    for view in views:
        source = journey_dot(journey, view, results, g=g, stages=stages)
        for fmt in _formats_of(formats, view):
            path = os.path.join(out, f"{view}.{fmt}")
            try:
                written.append(write_graph(path, source, fmt))
            except DotNotFound:
                missing_dot = True
        if missing_dot and "dot" not in _formats_of(formats, view):
            written.append(write_text(os.path.join(out, f"{view}.dot"), source))
    if charts:
        makers = {
            "emotion": lambda: plots.emotion_curve([journey]),
            "cycle_time": lambda: plots.cycle_time_chart(results, journey),
            "stage_breakdown": lambda: plots.stage_breakdown_chart(results, journey),
            "utilisation": lambda: plots.utilisation_chart(results, journey),
        }
        figures = {name: makers[name] for name in _charts(results)}
        import matplotlib.pyplot as plt

        for name, make in figures.items():
            fig = make()  # drawn once, saved in every format
            try:
                for fmt in _formats_of(formats, name):
                    if fmt in ("png", "svg", "pdf"):
                        written.append(write_figure(os.path.join(out, f"{name}.{fmt}"), fig, close=False))
            finally:
                plt.close(fig)
    if missing_dot:
        raise DotNotFound()
    return written


def emotion_chart(journeys: Sequence[Journey], path: str | os.PathLike) -> str:
    """Several personas' emotion curves on one chart, written to ``path`` (PNG, SVG or PDF)."""
    from . import plots

    return write_figure(path, plots.emotion_curve(journeys))
