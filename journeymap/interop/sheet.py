"""A workshop's sheet of steps in, a journey file out; and a journey back out as such a sheet.

Workshops end with sticky notes on a board (Miro, Mural) or rows in a spreadsheet: one note or row per
step, with its stage, who does it, how long it takes and where the case goes next.
:func:`~journeymap.interop.sheetfile.read_table` reads such a table from CSV or from ``.xlsx`` through the
optional ``openpyxl`` (``pip install 'journeymap[xlsx]'``); :func:`sheet_to_document` turns its rows into a
journey document (ids from the names, departments and stages in order of appearance, three-point and range
estimates as distributions, branches with percentages as choices); :func:`import_sheet` writes it as journey
text (:mod:`journeymap.interop.yamlout`) and checks it with the validator before anyone writes it.

Every problem is a :class:`~journeymap.problems.Problem` at the sheet's row and column, its message naming
the column as the spreadsheet shows it (``column G (Duration)``), so a facilitator fixes the sheet, not the
YAML: missing columns, merged cells and formulas (``.xlsx``), durations without units, a next step that does
not exist (with the closest name), duplicate names, a CSV that is not UTF-8 (at the byte's row and column),
an empty sheet. Problems the validator finds in the journey the sheet makes (a dead end, a loop never left)
are reported at the row of the step they are about. docs/interop.md documents the columns.

:func:`journey_to_rows` is the way back (one row per step, every ``next`` written out), so that a journey
imported, written, loaded and exported imports to the same journey.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..distributions import (
    DurationError,
    Triangular,
    Uniform,
    parse_timed_distribution,
    written_distribution,
    written_duration,
)
from ..model import CHANNELS, EMOTION_SCALE, Journey
from ..problems import Problem, excerpt, sort_problems
from ..tabular import column_letters, unique_id
from .sheetfile import MAX_PROBLEMS, MAX_UNPACKED_BYTES, SheetInvalid, SheetProblems, Table, XlsxUnavailable, read_table
from .yamlout import journey_text

__all__ = ["COLUMNS", "REQUIRED", "EXPORT_HEADER", "MAX_PROBLEMS", "MAX_UNPACKED_BYTES", "Table", "SheetInvalid",
           "XlsxUnavailable", "ImportResult", "read_table", "sheet_to_document", "import_sheet", "journey_to_rows",
           "rows_to_csv", "parse_duration_cell", "RULES"]

#: The columns of a sheet and the header names each is recognised by (written as people write them: the hints
#: show them), compared after lower-casing and dropping everything but letters and digits (``Next step``,
#: ``next_step`` and ``NEXT-STEP`` are one), and also without a trailing parenthesis (``Duration (estimate)``).
#: docs/interop.md lists them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "stage": ("stage", "phase", "journey stage", "section", "area", "area title", "frame", "group"),
    "name": ("name", "step", "step name", "activity", "task", "title", "content", "text", "sticky", "sticky note",
             "card", "what"),
    "id": ("id", "step id", "key"),
    "lane": ("lane", "swimlane", "layer", "blueprint lane"),
    "department": ("department", "owner", "team", "dept", "actor", "who", "responsible", "role", "done by"),
    "channel": ("channel", "medium", "via", "touchpoint channel"),
    "duration": ("duration", "duration estimate", "estimate", "time", "time estimate", "effort", "how long",
                 "lead time", "takes"),
    "next": ("next", "next step", "next steps", "goes to", "then", "successor", "successors", "to", "followed by"),
    "emotion": ("emotion", "feeling", "mood", "sentiment", "emotion score"),
    "value_adding": ("value adding", "value added", "value", "va"),
    "moment_of_truth": ("moment of truth", "mot", "moment"),
    "notes": ("notes", "note", "comment", "comments", "description", "details", "remarks"),
}
#: The columns a sheet must have; every other one is optional.
REQUIRED = ("name", "department", "duration")
#: The header :func:`journey_to_rows` writes (each is its column's first name in :data:`COLUMNS`, capitalised).
EXPORT_HEADER = ("Stage", "Name", "Id", "Department", "Lane", "Channel", "Duration", "Next", "Emotion",
                 "Value adding", "Moment of truth", "Notes")
_EXPORT_KEYS = ("stage", "name", "id", "department", "lane", "channel", "duration", "next", "emotion",
                "value_adding", "moment_of_truth", "notes")
#: Longest text accepted in a duration cell written in the journey's own notation (``{exponential: 6h}``).
_MAX_SPEC_CHARS = 2000

#: The rules of the problems this module reports (the validator's own rules come on top, at the step's row).
RULES: dict[str, str] = {
    "file": "the sheet cannot be read: missing, not an ordinary file, too large, not UTF-8, not an .xlsx",
    "csv-syntax": "a CSV record that cannot be read (an unclosed quote)",
    "empty-file": "the sheet has no header row, or no rows of steps",
    "too-large": "more rows than a journey may have steps",
    "missing-column": "a required column (name, department, duration) is not in the header",
    "duplicate-column": "two columns of the header mean the same",
    "merged-cells": "merged cells (.xlsx): each row needs its own value",
    "formula": "a formula instead of a value (.xlsx)",
    "missing-value": "an empty cell where a value is needed (a step's name, department, duration)",
    "invalid-duration": "a duration without a unit, or one that cannot be read",
    "invalid-value": "a lane, channel, emotion or yes/no that is not one of the allowed values",
    "out-of-range": "an emotion outside -3..+3, a percentage outside 0..100",
    "invalid-id": "an id that is not a valid journey id",
    "duplicate-name": "two steps with the same name (or the same id)",
    "unknown-step": "a next step that is not the name or id of a step",
    "invalid-next": "a next cell the format cannot follow: branches without percentages, a target twice, a bad fork",
    "probability-sum": "the percentages of a next cell do not sum to 100%",
    "no-end": "no step ends the journey",
}

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
_CUSTOMER = frozenset({"customer", "client", "thecustomer", "persona", "customers", "clients"})
_LANES = {"customer": "customer", "frontstage": "frontstage", "front": "frontstage", "onstage": "frontstage",
          "visible": "frontstage", "backstage": "backstage", "back": "backstage", "backoffice": "backstage",
          "invisible": "backstage", "support": "support", "supportprocess": "support",
          "supportprocesses": "support", "systems": "support"}
_CHANNELS = {**{c.replace("_", ""): c for c in CHANNELS},
             "facetoface": "in_person", "f2f": "in_person", "onsite": "in_person", "visit": "in_person",
             "workshop": "meeting", "videocall": "video", "zoom": "video", "teams": "video", "webex": "video",
             "googlemeet": "video", "call": "phone", "phonecall": "phone", "telephone": "phone", "email": "email",
             "mail": "mail", "post": "mail", "letter": "mail", "slack": "chat", "im": "chat", "whatsapp": "chat",
             "website": "web", "online": "web", "webform": "web", "mobileapp": "app", "doc": "document",
             "pdf": "document", "conference": "event", "webinar": "event"}
_EMOTION_WORDS = {"furious": -3, "frustrated": -2, "uneasy": -1, "neutral": 0, "satisfied": 1, "pleased": 2,
                  "delighted": 3}
_YES = frozenset({"yes", "y", "true", "x", "1", "✓", "✔", "ja", "oui"})
_NO = frozenset({"no", "n", "false", "0", "", "-"})
_END = frozenset({"end", "(end)", "[end]", "done", "finish", "stop"})
#: Unit words people write, as the journey format's units.
_UNITS = {"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
          "m": "min", "min": "min", "mins": "min", "minute": "min", "minutes": "min",
          "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
          "d": "d", "day": "d", "days": "d", "w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
          "wh": "wh", "bd": "bd"}
_AMOUNT = re.compile(r"^\s*(\d+(?:[.,]\d+)?|[.,]\d+)\s*([^\W\d_]+)?\s*$")
_PERCENT_AFTER = re.compile(r"^(?P<target>.*?)\s*\(?(?P<pct>\d+(?:[.,]\d+)?)\s*%\s*\)?$")
_PARALLEL = re.compile(r"^\s*(?:parallel|all of|in parallel)\s*:\s*(?P<branches>.*?)[\s;|]*"
                       r"\bjoin\s*:\s*(?P<join>.+?)\s*$", re.IGNORECASE | re.DOTALL)
_PERCENT_BEFORE = re.compile(r"^\(?\s*(?P<pct>\d+(?:[.,]\d+)?)\s*%\s*\)?[\s:=-]*(?P<target>.+)$")


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_sheet` makes: the journey text (checked), the journey it loads as, the validator's
    warnings at the sheet's rows, and the header columns that were not used."""

    text: str
    journey: Journey
    warnings: tuple[Problem, ...]
    ignored: tuple[str, ...]
    rows: int



# --------------------------------------------------------------------------- the header


def _key(header: str) -> str:
    """Lower case, letters and digits only: how headers, lanes, channels, stages and departments are matched."""
    return re.sub(r"[^0-9a-z]+", "", header.lower())


def _same(text: str) -> str:
    """The key under which two spellings of one stage or department (``Sales``, ``sales ``) are one."""
    return _key(text) or text.strip()


_SYNONYMS = {_key(name): column for column, names in COLUMNS.items() for name in names}


def _column_of(header: str) -> str | None:
    """The column a header names: ``Next step`` -> ``next``, ``Duration (estimate)`` -> ``duration``."""
    key = _key(header)
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    bare = _key(re.sub(r"\(.*\)\s*$", "", header))
    return _SYNONYMS.get(bare) if bare else None


def _columns(table: Table, problems: SheetProblems) -> tuple[dict[str, int], tuple[str, ...]]:
    """The 0-based index of each known column, and the headers not used."""
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, header in enumerate(table.header):
        column = _column_of(header)
        if column is None:
            if header:
                ignored.append(header)
        elif column in found:
            first = found[column]
            problems.add(table.header_row, i + 1, "duplicate-column",
                         f"column {column_letters(i + 1)} ({excerpt(header, 30)[1:-1]}) means the same as column "
                         f"{column_letters(first + 1)} ({excerpt(table.header[first], 30)[1:-1]}): both are the "
                         f"{column.replace('_', ' ')}", "keep one of them, or rename the other")
        else:
            found[column] = i
    for column in REQUIRED:
        if column in found:
            continue
        names = COLUMNS[column]
        keys = [_key(n) for n in names]
        close = [(i, h) for i, h in enumerate(table.header)
                 if h and _column_of(h) is None and difflib.get_close_matches(_key(h), keys, n=1, cutoff=0.75)]
        have = excerpt(", ".join(h for h in table.header if h))
        if close:
            i, h = close[0]
            problems.add(table.header_row, i + 1, "missing-column",
                         f"no {column} column; did you mean column {column_letters(i + 1)} ({excerpt(h, 30)[1:-1]})?",
                         f"name it {names[0].capitalize()} (or one of: {', '.join(names[:6])})")
        else:
            problems.add(table.header_row, 1, "missing-column",
                         f"no {column} column (the header has: {have})",
                         f"add a column {names[0].capitalize()} (also recognised: {', '.join(names[1:7])}); "
                         "the first row of the sheet names the columns")
    return found, tuple(ignored)


# --------------------------------------------------------------------------- cells


def _amount(text: str) -> tuple[str, str | None] | None:
    """``'1,5 hours'`` -> ``('1.5', 'h')``, ``'5'`` -> ``('5', None)``; None when it is not a number and a unit."""
    m = _AMOUNT.match(text)
    if not m:
        return None
    number = m.group(1).replace(",", ".")
    if number.startswith("."):
        number = "0" + number
    unit = m.group(2)
    if unit is None:
        return number, None
    canonical = _UNITS.get(unit.lower())
    if canonical is None:
        raise DurationError(f"unknown time unit {unit!r} in {excerpt(text)} (must be one of s, min, h, d, w, wh; "
                            "months and years are too vague: write weeks or days)")
    return number, canonical


def _no_unit(text: str) -> DurationError:
    return DurationError(f"duration {excerpt(text.strip())} has no unit: {text.strip()} what? write it with one, e.g. "
                         f"{text.strip()}min, {text.strip()}h or {text.strip()}d")


def parse_duration_cell(text: str, *, bases: tuple[str, ...] = ("elapsed", "working")) -> str | dict:
    """A duration cell as the journey format's ``duration`` value; raises DurationError saying how to write it.

    ``2h``, ``2 hours``, ``1,5h``: fixed. ``1h / 2h / 5h`` (or ``1/2/5h``): the three-point estimate, shortest,
    most likely, longest (triangular). ``1h-5h``, ``1-5h``, ``1h to 5h``: anything between (uniform). A number
    without a unit anywhere is refused. ``{exponential: 6h}``: any distribution, in the journey's notation.

    >>> parse_duration_cell("1/2/5h"), parse_duration_cell("30 minutes"), parse_duration_cell("1h - 3h")
    ({'triangular': ['1h', '2h', '5h']}, '30min', {'uniform': ['1h', '3h']})
    """
    text = text.strip()
    spec = _notation(text) if text.startswith("{") else _written(text)
    parse_timed_distribution(spec, bases=bases)  # type: ignore[arg-type]  # its message says what is wrong
    return spec


def _written(text: str) -> str | dict:
    """``2h``, ``1/2/5h``, ``1h-5h`` as the format's fixed, triangular or uniform duration (not yet checked)."""
    parts = [p.strip() for p in re.split(r"\s*/\s*", text)]
    kind = "triangular" if len(parts) == 3 else None
    if kind is None and len(parts) == 1:
        parts = [p.strip() for p in re.split(r"\s*(?:[-–—]|\.\.|\bto\b)\s*", text, flags=re.IGNORECASE)]
        kind = "uniform" if len(parts) == 2 else "fixed" if len(parts) == 1 else None
    if kind is None or not all(parts):
        raise DurationError(f"cannot read the duration {excerpt(text)}: write 2h, a three-point estimate "
                            "1h / 2h / 5h, or a range 1h-5h")
    amounts = []
    for p in parts:
        amount = _amount(p)
        if amount is None:
            raise DurationError(f"cannot read the duration {excerpt(p)}: write a number then a unit, e.g. 30min, "
                                "2h, 3d")
        amounts.append(amount)
    units = {u for _, u in amounts if u is not None}
    if not units:
        raise _no_unit(text)
    if len(units) > 1 and any(u is None for _, u in amounts):
        raise DurationError(f"give every number of {excerpt(text)} its unit, e.g. 1h / 2h / 1d")
    last = amounts[-1][1]
    values = [f"{n}{u or last}" for n, u in amounts]
    return values[0] if kind == "fixed" else {kind: values}


def _notation(text: str) -> dict:
    if len(text) > _MAX_SPEC_CHARS:
        raise DurationError(f"a distribution of more than {_MAX_SPEC_CHARS} characters is not a workshop estimate")
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError:
        raise DurationError(f"cannot read the distribution {excerpt(text)}: write it as in a journey file, e.g. "
                            "{exponential: 6h}") from None
    if not isinstance(spec, dict):
        raise DurationError(f"cannot read the distribution {excerpt(text)}: write it as in a journey file, e.g. "
                            "{exponential: 6h}")
    return spec


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class _Branch:
    target: str
    percent: float | None
    delay: Any = None


@dataclass
class _Step:
    """One row, read: the values the step gets (None: the cell was empty or had a problem, already reported)."""

    row: int
    cells: tuple[str, ...]
    name: str = ""
    id: str = ""
    stage: str | None = None
    owner: str | None = None
    duration: Any = None
    values: dict[str, Any] = field(default_factory=dict)
    next_text: str = ""


class _Rows:
    """Reads the cells of each row into a step; every problem at its row and column."""

    def __init__(self, table: Table, cols: dict[str, int], problems: SheetProblems, persona: str) -> None:
        self.table = table
        self.cols = cols
        self.problems = problems
        self.customer = _CUSTOMER | {_key(persona)}

    def cell(self, cells: tuple[str, ...], column: str) -> str:
        i = self.cols.get(column)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def bad(self, row: int, column: str, rule: str, message: str, hint: str = "") -> None:
        i = self.cols[column]
        self.problems.add(row, i + 1, rule, f"column {column_letters(i + 1)} "
                          f"({excerpt(self.table.header[i], 30)[1:-1]}): {message}", hint)

    def read(self, row: int, cells: tuple[str, ...]) -> _Step:
        step = _Step(row, cells, name=re.sub(r"\s+", " ", self.cell(cells, "name")))
        if not step.name:
            self.bad(row, "name", "missing-value", "the step has no name",
                     "every row is one step: give it a name (what happens), or delete the row")
        step.id = self.cell(cells, "id")
        if step.id and not _ID.match(step.id):
            self.bad(row, "id", "invalid-id", f"{excerpt(step.id)} is not a valid id",
                     "ids start with a letter, then letters, digits, '_', '-' or '.'; or leave the cell empty "
                     "and the id is made from the name")
            step.id = ""
        step.stage = self.cell(cells, "stage") or None
        owner = self.cell(cells, "department")
        if not owner:
            self.bad(row, "department", "missing-value", "the step has no department",
                     "write the team that does it, or 'customer' for the customer's own steps")
        step.owner = owner or None
        self._duration(step)
        self._lane_and_channel(step)
        self._emotion(step)
        for flag in ("value_adding", "moment_of_truth"):
            self._flag(step, flag)
        notes = self.cell(cells, "notes")
        if notes:
            step.values["notes"] = notes
        step.next_text = self.cell(cells, "next")
        return step

    def _duration(self, step: _Step) -> None:
        text = self.cell(step.cells, "duration")
        if not text:
            self.bad(step.row, "duration", "missing-value", "the step has no duration",
                     "write how long the work takes, with a unit: 30min, 2h, 1d; or a three-point estimate "
                     "1h / 2h / 5h")
            return
        try:
            step.duration = parse_duration_cell(text)
        except DurationError as exc:
            self.bad(step.row, "duration", "invalid-duration", str(exc),
                     "units: s, min, h, d, w (wh for working hours); forms: 2h, 1h / 2h / 5h, 1h-5h")

    def _lane_and_channel(self, step: _Step) -> None:
        lane = self.cell(step.cells, "lane")
        if lane:
            value = _LANES.get(_key(lane))
            if value is None:
                self.bad(step.row, "lane", "invalid-value",
                         f"{excerpt(lane)} is not a lane{_did_you_mean(lane.lower(), list(_LANES))}",
                         "a lane is customer, frontstage, backstage or support (or leave it empty: customer steps "
                         "go to the customer lane, steps with a channel to frontstage, the others to backstage)")
            else:
                step.values["lane"] = value
        channel = self.cell(step.cells, "channel")
        if channel:
            value = _CHANNELS.get(_key(channel))
            if value is None:
                self.bad(step.row, "channel", "invalid-value",
                         f"{excerpt(channel)} is not a channel{_did_you_mean(_key(channel), list(_CHANNELS))}",
                         "a channel is one of " + ", ".join(CHANNELS) + " (or empty for a backstage step)")
            else:
                step.values["channel"] = value

    def _emotion(self, step: _Step) -> None:
        text = self.cell(step.cells, "emotion")
        if not text:
            return
        if text.lower() in _EMOTION_WORDS:
            step.values["emotion"] = _EMOTION_WORDS[text.lower()]
            return
        try:
            value = float(text.replace("−", "-").replace(",", "."))
        except ValueError:
            self.bad(step.row, "emotion", "invalid-value", f"emotion {excerpt(text)} is not a number",
                     "an emotion is a number from -3 (furious) to +3 (delighted), or one of the words "
                     + ", ".join(_EMOTION_WORDS))
            return
        if not min(EMOTION_SCALE) <= value <= max(EMOTION_SCALE):
            self.bad(step.row, "emotion", "out-of-range", f"emotion {text} is outside the scale -3..+3",
                     "-3 furious, -2 frustrated, -1 uneasy, 0 neutral, +1 satisfied, +2 pleased, +3 delighted")
            return
        step.values["emotion"] = int(value) if value.is_integer() else value

    def _flag(self, step: _Step, column: str) -> None:
        text = self.cell(step.cells, column)
        if text.lower() in _YES:
            step.values[column] = True
        elif text.lower() not in _NO:
            self.bad(step.row, column, "invalid-value", f"{excerpt(text)} is neither yes nor no",
                     "write yes (or x, true) for the steps it applies to; leave the others empty")


# --------------------------------------------------------------------------- the journey document


def sheet_to_document(table: Table, *, name: str | None = None, persona: str | None = None
                      ) -> tuple[dict[str, Any], dict[str, int], tuple[str, ...]]:
    """The journey document of a sheet, the row of each step id, and the header columns not used.

    Raises :class:`SheetInvalid` with every problem found. ``name`` (the journey's) defaults to the file's
    name (``workshop-board.csv`` -> ``Workshop board``), ``persona`` to ``Customer``.
    """
    problems = SheetProblems(table.file)
    cols, ignored = _columns(table, problems)
    problems.check()
    stem = os.path.splitext(os.path.basename(table.file))[0]
    journey_name = (name or re.sub(r"[-_\s]+", " ", stem).strip().capitalize() or "Imported journey").strip()
    persona_name = (persona or "Customer").strip()
    reader = _Rows(table, cols, problems, persona_name)
    steps = [reader.read(row, cells) for row, cells in table.rows]
    if not steps:
        problems.add(table.header_row, 1, "empty-file", "the sheet has a header but no rows of steps",
                     "add one row per step below the header")
        problems.check()
    # every check runs even when an earlier one found problems: a facilitator fixes the sheet in one pass
    stages = _stages(steps, reader)
    departments = _departments(steps, reader)
    _ids(steps, reader)
    nexts, ends = _flows(steps, reader)
    problems.check()
    doc: dict[str, Any] = {
        "journey": {"id": unique_id(journey_name, set(), "journey"), "name": journey_name,
                    "description": f"Imported from {os.path.basename(table.file)} by journeymap import."},
        "persona": {"id": unique_id(persona_name, set(), "persona"), "name": persona_name},
        "stages": [{"id": i, "name": n} for i, n in stages.values()],
    }
    if departments:
        doc["departments"] = [{"id": i, "name": n} for i, n in departments.values()]
    doc["steps"] = []
    for s in steps:
        entry: dict[str, Any] = {"id": s.id, "name": s.name, "stage": stages[_same(s.stage or "")][0],
                                 "owner": "customer" if _key(s.owner or "") in reader.customer
                                 else departments[_same(s.owner or "")][0],
                                 "duration": s.duration, **s.values}
        if s.id in nexts:
            entry["next"] = nexts[s.id]
        doc["steps"].append(entry)
    if ends != [steps[-1].id]:
        doc["end"] = ends
    return doc, {s.id: s.row for s in steps}, ignored


def _stages(steps: list[_Step], reader: _Rows) -> dict[str, tuple[str, str]]:
    """Stages in order of appearance; an empty stage cell is the stage of the row above."""
    stages: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    current: str | None = None
    for s in steps:
        if s.stage is None:
            if "stage" not in reader.cols:
                s.stage = "Journey"
            elif current is None:
                reader.bad(s.row, "stage", "missing-value", "the first step has no stage",
                           "write the stage of the first row; an empty stage cell below means 'the stage above'")
                continue
            else:
                s.stage = current
        current = s.stage
        key = _same(s.stage)
        if key not in stages:
            stages[key] = (unique_id(s.stage, taken, "stage"), s.stage)
    return stages


def _departments(steps: list[_Step], reader: _Rows) -> dict[str, tuple[str, str]]:
    """Departments in order of appearance (``Sales`` and ``sales`` are one); the customer is none of them."""
    departments: dict[str, tuple[str, str]] = {}
    taken = {"customer"}
    for s in steps:
        if s.owner is None:
            continue
        key = _same(s.owner)
        if key not in reader.customer and key not in departments:
            departments[key] = (unique_id(s.owner, taken, "team"), s.owner)
    return departments


def _ids(steps: list[_Step], reader: _Rows) -> None:
    """Each step's id (given, or made from its name); duplicate names and ids are problems."""
    taken: set[str] = set()
    first_id: dict[str, int] = {}
    for s in steps:
        if s.id:
            if s.id in first_id:
                reader.bad(s.row, "id", "duplicate-name", f"id {s.id!r} is used twice (first on row {first_id[s.id]})",
                           "give each step its own id, or leave the id empty to make it from the name")
            first_id.setdefault(s.id, s.row)
            taken.add(s.id)
    first_name: dict[str, _Step] = {}
    for s in steps:
        key = s.name.casefold()
        if key and key in first_name and not (s.id and first_name[key].id):
            reader.bad(s.row, "name", "duplicate-name",
                       f"two steps are called {excerpt(s.name)} (first on row {first_name[key].row})",
                       "name each step for what happens there (e.g. 'Review contract (second pass)'); a next step "
                       "names its target, so names must be unique — or give both rows an id")
        first_name.setdefault(key, s)
        if not s.id and s.name:
            s.id = unique_id(s.name, taken)


#: Keys of :func:`_lookup` for an exact id and an exact name (NUL cannot be in a step's text: it is refused).
_EXACT_ID, _EXACT_NAME = "\0id:", "\0name:"


def _lookup(steps: list[_Step]) -> dict[str, list[str]]:
    """Every way a next cell may name a step, most exact first: its id as written, its name as written (spacing
    aside), then either in any case. Steps ``A`` and ``:A`` get the ids ``a_2`` and ``a``: ``a`` names the
    second by its id and ``A`` the first by its name, although both are ``a`` in any case."""
    names: dict[str, list[str]] = {}

    def add(key: str, sid: str) -> None:
        if sid not in names.setdefault(key, []):
            names[key].append(sid)

    for s in steps:
        name = re.sub(r"\s+", " ", s.name).strip()
        add(_EXACT_ID + s.id, s.id)
        if name:
            add(_EXACT_NAME + name, s.id)
        for key in {s.id.casefold(), name.casefold()} - {""}:
            add(key, s.id)
    return names


def _named(target: str, names: dict[str, list[str]]) -> list[str]:
    """The ids a target names, most exact match first (:func:`_lookup`): as written, then without a separator
    before its percentage (``Review: 70%``)."""
    for text in (target, target.rstrip(" :=-")):
        norm = re.sub(r"\s+", " ", text).strip()
        for key in (_EXACT_ID + text, _EXACT_NAME + norm, norm.casefold()):
            ids = names.get(key)
            if ids:
                return ids
    return []


def _split_next(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[;\n|]", text) if p.strip()]
    if len(parts) == 1 and text.count("%") > 1:
        parts = [p.strip() for p in text.split(",") if p.strip()]
    return parts


def _branch(part: str) -> _Branch:
    """``Review 70% after 2d`` -> target ``Review``, 70 percent, delay ``2d`` (unread when not a duration)."""
    delay = None
    m = re.match(r"^(.*\S)\s+after\s+(\S.*)$", part, flags=re.IGNORECASE)
    if m:
        try:
            delay = parse_duration_cell(m.group(2), bases=("elapsed", "working", "business"))
            part = m.group(1)
        except DurationError:
            delay = None
    percent = None
    for pattern in (_PERCENT_AFTER, _PERCENT_BEFORE):
        pm = pattern.match(part)
        if pm and pm.group("target").strip():
            percent = float(pm.group("pct").replace(",", "."))
            part = pm.group("target").strip()
            break
    return _Branch(part.strip(), percent, delay)


def _flows(steps: list[_Step], reader: _Rows) -> tuple[dict[str, Any], list[str]]:
    """Each step's ``next`` (only where it is not simply the next row) and the end steps."""
    names = _lookup(steps)
    known = [s.name for s in steps] + [s.id for s in steps]
    nexts: dict[str, Any] = {}
    ends: list[str] = []
    for i, s in enumerate(steps):
        following = steps[i + 1].id if i + 1 < len(steps) else None
        if not s.next_text:
            if following is None:
                ends.append(s.id)
            continue
        value = _next_of(s, following, names, known, reader)
        if value is _ENDS_HERE:
            ends.append(s.id)
        elif value is not None:
            nexts[s.id] = value
    if not ends and not reader.problems.items:
        last = steps[-1]
        reader.problems.add(last.row, reader.cols["next"] + 1 if "next" in reader.cols else 1, "no-end",
                            "no step ends the journey: every row's next step leads somewhere",
                            "write end as the next step of the step(s) where a case is finished, or leave the last "
                            "row's next step empty")
    return nexts, ends


#: What :func:`_next_of` says for a next cell that ends the journey (not a string: a step may be called "end").
_ENDS_HERE = object()


def _next_of(s: _Step, following: str | None, names: dict[str, list[str]], known: list[str],
             reader: _Rows) -> Any:
    """The ``next`` of a step whose next cell is not empty: :data:`_ENDS_HERE` (the word end, unless a step has
    that name), a fork, a choice, one flow; None when it is the following row (the format's default) or has a
    problem (reported)."""
    fork = _PARALLEL.match(s.next_text)
    if fork:
        return _parallel(s, fork, names, known, reader)
    if re.match(r"^\s*(?:parallel|all of|in parallel)\s*:", s.next_text, flags=re.IGNORECASE):
        reader.bad(s.row, "next", "invalid-next", "a parallel block without its join step",
                   "write parallel: A; B; join: C (C waits for A and B)")
        return None
    branches = [_branch(p) for p in _split_next(s.next_text)]
    if not branches:
        reader.bad(s.row, "next", "invalid-next", f"{excerpt(s.next_text)} names no step",
                   "name the next step, or leave the cell empty for the next row")
        return None
    word = branches[0].target.casefold()
    if len(branches) == 1 and word in _END and word not in names:
        if branches[0].percent is not None or branches[0].delay is not None:
            reader.bad(s.row, "next", "invalid-next", "'end' takes no percentage or delay", "write just end")
        return _ENDS_HERE
    flows = _resolve(s, branches, names, known, reader)
    if flows is None or len(flows) > 1 or "probability" in flows[0]:
        return flows
    only = flows[0]
    if "delay" in only:
        return only
    return None if only["to"] == following else only["to"]


def _target(s: _Step, target: str, names: dict[str, list[str]], known: list[str], reader: _Rows) -> str | None:
    """The id of the step ``target`` names, or None when it names none or several (reported)."""
    ids = _named(target, names)
    if len(ids) == 1:
        return ids[0]
    if ids:
        reader.bad(s.row, "next", "unknown-step", f"{excerpt(target)} names {len(ids)} steps: " + ", ".join(ids[:5]),
                   "name the step by its id")
    elif target.casefold() in _END:
        reader.bad(s.row, "next", "invalid-next", "'end' cannot be one of several branches",
                   "add a step for that outcome (e.g. 'Request declined') whose next step is end")
    else:
        close = difflib.get_close_matches(target, known, n=1, cutoff=0.6) or \
            difflib.get_close_matches(target.casefold(), [k.casefold() for k in known], n=1, cutoff=0.6)
        guess = f" — did you mean {close[0]!r}?" if close else ""
        reader.bad(s.row, "next", "unknown-step", f"there is no step {excerpt(target)}{guess}",
                   "name a step of the sheet (its name or id), several as 'Review 70%; Reject 30%', "
                   "end where a case is finished, or leave it empty for the next row")
    return None


def _parallel(s: _Step, match: re.Match[str], names: dict[str, list[str]], known: list[str],
              reader: _Rows) -> dict[str, Any] | None:
    """``parallel: A; B after 1d; join: C`` as the format's fork, or None when it has a problem (reported)."""
    branches = [_branch(p) for p in _split_next(match.group("branches"))]
    if len(branches) < 2:
        reader.bad(s.row, "next", "invalid-next", "a parallel block needs at least two branches",
                   "write parallel: A; B; join: C (A and B run at the same time, C waits for both)")
        return None
    if any(b.percent is not None for b in branches):
        reader.bad(s.row, "next", "invalid-next", "parallel branches take no percentage: every case takes all of them",
                   "write a choice as 'A 70%; B 30%', a fork as 'parallel: A; B; join: C'")
        return None
    targets = [_target(s, b.target, names, known, reader) for b in branches]
    join = _target(s, match.group("join").strip(), names, known, reader)
    if join is None or any(t is None for t in targets):
        return None
    if len(set(targets)) < len(targets):
        reader.bad(s.row, "next", "invalid-next", "a parallel block names a branch twice", "list each branch once")
        return None
    flows = [t if b.delay is None else {"to": t, "delay": b.delay} for t, b in zip(targets, branches, strict=True)]
    return {"parallel": flows, "join": join}


def _resolve(s: _Step, branches: list[_Branch], names: dict[str, list[str]], known: list[str],
             reader: _Rows) -> list[dict[str, Any]] | None:
    """The flows of one next cell, or None when it has a problem (reported)."""
    flows: list[dict[str, Any]] = []
    ok = True
    for b in branches:
        ids = _target(s, b.target, names, known, reader)
        if ids is None:
            ok = False
            continue
        if b.percent is not None and not 0 < b.percent <= 100:
            ok = False
            reader.bad(s.row, "next", "out-of-range", f"{b.percent:g}% is outside 0..100%",
                       "a branch is taken by between 0% and 100% of the cases")
            continue
        flow: dict[str, Any] = {"to": ids}
        if len(branches) > 1 or (b.percent is not None and b.percent != 100):
            flow["probability"] = (b.percent or 0) / 100
        if b.delay is not None:
            flow["delay"] = b.delay
        if any(f["to"] == ids for f in flows):
            ok = False
            reader.bad(s.row, "next", "invalid-next", f"step {ids!r} is named twice",
                       "list each next step once; add up its percentages")
        flows.append(flow)
    if not ok:
        return None
    if len(branches) > 1 and any(b.percent is None for b in branches):
        reader.bad(s.row, "next", "invalid-next", f"{len(branches)} next steps, but not each with a percentage",
                   "give every branch the share of cases that take it: 'Review 70%; Reject 30%'")
        return None
    total = sum(b.percent or 0 for b in branches)
    if flows and "probability" in flows[0] and abs(total - 100) > 1e-6:
        reader.bad(s.row, "next", "probability-sum", f"the percentages sum to {total:g}%, not 100%",
                   "adjust them so that they add up to exactly 100%")
        return None
    return flows


# --------------------------------------------------------------------------- the whole import


def import_sheet(path: str, output: str = "<journey>", *, name: str | None = None, persona: str | None = None,
                 sheet: str | None = None) -> ImportResult:
    """Read the sheet at ``path``, build its journey and check the text as it would be read at ``output``.

    Raises :class:`SheetInvalid` with every problem, at the sheet's rows (the validator's too); writes nothing.
    """
    from ..validation import check_text

    table = read_table(path, sheet=sheet)
    doc, rows, ignored = sheet_to_document(table, name=name, persona=persona)
    cells = dict(table.rows)
    comments = {sid: _row_comment(row, cells[row]) for sid, row in rows.items()}
    base = os.path.basename(path)
    header = [f"Imported by `journeymap import` from {base}: {len(rows)} steps, one per row.",
              "The comment above each step is its row. Edit this file, or the sheet and import again "
              "(docs/interop.md)."]
    written = journey_text(doc, header=header, step_comments=comments)
    checked = check_text(written.text, output, lint=True)
    located = sort_problems(_at_row(p, written.text, written.step_lines, rows, table, doc) for p in checked.problems)
    errors = [p for p in located if p.is_error]
    if errors or checked.journey is None:
        raise SheetInvalid(errors or located)
    return ImportResult(written.text, checked.journey, tuple(p for p in located if not p.is_error), ignored,
                        len(rows))


def _row_comment(row: int, cells: tuple[str, ...]) -> str:
    """The comment above a step: its row number and its non-empty cells, each cut to 40 characters."""
    shown = [re.sub(r"\s+", " ", c.strip())[:40] for c in cells if c.strip()]
    return f"row {row}: " + " | ".join(shown)


#: The column of the sheet a key of a step's block comes from.
_KEY_COLUMN = {"id": "id", "name": "name", "stage": "stage", "owner": "department", "duration": "duration",
               "lane": "lane", "channel": "channel", "emotion": "emotion", "value_adding": "value_adding",
               "moment_of_truth": "moment_of_truth", "notes": "notes", "next": "next", "to": "next",
               "probability": "next", "delay": "next"}


def _at_row(p: Problem, text: str, step_lines: dict[str, int], rows: dict[str, int], table: Table,
            doc: dict[str, Any]) -> Problem:
    """A validator's problem in the journey text, moved to the sheet: the row of the step it is in and the column
    of the key it points at (the name column when it points at the step as a whole); a problem about a stage or
    a department goes to the first row that names it; any other to the header row."""
    lines = text.splitlines()
    source = lines[p.line - 1] if 0 < p.line <= len(lines) else ""
    inside = [sid for sid, line in sorted(step_lines.items(), key=lambda item: item[1]) if line <= p.line]
    names = {_column_of(h): i for i, h in enumerate(table.header) if _column_of(h)}
    if inside and source.startswith(" "):
        key = re.match(r"^\s*-?\s*\{?\s*([a-z_]+)\s*:", source)
        column = "next" if source.startswith("      - {") else _KEY_COLUMN.get(key.group(1), "name") if key else "name"
        return _moved(p, table, rows[inside[-1]], names.get(column, names.get("name", 0)))
    declared = re.match(r"^\s*- \{id: ([^,}]+)", source)
    if declared:  # a stage or a department: the first row that names it
        ident = declared.group(1).strip().strip('"')
        for step in doc["steps"]:
            for field_name, column in (("owner", "department"), ("stage", "stage")):
                if step.get(field_name) == ident and column in names:
                    return _moved(p, table, rows[step["id"]], names[column])
    return Problem(table.file, table.header_row, 1, p.severity, p.rule,
                   f"{p.message} (in the journey this sheet makes)", p.hint)


def _moved(p: Problem, table: Table, row: int, index: int) -> Problem:
    return Problem(table.file, row, index + 1, p.severity, p.rule,
                   f"column {column_letters(index + 1)} ({excerpt(table.header[index], 30)[1:-1]}): {p.message}",
                   p.hint)


# --------------------------------------------------------------------------- the way back


def _distribution_text(d: Any, basis: str = "elapsed") -> str:
    """A step's duration as a cell :func:`parse_duration_cell` reads back to the same distribution: a workshop's
    own forms for a three-point estimate (``1h / 2h / 5h``) and a range (``1h - 3h``), else the journey file's."""
    t = lambda m: written_duration(m, basis)  # noqa: E731 - a short local spelling
    if isinstance(d, Triangular):
        return f"{t(d.low)} / {t(d.mode)} / {t(d.high)}"
    if isinstance(d, Uniform):
        return f"{t(d.low)} - {t(d.high)}"
    value = written_distribution(d, basis)
    if isinstance(value, str):
        return value
    from .yamlout import flow

    return flow(value)


def journey_to_rows(journey: Journey) -> list[dict[str, str]]:
    """One row per step (the start step first), keyed by :data:`EXPORT_HEADER`, every next step written out by
    id (a fork as ``parallel: A; B; join: C``): the sheet :func:`import_sheet` reads back as the same journey."""
    stage_names = {s.id: s.name for s in journey.stages}
    dept_names = {d.id: d.name for d in journey.departments}
    steps = sorted(journey.steps, key=lambda s: s.id != journey.start)
    rows = []
    for s in steps:
        out = [f for f in journey.flows if f.source == s.id]
        if s.id in journey.ends:
            next_text = "end"
        else:
            parts = []
            for f in out:
                part = f.target
                if len(out) > 1 and s.join is None:
                    part += f" {f.probability * 100:.12g}%"
                if f.delay is not None:
                    part += f" after {_distribution_text(f.delay, f.delay_basis)}"
                parts.append(part)
            next_text = "; ".join(parts) if s.join is None else f"parallel: {'; '.join(parts)}; join: {s.join}"
        values = {
            "stage": stage_names.get(s.stage, s.stage), "name": s.name, "id": s.id,
            "department": "customer" if s.owner == "customer" else dept_names.get(s.owner, s.owner),
            "lane": s.lane, "channel": s.channel or "", "duration": _distribution_text(s.duration, s.basis),
            "next": next_text, "emotion": "" if s.emotion is None else f"{s.emotion:.12g}",
            "value_adding": "yes" if s.value_adding else "", "moment_of_truth": "yes" if s.moment_of_truth else "",
            "notes": s.notes,
        }
        rows.append({h: values[k] for h, k in zip(EXPORT_HEADER, _EXPORT_KEYS, strict=True)})
    return rows


def rows_to_csv(rows: Sequence[dict[str, str]]) -> str:
    """Rows of :func:`journey_to_rows` as CSV text (the header first)."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_HEADER), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
