"""Fit a distribution to observed durations, for a journey file mined from an event log.

:func:`fit_durations` takes a sample of durations in minutes and returns a :class:`FitReport`: every
candidate family fitted by maximum likelihood with :mod:`scipy.stats`, each with its AIC and a
Kolmogorov–Smirnov goodness-of-fit check, and the one chosen, as a value ready to write under a
step's ``duration:`` (see docs/format.md "Durations and distributions").

How the choice is made, and why:

* **Families**: exponential, lognormal, gamma and Weibull with their location fixed at 0 (a duration
  starts at zero; a free location would let a fit shift the whole distribution to hug the smallest
  observation), and the triangular with free bounds. Each is fitted by maximum likelihood
  (``scipy.stats.<family>.fit``). The triangular's likelihood is not smooth in its bounds, so its fit
  can wander: when it puts the lower bound below zero it is refitted with the lower bound at 0, and when
  it fails outright it falls back to bounds just outside the sample's extremes (by one average gap
  between order statistics) with the mode from the mean, (low + mode + high) / 3 = mean (a method-of-
  moments estimate), stated in :attr:`Fit.method`.
* **Goodness of fit**: a family *passes* when the KS test of the sample against the fitted distribution
  gives p >= :data:`KS_ALPHA` (0.05). The parameters come from the same sample, which makes this p-value
  optimistic (the fit has already hugged the data; Lilliefors' correction would lower it), so the check
  only weeds out families that are clearly wrong. With tens of thousands of values the test notices
  small departures, and ties (timestamps rounded to whole minutes) count against every continuous
  family: large logs fall back to the empirical distribution more often, which still reproduces them.
* **Choice**: among the families that pass, the lowest AIC (2k - 2 log L: the likelihood, with a penalty
  of 2 per parameter, so the three-parameter triangular must earn its extra parameter). A family within
  2 AIC of the best is about as well supported; the comment lists each one's AIC difference.
* **When no family passes**: with at least :data:`MIN_EMPIRICAL` (30) values, the **empirical**
  distribution (:data:`EMPIRICAL_POINTS` quantiles of the sample, interpolated); with fewer, the lowest
  AIC anyway (too few values for an empirical distribution to be better than a family), said in the
  comment.
* **Tiny samples**: with fewer than :data:`MIN_FIT` (5) values no fit is meaningful: a fixed duration at
  the sample mean. All values equal (a scripted step): fixed at that value.
* **Writable**: a fit whose written value a journey file would refuse (a heavy-tailed fit to long durations
  with an sd over 10 years, the longest duration a file may give) is left out; a sample with a value over
  10 years is refused (a wrong year in a timestamp, most likely).
* **Zeros** (a duration shorter than the log's timestamp resolution): the positive families have no
  density at 0 (the lognormal) or an infinite one (gamma and Weibull with shape < 1), so for every
  parametric fit each zero is replaced by half the smallest positive value (the middle of the interval
  it was rounded from); the count is reported (:attr:`FitReport.zeros`). The empirical distribution
  keeps the zeros.

Written values have 4 significant digits (:func:`duration_text`), so a journey file reads ``2.31h``, not
``138.6392min``; the file's distribution then has the fitted mean to within 0.05%.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .distributions import DAY, HOUR, MAX_DURATION, MINUTE, SECOND, DurationError, Empirical, parse_distribution

__all__ = ["Fit", "FitReport", "fit_durations", "duration_text", "KS_ALPHA", "MIN_FIT", "MIN_EMPIRICAL",
           "EMPIRICAL_POINTS", "FAMILIES"]

#: A family passes the goodness-of-fit check when the KS p-value is at least this.
KS_ALPHA = 0.05
#: Fewer values than this: no fit, a fixed duration at the mean.
MIN_FIT = 5
#: At least this many values before the empirical distribution may be chosen (when no family passes).
MIN_EMPIRICAL = 30
#: How many quantiles an empirical distribution is written with (0%, 2%, ..., 100%), or the whole
#: sorted sample when it is smaller: fine enough that a KS test of 1,000 values cannot tell the written
#: distribution from the sample (each segment holds 2%), short enough to read on one line.
EMPIRICAL_POINTS = 51
#: The parametric families tried, in the order the report lists ties.
FAMILIES = ("exponential", "lognormal", "gamma", "weibull", "triangular")
#: Above this many values, the triangular's optimiser sees this many evenly spaced order statistics (the
#: sample's quantiles) instead of every value: its fit takes seconds at 100,000 values otherwise. Its
#: likelihood, AIC and KS test still use every value.
_TRIANGULAR_FIT_POINTS = 10_000
#: Significant digits of a written duration: rounding moves a value by at most 0.05%.
_DIGITS = 4


@dataclass(frozen=True)
class Fit:
    """One candidate distribution fitted to the sample."""

    #: "exponential" | "lognormal" | "gamma" | "weibull" | "triangular" | "empirical" | "fixed"
    name: str
    #: the journey-file value, ready for YAML: ``{"gamma": {"mean": "2.31h", "sd": "1.05h"}}``
    spec: Any
    #: minutes, exact from the fitted parameters (the written spec agrees to within 0.05%)
    mean: float
    #: Akaike's information criterion, 2k - 2 log L; ``math.inf`` for empirical and fixed (not parametric fits)
    aic: float
    #: the KS distance between the sample and the fitted distribution, and its p-value (NaN when not tested)
    ks_statistic: float
    ks_pvalue: float
    #: sample size
    n: int
    #: how the parameters were found: "mle", "mle, low bound 0" (triangular refitted), "moments"
    #: (the triangular's fallback), "quantiles" (empirical), "mean" or "all equal" (fixed)
    method: str = "mle"

    @property
    def passes(self) -> bool:
        """Whether the KS check accepts this fit (p >= :data:`KS_ALPHA`)."""
        return self.ks_pvalue >= KS_ALPHA


@dataclass(frozen=True)
class FitReport:
    """The chosen fit, every candidate, and what the choice rested on."""

    best: Fit
    #: every fit tried, parametric ones by AIC (lowest first), then the empirical one
    candidates: tuple[Fit, ...]
    #: why ``best`` was chosen: "aic", "no family passes" (empirical), "none passes, few values" (lowest AIC
    #: anyway), "too few values" (fixed at the mean), "all equal" (fixed)
    reason: str = "aic"
    #: how many zeros the sample had, and the value the parametric fits saw instead (half the smallest
    #: positive value)
    zeros: int = 0
    zero_as: float = 0.0

    def comment(self) -> str:
        """One line for a YAML comment: sample size, the choice and why, the runners-up's AIC differences.

        ``n=412, gamma by AIC (KS p=0.41); lognormal AIC +3.2, weibull AIC +5.0 (fails KS), ...``
        """
        b, n = self.best, self.best.n
        if self.reason == "all equal":
            return f"n={n}, all values equal: fixed"
        if self.reason == "too few values":
            return f"n={n}, too few to fit (at least {MIN_FIT}): fixed at the mean"
        head = f"n={n}"
        if self.zeros:
            head += f" ({self.zeros} zero{'s' if self.zeros > 1 else ''} fitted as {duration_text(self.zero_as)})"
        parametric = [c for c in self.candidates if math.isfinite(c.aic)]
        if self.reason == "no family passes":
            best_p = max(parametric, key=lambda c: c.ks_pvalue, default=None)
            tail = f" (best: {best_p.name}, KS p{_p(best_p.ks_pvalue)})" if best_p else ""
            return f"{head}, empirical (KS p{_p(b.ks_pvalue)}): no family passes KS{tail}"
        how = "by AIC" if self.reason == "aic" else "by AIC though none passes KS"
        others = [f"{c.name} AIC +{c.aic - b.aic:.1f}" + ("" if c.passes else " (fails KS)")
                  for c in parametric if c is not b]
        return f"{head}, {b.name} {how} (KS p{_p(b.ks_pvalue)})" + ("; " + ", ".join(others) if others else "")


def _p(p: float) -> str:
    """A p-value for a comment, with its relation: '=0.41' (two significant digits), '<0.001' below that."""
    if math.isnan(p):
        return " n/a"
    return "<0.001" if p < 0.001 else f"={p:.2g}"


# --------------------------------------------------------------------------- written durations


def duration_text(minutes: float) -> str:
    """Minutes as a duration a human reads, with 4 significant digits: ``'2.31h'``, ``'45min'``, ``'1.5d'``.

    The unit is the largest of s, min, h, d that leaves at least 1 of it; trailing zeros are dropped.
    :func:`journeymap.distributions.parse_duration` reads the text back to within 0.05%.

    >>> duration_text(138.6), duration_text(45.0), duration_text(2160.0), duration_text(0.5)
    ('2.31h', '45min', '1.5d', '30s')
    """
    m = float(minutes)
    if not math.isfinite(m) or m < 0:
        raise ValueError(f"a duration must be a finite number of minutes >= 0, got {minutes!r}")
    if m == 0:
        return "0min"
    for unit, size in (("d", DAY), ("h", HOUR), ("min", MINUTE)):
        if m >= size:
            return _significant(m / size) + unit
    return _significant(m / SECOND) + "s"


def _significant(value: float) -> str:
    """``value`` with :data:`_DIGITS` significant digits, in plain decimal (no exponent: the duration parser
    reads digits and a point only), trailing zeros dropped."""
    decimals = max(0, _DIGITS - 1 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --------------------------------------------------------------------------- fitting


def fit_durations(minutes: np.ndarray | Any) -> FitReport:
    """Fit the durations ``minutes`` (finite, >= 0) and choose one distribution; see the module docstring.

    Raises :class:`ValueError` for an empty sample or one with negative, infinite or NaN values (the
    caller, which knows the file and line, reports them).
    """
    x = np.asarray(minutes, dtype=float).ravel()
    n = len(x)
    if n == 0:
        raise ValueError("no durations to fit")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("durations must be finite and >= 0 minutes")
    if np.any(x > MAX_DURATION):
        raise ValueError("durations longer than 10 years cannot be written in a journey file (a wrong year "
                         "in a timestamp?)")
    if np.all(x == x[0]):
        return FitReport(_fixed(float(x[0]), n, "all equal", 0.0, 1.0), (), "all equal")
    if n < MIN_FIT:
        mean = float(x.mean())
        return FitReport(_fixed(mean, n, "mean", math.nan, math.nan), (), "too few values")
    zeros = int(np.count_nonzero(x == 0))
    y = x
    zero_as = 0.0
    if zeros:
        zero_as = float(x[x > 0].min()) / 2
        y = np.where(x == 0, zero_as, x)
    parametric = sorted((f for f in (_fit_family(name, y) for name in FAMILIES) if f is not None),
                        key=lambda f: f.aic)
    empirical = _empirical(x)
    candidates = tuple(parametric) + ((empirical,) if empirical is not None else ())
    passing = [f for f in parametric if f.passes]
    if passing:
        best, reason = passing[0], "aic"
    elif n >= MIN_EMPIRICAL and empirical is not None:
        best, reason = empirical, "no family passes"
    elif parametric:
        best, reason = parametric[0], "none passes, few values"
    else:  # pragma: no cover - the exponential fit (the sample mean) cannot fail on positive finite values
        best, reason = _fixed(float(x.mean()), n, "mean", math.nan, math.nan), "too few values"
    return FitReport(best, candidates, reason, zeros, zero_as)


def _fixed(value: float, n: int, method: str, ks: float, p: float) -> Fit:
    return Fit("fixed", {"fixed": duration_text(value)}, value, math.inf, ks, p, n, method)


def _fit_family(name: str, x: np.ndarray) -> Fit | None:
    """Maximum-likelihood fit of one family; None when it cannot describe the sample at all."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # scipy's optimisers warn on every difficult start; the result is checked
        try:
            frozen, spec, k, method = _FITTERS[name](x)
        except (ValueError, RuntimeError, FloatingPointError, OverflowError):
            return None
        loglik = float(np.sum(frozen.logpdf(x)))
        if not math.isfinite(loglik) or not _writable(spec):
            return None
        ks = stats.kstest(x, frozen.cdf)
    mean = float(frozen.mean())
    return Fit(name, spec, mean, 2 * k - 2 * loglik, float(ks.statistic), float(ks.pvalue), len(x), method)


def _writable(spec: Any) -> bool:
    """Whether a journey file accepts ``spec``: a heavy-tailed fit to days-long durations can give an sd
    over 10 years (which :func:`~journeymap.distributions.parse_duration` refuses); such a fit is left out."""
    try:
        parse_distribution(spec)
    except DurationError:
        return False
    return True


_Fitted = tuple[Any, Any, int, str]  # (frozen scipy distribution, spec, number of parameters, method)


def _exponential(x: np.ndarray) -> _Fitted:
    _, scale = stats.expon.fit(x, floc=0)
    return stats.expon(0, scale), {"exponential": duration_text(scale)}, 1, "mle"


def _lognormal(x: np.ndarray) -> _Fitted:
    s, _, scale = stats.lognorm.fit(x, floc=0)
    frozen = stats.lognorm(s, 0, scale)
    return frozen, {"lognormal": _mean_sd(frozen)}, 2, "mle"


def _gamma(x: np.ndarray) -> _Fitted:
    a, _, scale = stats.gamma.fit(x, floc=0)
    frozen = stats.gamma(a, 0, scale)
    return frozen, {"gamma": _mean_sd(frozen)}, 2, "mle"


def _weibull(x: np.ndarray) -> _Fitted:
    c, _, scale = stats.weibull_min.fit(x, floc=0)
    frozen = stats.weibull_min(c, 0, scale)
    return frozen, {"weibull": {"shape": float(f"{c:.{_DIGITS}g}"), "scale": duration_text(scale)}}, 2, "mle"


def _mean_sd(frozen: Any) -> dict[str, str]:
    return {"mean": duration_text(float(frozen.mean())), "sd": duration_text(float(frozen.std()))}


def _triangular(x: np.ndarray) -> _Fitted:
    """MLE of the triangular's three parameters; the lower bound kept >= 0; moments when the optimiser fails."""
    s = np.sort(x)
    seen = s if len(s) <= _TRIANGULAR_FIT_POINTS else \
        s[np.rint(np.linspace(0, len(s) - 1, _TRIANGULAR_FIT_POINTS)).astype(np.int64)]
    method = "mle"
    try:
        c, loc, scale = stats.triang.fit(seen)
        if loc < 0:
            c, loc, scale = stats.triang.fit(seen, floc=0)
            method = "mle, low bound 0"
        if not (loc >= 0 and scale > 0 and 0 <= c <= 1 and loc <= s[0] and loc + scale >= s[-1]
                and math.isfinite(float(np.sum(stats.triang.logpdf(x, c, loc, scale))))):
            raise ValueError("the triangular optimiser left the sample")
    except (ValueError, RuntimeError, FloatingPointError):
        c, loc, scale = _triangular_moments(s)
        method = "moments"
    low, mode, high = float(loc), float(loc + c * scale), float(loc + scale)
    spec = {"triangular": [duration_text(low), duration_text(mode), duration_text(high)]}
    return stats.triang(c, loc, scale), spec, 3, method


def _triangular_moments(s: np.ndarray) -> tuple[float, float, float]:
    """scipy's (c, loc, scale) with bounds one average gap outside the sorted sample ``s``'s extremes (so every
    value has a density) and the mode from the mean (mean = (low + mode + high) / 3), clipped into the bounds."""
    gap = float(s[-1] - s[0]) / (len(s) - 1)
    low, high = max(0.0, float(s[0]) - gap), float(s[-1]) + gap
    mode = min(max(3 * float(s.mean()) - low - high, low), high)
    return (mode - low) / (high - low), low, high - low


_FITTERS = {"exponential": _exponential, "lognormal": _lognormal, "gamma": _gamma, "weibull": _weibull,
            "triangular": _triangular}


def _empirical(x: np.ndarray) -> Fit | None:
    """The sample's :data:`EMPIRICAL_POINTS` quantiles (the whole sorted sample when smaller) as an empirical
    distribution, checked by KS like the families; None when the written quantiles collapse to one value."""
    s = np.sort(x)
    points = min(len(s), EMPIRICAL_POINTS)
    q = s if points == len(s) else np.quantile(s, np.linspace(0, 1, points))
    texts = [duration_text(float(v)) for v in q]
    if texts[0] == texts[-1]:
        return None
    dist = Empirical(tuple(float(v) for v in q))
    qs = np.asarray(dist.quantiles)
    probs = np.linspace(0, 1, len(qs))

    def cdf(v: np.ndarray) -> np.ndarray:
        # the inverse of the piecewise-linear quantile function; flat runs (equal quantiles) jump
        return np.interp(v, qs, probs)

    ks = stats.kstest(x, cdf)
    return Fit("empirical", {"empirical": texts}, dist.mean, math.inf, float(ks.statistic), float(ks.pvalue),
               len(x), "quantiles")
