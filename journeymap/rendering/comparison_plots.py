"""Charts for a before/after comparison: pure figure builders (``ax=None``, return the Figure)."""

from __future__ import annotations

import textwrap
from typing import Any, Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .palette import OKABE_ITO  # noqa: E402

__all__ = ["time_unit", "cycle_time_comparison", "stage_comparison"]

BEFORE = OKABE_ITO["vermillion"]
AFTER = OKABE_ITO["blue"]


def time_unit(max_minutes: float) -> tuple[float, str]:
    """The divisor and name of a readable unit for times up to ``max_minutes``."""
    if max_minutes >= 3 * 1440:
        return 1440.0, "days"
    if max_minutes >= 180:
        return 60.0, "hours"
    return 1.0, "minutes"


def cycle_time_comparison(before: Sequence[float], after: Sequence[float], *, labels: tuple[str, str] = ("Before", "After"),
                          title: str = "Cycle time per case") -> Figure:
    """Overlaid histograms and CDFs of two designs' cycle times, with P50 and P90 marked."""
    b, a = np.sort(np.asarray(before, float)), np.sort(np.asarray(after, float))
    div, unit = time_unit(float(max(b.max(initial=0), a.max(initial=0))))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    # the axis ends at the larger P99.5, not the single slowest case (a long thin tail squeezes the bulk);
    # the histogram counts the few slower cases in its last bin, so its area stays the whole sample
    both = [d for d in (b, a) if len(d)]
    hi = max([float(np.percentile(d, 99.5)) for d in both] + [1.0]) / div
    bins = np.linspace(0, hi, 40)
    for data, colour, label in ((b, BEFORE, labels[0]), (a, AFTER, labels[1])):
        if len(data) == 0:
            continue
        ax1.hist(np.minimum(data / div, hi), bins=bins, density=True, alpha=0.55, color=colour, label=label)
        ax2.plot(data / div, np.linspace(0, 1, len(data)), color=colour, lw=2.5, label=label)
        for q, style in ((50, "--"), (90, ":")):
            x = np.percentile(data, q) / div
            ax2.axvline(x, color=colour, ls=style, lw=1.5)
            ax2.annotate(f"P{q} {x:.1f}", (x, q / 100), xytext=(4, -14 if colour == BEFORE else 4),
                         textcoords="offset points", color=colour, fontsize=12, fontweight="bold")
    ax1.set(title="Distribution", xlabel=f"cycle time ({unit})", ylabel="density")
    ax2.set(title="Cumulative share of cases (dashed P50, dotted P90)", xlabel=f"cycle time ({unit})",
            ylabel="share of cases done", ylim=(0, 1.02))
    for ax in (ax1, ax2):
        ax.set_xlim(0, hi)
        ax.legend(fontsize=12)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=11)
    fig.suptitle(title, fontsize=15, fontweight="bold")
    return fig


_PARTS = (("value_adding", "value-adding work", OKABE_ITO["green"]),
          ("other_processing", "other work", OKABE_ITO["sky_blue"]),
          ("waiting", "waiting for staff", OKABE_ITO["orange"]),
          ("flow_delay", "sitting in inboxes", OKABE_ITO["purple"]))


def stage_comparison(before: Mapping[str, Mapping[str, float]], after: Mapping[str, Mapping[str, float]],
                     stages: Optional[Sequence[str]] = None, ax: Any = None,
                     labels: Optional[Mapping[str, str]] = None) -> Figure:
    """Per stage, a stacked bar for each design: value-adding and other work, waiting, inbox delays.

    ``before``/``after`` are the ``stages`` blocks of two simulation summaries
    (mean minutes per case); ``labels`` maps stage ids to the names on the axis.
    """
    stages = list(stages or list(dict.fromkeys(list(before) + list(after))))
    if ax is None:
        fig, ax = plt.subplots(figsize=(13, 5.2), constrained_layout=True)
    else:
        fig = ax.figure

    def parts(block: Mapping[str, float]) -> dict[str, float]:
        return {"value_adding": block.get("value_adding", 0.0),
                "other_processing": block.get("processing", 0.0) - block.get("value_adding", 0.0),
                "waiting": block.get("waiting", 0.0), "flow_delay": block.get("flow_delay", 0.0)}

    data = [(parts(before.get(s, {})), parts(after.get(s, {}))) for s in stages]
    top = max([sum(p.values()) for pair in data for p in pair] + [1.0])
    div, unit = time_unit(top)
    x = np.arange(len(stages))
    width = 0.38
    for side, offset, hatch in ((0, -width / 2 - 0.01, "//"), (1, width / 2 + 0.01, "")):
        bottom = np.zeros(len(stages))
        for key, label, colour in _PARTS:
            vals = np.array([pair[side][key] for pair in data]) / div
            ax.bar(x + offset, vals, width, bottom=bottom, color=colour, hatch=hatch, edgecolor="white",
                   label=label if side == 1 else None)
            bottom += vals
        for xi, total in zip(x + offset, bottom):
            ax.annotate(("before" if side == 0 else "after") + f"\n{total:.1f}", (xi, total), ha="center",
                        va="bottom", fontsize=10, xytext=(0, 2), textcoords="offset points")
    names = [textwrap.fill((labels or {}).get(s, s), 18) for s in stages]
    ax.set_xticks(x, names, fontsize=12)
    ax.set_ylabel(f"mean time per case ({unit})", fontsize=12)
    ax.set_title("Where the time goes per stage (left bar before, hatched; right bar after)", fontsize=14,
                 fontweight="bold")
    ax.legend(fontsize=11, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    ax.margins(y=0.15)
    return fig
