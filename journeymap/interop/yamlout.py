"""Writing a journey document as a journey file people read and edit: keys in the order docs/format.md gives
them, one step per block, small values in flow style, and a comment above any step.

The document is plain data (the dicts, lists, strings and numbers a journey file holds), so the writer knows
nothing of where it came from; :mod:`journeymap.interop.sheet` builds one from a spreadsheet. Strings are
written plain when YAML reads them back as the same string, else double-quoted (JSON's escapes, which YAML
reads), so no value can turn into a number, a boolean, a comment or a key. :func:`journey_text` also returns
the line of each step, so that a problem the validator finds in the text can be traced back to its source.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["TOP_KEYS", "STEP_KEYS", "WrittenJourney", "journey_text", "scalar", "flow"]

#: Top-level keys in the order of docs/format.md ("Every key, with its default"); others follow in their order.
TOP_KEYS = ("journey", "persona", "stages", "departments", "steps", "start", "end", "workload")
#: A step's keys in the order of docs/format.md ("A step").
STEP_KEYS = ("id", "name", "stage", "owner", "duration", "lane", "channel", "emotion", "value_adding",
             "moment_of_truth", "notes", "next", "must_finish", "tolerance", "survey")

# letters, digits and a few marks, words separated by single spaces: a candidate for a plain scalar in block and
# flow context alike (no ',', brackets, braces, ':' or '#')
_PLAIN = re.compile(r"[\w][\w./'&()+!?%-]*( [\w./'&()+!?%-]+)*", re.UNICODE)


@dataclass(frozen=True)
class WrittenJourney:
    """The text of a journey file and the 1-based line where each step's block starts (``- id: ...``)."""

    text: str
    step_lines: dict[str, int]


def scalar(value: Any) -> str:
    """One value as YAML: numbers and booleans as YAML writes them, a string plain when it reads back as
    itself, else double-quoted.

    >>> scalar("Sales team"), scalar("yes"), scalar("2h"), scalar("a: b"), scalar(0.5), scalar(True)
    ('Sales team', '"yes"', '2h', '"a: b"', '0.5', 'true')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a journey file holds finite numbers only, got {value!r}")
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        mantissa, e, exponent = repr(value).partition("e")
        # YAML 1.1 (PyYAML) reads 1e-07 as text: a float's mantissa needs its point
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else repr(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.fullmatch(text) and _reads_back(text):
        return text
    return _UNPRINTABLE.sub(_escape, json.dumps(text, ensure_ascii=False))


#: Characters YAML does not allow as they are in a stream, or reads as line breaks inside quotes (U+0085,
#: U+2028, U+2029): escaped as \uXXXX, which a double-quoted YAML scalar reads back.
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(m: re.Match[str]) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}" for c in m.group(0))


#: PyYAML's safe loader resolves plain scalars with this resolver: a plain scalar it would read as a number,
#: a boolean, a null or a date is quoted (a regex per scalar, where loading each one took 0.4 ms).
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _reads_back(text: str) -> bool:
    """Whether YAML reads ``text``, written plain, as this very string (not ``yes`` as true, ``1.5`` as a number)."""
    return _RESOLVER.resolve(yaml.nodes.ScalarNode, text, (True, False)) == _STR_TAG


def flow(value: Any) -> str:
    """A value in flow style: ``{to: review, probability: 0.7}``, ``[1h, 2h, 5h]``, or a scalar."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _ordered(data: Mapping[str, Any], order: Sequence[str]) -> list[tuple[str, Any]]:
    known = [(k, data[k]) for k in order if k in data]
    return known + [(k, v) for k, v in data.items() if k not in order]


def _block(key: str, value: Any, indent: str) -> list[str]:
    """``key: value`` at ``indent``; a mapping of small values as a block, a list of mappings one per line."""
    if isinstance(value, Mapping) and value:
        out = [f"{indent}{key}:"]
        for k, v in value.items():
            out.append(f"{indent}  {scalar(k)}: {flow(v)}")
        return out
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
        return [f"{indent}{key}:"] + [f"{indent}  - {flow(v)}" for v in value]
    return [f"{indent}{key}: {flow(value)}"]


def _step_lines(step: Mapping[str, Any]) -> list[str]:
    out = []
    for i, (k, v) in enumerate(_ordered(step, STEP_KEYS)):
        indent = "  - " if i == 0 else "    "
        if k == "next" and isinstance(v, (list, tuple)) and len(v) > 0:
            out.append(f"{indent}next:")
            out += [f"      - {flow(branch)}" for branch in v]
        else:
            out.append(f"{indent}{scalar(k)}: {flow(v)}")
    return out


def journey_text(doc: Mapping[str, Any], *, header: Sequence[str] = (),
                 step_comments: Mapping[str, str] | None = None) -> WrittenJourney:
    """The journey file for ``doc``: the ``header`` lines as comments first, then the keys in the docs' order,
    a blank line between sections, each step's comment (one line, from ``step_comments`` by step id) above it.
    """
    comments = step_comments or {}
    out = [f"# {_one_line(line)}".rstrip() for line in header]
    step_lines: dict[str, int] = {}
    for key, value in _ordered(doc, TOP_KEYS):
        if out:
            out.append("")
        if key == "steps":
            out.append("steps:")
            for step in value:
                if step["id"] in comments:
                    out.append(f"  # {_one_line(comments[step['id']])}")
                step_lines[step["id"]] = len(out) + 1
                out += _step_lines(step)
        else:
            out += _block(scalar(key), value, "")
    return WrittenJourney("\n".join(out) + "\n", step_lines)


def _one_line(text: str) -> str:
    """A comment's text on one line: line breaks and other control characters as spaces."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", text).strip()
    return _UNPRINTABLE.sub(_escape, text)  # what YAML cannot hold even in a comment, as its escape
