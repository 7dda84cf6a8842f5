"""How the checks word what they found: the closest id, a removal by an overlay, a value cut short.

Shared by the three passes so that a reference to a missing step reads the
same whether the structure, the meaning or the flow pass finds it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from ..loading import Located

__all__ = ["closest", "did_you_mean", "gone", "removals", "cut"]


def closest(word: Any, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (a likely typo), or None when none is close."""
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a close choice, else nothing."""
    c = closest(word, choices)
    return f" (did you mean {c!r}?)" if c else ""


def removals(loc: Located) -> str:
    """For a flow problem in an overlay that removes steps: which ones, since a removal is the likely cause."""
    removed = [(ident, where) for (kind, ident), where in loc.removed.items() if kind == "steps"]
    if not removed:
        return ""
    return (f" (the overlay removes {', '.join(repr(i) for i, _ in removed)}: "
            f"{removed[0][1][0]}:{removed[0][1][1]})")


def gone(loc: Located, kind: str, ident: Any, choices: Iterable[str]) -> str:
    """Why a reference names nothing: the overlay removed it (and where), or the closest id."""
    removed = loc.removed.get((kind, ident)) if isinstance(ident, str) else None
    if removed:
        return f" (the overlay removes it: {removed[0]}:{removed[1]})"
    return did_you_mean(ident, choices)


def cut(text: str, limit: int = 120) -> str:
    """``text`` cut to ``limit`` characters with '...': a message never quotes a whole value."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
