"""journeymap.fitting: samples with known parameters are fitted back, the right family is chosen, the written
value parses back to the fitted mean, and the edge cases (zeros, tiny samples, ties, no family fits) behave
as documented.

Tolerances: every sample has n = 2,000 and a fixed seed, so each test is deterministic; the tolerance on a
fitted parameter is about 4 standard errors of its maximum-likelihood estimate at that n (stated per row),
so a correct fit passes with any seed and a wrong parameterisation (a scale read as a rate, a variance as
an sd) fails by far more.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeymap.distributions import (
    MAX_DURATION,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Triangular,
    Weibull,
    parse_distribution,
    parse_duration,
)
from journeymap.fitting import (
    EMPIRICAL_POINTS,
    FAMILIES,
    KS_ALPHA,
    MIN_EMPIRICAL,
    MIN_FIT,
    duration_text,
    fit_durations,
)

N = 2000


def _sample(name: str, seed: int = 14) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return {
        "exponential": lambda: rng.exponential(120.0, N),                    # mean 2h
        "lognormal": lambda: rng.lognormal(math.log(100.0), 0.6, N),         # median 100min, sigma 0.6
        "gamma": lambda: rng.gamma(3.0, 40.0, N),                            # shape 3, scale 40min: mean 2h
        "weibull": lambda: 150.0 * rng.weibull(1.8, N),                      # shape 1.8, scale 2.5h
        "triangular": lambda: rng.triangular(30.0, 60.0, 240.0, N),          # 30min, 1h, 4h
    }[name]()


# the fitted journey-file distribution, and each true parameter with its tolerance (~4 standard errors at n=2000)
RECOVERY = [
    # exponential: the mean, SE = mean/sqrt(n) = 2.2%
    ("exponential", lambda d: [(d.mean_value, 120.0, 0.09)]),
    # lognormal given by mean and sd: mean exp(mu + s^2/2) = 119.7, sd = mean*sqrt(exp(s^2)-1) = 78.9; SE ~1.6%, ~3%
    ("lognormal", lambda d: [(d.mean_value, 100 * math.exp(0.18), 0.07),
                             (d.sd, 100 * math.exp(0.18) * math.sqrt(math.exp(0.36) - 1), 0.12)]),
    # gamma: mean 120 (SE 1.3%), shape 3 (SE ~3%)
    ("gamma", lambda d: [(d.mean_value, 120.0, 0.06), (d.shape, 3.0, 0.12)]),
    # weibull: shape 1.8 (SE ~1.7%), scale 150 (SE ~1.4%)
    ("weibull", lambda d: [(d.shape, 1.8, 0.07), (d.scale, 150.0, 0.06)]),
    # triangular: bounds converge fast (order statistics), the mode slower
    ("triangular", lambda d: [(d.low, 30.0, 0.05), (d.mode, 60.0, 0.12), (d.high, 240.0, 0.05)]),
]
CLASSES = {"exponential": Exponential, "lognormal": LogNormal, "gamma": Gamma, "weibull": Weibull,
           "triangular": Triangular}


@pytest.mark.parametrize(("family", "parameters"), RECOVERY, ids=[r[0] for r in RECOVERY])
def test_known_parameters_are_fitted_back(family, parameters):
    report = fit_durations(_sample(family))
    fit = next(c for c in report.candidates if c.name == family)
    dist = parse_distribution(fit.spec)
    assert isinstance(dist, CLASSES[family])
    for got, true, rel in parameters(dist):
        assert got == pytest.approx(true, rel=rel), (family, got, true)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_true_family_wins_or_is_within_2_aic(family):
    """The family that drew the sample is chosen. The exponential is nested in gamma and Weibull (shape 1),
    so for it a two-parameter family may score within 2 AIC; then the exponential must be within 2 of it."""
    report = fit_durations(_sample(family))
    true = next(c for c in report.candidates if c.name == family)
    assert true.passes
    assert report.reason == "aic"
    if family == "exponential":
        assert true.aic - report.best.aic <= 2
    else:
        assert report.best.name == family
    # the others of clearly different shape fail the check or lose by more than 2 AIC
    for other in report.candidates:
        if other.name not in (family, "empirical") and not (family == "exponential" and other.name in
                                                              ("gamma", "weibull")):
            assert not other.passes or other.aic - true.aic > 2, other


@pytest.mark.parametrize("family", FAMILIES)
def test_the_written_value_parses_back_to_the_fitted_mean(family):
    """duration_text keeps 4 significant digits, so the journey file's distribution has the fit's mean to 0.1%."""
    for fit in fit_durations(_sample(family)).candidates:
        assert parse_distribution(fit.spec).mean == pytest.approx(fit.mean, rel=1e-3), fit
    # and the fit's mean is the sample's mean for families whose MLE matches it (exponential, gamma)
    report = fit_durations(_sample(family))
    for fit in report.candidates:
        if fit.name in ("exponential", "gamma"):
            assert fit.mean == pytest.approx(float(_sample(family).mean()), rel=1e-6)


def test_no_family_fits_a_two_humped_sample_so_the_empirical_is_chosen():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(30, 3, 1000), rng.normal(300, 10, 1000)])
    report = fit_durations(x)
    assert [c.passes for c in report.candidates if c.name != "empirical"] == [False] * len(FAMILIES)
    assert report.best.name == "empirical" and report.reason == "no family passes"
    dist = parse_distribution(report.best.spec)
    assert isinstance(dist, Empirical) and len(dist.quantiles) == EMPIRICAL_POINTS
    assert dist.quantiles[0] == pytest.approx(x.min(), rel=1e-3) and dist.quantiles[-1] == pytest.approx(x.max(),
                                                                                                         rel=1e-3)
    assert dist.mean == pytest.approx(float(x.mean()), rel=0.01)      # 51 quantiles, linear between them
    assert report.best.ks_pvalue >= KS_ALPHA                          # the written distribution reproduces the sample
    closest = max((c for c in report.candidates if c.name != "empirical"), key=lambda c: c.ks_pvalue)
    assert closest.ks_pvalue < 0.001
    assert report.comment() == (f"n=2000, empirical (KS p={report.best.ks_pvalue:.2g}): no family passes KS "
                                f"(best: {closest.name}, KS p<0.001)")


def test_with_few_values_and_no_family_passing_the_lowest_aic_is_kept():
    """Below MIN_EMPIRICAL values an empirical distribution would be a guess too: the lowest AIC, said so."""
    x = np.array([10.0, 11, 12, 10.5, 300, 310, 305, 11.5, 299, 10.2, 10.8, 302] * 2)
    assert MIN_FIT <= len(x) < MIN_EMPIRICAL
    report = fit_durations(x)
    assert not any(c.passes for c in report.candidates if c.name != "empirical")
    assert report.reason == "none passes, few values"
    assert report.best is min((c for c in report.candidates if c.name != "empirical"), key=lambda c: c.aic)
    assert "by AIC though none passes KS" in report.comment()


@pytest.mark.parametrize(("values", "spec", "reason"), [
    ([42.0] * 50, {"fixed": "42min"}, "all equal"),                       # a scripted step
    ([0.0] * 7, {"fixed": "0min"}, "all equal"),                          # instant steps
    ([10.0, 20.0, 60.0], {"fixed": "30min"}, "too few values"),           # n=3 < MIN_FIT: the mean
    ([90.0], {"fixed": "1.5h"}, "all equal"),                             # one value
], ids=["equal", "zeros", "three", "one"])
def test_tiny_and_constant_samples_are_fixed(values, spec, reason):
    report = fit_durations(np.array(values))
    assert (report.best.name, report.best.spec, report.reason) == ("fixed", spec, reason)
    assert report.best.mean == pytest.approx(float(np.mean(values)))
    assert parse_distribution(report.best.spec) == Fixed(float(np.mean(values)))
    assert "\n" not in report.comment() and report.comment().startswith(f"n={len(values)}, ")


def test_zeros_are_fitted_as_half_the_smallest_positive_value_and_kept_by_the_empirical():
    """Durations logged to the minute: some are 0. The lognormal cannot take a 0 at all; without the
    replacement it would be dropped (an infinite log-likelihood)."""
    rng = np.random.default_rng(5)
    x = np.round(rng.exponential(60.0, N))
    zeros = int(np.sum(x == 0))
    assert zeros > 10
    report = fit_durations(x)
    assert (report.zeros, report.zero_as) == (zeros, 0.5)               # smallest positive value is 1min
    assert {c.name for c in report.candidates} == set(FAMILIES) | {"empirical"}
    assert report.best.name in ("exponential", "gamma", "weibull")
    assert parse_distribution(report.best.spec).mean == pytest.approx(60.0, rel=0.09)
    assert f"({zeros} zeros fitted as 30s)" in report.comment()
    empirical = next(c for c in report.candidates if c.name == "empirical")
    assert empirical.spec["empirical"][0] == "0min"


def test_a_triangular_fit_never_starts_below_zero():
    """Durations near 0 pull an unconstrained triangular's lower bound negative; it is refitted at 0."""
    x = _sample("exponential")
    tri = next(c for c in fit_durations(x).candidates if c.name == "triangular")
    low = parse_distribution(tri.spec).low
    assert low >= 0 and tri.method in ("mle", "mle, low bound 0", "moments")
    assert parse_duration(tri.spec["triangular"][2]) >= x.max() * (1 - 1e-3)


def test_the_comment_is_one_line_with_every_candidate_and_aic_differences():
    report = fit_durations(_sample("gamma"))
    text = report.comment()
    assert "\n" not in text
    assert text.startswith(f"n={N}, gamma by AIC (KS p=")
    for other in FAMILIES:
        if other != "gamma":
            fit = next(c for c in report.candidates if c.name == other)
            assert f"{other} AIC +{fit.aic - report.best.aic:.1f}" in text
    assert [c.aic for c in report.candidates if c.name != "empirical"] == \
        sorted(c.aic for c in report.candidates if c.name != "empirical")


@pytest.mark.parametrize("bad", [[], [1.0, -2.0, 3.0], [1.0, math.nan], [math.inf, 1.0], [1.0, 2.0, MAX_DURATION * 2]],
                         ids=["empty", "negative", "nan", "inf", "over-10-years"])
def test_bad_samples_are_refused(bad):
    with pytest.raises(ValueError, match="durations|no durations"):
        fit_durations(np.array(bad))


def test_fits_a_journey_file_would_refuse_are_left_out():
    """A heavy tail over days: the lognormal's sd would be over 10 years, which no journey file may give."""
    rng = np.random.default_rng(2)
    x = rng.lognormal(math.log(1e4), 3.5, N)
    x = x[x < 5e6]
    report = fit_durations(x)
    assert "lognormal" not in {c.name for c in report.candidates}
    for fit in report.candidates:
        parse_distribution(fit.spec)                                  # every one left can be written
    assert report.best.name == "empirical"


@pytest.mark.parametrize(("minutes", "text"), [
    (138.6, "2.31h"),
    (45.0, "45min"),
    (2160.0, "1.5d"),
    (0.5, "30s"),
    (0.0, "0min"),
    (59.99, "59.99min"),
    (61.234567, "1.021h"),       # 4 significant digits
    (1440 * 3652.4, "3652d"),    # the longest a journey may give: still no exponent
    (1 / 600, "0.1s"),
])
def test_duration_text(minutes, text):
    assert duration_text(minutes) == text


@given(st.floats(min_value=1e-4, max_value=MAX_DURATION))
def test_duration_text_round_trips_within_0_1_percent(minutes):
    assert parse_duration(duration_text(minutes)) == pytest.approx(minutes, rel=1e-3)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_duration_text_refuses_what_is_not_a_duration(bad):
    with pytest.raises(ValueError, match="finite number of minutes"):
        duration_text(bad)
