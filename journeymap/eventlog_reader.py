"""Reading an event log back: a CSV (or an XES file through pm4py) into columns of NumPy arrays.

An event log is one row per step occurrence: which case, which activity,
when it started and completed, who did it and in which team. The defaults
are PM4Py's column names, which are also the ones :mod:`journeymap.eventlog`
writes, so ``journeymap simulate J --events log.csv`` reads back without
flags; another export (a CRM, a ticketing tool) maps its own names with
:class:`LogColumns`.

The file is read column-wise with pandas (only the columns used, the text
ones as categories), never as a list of Python dicts, so a log of a million
events takes a few seconds and a few hundred MB (see docs/data.md).
Everything after the reader works on :class:`EventLog`: integer codes per
event into small tuples of names, and times as float minutes since the
log's earliest instant.

Every problem found in the file is a :class:`~journeymap.problems.Problem`
at the file's line (the header is line 1, the first row line 2) and the
1-based field number of the column, all of them collected before
:class:`LogInvalid` is raised. A row's line assumes no quoted field spans
several lines (true of every export we know; documented in docs/data.md).

Timestamps are ISO 8601. Those with an offset or ``Z`` are converted to
UTC; naive ones are read in ``time_zone`` (an IANA name) when one is given,
else taken as UTC. A column that mixes naive and aware values is an error:
guessing which of them is local time would shift durations by hours.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .errors import InputInvalid
from .eventlog import ARRIVAL
from .problems import Problem, excerpt

__all__ = ["LogColumns", "EventLog", "LogInvalid", "read_log", "MAX_LOG_BYTES", "MAX_PROBLEMS_PER_RULE",
           "FLAGS"]

#: Largest log read (2 GB): a million events of journeymap's own log is about 200 MB.
MAX_LOG_BYTES = 2 * 1024 ** 3
#: Problems listed per rule before the rest are counted in one line (a broken export would give millions).
MAX_PROBLEMS_PER_RULE = 20
_NS_PER_MINUTE = 60 * 10 ** 9
#: Journeymap's own columns saying a case is a warm-up case, and which replication a row belongs to.
_WARMUP = "case:warmup"
_REPLICATION = "replication"

#: The command-line flag that maps each column, for messages.
FLAGS = {"case": "--case-column", "activity": "--activity-column", "end": "--timestamp-column",
         "start": "--start-column", "resource": "--resource-column", "group": "--group-column"}


#: What each column holds, for messages.
_ROLE_NAMES = {"case": "case", "activity": "activity", "end": "completion timestamp", "start": "start timestamp",
               "resource": "resource", "group": "group"}


@dataclass(frozen=True)
class LogColumns:
    """The names of the log's columns. ``start``, ``resource`` and ``group`` may be absent from a file
    (then durations cannot be told from waits, or owners must come from a mapping); giving a name other
    than the default makes the column required."""

    case: str = "case:concept:name"
    activity: str = "concept:name"
    end: str = "time:timestamp"
    start: str | None = "start_timestamp"
    resource: str | None = "org:resource"
    group: str | None = "org:group"


@dataclass(frozen=True, eq=False)
class EventLog:
    """A log as columns: one entry per event in each array, sorted by (case, end, start, line).

    Codes index the tuples of names (``-1``: no resource or group given). Times are float minutes since
    ``origin``, the earliest instant in the log (UTC). ``case arrival`` rows (journeymap's own logs) are
    not events: they set the case's ``arrival``; without them a case arrives at its first start.
    """

    file: str
    origin: datetime
    cases: tuple[str, ...]
    case: np.ndarray
    activities: tuple[str, ...]
    activity: np.ndarray
    start: np.ndarray
    end: np.ndarray
    resources: tuple[str, ...]
    resource: np.ndarray
    groups: tuple[str, ...]
    group: np.ndarray
    line: np.ndarray
    has_start: bool
    arrival: np.ndarray
    warmup: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: distinct values of journeymap's ``replication`` column (1 for any other log)
    replications: int = 1

    @property
    def n_events(self) -> int:
        return int(len(self.case))

    @property
    def n_cases(self) -> int:
        return len(self.cases)


class LogInvalid(InputInvalid):
    """An event log (or a mapping file read with it) has errors; ``problems`` holds every one found."""

    where = "in the event log"


class _Collector:
    """Problems, at most :data:`MAX_PROBLEMS_PER_RULE` per rule, and a count of the rest."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.dropped: dict[str, int] = {}

    def add(self, line: int, column: int, rule: str, message: str, hint: str = "") -> None:
        if sum(p.rule == rule for p in self.problems) >= MAX_PROBLEMS_PER_RULE:
            self.dropped[rule] = self.dropped.get(rule, 0) + 1
            return
        self.problems.append(Problem(self.file, int(line), int(column), "error", rule, message, hint))

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        for rule, n in self.dropped.items():
            first = next(p for p in self.problems if p.rule == rule)
            self.problems.append(Problem(self.file, first.line, first.column, "error", rule,
                                         f"... and {n} more row(s) with the same problem", ""))
        raise LogInvalid(self.problems)


def read_log(path: str, columns: LogColumns = LogColumns(), *, time_zone: str | None = None,
             min_cases: int = 2) -> EventLog:
    """The event log at ``path`` (``.xes`` / ``.xes.gz``: through pm4py; anything else: CSV).

    Raises :class:`LogInvalid` with every problem found: a missing column, an unparseable or
    time-zone-mixed timestamp, a completion before its start, a duplicate event, an empty log, fewer than
    ``min_cases`` cases (2: one case says nothing about routing or arrivals).
    """
    out = _Collector(path)
    tz = _zone(time_zone)
    try:
        st = os.stat(path)
    except OSError as exc:
        out.add(1, 1, "file", "file not found" if isinstance(exc, FileNotFoundError)
                else f"cannot read the file: {exc.strerror or exc}", "check the path of the event log")
        out.raise_if_any()
    if not stat.S_ISREG(st.st_mode):
        out.add(1, 1, "file", "not an ordinary file (a folder, a FIFO or a device)",
                "give the path of a CSV or XES file")
        out.raise_if_any()
    if st.st_size > MAX_LOG_BYTES:
        out.add(1, 1, "file", f"the file is larger than {MAX_LOG_BYTES // 1024 ** 3} GB, the limit for an event log",
                "filter the export to a period or a process first")
        out.raise_if_any()
    lower = path.lower()
    if lower.endswith((".xes", ".xes.gz")):
        frame, positions, lines = _read_xes(path, columns, out)
    else:
        frame, positions, lines = _read_csv(path, columns, out)
    return _build(path, frame, positions, lines, columns, tz, min_cases, out)


def _zone(time_zone: str | None) -> Any:
    if time_zone is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from .errors import InvalidArgument

    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidArgument(f"unknown time zone {excerpt(time_zone)}: give an IANA name such as Europe/London "
                              "or UTC") from exc


def _wanted(columns: LogColumns) -> dict[str, tuple[str, bool]]:
    """role -> (column name, required): the optional ones are required only when renamed."""
    default = LogColumns()
    wanted = {"case": (columns.case, True), "activity": (columns.activity, True), "end": (columns.end, True)}
    for role in ("start", "resource", "group"):
        name = getattr(columns, role)
        if name is not None:
            wanted[role] = (name, name != getattr(default, role))
    return wanted


def _header(path: str, out: _Collector) -> list[str]:
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline(1 << 20)
    except UnicodeDecodeError as exc:
        line, column = _first_undecodable(path)
        out.add(line, column, "file", f"cannot read the file: {exc.reason} (not UTF-8)", "export the log as UTF-8 CSV")
        out.raise_if_any()
    if not first.strip():
        out.add(1, 1, "empty-log", "the file is empty: no header and no events",
                "export the log with a header row (case, activity, timestamps)")
        out.raise_if_any()
    return next(csv.reader([first]))


def _first_undecodable(path: str) -> tuple[int, int]:
    """Line and byte column of the first bytes that are not UTF-8 (read line by line; only on that error)."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(iter(lambda: fh.readline(1 << 20), b""), start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, exc.start + 1
    return 1, 1


def _missing_columns(header: list[str], columns: LogColumns, out: _Collector) -> dict[str, str]:
    """role -> column name of every wanted column the header has; a problem at line 1 for each required one
    it lacks, naming the flag that maps it."""
    found = {}
    for role, (name, required) in _wanted(columns).items():
        if name in header:
            found[role] = name
        elif required:
            near = [h for h in header if h.lower() == name.lower() or h.lower().endswith(role)]
            hint = f"name the column with {FLAGS[role]}" + (f" (the file has {excerpt(near[0])})" if near else "")
            out.add(1, 1, "missing-column", f"no {_ROLE_NAMES[role]} column {excerpt(name)} in the header", hint)
    out.raise_if_any()
    return found


def _read_csv(path: str, columns: LogColumns, out: _Collector) -> tuple[dict[str, Any], dict[str, int], np.ndarray]:
    import pandas as pd

    header = _header(path, out)
    found = _missing_columns(header, columns, out)
    for role, name in (("warmup", _WARMUP), ("replication", _REPLICATION)):
        if name in header:
            found[role] = name
    positions = {role: header.index(name) + 1 for role, name in found.items()}
    dtypes = {name: ("category" if role in ("case", "activity", "resource", "group", "replication") else str)
              for role, name in found.items()}
    try:
        df = pd.read_csv(path, usecols=list(set(found.values())), dtype=dtypes, encoding="utf-8-sig",
                         keep_default_na=False, na_values=[""], engine="c", index_col=False)
    except UnicodeDecodeError as exc:
        line, column = _first_undecodable(path)
        out.add(line, column, "file", f"cannot read the file: {exc.reason} (not UTF-8)", "export the log as UTF-8")
    except pd.errors.ParserError as exc:
        import re

        m = re.search(r"line (\d+)|row (\d+)", str(exc))
        line = int(m.group(1)) if m and m.group(1) else int(m.group(2)) + 1 if m else 1
        out.add(line, 1, "csv", f"not a well-formed CSV row: {excerpt(str(exc))}",
                "every row needs as many fields as the header, and every opening quote a closing one")
    except (ValueError, OSError) as exc:
        out.add(1, 1, "csv", f"cannot read the file as CSV: {excerpt(str(exc))}", "export the log as CSV")
    out.raise_if_any()
    frame = {role: df[name] for role, name in found.items()}
    lines = np.arange(2, len(df) + 2, dtype=np.int64)
    return frame, positions, lines


def _read_xes(path: str, columns: LogColumns, out: _Collector) -> tuple[dict[str, Any], dict[str, int], np.ndarray]:
    try:
        import pm4py
    except ImportError:
        out.add(1, 1, "xes", "reading XES needs pm4py, which is not installed",
                "pip install pm4py, or export the log as CSV")
        out.raise_if_any()
    try:
        df = pm4py.read_xes(path, return_legacy_log_object=False)
    except Exception as exc:  # pm4py raises many types on a bad file; any of them is a bad file here
        out.add(1, 1, "xes", f"pm4py cannot read the file: {excerpt(str(exc))}", "check that it is an XES file")
        out.raise_if_any()
    header = [str(c) for c in df.columns]
    found = _missing_columns(header, columns, out)
    positions = {role: header.index(name) + 1 for role, name in found.items()}
    frame = {role: df[name] for role, name in found.items()}
    # an XES file has no rows: "line" is the event's number in the file (1-based)
    return frame, positions, np.arange(1, len(df) + 1, dtype=np.int64)


def _codes(values: Any) -> tuple[tuple[str, ...], np.ndarray]:
    """(names, int32 codes, -1 for missing) of a text column, read as a category."""
    import pandas as pd

    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    names = tuple(str(c) for c in cat.cat.categories)
    return names, cat.cat.codes.to_numpy(dtype=np.int32)


_MISSING = np.iinfo(np.int64).min
_AWARE = r"(?:[zZ]|[+-]\d\d:?\d\d)$"


def _times(values: Any, role: str, column: int, lines: np.ndarray, tz: Any, out: _Collector) -> np.ndarray:
    """int64 UTC nanoseconds of a timestamp column (NaT's value where missing or unparseable)."""
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype):  # from XES: already instants
        return values.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    text = values.astype(object).where(values.notna(), None).astype("string").str.strip()
    present = text.notna().to_numpy() & (text.fillna("").str.len() > 0).to_numpy()
    aware = text.str.contains(_AWARE, regex=True).fillna(False).to_numpy(dtype=bool) & present
    naive = present & ~aware
    result = np.full(len(text), _MISSING, dtype=np.int64)
    for mask, utc in ((aware, True), (naive, False)):
        if not mask.any():
            continue
        parsed = pd.to_datetime(text[mask], format="ISO8601", errors="coerce", utc=utc)
        if not utc:
            if tz is not None:
                parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            else:
                parsed = parsed.dt.tz_localize("UTC")
        result[mask] = parsed.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ok = result != _MISSING
    if (aware & ok).any() and (naive & ok).any():
        first_aware, first_naive = int(np.argmax(aware & ok)), int(np.argmax(naive & ok))
        minority = naive & ok if (naive & ok).sum() <= (aware & ok).sum() else aware & ok
        for i in np.flatnonzero(minority):
            out.add(lines[i], column, "mixed-time-zones",
                    f"{role} timestamp {excerpt(text.iloc[i])} is {'naive' if naive[i] else 'aware'} while line "
                    f"{lines[first_aware if naive[i] else first_naive]} is "
                    f"{'aware (has an offset)' if naive[i] else 'naive (no offset)'}",
                    "export every timestamp the same way: all with an offset (or Z), or all without")
    bad = present & ~ok
    for i in np.flatnonzero(bad):
        out.add(lines[i], column, "bad-timestamp", f"cannot read {excerpt(text.iloc[i])} as a {role} timestamp",
                "write ISO 8601, such as 2025-01-06T09:30:00Z or 2025-01-06 09:30:00+01:00"
                + ("" if tz is None else f" (a local time that does not exist or occurs twice in {tz} "
                   "needs an offset)"))
    missing = ~present
    for i in np.flatnonzero(missing):
        out.add(lines[i], column, "missing-value", f"no {role} timestamp", "every event needs its timestamps")
    return result


def _build(path: str, frame: dict[str, Any], positions: dict[str, int], lines: np.ndarray, columns: LogColumns,
           tz: Any, min_cases: int, out: _Collector) -> EventLog:
    n = len(lines)
    if n == 0:
        out.add(2, 1, "empty-log", "the log has a header but no events", "export at least two cases")
        out.raise_if_any()
    for role in ("case", "activity"):
        blank = frame[role].isna().to_numpy()
        for i in np.flatnonzero(blank):
            out.add(lines[i], positions[role], "missing-value", f"no {role} on this row",
                    f"every event needs a {role} ({FLAGS[role]} names the column)")
    end_ns = _times(frame["end"], "completion", positions["end"], lines, tz, out)
    has_start = "start" in frame
    start_ns = _times(frame["start"], "start", positions["start"], lines, tz, out) if has_start else end_ns
    out.raise_if_any()
    cases, case = _codes(frame["case"])
    activities, activity = _codes(frame["activity"])
    resources, resource = _codes(frame["resource"]) if "resource" in frame else ((), np.full(n, -1, np.int32))
    groups, group = _codes(frame["group"]) if "group" in frame else ((), np.full(n, -1, np.int32))

    backwards = end_ns < start_ns
    for i in np.flatnonzero(backwards):
        out.add(lines[i], positions["end"], "completed-before-start",
                f"the event completes {(start_ns[i] - end_ns[i]) / _NS_PER_MINUTE:.4g} min before it starts",
                "check the start and completion columns (swapped, or in different time zones?)")

    arrival_code = activities.index(ARRIVAL) if ARRIVAL in activities else -1
    is_arrival = activity == arrival_code
    origin_ns = int(min(start_ns.min(), end_ns.min()))
    start = (start_ns - origin_ns) / _NS_PER_MINUTE
    end = (end_ns - origin_ns) / _NS_PER_MINUTE

    order = np.lexsort((lines, start, end, case))
    ev = order[~is_arrival[order]]
    # duplicates: the same case, activity, start and completion on two rows
    c, a, s, e = case[ev], activity[ev], start[ev], end[ev]
    same = np.zeros(len(ev), dtype=bool)
    if len(ev) > 1:
        same[1:] = (c[1:] == c[:-1]) & (e[1:] == e[:-1]) & (s[1:] == s[:-1]) & (a[1:] == a[:-1])
        # a duplicate need not be adjacent when several events of the case share the same instants
        if same.any() or ((c[1:] == c[:-1]) & (e[1:] == e[:-1]) & (s[1:] == s[:-1])).any():
            same = _duplicates(c, a, s, e)
    for i in np.flatnonzero(same):
        first = _first_copy(c, a, s, e, int(i))
        out.add(lines[ev[i]], positions["activity"], "duplicate-event",
                f"the same event as line {lines[ev[first]]}: case {excerpt(cases[c[i]])}, activity "
                f"{excerpt(activities[a[i]])}, same start and completion",
                "remove the duplicate rows (an export that joined a table twice?)")
    event_cases = np.unique(case[ev]) if len(ev) else np.zeros(0, np.int32)
    if len(ev) == 0:
        out.add(2, positions["activity"], "empty-log", "the log has no events (only case arrivals)",
                "export the steps of at least two cases")
    elif len(event_cases) < min_cases:
        out.add(int(lines.min()), positions["case"], "single-case" if len(event_cases) == 1 else "too-few-cases",
                f"the log has {len(event_cases)} case(s) ({excerpt(cases[event_cases[0]])}); at least {min_cases} "
                "are needed to estimate routing and arrivals", "export a longer period, or check --case-column")
    out.raise_if_any()

    arrival = np.full(len(cases), np.inf)
    np.minimum.at(arrival, case[ev], start[ev])
    if arrival_code >= 0:
        given = np.full(len(cases), np.inf)
        np.minimum.at(given, case[is_arrival], end[is_arrival])
        arrival = np.where(np.isfinite(given), given, arrival)
    warmup = np.zeros(len(cases), dtype=bool)
    if "warmup" in frame:
        flag = frame["warmup"].astype("string").str.lower().eq("true").fillna(False).to_numpy(dtype=bool)
        warmup[case[flag]] = True
    # cases with only an arrival row and no event: dropped (they never reached a step)
    keep = np.isfinite(arrival)
    if not keep.all():
        remap = np.cumsum(keep) - 1
        cases = tuple(name for name, k in zip(cases, keep, strict=True) if k)
        arrival, warmup = arrival[keep], warmup[keep]
        case = remap[case].astype(np.int32)
    return EventLog(path, datetime.fromtimestamp(origin_ns / 1e9, UTC), cases, case[ev].astype(np.int32),
                    activities, activity[ev].astype(np.int32), start[ev], end[ev], resources, resource[ev],
                    groups, group[ev], lines[ev], has_start, arrival, warmup,
                    int(frame["replication"].nunique()) if "replication" in frame else 1)


def _duplicates(c: np.ndarray, a: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """True for every event that repeats an earlier one (same case, activity, start and completion)."""
    keys = np.rec.fromarrays([c, a, s, e])
    _, first = np.unique(keys, return_index=True)
    dup = np.ones(len(c), dtype=bool)
    dup[first] = False
    return dup


def _first_copy(c: np.ndarray, a: np.ndarray, s: np.ndarray, e: np.ndarray, i: int) -> int:
    """The index of the first event equal to event ``i`` (they are sorted by case, so look back only)."""
    j = i
    while j > 0 and c[j - 1] == c[i]:
        j -= 1
    for k in range(j, i):
        if a[k] == a[i] and s[k] == s[i] and e[k] == e[i]:
            return k
    return i
