"""Priority classes: a non-preemptive two-class M/M/1 against Cobham's formula, the service discipline
case by case, results per class, and journeys without classes unchanged.

Journeys are built in Python (the YAML keys for priorities are read by the format work, in parallel).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from helpers import journey_of, queue_journey

from journeymap.distributions import Fixed
from journeymap.model import Backlog, Workload
from journeymap.simulation import simulate, summary_text
from journeymap.simulation.engine import _purposes
from journeymap.simulation.service import case_classes


def with_mix(journey, *mix):
    return replace(journey, workload=replace(journey.workload, mix=tuple(mix)))


def cobham_waits(rho: float, service: float, p_high: float) -> dict[str, float]:
    """Mean time in queue per class of a two-class non-preemptive priority M/M/1 (Cobham 1954).

    W_q,k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k)), W0 = sum_i lambda_i E[S_i^2] / 2, sigma_k the load of
    classes 1..k. Exponential service of mean S: E[S^2] = 2 S^2, so W0 = rho * S.
    """
    w0 = rho * service
    sigma1 = p_high * rho
    return {"key": w0 / (1 - sigma1), "growth": w0 / ((1 - sigma1) * (1 - rho))}


@pytest.mark.parametrize("rho", [0.6, 0.75])
def test_two_class_priority_queue_matches_cobham(rho):
    """Each class's mean queueing lies in its 95% CI over 20 replications of 10,000 cases (1,000 warm-up).

    FCFS would give both classes rho * S / (1 - rho) (15 min at rho 0.6, 30 min at 0.75): the classes
    are far apart and on either side of it, so the test tells priority service from FCFS. About 5 s each.
    """
    service, p_high = 10.0, 0.4
    journey = with_mix(journey_of(queue_journey(1, service, service / rho)), ("key", p_high), ("growth", 1 - p_high))
    s = simulate(journey, cases=10000, replications=20, warmup=1000, seed=1).summary
    exact = cobham_waits(rho, service, p_high)
    fcfs = rho * service / (1 - rho)
    assert exact["key"] < fcfs < exact["growth"]
    for c in ("key", "growth"):
        lo, hi = s["classes"][c]["waiting_time"]["ci95"]
        assert lo <= exact[c] <= hi, (c, exact[c], lo, hi)
        assert hi - lo < 0.15 * exact[c]  # tight enough to mean something
    assert s["classes"]["key"]["share"] == pytest.approx(p_high, abs=0.01)


def test_two_class_priority_queue_matches_cobham_fast():
    """The same check on a short run (10 x 3,000 cases, under a second): wider intervals, same verdict."""
    service, p_high, rho = 10.0, 0.4, 0.6
    journey = with_mix(journey_of(queue_journey(1, service, service / rho)), ("key", p_high), ("growth", 1 - p_high))
    s = simulate(journey, cases=3000, replications=10, warmup=300, seed=1).summary
    exact = cobham_waits(rho, service, p_high)
    for c in ("key", "growth"):
        lo, hi = s["classes"][c]["waiting_time"]["ci95"]
        assert lo <= exact[c] <= hi, (c, exact[c], lo, hi)


def served_in_order(journey, seed: int = 3):
    """(start, arrival, class) of every case of one replication of a single-step, one-person journey whose
    queue never empties (so the k-th case to finish started at k x duration), in service order."""
    rep = simulate(journey, replications=1, seed=seed).replications[0]
    duration = journey.steps[0].duration.value
    start = np.arange(rep.measured) * duration
    assert rep.case_class is not None
    return start, start - rep.cases["waiting_time"], rep.case_class


def test_waiting_cases_are_served_by_class_then_first_come_first_served():
    """Case by case: whenever a case starts, no case that was already waiting had a higher class, and none of
    its own class had waited longer (non-preemptive priority, FCFS within a class)."""
    journey = journey_of(queue_journey(1, 5, 4))
    step = replace(journey.steps[0], duration=Fixed(5.0))
    # 40 cases waiting at time 0 and one every 4 min for 200: the queue never empties
    journey = replace(journey, steps=(step,), workload=Workload(
        arrivals=replace(journey.workload.arrivals, kind="every", gap=4.0), cases=200,
        backlog=(Backlog("work", 40),), mix=(("growth", 0.5), ("key", 0.3), ("strategic", 0.2))))
    assert case_classes(journey) == ("strategic", "key", "growth")
    start, arrival, cls = served_in_order(journey)
    assert set(cls.tolist()) == {0, 1, 2}
    for k in range(len(start)):
        waiting = (np.arange(len(start)) > k) & (arrival < start[k])  # arrived strictly before k started
        assert np.all(cls[waiting] >= cls[k]), k
        same = waiting & (cls == cls[k])
        assert np.all(arrival[same] >= arrival[k]), k


def test_one_class_keeps_first_come_first_served_and_the_same_numbers():
    """A mix of one class draws classes on its own stream and changes nothing else: same summary."""
    journey = journey_of(queue_journey(2, 30, 20))
    plain = simulate(journey, cases=300, replications=3).summary
    one = simulate(with_mix(journey, ("key", 1.0)), cases=300, replications=3).summary
    assert one.pop("classes")["key"]["cases"] == plain["measured_cases"]
    assert json.dumps(one) == json.dumps(plain)


def test_a_mix_adds_only_its_own_stream():
    """Other journeys' streams are untouched: the class stream exists only with a mix."""
    journey = journey_of(queue_journey(1, 10, 20))
    assert "class" not in _purposes(journey)
    mixed = _purposes(with_mix(journey, ("key", 0.5), ("growth", 0.5)))
    assert [p for p in mixed if p != "class"] == _purposes(journey) and mixed.count("class") == 1


def test_the_arrivals_and_durations_do_not_move_when_classes_are_drawn():
    """Common random numbers: with two classes each case keeps its arrival and its duration, only the order
    of service changes, so the total work and the mean of the arrival gaps are the same."""
    journey = journey_of(queue_journey(1, 10, 14))
    a = simulate(journey, cases=500, replications=2).replications
    b = simulate(with_mix(journey, ("key", 0.5), ("growth", 0.5)), cases=500, replications=2).replications
    for ra, rb in zip(a, b, strict=True):
        assert sorted(ra.cases["processing_time"]) == pytest.approx(sorted(rb.cases["processing_time"]))
        assert ra.department_busy == pytest.approx(rb.department_busy)
        # conservation: a non-preemptive discipline that does not look at service times keeps the mean wait
        # close to FCFS's (exactly equal for the same sample path only in expectation)
        assert rb.cases["waiting_time"].mean() == pytest.approx(ra.cases["waiting_time"].mean(), rel=0.25)


def test_results_per_class_add_up_to_the_whole():
    journey = with_mix(journey_of(queue_journey(1, 10, 14)), ("growth", 0.7), ("key", 0.3))
    s = simulate(journey, cases=400, replications=4, warmup=40).summary
    classes = s["classes"]
    assert list(classes) == ["key", "growth"]  # highest priority first, whatever the order of the mix
    assert [c["rank"] for c in classes.values()] == [1, 2]
    assert sum(c["cases"] for c in classes.values()) == s["measured_cases"]
    assert sum(c["share"] for c in classes.values()) == pytest.approx(1.0)
    mean = sum(c["cases"] * c["cycle_time"]["mean"] for c in classes.values()) / s["measured_cases"]
    assert mean == pytest.approx(s["case"]["cycle_time"]["mean"])
    assert classes["key"]["waiting_time"]["mean"] < classes["growth"]["waiting_time"]["mean"]
    for c in classes.values():
        lo, hi = c["cycle_time"]["ci95"]
        assert lo <= c["cycle_time"]["mean"] <= hi


def test_a_persona_class_is_reported_without_reordering_anyone():
    journey = journey_of(queue_journey(1, 10, 14))
    keyed = replace(journey, persona=replace(journey.persona, priority="key"))
    plain = simulate(journey, cases=200, replications=2).summary
    s = simulate(keyed, cases=200, replications=2).summary
    assert list(s["classes"]) == ["key"]
    assert s["classes"]["key"]["cycle_time"] == s["case"]["cycle_time"]
    assert s["case"] == plain["case"]


def test_without_classes_or_targets_the_summary_has_no_new_keys():
    s = simulate(journey_of(queue_journey(1, 10, 14)), cases=50, replications=2).summary
    assert "classes" not in s and "targets" not in s
    assert list(s)[-1] == "cycle_time_samples"


def test_the_terminal_shows_each_class_with_the_json_numbers():
    from journeymap.distributions import format_minutes as fm

    journey = with_mix(journey_of(queue_journey(1, 10, 14)), ("key", 0.3), ("growth", 0.7))
    s = simulate(journey, cases=300, replications=3).summary
    text = summary_text(s)
    for c, v in s["classes"].items():
        line = next(line for line in text.splitlines() if line.startswith(c + " "))
        lo, hi = v["waiting_time"]["ci95"]
        for shown in (f"{v['cases']} ({100 * v['share']:.1f}%)", fm(v["cycle_time"]["mean"]),
                      fm(v["waiting_time"]["mean"]), f"{fm(lo)} .. {fm(hi)}"):
            assert shown in line, (shown, line)


def test_an_account_tier_gives_its_deals_a_class(trio):
    """An account whose tier is a priority class runs its deals in that class; a free-text tier changes nothing."""
    from journeymap.account import load_account
    from journeymap.simulation.account import combined_journey, simulate_account

    account = load_account(trio("a: sign, b: sign"))
    keyed = replace(account, tier="key")
    assert combined_journey(keyed)[0].persona.priority == "key"
    assert combined_journey(replace(account, tier="enterprise"))[0].persona.priority is None
    plain, _ = simulate_account(account, replications=2, seed=1)
    summary, _ = simulate_account(keyed, replications=2, seed=1)
    assert "classes" not in plain["combined"]
    assert summary["combined"]["classes"]["key"]["cases"] == summary["measured_cases"]
    assert summary["cycle_time"] == plain["cycle_time"]  # one class: nobody is served differently


def test_classes_and_targets_do_not_depend_on_the_number_of_workers():
    from journeymap.model import Target

    journey = with_mix(journey_of(queue_journey(1, 10, 14)), ("key", 0.3), ("growth", 0.7))
    journey = replace(journey, targets=(Target("t", "t", "journey", "", 30.0),))
    one = simulate(journey, cases=200, replications=3, workers=1).summary
    two = simulate(journey, cases=200, replications=3, workers=2).summary
    assert json.dumps(one) == json.dumps(two)
