"""Charts with matplotlib: functions take data and ``ax=None`` and return the Figure.

They read the simulation summary (see ``docs/rendering.md`` for its shape;
times in minutes) and never write files: :func:`journeymap.rendering.output.write_figure`
does that, atomically. Colours are the colour-blind-safe Okabe-Ito palette;
every chart has a title and units.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")  # no display needed; must come before pyplot is imported anywhere
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..model import EMOTION_SCALE, Journey  # noqa: E402
from . import palette  # noqa: E402

__all__ = [
    "time_unit",
    "cycle_time_histogram",
    "cycle_time_cdf",
    "cycle_time_chart",
    "stage_breakdown_chart",
    "utilisation_chart",
    "emotion_curve",
]

OI = palette.OKABE_ITO
# yellow is left out: too pale for a line on white
_SERIES = [OI["blue"], OI["orange"], OI["green"], OI["vermillion"], OI["purple"], OI["sky_blue"], OI["black"]]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

plt.rcParams.update({"font.size": 13, "axes.titlesize": 15, "axes.labelsize": 13, "legend.fontsize": 12,
                     "svg.fonttype": "none"})


def time_unit(minutes: float) -> tuple[str, float]:
    """A readable unit for values around ``minutes``: ("minutes", 1), ("hours", 60) or ("days", 1440)."""
    if minutes >= 2 * 1440:
        return "days", 1440.0
    if minutes >= 120:
        return "hours", 60.0
    return "minutes", 1.0


def _axes(ax: Optional[Axes], size: tuple[float, float] = (9, 5.5)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _mean(s: Any) -> float:
    return float(s.get("mean", 0.0) or 0.0) if isinstance(s, Mapping) else float(s or 0.0)


def _cycle(results: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, float], str, float]:
    samples = np.asarray(sorted(results.get("cycle_time_samples") or []), dtype=float)
    ct = (results.get("case") or {}).get("cycle_time") or {}
    p50 = float(ct.get("p50", np.percentile(samples, 50) if samples.size else 0.0))
    p90 = float(ct.get("p90", np.percentile(samples, 90) if samples.size else 0.0))
    unit, div = time_unit(p50 if p50 else (samples.mean() if samples.size else 0.0))
    return samples, {"P50": p50, "P90": p90}, unit, div


def _persona(results: Mapping[str, Any], journey: Optional[Journey] = None) -> str:
    if journey is not None:
        return journey.persona.name
    return str(results.get("persona") or results.get("journey") or "")


def cycle_time_histogram(results: Mapping[str, Any], ax: Optional[Axes] = None,
                         journey: Optional[Journey] = None) -> Figure:
    """Histogram of simulated cycle times with P50 and P90 marked."""
    fig, ax = _axes(ax)
    samples, marks, unit, div = _cycle(results)
    if samples.size:
        ax.hist(samples / div, bins=min(40, max(10, samples.size // 20)), color=OI["sky_blue"], edgecolor="white")
    for (name, value), style, colour in zip(marks.items(), ("--", ":"), (OI["blue"], OI["vermillion"])):
        ax.axvline(value / div, color=colour, linestyle=style, linewidth=2.5,
                   label=f"{name} = {value / div:.1f} {unit}")
    ax.set_xlabel(f"cycle time ({unit})")
    ax.set_ylabel("cases")
    ax.set_title(f"Cycle time distribution \u2014 {_persona(results, journey)} ({samples.size} cases)")
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return fig


def cycle_time_cdf(results: Mapping[str, Any], ax: Optional[Axes] = None,
                   journey: Optional[Journey] = None) -> Figure:
    """Cumulative share of cases done by each time, with P50 and P90 marked."""
    fig, ax = _axes(ax)
    samples, marks, unit, div = _cycle(results)
    if samples.size:
        y = np.arange(1, samples.size + 1) / samples.size
        ax.step(samples / div, y * 100, where="post", color=OI["blue"], linewidth=2.5, label="share of cases done")
    for (name, value), q, colour in zip(marks.items(), (50, 90), (OI["blue"], OI["vermillion"])):
        ax.axhline(q, color="#999999", linewidth=1, linestyle=":")
        ax.axvline(value / div, color=colour, linestyle="--", linewidth=2)
        ax.annotate(f"{name}: {value / div:.1f} {unit}", (value / div, q), xytext=(8, -18),
                    textcoords="offset points", fontsize=13, fontweight="bold", color=colour)
    ax.set_ylim(0, 102)
    ax.set_xlabel(f"cycle time ({unit})")
    ax.set_ylabel("cases done (%)")
    ax.set_title(f"Cycle time, cumulative \u2014 {_persona(results, journey)}")
    ax.grid(alpha=0.3)
    return fig


def cycle_time_chart(results: Mapping[str, Any], journey: Optional[Journey] = None) -> Figure:
    """Histogram and CDF side by side, P50 and P90 marked on both."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(15, 5.5), layout="constrained")
    cycle_time_histogram(results, a, journey)
    cycle_time_cdf(results, b, journey)
    return fig


def stage_breakdown_chart(results: Mapping[str, Any], journey: Optional[Journey] = None,
                          ax: Optional[Axes] = None) -> Figure:
    """Mean time per case in each stage, stacked: value-adding work, other work, waiting, handoff delay."""
    stages = results.get("stages") or {}
    order = [s.id for s in journey.stages if s.id in stages] if journey else list(stages)
    names = {s.id: s.name for s in journey.stages} if journey else {}
    parts = {
        "value-adding work": [float(stages[s].get("value_adding", 0.0)) for s in order],
        "other work": [max(0.0, float(stages[s].get("processing", 0.0)) - float(stages[s].get("value_adding", 0.0)))
                       for s in order],
        "waiting in queues": [float(stages[s].get("waiting", 0.0)) for s in order],
        "handoff delay": [float(stages[s].get("handoff_delay", 0.0)) for s in order],
    }
    totals = np.sum([v for v in parts.values()], axis=0) if order else np.zeros(0)
    unit, div = time_unit(float(np.max(totals)) if totals.size else 0.0)
    fig, ax = _axes(ax, (10, 5.5))
    colours = [OI["green"], OI["sky_blue"], OI["orange"], OI["vermillion"]]
    hatches = ["", "", "//", "xx"]
    y = np.arange(len(order))
    left = np.zeros(len(order))
    for (label, values), colour, hatch in zip(parts.items(), colours, hatches):
        vals = np.asarray(values) / div
        ax.barh(y, vals, left=left, color=colour, hatch=hatch, edgecolor="white", label=label)
        left += vals
    for i, t in enumerate(totals):
        ax.text(left[i], i, f"  {t / div:.1f}", va="center", fontsize=12)
    ax.set_yticks(y, [names.get(s, s) for s in order])
    ax.invert_yaxis()
    ax.set_xlabel(f"mean time per case ({unit})")
    ax.set_title(f"Where the time goes, by stage \u2014 {_persona(results, journey)}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=4, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.12)
    return fig


def utilisation_chart(results: Mapping[str, Any], journey: Optional[Journey] = None,
                      ax: Optional[Axes] = None) -> Figure:
    """Mean utilisation of each department (with its 95% interval) and its share of all waiting."""
    depts = results.get("departments") or {}
    order = [d.id for d in journey.departments if d.id in depts] if journey else sorted(depts)
    names = {d.id: d.name for d in journey.departments} if journey else {}
    util = np.array([_mean(depts[d].get("utilisation")) * 100 for d in order])
    lo = np.array([((depts[d].get("utilisation") or {}).get("ci95") or [None, None])[0] for d in order], dtype=float)
    hi = np.array([((depts[d].get("utilisation") or {}).get("ci95") or [None, None])[1] for d in order], dtype=float)
    share = [float(depts[d].get("share_of_waiting", 0.0) or 0.0) for d in order]
    bottleneck = (results.get("bottleneck") or {}).get("department")
    fig, ax = _axes(ax, (10, 0.6 * len(order) + 2.5))
    colours = [OI["vermillion"] if d == bottleneck else OI["blue"] for d in order]
    y = np.arange(len(order))
    ax.barh(y, util, color=colours)
    if np.isfinite(lo).all() and np.isfinite(hi).all() and len(order):
        ax.errorbar(util, y, xerr=[util - lo * 100, hi * 100 - util], fmt="none", ecolor="black", capsize=4)
    ends = np.where(np.isfinite(hi), np.maximum(hi * 100, util), util)
    for i, (u, s) in enumerate(zip(util, share)):
        ax.text(min(ends[i], 100) + 3, i, f"{u:.0f}% busy \u00b7 {100 * s:.0f}% of waiting", va="center", fontsize=12)
    ax.axvline(85, color="#777777", linestyle="--", linewidth=1.5, label="85% busy: queues grow fast above this")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    labels = [names.get(d, d) + ("  \u26a0 bottleneck" if d == bottleneck else "") for d in order]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 150)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("utilisation (% of staff time busy)")
    ax.set_title(f"Department utilisation \u2014 {_persona(results, journey)}")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _emotion_points(journey: Journey, stage_order: Sequence[str]) -> tuple[list[float], list[float], list[Any]]:
    """x (stage index + position inside the stage), emotion, and the step, for touchpoints with an emotion."""
    xs: list[float] = []
    ys: list[float] = []
    steps: list[Any] = []
    for stage in stage_order:
        tps = [s for s in journey.steps if s.stage == stage and s.is_touchpoint and s.emotion is not None]
        for k, s in enumerate(tps):
            xs.append(stage_order.index(stage) + (k + 1) / (len(tps) + 1))
            ys.append(float(s.emotion))
            steps.append(s)
    return xs, ys, steps


def emotion_curve(journeys: Sequence[Journey] | Journey, ax: Optional[Axes] = None) -> Figure:
    """How each persona feels across its touchpoints, stage by stage (-3 furious to +3 delighted).

    With one journey every point is labelled with its touchpoint; with several
    each persona gets its own colour and marker. Moments of truth are stars.
    Touchpoints without an emotion are left out.
    """
    if isinstance(journeys, Journey):
        journeys = [journeys]
    stage_order: list[str] = []
    stage_names: dict[str, str] = {}
    for j in journeys:
        for s in j.stages:
            if s.id not in stage_order:
                stage_order.append(s.id)
                stage_names[s.id] = s.name
    own = ax is None
    fig, ax = _axes(ax, (min(24.0, max(10.0, 2.6 * len(stage_order))), 7.0))
    ax.axhspan(0, 3.6, color=palette.EMOTION_COLOURS[1], alpha=0.25, linewidth=0)
    ax.axhspan(-3.6, 0, color=palette.EMOTION_COLOURS[-1], alpha=0.35, linewidth=0)
    ax.axhline(0, color="#555555", linewidth=1)
    for i in range(1, len(stage_order)):
        ax.axvline(i, color="#999999", linewidth=1, linestyle=":")
    single = len(journeys) == 1
    for n, j in enumerate(journeys):
        xs, ys, steps = _emotion_points(j, stage_order)
        colour = _SERIES[n % len(_SERIES)]
        label = f"{j.persona.name} ({j.persona.role.replace('_', ' ')})"
        if sum(1 for o in journeys if o.persona.name == j.persona.name) > 1:
            label = f"{j.name} — {j.persona.name}"  # e.g. before/after versions of one persona
        ax.plot(xs, ys, color=colour, linewidth=2.5, marker=_MARKERS[n % len(_MARKERS)], markersize=9, label=label,
                linestyle="-" if n < len(_SERIES) else "--")
        mot = [(x, y) for x, y, s in zip(xs, ys, steps) if s.moment_of_truth]
        if mot:
            ax.scatter(*zip(*mot), marker="*", s=380, color=OI["yellow"], edgecolor=colour, linewidth=1.5, zorder=5,
                       label="moment of truth" if n == 0 else None)
        if single:
            for k, (x, y, s) in enumerate(zip(xs, ys, steps)):
                name = s.name if len(s.name) <= 24 else s.name[:23] + "\u2026"
                ax.annotate(name, (x, y), xytext=(0, 14 if k % 2 == 0 else -22), textcoords="offset points",
                            ha="center", fontsize=11)
    ax.set_xlim(0, len(stage_order))
    ax.set_ylim(-3.6, 3.6)
    ax.set_xticks([i + 0.5 for i in range(len(stage_order))], [stage_names[s] for s in stage_order])
    ax.set_yticks(range(-3, 4), [f"{v:+d} {EMOTION_SCALE[v]}".replace("+0", "0") for v in range(-3, 4)])
    ax.set_ylabel("emotion at the touchpoint")
    who = journeys[0].persona.name if single else f"{len(journeys)} personas"
    ax.set_title(f"Emotion curve across touchpoints \u2014 {who}")
    if own:
        # below the plot, so it never hides a point
        fig.legend(loc="outside lower center", ncols=min(3, len(journeys) + 1), frameon=False)
    else:
        ax.legend(loc="lower left", framealpha=0.9)
    return fig
