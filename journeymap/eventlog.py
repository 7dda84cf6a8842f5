"""The simulated event log: one CSV row per case arrival and per step occurrence, streamed to disk.

The columns are the ones process-mining tools (pm4py, Disco, Celonis) read
without mapping:

===================  ==========================================================
``order``            0, 1, 2, ... the row number within its replication; sort
                     by it to break ties the same way everywhere (rows are
                     written in completion order)
``case:concept:name`` the case id, a string such as ``case-3-000042`` (case 42
                     of replication 3): unique over the whole log
``concept:name``     the step id (the activity), or ``case arrival`` for the
                     row that marks the case's arrival
``start_timestamp``  when the work started (after any queueing), ISO 8601 UTC
``time:timestamp``   when the work completed, ISO 8601 UTC
``org:resource``     the staff member, e.g. ``legal-2``; ``customer`` for customer steps
``org:group``        the department id, or ``customer``
``case:persona``     the persona id of the journey
``stage``            the stage id of the step
``lane``             the service-blueprint lane of the step
``wait_minutes``     queueing for staff before the start (float minutes)
``duration_minutes`` time from start to completion (float minutes)
``replication``      the replication (0, 1, ...)
``case:warmup``      ``true`` for warm-up cases (left out of the statistics)
``rework``           ``true`` when a rework flow led to this step occurrence
===================  ==========================================================

Every case has one ``case arrival`` row (start and completion at its arrival
time, resource and group ``customer``, the stage of the step it enters at),
written before its first step, so that cycle times can be read from the log
(arrival to the last completion) including the queueing before the first step.
The log holds every replication, one after the other in replication order.

Timestamps count from :data:`START_DATE` (simulation time 0), Monday
6 January 2025 00:00 UTC, with millisecond precision; the two ``*_minutes``
columns keep the exact simulated times. The simulation runs around the clock.

Rows are written as the simulation runs through a buffered file, so memory
stays flat however many cases are simulated. Each replication writes its own
headerless part (:class:`LogPart`), so parallel workers never share a file;
:func:`journeymap.simulation.simulate` joins the parts in replication order
under one header. The file is written to a temporary name next to the target
and renamed when complete (see :mod:`journeymap.output`), so an interrupted
run never leaves a partial log.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO

__all__ = ["ARRIVAL", "COLUMNS", "START_DATE", "EventLogWriter", "LogPart", "case_name", "case_width", "timestamp",
           "open_log",
           "write_header"]

#: Simulation time 0 in the event log.
START_DATE = datetime(2025, 1, 6, tzinfo=UTC)

COLUMNS = (
    "order",
    "case:concept:name",
    "concept:name",
    "start_timestamp",
    "time:timestamp",
    "org:resource",
    "org:group",
    "case:persona",
    "stage",
    "lane",
    "wait_minutes",
    "duration_minutes",
    "replication",
    "case:warmup",
    "rework",
)

#: The activity of the row that marks a case's arrival. It has a space, which no step id can have.
ARRIVAL = "case arrival"


def case_name(index: int, width: int = 6, replication: int = 0, replication_width: int = 1) -> str:
    """The case id, unique over a log of several replications: ``case-3-000042`` is case 42 of replication 3.

    Both numbers are zero-padded so that ids also sort as text.
    """
    return f"case-{replication:0{replication_width}d}-{index:0{width}d}"


def timestamp(minutes: float) -> str:
    """Simulation minutes as an ISO 8601 UTC timestamp counted from :data:`START_DATE`."""
    ms = round(minutes * 60000)
    return (START_DATE + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass(frozen=True)
class LogPart:
    """Where each replication of a run writes its part of the event log: one headerless file per replication.

    The parts are joined in replication order once every replication is
    done, so the log does not depend on which worker ran which replication.
    """

    folder: str
    replications: int

    def path(self, index: int) -> str:
        return os.path.join(self.folder, f"part-{index:06d}.csv")

    @property
    def replication_width(self) -> int:
        """Digits of the largest replication number, for case ids that sort as text."""
        return len(str(max(self.replications - 1, 0)))


class EventLogWriter:
    """Writes event-log rows to an open text stream, one call per step occurrence.

    The simulator calls :meth:`write` from its hot loop, so it does no more
    than format one row and hand it to the buffered stream. ``replication``
    and ``warmup`` (the number of warm-up cases, which come first) fill the
    ``replication`` and ``case:warmup`` columns; ``header=False`` writes rows
    only, for a part of a longer log.
    """

    def __init__(self, stream: IO[str], persona: str, case_width: int = 6, *, replication: int = 0,
                 warmup: int = 0, header: bool = True, replication_width: int = 1) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        if header:
            self._writer.writerow(COLUMNS)
        self._persona = persona
        self._width = case_width
        self._replication = replication
        self._rep_width = replication_width
        self._warmup = warmup
        self._order = 0

    @property
    def rows(self) -> int:
        """Rows written so far (the header excluded)."""
        return self._order

    def write(self, case: int, step: str, group: str, resource: str, stage: str, lane: str,
              start: float, duration: float, wait: float, persona: str | None = None,
              rework: bool = False) -> None:
        """One row: ``case`` is the case number, times are simulation minutes.

        ``persona`` overrides the journey's persona, for an account's personas walking one deal;
        ``rework`` marks a step occurrence reached by a rework flow.
        """
        self._writer.writerow((
            self._order, case_name(case, self._width, self._replication, self._rep_width), step, timestamp(start),
            timestamp(start + duration), resource, group, persona or self._persona, stage, lane, repr(wait),
            repr(duration), self._replication, "true" if case < self._warmup else "false",
            "true" if rework else "false"))
        self._order += 1

    def arrival(self, case: int, time: float, stage: str) -> None:
        """The ``case arrival`` row of case number ``case``, arriving at ``time`` into a step of ``stage``."""
        at = timestamp(time)
        self._writer.writerow((
            self._order, case_name(case, self._width, self._replication, self._rep_width), ARRIVAL, at, at,
            "customer", "customer", self._persona, stage, "customer", "0.0", "0.0", self._replication,
            "true" if case < self._warmup else "false", "false"))
        self._order += 1


def write_header(stream: IO[str]) -> None:
    """The header row alone, for a log joined from :class:`LogPart` files."""
    csv.writer(stream, lineterminator="\n").writerow(COLUMNS)


def open_log(path: str) -> IO[str]:
    """Open ``path`` for streaming rows with a large buffer (1 MiB)."""
    return open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)


def case_width(total_cases: int) -> int:
    """Digits needed for the largest case number (at least 6)."""
    return max(6, len(str(max(total_cases - 1, 0))))
