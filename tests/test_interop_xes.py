"""journeymap.interop.xes: the simulated event log as XES, read back by pm4py with the same events, cases and
timestamps as the CSV log; ``export --to xes`` and ``simulate --events log.xes``; atomic, escaped, streamed."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT

from journeymap.cli import main
from journeymap.errors import InvalidArgument
from journeymap.eventlog import ARRIVAL, COLUMNS
from journeymap.interop import xes
from journeymap.interop.xes import csv_to_xes, simulate_xes, xes_events
from journeymap.simulation import simulate
from journeymap.validation import load_journey

J = str(ROOT / "journeys" / "insurance-after.yaml")
NS = "{http://www.xes-standard.org/}"


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> tuple[Path, Path]:
    """A two-replication CSV log of a journey with parallel branches and rework, and its XES."""
    folder = tmp_path_factory.mktemp("xes")
    journey = load_journey(J)
    simulate(journey, cases=40, replications=2, seed=5, events=str(folder / "log.csv"))
    csv_to_xes(folder / "log.csv", folder / "log.xes", name=journey.name)
    return folder / "log.csv", folder / "log.xes"


def test_pm4py_reads_the_same_events_cases_and_timestamps(logs):
    pm4py = pytest.importorskip("pm4py")
    csv_path, xes_path = logs
    rows = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    df = pm4py.read_xes(str(xes_path))
    assert len(df) == 2 * len(rows)  # a start and a completion per row
    assert set(df["case:concept:name"]) == set(rows["case:concept:name"])
    assert df["case:concept:name"].nunique() == rows["case:concept:name"].nunique() >= 2 * 40  # + the backlog
    assert set(df["lifecycle:transition"]) == {"start", "complete"}
    key = ["case:concept:name", "concept:instance"]
    rows = rows.rename(columns={"order": "concept:instance"}).set_index(key).sort_index()
    for transition, column in (("start", "start_timestamp"), ("complete", "time:timestamp")):
        events = df[df["lifecycle:transition"] == transition].set_index(key).sort_index()
        assert events.index.equals(rows.index)  # every row once, as a start and as a completion
        assert (events["time:timestamp"] == pd.to_datetime(rows[column], utc=True)).all()
        for name in ("concept:name", "org:resource", "org:group", "stage", "lane"):
            assert (events[name] == rows[name]).all(), name
        assert (events["duration_minutes"] == rows["duration_minutes"].astype(float)).all()
        assert (events["rework"] == (rows["rework"] == "true")).all()
        assert (events["case:warmup"] == (rows["case:warmup"] == "true")).all()
        assert (events["case:replication"] == rows["replication"].astype(int)).all()
        assert (events["case:persona"] == rows["case:persona"]).all()
    assert (df["concept:name"] == ARRIVAL).sum() == 2 * (rows["concept:name"] == ARRIVAL).sum()
    assert df["rework"].any()  # the log has rework to carry


def test_traces_are_in_case_order_and_events_in_time_order(logs):
    _, xes_path = logs
    root = ET.parse(xes_path).getroot()
    assert root.get("xes.version") == "1849-2016"
    assert {e.get("prefix") for e in root.findall(f"{NS}extension")} == {"concept", "time", "lifecycle", "org"}
    names = []
    for trace in root.findall(f"{NS}trace"):
        names.append(next(a.get("value") for a in trace.findall(f"{NS}string") if a.get("key") == "concept:name"))
        seen: set[str] = set()
        stamps = []
        for event in trace.findall(f"{NS}event"):
            attrs = {a.get("key"): a.get("value") for a in event}
            stamps.append(attrs["time:timestamp"])
            if attrs["lifecycle:transition"] == "start":
                seen.add(attrs["concept:instance"])
            else:  # a completion always follows the start of its instance
                assert attrs["concept:instance"] in seen
        assert stamps == sorted(stamps)  # ISO 8601 UTC with milliseconds: text order is time order
        assert stamps[0] == min(stamps)
    assert names == sorted(names) and len(names) == len(set(names))


def test_simulate_events_xes_equals_export_xes(tmp_path, capsys):
    """`simulate --events log.xes` writes XES by the extension; export --to xes writes the same log."""
    args = ["--cases", "15", "--replications", "1", "--seed", "3"]
    assert main(["simulate", J, *args, "--no-progress", "--events", str(tmp_path / "a.xes")]) == 0
    assert main(["export", J, *args, "-o", str(tmp_path / "b.xes")]) == 0
    capsys.readouterr()
    assert (tmp_path / "a.xes").read_bytes() == (tmp_path / "b.xes").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xes", "b.xes"]  # no temporary CSV left behind
    assert (tmp_path / "a.xes").read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<log ')
    # a CSV target is still a CSV
    assert main(["simulate", J, *args, "--no-progress", "--events", str(tmp_path / "c.csv")]) == 0
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").startswith(",".join(COLUMNS))


def test_hostile_names_are_escaped(tmp_path, write_journey):
    journey_path = write_journey("""
        journey: {id: h, name: 'A <log> & "quotes" ]]>'}
        persona: {id: p}
        stages: [a]
        departments: [{id: ops}]
        steps:
          - {id: s1, stage: a, owner: ops, duration: 1h}
        """)
    journey = load_journey(str(journey_path))
    out = simulate_xes(journey, tmp_path / "h.xes", cases=3)
    root = ET.parse(out).getroot()  # well-formed XML
    name = next(a.get("value") for a in root.findall(f"{NS}string") if a.get("key") == "concept:name")
    assert name == 'A <log> & "quotes" ]]>'
    # characters XML 1.0 cannot hold (control characters) are dropped; line breaks kept as references
    assert xes._attr("a\x01b\x1f\nc\t<") == '"ab&#10;c&#9;&lt;"'


def test_a_csv_that_is_not_a_journeymap_log_is_refused_and_nothing_is_written(tmp_path):
    bad = tmp_path / "other.csv"
    bad.write_text("case,activity,time\n1,a,2025-01-01\n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match="is not a journeymap event log"):
        csv_to_xes(bad, tmp_path / "out.xes")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv"]


def test_an_interrupted_simulation_leaves_no_xes_and_no_temporary_files(tmp_path, monkeypatch):
    target = tmp_path / "log.xes"
    with pytest.raises(KeyboardInterrupt), xes_events(target, name="x") as events:
        assert events is not None and events.endswith(".csv") and os.path.dirname(events) != str(tmp_path)
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_traces_are_gathered_in_batches_not_in_memory(tmp_path, monkeypatch, logs):
    """The SQLite gathering gives the same file whatever the batch size (a batch of 7 rows forces many)."""
    csv_path, xes_path = logs
    monkeypatch.setattr(xes, "_BATCH", 7)
    csv_to_xes(csv_path, tmp_path / "small.xes", name=load_journey(J).name)
    assert (tmp_path / "small.xes").read_bytes() == xes_path.read_bytes()
