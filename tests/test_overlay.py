"""Scenario overlays: an 'after' file that extends a base journey (journeymap/overlay.py)."""

from __future__ import annotations

import pytest

from journeymap.validation import check_file

BASE = """
journey: {id: base, name: Base}
persona: {id: buyer, name: Buyer}
stages: [evaluate, buy]
departments:
  - {id: sales, capacity: 2}
  - {id: legal, capacity: 1}
steps:
  - {id: ask, stage: evaluate, owner: customer, duration: 1h, emotion: 0}
  - {id: quote, stage: evaluate, owner: sales, channel: email, duration: 2h, emotion: 1}
  - {id: review, stage: buy, owner: legal, duration: 1d}
  - {id: sign, stage: buy, owner: customer, duration: 1h, emotion: 1, value_adding: true}
"""


@pytest.fixture
def base(write_journey):
    return write_journey(BASE, "base.yaml")


def test_overlay_overrides_by_id_and_keeps_the_rest(base, write_journey):
    after = write_journey("""
        extends: base.yaml
        journey: {name: Faster legal}
        departments:
          - {id: legal, capacity: 3}
        steps:
          - id: review
            duration: 4h
    """, "after.yaml")
    checked = check_file(after)
    assert checked.errors == []
    j = checked.journey
    assert j.name == "Faster legal" and j.id == "base"             # journey keys merged one by one
    assert j.department_by_id["legal"].capacity == 3
    assert j.department_by_id["sales"].capacity == 2                # untouched entries kept
    assert j.step_by_id["review"].duration.mean == 240
    assert j.step_by_id["review"].owner == "legal"                  # keys not given are inherited
    assert [s.id for s in j.steps] == ["ask", "quote", "review", "sign"]
    assert j.base == str(base)


def test_new_step_goes_after_the_named_step_and_removed_steps_are_gone(base, write_journey):
    after = write_journey("""
        extends: base.yaml
        steps:
          - {id: precheck, after: quote, stage: evaluate, owner: sales, duration: 30min}
        remove:
          steps: [review]
    """, "after.yaml")
    j = check_file(after).journey
    assert [s.id for s in j.steps] == ["ask", "quote", "precheck", "sign"]
    # default flows follow the merged order: quote -> precheck -> sign
    assert [f.target for f in j.flows_from["quote"]] == ["precheck"]
    assert [f.target for f in j.flows_from["precheck"]] == ["sign"]


def test_problems_point_at_the_file_and_line_they_come_from(base, write_journey):
    after = write_journey("""
        extends: base.yaml
        steps:
          - id: quote
            owner: salez
            next: review
        remove:
          steps: [review, nope]
    """, "after.yaml")
    problems = check_file(after).errors
    by_rule = {(p.rule, p.file.rsplit("/", 1)[-1], p.line, p.column) for p in problems}
    # the override is wrong in the overlay...
    assert ("unknown-reference", "after.yaml", 4, 12) in by_rule
    assert ("unknown-reference", "after.yaml", 5, 11) in by_rule      # next: review, which is removed
    # ...and removing an id the base does not have is reported where it is written
    assert ("unknown-reference", "after.yaml", 7, 19) in by_rule


def test_an_inherited_reference_to_a_removed_step_points_into_the_base(base, write_journey):
    write_journey(BASE.replace("  - {id: quote, stage: evaluate, owner: sales, channel: email, duration: 2h, emotion: 1}",
                               "  - {id: quote, stage: evaluate, owner: sales, channel: email, duration: 2h, emotion: 1, next: review}"),
                  "base.yaml")
    after = write_journey("""
        extends: base.yaml
        remove:
          steps: [review]
    """, "after.yaml")
    problems = check_file(after).errors
    assert [(p.rule, p.file.rsplit("/", 1)[-1], p.line) for p in problems] == [("unknown-reference", "base.yaml", 9)]


@pytest.mark.parametrize("text, rule", [
    ("extends: missing.yaml\n", "unknown-reference"),                 # the base cannot be read
    ("extends: after.yaml\n", "invalid-value"),                       # extends itself
])
def test_bad_extends_is_reported_without_traceback(write_journey, text, rule):
    after = write_journey(text, "after.yaml")
    problems = check_file(after).errors
    assert [p.rule for p in problems] == [rule]
    assert problems[0].line == 1


def test_after_and_remove_belong_to_overlays_only(write_journey):
    path = write_journey(BASE.replace("duration: 1d}", "duration: 1d, after: quote}") + "remove: {steps: [ask]}\n")
    rules = sorted(p.rule for p in check_file(path).errors)
    assert rules == ["invalid-flow", "invalid-flow"]


def test_the_overlay_file_is_never_modified(base, write_journey):
    after = write_journey("extends: base.yaml\njourney: {name: x}\n", "after.yaml")
    before_bytes, base_bytes = after.read_bytes(), base.read_bytes()
    check_file(after)
    assert after.read_bytes() == before_bytes and base.read_bytes() == base_bytes


def test_an_unknown_after_and_a_base_that_is_not_a_journey_are_reported(base, write_journey):
    after = write_journey("""
        extends: base.yaml
        steps:
          - {id: extra, after: nope, stage: buy, owner: sales, duration: 1h}
    """, "after.yaml")
    assert [(p.rule, p.line, p.column) for p in check_file(after).errors] == [("unknown-reference", 3, 24)]
    write_journey("- just\n- a list\n", "list.yaml")
    odd = write_journey("extends: list.yaml\n", "odd.yaml")
    problems = check_file(odd).errors
    assert [p.rule for p in problems] == ["not-a-journey"] and "is not a journey" in problems[0].message
