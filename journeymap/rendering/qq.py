"""The Q-Q chart of ``journeymap check``: the model's cycle times against the log's, quantile by quantile.

Each dot is one percentile (1st to 99th) of the cycle time: across, what the log shows; up, what the model
gives. On the diagonal, the model reproduces reality; above it, the model's cases take longer. The shaded
band is the relative tolerance around the diagonal, and the three labelled points are the P10, P50 and P90
of the check's table. Every number drawn is in the check's JSON (``qq`` and the ``cycle time`` items).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import palette
from .plots import plt, time_unit

__all__ = ["qq_chart"]


def qq_chart(checked: Mapping[str, Any], title: str = "") -> Any:
    """A matplotlib Figure of the check's ``qq`` points (a :meth:`~journeymap.checking.CheckResult.as_dict`)."""
    qq = checked["qq"]
    real, sim = qq["real"], qq["simulated"]
    top = max(real + sim, default=0.0)
    unit, per = time_unit(top)
    fig, ax = plt.subplots(figsize=(9, 9), layout="constrained")
    limit = top / per * 1.05 if top > 0 else 1.0
    # start near the shortest case rather than at 0, so the points fill the square
    floor = min(real + sim, default=0.0) / per * 0.9
    tol = checked["tolerance"]
    diagonal = [floor, limit]
    ax.fill_between(diagonal, [floor * (1 - tol), limit * (1 - tol)], [floor * (1 + tol), limit * (1 + tol)],
                    color=palette.OKABE_ITO["sky_blue"], alpha=0.25, linewidth=0, label=f"within {tol:.0%} of reality")
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
        ax.annotate(f"{item['name']}" + (" (off)" if off else "") + f"\nlog {x:.1f}, model {y:.1f} {unit}",
                    (x, y), xytext=(14, -8), textcoords="offset points", fontsize=12, weight="bold", ha="left",
                    va="top",
                    color=colour if off else "black")
    ax.set_xlim(floor, limit)
    ax.set_ylim(floor, limit)
    ax.set_aspect("equal")
    ax.set_xlabel(f"Cycle time in the log ({unit})")
    ax.set_ylabel(f"Cycle time in the model ({unit})")
    reproduced = all(i["verdict"] != "off" for i in checked["items"] if i["family"] == "cycle time")
    verdict = "Yes: the model's cycle times match the log's" if reproduced \
        else "No: the model's cycle times are off (red points)"
    fig.suptitle("Does the model reproduce how long cases take?", x=0.02, ha="left", fontsize=17, weight="bold")
    ax.set_title(f"{verdict}" + (f"\n{title}" if title else ""), loc="left", fontsize=13)
    ax.grid(True, color="#DDDDDD")
    ax.legend(loc="upper left", frameon=True, framealpha=0.9)
    return fig
