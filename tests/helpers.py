"""Helpers and constants shared by the test modules: paths of the examples, YAML written in a test, made-up results.

Test modules import these (``from helpers import EXAMPLES, dedent``); pytest's fixtures live in
``conftest.py``, which pytest loads itself and which is never imported by a test module.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOURNEYS = ROOT / "journeys"


def _is_account(path: Path) -> bool:
    """Account files (a buying group of journeys) sit in journeys/ too; they are not journeys."""
    from journeymap.account import is_account_file

    return is_account_file(str(path))


#: Every example file in journeys/, journeys and account files alike.
ALL_EXAMPLES = sorted(JOURNEYS.glob("*.yaml"))
#: The example journeys (not account files).
EXAMPLES = [p for p in ALL_EXAMPLES if not _is_account(p)]
#: The example account files.
ACCOUNTS = [p for p in ALL_EXAMPLES if _is_account(p)]
DATA = Path(__file__).resolve().parent / "data"


# --------------------------------------------------------------------------- journey files


def example_ids(paths=EXAMPLES) -> list[str]:
    """Test ids for parametrizing over the example journeys: their file names."""
    return [p.name for p in paths]


def dedent(text: str) -> str:
    """YAML written indented inside a test, as the file a designer would save."""
    return textwrap.dedent(text).lstrip("\n")


def graph_of(text: str):
    """The graph of a journey given as YAML text; fails the test with every problem if it is invalid."""
    from journeymap.graph import build_graph
    from journeymap.problems import format_problem
    from journeymap.validation import check_text

    checked = check_text(dedent(text), "test.yaml", lint=False)
    assert checked.journey is not None, "\n".join(format_problem(p) for p in checked.problems)
    return build_graph(checked.journey)


# --------------------------------------------------------------------------- rendering (fake simulation results)


def fake_results(journey, seed: int = 7) -> dict:
    """A small simulation summary in the contract's shape, made up for one journey (no simulator needed)."""
    import numpy as np

    from journeymap.graph import build_graph
    from journeymap.model import CUSTOMER

    rng = np.random.default_rng(seed)
    g = build_graph(journey)

    def s(mean: float) -> dict:
        return {"mean": mean, "p50": mean * 0.9, "p90": mean * 1.6, "p95": mean * 1.9, "std": mean * 0.4,
                "ci95": [mean * 0.95, mean * 1.05]}

    internal = [n for n in g if g.nodes[n]["owner"] != CUSTOMER]
    waits = {n: float(rng.uniform(0, 300)) for n in internal}
    if internal:
        waits[internal[len(internal) // 2]] = 3000.0  # one clear bottleneck
    total_wait = sum(waits.values()) or 1.0
    steps = {n: {"visits_per_case": 1.0, "time_per_case": g.nodes[n]["mean_duration"] + waits.get(n, 0.0),
                 "wait_per_visit": waits.get(n, 0.0), "wait_per_case": waits.get(n, 0.0),
                 "share_of_waiting": waits.get(n, 0.0) / total_wait} for n in g}
    depts: dict = {}
    for n in internal:
        d = depts.setdefault(g.nodes[n]["owner"], {"utilisation": s(0.0), "queue_length": s(0.5), "wait": s(0.0),
                                                   "share_of_waiting": 0.0})
        d["share_of_waiting"] += steps[n]["share_of_waiting"]
    for i, d in enumerate(depts.values()):
        d["utilisation"] = s(0.3 + 0.6 * ((i * 37) % 10) / 10)
        d["wait"] = s(d["share_of_waiting"] * total_wait)
    pairs: dict = {}
    for u, v, dd in g.edges(data=True):
        if dd["handoff"]:
            key = (g.nodes[u]["owner"], g.nodes[v]["owner"])
            pairs[key] = pairs.get(key, 0.0) + 1.0
    waste = [{"from": a, "to": b, "handoffs_per_case": c, "waste_per_case": 60.0 * c * (1 + i % 3)}
             for i, ((a, b), c) in enumerate(sorted(pairs.items()))]
    samples = sorted(float(x) for x in rng.gamma(4.0, 1500.0, size=400))
    mean = float(np.mean(samples))
    stages = {st.id: {"processing": 300.0 + 100 * i, "value_adding": 120.0 + 20 * i, "waiting": 900.0 - 100 * i,
                      "handoff_delay": 200.0 + 50 * (i % 2)} for i, st in enumerate(journey.stages)}
    bottleneck = internal[len(internal) // 2] if internal else None
    return {
        "journey": journey.id, "persona": journey.persona.id, "replications": 5, "cases": 400,
        "time_unit": "minutes",
        "case": {"cycle_time": {**s(mean), "p50": float(np.percentile(samples, 50)),
                                "p90": float(np.percentile(samples, 90))},
                 "processing_time": s(600.0), "waiting_time": s(mean - 900), "handoff_delay": s(300.0),
                 "handoffs": s(4.0), "rework": s(0.3), "flow_efficiency": s(0.12)},
        "handoff_waste": {"total": s(sum(p["waste_per_case"] for p in waste)), "share_of_cycle_time": s(0.18),
                          "pairs": waste},
        "steps": steps,
        "stages": stages,
        "departments": depts,
        "bottleneck": {"department": g.nodes[bottleneck]["owner"] if bottleneck else None, "step": bottleneck,
                       "share_of_waiting": steps[bottleneck]["share_of_waiting"] if bottleneck else 0.0,
                       "mean_wait_per_case": waits.get(bottleneck, 0.0) if bottleneck else 0.0},
        "cycle_time_samples": samples,
    }


# --------------------------------------------------------------------------- simulation


def journey_of(text: str):
    """The journey of YAML text (dedented); fails the test with every problem if it is invalid."""
    from journeymap.problems import format_problem
    from journeymap.validation import check_text

    checked = check_text(dedent(text), "test.yaml", lint=False)
    assert checked.journey is not None, "\n".join(format_problem(p) for p in checked.problems)
    return checked.journey


def queue_journey(capacity: int, service: float, gap: float) -> str:
    """YAML of one department of ``capacity`` serving exponential(``service`` min) work, Poisson arrivals
    every ``gap`` min."""
    return f"""
        journey: {{id: queue, name: One queue}}
        persona: {{id: buyer}}
        stages: [serve]
        departments: [{{id: desk, capacity: {capacity}}}]
        steps:
          - {{id: work, stage: serve, owner: desk, duration: {{exponential: {service:g}min}}}}
        workload: {{arrivals: {{poisson: {gap:g}min}}, cases: 100}}
        """


#: Two cases at time 0; sales (1 person, 10 min, value adding) hands over to legal (1 person,
#: 20 min) through a 30 min inbox; then a 5 min value-adding customer step. Worked out by hand
#: in tests/test_simulation.py::test_deterministic_handoff_journey_is_exact.
HANDOFF_JOURNEY = """
    journey: {id: handoff, name: Deterministic handoff}
    persona: {id: buyer}
    stages: [sell, sign]
    departments: [{id: sales, capacity: 1}, {id: legal, capacity: 1}]
    steps:
      - {id: pitch, stage: sell, owner: sales, duration: 10min, value_adding: true,
         next: {to: redline, delay: 30min}}
      - {id: redline, stage: sign, owner: legal, duration: 20min}
      - {id: sign, stage: sign, owner: customer, duration: 5min, value_adding: true}
    workload: {arrivals: {schedule: [0min, 0min]}}
    """
