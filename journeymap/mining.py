"""Mining a journey from an event log: steps, owners, routing, durations, delays, capacity and workload.

:func:`mine` takes an :class:`~journeymap.eventlog_reader.EventLog` (and an optional
:class:`~journeymap.validation.mapping.Mapping`) and returns a :class:`MinedJourney`, plain
data; :func:`journey_yaml` writes it as a journey file whose every estimated number
carries ``estimate: observed`` and a comment with its sample size and fit quality;
:func:`mine_file` is the command: read, mine, validate the text with
:mod:`journeymap.validation`, and only then write it (atomically).

What is estimated how (the user's documentation is docs/data.md):

* **Steps** are the activities; **owners** the most frequent ``org:group`` of each activity's events,
  or the department the mapping file gives its resources (``customer`` owns the customer's own steps).
* **Routing** from the directly-follows counts: each activity's successors in the cases, in order of
  completion. A successor seen in less than ``min_support`` of the activity's occurrences is a *rare
  path*: reported, not modelled, and the others renormalised. An activity where most cases end is an end
  step. A flow back to a step earlier in the file is rework (journeymap marks it so). If dropping rare
  paths leaves steps with no way to an end, the most frequent way out is modelled again (and said).
* **Parallel branches**: a set of activities whose events overlap in time in some case, when the step
  before them is always followed by exactly them (in any order) and then always by the same step, and
  they never occur elsewhere: a ``parallel`` block with that ``join``. Any other overlap is reported and
  the events taken in their order of completion.
* **Durations**: completion minus start, fitted by :func:`journeymap.fitting.fit_durations`. Without a
  start column, the time since the previous completion (waiting included, said in the comment).
* **Waits** between one step's completion and the next one's start: a wait that ended with someone free
  in the receiving department is all *inbox delay*, and those waits are a fair sample of it (whether
  someone was free when the delay ended does not depend on its length), so the flow's ``delay:`` is
  fitted on them; the rest of the mean wait is *queueing*, which the simulation produces from the
  capacity. With too few such waits, each wait is split at the moment the department last became fully
  busy before its start (:func:`split_waits`: a lower bound of the delay).
* **Capacity**: the distinct resources seen in each department (or, without a resource column, the most
  events of the department that ever ran at once).
* **Arrivals**: Poisson with the mean gap between the cases' arrivals, or their observed schedule; the
  **backlog** is the cases open at the log's end (their last activity is not an end step), waiting for
  the most likely next step (only with Poisson arrivals: a schedule replays the log's own cases).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from .errors import InputInvalid
from .eventlog_reader import EventLog, LogColumns, LogInvalid, read_log
from .fitting import FitReport, duration_text, fit_durations
from .problems import Problem, excerpt
from .tabular import unique_id as step_id
from .validation.mapping import ActivityInfo

__all__ = ["MinedStep", "MinedFlow", "MinedDepartment", "RarePath", "ParallelBlock", "MinedJourney",
           "MineInvalid", "MineResult", "LogInvalid", "mine", "journey_yaml", "mine_file", "split_waits",
           "busy_stretches", "step_id", "MIN_SUPPORT"]

#: Default minimum support of a path: the share of an activity's occurrences a successor needs.
MIN_SUPPORT = 0.02
#: An activity where at least this share of its cases end is an end step.
END_SHARE = 0.5
#: A mean inbox delay below this (minutes) is not modelled: timestamps are rarely finer than a minute.
MIN_DELAY = 1.0
#: Most cases a journey's workload may ask for (docs/format.md, "Workload").
MAX_CASES = 1_000_000
#: Fewest waits that found someone free from which a flow's inbox delay is estimated (else: the split of all).
MIN_FREE = 10
_VALID_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")


class MineInvalid(InputInvalid):
    """Mining found problems (an activity seen once, a journey that would not validate); nothing was written."""

    where = "while mining"


# --------------------------------------------------------------------------- the mined model


@dataclass(frozen=True)
class MinedStep:
    """An activity as a step: who owns it, how long it takes (a fit report), how often it ran."""

    id: str
    activity: str
    name: str
    owner: str
    stage: str
    lane: str | None
    channel: str | None
    emotion: float | None
    occurrences: int
    duration: FitReport
    includes_waiting: bool   # no start column: the duration is the time since the previous completion


@dataclass(frozen=True)
class MinedFlow:
    """A modelled path: its count, its probability after the rare paths were dropped, and its waits."""

    source: str
    target: str               # a step id
    count: int
    probability: float
    rework: bool
    waits: int                # waits measured (start column present)
    mean_queue: float         # minutes
    mean_inbox: float         # minutes
    delay: FitReport | None   # the inbox delays' fit, or None (no delay modelled)
    free: int = 0             # waits that found someone free in the receiving department (all inbox delay)


@dataclass(frozen=True)
class MinedDepartment:
    id: str
    name: str
    capacity: int
    basis: str                # "resources" (distinct resources) or "concurrency" (most events at once)
    events: int


@dataclass(frozen=True)
class RarePath:
    """A path below the minimum support (or an ending that is not modelled): reported, not modelled."""

    source: str
    target: str               # a step id, or "(end)"
    count: int
    share: float


@dataclass(frozen=True)
class ParallelBlock:
    """A fork whose branches (one step each) ran at the same time, and the step that waits for all of them."""

    fork: str
    branches: tuple[str, ...]
    join: str
    cases: int                # occurrences of the fork
    overlapping: int          # of which the branches' events overlapped in time


@dataclass(frozen=True)
class MinedJourney:
    """Everything :func:`mine` estimated, in the order it is written."""

    file: str
    journey_id: str
    journey_name: str
    persona: dict[str, Any]
    stages: tuple[tuple[str, str], ...]
    departments: tuple[MinedDepartment, ...]
    steps: tuple[MinedStep, ...]
    flows: tuple[MinedFlow, ...]
    parallel: tuple[ParallelBlock, ...]
    start: str
    ends: tuple[str, ...]
    cases: int
    events: int
    mean_gap: float           # minutes between arrivals
    gap_cv: float             # coefficient of variation of the gaps (1 for Poisson arrivals)
    schedule: tuple[float, ...] | None
    backlog: tuple[tuple[str, int], ...]
    rare: tuple[RarePath, ...]
    notes: tuple[str, ...] = field(default=())  # what was not modelled, and why (also printed on stderr)


# --------------------------------------------------------------------------- small pure helpers


def busy_stretches(start: np.ndarray, end: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """The intervals during which at least ``capacity`` of the events ran at once (a department fully busy).

    A start and an end at the same instant count the start first, so a person who finishes one case and
    takes the next from the queue keeps the department busy without a gap.
    """
    if len(start) == 0:
        return np.zeros(0), np.zeros(0)
    times = np.concatenate([start, end])
    steps = np.concatenate([np.ones(len(start), np.int64), -np.ones(len(end), np.int64)])
    order = np.lexsort((-steps, times))  # at equal times, +1 before -1
    times, level = times[order], np.cumsum(steps[order])
    full = level >= capacity
    edges = np.diff(full.astype(np.int8), prepend=0)
    begins = times[edges == 1]
    ends = times[np.flatnonzero(edges == -1)]
    if len(ends) < len(begins):
        ends = np.append(ends, np.inf)
    return begins, ends


def split_waits(ready: np.ndarray, start: np.ndarray, begins: np.ndarray, ends: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(inbox delay, queueing) of each wait from ``ready`` (the previous completion) to ``start``.

    If the department was fully busy just before ``start``, the case queued since that busy stretch began
    (or since ``ready``, if later); the rest of the wait is inbox delay. Otherwise the whole wait is inbox
    delay: someone was free and the case was not there yet.
    """
    idx = np.searchsorted(begins, start, side="left") - 1
    busy = np.zeros(len(start), dtype=bool)
    valid = idx >= 0
    busy[valid] = ends[idx[valid]] >= start[valid]
    queued_since = np.where(busy, np.maximum(ready, begins[np.maximum(idx, 0)] if len(begins) else ready), start)
    queued_since = np.minimum(queued_since, start)
    inbox = np.maximum(queued_since - ready, 0.0)
    return inbox, start - np.maximum(queued_since, ready)


# --------------------------------------------------------------------------- mining


def mine(log: EventLog, mapping: Any = None, *, min_support: float = MIN_SUPPORT,
         schedule: bool = False) -> MinedJourney:
    """The journey ``log`` shows (see the module's docstring for what is estimated how).

    Raises :class:`MineInvalid` for what cannot be mined (an activity seen only once, several replications).
    """
    _refuse_unminable(log)
    notes: list[str] = []
    owners, departments = _owners(log, mapping, notes)
    ids = _step_ids(log, mapping)
    same_case = np.zeros(log.n_events, dtype=bool)
    same_case[1:] = log.case[1:] == log.case[:-1]
    blocks, in_block, block_notes = _parallel(log, same_case, ids, min_support)
    notes += block_notes
    paths = _directly_follows(log, in_block, len(blocks))
    routing = _routing(paths, ids, blocks, min_support, notes, log.file)
    n_act = len(log.activities)
    counts = np.bincount(log.activity, minlength=n_act)
    reachable = _reachable(routing.start, routing.routes, blocks, n_act, ids)
    for act in range(n_act):
        if act not in reachable and counts[act]:
            notes.append(f"activity {log.activities[act]!r} ({counts[act]} events) is reached only by rare paths: "
                         "left out")
    order = _file_order(log, paths, reachable, routing.start, n_act, blocks, ids)
    steps = _steps(log, mapping, order, ids, owners, counts, same_case)
    flows = _flows(log, routing.routes, reachable, paths, ids, owners, departments, n_act, order)
    ends = tuple(ids[a] for a in order if routing.is_end[a])
    if not ends:  # no case ever ends: every case is still open
        ends = (ids[order[-1]],)
        notes.append(f"no case ends in the log: {ends[0]!r} (the last in the file) is the end step")
    arrivals = np.sort(log.arrival)
    gaps = np.diff(arrivals)
    mean_gap = float(gaps.mean()) if len(gaps) else 0.0
    cv = float(gaps.std(ddof=1) / mean_gap) if len(gaps) > 1 and mean_gap > 0 else math.nan
    backlog = () if schedule else _backlog(routing, reachable, ids, blocks, [s.id for s in steps])
    jid, jname, persona, stages = _names(log, mapping)
    return MinedJourney(
        file=log.file, journey_id=jid, journey_name=jname, persona=persona, stages=stages,
        departments=tuple(departments.values()), steps=tuple(steps), flows=tuple(flows), parallel=tuple(blocks),
        start=ids[routing.start] if routing.start < n_act else blocks[routing.start - n_act].fork,
        ends=ends, cases=log.n_cases, events=log.n_events, mean_gap=mean_gap, gap_cv=cv,
        schedule=tuple(float(a - arrivals[0]) for a in arrivals) if schedule else None,
        backlog=backlog, rare=tuple(routing.rare), notes=tuple(notes))


def _refuse_unminable(log: EventLog) -> None:
    """Several replications of a simulation, or an activity seen once: located problems, nothing mined."""
    if log.replications > 1:
        raise MineInvalid([Problem(log.file, 1, 1, "error", "replications",
                                   f"the log holds {log.replications} replications of a simulation, which overlap in "
                                   "time: mining them together would count their work as simultaneous",
                                   "simulate with --replications 1, or keep one replication's rows")])
    counts = np.bincount(log.activity, minlength=len(log.activities))
    problems = [Problem(log.file, int(log.line[np.argmax(log.activity == a)]), 1, "error", "single-occurrence",
                        f"activity {excerpt(log.activities[a])} occurs once in the whole log: nothing can be "
                        "estimated from one occurrence",
                        "remove its row from the export, or fix the activity's name if it is misspelt")
                for a in np.flatnonzero(counts == 1)]
    if problems:
        raise MineInvalid(problems)


def _step_ids(log: EventLog, mapping: Any) -> list[str]:
    """Each activity's step id: the mapping's, else one made from its name (unique, valid)."""
    given: list[str | None] = [mapping.activities[name].id if mapping and name in mapping.activities else None
                               for name in log.activities]
    taken = {"customer"} | {i for i in given if i}
    return [i or step_id(name, taken) for i, name in zip(given, log.activities, strict=True)]


def _names(log: EventLog, mapping: Any) -> tuple[str, str, dict[str, Any], tuple[tuple[str, str], ...]]:
    """The journey's id and name, the persona and the stages: the mapping's, else defaults from the file name."""
    base = os.path.basename(log.file)
    m = mapping
    jid = m.journey_id if m and m.journey_id else step_id(os.path.splitext(base)[0], set())
    name = m.journey_name if m and m.journey_name else f"Mined from {base}"
    persona = dict(m.persona) if m and m.persona else {"id": "client", "name": "Client"}
    stages = m.stages if m and m.stages else (("process", "Process"),)
    return jid, name, persona, stages


@dataclass(frozen=True, eq=False)
class _Paths:
    """The cases as sequences of tokens (activities; a parallel run is one token) and their directly-follows
    counts: ``pair[s, t]`` cases where t directly follows s, ``pair[s, -1]`` cases ending at s."""

    keep: np.ndarray        # per event: not folded into a parallel run
    token: np.ndarray       # per event
    seq_idx: np.ndarray     # the kept events
    seq_tok: np.ndarray
    pair: np.ndarray
    first_counts: np.ndarray


def _directly_follows(log: EventLog, in_block: tuple[np.ndarray, np.ndarray], n_blocks: int) -> _Paths:
    n_act = len(log.activities)
    block_of, folded = in_block
    token = log.activity.astype(np.int64).copy()
    token[block_of >= 0] = n_act + block_of[block_of >= 0]
    keep = ~folded
    seq_idx = np.flatnonzero(keep)
    seq_tok, seq_case = token[seq_idx], log.case[seq_idx]
    nxt_same = np.zeros(len(seq_idx), dtype=bool)
    nxt_same[:-1] = seq_case[1:] == seq_case[:-1]
    n_tok = n_act + n_blocks
    src, dst = seq_tok[nxt_same], seq_tok[np.flatnonzero(nxt_same) + 1]
    pair = np.bincount(src * (n_tok + 1) + dst, minlength=n_tok * (n_tok + 1)).reshape(n_tok, n_tok + 1)
    pair[:, n_tok] = np.bincount(seq_tok[~nxt_same], minlength=n_tok)
    firsts = seq_tok[np.concatenate([[True], ~nxt_same[:-1]])] if len(seq_tok) else seq_tok
    return _Paths(keep, token, seq_idx, seq_tok, pair, np.bincount(firsts, minlength=n_tok))


@dataclass(frozen=True, eq=False)
class _Routing:
    start: int
    is_end: np.ndarray
    routes: dict[int, list[tuple[int, int]]]   # token -> [(target token, count)], the modelled paths
    open_cases: dict[int, int]                  # token -> cases whose last event it is (not an end step)
    rare: list[RarePath]


def _routing(paths: _Paths, ids: list[str], blocks: list[ParallelBlock], min_support: float,
             notes: list[str], file: str) -> _Routing:
    """The modelled paths: end steps, the start, rare paths dropped (reported) and the rest kept."""
    pair, first_counts = paths.pair, paths.first_counts
    n_tok, n_act = pair.shape[0], len(ids)
    totals = pair.sum(axis=1)
    end_share = np.where(totals > 0, pair[:, n_tok] / np.maximum(totals, 1), 0.0)
    is_end = end_share >= END_SHARE
    if not is_end.any() and pair[:, n_tok].any():
        last = int(np.argmax(end_share))
        is_end[last] = True
        notes.append(f"no activity is where most of its cases end: {_tok_id(last, ids, blocks)!r}, where "
                     f"{end_share[last]:.0%} do, is the end step")
    start = int(np.argmax(first_counts))
    rare: list[RarePath] = []
    for t in map(int, np.flatnonzero(first_counts)):
        if t != start:
            share = first_counts[t] / first_counts.sum()
            rare.append(RarePath("(start)", _tok_id(t, ids, blocks), int(first_counts[t]), float(share)))
            notes.append(f"{first_counts[t]} case(s) ({share:.1%}) start at {_tok_id(t, ids, blocks)!r}, "
                         f"not at {_tok_id(start, ids, blocks)!r}: every case is modelled as starting at "
                         "the latter (cases already under way when the log begins?)")
    routes: dict[int, list[tuple[int, int]]] = {}
    open_cases: dict[int, int] = {}
    for s in map(int, np.flatnonzero(totals)):
        if s >= n_act:  # a parallel block leads to its join
            routes[s] = [(ids.index(blocks[s - n_act].join), int(pair[s].sum()))]
            continue
        outs = [(int(t), int(pair[s, t])) for t in np.flatnonzero(pair[s, :n_tok])]
        if is_end[s]:
            rare += [RarePath(ids[s], _tok_id(t, ids, blocks), c, c / totals[s]) for t, c in outs]
            if outs:
                notes.append(f"{ids[s]!r} is an end step ({end_share[s]:.0%} of its cases end there); the "
                             f"{sum(c for _, c in outs)} case(s) that went on are not modelled")
            continue
        open_cases[s] = int(pair[s, n_tok])
        kept = [(t, c) for t, c in outs if c / totals[s] >= min_support]
        for t, c in outs:
            if (t, c) not in kept:
                rare.append(RarePath(ids[s], _tok_id(t, ids, blocks), c, c / totals[s]))
                notes.append(f"rare path {ids[s]!r} -> {_tok_id(t, ids, blocks)!r}: {c} of {totals[s]} "
                             f"({c / totals[s]:.1%} < --min-support {min_support:g}), not modelled")
        routes[s] = kept or sorted(outs, key=lambda x: -x[1])[:1]
    _ensure_ends(start, pair, is_end, routes, open_cases, rare, ids, blocks, notes, file)
    return _Routing(start, is_end, routes, open_cases, rare)


def _forward(start: int, routes: dict[int, list[tuple[int, int]]]) -> set[int]:
    """The tokens the modelled routes reach from ``start``."""
    todo, seen = [start], {start}
    while todo:
        for t, _c in routes.get(todo.pop(), []):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def _backward(ends: set[int], routes: dict[int, list[tuple[int, int]]]) -> set[int]:
    """The tokens from which the modelled routes lead to one of ``ends``."""
    can_end = set(ends)
    changed = True
    while changed:
        changed = False
        for src, outs in routes.items():
            if src not in can_end and any(t in can_end for t, _ in outs):
                can_end.add(src)
                changed = True
    return can_end


def _ensure_ends(start: int, pair: np.ndarray, is_end: np.ndarray, routes: dict[int, list[tuple[int, int]]],
                 open_cases: dict[int, int], rare: list[RarePath], ids: list[str], blocks: list[ParallelBlock],
                 notes: list[str], file: str) -> None:
    """Make every step that cases reach able to reach an end (a journey validates only then).

    Dropping rare paths can leave a loop with no way out, or steps whose every way to an end was rare.
    While there are such steps, the most frequent dropped way out of them is modelled again: a rare path
    to a step that can end, or, when cases were seen ending at one of them, that step becomes an end step.
    """
    n_tok = pair.shape[0]
    for _ in range(n_tok + 1):
        seen = _forward(start, routes)
        can_end = _backward({int(t) for t in np.flatnonzero(is_end)}, routes)
        trapped = seen - can_end
        if not trapped:
            return
        # (count, source, target); target n_tok: the case ended there
        options = [(int(pair[src, t]), src, t) for src in trapped for t in range(n_tok + 1)
                   if pair[src, t] and ((t == n_tok and src < len(ids)) or t in can_end)
                   and t not in {x for x, _ in routes.get(src, [])}]
        if not options:
            raise MineInvalid([Problem(file, 1, 1, "error", "no-end", "cases that reach " + ", ".join(
                repr(_tok_id(x, ids, blocks)) for x in sorted(trapped)) + " never end in this log",
                "export the cases' later events too, or lower --min-support")])
        count, src, t = max(options)
        if t == n_tok:
            is_end[src] = True
            notes.append(f"{_tok_id(src, ids, blocks)!r} is made an end step ({count} case(s) end there) so that "
                         "the cases reaching it can end; its other paths are not modelled")
            routes.pop(src, None)
            open_cases.pop(src, None)
        else:
            routes.setdefault(src, []).append((t, count))
            notes.append(f"the rare path {_tok_id(src, ids, blocks)!r} -> {_tok_id(t, ids, blocks)!r} is modelled "
                         "after all: without it the cases reaching it could not end")
            rare[:] = [r for r in rare if (r.source, r.target) != (ids[src] if src < len(ids) else "",
                                                                  _tok_id(t, ids, blocks))]


def _steps(log: EventLog, mapping: Any, order: list[int], ids: list[str], owners: list[str], counts: np.ndarray,
           same_case: np.ndarray) -> list[MinedStep]:
    durations = _durations(log, same_case)
    steps = []
    for act in order:
        info = (mapping.activities.get(log.activities[act]) if mapping else None) or ActivityInfo()
        steps.append(MinedStep(
            id=ids[act], activity=log.activities[act], name=info.name or log.activities[act], owner=owners[act],
            stage=info.stage or _default_stage(mapping), lane=info.lane, channel=info.channel, emotion=info.emotion,
            occurrences=int(counts[act]), duration=fit_durations(durations[log.activity == act]),
            includes_waiting=not log.has_start))
    return steps


def _backlog(routing: _Routing, reachable: set[int], ids: list[str], blocks: list[ParallelBlock],
             order: list[str]) -> tuple[tuple[str, int], ...]:
    """Cases open at the log's end, by the step their last activity most often leads to, in file order."""
    n_act = len(ids)
    waiting: dict[str, int] = {}
    for s, n in routing.open_cases.items():
        if n and s in routing.routes and s in reachable:
            target = max(routing.routes[s], key=lambda x: x[1])[0]
            name = ids[target] if target < n_act else blocks[target - n_act].fork
            waiting[name] = waiting.get(name, 0) + n
    return tuple(sorted(waiting.items(), key=lambda x: order.index(x[0]) if x[0] in order else 0))


def _tok_id(t: int, ids: list[str], blocks: list[ParallelBlock]) -> str:
    if t >= len(ids):
        return "parallel(" + ", ".join(blocks[t - len(ids)].branches) + ")"
    return ids[t]


def _default_stage(mapping: Any) -> str:
    return mapping.stages[0][0] if mapping and mapping.stages else "process"


def _owners(log: EventLog, mapping: Any, notes: list[str]) -> tuple[list[str], dict[str, MinedDepartment]]:
    """The owner of each activity and the departments (with capacities)."""
    n_act = len(log.activities)
    if mapping and mapping.resources:
        by_resource = np.array([mapping.resources.get(r, "") for r in log.resources] + [""], dtype=object)
        dept_of_event = by_resource[log.resource]  # -1 picks the trailing ""
    elif log.groups:
        dept_of_event = np.array(list(log.groups) + [""], dtype=object)[log.group]
    else:
        dept_of_event = np.array([""] * log.n_events, dtype=object)
    owners: list[str] = []
    present = np.bincount(log.activity, minlength=n_act) > 0
    for a in range(n_act):
        if not present[a]:  # a name with no event ("case arrival" rows are not events)
            owners.append("customer")
            continue
        info = mapping.activities.get(log.activities[a]) if mapping else None
        if info and info.owner:
            owners.append(info.owner)
            continue
        values, freq = np.unique(dept_of_event[log.activity == a].astype(str), return_counts=True)
        named = [(v, f) for v, f in zip(values, freq, strict=True) if v]
        if named:
            owners.append(str(max(named, key=lambda x: x[1])[0]))
        else:
            owners.append(step_id(log.activities[a] + " team", set()))
            notes.append(f"no group or mapped resource for {log.activities[a]!r}: owned by a department of its own "
                         "(give --group-column or a mapping file)")
    owner_ids = {o: ("customer" if o.lower() == "customer" else o if _VALID_ID.match(o) else step_id(o, set()))
                 for o in set(owners)}
    owners = [owner_ids[o] for o in owners]
    departments: dict[str, MinedDepartment] = {}
    owner_of_event = np.array(owners, dtype=object)[log.activity]
    for dept in sorted(set(owners) - {"customer"}):
        mask = owner_of_event == dept
        res = log.resource[mask]
        people = len(np.unique(res[res >= 0]))
        if people:
            capacity, basis = people, "resources"
        else:
            b, e = log.start[mask], log.end[mask]
            capacity, basis = max(1, _most_at_once(b, e)), "concurrency"
        name = mapping.department_names.get(dept, dept) if mapping else dept
        departments[dept] = MinedDepartment(dept, name, capacity, basis, int(mask.sum()))
    return owners, departments


def _most_at_once(start: np.ndarray, end: np.ndarray) -> int:
    if len(start) == 0:
        return 0
    times = np.concatenate([start, end])
    steps = np.concatenate([np.ones(len(start), np.int64), -np.ones(len(end), np.int64)])
    order = np.lexsort((steps, times))  # ends first at equal times: back-to-back work is not overlap
    return int(np.cumsum(steps[order]).max())


def _parallel(log: EventLog, same_case: np.ndarray, ids: list[str], min_support: float
              ) -> tuple[list[ParallelBlock], tuple[np.ndarray, np.ndarray], list[str]]:
    """Parallel blocks: sets of activities seen running at once, always between the same two steps.

    A candidate is each set of activities whose events overlap in time in some case. It becomes a block
    when its most frequent predecessor F (the fork) is, every time it occurs, followed by exactly those
    activities (once each, in any order) and then by the same step J (the join), and the activities
    never occur elsewhere. Their events need not overlap in every case (a branch may finish before the
    other starts): how many did is in the comment. Returns the blocks, (block index on the first event of
    each occurrence or -1, True on the occurrence's other events), and what was not modelled, and why.
    """
    n = log.n_events
    block_of = np.full(n, -1, dtype=np.int64)
    folded = np.zeros(n, dtype=bool)
    notes: list[str] = []
    overlap = same_case & (log.start < np.concatenate([[-np.inf], log.end[:-1]]))
    if not overlap.any():
        return [], (block_of, folded), notes
    if len(log.activities) > 62:
        notes.append("events overlap in time but the log has more than 62 activities: taken in order of "
                     "completion, no parallel branches looked for")
        return [], (block_of, folded), notes
    starts = np.flatnonzero(~overlap)
    length = np.diff(np.append(starts, n))
    bits = np.left_shift(np.int64(1), log.activity.astype(np.int64))
    sig = np.bitwise_or.reduceat(bits, starts)
    multi = length >= 2
    counts = np.bincount(log.activity, minlength=len(log.activities))
    blocks: list[ParallelBlock] = []
    for s in map(int, np.unique(sig[multi])):
        runs = starts[multi & (sig == s)]
        members = [a for a in range(len(log.activities)) if (s >> a) & 1]
        names = ", ".join(repr(ids[a]) for a in members)
        has_pred = same_case[runs]
        why = "they do not follow a step of their own" if not has_pred.any() else ""
        fork = int(np.bincount(log.activity[runs[has_pred] - 1]).argmax()) if has_pred.any() else -1
        windows = np.flatnonzero(log.activity == fork) if fork >= 0 else np.zeros(0, np.int64)
        why = why or _window_problem(log, same_case, windows, members, s, counts)
        if why or len(windows) < 2 or any(block_of[w] >= 0 or folded[w] for w in windows):
            notes.append(f"activities {names} overlap in {len(runs)} case(s) but not consistently ({why or 'too few'}"
                         "): not modelled as parallel branches, taken in order of completion")
            continue
        k = len(members)
        join = int(log.activity[windows[0] + k + 1])
        blocks.append(ParallelBlock(ids[fork], tuple(ids[a] for a in members), ids[join], len(windows), len(runs)))
        for w in windows:
            block_of[w + 1] = len(blocks) - 1
            folded[w + 2: w + k + 1] = True
    return blocks, (block_of, folded), notes


def _window_problem(log: EventLog, same_case: np.ndarray, windows: np.ndarray, members: list[int], signature: int,
                    counts: np.ndarray) -> str:
    """Why the events after each fork are not exactly the members, then always the same join ("" if they are)."""
    k, n = len(members), log.n_events
    if len(windows) == 0:
        return "no step before them"
    within = [(windows + j < n) & same_case[np.minimum(windows + j, n - 1)] for j in range(1, k + 2)]
    got = np.zeros(len(windows), dtype=np.int64)
    for j in range(1, k + 1):
        got |= np.left_shift(np.int64(1), log.activity[np.minimum(windows + j, n - 1)].astype(np.int64))
    if not np.all(within) or np.any(got != signature):
        return "the step before them does not always lead to all of them, then to one more step"
    if len(np.unique(log.activity[windows + k + 1])) != 1:
        return "they are not always followed by the same step"
    if any(counts[a] != len(windows) for a in members):
        return "they also occur elsewhere"
    return ""


def _reachable(start: int, routes: dict[int, list[tuple[int, int]]], blocks: list[ParallelBlock], n_act: int,
               ids: list[str]) -> set[int]:
    seen, todo = set(), [start]
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        if t >= n_act:
            todo += [ids.index(b) for b in blocks[t - n_act].branches]
        todo += [x for x, _ in routes.get(t, [])]
    return {t for t in seen if t < n_act}


def _file_order(log: EventLog, paths: _Paths, reachable: set[int], start: int, n_act: int,
                blocks: list[ParallelBlock], ids: list[str]) -> list[int]:
    """The steps in the order a reader expects: by the mean position of their first occurrence in a case."""
    seq_idx, seq_tok = paths.seq_idx, paths.seq_tok
    case = log.case[seq_idx]
    new = np.concatenate([[True], case[1:] != case[:-1]]) if len(case) else np.zeros(0, bool)
    position = np.arange(len(case)) - np.maximum.accumulate(np.where(new, np.arange(len(case)), 0))
    pos: dict[int, float] = {}
    for t in map(int, np.unique(seq_tok)):
        pos[t] = float(position[seq_tok == t].mean())
    for k, b in enumerate(blocks):
        for j, branch in enumerate(b.branches):
            pos[ids.index(branch)] = pos.get(n_act + k, 0.0) + 0.001 * (j + 1)
    acts = sorted(reachable, key=lambda a: (a != start, pos.get(a, math.inf), ids[a]))
    return acts


def _durations(log: EventLog, same_case: np.ndarray) -> np.ndarray:
    if log.has_start:
        return log.end - log.start
    before = np.where(same_case, np.concatenate([[0.0], log.end[:-1]]), log.arrival[log.case])
    return np.maximum(log.end - before, 0.0)


def _flows(log: EventLog, routes: dict[int, list[tuple[int, int]]], reachable: set[int], paths: _Paths,
           ids: list[str], owners: list[str], departments: dict[str, MinedDepartment], n_act: int,
           order: list[int]) -> list[MinedFlow]:
    """The modelled flows with their waits split into inbox delay and queueing."""
    keep, token = paths.keep, paths.token
    seq = np.flatnonzero(keep)
    nxt_same = np.zeros(len(seq), dtype=bool)
    nxt_same[:-1] = log.case[seq[1:]] == log.case[seq[:-1]]
    prev_ev, next_ev = seq[:-1][nxt_same[:-1]], seq[1:][nxt_same[:-1]]
    src_tok, dst_tok = token[prev_ev], token[next_ev]
    ready, begin = log.end[prev_ev], log.start[next_ev]
    inbox = np.zeros(len(prev_ev))
    queue = np.zeros(len(prev_ev))
    if log.has_start:
        owner_of_event = np.array(owners, dtype=object)[log.activity]
        dst_owner = owner_of_event[next_ev]
        for dept, d in departments.items():
            mask = owner_of_event == dept
            begins, ends = busy_stretches(log.start[mask], log.end[mask], d.capacity)
            sel = dst_owner == dept
            inbox[sel], queue[sel] = split_waits(ready[sel], begin[sel], begins, ends)
        sel = dst_owner == "customer"
        inbox[sel] = np.maximum(begin[sel] - ready[sel], 0.0)
    rank = {a: i for i, a in enumerate(order)}
    flows = []
    for s, outs in routes.items():
        if s >= n_act or s not in reachable:
            continue
        total = sum(c for _, c in outs)
        for t, c in outs:
            target = ids[t] if t < n_act else None
            if target is None:
                continue  # a fork's flows are its parallel block
            sel = (src_tok == s) & (dst_tok == t)
            flows.append(_flow(ids[s], target, c, c / total, rank.get(t, 0) <= rank.get(s, 0),
                               np.maximum(begin - ready, 0.0)[sel], inbox[sel], queue[sel], log.has_start))
    return flows


def _flow(source: str, target: str, count: int, probability: float, rework: bool, wait: np.ndarray,
          inbox: np.ndarray, queue: np.ndarray, has_start: bool) -> MinedFlow:
    """A flow with its inbox delay estimated from the waits that found someone free, when there are enough.

    A wait that ended with someone free in the receiving department (no queueing) is all inbox delay; whether
    someone was free when a delay ended does not depend on the delay's length, so those waits are a fair sample
    of the delay. With fewer than :data:`MIN_FREE` of them the split of every wait (a lower bound of the delay:
    the time the department was busy counts as queueing) is used instead.
    """
    if not has_start or len(wait) == 0:
        return MinedFlow(source, target, count, probability, rework, 0, 0.0, 0.0, None)
    free = queue <= 0
    sample = wait[free] if free.sum() >= MIN_FREE else inbox
    mean_inbox = float(sample.mean())
    fit = fit_durations(sample) if len(sample) >= 2 and mean_inbox >= MIN_DELAY else None
    mean_queue = max(float(wait.mean()) - mean_inbox, 0.0)
    return MinedFlow(source, target, count, probability, rework, len(wait), mean_queue, mean_inbox, fit,
                     int(free.sum()))


# --------------------------------------------------------------------------- the journey file


def _flow_style(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10 ** 6, sort_keys=False, allow_unicode=True)
    return text.strip().removesuffix("...").strip()


def _minutes_text(minutes: float) -> str:
    return f"{minutes:.2f}".rstrip("0").rstrip(".") + "min"


def journey_yaml(m: MinedJourney, source: str = "", command: str = "") -> str:
    """The journey file text, every estimate tagged ``observed`` with its sample size and fit in a comment."""
    out = ["# yaml-language-server: $schema=../docs/journey.schema.json",
           f"# Mined by `journeymap mine` from {os.path.basename(source or m.file)}: {m.events:,} events of "
           f"{m.cases:,} cases.",
           f"# {command}" if command else "",
           "# Every number below comes from the log and is tagged `observed` (docs/uncertainty.md); each comment",
           "# gives its sample size and the quality of its fit (docs/data.md says how each is estimated)."]
    out = [line for line in out if line]
    if m.rare or m.notes:
        out.append("#")
        out.append("# Not modelled (also printed when mining):")
        out += [f"#   - {n}" for n in m.notes]
    out += ["journey:", f"  id: {_flow_style(m.journey_id)}", f"  name: {_flow_style(m.journey_name)}", "",
            f"persona: {_flow_style(m.persona)}", "", "stages:"]
    out += [f"  - {_flow_style({'id': i, 'name': n})}" for i, n in m.stages]
    out += ["", "departments:"] if m.departments else []
    for d in m.departments:
        basis = (f"{d.capacity} distinct resource(s) in {d.events:,} events" if d.basis == "resources"
                 else f"at most {d.capacity} of its {d.events:,} events at once (no resource column)")
        out.append(f"  # capacity: {basis}")
        out.append(f"  - {_flow_style({'id': d.id, 'name': d.name, 'capacity': d.capacity})}")
    flows_by: dict[str, list[MinedFlow]] = {}
    for f in m.flows:
        flows_by.setdefault(f.source, []).append(f)
    forks = {b.fork: b for b in m.parallel}
    branch_of = {x: b for b in m.parallel for x in b.branches}
    out += ["", f"start: {m.start}", f"end: {_flow_style(list(m.ends))}", "", "steps:"]
    for s in m.steps:
        out.append(f"  - id: {s.id}")
        if s.name != s.id:
            out.append(f"    name: {_flow_style(s.name)}")
        out.append(f"    stage: {s.stage}")
        out.append(f"    owner: {s.owner}")
        for key in ("lane", "channel", "emotion"):
            if getattr(s, key) is not None:
                out.append(f"    {key}: {_flow_style(getattr(s, key))}")
        what = "time since the previous completion (no start column: waiting included)" if s.includes_waiting \
            else "completion - start"
        out.append(f"    # {s.occurrences:,} occurrences; {what}: {s.duration.comment()}")
        out.append(f"    duration: {_flow_style(s.duration.best.spec)}")
        out.append("    estimate: observed")
        out += _next_lines(s.id, flows_by.get(s.id, []), forks.get(s.id), branch_of.get(s.id), m.ends)
    out += _workload_lines(m)
    return "\n".join(out) + "\n"


def _workload_lines(m: MinedJourney) -> list[str]:
    """``workload:``: the observed schedule, or the Poisson rate with the cases and the backlog."""
    out = ["", "workload:"]
    if m.schedule is not None:
        out.append(f"  # the {len(m.schedule):,} cases' arrivals as in the log, from the first one")
        out.append(f"  arrivals: {{schedule: [{', '.join(_minutes_text(t) for t in m.schedule)}]}}")
    else:
        out.append(f"  # {m.cases - 1:,} gaps between the cases' arrivals; coefficient of variation "
                   f"{m.gap_cv:.2f} (1 for Poisson arrivals)")
        out.append(f"  arrivals: {{poisson: {duration_text(m.mean_gap)}}}")
        out.append("  arrivals_estimate: observed")
        if m.cases > MAX_CASES:
            out.append(f"  # the log has {m.cases:,} cases; a journey simulates at most {MAX_CASES:,}")
        out.append(f"  cases: {min(m.cases, MAX_CASES)}")
        if m.backlog:
            out.append("  # cases open at the log's end, waiting for the step their last activity most often leads to")
            out.append("  backlog:")
            out += [f"    - {_flow_style({'step': step, 'cases': n})}" for step, n in m.backlog]
    return out


def _next_lines(source: str, flows: list[MinedFlow], fork: ParallelBlock | None, branch: ParallelBlock | None,
                ends: tuple[str, ...]) -> list[str]:
    if source in ends:
        return []
    if fork is not None:
        return [f"    # parallel: in {fork.overlapping:,} of the {fork.cases:,} occurrences their events overlap in "
                "time; no delays modelled on these flows",
                f"    next: {_flow_style({'parallel': list(fork.branches), 'join': fork.join})}"]
    if branch is not None:
        return [f"    next: {branch.join}"]
    out = []
    entries = []
    for f in flows:
        entry: dict[str, Any] = {"to": f.target}
        if len(flows) > 1:
            entry["probability"] = round(f.probability, 4)
        if f.delay is not None:
            entry["delay"] = f.delay.best.spec
            entry["delay_estimate"] = "observed"
        if f.rework:
            entry["rework"] = True
        total = sum(g.count for g in flows)
        basis = (f"the {f.free:,} that found someone free" if f.free >= MIN_FREE
                 else "the split of each (a lower bound)")
        waits = (f"; {f.waits:,} waits: inbox delay {duration_text(f.mean_inbox)} (from {basis}), queueing "
                 f"{duration_text(f.mean_queue)}" if f.waits else "")
        fit = f"; delay {f.delay.comment()}" if f.delay is not None else ""
        out.append(f"    # -> {f.target}: {f.count:,} of {total:,} ({f.probability:.1%}){waits}{fit}")
        entries.append(entry)
    if len(entries) == 1:
        out.append(f"    next: {_flow_style(entries[0])}")
    elif entries:
        out.append("    next:")
        out += [f"      - {_flow_style(e)}" for e in entries]
    # rounding to 4 decimals may leave the probabilities 1e-4 off 1: the last absorbs it
    if len(entries) > 1:
        total = sum(e["probability"] for e in entries)
        entries[-1]["probability"] = round(entries[-1]["probability"] + 1 - total, 4)
        out[-1] = f"      - {_flow_style(entries[-1])}"
    return out


# --------------------------------------------------------------------------- the command


@dataclass(frozen=True)
class MineResult:
    journey: MinedJourney
    text: str
    warnings: tuple[Problem, ...]


def mine_file(log_path: str, output: str, *, columns: LogColumns | None = None, mapping_path: str | None = None,
              time_zone: str | None = None, min_support: float = MIN_SUPPORT, schedule: bool = False,
              command: str = "", write: Callable[[str, str], Any] | None = None) -> MineResult:
    """Read ``log_path``, mine it, check the journey, and write it to ``output`` only if it validates.

    Raises :class:`~journeymap.eventlog_reader.LogInvalid` (the log or the mapping has errors) or
    :class:`MineInvalid` (nothing minable, or the mined journey would not validate: the problems say why).
    """
    from .output import refuse_inputs, write_text
    from .validation import check_text

    if not 0 <= min_support < 1:
        from .errors import InvalidArgument

        raise InvalidArgument(f"--min-support must be in [0, 1), not {min_support:g}")
    refuse_inputs([p for p in (log_path, mapping_path) if p], files=[output])
    log = read_log(log_path, columns or LogColumns(), time_zone=time_zone)
    mapping = None
    if mapping_path:
        from .validation.mapping import read_mapping

        mapping = read_mapping(mapping_path, log.activities, log.resources)
    mined = mine(log, mapping, min_support=min_support, schedule=schedule)
    text = journey_yaml(mined, log_path, command)
    checked = check_text(text, output)
    if checked.errors:
        raise MineInvalid([Problem(p.file, p.line, p.column, p.severity, p.rule,
                                   f"the mined journey would not validate: {p.message}", p.hint)
                           for p in checked.errors])
    (write or write_text)(output, text)
    return MineResult(mined, text, tuple(checked.warnings))

