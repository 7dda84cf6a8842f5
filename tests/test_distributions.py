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
    UNITS,
    DurationError,
    Exponential,
    Fixed,
    LogNormal,
    Triangular,
    Uniform,
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
