"""The flow pass: what the journey's graph allows, once every reference resolves.

Steps a case can never reach, steps it can never leave towards an end, loops
it can never leave, parallel blocks whose branches do not all meet at their
join, and journeys whose expected work would keep a run from finishing.
Runs only on a journey the meaning pass built without errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np

from ..graph import build_graph, reach
from ..loading import Path
from ..model import Journey, Step
from .context import Context
from .wording import removals

__all__ = ["flow_problems", "work_problems", "flow_graph", "MAX_VISITS_PER_STEP", "MAX_VISITS_PER_RUN"]

#: Most times a case may be expected to do one step (rework that is almost never left: exit 1e-9).
MAX_VISITS_PER_STEP = 1_000
#: Most step visits one replication may be expected to simulate (cases x expected visits per case).
MAX_VISITS_PER_RUN = 20_000_000


def flow_graph(journey: Journey) -> nx.DiGraph:
    """Steps and the flows a case can take (probability above zero): the graph reachability is read on."""
    g = nx.DiGraph()
    g.add_nodes_from(s.id for s in journey.steps)
    g.add_edges_from((f.source, f.target) for f in journey.flows if f.probability > 0)
    return g


def flow_problems(ctx: Context, journey: Journey) -> None:
    """Unreachable steps, dead ends, loops never left, and parallel blocks that do not meet again."""
    g = flow_graph(journey)
    reachable = nx.descendants(g, journey.start) | {journey.start} if journey.start in g else set()
    for s in journey.steps:
        if s.id not in reachable:
            ctx.error(_step_path(ctx, s.id), "unreachable-step",
                      f"step {s.id!r} cannot be reached from the start step {journey.start!r}{removals(ctx.loc)}",
                      "add a flow ('next') that leads to it, or remove it")
    can_end = set(journey.ends)
    for e in journey.ends:
        can_end |= nx.ancestors(g, e)
    stuck = [s.id for s in journey.steps if s.id in reachable and s.id not in can_end]
    if stuck:
        looped = _endless_loops(ctx, g, stuck)
        _dead_ends(ctx, journey, [sid for sid in stuck if sid not in looped])
    for s in journey.steps:
        if s.join is not None:
            _parallel_problems(ctx, journey, g, s)


def _step_path(ctx: Context, sid: str) -> Path:
    return ("steps", ctx.step_index[sid], "id")


def _endless_loops(ctx: Context, g: nx.DiGraph, stuck: list[str]) -> set[str]:
    """Report each closed loop among the ``stuck`` steps (nothing in it reaches an end); returns their steps."""
    looped: set[str] = set()
    for comp in nx.strongly_connected_components(g.subgraph(set(stuck))):
        node = next(iter(comp))
        if len(comp) > 1 or g.has_edge(node, node):
            first = min(comp, key=ctx.step_index.__getitem__)
            members = sorted(comp, key=ctx.step_index.__getitem__)
            ctx.error(_step_path(ctx, first), "endless-loop",
                      f"cases that enter the loop {' -> '.join(members)} -> {first} can never leave it",
                      "give one of these steps a branch that leads out of the loop towards an end")
            looped |= comp
    return looped


def _dead_ends(ctx: Context, journey: Journey, stuck: list[str]) -> None:
    """Steps from which no case reaches an end, outside any closed loop."""
    for sid in stuck:
        msg = (f"step {sid!r} has no way to an end step ({', '.join(journey.ends)})" if journey.flows_from.get(sid)
               else f"step {sid!r} is a dead end: it has no 'next' and is not an end step")
        ctx.error(_step_path(ctx, sid), "dead-end", msg + removals(ctx.loc),
                  "add a 'next' towards an end, or list the step under 'end'")


# --------------------------------------------------------------------------- parallel blocks


@dataclass(frozen=True)
class _Block:
    """One branch of a fork: its first step and every step reachable from it without passing the join."""

    first: str
    steps: set[str]


def _parallel_problems(ctx: Context, journey: Journey, g: nx.DiGraph, fork: Step) -> None:
    """Each branch of a fork must stay inside its block and reach the join step.

    A branch's block is everything reachable from its first step without
    passing the join. Searches stay inside the block, so checking a journey
    with many parallel blocks is linear in its size; steps are visited in file
    order so the messages are the same on every run. Each check stops at the
    first problem of the fork: the ones after it would repeat it.
    """
    where = ("steps", ctx.step_index[fork.id], "next")
    blocks = _blocks(ctx, journey, g, fork, where)
    if blocks is None:
        return
    owner = _branch_of_each_step(ctx, fork, blocks, where)
    if owner is None:
        return
    for i, b in enumerate(journey.workload.backlog):
        if b.step in owner:
            ctx.error(("workload", "backlog", i, "step"), "invalid-parallel",
                      f"backlog step {b.step!r} is inside a parallel branch of {fork.id!r}: those cases would "
                      "skip the other branches",
                      f"put the backlog at {fork.id!r} or before it, or at the join {fork.join!r}")
    if not _entered_from_outside(ctx, g, fork, blocks, where):
        _join_entered_from_outside(ctx, g, fork, owner, where)


def _blocks(ctx: Context, journey: Journey, g: nx.DiGraph, fork: Step, where: Path) -> list[_Block] | None:
    """The block of each non-empty branch; None (reported) when a branch loops back or escapes its block."""
    join = fork.join
    assert join is not None  # only forks are checked
    in_file_order = ctx.step_index.__getitem__
    blocks = []
    for f in journey.flows_from[fork.id]:
        if f.target == join:
            continue  # an empty branch: fine, the join just does not wait for it
        block = reach(g.successors, f.target, lambda n: n != join)
        if fork.id in block:
            ctx.error(where, "invalid-parallel", f"branch {f.target!r} of {fork.id!r} loops back before the fork",
                      "rework inside a parallel branch must stay inside the branch", key=True)
            return None
        reaches_join = reach(g.predecessors, join, block.__contains__)
        escapes = sorted((n for n in block if n in journey.ends or n not in reaches_join),
                         key=lambda n: (n not in journey.ends, -in_file_order(n)))
        if escapes:  # name the end step it runs into, else the last step that cannot reach the join
            ctx.error(where, "invalid-parallel",
                      f"branch {f.target!r} of {fork.id!r} can finish without reaching the join step {join!r} "
                      f"(via {escapes[0]!r})",
                      f"every path from {f.target!r} must lead to {join!r}", key=True)
            return None
        blocks.append(_Block(f.target, block))
    return blocks


def _in_file_order(ctx: Context, steps: Iterable[str]) -> list[str]:
    return sorted(steps, key=ctx.step_index.__getitem__)


def _branch_of_each_step(ctx: Context, fork: Step, blocks: list[_Block], where: Path) -> dict[str, str] | None:
    """step -> first step of its branch; None (reported) when a step belongs to two branches."""
    owner: dict[str, str] = {}
    for block in blocks:
        for n in _in_file_order(ctx, block.steps):
            if n in owner:
                ctx.error(where, "invalid-parallel",
                          f"step {n!r} belongs to two parallel branches ({owner[n]!r} and {block.first!r})",
                          "each step may belong to one branch only; a step without 'next' goes on to the step "
                          f"below it in the file, so end each branch with next: {fork.join}", key=True)
                return None
            owner[n] = block.first
    return owner


def _entered_from_outside(ctx: Context, g: nx.DiGraph, fork: Step, blocks: list[_Block], where: Path) -> bool:
    """Only the fork may lead into a branch; True when a step is entered from elsewhere (reported)."""
    for block in blocks:
        for n in _in_file_order(ctx, block.steps):
            for pred in g.predecessors(n):
                if pred not in block.steps and pred != fork.id:
                    ctx.error(where, "invalid-parallel",
                              f"step {n!r} in a parallel branch of {fork.id!r} is also entered from {pred!r}, "
                              "outside the branch", "only the fork may lead into a parallel branch", key=True)
                    return True
    return False


def _join_entered_from_outside(ctx: Context, g: nx.DiGraph, fork: Step, owner: dict[str, str], where: Path) -> None:
    """A join may only be entered from its own branches (or straight from the fork)."""
    for pred in _in_file_order(ctx, g.predecessors(fork.join)):
        if pred != fork.id and pred not in owner:
            ctx.error(where, "invalid-parallel",
                      f"join step {fork.join!r} is also entered from {pred!r}, outside the parallel block of "
                      f"{fork.id!r}", "a join step may only be entered from its own branches", key=True)
            return


# --------------------------------------------------------------------------- work


def work_problems(ctx: Context, journey: Journey) -> None:
    """Refuse a journey whose run would not finish: exact expected visits (see :mod:`journeymap.analysis`)."""
    from ..analysis import expected_visits

    try:
        visits = expected_visits(build_graph(journey))
    except (ArithmeticError, ValueError, np.linalg.LinAlgError):
        visits = {s.id: math.inf for s in journey.steps}
    worst = max(visits, key=lambda n: (not math.isfinite(visits[n]), visits[n]), default=None)
    if worst is not None and not visits[worst] <= MAX_VISITS_PER_STEP:
        ctx.error(_step_path(ctx, worst), "endless-run",
                  f"a case is expected to do step {worst!r} {visits[worst]:,.0f} times; the limit is "
                  f"{MAX_VISITS_PER_STEP:,}: a loop through it is almost never left",
                  "give the rework loop a realistic chance of leaving it (e.g. 0.1 or more)")
        return
    per_case = sum(visits.values())
    cases = journey.workload.cases + sum(b.cases for b in journey.workload.backlog)
    if per_case * cases > MAX_VISITS_PER_RUN:
        where = ("workload", "cases") if ctx.loc.where(("workload", "cases")) != ctx.loc.where(()) else ("steps",)
        ctx.error(where, "endless-run",
                  f"a run would simulate {per_case * cases:,.0f} step visits ({cases:,} cases x {per_case:,.1f} "
                  f"expected visits per case); the limit is {MAX_VISITS_PER_RUN:,}",
                  "simulate fewer cases, or split the journey")
