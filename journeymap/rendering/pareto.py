"""The Pareto chart of ``journeymap optimise``: first-year cost (x) against one metric (y), one dot per setting.

Every setting of the factorial is a grey dot; the settings on the Pareto front are blue, joined cheapest
first and numbered, and the numbers are explained in words beside the chart (long settings do not fit
next to a dot on a projector). Today is a black star; the best setting within the budget, when there is
one, is ringed in vermillion. The numbers are those of the optimise JSON (``settings[].first_year_cost``
and ``settings[].means[metric]``), in days, hours or minutes for times.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from ..comparison import METRICS
from . import palette
from .plots import plt, time_unit

__all__ = ["pareto_points", "pareto_chart"]

_BY_KEY = {m.key: m for m in METRICS}


def pareto_points(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The chart as data: per setting (JSON order), its cost, its mean metric, words and whether it is on the
    front, the winner, or today's setting."""
    metric = result["metric"]
    return [{"index": r["index"], "cost": r["first_year_cost"], "value": r["means"][metric], "text": r["text"],
             "on_front": r["on_front"], "winner": r["index"] == result.get("winner")}
            for r in result["settings"]]


def _scale(metric: str, values: list[float]) -> tuple[str, float]:
    unit = _BY_KEY[metric].unit
    if unit == "minutes":
        return time_unit(max(values, default=0.0))
    return {"money": "money", "index": "points", "share": "share", "count": "count"}.get(unit, unit), 1.0


def pareto_chart(result: Mapping[str, Any], journey_name: str = "") -> Any:
    """A matplotlib Figure of :func:`pareto_points` with the front numbered and explained in words."""
    metric = result["metric"]
    label = _BY_KEY[metric].label
    points = pareto_points(result)
    today = result["today"]["means"][metric]
    unit, per = _scale(metric, [p["value"] for p in points] + [today])
    fig, (ax, side) = plt.subplots(1, 2, figsize=(16, 8), layout="constrained", width_ratios=[1.5, 1])
    rest = [p for p in points if not p["on_front"]]
    front = sorted((p for p in points if p["on_front"]), key=lambda p: (p["cost"], p["value"]))
    ax.scatter([p["cost"] for p in rest], [p["value"] / per for p in rest], s=40, color="#AAAAAA",
               label="a setting", zorder=2)
    ax.plot([p["cost"] for p in front], [p["value"] / per for p in front], color=palette.OKABE_ITO["blue"],
            linewidth=2, zorder=3)
    ax.scatter([p["cost"] for p in front], [p["value"] / per for p in front], s=90,
               color=palette.OKABE_ITO["blue"], label="on the front (no cheaper setting is as good)", zorder=4)
    for n, p in enumerate(front, start=1):
        ax.annotate(str(n), (p["cost"], p["value"] / per), xytext=(7, 7), textcoords="offset points",
                    fontsize=14, fontweight="bold", color=palette.OKABE_ITO["blue"])
    ax.scatter([0], [today / per], marker="*", s=320, color="black", label="today", zorder=5)
    best = [p for p in points if p["winner"]]
    if best:
        ax.scatter([best[0]["cost"]], [best[0]["value"] / per], s=420, facecolors="none", linewidths=2.5,
                   edgecolors=palette.OKABE_ITO["vermillion"], label="best within the budget", zorder=6)
    ax.set_xlabel("first-year cost (one-off + 12 x monthly)", fontsize=14)
    ax.set_ylabel(f"{label.lower()}, mean ({unit})", fontsize=14)
    ax.tick_params(labelsize=12)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:,.0f}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=12, loc="lower left")
    better = "lower" if result["lower_is_better"] else "higher"
    ax.set_title(f"Cost against {label.lower()} — {journey_name or result['journey']}\n"
                 f"{len(points)} settings, {result['replications']} replications each; {better} is better",
                 fontsize=15)
    side.axis("off")
    lines = [textwrap.fill(f"{n}. {p['cost']:,.0f}, {p['value'] / per:.1f} {unit}: {p['text']}", 56,
                           subsequent_indent="    ") for n, p in enumerate(front, start=1)]
    text = side.text(0, 1, "The front, cheapest first (first-year cost, mean):\n\n" + "\n".join(lines), va="top",
                     ha="left", fontsize=12, transform=side.transAxes, linespacing=1.25)
    text.set_in_layout(False)  # long lists must not squeeze the plot: the panel's width is reserved for them
    return fig
