"""The meaning pass: one checker per section of a journey file, building the model as it goes.

After the structure pass (:mod:`.structure`) every value left in the document
has the type the schema asks for, so a checker reads its section with plain
``isinstance`` guards. It reports what a schema cannot say (references,
duplicate ids, probabilities, lanes) with :meth:`Context.error`, whose path
into the file gives the line and column, and stores the part of the model it
builds on ``ctx.draft``. :func:`build_journey` runs the checkers of
:data:`SECTIONS` in order and returns the :class:`~journeymap.model.Journey`
when none of them found an error.

To add a section (say ``calendars:``):

1. give it a shape in :data:`journeymap.schema.JOURNEY_SCHEMA` (the structure
   pass then reports wrong types, unknown keys and ranges, and removes wrong
   values before any checker reads them) and a record in :mod:`journeymap.model`;
2. write ``_calendars(ctx, raw)`` below: ``raw`` is the section's value (None
   when the file has none); report with ``ctx.error(("calendars", i, "id"),
   rule, message, hint)`` and keep what it builds on a new field of
   :class:`~.context.Draft`, which :func:`_journey_of` passes to the model;
3. add ``Section("calendars", _calendars)`` to :data:`SECTIONS` after the
   sections whose results it reads (a calendar naming departments comes after
   ``departments``; steps naming calendars then come after it);
4. list any new rule id in ``RULES`` (``validation/__init__.py``) and in
   ``docs/format.md``, with a test asserting its line and column.

``tests/test_validation.py`` checks that every top-level key of the schema has
a checker here (or is handled before this pass: ``extends``, ``remove``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

from ..distributions import Basis, Distribution, DurationError, parse_distribution, parse_duration
from ..loading import Path
from ..model import (
    CUSTOMER,
    LANES,
    ROLES,
    SURVEYS,
    Arrivals,
    Backlog,
    Department,
    Flow,
    Journey,
    Persona,
    Stage,
    Step,
    Workload,
)
from ..overlay import entry_id
from . import calendars, estimates, money, service
from .calendars import flow_delay, step_duration
from .context import Context, Draft
from .values import is_number, list_or_empty, mapping_or_empty, str_or
from .wording import gone

__all__ = ["Section", "SECTIONS", "build_journey", "parse_arrivals", "optional_duration"]

#: How far the branches of a step may sum from 1 (float error in a hand-written 0.1 + 0.2 + 0.7).
_PROB_TOLERANCE = 1e-6
#: Cases per replication when the file does not say.
_DEFAULT_CASES = Workload().cases


class Section(NamedTuple):
    """A top-level key of a journey file and the function that checks its value and builds its part."""

    key: str
    check: Callable[[Context, Any], None]


def build_journey(ctx: Context) -> Journey | None:
    """Run every section checker on ``ctx.loc.data``; the journey, or None when a checker found an error."""
    data = ctx.loc.data
    if not isinstance(data, dict):
        return None
    for section in SECTIONS:
        section.check(ctx, data.get(section.key))
    if any(p.is_error for p in ctx.problems):
        return None
    return _journey_of(ctx.draft, ctx.loc.file)


def _journey_of(d: Draft, source: str) -> Journey:
    return Journey(id=d.id, name=d.name, description=d.description, persona=d.persona, stages=tuple(d.stages),
                   departments=tuple(d.departments), steps=tuple(d.steps), flows=tuple(d.flows), start=d.start,
                   ends=tuple(d.ends), workload=d.workload, source=source, calendar=d.calendar,
                   targets=tuple(d.targets), priorities=d.priorities, money=d.money)


def _ids(ctx: Context, items: list, kind: str, path: Path) -> dict[str, int]:
    """Collect ids of a list, reporting duplicates; returns id -> index."""
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        ident = entry_id(item)
        if ident is None:
            continue
        where = path + (i,) if isinstance(item, str) else path + (i, "id")
        if ident in seen:
            first = ctx.loc.where(path + (seen[ident],))[0]
            ctx.error(where, "duplicate-id", f"{kind} id {ident!r} is used twice (first on line {first})",
                      f"give each {kind} its own id")
        else:
            seen[ident] = i
    return seen


def _first_wins(items: list) -> list:
    """Items with distinct ids, the first of each id kept (duplicates were reported by :func:`_ids`)."""
    return list({x.id: x for x in reversed(items)}.values())[::-1]


def optional_duration(value: Any) -> float | None:
    """A duration already checked by the schema pass, or None when absent or invalid."""
    try:
        return parse_duration(value) if isinstance(value, str) else None
    except DurationError:
        return None


# --------------------------------------------------------------------------- journey, persona, stages, departments


def _journey(ctx: Context, raw: Any) -> None:
    """``journey:`` names the journey; its id and name default to the persona's."""
    meta = mapping_or_empty(raw)
    d = ctx.draft
    d.id = str_or(meta.get("id"), d.persona.id)
    d.name = str_or(meta.get("name"), d.persona.name)
    d.description = str_or(meta.get("description"))


def _persona(ctx: Context, raw: Any) -> None:
    """``persona:`` is who walks the journey; every key was checked by the schema."""
    p = mapping_or_empty(raw)
    ident = str_or(p.get("id"), "persona")
    role = p.get("role", "user")
    ctx.draft.persona = Persona(id=ident, name=str_or(p.get("name"), ident), role=role if role in ROLES else "user",
                                goals=tuple(g for g in p.get("goals", []) or [] if isinstance(g, str)),
                                tolerance=optional_duration(p.get("tolerance")))


def _stages(ctx: Context, raw: Any) -> None:
    """``stages:`` in order, each an id or {id, name, description}; ids must be distinct."""
    items = list_or_empty(raw)
    ctx.draft.stage_ids = _ids(ctx, items, "stage", ("stages",))
    stages = []
    for s in items:
        if isinstance(s, str):
            stages.append(Stage(s, s.replace("_", " ").capitalize()))
        elif isinstance(s, dict) and isinstance(s.get("id"), str):
            stages.append(Stage(s["id"], str_or(s.get("name"), s["id"].replace("_", " ").capitalize()),
                                str_or(s.get("description"))))
    ctx.draft.stages = _first_wins(stages)


def _departments(ctx: Context, raw: Any) -> None:
    """``departments:`` with distinct ids; ``customer`` is reserved for the customer's own steps."""
    items = list_or_empty(raw)
    ctx.draft.dept_ids = _ids(ctx, items, "department", ("departments",))
    departments = []
    for i, d in enumerate(items):
        if not isinstance(d, dict) or not isinstance(d.get("id"), str):
            continue
        if d["id"] == CUSTOMER:
            ctx.error(("departments", i, "id"), "duplicate-id", "'customer' is reserved for the customer's own steps",
                      "rename the department, e.g. customer_service")
            continue
        cap = d.get("capacity", 1)
        cap = cap if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 1 else 1
        cost = d.get("cost_per_hour")
        departments.append(Department(d["id"], str_or(d.get("name"), d["id"]), cap,
                                      float(cost) if is_number(cost) else None))
    ctx.draft.departments = _first_wins(departments)


# --------------------------------------------------------------------------- start and end


def _step_ids(ctx: Context, raw: Any) -> None:
    """The ids of ``steps:`` before anything else about them: ``end``, ``start`` and every flow name them."""
    ctx.step_index = _ids(ctx, list_or_empty(raw), "step", ("steps",))


def _ends(ctx: Context, raw: Any) -> None:
    """``end:`` is one step id or a list of them; by default the last step of the file."""
    if raw is None:
        ctx.draft.ends = list(ctx.step_index)[-1:]
        return
    for i, e in enumerate([raw] if isinstance(raw, str) else list_or_empty(raw)):
        if not isinstance(e, str):
            continue
        if e not in ctx.step_index:
            ctx.error(("end",) if isinstance(raw, str) else ("end", i), "unknown-reference",
                      f"end step {e!r} does not exist{gone(ctx.loc, 'steps', e, ctx.step_index)}",
                      "list ids of steps under 'steps'")
        else:
            ctx.draft.ends.append(e)


def _start(ctx: Context, raw: Any) -> None:
    """``start:`` is a step id; by default the first step of the file."""
    start = raw if raw is not None else next(iter(ctx.step_index), "")
    if isinstance(start, str) and start and start not in ctx.step_index:
        ctx.error(("start",), "unknown-reference",
                  f"start step {start!r} does not exist{gone(ctx.loc, 'steps', start, ctx.step_index)}",
                  "give the id of the first step")
    ctx.draft.start = start if isinstance(start, str) else ""


# --------------------------------------------------------------------------- steps and their flows


class _Target(NamedTuple):
    """One place a step's ``next`` sends the case."""

    to: Any
    #: where the target id is written (the step's own id for an implicit next)
    path: Path
    #: the flow mapping ({to, probability, delay, rework, label}); {} for a bare id
    flow: dict


def _steps(ctx: Context, raw: Any) -> None:
    """``steps:``: each step's references, lane and flows. A duplicate id is checked but not built."""
    items = list_or_empty(raw)
    owners = set(ctx.draft.dept_ids) | {CUSTOMER}
    for i, s in enumerate(items):
        if isinstance(s, dict) and isinstance(s.get("id"), str):
            _step(ctx, items, i, s, owners)


def _step(ctx: Context, items: list, i: int, s: dict, owners: set[str]) -> None:
    sid, p = s["id"], ("steps", i)
    stage, owner = s.get("stage"), s.get("owner")
    _step_references(ctx, sid, p, stage, owner, owners)
    timed = step_duration(ctx, s, p)
    lane = _lane(ctx, sid, p, owner, s.get("lane"), s.get("channel"))
    join, parallel, targets = _targets(ctx, items, i, s)
    _probabilities(ctx, sid, p, targets, branch_list=isinstance(s.get("next"), list), parallel=parallel)
    if ctx.step_index.get(sid) != i:
        return  # a duplicate id: reported, its flows and fields checked, not built
    _flows(ctx, sid, i, targets, parallel)
    sure = estimates.step_estimate(ctx, s, p)
    ctx.draft.steps.append(replace(_step_of(s, sid, stage, owner, lane, timed, join), duration_estimate=sure))


def _step_references(ctx: Context, sid: str, p: Path, stage: Any, owner: Any, owners: set[str]) -> None:
    stage_ids, dept_ids = ctx.draft.stage_ids, ctx.draft.dept_ids
    if isinstance(stage, str) and stage not in stage_ids:
        ctx.error(p + ("stage",), "unknown-reference",
                  f"step {sid!r} is in stage {stage!r}, which is not declared"
                  f"{gone(ctx.loc, 'stages', stage, stage_ids)}",
                  f"declared stages: {', '.join(stage_ids) or 'none'}; add it under 'stages'")
    if isinstance(owner, str) and owner not in owners:
        ctx.error(p + ("owner",), "unknown-reference",
                  f"step {sid!r} is owned by {owner!r}, which is not a department"
                  f"{gone(ctx.loc, 'departments', owner, owners)}",
                  f"use 'customer' or one of: {', '.join(dept_ids) or 'no departments declared'}")


def _lane(ctx: Context, sid: str, p: Path, owner: Any, lane: Any, channel: Any) -> Any:
    """The step's lane (given, or from its owner and channel); customers stay above the line of visibility."""
    if lane is None:
        lane = "customer" if owner == CUSTOMER else "frontstage" if channel else "backstage"
    if owner == CUSTOMER and lane in ("backstage", "support"):
        ctx.error(p + ("lane",), "invalid-flow",
                  f"customer step {sid!r} cannot be in the {lane} lane: the customer is above the line of visibility",
                  "use lane: customer, or give the step to a department")
    if owner not in (None, CUSTOMER) and lane == "customer":
        ctx.error(p + ("lane",), "invalid-value", f"step {sid!r} is owned by {owner!r} but placed in the customer lane",
                  "the customer lane is for steps the customer does: set owner: customer or lane: frontstage")
    return lane


def _targets(ctx: Context, items: list, i: int, s: dict) -> tuple[str | None, bool, list[_Target]]:
    """Where ``next`` sends the case: (the join of a parallel block or None, parallel?, the targets)."""
    sid, p, nxt = s["id"], ("steps", i), s.get("next")
    join, parallel, targets = None, False, []
    if nxt is None:
        following = items[i + 1] if i + 1 < len(items) else None
        if sid not in ctx.draft.ends and isinstance(following, dict) and isinstance(following.get("id"), str):
            targets.append(_Target(following["id"], p + ("id",), {}))
    elif isinstance(nxt, str):
        targets.append(_Target(nxt, p + ("next",), {}))
    elif isinstance(nxt, dict) and "parallel" in nxt:
        parallel = True
        join, targets = _parallel_targets(ctx, sid, p, nxt)
    elif isinstance(nxt, dict):
        targets.append(_Target(nxt.get("to"), p + ("next", "to"), nxt))
    elif isinstance(nxt, list):
        targets += [_Target(b.get("to"), p + ("next", j, "to"), b) for j, b in enumerate(nxt) if isinstance(b, dict)]
    if nxt is not None and sid in ctx.draft.ends:
        ctx.error(p + ("next",), "invalid-flow", f"{sid!r} is an end step, so it cannot have a 'next'",
                  "remove 'next', or remove the step from 'end'", key=True)
        targets = []
    return join, parallel, targets


def _parallel_targets(ctx: Context, sid: str, p: Path, nxt: dict) -> tuple[str | None, list[_Target]]:
    """``next: {parallel: [...], join: step}``: the join (None when wrong, reported) and the branches."""
    join = nxt.get("join") if isinstance(nxt.get("join"), str) else None
    if join is not None and join not in ctx.step_index:
        ctx.error(p + ("next", "join"), "unknown-reference",
                  f"join step {join!r} does not exist{gone(ctx.loc, 'steps', join, ctx.step_index)}",
                  "the join is the step that waits for every parallel branch; give its id")
        join = None
    elif join == sid:
        ctx.error(p + ("next", "join"), "invalid-parallel", f"step {sid!r} cannot be the join of its own parallel "
                  "branches", "name the later step where the branches meet again")
        join = None
    targets = []
    for j, b in enumerate(nxt.get("parallel") or []):
        if isinstance(b, str):
            targets.append(_Target(b, p + ("next", "parallel", j), {}))
        elif isinstance(b, dict):
            targets.append(_Target(b.get("to"), p + ("next", "parallel", j, "to"), b))
    for t in targets:
        if "probability" in t.flow:
            ctx.error(t.path[:-1] + ("probability",), "invalid-parallel",
                      "parallel branches are all taken; they have no probability",
                      "remove 'probability', or use a plain list of branches for a choice")
    return join, targets


def _probabilities(ctx: Context, sid: str, p: Path, targets: list[_Target], *, branch_list: bool,
                   parallel: bool) -> None:
    """A list of several branches needs a probability on each; a choice's probabilities sum to 1."""
    total = 0.0
    prob_ok = True
    for t in targets:
        prob = t.flow.get("probability")
        if prob is None and branch_list and len(targets) > 1 and not parallel:
            ctx.error(t.path[:-1], "probability-sum", f"branch of {sid!r} to {t.to!r} has no probability",
                      "when a step has several branches, give each one a probability", key=True)
            prob_ok = False
            prob = 0.0
        elif prob is None:
            prob = 1.0
        if not is_number(prob) or not 0 <= prob <= 1:
            prob_ok = False
            prob = 0.0
        total += prob
    if not targets or not prob_ok or parallel or abs(total - 1.0) <= _PROB_TOLERANCE:
        return
    if len(targets) == 1:
        ctx.error(p + ("next",), "probability-sum",
                  f"{sid!r} has a single flow, with probability {total:g}: a single flow is always taken",
                  "remove 'probability', or list the other branches so they add up to 1", key=True)
    else:
        ctx.error(p + ("next",), "probability-sum", f"the branches of {sid!r} sum to {total:g}, not 1",
                  "adjust the probabilities so they add up to exactly 1", key=True)


def _flows(ctx: Context, sid: str, i: int, targets: list[_Target], parallel: bool) -> None:
    """The flows out of step ``sid`` (the ``i``-th in the file): to existing steps, one per target."""
    seen: set[str] = set()
    for to, tp, fd in targets:
        if not isinstance(to, str):
            continue
        if to in seen:
            ctx.error(tp, "invalid-flow", f"{sid!r} has two flows to {to!r}",
                      "merge them into one branch (add up the probabilities); a parallel block lists each branch once")
            continue
        seen.add(to)
        if to not in ctx.step_index:
            ctx.error(tp, "unknown-reference",
                      f"{sid!r} flows to {to!r}, which is not a step{gone(ctx.loc, 'steps', to, ctx.step_index)}",
                      "use the id of a step listed under 'steps'")
            continue
        delay, basis = flow_delay(ctx, fd, tp[:-1] + ("delay",))
        sure = estimates.flow_estimate(ctx, fd, tp[:-1], delay is not None)
        prob = fd.get("probability", 1.0)
        # back to an earlier step is rework, unless marked rework: false (a cycle of use, not redone work)
        rework = fd["rework"] if isinstance(fd.get("rework"), bool) else ctx.step_index[to] <= i
        ctx.draft.flows.append(Flow(sid, to, float(prob) if is_number(prob) else 0.0, delay, rework, parallel,
                                    str_or(fd.get("label")), basis, sure))
        ctx.flow_path[(sid, to)] = tp


def _step_of(s: dict, sid: str, stage: Any, owner: Any, lane: Any, timed: tuple[Distribution, Basis] | None,
             join: str | None) -> Step:
    emotion, channel, survey = s.get("emotion"), s.get("channel"), s.get("survey")
    duration, basis = timed or (parse_distribution("0min"), "elapsed")
    return Step(id=sid, name=str_or(s.get("name"), sid.replace("_", " ")), stage=str_or(stage),
                lane=lane if lane in LANES else "backstage", owner=str_or(owner),
                duration=duration, channel=channel if isinstance(channel, str) else None,
                value_adding=s.get("value_adding") is True, emotion=float(emotion) if is_number(emotion) else None,
                moment_of_truth=s.get("moment_of_truth") is True, notes=str_or(s.get("notes")), join=join,
                tolerance=optional_duration(s.get("tolerance")), survey=survey if survey in SURVEYS else None,
                basis="working" if basis == "working" else "elapsed", must_finish=s.get("must_finish") is True)


# --------------------------------------------------------------------------- workload


def parse_arrivals(a: Any) -> Arrivals | None:
    """An ``arrivals:`` mapping already checked by the schema pass; None when absent or invalid."""
    try:
        if isinstance(a, dict) and isinstance(a.get("poisson"), str):
            return Arrivals("poisson", parse_duration(a["poisson"]))
        if isinstance(a, dict) and isinstance(a.get("every"), str):
            return Arrivals("every", parse_duration(a["every"]))
        if isinstance(a, dict) and isinstance(a.get("schedule"), list):
            return Arrivals("schedule", 0.0, tuple(sorted(parse_duration(t) for t in a["schedule"])))
    except DurationError:
        pass  # reported by the structure pass
    return None


def _workload(ctx: Context, w: Any) -> None:
    """``workload:``: arrivals, cases, warm-up and the backlog; every default when the file has none."""
    if not isinstance(w, dict):
        ctx.draft.workload = Workload()
        return
    arrivals = parse_arrivals(w.get("arrivals")) or Arrivals()
    if arrivals.kind in ("poisson", "every") and arrivals.gap <= 0:
        ctx.error(("workload", "arrivals"), "out-of-range", "the gap between arrivals must be longer than zero")
    cases = w.get("cases", _DEFAULT_CASES)
    cases = cases if isinstance(cases, int) and cases >= 1 else _DEFAULT_CASES
    if arrivals.kind == "schedule":
        cases = min(cases, len(arrivals.times)) if "cases" in w else len(arrivals.times)
    warmup = w.get("warmup", 0)
    warmup = warmup if isinstance(warmup, int) and warmup >= 0 else 0
    if warmup >= cases:
        ctx.error(("workload", "warmup"), "out-of-range",
                  f"warmup ({warmup}) leaves no cases out of {cases} to measure",
                  "make warmup smaller than cases")
    ctx.draft.workload = Workload(arrivals, cases, _backlog(ctx, list_or_empty(w.get("backlog"))), warmup,
                                  arrivals_estimate=estimates.arrivals_estimate(ctx, w, arrivals.kind))


def _backlog(ctx: Context, items: list) -> tuple[Backlog, ...]:
    backlog = []
    for i, b in enumerate(items):
        if not isinstance(b, dict) or not isinstance(b.get("step"), str):
            continue
        if b["step"] not in ctx.step_index:
            ctx.error(("workload", "backlog", i, "step"), "unknown-reference",
                      f"backlog step {b['step']!r} does not exist{gone(ctx.loc, 'steps', b['step'], ctx.step_index)}")
        elif isinstance(b.get("cases"), int):
            backlog.append(Backlog(b["step"], b["cases"]))
    return tuple(backlog)


#: The checkers, in the order they run: each reads what the sections before it built.
SECTIONS: tuple[Section, ...] = (
    Section("persona", _persona),
    Section("stages", _stages),
    Section("departments", _departments),
    Section("steps", _step_ids),  # ids first: end, start, flows and the backlog name steps
    Section("end", _ends),
    Section("start", _start),
    Section("estimates", estimates.journey_default),  # the default estimate of the steps' durations and delays
    Section("steps", _steps),
    Section("workload", _workload),
    Section("journey", _journey),  # its id and name default to the persona's
    # working time (validation/calendars.py) and priorities and targets (validation/service.py), issue 12:
    Section("holidays", calendars.holiday_lists),
    Section("calendars", calendars.calendars),  # name holiday lists
    Section("calendar", calendars.journey_calendar),
    Section("persona", calendars.persona_calendar),
    Section("departments", calendars.department_hours),  # shifts use the journey calendar's zone by default
    Section("workload", calendars.workload_start),  # read in the first calendar's zone
    Section("priorities", service.priorities),
    Section("persona", service.persona_priority),
    Section("workload", service.workload_mix),
    Section("targets", service.targets),  # name steps and stages; a journey target is the journey's id
    Section("money", money.journey_money),  # the business case's assumptions (issue 17)
)
