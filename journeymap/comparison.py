"""Before versus after: the size of each change and how sure we are of it.

Both designs run with the same seed, replication by replication, and the
simulator draws each step's durations and each branch from a stream of its own
keyed by the step id (common random numbers): a step the two designs share
sees the same sequence of durations in both, so the difference between the
designs is not drowned by the noise of the draws. Each replication therefore
gives one *paired* difference ``after − before``; the 95% confidence interval
of the mean difference is a Student-t interval over those pairs, and a change
is **significant** when that interval excludes zero.

Three things keep the verdicts honest (see ``docs/compare.md``):

* a metric identical in every replication is **unchanged**, never significant;
  so is a department's utilisation when it does the same staff work with the
  same people (it then moves only because the simulated window ends with the
  last case);
* a change of a share is in percentage points (``change_kind == "points"``),
  a change of anything else is also given relative to before
  (``"relative"``): the two are never printed with the same sign;
* when either design is not in a steady state (``summary["stability"]``) no
  change is called significant: the figures grow with the run length and are
  not a property of the design.

The intervals cover simulation noise only, not the uncertainty of the inputs.

The paired interval is valid whether or not the pairing helps; when it does,
the interval is narrower. ``paired=False`` gives Welch's unpaired interval,
for results that were not produced with the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .distributions import HOUR, format_minutes
from .statistics import t_interval, t_quantile

if TYPE_CHECKING:
    from .model import Journey, Step
    from .simulation.records import Replication, SimulationResult

__all__ = ["Metric", "METRICS", "CI_NOTE", "compare_metric", "compare_metrics", "headline", "main_driver",
           "stability_of_pair", "replication_metrics", "compare", "compare_results", "compare_targets"]


@dataclass(frozen=True)
class Metric:
    """A quantity measured once per replication, compared between designs."""

    key: str
    label: str
    unit: str  # "minutes", "count", "share", "index" (0..100), "money" (per case)
    lower_is_better: bool = True

    @property
    def change_kind(self) -> str:
        """"points" for a share (its change is in percentage points), else "relative"."""
        return "points" if self.unit == "share" else "relative"


#: One line every surface prints beside the intervals.
CI_NOTE = ("95% confidence intervals cover simulation noise only (the paired replications), "
           "not the uncertainty of the inputs: durations, probabilities and arrival rates are taken as given.")


#: The metrics compared, in report order. Department utilisation rows are added per department.
METRICS: tuple[Metric, ...] = (
    Metric("cycle_time_mean", "Cycle time, mean", "minutes"),
    Metric("cycle_time_p50", "Cycle time, P50", "minutes"),
    Metric("cycle_time_p90", "Cycle time, P90", "minutes"),
    Metric("cycle_time_std", "Cycle time, spread (std)", "minutes"),
    Metric("cycle_time_p90_minus_p50", "Predictability: P90 − P50", "minutes"),
    Metric("processing_time_mean", "Processing (touch) time", "minutes"),
    Metric("waiting_time_mean", "Waiting in queues", "minutes"),
    Metric("handoffs_mean", "Handoffs per case", "count"),
    Metric("handoff_waste_mean", "Handoff waste per case", "minutes"),
    Metric("rework_mean", "Rework per case", "count"),
    Metric("flow_efficiency_mean", "Flow efficiency", "share", lower_is_better=False),
    Metric("experience_index", "Experience index (0-100)", "index", lower_is_better=False),
    Metric("cost_per_case", "Staff cost per case", "money"),
)

#: Relative tolerance under which two replication values count as the same number (float summation order).
_SAME = 1e-9


def _welch(b: np.ndarray, a: np.ndarray, level: float) -> tuple[float | None, float | None]:
    nb, na = len(b), len(a)
    if nb < 2 or na < 2:
        return (None, None)
    vb, va = b.var(ddof=1) / nb, a.var(ddof=1) / na
    diff = a.mean() - b.mean()
    se = math.sqrt(vb + va)
    if se == 0:
        return (float(diff), float(diff))
    df = (vb + va) ** 2 / ((vb**2 / (nb - 1) if nb > 1 else 0) + (va**2 / (na - 1) if na > 1 else 0))
    half = t_quantile(0.5 + level / 2, df) * se
    return (float(diff - half), float(diff + half))


def _same(b: np.ndarray, a: np.ndarray) -> bool:
    """Identical in every replication, up to float summation order."""
    return len(a) == len(b) and bool(np.all(np.abs(a - b) <= _SAME * np.maximum(np.abs(a), np.abs(b))))


def compare_metric(before: Sequence[float], after: Sequence[float], *, paired: bool = True,
                   level: float = 0.95) -> dict[str, Any]:
    """Before, after, absolute and relative change, CI of the difference and significance.

    ``unchanged`` is true when both sides are the same number in every
    replication: then the change is exactly 0 and it is not significant.
    """
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if paired and len(a) != len(b):
        raise ValueError("paired comparison needs the same number of replications on both sides")
    mb, ma = float(b.mean()), float(a.mean())
    diff = ma - mb
    if paired and _same(b, a):
        return {"before": mb, "after": mb, "change": 0.0, "relative_change": 0.0 if mb != 0 else None,
                "ci95": [0.0, 0.0], "significant": False, "unchanged": True}
    if paired:
        lo, hi = t_interval(a - b, level)
        if lo is not None and lo == hi == 0.0:  # identical on every replication
            lo = hi = 0.0
    else:
        lo, hi = _welch(b, a, level)
    significant = lo is not None and hi is not None and (lo > 0 or hi < 0)
    return {
        "before": mb,
        "after": ma,
        "change": diff,
        "relative_change": diff / mb if mb != 0 else None,
        "ci95": [lo, hi],
        "significant": bool(significant),
        "unchanged": False,
    }


def _verdict(row: Mapping[str, Any], steady: bool) -> str:
    """What a reader is told about a row: unchanged, not steady, significant or not significant."""
    if row["unchanged"]:
        return "unchanged"
    if not steady:
        return "not steady"
    return "significant" if row["significant"] else "not significant"


def compare_metrics(before_reps: Sequence[dict[str, float]], after_reps: Sequence[dict[str, float]], *,
                    paired: bool = True, level: float = 0.95, steady: bool = True) -> list[dict[str, Any]]:
    """Compare every metric both sides measured; rows follow :data:`METRICS`, then per-department rows.

    Per department: ``utilisation:<dept>`` and, when priced, ``cost:<dept>``.
    The replication dicts may also carry ``staff:<dept>`` (staff minutes) and
    ``capacity:<dept>``: a department whose staff minutes and capacity are the
    same in every replication has its utilisation reported unchanged. With
    ``steady=False`` no row is significant (and none improved): its verdict is
    "not steady".
    """
    rows = []
    measured = {k for r in list(before_reps) + list(after_reps) for k in r}
    keys = [m.key for m in METRICS if m.key in measured]
    for key in keys + sorted(measured - set(keys)):
        metric = metric_of(key)
        if metric is None:
            continue
        # a department that exists on one side only is idle (0) on the other
        b = [r.get(key, 0.0) for r in before_reps]
        a = [r.get(key, 0.0) for r in after_reps]
        row = compare_metric(b, a, paired=paired, level=level)
        if key.startswith("utilisation:") and not row["unchanged"] and paired and _same_staffing(
                key.split(":", 1)[1], before_reps, after_reps):
            # same work, same people: the after window (it ends with the last case) is not a change
            row.update(after=row["before"], change=0.0, relative_change=0.0 if row["before"] else None,
                       ci95=[0.0, 0.0], significant=False, unchanged=True)
        if not steady:
            row["significant"] = False
        better = row["change"] < 0 if metric.lower_is_better else row["change"] > 0
        row.update(key=key, label=metric.label, unit=metric.unit, change_kind=metric.change_kind,
                   improved=bool(row["significant"] and better), verdict=_verdict(row, steady))
        rows.append(row)
    return rows


_KNOWN = {m.key: m for m in METRICS}


def metric_of(key: str) -> Metric | None:
    """The metric a replication key measures: one of :data:`METRICS`, or a department's row; None for the rest."""
    if key in _KNOWN:
        return _KNOWN[key]
    if key.startswith("utilisation:"):
        return Metric(key, f"Utilisation, {key.split(':', 1)[1]}", "share", lower_is_better=False)
    if key.startswith("cost:"):
        return Metric(key, f"Staff cost per case, {key.split(':', 1)[1]}", "money")
    return None


def _same_staffing(dept: str, before_reps: Sequence[dict[str, float]], after_reps: Sequence[dict[str, float]]) -> bool:
    """The department did the same staff work with the same capacity in every replication of both sides."""
    same_work = all(_same(np.asarray([r.get(f"{k}:{dept}", 0.0) for r in before_reps], float),
                          np.asarray([r.get(f"{k}:{dept}", 0.0) for r in after_reps], float))
                    for k in ("staff", "capacity"))
    return same_work and any(f"staff:{dept}" in r for r in before_reps)


#: The mechanisms of ``time_breakdown`` grouped as a reader names them: (group, components, words).
DRIVERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("work", ("value_adding_work", "other_work"), "staff work"),
    ("queueing", ("queueing",), "queueing"),
    ("inbox", ("handoff_inbox", "other_inbox"), "inbox delays"),
    ("customer", ("customer_time",), "customer time"),
    ("gate", ("gate_wait",), "waiting for other personas"),
    ("off_hours", ("off_hours",), "work paused outside working hours"),
)


def main_driver(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Which mechanism moved the cycle time, from two ``time_breakdown`` blocks; None without them.

    Returns per group (work, queueing, inbox, customer, gate, off hours) the minutes per
    case before and after, and two names: ``driver`` (the group whose change
    is the largest part of the cycle-time change) and ``dominant`` (the
    largest group after). When the driver changed a lot relative to itself but
    is not the dominant group, the headline says so: the change was real but
    it acted on a small part of the journey.
    """
    if not before or not after or "total" not in before or "total" not in after:
        return None
    groups: dict[str, dict[str, Any]] = {}
    for name, parts, words in DRIVERS:
        if not any(p in before["total"] or p in after["total"] for p in parts):
            continue  # "off_hours" without working time: the comparison's JSON stays as it was
        b = sum(float(before["total"].get(p, 0.0)) for p in parts)
        a = sum(float(after["total"].get(p, 0.0)) for p in parts)
        groups[name] = {"words": words, "before": b, "after": a, "change": a - b,
                        "relative": (a - b) / b if b else None}
    cycle_b = sum(g["before"] for g in groups.values())
    cycle_a = sum(g["after"] for g in groups.values())
    change = cycle_a - cycle_b
    driver = max(groups, key=lambda g: groups[g]["change"] * (1 if change >= 0 else -1))
    dominant = max(groups, key=lambda g: groups[g]["after"])
    return {"groups": groups, "cycle_before": cycle_b, "cycle_after": cycle_a, "change": change,
            "driver": driver, "dominant": dominant}


def _signed(minutes: float) -> str:
    return ("−" if minutes < 0 else "+") + format_minutes(abs(minutes))


def _sure(row: Mapping[str, Any]) -> str:
    return "significant at 95%" if row["significant"] else "not significant"


def _cycle_sentence(r: Mapping[str, Any], drivers: Mapping[str, Any] | None) -> str:
    """The cycle-time change and what drove it, as one sentence."""
    if r.get("unchanged") or r["change"] == 0:
        return "Cycle time unchanged."
    rel = r["relative_change"]
    direction = "down" if r["change"] < 0 else "up"
    size = f"{abs(rel):.0%}" if rel is not None and abs(rel) >= 0.005 else "less than 1%"
    if drivers is None:
        return f"Cycle time {direction} {size} ({_sure(r)})."
    g = drivers["groups"]
    dominant, driver = g[drivers["dominant"]], g[drivers["driver"]]
    cycle_rel = abs(rel) if rel is not None else 0.0
    # the driver moved a lot, but it is a small part of the journey: say where the time is instead
    if (driver["relative"] is not None and abs(driver["relative"]) >= 0.1 and abs(driver["relative"]) >= 3 * cycle_rel
            and drivers["driver"] != drivers["dominant"]):
        verb = "fell" if driver["change"] < 0 else "rose"
        moved = "moved only" if size != "less than 1%" else "moved"
        return (f"{driver['words'].capitalize()} {verb} {abs(driver['relative']):.0%} "
                f"({_signed(driver['change'])} per case), but {dominant['words']} dominate "
                f"({format_minutes(dominant['after'])} of {format_minutes(drivers['cycle_after'])} per case), "
                f"so cycle time {moved} {size} ({_sure(r)}).")
    verb = "fell" if driver["change"] < 0 else "rose"
    share = (f"{_signed(driver['change'])} of the {_signed(drivers['change'])} per case"
             if drivers["change"] else _signed(driver["change"]))
    return (f"Cycle time {direction} {size} ({_sure(r)}), mostly because {driver['words']} {verb}"
            + (f" {abs(driver['relative']):.0%}" if driver["relative"] is not None else "") + f" ({share}).")


def headline(rows: Sequence[dict[str, Any]], drivers: Mapping[str, Any] | None = None,
             stability: Mapping[str, Any] | None = None) -> str:
    """Two sentences for an executive: what moved the cycle time, then the handoff and spread changes.

    ``drivers`` comes from :func:`main_driver`; ``stability`` from
    :func:`stability_of_pair`: a design not in a steady state is said first
    and nothing is called significant.
    """
    by_key = {r["key"]: r for r in rows}
    sentences = []
    if stability is not None and not stability["steady"]:
        sentences.append(stability["message"])
    r = by_key.get("cycle_time_mean")
    if r is not None and r["relative_change"] is not None:
        sentences.append(_cycle_sentence(r, drivers if stability is None or stability["steady"] else None))
    parts = []
    for key, what in (("handoffs_mean", "handoffs per case"), ("cycle_time_p90_minus_p50", "the P50–P90 spread")):
        r = by_key.get(key)
        if r is None or r["relative_change"] is None:
            continue
        if r.get("unchanged") or r["change"] == 0:
            parts.append(f"{what} unchanged")
            continue
        direction = "down" if r["change"] < 0 else "up"
        size = f"{abs(r['relative_change']):.0%}" if abs(r["relative_change"]) >= 0.005 else "less than 1%"
        parts.append(f"{what} {direction} {size} ({_sure(r)})")
    if parts:
        text = "; ".join(parts)
        sentences.append(text[:1].upper() + text[1:] + ".")
    return " ".join(sentences) if sentences else "No comparable metrics."


def stability_of_pair(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Whether both simulation summaries describe a steady state (``summary["stability"]``).

    A summary without a ``stability`` block counts as steady (nothing says
    otherwise). ``message`` names the side(s) that are not steady, for every
    surface: terminal, JSON and the report banner.
    """
    sides: dict[str, Any] = {"before": before.get("stability"), "after": after.get("stability")}
    unsteady = [name for name, st in sides.items() if st is not None and not st.get("steady", True)]
    message = hint = None
    if unsteady:
        which = " and the ".join(unsteady)
        details = " ".join(f"{name.capitalize()}: {sides[name]['message']}" for name in unsteady
                           if sides[name].get("message"))
        message = (f"Warning: the {which} design{'s are' if len(unsteady) > 1 else ' is'} not in a steady state, "
                   f"so its figures grow with the length of the run and no change is called significant."
                   + (f" {details}" if details else ""))
        hints = [sides[name].get("hint") for name in unsteady if sides[name].get("hint")]
        hint = " ".join(dict.fromkeys(hints)) or None
    return {"steady": not unsteady, "unsteady": unsteady, "message": message, "hint": hint,
            "before": sides["before"], "after": sides["after"]}


def replication_metrics(journey: Journey, result: SimulationResult, *,
                        experience: bool = True) -> list[dict[str, float]]:
    """One dict of :data:`METRICS` values per replication of a simulation.

    Per department it adds ``utilisation:<dept>``, ``staff:<dept>`` (busy
    staff minutes) and ``capacity:<dept>``; when any department has a
    ``cost_per_hour``, ``cost:<dept>`` and ``cost_per_case`` (staff time on its
    steps × its rate, per measured case; unpriced departments cost 0). The
    ``experience_index`` (see :mod:`journeymap.experience`) of the replication
    is there when ``experience`` is true and the journey has touchpoints.
    """
    priced = any(d.cost_per_hour for d in journey.departments)
    touchpoints = [(i, s) for i, s in enumerate(journey.steps) if s.is_touchpoint]
    out = []
    for r in result.replications:
        if len(r.cases["cycle_time"]) == 0:
            continue
        m = _case_metrics(r)
        m.update(_department_metrics(journey, r))
        if priced and r.measured:
            m.update(_cost_metrics(journey, r))
        if experience and touchpoints and r.measured:
            index = _experience_index(journey, r, touchpoints)
            if index is not None:
                m["experience_index"] = index
        out.append(m)
    return out


def _target_counts(journey: Journey, result: SimulationResult, target: str, k: int = -1) -> list[tuple[float, float]]:
    """``(met, measured)`` per replication for a target of the journey (of class ``k`` when given)."""
    from .simulation.service import target_counts

    i = next(n for n, t in enumerate(journey.targets) if t.id == target)
    return [target_counts(r.target_met[i], r.case_class, k) for r in result.replications]


#: What makes two targets with the same id the same target: compared only when all of these agree.
TARGET_DEFINITION = ("scope", "ref", "since", "within_minutes", "basis")


def _target_row(before: Journey, after: Journey, rb: SimulationResult, ra: SimulationResult, target: str,
                steady: bool) -> dict[str, Any]:
    """One service-level target before and after: each side's attainment block (the simulation's JSON), and the
    paired change with its 95% CI, overall and per class."""
    from .simulation.service import case_classes, difference_interval

    sides = {side: next((t for t in r.summary.get("targets") or () if t["id"] == target), None)
             for side, r in (("before", rb), ("after", ra))}
    shown = sides["after"] or sides["before"]
    assert shown is not None
    row: dict[str, Any] = {k: shown[k] for k in ("id", "name", "scope", "ref", "since", "within_minutes", "basis",
                                                 "goal")}
    row.update(before=sides["before"], after=sides["after"], change=None, ci95=[None, None], significant=False,
               unchanged=False, improved=False, same_definition=False, verdict="only before" if sides["after"]
               is None else "only after" if sides["before"] is None else "")
    if sides["before"] is None or sides["after"] is None:
        return row
    row["same_definition"] = all(sides["before"][k] == sides["after"][k] for k in TARGET_DEFINITION)
    change = difference_interval(_target_counts(before, rb, target), _target_counts(after, ra, target))
    _judge(row, change, steady)
    classes = [c for c in case_classes(after) if c in case_classes(before)]
    row["classes"] = {}
    for c in classes:
        per_class = difference_interval(_target_counts(before, rb, target, case_classes(before).index(c)),
                                        _target_counts(after, ra, target, case_classes(after).index(c)))
        row["classes"][c] = _judge({"before": sides["before"]["classes"][c], "after": sides["after"]["classes"][c],
                                    "same_definition": row["same_definition"]}, per_class, steady)
    return row


def _judge(row: dict[str, Any], change: Mapping[str, Any], steady: bool) -> dict[str, Any]:
    """Put a paired attainment change into a row: change, CI, significance and the words for it."""
    row.update(change=change["change"], ci95=change["ci95"], unchanged=change["unchanged"],
               significant=bool(change["significant"] and steady and row["same_definition"]))
    row["improved"] = bool(row["significant"] and change["change"] > 0)
    if not row["same_definition"]:
        row["verdict"] = "target changed"
    elif change["change"] is None:
        row["verdict"] = "no case measured"
    else:
        row["verdict"] = _verdict(row, steady)
    return row


def compare_targets(before: Journey, after: Journey, rb: SimulationResult, ra: SimulationResult,
                    steady: bool = True) -> list[dict[str, Any]]:
    """Every service-level target of either design (matched by id; the after design's order first)."""
    ids = list(dict.fromkeys([t.id for t in after.targets] + [t.id for t in before.targets]))
    return [_target_row(before, after, rb, ra, target, steady) for target in ids]


def _case_metrics(r: Replication) -> dict[str, float]:
    """The per-case metrics of one replication: cycle-time mean, percentiles and spread, and the other means."""
    c = r.cases
    ct = c["cycle_time"]
    p50, p90 = (float(x) for x in np.percentile(ct, [50, 90]))
    return {
        "cycle_time_mean": float(ct.mean()),
        "cycle_time_p50": p50,
        "cycle_time_p90": p90,
        "cycle_time_std": float(ct.std(ddof=1)) if len(ct) > 1 else 0.0,
        "cycle_time_p90_minus_p50": p90 - p50,
        "processing_time_mean": float(c["processing_time"].mean()),
        "waiting_time_mean": float(c["waiting_time"].mean()),
        "handoffs_mean": float(c["handoffs"].mean()),
        "handoff_waste_mean": float(c["handoff_delay"].mean()),
        "rework_mean": float(c["rework"].mean()),
        "flow_efficiency_mean": float(c["flow_efficiency"].mean()),
    }


def _department_metrics(journey: Journey, r: Replication) -> dict[str, float]:
    """Per department: utilisation, busy staff minutes and capacity in one replication."""
    from .simulation.summary import utilisation

    m = {}
    for j, d in enumerate(journey.departments):
        m[f"utilisation:{d.id}"] = utilisation(r, j, journey)
        m[f"staff:{d.id}"] = float(r.department_busy[j])
        m[f"capacity:{d.id}"] = float(d.capacity)
    return m


def _cost_metrics(journey: Journey, r: Replication) -> dict[str, float]:
    """Per department and in total: staff cost per measured case (staff time on its steps × its rate)."""
    from .simulation.summary import department_work

    work = department_work(journey, r)
    m = {}
    total = 0.0
    for d in journey.departments:
        cost = work[d.id] / r.measured / HOUR * (d.cost_per_hour or 0.0)
        m[f"cost:{d.id}"] = cost
        total += cost
    m["cost_per_case"] = total
    return m


def _experience_index(journey: Journey, r: Replication, touchpoints: list[tuple[int, Step]]) -> float | None:
    """The persona's experience index computed from one replication's visits and waits beyond tolerance."""
    from .experience import persona_experience

    over = r.step_over_tolerance
    tps = [{"step": s.id, "stage": s.stage, "emotion": s.emotion,
            "visits_per_case": r.step_visits[i] / r.measured,
            "over_tolerance": (over[i] / r.step_visits[i]) if over and r.step_visits[i] else 0.0}
           for i, s in touchpoints]
    return persona_experience(tps, [st.id for st in journey.stages])["overall"]


def compare(before, after, *, replications: int = 10, seed: int = 1, cases: int | None = None,
            workers: int = 1, progress=None, meetings=(None, None), uncertain_samples: int | None = None
            ) -> dict[str, Any]:
    """Simulate both designs with the same seed and compare them: metrics, structure, headline.

    Returns a JSON-ready dict; the two simulation summaries are under
    ``before.simulation`` and ``after.simulation``; ``stability`` says whether
    both are steady (:func:`stability_of_pair`) and ``drivers`` which
    mechanism moved the cycle time (:func:`main_driver`); ``business_case`` (only when a design has a
    ``money:`` block) the cost saved, revenue protected and payback (:func:`journeymap.money.business_case`).
    ``meetings`` carries the
    personas and gates when the designs are accounts' combined journeys (see
    :mod:`journeymap.simulation.account`). A caller that has simulated both designs already
    (the main job) passes its results to :func:`compare_results` instead.

    With ``uncertain_samples``, the result also has ``uncertainty``: how much of the change survives input
    uncertainty, :func:`journeymap.uncertainty.uncertainty_pair` over that many input samples with the same
    replications, seed and cases (docs/uncertainty.md). Two journeys only, not accounts' combined journeys;
    :class:`~journeymap.errors.InvalidArgument` when neither design has an uncertain input.
    """
    from .simulation import simulate

    if uncertain_samples is not None:
        _check_uncertain(before, after, meetings)
    rb = simulate(before, replications=replications, seed=seed, cases=cases, workers=workers, progress=progress,
                  meeting=meetings[0])
    ra = simulate(after, replications=replications, seed=seed, cases=cases, workers=workers, progress=progress,
                  meeting=meetings[1])
    out = compare_results(before, after, rb, ra, meetings=meetings)
    if uncertain_samples is not None:
        from .uncertainty import uncertainty_pair

        out["uncertainty"] = uncertainty_pair(before, after, samples=uncertain_samples, replications=replications,
                                              seed=seed, cases=cases, workers=workers, progress=progress)
    return out


def _check_uncertain(before, after, meetings) -> None:
    """Refuse ``compare(..., uncertain_samples=)`` before simulating: accounts, or no uncertain input."""
    from .errors import InvalidArgument
    from .uncertainty import uncertain_inputs

    if meetings[0] is not None or meetings[1] is not None:
        raise InvalidArgument("input uncertainty compares two journeys, not accounts (docs/uncertainty.md)")
    if not uncertain_inputs(before) and not uncertain_inputs(after):
        raise InvalidArgument(
            f"neither {before.id!r} nor {after.id!r} has an uncertain input: give a step 'estimate: assumed' "
            "(or observed, estimated, {low: 0.8, high: 1.5}), a flow 'delay_estimate:', or the journey "
            "'estimates: {default: estimated}' (docs/uncertainty.md)")


def compare_results(before, after, result_before, result_after, *, meetings=(None, None)) -> dict[str, Any]:
    """Compare two designs from simulations already run: what :func:`compare` returns, without simulating.

    The pairing needs both results simulated with the same seed and number of replications (replication
    ``i`` of each then shares its random streams); ``ValueError`` otherwise. ``meetings`` as for
    :func:`compare`: the meetings the results were simulated with.
    """
    from .diff import structural_diff

    rb, ra = result_before, result_after
    seed, replications = rb.summary["seed"], len(rb.replications)
    if (ra.summary["seed"], len(ra.replications)) != (seed, replications):
        raise ValueError(f"a paired comparison needs both designs simulated with the same seed and replications "
                         f"(before: seed {seed}, {replications} replications; after: seed {ra.summary['seed']}, "
                         f"{len(ra.replications)} replications)")
    stability = stability_of_pair(rb.summary, ra.summary)
    solo = meetings[0] is None and meetings[1] is None  # an account's index weighs personas: see its summary
    rows = compare_metrics(replication_metrics(before, rb, experience=solo),
                           replication_metrics(after, ra, experience=solo), paired=True, steady=stability["steady"])
    drivers = main_driver(rb.summary.get("time_breakdown"), ra.summary.get("time_breakdown"))
    out = {
        "before": {"journey": before.id, "name": before.name, "file": before.source, "simulation": rb.summary},
        "after": {"journey": after.id, "name": after.name, "file": after.source, "simulation": ra.summary},
        "seed": seed,
        "replications": replications,
        "paired": True,
        "headline": headline(rows, drivers, stability),
        "stability": stability,
        "drivers": drivers,
        "ci_note": CI_NOTE,
        "metrics": rows,
        "diff": structural_diff(before, after),
    }
    if before.targets or after.targets:
        out["targets"] = compare_targets(before, after, rb, ra, stability["steady"])
    if before.money is not None or after.money is not None:
        from .money import business_case

        out["business_case"] = business_case(before, after, rb, ra, rows)
    return out
