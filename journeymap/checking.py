"""Check a journey against an event log: simulate it with the log's arrivals and compare with what happened.

``journeymap check JOURNEY LOG`` (docs/check.md). The design keeps one definition of every compared number:

1. the journey is simulated with the log's own arrivals (:func:`journey_with_arrivals`: a ``schedule`` of
   the log's new cases, the cases already in progress at the log's start as a backlog at the step they were
   at, a journey with calendars starting at the log's first arrival), ``replications`` times with one seed,
   writing journeymap's event log to a temporary file;
2. both logs are read by the same reader (:func:`journeymap.eventlog_reader.read_log`) into :class:`Events`;
3. one function, :func:`log_statistics`, computes every statistic of either log;
4. :func:`compare` puts the two side by side, one :class:`Item` per compared number, each with a verdict.

Definitions (the same on both sides):

* **cycle time** of a case: its last completion minus its arrival (the log's ``case arrival`` row when it has
  one, else its first start);
* **duration** of an event: completion minus start; **wait** before an event: its start minus the completion
  of the case's previous event (its arrival for the first), never below 0 (parallel branches overlap);
* **handoff**: two consecutive events of a case whose steps are owned by two different departments, neither
  being the customer (the journey's definition, :meth:`journeymap.model.Journey.is_handoff`; owners come from
  the journey's steps);
* **routing share** a → b: of the events of activity a, the share directly followed in their case by b
  (``(end)`` when a is the case's last event);
* **utilisation** of a department: the durations of its steps' events, summed, over capacity × span, with the
  journey's capacity on both sides (so it compares the work each department does), the span being the last
  completion minus the first arrival (summed over the replications of a simulated log). The distinct resources
  the log shows at a department's steps are reported beside the journey's capacity, without a verdict: a count
  of names is a poor estimate of the people available (one who rarely works counts fully).

Cycle times, waits, durations, handoffs and routing count the **new** cases (those whose first event is the
journey's start step); utilisation counts every event.

Verdicts. Each item compares the real value ``r`` with the simulated ``s``. It is *reproduced* when
``|s - r| <= z * sqrt(se_r^2 + se_s^2) + tolerance * |r|``: the sampling noise of both sides (bootstrap
standard errors for quantiles, ``sd/sqrt(n)`` for means, Agresti-Coull for shares) plus a relative tolerance
for what a model is allowed to simplify (default 10%). ``z`` is the two-sided normal quantile at a
Bonferroni-corrected level, 5% / (number of items), so a correct model gets any "off" verdict by chance in
at most about 5% of checks however many items the journey has. The KS distance is taken after the best
stretch of the simulated cycle times by a factor within ``1 ± tolerance`` (the quantiles judge the scale;
KS judges the shape) and is reproduced below its critical value at that same level.

Noise. The real log is one run of the process, and cases that queue behind one another are not independent,
so ``sd/sqrt(n)`` understates how much one run's value varies. Each item's noise on either side is therefore
the larger of the within-log one and the spread of the item between the simulated replications (divided by
sqrt(replications) for the pooled simulation); the KS critical distance widens by the same ratio for cycle
times. Items with fewer than :data:`MIN_OBSERVATIONS` observations on either side are shown as "too few" and
never fail.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from .distributions import format_minutes
from .errors import InputInvalid
from .model import CUSTOMER, Arrivals, Backlog, Journey
from .problems import Problem, excerpt

__all__ = ["DEFAULT_REPLICATIONS", "DEFAULT_RESAMPLES", "DEFAULT_TOLERANCE", "FAMILY_ALPHA", "MIN_OBSERVATIONS",
           "QUANTILES", "END", "CheckResult", "Events", "Item", "LogMismatch", "LogStatistics", "check",
           "check_blocks", "compare", "events_from_log", "journey_with_arrivals", "log_statistics",
           "quantile_bootstrap", "qq_points"]

#: The relative tolerance of ``--tolerance``: how far a model may be from the log beyond sampling noise.
DEFAULT_TOLERANCE = 0.10
#: Bootstrap resamples for the cycle-time quantiles' standard errors and confidence intervals.
DEFAULT_RESAMPLES = 2000
#: Simulated replications of the log's arrivals, pooled.
DEFAULT_REPLICATIONS = 5
#: The family-wise error rate: the chance that a correct model gets any "off" by chance.
FAMILY_ALPHA = 0.05
#: Items with fewer observations on either side are "too few" (shown, never failing).
MIN_OBSERVATIONS = 5
#: The cycle-time quantiles compared.
QUANTILES = (0.10, 0.50, 0.90)
#: The target of a case's last event in the routing shares.
END = "(end)"
#: The probabilities of the Q-Q chart's points.
QQ_PROBABILITIES = tuple(round(p / 100, 2) for p in range(1, 100))
#: Resamples drawn at once in the bootstrap (memory: chunk x cases floats).
_BOOTSTRAP_CHUNK = 250

Z95 = 1.959963984540054
#: Unknown activities reported one by one; the rest are counted in one more problem.
_MAX_UNKNOWN = 20


class LogMismatch(InputInvalid):
    """The log cannot be checked against this journey (activities it does not have, no new case): bad input,
    reported as located problems and exit 2."""

    where = "where the log does not fit the journey"


# --------------------------------------------------------------------------- the events a check reads


@dataclass(frozen=True, eq=False)
class Events:
    """The columns a check needs, one entry per event, sorted by (case, completion).

    ``case`` holds case numbers 0 .. ``len(arrival)`` - 1; ``arrival`` and ``run`` are per case (``run``: the
    replication of a simulated log, 0 for a real one). ``has_start`` is False for a log without start times
    (then ``start`` equals ``end``, durations are unknown, and waits run from completion to completion).
    """

    activities: tuple[str, ...]
    activity: np.ndarray
    case: np.ndarray
    start: np.ndarray
    end: np.ndarray
    arrival: np.ndarray
    run: np.ndarray
    has_start: bool = True
    #: per event: the resource (a code; -1 when missing); None when the log has no resource column
    resource: np.ndarray | None = None

    @classmethod
    def of(cls, cases: Sequence[int], activities: Sequence[str], start: Sequence[float], end: Sequence[float],
           arrival: Sequence[float] | None = None, run: Sequence[int] | None = None,
           has_start: bool = True, resources: Sequence[str] | None = None) -> Events:
        """Events from plain lists (one entry per event; ``cases`` numbered from 0), sorted as the check reads
        them. ``arrival`` per case defaults to each case's first start. For tests and library callers."""
        names = tuple(dict.fromkeys(activities))
        code = {a: i for i, a in enumerate(names)}
        case = np.asarray(cases, dtype=np.int64)
        s, e = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
        order = np.lexsort((s, e, case))
        n = int(case.max()) + 1 if len(case) else 0
        if arrival is None:
            first = np.full(n, np.inf)
            np.minimum.at(first, case, s)
            arr = first
        else:
            arr = np.asarray(arrival, dtype=float)
        who = None
        if resources is not None:
            people = {r: i for i, r in enumerate(dict.fromkeys(resources))}
            who = np.array([people[r] for r in resources], dtype=np.int64)[order]
        return cls(names, np.array([code[a] for a in activities], dtype=np.int64)[order], case[order], s[order],
                   e[order], arr, np.zeros(n, dtype=np.int64) if run is None else np.asarray(run, dtype=np.int64),
                   has_start, who)

    def of_run(self, run: int) -> Events:
        """The events of one replication (its cases keep their numbers; the others have no events)."""
        keep = self.run[self.case] == run
        arrival = np.where(self.run == run, self.arrival, np.nan)
        return replace(self, activity=self.activity[keep], case=self.case[keep], start=self.start[keep],
                       end=self.end[keep], arrival=arrival,
                       resource=None if self.resource is None else self.resource[keep])

    def arriving_at_first_start(self) -> Events:
        """The same events with each case arriving at its first start, as a log without arrival rows shows it."""
        first = np.full(len(self.arrival), np.nan)
        starts = _first_flags(self.case)
        if len(self.case):
            lowest = np.full(len(self.arrival), np.inf)
            np.minimum.at(lowest, self.case, self.start)
            first[self.case[starts]] = lowest[self.case[starts]]
        return replace(self, arrival=first)

    def without_starts(self) -> Events:
        """The same events as a log without start times would show them."""
        return replace(self, start=self.end, has_start=False)


def _run_of(name: str) -> int:
    """The replication of a journeymap case id (``case-3-000042``: 3)."""
    parts = name.split("-")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0


def events_from_log(log: Any, *, simulated: bool = False) -> Events:
    """The :class:`Events` of an :class:`~journeymap.eventlog_reader.EventLog`; ``simulated``: a journeymap log
    of several replications, whose case ids carry the replication."""
    run = np.array([_run_of(c) for c in log.cases], dtype=np.int64) if simulated \
        else np.zeros(len(log.cases), dtype=np.int64)
    resource = np.asarray(log.resource, dtype=np.int64) if len(log.resources) else None
    return Events(tuple(log.activities), np.asarray(log.activity, dtype=np.int64), np.asarray(log.case, dtype=np.int64),
                  np.asarray(log.start, dtype=float), np.asarray(log.end, dtype=float),
                  np.asarray(log.arrival, dtype=float), run, bool(log.has_start), resource)


# --------------------------------------------------------------------------- one statistics function for both logs


@dataclass(frozen=True, eq=False)
class LogStatistics:
    """Every statistic a check compares, of one log (real or simulated), by :func:`log_statistics`."""

    #: cases in the log, new cases (entering at the start step) among them
    cases: int
    new_cases: int
    #: per new case: cycle time (minutes) and handoffs
    cycle: np.ndarray
    handoffs: np.ndarray
    #: per activity: the durations and the waits of its events in new cases (minutes)
    durations: dict[str, np.ndarray]
    waits: dict[str, np.ndarray]
    #: directly-follows counts in new cases: follows[a][b], b may be :data:`END`
    follows: dict[str, dict[str, int]]
    #: per department: busy minutes per case (every case), and the span (minutes, summed over runs)
    busy: dict[str, np.ndarray]
    span: float
    has_start: bool = True
    #: per department: the distinct resources seen at its steps, the mean over runs (empty: no resources named)
    staff: dict[str, float] = field(default_factory=dict)

    def utilisation(self, capacity: Mapping[str, int]) -> dict[str, float]:
        """Busy time / (capacity x span) per department, with the journey's capacity on both sides."""
        return {d: float(b.sum()) / (capacity[d] * self.span) if self.span > 0 else math.nan
                for d, b in self.busy.items()}


def _first_flags(case: np.ndarray) -> np.ndarray:
    """True at each case's first event (events sorted by case)."""
    flags = np.ones(len(case), dtype=bool)
    flags[1:] = case[1:] != case[:-1]
    return flags


def log_statistics(events: Events, owners: Mapping[str, str], entry: str) -> LogStatistics:
    """Every compared statistic of ``events`` (the module docstring has the definitions).

    ``owners`` maps each activity to the department that owns its step (``customer`` for customer steps);
    ``entry`` is the journey's start step: cases whose first event is another step were already in progress
    when the log began and count in utilisation only.
    """
    n_cases = len(events.arrival)
    case, act = events.case, events.activity
    first = _first_flags(case)
    last = np.ones(len(case), dtype=bool)
    last[:-1] = first[1:]
    # cases entering at the start step ("new"); a case with no event is neither new nor anything else
    new = np.zeros(n_cases, dtype=bool)
    entry_code = events.activities.index(entry) if entry in events.activities else -1
    new[case[first]] = act[first] == entry_code
    in_new = new[case]

    cycle_end = np.full(n_cases, -np.inf)
    np.maximum.at(cycle_end, case, events.end)
    cycle = (cycle_end - events.arrival)[new]

    previous = np.empty(len(case))
    previous[1:] = events.end[:-1]
    previous[first] = events.arrival[case[first]]
    wait = np.maximum(events.start - previous, 0.0)
    duration = events.end - events.start

    departments = sorted({o for o in owners.values() if o != CUSTOMER})
    dept_code = {d: i for i, d in enumerate(departments)}
    dept_of_activity = np.array([dept_code.get(owners.get(a, CUSTOMER), -1) for a in events.activities] or [-1],
                                dtype=np.int64)
    dept = dept_of_activity[act] if len(act) else np.zeros(0, dtype=np.int64)
    prev_dept = np.empty_like(dept)
    prev_dept[1:] = dept[:-1]
    prev_dept[first] = -1
    handoff = (dept >= 0) & (prev_dept >= 0) & (dept != prev_dept) & in_new
    handoffs = np.bincount(case[handoff], minlength=n_cases)[new]

    k = len(events.activities)
    following = np.empty_like(act)
    following[:-1] = act[1:]
    following[last] = k  # END
    pairs = np.bincount((act * (k + 1) + following)[in_new], minlength=k * (k + 1)).reshape(k, k + 1)
    names = (*events.activities, END)
    follows = {events.activities[a]: {names[b]: int(pairs[a, b]) for b in np.flatnonzero(pairs[a])}
               for a in range(k) if pairs[a].any()}

    durations, waits = {}, {}
    for a in range(k):
        mask = (act == a) & in_new
        if mask.any():
            durations[events.activities[a]] = duration[mask]
            waits[events.activities[a]] = wait[mask]

    busy = {d: np.bincount(case[dept == i], weights=duration[dept == i], minlength=n_cases)
            for d, i in dept_code.items()}
    span = 0.0
    for r in np.unique(events.run[case]) if len(case) else ():
        in_run = events.run[case] == r
        cases_in_run = np.unique(case[in_run])
        span += float(events.end[in_run].max() - events.arrival[cases_in_run].min())
    staff: dict[str, float] = {}
    if events.resource is not None and len(case):
        named = (dept >= 0) & (events.resource >= 0)
        for d, i in dept_code.items():
            mine = named & (dept == i)
            if mine.any():  # per run (a simulated log's runs share their names), the mean over runs
                runs = events.run[case[mine]]
                staff[d] = float(np.mean([len(np.unique(events.resource[mine][runs == r])) for r in np.unique(runs)]))
    return LogStatistics(n_cases, int(new.sum()), cycle, handoffs, durations, waits, follows, busy, span,
                         events.has_start, staff)


# --------------------------------------------------------------------------- comparing two logs' statistics


@dataclass(frozen=True)
class Item:
    """One compared number: the real log's value with its 95% CI, the simulated value, and the verdict."""

    family: str
    name: str
    #: "minutes", "share", "count" (handoffs per case) or "distance" (KS)
    unit: str
    real: float
    real_low: float | None
    real_high: float | None
    simulated: float
    n_real: int
    n_simulated: int
    #: the largest |simulated - real| that counts as reproduced
    allowed: float
    #: "reproduced", "off" or "too few"
    verdict: str

    @property
    def difference(self) -> float:
        return self.simulated - self.real

    @property
    def relative(self) -> float | None:
        return self.difference / abs(self.real) if self.real else None

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "name": self.name, "unit": self.unit, "real": self.real,
                "real_ci95": [self.real_low, self.real_high] if self.real_low is not None else None,
                "simulated": self.simulated, "difference": self.difference, "relative_difference": self.relative,
                "allowed": self.allowed, "n_real": self.n_real, "n_simulated": self.n_simulated,
                "verdict": self.verdict, "text": verdict_text(self)}


@dataclass(frozen=True)
class CheckResult:
    """A check's items and how they were judged."""

    journey: str
    log: str
    items: tuple[Item, ...]
    tolerance: float
    resamples: int
    seed: int
    replications: int
    #: the normal quantile used for every item (family-wise 5%, Bonferroni over the compared items)
    z: float
    cases: dict[str, int]
    qq: dict[str, list[float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def off(self) -> list[Item]:
        return [i for i in self.items if i.verdict == "off"]

    @property
    def reproduced(self) -> bool:
        return not self.off

    def as_dict(self) -> dict[str, Any]:
        compared = sum(i.verdict != "too few" for i in self.items)
        return {"journey": self.journey, "log": self.log, "reproduced": self.reproduced,
                "items_compared": compared, "items_off": len(self.off),
                "tolerance": self.tolerance, "bootstrap_resamples": self.resamples, "seed": self.seed,
                "replications": self.replications, "family_alpha": FAMILY_ALPHA, "z": self.z,
                "cases": self.cases, "notes": list(self.notes), "items": [i.as_dict() for i in self.items],
                "qq": self.qq}


def quantile_bootstrap(values: np.ndarray, probabilities: Sequence[float], resamples: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of the quantiles: an array (resamples, len(probabilities)), drawn in chunks so memory
    stays at about chunk x len(values) numbers."""
    out = np.empty((resamples, len(probabilities)))
    n = len(values)
    for lo in range(0, resamples, _BOOTSTRAP_CHUNK):
        hi = min(lo + _BOOTSTRAP_CHUNK, resamples)
        draws = values[rng.integers(0, n, size=(hi - lo, n))]
        out[lo:hi] = np.quantile(draws, probabilities, axis=1).T
    return out


def _ac_share(k: int, n: int) -> tuple[float, float]:
    """Agresti-Coull: the adjusted share and its standard error (never 0, even at 0 or n successes)."""
    nt = n + Z95 ** 2
    p = (k + Z95 ** 2 / 2) / nt
    return p, math.sqrt(p * (1 - p) / nt)


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.inf


@dataclass
class _Raw:
    """An item before the Bonferroni level is known: the value, its CI and the two standard errors."""

    family: str
    name: str
    unit: str
    real: float
    low: float | None
    high: float | None
    simulated: float
    n_real: int
    n_sim: int
    se_real: float
    se_sim: float


def _cycle_raws(real: LogStatistics, sim: LogStatistics, resamples: int, seed: int) -> list[_Raw]:
    """P10, P50, P90 of the cycle time, with bootstrap standard errors on both sides and the real one's CI."""
    n_r, n_s = len(real.cycle), len(sim.cycle)
    names = [f"P{round(p * 100)}" for p in QUANTILES]
    if n_r < MIN_OBSERVATIONS or n_s < MIN_OBSERVATIONS:
        return [_Raw("cycle time", name, "minutes", float(np.quantile(real.cycle, p)) if n_r else math.nan, None,
                     None, float(np.quantile(sim.cycle, p)) if n_s else math.nan, n_r, n_s, math.nan, math.nan)
                for name, p in zip(names, QUANTILES, strict=True)]
    rng = np.random.default_rng(seed)
    boot_r = quantile_bootstrap(real.cycle, QUANTILES, resamples, rng)
    boot_s = quantile_bootstrap(sim.cycle, QUANTILES, resamples, rng)
    lows, highs = np.quantile(boot_r, [0.025, 0.975], axis=0)
    q_r, q_s = np.quantile(real.cycle, QUANTILES), np.quantile(sim.cycle, QUANTILES)
    return [_Raw("cycle time", name, "minutes", float(q_r[j]), float(lows[j]), float(highs[j]), float(q_s[j]), n_r,
                 n_s, float(boot_r[:, j].std(ddof=1)), float(boot_s[:, j].std(ddof=1)))
            for j, name in enumerate(names)]


def _mean_raw(family: str, name: str, unit: str, x_r: np.ndarray | None, x_s: np.ndarray | None) -> _Raw:
    """A mean on both sides, its standard errors ``sd/sqrt(n)`` and the real one's normal CI."""
    x_r = x_r if x_r is not None else np.zeros(0)
    x_s = x_s if x_s is not None else np.zeros(0)
    m_r, se_r = _mean_se(x_r) if len(x_r) else (math.nan, math.nan)
    m_s, se_s = _mean_se(x_s) if len(x_s) else (math.nan, math.nan)
    low, high = (m_r - Z95 * se_r, m_r + Z95 * se_r) if len(x_r) > 1 else (None, None)
    return _Raw(family, name, unit, m_r, low, high, m_s, len(x_r), len(x_s), se_r, se_s)


def _routing_raws(real: LogStatistics, sim: LogStatistics) -> list[_Raw]:
    """Each directly-follows share seen on either side, with Agresti-Coull standard errors and CI."""
    raws = []
    for a in sorted(set(real.follows) | set(sim.follows)):
        fr, fs = real.follows.get(a, {}), sim.follows.get(a, {})
        nr, ns = sum(fr.values()), sum(fs.values())
        for b in sorted(set(fr) | set(fs), key=lambda t: (t == END, t)):
            kr, ks = fr.get(b, 0), fs.get(b, 0)
            centre, se_r = _ac_share(kr, nr) if nr else (math.nan, math.nan)
            se_s = _ac_share(ks, ns)[1] if ns else math.nan
            lo, hi = (max(0.0, centre - Z95 * se_r), min(1.0, centre + Z95 * se_r)) if nr else (None, None)
            raws.append(_Raw("routing", f"{a} → {b}", "share", kr / nr if nr else math.nan, lo, hi,
                             ks / ns if ns else math.nan, nr, ns, se_r, se_s))
    return raws


def _utilisation_raws(real: LogStatistics, sim: LogStatistics, capacity: Mapping[str, int]) -> list[_Raw]:
    """Utilisation per department; the standard error of a sum of per-case busy times, over capacity x span."""
    if not real.has_start:  # no start times: no busy time
        return []
    util_r, util_s = real.utilisation(capacity), sim.utilisation(capacity)
    raws = []
    for d in sorted(real.busy):
        b_r, b_s = real.busy[d], sim.busy.get(d, np.zeros(0))
        se_r = float(b_r.std(ddof=1) * math.sqrt(len(b_r))) / (capacity[d] * real.span) if len(b_r) > 1 else math.inf
        se_s = float(b_s.std(ddof=1) * math.sqrt(len(b_s))) / (capacity[d] * sim.span) if len(b_s) > 1 else math.inf
        raws.append(_Raw("utilisation", d, "share", util_r[d], util_r[d] - Z95 * se_r, util_r[d] + Z95 * se_r,
                         util_s.get(d, math.nan), int((b_r > 0).sum()), int((b_s > 0).sum()), se_r, se_s))
    return raws


def _raw_items(real: LogStatistics, sim: LogStatistics, capacity: Mapping[str, int], resamples: int,
               seed: int) -> list[_Raw]:
    """Every item, in the table's order, before the Bonferroni level is known."""
    durations = [_mean_raw("duration", a, "minutes", real.durations.get(a), sim.durations.get(a))
                 for a in sorted(set(real.durations) | set(sim.durations))] if real.has_start else []
    waits = [_mean_raw("wait", a, "minutes", real.waits.get(a), sim.waits.get(a))
             for a in sorted(set(real.waits) | set(sim.waits))]
    return [*_cycle_raws(real, sim, resamples, seed), *durations, *waits,
            _mean_raw("handoffs", "per case", "count", real.handoffs, sim.handoffs),
            *_routing_raws(real, sim), *_utilisation_raws(real, sim, capacity)]


def _point_values(stats: LogStatistics, capacity: Mapping[str, int]) -> dict[tuple[str, str], float]:
    """The point value of every item of one log (a simulated replication), keyed like the items."""
    out: dict[tuple[str, str], float] = {}
    if len(stats.cycle):
        for p, q in zip(QUANTILES, np.quantile(stats.cycle, QUANTILES), strict=True):
            out[("cycle time", f"P{round(p * 100)}")] = float(q)
    for family, table in (("duration", stats.durations), ("wait", stats.waits)):
        for a, x in table.items():
            out[(family, a)] = float(x.mean())
    if len(stats.handoffs):
        out[("handoffs", "per case")] = float(stats.handoffs.mean())
    for a, follows in stats.follows.items():
        n = sum(follows.values())
        for b, k in follows.items():
            out[("routing", f"{a} → {b}")] = k / n
    for d, u in stats.utilisation(capacity).items():
        out[("utilisation", d)] = u
    return out


def _between_runs(runs: Sequence[LogStatistics], capacity: Mapping[str, int]) -> dict[tuple[str, str], float]:
    """Per item: the standard deviation of its value between simulated replications (a routing share a run never
    took counts as 0 in that run). How much ONE run's value varies, queueing's correlation between cases included,
    which ``sd / sqrt(n)`` over the cases of one log leaves out."""
    if len(runs) < 2:
        return {}
    values = [_point_values(r, capacity) for r in runs]
    keys = set().union(*values)
    out = {}
    for key in keys:
        xs = [v.get(key, 0.0 if key[0] == "routing" else math.nan) for v in values]
        xs = [x for x in xs if x == x]
        if len(xs) >= 2:
            out[key] = float(np.std(xs, ddof=1))
    return out


def _bonferroni_z(items: int, alpha: float = FAMILY_ALPHA) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / (2 * max(items, 1))))


def _ks_critical(n: int, m: int, alpha: float) -> float:
    """The two-sample KS critical distance at level ``alpha`` (the asymptotic formula, c(a) sqrt((n+m)/(nm)))."""
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def compare(real: LogStatistics, sim: LogStatistics, capacity: Mapping[str, int], *,
            tolerance: float = DEFAULT_TOLERANCE, resamples: int = DEFAULT_RESAMPLES, seed: int = 1,
            sim_runs: Sequence[LogStatistics] = ()) -> tuple[list[Item], float]:
    """Judge every statistic of ``sim`` against ``real``; the items and the z used (module docstring: the rule).

    ``sim_runs``: the statistics of each simulated replication apart. The real log is one run of the process;
    the spread of an item between simulated runs says how much one run's value varies, and each side's noise
    is the larger of that (divided by sqrt(runs) for the pooled simulation) and the within-log noise.
    """
    raws = _raw_items(real, sim, capacity, resamples, seed)
    between = _between_runs(sim_runs, capacity)
    runs = max(len(sim_runs), 1)
    # the KS test assumes independent cases; when queueing ties them together, the cycle-time quantiles vary
    # between runs more than the bootstrap says, and the KS critical distance widens alike (the root mean
    # square of that ratio over the quantiles: an effective sample size)
    ratios = [between[(r.family, r.name)] / r.se_real for r in raws
              if r.family == "cycle time" and (r.family, r.name) in between and r.se_real > 0]
    inflation = max(1.0, math.sqrt(sum(x * x for x in ratios) / len(ratios))) if ratios else 1.0
    for r in raws:
        b = between.get((r.family, r.name))
        if b is None:
            continue
        if b > r.se_real:
            r.se_real = b
            r.low, r.high = r.real - Z95 * b, r.real + Z95 * b
            if r.unit == "share":
                r.low, r.high = max(0.0, r.low), min(1.0, r.high)
        r.se_sim = max(r.se_sim, b / math.sqrt(runs))
    enough = [r for r in raws if r.n_real >= MIN_OBSERVATIONS and r.n_sim >= MIN_OBSERVATIONS]
    n_cycle = len(real.cycle) >= MIN_OBSERVATIONS and len(sim.cycle) >= MIN_OBSERVATIONS
    m = len(enough) + n_cycle  # the KS test is one more item
    z = _bonferroni_z(m)
    items = []
    for r in raws:
        if r.n_real >= MIN_OBSERVATIONS and r.n_sim >= MIN_OBSERVATIONS:
            allowed = z * math.hypot(r.se_real, r.se_sim) + tolerance * abs(r.real)
            verdict = "reproduced" if abs(r.simulated - r.real) <= allowed else "off"
        else:
            allowed, verdict = math.nan, "too few"
        items.append(Item(r.family, r.name, r.unit, r.real, r.low, r.high, r.simulated, r.n_real, r.n_sim,
                          allowed, verdict))
    if n_cycle:
        from scipy.stats import ks_2samp

        # the distance after the best stretch of the simulated cycle times within the tolerance: the quantiles
        # judge the scale, this judges the shape
        stretches = np.unique(np.r_[1.0, np.linspace(1 / (1 + tolerance), 1 + tolerance, 41)])
        d = min(float(ks_2samp(real.cycle, sim.cycle * c).statistic) for c in stretches)
        allowed = _ks_critical(len(real.cycle), len(sim.cycle), FAMILY_ALPHA / m) * inflation
        # the KS item reads as "real 0, simulated D": the distance between the two distributions
        items.insert(len(QUANTILES), Item("cycle time", "KS distance", "distance", 0.0, None, None, d,
                                          len(real.cycle), len(sim.cycle), allowed,
                                          "reproduced" if d <= allowed else "off"))
    return items, z


def qq_points(real: np.ndarray, sim: np.ndarray) -> dict[str, list[float]]:
    """The Q-Q chart's data: the real and the simulated cycle-time quantiles at :data:`QQ_PROBABILITIES`."""
    if not len(real) or not len(sim):
        return {"probabilities": [], "real": [], "simulated": []}
    return {"probabilities": list(QQ_PROBABILITIES),
            "real": [float(v) for v in np.quantile(real, QQ_PROBABILITIES)],
            "simulated": [float(v) for v in np.quantile(sim, QQ_PROBABILITIES)]}


# --------------------------------------------------------------------------- the journey with the log's arrivals


def journey_with_arrivals(journey: Journey, arrival: np.ndarray, new: np.ndarray, first_activity: Sequence[str],
                          origin: datetime) -> Journey:
    """``journey`` fed with the log's cases: the new ones on a ``schedule`` of their arrivals, the ones in
    progress at the log's start as a backlog at the step of their first event.

    Minute 0 is the log's first arrival; a journey with calendars starts its simulation there
    (``workload.start``), so its working time falls on the log's own dates. No warm-up: every case counts.
    """
    t0 = float(arrival.min())
    times = tuple(float(t) for t in np.sort(arrival[new] - t0))
    backlog: dict[str, int] = {}
    for i in np.flatnonzero(~new).tolist():
        backlog[first_activity[i]] = backlog.get(first_activity[i], 0) + 1
    start = origin + timedelta(minutes=t0) if journey.has_calendars else journey.workload.start
    workload = replace(journey.workload, arrivals=Arrivals("schedule", 0.0, times), cases=len(times),
                       backlog=tuple(Backlog(s, n) for s, n in backlog.items()), warmup=0, start=start,
                       arrivals_estimate=None)
    return replace(journey, workload=workload)


def _activity_column(path: str, name: str) -> int:
    """The 1-based field number of the activity column in a CSV log's header (1 when it cannot be told)."""
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader([f.readline()]), [])
        return header.index(name) + 1
    except (OSError, ValueError, UnicodeDecodeError):
        return 1


def step_of_activity(activities: Sequence[str], journey: Journey) -> dict[str, str]:
    """The step of each activity the journey knows: the step with that id, else the one step with that name
    (``journeymap mine`` keeps an activity's name as its step's name, and ids the step ``register`` or
    ``register_claim``). A name two steps share matches neither."""
    by_name: dict[str, list[str]] = {}
    for step in journey.steps:
        by_name.setdefault(step.name, []).append(step.id)
    out = {}
    for a in activities:
        if a in journey.step_by_id:
            out[a] = a
        elif len(by_name.get(a, ())) == 1:
            out[a] = by_name[a][0]
    return out


def _unknown_activities(log: Any, journey: Journey, activity_column: int) -> list[Problem]:
    """A problem for each activity of the log that matches no step of the journey, at its first line."""
    known = step_of_activity(log.activities, journey)
    problems: list[Problem] = []
    counts = np.bincount(np.asarray(log.activity, dtype=np.int64), minlength=len(log.activities))
    unknown = [name for name, n in zip(log.activities, counts, strict=True) if name not in known and n]
    for code, name in enumerate(log.activities):
        if name in known or not counts[code]:  # names without events: journeymap's "case arrival" rows
            continue
        if len(problems) == _MAX_UNKNOWN:
            problems.append(Problem(log.file, 1, activity_column, "error", "check-unknown-activity",
                                    f"... and {len(unknown) - _MAX_UNKNOWN:,} more activities not in the journey",
                                    "the log and the journey may describe different processes"))
            break
        count = int(counts[code])
        first = int(log.line[np.asarray(log.activity) == code].min())
        problems.append(Problem(
            log.file, first, activity_column, "error", "check-unknown-activity",
            f"activity {excerpt(name)} ({count:,} event{'s' if count != 1 else ''}) is neither the id nor the "
            f"name of a step of the journey {journey.id!r}",
            "check the log against the journey it was mined from (journeymap mine names each step after its "
            "activity), or remove those events"))
    return problems


def _as_steps(events: Events, steps: Mapping[str, str]) -> Events:
    """``events`` with each activity renamed to its step id (two activities of one step become one)."""
    names = tuple(dict.fromkeys(steps.get(a, a) for a in events.activities))
    recode = np.array([names.index(steps.get(a, a)) for a in events.activities] or [0], dtype=np.int64)
    return replace(events, activities=names, activity=recode[events.activity] if len(events.activity)
                   else events.activity)


def _has_arrival_rows(log: Any) -> bool:
    """Whether the log marks arrivals apart from the first step (journeymap's ``case arrival`` rows): else the
    reader takes each case's first start as its arrival."""
    from .eventlog import ARRIVAL

    return ARRIVAL in log.activities


def _first_activities(events: Events) -> list[str]:
    names = [""] * len(events.arrival)
    first = _first_flags(events.case)
    for c, a in zip(events.case[first], events.activity[first], strict=True):
        names[int(c)] = events.activities[int(a)]
    return names


def check(journey: Journey, log_path: str, *, columns: Any = None, time_zone: str | None = None,
          tolerance: float = DEFAULT_TOLERANCE, replications: int = DEFAULT_REPLICATIONS, seed: int = 1,
          resamples: int = DEFAULT_RESAMPLES, workers: int = 1,
          progress: Callable[[int, int], None] | None = None) -> CheckResult:
    """Simulate ``journey`` with the arrivals of the log at ``log_path`` and compare (the module docstring).

    Raises :class:`~journeymap.eventlog_reader.LogInvalid` for a log that cannot be read and
    :class:`LogMismatch` for one that does not fit the journey.
    """
    from .eventlog_reader import LogColumns, read_log
    from .simulation import simulate

    columns = columns if columns is not None else LogColumns()
    log = read_log(log_path, columns, time_zone=time_zone)
    problems = _unknown_activities(log, journey, _activity_column(log_path, columns.activity))
    real_events = _as_steps(events_from_log(log), step_of_activity(log.activities, journey))
    first_activity = _first_activities(real_events)
    has_events = np.zeros(len(real_events.arrival), dtype=bool)
    has_events[real_events.case] = True
    new = np.array([a == journey.start for a in first_activity]) & has_events
    if not problems and new.sum() < 2:
        problems.append(Problem(log.file, 1, 1, "error", "check-no-new-cases",
                                f"{int(new.sum())} case(s) of the log start at the journey's first step "
                                f"{journey.start!r}; at least 2 are needed to compare anything",
                                "check that the log and the journey describe the same process (journeymap mine "
                                "builds a journey from a log)"))
    if problems:
        raise LogMismatch(problems)
    sim_journey = journey_with_arrivals(journey, real_events.arrival[has_events], new[has_events],
                                        [a for a, h in zip(first_activity, has_events, strict=True) if h],
                                        log.origin)
    with tempfile.TemporaryDirectory(prefix="journeymap-check-") as folder:
        path = os.path.join(folder, "simulated.csv")
        simulate(sim_journey, replications=replications, seed=seed, events=path, workers=workers,
                 progress=progress)
        sim_events = events_from_log(read_log(path), simulated=True)
    notes = []
    if not _has_arrival_rows(log):
        sim_events = sim_events.arriving_at_first_start()
        notes.append("the log has no case arrival rows: on both sides a case arrives at its first start (queueing "
                     "before the first step is not seen)")
    if not real_events.has_start:
        sim_events = sim_events.without_starts()
        notes.append("the log has no start times: durations and utilisation are not compared, and waits run from "
                     "one completion to the next on both sides")
    owners = {s.id: s.owner for s in journey.steps}
    real_stats = log_statistics(real_events, owners, journey.start)
    sim_stats = log_statistics(sim_events, owners, journey.start)
    capacity = {d.id: d.capacity for d in journey.departments}
    sim_runs = [log_statistics(sim_events.of_run(r), owners, journey.start) for r in range(replications)]
    items, z = compare(real_stats, sim_stats, capacity, tolerance=tolerance, resamples=resamples, seed=seed,
                       sim_runs=sim_runs)
    differ = [f"{d} {real_stats.staff[d]:g} in the log, {capacity[d]} in the model" for d in sorted(real_stats.staff)
              if d in capacity and real_stats.staff[d] != capacity[d]]
    if differ:
        notes.append("people per department (distinct resources at its steps; not judged: a person who rarely "
                     "works counts fully) differ from the journey's capacity: " + "; ".join(differ))
    in_progress = real_stats.cases - real_stats.new_cases
    if in_progress:
        notes.append(f"{in_progress} case(s) were in progress when the log began (their first step is not "
                     f"{journey.start!r}): simulated as a backlog, counted in utilisation only")
    cases = {"real": real_stats.cases, "real_new": real_stats.new_cases, "simulated": sim_stats.cases,
             "simulated_new": sim_stats.new_cases}
    return CheckResult(journey.source or journey.id, log.file, tuple(items), tolerance, resamples, seed, replications,
                       z, cases, qq_points(real_stats.cycle, sim_stats.cycle), tuple(notes))


# --------------------------------------------------------------------------- for the terminal


def format_number(value: float | None, unit: str) -> str:
    """A value as the table shows it: durations in a readable unit, shares in percent, counts to 2 decimals."""
    if value is None or value != value:
        return "-"
    if unit == "minutes":
        return format_minutes(value)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "distance":
        return f"{value:.3f}"
    return f"{value:.2f}"


def verdict_text(item: Item) -> str:
    """"reproduced", "too few" or "off by X": X the simulated minus the real value (and relative, when it
    means something)."""
    if item.verdict != "off":
        return item.verdict
    sign = "+" if item.difference >= 0 else ""
    by = sign + format_number(item.difference, item.unit)
    if item.unit == "share":  # a difference of shares is in percentage points
        by = f"{sign}{item.difference * 100:.1f} pts"
    rel = item.relative
    return f"off by {by}" + (f" ({rel:+.0%})" if rel is not None and item.unit == "minutes" else "")


_FAMILIES = (("cycle time", "Cycle time (arrival to last completion), new cases"),
             ("duration", "Mean duration per step"),
             ("wait", "Mean wait before each step (since the case's previous completion)"),
             ("handoffs", "Handoffs per case"),
             ("routing", "Routing: share of a step's events directly followed by the next"),
             ("utilisation", "Utilisation: busy time / (capacity x span)"))

HEADERS = ("Item", "Real", "Real 95% CI", "Simulated", "Allowed ±", "Verdict")


def item_row(item: Item) -> list[str]:
    """The table row of an item: every cell from the item's numbers."""
    ci = "-" if item.real_low is None else \
        f"{format_number(item.real_low, item.unit)} .. {format_number(item.real_high, item.unit)}"
    real = "-" if item.unit == "distance" else format_number(item.real, item.unit)
    return [item.name, real, ci, format_number(item.simulated, item.unit), format_number(item.allowed, item.unit),
            verdict_text(item)]


def check_blocks(result: CheckResult) -> list[Any]:
    """The check as terminal blocks: a heading, one table per family, the notes and the overall verdict."""
    from .tables import Table

    c = result.cases
    blocks: list[Any] = [
        f"journeymap check: {result.journey} against {result.log}",
        f"  {c['real']:,} cases in the log ({c['real_new']:,} new); simulated {result.replications} times with its "
        f"arrivals (seed {result.seed}): {c['simulated_new']:,} new cases",
        f"  reproduced when |simulated - real| <= z x the two sides' noise + {result.tolerance:.0%} of real "
        f"(z = {result.z:.2f}: 5% family-wise over the items); quantile CIs from {result.resamples:,} bootstrap "
        "resamples"]
    for family, title in _FAMILIES:
        rows = [item_row(i) for i in result.items if i.family == family]
        if rows:
            blocks += ["", title, Table(HEADERS, rows, "lrrrrl")]
    blocks += [""] + [f"note: {n}" for n in result.notes]
    compared = sum(i.verdict != "too few" for i in result.items)
    if result.reproduced:
        blocks.append(f"REPRODUCED: all {compared} compared items are within tolerance")
    else:
        names = ", ".join(f"{i.family} {i.name}" for i in result.off[:8]) + (", ..." if len(result.off) > 8 else "")
        blocks.append(f"OFF: {len(result.off)} of {compared} compared items beyond tolerance: {names}")
    return blocks
