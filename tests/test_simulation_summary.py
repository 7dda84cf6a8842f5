"""The derived figures of a simulation summary: stability, cost, the customer's side and the bottleneck.

Hand calculations on deterministic journeys, queueing theory on M/M/1, and the text every surface
prints (``simulate``, ``validate``, ``run``). The engine's own figures are in test_simulation.py.
"""

from __future__ import annotations

import json

import pytest
from helpers import HANDOFF_JOURNEY, journey_of, queue_journey

from journeymap.simulation import simulate, summary_text


def summary_of(text: str, **kwargs) -> dict:
    kwargs.setdefault("replications", 2)
    kwargs.setdefault("seed", 1)
    s = simulate(journey_of(text), **kwargs).summary
    json.loads(json.dumps(s, allow_nan=False))  # strict JSON: no NaN, no infinity
    return s


# --------------------------------------------------------------------------- stability


def test_an_overloaded_mm1_is_flagged_overloaded_and_growing():
    # rho = 72 / 60 = 1.2: the queue grows by 0.2 x 60 = 12 min a case, without end
    s = summary_of(queue_journey(1, 72, 60), cases=200, replications=10)
    st = s["stability"]
    assert st["steady"] is False and st["growing"] is True
    (desk,) = st["overloaded"]
    assert desk["department"] == "desk" and desk["capacity"] == 1
    assert desk["offered_load"] == pytest.approx(1.2) and desk["utilisation"] == pytest.approx(1.2)
    assert desk["step"] == "work" and desk["step_duration"] == pytest.approx(72)
    assert st["message"].startswith("Not a steady state: desk is offered 120% of its capacity")
    assert st["hint"].startswith("give desk a capacity of at least 2")  # 72 min is short for work: capacity first
    assert "`delay:`" in st["hint"]


@pytest.mark.parametrize("capacity, service", [
    (1, 30),   # M/M/1 at rho = 0.5
    (3, 120),  # M/M/3 at rho = 2/3
])
def test_a_stable_queue_is_steady(capacity, service):
    st = summary_of(queue_journey(capacity, service, 60), cases=300, replications=5)["stability"]
    assert st == {"steady": True, "overloaded": [], "growing": False, "growth": [], "message": None, "hint": None}


def test_an_overloaded_design_is_unsteady_whatever_the_number_of_cases():
    # the reproduction: the cycle time grows with the cases run (320.9d, then 1077d with
    # --cases 1000), so neither run may quote a confidence interval as a property of the design
    j = journey_of(queue_journey(1, 72, 60))
    short, long = (simulate(j, cases=n, replications=5, seed=1).summary for n in (100, 400))
    assert long["case"]["cycle_time"]["mean"] > 2 * short["case"]["cycle_time"]["mean"]
    assert not short["stability"]["steady"] and not long["stability"]["steady"]


def test_a_long_duration_gets_the_delay_fix_first_in_simulate_and_validate():
    from journeymap.validation import check_text

    text = queue_journey(1, 2880, 1440).replace("exponential: 2880min", "exponential: 2d")  # 2 days a case, 1 a day
    s = summary_of(text, cases=60)
    st = s["stability"]
    assert st["overloaded"][0]["utilisation"] == pytest.approx(2.0)
    assert st["hint"].startswith("if 'work' (2.0d a visit) is mostly elapsed time rather than work")
    assert "give desk a capacity of at least 3" in st["hint"]
    # validate: the same figures and the same hint
    from helpers import dedent
    (p,) = [p for p in check_text(dedent(text), "q.yaml").problems if p.rule == "overloaded-department"]
    assert "would be 200% busy" in p.message
    assert p.hint == st["hint"]


def test_growth_is_found_without_the_exact_analysis():
    # scheduled arrivals (no long-run rate, so no offered load): a case every 30 min, 45 min of work each;
    # case k waits 15k min, so the last third waits far longer than the first
    times = ", ".join(f"{30 * k}min" for k in range(90))
    text = queue_journey(1, 45, 30).replace("{exponential: 45min}", "45min").replace(
        "{poisson: 30min}, cases: 100", f"{{schedule: [{times}]}}")
    st = summary_of(text)["stability"]
    assert st["overloaded"] == [] and st["growing"] is True and st["steady"] is False
    (g,) = st["growth"]
    assert g["department"] == "desk"
    assert g["first_third_wait"] == pytest.approx(15 * 14.5) and g["last_third_wait"] == pytest.approx(15 * 74.5)
    assert "waits at desk keep growing through the run" in st["message"]
    assert "--warmup" in st["hint"]


def test_one_replication_never_claims_growth():
    # one run's waits are too autocorrelated to tell growth from a burst: only the exact check speaks
    st = summary_of(queue_journey(1, 72, 60), cases=200, replications=1)["stability"]
    assert st["growing"] is False and st["overloaded"] and st["steady"] is False


def test_compare_can_read_the_stability_of_each_design():
    from journeymap.comparison import compare

    result = compare(journey_of(queue_journey(1, 72, 60)), journey_of(queue_journey(2, 72, 60)), replications=3,
                     cases=100)
    assert result["before"]["simulation"]["stability"]["steady"] is False
    assert result["after"]["simulation"]["stability"]["steady"] is True


# --------------------------------------------------------------------------- the bottleneck


def test_bottleneck_counts_queueing_and_inbox_delay_by_hand(handoff_journey):
    # case 0: pitch 0-10, inbox 10-40, redline 40-60, sign 60-65
    # case 1: waits for sales 0-10, pitch 10-20, inbox 20-50, waits for legal 50-60, redline 60-80, sign 80-85
    # waiting per case: sales 5 (queueing); legal 30 inbox + 5 queueing; all waiting 40
    s = simulate(handoff_journey, replications=1).summary
    b = s["bottleneck"]
    assert b == {
        "department": "legal", "department_name": "legal", "step": "redline",
        "department_share": 35 / 40, "step_share": 35 / 40,
        "lost_per_case": 35, "queueing_per_case": 5, "inbox_per_case": 30,
        "step_lost_per_case": 35, "step_queueing_per_case": 5, "step_inbox_per_case": 30,
        "where_time_goes": {"work": 30, "queueing": 10, "inbox": 30, "customer": 5, "gate": 0},
    }
    assert sum(b["where_time_goes"].values()) == s["case"]["cycle_time"]["mean"]  # no fork: it adds up


TWO_INBOXES = """
    journey: {id: two, name: Two inboxes}
    persona: {id: buyer}
    stages: [sell, sign]
    departments: [{id: sales}, {id: legal, name: Legal team}]
    steps:
      - {id: pitch, stage: sell, owner: sales, duration: 10min, next: {to: redline, delay: 30min}}
      - {id: redline, stage: sign, owner: legal, duration: 20min, next: {to: approve, delay: 1h}}
      - {id: approve, stage: sign, owner: legal, duration: 10min}
      - {id: sign, stage: sign, owner: customer, duration: 5min}
    workload: {arrivals: {schedule: [0min]}}
    """


def test_bottleneck_labels_department_and_step_shares_and_shows_where_the_time_goes():
    # one case, no queueing: legal loses 30 + 60 min in inboxes; its step 'approve' 60 of the 90
    s = summary_of(TWO_INBOXES, replications=1)
    b = s["bottleneck"]
    assert (b["department"], b["step"]) == ("legal", "approve")
    assert b["department_share"] == 1.0 and b["step_share"] == pytest.approx(60 / 90)
    text = summary_text(s)
    assert ("Bottleneck: Legal team (legal), step approve: 100% department share of waiting, 67% step share; "
            "1.5h lost per case: 0s queueing, 1.5h inbox delay") in text
    assert ("  where a case's time goes: staff work 40min (30%), queueing 0s (0%), inbox delay 1.5h (67%), "
            "customer time 5min (4%)") in text


def test_no_bottleneck_when_nothing_waits():
    text = HANDOFF_JOURNEY.replace(", delay: 30min", "").replace("schedule: [0min, 0min]", "schedule: [0min]")
    b = summary_of(text, replications=1)["bottleneck"]
    assert b["department"] is None and b["step"] is None and b["department_share"] == 0


# --------------------------------------------------------------------------- cost


PRICED = (HANDOFF_JOURNEY.replace("{id: sales, capacity: 1}", "{id: sales, capacity: 1, cost_per_hour: 60}")
          .replace("{id: legal, capacity: 1}", "{id: legal, capacity: 1, cost_per_hour: 120}, {id: ops}"))


def test_cost_per_case_is_staff_time_times_cost_per_hour_by_hand():
    # sales: 10 min a case at 60/h = 10; legal: 20 min at 120/h = 40; ops is unpriced (and idle); total 50
    c = summary_of(PRICED)["cost"]
    assert c["priced"] is True
    assert c["departments"]["sales"]["per_case"]["mean"] == pytest.approx(10)
    assert c["departments"]["legal"]["per_case"]["mean"] == pytest.approx(40)
    assert c["departments"]["legal"]["cost_per_hour"] == 120
    assert c["departments"]["ops"] == {"per_case": c["departments"]["ops"]["per_case"], "cost_per_hour": None}
    assert c["departments"]["ops"]["per_case"]["mean"] == 0
    assert c["total"]["mean"] == pytest.approx(50)
    assert c["total"]["ci95"] == pytest.approx([50, 50])  # deterministic: every replication costs the same


def test_cost_has_a_confidence_interval_across_replications():
    text = queue_journey(1, 30, 60).replace("{id: desk, capacity: 1}", "{id: desk, capacity: 1, cost_per_hour: 60}")
    s = summary_of(text, replications=5, cases=200)
    c = s["cost"]
    lo, hi = c["total"]["ci95"]
    assert lo < 30 < hi  # exponential work of mean 30 min at 1 per minute
    assert c["total"]["mean"] == pytest.approx(sum(c["departments"]["desk"]["per_case"]["ci95"]) / 2)


def test_unpriced_journey_says_so_and_prints_no_cost():
    s = summary_of(HANDOFF_JOURNEY)
    assert s["cost"]["priced"] is False and s["cost"]["total"]["mean"] == 0
    assert "cost" not in summary_text(s).lower()


def test_simulate_prints_the_cost_per_case():
    text = summary_text(summary_of(PRICED))
    assert ("Staff cost per case (time x cost_per_hour): 50.00 (95% CI 50.00 .. 50.00); most: legal 40.00 (80%), "
            "sales 10.00 (20%); not priced: ops") in text


# --------------------------------------------------------------------------- the customer's side


RISKY = (HANDOFF_JOURNEY.replace("{id: redline, stage: sign, owner: legal, duration: 20min}",
                                 "{id: redline, name: Redline call, stage: sign, owner: legal, duration: 20min, "
                                 "lane: frontstage, channel: video, emotion: 1, moment_of_truth: true, "
                                 "tolerance: 35min}"))


def test_moments_of_truth_at_risk_by_hand():
    # waits before redline: case 0 the 30 min inbox, case 1 the inbox and 10 min for legal: 40 > 35
    s = summary_of(RISKY)
    assert s["moments_at_risk"] == [{"step": "redline", "name": "Redline call", "stage": "sign",
                                     "share_over_tolerance": 0.5, "visits_per_case": 1.0, "wait_per_visit": 35.0,
                                     "tolerance": 35.0}]
    assert ("redline (Redline call, stage sign): 50% of visits waited beyond the tolerance of 35min; "
            "mean wait 35min a visit, 1.00 visits per case") in summary_text(s)


def test_experience_index_has_a_confidence_interval_over_replications():
    # redline: 0.5 x 1 + 0.5 x (-2) = -0.5; sign is a neutral touchpoint (0): overall -0.25 -> 50 - 50 x 0.25 / 3
    s = summary_of(RISKY)
    e = s["experience"]
    index = 50 - 50 * 0.25 / 3
    assert e["overall"] == pytest.approx(index)
    assert e["index_stats"]["mean"] == pytest.approx(index)
    assert e["index_stats"]["ci95"] == pytest.approx([index, index])
    assert "Experience index (0 furious .. 50 neutral .. 100 delighted): 46 (95% CI 46 .. 46)" in summary_text(s)


def test_experience_index_interval_covers_the_noise_of_a_random_journey():
    text = queue_journey(1, 45, 60).replace("duration: {exponential: 45min}}",
                                            "duration: {exponential: 45min}, lane: frontstage, channel: web, "
                                            "emotion: 2, tolerance: 30min}")
    e = summary_of(text, replications=5, cases=200)["experience"]
    lo, hi = e["index_stats"]["ci95"]
    assert lo < hi and lo <= e["overall"] <= hi


# --------------------------------------------------------------------------- run


def test_run_marks_an_unsteady_design_in_its_one_line_summary(write_journey, tmp_path):
    from journeymap.pipeline import run_all

    path = str(write_journey(queue_journey(1, 72, 60).replace("cases: 100", "cases: 40"), name="busy.yaml"))
    lines: list[str] = []
    run_all([path], str(tmp_path / "out"), quick=True, log=lines.append)
    (line,) = [line for line in lines if line.startswith(f"{path}: ") and "cycle time" in line]
    assert "NOT A STEADY STATE" in line and "bottleneck desk (100% department share of waiting)" in line
    assert json.loads((tmp_path / "out" / "busy" / "simulation.json").read_text())["stability"]["steady"] is False
