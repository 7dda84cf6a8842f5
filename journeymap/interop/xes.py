"""The simulated event log as XES (IEEE 1849-2016), the format process-mining tools read.

The log is the one ``journeymap simulate --events log.csv`` writes (:mod:`journeymap.eventlog`), turned
into XES by :func:`csv_to_xes`:

* one ``<trace>`` per case, with the case's attributes: ``concept:name`` (the case id), ``persona``,
  ``replication`` and ``warmup`` (pm4py shows them as ``case:persona`` and so on);
* two ``<event>`` per CSV row, ``lifecycle:transition`` ``start`` at ``start_timestamp`` and ``complete``
  at ``time:timestamp``, each with ``concept:name`` (the step id, or ``case arrival``), ``org:resource``,
  ``org:group`` (the department, or ``customer``), ``concept:instance`` (the row's ``order``, which pairs a
  start with its completion), ``stage``, ``lane``, ``wait_minutes``, ``duration_minutes`` and ``rework``;
* the events of a trace in time order (a start before the completion of the same instance, and at equal
  times in the CSV's order), the traces in case-id order (replication, then case number).

The CSV is written in completion order, so a case's rows are scattered through it. They are gathered with
an on-disk SQLite table rather than in memory, so converting a log of millions of rows keeps memory flat;
the XES is streamed to a temporary file and renamed into place (:func:`journeymap.output.write_with`), so
an interrupted export never leaves a partial log.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import itertools
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from ..errors import InvalidArgument
from ..eventlog import COLUMNS

if TYPE_CHECKING:
    from ..model import Journey

__all__ = ["XES_VERSION", "csv_to_xes", "simulate_xes", "xes_events", "is_xes"]

#: The standard the files follow.
XES_VERSION = "1849-2016"

#: The XES standard extensions the log uses: (name, prefix, uri).
_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
)

#: Rows read from the CSV and inserted at once.
_BATCH = 10_000

#: The 0-based position of each CSV column.
_COL = {name: i for i, name in enumerate(COLUMNS)}


def is_xes(path: str | os.PathLike | None) -> bool:
    """Whether an output path asks for XES (its extension is ``.xes``)."""
    return path is not None and os.fspath(path).lower().endswith(".xes")


#: The characters XML 1.0 cannot hold: control characters (but tab and line breaks), lone surrogates, U+FFFE/F.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Attribute-value escapes, line breaks as references so that a reader does not normalise them to spaces.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;",
                          "\t": "&#9;"})


@functools.lru_cache(maxsize=1 << 14)
def _attr(value: str) -> str:
    """An XML attribute value in double quotes, escaped; characters XML cannot hold are dropped.

    Cached: activities, resources, groups, stages and lanes repeat on every event."""
    return '"' + _NOT_XML.sub("", value).translate(_ESCAPES) + '"'


def _item(kind: str, key: str, value: str) -> str:
    return f"<{kind} key={_attr(key)} value={_attr(value)}/>"


def _header(name: str) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<log xes.version="{XES_VERSION}" xes.features="" xmlns="http://www.xes-standard.org/">']
    lines += [f"  <extension name={_attr(n)} prefix={_attr(p)} uri={_attr(u)}/>" for n, p, u in _EXTENSIONS]
    lines += ['  <global scope="trace">', "    " + _item("string", "concept:name", "__INVALID__"), "  </global>",
              '  <global scope="event">', "    " + _item("string", "concept:name", "__INVALID__"),
              "    " + _item("date", "time:timestamp", "1970-01-01T00:00:00.000Z"),
              "    " + _item("string", "lifecycle:transition", "complete"), "  </global>",
              '  <classifier name="Activity" keys="concept:name"/>',
              '  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>',
              "  " + _item("string", "concept:name", name),
              "  " + _item("string", "lifecycle:model", "standard"),
              "  " + _item("string", "source", "journeymap simulation")]
    return "\n".join(lines) + "\n"


def _event(row: tuple[Any, ...], transition: str) -> str:
    c = _COL
    stamp = row[c["start_timestamp"]] if transition == "start" else row[c["time:timestamp"]]
    items = (("string", "concept:name", row[c["concept:name"]]), ("string", "lifecycle:transition", transition),
             ("date", "time:timestamp", stamp), ("string", "org:resource", row[c["org:resource"]]),
             ("string", "org:group", row[c["org:group"]]), ("string", "concept:instance", str(row[c["order"]])),
             ("string", "stage", row[c["stage"]]), ("string", "lane", row[c["lane"]]),
             ("float", "wait_minutes", row[c["wait_minutes"]]),
             ("float", "duration_minutes", row[c["duration_minutes"]]),
             ("boolean", "rework", row[c["rework"]]))
    return "    <event>\n" + "".join(f"      {_item(*i)}\n" for i in items) + "    </event>\n"


def _trace(case: str, rows: list[tuple[Any, ...]]) -> str:
    c = _COL
    first = rows[0]
    head = ("  <trace>\n" + f"    {_item('string', 'concept:name', case)}\n"
            + f"    {_item('string', 'persona', first[c['case:persona']])}\n"
            + f"    {_item('int', 'replication', str(first[c['replication']]))}\n"
            + f"    {_item('boolean', 'warmup', first[c['case:warmup']])}\n")
    # each row's start and completion, in time order; at equal times the start of an instance before its
    # completion, then the CSV's (completion) order
    events = sorted(itertools.chain.from_iterable(
        ((r[c["start_timestamp"]], r[c["order"]], 0, r), (r[c["time:timestamp"]], r[c["order"]], 1, r)) for r in rows))
    return head + "".join(_event(r, "complete" if k else "start") for _, _, k, r in events) + "  </trace>\n"


def _read_rows(csv_path: str) -> Iterator[list[str]]:
    """The rows of a journeymap event log, after checking its header."""
    with open(csv_path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(header) != COLUMNS:
            raise InvalidArgument(f"{csv_path} is not a journeymap event log (its first row must be the columns "
                                  f"{', '.join(COLUMNS)}, as simulate --events writes them)")
        for n, row in enumerate(reader, 2):
            if len(row) != len(COLUMNS):
                raise InvalidArgument(f"{csv_path}:{n}: {len(row)} fields, expected {len(COLUMNS)}")
            yield row


def _write_traces(out: IO[str], csv_path: str, folder: str) -> None:
    """Every case's trace, gathered through an SQLite table in ``folder`` (memory stays flat)."""
    db = sqlite3.connect(os.path.join(folder, "events.sqlite"))
    try:
        columns = ", ".join(f"c{i}" for i in range(len(COLUMNS)))
        db.execute(f"CREATE TABLE e ({columns})")
        insert = f"INSERT INTO e VALUES ({', '.join('?' * len(COLUMNS))})"
        rows = _read_rows(csv_path)
        while batch := list(itertools.islice(rows, _BATCH)):
            db.executemany(insert, batch)
        case, order = _COL["case:concept:name"], _COL["order"]
        cursor = db.execute(f"SELECT * FROM e ORDER BY c{case}, CAST(c{order} AS INTEGER)")
        for name, group in itertools.groupby(cursor, key=lambda r: r[case]):
            out.write(_trace(name, list(group)))
    finally:
        db.close()


def csv_to_xes(csv_path: str | os.PathLike, xes_path: str | os.PathLike, *, name: str = "") -> str:
    """Write the journeymap event log ``csv_path`` as XES at ``xes_path`` (atomically); returns the path.

    ``name`` is the log's ``concept:name`` (the journey's name). Raises
    :class:`~journeymap.errors.InvalidArgument` when the CSV is not a journeymap event log.
    """
    from ..output import write_with

    source = os.fspath(csv_path)

    def write(tmp: str) -> None:
        with tempfile.TemporaryDirectory(prefix=".journeymap-xes-", dir=os.path.dirname(tmp)) as folder, \
                open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
            out.write(_header(name or os.path.basename(source)))
            _write_traces(out, source, folder)
            out.write("</log>\n")

    return write_with(xes_path, write, suffix=".xes")


@contextlib.contextmanager
def xes_events(target: str | os.PathLike | None, *, name: str = "") -> Iterator[str | None]:
    """Where ``simulate(events=...)`` should stream its log for ``target``.

    For an XES target, a temporary CSV beside it, turned into ``target`` when the block ends without an
    error and removed in every case; otherwise ``target`` itself (a CSV, or None for no log).
    """
    if target is None or not is_xes(target):
        yield None if target is None else os.fspath(target)
        return
    with _through_csv(target, name) as path:
        yield path


@contextlib.contextmanager
def _through_csv(target: str | os.PathLike, name: str) -> Iterator[str]:
    """A temporary CSV path beside ``target``, written as XES at ``target`` when the block ends well."""
    folder = os.path.dirname(os.path.abspath(os.fspath(target)))
    os.makedirs(folder, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".journeymap-xes-", dir=folder)
    try:
        path = os.path.join(staging, "events.csv")
        yield path
        csv_to_xes(path, target, name=name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def simulate_xes(journey: Journey, path: str | os.PathLike, *, cases: int | None = None, replications: int = 1,
                 seed: int = 1, workers: int = 1, meeting: Any = None) -> str:
    """Simulate ``journey`` and write its event log as XES at ``path``; returns the path.

    The same log as ``journeymap simulate --events`` with the same arguments, one replication unless told.
    """
    from ..simulation import simulate

    with _through_csv(path, journey.name) as events:
        simulate(journey, cases=cases, replications=replications, seed=seed, workers=workers, events=events,
                 meeting=meeting)
    return os.fspath(path)
