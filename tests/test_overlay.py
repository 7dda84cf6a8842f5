"""Scenario overlays: an 'after' file that extends a base journey (journeymap/overlay.py)."""

from __future__ import annotations

import pytest
from helpers import OVERLAY_BASE as BASE

from journeymap.validation import check_file


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
    quote = "  - {id: quote, stage: evaluate, owner: sales, channel: email, duration: 2h, emotion: 1"
    write_journey(BASE.replace(quote + "}", quote + ", next: review}"), "base.yaml")
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


# --------------------------------------------------------------------------- issue 9: overlay traps


def test_a_misspelt_step_id_asks_which_base_step_was_meant(base, write_journey):
    after = write_journey("""
        extends: base.yaml
        steps:
          - {id: reveiw, duration: 2d}
    """, "after.yaml")
    (p,) = check_file(after).errors
    assert (p.rule, p.line, p.column) == ("unknown-reference", 3, 10)
    assert p.message == "the base has no step 'reveiw' — did you mean 'review'?"
    assert "id: review" in p.hint and "after:" in p.hint


def test_a_new_step_without_after_is_an_error_with_a_fix(base, write_journey):
    """It used to become the journey's end step without a word."""
    after = write_journey("""
        extends: base.yaml
        steps:
          - {id: courtesy_call, stage: buy, owner: sales, duration: 15min}
    """, "after.yaml")
    checked = check_file(after)
    (p,) = checked.errors
    assert (p.rule, p.line, p.column) == ("missing-key", 3, 10) and checked.journey is None
    assert "'after:'" in p.message and "after: <id of the step it follows>" in p.hint and "ask, quote" in p.hint


def test_a_problem_caused_by_a_removal_says_so(base, write_journey):
    write_journey(BASE.replace("emotion: 1}\n  - {id: review", "emotion: 1, next: review}\n  - {id: review"),
                  "base.yaml")
    after = write_journey("""
        extends: base.yaml
        remove:
          steps: [review]
    """, "after.yaml")
    (p,) = check_file(after).errors
    assert p.file.endswith("base.yaml") and "the overlay removes it" in p.message and "after.yaml:3" in p.message


def test_a_removed_department_still_owning_a_step_says_so(base, write_journey):
    after = write_journey("""
        extends: base.yaml
        remove: {departments: [legal]}
    """, "after.yaml")
    (p,) = check_file(after).errors
    assert p.rule == "unknown-reference" and "'legal'" in p.message and "the overlay removes it" in p.message


def test_a_wrong_type_in_an_overlay_is_located_not_a_traceback(base, write_journey):
    after = write_journey("extends: base.yaml\ndepartments: [{id: {}}]\n", "after.yaml")
    (p,) = check_file(after).errors
    assert (p.rule, p.file.rsplit("/", 1)[-1], p.line, p.column) == ("wrong-type", "after.yaml", 2, 20)


def test_a_wrong_type_in_the_base_is_reported_in_the_base(write_journey):
    write_journey(BASE.replace("persona: {id: buyer, name: Buyer}", "persona: {id: buyer, goals: 1}"), "base.yaml")
    after = write_journey("extends: base.yaml\n", "after.yaml")
    (p,) = check_file(after).errors
    assert (p.rule, p.file.rsplit("/", 1)[-1], p.line) == ("wrong-type", "base.yaml", 2)


def test_a_chain_of_a_thousand_overlays_stops_at_the_limit(base, write_journey):
    from journeymap.overlay import MAX_OVERLAY_DEPTH

    write_journey("extends: base.yaml\n", "o0.yaml")
    for i in range(1, 1000):
        write_journey(f"extends: o{i - 1}.yaml\n", f"o{i}.yaml")
    checked = check_file(base.parent / "o999.yaml")
    assert checked.journey is None
    (p,) = checked.errors
    assert p.rule == "too-large" and f"more than {MAX_OVERLAY_DEPTH} files" in p.message
    # a chain within the limit works
    assert check_file(base.parent / f"o{MAX_OVERLAY_DEPTH - 3}.yaml").journey is not None


def test_a_base_that_is_not_a_journey_is_named_not_quoted(write_journey, capsys):
    write_journey("secret_one: hunter2\nsecret_two: swordfish\n", "notes.yaml")
    after = write_journey("extends: notes.yaml\n", "after.yaml")
    (p,) = check_file(after).errors
    assert p.rule == "not-a-journey" and "notes.yaml" in p.message
    assert "hunter2" not in p.message + p.hint and "secret" not in p.message + p.hint


def test_a_step_cut_off_by_a_removal_says_which_removal(base, write_journey):
    """Removing the only way into a step makes it unreachable: the message names the removal."""
    base_text = BASE.replace("  - {id: review, stage: buy, owner: legal, duration: 1d}",
                             "  - {id: review, stage: buy, owner: legal, duration: 1d}\n"
                             "  - {id: archive, stage: buy, owner: legal, duration: 1h}")
    assert check_file(write_journey(base_text, "base.yaml")).errors == []
    after = write_journey("""
        extends: base.yaml
        steps:
          - {id: quote, next: sign}
        remove:
          steps: [review]
    """, "after.yaml")
    problems = check_file(after).errors
    assert [p.rule for p in problems] == ["unreachable-step"]
    assert "'archive'" in problems[0].message and "the overlay removes 'review'" in problems[0].message
