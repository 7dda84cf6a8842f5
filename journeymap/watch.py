"""Re-run something whenever journey files change: for facilitators editing a map during a workshop.

Polling (a stat of each file every half second) rather than inotify: it works the same on every
system and every editor, including those that save by writing a new file and renaming it.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterable

__all__ = ["watch", "folder_files"]

Stamp = tuple[tuple[str, float, int], ...]


def _stamp(paths: Iterable[str]) -> Stamp:
    out = []
    for p in sorted(set(paths)):
        try:
            st = os.stat(p)
            out.append((p, st.st_mtime, st.st_size))
        except OSError:
            out.append((p, -1.0, -1))
    return tuple(out)


def folder_files(path: str) -> list[str]:
    """The file and the journey files beside it: an overlay's base and an account's personas live there."""
    folder = os.path.dirname(os.path.abspath(path))
    return [path] + sorted(glob.glob(os.path.join(folder, "*.yaml")) + glob.glob(os.path.join(folder, "*.yml")))


def watch(paths: Callable[[], Iterable[str]], action: Callable[[], None], *, interval: float = 0.5,
          rounds: int | None = None, sleep: Callable[[float], None] = time.sleep) -> int:
    """Call ``action`` now and after every change to the files ``paths()`` names; returns the number of calls.

    Runs until interrupted (Ctrl-C), or for ``rounds`` polls (for tests).
    """
    last: Stamp | None = None
    calls = 0
    polls = 0
    while rounds is None or polls < rounds:
        stamp = _stamp(paths())
        if stamp != last:
            last = stamp
            action()
            calls += 1
        polls += 1
        sleep(interval)
    return calls
