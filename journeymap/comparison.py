"""Before versus after: the size of each change and how sure we are of it.

Both designs run with the same seed, replication by replication, and the
simulator draws each step's durations and each branch from a stream of its own
keyed by the step id (common random numbers): a step the two designs share
sees the same sequence of durations in both, so the difference between the
designs is not drowned by the noise of the draws. Each replication therefore
gives one *paired* difference ``after − before``; the 95% confidence interval
of the mean difference is a Student-t interval over those pairs, and a change
is **significant** when that interval excludes zero.

The paired interval is valid whether or not the pairing helps; when it does,
the interval is narrower. ``paired=False`` gives Welch's unpaired interval,
for results that were not produced with the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .statistics import t_interval, t_quantile

__all__ = ["Metric", "METRICS", "compare_metric", "compare_metrics", "headline", "replication_metrics", "compare"]


@dataclass(frozen=True)
class Metric:
    """A quantity measured once per replication, compared between designs."""

    key: str
    label: str
    unit: str  # "minutes", "count", "share"
    lower_is_better: bool = True


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
)


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


def compare_metric(before: Sequence[float], after: Sequence[float], *, paired: bool = True,
                   level: float = 0.95) -> dict[str, Any]:
    """Before, after, absolute and relative change, CI of the difference and significance."""
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if paired and len(a) != len(b):
        raise ValueError("paired comparison needs the same number of replications on both sides")
    mb, ma = float(b.mean()), float(a.mean())
    diff = ma - mb
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
    }


def compare_metrics(before_reps: Sequence[dict[str, float]], after_reps: Sequence[dict[str, float]], *,
                    paired: bool = True, level: float = 0.95) -> list[dict[str, Any]]:
    """Compare every metric both sides measured; rows follow :data:`METRICS`, then per-department utilisation."""
    rows = []
    known = {m.key: m for m in METRICS}
    measured = {k for r in list(before_reps) + list(after_reps) for k in r}
    keys = [m.key for m in METRICS if m.key in measured]
    extra = sorted(measured - set(keys))
    for key in keys + extra:
        if key in known:
            metric = known[key]
        elif key.startswith("utilisation:"):
            metric = Metric(key, f"Utilisation, {key.split(':', 1)[1]}", "share", lower_is_better=False)
        else:
            continue
        # a department that exists on one side only is idle (0) on the other
        b = [r.get(key, 0.0) for r in before_reps]
        a = [r.get(key, 0.0) for r in after_reps]
        row = compare_metric(b, a, paired=paired, level=level)
        better = row["change"] < 0 if metric.lower_is_better else row["change"] > 0
        row.update(key=key, label=metric.label, unit=metric.unit, improved=bool(row["significant"] and better))
        rows.append(row)
    return rows


def headline(rows: Sequence[dict[str, Any]]) -> str:
    """One sentence for an executive: the cycle-time and handoff changes and how sure we are."""
    by_key = {r["key"]: r for r in rows}
    parts = []
    for key, what in (("cycle_time_mean", "cycle time"), ("handoffs_mean", "handoffs per case"),
                      ("cycle_time_p90_minus_p50", "the P50–P90 spread")):
        r = by_key.get(key)
        if r is None or r["relative_change"] is None:
            continue
        sure = "significant at 95%" if r["significant"] else "not significant"
        if r["change"] == 0:
            parts.append(f"{what} unchanged")
            continue
        direction = "down" if r["change"] < 0 else "up"
        parts.append(f"{what} {direction} {abs(r['relative_change']):.0%} ({sure})")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if parts else "No comparable metrics."


def replication_metrics(journey, result) -> list[dict[str, float]]:
    """One dict of :data:`METRICS` values (plus ``utilisation:<dept>``) per replication of a simulation."""
    out = []
    for r in result.replications:
        c = r.cases
        ct = c["cycle_time"]
        if len(ct) == 0:
            continue
        p50, p90 = (float(x) for x in np.percentile(ct, [50, 90]))
        m = {
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
        for j, d in enumerate(journey.departments):
            m[f"utilisation:{d.id}"] = r.department_busy[j] / (d.capacity * r.window) if r.window else 0.0
        out.append(m)
    return out


def compare(before, after, *, replications: int = 10, seed: int = 1, cases: int | None = None,
            workers: int = 1, progress=None, meetings=(None, None)) -> dict[str, Any]:
    """Simulate both designs with the same seed and compare them: metrics, structure, headline.

    Returns a JSON-ready dict; the two simulation summaries are under
    ``before.simulation`` and ``after.simulation``. ``meetings`` carries the
    personas and gates when the designs are accounts' combined journeys (see
    :mod:`journeymap.account_simulation`).
    """
    from .diff import structural_diff
    from .simulation import simulate

    rb = simulate(before, replications=replications, seed=seed, cases=cases, workers=workers, progress=progress,
                  meeting=meetings[0])
    ra = simulate(after, replications=replications, seed=seed, cases=cases, workers=workers, progress=progress,
                  meeting=meetings[1])
    rows = compare_metrics(replication_metrics(before, rb), replication_metrics(after, ra), paired=True)
    return {
        "before": {"journey": before.id, "name": before.name, "file": before.source, "simulation": rb.summary},
        "after": {"journey": after.id, "name": after.name, "file": after.source, "simulation": ra.summary},
        "seed": seed,
        "replications": replications,
        "paired": True,
        "headline": headline(rows),
        "metrics": rows,
        "diff": structural_diff(before, after),
    }
