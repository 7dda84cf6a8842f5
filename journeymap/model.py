"""The journey domain model: small frozen records with no I/O.

A :class:`Journey` is what :func:`journeymap.load_journey` returns once every
check has passed, so code downstream (graph, analysis, simulation, rendering)
can trust it: every reference resolves, probabilities sum to one, every step
can reach an end.

Times are float minutes (see :mod:`journeymap.distributions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from .distributions import DAY, Distribution
from .workingtime import Calendar, CapacitySchedule

if TYPE_CHECKING:
    from .money import Money

__all__ = [
    "CUSTOMER",
    "ROLES",
    "LANES",
    "CHANNELS",
    "SURVEYS",
    "EMOTION_SCALE",
    "Basis",
    "PRIORITY_CLASSES",
    "Persona",
    "Stage",
    "Department",
    "Step",
    "Flow",
    "Arrivals",
    "Backlog",
    "Workload",
    "Target",
    "Journey",
    "Estimate",
    "ESTIMATE_TAGS",
]

#: The reserved owner id of steps the customer does: they take time but no staff.
CUSTOMER = "customer"

#: Roles in the B2B buying group.
ROLES = ("decision_maker", "influencer", "user")

#: Service-blueprint lanes, top to bottom. Customer actions and frontstage
#: steps are visible to the customer (above the line of visibility);
#: backstage and support steps are not.
LANES = ("customer", "frontstage", "backstage", "support")

#: Channels a touchpoint can use.
CHANNELS = (
    "in_person",
    "meeting",
    "video",
    "phone",
    "email",
    "chat",
    "web",
    "portal",
    "app",
    "document",
    "mail",
    "event",
    "other",
)

#: Kinds of survey a touchpoint can carry: about this interaction, or about the relationship.
SURVEYS = ("transactional", "relational")

#: How a touchpoint feels to the persona, from -3 to +3.
EMOTION_SCALE = {
    -3: "furious",
    -2: "frustrated",
    -1: "uneasy",
    0: "neutral",
    1: "satisfied",
    2: "pleased",
    3: "delighted",
}

#: The account tiers, highest priority first: the default priority classes (see :attr:`Journey.priorities`).
PRIORITY_CLASSES = ("strategic", "key", "growth", "transactional")

#: How a duration counts time (see docs/format.md, "Working time"):
#: ``elapsed`` every minute of the clock (``3d``, ``2h``); ``working`` only minutes in which the
#: calendar is open (``4wh``); ``business`` business days of the calendar, keeping the clock time
#: (``2bd``; the value is stored as days x 1440 minutes and counted as business days).
Basis = Literal["elapsed", "working", "business"]

#: How sure a number is, by the tag a journey file gives it (``estimate: assumed``): the relative spread of its
#: true mean around the written one. ``observed`` is measured (a log, a time study), ``estimated`` comes from
#: people who do the work, ``assumed`` is a placeholder. See docs/uncertainty.md.
ESTIMATE_TAGS: dict[str, float] = {"observed": 0.10, "estimated": 0.30, "assumed": 0.50}

Role = Literal["decision_maker", "influencer", "user"]
Lane = Literal["customer", "frontstage", "backstage", "support"]


@dataclass(frozen=True)
class Estimate:
    """How sure a number is: its true mean lies between ``low`` and ``high`` times the written one.

    ``tag`` is the word the file used (``observed``, ``estimated``, ``assumed``: :data:`ESTIMATE_TAGS`), or
    "" for an explicit range. The simulation ignores it; :mod:`journeymap.uncertainty` samples a factor in
    ``[low, high]`` (uniformly) and scales the mean of the distribution by it.
    """

    low: float
    high: float
    tag: str = ""

    @classmethod
    def of_tag(cls, tag: str) -> Estimate:
        """The range of a tag: ``assumed`` is 0.5 ... 1.5."""
        spread = ESTIMATE_TAGS[tag]
        return cls(1.0 - spread, 1.0 + spread, tag)

    def describe(self) -> str:
        """``assumed (x0.5-1.5)`` or ``x0.8-1.5``."""
        span = f"x{self.low:g}-{self.high:g}"
        return f"{self.tag} ({span})" if self.tag else span


@dataclass(frozen=True)
class Persona:
    """One member of the buying group, whose journey a file describes."""

    id: str
    name: str
    role: Role = "user"
    goals: tuple[str, ...] = ()
    #: How long this persona waits for a touchpoint before it turns sour (minutes).
    tolerance: float | None = None
    #: When this persona (the customer) works: customer steps and inbox delays into them follow it.
    #: None: around the clock.
    calendar: Calendar | None = None
    #: The priority class of this persona's cases (one of :attr:`Journey.priorities`); None: the
    #: workload's class mix, or no priority.
    priority: str | None = None


@dataclass(frozen=True)
class Stage:
    """A phase of the journey (evaluate, buy, onboard, use, renew)."""

    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Department:
    """An internal team: a pool of ``capacity`` people shared by all cases.

    With ``shifts`` the number present varies over the week and ``capacity`` is the most present at
    once (``shifts.max_people``); with only a ``calendar`` all ``capacity`` people keep its hours.
    """

    id: str
    name: str
    capacity: int = 1
    cost_per_hour: float | None = None
    #: Opening hours; None: the journey's calendar, or around the clock when it has none.
    calendar: Calendar | None = None
    #: A shift pattern (its own time zone and holidays); None: ``capacity`` people in ``calendar``'s hours.
    shifts: CapacitySchedule | None = None


@dataclass(frozen=True)
class Step:
    """One unit of work in the journey, done by a department or by the customer."""

    id: str
    name: str
    stage: str
    lane: Lane
    owner: str
    duration: Distribution
    channel: str | None = None
    value_adding: bool = False
    emotion: float | None = None
    moment_of_truth: bool = False
    notes: str = ""
    #: When set, this step forks: all its outgoing flows run in parallel and
    #: meet again at this join step, which waits for every branch.
    join: str | None = None
    #: How long the persona waits for this touchpoint before it turns sour
    #: (minutes); None falls back to the persona's tolerance.
    tolerance: float | None = None
    #: A survey sent at this touchpoint: "transactional" or "relational".
    survey: str | None = None
    #: Only in an account's combined journey: the persona this step belongs to ("" for the deal's own
    #: start and end steps), that persona's display name, and the gate the step waits at. Other modules
    #: read these fields; they never parse a step's id or name.
    persona: str | None = None
    persona_name: str | None = None
    gate: str | None = None
    #: How ``duration`` counts time: "elapsed" (``2h``) or "working" (``2wh``: pauses while the
    #: owner's calendar is closed). "business" is not allowed for a step's duration.
    basis: Basis = "elapsed"
    #: Once started, runs to the end even past closing time (a meeting): the start waits for an
    #: open minute, then the duration runs on the clock.
    must_finish: bool = False
    #: How sure ``duration``'s mean is (``estimate:`` in the file, or the journey's default); None: taken as given.
    duration_estimate: Estimate | None = None

    @property
    def is_customer(self) -> bool:
        return self.owner == CUSTOMER

    @property
    def is_touchpoint(self) -> bool:
        """Touchpoints are the steps the customer sees: customer actions and frontstage steps."""
        return self.lane in ("customer", "frontstage")


@dataclass(frozen=True)
class Flow:
    """A move of the case from one step to the next."""

    source: str
    target: str
    probability: float = 1.0
    #: Time the case sits without anyone working on it (an inbox, a batch run).
    delay: Distribution | None = None
    #: Sends the case back to redo earlier work.
    rework: bool = False
    #: One branch of a fork: taken together with its siblings, not instead of them.
    parallel: bool = False
    label: str = ""
    #: How ``delay`` counts time, on the calendar of the receiving side (the target step's owner):
    #: "elapsed" (``3d``), "working" (``4wh``) or "business" (``2bd``).
    delay_basis: Basis = "elapsed"
    #: How sure ``delay``'s mean is (``delay_estimate:`` in the file, or the journey's default); None: as given.
    delay_estimate: Estimate | None = None


@dataclass(frozen=True)
class Arrivals:
    """How new cases arrive: ``poisson`` (mean gap), ``every`` (fixed gap) or ``schedule`` (times)."""

    kind: Literal["poisson", "every", "schedule"] = "poisson"
    gap: float = DAY
    times: tuple[float, ...] = ()


@dataclass(frozen=True)
class Backlog:
    """Cases already waiting at a step when the simulation starts."""

    step: str
    cases: int


@dataclass(frozen=True)
class Workload:
    """What to feed the simulation."""

    arrivals: Arrivals = field(default_factory=Arrivals)
    cases: int = 200
    backlog: tuple[Backlog, ...] = ()
    #: Cases discarded from the statistics at the start of each replication.
    warmup: int = 0
    #: The simulation's minute 0, an aware datetime; None: the next Monday 09:00 in the journey's
    #: time zone (see :func:`journeymap.workingtime.next_monday_0900`) when the journey has calendars.
    start: datetime | None = None
    #: The priority classes of arriving cases and their shares, e.g. (("key", 0.3), ("growth", 0.7));
    #: empty: every case has the persona's class (or none).
    mix: tuple[tuple[str, float], ...] = ()
    #: How sure the mean gap between arrivals is (``arrivals_estimate:``; poisson and every only); None: as given.
    arrivals_estimate: Estimate | None = None


@dataclass(frozen=True)
class Target:
    """A service-level target: ``scope`` done within ``within`` for at least ``goal`` of the cases.

    ``scope`` is "journey" (arrival to end; ``ref`` is ""), "stage" (the case's first entry into stage ``ref`` to
    its last exit from it) or "step" (arrival, or the end of step ``since`` when given, to the end
    of the first visit of step ``ref``). ``within`` is in minutes, counted as ``basis`` says on the
    journey's calendar (around the clock when it has none).
    """

    id: str
    name: str
    scope: Literal["journey", "stage", "step"]
    ref: str
    within: float
    basis: Basis = "elapsed"
    goal: float = 0.9
    since: str | None = None


@dataclass(frozen=True)
class Journey:
    """One persona's journey: stages, departments, steps and the flows between them."""

    id: str
    name: str
    persona: Persona
    stages: tuple[Stage, ...]
    departments: tuple[Department, ...]
    steps: tuple[Step, ...]
    flows: tuple[Flow, ...]
    start: str
    ends: tuple[str, ...]
    workload: Workload = field(default_factory=Workload)
    description: str = ""
    source: str = ""
    #: The file this journey ``extends`` when it is an overlay, else "".
    base: str = ""
    #: The default calendar of departments without one of their own; None: around the clock.
    calendar: Calendar | None = None
    #: Service-level targets.
    targets: tuple[Target, ...] = ()
    #: Priority classes, highest first: a waiting case of an earlier class is served first.
    priorities: tuple[str, ...] = PRIORITY_CLASSES
    #: Only in an account's combined journey: each persona's calendar, by the persona id its steps carry
    #: in :attr:`Step.persona` (its customer steps keep that persona's office hours).
    customer_calendars: tuple[tuple[str, Calendar | None], ...] = ()
    #: The ``money:`` block: the stated assumptions of the business case (docs/money.md); None: no money figures.
    money: Money | None = None

    def customer_calendar(self, step: Step) -> Calendar | None:
        """The calendar of a customer step: its persona's in an account, else this journey's persona's."""
        for persona, calendar in self.customer_calendars:
            if persona == step.persona:
                return calendar
        return self.persona.calendar

    @property
    def has_calendars(self) -> bool:
        """Whether any part of the journey keeps working time (else it runs around the clock, as before)."""
        return (self.calendar is not None or self.persona.calendar is not None
                or any(c is not None for _, c in self.customer_calendars)
                or any(d.calendar is not None or d.shifts is not None for d in self.departments))

    @cached_property
    def step_by_id(self) -> dict[str, Step]:
        return {s.id: s for s in self.steps}

    @cached_property
    def department_by_id(self) -> dict[str, Department]:
        return {d.id: d for d in self.departments}

    @cached_property
    def stage_by_id(self) -> dict[str, Stage]:
        return {s.id: s for s in self.stages}

    @cached_property
    def flows_from(self) -> dict[str, tuple[Flow, ...]]:
        out: dict[str, list[Flow]] = {s.id: [] for s in self.steps}
        for f in self.flows:
            out[f.source].append(f)
        return {k: tuple(v) for k, v in out.items()}

    def only_stages(self, stage_ids: list[str] | tuple[str, ...]) -> Journey:
        """The part of the journey in these stages, for drawing one stage at a time in a workshop.

        Flows into or out of the part are dropped; the first step of the part is its start, and
        the steps left without a way on are its ends. For drawing, not for simulation.
        """
        keep = [s for s in self.steps if s.stage in stage_ids]
        ids = {s.id for s in keep}
        flows = tuple(f for f in self.flows if f.source in ids and f.target in ids)
        has_next = {f.source for f in flows}
        steps = tuple(s if s.join in ids or s.join is None else replace(s, join=None) for s in keep)
        return replace(self, stages=tuple(st for st in self.stages if st.id in stage_ids), steps=steps,
                       flows=flows, start=steps[0].id if steps else self.start,
                       ends=tuple(s.id for s in steps if s.id not in has_next))

    def around_the_clock(self) -> Journey:
        """The same journey with every calendar and shift pattern removed: what it was before working time.

        Working hours then count as hours and business days as days; each department keeps the most
        people its shifts ever provide. ``simulate --around-the-clock`` shows what working time costs.
        """
        departments = tuple(replace(d, calendar=None, shifts=None) for d in self.departments)
        return replace(self, calendar=None, persona=replace(self.persona, calendar=None), departments=departments,
                       customer_calendars=())

    def is_handoff(self, flow: Flow) -> bool:
        """A flow is an internal handoff when two different departments own its ends.

        Flows into or out of customer steps are interactions, not internal
        handoffs: the customer is not a department and holds no staff.
        """
        a = self.step_by_id[flow.source].owner
        b = self.step_by_id[flow.target].owner
        return a != b and a != CUSTOMER and b != CUSTOMER
