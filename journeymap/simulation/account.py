"""Simulating an account: the personas' journeys run together, share staff and meet at gates.

The account becomes one **combined journey**: a start step forks, in
parallel, into every persona's journey (step ids ``persona:step``; ``:`` is never part of an id), and
every persona's end steps lead to one join step, so a deal is done when its
last persona is done. The departments are the account's shared pools, so the
personas of every open deal compete for the same people. The simulator's
:class:`~.records.Meeting` tells it which persona each step
belongs to and where the gates are: a persona that reaches its gate step waits
there until every persona of the gate has arrived, and the last one to arrive
is the one who **held up the deal** at that gate.

Everything the single-journey simulator measures is measured here too (on the
combined journey), plus, per persona, its cycle time from the deal's start,
how often it held up each gate, how often it was the last to finish (the
critical path across stakeholders), its experience index and its surveys, and
for the account, its cycle time and the influence-weighted experience index.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ..account import Account, coverage
from ..distributions import Fixed
from ..experience import account_experience, persona_experience
from ..model import CUSTOMER, PRIORITY_CLASSES, Flow, Journey, Persona, Step, Workload
from ..statistics import summarize
from .records import Meeting, Replication, SimulationResult
from .runner import ProgressCallback, simulate

__all__ = ["combined_journey", "persona_class", "simulate_account", "summarize_account", "START", "END",
           "SEPARATOR"]

#: Ids of the synthetic steps where a deal starts and ends.
#: ':' cannot appear in a journey id, so no persona's step can collide with these or with each other.
SEPARATOR = ":"
#: The deal's own steps start with ':' so that no persona (whose id is never empty) can collide with them.
START, END = ":deal-start", ":deal-end"


def _pid(persona: str, step: str) -> str:
    return f"{persona}{SEPARATOR}{step}"


def persona_class(account: Account) -> str | None:
    """The priority class of the account's deals: the class its file's ``tier`` names (``account.priority``,
    read by the loader), else the tier itself when it is a priority class (strategic, key, growth,
    transactional), else None (a free-text tier such as "enterprise" changes nothing)."""
    named = getattr(account, "priority", None)
    if named:
        return str(named)
    tier = getattr(account, "tier", None) or None
    return tier if tier in PRIORITY_CLASSES else None


def combined_journey(account: Account) -> tuple[Journey, Meeting]:
    """The account as one journey, and the meeting that tells the simulator who is who."""
    stages = []
    seen = set()
    for p in account.personas:
        for st in p.journey.stages:
            if st.id not in seen:
                seen.add(st.id)
                stages.append(st)
    first, last = stages[0].id, stages[-1].id
    steps: list[Step] = [Step(START, "Deal opens", first, "customer", CUSTOMER, Fixed(0.0), join=END,
                              persona="", persona_name="The deal")]
    flows: list[Flow] = []
    persona_of: dict[str, int] = {}
    persona_ends: set[str] = set()
    gate_names = {(pid, sid): gate.name for gate in account.gates for pid, sid in gate.at}
    for k, p in enumerate(account.personas):
        j = p.journey
        for s in _persona_steps(p.id, j, gate_names):
            steps.append(s)
            persona_of[s.id] = k
        flows += [dataclasses.replace(f, source=_pid(p.id, f.source), target=_pid(p.id, f.target)) for f in j.flows]
        flows.append(Flow(START, _pid(p.id, j.start), 1.0, parallel=True))
        for e in j.ends:
            flows.append(Flow(_pid(p.id, e), END))
            persona_ends.add(_pid(p.id, e))
    steps.append(Step(END, "Deal done", last, "customer", CUSTOMER, Fixed(0.0), persona="", persona_name="The deal"))
    assert len({s.id for s in steps}) == len(steps), "combined step ids must be unique"
    gate_of = {_pid(pid, sid): g for g, gate in enumerate(account.gates) for pid, sid in gate.at}
    journey = Journey(
        id=account.id, name=account.name, description=account.description,
        persona=Persona(account.id, account.name, "decision_maker", priority=persona_class(account)),
        stages=tuple(stages), departments=account.departments, steps=tuple(steps), flows=tuple(flows),
        start=START, ends=(END,),
        workload=Workload(account.arrivals, account.cases, (), account.warmup, start=_start(account)),
        source=account.source,
        customer_calendars=tuple((p.id, p.journey.persona.calendar) for p in account.personas))
    meeting = Meeting(persona_of=persona_of, persona_ends=frozenset(persona_ends), gate_of=gate_of,
                      gate_sizes=tuple(len(g.at) for g in account.gates), n_personas=len(account.personas))
    return journey, meeting


def _start(account: Account) -> datetime | None:
    """The deal's start: the first persona journey's ``workload.start`` that is given (the personas' files
    share their workload), else None (the next Monday 09:00, when the account keeps working time)."""
    return next((p.journey.workload.start for p in account.personas if p.journey.workload.start is not None), None)


def _persona_steps(pid: str, j: Journey, gate_names: dict[tuple[str, str], str]) -> list[Step]:
    """A persona's steps in the combined journey: ids ``persona:step``, the persona's name and gate as fields."""
    tol = j.persona.tolerance
    out = []
    for s in j.steps:
        gate = gate_names.get((pid, s.id))
        # the gate is part of the step's name so that maps and reports show where personas wait
        shown = f" (waits for everyone at gate: {gate})" if gate is not None else ""
        out.append(dataclasses.replace(
            s, id=_pid(pid, s.id), name=f"{j.persona.name}: {s.name}{shown}",
            join=_pid(pid, s.join) if s.join else None,
            tolerance=s.tolerance if s.tolerance is not None else tol,
            persona=pid, persona_name=j.persona.name, gate=gate))
    return out


def simulate_account(account: Account, *, cases: int | None = None, replications: int = 10, seed: int = 1,
                     warmup: int | None = None, workers: int = 1, events: str | None = None,
                     progress: ProgressCallback | None = None) -> tuple[dict[str, Any], SimulationResult]:
    """Simulate the account; returns its JSON-ready summary and the combined journey's result."""
    journey, meeting = combined_journey(account)
    result = simulate(journey, cases=cases, replications=replications, seed=seed, warmup=warmup, workers=workers,
                      events=events, progress=progress, meeting=meeting)
    return summarize_account(account, journey, result), result


def summarize_account(account: Account, journey: Journey, result: SimulationResult) -> dict[str, Any]:
    """Per persona and for the account: cycle times, gates, hold-ups, experience, surveys, coverage."""
    summary = result.summary
    n = summary["measured_cases"]
    stage_ids = [s.id for s in journey.stages]
    personas = {p.id: _persona(account, k, result, stage_ids) for k, p in enumerate(account.personas)}
    gates = _gates(account, result.replications, n, personas)
    # the critical persona: who is the last to finish, on average, is the one with the longest cycle;
    # per case, the share of deals each persona finishes last
    for pid, share in _last_to_finish(account, result.replications).items():
        personas[pid]["last_to_finish"] = share
    influence = {p.id: p.influence for p in account.personas}
    account_exp = account_experience({pid: p["experience"] for pid, p in personas.items()}, influence, stage_ids)
    warnings = [f"{p['name']} gets up to {p['surveys']['max_per_quarter_p90']:.0f} surveys a quarter "
                f"(P90 over deals; limit {account.max_surveys_per_quarter})"
                for p in personas.values() if p["surveys"].get("over_limit")]
    return {
        "account": account.id,
        "name": account.name,
        "seed": summary["seed"],
        "replications": summary["replications"],
        "cases": summary["cases"],
        "time_unit": "minutes",
        "measured_cases": n,
        "cycle_time": summary["case"]["cycle_time"],
        "personas": personas,
        "gates": gates,
        "experience": account_exp,
        "coverage": coverage(account),
        "survey_limit_per_quarter": account.max_surveys_per_quarter,
        "survey_warnings": warnings,
        "departments": summary["departments"],
        "bottleneck": summary["bottleneck"],
        # the deal's elapsed time on its critical path (the persona who finished last), by stage and mechanism
        "time_breakdown": summary["time_breakdown"],
        "combined": summary,
    }


def _persona(account: Account, k: int, result: SimulationResult, stage_ids: list[str]) -> dict[str, Any]:
    """Persona ``k`` of the account: its cycle time from the deal's start, experience index and surveys.

    ``held_up`` is filled by :func:`_gates` and ``last_to_finish`` by :func:`summarize_account`.
    """
    reps, summary = result.replications, result.summary
    p = account.personas[k]
    j = p.journey
    pooled = np.concatenate([r.persona_cycle[k] for r in reps]) if reps else np.zeros(0)
    means = [float(r.persona_cycle[k].mean()) for r in reps if len(r.persona_cycle[k])]
    tps = [{"step": s.id, "stage": s.stage, "emotion": s.emotion,
            "visits_per_case": summary["steps"][_pid(p.id, s.id)]["visits_per_case"],
            "over_tolerance": summary["steps"][_pid(p.id, s.id)]["over_tolerance"]}
           for s in j.steps if s.is_touchpoint]
    surveys = summary["surveys"].get(str(k), {})
    return {
        "name": j.persona.name, "role": j.persona.role, "influence": p.influence, "journey": j.source,
        "cycle_time": summarize(pooled, means),
        "held_up": {},
        "experience": persona_experience(tps, stage_ids),
        "surveys": dict(surveys,
                        over_limit=surveys.get("max_per_quarter_p90", 0.0) > account.max_surveys_per_quarter),
    }


def _gates(account: Account, reps: Sequence[Replication], n: int, personas: dict[str, Any]) -> dict[str, Any]:
    """Per gate: each persona's wait there per deal and how often it arrived last (held up the deal).

    Also records the hold-ups under each persona's ``held_up``.
    """
    order = [p.id for p in account.personas]
    gates = {}
    for g, gate in enumerate(account.gates):
        wait = {}
        held = {}
        for pid, _ in gate.at:
            k = order.index(pid)
            wait[pid] = sum(r.gate_wait[g][k] for r in reps) / n if n else 0.0
            held[pid] = sum(r.gate_last[g][k] for r in reps) / n if n else 0.0
            personas[pid]["held_up"][gate.id] = held[pid]
        gates[gate.id] = {"name": gate.name, "wait_per_case": wait, "held_up_by": held,
                          "usually_held_up_by": max(held, key=lambda q: (held[q], q)) if held else None}
    return gates


def _last_to_finish(account: Account, reps: Sequence[Replication]) -> dict[str, float]:
    """Share of deals each persona finishes last (the critical path across the buying group)."""
    counts = {p.id: 0.0 for p in account.personas}
    total = 0
    for r in reps:
        arrays = r.persona_cycle
        if not arrays or not len(arrays[0]):
            continue
        stacked = np.vstack(arrays)
        last = stacked == stacked.max(axis=0)        # personas finishing together share the deal
        share = last / last.sum(axis=0)
        for k, p in enumerate(account.personas):
            counts[p.id] += float(share[k].sum())
        total += stacked.shape[1]
    return {pid: (c / total if total else 0.0) for pid, c in counts.items()}
