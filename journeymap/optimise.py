"""The full factorial of a levers file, its cost-versus-metric Pareto front, and the best setting within a budget.

:func:`factorial` simulates every setting of :meth:`~journeymap.levers.LeverSet.grid` (each lever at each of
``points`` values, every combination) and today's journey, all with the same seed (common random numbers),
and reports per setting the mean of each explored metric, its paired change from today with a 95% CI, and its
cost. Unlike ``journeymap explore``, which tries each lever alone, this measures what levers do *together*.

The **Pareto front** is kept simple: on the *means*, a setting is on the front when no other setting is at
most as costly (first-year cost) and at most as bad on the metric, and strictly better on one of the two.
Two settings with the same cost and the same mean are both on it. Simulation noise is not taken into
account there; the CIs of each setting are in the data for a reader who wants them.

:func:`optimise` searches the same grid exhaustively: among the settings within the budget (one-off, monthly,
first-year money, and ``people``: the net number of people the staff levers add), the one with the best mean
metric wins (ties: the cheaper first-year cost, then fewer people, then grid order). Picking the best of many
noisy means favours a lucky one, so the winner is then **verified**: the winner, the runner-up and today are
simulated again with a fresh seed (``seed +`` :data:`VERIFY_SEED_OFFSET`), and the winner's verified mean,
its 95% CI, and its paired change against the runner-up and against today are reported.

Pure functions returning JSON-ready data; every simulation goes through :func:`journeymap.explore.run_scenarios`
(local processes or Dask, with an optional store).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .comparison import METRICS, compare_metric
from .errors import InvalidArgument
from .explore import EXPLORED, MONTHS, _effects, run_scenarios, setting_text
from .levers import LeverSet
from .statistics import t_interval
from .sweep import Scenario

__all__ = ["MAX_FACTORIAL", "VERIFY_SEED_OFFSET", "factorial", "pareto_front", "optimise", "settings_text",
           "optimise_blocks"]

#: Most settings :func:`factorial` and :func:`optimise` simulate (each is ``replications`` runs).
MAX_FACTORIAL = 256
#: The verification runs use ``seed + VERIFY_SEED_OFFSET``: replications the search never saw.
VERIFY_SEED_OFFSET = 1000

_BY_KEY = {m.key: m for m in METRICS}
Run = Callable[..., list[list[dict[str, float]]]]


def settings_text(levers: LeverSet, settings: Mapping[str, float]) -> str:
    """A setting in words, levers left as they are today omitted: "Pricing tool duration x0.3, ..." or "today"."""
    parts = [f"{levers.by_id[k].label} {setting_text(levers.by_id[k].kind, v)}" for k, v in settings.items()
             if v != levers.by_id[k].neutral]
    return ", ".join(parts) or "as today"


def _people(levers: LeverSet, settings: Mapping[str, float]) -> int:
    """The net number of people the staff levers of ``settings`` add (negative when they take people away)."""
    return int(sum(v for k, v in settings.items() if levers.by_id[k].kind == "staff"))


def _check_metric(metric: str) -> None:
    if metric not in EXPLORED:
        raise InvalidArgument(f"metric {metric!r} is not one of {', '.join(EXPLORED)}")


def _grid(levers: LeverSet, points: int) -> list[dict[str, float]]:
    grid = levers.grid(points)
    if len(grid) > MAX_FACTORIAL:
        raise InvalidArgument(f"{len(grid):,} settings of {len(levers.levers)} levers at {points} points each; "
                              f"the limit of a factorial is {MAX_FACTORIAL}: use --points 2 or a levers file with "
                              "fewer levers (journeymap explore tries each lever alone)")
    return grid


def _mean(runs: Sequence[Mapping[str, float]], key: str) -> float | None:
    if not runs or not all(key in r for r in runs):
        return None
    return sum(r[key] for r in runs) / len(runs)


def _record(levers: LeverSet, settings: Mapping[str, float], runs: list[dict[str, float]],
            base: list[dict[str, float]], index: int) -> dict[str, Any]:
    cost = levers.cost(settings)
    return {"index": index, "settings": dict(settings), "text": settings_text(levers, settings),
            "today": all(v == levers.by_id[k].neutral for k, v in settings.items()),
            "once": cost.once, "per_month": cost.per_month, "first_year_cost": cost.once + MONTHS * cost.per_month,
            "people": _people(levers, settings), "means": {k: _mean(runs, k) for k in EXPLORED},
            "effects": _effects(base, runs)}


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points ``(cost, value)`` (both lower is better) that no other point dominates: none is at
    most as costly and at most as bad, and strictly better on one. Ties are all kept; order as given."""
    front = []
    for i, (c, v) in enumerate(points):
        if not any(c2 <= c and v2 <= v and (c2 < c or v2 < v) for c2, v2 in points):
            front.append(i)
    return front


def factorial(levers: LeverSet, *, points: int = 2, metric: str = "cycle_time_mean", replications: int = 10,
              seed: int = 1, cases: int | None = None, workers: int = 1, executor: str = "local",
              scheduler: str | None = None, store: str | None = None, run: Run = run_scenarios,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Every setting of ``levers.grid(points)`` and today, simulated with the same seed; the Pareto front of
    first-year cost against the mean of ``metric``.

    Returns JSON-ready data: ``today`` (the journey as it is: its means), ``settings`` (grid order: settings,
    words, cost, net people added, means, paired effects against today), ``front`` (the indices in
    ``settings`` of the Pareto front, cheapest first). Refuses more than :data:`MAX_FACTORIAL` settings.
    """
    _check_metric(metric)
    grid = _grid(levers, points)
    scenarios = [Scenario("today", levers.journey)]
    scenarios += [Scenario(", ".join(f"{k}={v:g}" for k, v in s.items()), levers.scenario(s), s) for s in grid]
    results = run(scenarios, replications=replications, seed=seed, cases=cases, workers=workers, executor=executor,
                  scheduler=scheduler, store=store, progress=progress)
    base = results[0]
    rows = [_record(levers, s, runs, base, i) for i, (s, runs) in enumerate(zip(grid, results[1:], strict=True))]
    if any(r["means"][metric] is None for r in rows) or _mean(base, metric) is None:
        raise InvalidArgument(f"{levers.journey.id} does not measure {metric} in every setting "
                              "(no finished case, touchpoint or price): choose another --metric")
    sign = 1.0 if _BY_KEY[metric].lower_is_better else -1.0
    front = pareto_front([(r["first_year_cost"], sign * r["means"][metric]) for r in rows])
    front.sort(key=lambda i: (rows[i]["first_year_cost"], sign * rows[i]["means"][metric]))
    for r in rows:
        r["on_front"] = r["index"] in front
    return {"journey": levers.journey.id, "journey_name": levers.journey.name, "levers_file": levers.source,
            "seed": seed, "replications": replications, "cases": cases, "points": points, "metric": metric,
            "lower_is_better": _BY_KEY[metric].lower_is_better, "months_of_monthly_cost": MONTHS,
            "levers": [{"id": lv.id, "name": lv.label, "kind": lv.kind, "neutral": lv.neutral}
                       for lv in levers.levers],
            "today": {"means": {k: _mean(base, k) for k in EXPLORED}}, "settings": rows, "front": front}


def _budget(budget_once: float | None, budget_per_month: float | None, budget_first_year: float | None,
            people: int | None) -> dict[str, float | None]:
    return {"once": budget_once, "per_month": budget_per_month, "first_year_cost": budget_first_year,
            "people": people}


def _within(row: Mapping[str, Any], budget: Mapping[str, float | None]) -> bool:
    return all(limit is None or row[key] <= limit for key, limit in budget.items())


def _impossible(rows: Sequence[Mapping[str, Any]], budget: Mapping[str, float | None]) -> InvalidArgument:
    """The error for a budget no setting meets, naming the cheapest setting on each limit that was set."""
    words = {"once": "one-off cost", "per_month": "monthly cost", "first_year_cost": "first-year cost",
             "people": "people added"}
    parts = []
    for key, limit in budget.items():
        if limit is None:
            continue
        cheapest = min(rows, key=lambda r, k=key: r[k])  # type: ignore[misc]
        parts.append(f"{words[key]} at most {limit:,g}: the least any setting needs is {cheapest[key]:,g} "
                     f"({cheapest['text']})")
    return InvalidArgument("no setting of the grid is within the budget; " + "; ".join(parts)
                           + ": raise the budget (--budget-once, --budget-month, --budget-year, --people) "
                             "or widen the levers' ranges")


def _ranked(rows: Sequence[Mapping[str, Any]], metric: str) -> list[Mapping[str, Any]]:
    """Best mean first; ties: cheaper first-year cost, then fewer people, then grid order."""
    sign = 1.0 if _BY_KEY[metric].lower_is_better else -1.0
    return sorted(rows, key=lambda r: (sign * r["means"][metric], r["first_year_cost"], r["people"], r["index"]))


def _verified(runs: list[dict[str, float]], metric: str) -> dict[str, Any]:
    values = [r[metric] for r in runs if metric in r]
    lo, hi = t_interval(values)
    return {"mean": sum(values) / len(values) if values else None, "ci95": [lo, hi]}


def _against(other: list[dict[str, float]], winner: list[dict[str, float]], metric: str) -> dict[str, Any]:
    """The winner's paired change from ``other`` (winner - other) and whether it is still better."""
    c = compare_metric([r[metric] for r in other], [r[metric] for r in winner])
    better = c["change"] < 0 if _BY_KEY[metric].lower_is_better else c["change"] > 0
    return {"change": c["change"], "ci95": c["ci95"], "significant": c["significant"], "better": bool(better),
            "significantly_better": bool(better and c["significant"])}


def optimise(levers: LeverSet, *, budget_once: float | None = None, budget_per_month: float | None = None,
             budget_first_year: float | None = None, people: int | None = None, metric: str = "cycle_time_p90",
             points: int = 2, replications: int = 10, seed: int = 1, cases: int | None = None, workers: int = 1,
             executor: str = "local", scheduler: str | None = None, store: str | None = None,
             run: Run = run_scenarios, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """The setting of the grid with the best mean ``metric`` within the budget, verified with fresh replications.

    Returns :func:`factorial`'s data plus ``budget``, ``within_budget`` (indices), ``winner`` and ``runner_up``
    (indices, ``runner_up`` None when only one setting is within the budget) and ``verification``: the seed
    used (``seed +`` :data:`VERIFY_SEED_OFFSET`), the winner's verified mean with its 95% CI, today's and the
    runner-up's verified means, and the winner's paired change against each. A budget that no setting meets
    raises :class:`~journeymap.errors.InvalidArgument` naming the least any setting needs.
    """
    _check_metric(metric)
    budget = _budget(budget_once, budget_per_month, budget_first_year, people)
    grid = _grid(levers, points)
    rows_before = [{"text": settings_text(levers, s), "people": _people(levers, s), **_costs(levers, s)}
                   for s in grid]
    if not any(_within(r, budget) for r in rows_before):  # refused before anything runs
        raise _impossible(rows_before, budget)
    options = {"points": points, "metric": metric, "replications": replications, "cases": cases,
               "workers": workers, "executor": executor, "scheduler": scheduler, "store": store, "run": run}
    result = factorial(levers, seed=seed, progress=progress, **options)  # type: ignore[arg-type]
    rows = result["settings"]
    within = [r for r in rows if _within(r, budget)]
    ranked = _ranked(within, metric)
    winner, runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    fresh = seed + VERIFY_SEED_OFFSET
    chosen = [winner] + ([runner_up] if runner_up else [])
    scenarios = [Scenario("today", levers.journey)]
    scenarios += [Scenario(r["text"], levers.scenario(r["settings"]), r["settings"]) for r in chosen]
    again = run(scenarios, replications=replications, seed=fresh, cases=cases, workers=workers, executor=executor,
                scheduler=scheduler, store=store, progress=progress)
    verification: dict[str, Any] = {
        "seed": fresh, "replications": replications, "winner": _verified(again[1], metric),
        "today": _verified(again[0], metric), "against_today": _against(again[0], again[1], metric),
        "runner_up": _verified(again[2], metric) if runner_up else None,
        "against_runner_up": _against(again[2], again[1], metric) if runner_up else None}
    return {**result, "budget": budget, "within_budget": [r["index"] for r in within], "winner": winner["index"],
            "runner_up": runner_up["index"] if runner_up else None, "verification": verification}


def _costs(levers: LeverSet, settings: Mapping[str, float]) -> dict[str, float]:
    cost = levers.cost(settings)
    return {"once": cost.once, "per_month": cost.per_month, "first_year_cost": cost.once + MONTHS * cost.per_month}


def optimise_blocks(result: Mapping[str, Any]) -> list[Any]:
    """The terminal report of ``journeymap optimise`` (pure: lines and tables for :func:`journeymap.tables.show`)."""
    from .tables import Table, format_change, format_value

    metric = result["metric"]
    m = _BY_KEY[metric]
    rows = result["settings"]
    fmt = lambda v: "n/a" if v is None else format_value(v, m.unit)  # noqa: E731
    limits = ", ".join(f"{k.replace('_', ' ')} <= {v:,g}" for k, v in result["budget"].items() if v is not None)
    out: list[Any] = [
        f"{len(rows)} settings of {result['journey']} ({result['levers_file']}), {result['points']} points per "
        f"lever: {result['replications']} replications each, seed {result['seed']}; "
        f"{m.label.lower()} today {fmt(result['today']['means'][metric])}", "",
        f"Pareto front (first-year cost against {m.label.lower()}, on the means):"]
    out.append(Table(["setting", m.label, "first-year cost", "people"],
                     [[rows[i]["text"], fmt(rows[i]["means"][metric]), f"{rows[i]['first_year_cost']:,.0f}",
                       f"{rows[i]['people']:+d}"] for i in result["front"]], "lrrr"))
    if "winner" in result:
        w, v = rows[result["winner"]], result["verification"]
        lo, hi = v["winner"]["ci95"]
        ci = "" if lo is None else f" (95% CI {fmt(lo)} .. {fmt(hi)})"
        out += ["", f"Best within the budget ({limits or 'no limit'}; {len(result['within_budget'])} settings): "
                    f"{w['text']}", f"  first-year cost {w['first_year_cost']:,.0f}, {w['people']:+d} people; "
                                    f"{m.label.lower()} {fmt(w['means'][metric])} in the search",
                f"  verified with {v['replications']} fresh replications (seed {v['seed']}): {fmt(v['winner']['mean'])}"
                f"{ci}; against today {format_change(v['against_today']['change'], m.unit)}"
                + ("" if v["against_today"]["significant"] else " (ns)")]
        if v["against_runner_up"] is not None:
            r = rows[result["runner_up"]]
            a = v["against_runner_up"]
            verdict = "still beats it" if a["significantly_better"] else \
                "still ahead, not significantly" if a["better"] else "no longer ahead"
            out.append(f"  runner-up {r['text']}: the winner {verdict} "
                       f"({format_change(a['change'], m.unit)}, paired)")
    return out
