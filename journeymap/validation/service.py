"""The meaning pass for priorities and service-level targets (issue 12).

``priorities:`` (the classes, highest first), a persona's ``priority:``, the
workload's class ``mix:`` and ``targets:``. Registered in
:data:`journeymap.validation.sections.SECTIONS`; like every checker, they read
values the structure pass has already type-checked.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Literal, cast

from ..distributions import BASES, Basis, DurationError, parse_timed
from ..loading import Path
from ..model import PRIORITY_CLASSES, Target
from ..problems import excerpt
from .context import Context
from .values import is_number, list_or_empty, mapping_or_empty, str_or
from .wording import cut, did_you_mean, gone

__all__ = ["priorities", "persona_priority", "workload_mix", "targets", "target_id"]

#: How far the shares of a mix may sum from 1 (as for the branches of a step).
_SHARE_TOLERANCE = 1e-6
#: The goal of a target that does not give one.
_DEFAULT_GOAL = Target("t", "t", "journey", "", 1.0).goal
_SCOPES = ("step", "stage", "journey")


def priorities(ctx: Context, raw: Any) -> None:
    """``priorities:``: the priority classes, highest first, each once; by default :data:`PRIORITY_CLASSES`."""
    items = list_or_empty(raw)
    seen: dict[str, int] = {}
    for i, name in enumerate(items):
        if not isinstance(name, str):
            continue
        if name in seen:
            first = ctx.loc.where(("priorities", seen[name]))[0]
            ctx.error(("priorities", i), "duplicate-id",
                      f"priority class {name!r} is listed twice (first on line {first})",
                      "list each class once, highest priority first")
        else:
            seen[name] = i
    ctx.draft.priorities = tuple(seen) if seen else PRIORITY_CLASSES


def _known_class(ctx: Context, path: Path, name: Any, *, key: bool = False) -> bool:
    """``name`` is one of the journey's priority classes; reported (with the closest one) when not."""
    classes = ctx.draft.priorities
    if name in classes:
        return True
    ctx.error(path, "unknown-reference",
              f"priority class {excerpt(name)} is not one of the priorities ({', '.join(classes)})"
              f"{did_you_mean(name, classes)}",
              "use one of them, or list your own classes, highest first, under 'priorities:'", key=key)
    return False


def persona_priority(ctx: Context, raw: Any) -> None:
    """``persona: {priority: ...}``: the class of every case of this persona."""
    name = mapping_or_empty(raw).get("priority")
    if isinstance(name, str) and _known_class(ctx, ("persona", "priority"), name):
        ctx.draft.persona = replace(ctx.draft.persona, priority=name)


def workload_mix(ctx: Context, raw: Any) -> None:
    """``workload: {mix: {class: share}}``: known classes, shares that sum to 1."""
    mix = mapping_or_empty(mapping_or_empty(raw).get("mix"))
    if not mix:
        return
    shares: list[tuple[str, float]] = []
    ok = True
    for name, share in mix.items():
        known = _known_class(ctx, ("workload", "mix", name), name, key=True)
        if not is_number(share) or not 0 <= share <= 1:
            ok = False  # a wrong type or a share outside [0, 1]: reported by the structure pass
        elif known:
            shares.append((name, float(share)))
        ok = ok and known
    if not ok:
        return
    total = sum(share for _, share in shares)
    if abs(total - 1.0) > _SHARE_TOLERANCE:
        ctx.error(("workload", "mix"), "mix-sum", f"the shares of the class mix sum to {total:g}, not 1",
                  "write each class's share as a fraction (0.3 for 30%) so that they add up to exactly 1", key=True)
        return
    ctx.draft.workload = replace(ctx.draft.workload, mix=tuple(shares))


def target_id(name: str, index: int) -> str:
    """The id of a target without one, made from its name: 'Quote within 2 business days' ->
    'quote_within_2_business_days' (``target_<n>`` when the name has no letter to start with)."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60].strip("_")
    return slug if slug[:1].isalpha() else f"target_{index + 1}"


def targets(ctx: Context, raw: Any) -> None:
    """``targets:``: each names one step, stage or the whole journey, a time with a unit and a goal."""
    seen: dict[str, int] = {}
    for i, t in enumerate(list_or_empty(raw)):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            continue  # missing name or a wrong type: reported by the structure pass
        ident = str_or(t.get("id")) or target_id(t["name"], i)
        where = ("targets", i, "id") if "id" in t else ("targets", i, "name")
        if ident in seen:
            ctx.error(where, "duplicate-id", f"target id {ident!r} is used twice (first on line "
                      f"{ctx.loc.where(('targets', seen[ident]))[0]})",
                      "give the targets different names, or each its own id:")
            continue
        seen[ident] = i
        target = _target(ctx, ("targets", i), t, ident)
        if target is not None:
            ctx.draft.targets.append(target)


def _target(ctx: Context, p: Path, t: dict, ident: str) -> Target | None:
    """One target; None when something is wrong with it (reported)."""
    scope = _scope(ctx, p, t)
    ref = {"step": t.get("step"), "stage": t.get("stage"), "journey": ""}.get(scope or "")
    ok = scope is not None and _ref_known(ctx, p, scope, ref)
    since = t.get("since")
    if isinstance(since, str):
        ok = _since_ok(ctx, p, scope, since) and ok
    within = _within(ctx, p + ("within",), t.get("within"))
    goal = t.get("goal", _DEFAULT_GOAL)
    if not ok or within is None or not isinstance(ref, str) or scope is None:
        return None
    return Target(ident, t["name"], cast(Literal["journey", "stage", "step"], scope), ref, within[0], within[1],
                  float(goal) if is_number(goal) and 0 <= goal <= 1 else _DEFAULT_GOAL,
                  since if isinstance(since, str) else None)


def _scope(ctx: Context, p: Path, t: dict) -> str | None:
    """Which of step, stage or journey: true the target gives: exactly one."""
    given = [s for s in _SCOPES if (t.get(s) is True if s == "journey" else isinstance(t.get(s), str))]
    if len(given) == 1:
        return given[0]
    if not given:
        if any(s in t for s in _SCOPES):
            return None  # a wrong type (or journey: false): reported, or nothing to measure
        ctx.error(p, "missing-key", f"target {t['name']!r} does not say what it measures",
                  "give one of step: <step id>, stage: <stage id> or journey: true", key=True)
    else:
        ctx.error(p + (given[1],), "invalid-value",
                  f"target {t['name']!r} gives both {given[0]!r} and {given[1]!r}",
                  "a target measures one thing: a step, a stage or the journey; write two targets", key=True)
    return None


def _ref_known(ctx: Context, p: Path, scope: str, ref: Any) -> bool:
    """The step or stage a target names exists."""
    if scope == "step" and ref not in ctx.step_index:
        ctx.error(p + ("step",), "unknown-reference",
                  f"target step {excerpt(ref)} does not exist{gone(ctx.loc, 'steps', ref, ctx.step_index)}",
                  "give the id of a step listed under 'steps'")
        return False
    if scope == "stage" and ref not in ctx.draft.stage_ids:
        ctx.error(p + ("stage",), "unknown-reference",
                  f"target stage {excerpt(ref)} is not declared{gone(ctx.loc, 'stages', ref, ctx.draft.stage_ids)}",
                  f"declared stages: {', '.join(ctx.draft.stage_ids) or 'none'}")
        return False
    return True


def _since_ok(ctx: Context, p: Path, scope: str | None, since: str) -> bool:
    """``since:`` is for step targets, and names a step."""
    if scope != "step":
        ctx.error(p + ("since",), "invalid-value", "'since' is only for a step target",
                  "a stage target runs from the stage's first entry, a journey target from the arrival: remove it",
                  key=True)
        return False
    if since not in ctx.step_index:
        ctx.error(p + ("since",), "unknown-reference",
                  f"since step {excerpt(since)} does not exist{gone(ctx.loc, 'steps', since, ctx.step_index)}",
                  "give the id of the step after whose end the time starts")
        return False
    return True


def _within(ctx: Context, path: Path, value: Any) -> tuple[float, Basis] | None:
    """A target's time and basis; None when absent or wrong (the structure pass said why), or zero."""
    if not isinstance(value, str):
        return None
    try:
        within = parse_timed(value, bases=BASES)
    except DurationError:
        return None  # reported by the structure pass (the schema's duration pattern)
    if within[0] <= 0:
        ctx.error(path, "out-of-range", f"a target needs a time greater than zero, got {cut(value, 40)!r}",
                  "e.g. within: 2bd, within: 16wh or within: 30d")
        return None
    return within
