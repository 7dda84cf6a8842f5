"""The small tree of exceptions journeymap raises, named for the situation."""

from __future__ import annotations

from typing import Sequence

from .problems import Problem

__all__ = ["JourneymapError", "JourneyInvalid", "DotNotFound",
           "EXIT_OK", "EXIT_INVALID", "EXIT_USAGE", "EXIT_ENVIRONMENT", "EXIT_INTERRUPTED"]

#: Exit codes of the command line and the main job, one per situation (documented in the README).
EXIT_OK = 0
EXIT_INVALID = 1          # an input file has errors (all of them were reported)
EXIT_USAGE = 2            # the command line is wrong
EXIT_ENVIRONMENT = 3      # something outside the input is missing: Graphviz's dot, a writable folder
EXIT_INTERRUPTED = 130    # Ctrl-C


class JourneymapError(Exception):
    """Base of every error journeymap raises on purpose."""


class JourneyInvalid(JourneymapError):
    """A journey file has errors; ``problems`` holds every one found (and the warnings)."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.is_error]
        first = errors[0] if errors else None
        where = f" (first: {first.file}:{first.line}:{first.column}: {first.message})" if first else ""
        super().__init__(f"{len(errors)} error(s) in journey file{where}")


class DotNotFound(JourneymapError):
    """Graphviz's ``dot`` program is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's 'dot' program was not found on PATH. Install it with "
            "'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) "
            "or from https://graphviz.org/download/, or use --format dot to write the DOT source only."
        )
