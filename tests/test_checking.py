"""journeymap check (journeymap/checking.py, rendering/qq.py, cmd_check): a journey against an event log.

The statistics are tested on hand-made events with hand-computed answers; the verdicts on a small journey
checked against its own simulated log (reproduced) and against variants with one thing changed (off on
exactly the items that change); the command line on its exit codes, located messages and on the table and
the JSON saying the same numbers.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import dedent
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.checking import (
    END,
    Events,
    check,
    check_blocks,
    compare,
    log_statistics,
    quantile_bootstrap,
)
from journeymap.cli import main
from journeymap.simulation import simulate
from journeymap.tables import Table
from journeymap.validation import load_journey

# --------------------------------------------------------------------------- the statistics, on hand-made events

OWNERS = {"A": "front", "B": "back", "C": "customer", "D": "back"}
CAPACITY = {"front": 2, "back": 3}


def hand_events() -> Events:
    """Three cases. 0: A 1-3, B 5-9, C (customer) 9-10, D 12-13, arriving at 0. 1: A 2-4, A 4-6, D 8-10,
    arriving at 2. 2: B 0-5, already in progress (its first step is not the start step A)."""
    rows = [(0, "A", 1, 3), (0, "B", 5, 9), (0, "C", 9, 10), (0, "D", 12, 13),
            (1, "A", 2, 4), (1, "A", 4, 6), (1, "D", 8, 10),
            (2, "B", 0, 5)]
    case, act, start, end = zip(*rows, strict=True)
    return Events.of(case, act, start, end, arrival=[0.0, 2.0, 0.0])


def test_cycle_times_count_from_arrival_to_the_last_completion_of_new_cases_only():
    stats = log_statistics(hand_events(), OWNERS, "A")
    assert (stats.cases, stats.new_cases) == (3, 2)
    assert stats.cycle.tolist() == [13.0, 8.0]  # case 2 (in progress at the start) is not a new case


def test_durations_and_waits_per_step():
    stats = log_statistics(hand_events(), OWNERS, "A")
    assert stats.durations["A"].tolist() == [2.0, 2.0, 2.0]
    assert stats.durations["B"].tolist() == [4.0]  # case 2's B is not in a new case
    # waits: from arrival (first event) or from the previous completion, never below 0
    assert stats.waits["A"].tolist() == [1.0, 0.0, 0.0]
    assert stats.waits["B"].tolist() == [2.0]
    assert stats.waits["C"].tolist() == [0.0]
    assert stats.waits["D"].tolist() == [2.0, 2.0]


def test_handoffs_count_consecutive_steps_of_two_departments_never_the_customer():
    stats = log_statistics(hand_events(), OWNERS, "A")
    # case 0: A(front) -> B(back) is one; B -> C and C -> D touch the customer: not handoffs (as Journey.is_handoff)
    # case 1: A -> A is the same department; A(front) -> D(back) is one
    assert stats.handoffs.tolist() == [1, 1]


def test_routing_counts_directly_follows_in_new_cases():
    stats = log_statistics(hand_events(), OWNERS, "A")
    assert stats.follows == {"A": {"A": 1, "B": 1, "D": 1}, "B": {"C": 1}, "C": {"D": 1}, "D": {END: 2}}


def test_utilisation_is_busy_time_over_capacity_times_span():
    stats = log_statistics(hand_events(), OWNERS, "A")
    assert stats.span == 13.0  # first arrival 0, last completion 13
    # front: A 2 + 2 + 2 = 6; back: B 4 + D 1 + D 2 + case 2's B 5 = 12 (every case counts here)
    assert stats.utilisation(CAPACITY) == pytest.approx({"front": 6 / (2 * 13), "back": 12 / (3 * 13)})


def test_the_people_of_a_department_are_the_distinct_resources_at_its_steps():
    # front: ann and bob; back: carl in case 0, carl and dee in case 1; utilisation keeps the journey's capacity
    events = Events.of([0, 0, 1, 1, 1], ["A", "D", "A", "D", "D"], [0, 2, 0, 2, 4], [2, 4, 2, 4, 8],
                       resources=["ann", "carl", "bob", "carl", "dee"])
    stats = log_statistics(events, OWNERS, "A")
    assert stats.staff == {"front": 2, "back": 2}
    assert stats.utilisation(CAPACITY) == pytest.approx({"front": 4 / (2 * 8), "back": 8 / (3 * 8)})


def test_the_span_of_a_simulated_log_adds_up_its_replications():
    # the same two cases in run 0 and run 1; run 1 is shifted by 100 minutes
    events = Events.of([0, 0, 1, 1], ["A", "D", "A", "D"], [0, 5, 100, 110], [5, 10, 105, 120],
                       arrival=[0.0, 100.0], run=[0, 1])
    stats = log_statistics(events, OWNERS, "A")
    assert stats.span == 10.0 + 20.0


def test_exact_quantiles_and_identical_logs_reproduce_everything():
    # 11 cases with cycle times 0, 10, ..., 100: P10, P50, P90 are exactly 10, 50 and 90
    cases = list(range(11))
    events = Events.of(cases, ["A"] * 11, [0.0] * 11, [10.0 * c for c in cases], arrival=[0.0] * 11)
    stats = log_statistics(events, OWNERS, "A")
    items, _ = compare(stats, stats, CAPACITY, resamples=200, seed=3)
    by_name = {(i.family, i.name): i for i in items}
    assert [by_name[("cycle time", p)].real for p in ("P10", "P50", "P90")] == [10.0, 50.0, 90.0]
    assert by_name[("cycle time", "KS distance")].simulated == 0.0
    # the back office has no event here: "too few", the rest reproduced
    assert {i.verdict for i in items if i.name != "back"} == {"reproduced"}
    assert by_name[("utilisation", "back")].verdict == "too few"


def test_the_bootstrap_is_reproducible_with_its_seed_and_brackets_the_median():
    values = np.arange(1.0, 101.0)
    a = quantile_bootstrap(values, (0.5,), 300, np.random.default_rng(5))
    b = quantile_bootstrap(values, (0.5,), 300, np.random.default_rng(5))
    assert np.array_equal(a, b) and a.shape == (300, 1)
    low, high = np.quantile(a[:, 0], [0.025, 0.975])
    assert low < 50.5 < high and high - low < 25  # sd of a median of 100 uniform values is about 5


# --------------------------------------------------------------------------- verdicts on a simulated log

JOURNEY = """
journey: {id: checked, name: A journey to check}
persona: {id: client, name: Client}
stages: [{id: all, name: All}]
departments:
  - {id: front, name: Front office, capacity: 4}
  - {id: back, name: Back office, capacity: 20}
  - {id: checks, name: Checks, capacity: 6}
steps:
  - {id: request, name: Client asks, stage: all, owner: customer, duration: 10min}
  - {id: intake, name: Front office logs it, stage: all, owner: front, duration: 20min}
  - id: review
    name: Back office reviews
    stage: all
    owner: back
    duration: {lognormal: {mean: REVIEW, sd: 1h}}
    next:
      - {to: fast_track, probability: FAST}
      - {to: full_check, probability: FULL}
  - {id: fast_track, name: Quick check, stage: all, owner: checks, duration: 1h, next: {to: close}}
  - {id: full_check, name: Full check, stage: all, owner: checks, duration: 1h}
  - {id: close, name: Front office closes it, stage: all, owner: front, duration: {exponential: 15min}}
workload: {arrivals: {poisson: 1h}, cases: 300}
"""


def write_journey(folder: Path, name: str, review: str = "3h", fast: float = 0.3) -> Path:
    text = JOURNEY.replace("REVIEW", review).replace("FULL", f"{1 - fast:.2f}").replace("FAST", f"{fast:.2f}")
    path = folder / f"{name}.yaml"
    path.write_text(dedent(text))
    return path


@pytest.fixture(scope="module")
def logged(tmp_path_factory) -> tuple[Path, Path]:
    """The journey and one simulated run of it (seed 99) as the "real" log."""
    folder = tmp_path_factory.mktemp("check")
    journey = write_journey(folder, "checked")
    log = folder / "log.csv"
    simulate(load_journey(str(journey)), replications=1, seed=99, events=str(log))
    return journey, log


def off_items(result) -> set[tuple[str, str]]:
    return {(i.family, i.name) for i in result.off}


def test_a_journey_reproduces_its_own_log_with_another_seed(logged, capsys):
    journey, log = logged
    assert main(["check", str(journey), str(log), "--seed", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "REPRODUCED" in out and "300 cases in the log (300 new)" in out


def test_a_step_twice_as_slow_is_off_on_exactly_its_duration_its_department_and_the_cycle_time(logged, tmp_path):
    _, log = logged
    slow = load_journey(str(write_journey(tmp_path, "slow", review="6h")))
    result = check(slow, str(log), seed=1, resamples=500)
    # review dominates the cycle time (3h of about 5h, with little spread: doubling it moves every quantile);
    # the back office has staff to spare (no queue), so no wait moves
    assert off_items(result) == {("duration", "review"), ("utilisation", "back"), ("cycle time", "P10"),
                                 ("cycle time", "P50"), ("cycle time", "P90"), ("cycle time", "KS distance")}
    review = next(i for i in result.items if (i.family, i.name) == ("duration", "review"))
    assert review.simulated / review.real == pytest.approx(2.0, rel=0.2)


def test_a_different_routing_probability_is_off_on_exactly_that_branch(logged, tmp_path):
    _, log = logged
    rerouted = load_journey(str(write_journey(tmp_path, "rerouted", fast=0.6)))
    result = check(rerouted, str(log), seed=1, resamples=500)
    # both branches take the same time and the same department: only the shares move
    assert off_items(result) == {("routing", "review → fast_track"), ("routing", "review → full_check")}
    share = next(i for i in result.items if i.name == "review → fast_track")
    assert share.real == pytest.approx(0.3, abs=0.08) and share.simulated == pytest.approx(0.6, abs=0.04)


def test_the_command_exits_1_when_off_and_writes_the_json_and_the_chart(logged, tmp_path, capsys):
    _, log = logged
    slow = write_journey(tmp_path, "slow", review="6h")
    out_json, folder = tmp_path / "check.json", tmp_path / "charts"
    assert main(["check", str(slow), str(log), "--json-output", str(out_json), "-o", str(folder),
                 "--resamples", "300", "--no-progress"]) == 1
    assert "OFF: 6 of" in capsys.readouterr().out
    data = json.loads(out_json.read_text())
    assert data["reproduced"] is False and data["items_off"] == 6
    assert (folder / "slow-qq.png").stat().st_size > 10_000


def test_a_larger_tolerance_lets_a_small_difference_pass(logged, tmp_path):
    _, log = logged
    a_bit_slow = load_journey(str(write_journey(tmp_path, "bit", review="3.6h")))  # 20% slower
    strict = check(a_bit_slow, str(log), seed=1, resamples=300, tolerance=0.0)
    loose = check(a_bit_slow, str(log), seed=1, resamples=300, tolerance=0.3)
    assert ("duration", "review") in off_items(strict)
    assert loose.reproduced


# --------------------------------------------------------------------------- the table and the JSON agree

_UNITS = {"d": 1440.0, "h": 60.0, "min": 1.0, "s": 1 / 60}


def parse_cell(text: str) -> tuple[float, float]:
    """A table cell as (value, half its last digit's step), in the JSON's unit (minutes, shares)."""
    text = text.strip()
    if text.endswith("%"):
        return float(text[:-1]) / 100, 0.0005 + 1e-12
    match = re.fullmatch(r"(-?[\d.]+)(d|h|min|s)", text)
    if match:
        number, unit = match.groups()
        decimals = len(number.split(".")[1]) if "." in number else 0
        return float(number) * _UNITS[unit], 0.5 * 10 ** -decimals * _UNITS[unit] + 1e-9
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10 ** -decimals + 1e-12


def test_every_number_of_the_table_is_the_jsons(logged, tmp_path, capsys):
    journey, log = logged
    out_json = tmp_path / "check.json"
    assert main(["check", str(journey), str(log), "--json-output", str(out_json), "--resamples", "300",
                 "--no-progress"]) == 0
    table = capsys.readouterr().out
    data = json.loads(out_json.read_text())
    rows = {}
    family = None
    titles = {"Cycle time": "cycle time", "Mean duration": "duration", "Mean wait": "wait",
              "Handoffs": "handoffs", "Routing": "routing", "Utilisation": "utilisation"}
    for line in table.splitlines():
        family = next((f for t, f in titles.items() if line.startswith(t)), family)
        cells = re.split(r"\s{2,}", line.strip())
        if family and len(cells) == 6 and cells[0] != "Item" and not cells[0].startswith("-"):
            rows[(family, cells[0])] = cells
    assert len(rows) == len(data["items"]) > 20
    for item in data["items"]:
        name, real, ci, simulated, allowed, verdict = rows[(item["family"], item["name"])]
        assert verdict == item["text"]
        for cell, value in ((simulated, item["simulated"]), (allowed, item["allowed"])):
            number, step = parse_cell(cell)
            assert abs(number - value) <= step, (item["name"], cell, value)
        if item["unit"] != "distance":
            number, step = parse_cell(real)
            assert abs(number - item["real"]) <= step
            low, high = (parse_cell(c)[0] for c in ci.split(" .. "))
            assert abs(low - item["real_ci95"][0]) <= step * 10 and abs(high - item["real_ci95"][1]) <= step * 10


def test_the_qq_chart_draws_the_jsons_quantiles(logged):
    from journeymap.rendering.qq import qq_chart

    journey, log = logged
    data = check(load_journey(str(journey)), str(log), seed=1, resamples=200).as_dict()
    fig = qq_chart(data)
    points = fig.axes[0].collections[1].get_offsets()  # [0] is the tolerance band, [1] the percentiles
    per = 60.0  # cycle times of hours: drawn in hours
    assert np.allclose(points[:, 0] * per, data["qq"]["real"]) and np.allclose(points[:, 1] * per,
                                                                                data["qq"]["simulated"])
    assert len(data["qq"]["real"]) == 99


def test_the_blocks_have_a_table_per_family(logged):
    journey, log = logged
    result = check(load_journey(str(journey)), str(log), seed=1, resamples=200)
    tables = [b for b in check_blocks(result) if isinstance(b, Table)]
    assert len(tables) == 6 and sum(len(t.rows) for t in tables) == len(result.items)


# --------------------------------------------------------------------------- bad input: located, exit 2


def test_a_missing_log_is_a_located_error(logged, tmp_path, capsys):
    journey, _ = logged
    missing = tmp_path / "nowhere.csv"
    assert main(["check", str(journey), str(missing), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{missing}:1:1: error" in err and "not found" in err


def test_activities_the_journey_does_not_have_are_named_with_their_first_line(logged, tmp_path, capsys):
    journey, log = logged
    lines = log.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("concept:name")
    # the 6th line of the file (a step row) becomes an activity the journey has no step for
    fields = lines[5].split(",")
    fields[column] = "teleport"
    lines[5] = ",".join(fields)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    out_json = tmp_path / "out.json"
    assert main(["check", str(journey), str(bad), "--json-output", str(out_json), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:6:{column + 1}: error [check-unknown-activity] activity 'teleport' (1 event)" in err
    assert not out_json.exists()  # nothing written on error


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(logged, tmp_path, capsys):
    journey, log = logged
    before = log.read_bytes()
    assert main(["check", str(journey), str(log), "--json-output", str(log), "--no-progress"]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert log.read_bytes() == before


def test_an_invalid_journey_is_bad_input_exit_2(logged, tmp_path, capsys):
    _, log = logged
    broken = tmp_path / "broken.yaml"
    broken.write_text("journey: {id: x}\nsteps: 3\n")
    assert main(["check", str(broken), str(log), "--no-progress"]) == 2
    assert f"{broken}:" in capsys.readouterr().err


def test_a_log_of_another_process_says_no_case_starts_at_the_first_step(logged, tmp_path, capsys):
    journey, log = logged
    lines = log.read_text().splitlines()
    column = lines[0].split(",").index("concept:name")
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[column] not in ("request", "case arrival")]
    other = tmp_path / "other.csv"
    other.write_text("\n".join(kept) + "\n")
    assert main(["check", str(journey), str(other), "--no-progress"]) == 2
    assert "[check-no-new-cases] 0 case(s) of the log start at the journey's first step 'request'" in \
        capsys.readouterr().err


def test_a_negative_tolerance_is_a_usage_error(logged, capsys):
    journey, log = logged
    assert main(["check", str(journey), str(log), "--tolerance", "-0.1", "--no-progress"]) == 2
    assert "--tolerance" in capsys.readouterr().err


def test_no_item_is_judged_on_too_few_observations():
    # two new cases only: every item is "too few", none fails, and nothing is divided by zero
    events = Events.of([0, 1], ["A", "A"], [0.0, 0.0], [5.0, 7.0], arrival=[0.0, 0.0])
    stats = log_statistics(events, OWNERS, "A")
    items, _ = compare(stats, stats, CAPACITY, resamples=50)
    assert items and all(i.verdict == "too few" for i in items)
    assert all(math.isnan(i.allowed) for i in items)


def test_check_help_has_an_example(capsys):
    assert main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example:\n  journeymap check" in out and "--tolerance" in out


def test_a_log_without_start_times_compares_waits_between_completions_and_no_durations(logged, tmp_path):
    import csv

    journey, log = logged
    rows = list(csv.reader(log.open()))
    drop = rows[0].index("start_timestamp")
    no_start = tmp_path / "no-start.csv"
    with no_start.open("w", newline="") as f:
        csv.writer(f).writerows([r[:drop] + r[drop + 1:] for r in rows])
    result = check(load_journey(str(journey)), str(no_start), seed=1, resamples=200)
    families = {i.family for i in result.items}
    assert "duration" not in families and "utilisation" not in families and "wait" in families
    assert result.reproduced and any("no start times" in n for n in result.notes)


def test_the_journey_gets_the_logs_arrivals_and_a_calendar_journey_starts_at_the_first_one():
    from datetime import UTC, datetime, timedelta

    from helpers import JOURNEYS

    from journeymap.checking import journey_with_arrivals

    journey = load_journey(str(JOURNEYS / "insurance-before.yaml"))  # has calendars
    origin = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    fed = journey_with_arrivals(journey, np.array([30.0, 90.0, 45.0, 60.0]), np.array([True, True, False, True]),
                                ["enquiry", "enquiry", "underwriting", "enquiry"], origin)
    wl = fed.workload
    assert wl.arrivals.kind == "schedule" and wl.arrivals.times == (0.0, 30.0, 60.0)  # from the first arrival
    assert wl.cases == 3 and wl.warmup == 0
    assert [(b.step, b.cases) for b in wl.backlog] == [("underwriting", 1)]
    assert wl.start == origin + timedelta(minutes=30)


@pytest.mark.slow
def test_the_bundled_claims_log_checks_against_the_journey_mined_from_it(tmp_path, capsys):
    # data journeymap did not write: journeys/data/make_sample_log.py's own generator; its activities are names
    # ("Register claim"), the mined steps' ids are not ("register"), so activities match steps by name
    from helpers import JOURNEYS

    log = JOURNEYS / "data" / "claims-log.csv"
    mined = tmp_path / "claims.yaml"
    assert main(["mine", str(log), "--mapping", str(JOURNEYS / "data" / "claims-mapping.yaml"), "-o",
                 str(mined)]) == 0
    out_json = tmp_path / "check.json"
    assert main(["check", str(mined), str(log), "--json-output", str(out_json), "--no-progress"]) == 0
    data = json.loads(out_json.read_text())
    assert data["reproduced"] and data["cases"]["real_new"] == 799
    assert any("no case arrival rows" in n for n in data["notes"])
    assert {i["family"] for i in data["items"]} == {"cycle time", "duration", "wait", "handoffs", "routing",
                                                    "utilisation"}


@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from("ABCD"), st.floats(0, 100), st.floats(0, 50)),
                min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_statistics_invariants(rows):
    # any events: routing counts every event of a new case once, shares of a step sum to 1, a case of k events
    # has at most k - 1 handoffs, waits and durations are never negative
    cases = sorted({c for c, *_ in rows})
    number = {c: i for i, c in enumerate(cases)}
    events = Events.of([number[c] for c, *_ in rows], [a for _, a, _, _ in rows], [s for *_, s, _ in rows],
                       [s + d for *_, s, d in rows], arrival=[0.0] * len(cases))
    stats = log_statistics(events, OWNERS, "A")
    new_events = sum(len(x) for x in stats.durations.values())
    assert sum(sum(f.values()) for f in stats.follows.values()) == new_events
    assert all(x.min() >= 0 for table in (stats.durations, stats.waits) for x in table.values())
    per_case = np.bincount(events.case, minlength=len(cases))
    first = [int(events.activity[events.case == c][0]) for c in range(len(cases))]
    new = [events.activities[a] == "A" for a in first]
    assert stats.new_cases == sum(new) and len(stats.handoffs) == sum(new)
    assert all(h <= n - 1 for h, n in zip(stats.handoffs, per_case[np.array(new, dtype=bool)], strict=True))
    assert (stats.cycle >= 0).all()


def test_a_long_tailed_cycle_time_gets_logarithmic_axes_and_the_tables_labels():
    from journeymap.rendering.qq import qq_chart

    real = [60.0 * 1.05 ** k for k in range(99)]  # 1h to about 2.7 days: a spread of 120
    items = [{"family": "cycle time", "name": "P50", "unit": "minutes", "real": real[49], "simulated": real[49] * 1.5,
              "verdict": "off"}]
    fig = qq_chart({"qq": {"probabilities": [], "real": real, "simulated": real}, "tolerance": 0.1, "items": items})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["P50 (off)\nlog 10.9h, model 16.4h"]  # 60 x 1.05^49 min: format_minutes, as in the table
    narrow = qq_chart({"qq": {"probabilities": [], "real": real[40:60], "simulated": real[40:60]}, "tolerance": 0.1,
                       "items": []})
    assert narrow.axes[0].get_xscale() == "linear"
