"""Which change bought what: Shapley values of an overlay's changes (journeymap/attribution.py, ``explain``)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import JOURNEYS, SERIAL

from journeymap.attribution import (
    ChangesDepend,
    attribute,
    explain,
    explain_blocks,
    format_share,
    group_changes,
    overlay_changes,
    partial_overlay,
    sampled_shapley_matrix,
    shapley_matrix,
)
from journeymap.cli import main
from journeymap.errors import InvalidArgument
from journeymap.loading import load_yaml
from journeymap.rendering.waterfall import waterfall, waterfall_bars
from journeymap.tables import format_change, format_value, plain

FASTER = """
extends: serial.yaml
journey: {id: faster, name: Faster}
steps:
  - {id: quote, duration: 30min}      # saves 90 minutes
  - {id: review, duration: 180min}    # saves 120 minutes
departments:
  - {id: legal, cost_per_hour: 90}    # changes nothing a case waits for
"""


@pytest.fixture
def serial(write_journey):
    return write_journey(SERIAL, "serial.yaml")


# --------------------------------------------------------------------------- Shapley values


def test_exact_shapley_on_a_two_player_game_checked_by_hand():
    # v(∅) = 0, v(A) = 10, v(B) = 20, v(AB) = 50 (bit 0 is A, bit 1 is B)
    v = np.array([0.0, 10.0, 20.0, 50.0])
    phi = shapley_matrix(2) @ v
    # A: half the orders add it first (+10), half after B (+30); B: +20 or +40
    assert phi.tolist() == pytest.approx([20.0, 30.0])


def test_exact_shapley_on_the_glove_game():
    # player 0 holds a left glove, players 1 and 2 a right one each; a pair is worth 1
    v = np.array([1.0 if s & 1 and s & 6 else 0.0 for s in range(8)])
    phi = shapley_matrix(3) @ v
    assert phi.tolist() == pytest.approx([2 / 3, 1 / 6, 1 / 6])
    assert phi.sum() == pytest.approx(v[7] - v[0])


def test_shapley_rows_add_up_to_the_whole_minus_nothing_for_any_values():
    for n in range(1, 7):
        w = shapley_matrix(n)
        target = np.zeros(1 << n)
        target[-1], target[0] = 1.0, -1.0
        assert np.allclose(w.sum(axis=0), target)


def test_sampled_orders_add_up_exactly_and_approach_the_exact_values():
    rng = np.random.default_rng(3)
    subsets, m = sampled_shapley_matrix(3, 3000, rng)
    v = np.array([1.0 if s & 1 and s & 6 else 0.0 for s in range(8)])[subsets]
    per_order = m @ v                                          # (orders, players)
    assert np.allclose(per_order.sum(axis=1), 1.0)             # every order adds up to v(N) - v(∅)
    assert per_order.mean(axis=0) == pytest.approx([2 / 3, 1 / 6, 1 / 6], abs=0.02)


# --------------------------------------------------------------------------- the overlay's changes


def test_an_overlay_splits_into_one_change_per_entry_removal_and_key(write_journey):
    path = write_journey("""
        extends: base.yaml
        journey: {name: After}
        departments:
          - {id: legal, capacity: 3}
        steps:
          - {id: review, duration: 4h}
          - {id: precheck, after: quote, stage: evaluate, owner: sales, duration: 30min}
        remove:
          steps: [sign]
        workload: {cases: 10}
    """, "after.yaml")
    loc, _ = load_yaml(path.read_text(), str(path))
    changes = overlay_changes(loc)
    assert [c.key for c in changes] == ["department:legal", "step:review", "step:precheck", "remove-step:sign",
                                        "workload"]
    assert changes[0].title == "department legal (capacity 3)" and changes[2].title == "new step precheck"
    grouped = group_changes(changes, [["precheck", "step:review"]])
    assert [c.key for c in grouped] == ["department:legal", "step:review+step:precheck", "remove-step:sign",
                                        "workload"]
    with pytest.raises(InvalidArgument, match="not a change"):
        group_changes(changes, [["nope"]])


def test_a_partial_overlay_keeps_the_chosen_entries_at_their_positions(write_journey):
    path = write_journey("""
        extends: base.yaml
        steps:
          - {id: quote, duration: 1h}
          - id: review
            duration: 4h
        remove:
          steps: [sign]
    """, "after.yaml")
    loc, _ = load_yaml(path.read_text(), str(path))
    part = partial_overlay(loc, [("steps", 1)])
    assert part.data == {"extends": "base.yaml", "steps": [{"id": "review", "duration": "4h"}]}
    assert part.where(("steps", 0, "duration")) == loc.where(("steps", 1, "duration")) == (5, 15)
    assert ("remove",) not in part.values


# --------------------------------------------------------------------------- simulated attribution


def test_a_deterministic_journey_gets_each_steps_saved_time_exactly(serial, write_journey):
    after = write_journey(FASTER, "faster.yaml")
    r = explain(str(serial), str(after), replications=3, cases=20)
    by_key = {c["key"]: c for c in r["contributions"]}
    for key, saved in (("step:quote", -90.0), ("step:review", -120.0), ("department:legal", 0.0)):
        assert by_key[key]["per_replication"] == pytest.approx([saved] * 3, abs=1e-9)
        assert by_key[key]["ci95"] == pytest.approx([saved, saved], abs=1e-9)
    assert r["total"]["change"] == pytest.approx(-210.0)
    assert [c["key"] for c in r["contributions"]] == ["step:review", "step:quote", "department:legal"]  # largest first
    assert r["method"] == "exact" and r["designs_simulated"] == 8
    assert r["additivity_error"] < 1e-9


def test_beyond_eight_changes_the_orders_are_sampled_and_still_add_up(write_journey):
    # ten independent speed-ups, valued without simulating (the runner is a parameter): an additive game,
    # whose Shapley values every order gives exactly
    steps = "\n".join(f"  - {{id: s{i}, stage: buy, owner: sales, duration: {10 * (i + 1)}min}}" for i in range(10))
    write_journey(SERIAL.split("steps:")[0] + "steps:\n" + steps + "\nworkload: {cases: 5}\n", "serial.yaml")
    after = write_journey("extends: serial.yaml\nsteps:\n" + "\n".join(f"  - {{id: s{i}, duration: 1min}}"
                                                                     for i in range(10)), "after.yaml")
    loc, _ = load_yaml(after.read_text(), str(after))

    def run(journeys, *, replications, **_):
        return [[{"cycle_time_mean": sum(s.duration.mean for s in j.steps) + r} for r in range(replications)]
                for j in journeys]

    r = attribute(loc, overlay_changes(loc), replications=4, permutations=5, run=run)
    assert r["method"] == "sampled" and r["permutations"] == 5
    assert r["designs_simulated"] <= 5 * 10 + 1
    by_key = {c["key"]: c for c in r["contributions"]}
    for i in range(10):
        assert by_key[f"step:s{i}"]["contribution"] == pytest.approx(1 - 10 * (i + 1))
        assert by_key[f"step:s{i}"]["sampling_se"] == pytest.approx(0.0, abs=1e-9)
    assert r["additivity_error"] < 1e-9


def test_changes_that_depend_on_each_other_are_named_and_can_be_grouped(base, write_journey):
    after = write_journey("""
        extends: base.yaml
        departments:
          - {id: risk, capacity: 1}
        steps:
          - {id: precheck, after: quote, stage: evaluate, owner: risk, duration: 30min}
          - {id: review, duration: 4h}
    """, "after.yaml")
    with pytest.raises(ChangesDepend) as err:
        explain(str(base), str(after), replications=2, cases=5)
    [problem] = err.value.problems
    assert (problem.rule, problem.line, problem.column) == ("dependent-changes", 5, 5)
    assert problem.message.startswith("new step precheck cannot be explained without department risk:")
    assert problem.hint == "explain them as one change: --together department:risk,step:precheck"
    assert err.value.groups == [["department:risk", "step:precheck"]]
    r = explain(str(base), str(after), together=[["risk", "precheck"]], replications=2, cases=5)
    assert sorted(c["key"] for c in r["contributions"]) == ["department:risk+step:precheck", "step:review"]


def test_a_change_that_does_nothing_gets_a_ci_containing_zero_on_the_insurance_journey(tmp_path):
    shutil.copy(JOURNEYS / "insurance-before.yaml", tmp_path)
    shutil.copytree(JOURNEYS / "holidays", tmp_path / "holidays")
    (tmp_path / "after.yaml").write_text(
        "extends: insurance-before.yaml\n"
        "departments:\n"
        "  - {id: compliance, capacity: 2}\n"
        "  - {id: billing, cost_per_hour: 80}   # a price: no case waits any less\n", encoding="utf-8")
    r = explain(str(tmp_path / "insurance-before.yaml"), str(tmp_path / "after.yaml"), replications=8, cases=60)
    nothing = next(c for c in r["contributions"] if c["key"] == "department:billing")
    lo, hi = nothing["ci95"]
    assert lo <= 0 <= hi
    staff = next(c for c in r["contributions"] if c["key"] == "department:compliance")
    assert staff["ci95"][1] < 0                                 # one more compliance officer: significantly faster


def test_the_insurance_pair_adds_up_to_compares_change_within_its_ci():
    from journeymap.comparison import compare
    from journeymap.validation import load_journey

    before, after = JOURNEYS / "insurance-before.yaml", JOURNEYS / "insurance-more-staff.yaml"
    r = explain(str(before), str(after), replications=10, cases=100, seed=1)
    assert [c["key"] for c in r["contributions"]] == ["department:credit_risk", "department:pricing",
                                                      "department:compliance"]
    c = compare(load_journey(before), load_journey(after), replications=10, cases=100, seed=1)
    row = next(m for m in c["metrics"] if m["key"] == "cycle_time_mean")
    total = sum(x["contribution"] for x in r["contributions"])
    lo, hi = row["ci95"]
    assert lo <= total <= hi
    assert total == pytest.approx(row["change"], rel=1e-9)      # the same seed: the same two end designs
    per_rep = np.array([x["per_replication"] for x in r["contributions"]]).sum(axis=0)
    assert per_rep == pytest.approx(r["total"]["per_replication"], abs=1e-6)  # additive in every replication
    text = plain(explain_blocks(r))
    assert "department credit_risk (capacity 4)" in text and "Total (after − before)" in text
    # the waterfall's numbers are the JSON's
    bars = waterfall_bars(r)
    assert [b["text"] for b in bars[1:-1]] == [
        f"{format_change(x['contribution'], 'minutes')}  ({format_share(x['share'])})" for x in r["contributions"]]
    assert bars[0]["end"] == r["before_value"] and bars[-1]["text"] == format_value(r["after_value"], "minutes")
    assert bars[-1]["end"] == pytest.approx(r["after_value"])
    fig = waterfall(r)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {b["text"] for b in bars} <= texts


# --------------------------------------------------------------------------- the command


def test_explain_command_prints_json_and_writes_the_chart(serial, write_journey, tmp_path, capsys):
    after = write_journey(FASTER, "faster.yaml")
    out = tmp_path / "out"
    assert main(["explain", str(serial), str(after), "--replications", "2", "--json", "-o", str(out),
                 "--no-progress"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["total"]["change"] == pytest.approx(-210.0)
    assert json.loads((out / "faster-explain.json").read_text())["total"] == printed["total"]
    assert (out / "faster-waterfall.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("extra, code, message", [
    (["--metric", "speed"], 2, "unknown metric 'speed'"),          # not a replication metric
    (["--together", "nope"], 2, "'nope' is not a change"),          # a name the overlay lacks
    (["--replications", "1"], 2, "at least 2"),                     # no interval from one replication
])
def test_explain_command_refuses_bad_arguments(serial, write_journey, capsys, extra, code, message):
    after = write_journey(FASTER, "faster.yaml")
    assert main(["explain", str(serial), str(after), "--no-progress", *extra]) == code
    assert message in capsys.readouterr().err


def test_explain_needs_an_overlay_of_before(serial, write_journey, capsys):
    other = write_journey(SERIAL, "other.yaml")
    assert main(["explain", str(serial), str(other), "--no-progress"]) == 2
    assert "must be an overlay that extends" in capsys.readouterr().err


def test_dependent_changes_exit_1_with_the_located_problem(base, write_journey, capsys):
    after = write_journey("""
        extends: base.yaml
        departments:
          - {id: risk, capacity: 1}
        steps:
          - {id: precheck, after: quote, stage: evaluate, owner: risk, duration: 30min}
    """, "after.yaml")
    assert main(["explain", str(base), str(after), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "after.yaml:5:5: error [dependent-changes]" in err and "--together department:risk,step:precheck" in err
