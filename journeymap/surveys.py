"""Survey scores set the emotion at each touchpoint: a CSV of answers in, an overlay of emotions out.

A journey's ``emotion`` values are usually a workshop's guess. A CX team has the customers' own word
for them: NPS, CSAT and CES answers per touchpoint. This module reads those answers
(:func:`read_scores`), summarises each touchpoint with its sample size and a 95% confidence interval
(:func:`summarize_surveys`), maps the mean score onto the −3…+3 emotion scale with one documented,
monotone rule (:func:`emotion_of`), and writes the result as an overlay of the journey
(:func:`overlay_text`) that changes nothing but the touchpoints' ``emotion``, so the base file is never
rewritten and a designer sees exactly what the data changed.

The mapping is linear from the scale's range onto −3…+3 (lowest answer → −3, highest → +3, the middle of
the scale → 0), for every scale including NPS (from the mean score, not from the NPS value):
docs/surveys.md says why. The CI of the mean is Student's t interval
(:func:`journeymap.statistics.t_interval`) clipped to the scale's range, and mapped the same way. The
NPS value's CI is the same t interval over each answer's contribution (+100 promoter, 0 passive, −100
detractor), whose mean is the NPS.

Bad input (an empty file, a missing column, a score out of range, a step that is not a touchpoint, a date
that is not a date) raises :class:`SurveyInvalid` carrying every problem found, each located at the
file's line and the 1-based number of the field, with the column's name in the message.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from .errors import InputInvalid, InvalidArgument
from .loading import MAX_FILE_BYTES, FileTooLarge, ReferenceOutside, read_text, resolve_reference, unreadable
from .model import Journey, Step
from .problems import Problem, excerpt
from .statistics import t_interval
from .tabular import column_letters as _letters
from .tabular import csv_records
from .tabular import normal_header as _normal

__all__ = ["Scale", "SCALES", "Answers", "Scores", "TouchpointSurvey", "SurveyResult", "SurveyInvalid",
           "read_scores", "emotion_of", "summarize_surveys", "overlay_reference", "overlay_text", "survey_blocks",
           "MIN_ANSWERS", "EMOTION_DIGITS", "MAX_PROBLEMS", "COLUMNS"]

#: Touchpoints with fewer answers than this keep their emotion (``--min-answers``): with 30 answers the
#: 95% CI of a mean reaches ±0.37 standard deviations, ±0.56 on the emotion scale for CSAT answers of sd 1.
MIN_ANSWERS = 30
#: The emotion written to the overlay is rounded to this many decimals (0.1): finer steps are noise next
#: to a CI that is rarely narrower than ±0.2 on the emotion scale.
EMOTION_DIGITS = 1
#: Most problems reported for one scores file; a file with more is most likely not a scores file at all.
MAX_PROBLEMS = 100
#: The confidence level of every interval.
LEVEL = 0.95
#: The columns a scores file has (matched ignoring case, spaces, '_' and '-'); ``scale`` is optional.
COLUMNS = ("touchpoint", "date", "score", "scale")
_REQUIRED = ("touchpoint", "date", "score")
#: Emotion scale of journey files.
EMOTION_LOW, EMOTION_HIGH = -3.0, 3.0


@dataclass(frozen=True)
class Scale:
    """A survey scale: its answers are the whole numbers from ``low`` to ``high``, higher meaning better."""

    name: str
    label: str
    low: int
    high: int

    @property
    def text(self) -> str:
        return f"{self.label} {self.low}–{self.high}"


#: NPS: "How likely are you to recommend us?" 0–10. CSAT: "How satisfied were you?" 1–5. CES (2.0):
#: "The company made it easy for me to handle my issue", 1 strongly disagree … 7 strongly agree.
SCALES = {"nps": Scale("nps", "NPS", 0, 10), "csat": Scale("csat", "CSAT", 1, 5), "ces": Scale("ces", "CES", 1, 7)}


class SurveyInvalid(InputInvalid):
    """A scores file has errors; ``problems`` holds every one found (up to :data:`MAX_PROBLEMS`)."""

    where = "in the scores file"


@dataclass(frozen=True)
class Answers:
    """The answers given at one touchpoint, in file order."""

    step: str
    scale: Scale
    scores: tuple[int, ...]
    dates: tuple[date, ...]
    #: the file line of each answer (a later message about the touchpoint points at its first answer)
    lines: tuple[int, ...]


@dataclass(frozen=True)
class Scores:
    """A scores file, read and checked against its journey: the answers per touchpoint."""

    file: str
    answers: dict[str, Answers]
    rows: int


@dataclass(frozen=True)
class TouchpointSurvey:
    """What the answers at one touchpoint say, and what happens to its emotion."""

    step: str
    name: str
    scale: Scale | None
    n: int
    mean: float | None
    sd: float | None
    ci95: tuple[float | None, float | None]
    #: NPS only: promoters (9–10), passives (7–8), detractors (0–6) and the NPS value with its CI
    promoters: int | None
    passives: int | None
    detractors: int | None
    nps: float | None
    nps_ci95: tuple[float | None, float | None]
    previous: float | None
    #: the mapped mean (unrounded), the rounded value written to the overlay, and the mapped CI
    emotion_exact: float | None
    emotion: float | None
    emotion_ci95: tuple[float | None, float | None]
    #: "set" (the overlay changes it), "same" (rounded, it equals the journey's), "too-few", "no-answers"
    status: str
    first_date: str | None
    last_date: str | None

    @property
    def changed(self) -> bool:
        return self.status == "set"


@dataclass(frozen=True)
class SurveyResult:
    """Every touchpoint of a journey, in journey order, with what its survey answers say."""

    journey: str
    journey_file: str
    scores_file: str
    min_answers: int
    answers: int
    touchpoints: tuple[TouchpointSurvey, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``journeymap surveys --json``: the same numbers as the table and the overlay's comments."""
        return {
            "journey": self.journey, "journey_file": self.journey_file, "scores_file": self.scores_file,
            "answers": self.answers, "min_answers": self.min_answers, "level": LEVEL,
            "ci_method": "student-t (journeymap.statistics.t_interval), clipped to the scale",
            "mapping": "emotion = -3 + 6 * (mean - low) / (high - low), from the mean score on every scale",
            "emotion_digits": EMOTION_DIGITS,
            "touchpoints": [_touchpoint_dict(t) for t in self.touchpoints],
        }


def _touchpoint_dict(t: TouchpointSurvey) -> dict[str, Any]:
    nps = None if t.nps is None else {"value": t.nps, "ci95": list(t.nps_ci95), "promoters": t.promoters,
                                      "passives": t.passives, "detractors": t.detractors}
    return {
        "step": t.step, "name": t.name, "scale": t.scale.name if t.scale else None, "n": t.n,
        "mean": t.mean, "sd": t.sd, "ci95": list(t.ci95), "nps": nps,
        "emotion": {"previous": t.previous, "new": t.emotion, "exact": t.emotion_exact,
                    "ci95": list(t.emotion_ci95)},
        "status": t.status, "first_date": t.first_date, "last_date": t.last_date,
    }


# --------------------------------------------------------------------------- reading


class _Reader:
    """Collects the problems of one scores file, each at its line and field, up to :data:`MAX_PROBLEMS`."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int, column: int, rule: str, message: str, hint: str = "") -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(self.file, line, column, "error", rule, message, hint))
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append(Problem(self.file, line, column, "error", "too-many-problems",
                                         f"more than {MAX_PROBLEMS} problems; the rest are not listed",
                                         "fix these first (is this a scores file?)"))


def _rows(text: str, reader: _Reader) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each non-blank CSV record (:func:`journeymap.tabular.csv_records`)."""
    return csv_records(text, lambda line, message: reader.add(
        line, 1, "csv-syntax", message, "check the quotes on this line; a scores file is plain comma-separated text"))


def _header(line: int, fields: list[str], reader: _Reader) -> dict[str, int]:
    """The 0-based index of each known column; unknown columns are ignored (a survey export has many)."""
    found: dict[str, int] = {}
    for i, name in enumerate(fields):
        key = _normal(name)
        if key in COLUMNS:
            if key in found:
                reader.add(line, i + 1, "duplicate-column",
                           f"column {key!r} appears twice (first as field {found[key] + 1})",
                           "keep one of them")
            else:
                found[key] = i
    missing = [c for c in _REQUIRED if c not in found]
    if missing:
        have = excerpt(", ".join(f.strip() for f in fields))
        reader.add(line, 1, "missing-column",
                   f"no {' or '.join(repr(m) for m in missing)} column (the header has: {have})",
                   "the first line names the columns: touchpoint,date,score (and optionally scale)")
    return found


def _date(text: str) -> date | None:
    """An ISO 8601 date, or a date and time whose date is taken; None when it is not one."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _score(text: str) -> int | None:
    """A whole number (``4`` or ``4.0``), else None."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value == int(value) else None


def _touchpoint_problem(journey: Journey, ident: str) -> tuple[str, str, str] | None:
    """(rule, message, hint) when ``ident`` is not a touchpoint of the journey, else None."""
    touchpoints = [s.id for s in journey.steps if s.is_touchpoint]
    listed = ", ".join(touchpoints[:8]) + (", ..." if len(touchpoints) > 8 else "")
    step = journey.step_by_id.get(ident)
    if step is None:
        close = difflib.get_close_matches(ident, touchpoints, n=1, cutoff=0.75)
        guess = f" — did you mean {close[0]!r}?" if close else ""
        return ("unknown-step", f"the journey has no step {excerpt(ident)}{guess}",
                f"the touchpoint column holds step ids of {journey.id}'s touchpoints: {listed}")
    if not step.is_touchpoint:
        return ("not-a-touchpoint", f"step {ident!r} is {step.lane}: the customer does not see it, so no survey "
                "can score it", f"score a touchpoint (a customer or frontstage step): {listed}")
    return None


class _Row:
    """The checked fields of one answer, or None for a field with a problem (already reported)."""

    def __init__(self, line: int, fields: list[str], cols: dict[str, int], journey: Journey,
                 scale: Scale | None, reader: _Reader, touchpoints: frozenset[str]) -> None:
        self.line = line
        self.touchpoints = touchpoints
        self.reader = reader
        self.cols = cols
        self.fields = fields
        self.step = self._step(journey)
        self.date = self._date()
        self.scale = self._scale(scale)
        self.score = self._score()

    def field(self, name: str) -> str | None:
        i = self.cols.get(name)
        if i is None:
            return None
        if i >= len(self.fields):
            self.reader.add(self.line, len(self.fields), "missing-field",
                            f"row has {len(self.fields)} field(s); the {name!r} column is field {i + 1}",
                            "every row has as many comma-separated fields as the header")
            return None
        return self.fields[i].strip()

    def at(self, name: str) -> int:
        return self.cols[name] + 1

    def bad(self, name: str, rule: str, message: str, hint: str = "") -> None:
        """A problem with this row's ``name`` field, its column named as a spreadsheet shows it."""
        self.reader.add(self.line, self.at(name), rule, f"column {_letters(self.at(name))} ({name}): {message}", hint)

    def _step(self, journey: Journey) -> str | None:
        ident = self.field("touchpoint")
        if ident is None:
            return None
        if not ident:
            self.bad("touchpoint", "missing-value", "the touchpoint is empty",
                     "give the step id of the touchpoint this answer is about")
            return None
        bad = None if ident in self.touchpoints else _touchpoint_problem(journey, ident)
        if bad:
            self.bad("touchpoint", *bad)
            return None
        return ident

    def _date(self) -> date | None:
        text = self.field("date")
        if text is None:
            return None
        value = _date(text)
        if value is None:
            self.bad("date", "invalid-date",
                     f"date {excerpt(text)} is not a date" if text else "the date is empty",
                     "write dates as YYYY-MM-DD (ISO 8601), e.g. 2027-03-15")
        return value

    def _scale(self, given: Scale | None) -> Scale | None:
        if "scale" not in self.cols:
            return given
        text = self.field("scale")
        if text is None:
            return None
        scale = SCALES.get(text.lower())
        if scale is None:
            self.bad("scale", "invalid-scale",
                     f"scale {excerpt(text)} is not one of nps, csat, ces" if text else "the scale is empty",
                     "nps: 0-10, csat: 1-5, ces: 1-7 (case does not matter)")
        elif given is not None and scale is not given:
            self.bad("scale", "scale-mismatch",
                     f"this row is on the {scale.label} scale but --scale says {given.name}",
                     "leave out --scale when the file has a scale column, or correct the row")
            return None
        return scale

    def _score(self) -> int | None:
        text = self.field("score")
        if text is None:
            return None
        value = _score(text)
        if value is None:
            self.bad("score", "invalid-score",
                     f"score {excerpt(text)} is not a whole number" if text else "the score is empty",
                     "each answer is one whole number on its scale (NPS 0-10, CSAT 1-5, CES 1-7)")
            return None
        if self.scale is not None and not self.scale.low <= value <= self.scale.high:
            self.bad("score", "out-of-range",
                     f"score {value} is outside the {self.scale.text} scale",
                     f"a {self.scale.label} answer is a whole number from {self.scale.low} to "
                     f"{self.scale.high}; check the row or the scale")
            return None
        return value


def read_scores(path: str, journey: Journey, *, scale: str | None = None) -> Scores:
    """Read and check a scores file against ``journey``; raises :class:`SurveyInvalid` with every problem.

    ``scale`` (``nps``, ``csat`` or ``ces``) applies to every row; without it the file needs a ``scale``
    column. The file is read as an ordinary UTF-8 file of at most 10 MB (:data:`~journeymap.loading.MAX_FILE_BYTES`).
    """
    given = None
    if scale is not None:
        if scale.lower() not in SCALES:
            raise InvalidArgument(f"unknown scale {scale!r} (must be one of {', '.join(SCALES)})")
        given = SCALES[scale.lower()]
    try:
        text = read_text(path, max_bytes=MAX_FILE_BYTES)
    except FileTooLarge as exc:
        raise SurveyInvalid([Problem(path, 1, 1, "error", "file", f"the scores file is larger than "
                                     f"{MAX_FILE_BYTES // 2**20} MB, the limit for a scores file",
                                     "read one period at a time: split the file by date")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SurveyInvalid([unreadable(path, exc, "scores")]) from exc
    reader = _Reader(path)
    rows = _rows(text, reader)
    first = next(rows, None)
    if first is None:
        reader.add(1, 1, "empty-file", "the scores file is empty" if not reader.problems else "no header line",
                   "the first line names the columns: touchpoint,date,score (and optionally scale)")
        raise SurveyInvalid(reader.problems)
    cols = _header(*first, reader)
    if not reader.problems and "scale" not in cols and given is None:
        reader.add(first[0], 1, "missing-scale", "which scale? the file has no 'scale' column and no --scale was given",
                   "add --scale nps|csat|ces, or a scale column")
    if reader.problems:
        raise SurveyInvalid(reader.problems)
    answers = _collect(rows, cols, journey, given, reader)
    if not reader.problems and not answers:
        reader.add(first[0] + 1, 1, "no-answers", "the file has a header but no answers",
                   "add one row per answer: touchpoint,date,score")
    if reader.problems:
        raise SurveyInvalid(reader.problems)
    return Scores(path, {k: Answers(k, v[0], tuple(v[1]), tuple(v[2]), tuple(v[3])) for k, v in answers.items()},
                  sum(len(v[1]) for v in answers.values()))


def _collect(rows: Iterator[tuple[int, list[str]]], cols: dict[str, int], journey: Journey, given: Scale | None,
             reader: _Reader) -> dict[str, tuple[Scale, list[int], list[date], list[int]]]:
    """The answers per touchpoint, every row checked; one touchpoint is on one scale."""
    answers: dict[str, tuple[Scale, list[int], list[date], list[int]]] = {}
    touchpoints = frozenset(s.id for s in journey.steps if s.is_touchpoint)
    for line, fields in rows:
        row = _Row(line, fields, cols, journey, given, reader, touchpoints)
        if row.step is None or row.date is None or row.scale is None or row.score is None:
            continue
        entry = answers.setdefault(row.step, (row.scale, [], [], []))
        if entry[0] is not row.scale:
            row.bad("scale", "scale-mismatch",
                    f"{row.step!r} is scored on the {entry[0].label} scale (line {entry[3][0]}); this row says "
                    f"{row.scale.label}", "one touchpoint, one scale: answers on two scales cannot be averaged")
            continue
        entry[1].append(row.score)
        entry[2].append(row.date)
        entry[3].append(line)
    return answers


# --------------------------------------------------------------------------- statistics and mapping


def emotion_of(score: float, scale: Scale) -> float:
    """The emotion (−3…+3) of a mean score: linear from the scale's range, lowest → −3, highest → +3.

    >>> emotion_of(5, SCALES["nps"]), emotion_of(1, SCALES["csat"]), emotion_of(7, SCALES["ces"])
    (0.0, -3.0, 3.0)
    """
    return EMOTION_LOW + (EMOTION_HIGH - EMOTION_LOW) * (score - scale.low) / (scale.high - scale.low)


def _rounded(x: float) -> float:
    return round(x, EMOTION_DIGITS) + 0.0  # + 0.0: never -0.0


def _clipped(ci: tuple[float | None, float | None], low: float, high: float) -> tuple[float | None, float | None]:
    lo, hi = ci
    return (None if lo is None else max(lo, low), None if hi is None else min(hi, high))


def _mapped(ci: tuple[float | None, float | None], scale: Scale) -> tuple[float | None, float | None]:
    return tuple(None if v is None else emotion_of(v, scale) for v in ci)  # type: ignore[return-value]


def _survey(step: Step, answers: Answers | None, min_answers: int) -> TouchpointSurvey:
    """One touchpoint's summary; its emotion changes only with at least ``min_answers`` answers."""
    name, previous = step.name, step.emotion
    if answers is None:
        return TouchpointSurvey(step.id, name, None, 0, None, None, (None, None), None, None, None, None,
                                (None, None), previous, None, None, (None, None), "no-answers", None, None)
    scale = answers.scale
    x = np.asarray(answers.scores, dtype=float)
    n = len(x)
    mean = float(x.mean())
    ci = _clipped(t_interval(x.tolist(), LEVEL), scale.low, scale.high)
    promoters = passives = detractors = None
    nps: float | None = None
    nps_ci: tuple[float | None, float | None] = (None, None)
    if scale.name == "nps":
        promoters, detractors = int((x >= 9).sum()), int((x <= 6).sum())
        passives = n - promoters - detractors
        contribution = np.where(x >= 9, 100.0, np.where(x <= 6, -100.0, 0.0))
        nps = float(contribution.mean())
        nps_ci = _clipped(t_interval(contribution.tolist(), LEVEL), -100.0, 100.0)
    exact = emotion_of(mean, scale)
    emotion = _rounded(exact)
    status = ("too-few" if n < min_answers else
              "same" if previous is not None and math.isclose(previous, emotion, abs_tol=1e-9) else "set")
    dates = sorted(answers.dates)
    return TouchpointSurvey(step.id, name, scale, n, mean, float(x.std(ddof=1)) if n > 1 else None, ci,
                            promoters, passives, detractors, nps, nps_ci, previous, exact, emotion,
                            _mapped(ci, scale), status, dates[0].isoformat(), dates[-1].isoformat())


def summarize_surveys(journey: Journey, scores: Scores, *, min_answers: int = MIN_ANSWERS,
                      journey_file: str = "") -> SurveyResult:
    """Every touchpoint of ``journey`` with its answers' summary and its emotion from them."""
    if min_answers < 2:
        raise InvalidArgument(f"--min-answers must be at least 2 to give a confidence interval, got {min_answers}")
    touchpoints = tuple(_survey(s, scores.answers.get(s.id), min_answers) for s in journey.steps if s.is_touchpoint)
    return SurveyResult(journey.id, journey_file or journey.source, scores.file, min_answers, scores.rows, touchpoints)


# --------------------------------------------------------------------------- the overlay

_PLAIN = re.compile(r"^[A-Za-z0-9_./-]+$")


def _yaml_text(text: str) -> str:
    """A YAML scalar for a path or an id: plain when that is safe, else double-quoted (JSON is valid YAML)."""
    import json

    return text if _PLAIN.match(text) and text[0] not in "-." else json.dumps(text)


def overlay_reference(journey_file: str, overlay_file: str) -> str:
    """The ``extends:`` path of an overlay at ``overlay_file``: the journey's path relative to it.

    Raises :class:`~journeymap.errors.InvalidArgument` when the overlay could not name the journey: an
    overlay's base must be in its folder or below (docs/format.md, "Files, references and limits").
    """
    folder = os.path.dirname(os.path.abspath(overlay_file))
    ref = os.path.relpath(os.path.abspath(journey_file), folder).replace(os.sep, "/")
    try:
        resolve_reference(ref, os.path.join(folder, os.path.basename(overlay_file)))
    except ReferenceOutside:
        raise InvalidArgument(
            f"the overlay {overlay_file!r} could not extend {journey_file!r}: an overlay's base must be in the "
            f"overlay's folder or below it; write the overlay beside the journey, e.g. -o "
            f"{os.path.join(os.path.dirname(journey_file), 'surveyed.yaml')}") from None
    return ref


def _signed(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:+.{digits}f}"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _interval(ci: Sequence[float | None], fmt: Any = _num) -> str:
    lo, hi = ci
    return "n/a" if lo is None or hi is None else f"{fmt(lo)} to {fmt(hi)}"


def _emotion_text(x: float | None) -> str:
    """An emotion as written in a journey file: 0, +1, -1.5 (none: the step has none)."""
    return "none" if x is None else "0" if x == 0 else f"{x:+g}"


def _previous(t: TouchpointSurvey) -> str:
    return _emotion_text(t.previous)


def _comment(t: TouchpointSurvey, min_answers: int) -> str:
    """The one-line comment over a touchpoint in the overlay: n, mean, CI, the emotion and the previous one."""
    if t.scale is None or t.mean is None:
        return f"# {t.step}: no answers; emotion left at {_previous(t)}"
    said = f"n={t.n}, {t.scale.label} mean {_num(t.mean)} (95% CI {_interval(t.ci95)})"
    if t.nps is not None:
        said += f", NPS {t.nps:+.0f} (95% CI {_interval(t.nps_ci95, lambda v: f'{v:+.0f}')})"
    emotion = f"emotion {_signed(t.emotion)} (95% CI {_interval(t.emotion_ci95, _signed)})"
    if t.status == "too-few":
        return f"# {t.step}: {said}: fewer than {min_answers} answers, emotion left at {_previous(t)} (data: {emotion})"
    if t.status == "same":
        return f"# {t.step}: {said} -> {emotion}, as before: unchanged"
    return f"# {t.step}: {said} -> {emotion}; was {_previous(t)}"


def overlay_text(result: SurveyResult, extends: str) -> str:
    """The overlay: ``extends:`` the journey, each changed touchpoint's ``emotion``, a comment on every one."""
    changed = [t for t in result.touchpoints if t.changed]
    lines = [
        f"# Touchpoint emotions from survey scores, written by `journeymap surveys` from "
        f"{excerpt(os.path.basename(result.scores_file))} ({result.answers} answers).",
        f"# Each emotion is the mean score mapped linearly from its scale onto -3..+3, rounded to "
        f"{10 ** -EMOTION_DIGITS:g};",
        f"# CIs are 95% Student-t intervals; touchpoints with fewer than {result.min_answers} answers keep their "
        "emotion.",
        "# Run the command again on new scores rather than editing this file (docs/surveys.md).",
        f"extends: {_yaml_text(extends)}",
        "",
        "steps:" if changed else "# no touchpoint's emotion changed",
    ]
    for t in result.touchpoints:
        lines.append(("  " if changed else "") + _comment(t, result.min_answers))
        if t.changed:
            lines += [f"  - id: {_yaml_text(t.step)}", f"    emotion: {t.emotion:g}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the terminal table

_STATUS = {"set": "set", "same": "unchanged", "too-few": "too few answers: kept", "no-answers": "no answers: kept"}


def survey_blocks(data: dict[str, Any]) -> list[Any]:
    """The terminal report of ``journeymap surveys`` from its JSON (:meth:`SurveyResult.as_dict`): one table."""
    from .tables import Table

    rows = []
    for t in data["touchpoints"]:
        nps = t["nps"]
        e = t["emotion"]
        rows.append([t["step"], SCALES[t["scale"]].label if t["scale"] else "-", str(t["n"]), _num(t["mean"]),
                     _interval(t["ci95"]), f"{nps['value']:+.0f}" if nps else "",
                     _interval(nps["ci95"], lambda v: f"{v:+.0f}") if nps else "", _emotion_text(e["previous"]),
                     _signed(e["new"]), _interval(e["ci95"], _signed), _STATUS[t["status"]]])
    count = {status: sum(t["status"] == status for t in data["touchpoints"]) for status in _STATUS}
    return [
        f"Survey scores for {data['journey']}: {data['answers']} answers, {len(rows)} touchpoints; "
        f"{count['set']} emotion(s) set, {count['same']} confirmed; kept: {count['too-few']} with fewer than "
        f"{data['min_answers']} answers, {count['no-answers']} with none",
        Table(["Touchpoint", "Scale", "n", "Mean", "95% CI", "NPS", "NPS 95% CI", "Was", "Emotion", "Emotion 95% CI",
               "Status"], rows, "llrrrrrrrrl"),
        "Emotion = the mean score mapped linearly from its scale onto -3..+3 (lowest answer -3, highest +3), "
        f"rounded to {10 ** -EMOTION_DIGITS:g}; 95% CIs are Student-t intervals (docs/surveys.md).",
    ]
