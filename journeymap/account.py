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
coverage gaps); the simulated parts live in :mod:`journeymap.account_simulation`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import networkx as nx

from .errors import JourneyInvalid
from .loading import Located, ReferenceOutside, load_yaml, read_text, resolve_reference
from .model import Arrivals, Department, Journey
from .problems import Problem, Problems, sort_problems
from .schema import ACCOUNT_SCHEMA
from .validation import MAX_STEPS, MAX_VISITS_PER_RUN, check_file, internal_error, parse_arrivals, structure_problems

__all__ = ["AccountPersona", "Gate", "Account", "CheckedAccount", "check_account", "load_account",
           "is_account_file", "coverage", "DEFAULT_SURVEYS_PER_QUARTER"]

_VALIDATOR = jsonschema.Draft202012Validator(ACCOUNT_SCHEMA)
#: A top-level ``account:`` key, in block style or as the first key of a flow/JSON mapping.
_ACCOUNT_KEY = re.compile(r'^(?:account|"account"|\{\s*"?account"?)\s*:', re.M)

#: Surveys per persona per quarter above which the feedback plan warns.
DEFAULT_SURVEYS_PER_QUARTER = 2


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
    cases: int = 100
    warmup: int = 0
    tier: str = ""
    revenue_band: str = ""
    description: str = ""
    max_surveys_per_quarter: int = DEFAULT_SURVEYS_PER_QUARTER
    source: str = ""

    @property
    def persona_by_id(self) -> dict[str, AccountPersona]:
        return {p.id: p for p in self.personas}

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


def _gate_problems(loc: Located, account_gates: list[tuple[int, Gate]], journeys: dict[str, Journey]) -> list[Problem]:
    """Each gate reachable by every persona it names, never skippable, and no two gates in opposite orders."""
    problems = []
    forward: dict[str, nx.DiGraph] = {}
    for pid, j in journeys.items():
        g = nx.DiGraph()
        g.add_nodes_from(s.id for s in j.steps)
        g.add_edges_from((f.source, f.target) for f in j.flows if f.probability > 0)
        forward[pid] = g
    order = nx.DiGraph()
    for i, gate in account_gates:
        for pid, sid in gate.at:
            j, g = journeys[pid], forward[pid]
            where = ("gates", i, "at", pid)
            if sid not in nx.descendants(g, j.start) | {j.start}:
                problems.append(loc.problem(where, "gate-unreachable",
                                            f"persona {pid!r} can never reach step {sid!r} of gate {gate.id!r}",
                                            "pick a step on the persona's path, or remove the persona from the gate"))
                continue
            h = g.copy()
            h.remove_node(sid)
            if sid != j.start and any(e in h and nx.has_path(h, j.start, e) for e in j.ends):
                problems.append(loc.problem(where, "gate-deadlock",
                                            f"persona {pid!r} can finish without passing step {sid!r}, so the others "
                                            f"would wait at gate {gate.id!r} for ever",
                                            "put the gate on a step every path of the persona goes through"))
                continue
            order.add_node(gate.id)
    # gate order: for a persona, gate A comes before gate B when B is reachable from A's step
    # without going back (rework) - opposite orders for two personas deadlock
    for pid, j in journeys.items():
        g = nx.DiGraph((f.source, f.target) for f in j.flows if not f.rework and f.probability > 0)
        mine = [(gate.id, sid) for _, gate in account_gates for p, sid in gate.at if p == pid]
        for a, sa in mine:
            for b, sb in mine:
                if a != b and sa in g and sb in g and nx.has_path(g, sa, sb):
                    order.add_edge(a, b, persona=pid)
    try:
        cycle = nx.find_cycle(order)
    except nx.NetworkXNoCycle:
        cycle = []
    if cycle:
        index = {gate.id: i for i, gate in account_gates}
        a, b = cycle[0][0], cycle[0][1]
        who = ", ".join(f"{order.edges[u, v]['persona']} meets {u} before {v}" for u, v in cycle)
        problems.append(loc.problem(("gates", index[a], "id"), "gate-deadlock",
                                    f"gates {' and '.join(sorted({u for u, _ in cycle}))} deadlock: {who}",
                                    "make every persona meet the gates in the same order"))
    return problems


def check_account(path: str | os.PathLike, *, lint: bool = True) -> CheckedAccount:
    """Check an account file and the journeys it names; never raises on bad input."""
    file = os.fspath(path)
    try:
        return _check_account(file, lint=lint)
    except RecursionError:
        return CheckedAccount(None, [Problem(file, 1, 1, "error", "too-large", "the file is nested too deeply to check",
                                             "see 'Limits' in docs/format.md")])
    except Exception as exc:  # a bug of ours: one file must never stop `validate DIR` or `run DIR`
        return CheckedAccount(None, [internal_error(file, exc)])


def _check_account(file: str, *, lint: bool) -> CheckedAccount:
    try:
        text = read_text(file)
    except UnicodeDecodeError:
        return CheckedAccount(None, [Problem(file, 1, 1, "error", "file", "cannot read the file: it is not UTF-8 text",
                                             "account files are UTF-8 text")])
    except OSError as exc:
        return CheckedAccount(None, [Problem(file, 1, 1, "error", "file", f"cannot read the file: {exc.strerror or exc}",
                                             "account files are ordinary UTF-8 text files of at most 10 MB")])
    loc, problems = load_yaml(text, file)
    if loc is None:
        return CheckedAccount(None, sort_problems(problems))
    problems += structure_problems(loc, _VALIDATOR)
    data = loc.data if isinstance(loc.data, dict) else {}
    meta = data.get("account") if isinstance(data.get("account"), dict) else {}

    personas: list[AccountPersona] = []
    journeys: dict[str, Journey] = {}
    persona_pos: dict[str, tuple] = {}
    for i, entry in enumerate(data.get("personas") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("journey"), str):
            continue
        try:
            jfile = resolve_reference(entry["journey"], file)
        except ReferenceOutside as exc:
            problems.append(loc.problem(("personas", i, "journey"), "outside-project",
                                        f"a persona's journey must be in this folder: {exc}",
                                        "keep the account and its journeys in one folder (or folders below it)"))
            continue
        if not os.path.exists(jfile):
            problems.append(loc.problem(("personas", i, "journey"), "unknown-reference",
                                        f"journey file {entry['journey']!r} does not exist",
                                        "give the path relative to this account file"))
            continue
        checked = check_file(jfile, lint=lint, referenced=True)
        problems += checked.problems
        if checked.journey is None:
            problems.append(loc.problem(("personas", i, "journey"), "invalid-journey",
                                        f"journey {entry['journey']!r} has errors (listed above)"))
            continue
        j = checked.journey
        if j.persona.id in journeys:
            problems.append(loc.problem(("personas", i, "journey"), "duplicate-id",
                                        f"persona {j.persona.id!r} appears twice in the account",
                                        "each persona walks one journey; give the other one its own persona id"))
            continue
        influence = entry.get("influence", 1.0)
        influence = float(influence) if isinstance(influence, (int, float)) and not isinstance(influence, bool) and influence > 0 else 1.0
        personas.append(AccountPersona(j, influence))
        journeys[j.persona.id] = j
        persona_pos[j.persona.id] = ("personas", i, "journey")

    total_steps = sum(len(p.journey.steps) for p in personas)
    if total_steps > MAX_STEPS:
        problems.append(loc.problem(("personas",), "too-large",
                                    f"the personas' journeys have {total_steps:,} steps together; an account "
                                    f"simulates them as one journey, and the limit is {MAX_STEPS:,}",
                                    "split the buying group, or shorten the journeys; see 'Limits' in docs/format.md",
                                    key=True))

    # shared departments: the account's capacities win; journeys must agree otherwise
    overrides = {d["id"]: (i, d) for i, d in enumerate(data.get("departments") or [])
                 if isinstance(d, dict) and isinstance(d.get("id"), str)}
    merged: dict[str, Department] = {}
    seen_in: dict[str, str] = {}
    for p in personas:
        for d in p.journey.departments:
            if d.id not in merged:
                merged[d.id] = d
                seen_in[d.id] = p.journey.source
            elif merged[d.id].capacity != d.capacity and d.id not in overrides:
                problems.append(loc.problem(persona_pos[p.id], "capacity-mismatch",
                                            f"department {d.id!r} has capacity {d.capacity} in {p.journey.source} but "
                                            f"{merged[d.id].capacity} in {seen_in[d.id]}; the account uses "
                                            f"{merged[d.id].capacity}",
                                            "set the shared capacity under 'departments' in the account file",
                                            severity="warning"))
    for did, (i, d) in overrides.items():
        if did not in merged:
            problems.append(loc.problem(("departments", i, "id"), "unknown-reference",
                                        f"no persona's journey has a department {did!r}",
                                        f"departments in the journeys: {', '.join(merged) or 'none'}"))
            continue
        base = merged[did]
        cap = d.get("capacity", base.capacity)
        merged[did] = Department(did, d.get("name", base.name) if isinstance(d.get("name"), str) else base.name,
                                 cap if isinstance(cap, int) and cap >= 1 else base.capacity, base.cost_per_hour)

    gates: list[tuple[int, Gate]] = []
    seen_gates: set[str] = set()
    for i, g in enumerate(data.get("gates") or []):
        if not isinstance(g, dict) or not isinstance(g.get("id"), str) or not isinstance(g.get("at"), dict):
            continue
        if g["id"] in seen_gates:
            problems.append(loc.problem(("gates", i, "id"), "duplicate-id", f"gate id {g['id']!r} is used twice"))
            continue
        seen_gates.add(g["id"])
        at = []
        ok = True
        for pid, sid in g["at"].items():
            if pid not in journeys:
                problems.append(loc.problem(("gates", i, "at", pid), "unknown-reference",
                                            f"gate {g['id']!r} names persona {pid!r}, which is not in the account",
                                            f"personas: {', '.join(journeys) or 'none'}", key=True))
                ok = False
            elif not isinstance(sid, str) or sid not in journeys[pid].step_by_id:
                problems.append(loc.problem(("gates", i, "at", pid), "unknown-reference",
                                            f"persona {pid!r} has no step {sid!r}",
                                            f"steps of {pid}: {', '.join(journeys[pid].step_by_id)}"))
                ok = False
            else:
                at.append((pid, sid))
        if ok:
            gates.append((i, Gate(g["id"], g.get("name", g["id"]) if isinstance(g.get("name"), str) else g["id"], tuple(at))))
    if not any(p.is_error for p in problems):
        problems += _gate_problems(loc, gates, journeys)

    w = data.get("workload") if isinstance(data.get("workload"), dict) else {}
    arrivals = (parse_arrivals(w.get("arrivals"))
                or (personas[0].journey.workload.arrivals if personas else Arrivals()))
    cases = w.get("cases", 100) if isinstance(w.get("cases"), int) else 100
    warmup = w.get("warmup", 0) if isinstance(w.get("warmup"), int) else 0
    if warmup >= cases:
        problems.append(loc.problem(("workload", "warmup"), "out-of-range",
                                    f"warmup ({warmup}) leaves no deals out of {cases} to measure",
                                    "make warmup smaller than cases"))
    if personas and not any(p.is_error for p in problems):
        from .analysis import expected_visits
        from .graph import build_graph

        per_deal = sum(sum(expected_visits(build_graph(p.journey)).values()) for p in personas)
        if per_deal * cases > MAX_VISITS_PER_RUN:
            problems.append(loc.problem(("workload", "cases") if "cases" in w else ("personas",), "endless-run",
                                        f"a run would simulate {per_deal * cases:,.0f} step visits ({cases:,} deals x "
                                        f"{per_deal:,.1f} expected visits per deal); the limit is {MAX_VISITS_PER_RUN:,}",
                                        "simulate fewer deals", key="cases" not in w))
    surveys = data.get("surveys") if isinstance(data.get("surveys"), dict) else {}
    limit = surveys.get("max_per_quarter", DEFAULT_SURVEYS_PER_QUARTER)

    account = None
    if not any(p.is_error for p in problems) and personas:
        account = Account(
            id=meta.get("id") or os.path.splitext(os.path.basename(file))[0], name=meta.get("name", ""),
            personas=tuple(personas), departments=tuple(merged.values()), gates=tuple(g for _, g in gates),
            arrivals=arrivals, cases=cases, warmup=warmup, tier=str(meta.get("tier", "")),
            revenue_band=str(meta.get("revenue_band", "")), description=str(meta.get("description", "")),
            max_surveys_per_quarter=limit if isinstance(limit, int) else DEFAULT_SURVEYS_PER_QUARTER, source=file)
        if lint:
            problems += account_lint(account, loc, persona_pos)
    return CheckedAccount(account, sort_problems(problems))


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
