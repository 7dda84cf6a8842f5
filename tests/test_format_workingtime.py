"""Working time in the journey format (issue 12): calendars, holidays, shifts, kinds of time, the start,
priorities and targets.

Good input must give exactly the model records the simulator reads (Calendar, CapacitySchedule, Target...);
bad input a located error (line and column) whose message names the mistake and whose hint says how to
fix it, never a traceback; files without the new keys load exactly as before.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml
from helpers import ACCOUNT, EXAMPLES, HEAD, ROOT, TWO_STEPS, J, dedent, persona
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap.account import check_account
from journeymap.distributions import Fixed, Triangular
from journeymap.model import PRIORITY_CLASSES, Target
from journeymap.problems import format_problem
from journeymap.validation import check_file, check_text
from journeymap.workingtime import Calendar, CapacitySchedule, Shift, WeeklyHours

MON_FRI = range(5)
BERLIN_HOURS = WeeklyHours.from_rules([(MON_FRI, [(540, 750), (810, 1050)]), ((5,), [(600, 840)])])
DE_2027 = frozenset({date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29)})

#: A journey using every working-time key (lines given in comments where tests point at them).
GOOD = """\
journey: {name: Working time}
persona: {id: buyer, calendar: singapore-buyer, priority: key}
holidays:
  de-2027: [2027-01-01, 2027-03-26, "2027-03-29"]
calendars:
  frankfurt-office:
    timezone: Europe/Berlin
    hours:
      mon-fri: [09:00-12:30, 13:30-17:30]
      sat: 10:00-14:00
    holidays: [de-2027, 2027-12-24]
  singapore-buyer:
    timezone: Asia/Singapore
    hours: {mon-fri: 09:00-18:00}
calendar: frankfurt-office
stages: [quote, onboard]
departments:
  - {id: sales, capacity: 2}
  - id: legal
    calendar: frankfurt-office
    shifts:
      - {days: mon-fri, hours: 09:00-17:00, people: 3}
      - {days: sat, hours: [10:00-12:00, 12:00-14:00], people: 1}
  - {id: ops, calendar: singapore-buyer, capacity: 4}
steps:
  - {id: ask, stage: quote, owner: customer, duration: 30min}
  - {id: send_quote, stage: quote, owner: sales, duration: 4wh, next: {to: review, delay: 2bd}}
  - id: review
    stage: onboard
    owner: legal
    duration: {triangular: [1wh, 2wh, 6wh]}
    next: {to: kickoff, delay: {exponential: 3wh}}
  - {id: kickoff, stage: onboard, owner: ops, duration: 1h, must_finish: true, next: {to: done, delay: 1d}}
  - {id: done, stage: onboard, owner: customer, duration: 0}
workload: {start: "2027-01-04 09:00", mix: {key: 0.3, growth: 0.7}}
priorities: [strategic, key, growth, transactional]
targets:
  - {name: Quote within 2 business days, step: send_quote, within: 2bd, goal: 0.95}
  - {id: onboarded, name: Onboarded within 30 days, stage: onboard, within: 30d}
  - {name: Whole deal, journey: true, within: 60bd, goal: 0.8}
  - {name: Review after the quote, step: review, since: send_quote, within: 16wh}
"""


def good_journey():
    checked = check_text(GOOD, "good.yaml", lint=False)
    assert checked.errors == [], "\n".join(format_problem(p) for p in checked.errors)
    return checked.journey


# --------------------------------------------------------------------------- good input: the model records


def test_calendars_become_calendar_records():
    j = good_journey()
    frankfurt = Calendar("Europe/Berlin", BERLIN_HOURS, DE_2027 | {date(2027, 12, 24)})
    singapore = Calendar("Asia/Singapore", WeeklyHours.every(MON_FRI, (540, 1080)))
    assert j.calendar == frankfurt
    assert j.persona.calendar == singapore and j.persona.priority == "key"
    sales, legal, ops = j.departments
    assert (sales.calendar, sales.shifts, sales.capacity) == (None, None, 2)   # None: the journey's calendar
    assert ops.calendar == singapore and ops.shifts is None and ops.capacity == 4
    assert legal.calendar == frankfurt
    assert legal.shifts == CapacitySchedule("Europe/Berlin", (
        Shift(tuple(MON_FRI), 540, 1020, 3), Shift((5,), 600, 720, 1), Shift((5,), 720, 840, 1)), frankfurt.holidays)
    assert legal.capacity == legal.shifts.max_people == 3
    assert j.has_calendars


def test_kinds_of_time_become_minutes_and_a_basis():
    j = good_journey()
    steps = j.step_by_id
    assert (steps["send_quote"].duration, steps["send_quote"].basis) == (Fixed(240.0), "working")
    assert (steps["review"].duration, steps["review"].basis) == (Triangular(60.0, 120.0, 360.0), "working")
    assert (steps["kickoff"].basis, steps["kickoff"].must_finish) == ("elapsed", True)
    assert (steps["ask"].basis, steps["ask"].must_finish) == ("elapsed", False)
    delays = {(f.source, f.target): (f.delay, f.delay_basis) for f in j.flows}
    assert delays[("send_quote", "review")] == (Fixed(2880.0), "business")      # 2bd: days x 1440
    assert delays[("review", "kickoff")][1] == "working" and delays[("review", "kickoff")][0].mean == 180.0
    assert delays[("kickoff", "done")] == (Fixed(1440.0), "elapsed")
    assert delays[("ask", "send_quote")] == (None, "elapsed")


def test_start_mix_priorities_and_targets():
    j = good_journey()
    assert j.workload.start == datetime(2027, 1, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert j.workload.mix == (("key", 0.3), ("growth", 0.7))
    assert j.priorities == PRIORITY_CLASSES
    assert j.targets == (
        Target("quote_within_2_business_days", "Quote within 2 business days", "step", "send_quote", 2880.0,
               "business", 0.95),
        Target("onboarded", "Onboarded within 30 days", "stage", "onboard", 43200.0, "elapsed", 0.9),
        Target("whole_deal", "Whole deal", "journey", "", 60 * 1440.0, "business", 0.8),
        Target("review_after_the_quote", "Review after the quote", "step", "review", 960.0, "working", 0.9,
               since="send_quote"),
    )


@pytest.mark.parametrize("start, expected", [
    ('"2027-01-04 09:00"', datetime(2027, 1, 4, 9, tzinfo=ZoneInfo("Europe/Berlin"))),   # local, journey zone
    ("2027-01-04 09:00", datetime(2027, 1, 4, 9, tzinfo=ZoneInfo("Europe/Berlin"))),     # unquoted: still text
    ("2027-01-04T09:00:00", datetime(2027, 1, 4, 9, tzinfo=ZoneInfo("Europe/Berlin"))),  # a YAML timestamp
    ("2027-01-04T09:00+05:30", datetime(2027, 1, 4, 9, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
    ("2027-01-04T08:00Z", datetime(2027, 1, 4, 9, tzinfo=ZoneInfo("Europe/Berlin"))),     # the same instant
])
def test_the_start_is_local_to_the_journey_calendar_unless_it_has_an_offset(start, expected):
    j = check_text(GOOD.replace('"2027-01-04 09:00"', start), "good.yaml", lint=False).journey
    assert j.workload.start == expected and j.workload.start.utcoffset() is not None


def test_a_local_start_without_a_journey_calendar_uses_the_first_department_calendar():
    text = GOOD.replace("calendar: frankfurt-office\nstages", "stages")
    j = check_text(text, "good.yaml", lint=False).journey
    assert j.calendar is None and j.workload.start.tzinfo == ZoneInfo("Europe/Berlin")      # legal's (shifts)
    text = J(TWO_STEPS, "workload: {start: 2027-01-04 09:00}\n")
    assert check_text(text, "t.yaml", lint=False).journey.workload.start.tzinfo == ZoneInfo("UTC")


def test_shifts_without_a_calendar_are_in_utc_without_holidays():
    shifts = "  - id: ops\n    shifts: [{days: mon-fri, hours: 08:00-16:00, people: 2}]\n"
    text = HEAD.replace("  - {id: ops}\n", shifts)
    j = check_text(text + "  - {id: s1, stage: a, owner: ops, duration: 1h}\n", "t.yaml", lint=False).journey
    ops = j.department_by_id["ops"]
    assert ops.shifts == CapacitySchedule("UTC", (Shift(tuple(MON_FRI), 480, 960, 2),)) and ops.capacity == 2
    assert ops.calendar is None and j.calendar is None and j.has_calendars


def test_yaml_traps_dates_and_clock_times():
    """Unquoted dates, quoted dates and unquoted ranges all read the same; 09:00 alone is text, 10:00 a number."""
    quoted = GOOD.replace("[2027-01-01, 2027-03-26", '["2027-01-01", "2027-03-26"').replace(
        "sat: 10:00-14:00", 'sat: "10:00-14:00"')
    assert check_text(quoted, "q.yaml", lint=False).journey.calendar == good_journey().calendar


#: The working-time keys of the bundled journeys, and what a line of each looks like.
_NEW_KEYS = re.compile(r"^(holidays|calendars|calendar|targets):.*?(?=^\S)", re.S | re.M)


def _without_working_time(text: str) -> str:
    """A bundled journey as it was before working time: no calendars, holidays or targets, no start, and
    working hours and business days written back as hours and days."""
    text = _NEW_KEYS.sub("", text + "\nend_of_file: x\n").replace("\nend_of_file: x\n", "")
    text = re.sub(r"^  (calendar|start):.*\n", "", text, flags=re.M)
    return re.sub(r"(\d)(wh|bd)\b", lambda m: m.group(1) + ("h" if m.group(2) == "wh" else "d"), text)


_STANDALONE = [p for p in EXAMPLES if "\nextends:" not in p.read_text(encoding="utf-8")]  # an overlay reads its base


@pytest.mark.parametrize("path", _STANDALONE, ids=[p.name for p in _STANDALONE])
def test_files_without_the_new_keys_load_as_before(path):
    checked = check_text(_without_working_time(path.read_text(encoding="utf-8")), str(path), lint=False)
    assert checked.errors == [], [p.message for p in checked.errors]
    j = checked.journey
    assert j.calendar is None and j.persona.calendar is None and j.persona.priority is None
    assert j.targets == () and j.priorities == PRIORITY_CLASSES and not j.has_calendars
    assert j.workload.start is None and j.workload.mix == ()
    assert all(s.basis == "elapsed" and not s.must_finish for s in j.steps)
    assert all(f.delay_basis == "elapsed" for f in j.flows)
    assert all(d.calendar is None and d.shifts is None for d in j.departments)


def test_custom_priorities():
    text = J(TWO_STEPS, "priorities: [gold, silver]\nworkload: {mix: {silver: 1}}\n").replace(
        "persona: {id: p}", "persona: {id: p, priority: gold}")
    j = check_text(text, "t.yaml", lint=False).journey
    assert j.priorities == ("gold", "silver") and j.persona.priority == "gold" and j.workload.mix == (("silver", 1.0),)


# --------------------------------------------------------------------------- bad input: located, with a fix

CAL = "calendars:\n  office: {{timezone: UTC, hours: {{{hours}}}}}\n"   # line 11: col 27 is 'hours'


def cal(hours: str, more: str = "") -> str:
    return J(TWO_STEPS, CAL.format(hours=hours) + more)


def with_dept(dept: str, tail: str = "") -> str:
    """HEAD with ops (line 6) replaced; steps from line 8; ``tail`` from line 10."""
    return J(TWO_STEPS, tail).replace("  - {id: ops}\n", f"  - {{id: ops, {dept}}}\n")


def with_step(extra: str, tail: str = "") -> str:
    """s1 (line 8) with more keys; its keys start at column 50."""
    return J(TWO_STEPS.replace("duration: 1h}", f"duration: 1h, {extra}}}", 1), tail)


OFFICE = "calendars:\n  office: {timezone: UTC, hours: {mon-fri: 09:00-17:00}}\n"  # lines 10-11

# (rule, text, line, column, words in the message, words in the hint)
BAD = [
    # opening hours
    pytest.param("invalid-hours", cal("mon-fri: [09:00-12:30, 12:00-17:00]"), 11, 58,
                 "opening hours overlap: 09:00-12:30 and 12:00-17:00 on Monday (09:00-12:30 is on line 11)",
                 "may touch but not overlap", id="overlapping intervals"),
    pytest.param("invalid-hours", J(TWO_STEPS, "calendars:\n  office:\n    timezone: UTC\n    hours:\n"
                                                "      mon-fri: 09:00-17:00\n      wed: 16:00-18:00\n"), 15, 12,
                 "09:00-17:00 and 16:00-18:00 on Wednesday", "overlap", id="overlap through two keys"),
    pytest.param("invalid-hours", cal("mon: 17:00-09:00"), 11, 40, "'17:00-09:00' end before they start",
                 "night shift", id="inverted interval"),
    pytest.param("invalid-hours", cal("mon: 09:00-25:00"), 11, 40, "25:00 is not a time of day", "24-hour clock",
                 id="hour 25"),
    pytest.param("invalid-hours", cal("mon: 9-5"), 11, 40, "must look like 09:00-17:30", "HH:MM-HH:MM",
                 id="hours without minutes"),
    pytest.param("invalid-hours", cal("monday-frday: 09:00-17:00"), 11, 35, "unknown day 'frday'", "mon-fri",
                 id="unknown day"),
    pytest.param("invalid-hours", cal("'mon,mon': 09:00-17:00"), 11, 35, "list mon more than once", "mon,wed,fri",
                 id="a day twice"),
    pytest.param("wrong-type", cal("mon-fri: 10:00"), 11, 44, "are a single time (10:00), which YAML reads as "
                 "the number 600", "10:00-14:00", id="a lone time is a base-60 number"),
    pytest.param("wrong-type", cal("mon: 5"), 11, 40, "opening hours 'mon' are the number 5", "interval",
                 id="hours: {mon: 5}"),
    pytest.param("never-open", cal(""), 11, 27, "calendar 'office' has no opening hours", "09:00-17:00",
                 id="a calendar with no hours"),
    # time zones
    pytest.param("unknown-timezone", J(TWO_STEPS, OFFICE.replace("UTC", "Europe/Berln")), 11, 22,
                 "unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)", "IANA", id="misspelt zone"),
    pytest.param("unknown-timezone", J(TWO_STEPS, OFFICE.replace("UTC", "CEST")), 11, 22,
                 "unknown time zone 'CEST'", "Europe/Berlin", id="an abbreviation is not a zone"),
    pytest.param("missing-key", J(TWO_STEPS, "calendars:\n  office: {hours: {mon: 09:00-17:00}}\n"), 11, 3,
                 "is missing the required key 'timezone'", "IANA", id="no time zone"),
    # holidays
    pytest.param("invalid-date", J(TWO_STEPS, "holidays:\n  de-2027: [2027-01-01, 2027-02-30]\n"), 11, 25,
                 "holiday '2027-02-30' is not a date (in list 'de-2027')", "YYYY-MM-DD", id="February 30th"),
    pytest.param("invalid-date", J(TWO_STEPS, "holidays:\n  de-2027: [new year]\n"), 11, 13,
                 "holiday 'new year' is not a date", "YYYY-MM-DD", id="a holiday that is a word"),
    pytest.param("invalid-date", J(TWO_STEPS, "holidays:\n  de-2027: ['20270101']\n"), 11, 13,
                 "'20270101' is not a date", "YYYY-MM-DD", id="a compact ISO date is refused"),
    pytest.param("invalid-date", J(TWO_STEPS, OFFICE.replace("}}", "}, holidays: [2027-1-5]}")), 11, 69,
                 "holiday '2027-1-5' is not a date", "YYYY-MM-DD", id="a date in a calendar"),
    pytest.param("unknown-reference",
                 J(TWO_STEPS, "holidays: {de-2027: []}\n" + OFFICE.replace("}}", "}, holidays: [de-2O27]}")),
                 12, 69, "holiday list 'de-2O27' is not declared (did you mean 'de-2027'?)", "'holidays:'",
                 id="unknown holiday list"),
    pytest.param("wrong-type", J(TWO_STEPS, "holidays: 1\n"), 10, 11, "'holidays' must be a mapping", "Named lists",
                 id="holidays: 1"),
    pytest.param("invalid-id", J(TWO_STEPS, "holidays:\n  de 2027: []\n"), 11, 3, "'de 2027' is not a valid holiday "
                 "list name", "letter", id="a list name with a space"),
    pytest.param("outside-project", J(TWO_STEPS, "holidays:\n  uk: {file: /etc/passwd}\n"), 11, 14,
                 "a holiday file must be in this folder: '/etc/passwd' is an absolute path", "holidays/",
                 id="holiday file: absolute path"),
    pytest.param("outside-project", J(TWO_STEPS, "holidays:\n  uk: {file: ../../x.yaml}\n"), 11, 14,
                 "leads outside the folder", "folder below it", id="holiday file: .. climbs out"),
    pytest.param("unknown-reference", J(TWO_STEPS, "holidays:\n  uk: {file: nope/uk.yaml}\n"), 11, 14,
                 "cannot read the holiday file 'nope/uk.yaml'", "list of dates", id="holiday file: missing"),
    # calendars named
    pytest.param("unknown-reference", J(TWO_STEPS, OFFICE + "calendar: offce\n"), 12, 11,
                 "calendar 'offce' is not declared (did you mean 'office'?)", "declared calendars: office",
                 id="unknown journey calendar"),
    pytest.param("unknown-reference", J(TWO_STEPS, OFFICE).replace("persona: {id: p}",
                                                                   "persona: {id: p, calendar: ofice}"),
                 2, 28, "calendar 'ofice' is not declared (did you mean 'office'?)", "'calendars:'",
                 id="unknown persona calendar"),
    pytest.param("unknown-reference", with_dept("calendar: offices", OFFICE), 6, 25,
                 "calendar 'offices' is not declared (did you mean 'office'?)", "office", id="unknown dept calendar"),
    pytest.param("unknown-reference", with_dept("calendar: office"), 6, 25, "calendar 'office' is not declared",
                 "declared calendars: none", id="a calendar and no calendars"),
    pytest.param("wrong-type", J(TWO_STEPS, "calendars: 1\n"), 10, 12, "'calendars' must be a mapping, got a whole "
                 "number 1", "Named calendars", id="calendars: 1"),
    pytest.param("wrong-type", J(TWO_STEPS, "calendars:\n  office: {timezone: 5, hours: {mon: 09:00-17:00}}\n"),
                 11, 22, "'timezone' must be text", "IANA", id="timezone: 5"),
    pytest.param("unknown-key", J(TWO_STEPS, "calendars:\n  office: {timezone: UTC, hour: {mon: 09:00-17:00}}\n"),
                 11, 27, "unknown key 'hour' (did you mean 'hours'?)", "timezone, hours, holidays",
                 id="a misspelt key"),
    # shifts
    pytest.param("never-open", with_dept("shifts: [{days: mon-fri, hours: 09:00-17:00, people: 0}]"), 6, 15,
                 "department 'ops' is never open: no shift has anyone in it", "1 person or more",
                 id="shifts with 0 people"),
    pytest.param("out-of-range", with_dept("shifts: [{days: mon-fri, hours: 09:00-17:00, people: -1}]"), 6, 68,
                 "'people' is -1; it must be at least 0", "How many people", id="a shift with negative people"),
    pytest.param("invalid-capacity", with_dept("capacity: 2, shifts: [{days: sat, hours: 09:00-17:00, people: 1}]"),
                 6, 15, "department 'ops' has both a capacity and shifts", "remove 'capacity'",
                 id="capacity and shifts"),
    pytest.param("invalid-hours", with_dept("shifts: [{days: sun-sat-mon, hours: 09:00-17:00, people: 1}]"), 6, 31,
                 "is not a day or a range", "mon-fri", id="shift days"),
    pytest.param("invalid-hours", with_dept("shifts: [{days: sat, hours: 18:00-08:00, people: 1}]"), 6, 43,
                 "end before they start", "night shift", id="an inverted shift"),
    pytest.param("invalid-capacity", with_dept("shifts: [{days: sat, hours: 09:00-17:00, people: 6000}, "
                                               "{days: sat, hours: 12:00-13:00, people: 6000}]"), 6, 15,
                 "department 'ops' has 12,000 people present at once; the limit is 10,000", "add up",
                 id="overlapping shifts above the capacity limit"),
    pytest.param("wrong-type", with_dept("shifts: {days: sat}"), 6, 23, "'shifts' must be a list", "Instead of",
                 id="shifts: a mapping"),
    pytest.param("missing-key", with_dept("shifts: [{days: sat, hours: 09:00-17:00}]"), 6, 24,
                 "is missing the required key 'people'", "How many people", id="a shift without people"),
    # kinds of time
    pytest.param("invalid-duration", J(TWO_STEPS.replace("duration: 1h}", "duration: 2bd}", 1)), 8, 48,
                 "'2bd' is in business days, which cannot be used here; write elapsed time (30min, 2h, 3d) or "
                 "working hours (4wh)", "business days (2bd) are for flow delays and targets", id="bd on a step"),
    pytest.param("invalid-duration", J(TWO_STEPS.replace("duration: 1h}", "duration: {uniform: [1h, 2wh]}}", 1)),
                 8, 48, "a distribution mixes elapsed time and working hours", "working hours (4wh",
                 id="mixed kinds of time"),
    pytest.param("invalid-duration",
                 with_step("must_finish: true").replace("duration: 1h, must", "duration: 4wh, must"),
                 8, 48, "must finish once started, so its duration runs on the clock", "elapsed time (4h)",
                 id="must_finish in working hours"),
    pytest.param("invalid-duration", J(TWO_STEPS, "workload: {arrivals: {every: 4wh}}\n"), 10, 30,
                 "'4wh' is in working hours, which cannot be used here; write elapsed time", "45s, 30min",
                 id="working hours as an arrival gap"),
    pytest.param("invalid-duration", J(TWO_STEPS.replace("duration: 1h}", "duration: 1h, next: {to: s2, delay: "
                                                         "{exponential: 2bd, x: 1}}}", 1)),
                 8, 74, "a distribution is a mapping with exactly one key", "receiving side",
                 id="a delay with two keys"),
    pytest.param("wrong-type", with_step('must_finish: "yes"'), 8, 65, "'must_finish' must be true or false",
                 "runs to the end", id="must_finish: text"),
    # the start
    pytest.param("invalid-date", J(TWO_STEPS, "workload: {start: next monday}\n"), 10, 19,
                 "the start 'next monday' is not a date and time", "2027-01-04 09:00", id="start: words"),
    pytest.param("invalid-date", J(TWO_STEPS, "workload: {start: 2027-01-04}\n"), 10, 19,
                 "the start '2027-01-04' is not a date and time", "2027-01-04 09:00", id="start: a date only"),
    pytest.param("invalid-date", J(TWO_STEPS, "workload: {start: '2027-02-30 09:00'}\n"), 10, 19,
                 "is not a date and time", "ISO 8601", id="start: February 30th"),
    pytest.param("invalid-date", J(TWO_STEPS, "workload: {start: '9999-12-31 23:00'}\n"), 10, 19,
                 "outside the years 1900-2200", "2027", id="start: year 9999"),
    pytest.param("wrong-type", J(TWO_STEPS, "workload: {start: 5}\n"), 10, 19, "'start' must be text", "Monday",
                 id="start: a number"),
    # priorities and the mix
    pytest.param("mix-sum", J(TWO_STEPS, "workload:\n  mix: {key: 0.3, growth: 0.6}\n"), 11, 3,
                 "the shares of the class mix sum to 0.9, not 1", "0.3 for 30%", id="a mix not summing to 1"),
    pytest.param("out-of-range", J(TWO_STEPS, "workload:\n  mix: {key: 30, growth: 70}\n"), 11, 14,
                 "'key' is 30; it must be at most 1", "0.3 for 30%", id="a mix in percent"),
    pytest.param("unknown-reference", J(TWO_STEPS, "workload:\n  mix: {kye: 0.3, growth: 0.7}\n"), 11, 9,
                 "priority class 'kye' is not one of the priorities (strategic, key, growth, transactional) "
                 "(did you mean 'key'?)", "'priorities:'", id="unknown class in the mix"),
    pytest.param("unknown-reference", J(TWO_STEPS).replace("persona: {id: p}", "persona: {id: p, priority: gold}"),
                 2, 28, "priority class 'gold' is not one of the priorities", "your own classes",
                 id="unknown persona class"),
    pytest.param("duplicate-id", J(TWO_STEPS, "priorities: [gold, silver, gold]\n"), 10, 28,
                 "priority class 'gold' is listed twice (first on line 10)", "once", id="a class twice"),
    pytest.param("wrong-type", J(TWO_STEPS, "priorities: 3\n"), 10, 13, "'priorities' must be a list", "highest first",
                 id="priorities: 3"),
    pytest.param("wrong-type", J(TWO_STEPS, "workload: {mix: [key, growth]}\n"), 10, 17, "'mix' must be a mapping",
                 "fractions summing to 1", id="mix: a list"),
    # targets
    pytest.param("invalid-duration", J(TWO_STEPS, "targets:\n  - {name: Fast, step: s2, within: 2}\n"), 11, 36,
                 "duration 2 has no unit; write it with one, e.g. 2min, 2h, 2d, 2wh or 2bd", "2bd (business days)",
                 id="a target with no unit"),
    pytest.param("invalid-duration", J(TWO_STEPS, "targets:\n  - {name: Fast, step: s2, within: 2 weeks}\n"), 11, 36,
                 "unknown time unit 'weeks'", "4wh", id="a target with a unit the pattern refuses"),
    pytest.param("unknown-reference", J(TWO_STEPS, "targets:\n  - {name: Fast, step: s3, within: 2bd}\n"), 11, 24,
                 "target step 's3' does not exist", "under 'steps'", id="target: unknown step"),
    pytest.param("unknown-reference", J(TWO_STEPS, "targets:\n  - {name: Fast, stage: bb, within: 2bd}\n"), 11, 25,
                 "target stage 'bb' is not declared (did you mean 'b'?)", "declared stages: a, b",
                 id="target: unknown stage"),
    pytest.param("missing-key", J(TWO_STEPS, "targets:\n  - {name: Fast, within: 2bd}\n"), 11, 5,
                 "target 'Fast' does not say what it measures", "journey: true", id="target: measures nothing"),
    pytest.param("invalid-value", J(TWO_STEPS, "targets:\n  - {name: Fast, step: s2, stage: b, within: 2bd}\n"),
                 11, 28, "target 'Fast' gives both 'step' and 'stage'", "two targets", id="target: two things"),
    pytest.param("invalid-value", J(TWO_STEPS, "targets:\n  - {name: Fast, stage: b, since: s1, within: 2bd}\n"),
                 11, 28, "'since' is only for a step target", "remove it", id="target: since on a stage"),
    pytest.param("unknown-reference", J(TWO_STEPS, "targets:\n  - {name: Fast, step: s2, since: s0, within: 2bd}\n"),
                 11, 35, "since step 's0' does not exist", "after whose end", id="target: unknown since"),
    pytest.param("out-of-range", J(TWO_STEPS, "targets:\n  - {name: Fast, journey: true, within: 0bd}\n"), 11, 41,
                 "a target needs a time greater than zero", "2bd", id="target: within zero"),
    pytest.param("out-of-range", J(TWO_STEPS, "targets:\n  - {name: Fast, journey: true, within: 1d, goal: 90}\n"),
                 11, 51, "'goal' is 90; it must be at most 1", "0.9 for 90%", id="target: goal in percent"),
    pytest.param("duplicate-id", J(TWO_STEPS, "targets:\n  - {name: Fast!, journey: true, within: 1d}\n"
                                               "  - {name: fast, step: s2, within: 1d}\n"), 12, 12,
                 "target id 'fast' is used twice (first on line 11)", "own id", id="target: same id from the name"),
    pytest.param("missing-key", J(TWO_STEPS, "targets:\n  - {step: s2, within: 1d}\n"), 11, 5,
                 "is missing the required key 'name'", "How reports name", id="target: no name"),
    pytest.param("wrong-type", J(TWO_STEPS, "targets: {name: x}\n"), 10, 10, "'targets' must be a list",
                 "Service-level targets", id="targets: a mapping"),
]


@pytest.mark.parametrize("rule, text, line, column, message, hint", BAD)
def test_bad_working_time_is_located_and_explained(rule, text, line, column, message, hint):
    checked = check_text(text, "bad.yaml")
    assert checked.journey is None
    found = [p for p in checked.errors if p.rule == rule]
    assert found, [format_problem(p) for p in checked.problems]
    located = [p for p in found if (p.line, p.column) == (line, column)]
    assert located, [(p.line, p.column, p.message) for p in found]
    p = located[0]
    assert message in p.message, p.message
    assert hint in p.hint, p.hint
    assert p.file == "bad.yaml"


def test_one_mistake_is_one_error():
    """A value the structure pass rejected is not reported again (never open, unknown) by the meaning pass."""
    for text in (cal("mon-fri: 10:00"), with_dept("shifts: [{days: mon-fri, hours: 09:00-17:00, people: -1}]"),
                 J(TWO_STEPS, "holidays:\n  de-2027: [2027-01-01, 2027-02-30]\n" + OFFICE.replace(
                     "}}", "}, holidays: [de-2027]}"))):
        assert len(check_text(text, "bad.yaml").errors) == 1, [format_problem(p) for p in check_text(text, "b").errors]


# --------------------------------------------------------------------------- holiday files


def test_a_holiday_file_is_read_relative_to_the_journey(tmp_path):
    (tmp_path / "holidays").mkdir()
    (tmp_path / "holidays" / "uk.yaml").write_text("- 2027-01-01\n- '2027-12-27'\n", encoding="utf-8")
    (tmp_path / "j.yaml").write_text(J(TWO_STEPS, "holidays:\n  uk: {file: holidays/uk.yaml}\n"
                                     + OFFICE.replace("}}", "}, holidays: [uk]}") + "calendar: office\n"))
    j = check_file(tmp_path / "j.yaml").journey
    assert j.calendar.holidays == {date(2027, 1, 1), date(2027, 12, 27)}


@pytest.mark.parametrize("content, line, column, rule, message", [
    ("- 2027-01-01\n- 2027-13-01\n", 2, 3, "invalid-date", "holiday '2027-13-01' is not a date"),
    ("{new_year: 2027-01-01}\n", 1, 1, "wrong-type", "must hold a list of dates"),
    ("- [unclosed\n", 2, 1, "yaml-syntax", "YAML syntax error"),
])
def test_problems_in_a_holiday_file_point_into_it(tmp_path, content, line, column, rule, message):
    (tmp_path / "uk.yaml").write_text(content, encoding="utf-8")
    (tmp_path / "j.yaml").write_text(J(TWO_STEPS, "holidays:\n  uk: {file: uk.yaml}\n"))
    (p,) = check_file(tmp_path / "j.yaml").errors
    assert (p.file, p.line, p.column, p.rule) == (str(tmp_path / "uk.yaml"), line, column, rule)
    assert message in p.message


def test_a_holiday_file_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "uk").mkdir()
    (tmp_path / "j.yaml").write_text(J(TWO_STEPS, "holidays:\n  uk: {file: uk}\n"))
    (p,) = check_file(tmp_path / "j.yaml").errors
    assert p.rule == "unknown-reference" and "it is a folder" in p.message and (p.line, p.column) == (11, 14)


# --------------------------------------------------------------------------- overlays and accounts


def test_an_overlay_adds_and_replaces_calendars_by_name(tmp_path):
    (tmp_path / "base.yaml").write_text(J(TWO_STEPS, OFFICE + "calendar: office\n"))
    (tmp_path / "after.yaml").write_text(dedent("""
        extends: base.yaml
        calendars:
          office: {timezone: Europe/Berlin, hours: {mon-thu: 08:00-16:00}}
          night: {timezone: UTC, hours: {sun: 22:00-24:00}}
        departments:
          - {id: ops, calendar: night}
        steps:
          - {id: s2, duration: 2wh, must_finish: false}
        targets:
          - {name: Quick, journey: true, within: 1bd}
    """))
    checked = check_file(tmp_path / "after.yaml")
    assert checked.errors == []
    j = checked.journey
    assert j.calendar == Calendar("Europe/Berlin", WeeklyHours.every(range(4), (480, 960)))
    assert j.department_by_id["ops"].calendar == Calendar("UTC", WeeklyHours.every([6], (1320, 1440)))
    assert j.step_by_id["s2"].basis == "working" and j.targets[0].basis == "business"


def test_an_overlay_problem_in_a_calendar_points_into_the_overlay(tmp_path):
    (tmp_path / "base.yaml").write_text(J(TWO_STEPS, OFFICE))
    (tmp_path / "after.yaml").write_text("extends: base.yaml\ncalendars:\n  office: {timezone: Mars/Base, "
                                         "hours: {mon: 09:00-17:00}}\n")
    (p,) = check_file(tmp_path / "after.yaml").errors
    assert (p.file.rsplit("/", 1)[-1], p.line, p.column, p.rule) == ("after.yaml", 3, 22, "unknown-timezone")


def _account(write_journey, tier: str, extra: str = "") -> object:
    for pid in "abc":
        write_journey(persona(pid, "user", "1h") + extra, f"{pid}.yaml")
    text = ACCOUNT.format(at="a: sign, b: sign").replace("{id: acme, name: Acme}",
                                                         f"{{id: acme, name: Acme, tier: {tier}}}")
    return check_account(write_journey(text, "account.yaml"))


@pytest.mark.parametrize("tier, priority, warned", [
    ("key", "key", False),
    ("Strategic", "strategic", False),       # the case does not matter
    ("enterprise", None, False),             # a label, as tiers always were: no warning
    ("kye", None, True),                     # a misspelt class: warned
])
def test_an_account_tier_is_its_priority_class(write_journey, tier, priority, warned):
    checked = _account(write_journey, tier)
    assert checked.errors == []
    assert checked.account.priority == priority
    warnings = [p for p in checked.warnings if p.rule == "tier-not-a-class"]
    assert bool(warnings) == warned
    if warned:
        assert "did you mean 'key'?" in warnings[0].message and (warnings[0].line, warnings[0].column) == (1, 39)


def test_an_account_tier_that_is_no_class_is_warned_when_the_journeys_use_priorities(write_journey):
    checked = _account(write_journey, "enterprise", "workload: {mix: {key: 1}}\n")
    assert [p.rule for p in checked.warnings if p.rule == "tier-not-a-class"] == ["tier-not-a-class"]


def test_an_account_keeps_the_calendars_of_its_departments(write_journey):
    office = "calendars:\n  office: {timezone: UTC, hours: {mon-fri: 09:00-17:00}}\n"
    for pid in "abc":
        write_journey(persona(pid, "user", "1h").replace("[{id: ops, capacity: 1}]",
                                                         "[{id: ops, capacity: 1, calendar: office}]") + office,
                      f"{pid}.yaml")
    path = write_journey(ACCOUNT.format(at="a: sign, b: sign") + "departments: [{id: ops, capacity: 3}]\n",
                         "account.yaml")
    checked = check_account(path)
    assert checked.errors == []
    (ops,) = checked.account.departments
    assert ops.capacity == 3 and ops.calendar == Calendar("UTC", WeeklyHours.every(MON_FRI, (540, 1020)))


# --------------------------------------------------------------------------- the docs and the schema


def _doc_example() -> str:
    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    section = text[text.index("## Working time"):]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_the_working_time_example_in_format_md_is_valid(tmp_path):
    (tmp_path / "holidays").mkdir()
    (tmp_path / "holidays" / "sg-2027.yaml").write_text("- 2027-01-01\n- 2027-02-06\n", encoding="utf-8")
    (tmp_path / "example.yaml").write_text(_doc_example(), encoding="utf-8")
    checked = check_file(tmp_path / "example.yaml")
    assert checked.errors == [], "\n".join(format_problem(p) for p in checked.errors)
    j = checked.journey
    assert j.has_calendars and j.department_by_id["legal"].capacity == 3 and len(j.targets) == 3


def test_the_working_time_example_validates_against_the_printed_schema():
    import json

    import jsonschema

    from journeymap.loading import load_yaml
    from journeymap.schema import schema_json

    loc, problems = load_yaml(_doc_example(), "example.yaml")   # journeymap's loader: dates stay text
    assert problems == []
    errors = list(jsonschema.Draft202012Validator(json.loads(schema_json())).iter_errors(loc.data))
    assert errors == []


# --------------------------------------------------------------------------- hostile input: never a traceback

_ODD = st.one_of(
    st.sampled_from([0, -1, 1, 600, 10**12, -(10**12), 1e308, float("nan"), float("inf"), 0.5, True, False, None,
                     "", " ", "\x00", "\ufffe", "24:00-24:00", "00:00-24:00", "09:00-09:00", "mon-sun", "sun-mon",
                     "2027-02-29", "2028-02-29", "0001-01-01", "9999-12-31", "../x.yaml", "/dev/zero", "UTC",
                     "Europe/Berlin", "../../../etc/localtime", "bd", "1e9bd", "0wh", "4wh", "2bd", ".5bd", "x" * 500,
                     [], {}, [None], [[]], [{}], {"file": None}, {"file": "."}, ["a", 1, None]]),
    st.integers(), st.text(max_size=12),
)


def _paths(data, prefix=()):
    out = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out += _paths(v, prefix + (k,))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_working_time_never_raises(data):
    """Replace, delete or wrap one to three values of GOOD: every outcome is located problems, never a bug."""
    from journeymap.loading import load_yaml

    doc = copy.deepcopy(load_yaml(GOOD, "g.yaml")[0].data)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p[0] in ("holidays", "calendars", "calendar", "persona", "departments",
                                                     "workload", "priorities", "targets", "steps")]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        op = data.draw(st.sampled_from(["replace", "replace", "delete", "wrap"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        else:
            parent[path[-1]] = copy.deepcopy(data.draw(_ODD))
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10_000)
    checked = check_text(text, "mutated.yaml")
    assert not [p for p in checked.problems if p.rule == "internal-error"], text
