"""The tornado chart of ``journeymap explore``: each lever's effect on one metric, biggest swing on top.

One row per lever; for each value the lever was tried at, a bar from the baseline (0) to the paired change
of the metric, with its 95% CI as a whisker and the setting written beside it. The numbers are those of
the explore JSON (``levers[].settings[].effects[metric]``), in days, hours or minutes for times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..comparison import METRICS
from ..explore import setting_text
from . import palette
from .plots import plt, time_unit

__all__ = ["tornado_rows", "tornado_chart"]

_BY_KEY = {m.key: m for m in METRICS}


def tornado_rows(explored: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The chart as data: per lever (biggest swing first), its bars: the lever's setting, and the metric's change
    with its ci95 and significance."""
    metric = explored["metric"]
    rows = []
    for lever in explored["levers"]:
        bars = [{**s["effects"][metric], "setting": s["value"], "kind": lever["kind"]} for s in lever["settings"]
                if s["effects"].get(metric) is not None]
        if bars:
            rows.append({"id": lever["id"], "name": lever["name"], "bars": bars,
                         "swing": max(abs(b["change"]) for b in bars)})
    return sorted(rows, key=lambda r: -r["swing"])


def _scale(metric: str, rows: list[dict[str, Any]]) -> tuple[str, float]:
    unit = _BY_KEY[metric].unit
    if unit == "minutes":
        name, per = time_unit(max((r["swing"] for r in rows), default=0.0) * 2)
        return name, per
    return {"money": "money", "index": "points", "share": "share", "count": "count"}.get(unit, unit), 1.0


def tornado_chart(explored: Mapping[str, Any], journey_name: str = "") -> Any:
    """A matplotlib Figure of :func:`tornado_rows` (lower is better for times and cost: left is good)."""
    metric = explored["metric"]
    label = _BY_KEY[metric].label
    rows = tornado_rows(explored)
    unit, per = _scale(metric, rows)
    fig, ax = plt.subplots(figsize=(11, 1.1 * max(len(rows), 1) + 2.4), layout="constrained")
    better_left = _BY_KEY[metric].lower_is_better
    for y, row in enumerate(rows):
        bars = sorted(row["bars"], key=lambda b: abs(b["change"]), reverse=True)
        for k, b in enumerate(bars):
            good = (b["change"] < 0) == better_left
            colour = (palette.OKABE_ITO["blue"] if good else palette.OKABE_ITO["vermillion"]) if b["significant"] \
                else "#BBBBBB"
            offset = (k - (len(bars) - 1) / 2) * 0.8 / max(len(bars), 1)
            height = 0.8 / max(len(bars), 1)
            ax.barh(y + offset, b["change"] / per, height=height * 0.9, color=colour)
            lo, hi = b["ci95"]
            if lo is not None and hi is not None:
                ax.errorbar(b["change"] / per, y + offset, xerr=[[b["change"] / per - lo / per],
                                                                  [hi / per - b["change"] / per]],
                            fmt="none", ecolor="black", capsize=3, linewidth=1)
            end = (hi if b["change"] >= 0 else lo) if lo is not None and hi is not None else b["change"]
            ax.annotate(f"{setting_text(b['kind'], b['setting'])}: {b['change'] / per:+.1f}", (end / per, y + offset),
                        xytext=(6 if b["change"] >= 0 else -6, 0), textcoords="offset points",
                        ha="left" if b["change"] >= 0 else "right", va="center", fontsize=12)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(range(len(rows)), [r["name"] for r in rows], fontsize=13)
    ax.invert_yaxis()
    lo_x, hi_x = ax.get_xlim()
    span = hi_x - lo_x
    ax.set_xlim(lo_x - 0.45 * span, hi_x + 0.45 * span)  # room for the labels beyond the whiskers
    ax.set_xlabel(f"change of {label.lower()} from today ({unit}); whiskers: 95% CI", fontsize=13)
    side = "left" if better_left else "right"
    ax.set_title(f"Which lever buys most — {journey_name or explored['journey']}\n"
                 f"each lever alone; blue = better ({side}), vermillion = worse, grey = not significant",
                 fontsize=14)
    ax.grid(axis="x", alpha=0.3)
    return fig
