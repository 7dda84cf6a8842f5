"""Validation rules and lint warnings: one small bad file per rule id, located to the column.

Each row of ERROR_CASES / WARNING_CASES is the smallest journey that breaks
one rule, the exact line and column the problem must point at, and words
the message and hint must contain (the bad value and how to fix it).
"""

from __future__ import annotations

import pytest
from helpers import DATA, DOZEN, EXAMPLES, HEAD, TWO_STEPS, J, dedent, step_items
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.errors import JourneyInvalid
from journeymap.lint import LINT_RULES
from journeymap.validation import RULES, check_file, check_text, load_journey

# HEAD, J and TWO_STEPS come from helpers.py: lines 1-7 of every case, steps from line 8 on.

# (rule, text, line, column, words in the message, words in the hint or None when the problem has no hint)
ERROR_CASES = [
    pytest.param("yaml-syntax", "journey: {name: T\npersona: {id: p}\n", 2, 8, "YAML syntax error", "indentation",
                 id="yaml-syntax: unclosed flow mapping"),
    pytest.param("empty-file", "# nothing yet\n", 1, 1, "empty", "examples",
                 id="empty-file"),
    pytest.param("duplicate-key", HEAD.replace("persona: {id: p}", "persona: {id: p, id: q}") + step_items(TWO_STEPS),
                 2, 18, "'id' appears twice", "keeps only the last",
                 id="duplicate-key"),
    pytest.param("unsafe-tag",
                 HEAD.replace("{name: T}", "{name: !!python/object/apply:os.system [ls]}") + step_items(TWO_STEPS),
                 1, 17, "!!python/object/apply:os.system", "plain data",
                 id="unsafe-tag"),
    pytest.param("unknown-key", J("""
      - id: s1
        stage: a
        owner: sales
        duration: 1h
        valu_adding: true
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 12, 5, "unknown key 'valu_adding' (did you mean 'value_adding'?)", "allowed keys here",
                 id="unknown-key: misspelt, closest suggested"),
    pytest.param("missing-key", J("""
      - id: s1
        stage: a
        owner: sales
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 5, "step 's1' is missing the required key 'duration'", "30min",
                 id="missing-key: a step without duration"),
    pytest.param("missing-key",
                 "journey: {name: T}\nstages: [a]\nsteps:\n  - {id: s, stage: a, owner: customer, duration: 1h}\n",
                 1, 1, "the file is missing the required key 'persona'", "Who walks this journey",
                 id="missing-key: top level"),
    pytest.param("wrong-type", J("""
      - {id: s1, stage: [a], owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 21, "'stage' must be text, got a list", "stage",
                 id="wrong-type"),
    pytest.param("wrong-type", J("""
      - s1
    """), 8, 5, "step 1 must be a mapping, got text 's1'", None,
                 id="wrong-type: a step given as a bare id"),
    pytest.param("wrong-type", J("""
      - id: s1
        stage: a
        owner: sales
        duration: 1h
        next: [s2]
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 12, 12, "branch 1 must be a mapping, got text 's2'", "to:",
                 id="wrong-type: branches given as bare ids"),
    pytest.param("invalid-value", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h, lane: backstag}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 58, "'backstag' is not a valid lane (did you mean 'backstage'?)", "frontstage",
                 id="invalid-value: lane"),
    pytest.param("invalid-id", J("""
      - {id: s 1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 10, "'s 1' is not a valid id", "no spaces",
                 id="invalid-id"),
    pytest.param("out-of-range", J("""
      - {id: s1, stage: a, owner: customer, duration: 1h, emotion: 5}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 64, "emotion 5 is outside the scale -3..+3", "delighted",
                 id="out-of-range: emotion"),
    pytest.param("out-of-range", J(TWO_STEPS, "workload: {cases: 10, warmup: 10}\n"), 10, 31,
                 "warmup (10) leaves no cases out of 10", "smaller than cases",
                 id="out-of-range: warmup"),
    pytest.param("out-of-range", J("""
      - {id: s1, stage: a, owner: customer, duration: 1h, emotion: .nan}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 64, "'emotion' is nan", ".nan",
                 id="out-of-range: NaN"),
    pytest.param("wrong-size", HEAD.replace("[a, b]", "[]") + step_items(TWO_STEPS), 3, 9,
                 "'stages': [] should be non-empty", "stages in order", id="wrong-size"),
    pytest.param("invalid-duration", J("""
      - {id: s1, stage: a, owner: sales, duration: 30}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 48, "duration 30 has no unit; write it with one, e.g. 30min", "2h",
                 id="invalid-duration: bare number"),
    pytest.param("invalid-duration", J("""
      - {id: s1, stage: a, owner: sales, duration: {triangular: [3h, 2h, 1h]}}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 48, "shortest <= most likely <= longest", "triangular",
                 id="invalid-duration: distribution parameters"),
    pytest.param("invalid-duration", J("""
      - {id: s1, stage: a, owner: sales, duration: 2 fortnights}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 48, "unknown time unit 'fortnights'", "30min",
                 id="invalid-duration: unit"),
    pytest.param("invalid-duration", HEAD.replace("{id: p}", "{id: p, tolerance: 2}") + step_items(TWO_STEPS), 2, 29,
                 "duration 2 has no unit", "number then a unit", id="invalid-duration: persona tolerance"),
    pytest.param("invalid-capacity", HEAD.replace("{id: ops}", "{id: ops, capacity: 0}") + step_items(TWO_STEPS), 6, 25,
                 "capacity must be a whole number from 1 to 10000, got 0", "people", id="invalid-capacity: zero"),
    pytest.param("invalid-capacity", HEAD.replace("{id: ops}", "{id: ops, capacity: 2.5}") + step_items(TWO_STEPS),
                 6, 25, "'capacity' must be a whole number, got a number 2.5", "People",
                 id="invalid-capacity: fraction"),
    pytest.param("duplicate-id", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s1, stage: b, owner: ops, duration: 1h}
    """), 9, 10, "step id 's1' is used twice (first on line 8)", "its own id",
                 id="duplicate-id"),
    pytest.param("unknown-reference", J("""
      - {id: s1, stage: a, owner: sale, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 31, "owned by 'sale', which is not a department (did you mean 'sales'?)", "ops",
                 id="unknown-reference: department"),
    pytest.param("unknown-reference", J("""
      - {id: s1, stage: c, owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 21, "stage 'c', which is not declared", "declared stages: a, b",
                 id="unknown-reference: stage"),
    pytest.param("unknown-reference", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h, next: s22}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 58, "'s1' flows to 's22', which is not a step (did you mean 's2'?)", "steps",
                 id="unknown-reference: step"),
    pytest.param("probability-range", J("""
      - id: s1
        stage: a
        owner: sales
        duration: 1h
        next:
          - {to: s2, probability: 1.5}
          - {to: s1, probability: -0.5}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 13, 31, "probability 1.5 is outside [0, 1]", "0.2 for 20%",
                 id="probability-range"),
    pytest.param("probability-sum", J("""
      - id: s1
        stage: a
        owner: sales
        duration: 1h
        next:
          - {to: s2, probability: 0.5}
          - {to: s1, probability: 0.4}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 12, 5, "the branches of 's1' sum to 0.9, not 1", "add up to exactly 1",
                 id="probability-sum"),
    pytest.param("invalid-flow", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h, next: s1}
    """), 9, 50, "'s2' is an end step, so it cannot have a 'next'", "remove 'next'",
                 id="invalid-flow: the end step has a next"),
    pytest.param("invalid-flow", J("""
      - id: s1
        stage: a
        owner: sales
        duration: 1h
        next:
          - {to: s2, probability: 0.5}
          - {to: s2, probability: 0.5}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 14, 14, "'s1' has two flows to 's2'", "merge them",
                 id="invalid-flow: two branches to one step"),
    pytest.param("invalid-parallel", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h, next: {parallel: [s2, s3], join: s4}}
      - {id: s2, stage: a, owner: ops, duration: 1h, next: s5}
      - {id: s3, stage: a, owner: ops, duration: 1h}
      - {id: s4, stage: b, owner: ops, duration: 1h}
      - {id: s5, stage: b, owner: ops, duration: 1h}
    """, "end: [s4, s5]\n"), 8, 52, "branch 's2' of 's1' can finish without reaching the join step 's4' (via 's5')",
                 "must lead to 's4'", id="invalid-parallel: a branch escapes its join"),
    pytest.param("unreachable-step", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h, next: s3}
      - {id: s2, stage: b, owner: ops, duration: 1h}
      - {id: s3, stage: b, owner: ops, duration: 1h}
    """), 9, 10, "step 's2' cannot be reached from the start step 's1'", "add a flow",
                 id="unreachable-step"),
    pytest.param("dead-end", J("""
      - id: s1
        stage: a
        owner: sales
        duration: 1h
        next:
          - {to: s2, probability: 0.5}
          - {to: s3, probability: 0.5}
      - {id: s2, stage: b, owner: ops, duration: 1h}
      - {id: s3, stage: b, owner: ops, duration: 1h}
    """, "end: s2\n"), 16, 10, "step 's3' is a dead end: it has no 'next' and is not an end step",
                 "list the step under 'end'", id="dead-end"),
    pytest.param("endless-loop", J("""
      - id: s1
        stage: a
        owner: sales
        duration: 1h
        next:
          - {to: s2, probability: 0.5}
          - {to: s4, probability: 0.5}
      - {id: s2, stage: a, owner: ops, duration: 1h}
      - {id: s3, stage: a, owner: ops, duration: 1h, next: s2}
      - {id: s4, stage: b, owner: ops, duration: 1h}
    """), 15, 10, "cases that enter the loop s2 -> s3 -> s2 can never leave it", "leads out of the loop",
                 id="endless-loop: a closed loop"),
    # issue 10: a rework exit of 1e-9 made `simulate --cases 1` never finish
    pytest.param("endless-run", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - id: s2
        stage: b
        owner: ops
        duration: 1h
        next:
          - {to: s1, probability: 0.999999999}
          - {to: s3, probability: 0.000000001}
      - {id: s3, stage: b, owner: ops, duration: 1h}
    """), 8, 10, "a case is expected to do step 's1' 1,000,000,0", "realistic",
                 id="endless-run: rework almost never left"),
    pytest.param("endless-run", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h, next: [{to: s1, probability: 0.95}, {to: s3, probability: 0.05}]}
      - {id: s3, stage: b, owner: ops, duration: 1h}
    """, "workload: {cases: 1000000}\n"), 11, 19, "a run would simulate 41,000,000 step visits", "fewer cases",
                 id="endless-run: too many visits in a run"),
    pytest.param("out-of-range", J(TWO_STEPS, "workload: {cases: 1000000000000}\n"), 10, 19,
                 "'cases' is 1000000000000; it must be at most 1,000,000", "Limits",
                 id="out-of-range: workload.cases 10^12"),
    pytest.param("too-large", HEAD + "".join(f"  - {{id: s{i}, stage: a, owner: sales, duration: 1h}}\n"
                                              for i in range(4001)),
                 8, 3, "the journey has 4,001 steps; the limit is 4,000", "split it",
                 id="too-large: more steps than the limit"),
    pytest.param("invalid-character", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h, name: "Sign\\ufffe here"}
      - {id: s2, stage: b, owner: ops, duration: 1h, name: "Ring\\a"}
    """), 8, 58, "holds the character U+FFFE", "non-characters",
                 id="invalid-character: U+FFFE in a name"),
    pytest.param("invalid-character", J("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h, name: "Ring\\a"}
    """), 9, 56, "holds the character U+0007", "control characters",
                 id="invalid-character: a bell in a step name"),
    # working time (issue 12); tests/test_format_workingtime.py has every case, these are one per rule
    pytest.param("invalid-hours",
                 J(TWO_STEPS, "calendars:\n  office: {timezone: UTC, hours: {mon-fri: 17:00-09:00}}\n"),
                 11, 44, "opening hours '17:00-09:00' end before they start", "24-hour clock",
                 id="invalid-hours: an interval that ends before it starts"),
    pytest.param("unknown-timezone",
                 J(TWO_STEPS, "calendars:\n  office: {timezone: Europe/Berln, hours: {mon-fri: 09:00-17:00}}\n"),
                 11, 22, "unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)", "IANA",
                 id="unknown-timezone"),
    pytest.param("invalid-date", J(TWO_STEPS, "holidays:\n  de-2027: [2027-01-01, 2027-02-30]\n"),
                 11, 25, "holiday '2027-02-30' is not a date (in list 'de-2027')", "YYYY-MM-DD",
                 id="invalid-date: a holiday on February 30th"),
    pytest.param("never-open", J(TWO_STEPS, "calendars:\n  office: {timezone: UTC, hours: {}}\n"),
                 11, 27, "calendar 'office' has no opening hours", "mon-fri: 09:00-17:00",
                 id="never-open: a calendar with no hours"),
    pytest.param("mix-sum", J(TWO_STEPS, "workload:\n  mix: {key: 0.3, growth: 0.6}\n"),
                 11, 3, "the shares of the class mix sum to 0.9, not 1", "0.3 for 30%",
                 id="mix-sum"),
    pytest.param("outside-project", J(TWO_STEPS).replace("journey: {name: T}\n", "extends: /etc/passwd\n"),
                 1, 10, "'/etc/passwd' is an absolute path", "folder", id="outside-project: an absolute path"),
    pytest.param("outside-project", "extends: ../../etc/passwd\n", 1, 10, "leads outside the folder", "folder",
                 id="outside-project: .. climbs out"),
]


# Lines 1-7 of every warning case: a journey with no warnings at all; steps start on line 8.
CLEAN_HEAD = HEAD
CLEAN_STEPS = """
  - {id: s1, stage: a, owner: sales, duration: 1h, value_adding: true}
  - {id: s2, stage: b, owner: ops, duration: 1h}
"""


def W(steps: str = CLEAN_STEPS, tail: str = "", head: str = CLEAN_HEAD) -> str:
    return head + step_items(steps) + dedent(tail)


def _chain(owners: list[str], stage: str = "a", extra: str = "") -> str:
    return "".join(f"- {{id: s{i}, stage: {stage}, owner: {o}, duration: 1h{extra if i == 0 else ''}}}\n"
                   for i, o in enumerate(owners)) + "- {id: z, stage: b, owner: ops, duration: 1h}\n"


WARNING_CASES = [
    pytest.param("handoff-heavy-stage", W(_chain(["sales", "ops"] * 4, extra=", value_adding: true")), 3, 10,
                 "a case goes through 7.0 internal handoffs in stage 'a' (more than 5)", "queue",
                 id="handoff-heavy-stage"),
    pytest.param("long-backstage-chain", W(_chain(["sales"] * 6, extra=", value_adding: true")), 8, 10,
                 "7 hidden steps in a row (s0 ... z)", "status update", id="long-backstage-chain"),
    pytest.param("missing-emotion", W("""
      - {id: s1, stage: a, owner: sales, duration: 1h, value_adding: true}
      - {id: s2, stage: b, owner: customer, duration: 1h}
    """), 9, 10, "touchpoint 's2' has no emotion score", "-3 (furious)", id="missing-emotion"),
    pytest.param("missing-channel", W("""
      - {id: s1, stage: a, owner: sales, duration: 1h, value_adding: true, lane: frontstage, emotion: 1}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 10, "frontstage touchpoint 's1' has no channel", "channel: email", id="missing-channel"),
    pytest.param("ping-pong", W("""
      - {id: s1, stage: a, owner: sales, duration: 1h, value_adding: true}
      - {id: s2, stage: a, owner: ops, duration: 1h}
      - {id: s3, stage: b, owner: sales, duration: 1h}
    """), 9, 10, "work goes sales -> ops -> sales (s1 -> s2 -> s3)", "let sales finish", id="ping-pong"),
    pytest.param("heavy-rework", W("""
      - {id: s1, stage: a, owner: sales, duration: 1h, value_adding: true}
      - id: s2
        stage: b
        owner: ops
        duration: 1h
        next:
          - {to: s1, probability: 0.4}
          - {to: s3, probability: 0.6}
      - {id: s3, stage: b, owner: ops, duration: 1h}
    """), 14, 14, "40% of the cases at 's1' come back to do it again (via 's2')", "fix it at the source",
                 id="heavy-rework"),
    pytest.param("overloaded-department", W(tail="workload: {arrivals: {every: 30min}}\n"), 6, 10,
                 "department 'ops' would be 200% busy", "capacity of at least 3", id="overloaded-department"),
    pytest.param("hidden-moment-of-truth", W("""
      - {id: s1, stage: a, owner: sales, duration: 1h, value_adding: true, moment_of_truth: true}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 72, "'s1' is a moment of truth but the customer cannot see it", "touchpoint", id="hidden-moment-of-truth"),
    pytest.param("hidden-survey", W("""
      - {id: s1, stage: a, owner: sales, duration: 1h, value_adding: true, survey: relational}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 72, "'s1' has a survey but the customer cannot see this step", "touchpoint", id="hidden-survey"),
    pytest.param("no-value-adding", W("""
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 7, 1, "no step is marked value_adding", "value_adding: true", id="no-value-adding"),
    pytest.param("unused-department", W(head=CLEAN_HEAD.replace("  - {id: ops}\n", "  - {id: ops}\n  - {id: legal}\n")
                                        .replace("steps:", "steps:")), 7, 10, "department 'legal' owns no step",
                 "remove it", id="unused-department"),
    pytest.param("empty-stage", W(head=CLEAN_HEAD.replace("[a, b]", "[a, b, c]")), 3, 16, "stage 'c' has no steps",
                 "remove the stage", id="empty-stage"),
    pytest.param("working-time-without-calendar", W("""
      - {id: s1, stage: a, owner: sales, duration: 4wh, value_adding: true}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), 8, 48, "step 's1' is in working hours or business days, but the journey has no calendar",
                 "give the departments (or the journey) a calendar", id="working-time-without-calendar"),
]


def _find(problems, rule):
    found = [p for p in problems if p.rule == rule]
    assert found, f"no [{rule}] among: " + "; ".join(f"{p.line}:{p.column} [{p.rule}] {p.message}" for p in problems)
    return found


@pytest.mark.parametrize("rule, text, line, column, message, hint", ERROR_CASES)
def test_each_error_rule_is_located_and_explained(rule, text, line, column, message, hint):
    checked = check_text(text, "bad.yaml")
    assert checked.journey is None
    located = [p for p in _find(checked.errors, rule) if (p.line, p.column) == (line, column)]
    assert located, [(p.line, p.column, p.message) for p in _find(checked.errors, rule)]
    p = located[0]
    assert p.file == "bad.yaml" and p.severity == "error"
    assert message in p.message
    if hint is not None:
        assert hint in p.hint


@pytest.mark.parametrize("rule, text, line, column, message, hint", WARNING_CASES)
def test_each_lint_rule_is_located_and_explained(rule, text, line, column, message, hint):
    checked = check_text(text, "smelly.yaml")
    assert checked.errors == [], checked.errors
    assert checked.journey is not None                      # warnings never stop loading
    located = [p for p in _find(checked.warnings, rule) if (p.line, p.column) == (line, column)]
    assert len(located) == 1, _find(checked.warnings, rule)
    p = located[0]
    assert p.severity == "warning"
    assert message in p.message
    assert hint in p.hint


def test_the_clean_journey_has_no_warnings():
    assert check_text(W(), "clean.yaml").problems == []


def test_every_rule_id_has_a_case():
    """Every documented rule is exercised above (except those that need files on disk, tested on their own)."""
    errors = {c.values[0] for c in ERROR_CASES}
    warnings = {c.values[0] for c in WARNING_CASES}
    # file and not-a-journey: tests below and in test_overlay.py; internal-error: test_hostile.py
    assert set(RULES) - errors == {"file", "not-a-journey", "internal-error"}
    assert set(LINT_RULES) == warnings
    assert not set(RULES) & set(LINT_RULES)


def test_every_top_level_key_of_the_schema_has_a_section_checker():
    """A new section of the file format (say calendars:) needs a checker in validation/sections.py."""
    from journeymap.schema import JOURNEY_SCHEMA
    from journeymap.validation.sections import SECTIONS

    before_the_meaning_pass = {"$schema", "extends", "remove"}  # ignored, or merged by the overlay first
    assert set(JOURNEY_SCHEMA["properties"]) - before_the_meaning_pass == {s.key for s in SECTIONS}


def test_every_rule_is_documented_in_format_md():
    text = (DATA.parent.parent / "docs" / "format.md").read_text(encoding="utf-8")
    for rule in list(RULES) + list(LINT_RULES):
        assert f"`{rule}`" in text, rule


def test_missing_file_is_a_located_problem(tmp_path):
    checked = check_file(tmp_path / "nope.yaml")
    (p,) = checked.problems
    assert (p.rule, p.line, p.column) == ("file", 1, 1) and "not found" in p.message


def test_not_utf8_is_a_problem_not_a_traceback(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("journey: {name: caf\xe9}\n".encode("latin-1"))
    (p,) = check_file(path).problems
    assert p.rule == "file" and "UTF-8" in p.hint


# --------------------------------------------------------------------------- the dozen mistakes


def test_a_dozen_mistakes_give_a_dozen_located_errors():
    checked = check_file(DOZEN)
    lines = {p.line for p in checked.errors}
    rules = {p.rule for p in checked.errors}
    assert len(checked.errors) >= 12
    assert len(lines) >= 12, "each mistake is on its own line and reported there"
    assert len(rules) >= 10, rules
    # each mistake line is marked in the file with '# mistake'
    marked = {i for i, text in enumerate(DOZEN.read_text().splitlines(), 1) if "# mistake:" in text}
    assert marked <= lines, f"mistakes not reported on their line: {sorted(marked - lines)}"


def test_load_journey_raises_with_every_problem():
    with pytest.raises(JourneyInvalid) as exc:
        load_journey(DOZEN)
    assert len([p for p in exc.value.problems if p.is_error]) >= 12
    assert "error(s) in journey file (first: " in str(exc.value)


# --------------------------------------------------------------------------- properties


def _branch_journey(probabilities: list[float]) -> str:
    branches = "".join(f"      - {{to: t{i}, probability: {p!r}}}\n" for i, p in enumerate(probabilities))
    targets = "".join(f"  - {{id: t{i}, stage: b, owner: ops, duration: 1h, next: z}}\n"
                      for i in range(len(probabilities)))
    return (HEAD + "  - id: s\n    stage: a\n    owner: sales\n    duration: 1h\n    next:\n" + branches + targets
            + "  - {id: z, stage: b, owner: customer, duration: 1h}\n")


_weights = st.lists(st.integers(1, 1000), min_size=2, max_size=7)


@settings(deadline=None, max_examples=60)
@given(_weights)
def test_branch_probabilities_that_sum_to_one_never_flag_probability_sum(weights):
    """Property: normalised weights (floats that sum to 1 up to rounding) are accepted."""
    total = sum(weights)
    checked = check_text(_branch_journey([w / total for w in weights]), lint=False)
    assert not [p for p in checked.problems if p.rule == "probability-sum"]
    assert checked.journey is not None


@settings(deadline=None, max_examples=40)
@given(_weights, st.sampled_from([-0.05, 0.01, 0.2]))
def test_branch_probabilities_that_do_not_sum_to_one_are_flagged(weights, shift):
    total = sum(weights)
    probs = [w / total for w in weights]
    probs[0] = min(1.0, max(0.0, probs[0] + shift))
    if abs(sum(probs) - 1) < 1e-3:
        return
    checked = check_text(_branch_journey(probs), lint=False)
    assert [p.rule for p in checked.errors] == ["probability-sum"]


@settings(deadline=None, max_examples=30)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text):
    """Property: whatever the file holds, checking returns problems instead of raising."""
    checked = check_text(text, "fuzz.yaml")
    assert checked.journey is not None or checked.errors
    # check_text turns any exception into an internal-error problem: that is the raise this test looks for
    assert "internal-error" not in [p.rule for p in checked.problems], checked.problems


@settings(deadline=None, max_examples=40)
@given(st.data())
def test_mangled_examples_never_raise(data):
    """Property: an example with one line dropped or duplicated gives problems, never a traceback."""
    path = data.draw(st.sampled_from(EXAMPLES))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    i = data.draw(st.integers(0, len(lines) - 1))
    mangled = lines[:i] + lines[i + 1:] if data.draw(st.booleans()) else lines[:i] + [lines[i]] + lines[i:]
    checked = check_text("".join(mangled), path.name)
    for p in checked.problems:
        assert 1 <= p.line <= len(mangled) + 1 and p.column >= 1 and p.rule in {**RULES, **LINT_RULES}
    # check_text turns any exception into an internal-error problem: that is the raise this test looks for
    assert "internal-error" not in [p.rule for p in checked.problems], checked.problems


def test_the_benchmark_journey_is_valid():
    """benchmarks/bench_validate.py generates valid journeys (checked small here, to stay fast)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_validate",
                                                  DATA.parent.parent / "benchmarks" / "bench_validate.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench.generate_journey(300, seed=3)
    checked = check_text(text, "generated.yaml")
    assert checked.errors == []
    assert len(checked.journey.steps) >= 300
    assert "parallel:" in text and "rework" in text


def test_a_single_flow_with_a_probability_is_explained():
    checked = check_text(J("""
      - {id: s1, stage: a, owner: sales, duration: 1h, next: {to: s2, probability: 0.5}}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """), "bad.yaml")
    (p,) = checked.errors
    assert (p.rule, p.line, p.column) == ("probability-sum", 8, 52)   # the key next
    assert "single flow" in p.message and "remove 'probability'" in p.hint


# --------------------------------------------------------------------------- issue 10: total validation


def test_a_rejected_value_is_reported_once_and_never_read_by_later_rules():
    """The schema's wrong-type error is the only one: the meaning pass never sees the bad value."""
    checked = check_text(J(TWO_STEPS).replace("stages: [a, b]", "stages: [a, b, 7]"), "bad.yaml")
    assert [(p.rule, p.line, p.column) for p in checked.errors] == [("wrong-type", 3, 16)]


@pytest.mark.parametrize(("written", "fix"), [
    ("probability: 1e-9", "write 1.0e-09"),          # a rework exit written as scientists write it
    ("cases: 1e12", "write 1000000000000"),           # a whole number: its digits
])
def test_a_number_yaml_reads_as_text_gets_the_way_to_write_it(written, fix):
    """YAML 1.1 reads 1e-9 and 1e12 as text; 'got text' alone left the user puzzled by what they wrote."""
    text = J("""
      - {id: s1, stage: a, owner: sales, duration: 1h, next: [{to: s1, probability: 0.5}, {to: s2, PROB}]}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """, "workload: {arrivals: {every: 1d}, CASES}\n")
    key = written.split(":")[0]
    text = text.replace("PROB", written if key == "probability" else "probability: 0.5")
    text = text.replace("CASES", written if key == "cases" else "cases: 10")
    [p] = check_text(text, "bad.yaml").errors
    assert p.rule == "wrong-type" and "got text" in p.message and fix in p.hint, p
    fixed = check_text(text.replace(written, f"{key}: {fix.split()[-1]}"), "fixed.yaml")
    assert "wrong-type" not in [q.rule for q in fixed.errors], fixed.errors


def test_heavy_rework_does_not_fire_at_exactly_thirty_percent():
    """0.1 + 0.2 is 0.30000000000000004 in floats; the docs say 'more than 30%'."""
    text = W("""
      - {id: s1, stage: a, owner: sales, duration: 1h, value_adding: true}
      - id: s2
        stage: b
        owner: ops
        duration: 1h
        next:
          - {to: s1, probability: 0.1}
          - {to: s3, probability: 0.7}
          - {to: s1a, probability: 0.2}
      - {id: s1a, stage: a, owner: ops, duration: 1h, next: s1}
      - {id: s3, stage: b, owner: ops, duration: 1h}
    """)
    checked = check_text(text, "rework.yaml")
    assert checked.errors == []
    assert "heavy-rework" not in [p.rule for p in checked.warnings]
    more = check_text(text.replace("{to: s3, probability: 0.7}", "{to: s3, probability: 0.69}")
                      .replace("{to: s1a, probability: 0.2}", "{to: s1a, probability: 0.21}"), "rework.yaml")
    assert "heavy-rework" in [p.rule for p in more.warnings]


@pytest.mark.parametrize("old, new", [
    ("owner: sales, duration: 1h}", "owner: " + "s" * 5000 + ", duration: 1h}"),          # a huge id
    ("owner: sales, duration: 1h}", "owner: sales, duration: " + "9" * 5000 + "}"),      # a huge duration
    ("owner: sales, duration: 1h}", "owner: sales, duration: 1h, name: [" + "x, " * 5000 + "x]}"),
    ("stages: [a, b]", "stages: [a, b, " + "{id: c, name: n}, " * 2000 + "]"),          # a huge list, wrong
])
def test_messages_quote_a_short_excerpt_only(old, new):
    checked = check_text(J(TWO_STEPS).replace(old, new, 1), "bad.yaml")
    assert checked.errors
    assert all(len(p.message) + len(p.hint) < 400 for p in checked.problems), [len(p.message) for p in checked.problems]


def test_a_20000_step_journey_is_refused_quickly_with_the_limit(tmp_path):
    """Issue 10: 20,000 steps took 14 s to validate and minutes to simulate and render."""
    import time

    from journeymap.validation import MAX_STEPS

    path = tmp_path / "huge.yaml"
    path.write_text(HEAD + "".join(f"  - {{id: s{i}, stage: a, owner: sales, duration: 1h}}\n" for i in range(20_000)))
    started = time.monotonic()
    checked = check_file(path)
    assert time.monotonic() - started < 30
    (p,) = checked.errors
    assert (p.rule, p.line) == ("too-large", 8) and f"20,000 steps; the limit is {MAX_STEPS:,}" in p.message
