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
A journey with calendars has a real start (docs/simulation.md, "Working time"):
its timestamps count from that instant instead, still written in UTC, so they
are the real dates and times at which the work happened.

Rows are written as the simulation runs through a buffered file, so memory
stays flat however many cases are simulated. The simulator does not format a
row in its hot loop: it appends the row's few numbers to :class:`PendingRows`
(one list per column it decides), and :meth:`EventLogWriter.flush` turns a few
thousand rows at a time into text, the timestamps for all of them at once with
NumPy. The bytes are exactly those :meth:`EventLogWriter.write` would give row
by row (a test compares the two). Each replication writes its own headerless
part (:class:`LogPart`), so parallel workers never share a file;
:func:`journeymap.simulation.simulate` joins the parts in replication order
under one header. The file is written to a temporary name next to the target
and renamed when complete (see :mod:`journeymap.output`), so an interrupted
run never leaves a partial log.
"""

from __future__ import annotations

import csv
import io
import os
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO

import numpy as np

from .distributions import DAY, MINUTE, SECOND

__all__ = ["ARRIVAL", "COLUMNS", "START_DATE", "EventLogWriter", "LogPart", "LoggedStep", "PendingRows",
           "case_name", "case_width", "timestamp", "timestamps", "open_log", "write_header"]

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

#: The resource, group and lane of an arrival row.
_CUSTOMER = "customer"

#: Milliseconds in a minute and in a day: timestamps have millisecond precision.
_MS_PER_MINUTE = round(MINUTE / SECOND * 1000)
_MS_PER_DAY = round(DAY / SECOND * 1000)

#: The text of the two boolean columns, by truth value.
_FLAG = ("false", "true")

#: Rows kept before they are formatted and written (a few hundred kB of text).
CHUNK = 4096


def case_name(index: int, width: int = 6, replication: int = 0, replication_width: int = 1) -> str:
    """The case id, unique over a log of several replications: ``case-3-000042`` is case 42 of replication 3.

    Both numbers are zero-padded so that ids also sort as text.
    """
    return f"case-{replication:0{replication_width}d}-{index:0{width}d}"


def _origin(start: datetime) -> tuple[datetime, int]:
    """Simulation time 0 as (the UTC midnight before it, milliseconds from that midnight to it)."""
    utc = start.astimezone(UTC)
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight, round((utc - midnight) / timedelta(milliseconds=1))


def timestamp(minutes: float, start: datetime = START_DATE) -> str:
    """Simulation minutes as an ISO 8601 UTC timestamp counted from ``start`` (:data:`START_DATE`)."""
    midnight, base = _origin(start)
    ms = round(minutes * _MS_PER_MINUTE) + base
    return (midnight + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _date_part(day: int, midnight: datetime = START_DATE) -> bytes:
    """``YYYY-MM-DDT`` of the day ``day`` days after ``midnight``, as :func:`timestamp` writes it."""
    text = (midnight + timedelta(days=day)).strftime("%Y-%m-%dT").encode("ascii")
    if len(text) != 11:  # pragma: no cover - years before 1000 or after 9999 overflow datetime first
        raise ValueError(f"no timestamp for day {day}")
    return text


def _stamp_bytes(minutes: np.ndarray, start: datetime = START_DATE) -> np.ndarray:
    """The text of :func:`timestamp` for every value, as a matrix of bytes: one row of 24 per value.

    The milliseconds are rounded as :func:`timestamp` rounds them (half to even), the date comes from the
    same ``strftime`` once per day, and hours, minutes, seconds and milliseconds are written digit by digit.
    """
    midnight, base = _origin(start)
    ms = np.rint(np.asarray(minutes, dtype=float) * _MS_PER_MINUTE).astype(np.int64) + base
    day, rest = np.divmod(ms, _MS_PER_DAY)
    days, which = np.unique(day, return_inverse=True)
    dates = np.frombuffer(b"".join(_date_part(int(d), midnight) for d in days), dtype=np.uint8).reshape(-1, 11)
    out = np.empty((len(ms), 24), dtype=np.uint8)
    out[:, :11] = dates[which.ravel()]
    seconds, milli = np.divmod(rest, 1000)
    mins, seconds = np.divmod(seconds, 60)
    hours, mins = np.divmod(mins, 60)
    zero = ord("0")
    for column, value in ((11, hours), (14, mins), (17, seconds)):
        out[:, column] = zero + value // 10
        out[:, column + 1] = zero + value % 10
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19] = ord(".")
    out[:, 20] = zero + milli // 100
    out[:, 21] = zero + milli // 10 % 10
    out[:, 22] = zero + milli % 10
    out[:, 23] = ord("Z")
    return out


def timestamps(minutes: np.ndarray, start: datetime = START_DATE) -> list[str]:
    """:func:`timestamp` of every value, at once (built with NumPy: see :func:`_stamp_bytes`)."""
    return list(map(bytes.decode, _stamp_bytes(minutes, start).view("S24").ravel().tolist()))


def _start_and_end(start: np.ndarray, end: np.ndarray, origin: datetime = START_DATE) -> Iterator[str]:
    """``start_timestamp,time:timestamp`` of each row: two timestamps and the comma between them."""
    both = np.empty((len(start), 49), dtype=np.uint8)
    both[:, :24] = _stamp_bytes(start, origin)
    both[:, 24] = ord(",")
    both[:, 25:] = _stamp_bytes(end, origin)
    return map(bytes.decode, both.view("S49").ravel().tolist())


def _field(value: str) -> str:
    """``value`` as the csv module writes it inside a row (quoted only when it must be)."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow((value, ""))
    return text.getvalue()[:-2]  # a second, empty field so that an empty value is not quoted as a lone one


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


@dataclass(frozen=True)
class LoggedStep:
    """The columns of a step's rows that do not change from one occurrence to the next."""

    #: ``concept:name``
    id: str
    #: ``org:group``: the department id, or ``customer``
    group: str
    stage: str
    lane: str
    #: ``case:persona`` when it is not the journey's persona (an account's persona walking one deal)
    persona: str | None = None


class PendingRows:
    """Rows recorded and not yet written: one list per column the simulation decides.

    ``step`` is an index into the writer's steps; ``len(steps) + k`` marks the arrival of a
    case entering at step ``k``. The simulator appends to each list from its hot loop (binding
    the ``append`` methods once), which costs far less than formatting a row there.
    """

    __slots__ = ("case", "step", "resource", "start", "duration", "wait", "rework")

    def __init__(self) -> None:
        self.case: list[int] = []
        self.step: list[int] = []
        self.resource: list[str] = []
        self.start = array("d")
        self.duration = array("d")
        self.wait = array("d")
        self.rework = bytearray()

    def __len__(self) -> int:
        return len(self.case)

    def clear(self) -> None:
        for column in (self.case, self.step, self.resource, self.start, self.duration, self.wait, self.rework):
            del column[:]


class EventLogWriter:
    """Writes event-log rows to an open text stream.

    :meth:`write` and :meth:`arrival` write one row at once. The simulator instead
    records rows in :attr:`pending` (steps indexed like ``steps``) and calls
    :meth:`flush`, which writes them a chunk at a time; the text is the same.
    ``replication`` and ``warmup`` (the number of warm-up cases, which come
    first) fill the ``replication`` and ``case:warmup`` columns; ``header=False``
    writes rows only, for a part of a longer log. ``start`` is the instant of simulation time 0
    (a journey with calendars); None: :data:`START_DATE`.
    """

    def __init__(self, stream: IO[str], persona: str, case_width: int = 6, *, replication: int = 0,
                 warmup: int = 0, header: bool = True, replication_width: int = 1,
                 steps: Sequence[LoggedStep] = (), start: datetime | None = None) -> None:
        self._stream = stream
        self._start = START_DATE if start is None else start
        self._writer = csv.writer(stream, lineterminator="\n")
        if header:
            self._writer.writerow(COLUMNS)
        self._persona = persona
        self._width = case_width
        self._replication = replication
        self._rep_width = replication_width
        self._warmup = warmup
        self._order = 0
        self.pending = PendingRows()
        self._case_name = f"case-{replication:0{replication_width}d}-{{:0{case_width}d}}".format
        # the text of each step's fixed columns, quoted as csv quotes them: its id, and from
        # org:group to lane; then the same for the arrival rows of cases entering at each step
        self._names = [_field(s.id) for s in steps] + [_field(ARRIVAL)] * len(steps)
        self._fixed = ([",".join(map(_field, (s.group, s.persona or persona, s.stage, s.lane))) for s in steps]
                       + [",".join(map(_field, (_CUSTOMER, persona, s.stage, _CUSTOMER))) for s in steps])
        self._n_steps = len(steps)
        self._resources: dict[str, str] = {}

    @property
    def rows(self) -> int:
        """Rows written or recorded so far (the header excluded)."""
        return self._order + len(self.pending)

    def write(self, case: int, step: str, group: str, resource: str, stage: str, lane: str,
              start: float, duration: float, wait: float, persona: str | None = None,
              rework: bool = False) -> None:
        """One row: ``case`` is the case number, times are simulation minutes.

        ``persona`` overrides the journey's persona, for an account's personas walking one deal;
        ``rework`` marks a step occurrence reached by a rework flow.
        """
        self.flush()
        self._writer.writerow((
            self._order, case_name(case, self._width, self._replication, self._rep_width), step,
            timestamp(start, self._start), timestamp(start + duration, self._start), resource, group,
            persona or self._persona, stage, lane, repr(wait), repr(duration), self._replication,
            "true" if case < self._warmup else "false", "true" if rework else "false"))
        self._order += 1

    def arrival(self, case: int, time: float, stage: str) -> None:
        """The ``case arrival`` row of case number ``case``, arriving at ``time`` into a step of ``stage``."""
        self.flush()
        at = timestamp(time, self._start)
        self._writer.writerow((
            self._order, case_name(case, self._width, self._replication, self._rep_width), ARRIVAL, at, at,
            _CUSTOMER, _CUSTOMER, self._persona, stage, _CUSTOMER, "0.0", "0.0", self._replication,
            "true" if case < self._warmup else "false", "false"))
        self._order += 1

    def record_arrival(self, case: int, time: float, step: int) -> None:
        """Record the ``case arrival`` row of a case entering at step index ``step``."""
        self.flush_if_full()
        rows = self.pending
        rows.case.append(case)
        rows.step.append(self._n_steps + step)
        rows.resource.append(_CUSTOMER)
        rows.start.append(time)
        rows.duration.append(0.0)
        rows.wait.append(0.0)
        rows.rework.append(False)

    def flush_if_full(self) -> None:
        """Write the pending rows once there are a chunk of them (memory stays flat)."""
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Write the pending rows, as :meth:`write` and :meth:`arrival` would have written them one by one."""
        rows = self.pending
        n = len(rows)
        if not n:
            return
        start = np.array(rows.start, dtype=float)
        times = _start_and_end(start, start + np.array(rows.duration, dtype=float), self._start)
        names = {c: self._case_name(c) for c in set(rows.case)}
        warm = {c: _FLAG[c < self._warmup] for c in names}
        resources = self._resources
        for r in set(rows.resource) - resources.keys():
            resources[r] = _field(r)
        text = "\n".join(map(",".join, zip(
            map(str, range(self._order, self._order + n)),
            map(names.__getitem__, rows.case),
            map(self._names.__getitem__, rows.step),
            times,
            map(resources.__getitem__, rows.resource),
            map(self._fixed.__getitem__, rows.step),
            map(repr, rows.wait), map(repr, rows.duration),
            [str(self._replication)] * n,
            map(warm.__getitem__, rows.case),
            map(_FLAG.__getitem__, rows.rework),
            strict=True)))
        self._stream.write(text)
        self._stream.write("\n")
        self._order += n
        rows.clear()


def write_header(stream: IO[str]) -> None:
    """The header row alone, for a log joined from :class:`LogPart` files."""
    csv.writer(stream, lineterminator="\n").writerow(COLUMNS)


def open_log(path: str) -> IO[str]:
    """Open ``path`` for streaming rows with a large buffer (1 MiB)."""
    return open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)


def case_width(total_cases: int) -> int:
    """Digits needed for the largest case number (at least 6)."""
    return max(6, len(str(max(total_cases - 1, 0))))
