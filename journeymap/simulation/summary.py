"""The summary: statistics over replication records, as the JSON-ready dict documented in docs/simulation.md.

:func:`summarize_replications` is the one entry point; each block of the JSON
(steps, departments, arrows, the time breakdown, the bottleneck, stability,
cost, the customer's side) has a function of its own. Two facts the comparison
also needs are defined here once: a department's :func:`utilisation` in a
replication and its staff time, :func:`department_work`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..distributions import HOUR
from ..distributions import format_minutes as _fm
from ..model import Journey
from ..statistics import summarize, summarize_values, thin_sorted, thirds
from .engine import capacity_of
from .records import BREAKDOWN, CASE_METRICS, Replication
from .service import attainment, case_classes, target_counts
from .staff import cycle_calendar, slot_calendars, start_timezone

__all__ = ["CYCLE_TIME_SAMPLES", "department_work", "pool", "summarize_replications", "utilisation"]

#: At most this many pooled cycle times go into the JSON summary.
CYCLE_TIME_SAMPLES = 20000

#: Slots per stage in the critical-path ledger (Replication.time_breakdown).
_K = len(BREAKDOWN)


def pool(arrays: list[np.ndarray]) -> np.ndarray:
    """Concatenate, without a copy when there is only one array (large single runs)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def utilisation(rep: Replication, department: int, journey: Journey) -> float:
    """The share of a department's staff time that was busy in a replication's window (0 for an empty window).

    Busy staff-minutes in the window ÷ the staff-minutes its capacity makes available there
    (:meth:`~.engine.Capacity.staff_minutes`): with a fixed staff, capacity × window length; with
    working time, the open minutes of each person in the window (utilisation against *open* hours).
    """
    capacity = capacity_of(journey.departments[department], journey.calendar, rep.start)
    available = capacity.staff_minutes(rep.window_start, rep.window_end)
    return _ratio(rep.department_busy[department], available)


def owned_steps(journey: Journey) -> dict[str, list[int]]:
    """Each department's steps, as indices into ``journey.steps`` (file order)."""
    return {d.id: [i for i, s in enumerate(journey.steps) if s.owner == d.id] for d in journey.departments}


def department_work(journey: Journey, rep: Replication) -> dict[str, float]:
    """Each department's staff time in a replication: the durations of its steps over measured cases (minutes).

    It is what holds its staff (queueing and inboxes hold nobody): what staff cost is priced on.
    """
    return {d: sum(rep.step_processing[i] for i in steps) for d, steps in owned_steps(journey).items()}


def summarize_replications(journey: Journey, reps: Sequence[Replication], *, seed: int, cases: int,
                           warmup: int) -> dict[str, Any]:
    """The JSON summary (documented in ``docs/simulation.md``) of a list of replications."""
    n = sum(r.measured for r in reps)
    pooled = {m: pool([r.cases[m] for r in reps]) for m in CASE_METRICS}
    rep_means = {m: [float(r.cases[m].mean()) for r in reps if r.measured] for m in CASE_METRICS}
    case = {m: summarize(pooled[m], rep_means[m]) for m in CASE_METRICS if m not in ("handoff_share",)}
    wait, fdelay = _total(reps, "step_waiting"), _total(reps, "step_flow_delay")
    steps = _steps(journey, reps, n)
    breakdown = _time_breakdown(journey, reps, n)
    out = {
        "journey": journey.id,
        "persona": journey.persona.id,
        "seed": seed,
        "replications": len(reps),
        "cases": cases,
        "warmup": warmup,
        "time_unit": "minutes",
        "measured_cases": n,
        "backlog": sum(b.cases for b in journey.workload.backlog),
        "case": case,
        "handoff_waste": {
            "total": case["handoff_delay"],
            "share_of_cycle_time": summarize(pooled["handoff_share"], rep_means["handoff_share"]),
            "pairs": _pairs(reps, n),
        },
        "steps": steps,
        "flows": _flows(journey, reps, n),
        "time_breakdown": breakdown,
        "departments": _departments(journey, reps, n, wait),
        "bottleneck": _bottleneck(journey, wait, fdelay, n, _where_time_goes(breakdown)),
        "system": {
            "wip": summarize_values([_ratio(r.wip_area, r.window) for r in reps]),
            "arrival_rate": summarize_values([_ratio(r.measured, r.window) for r in reps]),
            "window": summarize_values([r.window for r in reps]),
        },
        "replication_means": {m: rep_means[m] for m in CASE_METRICS},
        "experience": _experience(journey, steps, reps),
        "moments_at_risk": _moments_at_risk(journey, steps),
        "stability": _stability(journey, reps, float(pooled["cycle_time"].mean()) if n else 0.0),
        "cost": _cost(journey, reps),
        "surveys": _surveys(journey, reps),
    }
    classes = case_classes(journey)
    if classes:
        out["classes"] = _classes(classes, reps)
    if journey.targets:
        out["targets"] = _targets(journey, reps, classes)
    out["cycle_time_samples"] = [float(x) for x in thin_sorted(pooled["cycle_time"], CYCLE_TIME_SAMPLES)]
    if journey.has_calendars:
        out["working_time"] = _working_time(journey, reps)
    return out


def _classes(classes: Sequence[str], reps: Sequence[Replication]) -> dict[str, Any]:
    """Per priority class (highest first): its measured cases, their cycle time and queue waiting with CIs.

    The ``ci95`` is over the replications' class means, like every other mean (replications where
    the class has no measured case are left out of it).
    """
    n = sum(r.measured for r in reps)
    out = {}
    for k, c in enumerate(classes):
        masks = [r.case_class == k if r.case_class is not None else np.zeros(r.measured, bool) for r in reps]
        cases = int(sum(int(m.sum()) for m in masks))
        block: dict[str, Any] = {"rank": k + 1, "cases": cases, "share": _ratio(cases, n)}
        for metric in ("cycle_time", "waiting_time"):
            values = [r.cases[metric][m] for r, m in zip(reps, masks, strict=True)]
            block[metric] = summarize(pool(values) if values else np.zeros(0),
                                      [float(v.mean()) for v in values if len(v)])
        out[c] = block
    return out


def _targets(journey: Journey, reps: Sequence[Replication], classes: Sequence[str]) -> list[dict[str, Any]]:
    """Per service-level target: its definition, the attainment with its 95% CI and goal verdict, per class.

    See :mod:`.service` for what is measured and how the interval is made.
    """
    out = []
    for i, t in enumerate(journey.targets):
        counts = [target_counts(r.target_met[i]) for r in reps]
        row: dict[str, Any] = {"id": t.id, "name": t.name, "scope": t.scope, "ref": t.ref, "since": t.since,
                               "within_minutes": t.within, "basis": t.basis, "goal": t.goal}
        row.update(attainment(counts, t.goal))
        row["classes"] = {c: attainment([target_counts(r.target_met[i], r.case_class, k) for r in reps], t.goal)
                          for k, c in enumerate(classes)}
        out.append(row)
    return out



def _working_time(journey: Journey, reps: Sequence[Replication]) -> dict[str, Any]:
    """Journeys with calendars: the start, and cycle time in working hours (open hours of the journey's
    calendar, else of the first department's with one: :func:`~.staff.cycle_calendar`)."""
    start = reps[0].start if reps else None
    on, calendar = cycle_calendar(journey)
    hours = [r.working_cycle_time / HOUR if r.working_cycle_time is not None else np.zeros(0) for r in reps]
    return {
        "start": start.isoformat() if start is not None else None,
        "timezone": str(start.tzinfo) if start is not None else start_timezone(journey),
        "cycle_time_working_hours": summarize(pool(hours) if hours else np.zeros(0),
                                              [float(h.mean()) for h, r in zip(hours, reps, strict=True)
                                               if r.measured]),
        "working_hours_calendar": on,
        "working_hours_timezone": calendar.timezone,
    }


def _total(reps: Sequence[Replication], attr: str) -> np.ndarray:
    """A per-step (or per-pair) sum over the replications."""
    return np.sum([getattr(r, attr) for r in reps], axis=0) if reps else np.zeros(0)


def _steps(journey: Journey, reps: Sequence[Replication], n: int) -> dict[str, dict[str, float]]:
    """Per step: visits, work, queueing and inbox delay per case or per visit, and visits over tolerance."""
    visits, proc = _total(reps, "step_visits"), _total(reps, "step_processing")
    wait, fdelay, hdelay = _total(reps, "step_waiting"), _total(reps, "step_flow_delay"), _total(
        reps, "step_handoff_delay")
    all_wait = float(wait.sum())
    over = _total(reps, "step_over_tolerance") if reps and reps[0].step_over_tolerance else np.zeros(0)
    steps = {}
    for i, s in enumerate(journey.steps):
        steps[s.id] = {
            "visits_per_case": _ratio(visits[i], n),
            "time_per_case": _ratio(proc[i], n),
            "wait_per_visit": _ratio(wait[i], visits[i]),
            "wait_per_case": _ratio(wait[i], n),
            "share_of_waiting": _ratio(wait[i], all_wait),
            "processing_per_visit": _ratio(proc[i], visits[i]),
            "flow_delay_per_case": _ratio(fdelay[i], n),
            "handoff_delay_per_case": _ratio(hdelay[i], n),
            "over_tolerance": _ratio(over[i], visits[i]) if len(over) else 0.0,
        }
    return steps


def _departments(journey: Journey, reps: Sequence[Replication], n: int, wait: np.ndarray) -> dict[str, Any]:
    """Per department: utilisation, queue length and waits over the replications, and its share of queueing."""
    all_wait = float(wait.sum())
    owned = owned_steps(journey)
    departments = {}
    for j, d in enumerate(journey.departments):
        util = [utilisation(r, j, journey) for r in reps]
        queue = [_ratio(r.department_queue_area[j], r.window) for r in reps]
        dw = pool([r.department_waits[j] for r in reps])
        dw_means = [float(r.department_waits[j].mean()) for r in reps if len(r.department_waits[j])]
        dept_wait = sum(float(wait[i]) for i in owned[d.id])
        departments[d.id] = {
            "utilisation": summarize_values(util),
            "queue_length": summarize_values(queue),
            "wait": summarize(dw, dw_means),
            "share_of_waiting": _ratio(dept_wait, all_wait),
            "capacity": d.capacity,
            "visits_per_case": _ratio(len(dw), n),
            "wait_per_case": _ratio(dept_wait, n),
        }
    return departments


def _pairs(reps: Sequence[Replication], n: int) -> list[dict[str, Any]]:
    """The handoff waste of each department pair, largest first (file order among equals)."""
    pair_n, pair_w = _total(reps, "pair_handoffs"), _total(reps, "pair_waste")
    out: list[dict[str, Any]] = [
        {"from": a, "to": b, "handoffs_per_case": _ratio(pair_n[k], n), "waste_per_case": _ratio(pair_w[k], n)}
        for k, (a, b) in enumerate(reps[0].pairs if reps else ())]
    out.sort(key=lambda p: -p["waste_per_case"])  # stable: file order among equals
    return out


def _flows(journey: Journey, reps: Sequence[Replication], n: int) -> list[dict[str, Any]]:
    """Per arrow (in the order of ``journey.flows``): what cases lose on it (defined in docs/simulation.md).

    ``lost_per_case`` is the arrow's own inbox delay plus the queueing at its
    target on the visits that entered the target through it: the time lost
    *on that arrow*. Summed over a department pair's handoff arrows it is the
    pair's ``handoff_waste`` (both are added from the same events).
    Handoff ``number`` k is the k-th entry of
    :func:`journeymap.analysis.handoffs` for the whole journey.
    """
    from ..analysis import handoffs
    from ..graph import build_graph

    numbers = {(h["from_step"], h["to_step"]): k for k, h in enumerate(handoffs(build_graph(journey)), 1)}
    k = len(journey.flows)

    def total(attr: str) -> np.ndarray:
        values = [getattr(r, attr) for r in reps if getattr(r, attr)]
        return np.sum(values, axis=0) if values else np.zeros(k)

    trav, inbox, queue = total("flow_traversals"), total("flow_inbox"), total("flow_queue")
    out = []
    for i, f in enumerate(journey.flows):
        handoff = journey.is_handoff(f)
        out.append({
            "source": f.source, "target": f.target, "handoff": handoff,
            "number": numbers.get((f.source, f.target)) if handoff else None,
            "from_department": journey.step_by_id[f.source].owner,
            "to_department": journey.step_by_id[f.target].owner,
            "traversals_per_case": _ratio(float(trav[i]), n),
            "inbox_per_case": _ratio(float(inbox[i]), n),
            "queue_per_case": _ratio(float(queue[i]), n),
            "lost_per_case": _ratio(float(inbox[i] + queue[i]), n),
        })
    return out


def _time_breakdown(journey: Journey, reps: Sequence[Replication], n: int) -> dict[str, Any]:
    """Where a case's elapsed time goes, per stage and component, on the critical path (defined in docs/simulation.md).

    Mean minutes per measured case. It sums to the mean cycle time: after a
    fork only the branch that reached the join last counts.
    """
    size = len(journey.stages) * _K
    values = [r.time_breakdown for r in reps if r.time_breakdown]
    ledger = np.sum(values, axis=0) if values else np.zeros(size)
    # "off_hours" exists only with working time: a journey without calendars keeps its JSON as it was
    shown = [(c, name) for c, name in enumerate(BREAKDOWN) if name != "off_hours" or journey.has_calendars]
    stages = {st.id: {name: _ratio(float(ledger[k * _K + c]), n) for c, name in shown}
              for k, st in enumerate(journey.stages)}
    total = {name: _ratio(float(ledger[c::_K].sum()), n) for c, name in shown}
    return {"components": [name for _, name in shown], "total": total, "stages": stages}


def _experience(journey: Journey, steps: dict[str, dict[str, Any]],
                reps: Sequence[Replication] = ()) -> dict[str, Any]:
    """The persona's experience index (see :mod:`journeymap.experience`) from the simulated waits.

    ``index_stats`` is the index computed once per replication (its own visits and
    waits beyond tolerance), summarised over replications: its ``ci95`` says how
    precise the overall index is. None when the persona has no touchpoint.
    """
    from ..experience import persona_experience

    stage_ids = [st.id for st in journey.stages]
    tps = [{"step": s.id, "stage": s.stage, "emotion": s.emotion, "visits_per_case": steps[s.id]["visits_per_case"],
            "over_tolerance": steps[s.id]["over_tolerance"]} for s in journey.steps if s.is_touchpoint]
    out = persona_experience(tps, stage_ids)
    touch = [(i, s) for i, s in enumerate(journey.steps) if s.is_touchpoint]
    per_rep = []
    for r in reps:
        if not r.measured:
            continue
        over = r.step_over_tolerance
        rows = [{"step": s.id, "stage": s.stage, "emotion": s.emotion,
                 "visits_per_case": r.step_visits[i] / r.measured,
                 "over_tolerance": _ratio(over[i], r.step_visits[i]) if over else 0.0} for i, s in touch]
        overall = persona_experience(rows, stage_ids)["overall"]
        if overall is not None:
            per_rep.append(overall)
    out["index_stats"] = summarize_values(per_rep) if per_rep and out["overall"] is not None else None
    return out


def _moments_at_risk(journey: Journey, steps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Moments of truth whose wait (queueing + the inbox before them) went beyond the tolerance on some visit."""
    from ..experience import moments_at_risk

    rows = []
    for s in journey.steps:
        if not (s.is_touchpoint and s.moment_of_truth):
            continue
        st = steps[s.id]
        visits = st["visits_per_case"]
        waited = st["wait_per_case"] + st["flow_delay_per_case"]
        tolerance = s.tolerance if s.tolerance is not None else journey.persona.tolerance
        rows.append({"step": s.id, "name": s.name, "stage": s.stage, "moment_of_truth": True,
                     "share_over_tolerance": st["over_tolerance"], "visits_per_case": visits,
                     "wait_per_visit": _ratio(waited, visits), "tolerance": tolerance})
    return moments_at_risk(rows)


def _surveys(journey: Journey, reps: Sequence[Replication]) -> dict[str, Any]:
    """Survey contacts: the most one case got in a quarter, as mean, P90 and max over cases."""
    if not reps or not reps[0].survey_max_per_quarter:
        return {}
    out = {}
    for p in range(len(reps[0].survey_max_per_quarter)):
        values = pool([r.survey_max_per_quarter[p] for r in reps])
        out[str(p)] = {"max_per_quarter_mean": float(values.mean()) if len(values) else 0.0,
                       "max_per_quarter_p90": float(np.percentile(values, 90)) if len(values) else 0.0,
                       "max_per_quarter_max": float(values.max()) if len(values) else 0.0}
    if len(out) == 1:
        out = {journey.persona.id: out["0"]}
    return out


#: Where the time goes, coarse: the ``time_breakdown`` components each bucket adds up.
WHERE_TIME_GOES = {
    "work": ("value_adding_work", "other_work"),
    "queueing": ("queueing",),
    "inbox": ("handoff_inbox", "other_inbox"),
    "customer": ("customer_time",),
    "gate": ("gate_wait",),
    "off_hours": ("off_hours",),
}
#: How people read those buckets (terminal, overview slide), in the order they are listed.
WHERE_TIME_GOES_LABELS = (("work", "staff work"), ("queueing", "queueing"), ("inbox", "inbox delay"),
                          ("customer", "customer time"), ("gate", "waiting for other personas"),
                          ("off_hours", "paused outside working hours"))


def _where_time_goes(time_breakdown: dict[str, Any]) -> dict[str, float]:
    """Per-case minutes of staff work, queueing, inbox delay, customer time, gate waits and (working time) work
    paused outside working hours.

    The critical-path ``time_breakdown`` grouped coarsely, so it sums to the mean cycle time.
    """
    total = time_breakdown["total"]
    # "off_hours" only where the breakdown has it (working time): other journeys keep their JSON as it was
    return {k: float(sum(total.get(c, 0.0) for c in comps)) for k, comps in WHERE_TIME_GOES.items()
            if any(c in total for c in comps)}


def _bottleneck(journey: Journey, queueing: np.ndarray, inbox: np.ndarray, n: int,
                where_time_goes: dict[str, float]) -> dict[str, Any]:
    """The one bottleneck: the department at whose steps cases lose the most time waiting.

    Waiting at a step is the queueing for its staff plus the inbox delay on the
    arrows into it, summed over every visit (every branch). The department with
    the most of it (first in file order among equals) is the bottleneck, and
    ``step`` its step with the most. Both shares have the same base, all the
    waiting of the journey (inbox delays into customer steps included), and are
    labelled as what they are: ``department_share`` and ``step_share``. With no
    waiting at all, ``department`` and ``step`` are None.
    """
    lost = (np.asarray(queueing, dtype=float) + np.asarray(inbox, dtype=float)) if len(queueing) else np.zeros(0)
    everything = float(lost.sum())
    by_dept = owned_steps(journey)
    dept = None
    if everything > 0 and by_dept:
        dept = max(by_dept, key=lambda d: float(lost[by_dept[d]].sum()))  # first of equals: file order
        if float(lost[by_dept[dept]].sum()) <= 0:
            dept = None
    out: dict[str, Any] = {
        "department": dept, "department_name": None, "step": None, "department_share": 0.0, "step_share": 0.0,
        "lost_per_case": 0.0, "queueing_per_case": 0.0, "inbox_per_case": 0.0,
        "step_lost_per_case": 0.0, "step_queueing_per_case": 0.0, "step_inbox_per_case": 0.0,
        "where_time_goes": where_time_goes,
    }
    if dept is None:
        return out
    owned = by_dept[dept]
    k = max(owned, key=lambda i: lost[i])
    out.update(
        department_name=journey.department_by_id[dept].name,
        step=journey.steps[k].id,
        department_share=_ratio(float(lost[owned].sum()), everything),
        step_share=_ratio(float(lost[k]), everything),
        lost_per_case=_ratio(float(lost[owned].sum()), n),
        queueing_per_case=_ratio(float(np.asarray(queueing)[owned].sum()), n),
        inbox_per_case=_ratio(float(np.asarray(inbox)[owned].sum()), n),
        step_lost_per_case=_ratio(float(lost[k]), n),
        step_queueing_per_case=_ratio(float(queueing[k]), n),
        step_inbox_per_case=_ratio(float(inbox[k]), n),
    )
    return out


#: Waits at a department "keep growing" when, over the replications, the last third of its requests
#: wait at least this many times as long as the first third ...
GROWTH_RATIO = 1.5
#: ... the rise, per case, is at least this share of the mean cycle time (a few minutes more queueing
#: in a journey of weeks is not a finding) ...
GROWTH_MIN_SHARE = 0.05
#: ... the middle third lies between them, and the 95% CI of the rise over replications excludes 0. With a
#: single replication growth is not judged: one run's waits are so autocorrelated that a burst in a
#: stable queue at 50% load looks like growth (measured: 2 runs in 20 at a ratio of 3).


def _growth(journey: Journey, reps: Sequence[Replication], cycle_mean: float) -> list[dict[str, Any]]:
    """Departments whose waits keep growing through the run, most growth first.

    SimPy serves a department first come, first served, so its waits in the
    order they were recorded are in the order the cases asked: a steady queue
    gives a flat series, an overloaded one a rising line. The check compares
    the first and last thirds (:func:`journeymap.statistics.thirds`) per
    replication, with the thresholds above, so the empty start of a stable run
    and noise are not taken for growth (stable M/M/1 queues at 50-80% load, 100
    to 300 cases, 2 to 10 replications: flagged in at most 1 run of 20; at 95%
    load, 100 cases are often still warming up, and are flagged). A backlog
    that drains makes waits fall, not grow.
    """
    n = sum(r.measured for r in reps)
    out = []
    for j, d in enumerate(journey.departments):
        t = thirds([r.department_waits[j] for r in reps])
        if t is None:
            continue
        visits = _ratio(sum(len(r.department_waits[j]) for r in reps), n)
        rise = t["last"] - t["first"]
        lo = t["rise_ci95"][0]
        if (lo is not None and lo > 0 and t["first"] < t["middle"] < t["last"]
                and t["last"] >= GROWTH_RATIO * t["first"] and rise * visits >= GROWTH_MIN_SHARE * cycle_mean):
            out.append({"department": d.id, "first_third_wait": t["first"], "last_third_wait": t["last"],
                        "ratio": t["ratio"], "rise_ci95": t["rise_ci95"]})
    out.sort(key=lambda g: -(g["last_third_wait"] - g["first_third_wait"]))
    return out


def _stability(journey: Journey, reps: Sequence[Replication], cycle_mean: float) -> dict[str, Any]:
    """Is there a steady state to report? Exact offered loads, and the growth of waits in the run.

    ``steady`` is False when a department is offered its capacity or more
    (:func:`journeymap.analysis.stability_of`, exact) or when waits keep
    growing through the run (:func:`_growth`); then a confidence interval
    describes this run's length, not the design, and every surface says so with
    ``message`` (one sentence) and ``hint`` (both usual causes, the ``delay:``
    fix first when the step is long for work).
    """
    from ..analysis import is_overloaded, overload_hint, stability_of

    loads = _on_open_hours(journey, stability_of(journey)) if journey.has_calendars else stability_of(journey)
    keys = ("department", "offered_load", "capacity", "utilisation", "step", "step_duration")
    overloaded = sorted(({k: d[k] for k in keys} for d in loads if is_overloaded(d["utilisation"])),
                        key=lambda d: -d["utilisation"])
    growth = _growth(journey, reps, cycle_mean)
    name = {d.id: d.name for d in journey.departments}
    message = hint = None
    if overloaded:
        top = overloaded[0]
        more = len(overloaded) - 1
        message = (f"Not a steady state: {name[top['department']]} is offered {top['utilisation']:.0%} of its "
                   f"capacity ({top['offered_load']:.1f} staff busy on average, {top['capacity']} available)"
                   + (f" and {more} more department{'s are' if more > 1 else ' is'} overloaded" if more else "")
                   + ", so queues grow for as long as cases arrive and the simulated times depend on how many "
                     "cases are run, not on the design.")
        hint = overload_hint(top["department"], top["step"], top["step_duration"], int(top["offered_load"]) + 1)
    elif growth:
        g = growth[0]
        by = (f"{g['ratio']:.1f}× as long as" if g["ratio"] is not None
              else f"{_fm(g['last_third_wait'])} where the first waited nothing, against")
        message = (f"Not a steady state: waits at {name[g['department']]} keep growing through the run (the last "
                   f"third of cases wait {by} the first third), so the simulated times depend on how many cases "
                   "are run, not on the design.")
        load = next((d for d in loads if d["department"] == g["department"]), None)
        if load is not None:
            step, duration = load["step"], load["step_duration"]
        else:  # scheduled arrivals: its step with the most work in the run
            steps = [(i, s) for i, s in enumerate(journey.steps) if s.owner == g["department"]]
            i, top_step = max(steps, key=lambda t: sum(r.step_processing[t[0]] for r in reps))
            visits = sum(r.step_visits[i] for r in reps)
            step, duration = top_step.id, _ratio(sum(r.step_processing[i] for r in reps), visits)
        hint = (overload_hint(g["department"], step, duration, None)
                + "; if the run only starts empty, simulate more cases and leave out a warm-up (--warmup)")
    return {"steady": not overloaded and not growth, "overloaded": overloaded, "growing": bool(growth),
            "growth": growth, "message": message, "hint": hint}


def _on_open_hours(journey: Journey, loads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Offered loads against open hours: with working time a department can only work while its people
    are present, so its utilisation is the work offered in a week over the person-minutes its calendars
    (or shifts) open in a week (holidays aside), not over ``capacity`` x the week's 10,080 minutes."""
    week = 7 * 24 * HOUR
    by_id = {d.id: d for d in journey.departments}
    out = []
    for load in loads:
        open_minutes = sum(c.hours.weekly_minutes for c in slot_calendars(by_id[load["department"]], journey.calendar))
        out.append({**load, "utilisation": load["offered_load"] * week / open_minutes if open_minutes else math.inf})
    return out


def _cost(journey: Journey, reps: Sequence[Replication]) -> dict[str, Any]:
    """Staff cost per case: each department's staff minutes per case × its ``cost_per_hour`` / 60.

    Staff time is the duration of the department's steps (what holds its
    staff), over measured cases; queueing and inboxes hold nobody and cost
    nothing here. Each replication gives one cost per case, so the ``ci95`` is
    across replications. A department without ``cost_per_hour`` costs 0 and
    says so with ``cost_per_hour: null``.
    """
    measured = [r for r in reps if r.measured]
    work = [department_work(journey, r) for r in measured]
    per_dept = {}
    totals = np.zeros(len(measured))
    for d in journey.departments:
        rate = (d.cost_per_hour or 0.0) / HOUR
        values = np.array([rate * w[d.id] / r.measured for w, r in zip(work, measured, strict=True)])
        totals += values
        per_dept[d.id] = {"per_case": summarize_values(values.tolist()), "cost_per_hour": d.cost_per_hour}
    return {"priced": any(d.cost_per_hour is not None for d in journey.departments),
            "total": summarize_values(totals.tolist()), "departments": per_dept}

