"""Which lever buys most: each lever of a levers file tried on its own, ranked by effect and by effect per cost.

A one-at-a-time sweep (the tornado of a sensitivity study): the journey as it is (the baseline), then each
lever alone at each of its values (:meth:`~journeymap.levers.LeverSet.one_at_a_time`), every scenario
simulated with the same seed, so each replication of a scenario is paired with the same replication of
the baseline (common random numbers) and a lever's effect is a paired difference with a 95% CI.

Levers are ranked by their best effect on one metric (cycle time by default), and by that effect per unit
of first-year cost (one-off cost + 12 x the monthly cost). Interactions between levers are not measured
here: a one-at-a-time sweep answers "which single change buys most", not "what do two changes buy
together" (that is a factorial, or ``journeymap explain`` on an overlay).

Pure functions returning data; :func:`run_scenarios` is the one place that simulates (through
:mod:`journeymap.sweep`: local processes or a Dask cluster, with an optional store to resume from).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .comparison import METRICS, compare_metric
from .levers import Cost, LeverSet
from .sweep import Scenario, run_sweep

__all__ = ["EXPLORED", "MONTHS", "Scenario", "run_scenarios", "explore", "explore_blocks", "setting_text"]

#: The metrics a sweep reports for each setting, in table order (names of ``replication_metrics``).
EXPLORED = ("cycle_time_mean", "cycle_time_p90", "handoff_waste_mean", "experience_index", "cost_per_case")

#: Months of monthly cost counted in the first-year cost a lever is ranked by.
MONTHS = 12

_BY_KEY = {m.key: m for m in METRICS}


def run_scenarios(scenarios: Sequence[Scenario], *, replications: int, seed: int, cases: int | None = None,
                  workers: int = 1, executor: str = "local", scheduler: str | None = None, store: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> list[list[dict[str, float]]]:
    """Per scenario, one ``replication_metrics`` dict per replication, every scenario with the same seed.

    The one place a sweep simulates: :func:`journeymap.sweep.run_sweep`, on local processes or a Dask
    cluster, resuming from ``store`` when given; the numbers do not depend on where they were computed.
    """
    result = run_sweep(scenarios, replications=replications, seed=seed, cases=cases, workers=workers,
                       executor=executor, scheduler=scheduler, store=store, base=scenarios[0].journey,
                       progress=progress)
    return [list(m) for m in result.metrics]


def setting_text(kind: str, value: float) -> str:
    """A lever's setting as a reader says it: "+2 people", "duration x0.3", "delay x0", "on"."""
    if kind == "staff":
        return f"{value:+g} " + ("person" if abs(value) == 1 else "people")
    if kind == "speed":
        return f"duration x{value:g}"
    if kind == "cut_delay":
        return f"delay x{value:g}"
    if kind == "probability":
        return f"probability {value:g}"
    if kind == "change":
        return "applied" if value else "as before"
    return "on" if value else "off"


def _first_year(cost: Cost) -> float:
    return cost.once + MONTHS * cost.per_month


def _effects(base: list[dict[str, float]], runs: list[dict[str, float]]) -> dict[str, Any]:
    """Per explored metric: the paired change from the baseline, its CI and significance (None when a side
    lacks the metric, e.g. no touchpoints or no prices)."""
    out: dict[str, Any] = {}
    for key in EXPLORED:
        if not base or not all(key in r for r in base + runs) or len(base) != len(runs):
            out[key] = None
            continue
        c = compare_metric([r[key] for r in base], [r[key] for r in runs])
        out[key] = {"value": c["after"], "change": c["change"], "ci95": c["ci95"], "significant": c["significant"],
                    "unchanged": c["unchanged"]}
    return out


def _gain(effect: Mapping[str, Any] | None, metric: str) -> float:
    """How much better a setting makes ``metric`` (positive = better), 0 when unknown or not significant."""
    if effect is None or not effect["significant"]:
        return 0.0
    better = -1.0 if _BY_KEY[metric].lower_is_better else 1.0
    return better * effect["change"]


def _best(settings: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """A lever's best setting for ``metric``: its value, gain, first-year cost and gain per cost (no value and
    no gain when no setting improves the metric significantly)."""
    best = max(settings, key=lambda s: _gain(s["effects"][metric], metric), default=None)
    gain = _gain(best["effects"][metric], metric) if best else 0.0
    if best is None or gain <= 0:
        return {"value": None, "gain": 0.0, "first_year_cost": 0.0, "gain_per_cost": None}
    cost = best["first_year_cost"]
    return {"value": best["value"], "gain": gain, "first_year_cost": cost,
            "gain_per_cost": gain / cost if cost > 0 else None}


def explore(levers: LeverSet, *, points: int = 2, metric: str = "cycle_time_mean", replications: int = 10,
            seed: int = 1, cases: int | None = None, workers: int = 1, executor: str = "local",
            scheduler: str | None = None, store: str | None = None,
            run: Callable[..., list[list[dict[str, float]]]] = run_scenarios,
            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Each lever alone at each of its ``points`` values against the baseline; ranked by effect on ``metric``.

    Returns JSON-ready data: the baseline's mean of each explored metric; per lever, per value, the paired
    change of each metric with its 95% CI, and the first-year cost; the lever's best significant gain on
    ``metric``; and two rankings: by gain, and by gain per unit of first-year cost (levers that cost
    nothing first, then by ratio).
    """
    if metric not in EXPLORED:
        raise ValueError(f"metric {metric!r} is not one of {', '.join(EXPLORED)}")
    settings = [s for s in levers.one_at_a_time(points)
                if any(v != levers.by_id[k].neutral for k, v in s.items())]
    scenarios = [Scenario("baseline", levers.journey)]
    scenarios += [Scenario(", ".join(f"{k}={v:g}" for k, v in s.items()), levers.scenario(s), s) for s in settings]
    results = run(scenarios, replications=replications, seed=seed, cases=cases, workers=workers, executor=executor,
                  scheduler=scheduler, store=store, progress=progress)
    base = results[0]
    rows: dict[str, dict[str, Any]] = {lever.id: {"id": lever.id, "name": lever.label, "kind": lever.kind,
                                                  "target": lever.target, "neutral": lever.neutral, "settings": []}
                                       for lever in levers.levers}
    for scenario, runs in zip(scenarios[1:], results[1:], strict=True):
        ((ident, value),) = scenario.settings.items()
        cost = levers.cost(scenario.settings)
        rows[ident]["settings"].append({"value": value, "first_year_cost": _first_year(cost), "once": cost.once,
                                        "per_month": cost.per_month, "effects": _effects(base, runs)})
    for row in rows.values():
        row["best"] = _best(row["settings"], metric)
    ordered = list(rows.values())
    by_gain = sorted(ordered, key=lambda r: -r["best"]["gain"])
    by_cost = sorted((r for r in ordered if r["best"]["gain"] > 0),  # free gains first, then gain per cost
                     key=lambda r: (r["best"]["first_year_cost"] > 0,
                                    -(r["best"]["gain_per_cost"] or r["best"]["gain"])))
    return {
        "journey": levers.journey.id, "levers_file": levers.source, "seed": seed, "replications": replications,
        "points": points, "metric": metric, "months_of_monthly_cost": MONTHS,
        "baseline": {k: (sum(r[k] for r in base) / len(base) if base and all(k in r for r in base) else None)
                     for k in EXPLORED},
        "levers": ordered,
        "ranking": {"by_gain": [r["id"] for r in by_gain], "by_gain_per_cost": [r["id"] for r in by_cost]},
    }


def explore_blocks(explored: Mapping[str, Any]) -> list[Any]:
    """The terminal report of ``journeymap explore`` (pure: lines and tables for :func:`journeymap.tables.show`)."""
    from .tables import Table, format_change, format_value

    metric = explored["metric"]
    shown = [k for k in EXPLORED if explored["baseline"].get(k) is not None]
    out: list[Any] = [
        f"Levers of {explored['journey']} ({explored['levers_file']}), each alone against today: "
        f"{explored['replications']} paired replications, seed {explored['seed']}", "",
        "today: " + ", ".join(f"{_BY_KEY[k].label.lower()} {format_value(explored['baseline'][k], _BY_KEY[k].unit)}"
                              for k in shown), ""]
    rows = []
    for lever in explored["levers"]:
        for s in lever["settings"]:
            cells = [lever["name"], setting_text(lever["kind"], s["value"])]
            for k in shown:
                e = s["effects"][k]
                cells.append("n/a" if e is None else "unchanged" if e["unchanged"]
                             else format_change(e["change"], _BY_KEY[k].unit) + ("" if e["significant"] else " (ns)"))
            cells.append(f"{s['first_year_cost']:,.0f}")
            rows.append(cells)
    out.append(Table(["lever", "set to"] + [_BY_KEY[k].label for k in shown] + ["first-year cost"], rows,
                     "ll" + "r" * (len(shown) + 1)))
    unit = _BY_KEY[metric].unit
    by_id = {lever["id"]: lever for lever in explored["levers"]}
    ranked = []
    for rank, ident in enumerate(explored["ranking"]["by_gain"], start=1):
        best = by_id[ident]["best"]
        per = best["gain_per_cost"]
        ranked.append([str(rank), by_id[ident]["name"],
                       "no significant gain" if best["value"] is None else setting_text(by_id[ident]["kind"],
                                                                                          best["value"]),
                       format_value(best["gain"], unit) if best["gain"] > 0 else "-",
                       f"{best['first_year_cost']:,.0f}" if best["value"] is not None else "-",
                       "free" if best["value"] is not None and not best["first_year_cost"]
                       else "-" if per is None else f"{format_value(per * 1000, unit)} per 1,000"])
    out += ["", f"Ranked by the best significant gain in {_BY_KEY[metric].label.lower()}:",
            Table(["rank", "lever", "best setting", "gain", "first-year cost", "gain per cost"], ranked, "rllrrr"),
            "", f"(ns): not significant at 95%. First-year cost: one-off cost + {MONTHS} x the monthly cost. "
            "Each lever was tried alone: gains of two levers do not simply add up.",
            "Cheapest gains first: " + (", ".join(by_id[i]["name"] for i in explored["ranking"]["by_gain_per_cost"])
                                        or "none")]
    return out
