"""Discrete-event simulation of a journey with SimPy.

The model (also in ``docs/simulation.md``):

* Each **department** is one shared pool of ``capacity`` staff
  (a :class:`simpy.Resource`): every case competes for it, first come first
  served. A department step holds one staff member for its sampled duration.
* **Customer steps** take time but hold no staff.
* A **flow delay** holds the case without staff (work sitting in an inbox).
* **Branches** and **rework** follow the file's probabilities.
* A step with ``join`` **forks**: each outgoing flow runs at the same time as
  its own SimPy process until it reaches the join step; the case continues at
  the join once every branch has arrived (``AllOf``). A fork flow straight to
  the join is an empty branch (only its delay, if any).
* **Arrivals** follow the file: ``poisson`` (first case after one random gap),
  ``every`` (first case at time 0) or ``schedule``. ``workload.cases`` new
  cases arrive per replication.
* The **backlog** (``workload.backlog``) is extra cases that enter at time 0
  directly at their step, before the first new arrival. They are numbered
  first, so they are the first cases by arrival order.
* The **warm-up** discards the first ``warmup`` cases by arrival order (backlog
  first) from every per-case statistic. Time-based statistics (utilisation,
  queue length, work in progress) are measured over the **window** from the
  arrival of the first measured case to the completion of the last case.

One replication is one independent run. Each source of randomness in it
(arrivals, each step's durations, each step's branch choice, each flow's
delay) has its own :class:`random.Random`, derived from ``(seed, replication
index, purpose)`` by :class:`numpy.random.SeedSequence` (see :func:`stream`),
so results are identical whatever the number of worker processes, and two
designs run with the same seed share their random numbers where they share
steps.

The hot loop (:meth:`_Run._walk`) accumulates sums and counters into flat
lists and arrays, never one object per event; a replication ends as one flat
:class:`Replication` record that :func:`summarize_replications` turns into the
JSON summary.

Two ledgers answer "where does the time go". Per **arrow** (flow): its inbox
delay and the queueing at its target on the visits it brought there, which is
the time lost on that arrow (``summary["flows"]``). Per **case**: every elapsed
minute, by stage and component (:data:`BREAKDOWN`), on the critical path: a
fork's branches keep their own ledgers and the join keeps the one of the branch
that arrived last, so the ledger sums to the cycle time
(``summary["time_breakdown"]``), and flow efficiency (value-adding work on that
path / cycle time) cannot exceed 1.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import math
import os
import shutil
import signal
import tempfile
from array import array
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from functools import partial
from operator import add
from random import Random
from typing import Any

import numpy as np
import simpy

from .distributions import Distribution, Exponential, Fixed
from .distributions import format_minutes as _fm
from .errors import InvalidArgument, TooLarge
from .eventlog import EventLogWriter, LogPart, case_width, open_log, write_header
from .model import CUSTOMER, Journey
from .schema import MAX_STEPS
from .statistics import summarize, summarize_values, thin_sorted, thirds

__all__ = [
    "BREAKDOWN",
    "BREAKDOWN_LABELS",
    "CASE_METRICS",
    "Replication",
    "SimulationResult",
    "stream",
    "run_replication",
    "simulate",
    "summarize_replications",
    "summary_text",
    "time_breakdown_text",
]

#: Per-case metrics, in the order of :attr:`Replication.cases`.
CASE_METRICS = (
    "cycle_time",        # arrival to completion (elapsed)
    "processing_time",   # sum of step durations (all branches)
    "waiting_time",      # queueing for staff
    "flow_delay",        # time in inboxes (delays on flows)
    "handoff_delay",     # flow delays on handoffs + queueing right after a handoff
    "handoffs",          # internal handoffs taken
    "rework",            # rework flows taken
    "value_adding_time",  # processing time of value-adding steps (all branches)
    "flow_efficiency",   # value-adding staff work on the critical path / cycle time (<= 1)
    "handoff_share",     # handoff delay / cycle time
)

#: The components of ``summary["time_breakdown"]``: where a case's elapsed time goes, in this order.
BREAKDOWN = (
    "value_adding_work",  # staff work on value-adding steps
    "other_work",         # other staff work
    "customer_time",      # customer steps' durations
    "queueing",           # waiting for staff
    "handoff_inbox",      # flow delays on cross-department handoff arrows
    "other_inbox",        # every other flow delay
    "gate_wait",          # accounts: waiting at a gate for the other personas
)
#: How people read the components (terminal, report, charts).
BREAKDOWN_LABELS = {
    "value_adding_work": "value-adding work",
    "other_work": "other work",
    "customer_time": "customer time",
    "queueing": "queueing",
    "handoff_inbox": "handoff inbox delay",
    "other_inbox": "other inbox delay",
    "gate_wait": "waiting for other personas",
}
# slot offsets inside one stage's block of a ledger (see _Run._walk)
_VA, _OTHER, _CUSTOMER, _QUEUE, _HANDOFF_INBOX, _OTHER_INBOX, _GATE = range(len(BREAKDOWN))
_K = len(BREAKDOWN)

#: At most this many pooled cycle times go into the JSON summary.
CYCLE_TIME_SAMPLES = 20000

ProgressCallback = Callable[[int, int], None]
#: A SimPy process body: yields events, returns nothing.
Process = Generator[simpy.Event, Any, None]


@dataclass(frozen=True)
class Replication:
    """What one replication measured: flat arrays and sums, indexed like the journey's tuples.

    ``cases`` maps each name in :data:`CASE_METRICS` to one value per measured
    case (in completion order). Step sums are indexed like ``journey.steps``,
    department values like ``journey.departments``, pair values like
    ``pairs``. All times are minutes; department areas and ``wip_area`` cover
    the window ``(window_start, window_end)`` only.
    """

    index: int
    measured: int
    cases: dict[str, np.ndarray]
    step_visits: tuple[float, ...]
    step_processing: tuple[float, ...]
    step_waiting: tuple[float, ...]
    step_flow_delay: tuple[float, ...]
    step_handoff_delay: tuple[float, ...]
    pairs: tuple[tuple[str, str], ...]
    pair_handoffs: tuple[float, ...]
    pair_waste: tuple[float, ...]
    department_busy: tuple[float, ...]
    department_queue_area: tuple[float, ...]
    department_waits: tuple[np.ndarray, ...]
    window_start: float
    window_end: float
    wip_area: float
    #: per step: visits where the persona waited longer than its tolerance
    step_over_tolerance: tuple[float, ...] = ()
    #: per persona (one for a single journey): the most surveys one measured case got in any quarter
    survey_max_per_quarter: tuple[np.ndarray, ...] = ()
    #: account runs only, per persona: time from the account's arrival to the persona's last step
    persona_cycle: tuple[np.ndarray, ...] = ()
    #: account runs only, [gate][persona]: total wait at the gate, and how often that persona arrived last
    gate_wait: tuple[tuple[float, ...], ...] = ()
    gate_last: tuple[tuple[float, ...], ...] = ()
    #: per flow (indexed like ``journey.flows``): times taken, inbox delay on it, and queueing at its
    #: target on the visits that entered the target through it
    flow_traversals: tuple[float, ...] = ()
    flow_inbox: tuple[float, ...] = ()
    flow_queue: tuple[float, ...] = ()
    #: the critical-path ledger summed over measured cases: index ``stage * len(BREAKDOWN) + component``
    #: (stages like ``journey.stages``, components like :data:`BREAKDOWN`); it sums to the cycle times
    time_breakdown: tuple[float, ...] = ()

    @property
    def window(self) -> float:
        return self.window_end - self.window_start


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of :func:`simulate`: the JSON-ready ``summary`` and the data behind it."""

    summary: dict[str, Any]
    #: Every measured case's cycle time, pooled over replications in replication order.
    cycle_times: np.ndarray
    replications: tuple[Replication, ...]


#: A quarter of a year, in minutes: the period of the feedback plan's survey limit.
QUARTER = 365.25 / 4 * 1440


@dataclass(frozen=True)
class Meeting:
    """Several personas of one account walking together: who each step belongs to, and the gates.

    Built by :mod:`journeymap.account_simulation` for the combined journey of
    an account; a single journey has none.
    """

    #: step id -> persona index
    persona_of: dict[str, int]
    #: the steps after which a persona is done
    persona_ends: frozenset[str]
    #: step id -> gate index, for the step where a persona waits at a gate
    gate_of: dict[str, int]
    #: how many personas each gate waits for
    gate_sizes: tuple[int, ...]
    n_personas: int


def stream(seed: int, index: int, purpose: str) -> Random:
    """The random stream of one ``purpose`` in replication ``index``.

    Every source of randomness has its own stream: ``arrivals``,
    ``duration:<step>``, ``branch:<step>`` and ``delay:<from>-><to>``. The
    stream is seeded by ``SeedSequence(seed, spawn_key=(index, key))`` where
    ``key`` is a stable hash of the purpose, so

    * replications are independent and do not depend on how many there are
      or on the number of workers;
    * two designs simulated with the same seed draw the same arrivals and the
      same durations for the steps they share, even when steps are added,
      removed or changed elsewhere (common random numbers), which is what
      makes a before/after comparison sharp.
    """
    key = int.from_bytes(hashlib.blake2b(purpose.encode("utf-8"), digest_size=4).digest(), "little")
    words = np.random.SeedSequence(seed, spawn_key=(index, key)).generate_state(4, dtype=np.uint32)
    return Random(int.from_bytes(words.astype("<u4").tobytes(), "little"))


def _sampler(dist: Distribution, rng: Random) -> tuple[float, Callable[[], float] | None]:
    """(constant, None) for fixed values, else (0, a zero-argument sampler bound to ``rng``)."""
    if isinstance(dist, Fixed):
        return dist.value, None
    if isinstance(dist, Exponential):
        # same draw as Exponential.sample, without a Python-level method call per sample
        return 0.0, partial(rng.expovariate, 1.0 / dist.mean_value)
    return 0.0, partial(dist.sample, rng)


class _Sums:
    """Per-step, per-pair and per-department sums; one for measured cases, one scratch for the warm-up."""

    __slots__ = ("visits", "processing", "waiting", "flow_delay", "handoff_delay",
                 "pair_handoffs", "pair_waste", "waits", "traversals", "inbox", "queue", "ledger")

    def __init__(self, n_steps: int, n_pairs: int, n_depts: int, n_flows: int, n_slots: int) -> None:
        self.visits = [0] * n_steps
        self.processing = [0.0] * n_steps
        self.waiting = [0.0] * n_steps
        self.flow_delay = [0.0] * n_steps
        self.handoff_delay = [0.0] * n_steps
        self.pair_handoffs = [0] * n_pairs
        self.pair_waste = [0.0] * n_pairs
        self.waits = [array("d") for _ in range(n_depts)]
        self.traversals = [0] * n_flows
        self.inbox = [0.0] * n_flows
        self.queue = [0.0] * n_flows
        self.ledger = [0.0] * n_slots


class _Run:
    """One replication: the SimPy environment, the compiled journey and the accumulators."""

    def __init__(self, journey: Journey, cases: int, warmup: int, seed: int, index: int,
                 log: EventLogWriter | None = None,
                 progress: Callable[[int], None] | None = None,
                 meeting: Meeting | None = None) -> None:
        self.journey = journey
        self.meeting = meeting
        self.cases = cases
        self.warmup = warmup
        self.arrival_rng = stream(seed, index, "arrivals")
        self.log = log
        self.progress = progress
        self.env = env = simpy.Environment(initial_time=0.0)  # float minutes from the start
        depts = journey.departments
        dept_index = {d.id: i for i, d in enumerate(depts)}
        self.resources = [simpy.Resource(env, capacity=d.capacity) for d in depts]
        # idle staff names per department; popped when work starts (for the event log)
        self.free = [[f"{d.id}-{k}" for k in range(d.capacity, 0, -1)] for d in depts]
        self.step_index = step_index = {s.id: i for i, s in enumerate(journey.steps)}

        pairs: dict[tuple[str, str], int] = {}
        for f in journey.flows:
            if journey.is_handoff(f):
                key = (journey.step_by_id[f.source].owner, journey.step_by_id[f.target].owner)
                pairs.setdefault(key, len(pairs))
        self.pairs = tuple(pairs)

        ends = set(journey.ends)
        flow_index = {id(f): k for k, f in enumerate(journey.flows)}
        #: per flow: its department pair, or -1 when it is not a handoff
        self.flow_pair = [pairs[(journey.step_by_id[f.source].owner, journey.step_by_id[f.target].owner)]
                          if journey.is_handoff(f) else -1 for f in journey.flows]
        stage_base = {st.id: k * _K for k, st in enumerate(journey.stages)}
        self.n_slots = len(journey.stages) * _K
        steps = []
        for s in journey.steps:
            const, sampler = _sampler(s.duration, stream(seed, index, f"duration:{s.id}"))
            flows = []
            cum = 0.0
            out = journey.flows_from[s.id]
            last = max((k for k, f in enumerate(out) if f.probability > 0), default=len(out) - 1)
            for k, f in enumerate(out):
                cum += f.probability
                dconst, dsampler = (_sampler(f.delay, stream(seed, index, f"delay:{f.source}->{f.target}"))
                                    if f.delay is not None else (0.0, None))
                fi = flow_index[id(f)]
                # the ledger slot of this arrow's inbox delay: in the stage of its target
                inbox_slot = stage_base[journey.step_by_id[f.target].stage] + (
                    _HANDOFF_INBOX if journey.is_handoff(f) else _OTHER_INBOX)
                # the last possible branch catches float round-off in the cumulative sum
                flows.append((2.0 if k == last else cum, step_index[f.target], dconst, dsampler,
                              fi, f.rework, inbox_slot, self.flow_pair[fi]))
            choose = stream(seed, index, f"branch:{s.id}").random if len(flows) > 1 and not s.join else None
            tolerance = s.tolerance if s.tolerance is not None else journey.persona.tolerance
            steps.append((
                dept_index[s.owner] if s.owner != CUSTOMER else -1, const, sampler, s.value_adding,
                tuple(flows), step_index[s.join] if s.join is not None else -1, s.id in ends or not flows,
                choose,
                meeting.gate_of.get(s.id, -1) if meeting else -1,
                tolerance if tolerance is not None and s.is_touchpoint else math.inf,
                s.survey is not None and s.is_touchpoint,
                meeting.persona_of.get(s.id, 0) if meeting else 0,
                bool(meeting) and s.id in meeting.persona_ends,
                # ledger slots of this step's own time and of its queueing (the gate slot follows from it)
                stage_base[s.stage] + (_CUSTOMER if s.owner == CUSTOMER else _VA if s.value_adding else _OTHER),
                stage_base[s.stage] + _QUEUE,
            ))
        self.steps = steps
        # for the event log: in an account, each step's persona
        self.meta = [(s.id, s.owner, s.stage, s.lane, s.persona if meeting else None)
                     for s in journey.steps]

        n_steps, n_pairs, n_depts, n_flows = len(steps), len(pairs), len(depts), len(journey.flows)
        self.sums = _Sums(n_steps, n_pairs, n_depts, n_flows, self.n_slots)
        self.scratch = _Sums(n_steps, n_pairs, n_depts, n_flows, self.n_slots)
        self.busy_area = [0.0] * n_depts
        self.queue_area = [0.0] * n_depts
        self.t0 = math.inf if warmup > 0 else 0.0
        self.t_end = 0.0
        self.in_system = 0
        self.wip_area = 0.0
        self.wip_last = 0.0
        self.wip_at_t0 = 0.0
        self.done = 0
        self.records = [array("d") for _ in CASE_METRICS]
        n_personas = meeting.n_personas if meeting else 1
        self.over = [0] * n_steps
        self.survey_max = [array("d") for _ in range(n_personas)]
        self.persona_cycle = [array("d") for _ in range(n_personas)] if meeting else []
        n_gates = len(meeting.gate_sizes) if meeting else 0
        self.gate_wait = [[0.0] * n_personas for _ in range(n_gates)]
        self.gate_last = [[0] * n_personas for _ in range(n_gates)]
        #: (case, gate) -> [personas arrived, release event]; (case, step) seen at a gate
        self.gate_state: dict[tuple[int, int], list] = {}
        self.gate_passed: set[tuple[int, int]] = set()
        self.gate_steps = [step_index[sid] for sid in meeting.gate_of] if meeting else []
        self.has_surveys = any(s.survey is not None and s.is_touchpoint for s in journey.steps)

    # ------------------------------------------------------------------ processes

    def source(self) -> Process:
        """Create the backlog at time 0, then the arrivals."""
        env, journey = self.env, self.journey
        start = self.step_index[journey.start]
        idx = 0
        for b in journey.workload.backlog:
            for _ in range(b.cases):
                env.process(self.case(idx, self.step_index[b.step]))
                idx += 1
        arrivals = journey.workload.arrivals
        if arrivals.kind == "poisson":
            gap = partial(self.arrival_rng.expovariate, 1.0 / arrivals.gap)
            for _ in range(self.cases):
                yield env.timeout(gap())
                env.process(self.case(idx, start))
                idx += 1
        elif arrivals.kind == "every":
            for i in range(self.cases):
                if i:
                    yield env.timeout(arrivals.gap)
                env.process(self.case(idx, start))
                idx += 1
        else:
            for t in arrivals.times[: self.cases]:
                if t > env.now:
                    yield env.timeout(t - env.now)
                env.process(self.case(idx, start))
                idx += 1

    def _count_wip(self, change: int) -> None:
        now = self.env.now
        self.wip_area += self.in_system * (now - self.wip_last)
        self.wip_last = now
        self.in_system += change

    def case(self, idx: int, step: int) -> Process:
        """One case from its arrival to the end of the journey."""
        env = self.env
        arrived = env.now
        self._count_wip(+1)
        if idx == self.warmup and self.warmup > 0:
            # the first measured case opens the measurement window
            self.t0 = arrived
            self.wip_at_t0 = self.wip_area
        measured = idx >= self.warmup
        if self.log is not None:
            self.log.arrival(idx, arrived, self.meta[step][2])
        # processing, waiting, flow delay, handoff delay, handoffs, rework, value adding,
        # then the arrival time, the survey times per persona (made when the first survey is sent)
        # and, in an account, when each persona finished
        acc = [0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, arrived, None, [math.nan] * len(self.persona_cycle)]
        # the case's critical-path ledger (see _walk); it sums to the case's cycle time
        ledger = [0.0] * self.n_slots
        yield from self._walk(idx, step, -1, None, -1, acc, self.sums if measured else self.scratch, None, ledger)
        now = env.now
        self._count_wip(-1)
        self.t_end = now
        if measured:
            cycle = now - arrived
            processing, waiting, flow_delay, handoff_delay, handoffs, rework, value = acc[:7]
            critical_value = sum(ledger[_VA::_K])
            for rec, v in zip(self.records, (
                    cycle, processing, waiting, flow_delay, handoff_delay, handoffs, rework, value,
                    critical_value / cycle if cycle > 0 else 0.0, handoff_delay / cycle if cycle > 0 else 0.0)):
                rec.append(v)
            total = self.sums.ledger
            total[:] = map(add, total, ledger)
            surveys = acc[8] or {}
            for p, rec in enumerate(self.survey_max if self.has_surveys else ()):
                quarters: dict[int, int] = {}
                for t in surveys.get(p, ()):
                    quarters[int(t // QUARTER)] = quarters.get(int(t // QUARTER), 0) + 1
                rec.append(max(quarters.values(), default=0))
            for rec, v in zip(self.persona_cycle, acc[9]):
                rec.append(v)  # aligned: entry i of every persona is the same deal
        for step in self.gate_steps:  # this deal's gates are behind it
            self.gate_passed.discard((idx, step))
        self.done += 1
        if self.progress is not None:
            self.progress(self.done)

    def _walk(self, case: int, step: int, entry: int, flow: tuple | None, stop: int,
              acc: list, sums: _Sums, arrived: list | None, ledger: list[float]) -> Process:
        """Take ``flow`` (if given), then do steps until an end step or the ``stop`` (join) step.

        ``entry`` is the index of the flow by which the case reached ``step``
        (-1 at the start); queueing there counts against that arrow (and as
        handoff delay when it is a handoff). A branch that reaches ``stop``
        appends ``(entry, ledger)`` to ``arrived``.

        ``ledger`` is the critical-path ledger of this branch: every minute
        that passes on it is added to one slot, ``stage * len(BREAKDOWN) +
        component``, so it sums to the branch's elapsed time. It is a flat
        list indexed by precompiled slots rather than a dict of dicts: one
        list index per addition keeps the hot loop as cheap as the sums it
        already kept. At a join only the branch that arrived last (the one
        that set the elapsed time) is added to the parent's ledger.

        This is the hot loop: locals are bound once and the accounting is
        inlined for performance reasons.
        """
        env = self.env
        timeout = env.timeout
        steps, resources, free = self.steps, self.resources, self.free
        busy_area, queue_area = self.busy_area, self.queue_area
        visits, processing, waiting = sums.visits, sums.processing, sums.waiting
        flow_delay, handoff_delay = sums.flow_delay, sums.handoff_delay
        pair_handoffs, pair_waste, waits = sums.pair_handoffs, sums.pair_waste, sums.waits
        traversals, inbox, queue = sums.traversals, sums.inbox, sums.queue
        flow_pair = self.flow_pair
        log = self.log
        measured = sums is self.sums
        delay = 0.0
        rework = False
        while True:
            if flow is not None:
                _, step, dconst, dsampler, entry, rework, inbox_slot, pair = flow
                traversals[entry] += 1
                if rework:
                    acc[5] += 1
                if pair >= 0:
                    acc[4] += 1
                    pair_handoffs[pair] += 1
                delay = dsampler() if dsampler is not None else dconst
                if delay > 0.0:
                    yield timeout(delay)
                    acc[2] += delay
                    flow_delay[step] += delay
                    inbox[entry] += delay
                    ledger[inbox_slot] += delay
                    if pair >= 0:
                        acc[3] += delay
                        handoff_delay[step] += delay
                        pair_waste[pair] += delay
                if step == stop:
                    arrived.append((entry, ledger))
                    return
            dept, const, sampler, value_adding, flows, join, end, choose, gate, tolerance, survey, persona, \
                persona_end, work_slot, queue_slot = steps[step]
            held = 0.0
            if gate >= 0 and (case, step) not in self.gate_passed:
                held = yield from self._gate(case, gate, step, persona, measured)
                ledger[queue_slot - _QUEUE + _GATE] += held
            duration = sampler() if sampler is not None else const
            if dept < 0:
                start = env.now
                wait = 0.0
                staff = CUSTOMER
                if duration > 0.0:
                    yield timeout(duration)
            else:
                asked = env.now
                with resources[dept].request() as req:
                    yield req
                    start = env.now
                    if log is None:
                        yield timeout(duration)
                    else:  # name the staff member only for the event log
                        staff = free[dept].pop()
                        yield timeout(duration)
                        free[dept].append(staff)
                wait = start - asked
                waits[dept].append(wait)
                # areas clipped to the window, which opens at t0
                t0 = self.t0
                if start > t0:
                    queue_area[dept] += start - (asked if asked > t0 else t0)
                if start + duration > t0:
                    busy_area[dept] += start + duration - (start if start > t0 else t0)
                if wait > 0.0:
                    ledger[queue_slot] += wait
                    if entry >= 0:
                        queue[entry] += wait
                        pair = flow_pair[entry]
                        if pair >= 0:
                            acc[3] += wait
                            handoff_delay[step] += wait
                            pair_waste[pair] += wait
            ledger[work_slot] += duration
            acc[0] += duration
            acc[1] += wait
            if value_adding:
                acc[6] += duration
            visits[step] += 1
            processing[step] += duration
            waiting[step] += wait
            if measured and delay + wait + held > tolerance:
                self.over[step] += 1
            delay = 0.0
            if survey:
                if acc[8] is None:
                    acc[8] = {}
                acc[8].setdefault(persona, []).append(start - acc[7])
            if persona_end:
                acc[9][persona] = env.now - acc[7]
            if log is not None:
                sid, group, stage, lane, who = self.meta[step]
                log.write(case, sid, group, staff, stage, lane, start, duration, wait, who, rework)
            if end:
                return
            if join >= 0:
                n_slots = self.n_slots
                came: list[tuple[int, list[float]]] = []
                yield env.all_of([env.process(self._walk(case, -1, -1, f, join, acc, sums, came, [0.0] * n_slots))
                                  for f in flows])
                # the last branch to arrive hands over, and its elapsed time is the fork's
                entry, last = came[-1]
                ledger[:] = map(add, ledger, last)
                step, flow, rework = join, None, False
                continue
            if choose is None:
                flow = flows[0]
            else:
                u = choose()
                for flow in flows:
                    if u < flow[0]:
                        break

    def _gate(self, case: int, gate: int, step: int, persona: int, measured: bool) -> Generator[simpy.Event, Any, float]:
        """Wait at a consensus gate until every persona it names has arrived; returns the time held.

        A persona passes its gate once per case: coming back to the gate step
        (rework) does not wait again.
        """
        env = self.env
        self.gate_passed.add((case, step))
        state = self.gate_state.get((case, gate))
        if state is None:
            state = self.gate_state[(case, gate)] = [0, env.event()]
        state[0] += 1
        came = env.now
        if state[0] == self.meeting.gate_sizes[gate]:
            state[1].succeed()
            del self.gate_state[(case, gate)]
            if measured:
                self.gate_last[gate][persona] += 1
        else:
            yield state[1]
        held = env.now - came
        if measured:
            self.gate_wait[gate][persona] += held
        return held

    # ------------------------------------------------------------------ result

    def run(self, index: int) -> Replication:
        self.env.process(self.source())
        self.env.run()
        if self.t0 == math.inf:  # pragma: no cover - warm-up covers every case (refused by simulate)
            self.t0 = self.t_end
        self.wip_area += self.in_system * (self.t_end - self.wip_last)
        s = self.sums
        return Replication(
            index=index,
            measured=len(self.records[0]),
            # frombuffer shares the arrays' memory instead of copying it (they are not appended to again)
            cases={name: np.frombuffer(rec, dtype=float) for name, rec in zip(CASE_METRICS, self.records)},
            step_visits=tuple(float(v) for v in s.visits),
            step_processing=tuple(s.processing),
            step_waiting=tuple(s.waiting),
            step_flow_delay=tuple(s.flow_delay),
            step_handoff_delay=tuple(s.handoff_delay),
            pairs=self.pairs,
            pair_handoffs=tuple(float(v) for v in s.pair_handoffs),
            pair_waste=tuple(s.pair_waste),
            department_busy=tuple(self.busy_area),
            department_queue_area=tuple(self.queue_area),
            department_waits=tuple(np.frombuffer(w, dtype=float) for w in s.waits),
            window_start=self.t0,
            window_end=self.t_end,
            wip_area=self.wip_area - self.wip_at_t0,
            step_over_tolerance=tuple(float(v) for v in self.over),
            survey_max_per_quarter=tuple(np.frombuffer(r, dtype=float) for r in self.survey_max),
            persona_cycle=tuple(np.frombuffer(r, dtype=float) for r in self.persona_cycle),
            gate_wait=tuple(tuple(g) for g in self.gate_wait),
            gate_last=tuple(tuple(float(x) for x in g) for g in self.gate_last),
            flow_traversals=tuple(float(v) for v in s.traversals),
            flow_inbox=tuple(s.inbox),
            flow_queue=tuple(s.queue),
            time_breakdown=tuple(s.ledger),
        )


def _total_cases(journey: Journey, cases: int) -> int:
    return cases + sum(b.cases for b in journey.workload.backlog)


def run_replication(journey: Journey, *, cases: int, warmup: int, seed: int, index: int,
                    events: str | LogPart | None = None,
                    progress: Callable[[int], None] | None = None,
                    meeting: Meeting | None = None) -> Replication:
    """Run replication ``index`` and return its flat record.

    ``events`` is where to stream the event log of this replication: a path
    (a complete log with its header; the caller makes it atomic) or a
    :class:`~journeymap.eventlog.LogPart`, the folder where :func:`simulate`
    collects one headerless part per replication and joins them in
    replication order, whatever the number of workers. ``progress`` is
    called with the number of cases finished so far.
    """
    if events is None:
        return _Run(journey, cases, warmup, seed, index, progress=progress, meeting=meeting).run(index)
    if isinstance(events, LogPart):
        path, header, rep_width = events.path(index), False, events.replication_width
    else:
        path, header, rep_width = events, True, 1
    with open_log(path) as stream:
        log = EventLogWriter(stream, journey.persona.id, case_width(_total_cases(journey, cases)), replication=index,
                             warmup=warmup, header=header, replication_width=rep_width)
        return _Run(journey, cases, warmup, seed, index, log=log, progress=progress, meeting=meeting).run(index)


#: The largest journey simulated (steps; for an account, all personas' steps together). Time grows with
#: steps x cases x replications: 4,000 steps with 50 cases and 10 replications take about 25 s, 20,000
#: steps over 2 minutes (benchmarks/bench_simulation.py --large). ``validate`` refuses larger journeys.
MAX_SIMULATED_STEPS = MAX_STEPS  # the same limit validate enforces


def _worker_init(parent: int | None = None) -> None:
    """Set up a worker process: it must never outlive the command that started it.

    Ctrl-C is handled once, in the parent, which then stops the workers, so workers ignore SIGINT.
    SIGTERM gets its default action back (a forked worker inherits the CLI's handler, which would turn
    the parent's ``terminate()`` into an exception the worker survives). And a worker dies with its
    parent even when the parent cannot clean up (SIGKILL, a crash): on Linux the kernel sends it SIGTERM
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a watchdog thread notices the parent is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if parent is None:
        return
    watched = False
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            watched = libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
        except (OSError, AttributeError):
            watched = False
    if os.getppid() != parent:  # the parent died before we could ask to die with it
        os._exit(1)
    if not watched:
        import threading
        import time

        def watchdog() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watchdog, name="journeymap-parent-watchdog", daemon=True).start()


def _run_all(journey: Journey, cases: int, warmup: int, seed: int, replications: int, workers: int,
             events: str | None, progress: ProgressCallback | None,
             meeting: Meeting | None = None) -> list[Replication]:
    if len(journey.steps) > MAX_SIMULATED_STEPS:
        raise TooLarge(f"{len(journey.steps):,} steps are too many to simulate (the limit is "
                         f"{MAX_SIMULATED_STEPS:,}: each case walks every step, so a run would take many "
                         f"minutes); split the journey into smaller ones, for example one per stage")
    per_rep = _total_cases(journey, cases)
    total = per_rep * replications
    if workers <= 1 or replications == 1:
        out = []
        for i in range(replications):
            tick = None
            if progress is not None:
                every = max(1, per_rep // 100)
                base = i * per_rep

                def tick(done: int, base: int = base, every: int = every) -> None:
                    if done % every == 0 or done == per_rep:
                        progress(base + done, total)
            out.append(run_replication(journey, cases=cases, warmup=warmup, seed=seed, index=i,
                                       events=events, progress=tick, meeting=meeting))
        return out
    import multiprocessing

    others = set(multiprocessing.active_children())  # a library caller's own processes are not ours to stop
    pool = cf.ProcessPoolExecutor(max_workers=min(workers, replications), initializer=_worker_init,
                                  initargs=(os.getpid(),))
    try:
        futures = [pool.submit(run_replication, journey, cases=cases, warmup=warmup, seed=seed, index=i,
                               events=events, meeting=meeting) for i in range(replications)]
        done = 0
        for fut in cf.as_completed(futures):
            fut.result()
            done += 1
            if progress is not None:
                progress(done * per_rep, total)
        results = [f.result() for f in futures]  # replication order, whatever finished first
    except BaseException:
        # Our own workers: stop them now rather than after their replication. (The list must be
        # taken before shutdown(), which forgets it.)
        workers_started = list((getattr(pool, "_processes", None) or {}).values())
        # a worker being started when the signal came is not in the pool's list yet, but would be
        # waited for at exit (while it waits for work): stop it too
        workers_started += [p for p in multiprocessing.active_children() if p not in others]
        results_queue = getattr(pool, "_result_queue", None)  # shutdown() forgets it too
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers_started:
            proc.terminate()
        for proc in workers_started:
            proc.join(5)
        # A worker stopped while it was sending its replication leaves half a message in the results
        # pipe, and the pool's manager thread waits for the rest for ever; the interpreter then hangs
        # at exit joining that thread. With every worker gone, closing our copy of the pipe's write
        # end turns that wait into an end-of-file, which the manager treats as a broken pool and exits.
        writer = getattr(results_queue, "_writer", None)
        if writer is not None:
            writer.close()
        raise
    pool.shutdown()
    return results


def simulate(journey: Journey, *, cases: int | None = None, replications: int = 10, seed: int = 1,
             warmup: int | None = None, workers: int = 1, events: str | os.PathLike | None = None,
             progress: ProgressCallback | None = None, meeting: Meeting | None = None) -> SimulationResult:
    """Simulate ``replications`` independent runs of ``journey`` and summarise them.

    ``cases`` (new arrivals per replication) and ``warmup`` default to the
    file's ``workload``. ``workers > 1`` runs replications in parallel
    processes; the result is identical for any number of workers. ``events``
    writes the event log of every replication, in replication order (see
    :mod:`journeymap.eventlog`), atomically: each replication streams its
    rows to its own part file in a temporary folder next to ``events``, and
    the parts are joined once all are done, so the log is the same for any
    number of workers. ``progress(done, total)`` is called with cases
    finished so far.

    Raises :class:`~journeymap.errors.InvalidArgument` (a ``ValueError``) for arguments that leave nothing to
    measure, and :class:`~journeymap.errors.TooLarge` for a journey above :data:`MAX_SIMULATED_STEPS`.
    """
    wl = journey.workload
    cases = wl.cases if cases is None else cases
    if wl.arrivals.kind == "schedule":
        cases = min(cases, len(wl.arrivals.times))
    warmup = wl.warmup if warmup is None else warmup
    if replications < 1:
        raise InvalidArgument(f"replications must be at least 1, got {replications}")
    if workers < 1:
        raise InvalidArgument(f"workers must be at least 1, got {workers}")
    if cases < 0:
        raise InvalidArgument(f"cases cannot be negative, got {cases}")
    total = _total_cases(journey, cases)
    if total == 0:
        raise InvalidArgument("nothing to simulate: 0 cases per replication (give --cases or workload.cases)")
    if not 0 <= warmup < total:
        raise InvalidArgument(f"warmup ({warmup}) must be at least 0 and less than the {total} cases per replication")
    if events is not None:
        from .output import write_with

        reps: list[Replication] = []

        def write(tmp: str) -> None:
            with tempfile.TemporaryDirectory(prefix=".journeymap-parts-", dir=os.path.dirname(tmp)) as folder:
                parts = LogPart(folder, replications)
                reps.extend(_run_all(journey, cases, warmup, seed, replications, workers, parts, progress, meeting))
                with open(tmp, "w", encoding="utf-8", newline="") as out:
                    write_header(out)
                    for i in range(replications):
                        with open(parts.path(i), encoding="utf-8", newline="") as part:
                            shutil.copyfileobj(part, out, 1 << 20)

        write_with(events, write, suffix=".csv")
    else:
        reps = _run_all(journey, cases, warmup, seed, replications, workers, None, progress, meeting)
    summary = summarize_replications(journey, reps, seed=seed, cases=cases, warmup=warmup)
    cycle = _pool([r.cases["cycle_time"] for r in reps])
    return SimulationResult(summary=summary, cycle_times=cycle, replications=tuple(reps))


# ---------------------------------------------------------------------- summary


def _pool(arrays: list[np.ndarray]) -> np.ndarray:
    """Concatenate, without a copy when there is only one array (large single runs)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def summarize_replications(journey: Journey, reps: Sequence[Replication], *, seed: int, cases: int,
                           warmup: int) -> dict[str, Any]:
    """The JSON summary (documented in ``docs/simulation.md``) of a list of replications."""
    n = sum(r.measured for r in reps)
    pooled = {m: _pool([r.cases[m] for r in reps]) for m in CASE_METRICS}
    rep_means = {m: [float(r.cases[m].mean()) for r in reps if r.measured] for m in CASE_METRICS}
    case = {m: summarize(pooled[m], rep_means[m]) for m in CASE_METRICS if m not in ("handoff_share",)}

    def total(attr: str) -> np.ndarray:
        return np.sum([getattr(r, attr) for r in reps], axis=0) if reps else np.zeros(0)

    visits, proc = total("step_visits"), total("step_processing")
    wait, fdelay, hdelay = total("step_waiting"), total("step_flow_delay"), total("step_handoff_delay")
    all_wait = float(wait.sum())
    over = total("step_over_tolerance") if reps and reps[0].step_over_tolerance else np.zeros(0)
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

    departments = {}
    for j, d in enumerate(journey.departments):
        util = [_ratio(r.department_busy[j], d.capacity * r.window) for r in reps]
        queue = [_ratio(r.department_queue_area[j], r.window) for r in reps]
        dw = _pool([r.department_waits[j] for r in reps])
        dw_means = [float(r.department_waits[j].mean()) for r in reps if len(r.department_waits[j])]
        dept_wait = sum(float(wait[i]) for i, s in enumerate(journey.steps) if s.owner == d.id)
        departments[d.id] = {
            "utilisation": summarize_values(util),
            "queue_length": summarize_values(queue),
            "wait": summarize(dw, dw_means),
            "share_of_waiting": _ratio(dept_wait, all_wait),
            "capacity": d.capacity,
            "visits_per_case": _ratio(len(dw), n),
            "wait_per_case": _ratio(dept_wait, n),
        }

    pair_n, pair_w = total("pair_handoffs"), total("pair_waste")
    pairs_out = [{"from": a, "to": b, "handoffs_per_case": _ratio(pair_n[k], n), "waste_per_case": _ratio(pair_w[k], n)}
                 for k, (a, b) in enumerate(reps[0].pairs if reps else ())]
    pairs_out.sort(key=lambda p: -p["waste_per_case"])  # stable: file order among equals

    wip = [_ratio(r.wip_area, r.window) for r in reps]
    rate = [_ratio(r.measured, r.window) for r in reps]
    breakdown = _time_breakdown(journey, reps, n)
    return {
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
            "pairs": pairs_out,
        },
        "steps": steps,
        "flows": _flows(journey, reps, n),
        "time_breakdown": breakdown,
        "departments": departments,
        "bottleneck": _bottleneck(journey, wait, fdelay, n, _where_time_goes(breakdown)),
        "system": {
            "wip": summarize_values(wip),
            "arrival_rate": summarize_values(rate),
            "window": summarize_values([r.window for r in reps]),
        },
        "replication_means": {m: rep_means[m] for m in CASE_METRICS},
        "experience": _experience(journey, steps, reps),
        "moments_at_risk": _moments_at_risk(journey, steps),
        "stability": _stability(journey, reps, float(pooled["cycle_time"].mean()) if n else 0.0),
        "cost": _cost(journey, reps),
        "surveys": _surveys(journey, reps),
        "cycle_time_samples": [float(x) for x in thin_sorted(pooled["cycle_time"], CYCLE_TIME_SAMPLES)],
    }


def _flows(journey: Journey, reps: Sequence[Replication], n: int) -> list[dict[str, Any]]:
    """Per arrow (in the order of ``journey.flows``): what cases lose on it (defined in docs/simulation.md).

    ``lost_per_case`` is the arrow's own inbox delay plus the queueing at its
    target on the visits that entered the target through it: the time lost
    *on that arrow*. Summed over a department pair's handoff arrows it is the
    pair's ``handoff_waste`` (both are added from the same events).
    Handoff ``number`` k is the k-th entry of
    :func:`journeymap.analysis.handoffs` for the whole journey.
    """
    from .analysis import handoffs
    from .graph import build_graph

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
    stages = {st.id: {name: _ratio(float(ledger[k * _K + c]), n) for c, name in enumerate(BREAKDOWN)}
              for k, st in enumerate(journey.stages)}
    total = {name: _ratio(float(ledger[c::_K].sum()), n) for c, name in enumerate(BREAKDOWN)}
    return {"components": list(BREAKDOWN), "total": total, "stages": stages}


def _experience(journey: Journey, steps: dict[str, dict[str, Any]],
                reps: Sequence[Replication] = ()) -> dict[str, Any]:
    """The persona's experience index (see :mod:`journeymap.experience`) from the simulated waits.

    ``index_stats`` is the index computed once per replication (its own visits and
    waits beyond tolerance), summarised over replications: its ``ci95`` says how
    precise the overall index is. None when the persona has no touchpoint.
    """
    from .experience import persona_experience

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
    from .experience import moments_at_risk

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
        values = _pool([r.survey_max_per_quarter[p] for r in reps])
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
}


def _where_time_goes(time_breakdown: dict[str, Any]) -> dict[str, float]:
    """Per-case minutes of staff work, queueing, inbox delay, customer time and gate waits.

    The critical-path ``time_breakdown`` grouped coarsely, so it sums to the mean cycle time.
    """
    total = time_breakdown["total"]
    return {k: float(sum(total.get(c, 0.0) for c in comps)) for k, comps in WHERE_TIME_GOES.items()}


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
    by_dept = {d.id: [i for i, s in enumerate(journey.steps) if s.owner == d.id] for d in journey.departments}
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
    from .analysis import is_overloaded, overload_hint, stability_of

    loads = stability_of(journey)
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


def _cost(journey: Journey, reps: Sequence[Replication]) -> dict[str, Any]:
    """Staff cost per case: each department's staff minutes per case × its ``cost_per_hour`` / 60.

    Staff time is the duration of the department's steps (what holds its
    staff), over measured cases; queueing and inboxes hold nobody and cost
    nothing here. Each replication gives one cost per case, so the ``ci95`` is
    across replications. A department without ``cost_per_hour`` costs 0 and
    says so with ``cost_per_hour: null``.
    """
    measured = [r for r in reps if r.measured]
    owned = {d.id: [i for i, s in enumerate(journey.steps) if s.owner == d.id] for d in journey.departments}
    per_dept = {}
    totals = np.zeros(len(measured))
    for d in journey.departments:
        rate = (d.cost_per_hour or 0.0) / 60.0
        values = np.array([rate * sum(r.step_processing[i] for i in owned[d.id]) / r.measured for r in measured])
        totals += values
        per_dept[d.id] = {"per_case": summarize_values(values.tolist()), "cost_per_hour": d.cost_per_hour}
    return {"priced": any(d.cost_per_hour is not None for d in journey.departments),
            "total": summarize_values(totals.tolist()), "departments": per_dept}


# ---------------------------------------------------------------------- text


def time_breakdown_text(tb: dict[str, Any]) -> str:
    """The "where the time goes" table of a ``time_breakdown``: a row per stage, a total row and column (pure).

    The total column of the total row is the mean cycle time. The gate column
    appears only when some case waited at a gate (accounts).
    """
    from .distributions import format_minutes as fm
    from .tables import table

    shown = [c for c in tb["components"] if c != "gate_wait" or tb["total"][c]]
    rows = [[sid] + [fm(v[c]) for c in shown] + [fm(sum(v.values()))] for sid, v in tb["stages"].items()]
    rows.append(["total"] + [fm(tb["total"][c]) for c in shown] + [fm(sum(tb["total"].values()))])
    return "\n".join(["Where the time goes (per case, on the critical path; the total is the cycle time):",
                      table(["stage"] + [BREAKDOWN_LABELS[c] for c in shown] + ["total"], rows,
                            "l" + "r" * (len(shown) + 1))])


def summary_text(summary: dict[str, Any]) -> str:
    """The terminal report of ``journeymap simulate``: a few readable tables (pure)."""
    from .distributions import format_minutes as fm
    from .tables import table

    steady = (summary.get("stability") or {}).get("steady", True)

    def ci(s: dict[str, Any], fmt: Callable[[float], str]) -> str:
        lo, hi = s["ci95"]
        if not steady:  # a CI of a run with no steady state would read as a property of the design
            return "not steady"
        return "n/a" if lo is None else f"{fmt(lo)} .. {fmt(hi)}"

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    def num(x: float) -> str:
        return f"{x:.2f}"

    c = summary["case"]
    out = [f"Journey {summary['journey']} (persona {summary['persona']}): {summary['replications']} replication(s) "
           f"x {summary['cases']} cases" + (f" + {summary['backlog']} backlog" if summary.get("backlog") else "")
           + f", warm-up {summary['warmup']}, seed {summary['seed']}; {summary['measured_cases']} cases measured", ""]
    out += _stability_lines(summary)
    rows = []
    for key, label, fmt in (("cycle_time", "cycle time", fm), ("processing_time", "processing (touch) time", fm),
                            ("waiting_time", "queue waiting", fm), ("flow_delay", "flow delays (inboxes)", fm),
                            ("handoff_delay", "handoff delay", fm), ("handoffs", "handoffs", num),
                            ("rework", "rework", num), ("flow_efficiency", "flow efficiency", pct)):
        s = c[key]
        rows.append([label, fmt(s["mean"]), fmt(s["p50"]), fmt(s["p90"]), fmt(s["p95"]), ci(s, fmt)])
    share = summary["handoff_waste"]["share_of_cycle_time"]
    rows.append(["handoff waste / cycle time", pct(share["mean"]), pct(share["p50"]), pct(share["p90"]),
                 pct(share["p95"]), ci(share, pct)])
    out.append(table(["per case", "mean", "p50", "p90", "p95", "95% CI of mean"], rows, "lrrrrr"))

    rows = [[d, pct(v["utilisation"]["mean"]), num(v["queue_length"]["mean"]), fm(v["wait"]["mean"]),
             fm(v["wait"]["p90"]), pct(v["share_of_waiting"])] for d, v in summary["departments"].items()]
    if rows:
        out += ["", table(["department", "utilisation", "queue", "wait", "p90 wait", "share of queueing"], rows,
                          "lrrrrr")]
    rows = [[sid, num(v["visits_per_case"]), fm(v["time_per_case"]), fm(v["wait_per_visit"]),
             pct(v["share_of_waiting"])] for sid, v in summary["steps"].items() if v["visits_per_case"]]
    out += ["", table(["step", "visits", "time/case", "wait/visit", "share of queueing"], rows, "lrrrr")]
    out += ["", time_breakdown_text(summary["time_breakdown"])]
    # time lost on each handoff arrow (its inbox + the queueing it leads into), worst first
    arrows = sorted((f for f in summary["flows"] if f["handoff"] and f["traversals_per_case"]),
                    key=lambda f: (-f["lost_per_case"], f["number"]))
    if arrows:
        out += ["", table(["handoff", "arrow", "departments", "per case", "inbox", "queueing", "lost per case"],
                          [[f"H{f['number']}", f"{f['source']} -> {f['target']}",
                            f"{f['from_department']} -> {f['to_department']}", num(f["traversals_per_case"]),
                            fm(f["inbox_per_case"]), fm(f["queue_per_case"]), fm(f["lost_per_case"])]
                           for f in arrows], "lllrrrr")]
    out += _bottleneck_lines(summary)
    out += _customer_lines(summary)
    out += _cost_lines(summary)
    if not steady:
        out += ["", "!! " + summary["stability"]["message"]]
    return "\n".join(out)


def _stability_lines(summary: dict[str, Any]) -> list[str]:
    """The banner of a run with no steady state: what is wrong, how to fix it, what the figures mean."""
    st = summary.get("stability") or {}
    if st.get("steady", True):
        return []
    return ["!! " + st["message"], "   Fix: " + st["hint"] + ".",
            f"   The figures below describe this run of {summary['cases']} cases per replication; "
            "no confidence interval is given, because there is no mean to estimate.", ""]


def _bottleneck_lines(summary: dict[str, Any]) -> list[str]:
    """The bottleneck with both shares labelled, what is lost there, and where a case's time goes."""
    b = summary["bottleneck"]
    out = []
    if b.get("department") is not None:
        name = b.get("department_name") or b["department"]
        label = name if name == b["department"] else f"{name} ({b['department']})"
        out += ["", f"Bottleneck: {label}, step {b['step']}: {b['department_share']:.0%} department share of "
                    f"waiting, {b['step_share']:.0%} step share; {_fm(b['lost_per_case'])} lost per case: "
                    f"{_fm(b['queueing_per_case'])} queueing, {_fm(b['inbox_per_case'])} inbox delay",
                "  (waiting = queueing for staff + inbox delay on the arrows into its steps)"]
    where = b.get("where_time_goes") or {}
    total = sum(where.values())
    if total > 0:
        labels = (("work", "staff work"), ("queueing", "queueing"), ("inbox", "inbox delay"),
                  ("customer", "customer time"), ("gate", "waiting for other personas"))
        parts = [f"{label} {_fm(where[k])} ({where[k] / total:.0%})" for k, label in labels
                 if where.get(k) or k in ("work", "queueing", "inbox")]
        out.append("  where a case's time goes: " + ", ".join(parts))
    return out


def _customer_lines(summary: dict[str, Any]) -> list[str]:
    """The customer's side: the experience index with its CI, and the moments of truth at risk."""
    out = []
    e = summary.get("experience") or {}
    if e.get("overall") is not None:
        stats = e.get("index_stats") or {}
        lo, hi = (stats.get("ci95") or [None, None])
        ci = f" (95% CI {lo:.0f} .. {hi:.0f})" if lo is not None and (summary.get("stability") or {}).get(
            "steady", True) else ""
        out += ["", f"Experience index (0 furious .. 50 neutral .. 100 delighted): {e['overall']:.0f}{ci}"]
    risky = summary.get("moments_at_risk")
    if risky:
        out.append("Moments of truth at risk (waited beyond the persona's tolerance):")
        for m in risky:
            tol = f"the tolerance of {_fm(m['tolerance'])}" if m.get("tolerance") is not None else "the tolerance"
            out.append(f"  {m['step']} ({m['name']}, stage {m['stage']}): {m['share_over_tolerance']:.0%} of visits "
                       f"waited beyond {tol}; mean wait {_fm(m['wait_per_visit'])} a visit, "
                       f"{m['visits_per_case']:.2f} visits per case")
    elif risky is not None and e.get("overall") is not None:
        out.append("Moments of truth at risk: none (no moment of truth waited beyond its tolerance)")
    return out


def _money(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _cost_lines(summary: dict[str, Any], top: int = 3) -> list[str]:
    """Staff cost per case, total and the departments that cost most, with CIs (in the file's currency)."""
    c = summary.get("cost") or {}
    if not c.get("priced"):
        return []
    steady = (summary.get("stability") or {}).get("steady", True)

    def ci(stats: dict[str, Any]) -> str:
        lo, hi = stats["ci95"]
        return f" (95% CI {_money(lo)} .. {_money(hi)})" if lo is not None and steady else ""

    total = c["total"]["mean"]
    ranked = sorted(((d, v["per_case"]) for d, v in c["departments"].items() if v["per_case"]["mean"] > 0),
                    key=lambda t: -t[1]["mean"])
    parts = [f"{d} {_money(st['mean'])} ({st['mean'] / total:.0%})" for d, st in ranked[:top]] if total else []
    unpriced = [d for d, v in c["departments"].items() if v["cost_per_hour"] is None]
    return ["", f"Staff cost per case (time x cost_per_hour): {_money(total)}{ci(c['total'])}"
            + ("; most: " + ", ".join(parts) if parts else "")
            + (f"; not priced: {', '.join(unpriced)}" if unpriced else "")]
