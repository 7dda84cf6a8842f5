"""The HTML pages of the levers: ``journeymap explore`` (the one-at-a-time sweep) and ``journeymap optimise``
(the factorial's Pareto front and the best setting within the budget), each one self-contained page.

Pure: :func:`levers_html` takes the explore data (:func:`journeymap.explore.explore`) and the tornado chart
as SVG text and returns the page; :func:`levers_report` draws the chart too. :func:`optimise_html` and
:func:`optimise_report` do the same for :func:`journeymap.optimise.optimise` and its Pareto chart. They share
the compare report's styles (``templates/_style.css.j2``) and, like it, have no script and no network
resource. Every number carries the JSON value it shows in ``data-value`` and where it comes from in
``data-path`` (dotted, e.g. ``levers.0.settings.1.effects.cycle_time_mean.change``), so a test can check
the page against the JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .comparison import METRICS
from .explore import EXPLORED, MONTHS, setting_text
from .report import _ENV, _figure_svg, inline_svg
from .tables import format_change, format_value

__all__ = ["levers_html", "levers_report", "optimise_html", "optimise_report", "ONE_AT_A_TIME_NOTE", "FRONT_NOTE"]

_BY_KEY = {m.key: m for m in METRICS}

#: What a one-at-a-time sweep does not measure, said on the page.
ONE_AT_A_TIME_NOTE = (
    "Each lever was tried alone, the others as they are today. This does not measure interactions: two "
    "levers can buy less together than the sum of their gains (both relieve the same queue) or more (one "
    "only helps once the other is pulled), and a lever's effect at settings between the ends tried is not "
    "known. For levers taken together use a factorial (journeymap optimise) or a Morris screening "
    "(journeymap explore --screen morris); for the parts of a redesign, journeymap explain.")


#: What the Pareto front of optimise is, and is not, said on its page.
FRONT_NOTE = (
    "A setting is on the front when no other setting is at most as costly and at most as bad, and better on one of "
    "the two. The front is drawn on the means: simulation noise is not taken into account there (each setting's "
    "change from today has its 95% confidence interval in the table). The best setting within the budget is picked "
    "on the same means, so it is simulated again with fresh replications: a winner that was only lucky shows there.")


def _cell(text: str, value: float | None, path: str) -> dict[str, Any]:
    """A number as a page shows it: its text, and the JSON value and path it comes from (None: no value)."""
    return {"text": text, "value": value, "path": path}


def _interval(ci: Sequence[float | None], fmt: Callable[[float], str], path: str) -> dict[str, Any] | None:
    """The two ends of a 95% CI as cells (written ``[lo, hi]``); None when it is undefined."""
    lo, hi = ci
    if lo is None or hi is None:
        return None
    return {"lo": _cell(fmt(lo), lo, f"{path}.0"), "hi": _cell(fmt(hi), hi, f"{path}.1")}


def _effect_cell(effect: Mapping[str, Any] | None, key: str, path: str) -> dict[str, Any]:
    """A change and its 95% CI as the page shows it, with the change as the cell's value."""
    if effect is None:
        return _cell("n/a", None, path)
    if effect["unchanged"]:
        return _cell("unchanged", effect["change"], path + ".change")
    unit = _BY_KEY[key].unit
    lo, hi = effect["ci95"]
    ci = "" if lo is None or hi is None else f" [{format_change(lo, unit)} … {format_change(hi, unit)}]"
    return {**_cell(format_change(effect["change"], unit), effect["change"], path + ".change"), "ci": ci,
            "tone": "" if not effect["significant"] else
            "good" if (effect["change"] < 0) == _BY_KEY[key].lower_is_better else "bad",
            "ns": not effect["significant"]}


def _sweep_rows(explored: Mapping[str, Any], shown: list[str]) -> list[dict[str, Any]]:
    rows = []
    for i, lever in enumerate(explored["levers"]):
        for j, s in enumerate(lever["settings"]):
            path = f"levers.{i}.settings.{j}"
            cost = s["first_year_cost"]
            rows.append({"lever": lever["name"], "setting": setting_text(lever["kind"], s["value"]),
                         "effects": [_effect_cell(s["effects"][k], k, f"{path}.effects.{k}") for k in shown],
                         "cost": _cell(f"{cost:,.0f}", cost, f"{path}.first_year_cost")})
    return rows


def _ranking(explored: Mapping[str, Any]) -> list[dict[str, Any]]:
    unit = _BY_KEY[explored["metric"]].unit
    index = {lever["id"]: i for i, lever in enumerate(explored["levers"])}
    rows = []
    for ident in explored["ranking"]["by_gain"]:
        i = index[ident]
        lever, path = explored["levers"][i], f"levers.{i}.best"
        best = lever["best"]
        found = best["value"] is not None
        per = best["gain_per_cost"]
        rows.append({
            "lever": lever["name"], "setting": setting_text(lever["kind"], best["value"]) if found
            else "no significant gain",
            "gain": _cell(format_value(best["gain"], unit) if found else "—", best["gain"] if found else None,
                          path + ".gain"),
            "cost": _cell(f"{best['first_year_cost']:,.0f}" if found else "—",
                          best["first_year_cost"] if found else None, path + ".first_year_cost"),
            "per": _cell("free" if found and not best["first_year_cost"] else "—" if per is None
                         else f"{format_value(per * 1000, unit)} per 1,000", per, path + ".gain_per_cost")})
    return rows


def levers_html(explored: Mapping[str, Any], *, tornado: str | bytes | None = None, journey_name: str = "") -> str:
    """The report page for a result of :func:`journeymap.explore.explore`; ``tornado`` is SVG text (optional)."""
    shown = [k for k in EXPLORED if explored["baseline"].get(k) is not None]
    by_id = {lever["id"]: lever for lever in explored["levers"]}
    return _ENV.get_template("levers.html.j2").render(
        title=f"Which lever buys most: {journey_name or explored['journey']}", explored=explored,
        metric_label=_BY_KEY[explored["metric"]].label.lower(),
        today=[{"label": _BY_KEY[k].label, **_cell(format_value(explored["baseline"][k], _BY_KEY[k].unit),
                                                   explored["baseline"][k], f"baseline.{k}")} for k in shown],
        columns=[_BY_KEY[k].label for k in shown], rows=_sweep_rows(explored, shown), ranking=_ranking(explored),
        cheapest=[by_id[i]["name"] for i in explored["ranking"]["by_gain_per_cost"]], months=MONTHS,
        tornado=inline_svg(tornado), note=ONE_AT_A_TIME_NOTE)


def levers_report(explored: Mapping[str, Any], journey_name: str = "") -> str:
    """:func:`levers_html` with the tornado chart drawn and inlined as SVG."""
    from .rendering.tornado import tornado_chart

    return levers_html(explored, tornado=_figure_svg(tornado_chart(explored, journey_name)),
                       journey_name=journey_name)


# --------------------------------------------------------------------------- optimise


def _change(effect: Mapping[str, Any] | None, key: str, path: str) -> dict[str, Any]:
    """A paired change from today and its 95% CI, every number its own cell; tone only when significant."""
    if effect is None:
        return {"cell": _cell("n/a", None, path), "ci": None, "tone": "", "ns": False}
    m = _BY_KEY[key]
    cell = _cell("unchanged" if effect["unchanged"] else format_change(effect["change"], m.unit), effect["change"],
                 path + ".change")
    tone = "" if not effect["significant"] else "good" if (effect["change"] < 0) == m.lower_is_better else "bad"
    return {"cell": cell, "ci": None if effect["unchanged"] else
            _interval(effect["ci95"], lambda v: format_change(v, m.unit), path + ".ci95"),
            "tone": tone, "ns": not effect["significant"] and not effect["unchanged"]}


def _setting_row(result: Mapping[str, Any], i: int) -> dict[str, Any]:
    """Setting ``i`` of the factorial as a table row: words, mean, change from today, cost, people."""
    metric, row, path = result["metric"], result["settings"][i], f"settings.{i}"
    unit = _BY_KEY[metric].unit
    return {"index": i, "text": row["text"], "today": row["today"], "on_front": row["on_front"],
            "winner": i == result.get("winner"), "runner_up": i == result.get("runner_up"),
            "within": i in result.get("within_budget", ()),
            "mean": _cell(format_value(row["means"][metric], unit), row["means"][metric], f"{path}.means.{metric}"),
            "change": _change(row["effects"][metric], metric, f"{path}.effects.{metric}"),
            "cost": _cell(f"{row['first_year_cost']:,.0f}", row["first_year_cost"], f"{path}.first_year_cost"),
            "people": _cell(f"{row['people']:+d}", row["people"], f"{path}.people")}


#: The budget's limits in words, as optimise's error messages name them.
_LIMITS = {"once": "one-off cost", "per_month": "monthly cost", "first_year_cost": "first-year cost",
           "people": "people added"}


def _verdict(against: Mapping[str, Any], runner_up: bool) -> str:
    """The winner against today or the runner-up, in words (the runner-up's as the terminal says it)."""
    if runner_up:
        return "still beats it" if against["significantly_better"] else \
            "still ahead, not significantly" if against["better"] else "no longer ahead"
    return "better" if against["significantly_better"] else \
        "better, not significantly" if against["better"] else "not better"


def _verification(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """The winner, the runner-up and today as verified with fresh replications; None without a winner."""
    if result.get("winner") is None:
        return None
    metric, v = result["metric"], result["verification"]
    unit = _BY_KEY[metric].unit
    value = lambda x: format_value(x, unit)  # noqa: E731

    def verified(name: str, label: str, setting: dict[str, Any] | None) -> dict[str, Any]:
        return {"label": label, "setting": setting, "mean": _cell(value(v[name]["mean"]), v[name]["mean"],
                f"verification.{name}.mean"), "ci": _interval(v[name]["ci95"], value, f"verification.{name}.ci95")}

    today_mean = result["today"]["means"][metric]
    rows = [{**verified("today", "Today", None),
             "search": _cell(value(today_mean), today_mean, f"today.means.{metric}")},
            {**verified("winner", "Best within the budget", _setting_row(result, result["winner"]))}]
    if v["runner_up"] is not None:
        rows.append(verified("runner_up", "Runner-up", _setting_row(result, result["runner_up"])))
    against = []
    for name, label in (("against_today", "today"), ("against_runner_up", "the runner-up")):
        a = v[name]
        if a is None:
            continue
        against.append({"label": label, "verdict": _verdict(a, name == "against_runner_up"),
                        "tone": "good" if a["significantly_better"] else "",
                        "change": _cell(format_change(a["change"], unit), a["change"], f"verification.{name}.change"),
                        "ci": _interval(a["ci95"], lambda x: format_change(x, unit), f"verification.{name}.ci95")})
    return {"rows": rows, "against": against, "seed": v["seed"], "replications": v["replications"],
            "significant": v["against_today"]["significantly_better"]}


def optimise_html(result: Mapping[str, Any], *, pareto: str | bytes | None = None, journey_name: str = "") -> str:
    """The page for a result of :func:`journeymap.optimise.optimise` (or of ``factorial``: then no winner);
    ``pareto`` is SVG text (optional)."""
    metric = result["metric"]
    name = journey_name or result.get("journey_name") or result["journey"]
    check = _verification(result)
    winner = _setting_row(result, result["winner"]) if check else None
    budget = [{"label": _LIMITS[k], **_cell(f"{v:,g}", v, f"budget.{k}")}
              for k, v in (result.get("budget") or {}).items() if v is not None]
    return _ENV.get_template("optimise.html.j2").render(
        title=f"{'The best setting within the budget' if check else 'Cost against ' + _BY_KEY[metric].label.lower()}"
              f": {name}", result=result, metric_label=_BY_KEY[metric].label, winner=winner, check=check,
        budget=budget, within=len(result.get("within_budget", ())), months=result["months_of_monthly_cost"],
        front=[{"n": n, **_setting_row(result, i)} for n, i in enumerate(result["front"], start=1)],
        every=[_setting_row(result, i) for i in range(len(result["settings"]))],
        today=_cell(format_value(result["today"]["means"][metric], _BY_KEY[metric].unit),
                    result["today"]["means"][metric], f"today.means.{metric}"),
        better="lower" if result["lower_is_better"] else "higher", pareto=inline_svg(pareto), note=FRONT_NOTE)


def optimise_report(result: Mapping[str, Any], journey_name: str = "") -> str:
    """:func:`optimise_html` with the Pareto chart drawn and inlined as SVG."""
    from .rendering.pareto import pareto_chart

    name = journey_name or result.get("journey_name", "")
    return optimise_html(result, pareto=_figure_svg(pareto_chart(result, name)), journey_name=name)
