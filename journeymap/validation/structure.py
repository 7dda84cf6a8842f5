"""The structure pass: a document against its JSON Schema, explained for people.

jsonschema says *what* failed (``'sale' is not one of [...]``); a designer
needs the key, the line, the allowed values and the likely typo. Each kind of
schema failure has one explainer in :data:`_EXPLAINERS`, keyed by the
jsonschema keyword that failed (``type``, ``enum``, ``required``, ...).

The pass is total: a value the schema rejects for its type or shape (and
every NaN or infinity) is removed from the data afterwards, so the meaning
pass (:mod:`.sections`) only ever reads values of the type it expects.
Text with characters that maps and reports cannot carry is reported here too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import jsonschema

from ..distributions import ELAPSED, DurationError, parse_duration
from ..loading import Located, Path
from ..model import EMOTION_SCALE
from ..problems import Problem, excerpt
from ..schema import DURATION_EXAMPLES, DURATION_PATTERNS, ID_PATTERN, JOURNEY_SCHEMA, MAX_CAPACITY
from .wording import cut, did_you_mean

__all__ = ["structure_problems", "bad_characters", "too_many_steps"]

_VALIDATOR = jsonschema.Draft202012Validator(JOURNEY_SCHEMA)

#: What one item of each list is called in messages.
_ITEM_NOUNS = {"steps": "step", "stages": "stage", "departments": "department", "backlog": "backlog entry",
               "next": "branch", "parallel": "parallel branch", "goals": "goal", "end": "end step",
               "schedule": "arrival time", "targets": "target", "shifts": "shift", "priorities": "priority class",
               "holidays": "holiday", "levers": "lever", "tiers": "tier", "managers": "manager level"}

_JSON_TYPES = {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
               int: "a whole number", float: "a number", type(None): "nothing"}

_SCHEMA_TYPES = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
                 "number": "a number", "boolean": "true or false"}

#: Hints for numbers beyond a limit that is there to keep a run finite.
_LIMITS = {"cases": "a run simulates every case; see 'Limits' in docs/format.md"}

_DURATION_HINT = f"write a number then a unit: {DURATION_EXAMPLES}"
_WORKING_HINTS = {"working": "4wh (working hours)", "business": "2bd (business days)"}


def _duration_hint(pattern: Any) -> str:
    """How to write a duration where ``pattern`` is asked for: the working-time units too where they are allowed."""
    extra = [_WORKING_HINTS[b] for b in DURATION_PATTERNS.get(pattern, ELAPSED) if b in _WORKING_HINTS]
    return _DURATION_HINT + "".join(f", {e}" for e in extra)
_EMOTION_RANGE = f"{min(EMOTION_SCALE)}..{max(EMOTION_SCALE):+d}"
_EMOTION_HINT = ", ".join(f"{k:+d} {v}" if k else f"{k} {v}" for k, v in EMOTION_SCALE.items())
_RELATIONS = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
              "exclusiveMaximum": "less than"}


def _name_of(path: Path) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "the file"


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


def _duration_message(value: Any, pattern: Any) -> str:
    """Why ``value`` is not a duration where ``pattern`` (one of the schema's duration patterns) is asked for."""
    try:
        parse_duration(value, bases=DURATION_PATTERNS.get(pattern, ELAPSED))
        return f"invalid duration {excerpt(value)}"
    except DurationError as exc:
        return cut(str(exc), 200)


def _kind(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _describe_type(t: Any) -> str:
    return _SCHEMA_TYPES.get(t, t) if isinstance(t, str) else str(t)


def too_many_steps(loc: Located, count: int, limit: int) -> Problem:
    """The journey is beyond the step limit: said the same by the early check and by the schema's maxItems."""
    return loc.problem(("steps",), "too-large", f"the journey has {count:,} steps; the limit is {limit:,}",
                       "split it into several journeys (one per stage or per persona); see 'Limits' "
                       "in docs/format.md")


# --------------------------------------------------------------------------- one explainer per schema keyword


@dataclass(frozen=True)
class _Failure:
    """One jsonschema error with what every explainer reads."""

    err: jsonschema.ValidationError
    path: Path
    schema: dict
    inst: Any
    #: the last key on the path ('capacity', 'probability'), which picks the wording
    name: str

    @classmethod
    def of(cls, err: jsonschema.ValidationError) -> _Failure:
        path = tuple(err.absolute_path)
        return cls(err, path, err.schema if isinstance(err.schema, dict) else {}, err.instance, _name_of(path))

    @property
    def description(self) -> str:
        return self.schema.get("description", "")


_Explainer = Callable[[Located, _Failure], Iterable[Problem]]


def _explain(loc: Located, err: jsonschema.ValidationError) -> Iterable[Problem]:
    """Turn one jsonschema error into problems a designer can act on."""
    f = _Failure.of(err)
    if f.schema.get("$comment") == "duration":
        return ()  # parse_distribution gives a far better message in the meaning pass
    if f.schema.get("$comment") == "hours" and isinstance(f.inst, int) and not isinstance(f.inst, bool):
        return (_sexagesimal(loc, f),)
    return _EXPLAINERS.get(str(err.validator), _other)(loc, f)


def _sexagesimal(loc: Located, f: _Failure) -> Problem:
    """Opening hours written as a lone time (``10:00``), which YAML 1.1 reads as a number in base 60 (600)."""
    clock = f"a single time ({f.inst // 60}:{f.inst % 60:02d}), which YAML reads as the number {f.inst:,}" \
        if 60 <= f.inst < 100 * 60 else f"the number {f.inst:,}"
    return loc.problem(f.path, "wrong-type",
                       f"opening hours {_what(f.path)} are {clock}; opening hours are an interval",
                       "write the interval, e.g. 10:00-14:00 (a list for several: [09:00-12:30, 13:30-17:30])")


def _unknown_keys(loc: Located, f: _Failure) -> Iterable[Problem]:
    if not isinstance(f.inst, dict):
        yield from _other(loc, f)
        return
    allowed = list(f.schema.get("properties", {}))
    for key in f.inst:
        if key not in allowed:
            yield loc.problem(f.path + (key,), "unknown-key", f"unknown key {excerpt(key)}{did_you_mean(key, allowed)}",
                              f"allowed keys here: {', '.join(allowed)}", key=True)


def _missing_keys(loc: Located, f: _Failure) -> Iterable[Problem]:
    if not isinstance(f.inst, dict):
        yield from _other(loc, f)
        return
    for key in f.schema.get("required", []):
        if key not in f.inst:
            desc = ((f.schema.get("properties", {}).get(key) or {}).get("description")
                    or _schema_at(f.path + (key,)).get("description", ""))
            yield loc.problem(f.path, "missing-key", f"{_what(f.path, f.inst)} is missing the required key {key!r}",
                              desc, key=bool(f.path))


def _wrong_type(loc: Located, f: _Failure) -> Iterable[Problem]:
    if f.schema.get("pattern") in DURATION_PATTERNS:
        pattern = f.schema["pattern"]
        yield loc.problem(f.path, "invalid-duration", _duration_message(f.inst, pattern), _duration_hint(pattern))
        return
    rule = "invalid-capacity" if f.name == "capacity" else "wrong-type"
    want = f.err.validator_value
    want = " or ".join(want) if isinstance(want, list) else want
    yield loc.problem(f.path, rule, f"{_what(f.path)} must be {_describe_type(want)}, got {_kind(f.inst)} "
                      f"{excerpt(f.inst)}", _number_as_text(f.inst, str(want)) or f.description)


#: A number written with an exponent: YAML 1.1 reads ``1e-9`` and ``1e12`` as text (its floats need a dot
#: and a signed exponent), so a user who wrote a number is told "got text" without this hint.
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _number_as_text(value: Any, want: str) -> str:
    """The fix for a number YAML read as text, or '' when ``value`` is not one."""
    if not isinstance(value, str) or "number" not in want and "integer" not in want \
            or not _EXPONENT.fullmatch(value.strip()):
        return ""
    number = float(value)
    written = str(int(number)) if "integer" in want and number.is_integer() else f"{number:.1e}"
    return f"YAML reads {value.strip()} as text (an exponent needs a dot and a sign, as in 1.0e-9); write {written}"


def _not_allowed(loc: Located, f: _Failure) -> Iterable[Problem]:
    allowed = [str(x) for x in f.err.validator_value]  # type: ignore[union-attr]
    yield loc.problem(f.path, "invalid-value",
                      f"{excerpt(f.inst)} is not a valid {f.name}{did_you_mean(f.inst, allowed)}",
                      f"must be one of: {', '.join(allowed)}")


def _no_match(loc: Located, f: _Failure) -> Iterable[Problem]:
    if f.err.validator_value in DURATION_PATTERNS:
        pattern = f.err.validator_value
        yield loc.problem(f.path, "invalid-duration", _duration_message(f.inst, pattern), _duration_hint(pattern))
    elif f.err.validator_value == ID_PATTERN:
        yield loc.problem(f.path, "invalid-id", f"{excerpt(f.inst)} is not a valid id",
                          "ids start with a letter, then letters, digits, '_', '-' or '.' (ASCII only); no spaces")
    else:  # pragma: no cover - no other patterns in the schema
        yield loc.problem(f.path, "invalid-value", f"{excerpt(f.inst)} does not match {f.err.validator_value}")


def _out_of_range(loc: Located, f: _Failure) -> Iterable[Problem]:
    """A number beyond a bound; capacities, probabilities and emotions say their scale in their own words."""
    if f.name == "capacity":
        yield loc.problem(f.path, "invalid-capacity",
                          f"capacity must be a whole number from 1 to {MAX_CAPACITY}, got {f.inst!r}",
                          "capacity is how many people of the department can work on cases at once")
    elif f.name == "probability":
        yield loc.problem(f.path, "probability-range", f"probability {f.inst!r} is outside [0, 1]",
                          "write it as a fraction, e.g. 0.2 for 20%")
    elif f.name == "emotion":
        yield loc.problem(f.path, "out-of-range", f"emotion {f.inst!r} is outside the scale {_EMOTION_RANGE}",
                          _EMOTION_HINT)
    else:
        v = str(f.err.validator)
        hint = _LIMITS[f.name] if v == "maximum" and f.name in _LIMITS else f.description
        yield loc.problem(f.path, "out-of-range",
                          f"{f.name!r} is {excerpt(f.inst)}; it must be {_RELATIONS[v]} {f.err.validator_value:,}",
                          hint)


def _too_long(loc: Located, f: _Failure) -> Iterable[Problem]:
    yield loc.problem(f.path, "invalid-id", f"{excerpt(f.inst)} is too long for an id ({len(f.inst):,} characters; "
                      f"at most {f.err.validator_value})", "ids are short names such as legal_review")


def _wrong_size(loc: Located, f: _Failure) -> Iterable[Problem]:
    v = str(f.err.validator)
    many = len(f.inst) if isinstance(f.inst, (list, dict)) else 0
    noun = "item(s)" if v.endswith("Items") else "key(s)"
    bound = f.err.validator_value
    if v.startswith("max") and f.name == "steps":
        yield too_many_steps(loc, many, cast(int, bound))
    elif v.startswith("max"):  # never jsonschema's message: it quotes the whole (long) value
        yield loc.problem(f.path, "wrong-size", f"{_what(f.path)} has {many:,} {noun}; it takes at most {bound:,}",
                          f.description)
    else:  # the value is short: jsonschema's message quotes it
        yield loc.problem(f.path, "wrong-size", f"{_what(f.path)}: {cut(f.err.message)}", f.description)


def _other(loc: Located, f: _Failure) -> Iterable[Problem]:
    yield loc.problem(f.path, "wrong-type", f"{_what(f.path)}: {cut(f.err.message)}", f.description)


def _explain_any_of(loc: Located, f: _Failure) -> Iterable[Problem]:
    """Explain an anyOf failure through the branch the author most likely meant."""
    err = f.err
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in err.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    options: list = err.validator_value  # type: ignore[assignment]
    candidates = []
    for idx, subschema in enumerate(options):
        errs = branches.get(idx, [])
        if any(e.validator == "type" and tuple(e.absolute_path) == f.path for e in errs):
            continue  # this branch wants another kind of value altogether
        required = subschema.get("required", []) if isinstance(subschema, dict) else []
        present = sum(1 for r in required if isinstance(f.inst, dict) and r in f.inst)
        candidates.append((-present, len(errs), idx, errs))
    if not candidates:
        kinds = sorted({_describe_type(o.get("type")) for o in options if isinstance(o, dict) and o.get("type")})
        yield loc.problem(f.path, "wrong-type",
                          f"{_what(f.path)} cannot be {_kind(f.inst)}; expected {' or '.join(kinds)}", f.description)
        return
    candidates.sort(key=lambda c: c[:3])
    for sub in candidates[0][3]:
        yield from _explain(loc, sub)


_EXPLAINERS: dict[str, _Explainer] = {
    "additionalProperties": _unknown_keys,
    "required": _missing_keys,
    "anyOf": _explain_any_of,
    "oneOf": _explain_any_of,
    "type": _wrong_type,
    "enum": _not_allowed,
    "pattern": _no_match,
    **dict.fromkeys(_RELATIONS, _out_of_range),
    "maxLength": _too_long,
    **dict.fromkeys(("minItems", "maxItems", "minProperties", "maxProperties"), _wrong_size),
}


# --------------------------------------------------------------------------- removing what was rejected


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
        explained = list(_explain(loc, err))
        problems.extend(explained)
        if explained:  # a value is only ever removed with a problem that says why (a flow whose only
            rejected += _rejected_paths(err)  # fault is its delay is kept: the meaning pass explains the delay)
    rejected += _non_finite_problems(loc, problems)
    for path, value, char in bad_characters(loc.data, ()):
        problems.append(loc.problem(path, "invalid-character",
                                    f"{_text_owner(loc.data, path)} holds the character U+{ord(char):04X}, which maps "
                                    f"and reports cannot show: {excerpt(value)}",
                                    "delete it (control characters, U+FFFE/U+FFFF and other non-characters come "
                                    "from copy-paste or broken encodings); tabs and line breaks are fine"))
    loc.data = _prune(loc.data, rejected)
    return problems


def _non_finite_problems(loc: Located, problems: list[Problem]) -> list[Path]:
    """Report NaN and infinities the schema let through (not twice at one spot); returns their paths.

    JSON Schema bounds let NaN through (every comparison with it is false),
    and .inf where there is no upper bound: no journey number may be either.
    """
    reported = {(p.line, p.column) for p in problems}
    rejected = []
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
    return rejected


# --------------------------------------------------------------------------- characters and numbers


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
