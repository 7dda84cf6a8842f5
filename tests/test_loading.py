"""Safe YAML loading with positions: every key and value located, nothing ever constructed."""

from __future__ import annotations

import math
import os
import time

import pytest
import yaml
from helpers import alias_bomb, dedent
from hypothesis import given
from hypothesis import strategies as st

from journeymap.loading import MAX_DEPTH, MAX_FILE_BYTES, ReferenceOutside, load_yaml, read_text, resolve_reference
from journeymap.problems import EXCERPT_CHARS, excerpt
from journeymap.validation import check_file


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


# --------------------------------------------------------------------------- issue 10: hostile input


def test_a_fifo_named_yaml_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(OSError, match="FIFO"):
        read_text(str(fifo))
    assert time.monotonic() - started < 2
    (p,) = check_file(fifo).problems
    assert p.rule == "file" and "FIFO" in p.message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_without_reading_it(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    (p,) = check_file(device).problems
    assert (p.rule, p.line, p.column) == ("file", 1, 1) and "device" in p.message


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    (p,) = check_file(path).problems
    assert p.rule == "file" and "larger than 10 MB" in p.message


def test_a_9x9_alias_bomb_fails_fast_with_a_located_error():
    started = time.monotonic()
    loc, problems = load_yaml(alias_bomb(9), "bomb.yaml")
    assert time.monotonic() - started < 5
    assert loc is None
    (p,) = problems
    assert p.rule == "too-large" and "alias" in p.message and p.line > 1
    assert len(p.message) < 200


def test_a_few_ordinary_aliases_are_fine():
    loc, problems = load_yaml("a: &d {x: 1}\nb: *d\nc: *d\n", "f.yaml")
    assert problems == [] and loc.data == {"a": {"x": 1}, "b": {"x": 1}, "c": {"x": 1}}


def test_nesting_deeper_than_the_limit_is_refused():
    loc, problems = load_yaml("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", "deep.yaml")
    assert loc is None and problems[0].rule == "too-large"


def test_an_unclosed_quote_is_reported_at_its_own_line():
    text = 'journey: {name: T}\npersona: {id: p, name: "Finance}\nstages: [a]\nsteps: []\n\n\n'
    (p,) = load_yaml(text, "f.yaml")[1]
    assert (p.rule, p.line) == ("yaml-syntax", 2)


def test_a_nul_byte_gets_a_hint():
    (p,) = load_yaml("journey: {name: T}\x00\n", "f.yaml")[1]
    assert p.rule == "yaml-syntax" and "NUL" in p.hint and "UTF-8" in p.hint


@pytest.mark.parametrize("value", [
    "x" * 10_000,                             # a long text
    list(range(10_000)),                      # a long list
    {f"k{i}": i for i in range(10_000)},      # a big mapping
    [[[[[[["deep"]]]]]]],                     # nested
])
def test_excerpt_is_short_whatever_the_value(value):
    assert len(excerpt(value)) <= EXCERPT_CHARS


@pytest.mark.parametrize("ref, outside", [
    ("base.yaml", False),                     # next to the file
    ("sub/base.yaml", False),                 # in a folder below it
    ("sub/../base.yaml", False),              # .. that stays inside
    ("../base.yaml", True),                   # .. that climbs out
    ("/etc/passwd", True),                    # absolute
    ("link/passwd", True),                    # a symlink that leads out
])
def test_references_stay_inside_the_folder_of_their_file(tmp_path, ref, outside):
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "link").symlink_to("/etc")
    if outside:
        with pytest.raises(ReferenceOutside):
            resolve_reference(ref, str(project / "after.yaml"))
    else:
        assert resolve_reference(ref, str(project / "after.yaml")).startswith(str(project))


@pytest.mark.parametrize("text", ["<<: \n", "<<: 1\n", "a: {<<: [1, 2]}\n"])
def test_a_merge_key_without_a_mapping_is_a_located_error(text):
    """Found by tests/test_hostile.py: it raised ConstructorError."""
    _, problems = load_yaml(text, "f.yaml")
    assert [p.rule for p in problems] == ["yaml-syntax"] and "merge key" in problems[0].message


@pytest.mark.parametrize("kind", ["journey", "account"])
def test_an_unreadable_journey_or_account_is_one_located_file_problem(tmp_path, kind):
    """Journeys and accounts report a file they cannot read through one function, loading.unreadable."""
    from journeymap.account import check_account

    check = check_file if kind == "journey" else check_account
    (missing,) = check(tmp_path / "nope.yaml").problems
    assert (missing.rule, missing.line, missing.column, missing.message) == ("file", 1, 1, "file not found")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("account: {name: caf\xe9}\n".encode("latin-1"))
    (p,) = check(latin1).problems
    assert (p.rule, p.line, p.column) == ("file", 1, 1) and "at byte 19" in p.message
    assert p.hint == f"{kind} files are UTF-8 text"
