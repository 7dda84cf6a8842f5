"""Analysis against hand calculations on small graphs, and against a random walk on every example.

Hand calculations: a chain visits each step once; a branch splits one visit
by its probabilities; a rework loop taken with probability p makes the
steps inside it run 1/(1-p) times (a geometric number of passes); nested
loops multiply; a fork sends one token down every branch and its join runs
once per fork.
"""

from __future__ import annotations

import math
from collections import Counter
from random import Random

import pytest
from helpers import EXAMPLES, graph_of

from journeymap.analysis import (
    analyze,
    expected_flow_counts,
    expected_visits,
    handoff_matrix,
    handoff_numbers,
    handoffs,
    longest_backstage_chain,
    ping_pongs,
    rework_loops,
    stage_counts,
    steps_per_lane,
    touchpoints,
)
from journeymap.graph import build_graph
from journeymap.validation import load_journey

HEAD = """
journey: {name: T}
persona: {id: p}
stages: [a, b]
departments: [{id: sales}, {id: ops}, {id: legal}]
steps:
"""


def G(steps: str):
    return graph_of(HEAD + steps)


def test_linear_chain_visits_each_step_once_and_counts_handoffs():
    g = G("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: a, owner: ops, duration: 2h}
      - {id: s3, stage: b, owner: ops, duration: 30min}
      - {id: s4, stage: b, owner: sales, duration: 1h, channel: email}
    """)
    assert expected_visits(g) == {"s1": 1.0, "s2": 1.0, "s3": 1.0, "s4": 1.0}
    a = analyze(g)
    assert a["handoffs"] == 2 and a["expected_handoffs"] == pytest.approx(2.0)      # sales->ops, ops->sales
    assert a["expected_touch_time"] == pytest.approx(60 + 120 + 30 + 60)
    assert a["stages"]["a"]["handoffs"] == 1 and a["stages"]["b"]["handoffs"] == 1   # counted where received
    assert a["touchpoints"] == 1 and touchpoints(g) == ["s4"]
    assert steps_per_lane(g) == {"customer": 0, "frontstage": 1, "backstage": 3, "support": 0}


def test_branch_splits_the_visit_by_probability():
    g = G("""
      - {id: s1, stage: a, owner: sales, duration: 1h, next: [{to: x, probability: 0.3}, {to: y, probability: 0.7}]}
      - {id: x, stage: a, owner: ops, duration: 10h, next: m}
      - {id: y, stage: a, owner: sales, duration: 1h}
      - {id: m, stage: b, owner: sales, duration: 1h}
    """)
    v = expected_visits(g)
    assert (v["x"], v["y"], v["m"]) == (pytest.approx(0.3), pytest.approx(0.7), pytest.approx(1.0))
    a = analyze(g)
    # handoffs: s1 -> x (sales->ops) taken 0.3 times, x -> m (ops->sales) taken 0.3 times
    assert a["handoffs"] == 2 and a["expected_handoffs"] == pytest.approx(0.6)
    assert a["expected_touch_time"] == pytest.approx(60 + 0.3 * 600 + 0.7 * 60 + 60)
    assert a["expected_handoff_matrix"]["sales"]["ops"] == pytest.approx(0.3)
    assert a["handoff_matrix"]["sales"]["ops"] == 1 and a["handoff_matrix"]["ops"]["sales"] == 1


@pytest.mark.parametrize("p", [0.0001, 0.1, 0.25, 0.5, 0.9])
def test_rework_loop_runs_one_over_one_minus_p_times(p):
    g = G(f"""
      - {{id: s1, stage: a, owner: sales, duration: 1h}}
      - {{id: work, stage: a, owner: ops, duration: 1h}}
      - {{id: check, stage: a, owner: legal, duration: 1h,
         next: [{{to: work, probability: {p}}}, {{to: done, probability: {1 - p}}}]}}
      - {{id: done, stage: b, owner: sales, duration: 1h}}
    """)
    v = expected_visits(g)
    assert v["work"] == pytest.approx(1 / (1 - p)) and v["check"] == pytest.approx(1 / (1 - p))
    assert v["s1"] == pytest.approx(1.0) and v["done"] == pytest.approx(1.0)
    (loop,) = rework_loops(g)
    assert (loop["from"], loop["to"], loop["steps"]) == ("check", "work", ["work", "check"])
    assert loop["expected_times_taken"] == pytest.approx(p / (1 - p))
    # handoffs: s1->work once, work->check every pass, check->work on rework, check->done once
    a = analyze(g)
    assert a["expected_handoffs"] == pytest.approx(1 + 1 / (1 - p) + p / (1 - p) + 1)


def test_self_loop():
    g = G("""
      - {id: s1, stage: a, owner: sales, duration: 1h, next: [{to: s1, probability: 0.2}, {to: s2, probability: 0.8}]}
      - {id: s2, stage: b, owner: sales, duration: 1h}
    """)
    assert expected_visits(g)["s1"] == pytest.approx(1.25)
    assert rework_loops(g)[0]["steps"] == ["s1"]


def test_nested_rework_loops_multiply():
    p, q = 0.3, 0.4
    g = G(f"""
      - {{id: s1, stage: a, owner: sales, duration: 1h}}
      - {{id: a1, stage: a, owner: ops, duration: 1h}}
      - {{id: b1, stage: a, owner: ops, duration: 1h,
         next: [{{to: a1, probability: {q}}}, {{to: c1, probability: {1 - q}}}]}}
      - {{id: c1, stage: a, owner: legal, duration: 1h,
         next: [{{to: a1, probability: {p}}}, {{to: z, probability: {1 - p}}}]}}
      - {{id: z, stage: b, owner: sales, duration: 1h}}
    """)
    v = expected_visits(g)
    assert v["c1"] == pytest.approx(1 / (1 - p))
    assert v["a1"] == pytest.approx(1 / ((1 - p) * (1 - q))) and v["b1"] == pytest.approx(v["a1"])
    loops = {(r["from"], r["to"]): r["steps"] for r in rework_loops(g)}
    assert loops == {("b1", "a1"): ["a1", "b1"], ("c1", "a1"): ["a1", "b1", "c1"]}


def test_parallel_fork_and_join_count_once():
    g = G("""
      - {id: fork, stage: a, owner: sales, duration: 1h, next: {parallel: [x, y, join], join: join}}
      - {id: x, stage: a, owner: ops, duration: 2h, next: join}
      - {id: y, stage: a, owner: legal, duration: 3h, next: join}
      - {id: join, stage: b, owner: sales, duration: 1h}
    """)
    assert expected_visits(g) == pytest.approx({"fork": 1.0, "x": 1.0, "y": 1.0, "join": 1.0})
    a = analyze(g)
    # fork->x, fork->y, x->join, y->join are handoffs; the empty branch fork->join is not (sales->sales)
    assert a["handoffs"] == 4 and a["expected_handoffs"] == pytest.approx(4.0)
    assert a["expected_touch_time"] == pytest.approx(60 + 120 + 180 + 60)       # work, not elapsed time


def test_parallel_branch_with_rework_and_choice_inside():
    g = G("""
      - {id: fork, stage: a, owner: sales, duration: 1h, next: {parallel: [x, y], join: j}}
      - {id: x, stage: a, owner: ops, duration: 1h}
      - {id: x2, stage: a, owner: ops, duration: 1h, next: [{to: x, probability: 0.5}, {to: j, probability: 0.5}]}
      - {id: y, stage: a, owner: legal, duration: 1h, next: [{to: y2, probability: 0.4}, {to: j, probability: 0.6}]}
      - {id: y2, stage: a, owner: legal, duration: 1h, next: j}
      - {id: j, stage: b, owner: sales, duration: 1h, next: [{to: fork, probability: 0.2}, {to: z, probability: 0.8}]}
      - {id: z, stage: b, owner: customer, duration: 1h}
    """)
    v = expected_visits(g)
    rounds = 1 / 0.8                                  # the whole block is redone 20% of the time
    assert v["fork"] == pytest.approx(rounds) and v["j"] == pytest.approx(rounds)
    assert v["x"] == pytest.approx(2 * rounds) and v["x2"] == pytest.approx(2 * rounds)
    assert v["y2"] == pytest.approx(0.4 * rounds)
    assert v["z"] == pytest.approx(1.0)


def test_nested_parallel_blocks():
    g = G("""
      - {id: f, stage: a, owner: sales, duration: 1h, next: {parallel: [a1, b1], join: j}}
      - {id: a1, stage: a, owner: ops, duration: 1h, next: {parallel: [a2, a3], join: aj}}
      - {id: a2, stage: a, owner: ops, duration: 1h, next: aj}
      - {id: a3, stage: a, owner: ops, duration: 1h, next: aj}
      - {id: aj, stage: a, owner: ops, duration: 1h, next: j}
      - {id: b1, stage: a, owner: legal, duration: 1h, next: j}
      - {id: j, stage: b, owner: sales, duration: 1h}
    """)
    assert expected_visits(g) == pytest.approx(dict.fromkeys(["f", "a1", "a2", "a3", "aj", "b1", "j"], 1.0))


def test_customer_steps_are_interactions_not_handoffs():
    g = G("""
      - {id: s1, stage: a, owner: sales, duration: 1h, channel: email}
      - {id: s2, stage: a, owner: customer, duration: 1h}
      - {id: s3, stage: b, owner: ops, duration: 1h}
      - {id: s4, stage: b, owner: customer, duration: 1h}
    """)
    assert handoffs(g) == []
    assert analyze(g)["expected_handoffs"] == 0
    assert "customer" not in handoff_matrix(g)


def test_handoff_is_counted_in_the_stage_of_the_receiving_step():
    g = G("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """)
    (h,) = handoffs(g)
    assert (h["from"], h["to"], h["stage"]) == ("sales", "ops", "b")
    a = analyze(g)
    assert (a["stages"]["a"]["handoffs"], a["stages"]["b"]["handoffs"]) == (0, 1)


def test_ping_pong():
    g = G("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: a, owner: ops, duration: 1h}
      - {id: s3, stage: a, owner: sales, duration: 1h}
      - {id: s4, stage: b, owner: legal, duration: 1h}
      - {id: s5, stage: b, owner: customer, duration: 1h}
      - {id: s6, stage: b, owner: legal, duration: 1h}
    """)
    # sales -> ops -> sales is ping-pong; legal -> customer -> legal is not (the customer is no department)
    assert ping_pongs(g) == [{"steps": ["s1", "s2", "s3"], "departments": ["sales", "ops", "sales"]}]


def test_longest_backstage_chain_stops_at_touchpoints_and_ignores_rework():
    g = G("""
      - {id: t1, stage: a, owner: sales, duration: 1h, channel: email}
      - {id: b1, stage: a, owner: ops, duration: 1h}
      - {id: b2, stage: a, owner: ops, duration: 2h}
      - {id: b3, stage: a, owner: legal, duration: 3h, next: [{to: b1, probability: 0.5}, {to: t2, probability: 0.5}]}
      - {id: t2, stage: b, owner: customer, duration: 1h}
      - {id: b4, stage: b, owner: ops, duration: 1h}
    """)
    chain = longest_backstage_chain(g)
    assert chain["steps"] == ["b1", "b2", "b3"] and chain["length"] == 3
    assert chain["mean_time"] == pytest.approx(360) and chain["followed_by"] == ["t2"]


def test_expected_flow_counts_conserve_visits():
    g = G("""
      - {id: s1, stage: a, owner: sales, duration: 1h, next: [{to: s2, probability: 0.5}, {to: s1, probability: 0.5}]}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """)
    flows = expected_flow_counts(g)
    v = expected_visits(g)
    assert flows[("s1", "s1")] + flows[("s1", "s2")] == pytest.approx(v["s1"])
    assert v["s1"] == pytest.approx(2.0)


# --------------------------------------------------------------------------- random walk


def random_walk(g, rng: Random) -> tuple[Counter, int]:
    """Play one case through the graph: token by token, forks spawning, joins waiting for every branch.

    Returns visits per step and the number of internal handoffs crossed.
    """
    arity = {d["join"]: g.out_degree(n) for n, d in g.nodes(data=True) if d["join"]}
    waiting: Counter = Counter()
    visits: Counter = Counter()
    crossed = 0
    tokens = [g.graph["start"]]
    while tokens:
        step = tokens.pop()
        visits[step] += 1
        if g.nodes[step]["end"]:
            continue
        out = list(g.successors(step))
        if g.nodes[step]["join"]:
            chosen = out                                   # a fork: every branch
        else:
            r, acc, chosen = rng.random(), 0.0, [out[-1]]
            for v in out:
                acc += g.edges[step, v]["probability"]
                if r < acc:
                    chosen = [v]
                    break
        for v in chosen:
            crossed += g.edges[step, v]["handoff"]
            if v in arity:
                waiting[v] += 1
                if waiting[v] < arity[v]:
                    continue                               # the join waits for its other branches
                waiting[v] = 0
            tokens.append(v)
    return visits, crossed


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_random_walk_agrees_with_the_markov_chain(path):
    """Mean visits and handoffs over 4,000 seeded walks are within 4 standard errors of the exact values.

    With ~50 quantities per journey and a two-sided 4 SE band, a correct
    model fails by chance about once in 300 journeys; the seed makes it
    deterministic. A quantity with zero sample variance must match exactly.
    """
    g = build_graph(load_journey(path))
    exact = analyze(g)
    rng = Random(20240601)
    n = 4000
    sums: Counter = Counter()
    squares: Counter = Counter()
    for _ in range(n):
        visits, crossed = random_walk(g, rng)
        visits["<handoffs>"] = crossed
        for k, x in visits.items():
            sums[k] += x
            squares[k] += x * x
    expected = {**exact["expected_visits"], "<handoffs>": exact["expected_handoffs"]}
    for k, mu in expected.items():
        mean = sums[k] / n
        var = max(0.0, squares[k] / n - mean * mean)
        se = math.sqrt(var / (n - 1))
        assert abs(mean - mu) <= 4 * se + 1e-9, f"{k}: walk {mean:.4f} vs exact {mu:.4f} (se {se:.4f})"


def test_return_probability_counts_cases_entering_a_loop_not_the_closing_flow():
    # 30% of cases at 'review' go to 'fix', and 'fix' -> 'log' -> back to 'review' always:
    # the closing flow has probability 1, but only 30% of the cases at 'review' come back.
    from journeymap.analysis import return_probability
    from journeymap.validation import check_text

    text = """
journey: {name: t}
persona: {id: p}
stages: [a]
departments: [{id: ops}, {id: qa}]
steps:
  - {id: intake, stage: a, owner: ops, duration: 1h}
  - {id: review, stage: a, owner: qa, duration: 1h, next: [{to: done, probability: 0.7}, {to: fix, probability: 0.3}]}
  - {id: fix, stage: a, owner: ops, duration: 1h}
  - {id: log, stage: a, owner: ops, duration: 1h, next: review}
  - {id: done, stage: a, owner: ops, duration: 1h}
end: done
"""
    journey = check_text(text).journey
    r = return_probability(build_graph(journey))
    assert r["review"] == pytest.approx(0.3)
    assert r["intake"] == pytest.approx(0.0)


# --------------------------------------------------------------------------- offered load (stability)

LOAD = """
journey: {{name: t}}
persona: {{id: p}}
stages: [a]
departments: [{{id: sales}}, {{id: ops, capacity: 2}}]
steps:
  - {{id: pitch, stage: a, owner: sales, duration: 20min}}
  - id: build
    stage: a
    owner: ops
    duration: {{exponential: 45min}}
    next: [{{to: pitch, probability: 0.25}}, {{to: check, probability: 0.75}}]
  - {{id: check, stage: a, owner: ops, duration: 15min}}
workload: {{arrivals: {arrivals}}}
"""


def test_offered_load_is_rate_times_exact_visits_times_mean_duration():
    from journeymap.analysis import stability_of
    from journeymap.validation import check_text

    journey = check_text(LOAD.format(arrivals="{poisson: 30min}"), lint=False).journey
    loads = {d["department"]: d for d in stability_of(journey)}
    # rework 25% of the time: pitch and build are done 1 / 0.75 = 4/3 times a case, check once
    # sales: (1/30) x 4/3 x 20 = 0.889 staff busy, of 1;  ops: (1/30) x (4/3 x 45 + 15) = 2.5, of 2
    assert loads["sales"]["offered_load"] == pytest.approx(4 / 3 * 20 / 30)
    assert loads["sales"]["utilisation"] == pytest.approx(4 / 3 * 20 / 30)
    assert loads["ops"]["offered_load"] == pytest.approx(2.5)
    assert loads["ops"]["utilisation"] == pytest.approx(1.25)
    assert loads["ops"]["capacity"] == 2
    assert loads["ops"]["step"] == "build" and loads["ops"]["step_duration"] == 45  # 60 of its 75 min a case
    assert loads["ops"]["work_per_case"] == pytest.approx(75)
    assert list(loads) == ["sales", "ops"]  # file order


def test_offered_load_counts_each_parallel_branch_once():
    from journeymap.analysis import stability_of
    from journeymap.validation import check_text

    text = """
journey: {name: t}
persona: {id: p}
stages: [a]
departments: [{id: ops}]
steps:
  - {id: split, stage: a, owner: ops, duration: 10min, next: {parallel: [x, y], join: meet}}
  - {id: x, stage: a, owner: ops, duration: 20min, next: meet}
  - {id: y, stage: a, owner: ops, duration: 30min, next: meet}
  - {id: meet, stage: a, owner: ops, duration: 5min}
workload: {arrivals: {every: 2h}}
"""
    (ops,) = stability_of(check_text(text, lint=False).journey)
    assert ops["offered_load"] == pytest.approx((10 + 20 + 30 + 5) / 120)


def test_scheduled_arrivals_have_no_long_run_load():
    from journeymap.analysis import stability_of
    from journeymap.validation import check_text

    journey = check_text(LOAD.format(arrivals="{schedule: [0min, 10min]}"), lint=False).journey
    assert stability_of(journey) == []


@pytest.mark.parametrize("duration, first", [
    (2880.0, "if 'kyc' (2.0d a visit) is mostly elapsed time"),   # two days is long for work: delay: first
    (1440.0, "if 'kyc' (1.0d a visit) is mostly elapsed time"),   # exactly one day counts as long
    (90.0, "give compliance a capacity of at least 3"),            # short work: capacity first
])
def test_overload_hint_names_both_causes_with_the_likely_one_first(duration, first):
    from journeymap.analysis import overload_hint

    hint = overload_hint("compliance", "kyc", duration, 3)
    assert hint.startswith(first)
    assert "`delay:`" in hint and "capacity of at least 3" in hint


def test_stage_counts_are_what_analyze_reports_per_stage(acme):
    """One definition: the drawings' stage headers print these counts, and analyze reports them under "stages"."""
    from journeymap.graph import build_graph

    g = build_graph(acme)
    counts = stage_counts(g)
    per_stage = analyze(g)["stages"]
    assert list(counts) == [s.id for s in acme.stages]
    assert counts == {s: {k: per_stage[s][k] for k in ("steps", "touchpoints", "handoffs")} for s in per_stage}
    assert sum(c["steps"] for c in counts.values()) == len(acme.steps)
    assert sum(c["touchpoints"] for c in counts.values()) == len(touchpoints(g))
    assert [c["handoffs"] for c in counts.values()] == [sum(1 for h in handoffs(g) if h["stage"] == s.id)
                                                        for s in acme.stages]


def test_handoff_numbers_follow_the_file_order_of_the_whole_journey(acme):
    from journeymap.graph import build_graph

    g = build_graph(acme)
    numbers = handoff_numbers(g)
    assert set(numbers) == {(u, v) for u, v, d in g.edges(data=True) if d["handoff"]}
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
    order = [(g.nodes[u]["order"], g.nodes[v]["order"]) for (u, v), _ in sorted(numbers.items(), key=lambda kv: kv[1])]
    assert order == sorted(order)  # H1 leaves the earliest step of the file
