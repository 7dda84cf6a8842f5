"""Reading values the structure pass has already checked: a wrong type was reported and removed.

So a checker asks for "this text, or the default" and never re-reports the
type; these helpers say so once instead of in every ``isinstance`` chain.
"""

from __future__ import annotations

from typing import Any, TypeGuard

__all__ = ["str_or", "is_number", "mapping_or_empty", "list_or_empty"]


def str_or(value: Any, default: str = "") -> str:
    """``value`` when it is text, else ``default`` (the structure pass already reported a wrong type)."""
    return value if isinstance(value, str) else default


def is_number(value: Any) -> TypeGuard[int | float]:
    """An int or a float, never a bool (YAML's ``true`` is an int to Python)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def mapping_or_empty(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping (a section given), else an empty one."""
    return value if isinstance(value, dict) else {}


def list_or_empty(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []
