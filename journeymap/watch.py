"""Re-run something whenever journey files change: for facilitators editing a map during a workshop.

The operating system tells us about changes (inotify, FSEvents, ReadDirectoryChangesW, through
``watchfiles``) instead of a stat of every file every half second. The folders holding the files are
watched, not the files, so an editor that saves by writing a new file and renaming it over the old one
is seen too. Changes that arrive together (an editor's several writes for one save) are one change
(:data:`QUIET_MS`), and changes made while the action runs are not lost: they trigger the next run.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["watch", "folder_files", "watched_files", "QUIET_MS", "GROUP_MS"]

#: A save is over once the files have been quiet this long (milliseconds).
QUIET_MS = 200
#: Changes are grouped over at most this long (milliseconds), however busy the files are.
GROUP_MS = 1600


def folder_files(path: str) -> list[str]:
    """The file and the journey files beside it: an overlay's base and an account's personas live there."""
    folder = os.path.dirname(os.path.abspath(path))
    return [path] + sorted(glob.glob(os.path.join(folder, "*.yaml")) + glob.glob(os.path.join(folder, "*.yml")))


def watched_files(path: str) -> list[str]:
    """What ``render --watch`` watches: the journey files beside ``path`` and every file it reads, wherever
    it is (an ``extends:`` base, an account's personas, and theirs)."""
    from .output import input_files

    return list(dict.fromkeys(folder_files(path) + input_files(path)))


def _real(paths: Iterable[str]) -> set[str]:
    return {os.path.realpath(p) for p in paths}


def _folders(files: set[str]) -> list[str]:
    return sorted({os.path.dirname(f) for f in files if os.path.isdir(os.path.dirname(f))})


def _only(files: set[str]) -> Callable[[Any, str], bool]:
    """watchfiles' filter: a change counts when it is to one of ``files`` (a set the caller keeps current)."""
    return lambda _change, path: os.path.realpath(path) in files


def watch(paths: Callable[[], Iterable[str]], action: Callable[[], None], *, stop_event: Any = None,
          quiet_ms: int = QUIET_MS) -> int:
    """Call ``action`` now and after every change to the files ``paths()`` names; returns the number of calls.

    ``paths()`` is asked again after each call, so a file that starts to be read (a new ``extends:``) is
    watched from then on. Runs until interrupted (Ctrl-C raises ``KeyboardInterrupt``) or until
    ``stop_event`` (anything with ``is_set()``, such as a :class:`threading.Event`) is set.
    """
    import watchfiles

    action()
    calls = 1
    while stop_event is None or not stop_event.is_set():
        files = _real(paths())
        folders = _folders(files)
        if not folders:
            return calls
        changes = watchfiles.watch(*folders, watch_filter=_only(files), debounce=GROUP_MS, step=quiet_ms,
                                   stop_event=stop_event, recursive=False)
        try:
            for _ in changes:
                action()
                calls += 1
                now = _real(paths())
                if _folders(now) != folders:
                    break  # watch the new set of folders
                files.clear()
                files.update(now)  # the filter reads this set: a file added to a watched folder counts at once
            else:
                return calls  # stopped
        finally:
            changes.close()
    return calls
