"""What changed between two designs of a journey: steps, touchpoints, handoffs, load.

Pure functions over two journeys; the statistics of the change live in
:mod:`journeymap.comparison`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

from .analysis import expected_department_work, expected_flow_counts, expected_visits
from .graph import build_graph
from .model import Journey, Step

__all__ = ["structural_diff", "STEP_FIELDS"]

#: The step fields compared; a difference in any of them marks the step as changed.
STEP_FIELDS = ("name", "stage", "lane", "owner", "channel", "value_adding", "emotion", "moment_of_truth", "join")


def _flows(journey: Journey, step: str) -> list[str]:
    return sorted(f"{f.target} p={f.probability:g}" + (f" delay={f.delay.describe()}" if f.delay else "")
                  + (" parallel" if f.parallel else "") for f in journey.flows_from.get(step, ()))


def _step_changes(a: Step, b: Step, before: Journey, after: Journey) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    fa, fb = _flows(before, a.id), _flows(after, b.id)
    if fa != fb:
        changes["next"] = [fa, fb]
    for f in STEP_FIELDS:
        if getattr(a, f) != getattr(b, f):
            changes[f] = [getattr(a, f), getattr(b, f)]
    if a.duration != b.duration:
        changes["duration"] = [a.duration.describe(), b.duration.describe()]
    return changes


def _handoff_keys(journey: Journey) -> Counter:
    keys: Counter = Counter()
    for f in journey.flows:
        if journey.is_handoff(f):
            a = journey.step_by_id[f.source].owner
            b = journey.step_by_id[f.target].owner
            keys[(f.source, f.target, a, b)] += 1
    return keys


class _Work(NamedTuple):
    """Expected work per case: minutes per department, handoffs, and handoffs per department pair."""

    minutes: dict[str, float]
    handoffs: float
    pairs: dict[tuple[str, str], float]


def _work(journey: Journey) -> _Work:
    """Expected work per case from the exact expected visits of :mod:`journeymap.analysis`."""
    g = build_graph(journey)
    visits = expected_visits(g)
    work = expected_department_work(g, visits)
    flows = expected_flow_counts(g, visits)
    handoffs = sum(n for (u, v), n in flows.items() if g.edges[u, v]["handoff"])
    pairs: dict[tuple[str, str], float] = {}
    for (u, v), n in flows.items():
        if g.edges[u, v]["handoff"]:
            key = (g.nodes[u]["owner"], g.nodes[v]["owner"])
            pairs[key] = pairs.get(key, 0.0) + n
    return _Work(work, handoffs, pairs)


def structural_diff(before: Journey, after: Journey) -> dict[str, Any]:
    """Steps and touchpoints added, removed or changed; handoffs removed and added; load moved.

    Steps are matched by id. Handoffs are matched by (from step, to step,
    from department, to department). Load is the expected minutes of work per
    case each department does (visits × mean duration), so a redesign that
    moves work from one team to another shows up even when no step is removed.
    """
    wb, wa = _work(before), _work(after)
    out = {
        "steps": _step_diff(before, after),
        "touchpoints": _touchpoint_diff(before, after),
        "handoffs": _handoff_diff(before, after, wb, wa),
        "load": _load_diff(before, after, wb, wa),
        "rework_loops": {"before": sum(1 for f in before.flows if f.rework),
                         "after": sum(1 for f in after.flows if f.rework)},
    }
    if before.targets or after.targets:
        out["targets"] = _target_diff(before, after)
    return out


#: The target fields compared; a difference in any of them marks the target as changed.
TARGET_FIELDS = ("name", "scope", "ref", "since", "within", "basis", "goal")


def _target_diff(before: Journey, after: Journey) -> dict[str, Any]:
    """Service-level targets added, removed or changed (matched by id; ``within`` in minutes)."""
    b, a = {t.id: t for t in before.targets}, {t.id: t for t in after.targets}
    changed = {}
    for tid in b.keys() & a.keys():
        c = {f: [getattr(b[tid], f), getattr(a[tid], f)] for f in TARGET_FIELDS
             if getattr(b[tid], f) != getattr(a[tid], f)}
        if c:
            changed[tid] = c
    return {"before": len(b), "after": len(a), "added": [t for t in a if t not in b],
            "removed": [t for t in b if t not in a], "changed": {t: changed[t] for t in a if t in changed}}


def _step_diff(before: Journey, after: Journey) -> dict[str, Any]:
    b_ids, a_ids = set(before.step_by_id), set(after.step_by_id)
    changed = {}
    for s in before.steps:
        if s.id in a_ids:
            c = _step_changes(s, after.step_by_id[s.id], before, after)
            if c:
                changed[s.id] = c
    return {"before": len(before.steps), "after": len(after.steps),
            "added": [s.id for s in after.steps if s.id not in b_ids],
            "removed": [s.id for s in before.steps if s.id not in a_ids], "changed": changed}


def _touchpoint_diff(before: Journey, after: Journey) -> dict[str, Any]:
    b_tp = {s.id for s in before.steps if s.is_touchpoint}
    a_tp = {s.id for s in after.steps if s.is_touchpoint}
    return {"before": len(b_tp), "after": len(a_tp),
            "added": sorted(a_tp - b_tp, key=lambda s: after.steps.index(after.step_by_id[s])),
            "removed": sorted(b_tp - a_tp, key=lambda s: before.steps.index(before.step_by_id[s]))}


def _handoff_diff(before: Journey, after: Journey, wb: _Work, wa: _Work) -> dict[str, Any]:
    """Handoffs in the file (matched by steps and departments) and expected per case (by department pair)."""
    hb, ha = _handoff_keys(before), _handoff_keys(after)
    pairs_b, pairs_a = wb.pairs, wa.pairs

    def as_dict(k: tuple) -> dict[str, Any]:
        return {"from_step": k[0], "to_step": k[1], "from": k[2], "to": k[3]}

    return {"before": sum(hb.values()), "after": sum(ha.values()),
            "expected_before": wb.handoffs, "expected_after": wa.handoffs,
            "removed": [as_dict(k) for k in hb if k not in ha], "added": [as_dict(k) for k in ha if k not in hb],
            "pairs": [{"from": a, "to": b, "before": pairs_b.get((a, b), 0.0), "after": pairs_a.get((a, b), 0.0)}
                      for a, b in sorted(set(pairs_b) | set(pairs_a))]}


def _load_diff(before: Journey, after: Journey, work_b: _Work, work_a: _Work) -> list[dict[str, Any]]:
    """Expected minutes of work per case of each department, and its capacity (0 where it does not exist)."""
    wb, wa = work_b.minutes, work_a.minutes
    load = []
    for d in sorted(set(wb) | set(wa) | set(before.department_by_id) | set(after.department_by_id)):
        cb = before.department_by_id[d].capacity if d in before.department_by_id else 0
        ca = after.department_by_id[d].capacity if d in after.department_by_id else 0
        load.append({"department": d, "before": wb.get(d, 0.0), "after": wa.get(d, 0.0),
                     "change": wa.get(d, 0.0) - wb.get(d, 0.0), "capacity_before": cb, "capacity_after": ca})
    return load
