"""Safe YAML loading with positions: every key and value located, nothing ever constructed."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given, strategies as st

from journeymap.loading import load_yaml, read_text
from conftest import dedent


def test_positions_of_values_and_keys_are_one_based():
    loc, problems = load_yaml(dedent("""
        journey:
          name: T
        steps:
          - id: a
            duration: {exponential: 2h}
        """), "f.yaml")
    assert problems == []
    assert loc.values[("journey", "name")] == (2, 9)
    assert loc.keys[("journey", "name")] == (2, 3)
    assert loc.values[("steps", 0)] == (4, 5)           # the item's mapping starts at its first key
    assert loc.values[("steps", 0, "id")] == (4, 9)
    assert loc.values[("steps", 0, "duration", "exponential")] == (5, 29)
    assert loc.keys[("steps", 0, "duration")] == (5, 5)


def test_where_falls_back_to_the_nearest_parent():
    loc, _ = load_yaml("journey:\n  name: T\n", "f.yaml")
    assert loc.where(("journey", "missing", "deeper")) == (2, 3)     # the 'journey' mapping
    assert loc.where(("journey", "missing"), key=True) == (1, 1)     # the key 'journey'
    assert loc.where(()) == (1, 1)


def test_duplicate_keys_are_reported_not_silently_overwritten():
    loc, problems = load_yaml("persona: {id: p, id: q}\n", "f.yaml")
    (p,) = problems
    assert (p.rule, p.line, p.column) == ("duplicate-key", 1, 18)
    assert "first on line 1" in p.message
    assert loc.data == {"persona": {"id": "p"}}                    # the first one is kept


@pytest.mark.parametrize("text, line, column, tag", [
    # a sequence that would run a shell command with the unsafe loader
    ('x: !!python/object/apply:os.system ["touch {marker}"]\n', 1, 4, "!!python/object/apply:os.system"),
    # a mapping that would build an object
    ("x: !!python/object:collections.OrderedDict {a: 1}\n", 1, 4, "!!python/object:collections.OrderedDict"),
    # a scalar
    ('x: !!python/name:os.system ""\n', 1, 4, "!!python/name:os.system"),
    # a local tag
    ("x:\n  y: !include other.yaml\n", 2, 6, "!include"),
    # binary data is not plain text
    ("x: !!binary aGVsbG8=\n", 1, 4, "!!binary"),
])
def test_unsafe_tags_are_refused_and_never_executed(tmp_path, text, line, column, tag):
    marker = tmp_path / "executed"
    _, problems = load_yaml(text.replace("{marker}", str(marker)), "f.yaml")
    unsafe = [p for p in problems if p.rule == "unsafe-tag"]
    assert [(p.line, p.column) for p in unsafe] == [(line, column)]
    assert repr(tag) in unsafe[0].message
    assert not marker.exists()


def test_merge_keys_and_anchors_are_plain_data():
    loc, problems = load_yaml("base: &b {stage: a, owner: x}\nstep: {<<: *b, id: s}\n", "f.yaml")
    assert problems == []
    assert loc.data["step"] == {"stage": "a", "owner": "x", "id": "s"}


def test_dates_stay_as_written():
    loc, _ = load_yaml("name: 2024-01-01\n", "f.yaml")
    assert loc.data == {"name": "2024-01-01"}


@pytest.mark.parametrize("text, rule, line, column", [
    ("journey:\n\tname: T\n", "yaml-syntax", 2, 1),            # a tab
    ("journey: {name: T\npersona: {id: p}\n", "yaml-syntax", 2, 8),
    ("a: b: c\n", "yaml-syntax", 1, 5),
    ("", "empty-file", 1, 1),
    ("# only a comment\n", "empty-file", 1, 1),
    ("a: 1\n---\nb: 2\n", "yaml-syntax", 3, 1),                  # two documents
    ("? [a, b]\n: 1\n", "wrong-type", 1, 3),                      # a list as a key
])
def test_load_problems_are_located(text, rule, line, column):
    _, problems = load_yaml(text, "f.yaml")
    assert [(p.rule, p.line, p.column) for p in problems] == [(rule, line, column)]
    assert problems[0].hint


def test_tab_message_says_what_to_do():
    (p,) = load_yaml("journey:\n\tname: T\n", "f.yaml")[1]
    assert "tab" in p.message and "spaces" in p.hint


def test_read_text_accepts_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffjourney: {name: T}\n".encode("utf-8"))
    assert read_text(str(path)) == "journey: {name: T}\n"


# Plain data a journey file could hold; keys are text, as in journeys.
_scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
            | st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda x: not math.isinf(x))
            | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))
_data = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text("abcdefgh_", min_size=1, max_size=8), inner, max_size=4),
                     max_leaves=20)


@given(_data.filter(lambda d: d is not None))
def test_load_of_dump_is_identity_and_everything_is_located(data):
    """Property: load_yaml(safe_dump(x)).data == x, and every value has a position."""
    text = yaml.safe_dump({"root": data}, allow_unicode=True)
    loc, problems = load_yaml(text, "f.yaml")
    assert problems == []
    assert loc.data == {"root": data}

    def paths(x, path):
        yield path
        if isinstance(x, dict):
            for k, v in x.items():
                yield from paths(v, path + (k,))
        elif isinstance(x, list):
            for i, v in enumerate(x):
                yield from paths(v, path + (i,))

    lines = text.count("\n") + 1
    for p in paths(data, ("root",)):
        line, column = loc.values[p]
        assert 1 <= line <= lines and column >= 1
