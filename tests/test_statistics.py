"""Tests for journeymap.statistics: t quantiles, intervals, summaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from journeymap.statistics import percentiles, summarize, summarize_values, t_interval, t_quantile, thin_sorted


@pytest.mark.parametrize("p, df, expected", [
    (0.975, 1, 12.706204736174694),   # closed form, one degree of freedom
    (0.975, 2, 4.302652729749462),    # closed form, two
    (0.975, 3, 3.1824463052837078),   # smallest df that uses the series + Newton
    (0.995, 3, 5.840909309733355),    # the tail the 99% checks in the tests use
    (0.975, 9, 2.262157162798205),    # ten replications
    (0.995, 19, 2.860934606464979),   # twenty replications, 99%
    (0.95, 100, 1.6602343260853392),  # large df, close to normal
    (0.025, 9, -2.262157162798205),   # lower tail by symmetry
])
def test_t_quantile_matches_published_values(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-8)


# a printed table of t (two-sided 90%, 95%, 99%: p = 0.95, 0.975, 0.995), to its 3 decimals
T_TABLE = {
    1: (6.314, 12.706, 63.657),
    2: (2.920, 4.303, 9.925),
    5: (2.015, 2.571, 4.032),
    10: (1.812, 2.228, 3.169),
    20: (1.725, 2.086, 2.845),
    30: (1.697, 2.042, 2.750),
    60: (1.671, 2.000, 2.660),
    120: (1.658, 1.980, 2.617),
}


@pytest.mark.parametrize("df", T_TABLE)
def test_t_quantile_matches_the_printed_table(df):
    got = [round(t_quantile(p, df), 3) for p in (0.95, 0.975, 0.995)]
    assert got == list(T_TABLE[df])


def test_t_quantile_is_a_plain_float_and_symmetric():
    q = t_quantile(0.9, 7.5)                     # fractional degrees of freedom (Welch) are allowed
    assert type(q) is float and t_quantile(0.1, 7.5) == pytest.approx(-q)
    assert t_quantile(0.5, 3) == 0.0


@pytest.mark.parametrize("bad", [(0.0, 5), (1.0, 5), (0.5, 0), (float("nan"), 5), (0.5, float("nan"))])
def test_t_quantile_refuses_impossible_arguments(bad):
    with pytest.raises(ValueError):
        t_quantile(*bad)


def test_t_interval_is_the_textbook_formula():
    x = [9.8, 10.4, 10.1, 9.7, 10.0]
    lo, hi = t_interval(x)
    half = t_quantile(0.975, 4) * np.std(x, ddof=1) / math.sqrt(5)
    assert (lo, hi) == pytest.approx((np.mean(x) - half, np.mean(x) + half))
    lo99, hi99 = t_interval(x, 0.99)
    assert lo99 < lo and hi99 > hi


def test_t_interval_with_one_observation_has_no_bounds():
    assert t_interval([3.0]) == (None, None)


def test_t_interval_covers_the_mean_at_its_level():
    # coverage of a 95% interval on normal samples: 2000 intervals, binomial sd ~0.5%
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(2000):
        lo, hi = t_interval(rng.normal(5.0, 2.0, size=6))
        hits += lo <= 5.0 <= hi
    assert abs(hits / 2000 - 0.95) < 4 * math.sqrt(0.95 * 0.05 / 2000)


def test_summarize_pools_cases_but_intervals_replication_means():
    pooled = np.arange(1, 101, dtype=float)
    s = summarize(pooled, [40.0, 50.0, 61.0])
    assert s["mean"] == 50.5
    assert s["p50"] == pytest.approx(50.5)
    assert s["p90"] == pytest.approx(np.percentile(pooled, 90))
    assert s["std"] == pytest.approx(np.std(pooled, ddof=1))
    assert s["ci95"] == pytest.approx(list(t_interval([40.0, 50.0, 61.0])))
    assert set(s) == {"mean", "p50", "p90", "p95", "std", "ci95"}


def test_summarize_with_nothing_measured_stays_valid_json():
    s = summarize(np.array([]), [])
    assert s == {"mean": 0.0, "p50": 0.0, "p90": 0.0, "p95": 0.0, "std": 0.0, "ci95": [None, None]}


def test_summarize_values_uses_each_value_as_a_replication():
    s = summarize_values([0.5, 0.7])
    assert s["mean"] == pytest.approx(0.6)
    assert s["ci95"][0] < 0.6 < s["ci95"][1]


def test_percentiles_of_nothing_are_nan():
    assert all(math.isnan(p) for p in percentiles(np.array([])))


@pytest.mark.parametrize("n, limit", [(10, 20), (100, 7), (20001, 20000)])
def test_thin_sorted_keeps_evenly_spaced_order_statistics(n, limit):
    values = np.random.default_rng(1).random(n)
    out = thin_sorted(values, limit)
    assert len(out) == min(n, limit)
    assert list(out) == sorted(out)
    assert out[0] == values.min() and out[-1] == values.max()


def test_thirds_compares_each_run_s_first_and_last_third_and_intervals_the_rise():
    from journeymap.statistics import thirds

    t = thirds([[1, 1, 2, 2, 4, 4, 9], [1, 1, 3, 3, 3, 5, 5]])
    # run 1: first 1, middle (2+2+4)/3, last (4+9)/2;  run 2: first 1, middle 3, last 5
    assert t["first"] == 1 and t["middle"] == pytest.approx((8 / 3 + 3) / 2) and t["last"] == pytest.approx(5.75)
    assert t["ratio"] == pytest.approx(5.75)
    assert t["rise_ci95"] == pytest.approx(list(t_interval([5.5, 4.0])))
    assert thirds([[1, 2], []]) is None                       # too short to have thirds
    assert thirds([[0, 0, 0, 1, 1, 1]])["ratio"] is None       # from nothing: no ratio (JSON has no infinity)
    assert thirds([[0, 0, 0, 1, 1, 1]])["rise_ci95"] == [None, None]  # one run: no interval
