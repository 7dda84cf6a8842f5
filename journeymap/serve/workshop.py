"""The served folder: every journey file in it, checked, drawn and simulated once per content.

A :class:`Workshop` is the state behind ``journeymap serve``. :meth:`Workshop.refresh` reads the files
(cheap: a hash of each file and of the files it reads), checks only those whose content changed, and
keeps for each file its problems and its **last good version** (the last content without errors), so a
file saved with errors shows them while the page keeps the last good drawing. Drawings are made when a
page asks for them, the views in parallel, and kept until the content or its simulation changes; a page
never waits long for one (:meth:`Workshop.drawing`).

The quick simulation behind the headline figures runs in the background (``submit``: an executor's
``submit``, by default one worker process), one per content: results are kept by the hash of the file
and of the files it reads, so undoing an edit shows the earlier figures at once. Nothing here blocks on
a simulation: a page shows "simulating" until the figures arrive, then :meth:`Workshop.subscribe`'s
listeners hear of it and the pages fetch their content again.

Only the ``*.yaml``/``*.yml`` files directly in the folder are served, and only those that
:func:`journeymap.loading.resolve_reference` keeps inside it (a symlink leading out is left out).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Literal

from ..loading import ReferenceOutside, read_text, resolve_reference
from ..model import Journey
from ..output import input_files
from ..problems import Problem, Problems
from ..rendering import journey_dot, run_dot
from ..rendering.output import DotJob, DrawingStopped, check_size

__all__ = ["Workshop", "Entry", "Version", "Kind", "simulate_summary", "safe_name", "QUICK_REPLICATIONS"]

#: Replications of the background simulation: enough for the headline figures, quick enough to follow edits.
QUICK_REPLICATIONS = 3
#: How long a page waits for a finished drawing before it shows a quick one (seconds); a view whose last
#: drawing took longer is shown quick at once.
DRAWING_WAIT = 0.3
#: Drawings waited for at once (each is a ``dot`` process): the three views of a page.
DRAWING_THREADS = 3
#: Simulations kept (by content): every version a workshop goes back and forth between.
CACHED_SIMULATIONS = 64

Kind = Literal["journey", "account", "levers"]
#: (file name, content digest, view, stages of a close-up (() for the whole journey), shaded by a simulation)
DrawingKey = tuple[str, str, str, tuple[str, ...], bool]
#: ``submit(fn, *args) -> Future``, as :meth:`concurrent.futures.Executor.submit`.
Submit = Callable[..., Future]


@dataclass(frozen=True)
class Version:
    """One good (error-free) content of a file: what its page draws and simulates."""

    digest: str
    journey: Journey
    #: where an account's personas meet (None for a journey)
    meeting: Any = None
    #: when this version was read (seconds since the epoch)
    read_at: float = 0.0


@dataclass(frozen=True)
class _Drawing:
    """One view of one version: its DOT source, and Graphviz drawing it (SVG text, when done)."""

    source: str
    job: DotJob
    future: Future

    def stop(self) -> None:
        self.future.cancel()
        self.job.stop()


@dataclass
class Entry(Problems):
    """One file of the folder as the pages show it."""

    name: str
    path: str
    kind: Kind
    digest: str = ""
    problems: list[Problem] = field(default_factory=list)
    #: the last content without errors (None until there is one)
    good: Version | None = None
    #: the current content is the good one (False: it has errors, and the page shows ``good``)
    current: bool = False


def _dot_svg(source: str, *, quick: bool) -> str:
    """DOT source drawn as SVG text; ``quick``: straight arrows (Graphviz routes no spline around the steps)."""
    if quick:
        source = _with_graph_attribute(source, "splines", "line")
    return run_dot(source, "svg").decode("utf-8")


def _with_graph_attribute(source: str, name: str, value: str) -> str:
    """``source`` with one graph attribute set, as ``dot -G<name>=<value>`` would (the last statement wins);
    the same device as the PNG resolution in :mod:`journeymap.rendering.output`."""
    body = source.rstrip()
    if not body.endswith("}"):
        return source
    return f"{body[:-1]}  graph [{name}={value}];\n}}\n"


def simulate_summary(journey: Journey, meeting: Any, replications: int, seed: int) -> dict[str, Any]:
    """The quick simulation's summary (docs/simulation.md); a plain function so a worker process can run it."""
    from ..simulation import simulate

    return simulate(journey, replications=replications, seed=seed, meeting=meeting).summary


def safe_name(folder: str, name: str) -> str | None:
    """The path of file ``name`` of ``folder`` when it names a file directly in it and stays there, else None.

    The same rule as an ``extends:`` (:func:`~journeymap.loading.resolve_reference`): absolute paths, ``..``
    and symlinks that lead out are refused; so are subfolders, which the workshop does not serve.
    """
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
        return None
    try:
        path = resolve_reference(name, os.path.join(folder, "_"))
    except (ReferenceOutside, ValueError):
        return None
    return path if os.path.isfile(path) else None


def _digest(path: str) -> str:
    """A hash of the file and of every file it reads (an overlay's base, an account's personas)."""
    h = hashlib.sha256()
    for f in input_files(path):
        h.update(f.encode("utf-8", "surrogateescape") + b"\0")
        try:
            h.update(read_text(f).encode("utf-8", "surrogateescape"))
        except (OSError, UnicodeDecodeError) as exc:
            h.update(f"unreadable: {exc}".encode())
        h.update(b"\0")
    return h.hexdigest()


def _kind(path: str) -> Kind:
    from ..account import is_account_file
    from ..levers import is_levers_file

    return "account" if is_account_file(path) else "levers" if is_levers_file(path) else "journey"


def _check(path: str, kind: Kind) -> tuple[list[Problem], Journey | None, Any]:
    """Every problem of the file, and its journey (an account's combined journey) and meeting when it has no error."""
    if kind == "levers":
        from ..levers import check_levers

        checked_levers = check_levers(path)
        return list(checked_levers.problems), None, None
    if kind == "account":
        from ..account import check_account
        from ..simulation.account import combined_journey

        checked_account = check_account(path)
        if checked_account.account is None:
            return list(checked_account.problems), None, None
        journey, meeting = combined_journey(checked_account.account)
        return list(checked_account.problems), journey, meeting
    from ..validation import check_file

    checked = check_file(path)
    return list(checked.problems), checked.journey, None


class Workshop:
    """The files of ``folder``, their problems, last good versions, drawings and background simulations.

    Simulations run once :meth:`start` is given an executor's ``submit`` (before that, or after
    :meth:`stop`, the pages show no simulated figures): one at a time, the file whose page is open first
    (:meth:`prefer`). Thread-safe: the server calls it from its worker threads, the file watcher and the
    simulations run in threads of their own.
    """

    def __init__(self, folder: str, *, replications: int = QUICK_REPLICATIONS, seed: int = 1) -> None:
        self.folder = os.path.normpath(folder)
        self.submit: Submit | None = None
        self.replications = replications
        self.seed = seed
        self.entries: dict[str, Entry] = {}
        self._lock = threading.RLock()
        self._summaries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._failed: dict[str, str] = {}
        self._analyses: dict[str, dict[str, Any]] = {}
        self._pending: set[str] = set()
        #: the versions waiting for a simulation, the next first (one per file: a newer save replaces it)
        self._queue: OrderedDict[str, Version] = OrderedDict()
        self._wake = threading.Condition(self._lock)
        self._stopped = False
        self._runner: threading.Thread | None = None
        self._drawings: dict[DrawingKey, _Drawing] = {}
        #: drawings a page was shown the quick version of, while the finished one was still being drawn
        self._quick: set[DrawingKey] = set()
        self._draw_pool: ThreadPoolExecutor | None = None
        #: how long the last finished drawing of each (file, view, close-up stages) took (seconds)
        self._seconds: dict[tuple[str, str, tuple[str, ...]], float] = {}
        self._listeners: list[Callable[[list[str]], None]] = []

    # ----------------------------------------------------------------------- the files

    def names(self) -> list[str]:
        """The journey files served: ``*.yaml`` and ``*.yml`` directly in the folder, kept inside it."""
        try:
            listed = sorted(os.listdir(self.folder))
        except OSError:
            return []
        return [n for n in listed if os.path.splitext(n)[1].lower() in (".yaml", ".yml")
                and safe_name(self.folder, n) is not None]

    def watched(self) -> list[str]:
        """What the file watcher watches: the served files and every file they read."""
        files = [os.path.join(self.folder, n) for n in self.names()]
        return list(dict.fromkeys(files + input_files(*files))) if files else []

    def refresh(self) -> list[str]:
        """Read the folder again; check the files whose content changed. Returns the names that changed."""
        with self._lock:
            names = self.names()
            changed = [n for n in self.entries if n not in names]
            for gone in changed:
                del self.entries[gone]
            for name in names:
                if self._refresh_one(name):
                    changed.append(name)
        if changed:
            self._tell(changed)
        return changed

    def _refresh_one(self, name: str) -> bool:
        path = os.path.join(self.folder, name)
        digest = _digest(path)
        entry = self.entries.get(name)
        if entry is not None and entry.digest == digest:
            return False
        kind = _kind(path)
        if entry is None or entry.kind != kind:
            entry = self.entries[name] = Entry(name, path, kind)
        problems, journey, meeting = _check(path, kind)
        entry.digest, entry.problems, entry.current = digest, problems, journey is not None
        if journey is not None:
            entry.good = Version(digest, journey, meeting, time.time())
            self._simulate(entry.name, entry.good)
        return True

    def entry(self, name: str) -> Entry | None:
        """The file ``name`` as last read (None when the folder serves no such file)."""
        with self._lock:
            return self.entries.get(name)

    def analysis(self, version: Version) -> dict[str, Any]:
        """:func:`journeymap.analysis.analyze` of a version, computed once (the index shows every file's)."""
        from ..analysis import analyze
        from ..graph import build_graph

        with self._lock:
            if version.digest not in self._analyses:
                self._analyses[version.digest] = analyze(build_graph(version.journey))
                while len(self._analyses) > CACHED_SIMULATIONS:
                    del self._analyses[next(iter(self._analyses))]
            return self._analyses[version.digest]

    # ----------------------------------------------------------------------- simulations

    def summary(self, digest: str) -> dict[str, Any] | None:
        """The simulation summary of a content, when it has been simulated."""
        with self._lock:
            return self._summaries.get(digest)

    def simulation_state(self, digest: str) -> str:
        """"done", "running", "queued", "failed: why", or "off" (no simulations are run)."""
        with self._lock:
            if digest in self._summaries:
                return "done"
            if digest in self._failed:
                return f"failed: {self._failed[digest]}"
            if digest in self._pending:
                return "running"
            return "off" if self.submit is None else "queued"

    def _simulate(self, name: str, version: Version) -> None:
        """Queue the simulation of a file's new good version (replacing an older one still queued)."""
        digest = version.digest
        if digest in self._summaries:
            self._summaries.move_to_end(digest)
            return
        if digest in self._pending:
            return
        self._queue.pop(name, None)
        self._queue[name] = version
        self._wake.notify_all()

    def prefer(self, name: str) -> None:
        """Simulate ``name`` next (its page is open): the room looks at it now."""
        with self._lock:
            if name in self._queue:
                self._queue.move_to_end(name, last=False)

    def start(self, submit: Submit) -> None:
        """Run the queued simulations, one at a time, with ``submit`` (an executor's), until :meth:`stop`."""
        with self._lock:
            self.submit = submit
            self._stopped = False
        self._runner = threading.Thread(target=self._run, name="journeymap-simulations", daemon=True)
        self._runner.start()

    def stop(self) -> None:
        """Stop running simulations (the one in flight is left to its executor) and drawing."""
        with self._lock:
            self._stopped = True
            self.submit = None
            self._wake.notify_all()
            pool, self._draw_pool = self._draw_pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if self._runner is not None:
            self._runner.join(timeout=5)
            self._runner = None

    def _next(self) -> tuple[str, Version, Submit] | None:
        with self._lock:
            while not self._queue and not self._stopped:
                self._wake.wait()
            if self._stopped or self.submit is None:
                return None
            name, version = self._queue.popitem(last=False)
            self._pending.add(version.digest)
            return name, version, self.submit

    def _run(self) -> None:
        while (job := self._next()) is not None:
            name, version, submit = job
            try:
                summary = submit(simulate_summary, version.journey, version.meeting, self.replications,
                                 self.seed).result()
            except Exception as exc:  # a simulation that fails is shown as failed; the others go on
                with self._lock:
                    self._pending.discard(version.digest)
                    self._failed[version.digest] = f"{type(exc).__name__}: {exc}"
            else:
                with self._lock:
                    self._pending.discard(version.digest)
                    self._summaries[version.digest] = summary
                    while len(self._summaries) > CACHED_SIMULATIONS:
                        self._summaries.popitem(last=False)
            self._tell([name])

    # ----------------------------------------------------------------------- drawings

    def drawing(self, name: str, view: str, wait: float = DRAWING_WAIT, stages: Sequence[str] = ()) -> str | None:
        """The SVG of one view of the file's last good version, shaded by its simulation once there is one.

        Graphviz routes the arrows of most maps in a tenth of a second, but of some in seconds: the drawing
        is started in the background, and when it is not done within ``wait`` seconds a quick one with
        straight arrows is drawn instead (about 50 ms), and the listeners hear of the file again when the
        finished drawing is in. Call :meth:`start_drawings` first to draw all the views a page shows at once.
        ``stages``: a close-up of those stages (presenter mode), with the whole journey's handoff numbers.
        None when the file never had a good version. Raises what Graphviz raises (no ``dot``, a drawing
        that fails), and :class:`~journeymap.errors.TooLarge` for a journey too large to draw.
        """
        with self._lock:
            entry = self.entries.get(name)
            if entry is None or entry.good is None:
                return None
            check_size(entry.good.journey, view)
            key, source, future = self._drawing(name, entry.good, view, tuple(stages))
            if self._seconds.get((name, view, tuple(stages)), 0.0) > DRAWING_WAIT:
                wait = 0.0  # this view took long last time: show the quick one at once
        try:
            return future.result(timeout=wait)
        except (FutureTimeout, CancelledError, DrawingStopped):  # not done yet, or a newer save stopped it
            with self._lock:
                self._quick.add(key)
            if future.done():  # finished meanwhile: no need for the quick drawing
                return future.result()
            return _dot_svg(source, quick=True)

    def start_drawings(self, name: str, views: Sequence[str], stages: Sequence[Sequence[str]] = ((),)) -> None:
        """Start drawing these views of the file (in parallel) before they are asked for one by one; each
        view once per entry of ``stages`` (``()``: the whole journey, else a close-up of those stages)."""
        with self._lock:
            entry = self.entries.get(name)
            if entry is None or entry.good is None:
                return
            for view in views:
                for part in stages:
                    try:
                        check_size(entry.good.journey, view)
                        self._drawing(name, entry.good, view, tuple(part))
                    except Exception:  # too large, no Graphviz: drawing() says why
                        continue

    def _drawing(self, name: str, version: Version, view: str,
                 stages: tuple[str, ...] = ()) -> tuple[DrawingKey, str, Future]:
        """The DOT source and the (started or finished) drawing of one view of a version, under the lock.

        The source is built here (Python: one at a time anyway); ``dot`` runs in the drawing threads.
        """
        summary = self._summaries.get(version.digest)
        key = (name, version.digest, view, stages, summary is not None)
        if key not in self._drawings:
            # one drawing per file, view and close-up: an older one is never shown again, so Graphviz stops it
            for old in [k for k in self._drawings if k[0] == name and k[2] == view and k[3] == stages]:
                self._drawings.pop(old).stop()
            if self._draw_pool is None:
                self._draw_pool = ThreadPoolExecutor(DRAWING_THREADS, thread_name_prefix="journeymap-draw")
            source = journey_dot(version.journey, view, summary, stages=list(stages) or None)
            job = DotJob(source, "svg")
            future = self._draw_pool.submit(self._timed, key, job)
            future.add_done_callback(lambda f: self._drawn(key))
            self._drawings[key] = _Drawing(source, job, future)
        drawing = self._drawings[key]
        return key, drawing.source, drawing.future

    def _timed(self, key: DrawingKey, job: DotJob) -> str:
        started = time.monotonic()
        svg = job.result().decode("utf-8")
        with self._lock:
            self._seconds[(key[0], key[2], key[3])] = time.monotonic() - started
        return svg

    def _drawn(self, key: DrawingKey) -> None:
        """A finished drawing: the pages that were shown the quick one fetch their content again."""
        with self._lock:
            waited = key in self._quick
            self._quick.discard(key)
        if waited:
            self._tell([key[0]])

    # ----------------------------------------------------------------------- listeners

    def subscribe(self, listener: Callable[[list[str]], None]) -> None:
        """Call ``listener(names)`` whenever files change or their simulations finish (from any thread)."""
        self._listeners.append(listener)

    def _tell(self, names: list[str]) -> None:
        for listener in list(self._listeners):
            listener(names)
