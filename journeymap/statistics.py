"""Summaries of simulation output: percentiles, spreads and confidence intervals.

Pure functions over numbers; nothing here knows about journeys.

Two kinds of spread appear in every summary and they answer different questions:

* ``p50``/``p90``/``p95``/``std`` describe the **cases**: how long one case
  takes, pooled over every measured case of every replication.
* ``ci95`` describes the **estimate of the mean**: a Student-t interval over the
  replication means (each replication is one independent run, so its mean is
  one independent observation; the cases inside a run are not independent of
  each other because they queue behind one another).

The Student-t quantile is computed here (Newton's method on the exact density)
rather than taken from SciPy, so SciPy stays an optional dependency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = ["t_quantile", "t_interval", "percentiles", "summarize", "summarize_values", "thin_sorted", "thirds"]

#: Percentiles every summary reports.
PERCENTILES = (50, 90, 95)


def _t_pdf(x: float, df: float) -> float:
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1) / 2 * math.log1p(x * x / df))


def _t_cdf(x: float, df: float, intervals: int = 2000) -> float:
    """P(T <= x) for x >= 0 by Simpson's rule on the density (smooth and bounded, so this is exact to ~1e-12)."""
    h = x / intervals
    total = _t_pdf(0.0, df) + _t_pdf(x, df)
    for i in range(1, intervals):
        total += (4 if i % 2 else 2) * _t_pdf(i * h, df)
    return 0.5 + total * h / 3


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom.

    Exact closed forms for 1 and 2 degrees of freedom; otherwise a series
    start (Abramowitz & Stegun 26.7.5) polished by Newton steps on the exact
    density, accurate to about 1e-9.

    >>> round(t_quantile(0.975, 9), 4)
    2.2622
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1, got {p}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if p == 0.5:
        return 0.0
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = NormalDist().inv_cdf(p)
    t = (z + (z**3 + z) / 4 / df + (5 * z**5 + 16 * z**3 + 3 * z) / 96 / df**2
         + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384 / df**3
         + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160 / df**4)
    for _ in range(4):
        t -= (_t_cdf(t, df) - p) / _t_pdf(t, df)
    return t


def t_interval(means: Sequence[float], level: float = 0.95) -> tuple[float | None, float | None]:
    """Two-sided Student-t confidence interval for the mean of independent observations.

    With fewer than two observations there is no estimate of the spread, so
    both bounds are ``None`` (``null`` in JSON) rather than a misleading
    zero-width interval.
    """
    x = np.asarray(means, dtype=float)
    n = len(x)
    if n < 2:
        return (None, None)
    m = float(x.mean())
    half = t_quantile(0.5 + level / 2, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return (m - half, m + half)


def percentiles(values: np.ndarray, qs: Sequence[float] = PERCENTILES) -> list[float]:
    """Linear-interpolation percentiles (NumPy's default); ``nan`` when there are no values."""
    if len(values) == 0:
        return [math.nan for _ in qs]
    return [float(v) for v in np.percentile(values, qs)]


def summarize(pooled: np.ndarray, replication_means: Sequence[float]) -> dict[str, Any]:
    """The summary ``S`` of the JSON output.

    ``mean``, ``p50``, ``p90``, ``p95`` and ``std`` over the pooled values
    (every measured case of every replication); ``ci95`` the t-interval of the
    replication means. With no values at all every number is 0.
    """
    pooled = np.asarray(pooled, dtype=float)
    n = len(pooled)
    if n == 0:
        # nothing was measured (a department no case visited): zeros keep the JSON valid
        return {"mean": 0.0, "p50": 0.0, "p90": 0.0, "p95": 0.0, "std": 0.0, "ci95": [None, None]}
    p50, p90, p95 = percentiles(pooled)
    return {
        "mean": float(pooled.mean()),
        "p50": p50,
        "p90": p90,
        "p95": p95,
        "std": float(pooled.std(ddof=1)) if n > 1 else 0.0,
        "ci95": list(t_interval(replication_means)),
    }


def summarize_values(values: Sequence[float]) -> dict[str, Any]:
    """``S`` for a quantity measured once per replication (utilisation, mean queue length)."""
    return summarize(np.asarray(values, dtype=float), values)


def thin_sorted(values: np.ndarray, limit: int) -> np.ndarray:
    """Sort ``values`` and keep at most ``limit`` evenly spaced order statistics (min and max included)."""
    s = np.sort(np.asarray(values, dtype=float))
    if len(s) <= limit:
        return s
    idx = np.rint(np.linspace(0, len(s) - 1, limit)).astype(np.int64)
    return s[idx]


def thirds(series: Sequence[Sequence[float] | np.ndarray], level: float = 0.95) -> dict[str, Any] | None:
    """Do later values exceed earlier ones within a run? The means of each run's first, middle and last third.

    Each item of ``series`` is one replication's values in time order (for
    example the waits at one department, in the order the cases asked for it).
    Per replication, ``first`` is the mean of its first ``n // 3`` values,
    ``last`` of its last ``n // 3`` and ``middle`` of the rest; the result
    averages them over replications and gives the t-interval (``rise_ci95``)
    of the paired rise ``last - first`` over replications, which is honest
    because replications are independent even though the values within one
    run are not. ``ratio`` is ``last / first`` (None when ``first`` is 0).
    Replications with fewer than 3 values are left out; None when none is left.

    >>> thirds([[1, 1, 2, 2, 4, 4], [1, 1, 3, 3, 5, 5]])["ratio"]
    4.5
    """
    rows = []
    for values in series:
        x = np.asarray(values, dtype=float)
        k = len(x) // 3
        if k == 0:
            continue
        rows.append((float(x[:k].mean()), float(x[k:len(x) - k].mean()), float(x[len(x) - k:].mean())))
    if not rows:
        return None
    a = np.asarray(rows)
    first, middle, last = (float(v) for v in a.mean(axis=0))
    return {
        "first": first,
        "middle": middle,
        "last": last,
        "ratio": last / first if first > 0 else None,
        "rise_ci95": list(t_interval(a[:, 2] - a[:, 0], level)),
        "replications": len(rows),
    }
