"""The one place journeymap writes files: atomically, and never over its own inputs.

Everything is written to a temporary file in the destination folder and then
renamed over the target (``os.replace`` is atomic on POSIX and Windows), so an
interrupted run never leaves a half-written result that looks complete. A
whole folder of results (``journeymap run``) is built in a hidden staging
folder beside the target and moved in only when complete (:func:`staged_folder`).

Journey files are read-only: :func:`refuse_inputs` stops a command before it
runs when an output path is one of the files it reads (:func:`input_files`),
whatever symlink or relative path leads there.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import OutputIsInput

__all__ = ["write_bytes", "write_text", "write_json", "write_with", "dumps_json",
           "input_files", "refuse_inputs", "staged_folder", "mark_incomplete", "signals_held", "INCOMPLETE"]

#: The file that marks a results folder as not to be trusted (an interrupted or failed run).
INCOMPLETE = "INCOMPLETE"


def write_with(path: str | os.PathLike, writer: Callable[[str], None], suffix: str = "") -> str:
    """Call ``writer(tmp_path)`` to produce the file, then move it into place."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".journeymap-", suffix=suffix or os.path.splitext(target)[1], dir=folder)
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def write_bytes(path: str | os.PathLike, data: bytes) -> str:
    def _w(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return write_with(path, _w)


def write_text(path: str | os.PathLike, text: str) -> str:
    return write_bytes(path, text.encode("utf-8"))


def dumps_json(data: Any) -> str:
    """Strict JSON: tuples and NumPy scalars as plain values, and NaN or infinity (an undefined
    statistic, such as the mean wait of a department no case visited) as null, which every JSON
    reader accepts."""
    return json.dumps(_finite(data), indent=2, default=_default, allow_nan=False)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        return _finite(obj.item())
    return obj


def write_json(path: str | os.PathLike, data: Any) -> str:
    return write_text(path, dumps_json(data) + "\n")


def _default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


# --------------------------------------------------------------------------- inputs are read-only

#: Files larger than this are not opened to look for references (the loader reports them).
_MAX_SCANNED_BYTES = 10 * 1024 * 1024
#: A file names another only under one of these keys; "\\" covers a key spelled with YAML escapes.
_REFERENCE_WORDS = ("extends", "personas", "\\")
#: At most this many files are followed from one input (an overlay chain, an account's personas).
_MAX_INPUTS = 1000


def _references(path: str) -> list[str]:
    """The files ``path`` names: its ``extends:`` base and, for an account, its personas' journeys."""
    from .loading import load_yaml, read_text

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_SCANNED_BYTES:
            return []  # a FIFO, a device, a huge file: never opened here; the loader says why it refuses it
        text = read_text(path)
        if not any(word in text for word in _REFERENCE_WORDS):
            return []  # no key that names a file (parsing a 20,000-step journey again would take seconds)
        loc, _ = load_yaml(text, path)
    except Exception:  # unreadable or not YAML: the loader reports it; nothing more to follow
        return []
    data = loc.data if loc is not None else None
    if not isinstance(data, dict):
        return []
    refs = [data["extends"]] if isinstance(data.get("extends"), str) else []
    personas = data.get("personas")
    if isinstance(personas, list):
        refs += [e["journey"] for e in personas if isinstance(e, dict) and isinstance(e.get("journey"), str)]
    return [os.path.normpath(os.path.join(os.path.dirname(path), r)) for r in refs]


def input_files(*paths: str | os.PathLike) -> list[str]:
    """Every file that reading ``paths`` reads: each file, the bases it ``extends:`` (recursively) and an
    account's persona journeys (with theirs), in the order found, each once.

    Found by following the references in the files themselves, so it works before anything is
    validated and for files with errors; callers that loaded a model add what it knows (``Journey.base``).
    """
    seen: list[str] = []
    todo = [os.path.normpath(os.fspath(p)) for p in reversed(paths)]
    while todo and len(seen) < _MAX_INPUTS:
        f = todo.pop()
        if f in seen:
            continue
        seen.append(f)
        todo += reversed(_references(f))
    return seen


def _identity(path: str) -> tuple[str, tuple[int, int] | None]:
    """Where a path really leads: its real path (symlinks resolved) and, if it exists, (device, inode),
    which also catches hard links."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
        return real, (st.st_dev, st.st_ino)
    except OSError:
        return real, None


def refuse_inputs(inputs: Iterable[str | os.PathLike], files: Iterable[str | os.PathLike | None] = (),
                  folders: Iterable[str | os.PathLike | None] = ()) -> None:
    """Raise :class:`~journeymap.errors.OutputIsInput` if writing would touch an input.

    ``files`` are output files: refused when one leads (through symlinks or hard links) to an input.
    ``folders`` are output folders whose contents journeymap replaces: refused when one is an input or
    holds an input anywhere inside it. ``None`` entries (options not given) are skipped.
    """
    ins = [(os.fspath(i), *_identity(os.fspath(i))) for i in inputs]
    for out in files:
        if out is None:
            continue
        real, ident = _identity(os.fspath(out))
        for name, in_real, in_ident in ins:
            if real == in_real or (ident is not None and ident == in_ident):
                raise OutputIsInput(f"the output {os.fspath(out)!r} is the input file {name!r}; journeymap never "
                                    "writes to the files it reads: choose another output path")
    for out in folders:
        if out is None:
            continue
        real, ident = _identity(os.fspath(out))
        inside = real.rstrip(os.sep) + os.sep
        for name, in_real, in_ident in ins:
            if real == in_real or (ident is not None and ident == in_ident) or in_real.startswith(inside):
                raise OutputIsInput(f"the output folder {os.fspath(out)!r} holds the input file {name!r}; journeymap "
                                    "never writes where its inputs live: choose a separate folder, such as outputs/")


# --------------------------------------------------------------------------- a folder of results, whole or not at all


def mark_incomplete(folder: str, why: str) -> None:
    """Write the visible INCOMPLETE file into `folder`, saying why its results are not to be trusted."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, INCOMPLETE), "w", encoding="utf-8") as fh:
        fh.write(why.rstrip() + "\n")


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM over a few steps Ctrl-C must not split (renames; a fork and its bookkeeping);
    they are delivered right after."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError, OSError):  # not POSIX, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike) -> Iterator[str]:
    """Build a folder of results in a hidden staging folder beside ``target``; move it in only when done.

    Yields the staging folder to write into. On success each entry written there replaces the entry of
    the same name in ``target`` (other files in ``target`` are left alone, so ``-o .`` or a shared
    outputs folder is safe); if ``target`` did not exist the staging folder simply becomes it. On any
    exception (Ctrl-C, SIGTERM, an error) the staging folder is deleted and ``target`` is untouched.

    Visible marks for what no handler can clean up (SIGKILL, a power cut): the staging folder holds an
    ``INCOMPLETE`` file until it is moved in, and while entries are being replaced ``target`` holds one.
    """
    target = os.path.realpath(os.fspath(target))  # beside the real folder when the target is a symlink
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.journeymap-", dir=parent)
    try:
        mark_incomplete(stage, f"journeymap was writing these results for {target} and did not finish.\n"
                                "Delete this folder; run journeymap again.")
        yield stage
        os.unlink(os.path.join(stage, INCOMPLETE))
        with signals_held():
            _move_in(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_in(stage: str, target: str) -> None:
    if not os.path.lexists(target):
        os.rename(stage, target)
        return
    names = sorted(os.listdir(stage))
    mark_incomplete(target, "journeymap was replacing results in this folder and did not finish: some are from "
                             "the previous run.\nRun journeymap again; this file goes away when a run completes.")
    trash = tempfile.mkdtemp(prefix=".journeymap-old-", dir=target)
    for name in names:
        dst = os.path.join(target, name)
        if os.path.lexists(dst):
            os.rename(dst, os.path.join(trash, name))
        shutil.move(os.path.join(stage, name), dst)  # a rename; a copy only if the target is another disk
    os.unlink(os.path.join(target, INCOMPLETE))
    shutil.rmtree(trash, ignore_errors=True)  # only now: if a rename failed, the old results are still in it
