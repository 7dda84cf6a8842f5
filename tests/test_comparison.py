"""Before/after statistics (journeymap/comparison.py) and the structural diff (journeymap/diff.py)."""

from __future__ import annotations

import math
import re

import pytest
from helpers import dedent

from journeymap.comparison import compare, compare_metric, compare_metrics, headline, main_driver, stability_of_pair
from journeymap.diff import structural_diff
from journeymap.validation import check_text

QUEUE = """
journey: {{id: q, name: {name}}}
persona: {{id: buyer}}
stages: [buy]
departments: [{{id: sales, capacity: 1}}, {{id: legal, capacity: 1}}]
steps:
  - {{id: quote, stage: buy, owner: sales, duration: {{exponential: 40min}}, value_adding: true}}
  - {{id: review, stage: buy, owner: legal, duration: {{exponential: 30min}}, next: {{to: sign{delay}}}}}
  - {{id: sign, stage: buy, owner: customer, duration: {{exponential: 10min}}}}
workload: {{arrivals: {{poisson: 1h}}, cases: 300}}
"""


def journey(name: str = "before", delay: str = "") -> object:
    checked = check_text(dedent(QUEUE.format(name=name, delay=delay)), f"{name}.yaml", lint=False)
    assert checked.journey is not None, checked.problems
    return checked.journey


# --------------------------------------------------------------------------- compare_metric (pure)


def test_paired_interval_is_the_t_interval_of_the_differences():
    before = [10.0, 12.0, 11.0, 13.0]
    after = [8.0, 9.0, 9.5, 10.0]
    row = compare_metric(before, after)
    diffs = [a - b for a, b in zip(after, before, strict=True)]  # -2, -3, -1.5, -3
    mean = sum(diffs) / 4
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 3)
    half = 3.182446305284263 * sd / 2                         # t(0.975, 3) * sd / sqrt(4)
    assert row["change"] == pytest.approx(mean)
    assert row["ci95"] == pytest.approx([mean - half, mean + half])
    assert row["relative_change"] == pytest.approx(mean / 11.5)
    assert row["significant"] is True


def test_no_change_is_not_significant():
    row = compare_metric([5.0, 6.0, 7.0], [5.0, 6.0, 7.0])
    assert row["change"] == 0 and row["significant"] is False


def test_unpaired_welch_interval_covers_a_zero_difference():
    row = compare_metric([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 2.0, 3.5], paired=False)
    assert row["ci95"][0] < 0 < row["ci95"][1] and row["significant"] is False


def test_metrics_rows_follow_the_documented_order_and_name_departments():
    reps = [{"cycle_time_mean": 10.0 + i, "handoffs_mean": 3.0, "utilisation:legal": 0.5} for i in range(3)]
    after = [{"cycle_time_mean": 5.0 + i, "handoffs_mean": 1.0} for i in range(3)]
    rows = compare_metrics(reps, after)
    assert [r["key"] for r in rows] == ["cycle_time_mean", "handoffs_mean", "utilisation:legal"]
    assert rows[2]["after"] == 0.0                     # a department gone from the after design is idle
    assert rows[0]["improved"] and rows[1]["improved"]
    assert headline(rows).startswith("Cycle time down 45% (significant at 95%)")   # 11 -> 6


# --------------------------------------------------------------------------- compare (simulated)


def test_a_design_compared_with_itself_changes_nothing():
    j = journey()
    result = compare(j, j, replications=5, seed=3)
    for row in result["metrics"]:
        assert row["change"] == 0, row["key"]
        assert row["significant"] is False
    assert "unchanged" in result["headline"]


def test_a_known_effect_is_recovered_within_its_interval():
    # The after design adds a fixed 2h inbox delay before the customer signs. Nothing queues
    # after it, and common random numbers give both designs the same arrivals and durations,
    # so every case takes exactly 120 minutes longer.
    before, after = journey("before"), journey("after", ", delay: 2h")
    result = compare(before, after, replications=6, seed=11)
    row = {r["key"]: r for r in result["metrics"]}["cycle_time_mean"]
    lo, hi = row["ci95"]
    assert lo - 1e-6 <= 120 <= hi + 1e-6
    assert row["change"] == pytest.approx(120, abs=1e-6)
    assert row["significant"] is True
    waiting = {r["key"]: r for r in result["metrics"]}["waiting_time_mean"]
    assert waiting["change"] == pytest.approx(0, abs=1e-6)     # the delay is not queueing


def test_common_random_numbers_narrow_the_interval_of_a_real_change():
    # after: legal gets faster. Shared steps draw the same durations in both designs, so the
    # paired interval is narrower than the unpaired one computed from the same runs.
    from journeymap.comparison import replication_metrics
    from journeymap.simulation import simulate

    before = journey("before")
    after_text = dedent(QUEUE.format(name="after", delay="")).replace("exponential: 30min", "exponential: 20min")
    after = check_text(after_text, "after.yaml", lint=False).journey
    rb = replication_metrics(before, simulate(before, replications=8, seed=5))
    ra = replication_metrics(after, simulate(after, replications=8, seed=5))
    b = [r["cycle_time_mean"] for r in rb]
    a = [r["cycle_time_mean"] for r in ra]
    paired, unpaired = compare_metric(b, a), compare_metric(b, a, paired=False)
    width = lambda r: r["ci95"][1] - r["ci95"][0]  # noqa: E731
    assert width(paired) < 0.6 * width(unpaired)
    assert paired["significant"] and paired["change"] < 0


# --------------------------------------------------------------------------- structural diff


def test_structural_diff_lists_steps_handoffs_and_moved_load():
    before = journey("before")
    after_text = dedent(QUEUE.format(name="after", delay="")).replace(
        "owner: legal, duration: {exponential: 30min}", "owner: sales, duration: {exponential: 30min}")
    after = check_text(after_text, "after.yaml", lint=False).journey
    d = structural_diff(before, after)
    assert d["steps"]["changed"] == {"review": {"owner": ["legal", "sales"]}}
    assert d["handoffs"]["before"] == 1 and d["handoffs"]["after"] == 0
    assert d["handoffs"]["removed"] == [{"from_step": "quote", "to_step": "review", "from": "sales", "to": "legal"}]
    load = {row["department"]: row for row in d["load"]}
    assert load["legal"]["before"] == pytest.approx(30) and load["legal"]["after"] == 0
    assert load["sales"]["change"] == pytest.approx(30)


def test_only_steps_changed_in_more_than_their_flows_are_marked_on_the_map():
    from journeymap.report import marked_steps

    diff = {"steps": {"added": ["new"], "changed": {"a": {"next": [["x"], ["y"]]},
                                                     "b": {"next": [["x"], ["y"]], "owner": ["ops", "sales"]}}}}
    assert marked_steps(diff) == {"new", "b"}


# --------------------------------------------------------------------------- honest verdicts (issue 9, point 6)


def test_identical_replications_are_unchanged_never_significant():
    # identical up to float summation order, as a department's busy time is when nothing changed for it
    rows = compare_metrics([{"rework_mean": 2.0 + i} for i in range(3)],
                           [{"rework_mean": (2.0 + i) * (1 + 1e-13)} for i in range(3)])
    assert rows[0]["unchanged"] is True and rows[0]["significant"] is False
    assert rows[0]["verdict"] == "unchanged" and rows[0]["change"] == 0 and rows[0]["ci95"] == [0.0, 0.0]


@pytest.mark.parametrize("after_capacity, unchanged", [
    (2.0, True),    # same staff minutes, same people: the +0.05 pp is the shorter window, not a change
    (3.0, False),   # one more person: utilisation really falls
])
def test_utilisation_of_a_department_doing_the_same_work_is_unchanged(after_capacity, unchanged):
    before = [{"utilisation:legal": 0.5 + 0.01 * i, "staff:legal": 1000.0 + i, "capacity:legal": 2.0} for i in range(4)]
    after = [{"utilisation:legal": (0.5 + 0.01 * i) * 1.001, "staff:legal": 1000.0 + i,
              "capacity:legal": after_capacity} for i in range(4)]
    row = compare_metrics(before, after)[0]
    assert row["unchanged"] is unchanged
    assert row["significant"] is not unchanged


def test_shares_change_in_points_everything_else_relative():
    rows = compare_metrics([{"flow_efficiency_mean": 0.03 + 0.001 * i, "cycle_time_mean": 100.0 + i} for i in range(3)],
                           [{"flow_efficiency_mean": 0.09 + 0.001 * i, "cycle_time_mean": 50.0 + i} for i in range(3)])
    kinds = {r["key"]: r["change_kind"] for r in rows}
    assert kinds == {"cycle_time_mean": "relative", "flow_efficiency_mean": "points"}


def test_no_change_is_significant_when_a_design_is_not_steady():
    before = [{"cycle_time_mean": 100.0 + i, "handoffs_mean": 3.0} for i in range(3)]
    after = [{"cycle_time_mean": 900.0 + 7 * i, "handoffs_mean": 3.0} for i in range(3)]
    rows = compare_metrics(before, after, steady=False)
    assert [r["verdict"] for r in rows] == ["not steady", "unchanged"]
    assert not any(r["significant"] or r["improved"] for r in rows)


def test_stability_of_pair_names_the_unsteady_side():
    steady = {"stability": {"steady": True, "message": None, "hint": None}}
    overloaded = {"stability": {"steady": False, "message": "Legal is offered 252% of its capacity.",
                                "hint": "write elapsed time as a flow delay: instead of a duration"}}
    st = stability_of_pair(steady, overloaded)
    assert st["steady"] is False and st["unsteady"] == ["after"]
    assert "after design is not in a steady state" in st["message"]
    assert "Legal is offered 252%" in st["message"] and st["hint"].startswith("write elapsed time")
    assert stability_of_pair(steady, {})["steady"] is True  # no block: nothing says otherwise
    rows = compare_metrics([{"cycle_time_mean": 10.0 + i} for i in range(3)],
                           [{"cycle_time_mean": 90.0 + i} for i in range(3)], steady=False)
    text = headline(rows, None, st)
    assert text.startswith("Warning: the after design is not in a steady state")
    assert "significant at 95%" not in text


def breakdown(work: float, queueing: float, inbox: float, customer: float = 0.0) -> dict:
    """A ``time_breakdown`` block (defined in docs/simulation.md) with one stage, in days."""
    total = {"value_adding_work": work * 1440 / 2, "other_work": work * 1440 / 2, "customer_time": customer * 1440,
             "queueing": queueing * 1440, "handoff_inbox": inbox * 1440 * 0.6, "other_inbox": inbox * 1440 * 0.4,
             "gate_wait": 0.0}
    return {"components": list(total), "total": total, "stages": {"buy": dict(total)}}


def cycle_rows(before_days: float, after_days: float) -> list[dict]:
    return compare_metrics([{"cycle_time_mean": (before_days + 0.01 * i) * 1440} for i in range(4)],
                           [{"cycle_time_mean": (after_days + 0.011 * i) * 1440} for i in range(4)])


def test_headline_says_queueing_fell_but_inbox_delays_dominate():
    # insurance-more-staff against its base: queueing 0.86d -> 0.33d, inbox delays 39.5d on both sides
    before, after = breakdown(2.56, 0.86, 39.46, 0.67), breakdown(2.56, 0.33, 39.46, 0.67)
    drivers = main_driver(before, after)
    assert drivers["driver"] == "queueing" and drivers["dominant"] == "inbox"
    text = headline(cycle_rows(43.55, 43.02), drivers)
    assert text.startswith("Queueing fell 62% (−12.7h per case), but inbox delays dominate (39.5d of 43.0d per case), "
                           "so cycle time moved only 1% (significant at 95%).")


def test_headline_names_the_main_driver_of_a_large_change():
    before, after = breakdown(2.56, 0.86, 39.46, 0.67), breakdown(0.7, 0.62, 8.24, 0.24)
    text = headline(cycle_rows(43.55, 9.8), main_driver(before, after))
    assert text.startswith("Cycle time down 77% (significant at 95%), mostly because inbox delays fell 79% "
                           "(−31.2d of the −33.8d per case).")


def test_main_driver_needs_both_breakdowns():
    assert main_driver(None, breakdown(1, 1, 1)) is None
    assert headline(cycle_rows(10, 5), None).startswith("Cycle time down 50% (significant at 95%).")


# --------------------------------------------------------------------------- compare (simulated), new parts


def test_compare_json_has_verdicts_kinds_stability_and_the_ci_note():
    j = journey()
    result = compare(j, j, replications=3, seed=2)
    assert result["stability"]["steady"] is True and result["stability"]["message"] is None
    assert "simulation noise" in result["ci_note"] and "inputs" in result["ci_note"]
    for row in result["metrics"]:
        assert row["unchanged"] is True and row["verdict"] == "unchanged", row["key"]
        assert row["change_kind"] == ("points" if row["unit"] == "share" else "relative")


def test_an_overloaded_design_is_flagged_and_nothing_is_significant():
    # legal gets 3h of work an hour with one person: offered load 300% of capacity, the queue grows all run
    before = journey("before")
    text = dedent(QUEUE.format(name="after", delay="")).replace("exponential: 30min", "exponential: 3h")
    after = check_text(text, "after.yaml", lint=False).journey
    result = compare(before, after, replications=3, seed=4)
    st = result["stability"]
    assert st["steady"] is False and st["unsteady"] == ["after"]
    assert result["headline"].startswith("Warning: the after design is not in a steady state")
    assert not any(r["significant"] for r in result["metrics"])
    assert {r["verdict"] for r in result["metrics"]} <= {"not steady", "unchanged"}


PRICED = QUEUE.replace("{{id: sales, capacity: 1}}, {{id: legal, capacity: 1}}",
                       "{{id: sales, capacity: 1, cost_per_hour: 60}}, {{id: legal, capacity: 1, cost_per_hour: 120}}"
                       ).replace("{{exponential: 40min}}", "40min").replace("{{exponential: 30min}}", "30min")


def test_replication_metrics_price_staff_time_and_score_the_experience():
    from journeymap.comparison import replication_metrics
    from journeymap.simulation import simulate

    j = check_text(dedent(PRICED.format(name="priced", delay="")), "priced.yaml", lint=False).journey
    result = simulate(j, replications=2, seed=1)
    for m in replication_metrics(j, result):
        assert m["cost:sales"] == pytest.approx(40)              # 40 min at 60 an hour
        assert m["cost:legal"] == pytest.approx(60)              # 30 min at 120 an hour
        assert m["cost_per_case"] == pytest.approx(100)
        assert 0 <= m["experience_index"] <= 100
    # the index of each replication is the summary's formula on that replication's visits
    assert result.summary["experience"]["overall"] == pytest.approx(
        sum(m["experience_index"] for m in replication_metrics(j, result)) / 2)


def test_more_staff_headline_names_queueing_and_inbox_delays():
    # the README's finding: more staff cut queueing, but cases spend their time in inboxes
    from helpers import JOURNEYS

    from journeymap import load_journey

    before = load_journey(JOURNEYS / "insurance-before.yaml")
    after = load_journey(JOURNEYS / "insurance-more-staff.yaml")
    result = compare(before, after, replications=3, seed=1)
    assert result["headline"].startswith("Queueing fell ")
    assert "but inbox delays dominate" in result["headline"]
    assert re.search(r"so cycle time moved only [1-9]%", result["headline"]), result["headline"]
    util = {r["key"]: r for r in result["metrics"] if r["key"].startswith("utilisation:")}
    assert util["utilisation:legal"]["verdict"] == "unchanged"        # same work, same people
    assert util["utilisation:pricing"]["verdict"] == "significant"    # one more person


def test_the_mechanisms_cover_every_component_of_the_time_breakdown():
    # with working time the breakdown has "off_hours"; the drivers left it out and no longer added up
    from journeymap.comparison import DRIVERS
    from journeymap.simulation import BREAKDOWN

    assert sorted(c for _, parts, _ in DRIVERS for c in parts) == sorted(BREAKDOWN)
    before, after = breakdown(2.6, 11.7, 53.7, 3.2), breakdown(0.7, 4.8, 11.4, 1.8)
    before["total"]["off_hours"], after["total"]["off_hours"] = 5.5 * 1440, 1.3 * 1440
    drivers = main_driver(before, after)
    assert drivers["cycle_before"] == pytest.approx(sum(before["total"].values()))
    assert drivers["cycle_after"] == pytest.approx(sum(after["total"].values()))


def test_journeys_without_working_time_have_no_off_hours_mechanism():
    # the comparison JSON of journeys without calendars stays as it was before working time existed
    drivers = main_driver(breakdown(2.6, 11.7, 53.7, 3.2), breakdown(0.7, 4.8, 11.4, 1.8))
    assert "off_hours" not in drivers["groups"] and "gate" in drivers["groups"]
