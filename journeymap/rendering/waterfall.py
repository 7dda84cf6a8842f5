"""The waterfall of ``journeymap explain``: before, each change's contribution with its 95% CI, after.

A pure figure builder (returns the Figure; :func:`journeymap.rendering.output.write_figure` writes it).
Drawn for a projector: one row per change, read top to bottom, large type, the value of every bar
written beside it with the same rounding as the terminal table, and colours that say better or worse
whatever the metric's direction (Okabe-Ito, safe for colour-blind readers).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..attribution import format_share  # noqa: E402
from ..tables import format_change, format_value  # noqa: E402
from .comparison_plots import time_unit  # noqa: E402
from .palette import OKABE_ITO  # noqa: E402

__all__ = ["waterfall", "waterfall_bars", "BETTER", "WORSE", "LEVEL"]

BETTER = OKABE_ITO["blue"]
WORSE = OKABE_ITO["vermillion"]
LEVEL = "#8c8c8c"
#: Type sizes (points) that stay readable on a projector at the figure's size.
FONT = {"title": 24, "label": 18, "value": 17, "axis": 16}


def _scale(result: Mapping[str, Any]) -> tuple[float, str]:
    """The divisor and name of the axis unit: days or hours for times, the metric's own unit otherwise."""
    unit = result["metric"]["unit"]
    if unit == "minutes":
        return time_unit(max(abs(result["before_value"]), abs(result["after_value"])))
    return (0.01, "percentage points") if unit == "share" else (1.0, {"money": "per case", "index": "points"}
                                                                     .get(unit, unit))


def waterfall_bars(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The bars, top to bottom, in the metric's own unit: label, start, end, text, colour and CI (or None).

    Pure data, so a test can check the chart's numbers against the JSON it comes from: the before bar
    ends at ``before_value``, each change's bar spans its ``contribution`` from the running total, the
    after bar ends at ``before_value`` plus the contributions (= ``after_value``).
    """
    unit = result["metric"]["unit"]
    lower_better = result["metric"]["lower_is_better"]
    bars = [{"label": "Before", "start": 0.0, "end": result["before_value"], "colour": LEVEL, "ci": None,
             "text": format_value(result["before_value"], unit)}]
    running = result["before_value"]
    for row in result["contributions"]:
        c = row["contribution"]
        better = (c < 0) == lower_better
        lo, hi = row["ci95"]
        share = f"  ({format_share(row['share'])})" if row.get("share") is not None else ""
        bars.append({"label": row["title"], "start": running, "end": running + c, "colour": BETTER if better else
                     WORSE, "ci": None if lo is None else (running + lo, running + hi),
                     "text": format_change(c, unit) + share})
        running += c
    bars.append({"label": "After", "start": 0.0, "end": running, "colour": LEVEL, "ci": None,
                 "text": format_value(running, unit)})
    return bars


def waterfall(result: Mapping[str, Any], *, title: str | None = None) -> Figure:
    """The waterfall chart of an explain result (:func:`journeymap.attribution.explain`).

    The axis is zoomed on the changes, as a waterfall of differences must be: the before and after bars
    start at the axis's left edge, and the axis label says where that is when it is not zero.
    """
    bars = waterfall_bars(result)
    div, unit = _scale(result)
    left, right = _limits(bars, div)
    fig, ax = plt.subplots(figsize=(13.33, max(4.5, 1.2 + 0.95 * len(bars))))  # 16:9 wide, a row per bar
    for y, bar in enumerate(bars):
        start = max(bar["start"] / div, left)
        lo, hi = sorted((start, bar["end"] / div))
        ax.barh(y, hi - lo, left=lo, height=0.62, color=bar["colour"], edgecolor="black", linewidth=0.6)
        if bar["ci"] is not None:
            a, b = (v / div for v in bar["ci"])
            mid = bar["end"] / div
            ax.errorbar(mid, y, xerr=[[mid - a], [b - mid]], fmt="none", ecolor="black", elinewidth=2, capsize=7)
        if y > 0:  # the connector from the previous bar's end
            ax.plot([bars[y - 1]["end"] / div] * 2, [y - 1 + 0.31, y - 0.31], color="black", lw=1, ls=":")
        ax.text(max(bar["start"], bar["end"], *(bar["ci"] or ())) / div + 0.01 * (right - left), y, bar["text"],
                va="center", ha="left", fontsize=FONT["value"], fontweight="bold")
    ax.set_xlim(left, right)
    ax.set_yticks(range(len(bars)), [textwrap.fill(b["label"], 26) for b in bars], fontsize=FONT["label"])
    ax.invert_yaxis()
    zoom = "; the axis does not start at zero" if left > 0 else ""
    ax.set_xlabel(f"{result['metric']['label']} ({unit}{zoom})", fontsize=FONT["axis"])
    ax.tick_params(axis="x", labelsize=FONT["axis"])
    ax.set_title(title or f"Which change bought what: {result['metric']['label'].lower()}", fontsize=FONT["title"],
                 loc="left")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def _limits(bars: list[dict[str, Any]], div: float) -> tuple[float, float]:
    """The axis range: every change bar and CI with a margin, room on the right for the values; from 0 when
    the changes are large against the levels, else zoomed."""
    points = [v / div for b in bars for v in (b["end"], *(b["ci"] or ()))] + [b["start"] / div for b in bars[1:-1]]
    lo, hi = min(points), max(points)
    span = max(hi - lo, abs(hi) * 1e-6, 1e-12)
    left = lo - 0.5 * span
    if left <= 0 <= lo or lo > 0 and left < 0.25 * lo:
        left = 0.0  # close to zero anyway: start there
    return left, hi + 0.45 * (hi - left)
