"""The simulated event log: one CSV row per step occurrence, streamed to disk.

The columns are the ones process-mining tools (pm4py, Disco, Celonis) read
without mapping:

===================  ==========================================================
``order``            0, 1, 2, ... the row number; sort by it to break ties the
                     same way everywhere (rows are written in completion order)
``case:concept:name`` the case id, a string such as ``case-000042``
``concept:name``     the step id (the activity)
``start_timestamp``  when the work started (after any queueing), ISO 8601 UTC
``time:timestamp``   when the work completed, ISO 8601 UTC
``org:resource``     the staff member, e.g. ``legal-2``; ``customer`` for customer steps
``org:group``        the department id, or ``customer``
``case:persona``     the persona id of the journey
``stage``            the stage id of the step
``lane``             the service-blueprint lane of the step
``wait_minutes``     queueing for staff before the start (float minutes)
``duration_minutes`` time from start to completion (float minutes)
===================  ==========================================================

Timestamps count from :data:`START_DATE` (simulation time 0), Monday
6 January 2025 00:00 UTC, with millisecond precision; the two ``*_minutes``
columns keep the exact simulated times. The simulation runs around the clock.

Rows are written as the simulation runs through a buffered file, so memory
stays flat however many cases are simulated. The file is written to a
temporary name next to the target and renamed when complete (see
:mod:`journeymap.output`), so an interrupted run never leaves a partial log.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import IO, Optional

__all__ = ["COLUMNS", "START_DATE", "EventLogWriter", "case_name", "case_width", "timestamp", "open_log"]

#: Simulation time 0 in the event log.
START_DATE = datetime(2025, 1, 6, tzinfo=timezone.utc)

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
)


def case_name(index: int, width: int = 6) -> str:
    """The case id: zero-padded so ids also sort as text (``case-000042``)."""
    return f"case-{index:0{width}d}"


def timestamp(minutes: float) -> str:
    """Simulation minutes as an ISO 8601 UTC timestamp counted from :data:`START_DATE`."""
    ms = round(minutes * 60000)
    return (START_DATE + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class EventLogWriter:
    """Writes event-log rows to an open text stream, one call per step occurrence.

    The simulator calls :meth:`write` from its hot loop, so it does no more
    than format one row and hand it to the buffered stream.
    """

    def __init__(self, stream: IO[str], persona: str, case_width: int = 6) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(COLUMNS)
        self._persona = persona
        self._width = case_width
        self._order = 0

    @property
    def rows(self) -> int:
        """Rows written so far (the header excluded)."""
        return self._order

    def write(self, case: int, step: str, group: str, resource: str, stage: str, lane: str,
              start: float, duration: float, wait: float, persona: Optional[str] = None) -> None:
        """One row: ``case`` is the case number, times are simulation minutes.

        ``persona`` overrides the journey's persona, for an account's personas walking one deal.
        """
        self._writer.writerow((
            self._order, case_name(case, self._width), step, timestamp(start), timestamp(start + duration),
            resource, group, persona or self._persona, stage, lane, repr(wait), repr(duration)))
        self._order += 1


def open_log(path: str) -> IO[str]:
    """Open ``path`` for streaming rows with a large buffer (1 MiB)."""
    return io.open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)


def case_width(total_cases: int) -> int:
    """Digits needed for the largest case number (at least 6)."""
    return max(6, len(str(max(total_cases - 1, 0))))
