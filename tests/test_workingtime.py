"""Tests for journeymap.workingtime: exact, hand-computed answers (no tolerance), then properties.

Most tests start the simulation on Monday 2027-01-04 09:00 in Europe/Berlin (winter, UTC+1), so a
wall-clock time on day ``d`` of that week at ``hh:mm`` is minute ``d * DAY + (hh - 9) * HOUR + mm``.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeymap.workingtime import (
    ALWAYS_OPEN,
    LOOKAHEAD_DAYS,
    Calendar,
    CapacitySchedule,
    NeverOpen,
    Shift,
    Timeline,
    WeeklyHours,
    format_clock,
    next_monday_0900,
    parse_days,
    parse_hours,
)

HOUR = 60
DAY = 24 * HOUR
BERLIN = ZoneInfo("Europe/Berlin")
SINGAPORE = ZoneInfo("Asia/Singapore")
MON_0900 = datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN)  # the simulation start (minute 0)
WEEKDAYS = parse_days("mon-fri")
NINE_TO_FIVE = WeeklyHours.every(WEEKDAYS, parse_hours("09:00-17:00"))


def office(*, holidays: frozenset[date] = frozenset(), timezone_name: str = "Europe/Berlin") -> Timeline:
    """A 09:00-17:00 Monday-Friday department from MON_0900."""
    return Timeline(Calendar(timezone_name, NINE_TO_FIVE, holidays), MON_0900)


def clock(tl: Timeline, t: float) -> str:
    """A simulation minute as local 'YYYY-MM-DD HH:MM' (readable failures)."""
    return tl.to_datetime(t).strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-12:30", (540, 750)),  # the morning
        ("13:30-17:30", (810, 1050)),  # and afternoon
        ("00:00-24:00", (0, 1440)),  # a whole day: 24:00 ends it
        ("9:00 - 17:00", (540, 1020)),  # one-digit hour and spaces
        ("22:00\u201324:00", (1320, 1440)),  # an en dash, as word processors write it
    ],
)
def test_parse_hours(text, expected):
    assert parse_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-17", "must look like 09:00-17:30"),  # no minutes
        ("17:00-09:00", "may not cross midnight"),  # inverted (a night shift is two intervals)
        ("09:00-09:00", "end before they start"),  # empty
        ("24:00-24:00", "00:00 to 23:59"),  # 24:00 can only end a day
        ("09:00-24:30", "not a time of day"),  # past midnight
        ("09:60-17:00", "not a time of day"),  # minute 60
    ],
)
def test_parse_hours_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),  # the working week
        ("sat", (5,)),  # one day
        ("mon,wed,fri", (0, 2, 4)),  # a list
        ("Monday-Wednesday, sun", (0, 1, 2, 6)),  # full names, any case, range and day
        ("fri-mon", (0, 4, 5, 6)),  # a range round the weekend
        ("mon-sun", (0, 1, 2, 3, 4, 5, 6)),  # every day
    ],
)
def test_parse_days(text, expected):
    assert parse_days(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon-fry", "unknown day 'fry'"),  # a typo names the bad day and the good ones
        ("mon-fri,wed", "list wed more than once"),  # double-booked
        ("mon-wed-fri", "not a day or a range"),
        ("", "must be day names"),
    ],
)
def test_parse_days_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_days(text)


def test_format_clock():
    assert [format_clock(m) for m in (0, 540, 750, 1440)] == ["00:00", "09:00", "12:30", "24:00"]


# --------------------------------------------------------------------------- the model refuses nonsense


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (((540, 750), (700, 1020)), "overlap or are out of order at 11:40-17:00"),  # overlapping
        (((810, 1050), (540, 750)), "overlap or are out of order"),  # unsorted
        (((1020, 540),), "0 <= start < end"),  # inverted
        (((1320, 1800),), "may not cross midnight"),  # past midnight
        (((540.5, 600),), "pair of whole minutes"),  # not whole minutes
    ],
)
def test_weekly_hours_refuses(days, message):
    with pytest.raises(ValueError, match=message):
        WeeklyHours((days, (), (), (), (), (), ()))


def test_weekly_hours_from_rules_combines_days():
    hours = WeeklyHours.from_rules([(WEEKDAYS, [(810, 1050), (540, 750)]), (parse_days("sat"), [(600, 840)])])
    assert hours.days[0] == ((540, 750), (810, 1050))
    assert hours.days[5] == ((600, 840),)
    assert hours.days[6] == ()
    assert hours.weekly_minutes == 5 * 450 + 240
    with pytest.raises(ValueError, match="overlap"):
        WeeklyHours.from_rules([(WEEKDAYS, [(540, 1020)]), (parse_days("mon"), [(600, 660)])])
    with pytest.raises(ValueError, match="weekday 7"):
        WeeklyHours.every([7], (540, 1020))


def test_calendar_refuses_unknown_zone_and_non_dates():
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Berln'"):
        Calendar("Europe/Berln", NINE_TO_FIVE)
    with pytest.raises(ValueError, match="unknown time zone '/etc/passwd'"):
        Calendar("/etc/passwd", NINE_TO_FIVE)
    with pytest.raises(ValueError, match="not a date"):
        Calendar("Europe/Berlin", NINE_TO_FIVE, frozenset({"2027-01-01"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a date"):
        Calendar("Europe/Berlin", NINE_TO_FIVE, frozenset({datetime(2027, 1, 1)}))


def test_calendar_keeps_holidays_as_frozenset():
    calendar = Calendar("Europe/Berlin", NINE_TO_FIVE, [date(2027, 1, 1)])  # type: ignore[arg-type]
    assert calendar.holidays == frozenset({date(2027, 1, 1)})
    assert calendar == Calendar("Europe/Berlin", NINE_TO_FIVE, frozenset({date(2027, 1, 1)}))


def test_timeline_needs_an_aware_start():
    with pytest.raises(ValueError, match="needs a time zone"):
        Timeline(Calendar("Europe/Berlin", NINE_TO_FIVE), datetime(2027, 1, 4, 9))
    with pytest.raises(ValueError, match="needs a time zone"):
        Timeline(ALWAYS_OPEN, datetime(2027, 1, 4, 9))


# --------------------------------------------------------------------------- the exact answers


def test_four_working_hours_from_friday_1500_end_monday_1100():
    tl = office()
    friday_1500 = 4 * DAY + 6 * HOUR
    monday_1100 = 7 * DAY + 2 * HOUR  # 2 h on Friday, 2 h on Monday
    assert tl.add_working(friday_1500, 4 * HOUR) == monday_1100
    assert clock(tl, monday_1100) == "2027-01-11 11:00"


def test_a_holiday_on_that_monday_moves_it_to_tuesday():
    tl = office(holidays=frozenset({date(2027, 1, 11)}))
    assert tl.add_working(4 * DAY + 6 * HOUR, 4 * HOUR) == 8 * DAY + 2 * HOUR
    assert clock(tl, 8 * DAY + 2 * HOUR) == "2027-01-12 11:00"


def test_a_lunch_break_is_skipped():
    hours = WeeklyHours.every(WEEKDAYS, parse_hours("09:00-12:30"), parse_hours("13:30-17:30"))
    tl = Timeline(Calendar("Europe/Berlin", hours), MON_0900)
    monday_1100 = 2 * HOUR
    monday_1400 = 5 * HOUR  # 11:00-12:30 is 1.5 h, then 13:30-14:00
    assert tl.add_working(monday_1100, 2 * HOUR) == monday_1400
    assert tl.is_open(3 * HOUR + 45) is False  # 12:45
    assert tl.next_open(3 * HOUR + 45) == 4 * HOUR + 30  # 13:30
    assert tl.next_close(2 * HOUR) == 3 * HOUR + 30  # 12:30
    assert tl.open_minutes(0, DAY) == 3 * HOUR + 30 + 4 * HOUR  # Monday 09:00-12:30 and 13:30-17:30: 7.5 h


def test_work_ending_at_closing_time_ends_then():
    tl = office()
    assert tl.add_working(4 * DAY + 6 * HOUR, 2 * HOUR) == 4 * DAY + 8 * HOUR  # Friday 17:00, not Monday 09:00


def test_zero_minutes_at_a_closed_instant_take_no_time():
    tl = office()
    saturday_1000 = 5 * DAY + 1 * HOUR
    assert tl.add_working(saturday_1000, 0) == saturday_1000
    assert tl.add_working(saturday_1000, 1) == 7 * DAY + 1  # any work at all waits for Monday 09:00


def test_friday_1600_plus_two_business_days_is_tuesday_1600():
    tl = office()
    friday_1600 = 4 * DAY + 7 * HOUR
    tuesday_1600 = 8 * DAY + 7 * HOUR
    assert tl.add_business_days(friday_1600, 2) == tuesday_1600
    assert clock(tl, tuesday_1600) == "2027-01-12 16:00"


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (4 * DAY + 11 * HOUR, 1, 7 * DAY + 11 * HOUR),  # Friday 20:00 (after hours) + 1 = Monday 20:00
        (5 * DAY + 1 * HOUR, 1, 8 * DAY - 9 * HOUR),  # Saturday 10:00 + 1 = end of Monday (Tuesday 00:00)
        (4 * DAY + 7 * HOUR, 0.5, 7 * DAY - 5 * HOUR),  # Friday 16:00 + 0.5 = Monday 04:00 (12 clock hours)
        (4 * DAY + 7 * HOUR, 1.25, 7 * DAY + 13 * HOUR),  # Friday 16:00 + 1.25 = Monday 22:00 (6 clock hours more)
        (4 * DAY + 7 * HOUR, 0, 4 * DAY + 7 * HOUR),  # no delay is no delay
    ],
)
def test_business_days_edges(start, days, expected):
    tl = office()
    assert tl.add_business_days(start, days) == expected


def test_business_days_skip_a_holiday():
    tl = office(holidays=frozenset({date(2027, 1, 11)}))  # Monday
    assert tl.add_business_days(4 * DAY + 7 * HOUR, 2) == 9 * DAY + 7 * HOUR  # Friday 16:00 -> Wednesday 16:00


def test_time_zone_gap_singapore_and_frankfurt():
    # Minute 0 is Monday 09:00 CET = 08:00 UTC = 16:00 SGT. Singapore's 09:00-18:00 SGT is
    # 02:00-11:00 CET, so the two offices overlap 09:00-11:00 CET: two hours a day.
    singapore = Timeline(Calendar("Asia/Singapore", WeeklyHours.every(WEEKDAYS, parse_hours("09:00-18:00"))), MON_0900)
    assert singapore.is_open(0)
    assert singapore.next_close(0) == 2 * HOUR  # 18:00 SGT = 11:00 CET
    for day in range(5):  # each Frankfurt day, 09:00-17:00 CET
        assert singapore.open_minutes(day * DAY, day * DAY + 8 * HOUR) == 2 * HOUR
    assert singapore.open_minutes(0, 5 * DAY) == 5 * 9 * HOUR - 7 * HOUR  # Monday before 09:00 CET is not counted

    # A case handed over from Frankfurt on Friday 15:00 CET waits for Monday 09:00 SGT = 02:00 CET.
    friday_1500 = 4 * DAY + 6 * HOUR
    monday_0200 = 7 * DAY - 7 * HOUR
    assert singapore.next_open(friday_1500) == monday_0200
    assert singapore.to_datetime(monday_0200) == datetime(2027, 1, 11, 9, 0, tzinfo=SINGAPORE)
    assert office().to_datetime(monday_0200) == datetime(2027, 1, 11, 2, 0, tzinfo=BERLIN)


def test_dst_spring_keeps_eight_hour_days_and_the_offset_moves_an_hour():
    # Europe/Berlin goes from UTC+1 to UTC+2 at 02:00 on Sunday 2027-03-28 (the last Sunday of March).
    hours = WeeklyHours.every(range(7), parse_hours("09:00-17:00"))
    tl = Timeline(Calendar("Europe/Berlin", hours), datetime(2027, 3, 27, 9, 0, tzinfo=BERLIN))  # Saturday
    sunday_0900 = 23 * HOUR  # the night is an hour short
    monday_0900 = sunday_0900 + DAY
    assert tl.next_open(8 * HOUR) == sunday_0900
    assert tl.next_close(sunday_0900) == sunday_0900 + 8 * HOUR
    assert tl.next_close(monday_0900) == monday_0900 + 8 * HOUR
    assert tl.open_minutes(0, monday_0900 + 8 * HOUR) == 3 * 8 * HOUR
    assert tl.add_working(7 * HOUR, 2 * HOUR) == sunday_0900 + 1 * HOUR  # Saturday 16:00 + 2 wh = Sunday 10:00
    assert tl.to_datetime(0).utcoffset() == timedelta(hours=1)
    assert tl.to_datetime(sunday_0900).utcoffset() == timedelta(hours=2)
    assert clock(tl, sunday_0900) == "2027-03-28 09:00"
    assert tl.add_business_days(7 * HOUR, 1) == sunday_0900 + 7 * HOUR  # same clock time, 23 h later


def test_dst_autumn_keeps_eight_hour_days():
    # Back from UTC+2 to UTC+1 at 03:00 on Sunday 2027-10-31: that night is an hour long.
    hours = WeeklyHours.every(range(7), parse_hours("09:00-17:00"))
    tl = Timeline(Calendar("Europe/Berlin", hours), datetime(2027, 10, 30, 9, 0, tzinfo=BERLIN))  # Saturday
    sunday_0900 = 25 * HOUR
    assert tl.next_open(8 * HOUR) == sunday_0900
    assert tl.next_close(sunday_0900) == sunday_0900 + 8 * HOUR
    assert tl.to_datetime(sunday_0900).utcoffset() == timedelta(hours=1)


def test_clock_change_inside_opening_hours_uses_fold_0():
    # 02:30-04:00 every day. On the spring night 02:30 does not exist: fold=0 reads it with the
    # winter offset, i.e. 03:30 summer time, so that day has 30 open minutes. On the autumn night
    # 02:30 happens twice: fold=0 is the first (summer time), so that day has 150 open minutes.
    hours = WeeklyHours.every(range(7), parse_hours("02:30-04:00"))
    spring = Timeline(Calendar("Europe/Berlin", hours), datetime(2027, 3, 28, 0, 0, tzinfo=BERLIN))
    assert spring.next_open(0) == 2 * HOUR + 30  # 01:30 UTC, minute 0 being 23:00 UTC
    assert spring.next_close(0) == 3 * HOUR
    autumn = Timeline(Calendar("Europe/Berlin", hours), datetime(2027, 10, 31, 0, 0, tzinfo=BERLIN))
    assert autumn.next_open(0) == 2 * HOUR + 30  # 00:30 UTC, minute 0 being 22:00 UTC
    assert autumn.next_close(0) == 5 * HOUR  # 04:00 winter time = 03:00 UTC


def test_shift_pattern_slots():
    # 3 people Monday-Friday 09:00-17:00, 1 person Saturday 10:00-14:00.
    schedule = CapacitySchedule(
        "Europe/Berlin",
        (Shift(WEEKDAYS, 540, 1020, 3), Shift(parse_days("sat"), *parse_hours("10:00-14:00"), 1)),
    )
    assert schedule.max_people == 3
    assert schedule.people(5, 11 * HOUR) == 1
    slots = [Timeline(calendar, MON_0900) for calendar in schedule.slot_calendars()]
    assert len(slots) == 3
    saturday_1100 = 5 * DAY + 2 * HOUR
    assert [slot.is_open(saturday_1100) for slot in slots] == [True, False, False]
    assert slots[0].next_close(saturday_1100) == 5 * DAY + 5 * HOUR  # Saturday 14:00
    assert slots[1].next_open(saturday_1100) == 7 * DAY  # Monday 09:00
    assert [slot.is_open(4 * DAY) for slot in slots] == [True, True, True]  # Friday 09:00
    # A case held by person 1 on Friday 16:00 with 2 h to go: it waits for them on Monday.
    assert slots[1].add_working(4 * DAY + 7 * HOUR, 2 * HOUR) == 7 * DAY + 1 * HOUR
    assert slots[0].add_working(4 * DAY + 7 * HOUR, 2 * HOUR) == 5 * DAY + 2 * HOUR  # person 0 works Saturday


def test_overlapping_shifts_add_up():
    schedule = CapacitySchedule("Europe/Berlin", (Shift((0,), 360, 840, 2), Shift((0,), 720, 1200, 3)))
    assert [schedule.people(0, m) for m in (400, 750, 900)] == [2, 5, 3]
    assert schedule.slot_calendars()[2].hours.days[0] == ((720, 1200),)
    assert schedule.slot_calendars()[4].hours.days[0] == ((720, 840),)
    assert schedule.slot_calendars()[0].hours.days[0] == ((360, 1200),)


def test_shifts_refuse_nonsense():
    with pytest.raises(ValueError, match="0 or more"):
        Shift(WEEKDAYS, 540, 1020, -1)
    with pytest.raises(ValueError, match="more than once"):
        Shift((0, 0), 540, 1020, 1)
    with pytest.raises(ValueError, match="nobody is ever present"):
        CapacitySchedule("Europe/Berlin", (Shift(WEEKDAYS, 540, 1020, 0),))


def test_a_night_shift_over_midnight_is_one_open_stretch():
    hours = WeeklyHours.from_rules([((0,), [(1320, 1440)]), ((1,), [(0, 360)])])
    tl = Timeline(Calendar("Europe/Berlin", hours), MON_0900)
    monday_2300 = 14 * HOUR
    assert tl.next_close(monday_2300) == 21 * HOUR  # Tuesday 06:00
    assert tl.add_working(monday_2300, 3 * HOUR) == 17 * HOUR


def test_never_open_calendars_raise():
    closed = WeeklyHours(((),) * 7)
    with pytest.raises(NeverOpen, match="never open"):
        Timeline(Calendar("Europe/Berlin", closed), MON_0900)
    every_day = frozenset(date(2027, 1, 1) + timedelta(days=n) for n in range(3 * 366))
    with pytest.raises(ValueError, match="never open"):
        Timeline(Calendar("Europe/Berlin", NINE_TO_FIVE, every_day), MON_0900)


def test_closed_for_less_than_the_lookahead_is_waited_for():
    # Closed for a year and a half, then open: a long wait, not an error.
    closed_until = date(2028, 7, 3)  # a Monday
    holidays = frozenset(date(2027, 1, 1) + timedelta(days=n) for n in range((closed_until - date(2027, 1, 1)).days))
    assert (closed_until - date(2027, 1, 4)).days < LOOKAHEAD_DAYS
    tl = office(holidays=holidays)
    assert tl.to_datetime(tl.next_open(0)) == datetime(2028, 7, 3, 9, 0, tzinfo=BERLIN)


def test_open_minutes_over_a_week():
    tl = office()
    assert tl.open_minutes(0, 7 * DAY) == 5 * 8 * HOUR
    assert tl.open_minutes(7 * DAY, 0) == -5 * 8 * HOUR


def test_a_calendar_open_around_the_clock_never_closes():
    tl = Timeline(Calendar("Europe/Berlin", WeeklyHours.every(range(7), (0, 1440))), MON_0900)
    assert tl.next_close(0) == math.inf
    assert tl.add_working(0, 10 * DAY) == 10 * DAY


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2027, 1, 4, 8, 59, tzinfo=BERLIN), datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN)),  # Monday morning
        (datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN), datetime(2027, 1, 11, 9, 0, tzinfo=BERLIN)),  # strictly after
        (datetime(2027, 1, 10, 23, 0, tzinfo=BERLIN), datetime(2027, 1, 11, 9, 0, tzinfo=BERLIN)),  # Sunday night
        (datetime(2027, 1, 3, 23, 30, tzinfo=UTC), datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN)),  # other zone
    ],
)
def test_next_monday_0900(now, expected):
    start = next_monday_0900("Europe/Berlin", now)
    assert start == expected
    assert start.tzinfo == BERLIN


# --------------------------------------------------------------------------- ALWAYS_OPEN


def test_always_open_is_identity():
    tl = Timeline(ALWAYS_OPEN, MON_0900)
    assert type(tl) is not Timeline and isinstance(tl, Timeline)  # the cheap subclass
    assert tl.is_open(123.5)
    assert tl.next_open(123.5) == 123.5
    assert tl.next_close(123.5) == math.inf
    assert tl.add_working(123.5, 10_000) == 10_123.5
    assert tl.open_minutes(1.0, 101.0) == 100.0
    assert tl.add_business_days(123.5, 2) == 123.5 + 2 * DAY
    assert tl.to_datetime(60) == datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # 10:00 CET
    with pytest.raises(ValueError, match=">= 0"):
        tl.add_working(0, -1)


# --------------------------------------------------------------------------- properties

#: Berlin office hours with a lunch break, a Saturday morning and holidays: every kind of gap.
_BUSY = Timeline(
    Calendar(
        "Europe/Berlin",
        WeeklyHours.from_rules([(WEEKDAYS, [(540, 750), (810, 1050)]), (parse_days("sat"), [(600, 840)])]),
        frozenset({date(2027, 1, 6), date(2027, 4, 2), date(2027, 4, 5), date(2027, 12, 24), date(2027, 12, 27)}),
    ),
    MON_0900,
)
#: The general timeline on a 24/7 calendar in a fixed zone: must agree with ALWAYS_OPEN's identities.
_GENERAL_24_7 = Timeline(Calendar("Etc/UTC", ALWAYS_OPEN.hours), MON_0900)
_YEAR = 365.0 * DAY
times = st.floats(min_value=0, max_value=_YEAR, allow_nan=False)
works = st.floats(min_value=0, max_value=20 * DAY, allow_nan=False)


@given(t=times, w=works)
def test_open_minutes_of_add_working_is_the_work(t, w):
    assert _BUSY.open_minutes(t, _BUSY.add_working(t, w)) == pytest.approx(w, abs=1e-6)


@given(t1=times, t2=times, w=works)
def test_add_working_is_monotone_in_t(t1, t2, w):
    t1, t2 = sorted((t1, t2))
    assert _BUSY.add_working(t1, w) <= _BUSY.add_working(t2, w)


@given(t=times, w1=works, w2=works)
def test_add_working_is_monotone_in_w(t, w1, w2):
    w1, w2 = sorted((w1, w2))
    assert t <= _BUSY.add_working(t, w1) <= _BUSY.add_working(t, w2)


@given(t=times)
def test_next_open_is_open_and_nothing_is_open_before_it(t):
    opening = _BUSY.next_open(t)
    assert _BUSY.is_open(opening)
    assert _BUSY.open_minutes(t, opening) == 0
    assert _BUSY.next_close(t) > opening


#: Singapore has no clock changes, so no local time is skipped and business days keep their order.
_SINGAPORE_OFFICE = Timeline(Calendar("Asia/Singapore", NINE_TO_FIVE, frozenset({date(2027, 2, 8)})), MON_0900)
#: Whole seconds: business days go through datetime, which keeps microseconds, not every bit of a float.
seconds = st.integers(min_value=0, max_value=int(_YEAR) * 60).map(lambda s: s / 60)


@given(t=seconds, n1=st.floats(min_value=0, max_value=30), n2=st.floats(min_value=0, max_value=30))
def test_business_days_grow_with_n(t, n1, n2):
    n1, n2 = sorted((n1, n2))
    office = _SINGAPORE_OFFICE
    assert t <= office.add_business_days(t, n1) <= office.add_business_days(t, n2)


@given(t=times, w=works, n=st.integers(min_value=0, max_value=60))
def test_a_general_24_7_timeline_agrees_with_always_open(t, w, n):
    assert _GENERAL_24_7.add_working(t, w) == pytest.approx(t + w, abs=1e-6)
    assert _GENERAL_24_7.is_open(t)
    assert _GENERAL_24_7.add_business_days(t, n) == pytest.approx(t + n * DAY, abs=1e-6)


def test_infinite_times_are_refused_rather_than_generated_for_ever():
    tl = office()
    for call in (lambda: tl.is_open(math.inf), lambda: tl.add_working(0, math.inf), lambda: tl.next_open(math.inf),
                 lambda: tl.add_business_days(0, math.inf)):
        with pytest.raises(ValueError, match="finite"):
            call()


def test_a_timeline_pickles_as_its_calendar_and_start():
    import pickle

    tl = office(holidays=frozenset({date(2027, 1, 11)}))
    tl.add_working(0, 100 * DAY)  # generated far ahead: none of that travels
    copy = pickle.loads(pickle.dumps(tl))
    assert (copy.calendar, copy.start) == (tl.calendar, tl.start)
    assert copy.add_working(4 * DAY + 6 * HOUR, 4 * HOUR) == 8 * DAY + 2 * HOUR
    assert type(pickle.loads(pickle.dumps(Timeline(ALWAYS_OPEN, MON_0900)))) is type(Timeline(ALWAYS_OPEN, MON_0900))
