"""Summaries of simulation output: percentiles, spreads and confidence intervals.

Pure functions over numbers; nothing here knows about journeys.

Two kinds of spread appear in every summary and they answer different questions:

* ``p50``/``p90``/``p95``/``std`` describe the **cases**: how long one case
  takes, pooled over every measured case of every replication.
* ``ci95`` describes the **estimate of the mean**: a Student-t interval over the
  replication means (each replication is one independent run, so its mean is
  one independent observation; the cases inside a run are not independent of
  each other because they queue behind one another).

The Student-t quantile is SciPy's (``scipy.stats.t.ppf``): SciPy is a dependency
since durations are fitted from event logs (issue 14), so a hand-written quantile
would only be one more thing to test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["t_quantile", "t_interval", "percentiles", "summarize", "summarize_values", "thin_sorted", "thirds"]

#: Percentiles every summary reports.
PERCENTILES = (50, 90, 95)


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom (``scipy.stats.t.ppf``).

    Arguments outside the distribution are refused rather than answered with NaN, which would print as
    an interval of ``nan`` far from where the mistake was. Cached: the summaries ask for the same few
    quantiles many times.

    >>> round(t_quantile(0.975, 9), 4)
    2.2622
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1, got {p}")
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    from scipy import stats  # here, not at the top: importing scipy.stats costs a third of a second

    return float(stats.t.ppf(p, df))


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
