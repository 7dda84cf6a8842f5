"""An overlay read as levers: one switch per change (journeymap/overlay_levers.py, explore/optimise BEFORE AFTER)."""

from __future__ import annotations

import json

import pytest
from helpers import JOURNEYS

from journeymap.attribution import overlay_changes, partial_overlay
from journeymap.cli import main
from journeymap.errors import InvalidArgument
from journeymap.explore import explore
from journeymap.levers import SWITCHES, LeverSet, apply_lever, load_levers
from journeymap.loading import load_yaml, read_text
from journeymap.optimise import factorial
from journeymap.overlay_levers import levers_from_overlay
from journeymap.simulation import simulate
from journeymap.validation import check_located, load_journey

BEFORE = str(JOURNEYS / "insurance-before.yaml")
AFTER = str(JOURNEYS / "insurance-more-staff.yaml")
IDS = ["department-compliance", "department-credit_risk", "department-pricing"]

DEPENDENT = """
    extends: base.yaml
    departments:
      - {id: risk, capacity: 1}
    steps:
      - {id: precheck, after: quote, stage: evaluate, owner: risk, duration: 30min}
      - {id: review, duration: 4h}
"""


@pytest.fixture(scope="module")
def staff() -> LeverSet:
    return levers_from_overlay(BEFORE, AFTER)


def _one_change(index: int):
    loc, _ = load_yaml(read_text(AFTER), AFTER)
    assert loc is not None
    change = overlay_changes(loc)[index]
    return check_located(partial_overlay(loc, change.paths), lint=False).journey


def test_the_more_staff_overlay_gives_three_free_switches(staff):
    assert [lv.id for lv in staff.levers] == IDS
    assert all(lv.kind == "change" and lv.kind in SWITCHES and (lv.low, lv.high, lv.neutral) == (0, 1, 0)
               for lv in staff.levers)
    assert staff.by_id["department-compliance"].label == "department compliance (capacity 2)"
    assert staff.by_id["department-pricing"].target == "department:pricing"
    assert staff.cost({i: 1 for i in IDS}).once == 0 and staff.cost({i: 1 for i in IDS}).per_month == 0
    assert staff.journey == load_journey(BEFORE) and staff.source == AFTER and staff.journey_file == BEFORE


def test_every_lever_on_is_the_overlay_and_every_lever_off_is_before(staff):
    after = load_journey(AFTER)
    everything = staff.scenario({i: 1 for i in IDS})
    assert everything == after
    assert (simulate(everything, seed=3, cases=40, replications=2).cycle_times
            == simulate(after, seed=3, cases=40, replications=2).cycle_times).all()
    assert staff.scenario({i: 0 for i in IDS}) is staff.journey
    assert staff.scenario({}) is staff.journey


@pytest.mark.parametrize("index", range(3))
def test_each_lever_alone_is_its_one_change_partial_overlay(staff, index):
    alone = staff.scenario({IDS[index]: 1})
    assert alone == _one_change(index)
    capacities = {d.id: d.capacity for d in alone.departments}
    before = {d.id: d.capacity for d in staff.journey.departments}
    assert [k for k in capacities if capacities[k] != before[k]] == [IDS[index].split("-", 1)[1]]


def test_two_levers_on_apply_both_entries_together(staff):
    both = staff.scenario({IDS[0]: 1, IDS[2]: 1, IDS[1]: 0})
    caps = {d.id: d.capacity for d in both.departments}
    assert (caps["compliance"], caps["pricing"]) == (2, 2)
    assert caps["credit_risk"] == {d.id: d.capacity for d in staff.journey.departments}["credit_risk"]


def test_a_change_lever_is_a_switch_applied_only_by_its_set(staff):
    with pytest.raises(InvalidArgument, match="switch"):
        staff.scenario({IDS[0]: 0.5})
    with pytest.raises(InvalidArgument, match="applies the change levers of a setting together"):
        apply_lever(staff.journey, staff.levers[0], 1)
    with pytest.raises(InvalidArgument, match="not to another one"):
        staff.apply(load_journey(BEFORE), {IDS[0]: 1})


def test_explore_on_the_pair_ranks_the_three_changes(staff):
    result = explore(staff, replications=2, cases=40, seed=1)
    assert sorted(result["ranking"]["by_gain"]) == sorted(IDS)
    assert [s["value"] for r in result["levers"] for s in r["settings"]] == [1.0, 1.0, 1.0]
    assert result["levers_file"] == AFTER


def test_a_factorial_of_the_changes_ends_at_the_overlay(staff):
    result = factorial(staff, replications=2, cases=30, seed=1)
    assert len(result["settings"]) == 8
    every = next(s for s in result["settings"] if all(v == 1 for v in s["settings"].values()))
    assert every["first_year_cost"] == 0


def test_changes_that_depend_on_each_other_are_named_with_the_together_fix(base, write_journey):
    after = write_journey(DEPENDENT, "after.yaml")
    with pytest.raises(InvalidArgument) as err:
        levers_from_overlay(str(base), str(after))
    message = str(err.value)
    assert "after.yaml:5:5: new step precheck cannot be a lever without department risk" in message
    assert "--together department:risk,step:precheck" in message
    grouped = levers_from_overlay(str(base), str(after), together=[["risk", "precheck"]])
    assert [lv.id for lv in grouped.levers] == ["department-risk+step-precheck", "step-review"]
    assert grouped.scenario({"department-risk+step-precheck": 1}).step_by_id["precheck"].owner == "risk"


def test_an_after_that_is_no_overlay_of_before_is_refused(base):
    with pytest.raises(InvalidArgument, match="must be an overlay that extends"):
        levers_from_overlay(AFTER, BEFORE)


def test_explore_command_reads_before_and_after_as_levers(capsys):
    assert main(["explore", BEFORE, AFTER, "--cases", "30", "--replications", "2", "--json", "--no-progress"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert sorted(r["id"] for r in result["levers"]) == sorted(IDS)


def test_the_commands_refuse_together_without_an_overlay_and_report_dependent_changes(base, write_journey, capsys):
    levers = str(JOURNEYS / "insurance-levers.yaml")
    assert main(["optimise", levers, "--together", "a,b", "--no-progress"]) == 2
    assert "--together groups the changes of an overlay" in capsys.readouterr().err
    assert main(["explore", levers, AFTER, "--no-progress"]) == 2
    assert "is a levers file" in capsys.readouterr().err
    after = write_journey(DEPENDENT, "after.yaml")
    assert main(["optimise", str(base), str(after), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "cannot be a lever without department risk" in err and "--together department:risk,step:precheck" in err
    assert load_levers(levers).overlay is None   # a levers file is unchanged


def test_a_setting_whose_partial_design_does_not_validate_names_its_changes(base, write_journey):
    from journeymap.overlay_levers import _PartialDesigns, lever_id

    after = write_journey(DEPENDENT, "after.yaml")
    loc, _ = load_yaml(read_text(str(after)), str(after))
    assert loc is not None
    designs = _PartialDesigns(loc, {lever_id(c): c for c in overlay_changes(loc)})
    with pytest.raises(InvalidArgument, match=r"new step precheck together make a design that does not validate "
                                              r"\(.*after.yaml:5:58: .*--together step:precheck"):
        designs(["step-precheck"])
    assert designs(["department-risk", "step-precheck"]).step_by_id["precheck"].owner == "risk"
