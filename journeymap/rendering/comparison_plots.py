"""Charts for a before/after comparison: pure figure builders (``ax=None``, return the Figure)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..distributions import DAY, HOUR  # noqa: E402
from ..simulation import BREAKDOWN_LABELS  # noqa: E402  (one set of words for the components)
from .palette import OKABE_ITO  # noqa: E402

__all__ = ["time_unit", "shared_time_unit", "cycle_time_comparison", "COMPONENTS", "stage_bars", "stage_comparison",
           "emotion_positions", "emotion_comparison"]

BEFORE = OKABE_ITO["vermillion"]
AFTER = OKABE_ITO["blue"]


def time_unit(max_minutes: float) -> tuple[float, str]:
    """The divisor and name of a readable unit for times up to ``max_minutes``."""
    if max_minutes >= 3 * DAY:
        return DAY, "days"
    if max_minutes >= 180:
        return HOUR, "hours"
    return 1.0, "minutes"


def cycle_time_comparison(before: Sequence[float], after: Sequence[float], *,
                          labels: tuple[str, str] = ("Before", "After"), title: str = "Cycle time per case") -> Figure:
    """Overlaid histograms and CDFs of two designs' cycle times, with P50 and P90 marked."""
    b, a = np.sort(np.asarray(before, float)), np.sort(np.asarray(after, float))
    div, unit = time_unit(float(max(b.max(initial=0), a.max(initial=0))))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
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


#: The mechanisms of ``time_breakdown`` (docs/simulation.md), in its order: key, label, colour, hatch.
_COMPONENT_STYLE = (
    ("value_adding_work", OKABE_ITO["green"], ""),
    ("other_work", OKABE_ITO["sky_blue"], ""),
    ("customer_time", OKABE_ITO["yellow"], ""),
    ("queueing", OKABE_ITO["orange"], "//"),
    ("handoff_inbox", OKABE_ITO["vermillion"], "xx"),
    ("other_inbox", OKABE_ITO["purple"], ".."),
    ("gate_wait", OKABE_ITO["black"], ""),
    ("off_hours", "#555555", "||"),
)
COMPONENTS: tuple[tuple[str, str, str, str], ...] = tuple(
    (key, BREAKDOWN_LABELS[key], colour, hatch) for key, colour, hatch in _COMPONENT_STYLE)


def stage_bars(before: Mapping[str, Any], after: Mapping[str, Any],
               stages: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The bars of :func:`stage_comparison` as data: per stage, per side, minutes per case by mechanism.

    ``before``/``after`` are ``time_breakdown`` blocks; because the breakdown
    sums to the cycle time, the totals of one side's bars add up to its mean
    cycle time. A stage missing on one side has zeros there.
    """
    sb, sa = before.get("stages", {}), after.get("stages", {})
    stages = list(stages or list(dict.fromkeys(list(sb) + list(sa))))
    keys = [k for k, *_ in COMPONENTS]
    out = []
    for stage in stages:
        for side, block in (("before", sb), ("after", sa)):
            parts = {k: float(block.get(stage, {}).get(k, 0.0)) for k in keys}
            out.append({"stage": stage, "side": side, "parts": parts, "total": sum(parts.values())})
    return out


def shared_time_unit(*minutes: float) -> tuple[float, str]:
    """One unit for every number of a before/after chart, so neither side looks bigger for its unit."""
    return time_unit(max([float(m) for m in minutes] + [0.0]))


def stage_comparison(before: Mapping[str, Any], after: Mapping[str, Any], stages: Sequence[str] | None = None,
                     ax: Any = None, labels: Mapping[str, str] | None = None) -> Figure:
    """Per stage, a bar for each design split by mechanism, in one unit and on one axis.

    ``before``/``after`` are the ``time_breakdown`` blocks of two simulation
    summaries: the bars of one design add up to its mean cycle time (shown in
    the legend title). Horizontal bars keep long stage names readable on a
    phone.
    """
    bars = stage_bars(before, after, stages)
    order = list(dict.fromkeys(b["stage"] for b in bars))
    # the scale goes to the longest bar; the unit is chosen once from the two cycle times
    totals = {side: sum(b["total"] for b in bars if b["side"] == side) for side in ("before", "after")}
    div, unit = shared_time_unit(*(b["total"] for b in bars), *totals.values())
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 2.2 + 0.95 * max(len(order), 1)), constrained_layout=True)
    else:
        fig = ax.figure
    height = 0.4
    y = np.arange(len(order))
    for side, offset in (("before", -height / 2 - 0.01), ("after", height / 2 + 0.01)):
        left = np.zeros(len(order))
        rows = [next(b for b in bars if b["stage"] == s and b["side"] == side) for s in order]
        for key, label, colour, hatch in COMPONENTS:
            vals = np.array([r["parts"][key] for r in rows]) / div
            if not vals.any():
                continue
            ax.barh(y + offset, vals, height, left=left, color=colour, hatch=hatch, edgecolor="white",
                    label=label if side == "after" else None)
            left += vals
        for yi, total in zip(y + offset, left, strict=True):
            ax.annotate(f"{side} {total:.1f}", (total, yi), va="center", fontsize=11, xytext=(4, 0),
                        textcoords="offset points")
    ax.set_yticks(y, [textwrap.fill((labels or {}).get(s, s), 22) for s in order], fontsize=12)
    ax.invert_yaxis()
    ax.set_xlabel(f"mean time per case ({unit}); upper bar before, lower bar after", fontsize=12)
    ax.margins(x=0.18)
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(labelsize=11)
    # below the axes, so it never covers a bar
    ax.legend(fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False,
              title=(f"the bars of a design add up to its mean cycle time: before "
                     f"{totals['before'] / div:.1f}, after {totals['after'] / div:.1f} {unit}"), title_fontsize=11)
    ax.set_title("Where the time goes, stage by stage", fontsize=14, fontweight="bold", loc="left")
    return fig


#: Emotion scale of the journey format (docs/format.md): -3..+3.
_EMOTION_TICKS = ((-3, "−3 furious"), (-2, "−2"), (-1, "−1"), (0, "0 neutral"), (1, "+1"), (2, "+2"),
                  (3, "+3 delighted"))


def emotion_positions(touchpoints: Sequence[Mapping[str, Any]], stages: Sequence[str]) -> list[float]:
    """Where each touchpoint sits on a shared stage axis: stage i spans [i, i+1], its touchpoints evenly inside.

    Both designs use the same axis, so their curves line up stage by stage
    even when they have different numbers of touchpoints.
    """
    index = {s: i for i, s in enumerate(stages)}
    count: dict[str, int] = {}
    for t in touchpoints:
        count[t["stage"]] = count.get(t["stage"], 0) + 1
    seen: dict[str, int] = {}
    out = []
    for t in touchpoints:
        k = seen.get(t["stage"], 0)
        seen[t["stage"]] = k + 1
        out.append(index.get(t["stage"], len(stages)) + (k + 1) / (count[t["stage"]] + 1))
    return out


def emotion_comparison(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]],
                       stages: Sequence[str], labels: Mapping[str, str] | None = None, ax: Any = None) -> Figure:
    """The two designs' emotion curves overlaid on one −3..+3 scale, stage by stage.

    ``before``/``after`` are the ``experience.touchpoints`` lists of two
    summaries (``emotion`` as designed, ``lived`` after the waits beyond the
    persona's tolerance). Solid: as designed; dotted: as lived.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 4.6), constrained_layout=True)
    else:
        fig = ax.figure
    for tps, colour, name, marker in ((before, BEFORE, "before", "s"), (after, AFTER, "after", "o")):
        if not tps:
            continue
        x = emotion_positions(tps, stages)
        ax.plot(x, [t["emotion"] for t in tps], color=colour, lw=2.5, marker=marker, ms=7,
                label=f"{name}, as designed")
        ax.plot(x, [t.get("lived", t["emotion"]) for t in tps], color=colour, lw=1.6, ls=":",
                label=f"{name}, as lived (waits beyond tolerance)")
    for i in range(1, len(stages)):
        ax.axvline(i, color="#d0d7de", lw=1)
    ax.set_xlim(0, max(len(stages), 1))
    ax.set_xticks([i + 0.5 for i in range(len(stages))],
                  [textwrap.fill((labels or {}).get(s, s), 14) for s in stages], fontsize=11)
    ax.set_ylim(-3.3, 3.3)
    ax.set_yticks([v for v, _ in _EMOTION_TICKS], [t for _, t in _EMOTION_TICKS], fontsize=10)
    ax.axhline(0, color="#59636e", lw=0.8)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, frameon=False)
    ax.set_title("Emotion at each touchpoint, stage by stage", fontsize=14, fontweight="bold", loc="left")
    return fig
