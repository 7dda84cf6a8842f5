"""Before/after statistics (journeymap/comparison.py) and the structural diff (journeymap/diff.py)."""

from __future__ import annotations

import math

import pytest

from journeymap.comparison import compare, compare_metric, compare_metrics, headline
from journeymap.diff import structural_diff
from journeymap.validation import check_text

from conftest import dedent

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
    diffs = [a - b for a, b in zip(after, before)]           # -2, -3, -1.5, -3
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
    load = {l["department"]: l for l in d["load"]}
    assert load["legal"]["before"] == pytest.approx(30) and load["legal"]["after"] == 0
    assert load["sales"]["change"] == pytest.approx(30)


def test_only_steps_changed_in_more_than_their_flows_are_marked_on_the_map():
    from journeymap.report import marked_steps

    diff = {"steps": {"added": ["new"], "changed": {"a": {"next": [["x"], ["y"]]},
                                                     "b": {"next": [["x"], ["y"]], "owner": ["ops", "sales"]}}}}
    assert marked_steps(diff) == {"new", "b"}
