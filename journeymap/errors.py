"""The small tree of exceptions journeymap raises, named for the situation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from .problems import Problem

__all__ = ["JourneymapError", "InputInvalid", "JourneyInvalid", "DotNotFound", "OutputIsInput", "TooLarge",
           "InvalidArgument",
           "Interrupted", "EXIT_OK", "EXIT_INVALID", "EXIT_USAGE", "EXIT_ENVIRONMENT", "EXIT_INTERNAL",
           "EXIT_INTERRUPTED", "EXIT_TERMINATED",
           "SchedulerUnreachable", "StoreMismatch"]

#: Exit codes of the command line and the main job, one per situation (documented in the README).
EXIT_OK = 0
EXIT_INVALID = 1          # an input file has errors (all of them were reported)
EXIT_USAGE = 2            # the command line is wrong
EXIT_ENVIRONMENT = 3      # something outside the input is missing: Graphviz's dot, a writable folder
EXIT_INTERNAL = 70        # a bug in journeymap (sysexits' EX_SOFTWARE): the traceback is printed, please report it
EXIT_INTERRUPTED = 130    # Ctrl-C (SIGINT): 128 + 2, the shell's convention
EXIT_TERMINATED = 143     # SIGTERM (kill, a container or CI stopping the job): 128 + 15


class JourneymapError(Exception):
    """Base of every error journeymap raises on purpose."""


class InputInvalid(JourneymapError):
    """An input file has errors; ``problems`` holds every one found (and any warnings), each located.

    The one shape of every "this file is wrong" exception (a journey, an event log, a scores file, a log
    that does not fit its journey), so the CLI prints them all the same way. The message counts the
    errors and quotes the first; :attr:`where` says what was read ("in journey file").
    """

    where: ClassVar[str] = "in the input"

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.is_error]
        first = errors[0] if errors else None
        at = f" (first: {first.file}:{first.line}:{first.column}: {first.message})" if first else ""
        super().__init__(f"{len(errors)} error(s) {self.where}{at}")


class JourneyInvalid(InputInvalid):
    """A journey file has errors; ``problems`` holds every one found (and the warnings)."""

    where = "in journey file"


class DotNotFound(JourneymapError):
    """Graphviz's ``dot`` program is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's 'dot' program was not found on PATH. Install it with "
            "'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) "
            "or from https://graphviz.org/download/, or use --format dot to write the DOT source only."
        )


class OutputIsInput(JourneymapError):
    """An output path names an input file (or a folder holding one): writing there would destroy it.

    The CLI turns it into exit code 2 (the command line is wrong) before anything is simulated or written.
    """


class TooLarge(JourneymapError):
    """A journey is above a documented size limit for what was asked (a whole map of thousands of steps).

    The CLI turns it into exit code 2: the message says the limit and what to ask for instead.
    """


class InvalidArgument(JourneymapError, ValueError):
    """An argument the library refuses on purpose (no replications, a warm-up that swallows every case):
    the caller's mistake, not a bug. The CLI turns it into exit code 2 with the message.

    A :class:`ValueError` too, so callers that caught ``ValueError`` for these keep working; any other
    ``ValueError`` is a bug and the CLI reports it as one.
    """


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: unwind like Ctrl-C, so every ``finally`` and temporary-file clean-up runs.

    A subclass of :class:`KeyboardInterrupt` so code that already stops cleanly on Ctrl-C (the
    simulation's worker pool, the atomic writer) does the same on SIGTERM. ``signum`` says which.
    """

    def __init__(self, signum: int) -> None:
        # args must be exactly (signum,): SimPy re-raises a process's exception as type(e)(*e.args)
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"stopped by signal {self.signum}"


class SchedulerUnreachable(JourneymapError):
    """The Dask scheduler given by address did not answer in time (journeymap.sweep): an outside failure,
    exit code 3. The message names the address and how to check it."""


class StoreMismatch(InvalidArgument):
    """A sweep store (journeymap.sweep) was made for another journey, or another version of it, or is not
    a store at all: its results are never mixed with this sweep's. Exit code 2: give another store path."""
