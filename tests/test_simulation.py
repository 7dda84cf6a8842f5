"""Tests for journeymap.simulation: the simulator checked against theory, not just run.

Statistical checks compare an exact result (Erlang C, Jackson networks, exact
expectations) with the simulator's replication means: the theory must lie in
the 99% Student-t confidence interval of the replication means. Seeds are
fixed, so each check is deterministic; the tolerance is the interval itself
and is never widened to make a test pass.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from helpers import ACCOUNTS, EXAMPLES, example_ids, journey_of, queue_journey
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.analysis import expected_visits
from journeymap.graph import build_graph
from journeymap.simulation import CASE_METRICS, run_replication, simulate, stream, summary_text
from journeymap.statistics import t_interval


def assert_in_ci99(theory: float, means, what: str) -> None:
    lo, hi = t_interval(means, 0.99)
    assert lo <= theory <= hi, f"{what}: theory {theory:.4f} outside the 99% CI [{lo:.4f}, {hi:.4f}]"


def erlang_c_wait(c: int, lam: float, mu: float) -> float:
    """Mean time in queue of an M/M/c queue (Erlang C)."""
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


# --------------------------------------------------------------------------- queueing theory


@pytest.mark.slow
@pytest.mark.parametrize("c, service, gap", [
    (1, 5.0, 10.0),   # M/M/1 at rho 0.5: Wq = 5 min
    (3, 10.0, 5.0),   # M/M/3 at rho 2/3: Wq = 40/9 min (Erlang C)
])
def test_waiting_matches_erlang_c(c, service, gap):
    journey = journey_of(queue_journey(c, service, gap))
    result = simulate(journey, cases=20_000, replications=10, warmup=1_000, seed=11)
    s = result.summary
    lam, mu = 1 / gap, 1 / service
    wq = erlang_c_wait(c, lam, mu)
    assert_in_ci99(wq, s["replication_means"]["waiting_time"], "mean wait")
    desk = s["departments"]["desk"]
    # per-replication values: the same 99% rule, from the replication values
    rep_util = [r.department_busy[0] / (c * r.window) for r in result.replications]
    assert desk["utilisation"]["mean"] == pytest.approx(np.mean(rep_util))
    assert_in_ci99(lam / (c * mu), rep_util, "utilisation")
    rep_queue = [r.department_queue_area[0] / r.window for r in result.replications]
    assert_in_ci99(lam * wq, rep_queue, "mean queue length")
    assert_in_ci99(wq + service, s["replication_means"]["cycle_time"], "time in system")


TANDEM = """
    journey: {id: tandem, name: Two stations in series}
    persona: {id: buyer}
    stages: [flow]
    departments: [{id: first, capacity: 1}, {id: second, capacity: 1}]
    steps:
      - {id: a, stage: flow, owner: first, duration: {exponential: 4min}}
      - {id: b, stage: flow, owner: second, duration: {exponential: 6min}}
    workload: {arrivals: {poisson: 10min}, cases: 100}
    """


@pytest.mark.slow
def test_tandem_line_matches_jackson():
    # Jackson: each station behaves as M/M/1 with the external rate, W_i = 1 / (mu_i - lambda)
    s = simulate(journey_of(TANDEM), cases=20_000, replications=10, warmup=1_000, seed=3).summary
    lam = 0.1
    w1, w2 = 1 / (1 / 4 - lam), 1 / (1 / 6 - lam)
    assert_in_ci99(w1 + w2, s["replication_means"]["cycle_time"], "time through the line")
    assert_in_ci99(w1 - 4 + w2 - 6, s["replication_means"]["waiting_time"], "waiting in the line")
    assert s["bottleneck"]["department"] == "second"
    assert s["bottleneck"]["step"] == "b"


REWORK = """
    journey: {id: rework, name: One station with rework}
    persona: {id: buyer}
    stages: [flow]
    departments: [{id: desk, capacity: 1}]
    steps:
      - id: work
        stage: flow
        owner: desk
        duration: {exponential: 4min}
        next:
          - {to: work, probability: 0.3, rework: true}
          - {to: done, probability: 0.7}
      - {id: done, stage: flow, owner: customer, duration: 0min}
    workload: {arrivals: {poisson: 10min}, cases: 100}
    """


@pytest.mark.slow
def test_rework_loop_matches_jackson_with_feedback():
    # Bernoulli feedback: visits 1/(1-p), effective rate lambda/(1-p); by Little's law on the station
    # the time in system is L / lambda with L = rho / (1 - rho).
    s = simulate(journey_of(REWORK), cases=20_000, replications=10, warmup=1_000, seed=5).summary
    lam, mu, p = 0.1, 0.25, 0.3
    rho = lam / (1 - p) / mu
    assert_in_ci99(rho / (1 - rho) / lam, s["replication_means"]["cycle_time"], "time in system")
    assert_in_ci99(p / (1 - p), s["replication_means"]["rework"], "rework per case")
    visits = s["steps"]["work"]["visits_per_case"]
    assert visits == pytest.approx(1 / (1 - p), abs=4 * math.sqrt(p) / (1 - p) / math.sqrt(s["measured_cases"]))


# --------------------------------------------------------------------------- exact results


CHAIN = """
    journey: {id: chain, name: Deterministic chain}
    persona: {id: buyer}
    stages: [one, two]
    departments: [{id: sales, capacity: 1}, {id: legal, capacity: 2}]
    steps:
      - {id: call, stage: one, owner: sales, duration: 1h, value_adding: true, next: {to: draft, delay: 2h}}
      - {id: draft, stage: one, owner: legal, duration: 45min}
      - {id: read, stage: two, owner: customer, duration: 1d}
      - {id: sign, stage: two, owner: legal, duration: {fixed: 15min}, value_adding: true}
    workload: {arrivals: {every: 1w}, cases: 5}
    """


def test_deterministic_chain_is_the_exact_sum():
    s = simulate(journey_of(CHAIN), replications=2, seed=1).summary
    c = s["case"]
    assert c["cycle_time"]["mean"] == pytest.approx(60 + 120 + 45 + 1440 + 15)
    assert c["cycle_time"]["std"] == 0.0
    assert c["cycle_time"]["ci95"] == pytest.approx([c["cycle_time"]["mean"]] * 2)
    assert c["processing_time"]["mean"] == pytest.approx(60 + 45 + 1440 + 15)
    assert c["flow_delay"]["mean"] == 120
    assert c["waiting_time"]["mean"] == 0
    assert c["handoffs"]["mean"] == 1  # sales -> legal; customer interactions are not handoffs
    assert c["handoff_delay"]["mean"] == 120
    assert c["flow_efficiency"]["mean"] == pytest.approx(75 / 1680)
    tb = s["time_breakdown"]
    assert tb["stages"]["one"] == pytest.approx({"value_adding_work": 60, "other_work": 45, "customer_time": 0,
                                                 "queueing": 0, "handoff_inbox": 120, "other_inbox": 0,
                                                 "gate_wait": 0})
    assert tb["stages"]["two"] == pytest.approx({"value_adding_work": 15, "other_work": 0, "customer_time": 1440,
                                                 "queueing": 0, "handoff_inbox": 0, "other_inbox": 0,
                                                 "gate_wait": 0})
    assert s["measured_cases"] == 10


def test_deterministic_handoff_journey_is_exact(handoff_journey):
    # case 0: pitch 0-10, inbox 10-40, redline 40-60, sign 60-65            -> cycle 65
    # case 1: waits for sales 0-10, pitch 10-20, inbox 20-50, waits for legal 50-60 (a handoff wait),
    #         redline 60-80, sign 80-85                                     -> cycle 85
    s = simulate(handoff_journey, replications=1, seed=1).summary
    c = s["case"]
    assert c["cycle_time"]["mean"] == 75
    assert c["processing_time"]["mean"] == 35
    assert c["waiting_time"]["mean"] == 10
    assert c["flow_delay"]["mean"] == 30
    assert c["handoff_delay"]["mean"] == 35      # both inboxes (30) + case 1's wait at legal (10), per case
    # value-adding staff work on the critical path: pitch (10); the value-adding sign step is customer time
    assert c["flow_efficiency"]["mean"] == pytest.approx((10 / 65 + 10 / 85) / 2)
    hw = s["handoff_waste"]
    assert hw["total"] == c["handoff_delay"]
    assert hw["share_of_cycle_time"]["mean"] == pytest.approx((30 / 65 + 40 / 85) / 2)
    assert hw["pairs"] == [{"from": "sales", "to": "legal", "handoffs_per_case": 1.0, "waste_per_case": 35.0}]
    tb = s["time_breakdown"]
    assert tb["stages"]["sell"] == {"value_adding_work": 10, "other_work": 0, "customer_time": 0, "queueing": 5,
                                    "handoff_inbox": 0, "other_inbox": 0, "gate_wait": 0}
    assert tb["stages"]["sign"] == {"value_adding_work": 0, "other_work": 20, "customer_time": 5, "queueing": 5,
                                    "handoff_inbox": 30, "other_inbox": 0, "gate_wait": 0}
    assert sum(tb["total"].values()) == c["cycle_time"]["mean"]


def test_deterministic_handoff_journey_arrows_and_departments_are_exact(handoff_journey):
    # the two cases of test_deterministic_handoff_journey_is_exact
    s = simulate(handoff_journey, replications=1, seed=1).summary
    # the arrow pitch -> redline loses its inbox (30) and case 1's queueing at redline (10), per case 35
    assert s["flows"] == [
        {"source": "pitch", "target": "redline", "handoff": True, "number": 1, "from_department": "sales",
         "to_department": "legal", "traversals_per_case": 1.0, "inbox_per_case": 30.0, "queue_per_case": 5.0,
         "lost_per_case": 35.0},
        {"source": "redline", "target": "sign", "handoff": False, "number": None, "from_department": "legal",
         "to_department": "customer", "traversals_per_case": 1.0, "inbox_per_case": 0.0, "queue_per_case": 0.0,
         "lost_per_case": 0.0}]
    assert s["steps"]["redline"]["wait_per_visit"] == 5
    # window 0..85: sales busy 20, legal 40; one case waited 10 at each
    d = s["departments"]
    assert d["sales"]["utilisation"]["mean"] == pytest.approx(20 / 85)
    assert d["legal"]["utilisation"]["mean"] == pytest.approx(40 / 85)
    assert d["legal"]["queue_length"]["mean"] == pytest.approx(10 / 85)
    assert d["legal"]["wait"]["mean"] == 5
    assert s["system"]["wip"]["mean"] == pytest.approx((65 + 85) / 85)
    # waiting = queueing + inbox: sales 10 queueing, legal 60 inbox + 10 queueing (tests/test_simulation_summary.py)
    assert s["bottleneck"]["department"] == "legal"
    assert s["bottleneck"]["department_share"] == pytest.approx(70 / 80)


BRANCH = """
    journey: {id: branch, name: A branch}
    persona: {id: buyer}
    stages: [s]
    steps:
      - id: ask
        stage: s
        owner: customer
        duration: 10min
        next: [{to: short, probability: 0.25}, {to: long, probability: 0.75}]
      - {id: short, stage: s, owner: customer, duration: 20min, next: done}
      - {id: long, stage: s, owner: customer, duration: 40min}
      - {id: done, stage: s, owner: customer, duration: 5min}
    workload: {arrivals: {every: 1h}, cases: 300}
    """


def test_branch_matches_its_exact_expectation():
    journey = journey_of(BRANCH)
    s = simulate(journey, replications=10, seed=2).summary
    assert_in_ci99(10 + 0.25 * 20 + 0.75 * 40 + 5, s["replication_means"]["cycle_time"], "cycle time")
    exact = expected_visits(build_graph(journey))
    n = s["measured_cases"]
    for step in ("ask", "short", "long", "done"):
        p = exact[step]
        # binomial: 4 standard deviations of a proportion over n cases
        assert s["steps"][step]["visits_per_case"] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n) + 1e-12)


FORK = """
    journey: {id: fork, name: Parallel work}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: impl, capacity: 5}]
    steps:
      - id: kickoff
        stage: s
        owner: impl
        duration: 1h
        next: {parallel: [sso, erp, {to: review, delay: 6h}], join: review}
      - {id: sso, stage: s, owner: impl, duration: 2h, next: review}
      - {id: erp, stage: s, owner: impl, duration: 3h, value_adding: true, next: {to: review, delay: 1h}}
      - {id: review, stage: s, owner: customer, duration: 30min}
    workload: {arrivals: {every: 1d}, cases: 3}
    """


def test_fork_runs_branches_at_the_same_time_and_joins():
    s = simulate(journey_of(FORK), replications=1, seed=1).summary
    c = s["case"]
    # elapsed: kickoff 1h, then the slowest branch (the empty one: a 6h delay), then the review
    assert c["cycle_time"]["mean"] == pytest.approx(60 + 360 + 30)
    # work: every branch counts
    assert c["processing_time"]["mean"] == pytest.approx(60 + 120 + 180 + 30)
    assert c["flow_delay"]["mean"] == pytest.approx(360 + 60)
    assert s["steps"]["review"]["visits_per_case"] == 1
    # the value-adding erp work runs beside the 6h inbox that sets the pace: none of it is elapsed time
    assert c["flow_efficiency"]["mean"] == 0
    assert s["time_breakdown"]["total"] == pytest.approx({
        "value_adding_work": 0, "other_work": 60, "customer_time": 30, "queueing": 0, "handoff_inbox": 0,
        "other_inbox": 360, "gate_wait": 0})


BACKLOG = """
    journey: {id: backlog, name: Backlog at underwriting}
    persona: {id: buyer}
    stages: [s]
    departments: [{id: uw, capacity: 1}]
    steps:
      - {id: apply, stage: s, owner: customer, duration: 1h}
      - {id: underwrite, stage: s, owner: uw, duration: 10min}
    workload:
      arrivals: {every: 1w}
      cases: 1
      backlog: [{step: underwrite, cases: 40}]
    """


def test_backlog_waits_at_its_step_from_time_zero():
    journey = journey_of(BACKLOG)
    s = simulate(journey, replications=1, seed=1).summary
    # 40 backlog cases served one after another (waits 0, 10, ..., 390, done at 400 min); the one new
    # case arrives at 0, applies for 1h and then queues behind the backlog until 400 min (waits 340)
    assert s["measured_cases"] == 41
    assert s["case"]["waiting_time"]["mean"] == pytest.approx((10 * sum(range(40)) + 340) / 41)
    assert s["steps"]["apply"]["visits_per_case"] == pytest.approx(1 / 41)
    # the warm-up takes cases by arrival order, and the backlog arrives first
    s = simulate(journey, replications=1, seed=1, warmup=40).summary
    assert s["measured_cases"] == 1
    assert s["case"]["cycle_time"]["mean"] == 60 + 340 + 10
    assert s["case"]["waiting_time"]["mean"] == 340


# --------------------------------------------------------------------------- time lost on each arrow (flows)


ARROWS = """
    journey: {{id: arrows, name: An instant handoff and a 5-day inbox}}
    persona: {{id: buyer}}
    stages: [s]
    departments: [{{id: sales, capacity: 2}}, {{id: legal, capacity: 1}}, {{id: finance, capacity: 1}}]
    steps:
      - {{id: quote, stage: s, owner: sales, duration: 10min, next: review}}
      - {{id: review, stage: s, owner: legal, duration: 20min, next: {{to: approve, delay: 5d}}}}
      - {{id: approve, stage: s, owner: finance, duration: 1h}}
    workload: {{arrivals: {arrivals}}}
    """


def flow_of(summary, source, target):
    return next(f for f in summary["flows"] if (f["source"], f["target"]) == (source, target))


def test_an_instant_handoff_into_an_idle_department_loses_nothing_and_an_inbox_loses_its_delay():
    s = simulate(journey_of(ARROWS.format(arrivals="{every: 1w}, cases: 3")), replications=1).summary
    instant, inbox = flow_of(s, "quote", "review"), flow_of(s, "review", "approve")
    assert (instant["number"], instant["lost_per_case"]) == (1, 0.0)
    assert (inbox["number"], inbox["inbox_per_case"], inbox["queue_per_case"]) == (2, 5 * 1440.0, 0.0)
    assert inbox["lost_per_case"] == 5 * 1440.0
    assert (inbox["from_department"], inbox["to_department"]) == ("legal", "finance")


def test_queueing_at_the_target_counts_against_the_arrow_it_came_through():
    # two cases at 0: both quote at once (2 in sales), both reach legal at 10; case 1 waits 20 for it.
    # After the 5-day inbox they reach finance at 7230 and 7250; case 0 holds it until 7290: case 1 waits 40.
    s = simulate(journey_of(ARROWS.format(arrivals="{schedule: [0min, 0min]}")), replications=1).summary
    instant, inbox = flow_of(s, "quote", "review"), flow_of(s, "review", "approve")
    assert (instant["inbox_per_case"], instant["queue_per_case"], instant["lost_per_case"]) == (0.0, 10.0, 10.0)
    assert (inbox["inbox_per_case"], inbox["queue_per_case"], inbox["lost_per_case"]) == (7200.0, 20.0, 7220.0)
    waste = {(p["from"], p["to"]): p["waste_per_case"] for p in s["handoff_waste"]["pairs"]}
    assert waste == {("sales", "legal"): 10.0, ("legal", "finance"): 7220.0}


@pytest.mark.parametrize("path", EXAMPLES + ACCOUNTS, ids=example_ids(EXAMPLES + ACCOUNTS))
def test_time_lost_on_a_pairs_arrows_adds_up_to_the_pairs_waste_on_every_example(path):
    from journeymap.loading import load_subject

    journey, meeting, _ = load_subject(str(path))
    s = simulate(journey, cases=60, replications=2, seed=3, meeting=meeting).summary
    lost: dict = {}
    for f in s["flows"]:
        if f["handoff"]:
            key = (f["from_department"], f["to_department"])
            lost[key] = lost.get(key, 0.0) + f["lost_per_case"]
        else:
            assert f["number"] is None
        assert f["lost_per_case"] == pytest.approx(f["inbox_per_case"] + f["queue_per_case"])
    assert {(p["from"], p["to"]): pytest.approx(p["waste_per_case"]) for p in s["handoff_waste"]["pairs"]} == lost
    assert sum(f["inbox_per_case"] for f in s["flows"]) == pytest.approx(s["case"]["flow_delay"]["mean"])
    numbers = [f["number"] for f in s["flows"] if f["handoff"]]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))  # 1..k over the whole journey


# --------------------------------------------------------------------------- where the time goes (time_breakdown)


@pytest.mark.parametrize("path", EXAMPLES + ACCOUNTS, ids=example_ids(EXAMPLES + ACCOUNTS))
def test_time_breakdown_sums_to_the_cycle_time_on_every_example(path):
    from journeymap.loading import load_subject

    journey, meeting, _ = load_subject(str(path))
    s = simulate(journey, cases=60, replications=2, seed=1, meeting=meeting).summary
    tb = s["time_breakdown"]
    cycle = s["case"]["cycle_time"]["mean"]
    assert sum(tb["total"].values()) == pytest.approx(cycle, rel=1e-3)
    assert sum(sum(v.values()) for v in tb["stages"].values()) == pytest.approx(cycle, rel=1e-3)
    # the overview slide's "where the time goes" line too (it left out work paused outside working hours)
    assert sum(s["bottleneck"]["where_time_goes"].values()) == pytest.approx(cycle, rel=1e-3)
    # was `every component >= 0`, which sums of durations always are: the critical path holds part of each
    # kind of time a case spends, never more than all of it (every branch counted)
    c = s["case"]
    assert tb["total"]["queueing"] <= c["waiting_time"]["mean"] * (1 + 1e-9)
    assert tb["total"]["handoff_inbox"] + tb["total"]["other_inbox"] <= c["flow_delay"]["mean"] * (1 + 1e-9)
    assert tb["total"]["value_adding_work"] <= c["value_adding_time"]["mean"] * (1 + 1e-9)
    if meeting is None:
        assert tb["total"]["gate_wait"] == 0


def test_an_account_shows_where_the_deals_time_goes():
    from journeymap.loading import load_subject
    from journeymap.simulation.account import summarize_account
    from journeymap.simulation.text import account_summary_text

    journey, meeting, account = load_subject(str(next(p for p in ACCOUNTS if p.name == "acme-account.yaml")))
    result = simulate(journey, cases=30, replications=2, seed=1, meeting=meeting)
    a = summarize_account(account, journey, result)
    tb = a["time_breakdown"]
    assert sum(tb["total"].values()) == pytest.approx(a["cycle_time"]["mean"])
    assert tb["total"]["gate_wait"] > 0  # the personas wait for each other at the purchase decision
    text = account_summary_text(a)
    assert "Where the time goes (per deal" in text and "waiting for other personas" in text


UNEQUAL_FORK = """
    journey: {id: unequal, name: A fork with unequal branches}
    persona: {id: buyer}
    stages: [prep, work, close]
    departments: [{id: sales, capacity: 1}, {id: legal, capacity: 1}, {id: it, capacity: 1}]
    steps:
      - id: open
        stage: prep
        owner: sales
        duration: 1h
        value_adding: true
        next: {parallel: [{to: review, delay: 2h}, build], join: wrap_up}
      - {id: review, stage: work, owner: legal, duration: 1h, next: wrap_up}
      - {id: build, stage: work, owner: it, duration: 5h, value_adding: true, next: wrap_up}
      - {id: wrap_up, stage: close, owner: sales, duration: 30min, next: {to: sign, delay: 1d}}
      - {id: sign, stage: close, owner: customer, duration: 2h, value_adding: true}
    workload: {arrivals: {every: 1w}, cases: 2}
    """


def test_time_breakdown_follows_the_critical_path_exactly():
    # open 1h; then review's branch (2h handoff inbox + 1h) against build's (5h): build arrives last and
    # alone counts; wrap_up 30min; a 1d inbox on a flow to the customer (not a handoff); sign 2h, customer time
    s = simulate(journey_of(UNEQUAL_FORK), replications=1).summary
    assert s["case"]["cycle_time"]["mean"] == 60 + 300 + 30 + 1440 + 120
    zero = dict.fromkeys(s["time_breakdown"]["components"], 0.0)
    assert s["time_breakdown"]["stages"] == {
        "prep": {**zero, "value_adding_work": 60.0},
        "work": {**zero, "value_adding_work": 300.0},
        "close": {**zero, "other_work": 30.0, "other_inbox": 1440.0, "customer_time": 120.0},
    }
    assert s["time_breakdown"]["total"] == {**zero, "value_adding_work": 360.0, "other_work": 30.0,
                                            "customer_time": 120.0, "other_inbox": 1440.0}
    # the review branch still counts where branches are summed: its inbox is handoff waste
    assert s["case"]["handoff_delay"]["mean"] == 120
    assert s["case"]["flow_efficiency"]["mean"] == pytest.approx(360 / 1950)


def test_flow_efficiency_never_exceeds_one_on_a_fork_where_every_step_adds_value():
    # the old definition (value-adding work of every branch / cycle time) gave 7h / 5h = 140% here
    s = simulate(journey_of("""
        journey: {id: all-value, name: Every step adds value}
        persona: {id: buyer}
        stages: [s]
        departments: [{id: a, capacity: 1}, {id: b, capacity: 1}]
        steps:
          - {id: start, stage: s, owner: a, duration: 1h, value_adding: true, next: {parallel: [x, y], join: end}}
          - {id: x, stage: s, owner: a, duration: 3h, value_adding: true, next: end}
          - {id: y, stage: s, owner: b, duration: 2h, value_adding: true, next: end}
          - {id: end, stage: s, owner: b, duration: 1h, value_adding: true}
        workload: {arrivals: {every: 1d}, cases: 3}
        """), replications=1).summary
    assert s["case"]["cycle_time"]["mean"] == 300
    assert s["case"]["value_adding_time"]["mean"] == 420   # all the work done, every branch
    assert s["case"]["flow_efficiency"]["mean"] == 1.0     # elapsed value-adding work / cycle time
    assert s["case"]["flow_efficiency"]["p95"] <= 1.0


# --------------------------------------------------------------------------- Little's law and invariants


@pytest.mark.slow
def test_littles_law_holds_on_the_output():
    result = simulate(journey_of(queue_journey(2, 8.0, 5.0)), cases=10_000, replications=8, warmup=500, seed=9)
    s = result.summary
    wip = [r.wip_area / r.window for r in result.replications]
    lam_w = [r.measured / r.window * r.cases["cycle_time"].mean() for r in result.replications]
    # L = lambda W: the two estimates agree within the 99% interval of the time-average L
    lo, hi = t_interval(wip, 0.99)
    assert lo <= float(np.mean(lam_w)) <= hi
    assert s["system"]["wip"]["mean"] == pytest.approx(np.mean(wip))
    # and queue by queue: Lq = lambda Wq
    lq = [r.department_queue_area[0] / r.window for r in result.replications]
    lam_wq = [len(r.department_waits[0]) / r.window * r.department_waits[0].mean() for r in result.replications]
    lo, hi = t_interval(lq, 0.99)
    assert lo <= float(np.mean(lam_wq)) <= hi


def test_littles_law_is_exact_without_warmup(handoff_journey):
    r = simulate(handoff_journey, replications=1).replications[0]
    assert r.wip_area == pytest.approx(r.cases["cycle_time"].sum())


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), capacity=st.integers(1, 3), p=st.sampled_from([0.1, 0.5]))
def test_cycle_time_is_work_plus_waiting_plus_inboxes(seed, capacity, p):
    # without forks every minute of a case is processing, queueing or an inbox
    journey = journey_of(f"""
        journey: {{id: prop, name: Property}}
        persona: {{id: buyer}}
        stages: [s]
        departments: [{{id: a, capacity: {capacity}}}, {{id: b, capacity: 1}}]
        steps:
          - id: one
            stage: s
            owner: a
            duration: {{exponential: 5min}}
            next: {{to: two, delay: {{uniform: [1min, 3min]}}}}
          - id: two
            stage: s
            owner: b
            duration: {{triangular: [1min, 3min, 6min]}}
            next: [{{to: one, probability: {p}}}, {{to: three, probability: {1 - p:g}}}]
          - {{id: three, stage: s, owner: customer, duration: {{lognormal: {{mean: 2min, sd: 1min}}}}}}
        workload: {{arrivals: {{poisson: 6min}}, cases: 60}}
        """)
    r = simulate(journey, replications=1, seed=seed).replications[0]
    c = r.cases
    assert np.allclose(c["cycle_time"], c["processing_time"] + c["waiting_time"] + c["flow_delay"])
    assert np.all(c["handoff_delay"] <= c["waiting_time"] + c["flow_delay"] + 1e-9)
    assert np.all(c["flow_efficiency"] <= 1)  # (`>= 0` dropped: a ratio of durations cannot be negative)
    assert np.all(c["handoffs"] == 2 * c["rework"] + 1)  # a -> b, plus b -> a and a -> b per loop


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), capacity=st.integers(1, 2), p=st.sampled_from([0.0, 0.3]))
def test_the_critical_path_adds_up_with_forks_queues_and_rework(seed, capacity, p):
    # random branches race each other through shared, busy departments: whatever happens, every minute
    # of a case lands in exactly one slot of the critical path, and flow efficiency stays within 0..1
    journey = journey_of(f"""
        journey: {{id: prop-fork, name: Property with a fork}}
        persona: {{id: buyer}}
        stages: [a, b]
        departments: [{{id: x, capacity: {capacity}}}, {{id: y, capacity: 1}}]
        steps:
          - id: open
            stage: a
            owner: x
            duration: {{exponential: 3min}}
            value_adding: true
            next:
              parallel: [{{to: left, delay: {{uniform: [1min, 5min]}}}}, right, {{to: close, delay: 4min}}]
              join: close
          - {{id: left, stage: a, owner: y, duration: {{exponential: 4min}}, value_adding: true, next: close}}
          - id: right
            stage: b
            owner: x
            duration: {{exponential: 5min}}
            next: [{{to: right, probability: {p}, rework: true}}, {{to: close, probability: {1 - p:g}, delay: 1min}}]
          - {{id: close, stage: b, owner: customer, duration: {{exponential: 2min}}, value_adding: true}}
        workload: {{arrivals: {{poisson: 5min}}, cases: 40}}
        """)
    result = simulate(journey, replications=1, seed=seed)
    s = result.summary
    tb, c = s["time_breakdown"], s["case"]
    assert sum(tb["total"].values()) == pytest.approx(c["cycle_time"]["mean"], rel=1e-9)
    assert tb["total"]["value_adding_work"] <= c["value_adding_time"]["mean"] + 1e-9
    # every case's flow efficiency, not its percentiles (`0 <=` and `p50 <= p95` could not fail)
    assert result.replications[0].cases["flow_efficiency"].max() <= 1
    assert sum(f["inbox_per_case"] for f in s["flows"]) == pytest.approx(c["flow_delay"]["mean"])
    # every queue is behind the arrow that led into it, except at the start step, where cases arrive
    assert sum(f["queue_per_case"] for f in s["flows"]) + s["steps"]["open"]["wait_per_case"] == \
        pytest.approx(c["waiting_time"]["mean"])


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_json(acme):
    a = simulate(acme, replications=3, seed=42).summary
    b = simulate(acme, replications=3, seed=42).summary
    assert json.dumps(a) == json.dumps(b)
    c = simulate(acme, replications=3, seed=43).summary
    assert c["case"]["cycle_time"] != a["case"]["cycle_time"]


def test_workers_do_not_change_the_results(acme):
    one = simulate(acme, replications=4, seed=7, workers=1).summary
    two = simulate(acme, replications=4, seed=7, workers=2).summary
    assert json.dumps(one) == json.dumps(two)


def test_replication_streams_do_not_depend_on_the_number_of_replications(acme):
    r = run_replication(acme, cases=50, warmup=0, seed=3, index=2)
    again = simulate(acme, cases=50, replications=3, seed=3).replications[2]
    assert np.array_equal(r.cases["cycle_time"], again.cases["cycle_time"])
    firsts = {stream(3, i, p).random() for i in range(50) for p in ("arrivals", "duration:a", "duration:b")}
    assert len(firsts) == 150  # every replication and purpose has its own stream


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**130), index=st.integers(0, 2**40),
       purposes=st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_streams_seeded_at_once_are_the_streams_one_by_one(seed, index, purposes):
    # the engine seeds a replication's streams in one vectorised pass; they must be stream()'s exactly
    from journeymap.simulation.streams import streams

    assert [r.getstate() for r in streams(seed, index, purposes)] == [stream(seed, index, p).getstate()
                                                                      for p in purposes]


def test_designs_share_random_numbers_where_they_share_steps():
    # common random numbers: adding a fixed inbox before the last (customer) step must delay every
    # case by exactly that much, because arrivals and every step's durations are drawn the same
    base = """
        journey: {{id: crn, name: CRN}}
        persona: {{id: buyer}}
        stages: [s]
        departments: [{{id: sales, capacity: 1}}, {{id: legal, capacity: 1}}]
        steps:
          - {{id: quote, stage: s, owner: sales, duration: {{exponential: 40min}}}}
          - id: review
            stage: s
            owner: legal
            duration: {{exponential: 30min}}
            next: [{{to: review, probability: 0.2}}, {{to: sign, probability: 0.8{delay}}}]
          - {{id: sign, stage: s, owner: customer, duration: {{exponential: 10min}}}}
        workload: {{arrivals: {{poisson: 1h}}, cases: 300}}
        """
    before = simulate(journey_of(base.format(delay="")), replications=3, seed=8)
    after = simulate(journey_of(base.format(delay=", delay: 2h")), replications=3, seed=8)
    for b, a in zip(before.replications, after.replications, strict=True):
        assert np.allclose(np.sort(a.cases["cycle_time"]) - np.sort(b.cases["cycle_time"]), 120)
        assert np.array_equal(a.cases["rework"], b.cases["rework"])


# --------------------------------------------------------------------------- the JSON contract


def test_every_case_metric_has_a_column_in_the_engine():
    from journeymap.simulation.engine import CaseColumns
    from journeymap.simulation.records import CaseMetrics

    assert tuple(CaseColumns.__annotations__) == CaseMetrics._fields == CASE_METRICS


def test_summary_has_the_documented_shape(acme):
    s = simulate(acme, cases=100, replications=2, seed=1).summary
    assert {"journey", "persona", "seed", "replications", "cases", "warmup", "time_unit", "case", "handoff_waste",
            "steps", "flows", "time_breakdown", "departments", "bottleneck", "cycle_time_samples"} <= set(s)
    assert "stages" not in s  # replaced by time_breakdown (defined in docs/simulation.md)
    stat = {"mean", "p50", "p90", "p95", "std", "ci95"}
    for key in ("cycle_time", "processing_time", "waiting_time", "handoff_delay", "handoffs", "rework",
                "flow_efficiency"):
        assert set(s["case"][key]) == stat
    assert set(s["handoff_waste"]) >= {"total", "share_of_cycle_time", "pairs"}
    assert all(set(p) == {"from", "to", "handoffs_per_case", "waste_per_case"} for p in s["handoff_waste"]["pairs"])
    assert set(s["steps"]) == {st.id for st in acme.steps}
    for v in s["steps"].values():
        assert {"visits_per_case", "time_per_case", "wait_per_visit", "wait_per_case", "share_of_waiting"} <= set(v)
    tb = s["time_breakdown"]
    assert acme.has_calendars  # the bundled journey keeps office hours: the breakdown has their component
    assert tb["components"] == ["value_adding_work", "other_work", "customer_time", "queueing", "handoff_inbox",
                                "other_inbox", "gate_wait", "off_hours"]
    assert set(s["working_time"]) == {"start", "timezone", "cycle_time_working_hours", "working_hours_calendar",
                                      "working_hours_timezone"}
    assert list(tb["stages"]) == [st.id for st in acme.stages]
    assert all(list(v) == tb["components"] for v in [tb["total"], *tb["stages"].values()])
    assert set(s["replication_means"]) == set(CASE_METRICS)


def test_summary_flows_departments_and_bottleneck_have_the_documented_shape(acme):
    s = simulate(acme, cases=100, replications=2, seed=1).summary
    stat = {"mean", "p50", "p90", "p95", "std", "ci95"}
    assert [(f["source"], f["target"]) for f in s["flows"]] == [(f.source, f.target) for f in acme.flows]
    for f in s["flows"]:
        assert set(f) == {"source", "target", "handoff", "number", "from_department", "to_department",
                          "traversals_per_case", "inbox_per_case", "queue_per_case", "lost_per_case"}
    for v in s["departments"].values():
        assert set(v["utilisation"]) == set(v["queue_length"]) == set(v["wait"]) == stat
        assert isinstance(v["share_of_waiting"], float)
    assert {"department", "step", "department_share", "step_share", "lost_per_case"} <= set(s["bottleneck"])
    assert s["cycle_time_samples"] == sorted(s["cycle_time_samples"])
    assert sum(v["share_of_waiting"] for v in s["departments"].values()) == pytest.approx(1.0)
    assert sum(v["share_of_waiting"] for v in s["steps"].values()) == pytest.approx(1.0)
    json.loads(json.dumps(s, allow_nan=False))  # strict JSON: no NaN anywhere


def test_cycle_time_samples_are_thinned_to_20000():
    result = simulate(journey_of(BRANCH), cases=2_001, replications=10, seed=1)
    samples = result.summary["cycle_time_samples"]
    assert len(samples) == 20_000
    assert samples[0] == result.cycle_times.min() and samples[-1] == result.cycle_times.max()


@pytest.mark.parametrize("kwargs, message", [
    ({"replications": 0}, "replications"),     # nothing to run
    ({"workers": 0}, "workers"),               # nobody to run it
    ({"warmup": 300}, "warmup"),               # the warm-up would swallow every case
    ({"cases": -1}, "cases"),                  # negative
    ({"cases": 0}, "nothing to simulate"),     # no arrivals and no backlog
])
def test_impossible_arguments_are_refused(acme, kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate(acme, **kwargs)


def test_summary_text_is_readable(acme):
    from journeymap.distributions import format_minutes

    s = simulate(acme, cases=100, replications=2).summary
    text = summary_text(s)
    assert "cycle time" in text and "Bottleneck: " in text and "flow efficiency" in text
    # where the time goes: the new components, and a total column that is the cycle time
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("stage "))
    for label in ("value-adding work", "other work", "customer time", "queueing", "handoff inbox delay",
                  "other inbox delay", "total"):
        assert label in header
    assert "waiting for other personas" not in header  # a journey has no gates
    total_row = next(line for line in lines if line.startswith("total "))
    assert total_row.split()[-1] == format_minutes(s["case"]["cycle_time"]["mean"])
    # handoffs: one row per arrow with its global number and the time lost on it, worst first
    arrows = [line.split() for line in lines if line.startswith("H") and line[1].isdigit()]
    worst = max((f for f in s["flows"] if f["handoff"]), key=lambda f: f["lost_per_case"])
    assert arrows[0][:4] == [f"H{worst['number']}", worst["source"], "->", worst["target"]]
    assert arrows[0][-1] == format_minutes(worst["lost_per_case"])
    assert len(arrows) == sum(1 for f in s["flows"] if f["handoff"] and f["traversals_per_case"])


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("path", EXAMPLES, ids=example_ids())
def test_every_example_simulates(path):
    from journeymap import load_journey

    s = simulate(load_journey(path), cases=60, replications=2, seed=1).summary
    assert s["measured_cases"] > 0
    # was `mean >= 0`, which a duration always is: the mean lies within the cases' cycle times, all of which
    # take some time
    samples = s["cycle_time_samples"]
    assert 0 < samples[0] <= s["case"]["cycle_time"]["mean"] <= samples[-1]
    json.loads(json.dumps(s, allow_nan=False))


# --------------------------------------------------------------------------- the command


def test_interrupt_stops_parallel_workers_at_once(tmp_path):
    import multiprocessing
    import time

    journey = journey_of(queue_journey(1, 5, 10))

    def interrupt(done, total):  # Ctrl-C once the first replication is back
        raise KeyboardInterrupt

    events = tmp_path / "events.csv"
    t = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        simulate(journey, cases=20_000, replications=200, workers=2, events=events, progress=interrupt)
    assert time.perf_counter() - t < 20  # all 200 replications would take over half a minute
    deadline = time.time() + 10
    while multiprocessing.active_children() and time.time() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []
    assert os.listdir(tmp_path) == []


def test_a_branch_with_probability_zero_is_never_taken():
    # the zero branch comes last, where a catch-all for round-off would be most tempting
    journey = journey_of("""
        journey: {id: zero, name: Zero branch}
        persona: {id: buyer}
        stages: [s]
        steps:
          - id: ask
            stage: s
            owner: customer
            duration: 1min
            next: [{to: accept, probability: 0.3}, {to: decline, probability: 0.7}, {to: done, probability: 0}]
          - {id: accept, stage: s, owner: customer, duration: 1min, next: done}
          - {id: decline, stage: s, owner: customer, duration: 1min, next: done}
          - {id: done, stage: s, owner: customer, duration: 1min}
        workload: {arrivals: {every: 1h}, cases: 2000}
        """)
    s = simulate(journey, replications=2, seed=1).summary
    assert s["steps"]["accept"]["visits_per_case"] + s["steps"]["decline"]["visits_per_case"] == 1
    assert s["case"]["cycle_time"]["std"] == 0


def test_time_based_statistics_are_clipped_to_the_window_after_the_warmup():
    # arrivals at 0, 10, 20; one person, 15 min each: work 0-15, 15-30, 30-45.
    # warm-up 1: the window opens when case 1 arrives (10) and closes when the last case is done (45)
    journey = journey_of("""
        journey: {id: window, name: Window}
        persona: {id: buyer}
        stages: [s]
        departments: [{id: desk, capacity: 1}]
        steps:
          - {id: work, stage: s, owner: desk, duration: 15min}
        workload: {arrivals: {every: 10min}, cases: 3, warmup: 1}
        """)
    s = simulate(journey, replications=1).summary
    assert s["measured_cases"] == 2
    assert s["case"]["cycle_time"]["mean"] == (20 + 25) / 2
    assert s["system"]["window"]["mean"] == 35
    desk = s["departments"]["desk"]
    assert desk["utilisation"]["mean"] == 1.0              # busy 10-45; the warm-up case's 0-10 is outside
    assert desk["queue_length"]["mean"] == pytest.approx(15 / 35)  # waits 10-15 and 20-30
    assert s["system"]["wip"]["mean"] == pytest.approx(50 / 35)    # 2, 1, 2, 1 cases over 5, 5, 10, 15 min


def test_interrupted_parallel_run_lets_the_interpreter_exit(tmp_path):
    # A worker stopped while sending its replication left half a message in the results pipe; the
    # pool's manager thread then waited for the rest for ever and the interpreter hung at exit.
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from helpers import journey_of, queue_journey
        from journeymap.simulation import simulate

        def interrupt(done, total):
            raise KeyboardInterrupt

        try:
            simulate(journey_of(queue_journey(1, 5, 10)), cases=20_000, replications=200, workers=2,
                     events={str(tmp_path / "events.csv")!r}, progress=interrupt)
        except KeyboardInterrupt:
            print("interrupted")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "interrupted"
