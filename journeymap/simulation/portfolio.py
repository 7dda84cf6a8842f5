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

A run starts empty (no case in progress at minute 0). The portfolio's ``warmup`` is simulated first and
not measured (its cases fill the queues); every case that arrives within the horizon after it is
followed to its end and measured. Without a warm-up the first weeks are less congested than the rest,
which makes waits optimistic for a short horizon or a slowly filling queue.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np

from ..distributions import YEAR
from ..experience import account_experience, persona_experience
from ..model import CUSTOMER, PRIORITY_CLASSES, Department, Flow, Journey, Persona, Stage, Step, Target, Workload
from ..statistics import summarize, t_interval
from ..workingtime import Calendar
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
    the seed and the replication), the number of cases of each pair over the warm-up and the horizon and
    their times, uniform over it (a Poisson process given its count), sorted by time, ties by pair. The
    cases arriving in the first ``warmup`` minutes are simulated (they fill the queues) but not measured.
    """

    n_accounts: int
    route_of: tuple[int, ...]
    routes: tuple[tuple[tuple[str, str], ...], ...]
    horizon: float
    rates: tuple[float, ...]
    pair_account: tuple[int, ...]
    pair_entry: tuple[int, ...]
    pair_class: tuple[int, ...]
    warmup: float = 0.0

    def arrivals(self, seed: int, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng([seed, index, SCHEDULE_STREAM])
        length = self.warmup + self.horizon
        counts = rng.poisson(np.asarray(self.rates, dtype=float) * length)
        pair = np.repeat(np.arange(len(self.rates)), counts)
        times = rng.uniform(0.0, length, len(pair))
        order = np.lexsort((pair, times))
        pair, times = pair[order], times[order]
        return (times, np.asarray(self.pair_entry, dtype=np.int64)[pair],
                np.asarray(self.pair_class, dtype=np.int64)[pair], np.asarray(self.pair_account, dtype=np.int64)[pair])

    def expected_cases(self) -> float:
        """Cases per replication on average, the warm-up's included."""
        return float(sum(self.rates)) * (self.warmup + self.horizon)


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


def _default_calendar(journeys: Sequence[Journey]) -> Calendar | None:
    """The book's default working hours: the first template's default calendar (an account template keeps its
    personas' in their departments and has none of its own). The shared departments the portfolio lists, the
    pool and the managers keep it, as a journey's departments without a calendar keep the journey's: without it
    they would work around the clock beside templates that keep office hours."""
    return next((j.calendar for j in journeys if j.calendar is not None), None)


def _classes(portfolio: Any, journeys: Sequence[Journey]) -> tuple[str, ...]:
    """The tiers' priority classes in play, highest first (the templates' order of classes)."""
    order = next((j.priorities for j in journeys if j.priorities), PRIORITY_CLASSES)
    rank = {c: k for k, c in enumerate(order)}
    named = {t.priority for t in portfolio.tiers if t.priority}
    return tuple(sorted(named, key=lambda c: (rank.get(c, len(rank)), c)))


@dataclass(frozen=True)
class _TemplatePart:
    """What one template adds to the combined journey. Its persona and gate indexes are already offset by the
    personas and gates of the templates before it, so the parts can simply be concatenated."""

    stages: tuple[Stage, ...]
    steps: tuple[Step, ...]
    flows: tuple[Flow, ...]
    ends: tuple[str, ...]
    #: step id (prefixed) -> persona index in the combined journey
    persona_of: dict[str, int]
    persona_ends: frozenset[str]
    #: step id (prefixed) -> gate index in the combined journey
    gate_of: dict[str, int]
    gate_sizes: tuple[int, ...]
    n_personas: int
    #: (prefixed persona id, influence), as :attr:`TemplatePlan.personas`
    personas: tuple[tuple[str, float], ...]
    #: (prefixed persona id, calendar), as :attr:`~journeymap.model.Journey.customer_calendars`
    calendars: tuple[tuple[str, Any], ...]
    kind: str
    entry_id: str


def _account_template_part(portfolio: Any, ref: str, label: str, j: Journey, meeting: Meeting,
                           first_persona: int, first_gate: int) -> _TemplatePart:
    """An account template's part: its own meeting (personas, gates) moved to the combined journey's indexes,
    and its personas weighted by the influence its account file gives them."""
    t_steps, t_flows = _template_steps(label, j, meeting)
    influence = _influence(portfolio, ref, j)
    rank = {s.persona: meeting.persona_of[s.id] for s in j.steps if s.persona and s.id in meeting.persona_of}
    names = sorted(rank, key=lambda q: (rank[q], q))
    return _TemplatePart(
        stages=j.stages, steps=tuple(t_steps), flows=tuple(t_flows), ends=tuple(_prefix(label, e) for e in j.ends),
        persona_of={_prefix(label, s.id): first_persona + meeting.persona_of.get(s.id, 0) for s in j.steps},
        persona_ends=frozenset(_prefix(label, e) for e in meeting.persona_ends),
        gate_of={_prefix(label, sid): first_gate + g for sid, g in meeting.gate_of.items()},
        gate_sizes=tuple(meeting.gate_sizes), n_personas=meeting.n_personas,
        personas=tuple((_prefix(label, p), influence.get(p, 1.0)) for p in names),
        calendars=tuple((_prefix(label, p), c) for p, c in j.customer_calendars),
        kind="account", entry_id=_prefix(label, j.start))


def _journey_template_part(label: str, j: Journey, first_persona: int) -> _TemplatePart:
    """A journey template's part: one persona (the template's label, influence 1) with its calendar, no gates."""
    t_steps, t_flows = _template_steps(label, j, None)
    return _TemplatePart(
        stages=j.stages, steps=tuple(t_steps), flows=tuple(t_flows), ends=tuple(_prefix(label, e) for e in j.ends),
        persona_of={s.id: first_persona for s in t_steps},
        persona_ends=frozenset(_prefix(label, e) for e in j.ends),
        gate_of={}, gate_sizes=(), n_personas=1, personas=((label, 1.0),),
        calendars=((label, j.persona.calendar),), kind="journey", entry_id=_prefix(label, j.start))


def _template_parts(portfolio: Any, labels: Mapping[str, str]) -> list[_TemplatePart]:
    """Each template's part, in ``labels`` order, each numbering its personas and gates after the previous ones."""
    parts: list[_TemplatePart] = []
    n_personas = n_gates = 0
    for ref, label in labels.items():
        j = portfolio.journeys[ref]
        meeting = portfolio.meetings.get(ref)
        part = (_account_template_part(portfolio, ref, label, j, meeting, n_personas, n_gates)
                if meeting is not None else _journey_template_part(label, j, n_personas))
        parts.append(part)
        n_personas += part.n_personas
        n_gates += len(part.gate_sizes)
    return parts


def _combined_meeting(parts: Sequence[_TemplatePart]) -> Meeting:
    """The combined journey's meeting: every template's personas and gates side by side."""
    persona_of: dict[str, int] = {}
    persona_ends: set[str] = set()
    gate_of: dict[str, int] = {}
    for part in parts:
        persona_of.update(part.persona_of)
        persona_ends |= part.persona_ends
        gate_of.update(part.gate_of)
    return Meeting(persona_of=persona_of, persona_ends=frozenset(persona_ends),
                   gate_of=gate_of, gate_sizes=tuple(g for p in parts for g in p.gate_sizes),
                   n_personas=sum(p.n_personas for p in parts))


@dataclass(frozen=True)
class _ArrivalPairs:
    """The (account, template) pairs of the tagged arrivals, as parallel columns (see :class:`BookArrivals`)."""

    rates: tuple[float, ...]
    account: tuple[int, ...]
    entry: tuple[int, ...]
    priority_class: tuple[int, ...]


def _arrival_pairs(portfolio: Any, accounts: Sequence[Any], classes: Sequence[str],
                   templates: Sequence[TemplatePlan], tier_templates: Sequence[Sequence[int]]) -> _ArrivalPairs:
    """One Poisson process per account and template of its tier, at the template's ``per_year``, entering at the
    template's first step with the tier's priority class (one past the last when the tier names none)."""
    tier_at = {tier.id: k for k, tier in enumerate(portfolio.tiers)}
    rates: list[float] = []
    pair_account: list[int] = []
    pair_entry: list[int] = []
    pair_class: list[int] = []
    for a, acc in enumerate(accounts):
        k = tier_at[acc.tier]
        tier = portfolio.tiers[k]
        cls = classes.index(tier.priority) if tier.priority in classes else len(classes)
        for t, ti in zip(tier.templates, tier_templates[k], strict=True):
            rates.append(t.per_year / YEAR)
            pair_account.append(a)
            pair_entry.append(templates[ti].entry)
            pair_class.append(cls)
    return _ArrivalPairs(tuple(rates), tuple(pair_account), tuple(pair_entry), tuple(pair_class))


@dataclass(frozen=True)
class _Routes:
    """Each account's route (an index in ``routes``) and the routes: route 0 keeps the pool, any other sends the
    account-management department's steps to one manager's own department."""

    route_of: tuple[int, ...]
    routes: tuple[tuple[tuple[str, str], ...], ...]


def _routes(portfolio: Any, accounts: Sequence[Any], assignment: Any | None,
            manager_dept: Mapping[str, str]) -> _Routes:
    """The accounts' routes, one per manager in order of first appearance (accounts without one stay on route 0)."""
    route_names: list[str | None] = [None]
    route_of = []
    mg = portfolio.management
    for acc in accounts:
        manager = assignment.manager.get(acc.id) if assignment is not None else None
        if manager not in route_names:
            route_names.append(manager)
        route_of.append(route_names.index(manager))
    routes = tuple(() if m is None or mg is None else ((mg.department, manager_dept[m]),) for m in route_names)
    return _Routes(tuple(route_of), routes)


def _class_mix(classes: Sequence[str], pairs: _ArrivalPairs) -> tuple[tuple[str, float], ...]:
    """The workload's mix: each priority class's arrival rate, for the classes that have any."""
    shares = {c: 0.0 for c in classes}
    for r, c in zip(pairs.rates, pairs.priority_class, strict=True):
        if c < len(classes):
            shares[classes[c]] += r
    return tuple((c, s) for c, s in shares.items() if s > 0)


@dataclass(frozen=True)
class _TierTargets:
    """The tiers' journey-scope targets as the combined journey's, and which of them belong to each tier."""

    targets: tuple[Target, ...]
    #: per tier (portfolio order): the indexes in ``targets`` of its targets
    per_tier: tuple[tuple[int, ...], ...]


def _tier_targets(portfolio: Any) -> _TierTargets:
    """The tiers' service-level targets, measured by the engine for every case (each on its own basis and the
    book's calendar); a tier reads only its own cases' results. Ids become ``tier:target`` to stay unique."""
    targets: list[Target] = []
    tier_targets: list[tuple[int, ...]] = []
    for tier in portfolio.tiers:
        mine = []
        for k, t in enumerate(tier.targets):
            if t.scope == "journey":
                mine.append(len(targets))
                targets.append(dataclasses.replace(t, id=f"{tier.id}:{t.id or k}"))
        tier_targets.append(tuple(mine))
    return _TierTargets(tuple(targets), tuple(tier_targets))


def compile_book(portfolio: Any, accounts: Sequence[Any], assignment: Any | None) -> Book:
    """Compile ``portfolio`` with its drawn ``accounts`` and their ``assignment`` into a :class:`Book`."""
    labels = _labels(portfolio)
    refs = list(labels)
    journeys = [portfolio.journeys[r] for r in refs]
    parts = _template_parts(portfolio, labels)
    steps = [s for part in parts for s in part.steps]
    stages: dict[str, Stage] = {}
    for part in parts:
        for st in part.stages:
            stages.setdefault(st.id, st)
    departments, manager_dept = _departments(portfolio, journeys)
    classes = _classes(portfolio, journeys)
    step_index = {s.id: i for i, s in enumerate(steps)}
    templates = tuple(TemplatePlan(label, ref, part.kind, step_index[part.entry_id], part.personas)
                      for (ref, label), part in zip(labels.items(), parts, strict=True))
    tier_templates = tuple(tuple(refs.index(t.ref) for t in tier.templates) for tier in portfolio.tiers)
    pairs = _arrival_pairs(portfolio, accounts, classes, templates, tier_templates)
    routes = _routes(portfolio, accounts, assignment, manager_dept)
    expected = sum(pairs.rates) * (portfolio.horizon + portfolio.warmup)
    targets = _tier_targets(portfolio)
    first = journeys[0]
    journey = Journey(
        id=portfolio.id, name=portfolio.name,
        persona=Persona(portfolio.id, portfolio.name, "decision_maker"),
        stages=tuple(stages.values()), departments=departments, steps=tuple(steps),
        flows=tuple(f for part in parts for f in part.flows),
        start=steps[templates[0].entry].id, ends=tuple(e for part in parts for e in part.ends),
        workload=Workload(cases=max(1, round(expected)), warmup=0, start=portfolio.start,
                          mix=_class_mix(classes, pairs)),
        source=portfolio.source, calendar=_default_calendar(journeys), priorities=classes or first.priorities,
        targets=targets.targets,
        customer_calendars=tuple(c for part in parts for c in part.calendars))
    arrivals = BookArrivals(n_accounts=len(accounts), route_of=routes.route_of, routes=routes.routes,
                            horizon=portfolio.horizon, rates=pairs.rates, pair_account=pairs.account,
                            pair_entry=pairs.entry, pair_class=pairs.priority_class, warmup=portfolio.warmup)
    if portfolio.warmup and journey.has_calendars:
        # the measured horizon starts at the book's start (its Monday 09:00 by default): the run, a warm-up before
        from datetime import timedelta

        from .staff import simulation_start

        begins = simulation_start(journey) - timedelta(minutes=portfolio.warmup)
        journey = dataclasses.replace(journey, workload=dataclasses.replace(journey.workload, start=begins))
    return Book(portfolio=portfolio, journey=journey, meeting=_combined_meeting(parts), templates=templates,
                accounts=tuple(accounts), assignment=assignment, arrivals=arrivals, classes=classes,
                tier_templates=tier_templates, tier_targets=targets.per_tier)


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
                  progress: ProgressCallback | None = None, executor: str = "local", scheduler: str | None = None,
                  connect_timeout: float | None = None) -> SimulationResult:
    """Run ``replications`` years (horizons) of the book and summarise them; the same result for any
    number of ``workers`` and either executor.

    ``executor="local"`` (the default) runs them through the ordinary runner (this process, or ``workers``
    forked processes). ``executor="dask"`` runs each replication as a Dask task (:func:`_replications_on_dask`)
    on a LocalCluster of ``workers`` processes, or on the running cluster at ``scheduler`` (reached within
    ``connect_timeout`` seconds, default :data:`journeymap.sweep.CONNECT_TIMEOUT`, or
    :class:`~journeymap.errors.SchedulerUnreachable`): for a book too big for one machine's cores.
    """
    from .. import sweep
    from ..errors import InvalidArgument

    if replications < 1:
        raise InvalidArgument(f"replications must be at least 1, got {replications}")
    if workers < 1:
        raise InvalidArgument(f"workers must be at least 1, got {workers}")
    if executor not in sweep.EXECUTORS:
        raise InvalidArgument(f"unknown executor {executor!r} (must be one of {', '.join(sweep.EXECUTORS)})")
    if scheduler is not None and executor != "dask":
        raise InvalidArgument("a scheduler address needs executor='dask'")
    journey = book.journey
    cases = journey.workload.cases
    start = None
    if journey.has_calendars:
        from .staff import simulation_start

        start = simulation_start(journey)
    if executor == "dask":
        timeout = sweep.CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        reps = _replications_on_dask(book, cases, seed, replications, start, workers=workers, scheduler=scheduler,
                                     timeout=timeout, progress=progress)
    else:
        reps = _run_all(journey, cases, 0, seed, replications, workers, None, progress, book.meeting, start,
                        book.arrivals)
    summary = summarize_replications(journey, reps, seed=seed, cases=cases, warmup=0)
    return SimulationResult(summary=summary, cycle_times=pool([r.cases["cycle_time"] for r in reps]),
                            replications=tuple(reps))


def _replications_on_dask(book: Book, cases: int, seed: int, replications: int, start: datetime | None, *,
                          workers: int, scheduler: str | None, timeout: float,
                          progress: ProgressCallback | None) -> list[Replication]:
    """Each replication of the book as one Dask task, on a LocalCluster of ``workers`` processes or the cluster
    at ``scheduler`` (:func:`journeymap.sweep._dask_client`).

    A replication is :func:`.runner.run_replication` with the same arguments as the local runner gives it,
    so its record is the same; its random numbers depend on the seed and its index only. The combined
    journey, the meeting and the arrivals (about 90 kB for the bundled book) are sent to each worker once
    (``client.scatter(broadcast=True)``), not once per task. One task per replication, not batches as a
    sweep makes: a year of a book is seconds of work, next to which the scheduler's few milliseconds a
    task are nothing. Results come back in replication order, whatever finished first;
    ``progress(done, total)`` moves by a replication's cases as each one finishes; Ctrl-C (any exception)
    cancels the tasks still queued or running, and the LocalCluster started here is closed in every case.
    """
    from distributed import as_completed

    from ..sweep import _dask_client
    from .runner import _check_size, run_replication, total_cases

    _check_size(book.journey)
    per_rep = total_cases(book.journey, cases)
    total = per_rep * replications
    client, cluster = _dask_client(scheduler, workers, timeout)
    futures: list[Any] = []
    try:
        journey, meeting, tagged = client.scatter([book.journey, book.meeting, book.arrivals], hash=False,
                                                  broadcast=True)
        futures = [client.submit(run_replication, journey, cases=cases, warmup=0, seed=seed, index=i,
                                 meeting=meeting, start=start, tagged=tagged, pure=False)
                   for i in range(replications)]
        index = {fut.key: i for i, fut in enumerate(futures)}
        results: dict[int, Replication] = {}
        for fut in as_completed(futures):
            results[index[fut.key]] = fut.result()  # a failed replication raises its error here, at once
            if progress is not None:
                progress(len(results) * per_rep, total)
        return [results[i] for i in range(replications)]  # replication order, whatever finished first
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def simulate_portfolio(portfolio: Any, *, replications: int = 5, seed: int = 1, workers: int = 1,
                       progress: ProgressCallback | None = None, executor: str = "local",
                       scheduler: str | None = None, connect_timeout: float | None = None,
                       ) -> tuple[dict[str, Any], Book, SimulationResult]:
    """Draw the accounts (revenue from ``seed``), assign them to managers, simulate and summarise the book
    (``executor``, ``scheduler`` and ``connect_timeout`` as for :func:`simulate_book`)."""
    from ..assignment import assign, draw_accounts

    accounts = draw_accounts(portfolio, seed)
    assignment = assign(portfolio, accounts)
    book = compile_book(portfolio, accounts, assignment)
    result = simulate_book(book, replications=replications, seed=seed, workers=workers, progress=progress,
                           executor=executor, scheduler=scheduler, connect_timeout=connect_timeout)
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


class _RepArrays(NamedTuple):
    """One replication's per-case columns and its [account, step] touchpoint counts."""

    cycle: np.ndarray
    account: np.ndarray
    template: np.ndarray
    visits: np.ndarray
    over: np.ndarray


def _rep_arrays(book: Book, r: Replication) -> _RepArrays:
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
    return _RepArrays(r.cases["cycle_time"], acc, template_of[entry], visits, over)


def _cases_at(book: Book, account: np.ndarray, template: np.ndarray) -> np.ndarray:
    """The [account, template] case counts of per-case ``account`` and ``template`` columns."""
    n_acc, n_tmpl = len(book.accounts), len(book.templates)
    return (np.bincount(account * n_tmpl + template, minlength=n_acc * n_tmpl)
            .reshape(n_acc, n_tmpl).astype(float))


@dataclass(frozen=True)
class _Pooled:
    """All replications together: per-case columns, [account, step] touchpoint counts, [account, template] cases."""

    cycle: np.ndarray
    account: np.ndarray
    template: np.ndarray
    visits: np.ndarray
    over: np.ndarray
    cases_at: np.ndarray


def _pooled(book: Book, per_rep: Sequence[_RepArrays]) -> _Pooled:
    """Pool the replications' arrays (empty ones of the right type when there are none)."""
    n_acc, n_steps = len(book.accounts), len(book.journey.steps)
    cycle = pool([x.cycle for x in per_rep]) if per_rep else np.zeros(0)
    acc = pool([x.account for x in per_rep]) if per_rep else np.zeros(0, dtype=np.int64)
    tmpl = pool([x.template for x in per_rep]) if per_rep else np.zeros(0, dtype=np.int64)
    visits = np.zeros((n_acc, n_steps))
    over = np.zeros((n_acc, n_steps))
    for x in per_rep:
        visits += x.visits
        over += x.over
    return _Pooled(cycle, acc, tmpl, visits, over, _cases_at(book, acc, tmpl))


@dataclass(frozen=True)
class _BookResults:
    """What the per-account, per-tier and book summaries all read: the replications, their pooled arrays, each
    account's tier (index), revenue and experience index, the manager of each account id, and the templates'
    touchpoints (:func:`_touchpoints`)."""

    book: Book
    reps: tuple[Replication, ...]
    per_rep: tuple[_RepArrays, ...]
    pooled: _Pooled
    tier_of: np.ndarray
    revenue: list[float]
    index: list[float | None]
    manager: Mapping[str, str]
    touch: list[list[list[tuple[int, str, float | None]]]]

    @property
    def n_reps(self) -> int:
        """Replications to divide by (at least 1, so an empty result gives zeros, not a division error)."""
        return max(1, len(self.reps))


def _book_results(book: Book, result: SimulationResult) -> _BookResults:
    """Gather the arrays every part of the summary reads, computing each once."""
    per_rep = tuple(_rep_arrays(book, r) for r in result.replications)
    pooled = _pooled(book, per_rep)
    tier_ids = [t.id for t in book.portfolio.tiers]
    touch = _touchpoints(book)
    return _BookResults(
        book=book, reps=tuple(result.replications), per_rep=per_rep, pooled=pooled,
        tier_of=np.array([tier_ids.index(a.tier) for a in book.accounts], dtype=np.int64),
        revenue=[float(a.revenue) for a in book.accounts],
        index=_account_indexes(book, pooled.visits, pooled.over, pooled.cases_at, touch),
        manager=book.assignment.manager if book.assignment is not None else {}, touch=touch)


def _replication_account_indexes(res: _BookResults) -> list[list[float | None]]:
    """Each replication's per-account indexes on its own: for the pooled figures' intervals."""
    return [_account_indexes(res.book, x.visits, x.over, _cases_at(res.book, x.account, x.template), res.touch)
            for x in res.per_rep]


def _replication_book_indexes(res: _BookResults, per_rep: Sequence[Sequence[float | None]]) -> list[float]:
    """The book's index of each replication on its own (those that have one), for the pooled index's interval."""
    values = (book_index(res.revenue, idx) for idx in per_rep)
    return [v for v in values if v is not None]


def _account_rows(res: _BookResults) -> list[dict[str, Any]]:
    """One row per account: tier, revenue, manager, cases, mean cycle time, experience and its tier's targets'
    attainment (pooled over replications; None where nothing was measured)."""
    book, acc, n_acc = res.book, res.pooled.account, len(res.book.accounts)
    count = np.bincount(acc, minlength=n_acc).astype(float)
    sum_cycle = np.bincount(acc, weights=res.pooled.cycle, minlength=n_acc)
    # per target of the combined journey: 1.0 met, 0.0 missed (NaN: not measured) per case, pooled
    met_case = [pool([r.target_met[j] for r in res.reps]) for j in range(len(book.journey.targets))]
    met = [np.bincount(acc, weights=np.nan_to_num(m), minlength=n_acc) for m in met_case]
    measured = [np.bincount(acc, weights=(~np.isnan(m)).astype(float), minlength=n_acc) for m in met_case]
    rows = []
    for a, rec in enumerate(book.accounts):
        ti = int(res.tier_of[a])
        rows.append({
            "id": rec.id, "tier": rec.tier, "revenue": res.revenue[a], "manager": res.manager.get(rec.id),
            "cases_per_replication": count[a] / res.n_reps,
            "cycle_time_mean": sum_cycle[a] / count[a] if count[a] else None,
            "experience": res.index[a],
            "sla": [met[j][a] / measured[j][a] if measured[j][a] else None for j in book.tier_targets[ti]],
        })
    return rows


def _tier_sla(res: _BookResults, ti: int) -> list[dict[str, Any]]:
    """Tier ``ti``'s targets: each with its attainment over the tier's cases, per replication and overall."""
    sla = []
    for j in res.book.tier_targets[ti]:
        t = res.book.journey.targets[j]
        counts = []
        for r, x in zip(res.reps, res.per_rep, strict=True):
            values = r.target_met[j][res.tier_of[x.account] == ti]
            counts.append((float(np.nansum(values)), float((~np.isnan(values)).sum())))
        sla.append({"within": t.within, "basis": t.basis, "goal": t.goal, **attainment(counts, t.goal)})
    return sla


def _tier_row(res: _BookResults, ti: int, tier: Any) -> dict[str, Any]:
    """Tier ``ti``'s summary: its accounts and revenue, cases, cycle time, targets, experience and the accounts
    it has without a manager."""
    acc = res.pooled.account
    mine = res.tier_of[acc] == ti if len(acc) else np.zeros(0, bool)
    rep_means = []
    for x in res.per_rep:
        m = res.tier_of[x.account] == ti
        if m.any():
            rep_means.append(float(x.cycle[m].mean()))
    members = [a for a in range(len(res.book.accounts)) if res.tier_of[a] == ti]
    return {
        "accounts": len(members),
        "revenue": float(sum(res.revenue[a] for a in members)),
        "priority": tier.priority,
        "cases": int(mine.sum()),
        "cases_per_replication": float(mine.sum()) / res.n_reps,
        "cycle_time": summarize(res.pooled.cycle[mine], rep_means),
        "sla": _tier_sla(res, ti),
        "experience": book_index([res.revenue[a] for a in members], [res.index[a] for a in members]),
        # None when the book has no account managers at all
        "without_manager": (sum(1 for a in members if res.manager.get(res.book.accounts[a].id) is None)
                            if res.book.portfolio.management is not None else None),
    }


def summarize_book(book: Book, result: SimulationResult) -> dict[str, Any]:
    """The book's JSON-ready summary: per account, per tier and for the book (see docs/portfolio.md)."""
    p = book.portfolio
    res = _book_results(book, result)
    revenue, index, cycle = res.revenue, res.index, res.pooled.cycle
    per_rep = _replication_account_indexes(res)
    return {
        "portfolio": p.id,
        "name": p.name,
        "currency": p.currency,
        "seed": result.summary["seed"],
        "replications": len(res.reps),
        "horizon_minutes": p.horizon,
        "warmup_minutes": p.warmup,
        "time_unit": "minutes",
        "classes": list(book.classes),
        "cases": int(len(cycle)),
        "book": {
            "accounts": len(book.accounts),
            "revenue": float(sum(revenue)),
            "cycle_time": summarize(cycle, [float(x.cycle.mean()) for x in res.per_rep if len(x.cycle)]),
            "experience": book_index(revenue, index),
            "experience_ci95": _centred(book_index(revenue, index), _replication_book_indexes(res, per_rep)),
        },
        "tiers": {tier.id: _tier_row(res, ti, tier) for ti, tier in enumerate(p.tiers)},
        "management": _management(book, result.summary),
        "pareto": pareto_view(revenue, index, ids=[a.id for a in book.accounts]),
        "accounts": _account_rows(res),
        "departments": result.summary["departments"],
        "money": money_per_tier(book, res.reps, res.pooled.cases_at, index, per_rep),
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


def _template_of_prefix(book: Book, ids: Sequence[str]) -> list[int]:
    """The template (index in ``book.templates``) of each prefixed step id, -1 for one that belongs to none."""
    label_of = {t.label: k for k, t in enumerate(book.templates)}
    return [label_of.get(sid.split(":", 1)[0], -1) for sid in ids]


def _staff_minutes_per_template(book: Book, reps: Sequence[Replication], overhead: float) -> list[dict[str, float]]:
    """Per template, per department: the staff minutes measured over all replications, i.e. the work on the
    template's steps plus ``overhead`` minutes per handoff at the receiving department (customer steps are
    not staff time)."""
    journey = book.journey
    minutes: list[dict[str, float]] = [{} for _ in book.templates]
    processing = np.sum([r.step_processing for r in reps], axis=0) if reps else np.zeros(len(journey.steps))
    for i, t in enumerate(_template_of_prefix(book, [s.id for s in journey.steps])):
        owner = journey.steps[i].owner
        if owner != CUSTOMER and t >= 0:
            minutes[t][owner] = minutes[t].get(owner, 0.0) + float(processing[i])
    if not overhead:
        return minutes
    owner_of = {s.id: s.owner for s in journey.steps}
    traversals = np.sum([r.flow_traversals for r in reps], axis=0) if reps else np.zeros(len(journey.flows))
    for k, t in enumerate(_template_of_prefix(book, [f.source for f in journey.flows])):
        f = journey.flows[k]
        if t >= 0 and journey.is_handoff(f):
            dept = owner_of[f.target]
            minutes[t][dept] = minutes[t].get(dept, 0.0) + float(traversals[k]) * overhead
    return minutes


@dataclass(frozen=True)
class _TierWork:
    """Per tier id: its cases a year and its staff minutes a year per department (a manager's own department for
    the account-management minutes of the accounts that have one)."""

    cases: dict[str, float]
    minutes: dict[str, dict[str, float]]


def _tier_work(book: Book, reps: Sequence[Replication], cases_at: np.ndarray,
               per_case: Sequence[Mapping[str, float]]) -> _TierWork:
    """Scale each account's cases of each template from the replications' horizons to a year, and charge each
    case its template's staff minutes per case to the account's tier."""
    p = book.portfolio
    mg = p.management
    manager = book.assignment.manager if book.assignment is not None else {}
    per_year = (YEAR / p.horizon) / max(1, len(reps))
    groups: dict[str, dict[str, float]] = {t.id: {} for t in p.tiers}
    cases: dict[str, float] = {t.id: 0.0 for t in p.tiers}
    for a, acc in enumerate(book.accounts):
        mine = groups[acc.tier]
        who = manager.get(acc.id)
        for t in range(len(book.templates)):
            n = cases_at[a, t] * per_year
            if not n:
                continue
            cases[acc.tier] += n
            for d, v in per_case[t].items():
                if mg is not None and d == mg.department and who is not None:
                    d = f"{mg.department}:{who}"
                mine[d] = mine.get(d, 0.0) + n * v
    return _TierWork(cases, groups)


def _summed(band_of: Any, book: Book, index: Sequence[float | None], members: Sequence[int],
            link: Any) -> dict[str, float]:
    """``band_of`` (:func:`journeymap.money.revenue_at_risk` or :func:`~journeymap.money.expansion_revenue`)
    through ``link`` for each of the ``members`` accounts that has an index, summed: (mean, low, high)."""
    bands = [band_of(index[a], float(book.accounts[a].revenue), link) for a in members if index[a] is not None]
    return {"mean": sum(b.mean for b in bands), "low": sum(b.low for b in bands), "high": sum(b.high for b in bands)}


def _band(band_of: Any, book: Book, index: Sequence[float | None], members: Sequence[int], link: Any,
          per_rep: Sequence[Sequence[float | None]]) -> dict[str, float]:
    """The revenue at risk (or expansion revenue) of ``members``, as a band over the link's range and the
    replications' spread.

    The central figure and the link's ends are those of the pooled indexes (:func:`_summed`); each end is then
    moved out by the half-width of the 95% t-interval of that end's figure over the replications, each computed
    from its own per-account indexes (``per_rep``) — the same centring as the book index's ``experience_ci95``,
    since one replication's index of an account rests on fewer cases. The low end never goes below 0. Without
    two replications the band spans the link only.
    """
    out = _summed(band_of, book, index, members, link)
    if len(per_rep) < 2:
        return out
    reps = [_summed(band_of, book, idx, members, link) for idx in per_rep]
    for end, sign in (("low", -1), ("high", 1)):
        lo, hi = t_interval([r[end] for r in reps])
        if lo is not None and hi is not None:
            out[end] = max(0.0, out[end] + sign * (hi - lo) / 2)
    return out


def money_per_tier(book: Book, reps: Sequence[Replication], cases_at: np.ndarray,
                   index: Sequence[float | None],
                   per_rep: Sequence[Sequence[float | None]] = ()) -> dict[str, Any] | None:
    """Money per tier and for the book (docs/money.md, through :mod:`journeymap.money`): staff cost a year per
    department, cost per case, and the revenue the experience puts at risk.

    Staff minutes per case of each template and department are the measured work on the template's steps
    (all replications) plus ``handoff_overhead`` minutes per handoff at the receiving department, over
    the template's cases; durations do not depend on the account, so a tier's minutes a year are its
    accounts' cases of each template (per replication, scaled from the horizon to a year) times those.
    Account-management minutes go to the account's manager (at the manager's rate) or the pool.
    Revenue at risk is summed over the tier's accounts (the churn link is not linear in the index:
    an account above ``below`` puts nothing at risk), each a band over the link's range, widened by the
    replications' spread when ``per_rep`` (each replication's per-account indexes) has two or more (:func:`_band`);
    expansion revenue the same way through the expansion link (an account below ``above`` adds nothing).
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
    minutes = _staff_minutes_per_template(book, reps, overhead)
    total_cases = cases_at.sum(axis=0)
    per_case = [{d: v / total_cases[t] for d, v in minutes[t].items()} if total_cases[t] else {}
                for t in range(len(book.templates))]
    work = _tier_work(book, reps, cases_at, per_case)
    costs = money.staff_cost_by(work.minutes, {d.id: d.cost_per_hour for d in book.journey.departments})
    churn = m.churn if m is not None else None
    grow = m.expansion if m is not None else None
    # per tier, in portfolio order; None each when the money block has no churn (expansion) link
    members = [[a for a, acc in enumerate(book.accounts) if acc.tier == t.id] for t in p.tiers]
    everyone = list(range(len(book.accounts)))

    def bands(band_of: Any, link: Any) -> tuple[list[dict[str, float] | None], dict[str, float] | None]:
        if link is None:
            return [None] * len(p.tiers), None
        return ([_band(band_of, book, index, m, link, per_rep) for m in members],
                _band(band_of, book, index, everyone, link, per_rep))

    risks, book_risk = bands(money.revenue_at_risk, churn)
    gains, book_gain = bands(money.expansion_revenue, grow)
    tiers = {}
    for tier, risk, gain in zip(p.tiers, risks, gains, strict=True):
        c, n = costs[tier.id], work.cases[tier.id]
        tiers[tier.id] = {
            "cases_per_year": n,
            "staff_minutes_per_year": work.minutes[tier.id],
            "staff_cost_per_year": c,
            "cost_per_case": c["total"] / n if n else None,
            "revenue_at_risk": risk,
            "expansion_revenue": gain}
    total = sum(costs[t.id]["total"] for t in p.tiers)
    return {"currency": p.currency, "handoff_overhead_minutes": overhead, "tiers": tiers,
            "book": {"staff_cost_per_year": total, "revenue_at_risk": book_risk, "expansion_revenue": book_gain}}
