"""Simulating an account: the personas' journeys run together, share staff and meet at gates.

The account becomes one **combined journey**: a start step forks, in
parallel, into every persona's journey (step ids ``persona:step``; ``:`` is never part of an id), and
every persona's end steps lead to one join step, so a deal is done when its
last persona is done. The departments are the account's shared pools, so the
personas of every open deal compete for the same people. The simulator's
:class:`~journeymap.simulation.Meeting` tells it which persona each step
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
from typing import Any

import numpy as np

from .account import Account, coverage
from .distributions import Fixed
from .experience import account_experience, persona_experience
from .model import CUSTOMER, Flow, Journey, Persona, Step, Workload
from .simulation import Meeting, ProgressCallback, SimulationResult, simulate, time_breakdown_text
from .statistics import summarize

__all__ = ["combined_journey", "simulate_account", "account_summary_text", "START", "END"]

#: Ids of the synthetic steps where a deal starts and ends.
#: ':' cannot appear in a journey id, so no persona's step can collide with these or with each other.
SEPARATOR = ":"
#: The deal's own steps start with ':' so that no persona (whose id is never empty) can collide with them.
START, END = ":deal-start", ":deal-end"


def _pid(persona: str, step: str) -> str:
    return f"{persona}{SEPARATOR}{step}"


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
        tol = j.persona.tolerance
        for s in j.steps:
            sid = _pid(p.id, s.id)
            # the gate is part of the step's name so that maps and reports show where personas wait
            gate = f" (waits for everyone at gate: {gate_names[(p.id, s.id)]})" if (p.id, s.id) in gate_names else ""
            steps.append(dataclasses.replace(
                s, id=sid, name=f"{j.persona.name}: {s.name}{gate}", join=_pid(p.id, s.join) if s.join else None,
                tolerance=s.tolerance if s.tolerance is not None else tol,
                persona=p.id, persona_name=j.persona.name, gate=gate_names.get((p.id, s.id))))
            persona_of[sid] = k
        for f in j.flows:
            flows.append(dataclasses.replace(f, source=_pid(p.id, f.source), target=_pid(p.id, f.target)))
        flows.append(Flow(START, _pid(p.id, j.start), 1.0, parallel=True))
        for e in j.ends:
            flows.append(Flow(_pid(p.id, e), END))
            persona_ends.add(_pid(p.id, e))
    steps.append(Step(END, "Deal done", last, "customer", CUSTOMER, Fixed(0.0), persona="", persona_name="The deal"))
    assert len({s.id for s in steps}) == len(steps), "combined step ids must be unique"
    gate_of = {}
    for g, gate in enumerate(account.gates):
        for pid, sid in gate.at:
            gate_of[_pid(pid, sid)] = g
    journey = Journey(
        id=account.id, name=account.name, description=account.description,
        persona=Persona(account.id, account.name, "decision_maker"),
        stages=tuple(stages), departments=account.departments, steps=tuple(steps), flows=tuple(flows),
        start=START, ends=(END,), workload=Workload(account.arrivals, account.cases, (), account.warmup),
        source=account.source)
    meeting = Meeting(persona_of=persona_of, persona_ends=frozenset(persona_ends), gate_of=gate_of,
                      gate_sizes=tuple(len(g.at) for g in account.gates), n_personas=len(account.personas))
    return journey, meeting


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
    reps = result.replications
    summary = result.summary
    n = summary["measured_cases"]
    stage_ids = [s.id for s in journey.stages]
    personas: dict[str, Any] = {}
    experiences: dict[str, Any] = {}
    for k, p in enumerate(account.personas):
        pooled = np.concatenate([r.persona_cycle[k] for r in reps]) if reps else np.zeros(0)
        means = [float(r.persona_cycle[k].mean()) for r in reps if len(r.persona_cycle[k])]
        j = p.journey
        tps = []
        for s in j.steps:
            if s.is_touchpoint:
                st = summary["steps"][_pid(p.id, s.id)]
                tps.append({"step": s.id, "stage": s.stage, "emotion": s.emotion,
                            "visits_per_case": st["visits_per_case"], "over_tolerance": st["over_tolerance"]})
        experiences[p.id] = persona_experience(tps, stage_ids)
        surveys = summary["surveys"].get(str(k), {})
        personas[p.id] = {
            "name": j.persona.name, "role": j.persona.role, "influence": p.influence, "journey": j.source,
            "cycle_time": summarize(pooled, means),
            "held_up": {},
            "experience": experiences[p.id],
            "surveys": dict(surveys, over_limit=surveys.get("max_per_quarter_p90", 0.0) > account.max_surveys_per_quarter),
        }
    gates = {}
    for g, gate in enumerate(account.gates):
        wait = {}
        held = {}
        for pid, _ in gate.at:
            k = [p.id for p in account.personas].index(pid)
            wait[pid] = sum(r.gate_wait[g][k] for r in reps) / n if n else 0.0
            held[pid] = sum(r.gate_last[g][k] for r in reps) / n if n else 0.0
            personas[pid]["held_up"][gate.id] = held[pid]
        gates[gate.id] = {"name": gate.name, "wait_per_case": wait, "held_up_by": held,
                          "usually_held_up_by": max(held, key=lambda q: (held[q], q)) if held else None}
    # the critical persona: who is the last to finish, on average, is the one with the longest cycle;
    # per case, the share of deals each persona finishes last
    last_counts = _last_to_finish(account, reps)
    for pid, share in last_counts.items():
        personas[pid]["last_to_finish"] = share
    influence = {p.id: p.influence for p in account.personas}
    account_exp = account_experience(experiences, influence, stage_ids)
    warnings = [f"{personas[pid]['name']} gets up to {personas[pid]['surveys']['max_per_quarter_p90']:.0f} surveys a quarter "
                f"(P90 over deals; limit {account.max_surveys_per_quarter})"
                for pid in personas if personas[pid]["surveys"].get("over_limit")]
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


def _last_to_finish(account: Account, reps) -> dict[str, float]:
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


def account_summary_text(a: dict[str, Any]) -> str:
    """The terminal report of ``journeymap simulate ACCOUNT``."""
    from .distributions import format_minutes
    from .tables import table

    ct = a["cycle_time"]
    out = [f"Account {a['name']} ({a['account']}): {a['replications']} replication(s), {a['measured_cases']} deals measured",
           f"Deal cycle time: mean {format_minutes(ct['mean'])}, P50 {format_minutes(ct['p50'])}, "
           f"P90 {format_minutes(ct['p90'])}", ""]
    rows = []
    for pid, p in a["personas"].items():
        rows.append([p["name"], p["role"].replace("_", " "), p["influence"], format_minutes(p["cycle_time"]["mean"]),
                     f"{p.get('last_to_finish', 0):.0%}",
                     ", ".join(f"{g} {v:.0%}" for g, v in p["held_up"].items()) or "-",
                     f"{p['experience']['overall']:.0f}" if p["experience"]["overall"] is not None else "-"])
    out.append(table(["persona", "role", "influence", "cycle time", "last to finish", "held up gate", "experience"],
                     rows, "llrrrlr"))
    for gid, g in a["gates"].items():
        waits = ", ".join(f"{pid} {format_minutes(w)}" for pid, w in g["wait_per_case"].items())
        out += ["", f"Gate {g['name']} ({gid}): usually held up by {g['usually_held_up_by']}; mean wait per deal: {waits}"]
    if "time_breakdown" in a:
        out += ["", time_breakdown_text(a["time_breakdown"]).replace("per case", "per deal", 1)]
    e = a["experience"]
    out += ["", "Account experience index (0 furious .. 50 neutral .. 100 delighted): "
            + (f"{e['overall']:.0f}" if e["overall"] is not None else "n/a")
            + "; per stage: " + ", ".join(f"{s} {v:.0f}" for s, v in e["stages"].items() if v is not None)]
    if e["pulled_down_by"]:
        out.append(f"Pulled down most by {a['personas'][e['pulled_down_by']]['name']} "
                   f"({e['pull'][e['pulled_down_by']]:+.1f} points)")
    for gap in a["coverage"]["gaps"]:
        out.append(f"coverage gap: {gap['message']}")
    for w in a["survey_warnings"]:
        out.append(f"over-surveyed: {w}")
    b = a["bottleneck"]
    if b.get("department"):
        out.append(f"Bottleneck: {b['department']} at {b['step']} ({b['department_share']:.0%} department share "
                   f"of waiting, {b['step_share']:.0%} step share)")
    stability = a.get("combined", {}).get("stability") or {}
    if not stability.get("steady", True):
        out[:0] = ["!! " + stability["message"], "   Fix: " + stability["hint"] + ".", ""]
    return "\n".join(out)

