"""Structural analysis of a journey graph: plain functions, graph in, data out.

Counting rules (also in ``docs/analysis.md``):

* A **touchpoint** is a step the customer sees: lane ``customer`` or ``frontstage``.
* An **internal handoff** is a flow between steps owned by two different
  departments. Flows into or out of a customer step are interactions, not
  internal handoffs; a handoff is counted in the stage of the step that
  receives the work.
* **Expected visits** come from the journey as an absorbing Markov chain:
  ``v = s + Qᵀ v`` where ``s`` puts one case on the start step and ``Q`` holds
  the branch probabilities; end steps absorb. A fork sends one token down each
  parallel branch; the join counts once per fork, so flows into a join are
  scaled by ``1/branches``.
* **Expected touch time** is the sum over steps of visits × mean duration: the
  work done on a case with no queueing at all. With parallel branches, the
  elapsed time is shorter than the touch time.
* **Offered load** of a department (:func:`stability_of`) is the number of its
  staff busy on average: arrival rate × Σ over its steps of expected visits ×
  mean duration. At or above its capacity, no amount of simulated time gives a
  steady state: its queue grows as long as cases keep arriving.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx
import numpy as np

from .distributions import DAY, format_minutes
from .graph import build_graph, reach
from .model import CUSTOMER, Journey

__all__ = [
    "touchpoints",
    "steps_per_lane",
    "handoffs",
    "handoff_numbers",
    "stage_counts",
    "handoff_matrix",
    "ping_pongs",
    "expected_visits",
    "expected_flow_counts",
    "rework_loops",
    "return_probability",
    "longest_backstage_chain",
    "analyze",
    "LONG_FOR_WORK",
    "stability_of",
    "is_overloaded",
    "overload_hint",
]

#: A step whose mean duration is at least this long (minutes: one day) is long for work: such a
#: duration is usually elapsed time (waiting for the customer, a committee, a batch) written as
#: ``duration:``, which holds a member of staff the whole time, instead of a flow ``delay:``.
LONG_FOR_WORK = DAY


def touchpoints(g: nx.DiGraph) -> list[str]:
    """Step ids the customer sees, in file order."""
    return [n for n in _ordered(g) if g.nodes[n]["touchpoint"]]


def _ordered(g: nx.DiGraph) -> list[str]:
    return sorted(g.nodes, key=lambda n: g.nodes[n]["order"])


def steps_per_lane(g: nx.DiGraph) -> dict[str, int]:
    counts = Counter(g.nodes[n]["lane"] for n in g)
    return {lane: counts.get(lane, 0) for lane in ("customer", "frontstage", "backstage", "support")}


def handoffs(g: nx.DiGraph) -> list[dict[str, Any]]:
    """Every internal handoff edge, with the departments and the stage that receives it."""
    out = []
    for u, v, d in g.edges(data=True):
        if d["handoff"]:
            out.append({"from_step": u, "to_step": v, "from": g.nodes[u]["owner"], "to": g.nodes[v]["owner"],
                        "stage": g.nodes[v]["stage"], "rework": d["rework"], "probability": d["probability"]})
    out.sort(key=lambda h: (g.nodes[h["from_step"]]["order"], g.nodes[h["to_step"]]["order"]))
    return out


def handoff_numbers(g: nx.DiGraph) -> dict[tuple[str, str], int]:
    """H-number of every handoff arrow (defined in docs/simulation.md): its 1-based place in :func:`handoffs`.

    Given the WHOLE journey's graph, so "H3" is the same arrow on the map, the overview, a ``--stage``
    close-up and in the report.
    """
    return {(h["from_step"], h["to_step"]): i for i, h in enumerate(handoffs(g), 1)}


def stage_counts(g: nx.DiGraph, hs: list[dict[str, Any]] | None = None) -> dict[str, dict[str, int]]:
    """Steps, touchpoints and internal handoffs of each stage, in stage order.

    A handoff counts in the stage of the step that receives the work. ``hs``: :func:`handoffs` of ``g``,
    when the caller has it already. :func:`analyze` reports these counts under ``"stages"`` and the
    drawings print them in their stage headers.
    """
    counts = {s: {"steps": 0, "touchpoints": 0, "handoffs": 0} for s in g.graph["stages"]}
    for n in g:
        st = counts[g.nodes[n]["stage"]]
        st["steps"] += 1
        st["touchpoints"] += int(g.nodes[n]["touchpoint"])
    for h in hs if hs is not None else handoffs(g):
        counts[h["stage"]]["handoffs"] += 1
    return counts


def handoff_matrix(g: nx.DiGraph, weights: dict[tuple[str, str], float] | None = None) -> dict[str, dict[str, float]]:
    """Department × department handoffs: ``matrix[a][b]`` counts handoffs from a to b.

    With ``weights`` (expected traversals per edge) the counts are expected
    handoffs per case instead of edges in the map.
    """
    depts = sorted({g.nodes[n]["owner"] for n in g} - {CUSTOMER})
    matrix: dict[str, dict[str, float]] = {a: {b: 0 for b in depts} for a in depts}
    for u, v, d in g.edges(data=True):
        if d["handoff"]:
            a, b = g.nodes[u]["owner"], g.nodes[v]["owner"]
            matrix[a][b] += weights.get((u, v), 0.0) if weights is not None else 1
    return matrix


def ping_pongs(g: nx.DiGraph) -> list[dict[str, Any]]:
    """Work that goes from department A to B and straight back to A (u -> v -> w).

    A loop between two steps (u -> v -> u) is reported once, not once from
    each side. A fork whose parallel branch is done by another department and
    whose join is back in the fork's department is not ping-pong: that is a
    case owner calling on specialists at the same time, the lean pattern.
    """
    out = []
    seen: set[frozenset] = set()
    for v in _ordered(g):
        b = g.nodes[v]["owner"]
        for u in sorted(g.predecessors(v), key=lambda n: g.nodes[n]["order"]):
            a = g.nodes[u]["owner"]
            if not g.edges[u, v]["handoff"]:
                continue
            for w in sorted(g.successors(v), key=lambda n: g.nodes[n]["order"]):
                if not (g.edges[v, w]["handoff"] and g.nodes[w]["owner"] == a):
                    continue
                if g.edges[u, v]["parallel"] and g.nodes[u]["join"] == w:
                    continue
                if u == w:
                    key = frozenset((u, v))
                    if key in seen:
                        continue
                    seen.add(key)
                out.append({"steps": [u, v, w], "departments": [a, b, a]})
    return out


def return_probability(g: nx.DiGraph, visits: dict[str, float] | None = None) -> dict[str, float]:
    """For each step, the share of the cases doing it that come back to do it again.

    From the expected visits: a step reached ``first`` times per case by
    forward flows and visited ``visits`` times in all is redone with
    probability ``r = 1 - first / visits`` (visits = first / (1 - r)). For a
    loop entered by 30% of cases this is 0.3, even when the flow that closes
    the loop is always taken.
    """
    visits = visits if visits is not None else expected_visits(g)
    arity = _join_arity(g)
    out = {}
    for n in g:
        if visits[n] <= 0:
            out[n] = 0.0
            continue
        first = (1.0 if n == g.graph["start"] else 0.0) + sum(
            visits[u] * _token_weight(g, u, n, arity) for u in g.predecessors(n) if not g.edges[u, n]["rework"])
        out[n] = max(0.0, min(1.0, 1.0 - first / visits[n]))
    return out


def _join_arity(g: nx.DiGraph) -> dict[str, int]:
    """How many tokens each join step collects: the branches of the fork that names it."""
    arity = {}
    for n, join in g.nodes(data="join"):
        if join is not None:
            arity[join] = max(1, g.out_degree(n))
    return arity


def _token_weight(g: nx.DiGraph, u: str, v: str, arity: dict[str, int]) -> float:
    """Expected tokens moving from ``u`` to ``v`` each time ``u`` is done (0 out of an end step)."""
    if g.nodes[u]["end"]:
        return 0.0
    p = g.edges[u, v]["probability"]
    return p / arity[v] if v in arity else p


def expected_visits(g: nx.DiGraph) -> dict[str, float]:
    """Expected number of times each step is done per case (exact, absorbing Markov chain).

    Solves ``v = s + Qᵀ v`` one strongly connected component at a time, in
    topological order of the condensation: steps outside rework loops need no
    solve at all, and each loop is a small dense system. This is exact and
    keeps a 2,000-step journey in milliseconds (a dense solve is O(n³)).
    Raises :class:`numpy.linalg.LinAlgError` when a loop can never be left.
    """
    nodes = _ordered(g)
    if not nodes:
        return {}
    arity = _join_arity(g)
    visits = dict.fromkeys(nodes, 0.0)
    start = g.graph["start"]
    cond = nx.condensation(g)
    component = cond.graph["mapping"]
    for c in nx.topological_sort(cond):
        members = sorted(cond.nodes[c]["members"], key=lambda n: g.nodes[n]["order"])
        # tokens flowing in from components already solved (and the case itself, at the start)
        inflow = np.array([
            (1.0 if n == start else 0.0)
            + sum(visits[u] * _token_weight(g, u, n, arity) for u in g.predecessors(n) if component[u] != c)
            for n in members])
        if len(members) == 1 and not g.has_edge(members[0], members[0]):
            visits[members[0]] = float(inflow[0])
            continue
        index = {n: i for i, n in enumerate(members)}
        q = np.zeros((len(members), len(members)))
        for u in members:
            for v in g.successors(u):
                if v in index:
                    q[index[u], index[v]] += _token_weight(g, u, v, arity)
        solved = np.linalg.solve(np.eye(len(members)) - q.T, inflow)
        for n, x in zip(members, solved, strict=True):
            visits[n] = float(x)
    return {n: max(v, 0.0) for n, v in visits.items()}


def expected_flow_counts(g: nx.DiGraph, visits: dict[str, float] | None = None) -> dict[tuple[str, str], float]:
    """Expected number of times each flow is taken per case."""
    visits = visits if visits is not None else expected_visits(g)
    return {(u, v): visits[u] * d["probability"] for u, v, d in g.edges(data=True)}


def rework_loops(g: nx.DiGraph, visits: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Each rework flow with the steps it makes the case redo.

    The steps redone by a rework flow ``u -> v`` are those on a forward
    (non-rework) path from ``v`` to ``u``. When every forward flow leads to
    a later step in the file (the usual case: a flow to an earlier step is
    rework unless marked ``rework: false``), the search stays between ``v``
    and ``u`` in file order, which keeps a journey with hundreds of loops fast.
    """
    visits = visits if visits is not None else expected_visits(g)
    order = dict(g.nodes(data="order"))
    out = []
    forward = nx.DiGraph((u, v) for u, v, d in g.edges(data=True) if not d["rework"])
    forward.add_nodes_from(g)
    in_file_order = all(order[a] < order[b] for a, b in forward.edges)
    for u, v, d in g.edges(data=True):
        if not d["rework"]:
            continue
        lo, hi = order[v], order[u]
        window = (lambda n, lo=lo, hi=hi: lo <= order[n] <= hi) if in_file_order else (lambda n: True)
        after_v = reach(forward.successors, v, window)
        redo = reach(forward.predecessors, u, after_v.__contains__) & after_v
        out.append({"from": u, "to": v, "probability": d["probability"],
                    "steps": sorted(redo, key=order.__getitem__),
                    "expected_times_taken": visits[u] * d["probability"]})
    return out


def longest_backstage_chain(g: nx.DiGraph) -> dict[str, Any]:
    """The longest run of consecutive steps the customer cannot see (rework ignored)."""
    hidden = [n for n in g if not g.nodes[n]["touchpoint"]]
    sub = nx.DiGraph()
    sub.add_nodes_from(hidden)
    sub.add_edges_from((u, v) for u, v, d in g.edges(data=True)
                       if u in sub and v in sub and not d["rework"])
    if not hidden or not nx.is_directed_acyclic_graph(sub):
        return {"steps": [], "length": 0, "mean_time": 0.0}
    best: dict[str, tuple[int, list[str]]] = {}
    for n in nx.topological_sort(sub):
        preds = [best[p] for p in sub.predecessors(n)]
        length, chain = max(preds, key=lambda t: t[0]) if preds else (0, [])
        best[n] = (length + 1, chain + [n])
    length, chain = max(best.values(), key=lambda t: (t[0], -g.nodes[t[1][0]]["order"]))
    mean = sum(g.nodes[n]["mean_duration"] for n in chain)
    return {"steps": chain, "length": length, "mean_time": mean,
            "followed_by": [s for s in g.successors(chain[-1]) if g.nodes[s]["touchpoint"]]}


def expected_department_work(g: nx.DiGraph, visits: dict[str, float] | None = None) -> dict[str, float]:
    """Expected staff minutes per case of each department (Σ visits × mean duration over its steps), in
    step order. The one definition: ``analyze`` reports it and the structural diff compares it; the
    simulated counterpart is :func:`journeymap.simulation.summary.department_work`."""
    visits = expected_visits(g) if visits is None else visits
    work: dict[str, float] = {}
    for n in g:
        if not g.nodes[n]["customer"]:
            owner = g.nodes[n]["owner"]
            work[owner] = work.get(owner, 0.0) + visits[n] * g.nodes[n]["mean_duration"]
    return work


def analyze(g: nx.DiGraph) -> dict[str, Any]:
    """Everything ``journeymap analyze`` reports, as JSON-ready data (times in minutes)."""
    visits = expected_visits(g)
    traversals = expected_flow_counts(g, visits)
    hs = handoffs(g)
    per_stage: dict[str, dict[str, Any]] = {
        s: {**counts, "expected_handoffs": 0.0, "expected_touch_time": 0.0}
        for s, counts in stage_counts(g, hs).items()}
    for n in g:
        per_stage[g.nodes[n]["stage"]]["expected_touch_time"] += visits[n] * g.nodes[n]["mean_duration"]
    for h in hs:
        per_stage[h["stage"]]["expected_handoffs"] += traversals[(h["from_step"], h["to_step"])]
    expected_handoffs = sum(traversals[(h["from_step"], h["to_step"])] for h in hs)
    touch = sum(visits[n] * g.nodes[n]["mean_duration"] for n in g)
    delay = sum(traversals[(u, v)] * d["mean_delay"] for u, v, d in g.edges(data=True))
    value = sum(visits[n] * g.nodes[n]["mean_duration"] for n in g if g.nodes[n]["value_adding"])
    department_work = expected_department_work(g, visits)
    tps = touchpoints(g)
    return {
        "journey": g.graph["journey"],
        "persona": g.graph["persona"],
        "steps": g.number_of_nodes(),
        "touchpoints": len(tps),
        "touchpoint_steps": tps,
        "steps_per_lane": steps_per_lane(g),
        "handoffs": len(hs),
        "handoff_list": hs,
        "expected_handoffs": expected_handoffs,
        "handoff_matrix": handoff_matrix(g),
        "expected_handoff_matrix": handoff_matrix(g, traversals),
        "ping_pongs": ping_pongs(g),
        "stages": per_stage,
        "expected_visits": visits,
        "expected_touch_time": touch,
        "expected_flow_delay": delay,
        "expected_value_adding_time": value,
        "expected_work_per_department": dict(sorted(department_work.items())),
        "longest_backstage_chain": longest_backstage_chain(g),
        "rework_loops": rework_loops(g, visits),
    }


def is_overloaded(utilisation: float) -> bool:
    """``utilisation >= 1``, without float round-off deciding it (0.1 + 0.2 style sums of loads)."""
    return utilisation >= 1.0 - 1e-9


def stability_of(journey: Journey) -> list[dict[str, Any]]:
    """The exact offered load of every department, in file order (no simulation).

    For a department *d* with capacity *c*: ``offered_load = λ · Σ_s v_s · E[D_s]``
    over its steps *s*, where λ is the arrival rate (1 / the mean gap), ``v_s``
    the exact expected visits per case (:func:`expected_visits`) and ``E[D_s]``
    the mean duration; ``utilisation = offered_load / c``. At utilisation ≥ 1
    the department is **overloaded**: its queue grows for as long as cases
    arrive, so simulated waits depend on how many cases are run, not on the
    design. ``step`` is its step with the largest load and ``step_duration``
    that step's mean duration (minutes). ``work_per_case`` is the department's
    expected staff minutes per case.

    Scheduled arrivals are a finite batch with no long-run rate, so they give
    an empty list (the simulation's growth check still applies to them).

    Examples
    --------
    One desk of one person, 45 min of work a case, a case every 30 min:

    >>> from journeymap.validation import check_text
    >>> j = check_text('''
    ... journey: {id: q, name: Q}
    ... persona: {id: p}
    ... stages: [a]
    ... departments: [{id: desk}]
    ... steps: [{id: work, stage: a, owner: desk, duration: 45min}]
    ... workload: {arrivals: {poisson: 30min}}
    ... ''', "q.yaml", lint=False).journey
    >>> [(d["department"], d["offered_load"], d["utilisation"]) for d in stability_of(j)]
    [('desk', 1.5, 1.5)]
    """
    arrivals = journey.workload.arrivals
    if arrivals.kind == "schedule" or arrivals.gap <= 0:
        return []
    rate = 1.0 / arrivals.gap
    try:
        visits = expected_visits(build_graph(journey))
    except np.linalg.LinAlgError:  # a loop that can never be left: refused by validation already
        return []
    out = []
    for d in journey.departments:
        loads = [(rate * visits.get(s.id, 0.0) * s.duration.mean, s) for s in journey.steps if s.owner == d.id]
        offered = sum(load for load, _ in loads)
        top = max(loads, key=lambda t: t[0])[1] if loads else None  # the first of equals, in file order
        out.append({
            "department": d.id,
            "offered_load": offered,
            "capacity": d.capacity,
            "utilisation": offered / d.capacity if d.capacity else float("inf"),
            "step": top.id if top is not None else None,
            "step_duration": top.duration.mean if top is not None else 0.0,
            "work_per_case": offered / rate,
            "arrival_gap": arrivals.gap,
        })
    return out


def overload_hint(department: str, step: str | None, step_duration: float, needed: int | None) -> str:
    """How to fix an overloaded (or ever-growing) department; names both usual causes.

    When the step's mean duration is long for work (:data:`LONG_FOR_WORK`), the
    likely cause is elapsed time written as ``duration:``: the ``delay:`` fix
    comes first. Otherwise capacity comes first and the ``delay:`` fix second.
    ``needed`` is the smallest capacity under 100% busy (None: not known).
    """
    capacity = (f"give {department} a capacity of at least {needed}" if needed is not None
                else f"give {department} more capacity")
    if step is None:
        return f"{capacity}, or slow the arrivals"
    delay = (f"if {step!r} ({format_minutes(step_duration)} a visit) is mostly elapsed time rather than work "
             "(waiting for the customer, a committee, a batch), write that time as a `delay:` on the flow into it, "
             "which holds no staff")
    if step_duration >= LONG_FOR_WORK:
        return f"{delay}; otherwise {capacity}, or slow the arrivals"
    return f"{capacity}, or slow the arrivals; or, {delay}"
