"""The progress bar of long commands (``simulate``, ``compare``), drawn by rich on a terminal.

It appears only on a terminal and only once a run has lasted a second (a quick run shows nothing), and
it is erased when the run ends, so what stays on screen is the result. Piped or redirected output never
carries it. Without colour when ``NO_COLOR`` is set (rich honours it). It is refreshed by the
simulation's progress calls, never by a thread of its own: the simulator forks worker processes while it
runs, and forking a process that runs threads can hang the child.
"""

from __future__ import annotations

import time
from typing import IO, Any

__all__ = ["ProgressBar"]

#: Seconds between two redraws at most (the simulation reports far more often).
REFRESH = 0.1


class ProgressBar:
    """``bar(done, total)`` after each chunk of cases; ``bar.close()`` at the end (erases it)."""

    def __init__(self, stream: IO[str], delay: float = 1.0) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._delay = delay
        self._last = 0.0
        self._progress: Any = None
        self._task: Any = None
        isatty = getattr(stream, "isatty", None)
        self._enabled = bool(isatty and isatty())

    def __call__(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._started < self._delay:
            return
        if self._progress is None:
            self._start(total)
        elif now - self._last < REFRESH and done < total:
            return
        self._last = now
        self._progress.update(self._task, completed=done, total=total)
        self._progress.refresh()

    def _start(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        console = Console(file=self._stream, force_terminal=True)
        self._progress = Progress(BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} cases,"),
                                  TimeElapsedColumn(), TextColumn("elapsed, ~"), TimeRemainingColumn(),
                                  TextColumn("left"), console=console, auto_refresh=False, transient=True,
                                  redirect_stdout=False, redirect_stderr=False)
        self._task = self._progress.add_task("simulating", total=total)
        self._progress.start()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
