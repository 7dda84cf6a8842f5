"""Simulating a book of business: every account's journeys on one engine, competing for the same departments.

A portfolio (:mod:`journeymap.portfolio`) compiles (:func:`compile_book`) into

* **one combined journey**: each template's steps with ids ``label:step`` (an account template is
  already an account's combined journey, :func:`.account.combined_journey`), the shared departments
  once, the account-management department as the **pool** (``pool.capacity`` people), and one
  one-person department ``<department>:<manager>`` per account manager;
* **a schedule of tagged arrivals** per replication (:class:`BookArrivals`): for each account and
  each template of its tier, a Poisson process at ``per_year`` cases per year over the horizon; each
  case arrives at its template's first step with its tier's priority class and its account index;
* **a route per account**: the steps owned by the account-management department go to the
  account's own manager, or stay with the pool when the assignment left the account without one.

The replications run through the ordinary runner (:func:`.runner._run_all`: seeds, workers, the
same results for any number of workers); the engine keeps an account column per case and each
account's touchpoint visits, from which :func:`summarize_book` makes the results per account, per
tier and for the book: cycle times, service-level attainment, the account experience index
(today's formula, :func:`~journeymap.experience.account_experience`), the managers' load, the
revenue-weighted experience index of the book and the 80/20 view.

The year starts empty (no case in progress at minute 0) and every case that arrives within the
horizon is followed to its end and measured: the first weeks are less congested than the rest,
which makes waits slightly optimistic for a short horizon (say so when comparing with a steady state).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..distributions import YEAR
from ..experience import account_experience, persona_experience
from ..model import CUSTOMER, PRIORITY_CLASSES, Department, Flow, Journey, Persona, Stage, Step, Target, Workload
from ..statistics import summarize, t_interval
from .records import Meeting, Replication, SimulationResult
from .runner import ProgressCallback, _run_all
from .service import attainment
from .summary import pool, summarize_replications

__all__ = ["Book", "BookArrivals", "TemplatePlan", "compile_book", "simulate_book", "simulate_portfolio",
           "portfolio_inputs", "summarize_book", "book_index", "pareto_view"]

#: Added to the seed of a replication's arrival schedule so that it is a stream of its own.
SCHEDULE_STREAM = 17


@dataclass(frozen=True)
class TemplatePlan:
    """One template in the combined journey: its label (the step id prefix), where its cases enter, and its
    personas with their influence (a journey template has one persona, influence 1)."""

    label: str
    ref: str
    kind: str
    entry: int
    #: (persona id as the combined journey's steps carry it, influence)
    personas: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class BookArrivals:
    """The tagged arrivals of a book (:class:`~.records.Tagged`): a Poisson process per account and template.

    ``rates`` are expected cases per minute per (account, template) pair; a replication draws, on a
    NumPy generator seeded by ``(seed, index, SCHEDULE_STREAM)`` (so the schedule depends on nothing but
    the seed and the replication), the number of cases of each pair over the horizon and their times,
    uniform over it (a Poisson process given its count), sorted by time, ties by pair.
    """

    n_accounts: int
    route_of: tuple[int, ...]
    routes: tuple[tuple[tuple[str, str], ...], ...]
    horizon: float
    rates: tuple[float, ...]
    pair_account: tuple[int, ...]
    pair_entry: tuple[int, ...]
    pair_class: tuple[int, ...]

    def arrivals(self, seed: int, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng([seed, index, SCHEDULE_STREAM])
        counts = rng.poisson(np.asarray(self.rates, dtype=float) * self.horizon)
        pair = np.repeat(np.arange(len(self.rates)), counts)
        times = rng.uniform(0.0, self.horizon, len(pair))
        order = np.lexsort((pair, times))
        pair, times = pair[order], times[order]
        return (times, np.asarray(self.pair_entry, dtype=np.int64)[pair],
                np.asarray(self.pair_class, dtype=np.int64)[pair], np.asarray(self.pair_account, dtype=np.int64)[pair])

    def expected_cases(self) -> float:
        """Cases per replication on average."""
        return float(sum(self.rates)) * self.horizon


@dataclass(frozen=True)
class Book:
    """A portfolio compiled for the engine: the combined journey, its meeting, the accounts and their routes."""

    portfolio: Any
    journey: Journey
    meeting: Meeting
    templates: tuple[TemplatePlan, ...]
    accounts: tuple[Any, ...]          # journeymap.assignment.AccountRecord
    assignment: Any | None             # journeymap.assignment.Assignment
    arrivals: BookArrivals
    #: the priority classes in play, highest first (a case's class is its index here)
    classes: tuple[str, ...]
    #: per tier (portfolio order): the index in ``templates`` of each of its templates
    tier_templates: tuple[tuple[int, ...], ...]
    #: per tier: the indexes in ``journey.targets`` of its (journey-scope) targets
    tier_targets: tuple[tuple[int, ...], ...] = ()


# ---------------------------------------------------------------------- compiling


def _prefix(label: str, sid: str) -> str:
    return f"{label}:{sid}"


def _labels(portfolio: Any) -> dict[str, str]:
    """Each template ref's prefix: the first label it is used with, made unique."""
    out: dict[str, str] = {}
    for tier in portfolio.tiers:
        for t in tier.templates:
            if t.ref not in out:
                label, k = t.label, 2
                while label in out.values():
                    label, k = f"{t.label}{k}", k + 1
                out[t.ref] = label
    return out


def _influence(portfolio: Any, ref: str, journey: Journey) -> dict[str, float]:
    """The personas' influence in an account template (from its account file); 1 each when it cannot be read."""
    try:
        from ..account import load_account

        base = os.path.dirname(portfolio.source) if portfolio.source else "."
        account = load_account(os.path.join(base, ref))
        return {p.journey.persona.id: p.influence for p in account.personas}
    except Exception:  # noqa: BLE001 - the portfolio loader checked the file; influence is only a weight
        return {}


def _template_steps(label: str, journey: Journey, meeting: Meeting | None) -> tuple[list[Step], list[Flow]]:
    """A template's steps and flows with ids ``label:step``; a journey template's steps carry its persona."""
    steps = []
    for s in journey.steps:
        persona = _prefix(label, s.persona) if meeting is not None and s.persona else label
        tolerance = s.tolerance if s.tolerance is not None else journey.persona.tolerance
        steps.append(dataclasses.replace(
            s, id=_prefix(label, s.id), join=_prefix(label, s.join) if s.join else None, tolerance=tolerance,
            persona=persona, persona_name=s.persona_name or journey.persona.name))
    flows = [dataclasses.replace(f, source=_prefix(label, f.source), target=_prefix(label, f.target))
             for f in journey.flows]
    return steps, flows


def _departments(portfolio: Any, journeys: Sequence[Journey]) -> tuple[tuple[Department, ...], dict[str, str]]:
    """The shared departments once (the portfolio's first, then any a template names that it does not), the
    account-management department as the pool, and one one-person department per manager; and each
    manager's department id."""
    mg = portfolio.management
    shared: dict[str, Department] = {d.id: d for d in portfolio.departments}
    for j in journeys:
        for d in j.departments:
            shared.setdefault(d.id, d)
    manager_dept: dict[str, str] = {}
    if mg is not None:
        shared[mg.department] = Department(mg.department, "Account management pool", capacity=max(1, mg.pool_capacity),
                                           cost_per_hour=mg.pool_cost_per_hour)
        for level in mg.levels:
            for k in range(1, level.people + 1):
                name = f"{level.level}-{k}"
                manager_dept[name] = f"{mg.department}:{name}"
                shared[manager_dept[name]] = Department(manager_dept[name], f"Account manager {name}", capacity=1,
                                                        cost_per_hour=level.cost_per_hour)
    return tuple(shared.values()), manager_dept


def _classes(portfolio: Any, journeys: Sequence[Journey]) -> tuple[str, ...]:
    """The tiers' priority classes in play, highest first (the templates' order of classes)."""
    order = next((j.priorities for j in journeys if j.priorities), PRIORITY_CLASSES)
    rank = {c: k for k, c in enumerate(order)}
    named = {t.priority for t in portfolio.tiers if t.priority}
    return tuple(sorted(named, key=lambda c: (rank.get(c, len(rank)), c)))


def compile_book(portfolio: Any, accounts: Sequence[Any], assignment: Any | None) -> Book:
    """Compile ``portfolio`` with its drawn ``accounts`` and their ``assignment`` into a :class:`Book`."""
    labels = _labels(portfolio)
    refs = list(labels)
    journeys = [portfolio.journeys[r] for r in refs]
    stages: dict[str, Stage] = {}
    steps: list[Step] = []
    flows: list[Flow] = []
    persona_of: dict[str, int] = {}
    persona_ends: set[str] = set()
    gate_of: dict[str, int] = {}
    gate_sizes: list[int] = []
    plans_meta = []
    n_personas = 0
    calendars: list[tuple[str, Any]] = []
    ends: list[str] = []
    for ref, j in zip(refs, journeys, strict=True):
        label = labels[ref]
        meeting = portfolio.meetings.get(ref)
        for st in j.stages:
            stages.setdefault(st.id, st)
        t_steps, t_flows = _template_steps(label, j, meeting)
        entry_id = _prefix(label, j.start)
        if meeting is not None:
            influence = _influence(portfolio, ref, j)
            rank = {s.persona: meeting.persona_of[s.id] for s in j.steps if s.persona and s.id in meeting.persona_of}
            names = sorted(rank, key=lambda q: (rank[q], q))
            for s in j.steps:
                persona_of[_prefix(label, s.id)] = n_personas + meeting.persona_of.get(s.id, 0)
            persona_ends |= {_prefix(label, e) for e in meeting.persona_ends}
            gate_of.update({_prefix(label, sid): len(gate_sizes) + g for sid, g in meeting.gate_of.items()})
            gate_sizes += meeting.gate_sizes
            n_personas += meeting.n_personas
            personas = tuple((_prefix(label, p), influence.get(p, 1.0)) for p in names)
            calendars += [(_prefix(label, p), c) for p, c in j.customer_calendars]
        else:
            for s in t_steps:
                persona_of[s.id] = n_personas
            persona_ends |= {_prefix(label, e) for e in j.ends}
            n_personas += 1
            personas = ((label, 1.0),)
            calendars.append((label, j.persona.calendar))
        plans_meta.append((label, ref, "account" if meeting is not None else "journey", entry_id, personas))
        steps += t_steps
        flows += t_flows
        ends += [_prefix(label, e) for e in j.ends]
    departments, manager_dept = _departments(portfolio, journeys)
    classes = _classes(portfolio, journeys)
    step_index = {s.id: i for i, s in enumerate(steps)}
    templates = tuple(TemplatePlan(label, ref, kind, step_index[entry], personas)
                      for label, ref, kind, entry, personas in plans_meta)
    tier_templates = tuple(tuple(refs.index(t.ref) for t in tier.templates) for tier in portfolio.tiers)
    # the tagged arrivals: one Poisson process per account and template of its tier
    tier_at = {tier.id: k for k, tier in enumerate(portfolio.tiers)}
    rates, pair_account, pair_entry, pair_class = [], [], [], []
    for a, acc in enumerate(accounts):
        k = tier_at[acc.tier]
        tier = portfolio.tiers[k]
        cls = classes.index(tier.priority) if tier.priority in classes else len(classes)
        for t, ti in zip(tier.templates, tier_templates[k], strict=True):
            rates.append(t.per_year / YEAR)
            pair_account.append(a)
            pair_entry.append(templates[ti].entry)
            pair_class.append(cls)
    route_names: list[str | None] = [None]
    route_of = []
    mg = portfolio.management
    for acc in accounts:
        manager = assignment.manager.get(acc.id) if assignment is not None else None
        if manager not in route_names:
            route_names.append(manager)
        route_of.append(route_names.index(manager))
    routes = tuple(() if m is None or mg is None else ((mg.department, manager_dept[m]),) for m in route_names)
    expected = sum(rates) * portfolio.horizon
    shares = {c: 0.0 for c in classes}
    for r, c in zip(rates, pair_class, strict=True):
        if c < len(classes):
            shares[classes[c]] += r
    # the tiers' service-level targets, measured by the engine for every case (each on its own basis and the
    # book's calendar); a tier reads only its own cases' results
    targets: list[Target] = []
    tier_targets: list[tuple[int, ...]] = []
    for tier in portfolio.tiers:
        mine = []
        for k, t in enumerate(tier.targets):
            if t.scope == "journey":
                mine.append(len(targets))
                targets.append(dataclasses.replace(t, id=f"{tier.id}:{t.id or k}"))
        tier_targets.append(tuple(mine))
    first = journeys[0]
    journey = Journey(
        id=portfolio.id, name=portfolio.name,
        persona=Persona(portfolio.id, portfolio.name, "decision_maker"),
        stages=tuple(stages.values()), departments=departments, steps=tuple(steps), flows=tuple(flows),
        start=steps[templates[0].entry].id, ends=tuple(ends),
        workload=Workload(cases=max(1, round(expected)), warmup=0, start=portfolio.start,
                          mix=tuple((c, s) for c, s in shares.items() if s > 0)),
        source=portfolio.source, calendar=first.calendar, priorities=classes or first.priorities,
        targets=tuple(targets),
        customer_calendars=tuple(calendars))
    meeting = Meeting(persona_of=persona_of, persona_ends=frozenset(persona_ends), gate_of=gate_of,
                      gate_sizes=tuple(gate_sizes), n_personas=n_personas)
    arrivals = BookArrivals(n_accounts=len(accounts), route_of=tuple(route_of), routes=routes,
                            horizon=portfolio.horizon, rates=tuple(rates), pair_account=tuple(pair_account),
                            pair_entry=tuple(pair_entry), pair_class=tuple(pair_class))
    return Book(portfolio=portfolio, journey=journey, meeting=meeting, templates=templates,
                accounts=tuple(accounts), assignment=assignment, arrivals=arrivals, classes=classes,
                tier_templates=tier_templates, tier_targets=tuple(tier_targets))


def portfolio_inputs(portfolio: Any) -> list[str]:
    """Every file a portfolio run reads: the portfolio, its templates, and an account template's personas."""
    base = os.path.dirname(portfolio.source) if portfolio.source else "."
    out = [portfolio.source] if portfolio.source else []
    for ref, journey in portfolio.journeys.items():
        out.append(os.path.join(base, ref))
        out += [s for s in {journey.source, journey.base} if s]
        if portfolio.meetings.get(ref) is not None:
            try:
                from ..account import load_account

                out += [p.journey.source for p in load_account(os.path.join(base, ref)).personas]
            except Exception:  # noqa: BLE001 - the loader read it already; the account file itself is listed
                pass
    return out


# ---------------------------------------------------------------------- running


def simulate_book(book: Book, *, replications: int = 5, seed: int = 1, workers: int = 1,
                  progress: ProgressCallback | None = None) -> SimulationResult:
    """Run ``replications`` years (horizons) of the book through the ordinary runner; the same result for any
    number of ``workers``."""
    from ..errors import InvalidArgument

    if replications < 1:
        raise InvalidArgument(f"replications must be at least 1, got {replications}")
    if workers < 1:
        raise InvalidArgument(f"workers must be at least 1, got {workers}")
    journey = book.journey
    cases = journey.workload.cases
    start = None
    if journey.has_calendars:
        from .staff import simulation_start

        start = simulation_start(journey)
    reps = _run_all(journey, cases, 0, seed, replications, workers, None, progress, book.meeting, start,
                    book.arrivals)
    summary = summarize_replications(journey, reps, seed=seed, cases=cases, warmup=0)
    return SimulationResult(summary=summary, cycle_times=pool([r.cases["cycle_time"] for r in reps]),
                            replications=tuple(reps))


def simulate_portfolio(portfolio: Any, *, replications: int = 5, seed: int = 1, workers: int = 1,
                       progress: ProgressCallback | None = None) -> tuple[dict[str, Any], Book, SimulationResult]:
    """Draw the accounts (revenue from ``seed``), assign them to managers, simulate and summarise the book."""
    from ..assignment import assign, draw_accounts

    accounts = draw_accounts(portfolio, seed)
    assignment = assign(portfolio, accounts)
    book = compile_book(portfolio, accounts, assignment)
    result = simulate_book(book, replications=replications, seed=seed, workers=workers, progress=progress)
    return summarize_book(book, result), book, result


# ---------------------------------------------------------------------- summarising


def _touchpoints(book: Book) -> list[list[list[tuple[int, str, float | None]]]]:
    """Per template, per persona: its touchpoints as (step index, stage, emotion)."""
    out = []
    for t in book.templates:
        per = []
        for pid, _ in t.personas:
            per.append([(i, s.stage, s.emotion) for i, s in enumerate(book.journey.steps)
                        if s.is_touchpoint and s.persona == pid])
        out.append(per)
    return out


def _account_indexes(book: Book, visits: np.ndarray, over: np.ndarray, cases: np.ndarray,
                     touch: list[list[list[tuple[int, str, float | None]]]]) -> list[float | None]:
    """Each account's experience index (today's formula) from its touchpoint visits and over-tolerance counts.

    ``visits`` and ``over`` are [account, step]; ``cases`` [account, template]. A persona's index is
    :func:`~journeymap.experience.persona_experience` of its touchpoints with visits per case of its
    template; the account's, :func:`~journeymap.experience.account_experience` over the personas of the
    templates it ran, each weighted by its influence times its template's ``per_year`` (how often the
    account lives that journey). None for an account with no case measured.
    """
    stage_ids = [s.id for s in book.journey.stages]
    tiers = {t.id: (k, t) for k, t in enumerate(book.portfolio.tiers)}
    out: list[float | None] = []
    for a, acc in enumerate(book.accounts):
        k, tier = tiers[acc.tier]
        personas: dict[str, Any] = {}
        weight: dict[str, float] = {}
        for tmpl, ti in zip(tier.templates, book.tier_templates[k], strict=True):
            n = cases[a, ti]
            if n <= 0:
                continue
            for (pid, influence), tps in zip(book.templates[ti].personas, touch[ti], strict=True):
                rows = []
                for i, stage, emotion in tps:
                    v = visits[a, i]
                    rows.append({"step": i, "stage": stage, "emotion": emotion, "visits_per_case": v / n,
                                 "over_tolerance": over[a, i] / v if v else 0.0})
                personas[pid] = persona_experience(rows, stage_ids)
                weight[pid] = influence * tmpl.per_year
        out.append(account_experience(personas, weight, stage_ids)["overall"] if personas else None)
    return out


def book_index(revenue: Sequence[float], index: Sequence[float | None]) -> float | None:
    """The revenue-weighted experience index of the book: sum(revenue x index) / sum(revenue) over the accounts
    that have an index."""
    num = den = 0.0
    for r, i in zip(revenue, index, strict=True):
        if i is not None:
            num += r * i
            den += r
    return num / den if den > 0 else None


def pareto_view(revenue: Sequence[float], index: Sequence[float | None], top: float = 0.2,
                ids: Sequence[str] | None = None) -> dict[str, Any]:
    """The 80/20 view: accounts ranked by revenue, largest first (ties in their order); the revenue share of the
    top ``top`` of them and the revenue-weighted experience of the top and of the rest. ``ids`` name the
    accounts in the curve."""
    order = sorted(range(len(revenue)), key=lambda a: (-revenue[a], a))
    total = float(sum(revenue)) or 1.0
    n_top = max(1, math.ceil(top * len(order))) if order else 0
    head, tail = order[:n_top], order[n_top:]
    cum = np.cumsum([revenue[a] for a in order]) / total if order else np.zeros(0)
    return {
        "top_share_of_accounts": top,
        "top_accounts": n_top,
        "revenue_share_of_top": float(cum[n_top - 1]) if n_top else 0.0,
        "experience_top": book_index([revenue[a] for a in head], [index[a] for a in head]),
        "experience_rest": book_index([revenue[a] for a in tail], [index[a] for a in tail]),
        # per account, largest first: its share of accounts and of revenue so far, and its index
        "curve": [{"rank": r + 1, "account": ids[a] if ids is not None else str(a),
                   "account_share": (r + 1) / len(order), "revenue_share": float(cum[r]), "experience": index[a]}
                  for r, a in enumerate(order)],
    }


def _rep_arrays(book: Book, r: Replication) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One replication's per-case cycle, account and template, and its [account, step] touchpoint counts."""
    n_steps = len(book.journey.steps)
    template_of = np.full(n_steps, -1, dtype=np.int64)
    for k, t in enumerate(book.templates):
        template_of[t.entry] = k
    acc = r.case_account if r.case_account is not None else np.zeros(0, dtype=np.int64)
    entry = r.case_entry if r.case_entry is not None else np.zeros(0, dtype=np.int64)
    shape = (book.arrivals.n_accounts, n_steps)
    visits = (r.account_visits if r.account_visits is not None else np.zeros(shape[0] * shape[1])).reshape(shape)
    over = (r.account_over if r.account_over is not None else np.zeros(shape[0] * shape[1])).reshape(shape)
    return r.cases["cycle_time"], acc, template_of[entry], visits, over


def summarize_book(book: Book, result: SimulationResult) -> dict[str, Any]:
    """The book's JSON-ready summary: per account, per tier and for the book (see docs/portfolio.md)."""
    p = book.portfolio
    reps = result.replications
    n_acc, n_tmpl = len(book.accounts), len(book.templates)
    touch = _touchpoints(book)
    tier_of = np.array([[t.id for t in p.tiers].index(a.tier) for a in book.accounts], dtype=np.int64)
    revenue = [float(a.revenue) for a in book.accounts]
    per_rep = [_rep_arrays(book, r) for r in reps]
    # pooled over replications
    cycle = pool([x[0] for x in per_rep]) if per_rep else np.zeros(0)
    acc = pool([x[1] for x in per_rep]) if per_rep else np.zeros(0, dtype=np.int64)
    tmpl = pool([x[2] for x in per_rep]) if per_rep else np.zeros(0, dtype=np.int64)
    visits = np.zeros((n_acc, len(book.journey.steps)))
    over = np.zeros((n_acc, len(book.journey.steps)))
    for x in per_rep:
        visits += x[3]
        over += x[4]
    cases_at = np.bincount(acc * n_tmpl + tmpl, minlength=n_acc * n_tmpl).reshape(n_acc, n_tmpl).astype(float)
    index = _account_indexes(book, visits, over, cases_at, touch)
    # the book's index per replication, for its interval
    rep_book = []
    for _, r_acc, r_tmpl, v, o in per_rep:
        at = np.bincount(r_acc * n_tmpl + r_tmpl, minlength=n_acc * n_tmpl).reshape(n_acc, n_tmpl).astype(float)
        value = book_index(revenue, _account_indexes(book, v, o, at, touch))
        if value is not None:
            rep_book.append(value)
    k = max(1, len(reps))
    count = np.bincount(acc, minlength=n_acc).astype(float)
    sum_cycle = np.bincount(acc, weights=cycle, minlength=n_acc)
    # per target of the combined journey: 1.0 met, 0.0 missed (NaN: not measured) per case, pooled
    met_case = [pool([r.target_met[j] for r in reps]) for j in range(len(book.journey.targets))]
    met = [np.bincount(acc, weights=np.nan_to_num(m), minlength=n_acc) for m in met_case]
    measured = [np.bincount(acc, weights=(~np.isnan(m)).astype(float), minlength=n_acc) for m in met_case]
    manager = book.assignment.manager if book.assignment is not None else {}
    accounts = []
    for a, rec in enumerate(book.accounts):
        ti = int(tier_of[a])
        row: dict[str, Any] = {
            "id": rec.id, "tier": rec.tier, "revenue": revenue[a], "manager": manager.get(rec.id),
            "cases_per_replication": count[a] / k,
            "cycle_time_mean": sum_cycle[a] / count[a] if count[a] else None,
            "experience": index[a],
            "sla": [met[j][a] / measured[j][a] if measured[j][a] else None for j in book.tier_targets[ti]],
        }
        accounts.append(row)
    tiers = {}
    for ti, tier in enumerate(p.tiers):
        mine = tier_of[acc] == ti if len(acc) else np.zeros(0, bool)
        rep_means = []
        for c, r_acc, _, _, _ in per_rep:
            m = tier_of[r_acc] == ti
            if m.any():
                rep_means.append(float(c[m].mean()))
        members = [a for a in range(n_acc) if tier_of[a] == ti]
        sla = []
        for j in book.tier_targets[ti]:
            t = book.journey.targets[j]
            counts = []
            for r, (_, r_acc, _, _, _) in zip(reps, per_rep, strict=True):
                values = r.target_met[j][tier_of[r_acc] == ti]
                counts.append((float(np.nansum(values)), float((~np.isnan(values)).sum())))
            sla.append({"within": t.within, "basis": t.basis, "goal": t.goal, **attainment(counts, t.goal)})
        tiers[tier.id] = {
            "accounts": len(members),
            "revenue": float(sum(revenue[a] for a in members)),
            "priority": tier.priority,
            "cases": int(mine.sum()),
            "cases_per_replication": float(mine.sum()) / k,
            "cycle_time": summarize(cycle[mine], rep_means),
            "sla": sla,
            "experience": book_index([revenue[a] for a in members], [index[a] for a in members]),
            # None when the book has no account managers at all
            "without_manager": (sum(1 for a in members if manager.get(book.accounts[a].id) is None)
                                if p.management is not None else None),
        }
    return {
        "portfolio": p.id,
        "name": p.name,
        "currency": p.currency,
        "seed": result.summary["seed"],
        "replications": len(reps),
        "horizon_minutes": p.horizon,
        "time_unit": "minutes",
        "classes": list(book.classes),
        "cases": int(len(cycle)),
        "book": {
            "accounts": n_acc,
            "revenue": float(sum(revenue)),
            "cycle_time": summarize(cycle, [float(x[0].mean()) for x in per_rep if len(x[0])]),
            "experience": book_index(revenue, index),
            "experience_ci95": _centred(book_index(revenue, index), rep_book),
        },
        "tiers": tiers,
        "management": _management(book, result.summary),
        "pareto": pareto_view(revenue, index, ids=[a.id for a in book.accounts]),
        "accounts": accounts,
        "departments": result.summary["departments"],
        "money": money_per_tier(book, reps, cases_at, index),
    }


def _centred(value: float | None, per_replication: Sequence[float]) -> list[float | None]:
    """A 95% interval for the pooled ``value``: its half-width is the t-interval's of the replications' own
    values (the spread between independent horizons), centred on the pooled value (each replication's
    index is computed from fewer cases per account, so their mean is not the pooled index)."""
    if value is None or len(per_replication) < 2:
        return [None, None]
    lo, hi = t_interval(per_replication)
    if lo is None or hi is None:
        return [None, None]
    half = (hi - lo) / 2
    return [value - half, value + half]


def _management(book: Book, summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """Each manager's load against the relationship limit, the pool, and the accounts with no manager."""
    mg = book.portfolio.management
    if mg is None:
        return None
    a = book.assignment
    limit = {lv.level: lv.relationships for lv in mg.levels}
    depts = summary["departments"]
    managers = {}
    for lv in mg.levels:
        for k in range(1, lv.people + 1):
            name = f"{lv.level}-{k}"
            load = int(a.load.get(name, 0)) if a is not None else 0
            managers[name] = {"level": lv.level, "load": load, "limit": limit[lv.level],
                              "load_share": load / limit[lv.level] if limit[lv.level] else None,
                              "over_limit": load > limit[lv.level],
                              "utilisation": depts.get(f"{mg.department}:{name}", {}).get("utilisation")}
    unassigned = [acc.id for acc in book.accounts if (a.manager.get(acc.id) if a is not None else None) is None]
    return {"department": mg.department, "policy": mg.policy, "managers": managers,
            "without_manager": len(unassigned), "without_manager_ids": unassigned,
            "over_limit": list(a.over_limit) if a is not None else [],
            "pool": {"capacity": mg.pool_capacity, "accounts": len(unassigned),
                     "utilisation": depts.get(mg.department, {}).get("utilisation")}}


def money_per_tier(book: Book, reps: Sequence[Replication], cases_at: np.ndarray,
                   index: Sequence[float | None]) -> dict[str, Any] | None:
    """Money per tier and for the book (docs/money.md, through :mod:`journeymap.money`): staff cost a year per
    department, cost per case, and the revenue the experience puts at risk.

    Staff minutes per case of each template and department are the measured work on the template's steps
    (all replications) plus ``handoff_overhead`` minutes per handoff at the receiving department, over
    the template's cases; durations do not depend on the account, so a tier's minutes a year are its
    accounts' cases of each template (per replication, scaled from the horizon to a year) times those.
    Account-management minutes go to the account's manager (at the manager's rate) or the pool.
    Revenue at risk is summed over the tier's accounts (the churn link is not linear in the index:
    an account above ``below`` puts nothing at risk), each a band over the link's range.
    None when ``journeymap.money`` is not installed.
    """
    import importlib

    try:
        money = importlib.import_module("journeymap.money")
    except ImportError:  # pragma: no cover - the module ships with journeymap
        return None
    p = book.portfolio
    m = money.money_of(p.money, p.currency)
    overhead = m.handoff_overhead if m is not None else 0.0
    journey = book.journey
    label_of = {t.label: k for k, t in enumerate(book.templates)}
    tmpl_of = [label_of.get(s.id.split(":", 1)[0], -1) for s in journey.steps]
    owner = {s.id: s.owner for s in journey.steps}
    n_tmpl = len(book.templates)
    minutes: list[dict[str, float]] = [{} for _ in range(n_tmpl)]
    processing = np.sum([r.step_processing for r in reps], axis=0) if reps else np.zeros(len(journey.steps))
    for i, s in enumerate(journey.steps):
        if s.owner != CUSTOMER and tmpl_of[i] >= 0:
            minutes[tmpl_of[i]][s.owner] = minutes[tmpl_of[i]].get(s.owner, 0.0) + float(processing[i])
    traversals = np.sum([r.flow_traversals for r in reps], axis=0) if reps else np.zeros(len(journey.flows))
    for k, f in enumerate(journey.flows):
        t = label_of.get(f.source.split(":", 1)[0], -1)
        if t >= 0 and overhead and journey.is_handoff(f):
            dept = owner[f.target]
            minutes[t][dept] = minutes[t].get(dept, 0.0) + float(traversals[k]) * overhead
    total_cases = cases_at.sum(axis=0)
    per_case = [{d: v / total_cases[t] for d, v in minutes[t].items()} if total_cases[t] else {}
                for t in range(n_tmpl)]
    mg = p.management
    manager = book.assignment.manager if book.assignment is not None else {}
    per_year = (YEAR / p.horizon) / max(1, len(reps))
    groups: dict[str, dict[str, float]] = {t.id: {} for t in p.tiers}
    cases: dict[str, float] = {t.id: 0.0 for t in p.tiers}
    for a, acc in enumerate(book.accounts):
        mine = groups[acc.tier]
        who = manager.get(acc.id)
        for t in range(n_tmpl):
            n = cases_at[a, t] * per_year
            if not n:
                continue
            cases[acc.tier] += n
            for d, v in per_case[t].items():
                if mg is not None and d == mg.department and who is not None:
                    d = f"{mg.department}:{who}"
                mine[d] = mine.get(d, 0.0) + n * v
    rates = {d.id: d.cost_per_hour for d in journey.departments}
    costs = money.staff_cost_by(groups, rates)
    churn = m.churn if m is not None else None
    out: dict[str, Any] = {"currency": p.currency, "handoff_overhead_minutes": overhead, "tiers": {}}
    book_risk = [0.0, 0.0, 0.0]
    for tier in p.tiers:
        risk = None
        if churn is not None:
            bands = [money.revenue_at_risk(index[a], float(acc.revenue), churn)
                     for a, acc in enumerate(book.accounts) if acc.tier == tier.id and index[a] is not None]
            risk = {"mean": sum(b.mean for b in bands), "low": sum(b.low for b in bands),
                    "high": sum(b.high for b in bands)}
            book_risk = [book_risk[0] + risk["mean"], book_risk[1] + risk["low"], book_risk[2] + risk["high"]]
        c = costs[tier.id]
        out["tiers"][tier.id] = {
            "cases_per_year": cases[tier.id],
            "staff_minutes_per_year": groups[tier.id],
            "staff_cost_per_year": c,
            "cost_per_case": c["total"] / cases[tier.id] if cases[tier.id] else None,
            "revenue_at_risk": risk}
    total = sum(costs[t.id]["total"] for t in p.tiers)
    out["book"] = {"staff_cost_per_year": total,
                   "revenue_at_risk": ({"mean": book_risk[0], "low": book_risk[1], "high": book_risk[2]}
                                       if churn is not None else None)}
    return out
