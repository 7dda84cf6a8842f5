"""Working time: opening hours, time zones, holidays and shifts, compiled for the simulator.

Time in the simulator is a float number of **minutes since the simulation start** and, without
calendars, runs around the clock. Real B2B work happens in office hours, in several time zones,
around weekends and public holidays (issue 12). This module is the pure core of that:

* a small domain model, validated by construction: :class:`WeeklyHours` (opening intervals per
  weekday), :class:`Calendar` (weekly hours + IANA time zone + holidays), :class:`Shift` and
  :class:`CapacitySchedule` (how many people are present when), and the parsers for the strings a
  journey file carries (:func:`parse_hours`, :func:`parse_days`);
* :class:`Timeline`, a calendar compiled against a simulation start into absolute simulation
  minutes, answering the questions the engine asks in its hot loop (is it open, when does it open,
  when does this much work finish, how many open minutes lie between two instants).

Decisions a user has to know (they are repeated in docs/simulation.md, "Working time"):

* Opening intervals are half-open, ``[open, close)``: at 17:00 a 09:00-17:00 office is closed.
* Local times become instants with :mod:`zoneinfo` and ``fold=0`` (PEP 495): a local time that does
  not exist (02:30 on the spring-forward night in Europe/Berlin) is read with the offset in force
  before the change, so it lands an hour later (03:30 summer time); an ambiguous one (02:30 on the
  autumn night) is its first occurrence (summer time). 09:00-17:00 is therefore always 8 hours.
  Intervals that overlap or become empty through this are merged or dropped, so a timeline is
  always sorted and disjoint.
* Work pauses at closing and resumes at the next opening (:meth:`Timeline.add_working`); zero
  minutes of work at a closed instant take no time at all.
* Business days count open *dates* and keep the clock time (:meth:`Timeline.add_business_days`).
* A calendar closed for more than :data:`LOOKAHEAD_DAYS` days in a row is treated as never open
  (:class:`NeverOpen`), rather than searched for ever.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MINUTES_PER_DAY",
    "LOOKAHEAD_DAYS",
    "DAY_NAMES",
    "Interval",
    "NeverOpen",
    "WeeklyHours",
    "Calendar",
    "ALWAYS_OPEN",
    "Shift",
    "CapacitySchedule",
    "Timeline",
    "parse_hours",
    "parse_days",
    "format_clock",
    "next_monday_0900",
]

#: Minutes in a day on the wall clock; opening intervals lie within ``[0, MINUTES_PER_DAY]``.
MINUTES_PER_DAY = 1440

#: How far a timeline searches for an opening (or a closing) before giving up. Two years (and a
#: leap day): longer than any list of holidays closes an office, so a calendar closed for longer
#: is a mistake (:class:`NeverOpen`), and an open run longer than this never closes (``math.inf``).
LOOKAHEAD_DAYS = 731

#: Weekday names as journey files write them, Monday first (``date.weekday()`` numbering).
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: number for names in (DAY_NAMES, _FULL_DAY_NAMES) for number, name in enumerate(names)}

#: An opening interval, (start, end) in minutes after local midnight: 09:00-12:30 is (540, 750).
Interval = tuple[int, int]

_MINUTE = timedelta(minutes=1)
_LOOKAHEAD_MINUTES = LOOKAHEAD_DAYS * MINUTES_PER_DAY
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})\s*$")


class NeverOpen(ValueError):
    """A calendar has no opening in :data:`LOOKAHEAD_DAYS` days: a case there could never finish."""


# --------------------------------------------------------------------------- parsing journey strings


def parse_hours(text: str) -> Interval:
    """Parse ``'09:00-12:30'`` into minutes after local midnight, ``(540, 750)``.

    The end may be ``24:00`` (midnight at the end of the day); an interval may not cross midnight:
    a night shift is written as two intervals on two days, so each day's hours stay within the day.

    >>> parse_hours("09:00-12:30")
    (540, 750)
    >>> parse_hours("22:00-24:00")
    (1320, 1440)
    """
    match = _HOURS_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"opening hours {text!r} must look like 09:00-17:30 (HH:MM-HH:MM, 24-hour clock)")
    start = _clock_minutes(text, match.group(1), match.group(2), allow_midnight_end=False)
    end = _clock_minutes(text, match.group(3), match.group(4), allow_midnight_end=True)
    if end <= start:
        raise ValueError(
            f"opening hours {text!r} end before they start; an interval may not cross midnight "
            f"(write a night shift as two intervals, e.g. 22:00-24:00 and 00:00-06:00 the next day)"
        )
    return (start, end)


def _clock_minutes(text: str, hours: str, minutes: str, *, allow_midnight_end: bool) -> int:
    """One ``HH:MM`` of :func:`parse_hours` in minutes; ``24:00`` only where it ends the day."""
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not allow_midnight_end):
        allowed = "00:00 to 24:00" if allow_midnight_end else "00:00 to 23:59"
        raise ValueError(f"opening hours {text!r}: {hours}:{minutes} is not a time of day ({allowed})")
    return value


def parse_days(text: str) -> tuple[int, ...]:
    """Parse ``'mon-fri'``, ``'sat'`` or ``'mon,wed,fri'`` into weekday numbers (0 = Monday), sorted.

    Names are the three-letter or full English names, in any case. A range may wrap round the week
    (``'fri-mon'`` is Friday to Monday). A day listed twice is refused: it is almost always a typo
    that would otherwise double-book hours.

    >>> parse_days("mon-fri")
    (0, 1, 2, 3, 4)
    >>> parse_days("fri-mon")
    (0, 4, 5, 6)
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"days {text!r} must be day names such as mon-fri, sat or mon,wed,fri")
    days: list[int] = []
    for part in text.split(","):
        ends = [_day_number(text, name) for name in part.split("-")]
        if len(ends) > 2:
            raise ValueError(f"days {text!r}: {part.strip()!r} is not a day or a range such as mon-fri")
        first, last = ends[0], ends[-1]
        days.extend((first + offset) % 7 for offset in range((last - first) % 7 + 1))
    for day in days:
        if days.count(day) > 1:
            raise ValueError(f"days {text!r} list {DAY_NAMES[day]} more than once")
    return tuple(sorted(days))


def _day_number(text: str, name: str) -> int:
    """The weekday number of one day name in :func:`parse_days`."""
    number = _DAY_NUMBERS.get(name.strip().lower())
    if number is None:
        raise ValueError(f"days {text!r}: unknown day {name.strip()!r} (use {', '.join(DAY_NAMES)})")
    return number


def format_clock(minutes: int) -> str:
    """Minutes after midnight as ``HH:MM`` (``1440`` is ``24:00``), for messages and documents.

    >>> format_clock(750)
    '12:30'
    """
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --------------------------------------------------------------------------- the domain model


@dataclass(frozen=True)
class WeeklyHours:
    """Opening hours per weekday: ``days[0]`` is Monday's intervals, ``days[6]`` Sunday's.

    Each day holds sorted, non-overlapping ``(start, end)`` intervals in minutes after local
    midnight (touching is allowed: 09:00-12:00 and 12:00-17:00 is one open stretch). Build it with
    :meth:`every` or :meth:`from_rules` rather than writing the seven tuples by hand.
    """

    days: tuple[tuple[Interval, ...], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.days, tuple) or len(self.days) != 7:
            raise ValueError("weekly hours need exactly 7 days of intervals, Monday first")
        for number, intervals in enumerate(self.days):
            _check_day(DAY_NAMES[number], intervals)

    @classmethod
    def from_rules(cls, rules: Iterable[tuple[Iterable[int], Iterable[Interval]]]) -> WeeklyHours:
        """Weekly hours from ``(days, intervals)`` rules, as a journey file lists them.

        ``[(parse_days("mon-fri"), [(540, 750), (810, 1050)]), (parse_days("sat"), [(600, 840)])]``.
        A day named by several rules gets all their intervals; if they overlap, the error says so.
        """
        per_day: list[list[Interval]] = [[] for _ in range(7)]
        for days, intervals in rules:
            listed = list(intervals)
            for day in days:
                if not _is_int(day) or not 0 <= day <= 6:
                    raise ValueError(f"weekday {day!r} must be 0 (Monday) to 6 (Sunday)")
                per_day[day].extend(listed)
        return cls(tuple(tuple(sorted(intervals)) for intervals in per_day))

    @classmethod
    def every(cls, days: Iterable[int], *intervals: Interval) -> WeeklyHours:
        """The same intervals on each of ``days``: ``WeeklyHours.every(range(5), (540, 1020))``."""
        return cls.from_rules([(days, intervals)])

    @property
    def weekly_minutes(self) -> int:
        """Open minutes in an ordinary week (no holidays, no clock change)."""
        return sum(end - start for intervals in self.days for start, end in intervals)


def _check_day(name: str, intervals: tuple[Interval, ...]) -> None:
    """One weekday's intervals are well formed, within the day, sorted and non-overlapping."""
    if not isinstance(intervals, tuple):
        raise ValueError(f"{name}: intervals must be a tuple of (start, end) pairs")
    previous_end = 0
    for interval in intervals:
        if not (isinstance(interval, tuple) and len(interval) == 2 and all(_is_int(v) for v in interval)):
            raise ValueError(f"{name}: {interval!r} is not a (start, end) pair of whole minutes")
        start, end = interval
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise ValueError(
                f"{name}: interval ({start}, {end}) must satisfy 0 <= start < end <= {MINUTES_PER_DAY} "
                f"(it may not cross midnight: write a night shift as two intervals on two days)"
            )
        if start < previous_end:
            raise ValueError(
                f"{name}: opening hours overlap or are out of order at {format_clock(start)}-{format_clock(end)} "
                f"(the previous interval ends at {format_clock(previous_end)})"
            )
        previous_end = end


def _is_int(value: object) -> bool:
    """An int that is not a bool (``True`` is an int in Python but never a minute)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _zone(name: str) -> ZoneInfo:
    """The :class:`ZoneInfo` for an IANA name, or a ValueError a validator can show."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin, Asia/Singapore or UTC; "
            f"if every name fails, install the tzdata package)"
        ) from exc


def _check_holidays(holidays: frozenset[date]) -> None:
    """Holidays are dates (a datetime is refused: a holiday closes the whole local date)."""
    for holiday in holidays:
        if not isinstance(holiday, date) or isinstance(holiday, datetime):
            raise ValueError(f"holiday {holiday!r} is not a date (write it as YYYY-MM-DD)")


@dataclass(frozen=True)
class Calendar:
    """When a department (or a customer) works: weekly hours in a time zone, minus holidays.

    ``holidays`` are local dates on which it is closed all day. Any iterable of dates is accepted
    and kept as a frozenset, so calendars compare and hash by value.
    """

    timezone: str
    hours: WeeklyHours
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _zone(self.timezone)
        if not isinstance(self.hours, WeeklyHours):
            raise ValueError(f"hours must be WeeklyHours, got {type(self.hours).__name__}")
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        _check_holidays(self.holidays)

    def is_open_day(self, day: date) -> bool:
        """Whether a local date counts as a business day: it has opening hours and is no holiday."""
        return bool(self.hours.days[day.weekday()]) and day not in self.holidays


#: The 24/7 calendar, what every department had before calendars existed. Its timeline is plain
#: arithmetic (no time zone, no clock changes): ``add_working(t, w) == t + w``.
ALWAYS_OPEN = Calendar("UTC", WeeklyHours.every(range(7), (0, MINUTES_PER_DAY)))


@dataclass(frozen=True)
class Shift:
    """``people`` present on ``days`` from ``start`` to ``end`` (minutes after local midnight).

    Like an opening interval, a shift may not cross midnight (write a night shift as two shifts).
    Shifts that overlap add up: an early shift of 2 and a late shift of 3 make 5 in the overlap.
    """

    days: tuple[int, ...]
    start: int
    end: int
    people: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", tuple(self.days))
        if len(set(self.days)) != len(self.days):
            raise ValueError(f"a shift lists a weekday more than once: {self.days!r}")
        WeeklyHours.every(self.days, (self.start, self.end))  # the same checks as opening hours
        if not _is_int(self.people) or self.people < 0:
            raise ValueError(f"a shift needs a whole number of people, 0 or more, got {self.people!r}")


@dataclass(frozen=True)
class CapacitySchedule:
    """A shift pattern: how many people are present when, in one time zone, closed on holidays.

    The simulator gives each person a *slot*: slot ``k`` is open whenever more than ``k`` people
    are present (:meth:`slot_calendars`). Slot 0 is therefore open whenever anyone is, which makes
    its calendar the department's opening hours, and each slot is open for a subset of the
    previous one's time. A person who is working on a case when their slot closes keeps it: the
    work pauses and resumes when that slot opens again (it is not handed to a colleague).
    """

    timezone: str
    shifts: tuple[Shift, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _zone(self.timezone)
        object.__setattr__(self, "shifts", tuple(self.shifts))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        _check_holidays(self.holidays)
        if not all(isinstance(shift, Shift) for shift in self.shifts):
            raise ValueError("shifts must be Shift records")
        if self.max_people == 0:
            raise ValueError("nobody is ever present in this shift pattern: give a shift 1 person or more")

    def people(self, weekday: int, minute: float) -> int:
        """People present on ``weekday`` at ``minute`` after local midnight (holidays aside)."""
        return sum(s.people for s in self.shifts if weekday in s.days and s.start <= minute < s.end)

    @property
    def max_people(self) -> int:
        """The most people present at once: the number of slots."""
        return max((count for day in range(7) for _, _, count in _headcount(self.shifts, day)), default=0)

    def slot_calendars(self) -> tuple[Calendar, ...]:
        """One calendar per slot, slot 0 first: slot ``k`` is open while more than ``k`` people are present."""
        per_day = [_headcount(self.shifts, day) for day in range(7)]
        return tuple(
            Calendar(self.timezone, WeeklyHours(tuple(_above(segments, slot) for segments in per_day)), self.holidays)
            for slot in range(self.max_people)
        )


def _headcount(shifts: tuple[Shift, ...], weekday: int) -> list[tuple[int, int, int]]:
    """A weekday as ``(start, end, people)`` segments where people present is constant and > 0."""
    changes: dict[int, int] = {}
    for shift in shifts:
        if weekday in shift.days:
            changes[shift.start] = changes.get(shift.start, 0) + shift.people
            changes[shift.end] = changes.get(shift.end, 0) - shift.people
    segments = []
    present = 0
    instants = sorted(changes)
    for start, end in zip(instants, instants[1:], strict=False):
        present += changes[start]
        if present > 0:
            segments.append((start, end, present))
    return segments


def _above(segments: list[tuple[int, int, int]], slot: int) -> tuple[Interval, ...]:
    """The intervals of a day where more than ``slot`` people are present, touching ones joined."""
    intervals: list[Interval] = []
    for start, end, present in segments:
        if present <= slot:
            continue
        if intervals and intervals[-1][1] == start:
            intervals[-1] = (intervals[-1][0], end)
        else:
            intervals.append((start, end))
    return tuple(intervals)


# --------------------------------------------------------------------------- the compiled timeline


class Timeline:
    """A calendar compiled against a simulation start: every answer in simulation minutes.

    ``Timeline(calendar, start)``: ``start`` is an aware datetime, the simulation's minute 0. Open
    intervals are generated lazily, a week at a time, as absolute minutes in two flat sorted lists
    (``starts``, ``ends``) plus the cumulative open minutes before each interval, so every question
    is a :func:`bisect` or two: O(log n), amortised over the lazy extension. Times are expected to
    be >= 0 (the simulation never goes back before its start).

    ``Timeline(ALWAYS_OPEN, start)`` returns a subclass whose answers are identities
    (``add_working(t, w) == t + w``), so the engine holds one kind of object in the department's
    slot and never tests for "has a calendar" in its hot loop.
    """

    calendar: Calendar
    start: datetime

    def __new__(cls, calendar: Calendar, start: datetime) -> Timeline:
        if cls is Timeline and calendar == ALWAYS_OPEN:
            return super().__new__(_AlwaysOpenTimeline)
        return super().__new__(cls)

    def __reduce__(self) -> tuple[type[Timeline], tuple[Calendar, datetime]]:
        """Pickle as (calendar, start): a process pool's worker rebuilds the intervals lazily."""
        return (Timeline, (self.calendar, self.start))

    def __init__(self, calendar: Calendar, start: datetime) -> None:
        self._set_start(calendar, start)
        self._weekly = calendar.hours.days
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._cum: list[float] = [0.0]  # _cum[i]: open minutes before _starts[i]; _cum[-1]: all generated
        self._open_days: list[int] = []  # ordinals of the generated local dates that are business days
        self._next_day = start.astimezone(self._zone).date()
        self._horizon = self._minute_of(self._next_day, 0)  # minute of the next ungenerated local midnight
        self._closed_run = 0  # business days missing in a row, for NeverOpen
        if not calendar.hours.weekly_minutes:
            raise NeverOpen("calendar is never open: it has no opening hours on any weekday")
        while not self._ends:
            self._extend()

    # ---------------------------------------------------------------- questions (the hot part)

    def is_open(self, t: float) -> bool:
        """Whether the calendar is open at ``t`` (an interval's opening minute is open, its closing one not)."""
        if t >= self._ends[-1]:
            self._cover(t)
        i = bisect_right(self._starts, t) - 1
        return i >= 0 and t < self._ends[i]

    def next_open(self, t: float) -> float:
        """``t`` itself if open, else the next opening after ``t``."""
        ends = self._ends
        if t >= ends[-1]:
            self._cover(t)
        start = self._starts[bisect_right(ends, t)]
        return t if start <= t else start

    def next_close(self, t: float) -> float:
        """The closing of the open interval containing ``t`` (or, if closed, of the next one).

        Intervals that touch (a night shift over midnight, 09:00-12:00 and 12:00-17:00) are one open
        stretch. An open stretch longer than :data:`LOOKAHEAD_DAYS` never closes: ``math.inf``.
        """
        ends = self._ends
        if t >= ends[-1]:
            self._cover(t)
        i = bisect_right(ends, t)
        while i == len(ends) - 1 and ends[i] >= self._horizon:  # the next day may still extend it
            if self._horizon - t > _LOOKAHEAD_MINUTES:
                return math.inf
            self._extend()
        return ends[i]

    def add_working(self, t: float, minutes: float) -> float:
        """The instant at which ``minutes`` of open time have elapsed, starting at ``t``.

        Work pauses at closing and resumes at the next opening. ``minutes == 0`` returns ``t`` even
        when closed (nothing to do, so no wait for the opening); work that ends exactly at closing
        time ends then, not at the next opening.
        """
        if minutes <= 0:
            if minutes == 0:
                return t
            raise ValueError(f"working minutes must be >= 0, got {minutes!r}")
        # Inlined _open_before(t) for performance reasons: this runs once per step in the engine.
        ends, starts, cum = self._ends, self._starts, self._cum
        if t >= ends[-1]:
            self._cover(t)
        i = bisect_right(ends, t)
        start = starts[i]
        target = cum[i] + (t - start if t > start else 0.0) + minutes
        if target > cum[-1]:
            self._cover_work(target)
        # lo=i+1 keeps the answer >= t even when ``minutes`` is too small to change ``target``.
        j = bisect_left(cum, target, i + 1) - 1
        return starts[j] + (target - cum[j])

    def open_minutes(self, a: float, b: float) -> float:
        """Open minutes between instants ``a`` and ``b`` (negative if ``b < a``)."""
        return self._open_before(b) - self._open_before(a)

    def add_business_days(self, t: float, n: float) -> float:
        """``n`` business days after ``t``, at the same local clock time.

        A business day is a local date with opening hours that is not a holiday. Friday 16:00 plus
        2 business days is Tuesday 16:00 (Monday and Tuesday open), whatever the opening hours: a
        document put in an inbox at 16:00 has arrived at 16:00. An instant on a closed day counts
        from the start (00:00) of the next business day, the usual service-level convention:
        Saturday 10:00 plus 1 business day is the end of Monday (Tuesday 00:00).

        A fraction of a business day is that fraction of its 24 clock hours, carried into the next
        business day past midnight: Friday 16:00 plus 0.5 is Monday 04:00. So whole ``n`` keep the
        clock time exactly, and the result grows with ``n`` (except for a clock time inside the hour
        a spring clock change skips, read with ``fold=0``). ``n == 0`` returns ``t``. The result
        goes through :class:`datetime`, so it is exact to the microsecond, not to every bit of a float.
        """
        if n <= 0:
            if n == 0:
                return t
            raise ValueError(f"business days must be >= 0, got {n!r}")
        _check_finite("business days", n)
        local = self.to_datetime(t)
        day = local.date()
        while self._next_day <= day:
            self._extend()
        index = bisect_left(self._open_days, day.toordinal())
        is_open_day = index < len(self._open_days) and self._open_days[index] == day.toordinal()
        clock = (local - local.replace(hour=0, minute=0, second=0, microsecond=0)) / _MINUTE if is_open_day else 0.0
        whole = math.floor(n)
        clock += (n - whole) * MINUTES_PER_DAY
        if clock >= MINUTES_PER_DAY:
            clock -= MINUTES_PER_DAY
            whole += 1
        while len(self._open_days) <= index + whole:
            self._extend()
        return self._minute_of(date.fromordinal(self._open_days[index + whole]), clock)

    def _set_start(self, calendar: Calendar, start: datetime) -> None:
        """Keep the calendar, its zone and the start (which must be aware: minute 0 is an instant)."""
        if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"the simulation start {start!r} needs a time zone (an aware datetime)")
        self.calendar = calendar
        self.start = start
        self._zone = ZoneInfo(calendar.timezone)
        self._start_utc = start.astimezone(UTC)

    def to_datetime(self, t: float) -> datetime:
        """The aware datetime, in the calendar's time zone, of simulation minute ``t`` (event log timestamps)."""
        return (self._start_utc + timedelta(minutes=t)).astimezone(self._zone)

    # ---------------------------------------------------------------- lazy compilation

    def _open_before(self, t: float) -> float:
        """Open minutes from the first generated interval up to ``t``."""
        if t >= self._ends[-1]:
            self._cover(t)
        i = bisect_right(self._ends, t)
        start = self._starts[i]
        return self._cum[i] + (t - start if t > start else 0.0)

    def _cover(self, t: float) -> None:
        """Generate until an interval ends after ``t`` (then every interval starting by ``t`` is known)."""
        _check_finite("time", t)
        while self._ends[-1] <= t:
            self._extend()

    def _cover_work(self, target: float) -> None:
        """Generate until ``target`` cumulative open minutes are reached."""
        _check_finite("working minutes", target)
        while self._cum[-1] < target:
            self._extend()

    def _extend(self) -> None:
        """Generate the next week of local dates, converting each interval to absolute minutes."""
        for _ in range(7):
            day = self._next_day
            if self.calendar.is_open_day(day):
                self._open_days.append(day.toordinal())
                self._closed_run = 0
                for start, end in self._weekly[day.weekday()]:
                    self._append(self._minute_of(day, start), self._minute_of(day, end))
            else:
                self._closed_run += 1
                if self._closed_run > LOOKAHEAD_DAYS:
                    raise NeverOpen(
                        f"calendar is never open: closed every day for {LOOKAHEAD_DAYS} days up to {day} "
                        f"(check its holidays and weekly hours)"
                    )
            self._next_day = day + timedelta(days=1)
        self._horizon = self._minute_of(self._next_day, 0)

    def _append(self, start: float, end: float) -> None:
        """Add an interval, merging it into the last one if they touch or (after a clock change) overlap."""
        if end <= start:
            return  # emptied by a clock change (an interval inside the skipped hour)
        if self._ends and start <= self._ends[-1]:
            if end > self._ends[-1]:
                self._cum[-1] += end - self._ends[-1]
                self._ends[-1] = end
            return
        self._starts.append(start)
        self._ends.append(end)
        self._cum.append(self._cum[-1] + (end - start))

    def _minute_of(self, day: date, minute: float) -> float:
        """Simulation minute of local ``day`` at ``minute`` after midnight on the wall clock (fold=0)."""
        local = datetime.combine(day, time(), tzinfo=self._zone) + timedelta(minutes=minute)
        return (local.astimezone(UTC) - self._start_utc) / _MINUTE


def _check_finite(what: str, value: float) -> None:
    """Refuse infinity (and NaN) before a lazy extension: generating up to it would never end."""
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number of minutes, got {value!r}")


class _AlwaysOpenTimeline(Timeline):
    """The timeline of :data:`ALWAYS_OPEN`: identity arithmetic, nothing generated, nothing stored."""

    def __init__(self, calendar: Calendar, start: datetime) -> None:
        self._set_start(calendar, start)

    def is_open(self, t: float) -> bool:
        return True

    def next_open(self, t: float) -> float:
        return t

    def next_close(self, t: float) -> float:
        return math.inf

    def add_working(self, t: float, minutes: float) -> float:
        if minutes < 0:
            raise ValueError(f"working minutes must be >= 0, got {minutes!r}")
        return t + minutes

    def open_minutes(self, a: float, b: float) -> float:
        return b - a

    def add_business_days(self, t: float, n: float) -> float:
        if n < 0:
            raise ValueError(f"business days must be >= 0, got {n!r}")
        return t + n * MINUTES_PER_DAY


def next_monday_0900(tz: str, now: datetime) -> datetime:
    """The default simulation start: the first Monday 09:00 in ``tz`` strictly after ``now``.

    ``now`` is a parameter (not read from the clock here) so a run stays reproducible: the caller
    decides which "now" a simulation starts from.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now {now.isoformat()} needs a time zone (an aware datetime)")
    zone = _zone(tz)
    today = now.astimezone(zone).date()
    monday = today + timedelta(days=-today.weekday() % 7)
    candidate = datetime.combine(monday, time(9), tzinfo=zone)
    if candidate.astimezone(UTC) <= now.astimezone(UTC):
        candidate = datetime.combine(monday + timedelta(days=7), time(9), tzinfo=zone)
    return candidate
