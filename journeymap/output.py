"""The one place journeymap writes files: atomically.

Everything is written to a temporary file in the destination folder and then
renamed over the target (``os.replace`` is atomic on POSIX and Windows), so an
interrupted run never leaves a half-written result that looks complete.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any, Callable

__all__ = ["write_bytes", "write_text", "write_json", "write_with", "dumps_json"]


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
