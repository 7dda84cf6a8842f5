"""How sure the numbers are: ``estimate:`` on a step, ``delay_estimate:`` on a flow, ``arrivals_estimate:`` in
the workload, and the journey's default ``estimates: {default: ...}`` (docs/uncertainty.md).

The structure pass has already refused an unknown tag (with a did-you-mean), a wrong type and a factor out of
bounds; these checks report what the schema cannot say: an inverted range, and an estimate on a number the
file does not give (a ``delay_estimate`` on a flow without a delay, an ``arrivals_estimate`` on a schedule).
"""

from __future__ import annotations

from typing import Any

from ..loading import Path
from ..model import ESTIMATE_TAGS, Estimate
from .context import Context
from .values import is_number, mapping_or_empty

__all__ = ["estimate", "journey_default", "step_estimate", "flow_estimate", "arrivals_estimate"]


def estimate(ctx: Context, value: Any, path: Path) -> Estimate | None:
    """The :class:`Estimate` a tag or a ``{low, high}`` range describes; None when absent or wrong (reported)."""
    if isinstance(value, str) and value in ESTIMATE_TAGS:
        return Estimate.of_tag(value)
    if not isinstance(value, dict) or not is_number(value.get("low")) or not is_number(value.get("high")):
        return None  # absent, or refused by the structure pass
    low, high = float(value["low"]), float(value["high"])
    if low > high:
        ctx.error(path, "out-of-range", f"the estimate's range is inverted: low {low:g} is above high {high:g}",
                  "write the smaller factor as low, e.g. {low: 0.8, high: 1.5}")
        return None
    return Estimate(low, high)


def journey_default(ctx: Context, raw: Any) -> None:
    """``estimates: {default: estimated}``: the estimate of every duration and delay that gives none."""
    ctx.draft.estimate_default = estimate(ctx, mapping_or_empty(raw).get("default"), ("estimates", "default"))


def step_estimate(ctx: Context, s: dict, path: Path) -> Estimate | None:
    """A step's ``estimate:``, else the journey's default."""
    if "estimate" in s:
        return estimate(ctx, s["estimate"], path + ("estimate",))
    return ctx.draft.estimate_default


def flow_estimate(ctx: Context, flow: dict, path: Path, has_delay: bool) -> Estimate | None:
    """A flow's ``delay_estimate:`` (refused on a flow without a delay), else the default for a flow with one."""
    if "delay_estimate" not in flow:
        return ctx.draft.estimate_default if has_delay else None
    if not has_delay:
        if "delay" not in flow:
            ctx.error(path + ("delay_estimate",), "invalid-value",
                      "'delay_estimate' says how sure a delay is, but this flow has no delay",
                      "add a delay (delay: 2d), or remove delay_estimate", key=True)
        return None
    return estimate(ctx, flow["delay_estimate"], path + ("delay_estimate",))


def arrivals_estimate(ctx: Context, w: dict, kind: str) -> Estimate | None:
    """``workload: {arrivals_estimate: ...}``: for a mean gap (poisson, every), not a schedule (reported)."""
    if "arrivals_estimate" not in w:
        return None
    if kind == "schedule":
        ctx.error(("workload", "arrivals_estimate"), "invalid-value",
                  "'arrivals_estimate' scales the gap between arrivals, but these arrivals follow a schedule",
                  "remove arrivals_estimate, or give arrivals as {poisson: GAP} or {every: GAP}", key=True)
        return None
    return estimate(ctx, w["arrivals_estimate"], ("workload", "arrivals_estimate"))
