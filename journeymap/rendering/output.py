"""The one module of :mod:`journeymap.rendering` that runs Graphviz and writes files.

Everything it writes goes through :mod:`journeymap.output`, so files appear
atomically (a temporary file renamed into place). ``dot`` is only needed for
SVG, PNG and PDF: ``format="dot"`` writes the DOT source and works without
Graphviz installed.

Graphviz runs through the ``graphviz`` package (:func:`graphviz.pipe`), which
finds the ``dot`` program and reports it missing; the DOT text itself is built
by our pure functions (:mod:`.dot`). Work for several files is planned as
:class:`GraphJob` and :class:`ChartJob` records, plain data that pickle, so a
caller can draw them in worker processes (:func:`run_job`, or ``executor=`` of
:func:`render_all`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import graphviz

from ..errors import DotNotFound, JourneymapError, TooLarge
from ..graph import build_graph
from ..model import Journey
from ..output import write_bytes, write_text, write_with
from ..schema import MAX_STEPS
from .dot import VIEWS, journey_dot, views_of

__all__ = [
    "FORMATS",
    "DRAWN_FORMATS",
    "CHART_FORMATS",
    "CHARTS",
    "RenderError",
    "DrawingStopped",
    "DotJob",
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
    "GraphJob",
    "ChartJob",
    "JobResult",
    "render_jobs",
    "run_job",
]

#: The largest journey drawn whole (steps). Graphviz's layout grows faster than the number of steps:
#: 2,000 steps draw in about 2 s, 5,000 in about 15 s and 170 MB, 20,000 in over 2 minutes and 1.9 GB
#: (benchmarks/bench_render.py). Above it, draw stages (``--stage``) or the handoff network.
MAX_RENDER_STEPS = MAX_STEPS  # the same limit validate enforces

#: Output formats of the Graphviz views ("dot" is the source itself).
FORMATS = ("svg", "png", "pdf", "dot")
#: The formats Graphviz draws (every format but the source).
DRAWN_FORMATS = tuple(f for f in FORMATS if f != "dot")
#: Output formats of the matplotlib charts.
CHART_FORMATS = ("svg", "png", "pdf")
#: The charts of a journey: the emotion curve always, the others from simulation results.
CHARTS = ("emotion", "cycle_time", "stage_breakdown", "utilisation")

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


def _with_dpi(source: str, dpi: float) -> str:
    """``source`` with the graph attribute ``dpi`` set, as ``dot -Gdpi=...`` would set it.

    :func:`graphviz.pipe` takes no extra command-line arguments, so the resolution goes into the
    text given to ``dot`` (only for PNG: in an SVG it would scale the drawing). A graph attribute
    statement applies to the whole graph wherever it stands, so it goes before the closing brace;
    a source that does not end with one is drawn at Graphviz's default resolution.
    """
    body = source.rstrip()
    if not body.endswith("}"):
        return source
    return f"{body[:-1]}  graph [dpi={dpi}];\n}}\n"


def run_dot(source: str, fmt: str) -> bytes:
    """Lay out and draw DOT ``source`` with ``dot -T<fmt>``; the layout engine is named in the source.

    Raises :class:`~journeymap.errors.DotNotFound` (with install instructions)
    when ``dot`` is missing, and :class:`RenderError` when it fails. Graphviz's
    warnings are not printed (they are about layout details, not the user's file).
    """
    if fmt not in DRAWN_FORMATS:
        raise ValueError(f"unknown format: {fmt!r} (must be one of {', '.join(DRAWN_FORMATS)})")
    if fmt == "png":
        source = _with_dpi(source, png_dpi(source))
    try:
        # the graph's own layout attribute (neato for the lane views) overrides the engine named here
        out = graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)
    except (graphviz.ExecutableNotFound, PermissionError) as exc:  # not on PATH, or not executable there
        raise DotNotFound() from exc
    except graphviz.CalledProcessError as exc:
        msg = (exc.stderr or b"").decode("utf-8", "replace").strip()
        raise RenderError(f"Graphviz failed to draw the {fmt.upper()}: {msg or 'no output'}") from exc
    if not out:
        raise RenderError(f"Graphviz failed to draw the {fmt.upper()}: no output")
    return out


class DrawingStopped(RenderError):
    """A drawing was stopped before it was done (:meth:`DotJob.stop`)."""


class DotJob:
    """``dot -T<fmt>`` started on ``source`` in a child process: :meth:`result` waits for the drawing,
    :meth:`stop` ends it early.

    :func:`run_dot` draws through the ``graphviz`` package and waits; this is the same drawing with its
    process in hand, for a caller that may no longer need it (``journeymap serve`` stops the drawing of a
    file that has been saved again, rather than let Graphviz lay out a version nobody will see). Raises
    :class:`~journeymap.errors.DotNotFound` at once when ``dot`` is missing.
    """

    def __init__(self, source: str, fmt: str) -> None:
        if fmt not in DRAWN_FORMATS:
            raise ValueError(f"unknown format: {fmt!r} (must be one of {', '.join(DRAWN_FORMATS)})")
        if fmt == "png":
            source = _with_dpi(source, png_dpi(source))
        self.fmt = fmt
        self._input = source.encode("utf-8")
        self._stopped = False
        executable = shutil.which("dot")
        if executable is None:
            raise DotNotFound()
        try:
            # -q: no warnings on stderr (layout details, not the user's file), so stderr holds only errors
            self.process = subprocess.Popen([executable, f"-T{fmt}", "-q"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except (FileNotFoundError, PermissionError) as exc:
            raise DotNotFound() from exc

    def result(self) -> bytes:
        """The drawing; raises :class:`DrawingStopped` when stopped, :class:`RenderError` when ``dot`` failed."""
        out, err = self.process.communicate(self._input)
        if self._stopped:
            raise DrawingStopped(f"the {self.fmt.upper()} drawing was stopped")
        if self.process.returncode != 0 or not out:
            msg = err.decode("utf-8", "replace").strip()
            raise RenderError(f"Graphviz failed to draw the {self.fmt.upper()}: {msg or 'no output'}")
        return out

    def stop(self) -> None:
        """End the drawing now (nothing happens when it is already done)."""
        self._stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()


def _format_of(path: str | os.PathLike, default: str) -> str:
    return os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or default


def write_graph(path: str | os.PathLike, source: str, fmt: str | None = None) -> str:
    """Write DOT ``source`` to ``path`` as ``fmt`` (default: the file's extension), atomically."""
    fmt = fmt or _format_of(path, "svg")
    if fmt in ("dot", "gv"):
        return write_text(path, source)
    return write_bytes(path, run_dot(source, fmt))


def write_figure(path: str | os.PathLike, fig: Any, dpi: int = 150, close: bool = True) -> str:
    """Save a matplotlib figure atomically (format from the extension) and, unless told not to, close it."""
    import matplotlib.pyplot as plt

    fmt = _format_of(path, "png")
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
    Every argument pickles, so it can run in a worker process.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view: {view!r} (must be one of {', '.join(VIEWS)})")
    check_size(journey, view, stages)
    return write_graph(path, journey_dot(journey, view, results, stages=stages), fmt)


# --------------------------------------------------------------------------- many files: jobs


@dataclass(frozen=True)
class JobResult:
    """What a job wrote, and whether Graphviz was missing (then the DOT source was written instead)."""

    written: list[str] = field(default_factory=list)
    missing_dot: bool = False


@dataclass(frozen=True)
class GraphJob:
    """Draw one view's DOT source into files, one per format (from each path's extension).

    Plain strings, so it pickles cheaply to a worker process. Without ``dot`` the drawn formats are
    skipped and the source is written as ``<view>.dot`` beside them, so the work is not lost.
    """

    view: str
    source: str
    paths: tuple[str, ...]

    def run(self) -> JobResult:
        written: list[str] = []
        missing_dot = False
        for path in self.paths:
            try:
                written.append(write_graph(path, self.source))
            except DotNotFound:
                missing_dot = True
        fallback = os.path.join(os.path.dirname(self.paths[0]), f"{self.view}.dot") if self.paths else None
        if missing_dot and fallback is not None and fallback not in self.paths:
            written.append(write_text(fallback, self.source))
        return JobResult(written, missing_dot)


@dataclass(frozen=True)
class ChartJob:
    """Draw one chart of a journey once and save it in every format of ``paths`` (from their extensions).

    The journey and the summary pickle, so the chart can be drawn in a worker process.
    """

    chart: str
    journey: Journey
    results: Mapping[str, Any] | None
    paths: tuple[str, ...]

    def run(self) -> JobResult:
        import matplotlib.pyplot as plt

        fig = _CHART_MAKERS[self.chart](self.journey, self.results or {})  # drawn once, saved in every format
        try:
            return JobResult([write_figure(p, fig, close=False) for p in self.paths])
        finally:
            plt.close(fig)


def _emotion(journey: Journey, _: Mapping[str, Any]) -> Any:
    from .plots import emotion_curve

    return emotion_curve([journey])


def _cycle_time(journey: Journey, results: Mapping[str, Any]) -> Any:
    from .plots import cycle_time_chart

    return cycle_time_chart(results, journey)


def _stage_breakdown(journey: Journey, results: Mapping[str, Any]) -> Any:
    from .plots import stage_breakdown_chart

    return stage_breakdown_chart(results, journey)


def _utilisation(journey: Journey, results: Mapping[str, Any]) -> Any:
    from .plots import utilisation_chart

    return utilisation_chart(results, journey)


#: How each chart of :data:`CHARTS` is drawn from a journey and its results.
_CHART_MAKERS: dict[str, Callable[[Journey, Mapping[str, Any]], Any]] = {
    "emotion": _emotion, "cycle_time": _cycle_time, "stage_breakdown": _stage_breakdown, "utilisation": _utilisation}


def run_job(job: GraphJob | ChartJob) -> JobResult:
    """Run one job (a top-level function, so ``executor.map(run_job, jobs)`` works with any executor)."""
    return job.run()


def _charts(with_results: Any) -> tuple[str, ...]:
    return CHARTS if with_results else CHARTS[:1]


@dataclass(frozen=True)
class _Formats:
    """Which formats each view and chart is written in."""

    views: Sequence[str]
    charts: Sequence[str] | None
    by_name: Mapping[str, Sequence[str]]

    def of_view(self, view: str) -> tuple[str, ...]:
        return tuple(self.by_name.get(view, self.views))

    def of_chart(self, chart: str) -> tuple[str, ...]:
        wanted = self.by_name.get(chart, self.charts if self.charts is not None else self.views)
        return tuple(f for f in wanted if f in CHART_FORMATS)


def planned_files(journey: Journey, out_dir: str | os.PathLike, with_results: bool = False,
                  formats: Sequence[str] = ("svg", "png"), charts: bool = True, *,
                  chart_formats: Sequence[str] | None = None,
                  formats_for: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """The paths :func:`render_all` may write with these arguments (so a caller can check them before it
    simulates or draws anything); ``with_results``: whether it will be given simulation results."""
    out = os.fspath(out_dir)
    fm = _Formats(formats, chart_formats, formats_for or {})
    names = [f"{view}.{fmt}" for view in views_of(journey) for fmt in (*fm.of_view(view), "dot")]
    if charts:
        names += [f"{c}.{fmt}" for c in _charts(with_results) for fmt in fm.of_chart(c)]
    return [os.path.join(out, n) for n in dict.fromkeys(names)]


def render_jobs(journey: Journey, out_dir: str | os.PathLike, results: Mapping[str, Any] | None = None,
                formats: Sequence[str] = ("svg", "png"), charts: bool = True,
                stages: Sequence[str] | None = None, *, chart_formats: Sequence[str] | None = None,
                formats_for: Mapping[str, Sequence[str]] | None = None) -> list[GraphJob | ChartJob]:
    """The work of :func:`render_all` as jobs, views first, without running any (the arguments are its own).

    Builds every view's DOT source here (pure and quick: a 200-step map in about 0.1 s); the jobs
    only draw and write. Raises :class:`~journeymap.errors.TooLarge` before any work for a journey
    too large to draw.
    """
    out = os.fspath(out_dir)
    views = views_of(journey)
    for view in views:
        check_size(journey, view, stages)
    fm = _Formats(formats, chart_formats, formats_for or {})
    g = build_graph(journey)
    jobs: list[GraphJob | ChartJob] = []
    for view in views:
        paths = tuple(os.path.join(out, f"{view}.{fmt}") for fmt in fm.of_view(view))
        jobs.append(GraphJob(view, journey_dot(journey, view, results, g=g, stages=stages), paths))
    if charts:
        for chart in _charts(results):
            paths = tuple(os.path.join(out, f"{chart}.{fmt}") for fmt in fm.of_chart(chart))
            if paths:
                jobs.append(ChartJob(chart, journey, results, paths))
    return jobs


def render_all(journey: Journey, out_dir: str | os.PathLike, results: Mapping[str, Any] | None = None,
               formats: Sequence[str] = ("svg", "png"), charts: bool = True,
               stages: Sequence[str] | None = None, *, chart_formats: Sequence[str] | None = None,
               formats_for: Mapping[str, Sequence[str]] | None = None,
               executor: Executor | None = None) -> list[str]:
    """Write every view (map, blueprint, handoffs...) and, with results, every chart, for one journey.

    Files are named ``<view>.<fmt>`` and ``<chart>.<fmt>`` inside ``out_dir``. ``formats`` are the
    views' formats, and the charts' too unless ``chart_formats`` is given; ``formats_for`` gives the
    formats of particular views or charts by name (e.g. ``{"map": ("svg",)}``). With ``executor``
    (a :class:`concurrent.futures.Executor`, e.g. a process pool) the files are drawn by it.
    Without ``dot`` the DOT sources are still written and
    :class:`~journeymap.errors.DotNotFound` is raised afterwards, so a caller
    can report it once. Returns the paths written, in the same order either way.
    """
    jobs = render_jobs(journey, out_dir, results, formats, charts, stages, chart_formats=chart_formats,
                       formats_for=formats_for)
    done = list(executor.map(run_job, jobs)) if executor is not None else [job.run() for job in jobs]
    if any(r.missing_dot for r in done):
        raise DotNotFound()
    return [path for r in done for path in r.written]


def emotion_chart(journeys: Sequence[Journey], path: str | os.PathLike) -> str:
    """Several personas' emotion curves on one chart, written to ``path`` (PNG, SVG or PDF)."""
    from . import plots

    return write_figure(path, plots.emotion_curve(journeys))
