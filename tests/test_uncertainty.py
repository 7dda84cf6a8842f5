"""Uncertain inputs (journeymap/uncertainty.py, docs/uncertainty.md): the estimate keys, their located
errors, the Latin hypercube, and bands computable by hand on deterministic journeys."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import ONE_STEP_JOURNEY

from journeymap import load_journey
from journeymap.cli import main
from journeymap.distributions import Exponential, LogNormal, Triangular
from journeymap.errors import InvalidArgument, JourneyInvalid
from journeymap.model import ESTIMATE_TAGS, Estimate
from journeymap.uncertainty import (
    input_samples,
    scaled,
    uncertain_inputs,
    uncertainty,
    uncertainty_blocks,
    uncertainty_pair,
    with_factors,
)

ONE_STEP = ONE_STEP_JOURNEY


def _one(write_journey, duration: str = "60min", extra: str = "    estimate: assumed\n", name: str = "j.yaml"):
    return load_journey(write_journey(ONE_STEP.format(duration=duration, extra=extra), name))


# --------------------------------------------------------------------------- the format


def test_tags_ranges_and_the_default(write_journey):
    path = write_journey("""\
journey: {name: Tagged}
persona: {id: p}
stages: [s]
estimates: {default: observed}
workload: {arrivals: {poisson: 1d}, cases: 5, arrivals_estimate: {low: 0.9, high: 1.2}}
steps:
  - id: a
    stage: s
    owner: customer
    duration: 60min
    estimate: assumed
    next: {to: b, delay: 1d, delay_estimate: estimated}
  - id: b
    stage: s
    owner: customer
    duration: {exponential: 30min}
    next: {to: c, delay: 2h}
  - id: c
    stage: s
    owner: customer
    duration: 10min
    estimate: {low: 0.8, high: 1.5}
""")
    j = load_journey(path)
    assert [s.duration_estimate for s in j.steps] == [Estimate(0.5, 1.5, "assumed"), Estimate(0.9, 1.1, "observed"),
                                                      Estimate(0.8, 1.5)]
    assert [f.delay_estimate for f in j.flows] == [Estimate(0.7, 1.3, "estimated"), Estimate(0.9, 1.1, "observed")]
    assert j.workload.arrivals_estimate == Estimate(0.9, 1.2)
    assert list(uncertain_inputs(j)) == ["step:a", "step:b", "step:c", "flow:a->b", "flow:b->c", "arrivals"]
    assert ESTIMATE_TAGS == {"observed": 0.10, "estimated": 0.30, "assumed": 0.50}


BAD = """\
journey: {name: Bad}
persona: {id: p}
stages: [s]
estimates: {default: obsreved}
workload: {arrivals: {schedule: [0min, 1h]}, arrivals_estimate: assumed}
steps:
  - id: a
    stage: s
    owner: customer
    duration: 60min
    estimate: asumed
    next: {to: b, delay_estimate: {low: 1, high: 2}}
  - id: b
    stage: s
    owner: customer
    duration: 30min
    estimate: {low: 1.5, high: 0.8}
  - id: c
    stage: s
    owner: customer
    duration: 30min
    estimate: 3
"""


def test_bad_estimates_are_located(write_journey):
    with pytest.raises(JourneyInvalid) as info:
        load_journey(write_journey(BAD))
    found = {(p.line, p.column, p.rule): p.message for p in info.value.problems}
    assert "did you mean 'observed'?" in found[(4, 22, "invalid-value")]  # the journey default
    assert "asumed" in found[(11, 15, "invalid-value")] and "did you mean 'assumed'?" in found[(11, 15,
                                                                                                 "invalid-value")]
    assert "no delay" in found[(12, 19, "invalid-value")]  # a delay_estimate without a delay
    assert "inverted" in found[(17, 15, "out-of-range")]
    assert "3 is not a valid estimate" in found[(22, 15, "invalid-value")]  # wrong type
    assert "schedule" in found[(5, 46, "invalid-value")]  # no gap to scale


def test_cli_exits_1_on_a_bad_estimate(write_journey, capsys):
    path = write_journey(BAD)
    assert main(["uncertainty", str(path), "--no-progress"]) == 1
    assert f"{path}:17:15: error [out-of-range]" in capsys.readouterr().err


def test_files_without_estimates_are_unchanged(write_journey):
    """No key: no estimate anywhere; a tagged file simulates (and hashes) as the same file without tags."""
    from journeymap.simulation import simulate
    from journeymap.sweep import journey_hash

    plain = _one(write_journey, extra="", name="plain.yaml")
    tagged = _one(write_journey, name="tagged.yaml")
    assert plain.steps[0].duration_estimate is None and not uncertain_inputs(plain)
    assert journey_hash(plain) == journey_hash(tagged)
    a, b = (simulate(j, replications=2, seed=3).summary for j in (plain, tagged))
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


# --------------------------------------------------------------------------- sampling


@pytest.mark.parametrize("dims, n", [(1, 10), (4, 7), (6, 25)])
def test_latin_hypercube_covers_every_stratum_once(dims, n):
    points = input_samples(dims, n, seed=5)
    assert points.shape == (n, dims)
    for j in range(dims):
        assert sorted(np.floor(points[:, j] * n).astype(int)) == list(range(n))
    assert np.array_equal(points, input_samples(dims, n, seed=5))
    assert not np.array_equal(points, input_samples(dims, n, seed=6))


@pytest.mark.parametrize("dist", [Exponential(30.0), Triangular(10, 20, 60), LogNormal(40.0, 10.0)])
def test_scaling_moves_the_mean_and_keeps_the_shape(dist):
    s = scaled(dist, 1.5)
    assert type(s) is type(dist) and s.mean == pytest.approx(1.5 * dist.mean)
    assert s.variance / s.mean**2 == pytest.approx(dist.variance / dist.mean**2)


# --------------------------------------------------------------------------- bands by hand


def test_one_step_band_is_the_scaled_range_and_noise_is_zero(write_journey):
    """60 min, assumed (x0.5-1.5): each input sample's cycle time is 60 x its factor exactly, so the input
    band is the 2.5-97.5% of those, inside 30-90 min; no randomness, so the simulation noise is zero."""
    j = _one(write_journey)
    r = uncertainty(j, samples=10, replications=2, seed=7, workers=1)
    factors = [f["step:a"] for f in r["factors"]]
    expected_u = input_samples(1, 10, seed=7)[:, 0]
    assert factors == pytest.approx(list(0.5 + expected_u))
    for key in ("cycle_time_mean", "cycle_time_p90"):
        m = r["metrics"][key]
        assert m["nominal"] == pytest.approx(60.0) and m["noise_half_width"] == pytest.approx(0.0, abs=1e-9)
        assert m["noise_half_width_mean"] == pytest.approx(0.0, abs=1e-9)
        assert m["sample_means"] == pytest.approx([60.0 * f for f in factors])
        assert m["input_band"] == pytest.approx(list(np.percentile([60.0 * f for f in factors], [2.5, 97.5])))
        assert 30.0 <= m["input_band"][0] < m["input_band"][1] <= 90.0
    assert "input uncertainty (2.5-97.5%)" in str(uncertainty_blocks(r))


def test_pair_statement_on_a_deterministic_pair(write_journey):
    """Before 60 min (x0.5-1.5), after 30 min under the same id and range: the change in each input sample
    is -30 x its factor, the same factor in both designs; the change survives."""
    before = _one(write_journey, name="before.yaml")
    after = _one(write_journey, duration="30min", name="after.yaml")
    r = uncertainty_pair(before, after, samples=8, replications=2, seed=2, workers=1)
    u = input_samples(1, 8, seed=2)[:, 0]
    changes = [-30.0 * (0.5 + x) for x in u]
    m = r["metrics"]["cycle_time_mean"]
    assert m["change"] == pytest.approx(-30.0) and m["change_ci95"] == pytest.approx([-30.0, -30.0])
    assert m["sample_changes"] == pytest.approx(changes)
    assert m["change_band"] == pytest.approx(list(np.percentile(changes, [2.5, 97.5])))
    assert m["survives"] and m["statement"].startswith("cycle time, mean falls by ")
    assert r["inputs"] == [{"id": "step:a", "low": 0.5, "high": 1.5, "tag": "assumed", "in": [0, 1]}]


def test_no_uncertain_inputs_is_refused(write_journey):
    with pytest.raises(InvalidArgument, match="no uncertain inputs"):
        uncertainty(_one(write_journey, extra=""), samples=4, replications=2)


def test_reproducible_and_the_same_with_one_or_two_workers(write_journey):
    j = load_journey(write_journey("""\
journey: {name: Queue}
persona: {id: p}
stages: [s]
departments: [{id: ops, capacity: 1}]
estimates: {default: estimated}
workload: {arrivals: {poisson: 2h}, cases: 30, arrivals_estimate: observed}
steps:
  - id: a
    stage: s
    owner: ops
    duration: {exponential: 90min}
    next: {to: b, delay: {exponential: 1h}}
  - id: b
    stage: s
    owner: customer
    duration: 20min
"""))
    one = uncertainty(j, samples=4, replications=2, seed=11, workers=1)
    again = uncertainty(j, samples=4, replications=2, seed=11, workers=1)
    two = uncertainty(j, samples=4, replications=2, seed=11, workers=2)
    assert one == again == two
    assert uncertain_inputs(with_factors(j, one["factors"][0])) == uncertain_inputs(j)
    assert one["metrics"]["cycle_time_mean"]["noise_half_width"] > 0


def test_cli_json_and_pair(write_journey, capsys):
    b = write_journey(ONE_STEP.format(duration="60min", extra="    estimate: assumed\n"), "b.yaml")
    a = write_journey(ONE_STEP.format(duration="30min", extra="    estimate: assumed\n"), "a.yaml")
    assert main(["uncertainty", str(b), "--samples", "4", "--replications", "2", "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["samples"] == 4 and set(data["metrics"]) == {"cycle_time_mean", "cycle_time_p90"}
    assert main(["uncertainty", str(b), "--after", str(a), "--samples", "4", "--replications", "2",
                 "--no-progress"]) == 0
    assert "Cycle time, mean falls by" in capsys.readouterr().out
