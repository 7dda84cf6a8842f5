"""The Q-Q chart of ``journeymap check``: the model's cycle times against the log's, quantile by quantile.

Each dot is one percentile (1st to 99th) of the cycle time: across, what the log shows; up, what the model
gives. On the diagonal, the model reproduces reality; above it, the model's cases take longer. The shaded
band is the relative tolerance around the diagonal, and the three labelled points are the P10, P50 and P90
of the check's table. A long-tailed distribution gets logarithmic axes (:data:`LOG_SCALE_SPREAD`). Every
number drawn is in the check's JSON (``qq`` and the ``cycle time`` items).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..distributions import format_minutes
from . import palette
from .plots import plt, time_unit

__all__ = ["qq_chart"]


#: Above this ratio of the 99th to the 1st percentile, the axes are logarithmic, so that short and long cases
#: both stay readable (a long tail would squeeze P10 and P50 into a corner).
LOG_SCALE_SPREAD = 20.0


def qq_chart(checked: Mapping[str, Any], title: str = "") -> Any:
    """A matplotlib Figure of the check's ``qq`` points (a :meth:`~journeymap.checking.CheckResult.as_dict`).

    The labelled points carry the table's own text for P10, P50 and P90 (``format_minutes``)."""
    from matplotlib.ticker import FuncFormatter

    qq = checked["qq"]
    real, sim = qq["real"], qq["simulated"]
    values = [v for v in real + sim if v > 0]
    top, bottom = max(values, default=1.0), min(values, default=1.0)
    logarithmic = top / bottom > LOG_SCALE_SPREAD
    unit, per = time_unit(float(np.median(real)) * 2 if real else top)
    fig, ax = plt.subplots(figsize=(9, 9), layout="constrained")
    limit = top / per * (1.3 if logarithmic else 1.05)
    # start near the shortest case rather than at 0, so the points fill the square
    floor = bottom / per * (0.7 if logarithmic else 0.9)
    tol = checked["tolerance"]
    diagonal = np.geomspace(floor, limit, 50) if logarithmic else np.linspace(floor, limit, 50)
    ax.fill_between(diagonal, diagonal * (1 - tol), diagonal * (1 + tol), color=palette.OKABE_ITO["sky_blue"],
                    alpha=0.25, linewidth=0, label=f"within {tol:.0%} of reality")
    ax.plot(diagonal, diagonal, color="#555555", linewidth=1.2, linestyle="--", label="model = reality")
    ax.scatter([r / per for r in real], [s / per for s in sim], s=18, color=palette.OKABE_ITO["blue"],
               label="one percentile of cycle time (1st to 99th)", zorder=3)
    for item in checked["items"]:
        if item["family"] != "cycle time" or item["unit"] != "minutes":
            continue
        off = item["verdict"] == "off"
        colour = palette.OKABE_ITO["vermillion"] if off else palette.OKABE_ITO["green"]
        x, y = item["real"] / per, item["simulated"] / per
        ax.scatter([x], [y], s=110, color=colour, edgecolor="black", zorder=4)
        ax.annotate(f"{item['name']}" + (" (off)" if off else "")
                    + f"\nlog {format_minutes(item['real'])}, model {format_minutes(item['simulated'])}",
                    (x, y), xytext=(14, -8), textcoords="offset points", fontsize=12, weight="bold", ha="left",
                    va="top", color=colour if off else "black")
    if logarithmic:
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(plain)
            axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if str(f"{v:g}")[0] in "25" else ""))
    ax.set_xlim(floor, limit)
    ax.set_ylim(floor, limit)
    ax.set_aspect("equal")
    scale = ", logarithmic scale" if logarithmic else ""
    ax.set_xlabel(f"Cycle time in the log ({unit}{scale})")
    ax.set_ylabel(f"Cycle time in the model ({unit}{scale})")
    reproduced = all(i["verdict"] != "off" for i in checked["items"] if i["family"] == "cycle time")
    verdict = "Yes: the model's cycle times match the log's" if reproduced \
        else "No: the model's cycle times are off (red points)"
    fig.suptitle("Does the model reproduce how long cases take?", x=0.02, ha="left", fontsize=17, weight="bold")
    ax.set_title(f"{verdict}" + (f"\n{title}" if title else ""), loc="left", fontsize=13)
    ax.grid(True, which="both" if logarithmic else "major", color="#DDDDDD")
    ax.legend(loc="upper left", frameon=True, framealpha=0.9)
    return fig
