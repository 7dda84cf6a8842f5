"""What the meaning and flow checks of one journey file share: the document, its problems, its ids.

A :class:`Context` is made for each file (after the structure pass) and handed
to every section checker of :mod:`.sections`, then to the flow checks of
:mod:`.flow` and the lint rules; each reports through :meth:`Context.error`,
which turns a path into the file, line and column of the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..distributions import ELAPSED, Basis, Distribution, DurationError, parse_timed_distribution
from ..loading import Located, Path
from ..model import PRIORITY_CLASSES, Department, Estimate, Flow, Persona, Stage, Step, Target, Workload
from ..money import Money
from ..problems import Problem
from ..workingtime import Calendar
from .wording import cut

__all__ = ["Context", "Draft"]

_DISTRIBUTION_HINT = ("a duration is 30min, 2h, 3d; a distribution is {exponential: 2h}, "
                      "{triangular: [1h, 2h, 5h]}, {uniform: [1h, 3h]}, {lognormal: {mean: 2h, sd: 1h}}, "
                      "{gamma: {mean: 2h, sd: 1h}}, {weibull: {shape: 1.5, scale: 2h}} or "
                      "{empirical: [10min, 25min, 1h, 3h]}")


@dataclass
class Draft:
    """The parts of the journey the section checkers have built so far; a :class:`Journey` when all are done."""

    id: str = ""
    name: str = ""
    description: str = ""
    persona: Persona = field(default_factory=lambda: Persona("persona", "persona"))
    #: stage id -> index in the file (first one on duplicates)
    stage_ids: dict[str, int] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    #: department id -> index in the file (first one on duplicates)
    dept_ids: dict[str, int] = field(default_factory=dict)
    departments: list[Department] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    start: str = ""
    ends: list[str] = field(default_factory=list)
    workload: Workload = field(default_factory=Workload)
    #: holiday list name -> its dates (the lists that could be read)
    holiday_lists: dict[str, frozenset[date]] = field(default_factory=dict)
    #: every name under ``holidays:``, read or not (so a reference to a broken list is not "unknown")
    holiday_names: set[str] = field(default_factory=set)
    #: calendar name -> the calendar (the ones without errors)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    #: every name under ``calendars:``, valid or not
    calendar_names: set[str] = field(default_factory=set)
    calendar: Calendar | None = None
    priorities: tuple[str, ...] = PRIORITY_CLASSES
    targets: list[Target] = field(default_factory=list)
    #: ``estimates: {default: ...}``: how sure every duration and delay without an estimate of its own is
    estimate_default: Estimate | None = None
    #: ``money:``: the business case's assumptions (validation/money.py)
    money: Money | None = None


@dataclass
class Context:
    """One journey document being checked, and everything its checks have found."""

    loc: Located
    problems: list[Problem] = field(default_factory=list)
    #: step id -> index in ``steps`` (the first one on duplicates): ids checked, positions found
    step_index: dict[str, int] = field(default_factory=dict)
    #: (from step, to step) -> path of the flow in the file, to point warnings at the flow
    flow_path: dict[tuple[str, str], Path] = field(default_factory=dict)
    draft: Draft = field(default_factory=Draft)

    def error(self, path: Path, rule: str, message: str, hint: str = "", *, key: bool = False) -> None:
        """Report an error at the value at ``path`` (or at its key, with ``key=True``)."""
        self.problems.append(self.loc.problem(path, rule, message, hint, key=key))

    def dist(self, value: Any, path: Path, bases: tuple[Basis, ...] = ELAPSED,
             hint: str = "") -> tuple[Distribution, Basis] | None:
        """The distribution a ``duration:`` or ``delay:`` value describes, and the basis it is written in
        (elapsed, working hours, business days: ``bases`` says which are allowed here); None (reported)
        when it is wrong. ``hint`` replaces the general one (where working time may be used)."""
        try:
            return parse_timed_distribution(value, bases=bases)
        except DurationError as exc:
            # at the bad part (an empirical list's fifth value) when the parser says which
            at = tuple(path) + exc.where if isinstance(value, dict) else tuple(path)
            self.error(at, "invalid-duration", cut(str(exc), 200), hint or _DISTRIBUTION_HINT)
            return None
