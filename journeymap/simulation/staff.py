"""Staff who keep working hours: a department resource whose people come and go with their calendars.

A department of a journey with calendars (docs/simulation.md, "Working time") is a :class:`StaffPool`
instead of a :class:`simpy.Resource`. Each person is a *slot* with its own
:class:`~journeymap.workingtime.Timeline` (slot ``k`` of a shift pattern is present while more than
``k`` people are; without shifts every slot keeps the department's hours). The rules:

* a request is granted a slot that is **free and open** (present) right now, the lowest-numbered
  such slot; when every free slot is closed the request waits: it never takes a closed slot to wait
  for it;
* waiting requests are served by priority (lower first, the call shape of
  :meth:`simpy.PriorityResource.request`), then first come, first served; non-preemptive;
* waiting requests are looked at again whenever a slot is released and whenever a free slot opens
  (one wake-up event at the earliest opening of a free slot, not a process per person);
* the granted slot is :attr:`StaffRequest.slot`; the engine keeps the case with that person across
  their absence (it asks the slot's timeline when the work ends: :meth:`Timeline.add_working`).

The pool only decides who starts when; how long the work then takes is the engine's business.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from heapq import heappop, heappush
from itertools import count
from types import TracebackType

import simpy

from ..model import CUSTOMER, Department, Flow, Journey
from ..workingtime import ALWAYS_OPEN, MINUTES_PER_DAY, Calendar, Timeline, next_monday_0900

__all__ = ["StaffPool", "StaffRequest", "WorkingClock", "cycle_calendar", "receiving_calendar", "simulation_start",
           "slot_calendars", "start_timezone", "timeline", "working_clock"]


@lru_cache(maxsize=256)
def timeline(calendar: Calendar, start: object) -> Timeline:
    """The timeline of ``calendar`` from the simulation start, shared within a process.

    A timeline only grows (lazily, a week at a time) and its answers do not depend on the order of
    the questions, so the replications run in one process can share it and compile each week once.
    ``start`` is an aware :class:`~datetime.datetime` (typed ``object`` for the cache's sake).
    """
    return Timeline(calendar, start)  # type: ignore[arg-type]


class StaffRequest(simpy.Event):
    """A case asking a :class:`StaffPool` for a person; use it as ``with pool.request() as req: yield req``.

    Leaving the ``with`` block gives the person back (or, if the request is still waiting, withdraws it).
    """

    def __init__(self, pool: StaffPool, priority: int) -> None:
        super().__init__(pool.env)
        self.pool = pool
        self.priority = priority
        #: the slot (person) granted, -1 while waiting
        self.slot = -1
        #: withdrawn before it was granted (left lazily in the waiting heap)
        self.withdrawn = False
        pool._put(self)

    def __enter__(self) -> StaffRequest:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.pool.release(self)


class StaffPool:
    """People with working hours: one slot per person, each with its timeline (see the module docstring)."""

    def __init__(self, env: simpy.Environment, timelines: tuple[Timeline, ...]) -> None:
        if not timelines:
            raise ValueError("a department needs at least one person (slot)")
        self.env = env
        self.timelines = timelines
        self.capacity = len(timelines)
        #: free slots, in increasing order: the lowest open one is granted
        self._free = list(range(len(timelines)))
        # per slot, the open stretch last looked up: open on [_opens[k], _closes[k]); a cache so that
        # asking "is slot k present now" is two comparisons until the stretch is over
        self._opens = [-math.inf] * len(timelines)
        self._closes = [-math.inf] * len(timelines)
        self._waiting: list[tuple[int, int, StaffRequest]] = []
        self._order = count()
        self._wake_at = math.inf

    @property
    def count(self) -> int:
        """People busy with a case (present or not)."""
        return self.capacity - len(self._free)

    @property
    def queue_length(self) -> int:
        """Requests waiting for a person."""
        return sum(1 for _, _, request in self._waiting if not request.withdrawn)

    def request(self, priority: int = 0) -> StaffRequest:
        """Ask for a person; ``priority``: lower is served first (as :meth:`simpy.PriorityResource.request`)."""
        return StaffRequest(self, priority)

    def release(self, request: StaffRequest) -> None:
        """Give the person of ``request`` back (or withdraw a request still waiting), then serve the waiting."""
        if request.slot < 0:
            request.withdrawn = True
            return
        insort(self._free, request.slot)
        request.slot = -1
        if self._waiting:
            self._dispatch()

    def is_present(self, slot: int, now: float) -> bool:
        """Whether ``slot``'s person is present (its calendar open) at ``now``."""
        if self._opens[slot] <= now < self._closes[slot]:
            return True
        if now < self._opens[slot]:
            return False
        line = self.timelines[slot]
        opens = line.next_open(now)
        self._opens[slot] = opens
        self._closes[slot] = line.next_close(opens)
        return opens <= now

    # ------------------------------------------------------------------ granting

    def _put(self, request: StaffRequest) -> None:
        heappush(self._waiting, (request.priority, next(self._order), request))
        self._dispatch()

    def _open_free_slot(self, now: float) -> int:
        """The lowest free slot that is present now, or -1."""
        for slot in self._free:
            if self.is_present(slot, now):
                return slot
        return -1

    def _dispatch(self) -> None:
        """Grant open free slots to the waiting requests in (priority, arrival) order; else wait for an opening."""
        now = self.env.now
        waiting = self._waiting
        while waiting:
            request = waiting[0][2]
            if request.withdrawn:
                heappop(waiting)
                continue
            slot = self._open_free_slot(now)
            if slot < 0:
                self._wake_at_opening(now)
                return
            heappop(waiting)
            self._free.remove(slot)
            request.slot = slot
            request.succeed()

    def _wake_at_opening(self, now: float) -> None:
        """Look at the waiting requests again when the first free slot opens (free slots are all closed now)."""
        if not self._free:
            return  # a release will dispatch
        opening = min(self._opens[slot] for slot in self._free)  # fresh: _open_free_slot just asked each
        if opening < self._wake_at:
            self._wake_at = opening
            self.env.timeout(opening - now).callbacks.append(self._wake)

    def _wake(self, _: simpy.Event) -> None:
        # always forget the pending wake-up: _dispatch schedules the next one if it is still needed (a
        # wake-up that lands an ulp before the opening, through float rounding, then sets a second one)
        self._wake_at = math.inf
        if self._waiting:
            self._dispatch()


# ---------------------------------------------------------------------- what the engine keeps per run


def slot_calendars(department: Department, default: Calendar | None = None) -> tuple[Calendar, ...]:
    """The calendar of each person (slot) of a department: its shift pattern's slots, or ``capacity``
    times its calendar (else ``default``, the journey's; else around the clock)."""
    if department.shifts is not None:
        return department.shifts.slot_calendars()
    calendar = department.calendar or default or ALWAYS_OPEN
    return (calendar,) * department.capacity


def receiving_calendar(journey: Journey, step_id: str) -> Calendar:
    """The calendar a step keeps: its department's opening hours (slot 0), or the persona's for a
    customer step; around the clock without one. Inbox delays into the step count on it."""
    step = journey.step_by_id[step_id]
    if step.owner == CUSTOMER:
        return journey.customer_calendar(step) or ALWAYS_OPEN
    department = next(d for d in journey.departments if d.id == step.owner)
    return slot_calendars(department, journey.calendar)[0]


def cycle_calendar(journey: Journey) -> tuple[str, Calendar]:
    """The calendar whose open minutes measure cycle time in working hours, and what it is: the
    journey's, else the first department's with one, else the persona's, else around the clock."""
    if journey.calendar is not None:
        return "journey", journey.calendar
    for department in journey.departments:
        if department.calendar is not None or department.shifts is not None:
            return f"department:{department.id}", slot_calendars(department)[0]
    if journey.persona.calendar is not None:
        return "persona", journey.persona.calendar
    return "always open", ALWAYS_OPEN


def start_timezone(journey: Journey) -> str:
    """The time zone of the default start: the journey calendar's, else the first calendar found
    (departments in file order, their shifts, then the persona), else UTC."""
    found = [journey.calendar] + [d.calendar or d.shifts for d in journey.departments] + [journey.persona.calendar]
    return next((c.timezone for c in found if c is not None), "UTC")


def simulation_start(journey: Journey, now: datetime | None = None) -> datetime:
    """The simulation's minute 0: ``workload.start``, else the next Monday 09:00 after ``now`` (default:
    the current time) in :func:`start_timezone`. The runner asks once per run."""
    if journey.workload.start is not None:
        return journey.workload.start
    return next_monday_0900(start_timezone(journey), now or datetime.now(UTC))


def _opens_always(line: Timeline) -> bool:
    return line.calendar == ALWAYS_OPEN


@dataclass(frozen=True)
class WorkingClock:
    """Working time as one replication of a journey with calendars needs it, indexed like its plans.

    ``None`` entries mean "around the clock": the engine then does exactly the elapsed arithmetic,
    so a journey whose calendars are all 24/7 gives the same times as one without calendars.
    """

    start: datetime
    #: per step: its work pauses while its person (or the customer) is away ("working", not must_finish)
    pauses: tuple[bool, ...]
    #: per step: the timeline of the customer who does it (None: around the clock, or a staff step)
    customer: tuple[Timeline | None, ...]
    #: per department, per slot: the person's timeline (None: always there)
    slots: tuple[tuple[Timeline | None, ...], ...]
    #: per department, per slot: the person's name in the event log, ``legal-1`` for slot 0
    names: tuple[tuple[str, ...], ...]
    #: per flow (like ``journey.flows``): when an inbox delay drawn at ``t`` ends, (t, delay) -> end;
    #: None for elapsed time
    inbox: tuple[Callable[[float, float], float] | None, ...]
    #: the timeline cycle time in working hours is measured on
    cycle: Timeline


def _inbox_clock(journey: Journey, flow: Flow, start: datetime) -> Callable[[float, float], float] | None:
    """How an inbox delay counts on the receiving side's calendar (None: elapsed, as without calendars)."""
    if flow.delay_basis == "elapsed":
        return None
    line = timeline(receiving_calendar(journey, flow.target), start)
    if _opens_always(line):
        return None
    if flow.delay_basis == "working":
        return line.add_working
    return lambda t, delay: line.add_business_days(t, delay / MINUTES_PER_DAY)


def working_clock(journey: Journey, start: datetime) -> WorkingClock:
    """Compile the working time of ``journey`` from ``start`` (see :class:`WorkingClock`)."""
    customer = []
    for step in journey.steps:
        calendar = journey.customer_calendar(step) if step.owner == CUSTOMER else None
        line = timeline(calendar, start) if calendar is not None else None
        customer.append(None if line is None or _opens_always(line) else line)
    slots, names = [], []
    for department in journey.departments:
        lines = [timeline(c, start) for c in slot_calendars(department, journey.calendar)]
        slots.append(tuple(None if _opens_always(line) else line for line in lines))
        names.append(tuple(f"{department.id}-{k}" for k in range(1, len(lines) + 1)))
    return WorkingClock(
        start=start,
        pauses=tuple(s.basis == "working" and not s.must_finish for s in journey.steps),
        customer=tuple(customer),
        slots=tuple(slots), names=tuple(names),
        inbox=tuple(_inbox_clock(journey, f, start) for f in journey.flows),
        cycle=timeline(cycle_calendar(journey)[1], start),
    )
