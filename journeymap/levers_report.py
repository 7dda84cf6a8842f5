"""The HTML report of ``journeymap explore``: one self-contained page of the one-at-a-time sweep.

Pure: :func:`levers_html` takes the explore data (:func:`journeymap.explore.explore`) and the tornado chart
as SVG text and returns the page; :func:`levers_report` draws the chart too. It shares the compare report's
styles (``templates/_style.css.j2``) and, like it, has no script and no network resource. Every number
cell carries the JSON value it shows in ``data-value`` and where it comes from in ``data-path`` (dotted,
e.g. ``levers.0.settings.1.effects.cycle_time_mean.change``), so a test can check the page against the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .comparison import METRICS
from .explore import EXPLORED, MONTHS, setting_text
from .report import _ENV, _figure_svg, inline_svg
from .tables import format_change, format_value

__all__ = ["levers_html", "levers_report", "ONE_AT_A_TIME_NOTE"]

_BY_KEY = {m.key: m for m in METRICS}

#: What a one-at-a-time sweep does not measure, said on the page.
ONE_AT_A_TIME_NOTE = (
    "Each lever was tried alone, the others as they are today. This does not measure interactions: two "
    "levers can buy less together than the sum of their gains (both relieve the same queue) or more (one "
    "only helps once the other is pulled), and a lever's effect at settings between the ends tried is not "
    "known. For levers taken together use a factorial (journeymap optimise) or a Morris screening "
    "(journeymap explore --screen morris); for the parts of a redesign, journeymap explain.")


def _cell(text: str, value: float | None, path: str) -> dict[str, Any]:
    return {"text": text, "value": value, "path": path}


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
