"""The meaning pass for working time: holidays, calendars, shifts, step and delay bases, the start.

Issue 12 (docs/format.md, "Working time"). The checkers here are registered in
:data:`journeymap.validation.sections.SECTIONS` like every other section; the
structure pass has already removed every value of the wrong type, so they read
with ``isinstance`` guards. Each turns the strings of a file into the records
of :mod:`journeymap.workingtime` (:class:`~journeymap.workingtime.Calendar`,
:class:`~journeymap.workingtime.CapacitySchedule`) and reports what those
records would refuse *before* building them, at the line and column of the
value: hours that cannot be read, end before they start or overlap, an unknown
time zone, a holiday that is not a date, a calendar or shift pattern that is
never open, a holiday file outside the project.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ..distributions import BASES, Basis, Distribution
from ..loading import Path, ReferenceOutside, load_yaml, read_text, resolve_reference
from ..model import CUSTOMER
from ..problems import excerpt
from ..schema import ID_PATTERN, MAX_CAPACITY
from ..workingtime import (
    Calendar,
    CapacitySchedule,
    Interval,
    Shift,
    WeeklyHours,
    format_clock,
    parse_days,
    parse_hours,
)
from .context import Context
from .values import list_or_empty, mapping_or_empty
from .wording import cut, did_you_mean

__all__ = ["holiday_lists", "calendars", "journey_calendar", "persona_calendar", "department_hours",
           "workload_start", "step_duration", "flow_delay", "parse_date", "parse_start", "home_timezone",
           "STEP_BASES"]

#: What a step's duration may be written in: business days are for delays and targets only.
STEP_BASES: tuple[Basis, ...] = ("elapsed", "working")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_START_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")
_ID_RE = re.compile(ID_PATTERN)
#: Years a simulation may start in: calendars are compiled from the start onwards, in real dates.
_START_YEARS = (1900, 2200)

_DATE_HINT = "write dates as YYYY-MM-DD, e.g. 2027-12-24 (quoted or not)"
_HOURS_HINT = ("write HH:MM-HH:MM on the 24-hour clock, e.g. 09:00-17:30 or [09:00-12:30, 13:30-17:30]; "
               "a night shift is two intervals, 22:00-24:00 and 00:00-06:00 the next day")
_DAYS_HINT = "name days as mon-fri, sat or mon,wed,fri (a range may wrap round the week: fri-mon)"
_START_HINT = ("write a local date and time, '2027-01-04 09:00' (in the journey calendar's time zone), or ISO 8601 "
               "with an offset, '2027-01-04T09:00+01:00'")
_STEP_HINT = ("a step's duration is elapsed time (30min, 2h, 3d) or working hours (4wh: the work pauses while the "
              "owner's calendar is closed); business days (2bd) are for flow delays and targets. A distribution is "
              "{exponential: 2h}, {triangular: [1h, 2h, 5h]}, {uniform: [1h, 3h]}, {lognormal: {mean: 2h, sd: 1h}}, "
              "{gamma: {mean: 2h, sd: 1h}}, {weibull: {shape: 1.5, scale: 2h}} or {empirical: [10min, 1h, 3h]}")
_DELAY_HINT = ("a delay is elapsed time (3d), working hours (4wh) or business days (2bd) of the receiving side's "
               "calendar, or a distribution such as {exponential: 2bd}; all its durations in one kind of time")


# --------------------------------------------------------------------------- values


def parse_date(value: Any) -> date:
    """A holiday as a :class:`date`: ``'2027-12-24'`` (a date object from another YAML loader too).

    Strictly ``YYYY-MM-DD``: Python's own ISO parser also reads ``20271224`` and week dates, which a
    designer never means to write.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{excerpt(value)} is not a date")


def parse_start(value: Any, timezone: str) -> datetime:
    """The simulation start: an ISO date and time, local to ``timezone`` unless it carries an offset."""
    text = value.strip() if isinstance(value, str) else ""
    moment = None
    if _START_RE.match(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
    if moment is None:
        raise ValueError(f"the start {excerpt(value)} is not a date and time")
    if not _START_YEARS[0] <= moment.year <= _START_YEARS[1]:
        raise ValueError(f"the start {excerpt(value)} is outside the years {_START_YEARS[0]}-{_START_YEARS[1]}")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(timezone))


@cache
def _zone_names() -> tuple[str, ...]:
    """Every IANA name the time-zone database knows (for "did you mean"), read once."""
    return tuple(sorted(available_timezones()))


def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        return False
    return True


def _name_ok(ctx: Context, path: Path, name: Any, kind: str) -> bool:
    """A calendar's or a holiday list's name is an id (it is named by other keys); reported at the key."""
    if isinstance(name, str) and _ID_RE.match(name) and len(name) <= 100:
        return True
    ctx.error(path, "invalid-id", f"{excerpt(name)} is not a valid {kind} name",
              "names start with a letter, then letters, digits, '_', '-' or '.': e.g. frankfurt-office", key=True)
    return False


# --------------------------------------------------------------------------- holidays


def holiday_lists(ctx: Context, raw: Any) -> None:
    """``holidays:``: named lists of dates, written out or read from a file in the project."""
    for name, value in mapping_or_empty(raw).items():
        path = ("holidays", name)
        if not _name_ok(ctx, path, name, "holiday list"):
            continue
        ctx.draft.holiday_names.add(name)
        if isinstance(value, list):
            dates = _dates(ctx, path, value, f"list {name!r}")
        elif isinstance(value, dict) and isinstance(value.get("file"), str):
            dates = _holiday_file(ctx, path + ("file",), value["file"])
        else:
            dates = None  # a wrong type: reported by the structure pass
        if dates is not None:
            ctx.draft.holiday_lists[name] = dates


def _dates(ctx: Context, path: Path, items: list, where: str) -> frozenset[date] | None:
    """The dates of a written list; None when one is not a date (reported)."""
    dates: set[date] = set()
    ok = True
    for i, item in enumerate(items):
        if item is None:
            ok = False  # a wrong type, removed by the structure pass
            continue
        try:
            dates.add(parse_date(item))
        except ValueError as exc:
            ctx.error(path + (i,), "invalid-date", f"holiday {exc} (in {where})", _DATE_HINT)
            ok = False
    return frozenset(dates) if ok else None


def _holiday_file(ctx: Context, where: Path, ref: str) -> frozenset[date] | None:
    """The dates of a holiday file: a YAML list of dates, inside the folder of the file that names it."""
    try:
        target = resolve_reference(ref, ctx.loc.file_of(where))
    except ReferenceOutside as exc:
        ctx.error(where, "outside-project", f"a holiday file must be in this folder: {exc}",
                  "keep holiday files next to the journey or in a folder below it, e.g. holidays/uk-2027.yaml")
        return None
    try:
        text = read_text(target)
    except (OSError, UnicodeDecodeError) as exc:
        reason = ("it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError)
                  else exc.strerror or str(exc).replace(target, "it"))
        ctx.error(where, "unknown-reference", f"cannot read the holiday file {excerpt(ref)}: {cut(reason, 120)}",
                  "give its path relative to this file; it holds a YAML list of dates")
        return None
    loc, problems = load_yaml(text, target)
    ctx.problems.extend(problems)
    if loc is None:
        return None
    if not isinstance(loc.data, list):
        ctx.problems.append(loc.problem((), "wrong-type", f"the holiday file {excerpt(ref)} must hold a list of dates",
                                        "write one date per line: - 2027-12-25"))
        return None
    dates: set[date] = set()
    ok = not any(p.is_error for p in problems)
    for i, item in enumerate(loc.data):
        try:
            dates.add(parse_date(item))
        except ValueError as exc:
            ctx.problems.append(loc.problem((i,), "invalid-date", f"holiday {exc}", _DATE_HINT))
            ok = False
    return frozenset(dates) if ok else None


# --------------------------------------------------------------------------- calendars


def calendars(ctx: Context, raw: Any) -> None:
    """``calendars:``: named weekly hours in a time zone, minus holidays."""
    for name, value in mapping_or_empty(raw).items():
        path = ("calendars", name)
        if not _name_ok(ctx, path, name, "calendar"):
            continue
        ctx.draft.calendar_names.add(name)
        if not isinstance(value, dict):
            continue
        zone = _timezone(ctx, path + ("timezone",), value.get("timezone"))
        hours = _weekly_hours(ctx, path + ("hours",), value.get("hours"), name)
        holidays = _calendar_holidays(ctx, path + ("holidays",), list_or_empty(value.get("holidays")))
        if zone is not None and hours is not None and holidays is not None:
            ctx.draft.calendars[name] = Calendar(zone, hours, holidays)


def _timezone(ctx: Context, path: Path, name: Any) -> str | None:
    """An IANA time zone name :mod:`zoneinfo` knows; None (reported) otherwise."""
    if not isinstance(name, str):
        return None  # missing or of the wrong type: reported by the structure pass
    if _zone_ok(name):
        return name
    names = _zone_names()
    close = None if len(name) > 100 else next((n for n in names if n.lower() == name.lower()), None) or \
        next(iter(difflib.get_close_matches(name, names, n=1, cutoff=0.8)), None)  # a typo, not another city
    hint = ("use an IANA name such as Europe/Berlin, Asia/Singapore, America/New_York or UTC"
            + ("" if names else "; no time zone is known at all: install the tzdata package"))
    ctx.error(path, "unknown-timezone",
              f"unknown time zone {excerpt(name)}" + (f" (did you mean {close!r}?)" if close else ""), hint)
    return None


def _intervals(path: Path, value: Any) -> list[tuple[Path, str]]:
    """The intervals written for some days: one string, or a list of them (each with its path)."""
    if isinstance(value, str):
        return [(path, value)]
    return [(path + (j,), v) for j, v in enumerate(list_or_empty(value)) if isinstance(v, str)]


def _interval(ctx: Context, path: Path, text: str) -> Interval | None:
    try:
        return parse_hours(text)
    except ValueError as exc:
        ctx.error(path, "invalid-hours", cut(str(exc), 200), _HOURS_HINT)
        return None


#: The longest days text read (``monday,tuesday,...,sunday`` is 56): a longer one is a mistake, and
#: parse_days checks repeated days in quadratic time.
_MAX_DAYS_TEXT = 100


def _days(ctx: Context, path: Path, text: Any, *, key: bool) -> tuple[int, ...] | None:
    if isinstance(text, str) and len(text) > _MAX_DAYS_TEXT:
        ctx.error(path, "invalid-hours", f"days {excerpt(text)} are {len(text):,} characters long", _DAYS_HINT,
                  key=key)
        return None
    try:
        return parse_days(text)
    except ValueError as exc:
        ctx.error(path, "invalid-hours", cut(str(exc), 200), _DAYS_HINT, key=key)
        return None


def _weekly_hours(ctx: Context, path: Path, hours: Any, name: str) -> WeeklyHours | None:
    """A calendar's ``hours:`` mapping (days -> intervals); None (reported) when it cannot be read or overlaps."""
    if not isinstance(hours, dict):
        return None
    rules: list[tuple[tuple[int, ...], Interval, Path]] = []
    ok = True
    for key, value in hours.items():
        days = _days(ctx, path + (key,), key, key=True)
        ok = ok and days is not None
        for where, text in _intervals(path + (key,), value):
            interval = _interval(ctx, where, text)
            ok = ok and interval is not None
            if days is not None and interval is not None:
                rules.append((days, interval, where))
    if not ok or not _no_overlaps(ctx, rules):
        return None
    week = WeeklyHours.from_rules([(days, [interval]) for days, interval, _ in rules])
    if not week.weekly_minutes and not _written_under(ctx, path):  # else: a wrong value, already reported
        ctx.error(path, "never-open", f"calendar {name!r} has no opening hours: a case there could never finish",
                  "give it hours, e.g. hours: {mon-fri: 09:00-17:00}", key=True)
        return None
    return week


def _written_under(ctx: Context, path: Path) -> bool:
    """Whether the file wrote any key under the mapping at ``path`` (the structure pass may have removed it)."""
    n = len(path) + 1
    return any(len(k) == n and k[:-1] == path for k in ctx.loc.keys)


def _no_overlaps(ctx: Context, rules: list[tuple[tuple[int, ...], Interval, Path]]) -> bool:
    """Intervals of one weekday may touch but not overlap; each overlapping pair reported once, at the later one."""
    said: set[tuple[Path, Path]] = set()
    for day in range(7):
        today = sorted(((interval, where) for days, interval, where in rules if day in days),
                       key=lambda x: x[0])
        for (before, first), (after, second) in zip(today, today[1:], strict=False):
            if after[0] >= before[1] or (first, second) in said:
                continue
            said.add((first, second))
            later, other, other_iv = ((second, first, before) if ctx.loc.where(second) >= ctx.loc.where(first)
                                      else (first, second, after))
            ctx.error(later, "invalid-hours",
                      f"opening hours overlap: {_span(before)} and {_span(after)} on {_DAY_WORDS[day]} "
                      f"({_span(other_iv)} is on line {ctx.loc.where(other)[0]})",
                      "the intervals of a day may touch but not overlap: merge them into one, or end the first "
                      "before the second begins")
    return not said


_DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _span(interval: Interval) -> str:
    return f"{format_clock(interval[0])}-{format_clock(interval[1])}"


def _calendar_holidays(ctx: Context, path: Path, items: list) -> frozenset[date] | None:
    """A calendar's ``holidays:``: names of lists and/or dates; None (reported) when one names nothing."""
    dates: set[date] = set()
    ok = True
    for i, item in enumerate(items):
        if not isinstance(item, str):
            ok = False  # a wrong type, removed by the structure pass
        elif item[:1].isdigit():  # names start with a letter: this is meant as a date
            try:
                dates.add(parse_date(item))
            except ValueError as exc:
                ctx.error(path + (i,), "invalid-date", f"holiday {exc}", _DATE_HINT)
                ok = False
        elif item in ctx.draft.holiday_lists:
            dates |= ctx.draft.holiday_lists[item]
        elif item in ctx.draft.holiday_names:
            ok = False  # the list itself has an error, reported there
        else:
            names = ctx.draft.holiday_names
            ctx.error(path + (i,), "unknown-reference",
                      f"holiday list {excerpt(item)} is not declared{did_you_mean(item, names)}",
                      f"declared lists: {', '.join(sorted(names)) or 'none'}; declare it under the top-level "
                      "'holidays:' (de-2027: [2027-01-01, 2027-12-25]), or write a date YYYY-MM-DD")
            ok = False
    return frozenset(dates) if ok else None


def _calendar_named(ctx: Context, path: Path, name: Any) -> Calendar | None:
    """The calendar a ``calendar:`` key names; None when absent, unknown (reported) or itself in error."""
    if not isinstance(name, str):
        return None
    found = ctx.draft.calendars.get(name)
    if found is None and name not in ctx.draft.calendar_names:
        names = ctx.draft.calendar_names
        ctx.error(path, "unknown-reference", f"calendar {excerpt(name)} is not declared{did_you_mean(name, names)}",
                  f"declared calendars: {', '.join(sorted(names)) or 'none'}; add it under 'calendars:'")
    return found


def journey_calendar(ctx: Context, raw: Any) -> None:
    """``calendar:``: the journey's calendar (departments without one, targets)."""
    ctx.draft.calendar = _calendar_named(ctx, ("calendar",), raw)


def persona_calendar(ctx: Context, raw: Any) -> None:
    """``persona: {calendar: ...}``: when the customer works."""
    calendar = _calendar_named(ctx, ("persona", "calendar"), mapping_or_empty(raw).get("calendar"))
    ctx.draft.persona = replace(ctx.draft.persona, calendar=calendar)


# --------------------------------------------------------------------------- departments: calendar and shifts


def department_hours(ctx: Context, raw: Any) -> None:
    """``departments: [{calendar, shifts}]``: each department's calendar and shift pattern."""
    items = list_or_empty(raw)
    built = {d.id: k for k, d in enumerate(ctx.draft.departments)}
    for i, d in enumerate(items):
        if not isinstance(d, dict) or not isinstance(d.get("id"), str) or d["id"] == CUSTOMER:
            continue
        if ctx.draft.dept_ids.get(d["id"]) != i or d["id"] not in built:
            continue  # a duplicate: reported by the departments section
        p = ("departments", i)
        calendar = _calendar_named(ctx, p + ("calendar",), d.get("calendar"))
        shifts = _shift_pattern(ctx, p, d, calendar or ctx.draft.calendar)
        k = built[d["id"]]
        dept = ctx.draft.departments[k]
        ctx.draft.departments[k] = replace(dept, calendar=calendar, shifts=shifts,
                                           capacity=shifts.max_people if shifts else dept.capacity)


def _shift_pattern(ctx: Context, p: Path, d: dict, calendar: Calendar | None) -> CapacitySchedule | None:
    """A department's ``shifts:`` as a :class:`CapacitySchedule` in its calendar's time zone and holidays."""
    if not isinstance(d.get("shifts"), list):
        return None
    if "capacity" in d:
        ctx.error(p + ("capacity",), "invalid-capacity",
                  f"department {d['id']!r} has both a capacity and shifts",
                  "with shifts, the capacity is the most people present at once: remove 'capacity'", key=True)
    shifts = _shifts(ctx, p + ("shifts",), d["shifts"])
    if shifts is None:
        return None
    zone, holidays = (calendar.timezone, calendar.holidays) if calendar else ("UTC", frozenset[date]())
    if not any(s.people for s in shifts):
        ctx.error(p + ("shifts",), "never-open", f"department {d['id']!r} is never open: no shift has anyone in it",
                  "give a shift 1 person or more", key=True)
        return None
    schedule = CapacitySchedule(zone, tuple(shifts), holidays)
    if schedule.max_people > MAX_CAPACITY:
        ctx.error(p + ("shifts",), "invalid-capacity",
                  f"department {d['id']!r} has {schedule.max_people:,} people present at once; the limit is "
                  f"{MAX_CAPACITY:,}", "shifts that overlap add up: check the people of each shift", key=True)
        return None
    return schedule


def _shifts(ctx: Context, path: Path, items: list) -> list[Shift] | None:
    """The shifts of a ``shifts:`` list; None when one of them cannot be read (reported)."""
    shifts: list[Shift] = []
    ok = True
    for j, s in enumerate(items):
        people = s.get("people") if isinstance(s, dict) else None
        if not isinstance(s, dict) or not isinstance(people, int) or people < 0 or not isinstance(s.get("days"), str):
            ok = False  # missing keys, wrong types and negative people: reported by the structure pass
            continue
        days = _days(ctx, path + (j, "days"), s["days"], key=False)
        spans = [_interval(ctx, where, text) for where, text in _intervals(path + (j, "hours"), s.get("hours"))]
        if days is None or not spans or None in spans:
            ok = False
            continue
        shifts.extend(Shift(days, span[0], span[1], people) for span in spans if span is not None)
    return shifts if ok else None


# --------------------------------------------------------------------------- steps, flows, the start


def step_duration(ctx: Context, s: dict, p: Path) -> tuple[Distribution, Basis] | None:
    """A step's ``duration:`` and its basis: elapsed or working hours (a ``must_finish`` step: elapsed only)."""
    if "duration" not in s:
        return None
    timed = ctx.dist(s["duration"], p + ("duration",), STEP_BASES, _STEP_HINT)
    if timed is not None and timed[1] == "working" and s.get("must_finish") is True:
        ctx.error(p + ("duration",), "invalid-duration",
                  f"step {s['id']!r} must finish once started, so its duration runs on the clock; "
                  f"{excerpt(s['duration'])} is in working hours",
                  "write it in elapsed time (4h), or remove must_finish to let the work pause at closing time")
        return None
    return timed


def flow_delay(ctx: Context, flow: dict, path: Path) -> tuple[Distribution | None, Basis]:
    """A flow's ``delay:`` and its basis (elapsed, working hours or business days); (None, elapsed) when none."""
    if "delay" not in flow:
        return None, "elapsed"
    timed = ctx.dist(flow["delay"], path, BASES, _DELAY_HINT)
    return (timed[0], timed[1]) if timed is not None else (None, "elapsed")


def home_timezone(ctx: Context) -> str:
    """The journey's time zone: its calendar's, else the first department's (file order) with a calendar or
    shifts, else the persona's calendar's, else UTC. A local start time is read in it."""
    d = ctx.draft
    if d.calendar is not None:
        return d.calendar.timezone
    for dept in d.departments:
        if dept.shifts is not None:
            return dept.shifts.timezone
        if dept.calendar is not None:
            return dept.calendar.timezone
    return d.persona.calendar.timezone if d.persona.calendar is not None else "UTC"


def workload_start(ctx: Context, raw: Any) -> None:
    """``workload: {start: ...}``: the simulation's minute 0, an aware datetime."""
    value = mapping_or_empty(raw).get("start")
    if not isinstance(value, str):
        return
    try:
        start = parse_start(value, home_timezone(ctx))
    except ValueError as exc:
        ctx.error(("workload", "start"), "invalid-date", str(exc), _START_HINT)
        return
    ctx.draft.workload = replace(ctx.draft.workload, start=start)
