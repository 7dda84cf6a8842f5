"""Broken and hostile input (issue 10): never a traceback, never a hang, never a changed input.

Two families of tests:

* a property-based test that mutates the bundled journeys and accounts the
  way careless editing, scripts and attackers do (keys deleted, types swapped,
  huge, negative and non-finite numbers, empty collections, odd Unicode, cut
  files) and runs ``journeymap validate`` on each, in process;
* what validates, renders: every view and chart of a journey whose names are
  drawn from the whole Unicode range is valid XML.

The property test runs ``HOSTILE_EXAMPLES`` examples (default 40) in the
normal run; the ``slow`` one, only when ``HOSTILE_SLOW=1`` is set, runs
``HOSTILE_SLOW_EXAMPLES`` (default 1,000)::

    HOSTILE_EXAMPLES=500 pytest tests/test_hostile.py
    HOSTILE_SLOW=1 pytest -m slow tests/test_hostile.py
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ALL_EXAMPLES, JOURNEYS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap.cli import main
from journeymap.validation import bad_characters, check_text

EXAMPLES_DEFAULT = int(os.environ.get("HOSTILE_EXAMPLES", "40"))
EXAMPLES_SLOW = int(os.environ.get("HOSTILE_SLOW_EXAMPLES", "1000"))
#: Most time one `validate` may take on a mutated file.
SECONDS = 10.0

_TEXTS = {f.name: f.read_text(encoding="utf-8") for f in ALL_EXAMPLES}
_DATA = {name: yaml.safe_load(text) for name, text in _TEXTS.items()}


# --------------------------------------------------------------------------- mutations

odd_text = st.one_of(
    st.text(max_size=12),                                                      # any code point, surrogates included
    st.sampled_from(["", " ", "\x00", "\a", "\ufffe", "\uffff", "\U0010ffff", "\ud800", "\u202eevil", "a\u0301",
                     "🧑‍🤝‍🧑", "مرحبا", "漢字", "<b>&amp;</b>", "{{x}}", "%s%n", "\\", "'\"", "x" * 5000]),
)
numbers = st.one_of(
    st.sampled_from([0, -1, 1, 10**12, -(10**12), 2**63, 10**400, 0.0, -0.0, 1e-9, 1e308, -1e308,
                     math.inf, -math.inf, math.nan, 0.5, 1.0000001, True, False]),
    st.integers(), st.floats(allow_nan=True, allow_infinity=True),
)
replacement = st.one_of(
    numbers, odd_text, st.none(),
    st.sampled_from([[], {}, [None], [[]], [{}], {"id": {}}, {"": None}, ["a", 1, None]]),
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into ``data`` (mapping keys and list indices), the root excluded."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append(prefix + (i,))
            out += _paths(v, prefix + (i,))
    return out


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


#: Files that read another bundled file: mutate the one, validate the other too.
_READERS = {"insurance-before.yaml": "insurance-more-staff.yaml",
            **{n: "acme-account.yaml" for n in _TEXTS if n.startswith("acme-") and n != "acme-account.yaml"}}


@st.composite
def cases(draw) -> tuple[str, str, str]:
    """(file to validate, file mutated, its new text): a mutated file, or a file that reads it."""
    name, text = draw(mutated())
    target = draw(st.sampled_from([name, _READERS.get(name, name)]))
    return target, name, text


@st.composite
def mutated(draw) -> tuple[str, str]:
    """(file name, new text): one bundled file with one to three mutations."""
    name = draw(st.sampled_from(sorted(_TEXTS)))
    kind = draw(st.sampled_from(["data", "data", "data", "text"]))
    if kind == "text":  # a cut, a stray character, a duplicated chunk
        text = _TEXTS[name]
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "insert", "repeat"]))
        if how == "cut":
            return name, text[:at]
        if how == "insert":
            return name, text[:at] + draw(st.sampled_from(["\t", ":", "- ", "&a ", "*a", "!!python/name:os.system ",
                                                           "\"", "'", "[", "{", "\x00", "\ufeff", "---\n", "<<: "]))
        return name, text[:at] + text[max(0, at - 200):at] + text[at:]
    data = yaml.safe_load(_TEXTS[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        op = draw(st.sampled_from(["delete", "replace", "replace", "wrap", "empty", "stringify"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = copy.deepcopy(draw(replacement))  # sampled values are shared objects
        elif op == "wrap":
            value = parent[path[-1]]
            parent[path[-1]] = [value] if draw(st.booleans()) else {"x": value}
        elif op == "empty":
            parent[path[-1]] = type(parent[path[-1]])() if isinstance(parent[path[-1]], (list, dict, str)) else None
        else:
            parent[path[-1]] = str(parent[path[-1]])
    return name, yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def _validate_in_process(path: Path) -> tuple[int, str, float]:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    return code, out.getvalue() + err.getvalue(), time.monotonic() - started


def _check_mutation(case: tuple[str, str, str]) -> None:
    validated, name, text = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for f in ALL_EXAMPLES:
            shutil.copy(f, folder / f.name)
        (folder / name).write_bytes(text.encode("utf-8", "surrogatepass"))
        before = {f.name: f.read_bytes() for f in folder.iterdir()}
        code, output, seconds = _validate_in_process(folder / validated)
        assert code in (0, 1, 2, 3), output
        assert "Traceback" not in output and "[internal-error]" not in output, output
        assert seconds < SECONDS, f"validate took {seconds:.1f} s"
        assert {f.name: f.read_bytes() for f in folder.iterdir()} == before, "an input file changed"
        assert all(len(line) < 2_000 for line in output.splitlines()), "a message quotes too much"


@settings(max_examples=EXAMPLES_DEFAULT, deadline=timedelta(seconds=SECONDS), derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_validate_survives_mutated_examples(case):
    _check_mutation(case)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("HOSTILE_SLOW"), reason="set HOSTILE_SLOW=1 for a thousand mutations")
@settings(max_examples=EXAMPLES_SLOW, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_validate_survives_many_mutated_examples(case):
    _check_mutation(case)


def test_the_examples_are_unchanged_by_the_mutations():
    """The strategies mutate copies: the bundled files on disk are what they were."""
    assert {f.name: f.read_text(encoding="utf-8") for f in ALL_EXAMPLES} == _TEXTS
    assert JOURNEYS.is_dir()


# --------------------------------------------------------------------------- what validates, renders


def _wide_unicode(count: int, stride: int = 89) -> list[str]:
    """``count`` names of 12 characters sampled across the whole code space (planes 0-3),
    keeping the characters validation accepts, plus hand-picked hard cases."""
    chars = [chr(c) for c in range(0x20, 0x33000, stride)
             if not list(bad_characters(chr(c), ()))]
    names = ["".join(chars[i:i + 12]).strip() or "x" for i in range(0, len(chars), 12)]
    hard = ["Café über naïve", "見積もり依頼", "🧑‍💼 sign-off ✅", "מחיר ← שלום", "مراجعة العقد",
            "e\u0301\u0302\u0303 combining", "<legal> & \"quotes\" 'too'", "back\\slash {brace} |pipe|",
            "\u200b\u200d zero width", "line\nbreak\tand tab", "\U0001f600\U0001f4bc\U0001f3e6", "Ωμέγα Σ"]
    step = max(1, len(names) // count)
    return hard + names[::step][: max(0, count - len(hard))]


def _unicode_journey(names: list[str]) -> str:
    """A small journey with a rework loop and a label, every name taken from ``names``, as YAML."""
    n = len(names) - 10
    steps = []
    for i in range(n):
        owner = "customer" if i % 3 == 0 else f"d{i % 3}"
        step: dict[str, Any] = {"id": f"s{i}", "stage": f"st{min(2, 3 * i // n)}", "owner": owner,
                                "duration": "1h", "name": names[i + 10]}
        step.update({"channel": "email", "emotion": 1} if owner == "customer" else {"value_adding": True})
        if i == n - 3:
            step["next"] = [{"to": f"s{i - 1}", "probability": 0.2, "label": names[i + 10][:20]},
                            {"to": f"s{i + 1}", "probability": 0.8}]
        steps.append(step)
    data = {
        "journey": {"id": "wide", "name": names[0], "description": names[1]},
        "persona": {"id": "p", "name": names[2], "goals": [names[3]]},
        "stages": [{"id": f"st{i}", "name": names[4 + i]} for i in range(3)],
        "departments": [{"id": f"d{i}", "name": names[7 + i], "capacity": 2} for i in range(3)],
        "steps": steps,
        "workload": {"arrivals": {"every": "1d"}, "cases": 12},
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


@pytest.mark.exe
@pytest.mark.filterwarnings("ignore:Glyph")  # matplotlib's fonts lack many scripts: boxes, still valid XML
def test_every_view_of_a_wide_unicode_journey_is_valid_xml(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' is not installed")
    from journeymap.rendering import render_all
    from journeymap.simulation import simulate

    text = _unicode_journey(_wide_unicode(60))
    checked = check_text(text, str(tmp_path / "wide.yaml"))
    assert checked.errors == [], checked.errors[:3]
    journey = checked.journey
    result = simulate(journey, replications=1, seed=1)
    written = render_all(journey, tmp_path / "out", results=result.summary, formats=("svg",))
    svgs = [p for p in written if p.endswith(".svg")]
    assert {"map.svg", "blueprint.svg", "handoffs.svg", "emotion.svg"} <= {os.path.basename(p) for p in svgs}
    for path in svgs:
        ET.parse(path)  # raises on invalid XML


def test_a_name_refused_at_validation_would_have_broken_the_render():
    """The characters validation refuses are the ones that broke `render` (U+FFFE) and emotion.svg (a bell)."""
    names = _wide_unicode(14)
    for bad in ("\ufffe", "\a"):
        names[12] = "Sign" + bad
        checked = check_text(_unicode_journey(names), "bad.yaml")
        assert [p.rule for p in checked.errors] == ["invalid-character"], checked.errors
