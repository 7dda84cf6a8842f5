"""Problems found in a journey file: data, not exceptions.

Each check yields :class:`Problem` records; the loader collects every one of
them so a designer fixes a file in one pass, and the CLI formats them the way
compilers and linters do (``file:line:column: severity [rule] message``) so
editors and CI annotate the right spot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Problem", "Problems", "format_problem", "sort_problems", "group_problems", "excerpt", "EXCERPT_CHARS"]

#: Longest quotation of a value in a message: a message names the bad value, it never echoes a file.
EXCERPT_CHARS = 60

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong (error) or suspicious (warning) in a journey file.

    ``line`` and ``column`` are 1-based, as editors show them.
    """

    file: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    hint: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
        }


class Problems:
    """Mixin for results that carry ``problems``: the errors and the warnings among them."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def format_problem(p: Problem) -> str:
    """``file:line:column: severity [rule] message`` and, on the next line, the hint."""
    text = f"{p.file}:{p.line}:{p.column}: {p.severity} [{p.rule}] {p.message}"
    if p.hint:
        text += f"\n    hint: {p.hint}"
    return text


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """File order, then position; duplicates (same place, rule and message) dropped."""
    seen = set()
    out = []
    for p in sorted(problems, key=lambda p: (p.file, p.line, p.column, p.severity, p.rule, p.message)):
        key = (p.file, p.line, p.column, p.rule, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """``repr(value)``, cut to ``limit`` characters with '...' so a message never quotes a whole file.

    Built piece by piece for lists and mappings, so a huge value is never turned into one huge string.
    """
    if isinstance(value, (list, dict)):
        items = value.items() if isinstance(value, dict) else value
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        parts: list[str] = []
        size = 1
        for item in items:
            part = (f"{excerpt(item[0], limit)}: {excerpt(item[1], limit)}" if isinstance(value, dict)
                    else excerpt(item, limit))
            parts.append(part)
            size += len(part) + 2
            if size > limit:
                break
        text = opening + ", ".join(parts) + closing
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def group_problems(results: Iterable[tuple[str, Iterable[Problem]]]) -> list[tuple[str, list[Problem]]]:
    """Problems grouped by the file that was checked, in the order given.

    An overlay's problems stay under the overlay even when they point into its
    base (a warning the change causes in an inherited step). A problem already
    listed for another checked file (an account re-checks its personas'
    journeys; an overlay inherits its base's warnings) is listed once: under
    the file it points into when that file was checked too, else under the
    first file that found it.
    """
    results = [(checked, sort_problems(problems)) for checked, problems in results]

    def key(p: Problem) -> tuple:
        return (p.file, p.line, p.column, p.rule, p.message)

    # a problem the file it points into reports itself is listed there, not under another file
    own = {key(p) for checked, problems in results for p in problems if p.file == checked}
    shown: set[tuple] = set()
    out = []
    for checked, problems in results:
        group = []
        for p in problems:
            k = key(p)
            if k in shown or (p.file != checked and k in own):
                continue
            shown.add(k)
            group.append(p)
        out.append((checked, group))
    return out
