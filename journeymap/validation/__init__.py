"""Checking journey files, and the one way in: :func:`load_journey`.

Checks run in three passes, and each pass reports every problem it finds
rather than stopping at the first:

1. **structure** (:mod:`.structure`): the file against the JSON Schema of
   :mod:`journeymap.schema` (unknown keys with the closest correct one, wrong
   types, bad values);
2. **meaning** (:mod:`.sections`, one checker per section of the file):
   durations and distributions, references to departments, stages and steps,
   duplicate ids, probabilities; working time in :mod:`.calendars` (holidays,
   calendars, shifts, the start) and :mod:`.service` (priorities, targets);
   this pass builds the model;
3. **flow** (:mod:`.flow`): steps unreachable from the start, steps with no
   way to an end, loops a case can never leave, parallel blocks that do not
   meet again, work a run could not finish; then the lint warnings of
   :mod:`journeymap.lint`.

The structure pass comes first and is total: every value of every key is
type-checked by the schema, and a value the schema rejects is removed from
the data before any hand-written rule reads it, so no wrong type ever reaches
Python code (the rules below may trust ``isinstance`` guards, not hope).

Each problem carries the rule id listed in ``RULES`` (documented in
``docs/format.md``) and the line and column of the offending key or value.
To add a section to the file format, see :mod:`.sections`.

Besides the three passes: :mod:`.context` holds what the checks of one file
share (the document, its problems, the ids found, the model being built),
:mod:`.wording` the pieces of messages (the closest id, the overlay's removal
that explains a missing step), :mod:`.values` the reading of values the
structure pass has checked. Accounts are checked by :mod:`journeymap.account`
with the same structure pass and :func:`check_file` for each persona.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from ..errors import JourneyInvalid
from ..loading import Located, load_yaml, read_text, unreadable
from ..model import Journey
from ..overlay import looks_like_journey, resolve_overlay
from ..problems import Problem, Problems, sort_problems
from ..schema import MAX_CASES, MAX_STEPS
from .context import Context
from .flow import MAX_VISITS_PER_RUN, MAX_VISITS_PER_STEP, flow_problems, work_problems
from .sections import build_journey, parse_arrivals
from .structure import bad_characters, structure_problems, too_many_steps

__all__ = ["RULES", "check_file", "check_text", "check_located", "load_journey", "Checked", "structure_problems",
           "bad_characters", "internal_error", "too_deep", "parse_arrivals", "MAX_VISITS_PER_STEP",
           "MAX_VISITS_PER_RUN", "MAX_STEPS", "MAX_CASES"]

#: Every rule id, with what it catches. ``docs/format.md`` lists them with examples.
RULES: dict[str, str] = {
    "yaml-syntax": "the file is not valid YAML",
    "empty-file": "the file holds no journey",
    "duplicate-key": "the same key twice in one mapping",
    "unsafe-tag": "a YAML tag that would build objects",
    "unknown-key": "a key the format does not know (often a typo)",
    "missing-key": "a required key is absent",
    "wrong-type": "a value of the wrong kind (text, number, list, mapping)",
    "invalid-value": "a value outside the allowed choices",
    "invalid-id": "an id with characters other than letters, digits, '_', '-', '.'",
    "out-of-range": "a number outside its allowed range",
    "wrong-size": "a list with too few or too many items",
    "invalid-duration": "a duration or distribution that cannot be understood",
    "invalid-capacity": "a department capacity that is not a whole number of at least 1",
    "duplicate-id": "two stages, departments or steps with the same id",
    "unknown-reference": "a reference to a stage, department or step that does not exist",
    "probability-range": "a branch probability outside [0, 1]",
    "probability-sum": "the branches of a step do not sum to 1",
    "invalid-flow": "a flow the format does not allow (from an end step, a customer lane mismatch...)",
    "invalid-parallel": "parallel branches that do not all meet at their join step",
    "unreachable-step": "a step no case can reach from the start",
    "dead-end": "a step from which no case can reach an end",
    "endless-loop": "a loop a case can enter and never leave",
    "endless-run": "so much expected work (rework almost never left, too many cases) that a run would not finish",
    "too-large": "a file, a nesting, an alias expansion or an overlay chain beyond the documented limits",
    "invalid-character": "text with a character maps and reports cannot carry (a control character, a non-character)",
    "outside-project": "a reference to a file outside the folder of the file that names it",
    "not-a-journey": "a referenced file that is not a journey",
    "invalid-hours": "opening hours or days that cannot be read, end before they start, or overlap",
    "unknown-timezone": "a time zone name the time-zone database does not know",
    "invalid-date": "a holiday that is not a date (YYYY-MM-DD), or a simulation start that is not a date and time",
    "never-open": "a calendar with no opening hours, or shifts with nobody in them: a case there could never finish",
    "mix-sum": "the shares of the workload's priority-class mix do not sum to 1",
    "internal-error": "a bug in journeymap met while checking the file (please report it)",
    "file": "the file cannot be found or read",
}


@dataclass
class Checked(Problems):
    """What checking a file gives: the journey (None when it has errors) and every problem."""

    journey: Journey | None
    problems: list[Problem]


def check_text(text: str, file: str = "<journey>", *, lint: bool = True, referenced: bool = False) -> Checked:
    """Check journey YAML given as text. Never raises on bad input.

    ``referenced``: the file is named by another one (an account's persona);
    when it does not even look like a journey, say so by name and quote none of it.
    """
    try:
        return _check_text(text, file, lint=lint, referenced=referenced)
    except RecursionError:
        return Checked(None, [too_deep(file)])
    except Exception as exc:  # a bug of ours: one file must never stop `validate DIR` or `run DIR`
        return Checked(None, [internal_error(file, exc)])


def internal_error(file: str, exc: BaseException) -> Problem:
    """A problem that reports a bug in journeymap itself, so the other files are still checked."""
    return Problem(file, 1, 1, "error", "internal-error",
                   f"journeymap could not check this file ({type(exc).__name__}); this is a bug in journeymap",
                   "please report it with the file attached")


def too_deep(file: str) -> Problem:
    """A file nested beyond what the checks can recurse through (Python's recursion limit)."""
    return Problem(file, 1, 1, "error", "too-large", "the file is nested too deeply to check",
                   "see 'Limits' in docs/format.md")


def _check_text(text: str, file: str, *, lint: bool, referenced: bool) -> Checked:
    """The passes in order; a file beyond a limit stops before the passes that would take too long on it."""
    loc, problems = load_yaml(text, file)
    if loc is None:
        return Checked(None, sort_problems(problems))
    if referenced and not looks_like_journey(loc.data):
        return Checked(None, [Problem(file, 1, 1, "error", "not-a-journey",
                                      f"{os.path.basename(file)} is not a journey file",
                                      "name a journey file (with journey:, persona:, stages: and steps:)")])
    steps = loc.data.get("steps") if isinstance(loc.data, dict) else None
    if isinstance(steps, list) and len(steps) > MAX_STEPS:  # refused before the costly passes run
        return Checked(None, sort_problems(problems + [too_many_steps(loc, len(steps), MAX_STEPS)]))
    return check_located(loc, problems, lint=lint)


def check_located(loc: Located, problems: list[Problem] | None = None, *, lint: bool = True) -> Checked:
    """Check data already parsed with its positions, from the structure pass on (adding to ``problems``).

    :func:`check_text` calls it on a parsed file; :mod:`journeymap.attribution` on an overlay with some
    of its entries left out, so that every partial design is checked like a file. ``loc.data`` may be
    modified (the structure pass drops values of the wrong type).
    """
    file = loc.file
    problems = [] if problems is None else problems
    problems += structure_problems(loc)  # the file itself, before anything reads it (an overlay too)
    merged = _merged(loc, problems)
    if merged is None or any(p.rule == "too-large" for p in problems):
        return Checked(None, sort_problems(problems))  # beyond a limit: the later passes would take too long
    journey = _meaning_and_flow(Context(merged), problems, lint=lint)
    if any(p.is_error for p in problems):
        journey = None
    elif journey is None:  # a shape no rule named: say so rather than fail without a reason
        problems.append(Problem(file, 1, 1, "error", "wrong-type", "this file does not describe a journey",
                                "start from one of the examples in journeys/"))
    elif merged.base:
        journey = dataclasses.replace(journey, base=merged.base)
    return Checked(journey, sort_problems(problems))


def _merged(loc: Located, problems: list[Problem]) -> Located | None:
    """``loc`` merged onto the journey it extends (itself when it extends none); None when the base is unreadable.

    The merged journey must be complete: its structure problems are added, but
    only those the files alone did not already report.
    """
    merged, more = resolve_overlay(loc, prepare=structure_problems)
    problems += more
    if merged is loc:
        return None if isinstance(loc.data, dict) and "extends" in loc.data else loc
    said = {(p.file, p.line, p.column, p.rule) for p in problems}
    problems += [p for p in structure_problems(merged) if (p.file, p.line, p.column, p.rule) not in said]
    return merged


def _meaning_and_flow(ctx: Context, problems: list[Problem], *, lint: bool) -> Journey | None:
    """Build the journey (the meaning pass); when it has no error, the flow pass, then lint."""
    journey = build_journey(ctx)
    problems += ctx.problems
    if journey is None or any(p.is_error for p in problems):
        return journey
    ctx.problems = []
    flow_problems(ctx, journey)
    if not ctx.problems:
        work_problems(ctx, journey)
    problems += ctx.problems
    if not ctx.problems and lint:
        from ..lint import lint_journey

        problems += lint_journey(journey, ctx.loc, ctx.step_index, ctx.flow_path)
    return journey


def check_file(path: str | os.PathLike, *, lint: bool = True, referenced: bool = False) -> Checked:
    """Check a journey file on disk (read only; the file is never modified)."""
    file = os.fspath(path)
    try:
        text = read_text(file)
    except (OSError, UnicodeDecodeError) as exc:
        return Checked(None, [unreadable(file, exc, "journey")])
    return check_text(text, file, lint=lint, referenced=referenced)


def load_journey(path: str | os.PathLike) -> Journey:
    """Load and check a journey file; the one way in.

    Raises :class:`~journeymap.errors.JourneyInvalid` carrying every problem
    when the file has errors. Warnings do not stop loading.
    """
    checked = check_file(path, lint=False)
    if checked.journey is None:
        raise JourneyInvalid(checked.problems)
    return checked.journey
