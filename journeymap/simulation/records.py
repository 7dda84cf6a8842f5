"""What the simulator measures: named, flat records that the engine fills and the summary reads.

* :class:`CaseMetrics` is one measured case: its cycle time, work, waits, handoffs, rework and
  shares. A replication keeps one array per metric (:attr:`Replication.cases`), keyed by the
  field names, which are :data:`CASE_METRICS`.
* :class:`Replication` is one independent run: those arrays and the sums per step, department,
  department pair and arrow, indexed like the journey's tuples.
* :class:`SimulationResult` is what :func:`journeymap.simulation.simulate` returns.
* :class:`Meeting` tells the engine which persona each step of an account's combined journey
  belongs to and where the personas wait for each other.

The components of the critical-path ledger (:data:`BREAKDOWN`) are defined here too, because
the engine adds to them and the summary, the terminal text and the charts read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import numpy as np

__all__ = [
    "BREAKDOWN",
    "BREAKDOWN_LABELS",
    "CASE_METRICS",
    "COMPONENT",
    "CaseMetrics",
    "Meeting",
    "Replication",
    "SimulationResult",
    "Tagged",
]


class CaseMetrics(NamedTuple):
    """What one measured case adds to its replication: one value per metric (minutes unless said)."""

    #: arrival to completion (elapsed)
    cycle_time: float
    #: sum of step durations (all branches)
    processing_time: float
    #: queueing for staff
    waiting_time: float
    #: time in inboxes (delays on flows)
    flow_delay: float
    #: flow delays on handoffs + queueing right after a handoff
    handoff_delay: float
    #: internal handoffs taken (a count)
    handoffs: float
    #: rework flows taken (a count)
    rework: float
    #: processing time of value-adding steps (all branches)
    value_adding_time: float
    #: value-adding staff work on the critical path / cycle time (<= 1)
    flow_efficiency: float
    #: handoff delay / cycle time
    handoff_share: float


#: The per-case metrics: the keys of :attr:`Replication.cases`, in the order of :class:`CaseMetrics`.
CASE_METRICS: tuple[str, ...] = CaseMetrics._fields

#: The components of ``summary["time_breakdown"]``: where a case's elapsed time goes, in this order.
BREAKDOWN = (
    "value_adding_work",  # staff work on value-adding steps
    "other_work",         # other staff work
    "customer_time",      # customer steps' durations
    "queueing",           # waiting for staff
    "handoff_inbox",      # flow delays on cross-department handoff arrows
    "other_inbox",        # every other flow delay
    "gate_wait",          # accounts: waiting at a gate for the other personas
    "off_hours",          # working time: a started staff step paused while its person is away (nights, weekends)
)
#: Each component's place in :data:`BREAKDOWN`: its slot in one stage's block of a ledger, which holds
#: ``len(BREAKDOWN)`` slots per stage (slot ``stage * len(BREAKDOWN) + COMPONENT[name]``).
COMPONENT: dict[str, int] = {name: k for k, name in enumerate(BREAKDOWN)}
#: How people read the components (terminal, report, charts).
BREAKDOWN_LABELS = {
    "value_adding_work": "value-adding work",
    "other_work": "other work",
    "customer_time": "customer time",
    "queueing": "queueing",
    "handoff_inbox": "handoff inbox delay",
    "other_inbox": "other inbox delay",
    "gate_wait": "waiting for other personas",
    "off_hours": "paused outside working hours",
}


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
    #: journeys with calendars only: the simulation's minute 0 (the same for every replication of a run)
    start: datetime | None = None
    #: journeys with calendars only, per measured case: the open minutes of the cycle-time calendar
    #: (:func:`~.staff.cycle_calendar`) from arrival to end, in completion order
    working_cycle_time: np.ndarray | None = None
    #: per measured case, aligned with ``cases``: its priority class, an index into
    #: :func:`~.service.case_classes`; None when the journey has no classes
    case_class: np.ndarray | None = None
    #: per service-level target (like ``journey.targets``), per measured case aligned with ``cases``:
    #: 1.0 met, 0.0 missed, NaN not measured by it (see :mod:`.service`)
    target_met: tuple[np.ndarray, ...] = ()
    #: tagged runs only (a portfolio, :class:`Tagged`), per measured case aligned with ``cases``: the account
    #: it belongs to and the step it entered at (which tells its template); None otherwise
    case_account: np.ndarray | None = None
    case_entry: np.ndarray | None = None
    #: tagged runs only, [account, step] (a flat array of ``accounts x steps``): measured visits of each
    #: touchpoint and those that waited beyond the persona's tolerance, for each account's experience index
    account_visits: np.ndarray | None = None
    account_over: np.ndarray | None = None

    @property
    def window(self) -> float:
        return self.window_end - self.window_start


class Tagged(Protocol):
    """Tagged arrivals: many accounts' cases sharing one combined journey (a portfolio, see
    :mod:`journeymap.simulation.portfolio`).

    Each case arrives with its own entry step, priority class and account, from a schedule drawn per
    replication; the steps of a routed department go, for each account, to the department its route
    names (its account manager, or the pool). Picklable, so replications can run in worker processes.
    """

    @property
    def n_accounts(self) -> int:
        """How many accounts; case_account values are below it."""
        ...

    @property
    def route_of(self) -> tuple[int, ...]:
        """Per account: the index of its route in ``routes``."""
        ...

    @property
    def routes(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Per route: (department id, the department id its steps go to instead) pairs."""
        ...

    @property
    def warmup(self) -> float:
        """Minutes at the start of the run whose arrivals are simulated but not measured (0: none)."""
        ...

    def arrivals(self, seed: int, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Replication ``index``'s arrivals, sorted by time: times, entry step indexes, priority classes
        (index into the journey's classes) and accounts."""
        ...


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of :func:`journeymap.simulation.simulate`: the JSON-ready ``summary`` and the data behind it."""

    summary: dict[str, Any]
    #: Every measured case's cycle time, pooled over replications in replication order.
    cycle_times: np.ndarray
    replications: tuple[Replication, ...]


@dataclass(frozen=True)
class Meeting:
    """Several personas of one account walking together: who each step belongs to, and the gates.

    Built by :func:`journeymap.simulation.account.combined_journey` for the combined journey of
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
