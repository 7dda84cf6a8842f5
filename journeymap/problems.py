"""Problems found in a journey file: data, not exceptions.

Each check yields :class:`Problem` records; the loader collects every one of
them so a designer fixes a file in one pass, and the CLI formats them the way
compilers and linters do (``file:line:column: severity [rule] message``) so
editors and CI annotate the right spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

__all__ = ["Problem", "Problems", "format_problem", "sort_problems"]

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
