"""Accounts: a buying group of personas whose journeys run together.

An account file names the personas' journey files with their influence,
may set the capacities of the departments they share, and declares
**consensus gates**: sync points where several personas must all arrive
before any of them continues (the purchase decision waits for finance
approval, the CIO's security review and the line-of-business sign-off).

:func:`check_account` checks an account file and every journey it names,
reporting every problem with its file, line and column, like journey files;
:func:`load_account` is the one way in. :func:`coverage` and
:func:`account_lint` are the static checks of the buying group (stakeholder
coverage gaps); the simulated parts live in :mod:`journeymap.simulation.account`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

import jsonschema
import networkx as nx

from .errors import JourneyInvalid
from .loading import Located, Path, ReferenceOutside, load_yaml, read_text, resolve_reference, unreadable
from .model import PRIORITY_CLASSES, Arrivals, Department, Journey
from .problems import Problem, Problems, sort_problems
from .schema import ACCOUNT_SCHEMA
from .validation import (
    MAX_STEPS,
    MAX_VISITS_PER_RUN,
    check_file,
    internal_error,
    parse_arrivals,
    structure_problems,
    too_deep,
)
from .validation.flow import flow_graph
from .validation.values import is_number, list_or_empty, mapping_or_empty, str_or
from .validation.wording import closest

__all__ = ["AccountPersona", "Gate", "Account", "CheckedAccount", "check_account", "load_account",
           "is_account_file", "coverage", "DEFAULT_SURVEYS_PER_QUARTER"]

_VALIDATOR = jsonschema.Draft202012Validator(ACCOUNT_SCHEMA)
#: A top-level ``account:`` key, in block style or as the first key of a flow/JSON mapping.
_ACCOUNT_KEY = re.compile(r'^(?:account|"account"|\{\s*"?account"?)\s*:', re.M)

#: Surveys per persona per quarter above which the feedback plan warns.
DEFAULT_SURVEYS_PER_QUARTER = 2
#: Deals per replication when the account file does not say.
DEFAULT_DEALS = 100


@dataclass(frozen=True)
class AccountPersona:
    """One member of the buying group: its journey and its weight in the account's experience."""

    journey: Journey
    influence: float = 1.0

    @property
    def id(self) -> str:
        return self.journey.persona.id


@dataclass(frozen=True)
class Gate:
    """A consensus gate: each persona in ``at`` waits before its step until all have arrived."""

    id: str
    name: str
    #: (persona id, step id) pairs
    at: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Account:
    """A B2B account whose personas' journeys share staff and meet at gates."""

    id: str
    name: str
    personas: tuple[AccountPersona, ...]
    departments: tuple[Department, ...]
    gates: tuple[Gate, ...] = ()
    arrivals: Arrivals = field(default_factory=Arrivals)
    cases: int = DEFAULT_DEALS
    warmup: int = 0
    tier: str = ""
    revenue_band: str = ""
    description: str = ""
    max_surveys_per_quarter: int = DEFAULT_SURVEYS_PER_QUARTER
    source: str = ""
    #: The priority class of the account's cases: ``tier`` when it names one of the journeys'
    #: priority classes (in any case: ``Key`` is ``key``), else None (the tier is only a label).
    priority: str | None = None

    @property
    def stage_order(self) -> list[str]:
        """Stage ids in the order the personas' journeys give them (first persona first)."""
        order: list[str] = []
        for p in self.personas:
            for s in p.journey.stages:
                if s.id not in order:
                    order.append(s.id)
        return order


@dataclass
class CheckedAccount(Problems):
    account: Account | None
    problems: list[Problem]


def is_account_file(path: str | os.PathLike) -> bool:
    """True when the file's top level has an ``account:`` key (cheap check, no validation)."""
    try:
        text = read_text(os.fspath(path))
    except (OSError, UnicodeDecodeError):
        return False
    return _ACCOUNT_KEY.search(text) is not None


def check_account(path: str | os.PathLike, *, lint: bool = True) -> CheckedAccount:
    """Check an account file and the journeys it names; never raises on bad input."""
    file = os.fspath(path)
    try:
        return _check_account(file, lint=lint)
    except RecursionError:
        return CheckedAccount(None, [too_deep(file)])
    except Exception as exc:  # a bug of ours: one file must never stop `validate DIR` or `run DIR`
        return CheckedAccount(None, [internal_error(file, exc)])


@dataclass
class _Draft:
    """An account file being checked: its located data, the problems found, and what each section built."""

    loc: Located
    problems: list[Problem]
    personas: list[AccountPersona] = field(default_factory=list)
    #: persona id -> its journey, and -> where the account names that journey
    journeys: dict[str, Journey] = field(default_factory=dict)
    persona_pos: dict[str, Path] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    gates: list[Gate] = field(default_factory=list)
    #: gate id -> index of the gate in the file
    gate_index: dict[str, int] = field(default_factory=dict)
    arrivals: Arrivals = field(default_factory=Arrivals)
    cases: int = DEFAULT_DEALS
    warmup: int = 0

    def error(self, path: Path, rule: str, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.loc.problem(path, rule, message, hint, key=key))

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)


def _check_account(file: str, *, lint: bool) -> CheckedAccount:
    """The sections of an account in order: each reads what the ones before it built."""
    try:
        text = read_text(file)
    except (OSError, UnicodeDecodeError) as exc:
        return CheckedAccount(None, [unreadable(file, exc, "account")])
    loc, problems = load_yaml(text, file)
    if loc is None:
        return CheckedAccount(None, sort_problems(problems))
    problems += structure_problems(loc, _VALIDATOR)
    data = mapping_or_empty(loc.data)
    acc = _Draft(loc, problems)
    _personas(acc, list_or_empty(data.get("personas")), lint=lint)
    _priorities(acc)
    _departments(acc, list_or_empty(data.get("departments")))
    _gates(acc, list_or_empty(data.get("gates")))
    if not acc.has_errors:
        _gate_problems(acc)
    _workload(acc, mapping_or_empty(data.get("workload")))
    account = None
    if not acc.has_errors and acc.personas:
        meta, surveys = mapping_or_empty(data.get("account")), mapping_or_empty(data.get("surveys"))
        limit = surveys.get("max_per_quarter", DEFAULT_SURVEYS_PER_QUARTER)
        account = Account(
            id=meta.get("id") or os.path.splitext(os.path.basename(file))[0], name=meta.get("name", ""),
            personas=tuple(acc.personas), departments=tuple(acc.departments.values()), gates=tuple(acc.gates),
            arrivals=acc.arrivals, cases=acc.cases, warmup=acc.warmup, tier=str(meta.get("tier", "")),
            revenue_band=str(meta.get("revenue_band", "")), description=str(meta.get("description", "")),
            max_surveys_per_quarter=limit if isinstance(limit, int) else DEFAULT_SURVEYS_PER_QUARTER, source=file,
            priority=_tier_class(acc, meta.get("tier")))
        if lint:
            problems += account_lint(account, loc, acc.persona_pos)
    return CheckedAccount(account, sort_problems(problems))


def _tier_class(acc: _Draft, tier: Any) -> str | None:
    """The priority class ``tier`` names (case aside), else None: then a tier is a label, as it always was
    (``enterprise``), but one that looks like a misspelt class, or any tier when the journeys use priorities,
    gets a ``tier-not-a-class`` warning."""
    if not isinstance(tier, str) or not tier.strip() or not acc.personas:
        return None
    journeys = [p.journey for p in acc.personas]
    classes = journeys[0].priorities
    for name in classes:
        if name.lower() == tier.strip().lower():
            return name
    uses = any(j.priorities != PRIORITY_CLASSES or j.persona.priority or j.workload.mix for j in journeys)
    close = closest(tier, classes)
    if close or uses:
        acc.problems.append(acc.loc.problem(
            ("account", "tier"), "tier-not-a-class",
            f"tier {tier!r} is not a priority class ({', '.join(classes)})"
            + (f" (did you mean {close!r}?)" if close else "") + ": the account's cases get no priority from it",
            "write one of the classes to give the account's cases that priority; any other tier is only a label",
            severity="warning"))
    return None


def _priorities(acc: _Draft) -> None:
    """The personas' journeys must agree on their priority classes: an account's cases are served by one order."""
    if not acc.personas:
        return
    first = acc.personas[0].journey
    for p in acc.personas[1:]:
        if p.journey.priorities != first.priorities:
            acc.error(acc.persona_pos[p.id], "invalid-value",
                      f"{p.journey.source} lists the priorities {', '.join(p.journey.priorities)}, but "
                      f"{first.source} lists {', '.join(first.priorities)}",
                      "the personas of an account share their staff, so their journeys must list the same "
                      "priority classes in the same order")
            return


def _personas(acc: _Draft, entries: list, *, lint: bool) -> None:
    """``personas:``: each names a valid journey file of its own persona; together within the step limit."""
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("journey"), str):
            continue
        where = ("personas", i, "journey")
        j = _persona_journey(acc, where, entry["journey"], lint=lint)
        if j is None:
            continue
        if j.persona.id in acc.journeys:
            acc.error(where, "duplicate-id", f"persona {j.persona.id!r} appears twice in the account",
                      "each persona walks one journey; give the other one its own persona id")
            continue
        influence = entry.get("influence", 1.0)
        influence = float(influence) if is_number(influence) and influence > 0 else 1.0
        acc.personas.append(AccountPersona(j, influence))
        acc.journeys[j.persona.id] = j
        acc.persona_pos[j.persona.id] = where
    total_steps = sum(len(p.journey.steps) for p in acc.personas)
    if total_steps > MAX_STEPS:
        acc.error(("personas",), "too-large",
                  f"the personas' journeys have {total_steps:,} steps together; an account "
                  f"simulates them as one journey, and the limit is {MAX_STEPS:,}",
                  "split the buying group, or shorten the journeys; see 'Limits' in docs/format.md", key=True)


def _persona_journey(acc: _Draft, where: Path, ref: str, *, lint: bool) -> Journey | None:
    """The journey file a persona entry names, checked (its problems are the account's); None when unusable."""
    try:
        jfile = resolve_reference(ref, acc.loc.file)
    except ReferenceOutside as exc:
        acc.error(where, "outside-project", f"a persona's journey must be in this folder: {exc}",
                  "keep the account and its journeys in one folder (or folders below it)")
        return None
    if not os.path.exists(jfile):
        acc.error(where, "unknown-reference", f"journey file {ref!r} does not exist",
                  "give the path relative to this account file")
        return None
    checked = check_file(jfile, lint=lint, referenced=True)
    acc.problems += checked.problems
    if checked.journey is None:
        acc.error(where, "invalid-journey", f"journey {ref!r} has errors (listed above)")
    return checked.journey


def _departments(acc: _Draft, entries: list) -> None:
    """Shared departments: the account's capacities win; the journeys must agree otherwise (a warning)."""
    overrides = {d["id"]: (i, d) for i, d in enumerate(entries) if isinstance(d, dict) and isinstance(d.get("id"), str)}
    merged = acc.departments
    seen_in: dict[str, str] = {}
    for p in acc.personas:
        for dept in p.journey.departments:
            if dept.calendar is None and dept.shifts is None and p.journey.calendar is not None:
                # the journey's default calendar is this department's: say so, the account has no default
                dept = replace(dept, calendar=p.journey.calendar)
            if dept.id not in merged:
                merged[dept.id] = dept
                seen_in[dept.id] = p.journey.source
            elif (merged[dept.id].calendar, merged[dept.id].shifts) != (dept.calendar, dept.shifts):
                acc.problems.append(acc.loc.problem(
                    acc.persona_pos[p.id], "calendar-mismatch",
                    f"department {dept.id!r} has other working hours (calendar or shifts) in {p.journey.source} "
                    f"than in {seen_in[dept.id]}; the account uses those of {seen_in[dept.id]}",
                    "give the department the same calendar and shifts in every journey", severity="warning"))
            elif merged[dept.id].capacity != dept.capacity and dept.id not in overrides:
                acc.problems.append(acc.loc.problem(
                    acc.persona_pos[p.id], "capacity-mismatch",
                    f"department {dept.id!r} has capacity {dept.capacity} in {p.journey.source} but "
                    f"{merged[dept.id].capacity} in {seen_in[dept.id]}; the account uses {merged[dept.id].capacity}",
                    "set the shared capacity under 'departments' in the account file", severity="warning"))
    for did, (i, d) in overrides.items():
        if did not in merged:
            acc.error(("departments", i, "id"), "unknown-reference", f"no persona's journey has a department {did!r}",
                      f"departments in the journeys: {', '.join(merged) or 'none'}")
            continue
        base = merged[did]
        cap = d.get("capacity", base.capacity)
        if base.shifts is not None and "capacity" in d:
            acc.error(("departments", i, "capacity"), "invalid-capacity",
                      f"department {did!r} works in shifts in the journeys: its capacity comes from them",
                      "remove 'capacity' here, or change the shifts in the journeys", key=True)
            continue
        merged[did] = replace(base, name=str_or(d.get("name"), base.name),
                              capacity=cap if isinstance(cap, int) and cap >= 1 else base.capacity)


def _gates(acc: _Draft, entries: list) -> None:
    """``gates:`` with distinct ids, each naming a step of each of its personas."""
    for i, g in enumerate(entries):
        if not isinstance(g, dict) or not isinstance(g.get("id"), str) or not isinstance(g.get("at"), dict):
            continue
        if g["id"] in acc.gate_index:
            acc.error(("gates", i, "id"), "duplicate-id", f"gate id {g['id']!r} is used twice")
            continue
        acc.gate_index[g["id"]] = i
        at = _gate_steps(acc, i, g)
        if at is not None:
            acc.gates.append(Gate(g["id"], str_or(g.get("name"), g["id"]), at))


def _gate_steps(acc: _Draft, i: int, g: dict) -> tuple[tuple[str, str], ...] | None:
    """The (persona, step) pairs of gate ``g``; None when one of them names nothing (reported)."""
    at = []
    ok = True
    for pid, sid in g["at"].items():
        if pid not in acc.journeys:
            acc.error(("gates", i, "at", pid), "unknown-reference",
                      f"gate {g['id']!r} names persona {pid!r}, which is not in the account",
                      f"personas: {', '.join(acc.journeys) or 'none'}", key=True)
            ok = False
        elif not isinstance(sid, str) or sid not in acc.journeys[pid].step_by_id:
            acc.error(("gates", i, "at", pid), "unknown-reference", f"persona {pid!r} has no step {sid!r}",
                      f"steps of {pid}: {', '.join(acc.journeys[pid].step_by_id)}")
            ok = False
        else:
            at.append((pid, sid))
    return tuple(at) if ok else None


def _gate_problems(acc: _Draft) -> None:
    """Each gate reachable by every persona it names, never skippable, and no two gates in opposite orders."""
    forward = {pid: flow_graph(j) for pid, j in acc.journeys.items()}
    order = nx.DiGraph()
    for gate in acc.gates:
        for pid, sid in gate.at:
            if _gate_passed(acc, gate, pid, sid, forward[pid]):
                order.add_node(gate.id)
    _gate_order_problems(acc, order)


def _gate_passed(acc: _Draft, gate: Gate, pid: str, sid: str, g: nx.DiGraph) -> bool:
    """Every path of persona ``pid`` goes through its step ``sid`` of ``gate``; False when not (reported)."""
    j = acc.journeys[pid]
    where = ("gates", acc.gate_index[gate.id], "at", pid)
    if sid not in nx.descendants(g, j.start) | {j.start}:
        acc.error(where, "gate-unreachable", f"persona {pid!r} can never reach step {sid!r} of gate {gate.id!r}",
                  "pick a step on the persona's path, or remove the persona from the gate")
        return False
    h = g.copy()
    h.remove_node(sid)
    if sid != j.start and any(e in h and nx.has_path(h, j.start, e) for e in j.ends):
        acc.error(where, "gate-deadlock", f"persona {pid!r} can finish without passing step {sid!r}, so the others "
                  f"would wait at gate {gate.id!r} for ever",
                  "put the gate on a step every path of the persona goes through")
        return False
    return True


def _gate_order_problems(acc: _Draft, order: nx.DiGraph) -> None:
    """For a persona, gate A comes before gate B when B is reachable from A's step without going back
    (rework); two personas meeting two gates in opposite orders deadlock."""
    for pid, j in acc.journeys.items():
        g = nx.DiGraph((f.source, f.target) for f in j.flows if not f.rework and f.probability > 0)
        mine = [(gate.id, sid) for gate in acc.gates for p, sid in gate.at if p == pid]
        for a, sa in mine:
            for b, sb in mine:
                if a != b and sa in g and sb in g and nx.has_path(g, sa, sb):
                    order.add_edge(a, b, persona=pid)
    try:
        cycle = nx.find_cycle(order)
    except nx.NetworkXNoCycle:
        return
    a = cycle[0][0]
    who = ", ".join(f"{order.edges[u, v]['persona']} meets {u} before {v}" for u, v in cycle)
    acc.error(("gates", acc.gate_index[a], "id"), "gate-deadlock",
              f"gates {' and '.join(sorted({u for u, _ in cycle}))} deadlock: {who}",
              "make every persona meet the gates in the same order")


def _workload(acc: _Draft, w: dict[str, Any]) -> None:
    """``workload:`` of the deals: arrivals (the first persona's by default), deals, warm-up; a run must finish."""
    acc.arrivals = (parse_arrivals(w.get("arrivals"))
                    or (acc.personas[0].journey.workload.arrivals if acc.personas else Arrivals()))
    acc.cases = w.get("cases", DEFAULT_DEALS) if isinstance(w.get("cases"), int) else DEFAULT_DEALS
    acc.warmup = w.get("warmup", 0) if isinstance(w.get("warmup"), int) else 0
    if acc.warmup >= acc.cases:
        acc.error(("workload", "warmup"), "out-of-range",
                  f"warmup ({acc.warmup}) leaves no deals out of {acc.cases} to measure",
                  "make warmup smaller than cases")
    if not acc.personas or acc.has_errors:
        return
    from .analysis import expected_visits
    from .graph import build_graph

    per_deal = sum(sum(expected_visits(build_graph(p.journey)).values()) for p in acc.personas)
    if per_deal * acc.cases > MAX_VISITS_PER_RUN:
        acc.error(("workload", "cases") if "cases" in w else ("personas",), "endless-run",
                  f"a run would simulate {per_deal * acc.cases:,.0f} step visits ({acc.cases:,} deals x "
                  f"{per_deal:,.1f} expected visits per deal); the limit is {MAX_VISITS_PER_RUN:,}",
                  "simulate fewer deals", key="cases" not in w)


def load_account(path: str | os.PathLike) -> Account:
    """Load and check an account file; raises :class:`JourneyInvalid` with every problem."""
    checked = check_account(path, lint=False)
    if checked.account is None:
        raise JourneyInvalid(checked.problems)
    return checked.account


# --------------------------------------------------------------------------- coverage


def coverage(account: Account) -> dict[str, Any]:
    """The persona × stage matrix of touchpoints, and its gaps.

    A **gap** is a stage where a persona has no touchpoint although it has
    touchpoints in an earlier and a later stage (a silent stretch, such as a
    decision maker who hears nothing between onboarding and renewal), or,
    for a decision maker, no touchpoint in the last stage (absent at renewal).
    """
    stages = account.stage_order
    matrix: dict[str, dict[str, int]] = {}
    gaps: list[dict[str, Any]] = []
    for p in account.personas:
        row = {s: 0 for s in stages}
        for step in p.journey.steps:
            if step.is_touchpoint:
                row[step.stage] += 1
        matrix[p.id] = row
        present = [i for i, s in enumerate(stages) if row[s] > 0]
        if present:
            for i in range(present[0] + 1, present[-1]):
                if row[stages[i]] == 0:
                    gaps.append({"persona": p.id, "role": p.journey.persona.role, "stage": stages[i],
                                 "kind": "silent-stage",
                                 "message": f"{p.journey.persona.name} ({p.journey.persona.role.replace('_', ' ')}) "
                                            f"has no touchpoint in {stages[i]}, between "
                                            f"{stages[present[0]]} and {stages[present[-1]]}"})
        if p.journey.persona.role == "decision_maker" and stages and row[stages[-1]] == 0:
            gaps.append({"persona": p.id, "role": "decision_maker", "stage": stages[-1], "kind": "absent-at-end",
                         "message": f"decision maker {p.journey.persona.name} has no touchpoint in {stages[-1]}"})
    return {"stages": stages, "matrix": matrix, "gaps": gaps}


def account_lint(account: Account, loc: Located, persona_pos: dict[str, tuple]) -> list[Problem]:
    """Warnings about the buying group: coverage gaps."""
    out = []
    for gap in coverage(account)["gaps"]:
        out.append(loc.problem(persona_pos[gap["persona"]], "coverage-gap", gap["message"],
                               "add a touchpoint for this persona in that stage (a review, an update, a check-in)",
                               severity="warning"))
    return out
