"""Discrete-event simulation of a journey with SimPy.

The model (also in ``docs/simulation.md``):

* Each **department** is one shared pool of ``capacity`` staff
  (a :class:`simpy.Resource`): every case competes for it, first come first
  served. A department step holds one staff member for its sampled duration.
  When cases carry more than one **priority class** (:mod:`.service`), waiting
  cases are served by class, then first come first served, never interrupting
  one in service (a :class:`simpy.PriorityResource`).
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

One replication is one independent run. Each source of randomness in it has
its own :class:`random.Random` (:mod:`.streams`), so results are identical
whatever the number of worker processes, and two designs run with the same
seed share their random numbers where they share steps.

The package, one module per job:

==================  ==========================================================
:mod:`.engine`      SimPy processes and resources: one replication, the hot
                    loop, and the factory that builds departments
                    (:class:`~.engine.Capacity`, the seam for calendars and
                    priorities)
:mod:`.records`     the per-case and per-replication records (named fields)
:mod:`.streams`     the random streams (common random numbers)
:mod:`.runner`      :func:`simulate`: replications, worker processes, the event
                    log's parts, progress
:mod:`.summary`     statistics over the records: the JSON summary
:mod:`.text`        the terminal text
:mod:`.account`     an account's personas as one combined journey, and its
                    summary
:mod:`.service`     priority classes and service-level targets: what the
                    engine marks per case, and attainment with its interval
==================  ==========================================================

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

from .engine import Capacity
from .records import (
    BREAKDOWN,
    BREAKDOWN_LABELS,
    CASE_METRICS,
    CaseMetrics,
    Meeting,
    Replication,
    SimulationResult,
)
from .runner import MAX_SIMULATED_STEPS, ProgressCallback, run_replication, simulate
from .streams import stream
from .summary import CYCLE_TIME_SAMPLES, department_work, summarize_replications, utilisation
from .text import summary_blocks, summary_text, time_breakdown_text

__all__ = [
    "BREAKDOWN",
    "BREAKDOWN_LABELS",
    "CASE_METRICS",
    "CYCLE_TIME_SAMPLES",
    "MAX_SIMULATED_STEPS",
    "Capacity",
    "CaseMetrics",
    "Meeting",
    "ProgressCallback",
    "Replication",
    "SimulationResult",
    "department_work",
    "run_replication",
    "simulate",
    "stream",
    "summarize_replications",
    "summary_blocks",
    "summary_text",
    "time_breakdown_text",
    "utilisation",
]
