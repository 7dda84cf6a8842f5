"""Tests for journeymap.eventlog and the event log the simulator streams."""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pytest
from helpers import journey_of, queue_journey, read_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.eventlog import (
    ARRIVAL,
    CHUNK,
    COLUMNS,
    START_DATE,
    EventLogWriter,
    LoggedStep,
    case_name,
    case_width,
    timestamp,
    timestamps,
)
from journeymap.simulation import simulate


@pytest.mark.parametrize("minutes, text", [
    (0.0, "2025-01-06T00:00:00.000Z"),          # the documented start date
    (90.5, "2025-01-06T01:30:30.000Z"),         # minutes and seconds
    (1440.0, "2025-01-07T00:00:00.000Z"),       # a calendar day later
    (0.00001, "2025-01-06T00:00:00.001Z"),      # rounded to the millisecond
])
def test_timestamps_count_from_the_start_date(minutes, text):
    assert timestamp(minutes) == text
    assert START_DATE.isoformat() == "2025-01-06T00:00:00+00:00"


def test_timestamps_at_once_are_the_timestamps_one_by_one():
    # every half millisecond over two days (ties round half to even), and times over decades
    halves = np.arange(0, 2 * 1440 * 120_000 + 1, 997) / 120_000
    rng = np.random.default_rng(1)
    spread = np.concatenate([halves, rng.exponential(3e5, 20_000), rng.uniform(0, 30 * 525_960, 2_000), [0.0, 1e-9]])
    assert timestamps(spread) == [timestamp(float(x)) for x in spread]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 40 * 525_960, allow_nan=False), max_size=50))
def test_timestamps_match_on_any_minutes(minutes):
    assert timestamps(np.array(minutes, dtype=float)) == [timestamp(m) for m in minutes]


def test_recorded_rows_are_written_as_the_row_by_row_writer_writes_them():
    # the simulator records rows and the writer formats them in chunks: the bytes must be those of write()
    steps = [LoggedStep("review", "legal", "buy", "backstage"), LoggedStep("sign, \"now\"", "customer", "buy",
                                                                             "customer", persona="cfo")]
    rng = np.random.default_rng(3)
    rows = []
    for k in range(2 * CHUNK + 7):  # more than two chunks
        case, step = k // 3, int(rng.integers(0, 3))
        start, duration = float(rng.exponential(900.0)) * k, float(rng.exponential(30.0))
        rows.append((case, step, f"legal-{k % 3 + 1}", start, duration, float(rng.choice([0.0, rng.exponential(5.0)])),
                     bool(k % 7 == 0)))
    one, chunked = io.StringIO(), io.StringIO()
    a = EventLogWriter(one, "cio", 7, replication=12, warmup=40, header=False, replication_width=3)
    b = EventLogWriter(chunked, "cio", 7, replication=12, warmup=40, header=False, replication_width=3, steps=steps)
    for case, step, staff, start, duration, wait, rework in rows:
        if step == 2:  # an arrival at the first step
            a.arrival(case, start, steps[0].stage)
            b.record_arrival(case, start, 0)
            continue
        s = steps[step]
        a.write(case, s.id, s.group, staff, s.stage, s.lane, start, duration, wait, s.persona, rework)
        pending = b.pending
        pending.case.append(case)
        pending.step.append(step)
        pending.resource.append(staff)
        pending.start.append(start)
        pending.duration.append(duration)
        pending.wait.append(wait)
        pending.rework.append(rework)
        b.flush_if_full()
    assert b.rows == a.rows == len(rows)
    b.flush()
    assert chunked.getvalue() == one.getvalue()
    assert '"sign, ""now"""' in one.getvalue()  # quoted as csv quotes it


def test_case_names_are_strings_that_sort_as_numbers():
    names = [case_name(i, case_width(1_000_001), r, 2) for r in (3, 12) for i in (2, 10, 1_000_000)]
    assert names == sorted(names)
    assert names[0] == "case-03-0000002"  # replication 3, case 2: unique over a log of many replications


def test_writer_writes_the_header_and_one_row_per_call():
    buf = io.StringIO()
    w = EventLogWriter(buf, "cio")
    w.write(3, "review", "legal", "legal-2", "buy", "backstage", 10.0, 20.0, 5.0)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert tuple(rows[0]) == COLUMNS
    assert rows[0] == {"order": "0", "case:concept:name": "case-0-000003", "concept:name": "review",
                       "start_timestamp": "2025-01-06T00:10:00.000Z", "time:timestamp": "2025-01-06T00:30:00.000Z",
                       "org:resource": "legal-2", "org:group": "legal", "case:persona": "cio", "stage": "buy",
                       "lane": "backstage", "wait_minutes": "5.0", "duration_minutes": "20.0",
                       "replication": "0", "case:warmup": "false", "rework": "false"}
    assert w.rows == 1


def test_writer_flags_warmup_cases_rework_and_writes_arrivals():
    buf = io.StringIO()
    w = EventLogWriter(buf, "cio", replication=2, warmup=4, replication_width=2)
    w.arrival(3, 60.0, "buy")
    w.write(4, "review", "legal", "legal-1", "buy", "backstage", 10.0, 20.0, 0.0, rework=True)
    arrival, step = csv.DictReader(io.StringIO(buf.getvalue()))
    assert (arrival["concept:name"], arrival["case:concept:name"], arrival["case:warmup"]) == \
        (ARRIVAL, "case-02-000003", "true")
    assert arrival["start_timestamp"] == arrival["time:timestamp"] == "2025-01-06T01:00:00.000Z"
    assert (step["case:warmup"], step["rework"], step["replication"]) == ("false", "true", "2")


def test_deterministic_log_is_exactly_what_happened(handoff_journey, tmp_path):
    path = tmp_path / "events.csv"
    simulate(handoff_journey, replications=2, seed=1, events=path)
    rows = read_rows(path)
    got = [(r["order"], r["case:concept:name"], r["concept:name"], r["org:resource"], r["wait_minutes"],
            r["start_timestamp"][11:16], r["time:timestamp"][11:16]) for r in rows]
    one = [  # completion order, each case's arrival first
        ("0", "case-{r}-000000", ARRIVAL, "customer", "0.0", "00:00", "00:00"),
        ("1", "case-{r}-000001", ARRIVAL, "customer", "0.0", "00:00", "00:00"),
        ("2", "case-{r}-000000", "pitch", "sales-1", "0.0", "00:00", "00:10"),
        ("3", "case-{r}-000001", "pitch", "sales-1", "10.0", "00:10", "00:20"),
        ("4", "case-{r}-000000", "redline", "legal-1", "0.0", "00:40", "01:00"),
        ("5", "case-{r}-000000", "sign", "customer", "0.0", "01:00", "01:05"),
        ("6", "case-{r}-000001", "redline", "legal-1", "10.0", "01:00", "01:20"),
        ("7", "case-{r}-000001", "sign", "customer", "0.0", "01:20", "01:25"),
    ]
    # every replication, in replication order (this journey is deterministic, so both are alike)
    assert got == [(o, c.format(r=r), *rest) for r in (0, 1) for o, c, *rest in one]
    assert [r["replication"] for r in rows] == ["0"] * 8 + ["1"] * 8
    assert {r["case:warmup"] for r in rows} == {"false"} and {r["rework"] for r in rows} == {"false"}
    assert {r["org:group"] for r in rows} == {"sales", "legal", "customer"}
    assert {(r["concept:name"], r["stage"], r["lane"]) for r in rows} == {
        (ARRIVAL, "sell", "customer"), ("pitch", "sell", "backstage"), ("redline", "sign", "backstage"),
        ("sign", "sign", "customer")}


def test_log_flags_warmup_cases_and_rework(tmp_path):
    journey = journey_of("""
        journey: {id: rework, name: Rework}
        persona: {id: buyer}
        stages: [s]
        departments: [{id: desk, capacity: 1}]
        steps:
          - id: work
            stage: s
            owner: desk
            duration: {exponential: 4min}
            next: [{to: work, probability: 0.3, rework: true}, {to: done, probability: 0.7}]
          - {id: done, stage: s, owner: customer, duration: 0min}
        workload: {arrivals: {poisson: 10min}, cases: 200, warmup: 20}
        """)
    path = tmp_path / "events.csv"
    result = simulate(journey, replications=2, seed=5, events=path)
    rows = read_rows(path)
    for rep in (0, 1):
        mine = [r for r in rows if r["replication"] == str(rep)]
        arrivals = [r for r in mine if r["concept:name"] == ARRIVAL]
        assert len(arrivals) == 200 and len({r["case:concept:name"] for r in mine}) == 200
        warm = {r["case:concept:name"] for r in mine if r["case:warmup"] == "true"}
        assert warm == {f"case-{rep}-{i:06d}" for i in range(20)}  # the first 20 by arrival order
        # one rework row per rework flow taken, by every case (warm-up cases too)
        reworks = sum(r["rework"] == "true" for r in mine)
        measured = sum(r["rework"] == "true" for r in mine if r["case:concept:name"] not in warm)
        assert measured == result.replications[rep].cases["rework"].sum() and reworks >= measured
        assert all(r["concept:name"] == "work" for r in mine if r["rework"] == "true")


def test_log_has_one_row_per_step_occurrence_and_names_each_staff_member(acme, tmp_path):
    path = tmp_path / "acme.csv"
    result = simulate(acme, cases=80, replications=1, seed=4, events=path)
    rows = read_rows(path)
    visits = sum(result.replications[0].step_visits)
    assert len(rows) == visits + 80  # no warm-up: every case is measured, every occurrence logged, + arrivals
    assert [int(r["order"]) for r in rows] == list(range(len(rows)))
    assert [r["time:timestamp"] for r in rows] == sorted(r["time:timestamp"] for r in rows)
    capacity = acme.department_by_id["implementation"].capacity
    staff = {r["org:resource"] for r in rows if r["org:group"] == "implementation"}
    assert staff <= {f"implementation-{k}" for k in range(1, capacity + 1)} and len(staff) > 1
    assert all(r["start_timestamp"] <= r["time:timestamp"] for r in rows)


def test_log_does_not_depend_on_workers(acme, tmp_path):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    simulate(acme, cases=50, replications=3, seed=2, workers=1, events=one)
    simulate(acme, cases=50, replications=3, seed=2, workers=2, events=two)
    assert one.read_bytes() == two.read_bytes()
    rows = read_rows(one)
    # every replication, complete and in replication order
    assert [r["replication"] for r in rows] == sorted(r["replication"] for r in rows)
    assert {r["replication"] for r in rows} == {"0", "1", "2"}
    assert sum(r["concept:name"] == ARRIVAL for r in rows) == 150
    assert sorted(os.listdir(tmp_path)) == ["one.csv", "two.csv"]  # no part files left behind


def test_interrupted_run_leaves_no_log_behind(tmp_path):
    journey = journey_of(queue_journey(1, 5, 10))
    path = tmp_path / "events.csv"

    def interrupt(done, total):
        if done >= 500:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate(journey, cases=5_000, replications=1, events=path, progress=interrupt)
    assert os.listdir(tmp_path) == []


def test_pm4py_reads_the_log_without_fiddling(acme, tmp_path):
    pm4py = pytest.importorskip("pm4py")
    pd = pytest.importorskip("pandas")
    path = tmp_path / "events.csv"
    simulate(acme, cases=30, replications=2, seed=1, events=path)
    df = pm4py.format_dataframe(pd.read_csv(path), case_id="case:concept:name", activity_key="concept:name",
                                timestamp_key="time:timestamp", start_timestamp_key="start_timestamp")
    assert df["case:concept:name"].nunique() == 60  # case ids are unique over the replications
    assert df["case:warmup"].dtype == bool and df["rework"].dtype == bool
    # handover of work between staff members
    sna = pm4py.discover_handover_of_work_network(df)
    handovers = set(sna.connections)
    assert ("sales-1", "legal-1") in handovers or any(a.startswith("sales") and b.startswith("legal")
                                                      for a, b in handovers)
    # performance view: the directly-follows graph with times between activities
    dfg, start, end = pm4py.discover_performance_dfg(df)
    assert ("proposal", "contract_review") in dfg
    assert set(start) == {ARRIVAL} and set(end) == {"renewal"}
    assert (ARRIVAL, "briefing") in dfg
