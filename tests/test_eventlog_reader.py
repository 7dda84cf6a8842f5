"""The event-log reader: journeymap's own log reads back without flags, exact values on a tiny log, and every
bad input a located problem (file:line:column) rather than a traceback."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import JOURNEYS, dedent

from journeymap.cli import main
from journeymap.errors import InvalidArgument
from journeymap.eventlog_reader import LogColumns, LogInvalid, read_log

HEADER = "case:concept:name,concept:name,start_timestamp,time:timestamp,org:resource,org:group\n"


def write(tmp_path, text: str, name: str = "log.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def problems_of(path: str, **kwargs) -> list[tuple[int, int, str]]:
    with pytest.raises(LogInvalid) as info:
        read_log(path, **kwargs)
    return [(p.line, p.column, p.rule) for p in info.value.problems]


def test_a_small_log_as_columns(tmp_path):
    path = write(tmp_path, HEADER + dedent("""\
        b,check,2025-01-06T10:00:00Z,2025-01-06T10:30:00Z,ann,desk
        a,check,2025-01-06T09:00:00Z,2025-01-06T09:20:00Z,ann,desk
        a,approve,2025-01-06T10:00:00+01:00,2025-01-06T09:45:00Z,bob,board
        """))
    log = read_log(path)
    assert log.cases == ("a", "b") and log.activities == ("approve", "check")
    assert log.origin.isoformat() == "2025-01-06T09:00:00+00:00"
    # sorted by case, then completion: a/check, a/approve (09:00 UTC start), b/check
    assert log.case.tolist() == [0, 0, 1]
    assert [log.activities[a] for a in log.activity] == ["check", "approve", "check"]
    assert log.start.tolist() == [0.0, 0.0, 60.0]
    assert log.end.tolist() == [20.0, 45.0, 90.0]
    assert log.line.tolist() == [3, 4, 2]
    assert [log.resources[r] for r in log.resource] == ["ann", "bob", "ann"]
    assert [log.groups[g] for g in log.group] == ["desk", "board", "desk"]
    assert log.arrival.tolist() == [0.0, 60.0] and log.has_start and log.n_events == 3


def test_naive_timestamps_in_a_time_zone(tmp_path):
    path = write(tmp_path, HEADER + dedent("""\
        a,x,2025-07-01 09:00:00,2025-07-01 10:00:00,r,g
        b,x,2025-07-01 11:00:00,2025-07-01 11:30:00,r,g
        """))
    utc = read_log(path)
    london = read_log(path, time_zone="Europe/London")
    assert utc.origin.hour == 9 and london.origin.hour == 8  # BST is UTC+1
    assert london.end.tolist() == utc.end.tolist() == [60.0, 150.0]
    with pytest.raises(InvalidArgument, match="unknown time zone"):
        read_log(path, time_zone="Mars/Olympus")


def test_without_start_resource_or_group_columns(tmp_path):
    path = write(tmp_path, dedent("""\
        id,step,when
        1,a,2025-01-01T00:00:00Z
        1,b,2025-01-01T01:00:00Z
        2,a,2025-01-01T02:00:00Z
        """))
    log = read_log(path, LogColumns(case="id", activity="step", end="when"))
    assert not log.has_start and np.array_equal(log.start, log.end)
    assert log.resource.tolist() == [-1, -1, -1] and log.groups == ()
    assert log.arrival.tolist() == [0.0, 120.0]


def test_journeymaps_own_log_reads_back_without_flags(tmp_path):
    events = tmp_path / "sim.csv"
    assert main(["simulate", str(JOURNEYS / "insurance-before.yaml"), "--cases", "30", "--replications", "2",
                 "--events", str(events), "--no-progress"]) == 0
    import pandas as pd

    raw = pd.read_csv(events)
    log = read_log(str(events))
    steps = raw[raw["concept:name"] != "case arrival"]
    assert log.n_events == len(steps) and "case arrival" not in [log.activities[a] for a in log.activity]
    # the 40-case backlog plus 30 new cases, in each of the two replications
    assert log.n_cases == raw["case:concept:name"].nunique() == 2 * 70
    # arrival = the case-arrival row's time, which is before or at the first start
    first_start = np.full(log.n_cases, np.inf)
    np.minimum.at(first_start, log.case, log.start)
    assert np.all(log.arrival <= first_start + 1e-9)
    # durations equal the log's own duration_minutes column, to the millisecond of the timestamps
    by_line = steps.set_index(steps.index + 2)["duration_minutes"]
    assert np.allclose(log.end - log.start, by_line.loc[log.line].to_numpy(), atol=1e-4)


BAD = [
    # missing columns: at line 1, naming the flag
    ("case,activity,ts\na,x,2025-01-01T00:00:00Z\n", {}, [(1, 1, "missing-column")] * 3),
    # a renamed optional column that is absent is required
    (HEADER + "a,x,2025-01-01T00:00:00Z,2025-01-01T00:00:00Z,r,g\n", {"columns": LogColumns(start="begin")},
     [(1, 1, "missing-column")]),
    # unparseable timestamp: its line, the field number of the column
    (HEADER + "a,x,2025-01-01T00:00:00Z,yesterday,r,g\nb,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\n", {},
     [(2, 4, "bad-timestamp")]),
    # naive and aware mixed: the minority is flagged
    (HEADER + "a,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\n"
     "b,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00,r,g\n"
     "c,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\n", {}, [(3, 4, "mixed-time-zones")]),
    # completion before start
    (HEADER + "a,x,2025-01-01T02:00:00Z,2025-01-01T01:00:00Z,r,g\nb,x,2025-01-01T00:00:00Z,"
     "2025-01-01T01:00:00Z,r,g\n", {}, [(2, 4, "completed-before-start")]),
    # a duplicate event: the second copy
    (HEADER + "a,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\nb,x,2025-01-01T00:00:00Z,"
     "2025-01-01T01:00:00Z,r,g\na,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,s,g\n", {},
     [(4, 2, "duplicate-event")]),
    # empty log: a header only, and a file with nothing at all
    (HEADER, {}, [(2, 1, "empty-log")]),
    ("", {}, [(1, 1, "empty-log")]),
    # a single case
    (HEADER + "a,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\n"
     "a,y,2025-01-01T01:00:00Z,2025-01-01T02:00:00Z,r,g\n", {}, [(2, 1, "single-case")]),
    # a row with no activity
    (HEADER + "a,,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\nb,x,2025-01-01T00:00:00Z,"
     "2025-01-01T01:00:00Z,r,g\n", {}, [(2, 2, "missing-value")]),
    # not UTF-8: the line and the byte column
    (HEADER + "a,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\nb,\xe9t\xe9,2025-01-01T00:00:00Z,"
     "2025-01-01T01:00:00Z,r,g\n", {"encoding": "latin-1"}, [(3, 3, "file")]),
    # a quote never closed
    (HEADER + 'a,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\n"b,x,2025\n', {}, [(3, 1, "csv")]),
    # a row cut short: its completion is missing
    (HEADER + "a,x,2025-01-01T00:00:00Z\nb,x,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,r,g\n", {},
     [(2, 4, "missing-value")]),
]


@pytest.mark.parametrize(("text", "kwargs", "expected"), BAD, ids=[
    "missing-columns", "renamed-optional", "bad-timestamp", "mixed-zones", "backwards", "duplicate",
    "header-only", "empty-file", "single-case", "no-activity", "latin-1", "open-quote", "short-row"])
def test_bad_logs_give_located_problems(tmp_path, text, kwargs, expected):
    path = tmp_path / "log.csv"
    kwargs = dict(kwargs)
    path.write_text(text, encoding=kwargs.pop("encoding", "utf-8"))
    assert problems_of(str(path), **kwargs) == expected


def test_missing_column_message_names_the_flag(tmp_path):
    path = write(tmp_path, "case,activity,ts\na,x,2025-01-01T00:00:00Z\n")
    with pytest.raises(LogInvalid) as info:
        read_log(path)
    hints = [p.hint for p in info.value.problems]
    assert "--case-column" in hints[0] and "'case'" in hints[0]
    assert "--activity-column" in hints[1] and "--timestamp-column" in hints[2]


def test_not_a_file(tmp_path):
    assert problems_of(str(tmp_path)) == [(1, 1, "file")]
    assert problems_of(str(tmp_path / "nope.csv")) == [(1, 1, "file")]


def test_many_bad_rows_are_counted_not_all_listed(tmp_path):
    rows = "".join(f"c{i},x,2025-01-01T00:00:00Z,never,r,g\n" for i in range(100))
    path = write(tmp_path, HEADER + rows)
    found = problems_of(path)
    assert len(found) == 21 and found[-1] == (2, 4, "bad-timestamp")


@pytest.mark.filterwarnings("ignore:Install the optional requirement")
def test_xes_through_pm4py(tmp_path):
    pm4py = pytest.importorskip("pm4py")
    import pandas as pd

    frame = pd.DataFrame({"case:concept:name": ["a", "a", "b"], "concept:name": ["x", "y", "x"],
                          "time:timestamp": pd.to_datetime(["2025-01-01T01:00:00Z", "2025-01-01T02:00:00Z",
                                                            "2025-01-01T03:00:00Z"], utc=True),
                          "org:resource": ["r", "s", "r"]})
    path = tmp_path / "log.xes"
    pm4py.write_xes(pm4py.format_dataframe(frame), str(path))
    log = read_log(str(path))
    assert log.cases == ("a", "b") and log.end.tolist() == [0.0, 60.0, 120.0] and not log.has_start


def test_xes_without_pm4py_says_how_to_get_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pm4py", None)  # as if it were not installed
    path = tmp_path / "log.xes"
    path.write_text("<log/>", encoding="utf-8")
    with pytest.raises(LogInvalid) as info:
        read_log(str(path))
    (p,) = info.value.problems
    assert (p.line, p.column, p.rule) == (1, 1, "xes")
    assert "not installed" in p.message and "pip install pm4py" in p.hint


def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "log.csv"
    os.mkfifo(fifo)
    assert problems_of(str(fifo)) == [(1, 1, "file")]
