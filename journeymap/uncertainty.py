"""Uncertain inputs: how much of a result, or of a change, survives not knowing the inputs exactly.

Every duration in a journey file is an estimate, and the confidence intervals of ``simulate`` and
``compare`` cover simulation noise only. A step's ``estimate:``, a flow's ``delay_estimate:`` and the
workload's ``arrivals_estimate:`` (or the journey's ``estimates: {default: ...}``) say how sure each mean
is: its true value lies between ``low`` and ``high`` times the written one (:class:`~journeymap.model.Estimate`).

An **outer loop** samples the uncertain inputs with a Latin hypercube (:func:`input_samples`: one column per
uncertain number, each column covering every one of its ``samples`` strata once): each number's factor is
uniform on its range, and the distribution's parameters are all scaled by it, so its mean moves and its
shape (the coefficient of variation) stays (:func:`scaled`). The **inner loop** replicates each sampled
journey (:func:`journeymap.sweep.run_sweep`: local processes or Dask, an optional store to resume from), all
with the same seed, so two samples differ by their inputs, not by their random numbers.

Two bands are reported apart, per metric (:data:`UNCERTAIN_METRICS`):

* **simulation noise**: the half-width of the 95% CI over the replications, at the written inputs (and its
  mean over the input samples): more replications shrink it;
* **input uncertainty**: the 2.5-97.5% range of the sample means across the input samples: only better
  estimates shrink it.

For a before/after pair (:func:`uncertainty_pair`) both designs get the same input samples: each uncertain
number, matched by its id (``step:ID``, ``flow:FROM->TO``, ``arrivals``), takes the same quantile of its
range in both designs; the change per sample is the paired mean difference, and "cycle time falls by X-Y
across the plausible inputs" is the 2.5-97.5% range of that change.

Pure functions return JSON-ready data; :func:`uncertainty_blocks` formats it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from .comparison import compare_metric
from .distributions import Distribution
from .errors import InvalidArgument
from .model import Estimate, Journey
from .statistics import t_interval
from .sweep import Scenario, run_sweep

__all__ = ["UNCERTAIN_METRICS", "BAND", "uncertain_inputs", "scaled", "with_factors", "input_samples",
           "factors_of", "uncertainty", "uncertainty_pair", "uncertainty_blocks", "change_statement",
           "change_rows", "caution", "SURE_TITLE"]

#: The title of the section of ``compare`` (terminal and report) that says how much of the change survives.
SURE_TITLE = "How sure, given the inputs"

#: The metrics whose bands are reported, with their labels.
UNCERTAIN_METRICS: dict[str, str] = {"cycle_time_mean": "Cycle time, mean", "cycle_time_p90": "Cycle time, P90"}

#: The percentiles of the sample means that make the input-uncertainty band.
BAND = (2.5, 97.5)

#: Inputs named per range in the terminal report (the JSON lists every one).
_SHOWN = 4

Progress = Callable[[int, int], None]


def uncertain_inputs(journey: Journey) -> dict[str, Estimate]:
    """Every number of ``journey`` with an estimate, by its id: ``step:ID``, ``flow:FROM->TO``, ``arrivals``."""
    out = {f"step:{s.id}": s.duration_estimate for s in journey.steps if s.duration_estimate is not None}
    out |= {f"flow:{f.source}->{f.target}": f.delay_estimate for f in journey.flows
            if f.delay is not None and f.delay_estimate is not None}
    wl = journey.workload
    if wl.arrivals_estimate is not None and wl.arrivals.kind in ("poisson", "every"):
        out["arrivals"] = wl.arrivals_estimate
    return out


def scaled(dist: Distribution, factor: float) -> Distribution:
    """``dist`` with every time parameter times ``factor``: the mean scales, the shape stays (a Weibull's
    shape is a plain number and is kept; an empirical list scales value by value)."""
    return dist.scaled(factor)


def with_factors(journey: Journey, factors: Mapping[str, float]) -> Journey:
    """``journey`` with each uncertain number's mean times its factor (ids as :func:`uncertain_inputs`)."""
    steps = tuple(dataclasses.replace(s, duration=scaled(s.duration, factors[f"step:{s.id}"]))
                  if f"step:{s.id}" in factors else s for s in journey.steps)
    flows = tuple(dataclasses.replace(f, delay=scaled(f.delay, factors[key]))
                  if f.delay is not None and (key := f"flow:{f.source}->{f.target}") in factors else f
                  for f in journey.flows)
    wl = journey.workload
    if "arrivals" in factors:
        wl = dataclasses.replace(wl, arrivals=dataclasses.replace(wl.arrivals,
                                                                 gap=wl.arrivals.gap * factors["arrivals"]))
    return dataclasses.replace(journey, steps=steps, flows=flows, workload=wl)


def input_samples(dimensions: int, samples: int, seed: int) -> np.ndarray:
    """A ``samples x dimensions`` Latin hypercube in [0, 1): each column has one point in each of its
    ``samples`` equal strata (a seeded :class:`scipy.stats.qmc.LatinHypercube`)."""
    return qmc.LatinHypercube(d=dimensions, rng=np.random.default_rng(seed)).random(samples)


def factors_of(inputs: Mapping[str, Estimate], keys: Sequence[str], point: Sequence[float]) -> dict[str, float]:
    """The factor of each input of ``inputs`` at one point of the hypercube (column ``j`` is ``keys[j]``)."""
    return {k: inputs[k].low + float(u) * (inputs[k].high - inputs[k].low)
            for k, u in zip(keys, point, strict=True) if k in inputs}


def _half_width(values: Sequence[float]) -> float | None:
    lo, hi = t_interval(values)
    return None if lo is None or hi is None else (hi - lo) / 2


def _band(values: Sequence[float]) -> list[float]:
    return [float(v) for v in np.percentile(np.asarray(values, dtype=float), BAND)]


def _inputs_table(keys: Sequence[str], *designs: Mapping[str, Estimate]) -> list[dict[str, Any]]:
    rows = []
    for k in keys:
        e = next(d[k] for d in designs if k in d)
        rows.append({"id": k, "low": e.low, "high": e.high, "tag": e.tag or None,
                     "in": [i for i, d in enumerate(designs) if k in d]})
    return rows


def _check(count: int, samples: int, replications: int, what: str) -> None:
    if not count:
        raise InvalidArgument(f"{what}: no uncertain inputs: give a step 'estimate: assumed' (or observed, "
                              "estimated, {low: 0.8, high: 1.5}), a flow 'delay_estimate:', or the journey "
                              "'estimates: {default: estimated}' (docs/uncertainty.md)")
    if samples < 2:
        raise InvalidArgument(f"samples must be at least 2 to give a band, got {samples}")
    if replications < 2:
        raise InvalidArgument(f"replications must be at least 2 to give a confidence interval, got {replications}")


def _sweep(scenarios: list[Scenario], base: Journey, *, replications: int, seed: int, options: Mapping[str, Any]
           ) -> list[list[dict[str, float]]]:
    result = run_sweep(scenarios, replications=replications, seed=seed, base=base, **options)
    return [list(m) for m in result.metrics]


def _values(runs: Sequence[Mapping[str, float]], key: str) -> list[float]:
    return [float(r.get(key, float("nan"))) for r in runs]


def uncertainty(journey: Journey, *, samples: int = 20, replications: int = 5, seed: int = 1,
                cases: int | None = None, workers: int = 1, executor: str = "local", scheduler: str | None = None,
                store: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Simulation noise and input uncertainty of one journey's cycle time (mean and P90).

    Runs the journey at its written inputs and at ``samples`` Latin-hypercube samples of its uncertain inputs,
    ``replications`` each with the same ``seed``. Per metric: the value at the written inputs with its 95% CI,
    the noise half-width (there, and its mean over the samples), the input band (2.5-97.5% of the sample
    means) and every sample mean. The result does not depend on ``workers`` or the executor.
    """
    inputs = uncertain_inputs(journey)
    _check(len(inputs), samples, replications, f"journey {journey.id!r}")
    keys = list(inputs)
    points = input_samples(len(keys), samples, seed)
    factors = [factors_of(inputs, keys, p) for p in points]
    scenarios = [Scenario("written inputs", journey)]
    scenarios += [Scenario(f"input sample {i + 1}", with_factors(journey, f), f) for i, f in enumerate(factors)]
    runs = _sweep(scenarios, journey, replications=replications, seed=seed,
                  options=dict(cases=cases, workers=workers, executor=executor, scheduler=scheduler, store=store,
                               progress=progress))
    metrics = {}
    for key, label in UNCERTAIN_METRICS.items():
        nominal = _values(runs[0], key)
        means = [float(np.mean(_values(r, key))) for r in runs[1:]]
        halves = [_half_width(_values(r, key)) for r in runs[1:]]
        known = [h for h in halves if h is not None]
        lo, hi = t_interval(nominal)
        metrics[key] = {"label": label, "unit": "minutes", "nominal": float(np.mean(nominal)), "nominal_ci95": [lo, hi],
                        "noise_half_width": _half_width(nominal),
                        "noise_half_width_mean": float(np.mean(known)) if known else None,
                        "input_band": _band(means), "sample_means": means}
    return {"journey": journey.id, "name": journey.name, "seed": seed, "samples": samples,
            "replications": replications, "cases": cases, "band_percentiles": list(BAND),
            "inputs": _inputs_table(keys, inputs), "factors": factors, "metrics": metrics}


def uncertainty_pair(before: Journey, after: Journey, *, samples: int = 20, replications: int = 5, seed: int = 1,
                     cases: int | None = None, workers: int = 1, executor: str = "local",
                     scheduler: str | None = None, store: str | None = None,
                     progress: Progress | None = None) -> dict[str, Any]:
    """How much of the change from ``before`` to ``after`` survives input uncertainty.

    Both designs get the same input samples: an uncertain number both have (same id) takes the same quantile
    of its range in each, a number only one has is sampled for that one. Per metric: the paired change at
    the written inputs with its 95% CI (simulation noise), the 2.5-97.5% range of the paired change across
    the input samples (input uncertainty), whether that range excludes zero, and a sentence saying so.
    """
    ins_b, ins_a = uncertain_inputs(before), uncertain_inputs(after)
    keys = list(ins_b) + [k for k in ins_a if k not in ins_b]
    _check(len(keys), samples, replications, "neither design of the pair")
    points = input_samples(len(keys), samples, seed)
    scenarios = [Scenario("before, written inputs", before), Scenario("after, written inputs", after)]
    for i, p in enumerate(points):
        fb, fa = factors_of(ins_b, keys, p), factors_of(ins_a, keys, p)
        scenarios += [Scenario(f"before, input sample {i + 1}", with_factors(before, fb), fb),
                      Scenario(f"after, input sample {i + 1}", with_factors(after, fa), fa)]
    runs = _sweep(scenarios, before, replications=replications, seed=seed,
                  options=dict(cases=cases, workers=workers, executor=executor, scheduler=scheduler, store=store,
                               progress=progress))
    metrics = {}
    for key, label in UNCERTAIN_METRICS.items():
        nominal = compare_metric(_values(runs[0], key), _values(runs[1], key))
        changes = [float(np.mean(np.subtract(_values(runs[2 + 2 * i + 1], key), _values(runs[2 + 2 * i], key))))
                   for i in range(samples)]
        band = _band(changes)
        metrics[key] = {"label": label, "unit": "minutes", "before": nominal["before"], "after": nominal["after"],
                        "change": nominal["change"], "change_ci95": nominal["ci95"],
                        "change_band": band, "survives": band[0] > 0 or band[1] < 0, "sample_changes": changes,
                        "statement": change_statement(label, band)}
    return {"before": before.id, "after": after.id, "seed": seed, "samples": samples,
            "replications": replications, "cases": cases, "band_percentiles": list(BAND),
            "inputs": _inputs_table(keys, ins_b, ins_a), "metrics": metrics}


def change_statement(label: str, band: Sequence[float]) -> str:
    """"cycle time, mean falls by 18.0d to 27.0d across the plausible inputs", or that it may go either way
    (" to ", not a dash: "18.0d-27.0d" reads like a subtraction)."""
    from .distributions import format_minutes

    lo, hi = band
    what = label[:1].lower() + label[1:]
    if lo == hi == 0:
        return f"{what} does not change in any input sample"
    if hi < 0:
        return f"{what} falls by {format_minutes(-hi)} to {format_minutes(-lo)} across the plausible inputs"
    if lo > 0:
        return f"{what} rises by {format_minutes(lo)} to {format_minutes(hi)} across the plausible inputs"
    return (f"{what} changes by {format_minutes(lo)} to +{format_minutes(hi)} across the plausible inputs: "
            "the inputs are too uncertain to tell the direction")


def change_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of a pair's result (:func:`uncertainty_pair`) as ``compare`` shows them, one per metric: the
    label, the change at the written inputs and its noise half-width, the range across the inputs, whether
    the direction is sure, and the statement as a sentence. The numbers are the result's, formatted."""
    from .tables import format_change, format_value

    rows = []
    for m in result["metrics"].values():
        lo, hi = m["change_band"]
        change = format_change(m["change"], m["unit"]) if m["change"] else format_value(0.0, m["unit"])
        rows.append({"label": m["label"], "change": change,
                     "noise": _ci(m["change_ci95"]),
                     "band": f"{format_change(lo, m['unit'])} to {format_change(hi, m['unit'])}",
                     "sure": "yes" if m["survives"] else "no",
                     "statement": m["statement"][:1].upper() + m["statement"][1:] + "."})
    return rows


def caution(result: Mapping[str, Any]) -> str | None:
    """The headline's warning when a metric's change may go either way across the plausible inputs (its
    2.5-97.5% range straddles zero), else None."""
    unsure = [m["label"][:1].lower() + m["label"][1:] for m in result["metrics"].values()
              if not m["survives"] and m["change_band"] != [0.0, 0.0]]
    if not unsure:
        return None
    return (f"Across the plausible inputs, {' and '.join(unsure)} could go either way: the change may not "
            f"survive input uncertainty (see \u201c{SURE_TITLE}\u201d).")


def _ci(ci: Sequence[float | None]) -> str:
    from .distributions import format_minutes

    lo, hi = ci
    return "n/a" if lo is None or hi is None else f"±{format_minutes((hi - lo) / 2)}"


def uncertainty_blocks(result: Mapping[str, Any]) -> list[Any]:
    """The terminal report of ``journeymap uncertainty``, one journey or a pair (pure: lines and tables)."""
    from .distributions import format_minutes
    from .tables import Table

    pair = "before" in result
    subject = f"{result['before']} -> {result['after']}" if pair else result["journey"]
    out: list[Any] = [f"Uncertain inputs of {subject}: {result['samples']} input samples (Latin hypercube) x "
                      f"{result['replications']} replications, seed {result['seed']}", ""]
    groups: dict[str, list[str]] = {}
    for r in result["inputs"]:
        groups.setdefault(f"x{r['low']:g} - x{r['high']:g}" + (f" ({r['tag']})" if r["tag"] else ""), []).append(
            r["id"])
    out.append(Table(["true mean between", "uncertain inputs"],
                     [[k, f"{len(v)}: " + ", ".join(v[:_SHOWN]) + (", ..." if len(v) > _SHOWN else "")]
                      for k, v in groups.items()], "ll"))
    out.append("")
    lo_p, hi_p = result["band_percentiles"]
    rows = []
    for m in result["metrics"].values():
        if pair:
            lo, hi = m["change_band"]
            rows.append([m["label"], f"{format_minutes(m['change'])} {_ci(m['change_ci95'])}",
                         f"{format_minutes(lo)} to {format_minutes(hi)}", "yes" if m["survives"] else "no"])
        else:
            lo, hi = m["input_band"]
            rows.append([m["label"], format_minutes(m["nominal"]), _ci(m["nominal_ci95"]),
                         f"{format_minutes(lo)} to {format_minutes(hi)}"])
    if pair:
        out.append(Table(["metric", "change at written inputs (95% CI: noise)",
                          f"change across inputs ({lo_p:g}-{hi_p:g}%)", "direction sure"], rows, "lrrl"))
        out += [""] + [m["statement"][0].upper() + m["statement"][1:] + "." for m in result["metrics"].values()]
    else:
        out.append(Table(["metric", "at written inputs", "simulation noise (95% CI)",
                          f"input uncertainty ({lo_p:g}-{hi_p:g}%)"], rows, "lrrr"))
    out += ["", "Simulation noise shrinks with more replications; input uncertainty only with better estimates."]
    return out
