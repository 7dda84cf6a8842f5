"""The engine: one replication of a journey as SimPy processes competing for departments' staff.

* **Departments** are built by one factory, :func:`department_resource`, from a
  :class:`Capacity`: a fixed number of staff, a :class:`simpy.Resource` (first
  come, first served), or, when the journey has calendars, people who keep
  working hours, a :class:`~.staff.StaffPool` (``docs/simulation.md``,
  "Working time" and "Capacity that can change").
* The journey is compiled once per replication (:func:`compile_journey`) into
  :class:`StepPlan` and :class:`FlowPlan` records indexed by integers, with each
  random duration, delay and branch choice bound to its own stream
  (:mod:`.streams`).
* :class:`ReplicationRun` runs the arrivals and one process per case
  (:meth:`~ReplicationRun.case`), which walks the steps
  (:meth:`~ReplicationRun._walk`, the hot loop) and adds to running sums
  (:class:`Tallies`, :class:`CaseTally`); :meth:`~ReplicationRun.result` turns
  them into one :class:`~.records.Replication`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import repeat
from operator import add
from random import Random
from typing import Any, NamedTuple

import numpy as np
import simpy

from ..distributions import YEAR, Distribution, Exponential, Fixed
from ..eventlog import EventLogWriter, LoggedStep, PendingRows
from ..model import CUSTOMER, Department, Journey, Step
from ..workingtime import ALWAYS_OPEN, Calendar, Timeline
from .records import BREAKDOWN, COMPONENT, CaseMetrics, Meeting, Replication, Tagged
from .service import CLASS_STREAM, case_classes, class_sampler, compile_targets, interval_met, mark
from .staff import StaffPool, WorkingClock, cycle_calendar, slot_calendars, timeline, working_clock
from .streams import streams

__all__ = ["Capacity", "capacity_of", "department_resource", "compile_journey", "logged_steps", "ReplicationRun"]

#: A SimPy process body: yields events, returns nothing.
Process = Generator[simpy.Event, Any, None]

#: Minute 0 of runs without calendars, where only ALWAYS_OPEN timelines (pure arithmetic) need a start.
_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)

#: A quarter of a year, in minutes: the period of the feedback plan's survey limit.
QUARTER = YEAR / 4

#: From a step's gate slot to its stage's off-hours slot (a started step paused outside working hours).
_OFF_HOURS_FROM_GATE = COMPONENT["off_hours"] - COMPONENT["gate_wait"]

#: Slots per stage in a critical-path ledger, and the offsets used when compiling (see records.COMPONENT).
_K = len(BREAKDOWN)


# ---------------------------------------------------------------------- the resource seam


@dataclass(frozen=True)
class Capacity:
    """The staff of a department as the engine sees it: ``servers`` people, and their working hours.

    Without calendars (``timelines`` empty) the people are interchangeable and always there: a
    first-come-first-served :class:`simpy.Resource`. With calendars each person is a slot with its
    own :class:`~journeymap.workingtime.Timeline` and the department is a
    :class:`~.staff.StaffPool`. The engine asks a capacity only for the SimPy resource
    (:func:`department_resource`) and the summary only for the staff time available in the
    measurement window (:meth:`staff_minutes`).
    """

    servers: int
    #: one timeline per person (slot 0 first), or empty: always there
    timelines: tuple[Timeline, ...] = ()

    def staff_minutes(self, start: float, end: float) -> float:
        """Staff time available from ``start`` to ``end``, the denominator of utilisation: the people's
        *open* minutes when they keep working hours."""
        if self.timelines:
            return sum(line.open_minutes(start, end) for line in self.timelines)
        return self.servers * (end - start)


def capacity_of(department: Department, default: Calendar | None = None, start: datetime | None = None) -> Capacity:
    """The capacity of a department of the model: its ``capacity`` (a number of staff) and, when the
    simulation has a ``start`` (the journey has calendars), each person's timeline from it."""
    if start is None:
        return Capacity(servers=department.capacity)
    calendars = slot_calendars(department, default)
    return Capacity(servers=len(calendars), timelines=tuple(timeline(c, start) for c in calendars))


def department_resource(env: simpy.Environment, capacity: Capacity,
                        prioritized: bool = False) -> simpy.Resource | StaffPool:
    """The one place where a department becomes a SimPy resource: first come, first served; with
    ``prioritized`` (more than one priority class in play) by priority, then first come first served,
    never preempting (requests then pass ``priority=``); or people with working hours
    (:class:`~.staff.StaffPool`: an open free person, by priority then first come)."""
    if capacity.timelines:
        return StaffPool(env, capacity.timelines)
    if prioritized:
        return simpy.PriorityResource(env, capacity=capacity.servers)
    return simpy.Resource(env, capacity=capacity.servers)


# ---------------------------------------------------------------------- the compiled journey


class FlowPlan(NamedTuple):
    """One arrow as the hot loop takes it.

    The loop gets it as a plain tuple in this field order (see :data:`FlowTuple`): CPython unpacks an
    exact tuple in one step, and a NamedTuple, a subclass, through an iterator.
    """

    #: the branch is taken when the step's uniform draw is below this (cumulative probability)
    threshold: float
    #: index of the target step
    target: int
    #: draws the inbox delay (returns a constant when it is fixed, 0.0 when there is none)
    delay: Callable[[], float]
    #: its index in ``journey.flows``
    flow_index: int
    #: 1 for a rework flow, else 0 (the loop adds it to the case's rework count)
    rework: int
    #: ledger slot of this arrow's inbox delay: in the stage of its target
    inbox_slot: int
    #: index of its department pair, or -1 when it is not a handoff
    pair: int


#: A :class:`FlowPlan` as a plain tuple, in its field order: what the hot loop unpacks.
FlowTuple = tuple[float, int, Callable[[], float], int, int, int, int]


class StepPlan(NamedTuple):
    """One step as the hot loop does it. The loop unpacks it, as a plain tuple, in this field order."""

    #: index of the owning department, -1 for a customer step
    department: int
    #: draws the duration (returns a constant when it is fixed)
    duration: Callable[[], float]
    #: 1.0 for a value-adding step, else 0.0 (the loop adds ``duration * value_adding``)
    value_adding: float
    #: its flows, as plain tuples in :class:`FlowPlan` order
    flows: tuple[FlowTuple, ...]
    #: the flow to take next: a branch draw, or the one way on (unused at a fork and at an end)
    pick: Callable[[], FlowTuple]
    #: at a fork, the index of its join step; else -1
    join: int
    #: the case (or this branch) is done after this step
    end: bool
    #: accounts: the gate this step waits at, else -1
    gate: int
    #: the persona's tolerance at a touchpoint (queueing + inbox + gate), else infinity
    tolerance: float
    #: something to note after the step: a wait to hold against a tolerance, a survey sent, or a persona
    #: done (accounts); False for most backstage steps, which then cost the loop nothing more
    notes: bool
    survey: bool
    persona: int
    persona_end: bool
    #: ledger slots of the step's own time, of its queueing and of its gate wait
    work_slot: int
    queue_slot: int
    gate_slot: int


@dataclass(frozen=True)
class CompiledJourney:
    """A journey as one replication runs it: plans indexed by integers, and the index maps."""

    steps: tuple[StepPlan, ...]
    #: department pairs of the handoff arrows, in order of first appearance
    pairs: tuple[tuple[str, str], ...]
    #: per flow: its department pair, or -1 when it is not a handoff
    flow_pair: tuple[int, ...]
    #: stages x components
    ledger_slots: int
    step_index: dict[str, int]
    #: the arrivals' gap sampler for Poisson arrivals (None otherwise)
    arrival_gap: Callable[[], float] | None
    #: draws a case's priority class from ``workload.mix`` (None without a mix; see :mod:`.service`)
    case_class: Callable[[], int] | None = None


def _draw(dist: Distribution, rng: Random | None) -> Callable[[], float]:
    """A zero-argument sampler of ``dist`` bound to its stream (a constant for a fixed value)."""
    if isinstance(dist, Fixed):
        return repeat(dist.value).__next__
    assert rng is not None
    if isinstance(dist, Exponential):
        # same draw as Exponential.sample, without a Python-level method call per sample
        return partial(rng.expovariate, 1.0 / dist.mean_value)
    return partial(dist.sample, rng)


def _next_flow(flows: list[FlowTuple], last: int, branch: Random | None) -> Callable[[], FlowTuple]:
    """The flow a case takes after a step: drawn with the step's branch stream when there is a choice.

    A draw takes the first flow whose threshold is above a uniform number; zero-probability flows
    after the last possible one are never drawn. A step without a choice always gives its one flow.
    """
    if branch is not None:
        uniform = branch.random
        choices = tuple(flows[:last + 1])
        thresholds = [f[0] for f in choices]  # FlowPlan.threshold
        return lambda: choices[bisect_right(thresholds, uniform())]
    if flows:
        return repeat(flows[0]).__next__
    return _no_way_on


#: The delay of an arrow without an inbox: one callable shared by all of them (one object for the CPU's cache).
_NO_DELAY = repeat(0.0).__next__


def _no_way_on() -> FlowTuple:  # pragma: no cover - the walk ends at a step without flows
    raise AssertionError("an end step has no flow to take")


def _pairs(journey: Journey) -> tuple[dict[tuple[str, str], int], tuple[int, ...]]:
    """The department pairs of the handoff arrows (numbered in order of appearance), and each flow's pair."""
    owner = {s.id: s.owner for s in journey.steps}
    pairs: dict[tuple[str, str], int] = {}
    flow_pair = []
    for f in journey.flows:
        if journey.is_handoff(f):
            flow_pair.append(pairs.setdefault((owner[f.source], owner[f.target]), len(pairs)))
        else:
            flow_pair.append(-1)
    return pairs, tuple(flow_pair)


def _purposes(journey: Journey) -> list[str]:
    """The streams a replication draws from: one per random duration, branch choice and delay."""
    out = ["arrivals"] if journey.workload.arrivals.kind == "poisson" else []
    out += [CLASS_STREAM] if journey.workload.mix else []
    for s in journey.steps:
        out += [f"duration:{s.id}"] if not isinstance(s.duration, Fixed) else []
        out += [f"delay:{f.source}->{f.target}" for f in journey.flows_from[s.id]
                if f.delay is not None and not isinstance(f.delay, Fixed)]
        out += [f"branch:{s.id}"] if len(journey.flows_from[s.id]) > 1 and not s.join else []
    return out


class _Compiler:
    """Builds the plans of one journey for one replication: the index maps, and the streams by purpose."""

    def __init__(self, journey: Journey, rngs: dict[str, Random], meeting: Meeting | None,
                 every_touchpoint: bool = False) -> None:
        self.journey = journey
        #: note after every touchpoint (tagged runs count each account's touchpoint visits there)
        self.every_touchpoint = every_touchpoint
        self.rngs = rngs
        self.meeting = meeting
        self.pairs, self.flow_pair = _pairs(journey)
        self.step_index = {s.id: i for i, s in enumerate(journey.steps)}
        self.dept_index = {d.id: i for i, d in enumerate(journey.departments)}
        self.stage_base = {st.id: k * _K for k, st in enumerate(journey.stages)}
        self.flow_index = {id(f): k for k, f in enumerate(journey.flows)}
        self.ends = set(journey.ends)
        #: steps after which the engine marks a case's times for its service-level targets
        self.watched = set(compile_targets(journey)[1]) if journey.targets else set()

    def flows(self, step: Step) -> tuple[list[FlowTuple], int]:
        """The plans of a step's flows, in file order, and the index of the last one a branch draw can pick."""
        journey = self.journey
        out = journey.flows_from[step.id]
        last = max((k for k, f in enumerate(out) if f.probability > 0), default=len(out) - 1)
        flows: list[FlowTuple] = []
        cum = 0.0
        for k, f in enumerate(out):
            cum += f.probability
            fi = self.flow_index[id(f)]
            inbox = COMPONENT["handoff_inbox"] if journey.is_handoff(f) else COMPONENT["other_inbox"]
            delay = (_draw(f.delay, self.rngs.get(f"delay:{f.source}->{f.target}")) if f.delay is not None
                     else _NO_DELAY)
            # the last possible branch catches float round-off in the cumulative sum
            plan = FlowPlan(2.0 if k == last else cum, self.step_index[f.target], delay, fi, int(f.rework),
                            self.stage_base[journey.step_by_id[f.target].stage] + inbox, self.flow_pair[fi])
            flows.append((plan.threshold, plan.target, plan.delay, plan.flow_index, plan.rework, plan.inbox_slot,
                          plan.pair))
        return flows, last

    def step(self, s: Step) -> StepPlan:
        """The plan of one step."""
        flows, last = self.flows(s)
        meeting = self.meeting
        base = self.stage_base[s.stage]
        own = "customer_time" if s.owner == CUSTOMER else "value_adding_work" if s.value_adding else "other_work"
        tolerance = s.tolerance if s.tolerance is not None else self.journey.persona.tolerance
        tolerated = tolerance is not None and s.is_touchpoint
        survey = s.survey is not None and s.is_touchpoint
        persona_end = meeting is not None and s.id in meeting.persona_ends
        branch = self.rngs.get(f"branch:{s.id}")
        return StepPlan(
            department=self.dept_index[s.owner] if s.owner != CUSTOMER else -1,
            duration=_draw(s.duration, self.rngs.get(f"duration:{s.id}")),
            value_adding=1.0 if s.value_adding else 0.0,
            flows=tuple(flows),
            pick=_next_flow(flows, last, branch),
            join=self.step_index[s.join] if s.join is not None else -1,
            end=s.id in self.ends or not flows,
            gate=meeting.gate_of.get(s.id, -1) if meeting else -1,
            tolerance=tolerance if tolerated and tolerance is not None else math.inf,
            notes=survey or persona_end or tolerated or s.id in self.watched
            or (self.every_touchpoint and s.is_touchpoint),
            survey=survey, persona=meeting.persona_of.get(s.id, 0) if meeting else 0,
            persona_end=persona_end,
            work_slot=base + COMPONENT[own], queue_slot=base + COMPONENT["queueing"],
            gate_slot=base + COMPONENT["gate_wait"],
        )


def compile_journey(journey: Journey, seed: int, index: int, meeting: Meeting | None = None,
                    every_touchpoint: bool = False) -> CompiledJourney:
    """Compile ``journey`` for replication ``index``: every sampler bound to its own stream.

    ``every_touchpoint``: the walk notes every touchpoint visit (a tagged run counts them per account)."""
    purposes = _purposes(journey)  # validation refuses two flows between the same steps: purposes are unique
    rngs = dict(zip(purposes, streams(seed, index, purposes), strict=True))
    compiler = _Compiler(journey, rngs, meeting, every_touchpoint)
    arrivals = journey.workload.arrivals
    gap = partial(rngs["arrivals"].expovariate, 1.0 / arrivals.gap) if "arrivals" in rngs else None
    return CompiledJourney(steps=tuple(compiler.step(s) for s in journey.steps), pairs=tuple(compiler.pairs),
                           flow_pair=compiler.flow_pair, ledger_slots=len(journey.stages) * _K,
                           step_index=compiler.step_index, arrival_gap=gap,
                           case_class=class_sampler(journey, rngs.get(CLASS_STREAM)))


def logged_steps(journey: Journey, meeting: Meeting | None = None) -> list[LoggedStep]:
    """What the event log writes for each step (in an account, the persona whose step it is)."""
    return [LoggedStep(s.id, s.owner, s.stage, s.lane, s.persona if meeting else None) for s in journey.steps]


# ---------------------------------------------------------------------- running sums


class Tallies:
    """Per-step, per-pair, per-department and per-arrow sums of one replication.

    A run keeps two: one for measured cases, and one scratch for the warm-up cases,
    which are simulated like the others but never counted.
    """

    __slots__ = ("visits", "processing", "waiting", "flow_delay", "handoff_delay", "over_tolerance",
                 "pair_handoffs", "pair_waste", "waits", "traversals", "inbox", "queue", "ledger")

    def __init__(self, n_steps: int, n_pairs: int, n_depts: int, n_flows: int, n_slots: int) -> None:
        self.visits = [0] * n_steps
        self.processing = [0.0] * n_steps
        self.waiting = [0.0] * n_steps
        self.flow_delay = [0.0] * n_steps
        self.handoff_delay = [0.0] * n_steps
        #: visits where the persona waited longer than its tolerance
        self.over_tolerance = [0] * n_steps
        self.pair_handoffs = [0] * n_pairs
        self.pair_waste = [0.0] * n_pairs
        #: per department, every request's queueing, in the order served
        self.waits = [array("d") for _ in range(n_depts)]
        self.traversals = [0] * n_flows
        self.inbox = [0.0] * n_flows
        self.queue = [0.0] * n_flows
        #: the critical-path ledger summed over the cases
        self.ledger = [0.0] * n_slots


class CaseTally:
    """One case's running totals, shared by its fork branches."""

    __slots__ = ("processing", "waiting", "flow_delay", "handoff_delay", "handoffs", "rework", "value_adding",
                 "arrived", "surveys", "persona_done", "priority", "marks", "idle", "steps", "account", "entry")

    def __init__(self, arrived: float, n_personas: int) -> None:
        self.processing = 0.0
        self.waiting = 0.0
        self.flow_delay = 0.0
        self.handoff_delay = 0.0
        self.handoffs = 0
        self.rework = 0
        self.value_adding = 0.0
        self.arrived = arrived
        #: per persona, when each survey was sent (from the case's arrival); None until the first
        self.surveys: dict[int, list[float]] | None = None
        #: accounts: when each persona finished, from the case's arrival
        self.persona_done = [math.nan] * n_personas
        #: the case's priority class: its index in :func:`.service.case_classes` (0 without classes)
        self.priority = 0
        #: service-level targets: the times marked for them (see :mod:`.service`); None without targets
        self.marks: list[float] | None = None
        #: working time: how long the last customer step waited for the customer's office to open (not
        #: waiting on us, so not in ``waited``, but part of the time since the case entered the step)
        self.idle = 0.0
        #: the step plans this case walks (set by :meth:`ReplicationRun.case`): the run's, or in a tagged run
        #: its account's, whose routed steps name the account's own department
        self.steps: list[tuple[Any, ...]] = []
        #: tagged runs: the case's account (else -1) and the step it entered at
        self.account = -1
        self.entry = -1


class CaseColumns:
    """One array of values per case metric, named like the fields of :class:`~.records.CaseMetrics`.

    A measured case appends one value to each (see :meth:`ReplicationRun._measure`).
    """

    __slots__ = CaseMetrics._fields
    cycle_time: array
    processing_time: array
    waiting_time: array
    flow_delay: array
    handoff_delay: array
    handoffs: array
    rework: array
    value_adding_time: array
    flow_efficiency: array
    handoff_share: array

    def __init__(self) -> None:
        for name in CaseMetrics._fields:
            setattr(self, name, array("d"))

    def arrays(self) -> dict[str, array]:
        """Metric name -> its values, in completion order."""
        return {name: getattr(self, name) for name in CaseMetrics._fields}


class RowRecorder(NamedTuple):
    """The ``append`` of each column of the event log's pending rows, bound once per replication.

    The hot loop unpacks it (as a plain tuple, in this order) into local names, so that recording a
    row costs seven calls.
    """

    case: Callable[[int], None]
    step: Callable[[int], None]
    resource: Callable[[str], None]
    start: Callable[[float], None]
    duration: Callable[[float], None]
    wait: Callable[[float], None]
    rework: Callable[[int], None]


class Arrival(NamedTuple):
    """A fork branch that reached its join: the arrow it came by and its critical-path ledger."""

    entry: int
    ledger: list[float]


# ---------------------------------------------------------------------- one replication


class ReplicationRun:
    """One replication: the SimPy environment, the compiled journey and the running sums."""

    def __init__(self, journey: Journey, cases: int, warmup: int, seed: int, index: int,
                 log: EventLogWriter | None = None,
                 progress: Callable[[int], None] | None = None,
                 meeting: Meeting | None = None, start: datetime | None = None,
                 tagged: Tagged | None = None) -> None:
        self.journey = journey
        self.meeting = meeting
        self.tagged = tagged
        self.cases = cases
        self.warmup = warmup
        self.log = log
        rows = log.pending if log is not None else PendingRows()  # a spare that stays empty without a log
        #: how the hot loop records an event-log row: one append per column
        recorder = RowRecorder(rows.case.append, rows.step.append, rows.resource.append, rows.start.append,
                               rows.duration.append, rows.wait.append, rows.rework.append)
        self.log_row: tuple[Callable[[Any], None], ...] = tuple(recorder)
        self.progress = progress
        self.env = env = simpy.Environment(initial_time=0.0)  # float minutes from the start
        plan = compile_journey(journey, seed, index, meeting, every_touchpoint=tagged is not None)
        self.plan = plan
        self.plans = plan.steps
        #: the plans as plain tuples, for the hot loop (see FlowPlan)
        self.steps: list[tuple[Any, ...]] = [tuple(p) for p in plan.steps]
        self.flow_pair = plan.flow_pair
        self.n_slots = plan.ledger_slots
        capacities = [capacity_of(d, journey.calendar, start) for d in journey.departments]
        #: more than one priority class in play: departments serve by class (see .service)
        self.prioritized = len(case_classes(journey)) > 1
        self.resources = [department_resource(env, c, self.prioritized) for c in capacities]
        #: working time (a journey with calendars, run from ``start``); None: around the clock, as before
        self.clock: WorkingClock | None = working_clock(journey, start) if start is not None else None
        #: per measured case, the open minutes of the cycle-time calendar from arrival to end
        self.working_cycle = array("d")
        # idle staff names per department; popped when work starts (for the event log)
        self.free = [[f"{d.id}-{k}" for k in range(c.servers, 0, -1)]
                     for d, c in zip(journey.departments, capacities, strict=True)]
        sizes = (len(plan.steps), len(plan.pairs), len(journey.departments), len(journey.flows), plan.ledger_slots)
        self.sums = Tallies(*sizes)
        self.scratch = Tallies(*sizes)
        self.busy_area = [0.0] * len(journey.departments)
        self.queue_area = [0.0] * len(journey.departments)
        self.t0 = math.inf if warmup > 0 else 0.0
        self.t_end = 0.0
        self.in_system = 0
        self.wip_area = 0.0
        self.wip_last = 0.0
        self.wip_at_t0 = 0.0
        self.done = 0
        self.columns = CaseColumns()
        self.n_personas = meeting.n_personas if meeting else 1
        self.survey_max = [array("d") for _ in range(self.n_personas)]
        self.persona_cycle = [array("d") for _ in range(self.n_personas)] if meeting else []
        n_gates = len(meeting.gate_sizes) if meeting else 0
        self.gate_wait = [[0.0] * self.n_personas for _ in range(n_gates)]
        self.gate_last = [[0] * self.n_personas for _ in range(n_gates)]
        #: (case, gate) -> [personas arrived, release event]; (case, step) seen at a gate
        self.gate_state: dict[tuple[int, int], list] = {}
        self.gate_passed: set[tuple[int, int]] = set()
        self.gate_steps = [plan.step_index[sid] for sid in meeting.gate_of] if meeting else []
        self.has_surveys = any(p.survey for p in plan.steps)
        # priority classes and service-level targets (see .service); nothing is kept without them
        self.classes_on = bool(case_classes(journey))
        self.case_class = array("b")
        self.target_plans, watch, self.n_marks = compile_targets(journey)
        self.watch = {plan.step_index[sid]: w for sid, w in watch.items()}
        self.target_met = [array("d") for _ in self.target_plans]
        self.target_timeline = self._target_timeline() if self.target_plans else None
        if tagged is not None:
            self._tag(tagged, seed, index)

    def _tag(self, tagged: Tagged, seed: int, index: int) -> None:
        """Set up a tagged run: the replication's arrivals, each account's step plans (its routed
        departments' steps owned by the department its route names), and the per-account counts."""
        self.schedule = tagged.arrivals(seed, index)
        if tagged.warmup > 0:  # a time: the cases arriving before it fill the queues and are not measured
            self.warmup = int(np.searchsorted(self.schedule[0], tagged.warmup, side="left"))
            self.t0 = math.inf if self.warmup > 0 else 0.0
        dept = {d.id: i for i, d in enumerate(self.journey.departments)}
        variants = []
        for route in tagged.routes:
            sub = {dept[a]: dept[b] for a, b in route}
            variants.append([(sub[t[0]], *t[1:]) if t[0] in sub else t for t in self.steps])
        #: per account, the step plans its cases walk (accounts of one route share one list)
        self.account_steps = [variants[r] for r in tagged.route_of]
        size = tagged.n_accounts * len(self.steps)
        self.account_visits = array("d", bytes(8 * size))
        self.account_over = array("d", bytes(8 * size))
        self.case_account = array("d")
        self.case_entry = array("d")

    def _target_timeline(self) -> Timeline:
        """What targets in working hours or business days count on: the calendar that measures cycle time in
        working hours (:func:`~.staff.cycle_calendar`: the journey's, else the first department's with one),
        from the run's start; around the clock for a journey without calendars."""
        if self.clock is None:
            return Timeline(ALWAYS_OPEN, _EPOCH)
        return Timeline(cycle_calendar(self.journey)[1], self.clock.start)

    # ------------------------------------------------------------------ processes

    def source(self) -> Process:
        """Create the backlog at time 0, then the arrivals (a tagged run: its schedule's)."""
        env, journey = self.env, self.journey
        if self.tagged is not None:
            yield from self._tagged_source()
            return
        start = self.plan.step_index[journey.start]
        idx = 0
        for b in journey.workload.backlog:
            for _ in range(b.cases):
                env.process(self.case(idx, self.plan.step_index[b.step]))
                idx += 1
        arrivals = journey.workload.arrivals
        if self.plan.arrival_gap is not None:
            gap = self.plan.arrival_gap
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

    def _tagged_source(self) -> Process:
        """A tagged run's arrivals: each case at its time, at its entry step, with its class and account."""
        env = self.env
        times, entries, classes, accounts = self.schedule
        for idx, (t, step, cls, account) in enumerate(zip(times.tolist(), entries.tolist(), classes.tolist(),
                                                           accounts.tolist(), strict=True)):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(self.case(idx, step, cls, account))

    def _count_wip(self, change: int) -> None:
        now = self.env.now
        self.wip_area += self.in_system * (now - self.wip_last)
        self.wip_last = now
        self.in_system += change

    def case(self, idx: int, step: int, priority: int = 0, account: int = -1) -> Process:
        """One case from its arrival to the end of the journey (a tagged run's: with its class and account)."""
        env = self.env
        arrived = env.now
        self._count_wip(+1)
        if idx == self.warmup and self.warmup > 0:
            # the first measured case opens the measurement window
            self.t0 = arrived
            self.wip_at_t0 = self.wip_area
        measured = idx >= self.warmup
        if self.log is not None:
            self.log.record_arrival(idx, arrived, step)
        tally = CaseTally(arrived, len(self.persona_cycle))
        if account >= 0:
            tally.steps = self.account_steps[account]
            tally.priority = priority
            tally.account = account
            tally.entry = step
        else:
            tally.steps = self.steps
            if self.plan.case_class is not None:
                tally.priority = self.plan.case_class()
        if self.target_plans:
            tally.marks = [math.nan] * self.n_marks
        # the case's critical-path ledger (see _walk); it sums to the case's cycle time
        ledger = [0.0] * self.n_slots
        yield from self._walk(idx, tally, step, -1, None, -1, self.sums if measured else self.scratch, None, ledger)
        now = env.now
        self._count_wip(-1)
        self.t_end = now
        if measured:
            self._measure(tally, now - arrived, ledger)
        for gate_step in self.gate_steps:  # this deal's gates are behind it
            self.gate_passed.discard((idx, gate_step))
        self.done += 1
        if self.log is not None:
            self.log.flush_if_full()
        if self.progress is not None:
            self.progress(self.done)

    def _measure(self, tally: CaseTally, cycle: float, ledger: list[float]) -> None:
        """Add a measured case to the replication's records."""
        critical_value = sum(ledger[COMPONENT["value_adding_work"]::_K])
        columns = self.columns
        columns.cycle_time.append(cycle)
        columns.processing_time.append(tally.processing)
        columns.waiting_time.append(tally.waiting)
        columns.flow_delay.append(tally.flow_delay)
        columns.handoff_delay.append(tally.handoff_delay)
        columns.handoffs.append(tally.handoffs)
        columns.rework.append(tally.rework)
        columns.value_adding_time.append(tally.value_adding)
        columns.flow_efficiency.append(critical_value / cycle if cycle > 0 else 0.0)
        columns.handoff_share.append(tally.handoff_delay / cycle if cycle > 0 else 0.0)
        total = self.sums.ledger
        total[:] = map(add, total, ledger)
        surveys = tally.surveys or {}
        for p, column in enumerate(self.survey_max if self.has_surveys else ()):
            quarters: dict[int, int] = {}
            for t in surveys.get(p, ()):
                quarters[int(t // QUARTER)] = quarters.get(int(t // QUARTER), 0) + 1
            column.append(max(quarters.values(), default=0))
        for column, done in zip(self.persona_cycle, tally.persona_done, strict=True):
            column.append(done)  # aligned: entry i of every persona is the same deal
        if self.clock is not None:
            self.working_cycle.append(self.clock.cycle.open_minutes(tally.arrived, self.env.now))
        if self.classes_on:
            self.case_class.append(tally.priority)
        if self.target_plans:
            self._measure_targets(tally)
        if tally.account >= 0:
            self.case_account.append(tally.account)
            self.case_entry.append(tally.entry)

    def _measure_targets(self, tally: CaseTally) -> None:
        """Whether a measured case met each service-level target (1.0, 0.0, or NaN when not measured by it)."""
        assert tally.marks is not None and self.target_timeline is not None
        now = self.env.now
        for plan, column in zip(self.target_plans, self.target_met, strict=True):
            column.append(interval_met(plan, tally.marks, tally.arrived, now, self.target_timeline))

    def _walk(self, case: int, tally: CaseTally, step: int, entry: int, flow: FlowTuple | None, stop: int,
              sums: Tallies, arrived: list[Arrival] | None, ledger: list[float]) -> Process:
        """Take ``flow`` (if given), then do steps until an end step or the ``stop`` (join) step.

        ``entry`` is the index of the flow by which the case reached ``step``
        (-1 at the start); queueing there counts against that arrow (and as
        handoff delay when it is a handoff). A branch that reaches ``stop``
        appends its :class:`Arrival` to ``arrived``.

        ``ledger`` is the critical-path ledger of this branch: every minute
        that passes on it is added to one slot, ``stage * len(BREAKDOWN) +
        component``, so it sums to the branch's elapsed time. It is a flat
        list indexed by precompiled slots rather than a dict of dicts: one
        list index per addition keeps the hot loop as cheap as the sums it
        already kept. At a join only the branch that arrived last (the one
        that set the elapsed time) is added to the parent's ledger.

        This is the hot loop: locals are bound once, the accounting is
        inlined and rare work (gates, surveys, forks) is in helpers, for
        performance reasons.
        """
        env = self.env
        timeout = env.timeout
        steps, resources, free = tally.steps, self.resources, self.free
        visits, processing, waiting = sums.visits, sums.processing, sums.waiting
        pair_handoffs, traversals, waits = sums.pair_handoffs, sums.traversals, sums.waits
        busy_area, queue_area = self.busy_area, self.queue_area
        log = self.log
        log_case, log_step, log_resource, log_start, log_duration, log_wait, log_rework = self.log_row
        timed = self.clock
        prioritized = self.prioritized
        delay = span = 0.0
        rework = 0
        while True:
            if flow is not None:
                _, step, draw_delay, entry, rework, inbox_slot, pair = flow
                traversals[entry] += 1
                tally.rework += rework
                if pair >= 0:
                    tally.handoffs += 1
                    pair_handoffs[pair] += 1
                delay = draw_delay()
                if delay > 0.0:
                    delay = yield from self._inbox(delay, step, entry, pair, inbox_slot, tally, sums, ledger)
                if step == stop:
                    assert arrived is not None  # a fork branch has somewhere to report
                    arrived.append(Arrival(entry, ledger))
                    return
            (dept, draw, value_adding, flows, pick, join, end, gate, tolerance, notes, _, _, _, work_slot,
             queue_slot, gate_slot) = steps[step]
            held = 0.0
            if gate >= 0:
                held = yield from self._gate(case, gate, step, sums)
                ledger[gate_slot] += held
            duration = draw()
            if timed is not None:  # working time: a helper, so that the journeys without keep this loop
                start, wait, staff, span = yield from self._timed(dept, step, duration, entry, tally, sums, ledger)
            elif dept < 0:
                start = env.now
                wait = 0.0
                staff = CUSTOMER
                if duration > 0.0:
                    yield timeout(duration)
            else:
                asked = env.now
                with (resources[dept].request(priority=tally.priority) if prioritized
                      else resources[dept].request()) as req:
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
                    self._queued(entry, step, wait, queue_slot, tally, sums, ledger)
            ledger[work_slot] += duration
            tally.processing += duration
            tally.waiting += wait
            tally.value_adding += duration * value_adding  # value_adding is 1.0 or 0.0: exact either way
            visits[step] += 1
            processing[step] += duration
            waiting[step] += wait
            if notes:
                self._note(tally, step, start, delay + wait + held, sums)
            delay = 0.0
            if log is not None:
                log_case(case)
                log_step(step)
                log_resource(staff)
                log_start(start)
                log_duration(duration if timed is None else span)
                log_wait(wait)
                log_rework(rework)
            if end:
                return
            if join >= 0:
                entry, ledger = yield from self._fork(case, tally, flows, join, sums, ledger)
                step, flow, rework = join, None, 0
                continue
            flow = pick()

    def _inbox(self, delay: float, step: int, entry: int, pair: int, inbox_slot: int, tally: CaseTally,
               sums: Tallies, ledger: list[float]) -> Generator[simpy.Event, Any, float]:
        """Wait in the inbox of the arrow ``entry`` (into ``step``) for ``delay``, and count it: as a flow
        delay, on the critical path, and as handoff delay when the arrow is a handoff.

        With working time, a delay in working hours or business days counts on the receiving side's
        calendar and the time counted is the elapsed time it took. Returns that time.
        """
        clock = self.clock.inbox[entry] if self.clock is not None else None
        if clock is not None:
            now = self.env.now
            delay = clock(now, delay) - now
        yield self.env.timeout(delay)
        tally.flow_delay += delay
        sums.flow_delay[step] += delay
        sums.inbox[entry] += delay
        ledger[inbox_slot] += delay
        if pair >= 0:
            tally.handoff_delay += delay
            sums.handoff_delay[step] += delay
            sums.pair_waste[pair] += delay
        return delay

    def _timed(self, dept: int, step: int, duration: float, entry: int, tally: CaseTally, sums: Tallies,
               ledger: list[float]) -> Generator[simpy.Event, Any, tuple[float, float, str, float]]:
        """A step of a journey with calendars: returns its start, its queueing, who did it and its elapsed span.

        A staff step waits for a person who is free and present (:class:`~.staff.StaffPool`); a
        customer step for the persona's calendar to open (a zero-length one waits for nothing). Work
        in working hours pauses while that person or the customer is away and resumes when they are
        back; elapsed work, or work that must finish, runs on the clock once started. ``duration`` is
        the work, counted by the caller as today; the time it lay paused is added here, to the
        critical path's ``off_hours`` for staff (to customer time for the customer).
        """
        clock = self.clock
        assert clock is not None
        env = self.env
        plan = self.plans[step]
        asked = env.now
        if dept < 0:
            line = clock.customer[step]
            if line is None or duration == 0.0:
                tally.idle = 0.0
                if duration > 0.0:
                    yield env.timeout(duration)
                return asked, 0.0, CUSTOMER, duration
            start = line.next_open(asked)
            tally.idle = start - asked
            end = line.add_working(start, duration) if clock.pauses[step] else start + duration
            yield env.timeout(end - asked)
            ledger[plan.work_slot] += end - asked - duration
            return start, 0.0, CUSTOMER, end - start
        tally.idle = 0.0
        pool = self.resources[dept]
        assert isinstance(pool, StaffPool)  # with calendars every department is one
        with pool.request(priority=tally.priority) as req:
            yield req
            start = env.now
            slot = req.slot
            person = clock.slots[dept][slot] if clock.pauses[step] else None
            end = person.add_working(start, duration) if person is not None else start + duration
            yield env.timeout(end - start if person is not None else duration)
        wait = start - asked
        sums.waits[dept].append(wait)
        t0 = self.t0  # areas clipped to the window, which opens at t0
        if start > t0:
            self.queue_area[dept] += start - (asked if asked > t0 else t0)
        if end > t0:  # the work done in the window (the person's open minutes in it when the work pauses)
            if person is None:
                self.busy_area[dept] += end - (start if start > t0 else t0)
            else:
                self.busy_area[dept] += duration if start >= t0 else person.open_minutes(t0, end)
        if person is not None:  # the nights and weekends the started work lay paused
            ledger[plan.gate_slot + _OFF_HOURS_FROM_GATE] += end - start - duration
        if wait > 0.0:
            self._queued(entry, step, wait, plan.queue_slot, tally, sums, ledger)
        return start, wait, clock.names[dept][slot], end - start

    def _queued(self, entry: int, step: int, wait: float, queue_slot: int, tally: CaseTally, sums: Tallies,
                ledger: list[float]) -> None:
        """A visit queued for staff: on the critical path, and against the arrow it came by (as handoff delay
        after a handoff). Queueing at the step where a case enters (``entry`` -1) is behind no arrow."""
        ledger[queue_slot] += wait
        if entry < 0:
            return
        sums.queue[entry] += wait
        pair = self.flow_pair[entry]
        if pair >= 0:
            tally.handoff_delay += wait
            sums.handoff_delay[step] += wait
            sums.pair_waste[pair] += wait

    def _note(self, tally: CaseTally, step: int, start: float, waited: float, sums: Tallies) -> None:
        """After a touchpoint or an account's step: a wait (queue + inbox + gate) beyond the persona's
        tolerance, a survey sent at ``start``, a persona done."""
        plan = self.plans[step]
        if waited > plan.tolerance:
            sums.over_tolerance[step] += 1
        if tally.account >= 0 and sums is self.sums:
            k = tally.account * len(self.plans) + step
            self.account_visits[k] += 1
            self.account_over[k] += waited > plan.tolerance
        if plan.survey:
            if tally.surveys is None:
                tally.surveys = {}
            tally.surveys.setdefault(plan.persona, []).append(start - tally.arrived)
        if plan.persona_end:
            tally.persona_done[plan.persona] = self.env.now - tally.arrived
        if tally.marks is not None and step in self.watch:
            # the case entered the step when it took the arrow into it: before its inbox, gate and queue, and
            # before a customer step waited for the customer's office to open
            mark(tally.marks, self.watch[step], start - waited - tally.idle, self.env.now)

    def _fork(self, case: int, tally: CaseTally, flows: tuple[FlowTuple, ...], join: int, sums: Tallies,
              ledger: list[float]) -> Generator[simpy.Event, Any, tuple[int, list[float]]]:
        """Run every flow of a fork as its own process until the join; returns the entry and ledger to go on with.

        The last branch to arrive hands over: its elapsed time is the fork's, so its ledger is
        added to the case's, and queueing at the join counts against the arrow it came by.
        """
        env = self.env
        came: list[Arrival] = []
        yield env.all_of([env.process(self._walk(case, tally, -1, -1, f, join, sums, came, [0.0] * self.n_slots))
                          for f in flows])
        last = came[-1]
        ledger[:] = map(add, ledger, last.ledger)
        return last.entry, ledger

    def _gate(self, case: int, gate: int, step: int, sums: Tallies) -> Generator[simpy.Event, Any, float]:
        """Wait at a consensus gate until every persona it names has arrived; returns the time held.

        A persona passes its gate once per case: coming back to the gate step
        (rework) does not wait again.
        """
        if (case, step) in self.gate_passed:
            return 0.0
        assert self.meeting is not None
        env = self.env
        persona = self.plans[step].persona
        measured = sums is self.sums
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
        """Run the replication to the last case and return its record."""
        self.env.process(self.source())
        self.env.run()
        if self.log is not None:
            self.log.flush()
        if self.t0 == math.inf:  # pragma: no cover - warm-up covers every case (refused by simulate)
            self.t0 = self.t_end
        self.wip_area += self.in_system * (self.t_end - self.wip_last)
        return self.result(index)

    def result(self, index: int) -> Replication:
        """The replication's flat record (the arrays are shared with NumPy, not copied)."""
        s = self.sums

        def shared(columns: Sequence[array]) -> tuple[np.ndarray, ...]:
            # frombuffer shares the arrays' memory instead of copying it (they are not appended to again)
            return tuple(np.frombuffer(c, dtype=float) for c in columns)

        return Replication(
            index=index,
            measured=len(self.columns.cycle_time),
            cases={name: np.frombuffer(values, dtype=float) for name, values in self.columns.arrays().items()},
            step_visits=tuple(float(v) for v in s.visits),
            step_processing=tuple(s.processing),
            step_waiting=tuple(s.waiting),
            step_flow_delay=tuple(s.flow_delay),
            step_handoff_delay=tuple(s.handoff_delay),
            pairs=self.plan.pairs,
            pair_handoffs=tuple(float(v) for v in s.pair_handoffs),
            pair_waste=tuple(s.pair_waste),
            department_busy=tuple(self.busy_area),
            department_queue_area=tuple(self.queue_area),
            department_waits=shared(s.waits),
            window_start=self.t0,
            window_end=self.t_end,
            wip_area=self.wip_area - self.wip_at_t0,
            step_over_tolerance=tuple(float(v) for v in s.over_tolerance),
            survey_max_per_quarter=shared(self.survey_max),
            persona_cycle=shared(self.persona_cycle),
            gate_wait=tuple(tuple(g) for g in self.gate_wait),
            gate_last=tuple(tuple(float(x) for x in g) for g in self.gate_last),
            flow_traversals=tuple(float(v) for v in s.traversals),
            flow_inbox=tuple(s.inbox),
            flow_queue=tuple(s.queue),
            time_breakdown=tuple(s.ledger),
            start=self.clock.start if self.clock is not None else None,
            working_cycle_time=np.frombuffer(self.working_cycle, dtype=float) if self.clock is not None else None,
            case_class=np.frombuffer(self.case_class, dtype=np.int8) if self.classes_on else None,
            target_met=shared(self.target_met),
            **(self._tagged_result() if self.tagged is not None else {}),
        )

    def _tagged_result(self) -> dict[str, np.ndarray]:
        """A tagged run's per-case account and entry step, and per-account touchpoint counts."""
        return {"case_account": np.frombuffer(self.case_account, dtype=float).astype(np.int64),
                "case_entry": np.frombuffer(self.case_entry, dtype=float).astype(np.int64),
                "account_visits": np.frombuffer(self.account_visits, dtype=float),
                "account_over": np.frombuffer(self.account_over, dtype=float)}
