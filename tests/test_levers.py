"""Levers files (journeymap/levers.py): the model, every kind applied exactly, every bad input located."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from helpers import JOURNEYS, LEVERS_EXAMPLES, copy_journey, dedent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap.distributions import Exponential, Fixed, Triangular
from journeymap.errors import InvalidArgument, JourneyInvalid
from journeymap.levers import (
    MAX_SETTINGS,
    Cost,
    LeverSet,
    check_levers,
    is_levers_file,
    load_levers,
    parse_flow,
    run_problems,
)
from journeymap.problems import format_problem

#: A small journey the levers below change: a branch with three ways on, delays, two departments.
TINY = dedent("""
    journey: {id: tiny, name: Tiny}
    persona: {id: p, name: P}
    stages: [s]
    departments:
      - {id: desk, capacity: 1, cost_per_hour: 60}
      - {id: back, capacity: 2}
    steps:
      - {id: ask, stage: s, owner: customer, duration: 10min}
      - id: work
        stage: s
        owner: desk
        duration: {triangular: [1h, 2h, 4h]}
        next:
          - {to: check, probability: 0.6, delay: {exponential: 1d}}
          - {to: fix, probability: 0.3, delay: 3h, label: to fix}
          - {to: relay, probability: 0.1}
      - {id: relay, stage: s, owner: desk, duration: 15min, next: {to: fix, delay: {exponential: 2h}}}
      - {id: fix, stage: s, owner: back, duration: 1h, next: {to: check}}
      - {id: check, stage: s, owner: back, duration: {exponential: 1h}, next: {to: done, delay: 2h}}
      - {id: done, stage: s, owner: customer, duration: 5min}
    workload: {cases: 20}
    """)

#: One lever of each kind on TINY.
LEVERS = dedent("""
    journey: tiny.yaml
    levers:
      - {id: hire, kind: staff, department: back, range: [-1, 3],
         cost: {once: 100, per_person: {once: 10, per_month: 5}}}
      - {id: faster, kind: speed, step: work, range: [0.25, 1], cost: {once: 1000, per_month: 50}}
      - {id: no-relay, kind: remove_step, step: relay}
      - {id: desk-fixes, kind: move_step, step: fix, to: desk}
      - {id: inbox, kind: cut_delay, flow: work -> check, range: [0, 1]}
      - {id: fewer-fixes, kind: probability, flow: work -> fix, range: [0.1, 0.5]}
    """)


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    return tmp_path


@pytest.fixture
def tiny(folder) -> LeverSet:
    path = folder / "levers.yaml"
    path.write_text(LEVERS, encoding="utf-8")
    return load_levers(path)


def _check(folder: Path, text: str):
    path = folder / "levers.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return check_levers(path)


def _flow(journey, source, target):
    return next(f for f in journey.flows if (f.source, f.target) == (source, target))


# --------------------------------------------------------------------------- the example and the model


@pytest.mark.parametrize("path", LEVERS_EXAMPLES, ids=[p.name for p in LEVERS_EXAMPLES])
def test_the_example_levers_file_loads_and_every_lever_applies_at_both_ends(path):
    checked = check_levers(path)
    assert checked.problems == [], "\n".join(map(format_problem, checked.problems))
    levers = checked.levers
    assert levers is not None and levers.journey.id == "insurance-before"
    assert {lv.kind for lv in levers.levers} == {"staff", "speed", "remove_step", "move_step", "cut_delay",
                                                 "probability"}
    for setting in levers.one_at_a_time(2):
        assert run_problems(levers.scenario(setting)) == []
    assert run_problems(levers.scenario({lv.id: lv.high for lv in levers.levers})) == []


def test_the_example_is_a_levers_file_and_no_journey_is():
    assert LEVERS_EXAMPLES == [JOURNEYS / "insurance-levers.yaml"]
    assert not is_levers_file(JOURNEYS / "insurance-before.yaml")


def test_the_model_reads_the_file(tiny):
    hire, faster, no_relay, desk_fixes, inbox, fewer = tiny.levers
    assert (hire.kind, hire.target, hire.low, hire.high, hire.neutral) == ("staff", "back", -1, 3, 0)
    assert hire.cost == Cost(100, 0) and hire.per_person == Cost(10, 5)
    assert (faster.low, faster.high, faster.neutral) == (0.25, 1, 1)
    assert (no_relay.low, no_relay.high, no_relay.is_switch) == (0, 1, True)
    assert desk_fixes.to == "desk"
    assert inbox.flow == ("work", "check") and fewer.neutral == 0.3


# --------------------------------------------------------------------------- every kind applied exactly


def test_staff_adds_whole_people(tiny):
    j = tiny.scenario({"hire": 3})
    assert j.department_by_id["back"].capacity == 5 and j.department_by_id["desk"].capacity == 1
    assert tiny.scenario({"hire": -1}).department_by_id["back"].capacity == 1


def test_speed_scales_every_parameter_of_the_duration(tiny):
    j = tiny.scenario({"faster": 0.5})
    assert j.step_by_id["work"].duration == Triangular(30, 60, 120)
    assert j.step_by_id["work"].duration.mean == pytest.approx(tiny.journey.step_by_id["work"].duration.mean / 2)


def test_cut_delay_scales_the_delay_and_zero_removes_it(tiny):
    assert _flow(tiny.scenario({"inbox": 0.25}), "work", "check").delay == Exponential(360)
    assert _flow(tiny.scenario({"inbox": 0}), "work", "check").delay is None


def test_probability_rescales_the_sibling_branches_to_sum_one(tiny):
    j = tiny.scenario({"fewer-fixes": 0.1})
    assert _flow(j, "work", "fix").probability == 0.1
    assert _flow(j, "work", "check").probability == pytest.approx(0.6 * 0.9 / 0.7)
    assert _flow(j, "work", "relay").probability == pytest.approx(0.1 * 0.9 / 0.7)
    assert math.fsum(f.probability for f in j.flows_from["work"]) == pytest.approx(1)


def test_move_step_gives_the_step_to_the_department_and_removes_the_handoff(tiny):
    before, after = tiny.journey, tiny.scenario({"desk-fixes": 1})
    assert after.step_by_id["fix"].owner == "desk"
    assert before.is_handoff(_flow(before, "work", "fix")) and not after.is_handoff(_flow(after, "work", "fix"))
    assert tiny.scenario({"desk-fixes": 0}) == before


def test_remove_step_rewires_its_incoming_flows_to_its_successors(tiny):
    j = tiny.scenario({"no-relay": 1})
    assert "relay" not in j.step_by_id
    # work -> fix already existed (0.3, delay 3h): work -> relay -> fix (0.1 x 1) adds to it, keeping its delay
    fix = _flow(j, "work", "fix")
    assert fix.probability == pytest.approx(0.4) and fix.delay == Fixed(180) and fix.label == "to fix"
    assert not [f for f in j.flows if "relay" in (f.source, f.target)]
    assert math.fsum(f.probability for f in j.flows_from["work"]) == pytest.approx(1)


def test_remove_step_keeps_the_delay_of_the_successor_flow(folder):
    """a -> s -> b becomes a -> b with the wait before b (s -> b's delay), never the inbox of s."""
    levers = _check(folder, """
        journey: tiny.yaml
        levers: [{id: x, kind: remove_step, step: fix}]
        """).levers
    assert levers is not None
    j = levers.scenario({"x": 1})
    assert _flow(j, "work", "check").probability == pytest.approx(0.9)       # 0.6 + 0.3 merged
    assert _flow(j, "work", "check").delay == Exponential(1440)            # work -> check kept its own
    assert _flow(j, "relay", "check").delay is None                         # fix -> check had none
    assert run_problems(j) == []


def test_apply_is_pure_and_combines_levers(tiny):
    before = tiny.journey
    every = {lv.id: lv.high for lv in tiny.levers}
    j = tiny.apply(before, every)
    assert tiny.journey is before and before.step_by_id["work"].duration == Triangular(60, 120, 240)
    assert "relay" in before.step_by_id and "relay" not in j.step_by_id
    assert j.department_by_id["back"].capacity == 5 and j.step_by_id["fix"].owner == "desk"
    assert tiny.apply(before, {}) == before


def test_an_applied_journey_simulates(tiny):
    from journeymap.simulation import simulate

    j = tiny.scenario({"hire": 1, "faster": 0.5, "no-relay": 1, "desk-fixes": 1, "inbox": 0.5, "fewer-fixes": 0.2})
    result = simulate(j, cases=20, replications=1, seed=1)
    assert result.summary


@pytest.mark.parametrize("settings, message", [
    ({"hire": 4}, "outside its range -1 .. 3"),            # above the range
    ({"hire": 1.5}, "adds whole people"),                  # half a person
    ({"faster": 0.1}, "outside its range 0.25 .. 1"),      # below the range
    ({"no-relay": 0.5}, "is a switch"),                    # a switch is 0 or 1
    ({"inbox": float("nan")}, "must be a number"),         # not a number
    ({"inbox": "half"}, "must be a number"),               # text
    ({"hirre": 1}, "no lever 'hirre' (did you mean 'hire'?)"),  # a typo in the id
])
def test_a_setting_out_of_range_is_refused_clearly(tiny, settings, message):
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        tiny.scenario(settings)


def test_settings_that_break_the_journey_are_refused(folder):
    """Each lever alone is fine; together the two nested loops are almost never left (about 1,100 visits of
    'work' a case): apply says so rather than hand back a journey no run would finish."""
    (folder / "loops.yaml").write_text(dedent("""
        journey: {id: loops, name: Loops}
        persona: {id: p}
        stages: [s]
        departments: [{id: desk}]
        steps:
          - {id: work, stage: s, owner: desk, duration: 1min, next: [{to: check, probability: 0.5},
                                                                     {to: again, probability: 0.5}]}
          - {id: again, stage: s, owner: desk, duration: 1min, next: {to: work}}
          - {id: check, stage: s, owner: desk, duration: 1min, next: [{to: done, probability: 0.5},
                                                                      {to: work, probability: 0.5}]}
          - {id: done, stage: s, owner: customer, duration: 1min}
        """), encoding="utf-8")
    checked = _check(folder, """
        journey: loops.yaml
        levers:
          - {id: inner, kind: probability, flow: work -> again, range: [0.5, 0.97]}
          - {id: outer, kind: probability, flow: check -> work, range: [0.5, 0.97]}
        """)
    levers = checked.levers
    assert levers is not None, "\n".join(map(format_problem, checked.problems))
    assert levers.scenario({"inner": 0.97}) and levers.scenario({"outer": 0.97})
    with pytest.raises(InvalidArgument, match="inner=0.97, outer=0.97 make a journey that cannot run: a case is "
                                              "expected to do step 'work'"):
        levers.scenario({"inner": 0.97, "outer": 0.97})


def test_corners_grid_and_one_at_a_time(tiny):
    corners = tiny.corners()
    assert len(corners) == 2 ** 6 and corners[0] == {lv.id: lv.low for lv in tiny.levers}
    assert corners[-1] == {lv.id: lv.high for lv in tiny.levers}
    assert tiny.levers[0].values(3) == (-1.0, 1.0, 3.0)
    assert tiny.levers[0].values(10) == (-1.0, 0.0, 1.0, 2.0, 3.0)        # whole people only
    assert tiny.levers[1].values(4) == (0.25, 0.5, 0.75, 1.0)
    assert tiny.levers[2].values(5) == (0.0, 1.0)                         # a switch
    assert len(tiny.grid(3)) == 3 * 3 * 2 * 2 * 3 * 3
    assert len(tiny.one_at_a_time(3)) == 3 + 3 + 2 + 2 + 3 + 3
    with pytest.raises(InvalidArgument, match="at least 2 points"):
        tiny.grid(1)
    with pytest.raises(InvalidArgument, match=f"limit is {MAX_SETTINGS:,}"):
        tiny.grid(100)


def test_costs(tiny):
    assert tiny.cost({}) == Cost()
    assert tiny.cost({"hire": 0, "faster": 1}) == Cost()                  # no change costs nothing
    assert tiny.cost({"hire": 2}) == Cost(100 + 2 * 10, 2 * 5)
    assert tiny.cost({"hire": 2, "faster": 0.5}) == Cost(1120, 60)


def test_parse_flow():
    assert parse_flow("a -> b") == ("a", "b") and parse_flow(" a->b.c ") == ("a", "b.c")
    assert parse_flow("a to b") is None and parse_flow(3) is None


# --------------------------------------------------------------------------- bad input, located


#: (levers file, rule, line, column, part of the message); the journey is TINY.
BAD = [
    # an unknown department, with the closest id
    ("levers: [{id: x, kind: staff, department: bak, range: [0, 1]}]", "unknown-reference", 2, 43,
     "no department 'bak' in the journey (did you mean 'back'?)"),
    # an unknown step
    ("levers: [{id: x, kind: speed, step: wrok, range: [0.5, 1]}]", "unknown-reference", 2, 37,
     "no step 'wrok' in the journey (did you mean 'work'?)"),
    # a flow between known steps that does not exist
    ("levers: [{id: x, kind: cut_delay, flow: work -> done, range: [0, 1]}]", "unknown-reference", 2, 41,
     "no flow work -> done in the journey"),
    # a flow to a step that does not exist, with the closest one
    ("levers: [{id: x, kind: cut_delay, flow: work -> chek, range: [0, 1]}]", "unknown-reference", 2, 41,
     "no step 'chek' in the journey (did you mean 'check'?)"),
    # a flow from an unknown step
    ("levers: [{id: x, kind: cut_delay, flow: wrk -> check, range: [0, 1]}]", "unknown-reference", 2, 41,
     "no step 'wrk'"),
    # a flow not written 'a -> b'
    ("levers: [{id: x, kind: cut_delay, flow: work to check, range: [0, 1]}]", "invalid-value", 2, 41,
     "is not a flow"),
    # an inverted range
    ("levers: [{id: x, kind: speed, step: work, range: [1, 0.5]}]", "invalid-range", 2, 50, "is inverted"),
    # an empty range
    ("levers: [{id: x, kind: staff, department: back, range: [2, 2]}]", "invalid-range", 2, 56, "is empty"),
    # half a person
    ("levers: [{id: x, kind: staff, department: back, range: [0, 1.5]}]", "invalid-range", 2, 56, "whole numbers"),
    # taking everyone away
    ("levers: [{id: x, kind: staff, department: back, range: [-2, 1]}]", "invalid-range", 2, 56, "leaves nobody"),
    # a speed factor of 0
    ("levers: [{id: x, kind: speed, step: work, range: [0, 1]}]", "invalid-range", 2, 50, "above 0"),
    # a probability above 1
    ("levers: [{id: x, kind: probability, flow: work -> fix, range: [0.1, 1.5]}]", "invalid-range", 2, 63,
     "outside [0, 1]"),
    # an unknown kind, with the closest one
    ("levers: [{id: x, kind: sped, step: work, range: [0.5, 1]}]", "invalid-value", 2, 24,
     "'sped' is not a valid kind (did you mean 'speed'?)"),
    # a kind without what it needs
    ("levers: [{id: x, kind: staff, range: [0, 1]}]", "missing-key", 2, 10, "is missing the required key 'department'"),
    # a key of another kind
    ("levers: [{id: x, kind: speed, step: work, to: back, range: [0.5, 1]}]", "unknown-key", 2, 43,
     "'to' does not apply to a speed lever (it is for move_step)"),
    # a cost per person on a lever that adds nobody
    ("levers: [{id: x, kind: speed, step: work, range: [0.5, 1], cost: {per_person: {once: 1}}}]", "unknown-key",
     2, 67, "a cost per person is for staff levers"),
    # a key no lever has
    ("levers: [{id: x, kind: speed, step: work, rnage: [0.5, 1]}]", "unknown-key", 2, 43,
     "unknown key 'rnage' (did you mean 'range'?)"),
    # two levers with one id
    ("levers: [{id: x, kind: remove_step, step: relay}, {id: x, kind: remove_step, step: fix}]", "duplicate-id",
     2, 56, "lever 'x' appears twice"),
    # removing the start step
    ("levers: [{id: x, kind: remove_step, step: ask}]", "invalid-lever", 2, 43, "it is the start step"),
    # moving a step to the customer
    ("levers: [{id: x, kind: move_step, step: fix, to: customer}]", "unknown-reference", 2, 50,
     "no department 'customer'"),
    # moving a step to the department that has it
    ("levers: [{id: x, kind: move_step, step: fix, to: back}]", "invalid-lever", 2, 50, "already done by 'back'"),
    # cutting a delay a flow does not have
    ("levers: [{id: x, kind: cut_delay, flow: fix -> check, range: [0, 1]}]", "invalid-lever", 2, 41, "no delay"),
    # a probability lever on the only way on
    ("levers: [{id: x, kind: probability, flow: fix -> check, range: [0, 1]}]", "invalid-lever", 2, 43,
     "only way on"),
    # wrong types everywhere
    ("levers: [{id: x, kind: speed, step: work, range: '0.5..1'}]", "wrong-type", 2, 50, "must be a list"),
    ("levers: [{id: x, kind: speed, step: work, range: [fast, 1]}]", "wrong-type", 2, 51, "must be a number"),
    ("levers: [{id: x, kind: speed, step: work, range: [0.5, 1, 2]}]", "wrong-size", 2, 50, "it takes at most 2"),
    ("levers: [{id: x, kind: speed, step: [work], range: [0.5, 1]}]", "wrong-type", 2, 37, "must be text"),
    ("levers: [{id: 3, kind: remove_step, step: relay}]", "wrong-type", 2, 15, "must be text"),
    ("levers: [{id: x, kind: remove_step, step: relay, cost: {once: lots}}]", "wrong-type", 2, 63,
     "must be a number"),
    ("levers: [{id: x, kind: remove_step, step: relay, cost: {once: -5}}]", "out-of-range", 2, 63, "at least 0"),
    ("levers: [{id: x, kind: remove_step, step: relay, cost: 500}]", "wrong-type", 2, 56, "must be a mapping"),
    ("levers: {hire: 1}", "wrong-type", 2, 9, "must be a list"),
    ("levers: []", "wrong-size", 2, 9, "should be non-empty"),
    ("levers: [{id: x, kind: speed, step: work, range: [0.5, .inf]}]", "out-of-range", 2, 56, "finite"),
]


@pytest.mark.parametrize("text, rule, line, column, message", BAD, ids=[f"{b[1]}:{b[4][:30]}" for b in BAD])
def test_every_bad_lever_is_located(folder, text, rule, line, column, message):
    checked = _check(folder, "journey: tiny.yaml\n" + text)
    assert checked.levers is None
    found = [(p.rule, p.line, p.column) for p in checked.problems]
    hits = [p for p in checked.problems if p.rule == rule and message in p.message]
    assert hits, "\n".join(map(format_problem, checked.problems))
    assert (hits[0].line, hits[0].column) == (line, column), found
    assert hits[0].file == str(folder / "levers.yaml")


@pytest.mark.parametrize("journey, rule, message", [
    ("tiny.yml", "file", "journey file 'tiny.yml' not found (did you mean 'tiny.yaml'?)"),   # a typo
    ("../tiny.yaml", "outside-project", "leads outside the folder"),                        # outside the project
    ("/etc/passwd", "outside-project", "absolute path"),
    ("account.yaml", "not-a-journey", "is an account file, not a journey"),
    ("levers.yaml", "not-a-journey", "is a levers file, not a journey"),                   # itself
    ("broken.yaml", "not-a-journey", "has 1 error(s)"),
])
def test_a_bad_journey_reference_is_located(folder, journey, rule, message):
    (folder / "account.yaml").write_text("account: {name: A}\npersonas: [{journey: tiny.yaml}]\n", encoding="utf-8")
    (folder / "broken.yaml").write_text(TINY.replace("owner: back", "owner: bakc", 1), encoding="utf-8")
    checked = _check(folder, f"journey: {journey}\nlevers: [{{id: x, kind: remove_step, step: relay}}]\n")
    hits = [p for p in checked.problems if p.rule == rule and message in p.message]
    assert hits and (hits[0].line, hits[0].column) == (1, 10), "\n".join(map(format_problem, checked.problems))
    if journey == "broken.yaml":  # the journey's own error is listed too, where it is
        assert any(p.file.endswith("broken.yaml") and "bakc" in p.message for p in checked.problems)


def test_missing_keys_unknown_keys_and_a_yaml_error_are_located(folder):
    checked = _check(folder, "jurney: tiny.yaml\nlevers: [{id: x, kind: remove_step, step: relay}]\n")
    rules = {(p.rule, p.line, p.column) for p in checked.problems}
    assert ("unknown-key", 1, 1) in rules and ("missing-key", 1, 1) in rules
    checked = _check(folder, "journey: tiny.yaml\nlevers: [{id: x\n")
    assert [(p.rule, p.line) for p in checked.problems][0][0] == "yaml-syntax"
    with pytest.raises(JourneyInvalid):
        load_levers(folder / "levers.yaml")


def test_a_lever_that_breaks_the_journey_alone_is_located(folder):
    checked = _check(folder, """
        journey: tiny.yaml
        levers:
          - {id: fine, kind: remove_step, step: relay}
          - {id: stuck, kind: probability, flow: check -> done, range: [0, 1]}
        """)
    # check -> done is the only way on: refused before anything is applied
    assert [(p.rule, p.line) for p in checked.problems] == [("invalid-lever", 4)]
    checked = _check(folder, """
        journey: tiny.yaml
        levers:
          - {id: loop, kind: probability, flow: work -> relay, range: [0.1, 1]}
        """)
    # at 1 every case goes work -> relay -> fix -> check -> done: fine; relay's removal is no lever here
    assert checked.problems == [], "\n".join(map(format_problem, checked.problems))


# --------------------------------------------------------------------------- the command line


def test_validate_takes_a_levers_file(capsys, folder):
    from journeymap.cli import main

    (folder / "levers.yaml").write_text(LEVERS, encoding="utf-8")
    assert main(["validate", str(folder / "levers.yaml")]) == 0
    assert "1 file(s) checked: 1 valid" in capsys.readouterr().err
    (folder / "bad.yaml").write_text("journey: tiny.yaml\nlevers: [{id: x, kind: staff, department: bak, "
                                     "range: [0, 1]}]\n", encoding="utf-8")
    assert main(["validate", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert f"{folder / 'bad.yaml'}:2:43: error [unknown-reference] no department 'bak'" in out
    assert "3 file(s) checked: 2 valid, 1 with errors" in err and "Traceback" not in out + err


def test_validate_levers_json(capsys, folder):
    import json

    from journeymap.cli import main

    (folder / "levers.yaml").write_text("journey: tiny.yaml\nlevers: [{id: x, kind: sped}]\n", encoding="utf-8")
    assert main(["validate", "--json", str(folder / "levers.yaml")]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 1 and report["files"][str(folder / "levers.yaml")]["problems"][0]["line"] == 2


def test_schema_levers_prints_the_levers_schema(capsys):
    from journeymap.cli import main
    from journeymap.schema import levers_schema_json

    assert main(["schema", "--levers"]) == 0
    assert capsys.readouterr().out == levers_schema_json()
    assert main(["schema", "--levers", "--account"]) == 2


def test_run_checks_a_levers_file_and_does_not_run_it(folder, tmp_path):
    from journeymap.pipeline import run_all

    (folder / "levers.yaml").write_text(LEVERS, encoding="utf-8")
    lines: list[str] = []
    out = tmp_path / "out"
    assert run_all([str(folder / "levers.yaml")], str(out), quick=True, log=lines.append) == 0
    assert not any(out.rglob("*.json"))
    (folder / "levers.yaml").write_text("journey: tiny.yaml\nlevers: [{id: x, kind: sped}]\n", encoding="utf-8")
    assert run_all([str(folder / "levers.yaml")], str(out), quick=True, log=lines.append) == 1
    assert any("levers.yaml:2:" in line and "[invalid-value]" in line for line in lines)


# --------------------------------------------------------------------------- hostile levers files


_EXAMPLE = (JOURNEYS / "insurance-levers.yaml").read_text(encoding="utf-8")
_odd = st.one_of(st.sampled_from([None, 0, -1, 1.5, 10**12, float("nan"), "", "x" * 300, [], {}, [1], {"a": 1},
                                  True, "a -> b", "underwriting", "->", "\x00"]), st.text(max_size=8))


@st.composite
def _mutated(draw) -> str:
    data = yaml.safe_load(_EXAMPLE)
    for _ in range(draw(st.integers(1, 3))):
        lever = draw(st.sampled_from(data["levers"])) if data.get("levers") else data
        if not isinstance(lever, dict) or not lever:
            break
        key = draw(st.sampled_from(sorted(lever, key=str)))
        if draw(st.booleans()):
            del lever[key]
        else:
            lever[key] = draw(_odd)
    return yaml.safe_dump(data, allow_unicode=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_mutated())
def test_a_mutated_levers_file_never_crashes_the_checker(tmp_path, text):
    if not (tmp_path / "insurance-before.yaml").exists():
        copy_journey(JOURNEYS / "insurance-before.yaml", tmp_path / "insurance-before.yaml")
    path = tmp_path / "levers.yaml"
    path.write_text(text, encoding="utf-8")
    checked = check_levers(path)
    assert not [p for p in checked.problems if p.rule == "internal-error"], checked.problems
    assert (checked.levers is None) == bool(checked.errors)

