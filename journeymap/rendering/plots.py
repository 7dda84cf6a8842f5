"""Charts with matplotlib: functions take data and ``ax=None`` and return the Figure.

They read the simulation summary (see ``docs/rendering.md`` for its shape;
times in minutes) and never write files: :func:`journeymap.rendering.output.write_figure`
does that, atomically. Colours are the colour-blind-safe Okabe-Ito palette;
every chart has a title and units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")  # no display needed; must come before pyplot is imported anywhere
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..distributions import DAY, HOUR, MINUTE  # noqa: E402
from ..model import EMOTION_SCALE, Journey  # noqa: E402
from ..simulation import BREAKDOWN_LABELS  # noqa: E402  (one set of words for the components)
from . import palette  # noqa: E402

__all__ = [
    "time_unit",
    "cycle_time_histogram",
    "cycle_time_cdf",
    "cycle_time_chart",
    "BREAKDOWN_LABELS",
    "common_unit",
    "common_scale",
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
    if minutes >= 2 * DAY:
        return "days", DAY
    if minutes >= 120:
        return "hours", HOUR
    return "minutes", 1.0


def _axes(ax: Axes | None, size: tuple[float, float] = (9, 5.5)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        return fig, ax
    return cast(Figure, ax.figure), ax


def _mean(s: Any) -> float:
    return float(s.get("mean", 0.0) or 0.0) if isinstance(s, Mapping) else float(s or 0.0)


def _cycle(results: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, float], str, float]:
    samples = np.asarray(sorted(results.get("cycle_time_samples") or []), dtype=float)
    ct = (results.get("case") or {}).get("cycle_time") or {}
    p50 = float(ct.get("p50", np.percentile(samples, 50) if samples.size else 0.0))
    p90 = float(ct.get("p90", np.percentile(samples, 90) if samples.size else 0.0))
    unit, div = time_unit(p50 if p50 else (samples.mean() if samples.size else 0.0))
    return samples, {"P50": p50, "P90": p90}, unit, div


def _persona(results: Mapping[str, Any], journey: Journey | None = None) -> str:
    if journey is not None:
        return journey.persona.name
    return str(results.get("persona") or results.get("journey") or "")


def cycle_time_histogram(results: Mapping[str, Any], ax: Axes | None = None,
                         journey: Journey | None = None) -> Figure:
    """Histogram of simulated cycle times with P50 and P90 marked."""
    fig, ax = _axes(ax)
    samples, marks, unit, div = _cycle(results)
    if samples.size:
        ax.hist(samples / div, bins=min(40, max(10, samples.size // 20)), color=OI["sky_blue"], edgecolor="white")
    for (name, value), style, colour in zip(marks.items(), ("--", ":"), (OI["blue"], OI["vermillion"]), strict=True):
        ax.axvline(value / div, color=colour, linestyle=style, linewidth=2.5,
                   label=f"{name} = {value / div:.1f} {unit}")
    ax.set_xlabel(f"cycle time ({unit})")
    ax.set_ylabel("cases")
    ax.set_title(f"Cycle time distribution \u2014 {_persona(results, journey)} ({samples.size} cases)")
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return fig


def cycle_time_cdf(results: Mapping[str, Any], ax: Axes | None = None,
                   journey: Journey | None = None) -> Figure:
    """Cumulative share of cases done by each time, with P50 and P90 marked."""
    fig, ax = _axes(ax)
    samples, marks, unit, div = _cycle(results)
    if samples.size:
        y = np.arange(1, samples.size + 1) / samples.size
        ax.step(samples / div, y * 100, where="post", color=OI["blue"], linewidth=2.5, label="share of cases done")
    for (name, value), q, colour in zip(marks.items(), (50, 90), (OI["blue"], OI["vermillion"]), strict=True):
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


def cycle_time_chart(results: Mapping[str, Any], journey: Journey | None = None) -> Figure:
    """Histogram and CDF side by side, P50 and P90 marked on both."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(15, 5.5), layout="constrained")
    cycle_time_histogram(results, a, journey)
    cycle_time_cdf(results, b, journey)
    return fig


#: Colour and hatch of each component: work is solid, waiting is hatched, so greyscale still separates them.
_BREAKDOWN_STYLE = {
    "value_adding_work": (OI["green"], ""),
    "other_work": (OI["sky_blue"], ""),
    "customer_time": (OI["purple"], ""),
    "queueing": (OI["orange"], "//"),
    "handoff_inbox": (OI["vermillion"], "xx"),
    "other_inbox": ("#BBBBBB", ".."),
    "gate_wait": (OI["blue"], "\\\\"),
    "off_hours": ("#555555", "||"),
}
_UNITS = {"minutes": MINUTE, "hours": HOUR, "days": DAY}


def _breakdown(results: Mapping[str, Any]) -> tuple[list[str], dict[str, dict[str, float]], dict[str, float]]:
    """Components, per-stage and total minutes per case of ``time_breakdown`` (empty when the summary has none)."""
    tb = results.get("time_breakdown") or {}
    components = list(tb.get("components") or BREAKDOWN_LABELS)
    stages = {s: {c: float(v.get(c, 0.0) or 0.0) for c in components} for s, v in (tb.get("stages") or {}).items()}
    total = {c: float((tb.get("total") or {}).get(c, 0.0) or 0.0) for c in components}
    return components, stages, total


def common_unit(*results: Mapping[str, Any]) -> tuple[str, float]:
    """One unit for several results (e.g. before and after), from the longest mean cycle time among them.

    Returns ("days", 1440.0) and the like, as :func:`time_unit`; pass the name to
    :func:`stage_breakdown_chart` as ``unit`` so a before/after pair reads in the same unit.
    """
    longest = 0.0
    for r in results:
        _, _, total = _breakdown(r)
        longest = max(longest, sum(total.values()), _mean((r.get("case") or {}).get("cycle_time")))
    return time_unit(longest)


def common_scale(*results: Mapping[str, Any]) -> tuple[str, float]:
    """A shared unit and axis length (in that unit) for the stage breakdowns of several results.

    The axis length fits the longest stage bar of any of them, so bars drawn with
    ``stage_breakdown_chart(r, unit=unit, scale=scale)`` compare by length across charts.
    """
    unit, div = common_unit(*results)
    longest = 0.0
    for r in results:
        _, stages, _ = _breakdown(r)
        longest = max([longest] + [sum(v.values()) for v in stages.values()])
    return unit, longest / div * 1.12 if longest > 0 else 1.0


def stage_breakdown_chart(results: Mapping[str, Any], journey: Journey | None = None,
                          ax: Axes | None = None, unit: str | None = None,
                          scale: float | None = None) -> Figure:
    """Where a case's time goes, stage by stage, stacked by mechanism; the bars add up to the cycle time.

    Reads ``summary["time_breakdown"]`` (defined in docs/simulation.md): value-adding work, other work, customer
    time, queueing, handoff inbox delay, other inbox delay and (accounts) waiting for other
    personas, on the critical path, so the stage bars sum to the mean cycle time; the title says
    so, with the total. ``unit`` ("minutes", "hours" or "days") and ``scale`` (the axis length in
    that unit) fix both, so a before/after pair shares one unit and one scale
    (see :func:`common_scale`).
    """
    components, stages, total = _breakdown(results)
    order = [s.id for s in journey.stages if s.id in stages] if journey else list(stages)
    names = {s.id: s.name for s in journey.stages} if journey else {}
    shown = [c for c in components if c != "gate_wait" or total.get(c, 0.0) > 0]  # gates: accounts only
    totals = np.array([sum(stages[s].values()) for s in order]) if order else np.zeros(0)
    grand = sum(total.values())
    if unit is None:
        unit, div = time_unit(grand)
    else:
        if unit not in _UNITS:
            raise ValueError(f"unknown unit: {unit!r} (must be one of {', '.join(_UNITS)})")
        div = _UNITS[unit]
    fig, ax = _axes(ax, (11, 0.75 * len(order) + 3.2))
    y = np.arange(len(order))
    left = np.zeros(len(order))
    for c in shown:
        colour, hatch = _BREAKDOWN_STYLE.get(c, (OI["black"], ""))
        vals = np.array([stages[s].get(c, 0.0) for s in order]) / div
        ax.barh(y, vals, left=left, color=colour, hatch=hatch, edgecolor="white",
                label=f"{BREAKDOWN_LABELS.get(c, c)} ({total.get(c, 0.0) / div:.1f})")
        left += vals
    for i, t in enumerate(totals):
        ax.text(left[i], i, f"  {t / div:.1f}", va="center", fontsize=12, fontweight="bold")
    ax.set_yticks(y, [names.get(s, s) for s in order])
    ax.invert_yaxis()
    ax.set_xlabel(f"mean time per case ({unit}), on the critical path")
    if scale is not None:
        ax.set_xlim(0, scale)
    else:
        ax.margins(x=0.12)
    ax.set_title(f"Where the time goes, by stage \u2014 {_persona(results, journey)}\n"
                 f"the bars add up to the cycle time: {grand / div:.1f} {unit} per case")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False,
              title=f"total per case ({unit})", title_fontsize=12)
    ax.grid(axis="x", alpha=0.3)
    return fig


def utilisation_chart(results: Mapping[str, Any], journey: Journey | None = None,
                      ax: Axes | None = None) -> Figure:
    """Mean utilisation of each department (with its 95% interval) and its share of all waiting."""
    depts = results.get("departments") or {}
    order = [d.id for d in journey.departments if d.id in depts] if journey else sorted(depts)
    names = {d.id: d.name for d in journey.departments} if journey else {}
    util = np.array([_mean(depts[d].get("utilisation")) * 100 for d in order])
    lo, hi = _ci95(depts, order)
    share = [float(depts[d].get("share_of_waiting", 0.0) or 0.0) for d in order]
    bottleneck = (results.get("bottleneck") or {}).get("department")
    fig, ax = _axes(ax, (10, 0.6 * len(order) + 2.5))
    colours = [OI["vermillion"] if d == bottleneck else OI["blue"] for d in order]
    y = np.arange(len(order))
    ax.barh(y, util, color=colours)
    if np.isfinite(lo).all() and np.isfinite(hi).all() and len(order):
        ax.errorbar(util, y, xerr=[util - lo * 100, hi * 100 - util], fmt="none", ecolor="black", capsize=4)
    ends = np.where(np.isfinite(hi), np.maximum(hi * 100, util), util)
    for i, (u, s) in enumerate(zip(util, share, strict=True)):
        ax.text(min(ends[i], 100) + 3, i, f"{u:.0f}% busy \u00b7 {100 * s:.0f}% of waiting", va="center",
                fontsize=12)
    ax.axvline(85, color="#777777", linestyle="--", linewidth=1.5, label="85% busy: queues grow fast above this")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    labels = [names.get(d, d) + ("  \u26a0 bottleneck" if d == bottleneck else "") for d in order]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 150)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("utilisation (% of staff time busy)" if "working_time" not in results
                  else "utilisation (% of staff's open hours busy)")
    ax.set_title(f"Department utilisation \u2014 {_persona(results, journey)}")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _ci95(depts: Mapping[str, Any], order: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of each department's utilisation interval (NaN where the summary has none)."""
    bounds = [((depts[d].get("utilisation") or {}).get("ci95") or [None, None]) for d in order]
    return np.array([b[0] for b in bounds], dtype=float), np.array([b[1] for b in bounds], dtype=float)


def _emotion_points(journey: Journey, stage_order: Sequence[str]) -> tuple[list[float], list[float], list[Any]]:
    """x (stage index + position inside the stage), emotion, and the step, for touchpoints with an emotion."""
    xs: list[float] = []
    ys: list[float] = []
    steps: list[Any] = []
    for stage in stage_order:
        tps = [(s, s.emotion) for s in journey.steps if s.stage == stage and s.is_touchpoint and s.emotion is not None]
        for k, (s, emotion) in enumerate(tps):
            xs.append(stage_order.index(stage) + (k + 1) / (len(tps) + 1))
            ys.append(float(emotion))
            steps.append(s)
    return xs, ys, steps


#: Characters per line of the touchpoint key beside an emotion panel.
KEY_WRAP = 46
_KEY_LINE = 0.24  # inches per key line at 11 pt


def _key_lines(steps: Sequence[Any]) -> list[str]:
    """'1  Finance director phones about insuring export receivables', wrapped, never cut short."""
    import textwrap

    out = []
    for k, s in enumerate(steps, 1):
        lines = textwrap.wrap(s.name, KEY_WRAP, break_long_words=False) or [""]
        out.append(f"{k:>2}  {lines[0]}")
        out += [f"     {ln}" for ln in lines[1:]]
    return out


def _emotion_panel(ax: Axes, journey: Journey, stage_order: Sequence[str], stage_names: Mapping[str, str],
                   colour: str, marker: str, title: str, key: bool = True) -> None:
    """One persona's curve: numbered points, and beside the panel a key of the numbers' touchpoints in full."""
    ax.axhspan(0, 3.6, color=palette.EMOTION_COLOURS[1], alpha=0.25, linewidth=0)
    ax.axhspan(-3.6, 0, color=palette.EMOTION_COLOURS[-1], alpha=0.35, linewidth=0)
    ax.axhline(0, color="#555555", linewidth=1)
    for i in range(1, len(stage_order)):
        ax.axvline(i, color="#999999", linewidth=1, linestyle=":")
    xs, ys, steps = _emotion_points(journey, stage_order)
    ax.plot(xs, ys, color=colour, linewidth=2.5, marker=marker, markersize=9, label=title)
    mot = [(x, y) for x, y, s in zip(xs, ys, steps, strict=True) if s.moment_of_truth]
    if mot:
        ax.scatter([x for x, _ in mot], [y for _, y in mot], marker="*", s=380, color=OI["yellow"], edgecolor=colour,
                   linewidth=1.5, zorder=5, label="moment of truth")
    if key:
        span = max(1, len(stage_order))
        above_before = False
        for k, (x, y) in enumerate(zip(xs, ys, strict=True), 1):
            # the number sits above its point; below it at the top of the scale (so it stays in the panel) and
            # when the point before is close and was numbered above (so neighbours' numbers never touch)
            close = k > 1 and (x - xs[k - 2]) * 12.0 / span < 0.5
            above = y < 2.5 and not (close and above_before and y > -2.5)
            ax.annotate(str(k), (x, y), xytext=(0, 13 if above else -21), textcoords="offset points",
                        ha="center", fontsize=12, fontweight="bold", color="#000000").set_gid("emotion-number")
            above_before = above
        text = ax.text(1.015, 1.0, "\n".join(_key_lines(steps)), transform=ax.transAxes, va="top", ha="left",
                       fontsize=11, family="DejaVu Sans Mono", linespacing=1.25)
        text.set_gid("emotion-key")
        if mot:
            ax.legend(loc="lower right", framealpha=0.9, fontsize=11)
    ax.set_xlim(0, len(stage_order))
    ax.set_ylim(-3.6, 3.6)
    ax.set_xticks([i + 0.5 for i in range(len(stage_order))], [stage_names[s] for s in stage_order])
    ax.set_yticks(range(-3, 4), [f"{v:+d} {EMOTION_SCALE[v]}".replace("+0", "0") for v in range(-3, 4)])
    ax.set_title(title, loc="left")


def emotion_curve(journeys: Sequence[Journey] | Journey, ax: Axes | None = None) -> Figure:
    """How each persona feels across its touchpoints, stage by stage (-3 furious to +3 delighted).

    Points are numbered and a key beside the panel names each touchpoint in full, so labels
    never collide and never lose their action. Several journeys give small multiples: one panel
    per persona, stages aligned, same scale, readable with six personas and more (one line per
    persona on one axes was a tangle). Moments of truth are stars; touchpoints without an
    emotion are left out. With ``ax`` given, every persona is drawn on it as one line each.
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

    def label(j: Journey) -> str:
        if sum(1 for o in journeys if o.persona.name == j.persona.name) > 1:
            return f"{j.name} \u2014 {j.persona.name}"  # e.g. before/after versions of one persona
        return f"{j.persona.name} ({j.persona.role.replace('_', ' ')})"

    width = min(24.0, max(9.0, 2.4 * len(stage_order))) + 5.5  # + the key
    if ax is not None:
        fig = cast(Figure, ax.figure)
        for n, j in enumerate(journeys):
            _emotion_panel(ax, j, stage_order, stage_names, _SERIES[n % len(_SERIES)], _MARKERS[n % len(_MARKERS)],
                           label(j), key=len(journeys) == 1)
        who = journeys[0].persona.name if len(journeys) == 1 else f"{len(journeys)} personas"
        ax.set_title(f"Emotion curve across touchpoints \u2014 {who}")
        ax.legend(loc="lower left", framealpha=0.9)
        return fig
    heights = [max(3.2, _KEY_LINE * len(_key_lines(_emotion_points(j, stage_order)[2])) + 0.8) for j in journeys]
    fig, axes = plt.subplots(len(journeys), 1, figsize=(width, sum(heights) + 1.0), squeeze=False, sharex=True,
                             layout="constrained", gridspec_kw={"height_ratios": heights})
    for j, a in zip(journeys, axes[:, 0], strict=True):
        # one colour for every panel: the panel title says who it is, so no two near-identical hues to tell apart
        _emotion_panel(a, j, stage_order, stage_names, OI["blue"], "o", label(j))
        a.tick_params(axis="x", labelbottom=True)
    if len(journeys) == 1:
        axes[0, 0].set_title(f"Emotion curve across touchpoints \u2014 {journeys[0].persona.name}", loc="left")
    else:
        fig.suptitle(f"Emotion curve across touchpoints \u2014 {len(journeys)} personas, one panel each", fontsize=16,
                     x=0.01, ha="left")
    fig.supylabel("emotion at the touchpoint")
    return fig
