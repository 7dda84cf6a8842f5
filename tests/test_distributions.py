"""Durations and distributions: parsing, exact moments, sampling."""

from __future__ import annotations

import math
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeymap.distributions import (
    BASES,
    DISTRIBUTION_NAMES,
    ELAPSED,
    MAX_EMPIRICAL,
    UNITS,
    DurationError,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Triangular,
    Uniform,
    Weibull,
    duration_basis,
    format_minutes,
    parse_distribution,
    parse_duration,
    parse_timed,
    parse_timed_distribution,
)


@pytest.mark.parametrize("text, minutes", [
    ("45s", 0.75),          # seconds
    ("30min", 30.0),        # minutes
    ("30m", 30.0),          # m is minutes, never months
    ("2h", 120.0),
    ("1.5d", 2160.0),       # a calendar day is 24 h
    ("1w", 10080.0),        # a calendar week
    (".5h", 30.0),          # leading dot
    (" 2 h ", 120.0),       # spaces around and between
    ("3D", 4320.0),         # units are case-insensitive
    (0, 0.0),               # a bare zero needs no unit
])
def test_parse_duration(text, minutes):
    assert parse_duration(text) == pytest.approx(minutes)


@pytest.mark.parametrize("value, fragment", [
    (30, "has no unit; write it with one, e.g. 30min"),   # the 60x mistake
    (2.5, "has no unit"),
    ("30", "write a number then a unit"),
    ("-1h", "write a number then a unit"),                 # no negative durations
    ("3 fortnights", "unknown time unit 'fortnights'"),
    ("h", "write a number then a unit"),
    (None, "expected a duration"),
    (True, "expected a duration"),                         # YAML yes/no are not durations
    ([1, 2], "got list"),
])
def test_parse_duration_refuses(value, fragment):
    with pytest.raises(DurationError, match=None) as exc:
        parse_duration(value)
    assert fragment in str(exc.value)


@given(number=st.decimals(min_value=0, max_value=500, places=3, allow_nan=False, allow_infinity=False),
       unit=st.sampled_from(sorted(UNITS)))
def test_parse_duration_is_number_times_unit(number, unit):  # 500w is just under the 10-year cap
    """Property: 'N<unit>' is N times the unit's minutes, for every unit and spelling."""
    assert parse_duration(f"{number}{unit}") == pytest.approx(float(number) * UNITS[unit])
    assert parse_duration(f"{number} {unit.upper()}") == pytest.approx(float(number) * UNITS[unit])


@given(minutes=st.floats(min_value=1 / 60, max_value=1e6, allow_nan=False))
def test_format_minutes_round_trips_within_its_rounding(minutes):
    """Property: parse_duration(format_minutes(m)) is m, up to half the shown precision."""
    back = parse_duration(format_minutes(minutes))
    step = 1440 * 0.1 if minutes >= 1440 else 60 * 0.1 if minutes >= 60 else 1.0 if minutes >= 1 else 1 / 60
    assert abs(back - minutes) <= step / 2 + 1e-9


def test_format_minutes():
    assert [format_minutes(m) for m in (0.5, 30, 90, 2880, -90)] == ["30s", "30min", "1.5h", "2.0d", "-1.5h"]
    assert format_minutes(float("nan")) == "n/a"


@pytest.mark.parametrize("value, expected", [
    ("2h", Fixed(120.0)),
    ({"fixed": "30min"}, Fixed(30.0)),
    ({"exponential": "2h"}, Exponential(120.0)),
    ({"triangular": ["1h", "2h", "4h"]}, Triangular(60.0, 120.0, 240.0)),
    ({"uniform": ["1h", "3h"]}, Uniform(60.0, 180.0)),
    ({"lognormal": {"mean": "2h", "sd": "1h"}}, LogNormal(120.0, 60.0)),
])
def test_parse_distribution(value, expected):
    assert parse_distribution(value) == expected


@pytest.mark.parametrize("value, fragment", [
    ({"triangle": ["1h", "2h", "3h"]}, "did you mean 'triangular'?"),        # misspelt name
    ({"triangular": ["3h", "2h", "1h"]}, "shortest <= most likely <= longest"),
    ({"triangular": ["1h", "1h", "1h"]}, "shortest < longest"),             # degenerate
    ({"triangular": ["1h", "2h"]}, "triangular needs [shortest, most likely, longest]"),
    ({"uniform": ["2h", "1h"]}, "uniform needs shortest < longest"),
    ({"exponential": "0min"}, "mean greater than zero"),
    ({"lognormal": {"mean": "2h"}}, "lognormal needs {mean: ..., sd: ...}"),
    ({"lognormal": {"mean": "2h", "sd": "0h"}}, "greater than zero"),
    ({"fixed": "1h", "uniform": ["1h", "2h"]}, "exactly one key"),
    ({}, "exactly one key"),
])
def test_parse_distribution_refuses(value, fragment):
    with pytest.raises(DurationError) as exc:
        parse_distribution(value)
    assert fragment in str(exc.value)


def test_every_distribution_name_is_documented_with_an_example():
    for name, shape in DISTRIBUTION_NAMES.items():
        assert "e.g." in shape and name in shape


@pytest.mark.parametrize("dist, mean, variance", [
    (Fixed(30.0), 30.0, 0.0),
    (Exponential(60.0), 60.0, 3600.0),
    (Triangular(0.0, 0.0, 6.0), 2.0, 2.0),          # (a²+b²+c²-ab-ac-bc)/18 = 36/18
    (Uniform(0.0, 12.0), 6.0, 12.0),                 # (b-a)²/12
    (LogNormal(120.0, 60.0), 120.0, 3600.0),         # given by mean and sd directly
])
def test_exact_moments(dist, mean, variance):
    assert dist.mean == pytest.approx(mean)
    assert dist.variance == pytest.approx(variance)


@pytest.mark.parametrize("dist, low, high", [
    (Fixed(30.0), 30.0, 30.0),
    (Exponential(60.0), 0.0, math.inf),
    (Triangular(10.0, 20.0, 60.0), 10.0, 60.0),   # shortest and longest, whatever order random.triangular takes
    (Uniform(5.0, 25.0), 5.0, 25.0),
    (LogNormal(120.0, 60.0), 0.0, math.inf),
], ids=["fixed", "exponential", "triangular", "uniform", "lognormal"])
def test_samples_agree_with_exact_moments(dist, low, high):
    """The sample mean is within 4 standard errors of the exact mean (seeded, so deterministic)."""
    rng = Random(2)
    n = 20_000
    xs = [dist.sample(rng) for _ in range(n)]
    mean = sum(xs) / n
    assert abs(mean - dist.mean) <= 4 * math.sqrt(dist.variance / n) + 1e-9
    # was `min(xs) >= 0`, which none of these can break: every sample within the distribution's bounds
    assert low <= min(xs) and max(xs) <= high


@given(a=st.floats(0, 1e4), b=st.floats(0, 1e4), c=st.floats(0, 1e4), seed=st.integers(0, 2**32))
def test_triangular_samples_stay_in_bounds(a, b, c, seed):
    low, mode, high = sorted((a, b, c))
    if low == high:
        return
    d = Triangular(low, mode, high)
    x = d.sample(Random(seed))
    assert low <= x <= high
    assert low <= d.mean <= high and d.variance >= 0


@pytest.mark.parametrize("value", ["522w", "3653d", "99999999999999999999w"])
def test_durations_longer_than_ten_years_are_refused(value):
    with pytest.raises(DurationError, match="longer than 10 years"):
        parse_duration(value)


# --------------------------------------------------------------------------- working time (issue 12)


@pytest.mark.parametrize("text, minutes, basis", [
    ("4wh", 240.0, "working"),           # working hours: minutes of open time
    ("1.5 WH", 90.0, "working"),         # spaces and case as for every unit
    ("2bd", 2880.0, "business"),         # business days: stored as days x 1440, counted as open dates
    (".5bd", 720.0, "business"),
    ("3d", 4320.0, "elapsed"),
    (0, 0.0, "elapsed"),
])
def test_parse_timed_gives_minutes_and_a_basis(text, minutes, basis):
    assert parse_timed(text, bases=BASES) == (minutes, basis)
    assert duration_basis(text) == basis


@pytest.mark.parametrize("value, bases, fragment", [
    ("4wh", ELAPSED, "'4wh' is in working hours, which cannot be used here; write elapsed time (30min, 2h, 3d)"),
    ("2bd", ("elapsed", "working"), "'2bd' is in business days, which cannot be used here; write elapsed time "
                                    "(30min, 2h, 3d) or working hours (4wh)"),
    (2, BASES, "duration 2 has no unit; write it with one, e.g. 2min, 2h, 2d, 2wh or 2bd"),
    ("2 fortnights", BASES, "(must be one of s, min, h, d, w, wh, bd)"),
    ("2 fortnights", ELAPSED, "(must be one of s, min, h, d, w)"),
])
def test_working_time_is_refused_where_the_caller_does_not_allow_it(value, bases, fragment):
    with pytest.raises(DurationError) as exc:
        parse_timed(value, bases=bases)
    assert fragment in str(exc.value)


def test_elapsed_only_by_default_so_old_callers_never_see_working_time():
    for parse in (parse_duration, parse_distribution):
        with pytest.raises(DurationError, match="working hours"):
            parse("4wh")
    assert parse_duration("4wh", bases=BASES) == 240.0


@pytest.mark.parametrize("value, expected", [
    ("4wh", (Fixed(240.0), "working")),
    ({"triangular": ["1wh", "2wh", "6wh"]}, (Triangular(60.0, 120.0, 360.0), "working")),
    ({"exponential": "2bd"}, (Exponential(2880.0), "business")),
    ({"uniform": [0, "2wh"]}, (Uniform(0.0, 120.0), "working")),      # a bare 0 takes the others' basis
    ({"lognormal": {"mean": "2h", "sd": "1h"}}, (LogNormal(120.0, 60.0), "elapsed")),
])
def test_parse_timed_distribution(value, expected):
    assert parse_timed_distribution(value, bases=BASES) == expected


@pytest.mark.parametrize("value, fragment", [
    ({"uniform": ["1h", "2wh"]}, "a distribution mixes elapsed time and working hours"),
    ({"triangular": ["1wh", "1bd", "2bd"]}, "a distribution mixes working hours and business days"),
    ({"lognormal": {"mean": "2bd", "sd": "4h"}}, "mixes elapsed time and business days"),
    ({"exponential": "2bd", "x": 1}, "exactly one key"),               # the shape is checked first
])
def test_one_distribution_is_written_in_one_kind_of_time(value, fragment):
    with pytest.raises(DurationError) as exc:
        parse_timed_distribution(value, bases=BASES)
    assert fragment in str(exc.value)


# --------------------------------------------------------------------------- gamma, Weibull, empirical (issue 14)


@pytest.mark.parametrize("value, expected", [
    ({"gamma": {"mean": "2h", "sd": "1h"}}, Gamma(120.0, 60.0)),
    ({"weibull": {"shape": 1.5, "scale": "2h"}}, Weibull(1.5, 120.0)),
    ({"weibull": {"shape": 2, "scale": "1d"}}, Weibull(2.0, 1440.0)),               # an int shape is a number
    ({"empirical": ["10min", "25min", "40min", "1h", "3h"]}, Empirical((10.0, 25.0, 40.0, 60.0, 180.0))),
    ({"empirical": [0, "0min", "5min", "5min", "1h"]}, Empirical((0.0, 0.0, 5.0, 5.0, 60.0))),  # ties allowed
])
def test_parse_the_new_distributions(value, expected):
    assert parse_distribution(value) == expected


@pytest.mark.parametrize("value, fragment, where", [
    ({"gamma": {"mean": "2h"}}, "gamma needs {mean: ..., sd: ...}", ()),
    ({"gamma": {"mean": "2h", "sd": "0min"}}, "gamma needs a mean and an sd greater than zero", ("gamma", "sd")),
    ({"gamma": {"mean": "2 fortnights", "sd": "1h"}}, "unknown time unit", ("gamma", "mean")),
    ({"weibull": {"shape": "1.5", "scale": "2h"}}, "weibull shape must be a plain number", ("weibull", "shape")),
    ({"weibull": {"shape": True, "scale": "2h"}}, "plain number greater than zero", ("weibull", "shape")),
    ({"weibull": {"shape": 0, "scale": "2h"}}, "plain number greater than zero", ("weibull", "shape")),
    ({"weibull": {"shape": 1.5, "scale": 2}}, "has no unit", ("weibull", "scale")),
    ({"weibull": {"shape": 1.5, "scale": "0h"}}, "scale greater than zero", ("weibull", "scale")),
    ({"weibull": {"shape": 0.01, "scale": "1h"}}, "mean over 10 years", ("weibull", "shape")),
    ({"weibull": {"shape": 1.5}}, "weibull needs {shape: a number, scale: a duration}", ()),
    ({"empirical": ["1h"]}, "empirical needs a list of 2 to 1001 durations", ()),
    ({"empirical": "1h"}, "empirical needs a list", ()),
    ({"empirical": ["1h", "2h", "90min", "3h"]}, "must not decrease: '90min' (value 3) is less than '2h'",
     ("empirical", 2)),
    ({"empirical": ["1h", "2h", "3 parsecs"]}, "unknown time unit", ("empirical", 2)),
    ({"empirical": ["1h", "1h"]}, "first value less than its last", ()),
    ({"empirical": ["1min"] * MAX_EMPIRICAL + ["2min"]}, "1002 values, more than 1001", ("empirical", 1001)),
    ({"triangular": ["1h", "2 h", "3 fortnights"]}, "unknown time unit", ("triangular", 2)),  # old ones too
])
def test_the_new_distributions_refuse_bad_values_and_say_where(value, fragment, where):
    """``where`` is the path inside the value the validator adds to the value's own path for the line:column."""
    with pytest.raises(DurationError) as exc:
        parse_distribution(value)
    assert fragment in str(exc.value)
    assert exc.value.where == where


@pytest.mark.parametrize("value, expected", [
    ({"weibull": {"shape": 1.5, "scale": "2wh"}}, (Weibull(1.5, 120.0), "working")),   # the shape has no basis
    ({"gamma": {"mean": "2bd", "sd": "1bd"}}, (Gamma(2880.0, 1440.0), "business")),
    ({"empirical": [0, "1wh", "3wh"]}, (Empirical((0.0, 60.0, 180.0)), "working")),
])
def test_the_new_distributions_in_working_time(value, expected):
    assert parse_timed_distribution(value, bases=BASES) == expected


def test_a_new_distribution_mixing_kinds_of_time_is_refused():
    with pytest.raises(DurationError, match="mixes elapsed time and working hours"):
        parse_timed_distribution({"empirical": ["1h", "2wh"]}, bases=BASES)


def test_an_empirical_list_of_exactly_the_limit_is_accepted():
    d = parse_distribution({"empirical": ["1min"] * (MAX_EMPIRICAL - 1) + ["2min"]})
    assert isinstance(d, Empirical) and len(d.quantiles) == MAX_EMPIRICAL


@pytest.mark.parametrize("dist, mean, variance", [
    (Gamma(120.0, 60.0), 120.0, 3600.0),                       # given by mean and sd
    (Weibull(1.0, 60.0), 60.0, 3600.0),                         # shape 1 is the exponential
    (Weibull(2.0, 1.0), math.sqrt(math.pi) / 2, 1 - math.pi / 4),  # Rayleigh: Γ(3/2), 1 - π/4
    (Empirical((0.0, 6.0)), 3.0, 3.0),                          # two values: uniform on [0, 6]
    (Empirical((0.0, 0.0, 6.0)), 1.5, 3.75),                    # half at 0, half uniform on [0, 6]: E[X²] = 6
    # segments [10,20], [20,20], [20,50], 1/3 each: E[X] = (15 + 20 + 35)/3, E[X²] = (700/3 + 400 + 1300)/3
    (Empirical((10.0, 20.0, 20.0, 50.0)), 70 / 3, (700 / 3 + 400 + 1300) / 3 - (70 / 3) ** 2),
], ids=["gamma", "weibull-1", "weibull-2", "empirical-2", "empirical-atom", "empirical-4"])
def test_exact_moments_of_the_new_distributions(dist, mean, variance):
    assert dist.mean == pytest.approx(mean)
    assert dist.variance == pytest.approx(variance)


def test_gamma_shape_and_scale_come_from_mean_and_sd():
    assert (Gamma(120.0, 60.0).shape, Gamma(120.0, 60.0).scale) == pytest.approx((4.0, 30.0))


#: Monte Carlo draws for the moment checks: 200,000 per distribution.
MC = 200_000


@pytest.mark.parametrize("dist, low, high", [
    (Gamma(120.0, 60.0), 0.0, math.inf),                     # shape 4
    (Gamma(10.0, 30.0), 0.0, math.inf),                      # shape 1/9: most draws near 0, a long tail
    (Weibull(1.5, 120.0), 0.0, math.inf),
    (Weibull(0.7, 60.0), 0.0, math.inf),                     # falling hazard
    (Empirical((10.0, 25.0, 40.0, 60.0, 180.0)), 10.0, 180.0),
    (Empirical((0.0, 0.0, 5.0, 5.0, 100.0)), 0.0, 100.0),   # an atom at 0, a flat run, a long last segment
], ids=["gamma", "gamma-small-shape", "weibull", "weibull-below-1", "empirical", "empirical-runs"])
def test_new_distributions_sample_their_exact_mean_and_variance(dist, low, high):
    """200,000 draws: the sample mean within 4 standard errors of the exact mean, and the sample variance
    within 4 standard errors of the exact variance (SE of a variance: sqrt((m4 - s^4) / n), m4 the sample's
    fourth central moment)."""
    rng = Random(14)
    x = [dist.sample(rng) for _ in range(MC)]
    mean = math.fsum(x) / MC
    assert abs(mean - dist.mean) <= 4 * math.sqrt(dist.variance / MC)
    var = math.fsum((v - mean) ** 2 for v in x) / (MC - 1)
    m4 = math.fsum((v - mean) ** 4 for v in x) / MC
    assert abs(var - dist.variance) <= 4 * math.sqrt((m4 - var * var) / MC)
    assert low <= min(x) and max(x) <= high


@pytest.mark.parametrize("dist", [
    Fixed(30.0), Exponential(60.0), Triangular(10.0, 20.0, 60.0), Uniform(5.0, 25.0), LogNormal(120.0, 60.0),
    Gamma(120.0, 60.0), Weibull(1.5, 120.0), Empirical((0.0, 10.0, 10.0, 70.0)),
], ids=lambda d: type(d).__name__)
def test_scaled_multiplies_every_time_and_keeps_the_shape(dist):
    """What levers (x0.5 on a step) and input uncertainty do: mean times k, variance times k², same family."""
    k = 2.5
    out = dist.scaled(k)
    assert type(out) is type(dist)
    assert out.mean == pytest.approx(dist.mean * k) and out.variance == pytest.approx(dist.variance * k * k)
    if isinstance(dist, Weibull):
        assert out.shape == dist.shape                     # a plain number, not a time
    from journeymap.levers import _scaled
    from journeymap.uncertainty import scaled

    assert _scaled(dist, k) == out and scaled(dist, k) == out  # levers and input uncertainty scale alike


def test_describe_names_the_new_distributions():
    assert Gamma(120.0, 60.0).describe() == "gamma(2.0h±1.0h)"
    assert Weibull(1.5, 120.0).describe() == "weib(1.5, 2.0h)"
    assert Empirical((10.0, 25.0, 180.0)).describe() == "emp(10min..3.0h, 3 pts)"


def test_the_schema_offers_exactly_the_distributions_the_parser_reads():
    from journeymap.schema import DURATION

    offered = DURATION["anyOf"][2]["properties"]
    assert set(offered) == set(DISTRIBUTION_NAMES)
    assert offered["empirical"]["maxItems"] == MAX_EMPIRICAL


# validation: the bad part's own line and column (the journey's steps start on line 8, items at column 3)
_HEAD = """\
journey: {name: T}
persona: {id: p}
stages: [a, b]
departments:
  - {id: sales}
  - {id: ops}
steps:
"""


@pytest.mark.parametrize("steps, line, column, fragment", [
    # the third empirical value, at its own column
    ("  - {id: s1, stage: a, owner: sales, duration: {empirical: [1h, 2h, 90min, 3h]}}\n", 8, 69, "must not decrease"),
    # the shape, on its own line in block style
    ("  - id: s1\n    stage: a\n    owner: sales\n    duration:\n      weibull:\n        shape: 1.5h\n"
     "        scale: 2h\n", 13, 16, "weibull shape must be a plain number"),
    ("  - {id: s1, stage: a, owner: sales, duration: {gamma: {mean: 2h, sd: 0h}}}\n", 8, 71,
     "sd greater than zero"),
    # a whole-distribution problem stays at the distribution
    ("  - {id: s1, stage: a, owner: sales, duration: {empirical: [1h, 1h]}}\n", 8, 48, "first value less than"),
    # a flow's delay too
    ("  - {id: s1, stage: a, owner: sales, duration: 1h, next: {to: s2, delay: {empirical: [1h, 3d, 2d]}}}\n",
     8, 95, "must not decrease"),
], ids=["empirical-order", "weibull-shape", "gamma-sd", "empirical-flat", "delay"])
def test_validation_points_at_the_bad_value(steps, line, column, fragment):
    from journeymap.validation import check_text

    text = _HEAD + steps + "  - {id: s2, stage: b, owner: ops, duration: 1h}\n"
    checked = check_text(text, "bad.yaml")
    assert checked.journey is None
    found = [(p.line, p.column) for p in checked.errors if p.rule == "invalid-duration" and fragment in p.message]
    assert found == [(line, column)], [(p.line, p.column, p.message) for p in checked.errors]


def test_a_journey_using_each_new_distribution_simulates_with_their_means():
    """Customer-owned steps (no queue) and a flow delay: a case's processing time is the sum of its three steps'
    durations and its flow delay the empirical delay; both means within 4 standard errors of the exact ones."""
    import numpy as np
    from helpers import journey_of

    from journeymap.simulation import simulate

    journey = journey_of("""
        journey: {name: New distributions}
        persona: {id: p}
        stages: [a]
        steps:
          - {id: g, stage: a, owner: customer, duration: {gamma: {mean: 2h, sd: 1h}}}
          - id: w
            stage: a
            owner: customer
            duration: {weibull: {shape: 1.5, scale: 1h}}
            next: {to: e, delay: {empirical: [0min, 30min, 1h, 4h]}}
          - {id: e, stage: a, owner: customer, duration: {empirical: [10min, 25min, 40min, 1h, 3h]}}
        workload: {arrivals: {poisson: 10min}, cases: 4000, warmup: 0}
        """)
    steps = [s.duration for s in journey.steps]
    assert [type(d) for d in steps] == [Gamma, Weibull, Empirical]
    delay = next(f.delay for f in journey.flows if f.delay is not None)
    cases = simulate(journey, replications=1, seed=3).replications[0].cases
    n = len(cases["processing_time"])
    assert n == 4000
    work, waited = np.asarray(cases["processing_time"]), np.asarray(cases["flow_delay"])
    assert abs(work.mean() - sum(d.mean for d in steps)) <= 4 * math.sqrt(sum(d.variance for d in steps) / n)
    assert abs(waited.mean() - delay.mean) <= 4 * math.sqrt(delay.variance / n)


def test_a_written_duration_takes_the_largest_unit_that_reads_back_exactly():
    from journeymap.distributions import DAY, written_distribution, written_duration

    assert [written_duration(m) for m in (120.0, 90.0, 2 * DAY, 10080.0, 0.5, 0.0)] == \
        ["2h", "1.5h", "2d", "1w", "0.5min", "0min"]
    assert written_duration(240.0, "working") == "4wh" and written_duration(2 * DAY, "business") == "2bd"
    for minutes in (1 / 3, 1e-3, 123.456789, 7 * DAY + 1e-9):
        assert parse_duration(written_duration(minutes)) == minutes
    d = LogNormal(150.0, 45.0)
    assert parse_distribution(written_distribution(d)) == d
