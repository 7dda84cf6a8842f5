"""Priority classes and service-level targets: what the engine records for them and how the summary reads it.

**Classes.** A case has a priority class when the journey names any: drawn per case from
``workload.mix`` (on a stream of its own, ``class``, which exists only when the mix is not empty, so
journeys without a mix draw exactly the numbers they drew before), else the persona's ``priority``
(an account's combined journey: the account's tier). :func:`case_classes` lists the classes in play,
highest priority first (the order of ``journey.priorities``); a case's class is its index there, and
that index is the priority of its requests for staff (lower first, then first come first served,
never preempting a case already in service). With fewer than two classes in play nothing is
prioritised and departments stay plain first-come-first-served resources.

**Targets.** Each :class:`~journeymap.model.Target` measures one interval per case:

* ``journey``: arrival to the end of the case;
* ``step``: arrival (or the end of the first visit of ``since``) to the end of the first visit of
  ``ref``; a case that never finishes ``ref`` (or ``since`` before it) is not measured;
* ``stage``: the case's first entry into the stage (when it takes the arrow into the stage's first
  step, so an inbox on that arrow counts in the stage, as in the time breakdown; arrival when it
  starts there) to its last exit (the end of its last step in the stage).

The interval meets the target when it is at most ``within``, counted as ``basis`` says on the
journey's calendar: clock minutes (``elapsed``), open minutes (``working``) or business days
(``business``: the end is no later than ``within / 1440`` business days after the start,
:meth:`~journeymap.workingtime.Timeline.add_business_days`).

The engine keeps per case a few **marks** (first ends of watched steps, a stage's first entry and
last exit), set after the steps that :func:`compile_targets` watches; it does so only when the
journey has targets, so other journeys pay nothing.

**Attainment** is the share of measured cases meeting the target. Its 95% interval treats the
replications as the independent observations (cases within one run queue behind each other and are
not independent): with ``k >= 2`` replications, the ratio estimator ``R = sum(met) / sum(measured)``
with a Student-t interval of ``k - 1`` degrees of freedom on its linearised residuals
(:func:`share_interval`); when every replication measures the same number of cases this is exactly
the t-interval of the per-replication shares. With one replication there is no spread between runs
to measure, and the Wilson score interval over the cases is given instead (it assumes independent
cases, so it is too narrow for a congested run: use several replications for a decision).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from random import Random
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..distributions import DAY
from ..statistics import t_quantile

if TYPE_CHECKING:
    from ..model import Journey
    from ..workingtime import Timeline

__all__ = ["CLASS_STREAM", "TargetPlan", "TargetWatch", "case_classes", "class_sampler", "compile_targets",
           "interval_met", "share_interval", "difference_interval", "goal_met", "target_counts", "attainment"]

#: The stream the class of each case is drawn from (only when ``workload.mix`` is not empty).
CLASS_STREAM = "class"


def case_classes(journey: Journey) -> tuple[str, ...]:
    """The priority classes cases of ``journey`` can have, highest priority first; () when none has one.

    The order is ``journey.priorities``; a class missing from it (validation refuses one) comes last.
    """
    if journey.workload.mix:
        named = [c for c, share in journey.workload.mix if share > 0]
    elif journey.persona.priority:
        named = [journey.persona.priority]
    else:
        return ()
    order = {c: k for k, c in enumerate(journey.priorities)}
    return tuple(sorted(dict.fromkeys(named), key=lambda c: (order.get(c, len(order)), c)))


def class_sampler(journey: Journey, rng: Random | None) -> Callable[[], int] | None:
    """Draws a case's class (its index in :func:`case_classes`) from the mix; None without a mix.

    One uniform number per case on ``rng``; the shares are taken relative to their sum.
    """
    classes = case_classes(journey)
    mix = [(c, share) for c, share in journey.workload.mix if share > 0]
    if not mix or rng is None:
        return None
    total = sum(share for _, share in mix)
    thresholds, index, cum = [], [], 0.0
    for c, share in mix:
        cum += share / total
        thresholds.append(cum)
        index.append(classes.index(c))
    thresholds[-1] = 2.0  # catches round-off in the cumulative sum
    uniform = rng.random
    return lambda: index[bisect_right(thresholds, uniform())]


class TargetPlan(NamedTuple):
    """One target as the engine measures it: the marks that bound its interval and how to count it."""

    #: mark slot of the interval's start; -1: the case's arrival
    start: int
    #: mark slot of the interval's end; -1: the case's end
    end: int
    within: float
    basis: str


class TargetWatch(NamedTuple):
    """What the engine marks after a watched step: slot of its first end, of its stage's first entry and last
    exit (-1 for none)."""

    first_end: int
    entry: int
    exit: int


def compile_targets(journey: Journey) -> tuple[tuple[TargetPlan, ...], dict[str, TargetWatch], int]:
    """The targets' plans, the steps to watch (by id) and the number of mark slots per case."""
    slots: dict[tuple[str, str], int] = {}

    def slot(kind: str, key: str) -> int:
        return slots.setdefault((kind, key), len(slots))

    plans = []
    for t in journey.targets:
        if t.scope == "journey":
            plans.append(TargetPlan(-1, -1, t.within, t.basis))
        elif t.scope == "step":
            start = slot("end", t.since) if t.since else -1
            plans.append(TargetPlan(start, slot("end", t.ref), t.within, t.basis))
        else:
            plans.append(TargetPlan(slot("entry", t.ref), slot("exit", t.ref), t.within, t.basis))
    watch = {}
    for s in journey.steps:
        first = slots.get(("end", s.id), -1)
        entry, exit_ = slots.get(("entry", s.stage), -1), slots.get(("exit", s.stage), -1)
        if first >= 0 or entry >= 0:
            watch[s.id] = TargetWatch(first, entry, exit_)
    return tuple(plans), watch, len(slots)


def mark(marks: list[float], watch: TargetWatch, entered: float, now: float) -> None:
    """After a watched step entered at ``entered`` and ended ``now``: first end, first entry, last exit."""
    if watch.first_end >= 0 and marks[watch.first_end] != marks[watch.first_end]:  # NaN: not yet
        marks[watch.first_end] = now
    if watch.entry >= 0:
        if not marks[watch.entry] <= entered:
            marks[watch.entry] = entered
        if not marks[watch.exit] >= now:
            marks[watch.exit] = now


def interval_met(plan: TargetPlan, marks: Sequence[float], arrived: float, ended: float,
                 timeline: Timeline) -> float:
    """1.0 when a case's interval meets the target, 0.0 when not, NaN when the case is not measured by it."""
    a = arrived if plan.start < 0 else marks[plan.start]
    b = ended if plan.end < 0 else marks[plan.end]
    if not a <= b:  # a mark never set (NaN), or ``since`` after ``ref``
        return math.nan
    if plan.basis == "working":
        return 1.0 if timeline.open_minutes(a, b) <= plan.within else 0.0
    if plan.basis == "business":
        return 1.0 if b <= timeline.add_business_days(a, plan.within / DAY) else 0.0
    return 1.0 if b - a <= plan.within else 0.0


# ---------------------------------------------------------------------- attainment statistics


def _wilson(met: float, n: float, level: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = met / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def share_interval(counts: Sequence[tuple[float, float]], level: float = 0.95
                   ) -> tuple[float | None, float | None, float | None]:
    """Attainment and its interval from ``(met, measured)`` per replication: ``(share, low, high)``.

    See the module docstring: the ratio estimator with a t-interval over replications, Wilson's interval
    for one replication; ``(None, None, None)`` when no case was measured.
    """
    met = sum(m for m, _ in counts)
    n = sum(c for _, c in counts)
    if n == 0:
        return None, None, None
    share = met / n
    k = len(counts)
    if k < 2:
        lo, hi = _wilson(met, n, level)
        return share, lo, hi
    residual = sum((m - share * c) ** 2 for m, c in counts) / (k - 1)
    half = t_quantile(0.5 + level / 2, k - 1) * math.sqrt(residual / k) / (n / k)
    return share, max(0.0, share - half), min(1.0, share + half)


def difference_interval(before: Sequence[tuple[float, float]], after: Sequence[tuple[float, float]],
                        level: float = 0.95) -> dict[str, Any]:
    """After minus before attainment, paired by replication (common random numbers), with its interval.

    The change of two ratio estimators: per replication the difference of their linearised residuals,
    a t-interval of ``k - 1`` degrees of freedom. ``ci95`` is [None, None] with one replication or when
    a side measured nothing; ``unchanged`` when both sides met and measured the same in every replication.
    """
    nb, na = sum(c for _, c in before), sum(c for _, c in after)
    rb = sum(m for m, _ in before) / nb if nb else None
    ra = sum(m for m, _ in after) / na if na else None
    out: dict[str, Any] = {"before": rb, "after": ra, "change": None, "ci95": [None, None], "significant": False,
                           "unchanged": list(before) == list(after) and rb is not None}
    if rb is None or ra is None:
        return out
    out["change"] = ra - rb
    k = len(before)
    if out["unchanged"]:
        out.update(change=0.0, ci95=[0.0, 0.0])
        return out
    if k < 2 or len(after) != k:
        return out
    d = [(ma - ra * ca) / (na / k) - (mb - rb * cb) / (nb / k)
         for (mb, cb), (ma, ca) in zip(before, after, strict=True)]
    half = t_quantile(0.5 + level / 2, k - 1) * math.sqrt(sum(x * x for x in d) / (k - 1) / k)
    lo, hi = out["change"] - half, out["change"] + half
    out.update(ci95=[lo, hi], significant=bool(lo > 0 or hi < 0))
    return out


def goal_met(low: float | None, high: float | None, goal: float) -> bool | None:
    """True when the whole interval is at or above the goal, False when it is all below, else None (undecided)."""
    if low is None or high is None:
        return None
    if low >= goal:
        return True
    if high < goal:
        return False
    return None


def target_counts(met: np.ndarray, classes: np.ndarray | None = None, k: int = -1) -> tuple[float, float]:
    """``(met, measured)`` of one replication's per-case results for a target (of class ``k`` when given)."""
    if classes is not None and k >= 0:
        met = met[classes == k]
    measured = ~np.isnan(met)
    return float(met[measured].sum()), float(measured.sum())


def attainment(counts: Sequence[tuple[float, float]], goal: float) -> dict[str, Any]:
    """The attainment block of the JSON from ``(met, measured)`` per replication."""
    share, lo, hi = share_interval(counts)
    return {"measured_cases": int(sum(c for _, c in counts)), "attainment": share, "ci_low": lo, "ci_high": hi,
            "goal_met": goal_met(lo, hi, goal)}
