"""Screening many levers at once: Morris elementary effects (SALib), ranked by mu*.

A one-at-a-time sweep (:mod:`journeymap.explore`) moves each lever from today's journey with the others
unset, so it cannot see a lever that only matters when another is also pulled. Morris screening moves one
lever at a time too, but from many random starting settings of *all* the levers: ``r`` trajectories of
``k + 1`` settings each, every step changing one lever. Each step gives that lever an *elementary effect*
(the change of the metric it caused); over the trajectories:

* ``mu_star``: the mean of the absolute effects, how much the lever matters (the ranking);
* ``mu``: the mean of the signed effects (negative: moving the lever from low to high lowers the metric);
  ``|mu| < mu_star`` means the
  lever helps in some settings and hurts in others;
* ``sigma``: their standard deviation; large against ``mu_star`` means the lever's effect depends on the
  other levers (an interaction) or is not linear.

The design is SALib's (:func:`SALib.sample.morris.sample`, :func:`SALib.analyze.morris.analyze`) on the unit
interval, one dimension per lever, mapped to the lever's own values by :func:`lever_value`:

* a continuous lever (speed, cut_delay, probability): ``low + u * (high - low)``;
* a staff lever: the same, rounded to whole people;
* a switch (remove_step, move_step): on when ``u >= 0.5``, off below.

With the default ``levels=2`` every step moves a lever from one end of its range to the other (``u`` goes
0 <-> 1, SALib's step ``delta`` is 1), so an elementary effect is exactly "the change of the metric when this
lever goes from low to high (off to on) with the others where they are", in the metric's own unit, for every
kind alike. More levels (4, 6...) sample inside the ranges too, but then SALib divides each change by a step
of ``levels / (2 (levels - 1))`` of the unit interval, a switch still flips fully and a staff step is rounded,
so effects of different kinds are no longer on the same footing: use them for continuous levers only.

Every setting is simulated through :func:`journeymap.explore.run_scenarios` with the same seed (common
random numbers, so an elementary effect is a paired difference), each distinct setting once. Pure data out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .comparison import METRICS
from .errors import InvalidArgument
from .explore import EXPLORED, run_scenarios
from .levers import Lever, LeverSet
from .sweep import Scenario

__all__ = ["MAX_SCREEN_SETTINGS", "CONFIDENCE", "lever_value", "morris_design", "screen", "screening_blocks"]

#: Most settings a screening may simulate (trajectories x (levers + 1)).
MAX_SCREEN_SETTINGS = 2_000
#: The level of SALib's bootstrap interval of mu*.
CONFIDENCE = 0.95
#: Bootstrap resamples of the elementary effects for that interval.
RESAMPLES = 1_000

_BY_KEY = {m.key: m for m in METRICS}


def lever_value(lever: Lever, u: float) -> float:
    """The setting of ``lever`` at ``u`` in the unit interval (switches at 0.5, staff to whole people)."""
    if lever.is_switch:
        return 1.0 if u >= 0.5 else 0.0
    value = lever.low + u * (lever.high - lever.low)
    return float(round(value)) if lever.kind == "staff" else value


def _problem(levers: LeverSet) -> dict[str, Any]:
    ids = [lever.id for lever in levers.levers]
    return {"num_vars": len(ids), "names": ids, "bounds": [[0.0, 1.0]] * len(ids)}


def _check(levers: LeverSet, trajectories: int, levels: int, metric: str) -> None:
    k = len(levers.levers)
    if metric not in EXPLORED:
        raise InvalidArgument(f"metric {metric!r} is not one of {', '.join(EXPLORED)}")
    if k < 2:
        raise InvalidArgument(f"Morris screening needs at least 2 levers, {levers.source or 'the file'} has {k}: "
                              "use journeymap explore without --screen for one lever")
    if trajectories < 2:
        raise InvalidArgument(f"Morris screening needs at least 2 trajectories, got {trajectories}")
    if levels < 2 or levels % 2:
        raise InvalidArgument(f"Morris levels must be an even number of at least 2, got {levels}")
    count = trajectories * (k + 1)
    if count > MAX_SCREEN_SETTINGS:
        raise InvalidArgument(f"{trajectories} trajectories of {k} levers are {count:,} settings; the limit is "
                              f"{MAX_SCREEN_SETTINGS:,}: use at most {MAX_SCREEN_SETTINGS // (k + 1)} trajectories")


def morris_design(levers: LeverSet, trajectories: int = 10, *, levels: int = 2, seed: int = 1) -> np.ndarray:
    """SALib's Morris sample on the unit interval: ``trajectories * (k + 1)`` rows, one column per lever."""
    from SALib.sample import morris as morris_sample

    _check(levers, trajectories, levels, "cycle_time_mean")
    return np.asarray(morris_sample.sample(_problem(levers), trajectories, num_levels=levels, seed=seed))


def _settings(levers: LeverSet, row: Sequence[float]) -> dict[str, float]:
    return {lever.id: lever_value(lever, float(u)) for lever, u in zip(levers.levers, row, strict=True)}


def _key(settings: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in settings.items())


def screen(levers: LeverSet, *, trajectories: int = 10, levels: int = 2, metric: str = "cycle_time_mean",
           replications: int = 10, seed: int = 1, cases: int | None = None, workers: int = 1,
           executor: str = "local", scheduler: str | None = None, store: str | None = None,
           run: Callable[..., list[list[dict[str, float]]]] = run_scenarios,
           progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Morris screening of every lever of ``levers`` on ``metric`` (its mean over ``replications``).

    Returns JSON-ready data: the design's size, and per lever (ranked by ``mu_star``, largest first) its
    ``mu_star`` with SALib's bootstrap ``mu_star_ci95``, ``mu`` and ``sigma``, in the metric's unit per step
    (with ``levels=2``: per move from one end of the range to the other). Raises
    :class:`~journeymap.errors.InvalidArgument` for fewer than 2 levers or trajectories, or too many settings.
    """
    from SALib.analyze import morris as morris_analyze

    _check(levers, trajectories, levels, metric)
    design = morris_design(levers, trajectories, levels=levels, seed=seed)
    rows = [_settings(levers, row) for row in design]
    distinct: dict[str, dict[str, float]] = {}
    for s in rows:
        distinct.setdefault(_key(s), s)
    scenarios = [Scenario(key, levers.scenario(s), s) for key, s in distinct.items()]
    results = run(scenarios, replications=replications, seed=seed, cases=cases, workers=workers,
                  executor=executor, scheduler=scheduler, store=store, progress=progress)
    means: dict[str, float] = {}
    for scenario, runs in zip(scenarios, results, strict=True):
        if not runs or not all(metric in r for r in runs):
            raise InvalidArgument(f"{levers.journey.id} does not measure {metric} in the setting {scenario.label}")
        means[scenario.label] = sum(r[metric] for r in runs) / len(runs)
    y = np.array([means[_key(s)] for s in rows])
    analysis = morris_analyze.analyze(_problem(levers), design, y, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                                      num_levels=levels, seed=seed)
    found: list[dict[str, Any]] = []
    for i, lever in enumerate(levers.levers):
        star, half = float(analysis["mu_star"][i]), float(analysis["mu_star_conf"][i])
        found.append({"id": lever.id, "name": lever.label, "kind": lever.kind, "low": lever.low, "high": lever.high,
                      "mu_star": star, "mu_star_ci95": [star - half, star + half],
                      "mu": float(analysis["mu"][i]), "sigma": float(analysis["sigma"][i])})
    ranked = sorted(found, key=lambda r: -r["mu_star"])
    return {"method": "morris", "journey": levers.journey.id, "levers_file": levers.source, "metric": metric,
            "unit": _BY_KEY[metric].unit, "seed": seed, "replications": replications, "cases": cases,
            "trajectories": trajectories, "levels": levels, "settings": len(rows), "simulated": len(scenarios),
            "levers": ranked, "ranking": [r["id"] for r in ranked]}


def screening_blocks(screened: Mapping[str, Any]) -> list[Any]:
    """The terminal report of ``journeymap explore --screen morris`` (pure: lines and tables)."""
    from .tables import Table, format_change, format_value

    unit = screened["unit"]
    metric = _BY_KEY[screened["metric"]].label.lower()
    rows = []
    for rank, r in enumerate(screened["levers"], start=1):
        lo, hi = r["mu_star_ci95"]
        rows.append([str(rank), r["name"], r["kind"], format_value(r["mu_star"], unit),
                     f"{format_value(max(lo, 0.0), unit)} … {format_value(hi, unit)}",
                     format_change(r["mu"], unit),
                     format_value(r["sigma"], unit)])
    step = "from one end of its range to the other" if screened["levels"] == 2 else \
        f"per unit of its range ({screened['levels']} levels)"
    return [
        f"Morris screening of the levers of {screened['journey']} ({screened['levers_file']}): "
        f"{screened['trajectories']} trajectories, {screened['settings']} settings ({screened['simulated']} distinct), "
        f"{screened['replications']} replications each, seed {screened['seed']}", "",
        Table(["rank", "lever", "kind", "mu*", f"{CONFIDENCE:.0%} CI of mu*", "mu", "sigma"], rows, "rllrrrr"), "",
        f"Elementary effect: the change of {metric} when a lever moves {step}, the other levers at random settings.",
        "mu*: mean absolute effect (how much it matters); mu: signed mean (+: low to high raises it, − lowers it); "
        "sigma: spread (large against mu*: the effect depends on the other levers).",
    ]
