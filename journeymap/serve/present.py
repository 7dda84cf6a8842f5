"""Presenter mode: a journey stage by stage, in large type, for the projector. Pure functions, no I/O.

The deck of a journey is an overview slide (the journey's headline figures, :func:`.pages.headline`, and
a row per stage) followed by one slide per stage: its counts, its simulated figures, the handoffs into it
and a close-up drawing (``journey_dot(..., stages=[stage])``, made by :meth:`.workshop.Workshop.drawing`),
which keeps the whole journey's handoff numbers, so "H6" is the same arrow on the map, on its stage's
slide and in the report.

Every figure comes from the same simulation summary as the journey page, with the definitions of
docs/simulation.md:

* **time in the stage**: the sum of ``time_breakdown.stages[stage]`` (mean minutes per case on the
  critical path; the stages add up to ``case.cycle_time.mean``);
* **lost at handoffs into it**: the sum of ``lost_per_case`` over the handoff arrows whose receiving step
  is in the stage (a handoff counts in the stage of the step that receives the work, as in
  :func:`journeymap.analysis.stage_counts`); the stages add up to ``handoff_waste.total.mean``;
* **experience**: ``experience.stages[stage]``, the persona's 0-100 index over the stage's touchpoints;
* steps, touchpoints and handoffs: :func:`journeymap.analysis.stage_counts`, as the drawings' stage headers.

Large type is the style sheet's (``static/present.css``) and the script's (``static/present.js``): the
close-up is cropped to its lanes (the slide itself carries the title and the figures, so
:func:`slide_svg` drops the drawing's title block, legend and stage header) and scaled so that its smallest text is at
least :data:`MIN_TEXT_PX` CSS pixels; a close-up larger than the screen at that scale is panned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from ..distributions import format_minutes
from ..model import Journey
from ..tables import format_value
from .pages import Tile, annotate_svg

__all__ = ["stage_figures", "stage_tiles", "stage_handoffs", "overview_rows", "slide_svg", "VIEW_OF_KIND",
           "MIN_TEXT_PX", "HANDOFFS_LISTED"]

#: The smallest text on a slide, in CSS pixels at 1920×1080: readable from the back of a workshop room.
MIN_TEXT_PX = 18
#: The close-up each kind of file is presented with (a levers file has no stages: no deck).
VIEW_OF_KIND = {"journey": "map", "account": "personas"}
#: Handoffs listed on a stage's slide, the costliest first (the drawing shows them all).
HANDOFFS_LISTED = 5

#: waiting components of ``time_breakdown`` (docs/simulation.md)
_WAITING = ("queueing", "handoff_inbox", "other_inbox", "gate_wait")


def stage_figures(journey: Journey, summary: Mapping[str, Any] | None) -> dict[str, dict[str, float | None]]:
    """Per stage: ``time`` (minutes per case), ``waiting``, ``lost`` at handoffs into it and ``experience``.

    Empty without a summary. See the module's docstring for the definitions.
    """
    if not summary:
        return {}
    breakdown = (summary.get("time_breakdown") or {}).get("stages") or {}
    experience = (summary.get("experience") or {}).get("stages") or {}
    stage_of = {s.id: s.stage for s in journey.steps}
    lost: dict[str, float] = {s.id: 0.0 for s in journey.stages}
    for f in summary.get("flows") or []:
        if f.get("handoff") and stage_of.get(f["target"]) in lost:
            lost[stage_of[f["target"]]] += f["lost_per_case"]
    out: dict[str, dict[str, float | None]] = {}
    for s in journey.stages:
        parts = breakdown.get(s.id) or {}
        out[s.id] = {"time": float(sum(parts.values())), "waiting": float(sum(parts.get(k, 0.0) for k in _WAITING)),
                     "lost": lost[s.id], "experience": experience.get(s.id)}
    return out


def stage_tiles(counts: Mapping[str, int], figures: Mapping[str, float | None] | None,
                cycle_time: float | None) -> list[Tile]:
    """The figures of one stage's slide: its counts (``analyze(...)["stages"][stage]``) and, once simulated,
    its :func:`stage_figures` (``cycle_time``: the mean cycle time, for the stage's share of it)."""
    tiles = [{"label": "Steps", "value": str(counts["steps"])},
             {"label": "Touchpoints", "value": str(counts["touchpoints"])},
             {"label": "Handoffs into it", "value": str(counts["handoffs"])}]
    if not figures:
        return tiles
    time = float(figures["time"] or 0.0)
    share = f"{time / cycle_time:.0%} of cycle time" if cycle_time else "per case"
    tiles.append({"label": "Time in this stage", "value": format_minutes(time), "note": share})
    tiles.append({"label": "Lost at handoffs into it", "value": format_minutes(float(figures["lost"] or 0.0)),
                  "note": "per case"})
    if figures.get("experience") is not None:
        tiles.append({"label": "Experience index", "value": format_value(figures["experience"], "index"),
                      "note": "of 100"})
    return tiles


def stage_handoffs(journey: Journey, stage: str, summary: Mapping[str, Any] | None,
                   numbers: Mapping[tuple[str, str], int], limit: int = HANDOFFS_LISTED) -> list[dict[str, str]]:
    """The handoffs into the stage's steps, by their whole-journey number: the costliest ``limit`` once
    simulated (with the time each loses per case), else the first ``limit`` in number order."""
    names = {d.id: d.name for d in journey.departments} | {"customer": "Customer"}
    steps = journey.step_by_id
    lost = {(f["source"], f["target"]): f["lost_per_case"] for f in (summary or {}).get("flows") or []
            if f.get("handoff")}
    found = [(number, a, b) for (a, b), number in numbers.items() if b in steps and steps[b].stage == stage]
    if summary:
        found.sort(key=lambda h: (-lost.get((h[1], h[2]), 0.0), h[0]))
    else:
        found.sort()
    rows = []
    for number, a, b in found:
        rows.append({"number": f"H{number}", "from": names.get(steps[a].owner, steps[a].owner),
                     "to": names.get(steps[b].owner, steps[b].owner), "steps": f"{steps[a].name} → {steps[b].name}",
                     "lost": format_minutes(lost[(a, b)]) if (a, b) in lost else ""})
    return rows[:limit]


def overview_rows(journey: Journey, counts: Mapping[str, Mapping[str, int]],
                  figures: Mapping[str, Mapping[str, float | None]]) -> list[dict[str, str]]:
    """One row per stage for the overview slide: its name, counts and (once simulated) time and loss, with
    ``bar``, the stage's time as a percentage of the longest stage's (the width of its bar)."""
    longest = max((float(f["time"] or 0.0) for f in figures.values()), default=0.0)
    rows = []
    for i, s in enumerate(journey.stages, 1):
        c = counts.get(s.id) or {"steps": 0, "touchpoints": 0, "handoffs": 0}
        f = figures.get(s.id)
        rows.append({"n": str(i), "id": s.id, "name": s.name, "steps": str(c["steps"]),
                     "touchpoints": str(c["touchpoints"]), "handoffs": str(c["handoffs"]),
                     "time": format_minutes(float(f["time"] or 0.0)) if f else "",
                     "lost": format_minutes(float(f["lost"] or 0.0)) if f else "",
                     "bar": f"{100 * float(f['time'] or 0.0) / longest:.1f}" if f and longest > 0 else ""})
    return rows


# the drawing's own title block, legend and stage header: the slide shows them in large type instead
_FRAME_NODE = re.compile(r'<g id="node\d+" class="node[^"]*">\s*<title>(?:_title|_legend|stage:[^<]*)</title>')
_G_TAG = re.compile(r"<g[\s>]|</g>")


def _without_frame(svg: str) -> str:
    """``svg`` without the groups of the title block, the legend and the stage headers (a group ends at its
    matching ``</g>``: a node with a tooltip holds a group of its own)."""
    out, at = [], 0
    for m in _FRAME_NODE.finditer(svg):
        if m.start() < at:
            continue
        depth, end = 0, len(svg)
        for tag in _G_TAG.finditer(svg, m.start()):
            depth += -1 if tag.group(0) == "</g>" else 1
            if depth == 0:
                end = tag.end()
                break
        out.append(svg[at:m.start()])
        at = end
    out.append(svg[at:])
    return "".join(out)


def slide_svg(svg: str | bytes, journey: Journey, view: str, summary: Mapping[str, Any] | None) -> Markup:
    """A close-up's SVG for its slide: :func:`.pages.annotate_svg` (step ids, handoff tooltips), without the
    title block, the legend and the stage's header, which the slide shows in large type."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    return annotate_svg(_without_frame(text), journey, view, summary)
