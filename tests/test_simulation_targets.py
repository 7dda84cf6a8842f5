"""Service-level targets: exact attainment on deterministic journeys, the 95% interval, per class, and what the
terminal, ``compare`` and its report show (the JSON's numbers).

Journeys are built in Python (the YAML keys for targets are read by the format work, in parallel).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import pytest
from helpers import dedent, journey_of, queue_journey

from journeymap.comparison import compare
from journeymap.model import Target
from journeymap.report import report_html
from journeymap.simulation import simulate, summary_text
from journeymap.simulation.service import difference_interval, goal_met, share_interval
from journeymap.statistics import t_interval, t_quantile
from journeymap.tables import comparison_text
from journeymap.workingtime import Calendar, WeeklyHours, parse_hours

#: Four cases at time 0. Step a (desk, one person, 10 min, stage s1) ends at 10, 20, 30, 40; a 3 min inbox;
#: then step b (the customer, 5 min, stage s2) ends at 18, 28, 38, 48.
TWO_STAGES = """
    journey: {id: sla, name: Targets}
    persona: {id: buyer}
    stages: [s1, s2]
    departments: [{id: desk, capacity: 1}]
    steps:
      - {id: a, stage: s1, owner: desk, duration: 10min, next: {to: b, delay: 3min}}
      - {id: b, stage: s2, owner: customer, duration: 5min}
    workload: {arrivals: {schedule: [0min, 0min, 0min, 0min]}}
    """


def targeted(*targets: Target, text: str = TWO_STAGES):
    return replace(journey_of(text), targets=targets)


def attained(journey, replications: int = 3) -> dict[str, dict]:
    return {t["id"]: t for t in simulate(journey, replications=replications).summary["targets"]}


def test_attainment_is_exact_on_a_deterministic_journey():
    got = attained(targeted(
        Target("all", "Done in 30 min", "journey", "", 30.0),          # cycles 18 28 38 48: 2 of 4
        Target("all2", "Done in 48 min", "journey", "", 48.0),         # a limit is met when equal: 4 of 4
        Target("a", "a done in 20 min", "step", "a", 20.0),            # ends 10 20 30 40: 2 of 4
        Target("ab", "b within 8 min of a", "step", "b", 8.0, since="a"),  # 3 min inbox + 5 min: 4 of 4
        Target("ab7", "b within 7 min of a", "step", "b", 7.0, since="a"),  # 0 of 4
        Target("s1", "Stage s1 in 25 min", "stage", "s1", 25.0),       # 0 to 10 20 30 40: 2 of 4
        Target("s2", "Stage s2 in 8 min", "stage", "s2", 8.0),         # from taking the arrow (inbox counts): 4 of 4
        Target("s2short", "Stage s2 in 5 min", "stage", "s2", 5.0),    # 0 of 4
    ))
    expected = {"all": 0.5, "all2": 1.0, "a": 0.5, "ab": 1.0, "ab7": 0.0, "s1": 0.5, "s2": 1.0, "s2short": 0.0}
    assert {k: t["attainment"] for k, t in got.items()} == expected
    for k, t in got.items():
        assert t["measured_cases"] == 12  # 4 cases x 3 replications
        # the same in every replication: the interval over replications has no width
        assert t["ci_low"] == pytest.approx(expected[k]) and t["ci_high"] == pytest.approx(expected[k])


def test_goal_verdicts_follow_the_interval():
    got = attained(targeted(Target("half", "half", "journey", "", 30.0, goal=0.5),
                            Target("more", "more", "journey", "", 30.0, goal=0.6)))
    assert got["half"]["goal_met"] is True     # 50% in every replication: at the goal
    assert got["more"]["goal_met"] is False
    assert goal_met(0.55, 0.65, 0.6) is None   # undecided when the interval straddles the goal
    assert goal_met(0.6, 0.7, 0.6) is True and goal_met(0.5, 0.59, 0.6) is False
    assert goal_met(None, None, 0.6) is None


def test_a_step_never_reached_is_not_measured():
    base = journey_of(TWO_STAGES)
    journey = replace(base, steps=base.steps + (replace(base.steps[1], id="c"),), ends=("b", "c"),
                      targets=(Target("c", "c", "step", "c", 10.0),))  # nothing leads to c
    got = attained(journey)["c"]
    assert got["measured_cases"] == 0
    assert got["attainment"] is None and got["ci_low"] is None and got["goal_met"] is None
    assert "no case measured" in summary_text(simulate(journey, replications=1).summary)


#: Two customer steps of 1 day: the first case arrives Friday 16:00 UTC (the simulation start) and is done
#: Saturday 16:00; the second arrives Saturday 16:00 and is done Sunday 16:00. Customer steps run around the
#: clock, so this holds with or without calendars in the engine.
WEEKEND = """
    journey: {id: weekend, name: Over a weekend}
    persona: {id: buyer}
    stages: [s]
    steps:
      - {id: wait, stage: s, owner: customer, duration: 1d}
    workload: {arrivals: {schedule: [0min, 1440min]}}
    """

NINE_TO_FIVE = Calendar("UTC", WeeklyHours.every(range(5), parse_hours("09:00-17:00")))


def test_working_and_business_time_count_on_the_journey_calendar():
    journey = journey_of(WEEKEND)
    start = datetime(2025, 1, 10, 16, 0, tzinfo=UTC)  # a Friday
    assert start.date().weekday() == 4 and date(2025, 1, 10) == start.date()
    journey = replace(journey, calendar=NINE_TO_FIVE, workload=replace(journey.workload, start=start), targets=(
        Target("e", "1 day elapsed", "journey", "", 1440.0),
        Target("e-", "just under a day", "journey", "", 1439.0),      # 0 of 2
        Target("w", "1 working hour", "journey", "", 60.0, "working"),  # Fri 16-17 open: 60 and 0 open minutes
        Target("w-", "59 working min", "journey", "", 59.0, "working"),  # only the weekend case: 1 of 2
        Target("b", "1 business day", "journey", "", 1440.0, "business"),  # by Mon 16:00 / Tue 00:00: both
        # 0.25 bd: Friday 16:00 -> 22:00 (missed); Saturday counts from Monday 00:00 -> Monday 06:00 (met)
        Target("b-", "a quarter business day", "journey", "", 360.0, "business"),
    ))
    got = {k: t["attainment"] for k, t in attained(journey, replications=1).items()}
    assert got == {"e": 1.0, "e-": 0.0, "w": 1.0, "w-": 0.5, "b": 1.0, "b-": 0.5}


def test_without_a_calendar_working_and_business_time_are_the_clock():
    journey = replace(journey_of(WEEKEND), targets=(
        Target("w", "w", "journey", "", 1440.0, "working"), Target("b", "b", "journey", "", 1440.0, "business")))
    assert {k: t["attainment"] for k, t in attained(journey, 1).items()} == {"w": 1.0, "b": 1.0}


# ---------------------------------------------------------------------- the interval


def test_one_replication_gives_wilsons_interval():
    share, lo, hi = share_interval([(4, 10)])
    assert share == 0.4
    assert (lo, hi) == pytest.approx((0.1682, 0.6873), abs=1e-4)  # Wilson 95% for 4 of 10
    assert share_interval([(10, 10)])[1:] == pytest.approx((0.7225, 1.0), abs=1e-4)


def test_equal_replications_give_the_t_interval_of_their_shares():
    counts = [(40, 50), (45, 50), (38, 50), (47, 50)]
    share, lo, hi = share_interval(counts)
    assert share == pytest.approx(170 / 200)
    assert [lo, hi] == pytest.approx(list(t_interval([m / n for m, n in counts])))


def test_unequal_replications_weigh_the_pooled_share():
    counts = [(10, 10), (0, 30), (5, 10)]
    share, lo, hi = share_interval(counts)
    assert share == pytest.approx(15 / 50)
    # the ratio estimator: residuals m - R n over k - 1, divided by the mean cases per replication
    residual = sum((m - share * n) ** 2 for m, n in counts) / 2
    half = t_quantile(0.975, 2) * math.sqrt(residual / 3) / (50 / 3)
    assert (lo, hi) == pytest.approx((max(0.0, share - half), min(1.0, share + half)))
    share, lo, hi = share_interval([(40, 60), (20, 40), (33, 50), (31, 50)])
    assert share == pytest.approx(124 / 200) and 0 < lo < share < hi < 1
    assert share_interval([]) == (None, None, None)
    assert share_interval([(0, 0), (0, 0)]) == (None, None, None)


def test_the_difference_is_paired_and_reduces_to_the_paired_t_interval():
    before = [(30, 50), (35, 50), (28, 50), (40, 50)]
    after = [(40, 50), (44, 50), (39, 50), (47, 50)]
    d = difference_interval(before, after)
    assert d["change"] == pytest.approx((170 - 133) / 200)
    paired = [(a - b) / 50 for (b, _), (a, _) in zip(before, after, strict=True)]
    assert d["ci95"] == pytest.approx(list(t_interval(paired)))
    assert d["significant"] and not d["unchanged"]
    same = difference_interval(before, before)
    assert same["unchanged"] and same["ci95"] == [0.0, 0.0] and not same["significant"]
    assert difference_interval([(3, 10)], [(5, 10)])["ci95"] == [None, None]


def test_the_interval_covers_the_true_attainment_of_an_m_m_1_queue():
    """M/M/1 at rho 0.5, service 10 min: the time in system is exponential with mean 20 min, so the share done
    within 20 min is 1 - 1/e. 10 replications of 2,000 cases (200 warm-up)."""
    journey = targeted(Target("t", "t", "journey", "", 20.0), text=queue_journey(1, 10, 20))
    t = simulate(journey, cases=2000, replications=10, warmup=200).summary["targets"][0]
    assert t["ci_low"] <= 1 - math.exp(-1) <= t["ci_high"]
    assert t["ci_high"] - t["ci_low"] < 0.05


# ---------------------------------------------------------------------- per class


def test_attainment_per_class_adds_up_and_the_first_class_does_better():
    journey = targeted(Target("t", "Done in 30 min", "journey", "", 30.0), text=queue_journey(1, 10, 13))
    journey = replace(journey, workload=replace(journey.workload, mix=(("key", 0.3), ("growth", 0.7))))
    s = simulate(journey, cases=500, replications=4, warmup=50).summary
    t = s["targets"][0]
    classes = t["classes"]
    assert list(classes) == ["key", "growth"]
    assert sum(c["measured_cases"] for c in classes.values()) == t["measured_cases"] == s["measured_cases"]
    met = sum(c["attainment"] * c["measured_cases"] for c in classes.values())
    assert met == pytest.approx(t["attainment"] * t["measured_cases"])
    assert classes["key"]["attainment"] > classes["growth"]["attainment"]
    for block in [t, *classes.values()]:
        assert block["ci_low"] <= block["attainment"] <= block["ci_high"]
    assert [c["cases"] for c in s["classes"].values()] == [c["measured_cases"] for c in classes.values()]


# ---------------------------------------------------------------------- what is shown is the JSON


def shown_in_line(text: str, label: str, after: str = "Service-level targets") -> str:
    """The first line starting with ``label`` after the line starting with ``after``."""
    lines = text.splitlines()
    first = next(k for k, line in enumerate(lines) if line.startswith(after))
    return next(line for line in lines[first:] if line.strip().startswith(label))


def test_the_terminal_shows_the_json_numbers():
    journey = targeted(Target("t", "Done in 30 min", "journey", "", 30.0, goal=0.8), text=queue_journey(1, 10, 13))
    journey = replace(journey, workload=replace(journey.workload, mix=(("key", 0.3), ("growth", 0.7))))
    s = simulate(journey, cases=300, replications=3).summary
    text = summary_text(s)
    t = s["targets"][0]
    for label, block in [("Done in 30 min", t), *t["classes"].items()]:
        line = shown_in_line(text, label + " ")
        verdict = {True: "goal met", False: "goal missed", None: "undecided"}[block["goal_met"]]
        for shown in (f"{100 * block['attainment']:.1f}%",
                      f"{100 * block['ci_low']:.1f}% .. {100 * block['ci_high']:.1f}%",
                      str(block["measured_cases"]), verdict):
            assert shown in line, (shown, line)
    assert "80.0%" in shown_in_line(text, "Done in 30 min")  # the goal
    assert re.search(r"within\s", text)


def two_designs():
    """Before: one person; after: two. The same target, a second one only after, and a class mix."""
    base = targeted(Target("t", "Done in 30 min", "journey", "", 30.0, goal=0.8), text=queue_journey(1, 10, 13))
    base = replace(base, workload=replace(base.workload, mix=(("key", 0.3), ("growth", 0.7))))
    after = replace(base, id="after", name="Two people",
                    departments=(replace(base.departments[0], capacity=2),),
                    targets=base.targets + (Target("n", "New one", "journey", "", 15.0),))
    return base, after


@pytest.fixture(scope="module")
def compared():
    before, after = two_designs()
    return compare(before, after, replications=4, cases=300)


def test_compare_gives_attainment_before_and_after_with_the_paired_change(compared):
    before, after = two_designs()
    sb = simulate(before, replications=4, cases=300).summary["targets"][0]
    sa = simulate(after, replications=4, cases=300).summary["targets"][0]
    row = compared["targets"][0]
    assert row["before"] == sb and row["after"] == sa  # each side is the simulation's own block
    assert row["change"] == pytest.approx(sa["attainment"] - sb["attainment"])
    lo, hi = row["ci95"]
    assert lo <= row["change"] <= hi
    assert row["significant"] and row["improved"] and row["verdict"] == "significant"
    assert set(row["classes"]) == {"key", "growth"}
    assert compared["targets"][1]["before"] is None and compared["targets"][1]["verdict"] == "only after"
    assert compared["diff"]["targets"]["added"] == ["n"]


def test_compare_text_and_report_show_the_json_numbers(compared):
    from journeymap.tables import format_change, format_value

    text = comparison_text(compared)
    html = report_html(compared)
    for t in compared["targets"]:
        for label, r in [(t["name"], t), *((c, r) for c, r in (t.get("classes") or {}).items())]:
            line = shown_in_line(text, label)
            for side in ("before", "after"):
                if r[side] is not None:
                    shown = format_value(r[side]["attainment"], "share")
                    assert shown in line and shown in html, (shown, line)
            if r["change"] is not None:
                change = format_change(r["change"], "share")
                assert change in line and change in html
                lo, hi = r["ci95"]
                assert f"[{format_change(lo, 'share')}, {format_change(hi, 'share')}]" in line
                assert f"{format_change(lo, 'share')} … {format_change(hi, 'share')}" in html
    first = compared["targets"][0]["after"]
    # no-break spaces keep the interval on one line in a narrow cell
    assert f"[{format_value(first['ci_low'], 'share')}\u00a0…\u00a0{format_value(first['ci_high'], 'share')}]" in html
    assert 'id="targets"' in html


def test_compare_without_targets_has_no_target_keys():
    journey = journey_of(queue_journey(1, 10, 14))
    c = compare(journey, replace(journey, id="b"), replications=2, cases=50)
    assert "targets" not in c and "targets" not in c["diff"]
    assert "Service-level targets" not in comparison_text(c) and 'id="targets"' not in report_html(c)


def test_targets_cost_nothing_to_journeys_without_them():
    """No target: no marks, no per-case columns, no new notes after steps."""
    from journeymap.simulation.engine import ReplicationRun

    run = ReplicationRun(journey_of(queue_journey(1, 10, 14)), 20, 0, 1, 0)
    assert run.target_plans == () and run.watch == {} and not any(p.notes for p in run.plans)
    rep = run.run(0)
    assert rep.target_met == () and rep.case_class is None
    assert np.all(rep.cases["cycle_time"] > 0)


def test_a_run_without_a_steady_state_claims_no_goal():
    """An overloaded desk: the attainment is shown, but no interval or verdict (they would describe the run's
    length, not the design)."""
    journey = targeted(Target("t", "Done in 30 min", "journey", "", 30.0), text=queue_journey(1, 10, 8))
    s = simulate(journey, cases=200, replications=2).summary
    assert not s["stability"]["steady"]
    line = shown_in_line(summary_text(s), "Done in 30 min")
    assert f"{100 * s['targets'][0]['attainment']:.1f}%" in line
    assert "not steady" in line and "goal" not in line.split("%")[-1]


def test_a_journey_target_is_the_same_target_in_two_designs_with_other_ids():
    # the bundled before/after pair: "First buyer limit within 30 business days" was judged "target changed"
    # because a journey target named the journey's own id, which differs between the two files
    text = dedent(queue_journey(capacity=1, service=10.0, gap=20.0)) + (
        "targets:\n  - {name: Whole journey, journey: true, within: 30min, goal: 0.5}\n")
    before = journey_of(text)
    after = journey_of(text.replace("{id: queue,", "{id: queue-after,", 1))
    assert before.id != after.id and before.targets == after.targets
    row = compare(before, after, cases=200, replications=3, seed=1)["targets"][0]
    assert row["same_definition"] and row["verdict"] != "target changed"
