"""Tests for working time in the simulator (issue 12): calendars, shifts, time zones, holidays.

Exact cases first (a 4-working-hour step from Friday 15:00, a holiday, a time-zone gap, a shift
change, elapsed against working against must-finish, a business-day inbox on the receiving side),
then queueing theory: a capacity schedule whose periods are long against the service times must
give, in each period, the M/M/c (Erlang C) answer of that period's staff, and Little's law must
hold on open hours. Statistical checks hold the theory against the 99% Student-t interval of the
replication means; the tolerance is the interval itself and is never widened to pass.

The journeys are built in Python (the file format for calendars is tested in
tests/test_format_workingtime.py): the structure from a small YAML text, then the working-time
fields with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import simpy
from helpers import dedent

from journeymap.eventlog import timestamp, timestamps
from journeymap.model import Journey
from journeymap.simulation import simulate
from journeymap.simulation.staff import StaffPool, simulation_start, timeline
from journeymap.statistics import t_interval
from journeymap.validation import check_text
from journeymap.workingtime import ALWAYS_OPEN, Calendar, CapacitySchedule, Shift, WeeklyHours, next_monday_0900

BERLIN = ZoneInfo("Europe/Berlin")
SINGAPORE = ZoneInfo("Asia/Singapore")
WEEKDAYS = range(5)
HOUR = 60.0


def office(tz: str = "Europe/Berlin", open_: int = 9, close: int = 17, holidays: tuple[date, ...] = ()) -> Calendar:
    """Monday to Friday, ``open_``:00 to ``close``:00 local time."""
    return Calendar(tz, WeeklyHours.every(WEEKDAYS, (open_ * 60, close * 60)), frozenset(holidays))


#: Friday 8 January 2027, 15:00 in Frankfurt (winter time, UTC+1); Monday 11 January is the next workday.
FRIDAY_1500 = datetime(2027, 1, 8, 15, 0, tzinfo=BERLIN)


def build(text: str, *, start: datetime | None = FRIDAY_1500, calendar: Calendar | None = None,
          departments: dict[str, dict[str, Any]] | None = None, steps: dict[str, dict[str, Any]] | None = None,
          flows: dict[tuple[str, str], dict[str, Any]] | None = None,
          persona: dict[str, Any] | None = None) -> Journey:
    """A journey from YAML, with working-time fields set by id (departments, steps), by (source,
    target) (flows) or on the persona."""
    checked = check_text(dedent(text), "test.yaml", lint=False)
    assert checked.journey is not None, checked.problems
    j = checked.journey
    departments, steps, flows = departments or {}, steps or {}, flows or {}
    return replace(
        j, calendar=calendar,
        departments=tuple(replace(d, **departments.get(d.id, {})) for d in j.departments),
        steps=tuple(replace(s, **steps.get(s.id, {})) for s in j.steps),
        flows=tuple(replace(f, **flows.get((f.source, f.target), {})) for f in j.flows),
        persona=replace(j.persona, **(persona or {})),
        workload=replace(j.workload, start=start))


def event_rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(fh) if row["concept:name"] != "case arrival"]


def utc(text: str) -> str:
    """A local ISO time in Frankfurt as the event log writes it (UTC, milliseconds)."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def hours_between(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


ONE_STEP = """
    journey: {id: one, name: One step}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: legal, capacity: 1}]
    steps:
      - {id: review, stage: s, owner: legal, duration: 4h}
    workload: {arrivals: {schedule: [0min]}, cases: 1}
    """


# --------------------------------------------------------------------------- exact cases


@pytest.mark.parametrize("holidays, ends", [
    ((), datetime(2027, 1, 11, 11, 0, tzinfo=BERLIN)),                  # 2 h on Friday, 2 h on Monday
    ((date(2027, 1, 11),), datetime(2027, 1, 12, 11, 0, tzinfo=BERLIN)),  # Monday a holiday: Tuesday
])
def test_four_working_hours_from_friday_1500(tmp_path, holidays, ends):
    journey = build(ONE_STEP, departments={"legal": {"calendar": office(holidays=holidays)}},
                    steps={"review": {"basis": "working"}})
    events = tmp_path / "events.csv"
    result = simulate(journey, replications=1, events=str(events))
    assert result.cycle_times.tolist() == [pytest.approx(hours_between(FRIDAY_1500, ends) * HOUR, abs=1e-9)]
    (row,) = event_rows(events)
    assert (row["start_timestamp"], row["time:timestamp"]) == (utc("2027-01-08T15:00"), ends.astimezone(UTC)
                                                                .strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    assert row["org:resource"] == "legal-1"
    working = result.summary["working_time"]
    assert working["start"] == "2027-01-08T15:00:00+01:00"
    assert working["timezone"] == "Europe/Berlin"
    assert working["cycle_time_working_hours"]["mean"] == pytest.approx(4.0)
    assert working["working_hours_calendar"] == "department:legal"
    # busy 4 hours of the 4 open hours of the window (Friday 15:00 to the end of the case)
    assert result.summary["departments"]["legal"]["utilisation"]["mean"] == pytest.approx(1.0)


HANDOVER = """
    journey: {id: tz, name: Frankfurt and Singapore}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: sales, capacity: 1}]
    steps:
      - {id: prepare, stage: s, owner: sales, duration: 30min}
      - {id: reply, stage: s, owner: customer, duration: 2h}
      - {id: confirm, stage: s, owner: sales, duration: 1h}
    workload: {arrivals: {schedule: [0min]}, cases: 1}
    """


def test_time_zone_gap_between_a_singapore_customer_and_a_frankfurt_vendor(tmp_path):
    # Friday 14:30 in Frankfurt; Singapore (09:00-18:00, UTC+8) is 7 hours ahead in January, so its
    # Monday 09:00 is Monday 02:00 in Frankfurt
    start = datetime(2027, 1, 8, 14, 30, tzinfo=BERLIN)
    journey = build(HANDOVER, start=start, departments={"sales": {"calendar": office()}},
                    persona={"calendar": office("Asia/Singapore", 9, 18)},
                    steps={s: {"basis": "working"} for s in ("prepare", "reply", "confirm")})
    events = tmp_path / "events.csv"
    result = simulate(journey, replications=1, events=str(events))
    rows = {r["concept:name"]: (r["start_timestamp"], r["time:timestamp"]) for r in event_rows(events)}
    assert rows == {
        "prepare": (utc("2027-01-08T14:30"), utc("2027-01-08T15:00")),
        "reply": (utc("2027-01-11T02:00"), utc("2027-01-11T04:00")),    # 09:00-11:00 in Singapore
        "confirm": (utc("2027-01-11T09:00"), utc("2027-01-11T10:00")),  # Frankfurt opens at 09:00
    }
    ends = datetime(2027, 1, 11, 10, 0, tzinfo=BERLIN)
    assert result.cycle_times.tolist() == [pytest.approx(hours_between(start, ends) * HOUR, abs=1e-9)]
    # the customer's wait for their office hours is customer time, not queueing for staff
    breakdown = result.summary["time_breakdown"]["total"]
    assert breakdown["customer_time"] == pytest.approx(hours_between(
        datetime(2027, 1, 8, 15, 0, tzinfo=BERLIN), datetime(2027, 1, 11, 4, 0, tzinfo=BERLIN)) * HOUR)
    assert result.summary["case"]["waiting_time"]["mean"] == pytest.approx(5 * HOUR)  # Monday 04:00 to 09:00
    assert sum(breakdown.values()) == pytest.approx(result.cycle_times[0])


SHIFT = """
    journey: {id: shift, name: A shift change}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: desk, capacity: 3}]
    steps:
      - {id: handle, stage: s, owner: desk, duration: 2h}
    workload: {arrivals: {schedule: [0min, 0min, 0min, 30min]}, cases: 4}
    """


def test_shift_change_three_people_on_weekdays_one_on_saturday(tmp_path):
    shifts = CapacitySchedule("Europe/Berlin", (Shift(tuple(WEEKDAYS), 540, 1020, 3), Shift((5,), 600, 840, 1)))
    start = datetime(2027, 1, 8, 16, 0, tzinfo=BERLIN)  # Friday 16:00: one hour before the weekday shift ends
    journey = build(SHIFT, start=start, departments={"desk": {"shifts": shifts}},
                    steps={"handle": {"basis": "working"}})
    events = tmp_path / "events.csv"
    result = simulate(journey, replications=1, events=str(events))
    rows = sorted((r["case:concept:name"], r["org:resource"], r["start_timestamp"], r["time:timestamp"])
                  for r in event_rows(events))
    assert rows == [
        # the Saturday person (slot 0) keeps their case over the night: 1 h on Friday, 1 h on Saturday
        ("case-0-000000", "desk-1", utc("2027-01-08T16:00"), utc("2027-01-09T11:00")),
        # the other two keep theirs until Monday: nobody hands a case to the Saturday colleague
        ("case-0-000001", "desk-2", utc("2027-01-08T16:00"), utc("2027-01-11T10:00")),
        ("case-0-000002", "desk-3", utc("2027-01-08T16:00"), utc("2027-01-11T10:00")),
        # the fourth queues (everyone busy) until the Saturday person is free
        ("case-0-000003", "desk-1", utc("2027-01-09T11:00"), utc("2027-01-09T13:00")),
    ]
    # open person-minutes in the window (Friday 16:00 to Monday 10:00): 3 h on Friday, 4 on Saturday,
    # 3 h on Monday; busy 8 h of work
    assert result.summary["departments"]["desk"]["utilisation"]["mean"] == pytest.approx(8 / 10)


@pytest.mark.parametrize("basis, must_finish, arrives, ends", [
    # started at an open minute: elapsed work runs on the clock past closing
    ("elapsed", False, "2027-01-08T15:00", "2027-01-08T19:00"),
    # working hours pause at 17:00 and resume on Monday at 09:00
    ("working", False, "2027-01-08T15:00", "2027-01-11T11:00"),
    # a meeting must finish once started
    ("working", True, "2027-01-08T15:00", "2027-01-08T19:00"),
    # arriving after closing, every kind waits for Monday 09:00 to start
    ("elapsed", False, "2027-01-08T18:00", "2027-01-11T13:00"),
    ("working", False, "2027-01-08T18:00", "2027-01-11T13:00"),
    ("working", True, "2027-01-08T18:00", "2027-01-11T13:00"),
])
@pytest.mark.parametrize("owner", ["legal", "customer"])
def test_elapsed_working_and_must_finish(basis, must_finish, arrives, ends, owner):
    text = ONE_STEP.replace("owner: legal", f"owner: {owner}")
    start = datetime.fromisoformat(arrives).replace(tzinfo=BERLIN)
    journey = build(text, start=start, departments={"legal": {"calendar": office()}},
                    persona={"calendar": office()} if owner == "customer" else None,
                    steps={"review": {"basis": basis, "must_finish": must_finish}})
    result = simulate(journey, replications=1)
    expected = hours_between(start, datetime.fromisoformat(ends).replace(tzinfo=BERLIN)) * HOUR
    assert result.cycle_times.tolist() == [pytest.approx(expected, abs=1e-9)]


INBOX = """
    journey: {id: inbox, name: An inbox}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: sales, capacity: 1}, {id: legal, capacity: 1}]
    steps:
      - {id: send, stage: s, owner: sales, duration: 1h, next: {to: check, delay: 2d}}
      - {id: check, stage: s, owner: legal, duration: 1h}
    workload: {arrivals: {schedule: [0min]}, cases: 1}
    """


@pytest.mark.parametrize("legal_holidays, arrives", [
    # Friday 16:00 + 2 business days: Tuesday 16:00, whatever the opening hours
    ((), "2027-01-12T16:00"),
    # the receiving side's Monday is a holiday (the sender's is not): Wednesday 16:00
    ((date(2027, 1, 11),), "2027-01-13T16:00"),
])
def test_business_day_inbox_counts_on_the_receiving_side(tmp_path, legal_holidays, arrives):
    journey = build(INBOX, departments={"sales": {"calendar": office()},
                                        "legal": {"calendar": office(holidays=legal_holidays)}},
                    flows={("send", "check"): {"delay_basis": "business"}})
    events = tmp_path / "events.csv"
    result = simulate(journey, replications=1, events=str(events))
    rows = {r["concept:name"]: r for r in event_rows(events)}
    # it lands at 16:00, inside opening hours: checked at once, done at 17:00
    assert rows["check"]["start_timestamp"] == utc(arrives)
    inbox = hours_between(datetime(2027, 1, 8, 16, 0, tzinfo=BERLIN),
                          datetime.fromisoformat(arrives).replace(tzinfo=BERLIN)) * HOUR
    assert result.summary["case"]["flow_delay"]["mean"] == pytest.approx(inbox)


def test_working_hours_inbox_counts_on_the_customer_calendar(tmp_path):
    # 3 working hours of the Singapore customer from Friday 16:00 in Frankfurt (23:00 in Singapore):
    # Monday 09:00-12:00 in Singapore, i.e. it lands on Monday at 05:00 in Frankfurt
    text = INBOX.replace("owner: legal", "owner: customer").replace("delay: 2d", "delay: 3h")
    journey = build(text, departments={"sales": {"calendar": office()}},
                    persona={"calendar": office("Asia/Singapore", 9, 18)},
                    flows={("send", "check"): {"delay_basis": "working"}})
    events = tmp_path / "events.csv"
    simulate(journey, replications=1, events=str(events))
    rows = {r["concept:name"]: r for r in event_rows(events)}
    assert rows["check"]["start_timestamp"] == utc("2027-01-11T05:00")


# --------------------------------------------------------------------------- the staff pool


def test_pool_serves_by_priority_then_first_come_and_never_grabs_a_closed_person():
    env = simpy.Environment()
    line = timeline(office("UTC"), datetime(2027, 1, 8, 16, 0, tzinfo=UTC))  # Friday 16:00, open 1 hour more
    pool = StaffPool(env, (line,))
    served: list[tuple[str, float]] = []

    def case(name: str, at: float, priority: int, work: float):
        yield env.timeout(at)
        with pool.request(priority=priority) as req:
            yield req
            served.append((name, env.now))
            yield env.timeout(work)

    for name, at, priority, work in [("first", 0, 1, 30), ("late-low", 10, 1, 10), ("late-high", 20, 0, 10),
                                     ("after-hours", 65, 0, 10), ("withdrawn", 66, 0, 0)]:
        env.process(case(name, at, priority, work))
    env.run(until=4000)
    monday = 60 + (2 * 24 + 16) * 60  # Monday 09:00, from Friday 16:00
    assert served == [("first", 0), ("late-high", 30), ("late-low", 40),
                      ("after-hours", monday), ("withdrawn", monday + 10)]
    assert pool.count == 0 and pool.queue_length == 0


def test_pool_withdraws_a_waiting_request():
    env = simpy.Environment()
    pool = StaffPool(env, (timeline(ALWAYS_OPEN, datetime(2027, 1, 4, tzinfo=UTC)),))
    held = pool.request()
    waiting = pool.request()
    assert held.triggered and not waiting.triggered and pool.queue_length == 1
    pool.release(waiting)
    assert pool.queue_length == 0
    pool.release(held)
    assert pool.count == 0


# --------------------------------------------------------------------------- the start, and no calendars


def test_start_is_workload_start_else_next_monday_0900_in_the_journey_time_zone():
    journey = build(ONE_STEP, start=None, departments={"legal": {"calendar": office("Asia/Singapore")}})
    now = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)
    assert simulation_start(journey, now) == next_monday_0900("Asia/Singapore", now)
    assert simulation_start(journey, now).isoformat() == "2027-01-11T09:00:00+08:00"
    journey = build(ONE_STEP, start=None, calendar=office("America/New_York"),
                    departments={"legal": {"calendar": office("Asia/Singapore")}})
    assert simulation_start(journey, now).isoformat() == "2027-01-11T09:00:00-05:00"
    assert simulation_start(replace(journey, workload=replace(journey.workload, start=FRIDAY_1500))) == FRIDAY_1500


QUEUE = """
    journey: {id: q, name: Two desks in a row}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: front, capacity: 2}, {id: back, capacity: 1}]
    steps:
      - {id: a, stage: s, owner: front, duration: {exponential: 10min}}
      - {id: b, stage: s, owner: back, duration: {exponential: 4min}, next: {to: c, delay: {exponential: 5min}}}
      - {id: c, stage: s, owner: customer, duration: {exponential: 3min}}
    workload: {arrivals: {poisson: 6min}, cases: 400}
    """


def test_round_the_clock_calendars_give_the_times_of_no_calendars():
    # every department and the persona keep ALWAYS_OPEN: the working-time path (StaffPool, timelines)
    # must give exactly the times of the plain path, case by case
    plain = build(QUEUE, start=None)
    assert not plain.has_calendars
    always = build(QUEUE, calendar=ALWAYS_OPEN, persona={"calendar": ALWAYS_OPEN},
                   steps={"a": {"basis": "working"}, "c": {"basis": "working"}},
                   flows={("b", "c"): {"delay_basis": "working"}})
    assert always.has_calendars
    before = simulate(plain, replications=2, seed=5)
    after = simulate(always, replications=2, seed=5)
    assert "working_time" not in before.summary and before.replications[0].start is None
    np.testing.assert_array_equal(before.cycle_times, after.cycle_times)
    for rep_before, rep_after in zip(before.replications, after.replications, strict=True):
        np.testing.assert_array_equal(rep_before.department_waits[0], rep_after.department_waits[0])
        assert rep_before.department_busy == rep_after.department_busy
    np.testing.assert_allclose(after.replications[0].working_cycle_time, after.replications[0].cases["cycle_time"])


def test_the_start_is_shared_by_every_worker():
    journey = build(QUEUE, start=None, calendar=office())
    one = simulate(journey, cases=100, replications=2, seed=3, workers=1)
    two = simulate(journey, cases=100, replications=2, seed=3, workers=2)
    assert one.summary == two.summary


# --------------------------------------------------------------------------- queueing theory


def erlang_c(c: int, lam: float, mu: float) -> tuple[float, float]:
    """M/M/c: the probability of waiting and the mean wait in queue (Erlang C)."""
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait, p_wait / (c * mu - lam)


def assert_in_ci99(theory: float, means, what: str) -> None:
    lo, hi = t_interval(means, 0.99)
    assert lo <= theory <= hi, f"{what}: theory {theory:.4f} outside the 99% CI [{lo:.4f}, {hi:.4f}]"


DESK = """
    journey: {id: desk, name: One desk}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: desk, capacity: 1}]
    steps:
      - {id: serve, stage: s, owner: desk, duration: {exponential: 1min}}
    workload: {arrivals: {poisson: 0.6667min}, cases: 1000}
    """

#: The capacity schedule: 4 people from midnight to noon, 2 from noon to midnight, every day (UTC).
#: Service takes 1 minute on average; a period is 720: the queue forgets the previous period within
#: minutes, so each period is an M/M/c queue of its own once its first hours are left out.
PERIODS = ((0, 720, 4), (720, 1440, 2))
SETTLE = 120.0  # minutes left out at the start of each period


def test_capacity_schedule_matches_erlang_c_in_each_period(tmp_path):
    schedule = CapacitySchedule("UTC", tuple(Shift(tuple(range(7)), a, b, c) for a, b, c in PERIODS))
    monday = datetime(2027, 1, 4, tzinfo=UTC)
    journey = build(DESK, start=monday, departments={"desk": {"shifts": schedule}},
                    steps={"serve": {"basis": "working"}})
    lam, mu = 1.5, 1.0
    events = tmp_path / "events.csv"
    cases, replications = 10_080, 10  # a week of arrivals per replication
    simulate(journey, cases=cases, replications=replications, seed=7, events=str(events))
    per_period = _waits_by_period(events, replications)
    for (_, _, c), (p_means, w_means) in zip(PERIODS, per_period, strict=True):
        p_wait, wq = erlang_c(c, lam, mu)
        assert_in_ci99(wq, w_means, f"mean wait with {c} people")
        assert_in_ci99(p_wait, p_means, f"probability of waiting with {c} people")


def _waits_by_period(events, replications: int) -> list[tuple[list[float], list[float]]]:
    """Per period of :data:`PERIODS`, per replication: the share of cases that waited and the mean wait
    of the cases that asked for staff in the period (after its first :data:`SETTLE` minutes)."""
    with open(events, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["concept:name"] == "serve"]
    rep = np.array([int(r["replication"]) for r in rows])
    wait = np.array([float(r["wait_minutes"]) for r in rows])
    started = np.array([r["start_timestamp"][:-1] for r in rows], dtype="datetime64[ms]")
    minute_of_day = ((started - np.datetime64("2027-01-04T00:00")) / np.timedelta64(1, "m") - wait) % 1440
    out = []
    for a, b, _ in PERIODS:
        inside = (minute_of_day >= a + SETTLE) & (minute_of_day < b)
        p = [float((wait[inside & (rep == k)] > 0).mean()) for k in range(replications)]
        w = [float(wait[inside & (rep == k)].mean()) for k in range(replications)]
        out.append((p, w))
    return out


LITTLE = """
    journey: {id: little, name: Office hours}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: team, capacity: 5}]
    steps:
      - {id: work, stage: s, owner: team, duration: {exponential: 30min}}
    workload: {arrivals: {poisson: 40min}, cases: 20000}
    """


def test_littles_law_on_open_hours():
    # Cases arrive around the clock (one per 40 min) and are worked on only in office hours, 40 of
    # the week's 168 hours. Little's law on the people, on open hours: people busy on average over
    # open time = work arriving per open minute x mean work, so utilisation against open hours is
    # 30/40 x 168/40 / 5 = 0.63 (against the clock it would be 0.15). No warm-up: the window then runs
    # from the start (Monday 09:00, empty) to the last end, and holds all the work of every case.
    journey = build(LITTLE, start=datetime(2027, 1, 4, 9, tzinfo=BERLIN),
                    departments={"team": {"calendar": office()}}, steps={"work": {"basis": "working"}})
    result = simulate(journey, replications=8, seed=3)
    offered = 30 / 40 * (7 * 24) / (5 * 8) / 5
    rep_util = [r.department_busy[0] / sum(timeline(office(), r.start).open_minutes(r.window_start, r.window_end)
                                           for _ in range(5)) for r in result.replications]
    assert result.summary["departments"]["team"]["utilisation"]["mean"] == pytest.approx(np.mean(rep_util))
    assert_in_ci99(offered, rep_util, "utilisation against open hours")
    # and Little's law on the whole system, on the clock: work in progress = arrival rate x cycle time,
    # exactly on this sample path, which starts and ends empty
    for r in result.replications:
        wip = r.wip_area / r.window
        assert wip == pytest.approx(r.measured / r.window * float(np.mean(r.cases["cycle_time"])), rel=1e-9)
    # working hours of a case are the open minutes of its department between arrival and end
    r = result.replications[0]
    assert (r.working_cycle_time <= r.cases["cycle_time"] + 1e-9).all()
    assert result.summary["working_time"]["cycle_time_working_hours"]["mean"] == pytest.approx(
        float(np.mean(np.concatenate([x.working_cycle_time for x in result.replications]))) / HOUR)


def test_working_cycle_hours_are_open_minutes_of_the_journey_calendar():
    start = FRIDAY_1500
    journey = build(ONE_STEP, calendar=office(), steps={"review": {"basis": "working"}})
    result = simulate(journey, replications=1)
    line = timeline(office(), start)
    assert result.replications[0].working_cycle_time.tolist() == [line.open_minutes(0.0, result.cycle_times[0])]
    assert result.summary["working_time"]["working_hours_calendar"] == "journey"


def test_overload_is_judged_against_open_hours():
    # 5 people busy 30 min for a case every 20 min: 30% of the clock, but 126% of office hours
    text = LITTLE.replace("poisson: 40min", "poisson: 20min").replace("cases: 20000", "cases: 200")
    around_the_clock = simulate(build(text, start=None), replications=2)
    assert around_the_clock.summary["stability"]["steady"]
    with_hours = simulate(build(text, departments={"team": {"calendar": office()}}), replications=2)
    (overloaded,) = with_hours.summary["stability"]["overloaded"]
    assert overloaded["department"] == "team"
    assert overloaded["utilisation"] == pytest.approx(30 / 20 * 168 / 40 / 5)


@pytest.mark.parametrize("start", [
    FRIDAY_1500,                                                  # 14:00 UTC
    datetime(2027, 3, 27, 23, 59, 30, 250_000, tzinfo=SINGAPORE),  # seconds and milliseconds past a minute
])
def test_event_log_timestamps_from_a_real_start_at_once_and_one_by_one(start):
    minutes = np.concatenate([np.arange(0, 3 * 1440, 7.3), np.random.default_rng(2).exponential(5e4, 500)])
    assert timestamps(minutes, start) == [timestamp(float(m), start) for m in minutes]
    assert timestamp(0.0, start) == start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert timestamp(90.0, FRIDAY_1500) == "2027-01-08T15:30:00.000Z"
