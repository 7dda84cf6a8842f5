"""Checking journey files, and the one way in: :func:`load_journey`.

Checks run in three passes, and each pass reports every problem it finds
rather than stopping at the first:

1. **structure**: the file against the JSON Schema of :mod:`journeymap.schema`
   (unknown keys with the closest correct one, wrong types, bad values);
2. **meaning**: durations and distributions, references to departments,
   stages and steps, duplicate ids, probabilities; this pass builds the model;
3. **flow**: steps unreachable from the start, steps with no way to an end,
   loops a case can never leave, parallel blocks that do not meet again;
   then the lint warnings of :mod:`journeymap.lint`.

The structure pass comes first and is total: every value of every key is
type-checked by the schema, and a value the schema rejects is removed from
the data before any hand-written rule reads it, so no wrong type ever reaches
Python code (the rules below may trust ``isinstance`` guards, not hope).

Each problem carries the rule id listed in ``RULES`` (documented in
``docs/format.md``) and the line and column of the offending key or value.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import networkx as nx
import numpy as np

from .distributions import DurationError, parse_distribution, parse_duration
from .errors import JourneyInvalid
from .graph import build_graph, reach
from .loading import Located, Path, load_yaml, read_text
from .model import CUSTOMER, Arrivals, Backlog, Department, Flow, Journey, Persona, Stage, Step, Workload
from .overlay import looks_like_journey, resolve_overlay
from .problems import Problem, Problems, excerpt, sort_problems
from .schema import DURATION_PATTERN, ID_PATTERN, JOURNEY_SCHEMA, MAX_CASES, MAX_STEPS

__all__ = ["RULES", "check_file", "check_text", "load_journey", "Checked", "structure_problems",
           "bad_characters", "internal_error", "MAX_VISITS_PER_STEP", "MAX_VISITS_PER_RUN", "MAX_STEPS", "MAX_CASES"]

#: Most times a case may be expected to do one step (rework that is almost never left: exit 1e-9).
MAX_VISITS_PER_STEP = 1_000
#: Most step visits one replication may be expected to simulate (cases x expected visits per case).
MAX_VISITS_PER_RUN = 20_000_000

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
    "internal-error": "a bug in journeymap met while checking the file (please report it)",
    "file": "the file cannot be found or read",
}

_VALIDATOR = jsonschema.Draft202012Validator(JOURNEY_SCHEMA)
_PROB_TOLERANCE = 1e-6


def _closest(word: Any, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _did_you_mean(word: Any, choices: Iterable[str]) -> str:
    c = _closest(word, choices)
    return f" (did you mean {c!r}?)" if c else ""


def _removals(loc: Located) -> str:
    """For a flow problem in an overlay that removes steps: which ones, since a removal is the likely cause."""
    removed = [(ident, where) for (kind, ident), where in loc.removed.items() if kind == "steps"]
    if not removed:
        return ""
    return (f" (the overlay removes {', '.join(repr(i) for i, _ in removed)}: "
            f"{removed[0][1][0]}:{removed[0][1][1]})")


def _gone(loc: Located, kind: str, ident: Any, choices: Iterable[str]) -> str:
    """Why a reference names nothing: the overlay removed it (and where), or the closest id."""
    removed = loc.removed.get((kind, ident)) if isinstance(ident, str) else None
    if removed:
        return f" (the overlay removes it: {removed[0]}:{removed[1]})"
    return _did_you_mean(ident, choices)


def _name_of(path: Path) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "the file"


#: What one item of each list is called in messages.
_ITEM_NOUNS = {"steps": "step", "stages": "stage", "departments": "department", "backlog": "backlog entry",
               "next": "branch", "parallel": "parallel branch", "goals": "goal", "end": "end step",
               "schedule": "arrival time"}


def _what(path: Path, inst: Any = None) -> str:
    """How a message names the value at ``path``: 'the file', "step 'kickoff'", 'stage 3', "'owner'"."""
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        parent = path[-2] if len(path) > 1 and isinstance(path[-2], str) else ""
        noun = _ITEM_NOUNS.get(parent, f"item of {parent!r}" if parent else "item")
        ident = inst.get("id") if isinstance(inst, dict) else None
        return f"{noun} {ident!r}" if isinstance(ident, str) else f"{noun} {last + 1}"
    return repr(last)


def _schema_at(path: Path) -> dict:
    """The journey schema of the value at ``path`` (through properties and items), or {}."""
    node: Any = JOURNEY_SCHEMA
    for part in path:
        if not isinstance(node, dict):
            return {}
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
    return node if isinstance(node, dict) else {}


def _duration_message(value: Any) -> str:
    try:
        parse_duration(value)
        return f"invalid duration {excerpt(value)}"
    except DurationError as exc:
        return _cut(str(exc), 200)


_JSON_TYPES = {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
               int: "a whole number", float: "a number", type(None): "nothing"}


def _kind(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- structure


def _explain(loc: Located, err: jsonschema.ValidationError) -> Iterable[Problem]:
    """Turn one jsonschema error into problems a designer can act on."""
    path = tuple(err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    inst = err.instance
    name = _name_of(path)
    if schema.get("$comment") == "duration":
        return  # parse_distribution gives a far better message in the meaning pass
    v = err.validator
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = list(schema.get("properties", {}))
        for key in inst:
            if key not in allowed:
                close = _closest(key, allowed)
                yield loc.problem(path + (key,), "unknown-key",
                                  f"unknown key {excerpt(key)}" + (f" (did you mean {close!r}?)" if close else ""),
                                  f"allowed keys here: {', '.join(allowed)}", key=True)
    elif v == "required" and isinstance(inst, dict):
        for key in schema.get("required", []):
            if key not in inst:
                what = _what(path, inst)
                desc = ((schema.get("properties", {}).get(key) or {}).get("description")
                        or _schema_at(path + (key,)).get("description", ""))
                yield loc.problem(path, "missing-key", f"{what} is missing the required key {key!r}",
                                  desc, key=bool(path))
    elif v == "anyOf" or v == "oneOf":
        yield from _explain_any_of(loc, err)
    elif v == "type" and schema.get("pattern") == DURATION_PATTERN:
        yield loc.problem(path, "invalid-duration", _duration_message(inst),
                          "write a number then a unit: 45s, 30min, 2h, 3d, 1w")
    elif v == "type":
        rule = "invalid-capacity" if name == "capacity" else "wrong-type"
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        yield loc.problem(path, rule, f"{_what(path)} must be {_describe_type(want)}, got {_kind(inst)} {excerpt(inst)}",
                          schema.get("description", ""))
    elif v == "enum":
        allowed = [str(x) for x in err.validator_value]
        yield loc.problem(path, "invalid-value",
                          f"{excerpt(inst)} is not a valid {name}{_did_you_mean(inst, allowed)}",
                          f"must be one of: {', '.join(allowed)}")
    elif v == "pattern":
        if err.validator_value == DURATION_PATTERN:
            yield loc.problem(path, "invalid-duration", _duration_message(inst),
                              "write a number then a unit: 45s, 30min, 2h, 3d, 1w")
        elif err.validator_value == ID_PATTERN:
            yield loc.problem(path, "invalid-id", f"{excerpt(inst)} is not a valid id",
                              "ids start with a letter, then letters, digits, '_', '-' or '.' (ASCII only); no spaces")
        else:  # pragma: no cover - no other patterns in the schema
            yield loc.problem(path, "invalid-value", f"{excerpt(inst)} does not match {err.validator_value}")
    elif v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if name == "capacity":
            yield loc.problem(path, "invalid-capacity",
                              f"capacity must be a whole number from 1 to 10000, got {inst!r}",
                              "capacity is how many people of the department can work on cases at once")
        elif name == "probability":
            yield loc.problem(path, "probability-range", f"probability {inst!r} is outside [0, 1]",
                              "write it as a fraction, e.g. 0.2 for 20%")
        elif name == "emotion":
            yield loc.problem(path, "out-of-range", f"emotion {inst!r} is outside the scale -3..+3",
                              "-3 furious, -2 frustrated, -1 uneasy, 0 neutral, +1 satisfied, +2 pleased, +3 delighted")
        else:
            bound = err.validator_value
            relation = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                        "exclusiveMaximum": "less than"}[v]
            yield loc.problem(path, "out-of-range", f"{name!r} is {excerpt(inst)}; it must be {relation} {bound:,}",
                              _LIMITS[name] if v == "maximum" and name in _LIMITS else schema.get("description", ""))
    elif v == "maxLength":
        yield loc.problem(path, "invalid-id", f"{excerpt(inst)} is too long for an id ({len(inst):,} characters; "
                          f"at most {err.validator_value})", "ids are short names such as legal_review")
    elif v in ("minItems", "maxItems", "minProperties", "maxProperties"):
        many = len(inst) if isinstance(inst, (list, dict)) else 0
        noun = "item(s)" if v.endswith("Items") else "key(s)"
        bound = err.validator_value
        if v.startswith("max") and name == "steps":
            yield loc.problem(path, "too-large", f"the journey has {many:,} steps; the limit is {bound:,}",
                              "split it into several journeys (one per stage or per persona); see 'Limits' "
                              "in docs/format.md")
        elif v.startswith("max"):  # never jsonschema's message: it quotes the whole (long) value
            yield loc.problem(path, "wrong-size", f"{_what(path)} has {many:,} {noun}; it takes at most {bound:,}",
                              schema.get("description", ""))
        else:  # the value is short: jsonschema's message quotes it
            yield loc.problem(path, "wrong-size", f"{_what(path)}: {_cut(err.message)}", schema.get("description", ""))
    else:
        yield loc.problem(path, "wrong-type", f"{_what(path)}: {_cut(err.message)}",
                          schema.get("description", ""))


def _cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Hints for numbers beyond a limit that is there to keep a run finite.
_LIMITS = {"cases": "a run simulates every case; see 'Limits' in docs/format.md"}


def _describe_type(t: str) -> str:
    return {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
            "number": "a number", "boolean": "true or false"}.get(t, t)


def _explain_any_of(loc: Located, err: jsonschema.ValidationError) -> Iterable[Problem]:
    """Explain an anyOf failure through the branch the author most likely meant."""
    branches: dict[int, list[jsonschema.ValidationError]] = {}
    for sub in err.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    inst = err.instance
    options = err.validator_value
    candidates = []
    for idx, subschema in enumerate(options):
        errs = branches.get(idx, [])
        if any(e.validator == "type" and tuple(e.absolute_path) == tuple(err.absolute_path) for e in errs):
            continue  # this branch wants another kind of value altogether
        required = subschema.get("required", []) if isinstance(subschema, dict) else []
        present = sum(1 for r in required if isinstance(inst, dict) and r in inst)
        candidates.append((-present, len(errs), idx, errs))
    path = tuple(err.absolute_path)
    if not candidates:
        kinds = sorted({_describe_type(o.get("type")) for o in options if isinstance(o, dict) and o.get("type")})
        yield loc.problem(path, "wrong-type",
                          f"{_what(path)} cannot be {_kind(inst)}; expected {' or '.join(kinds)}",
                          err.schema.get("description", "") if isinstance(err.schema, dict) else "")
        return
    candidates.sort(key=lambda c: c[:3])
    for sub in candidates[0][3]:
        yield from _explain(loc, sub)


#: Schema failures that leave a value of the right type (kept: the rules after report it better or
#: skip it); every other failure removes the value before the hand-written rules run.
_KEEP_ON = {"required", "additionalProperties", "pattern", "minimum", "maximum", "exclusiveMinimum",
            "exclusiveMaximum", "minItems"}


def _rejected_paths(err: jsonschema.ValidationError) -> list[Path]:
    """The paths of the values a schema error rejects (none when the value's type is right)."""
    path = tuple(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
        return [path + (k,) for k in err.instance if k not in allowed]
    if err.validator in _KEEP_ON:
        return []
    if isinstance(err.schema, dict) and err.schema.get("$comment") == "duration":
        return []  # parse_distribution reads any value and explains it better than the schema
    return [path]


def _prune(data: Any, paths: Iterable[Path]) -> Any:
    """``data`` without the values at ``paths``: keys deleted, list items set to None (indices kept)."""
    for path in sorted(set(paths), key=len):
        if not path:
            return None
        parent = data
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        last = path[-1]
        if isinstance(parent, dict) and last in parent:
            del parent[last]
        elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            parent[last] = None
    return data


def structure_problems(loc: Located, validator: jsonschema.protocols.Validator = _VALIDATOR) -> list[Problem]:
    """Check located data against a JSON Schema (the journey schema by default), explained for people.

    Every value the schema rejects for its type or shape (and every NaN or
    infinity) is then removed from ``loc.data``, so the hand-written rules
    that follow only ever read values of the type they expect.
    """
    problems: list[Problem] = []
    rejected: list[Path] = []
    for err in validator.iter_errors(loc.data):
        problems.extend(_explain(loc, err))
        rejected += _rejected_paths(err)
    # JSON Schema bounds let NaN through (every comparison with it is false),
    # and .inf where there is no upper bound: no journey number may be either.
    reported = {(p.line, p.column) for p in problems}
    for path, value in _non_finite(loc.data, ()):
        rejected.append(path)
        if loc.where(path) in reported:
            continue
        name = _name_of(path)
        if name == "probability":
            problems.append(loc.problem(path, "probability-range", f"probability {value!r} is not a number in [0, 1]",
                                        "write it as a fraction, e.g. 0.2 for 20%"))
        else:
            problems.append(loc.problem(path, "out-of-range", f"{name!r} is {value!r}; it must be a finite number",
                                        "write an ordinary number; .nan and .inf are not allowed"))
    for path, value, char in bad_characters(loc.data, ()):
        problems.append(loc.problem(path, "invalid-character",
                                    f"{_text_owner(loc.data, path)} holds the character U+{ord(char):04X}, which maps and reports "
                                    f"cannot show: {excerpt(value)}",
                                    "delete it (control characters, U+FFFE/U+FFFF and other non-characters come "
                                    "from copy-paste or broken encodings); tabs and line breaks are fine"))
    loc.data = _prune(loc.data, rejected)
    return problems


def _text_owner(data: Any, path: Path) -> str:
    """How a message names a text value: "the 'name' of step 'kickoff'", "the 'name' of 'persona'"."""
    if len(path) >= 3 and isinstance(path[1], int) and isinstance(data, dict):
        items = data.get(path[0])
        item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        return f"the {_what(path[2:3])} of {_what(path[:2], item)}"
    if len(path) == 2 and all(isinstance(part, str) for part in path):
        return f"the {path[1]!r} of {path[0]!r}"
    return _what(path)


def _forbidden(char: str) -> bool:
    """A character XML 1.0, SVG or Graphviz cannot carry: controls (bar tab and line breaks),
    surrogates, and Unicode non-characters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF)."""
    o = ord(char)
    return ((o < 0x20 and char not in "\t\n\r") or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF
            or 0xFDD0 <= o <= 0xFDEF or (o & 0xFFFE) == 0xFFFE)


def _has_forbidden(text: str) -> str | None:
    if text.isascii() and text.isprintable():
        return None  # the common case, decided in C
    return next((c for c in text if _forbidden(c)), None)


def _leaves(data: Any, path: Path) -> Iterable[tuple[Path, Any]]:
    """(path, value) of every value in a loaded document that is neither a mapping nor a list."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, path + (i,))
    else:
        yield path, data


def bad_characters(data: Any, path: Path) -> Iterable[tuple[Path, str, str]]:
    """(path, text, first bad character) of every text value that holds a character of :func:`_forbidden`."""
    for where, value in _leaves(data, path):
        if isinstance(value, str):
            bad = _has_forbidden(value)
            if bad is not None:
                yield where, value, bad


def _non_finite(data: Any, path: Path) -> Iterable[tuple[Path, float]]:
    for where, value in _leaves(data, path):
        if isinstance(value, float) and not math.isfinite(value):
            yield where, value


# --------------------------------------------------------------------------- meaning


@dataclass
class _Context:
    loc: Located
    problems: list[Problem] = field(default_factory=list)
    step_index: dict[str, int] = field(default_factory=dict)
    flow_path: dict[tuple[str, str], Path] = field(default_factory=dict)

    def error(self, path: Path, rule: str, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.loc.problem(path, rule, message, hint, key=key))

    def dist(self, value: Any, path: Path):
        try:
            return parse_distribution(value)
        except DurationError as exc:
            self.error(path, "invalid-duration", _cut(str(exc), 200),
                       "a duration is 30min, 2h, 3d; a distribution is {exponential: 2h}, "
                       "{triangular: [1h, 2h, 5h]}, {uniform: [1h, 3h]} or {lognormal: {mean: 2h, sd: 1h}}")
            return None


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _ids(ctx: _Context, items: list, kind: str, path: Path) -> dict[str, int]:
    """Collect ids of a list, reporting duplicates; returns id -> index."""
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        ident = item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
        if not isinstance(ident, str):
            continue
        where = path + (i,) if isinstance(item, str) else path + (i, "id")
        if ident in seen:
            first = ctx.loc.where(path + (seen[ident],))[0]
            ctx.error(where, "duplicate-id", f"{kind} id {ident!r} is used twice (first on line {first})",
                      f"give each {kind} its own id")
        else:
            seen[ident] = i
    return seen


def _build(ctx: _Context) -> Journey | None:
    data = ctx.loc.data
    if not isinstance(data, dict):
        return None
    meta = data.get("journey") if isinstance(data.get("journey"), dict) else {}
    pdata = data.get("persona") if isinstance(data.get("persona"), dict) else {}

    tolerance = None
    if isinstance(pdata.get("tolerance"), str):
        try:
            tolerance = parse_duration(pdata["tolerance"])
        except DurationError:
            pass  # reported by the structure pass
    role = pdata.get("role", "user")
    persona = Persona(id=_str(pdata.get("id"), "persona"), name=_str(pdata.get("name"), _str(pdata.get("id"), "persona")),
                      role=role if role in ("decision_maker", "influencer", "user") else "user",
                      goals=tuple(g for g in pdata.get("goals", []) or [] if isinstance(g, str)),
                      tolerance=tolerance)

    raw_stages = data.get("stages") if isinstance(data.get("stages"), list) else []
    stage_ids = _ids(ctx, raw_stages, "stage", ("stages",))
    stages = []
    for s in raw_stages:
        if isinstance(s, str):
            stages.append(Stage(s, s.replace("_", " ").capitalize()))
        elif isinstance(s, dict) and isinstance(s.get("id"), str):
            stages.append(Stage(s["id"], _str(s.get("name"), s["id"].replace("_", " ").capitalize()),
                                _str(s.get("description"))))
    stages = list({s.id: s for s in reversed(stages)}.values())[::-1]  # first wins on duplicates

    raw_depts = data.get("departments") if isinstance(data.get("departments"), list) else []
    dept_ids = _ids(ctx, raw_depts, "department", ("departments",))
    departments = []
    for i, d in enumerate(raw_depts):
        if not isinstance(d, dict) or not isinstance(d.get("id"), str):
            continue
        if d["id"] == CUSTOMER:
            ctx.error(("departments", i, "id"), "duplicate-id",
                      "'customer' is reserved for the customer's own steps",
                      "rename the department, e.g. customer_service")
            continue
        cap = d.get("capacity", 1)
        cap = cap if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 1 else 1
        cost = d.get("cost_per_hour")
        departments.append(Department(d["id"], _str(d.get("name"), d["id"]), cap,
                                      float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None))
    departments = list({d.id: d for d in reversed(departments)}.values())[::-1]

    raw_steps = data.get("steps") if isinstance(data.get("steps"), list) else []
    ctx.step_index = _ids(ctx, raw_steps, "step", ("steps",))
    step_ids = list(ctx.step_index)
    owners = set(dept_ids) | {CUSTOMER}

    # ends and start
    ends: list[str] = []
    raw_end = data.get("end")
    if raw_end is None:
        if step_ids:
            ends = [step_ids[-1]]
    else:
        end_list = [raw_end] if isinstance(raw_end, str) else raw_end if isinstance(raw_end, list) else []
        for i, e in enumerate(end_list):
            p = ("end",) if isinstance(raw_end, str) else ("end", i)
            if isinstance(e, str):
                if e not in ctx.step_index:
                    ctx.error(p, "unknown-reference", f"end step {e!r} does not exist{_gone(ctx.loc, 'steps', e, step_ids)}",
                              "list ids of steps under 'steps'")
                else:
                    ends.append(e)
    start = data.get("start", step_ids[0] if step_ids else "")
    if isinstance(start, str) and start and start not in ctx.step_index:
        ctx.error(("start",), "unknown-reference", f"start step {start!r} does not exist{_gone(ctx.loc, 'steps', start, step_ids)}",
                  "give the id of the first step")
    start = start if isinstance(start, str) else ""

    steps: list[Step] = []
    flows: list[Flow] = []
    for i, s in enumerate(raw_steps):
        if not isinstance(s, dict) or not isinstance(s.get("id"), str):
            continue
        sid = s["id"]
        p = ("steps", i)
        duplicate = ctx.step_index.get(sid) != i  # reported; still checked, not built
        stage = s.get("stage")
        if isinstance(stage, str) and stage not in stage_ids:
            ctx.error(p + ("stage",), "unknown-reference",
                      f"step {sid!r} is in stage {stage!r}, which is not declared{_gone(ctx.loc, 'stages', stage, stage_ids)}",
                      f"declared stages: {', '.join(stage_ids) or 'none'}; add it under 'stages'")
        owner = s.get("owner")
        if isinstance(owner, str) and owner not in owners:
            ctx.error(p + ("owner",), "unknown-reference",
                      f"step {sid!r} is owned by {owner!r}, which is not a department{_gone(ctx.loc, 'departments', owner, owners)}",
                      f"use 'customer' or one of: {', '.join(dept_ids) or 'no departments declared'}")
        duration = ctx.dist(s["duration"], p + ("duration",)) if "duration" in s else None
        channel = s.get("channel")
        lane = s.get("lane")
        if lane is None:
            lane = "customer" if owner == CUSTOMER else "frontstage" if channel else "backstage"
        if owner == CUSTOMER and lane in ("backstage", "support"):
            ctx.error(p + ("lane",), "invalid-flow",
                      f"customer step {sid!r} cannot be in the {lane} lane: the customer is above the line of visibility",
                      "use lane: customer, or give the step to a department")
        if owner not in (None, CUSTOMER) and lane == "customer":
            ctx.error(p + ("lane",), "invalid-value",
                      f"step {sid!r} is owned by {owner!r} but placed in the customer lane",
                      "the customer lane is for steps the customer does: set owner: customer or lane: frontstage")

        join = None
        nxt = s.get("next")
        targets: list[tuple[Any, Path, dict]] = []  # (target, path, flow dict)
        parallel = False
        if nxt is None:
            if sid not in ends and i + 1 < len(raw_steps):
                following = raw_steps[i + 1]
                if isinstance(following, dict) and isinstance(following.get("id"), str):
                    targets.append((following["id"], p + ("id",), {}))
        elif isinstance(nxt, str):
            targets.append((nxt, p + ("next",), {}))
        elif isinstance(nxt, dict) and "parallel" in nxt:
            parallel = True
            join = nxt.get("join") if isinstance(nxt.get("join"), str) else None
            if join is not None and join not in ctx.step_index:
                ctx.error(p + ("next", "join"), "unknown-reference",
                          f"join step {join!r} does not exist{_gone(ctx.loc, 'steps', join, step_ids)}",
                          "the join is the step that waits for every parallel branch; give its id")
                join = None
            elif join == sid:
                ctx.error(p + ("next", "join"), "invalid-parallel",
                          f"step {sid!r} cannot be the join of its own parallel branches",
                          "name the later step where the branches meet again")
                join = None
            for j, b in enumerate(nxt.get("parallel") or []):
                if isinstance(b, str):
                    targets.append((b, p + ("next", "parallel", j), {}))
                elif isinstance(b, dict):
                    targets.append((b.get("to"), p + ("next", "parallel", j, "to"), b))
            for t, tp, fd in targets:
                if "probability" in fd:
                    ctx.error(tp[:-1] + ("probability",), "invalid-parallel",
                              "parallel branches are all taken; they have no probability",
                              "remove 'probability', or use a plain list of branches for a choice")
        elif isinstance(nxt, dict):
            targets.append((nxt.get("to"), p + ("next", "to"), nxt))
        elif isinstance(nxt, list):
            for j, b in enumerate(nxt):
                if isinstance(b, dict):
                    targets.append((b.get("to"), p + ("next", j, "to"), b))
        if nxt is not None and sid in ends:
            ctx.error(p + ("next",), "invalid-flow", f"{sid!r} is an end step, so it cannot have a 'next'",
                      "remove 'next', or remove the step from 'end'", key=True)
            targets = []

        # probabilities
        branch_list = isinstance(nxt, list)
        total = 0.0
        prob_ok = True
        for t, tp, fd in targets:
            prob = fd.get("probability")
            if prob is None:
                prob = 1.0 if (not branch_list or len(targets) == 1 or parallel) else None
                if prob is None:
                    ctx.error(tp[:-1], "probability-sum", f"branch of {sid!r} to {t!r} has no probability",
                              "when a step has several branches, give each one a probability", key=True)
                    prob_ok = False
                    prob = 0.0
            if not isinstance(prob, (int, float)) or isinstance(prob, bool) or not 0 <= prob <= 1:
                prob_ok = False
                prob = 0.0
            total += prob
        if targets and prob_ok and not parallel and abs(total - 1.0) > _PROB_TOLERANCE:
            if len(targets) == 1:
                ctx.error(p + ("next",), "probability-sum",
                          f"{sid!r} has a single flow, with probability {total:g}: a single flow is always taken",
                          "remove 'probability', or list the other branches so they add up to 1", key=True)
            else:
                ctx.error(p + ("next",), "probability-sum",
                          f"the branches of {sid!r} sum to {total:g}, not 1",
                          "adjust the probabilities so they add up to exactly 1", key=True)

        seen_targets: set[str] = set()
        for t, tp, fd in targets:
            if not isinstance(t, str):
                continue
            if duplicate:
                continue
            if t in seen_targets:
                ctx.error(tp, "invalid-flow", f"{sid!r} has two flows to {t!r}",
                          "merge them into one branch (add up the probabilities); "
                          "a parallel block lists each branch once")
                continue
            seen_targets.add(t)
            if t not in ctx.step_index:
                ctx.error(tp, "unknown-reference", f"{sid!r} flows to {t!r}, which is not a step{_gone(ctx.loc, 'steps', t, step_ids)}",
                          "use the id of a step listed under 'steps'")
                continue
            delay = ctx.dist(fd["delay"], tp[:-1] + ("delay",)) if "delay" in fd else None
            prob = fd.get("probability", 1.0)
            prob = float(prob) if isinstance(prob, (int, float)) and not isinstance(prob, bool) else 0.0
            # back to an earlier step is rework, unless marked rework: false (a cycle of use, not redone work)
            rework = fd["rework"] if isinstance(fd.get("rework"), bool) else ctx.step_index[t] <= i
            flows.append(Flow(sid, t, prob, delay, rework, parallel, _str(fd.get("label"))))
            ctx.flow_path[(sid, t)] = tp

        emotion = s.get("emotion")
        if duplicate:
            continue
        steps.append(Step(
            id=sid, name=_str(s.get("name"), sid.replace("_", " ")), stage=_str(stage),
            lane=lane if lane in ("customer", "frontstage", "backstage", "support") else "backstage",
            owner=_str(owner), duration=duration or parse_distribution("0min"),
            channel=channel if isinstance(channel, str) else None,
            value_adding=s.get("value_adding") is True,
            emotion=float(emotion) if isinstance(emotion, (int, float)) and not isinstance(emotion, bool) else None,
            moment_of_truth=s.get("moment_of_truth") is True, notes=_str(s.get("notes")), join=join,
            tolerance=_optional_duration(s.get("tolerance")),
            survey=s.get("survey") if s.get("survey") in ("transactional", "relational") else None))

    workload = _workload(ctx, data.get("workload"))
    if any(p.is_error for p in ctx.problems):
        return None
    return Journey(id=_str(meta.get("id"), persona.id), name=_str(meta.get("name"), persona.name),
                   description=_str(meta.get("description")), persona=persona, stages=tuple(stages),
                   departments=tuple(departments), steps=tuple(steps), flows=tuple(flows), start=start,
                   ends=tuple(ends), workload=workload, source=ctx.loc.file)


def _optional_duration(value: Any) -> float | None:
    """A duration already checked by the schema pass, or None when absent or invalid."""
    try:
        return parse_duration(value) if isinstance(value, str) else None
    except DurationError:
        return None


def parse_arrivals(a: Any) -> Arrivals | None:
    """An ``arrivals:`` mapping already checked by the schema pass; None when absent or invalid."""
    try:
        if isinstance(a, dict) and isinstance(a.get("poisson"), str):
            return Arrivals("poisson", parse_duration(a["poisson"]))
        if isinstance(a, dict) and isinstance(a.get("every"), str):
            return Arrivals("every", parse_duration(a["every"]))
        if isinstance(a, dict) and isinstance(a.get("schedule"), list):
            return Arrivals("schedule", 0.0, tuple(sorted(parse_duration(t) for t in a["schedule"])))
    except DurationError:
        pass  # reported by the structure pass
    return None


def _workload(ctx: _Context, w: Any) -> Workload:
    if not isinstance(w, dict):
        return Workload()
    arrivals = parse_arrivals(w.get("arrivals")) or Arrivals()
    if arrivals.kind in ("poisson", "every") and arrivals.gap <= 0:
        ctx.error(("workload", "arrivals"), "out-of-range", "the gap between arrivals must be longer than zero")
    backlog = []
    for i, b in enumerate(w.get("backlog") or []):
        if isinstance(b, dict) and isinstance(b.get("step"), str):
            if b["step"] not in ctx.step_index:
                ctx.error(("workload", "backlog", i, "step"), "unknown-reference",
                          f"backlog step {b['step']!r} does not exist{_gone(ctx.loc, 'steps', b['step'], ctx.step_index)}")
            elif isinstance(b.get("cases"), int):
                backlog.append(Backlog(b["step"], b["cases"]))
    cases = w.get("cases", 200)
    cases = cases if isinstance(cases, int) and cases >= 1 else 200
    if arrivals.kind == "schedule":
        cases = min(cases, len(arrivals.times)) if "cases" in w else len(arrivals.times)
    warmup = w.get("warmup", 0)
    warmup = warmup if isinstance(warmup, int) and warmup >= 0 else 0
    if warmup >= cases:
        ctx.error(("workload", "warmup"), "out-of-range",
                  f"warmup ({warmup}) leaves no cases out of {cases} to measure",
                  "make warmup smaller than cases")
    return Workload(arrivals, cases, tuple(backlog), warmup)


# --------------------------------------------------------------------------- flow


def _flow_problems(ctx: _Context, journey: Journey) -> None:
    g = nx.DiGraph()
    g.add_nodes_from(s.id for s in journey.steps)
    g.add_edges_from((f.source, f.target) for f in journey.flows if f.probability > 0)
    step_path = lambda sid: ("steps", ctx.step_index[sid], "id")  # noqa: E731

    reachable = nx.descendants(g, journey.start) | {journey.start} if journey.start in g else set()
    for s in journey.steps:
        if s.id not in reachable:
            ctx.error(step_path(s.id), "unreachable-step",
                      f"step {s.id!r} cannot be reached from the start step {journey.start!r}{_removals(ctx.loc)}",
                      "add a flow ('next') that leads to it, or remove it")

    ends = set(journey.ends)
    can_end = set(ends)
    for e in ends:
        can_end |= nx.ancestors(g, e)
    stuck = [s.id for s in journey.steps if s.id in reachable and s.id not in can_end]
    if stuck:
        stuck_set = set(stuck)
        sub = g.subgraph(stuck_set)
        looped: set[str] = set()
        for comp in nx.strongly_connected_components(sub):
            node = next(iter(comp))
            if len(comp) > 1 or g.has_edge(node, node):
                # a closed loop: nothing in it reaches an end
                first = min(comp, key=ctx.step_index.__getitem__)
                members = sorted(comp, key=ctx.step_index.__getitem__)
                ctx.error(step_path(first), "endless-loop",
                          f"cases that enter the loop {' -> '.join(members)} -> {first} can never leave it",
                          "give one of these steps a branch that leads out of the loop towards an end")
                looped |= comp
        for sid in stuck:
            if sid in looped:
                continue
            has_out = bool(journey.flows_from.get(sid))
            msg = (f"step {sid!r} has no way to an end step ({', '.join(journey.ends)})" if has_out else
                   f"step {sid!r} is a dead end: it has no 'next' and is not an end step")
            ctx.error(step_path(sid), "dead-end", msg + _removals(ctx.loc),
                      "add a 'next' towards an end, or list the step under 'end'")

    for s in journey.steps:
        if s.join is not None:
            _parallel_problems(ctx, journey, g, s)


def _parallel_problems(ctx: _Context, journey: Journey, g: nx.DiGraph, fork: Step) -> None:
    """Each branch of a fork must stay inside its block and reach the join step.

    A branch's block is everything reachable from its first step without
    passing the join. Searches stay inside the block, so checking a journey
    with many parallel blocks is linear in its size; steps are visited in file
    order so the messages are the same on every run.
    """
    join = fork.join
    assert join is not None
    where = ("steps", ctx.step_index[fork.id], "next")
    in_file_order = ctx.step_index.__getitem__
    blocks: list[tuple[str, set[str]]] = []
    for f in journey.flows_from[fork.id]:
        if f.target == join:
            continue  # an empty branch: fine, the join just does not wait for it
        block = reach(g.successors, f.target, lambda n: n != join)
        if fork.id in block:
            ctx.error(where, "invalid-parallel", f"branch {f.target!r} of {fork.id!r} loops back before the fork",
                      "rework inside a parallel branch must stay inside the branch", key=True)
            return
        reaches_join = reach(g.predecessors, join, block.__contains__)
        escapes = sorted((n for n in block if n in journey.ends or n not in reaches_join),
                         key=lambda n: (n not in journey.ends, -in_file_order(n)))
        if escapes:  # name the end step it runs into, else the last step that cannot reach the join
            ctx.error(where, "invalid-parallel",
                      f"branch {f.target!r} of {fork.id!r} can finish without reaching the join step {join!r} "
                      f"(via {escapes[0]!r})",
                      f"every path from {f.target!r} must lead to {join!r}", key=True)
            return
        blocks.append((f.target, block))
    seen: dict[str, str] = {}
    for first, block in blocks:
        for n in sorted(block, key=in_file_order):
            if n in seen:
                ctx.error(where, "invalid-parallel",
                          f"step {n!r} belongs to two parallel branches ({seen[n]!r} and {first!r})",
                          "each step may belong to one branch only; a step without 'next' goes on to the step "
                          f"below it in the file, so end each branch with next: {join}", key=True)
                return
            seen[n] = first
    for i, b in enumerate(journey.workload.backlog):
        if b.step in seen:
            ctx.error(("workload", "backlog", i, "step"), "invalid-parallel",
                      f"backlog step {b.step!r} is inside a parallel branch of {fork.id!r}: those cases would "
                      "skip the other branches",
                      f"put the backlog at {fork.id!r} or before it, or at the join {join!r}")
    for first, block in blocks:
        for n in sorted(block, key=in_file_order):
            for pred in g.predecessors(n):
                if pred not in block and pred != fork.id:
                    ctx.error(where, "invalid-parallel",
                              f"step {n!r} in a parallel branch of {fork.id!r} is also entered from {pred!r}, outside the branch",
                              "only the fork may lead into a parallel branch", key=True)
                    return
    for pred in sorted(g.predecessors(join), key=in_file_order):
        if pred != fork.id and pred not in seen:
            ctx.error(where, "invalid-parallel",
                      f"join step {join!r} is also entered from {pred!r}, outside the parallel block of {fork.id!r}",
                      "a join step may only be entered from its own branches", key=True)
            return


def _work_problems(ctx: _Context, journey: Journey) -> None:
    """Refuse a journey whose run would not finish: exact expected visits (see :mod:`journeymap.analysis`)."""
    from .analysis import expected_visits

    try:
        visits = expected_visits(build_graph(journey))
    except (ArithmeticError, ValueError, np.linalg.LinAlgError):
        visits = {s.id: math.inf for s in journey.steps}
    worst = max(visits, key=lambda n: (not math.isfinite(visits[n]), visits[n]), default=None)
    if worst is not None and not visits[worst] <= MAX_VISITS_PER_STEP:
        ctx.error(("steps", ctx.step_index[worst], "id"), "endless-run",
                  f"a case is expected to do step {worst!r} {visits[worst]:,.0f} times; the limit is "
                  f"{MAX_VISITS_PER_STEP:,}: a loop through it is almost never left",
                  "give the rework loop a realistic chance of leaving it (e.g. 0.1 or more)")
        return
    per_case = sum(visits.values())
    cases = journey.workload.cases + sum(b.cases for b in journey.workload.backlog)
    if per_case * cases > MAX_VISITS_PER_RUN:
        where = ("workload", "cases") if ctx.loc.where(("workload", "cases")) != ctx.loc.where(()) else ("steps",)
        ctx.error(where, "endless-run",
                  f"a run would simulate {per_case * cases:,.0f} step visits ({cases:,} cases x {per_case:,.1f} "
                  f"expected visits per case); the limit is {MAX_VISITS_PER_RUN:,}",
                  "simulate fewer cases, or split the journey")


# --------------------------------------------------------------------------- entry points


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
        return Checked(None, [Problem(file, 1, 1, "error", "too-large", "the file is nested too deeply to check",
                                      "see 'Limits' in docs/format.md")])
    except Exception as exc:  # a bug of ours: one file must never stop `validate DIR` or `run DIR`
        return Checked(None, [internal_error(file, exc)])


def internal_error(file: str, exc: BaseException) -> Problem:
    """A problem that reports a bug in journeymap itself, so the other files are still checked."""
    return Problem(file, 1, 1, "error", "internal-error",
                   f"journeymap could not check this file ({type(exc).__name__}); this is a bug in journeymap",
                   "please report it with the file attached")


def _check_text(text: str, file: str, *, lint: bool, referenced: bool) -> Checked:
    loc, problems = load_yaml(text, file)
    if loc is None:
        return Checked(None, sort_problems(problems))
    if referenced and not looks_like_journey(loc.data):
        return Checked(None, [Problem(file, 1, 1, "error", "not-a-journey",
                                      f"{os.path.basename(file)} is not a journey file",
                                      "name a journey file (with journey:, persona:, stages: and steps:)")])
    steps = loc.data.get("steps") if isinstance(loc.data, dict) else None
    if isinstance(steps, list) and len(steps) > MAX_STEPS:  # refused before the costly passes run
        return Checked(None, sort_problems(problems + [loc.problem(
            ("steps",), "too-large", f"the journey has {len(steps):,} steps; the limit is {MAX_STEPS:,}",
            "split it into several journeys (one per stage or per persona); see 'Limits' in docs/format.md")]))
    problems += structure_problems(loc)  # the file itself, before anything reads it (an overlay too)
    merged, more = resolve_overlay(loc, prepare=structure_problems)
    problems += more
    if merged is loc and isinstance(loc.data, dict) and "extends" in loc.data:
        return Checked(None, sort_problems(problems))  # the base could not be read
    base = merged.base if merged is not loc else ""
    if merged is not loc:  # the merged journey must be complete; say only what the files alone did not
        said = {(p.file, p.line, p.column, p.rule) for p in problems}
        problems += [p for p in structure_problems(merged) if (p.file, p.line, p.column, p.rule) not in said]
    loc = merged
    if any(p.rule == "too-large" for p in problems):
        return Checked(None, sort_problems(problems))  # beyond a limit: the later passes would take too long
    ctx = _Context(loc)
    journey = _build(ctx)
    problems += ctx.problems
    if journey is not None and not any(p.is_error for p in problems):
        ctx.problems = []
        _flow_problems(ctx, journey)
        if not ctx.problems:
            _work_problems(ctx, journey)
        problems += ctx.problems
        if not ctx.problems and lint:
            from .lint import lint_journey

            problems += lint_journey(journey, loc, ctx.step_index, ctx.flow_path)
    if any(p.is_error for p in problems):
        journey = None
    elif journey is None:  # a shape no rule named: say so rather than fail without a reason
        problems.append(Problem(file, 1, 1, "error", "wrong-type", "this file does not describe a journey",
                                "start from one of the examples in journeys/"))
    elif base:
        journey = dataclasses.replace(journey, base=base)
    return Checked(journey, sort_problems(problems))


def check_file(path: str | os.PathLike, *, lint: bool = True, referenced: bool = False) -> Checked:
    """Check a journey file on disk (read only; the file is never modified)."""
    file = os.fspath(path)
    try:
        text = read_text(file)
    except FileNotFoundError:
        return Checked(None, [Problem(file, 1, 1, "error", "file", "file not found",
                                      "check the path; journeys live in journeys/*.yaml")])
    except UnicodeDecodeError as exc:
        return Checked(None, [Problem(file, 1, 1, "error", "file", f"cannot read the file: {exc.reason} at byte {exc.start}",
                                      "journey files are UTF-8 text")])
    except OSError as exc:
        return Checked(None, [Problem(file, 1, 1, "error", "file", f"cannot read the file: {exc.strerror or exc}",
                                      "journey files are ordinary UTF-8 text files of at most 10 MB")])
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
