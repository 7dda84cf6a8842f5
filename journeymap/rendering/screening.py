"""The chart of ``journeymap explore --screen morris``: each lever's Morris mu* with its 95% CI, largest on top.

One horizontal bar per lever (the screening JSON's order, ranked by ``mu_star``), a whisker for SALib's
bootstrap interval of mu*, and the value written at the bar's end; a dot marks sigma, the spread of the
lever's effects (a dot far right of its bar's end: the effect depends on the other levers). Times are
shown in days, hours or minutes, whichever suits the largest mu*.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..comparison import METRICS
from . import palette
from .plots import plt, time_unit

__all__ = ["screening_bars", "screening_chart"]

_BY_KEY = {m.key: m for m in METRICS}


def _scale(screened: Mapping[str, Any]) -> tuple[str, float]:
    unit = screened["unit"]
    if unit == "minutes":
        return time_unit(max((r["mu_star"] for r in screened["levers"]), default=0.0) * 2)
    return {"money": "money", "index": "points", "share": "share", "count": "count"}.get(unit, unit), 1.0


def screening_bars(screened: Mapping[str, Any]) -> dict[str, Any]:
    """The chart as data: the axis unit, and per lever (ranked) its name, mu*, CI and sigma in that unit."""
    unit, per = _scale(screened)
    bars = [{"id": r["id"], "name": r["name"], "mu_star": r["mu_star"] / per,
             "ci95": [max(r["mu_star_ci95"][0], 0.0) / per, r["mu_star_ci95"][1] / per], "sigma": r["sigma"] / per}
            for r in screened["levers"]]
    return {"unit": unit, "bars": bars}


def screening_chart(screened: Mapping[str, Any], journey_name: str = "") -> Any:
    """A matplotlib Figure of :func:`screening_bars`, sized and lettered for a projector."""
    data = screening_bars(screened)
    bars = data["bars"]
    fig, ax = plt.subplots(figsize=(11, 0.8 * max(len(bars), 1) + 2.6), layout="constrained")
    for y, b in enumerate(bars):
        ax.barh(y, b["mu_star"], height=0.6, color=palette.OKABE_ITO["blue"])
        lo, hi = b["ci95"]
        ax.errorbar(b["mu_star"], y, xerr=[[b["mu_star"] - lo], [hi - b["mu_star"]]], fmt="none", ecolor="black",
                    capsize=4, linewidth=1.2)
        ax.plot(b["sigma"], y, marker="D", color=palette.OKABE_ITO["vermillion"], markersize=8, linestyle="none",
                label="sigma (spread of the effects)" if y == 0 else None)
        ax.annotate(f"{b['mu_star']:.2f}", (max(hi, b["sigma"]), y), xytext=(8, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=13)
    ax.set_yticks(range(len(bars)), [b["name"] for b in bars], fontsize=13)
    ax.invert_yaxis()
    right = max([max(b["ci95"][1], b["sigma"]) for b in bars] + [1e-9])
    ax.set_xlim(0, right * 1.2)
    ax.tick_params(axis="x", labelsize=12)
    step = "moved from one end of its range to the other" if screened["levels"] == 2 else "per unit of its range"
    ax.set_xlabel(f"mu*: mean absolute change of {_BY_KEY[screened['metric']].label.lower()} ({data['unit']})\n"
                  f"when the lever is {step}; whiskers: 95% CI", fontsize=12)
    ax.set_title(f"Which levers matter — {journey_name or screened['journey']}\nMorris screening: "
                 f"{screened['trajectories']} trajectories, {screened['settings']} settings, "
                 f"{screened['replications']} replications each", fontsize=14)
    ax.legend(loc="lower right", fontsize=12)
    ax.grid(axis="x", alpha=0.3)
    return fig
