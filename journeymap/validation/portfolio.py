"""The located checks of a portfolio file (docs/portfolio.md, "Validation rules").

The same passes as an account file (:mod:`journeymap.account`): safe YAML with line:column
positions, the JSON Schema :data:`journeymap.schema.PORTFOLIO_SCHEMA` (types, required keys, a
tier's ``accounts`` at least 1, a known ``policy``), then the meaning, section by section, each
reading what the ones before it built: the templates (each file checked once, its own problems
reported in it), the departments, the account managers, the tiers (revenue, priority, targets),
the money block and the header. Every problem names what is wrong and how to fix it; the rule ids
are :data:`PORTFOLIO_RULES`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import jsonschema

from ..distributions import BASES, YEAR, DurationError, parse_timed
from ..loading import Located, Path, ReferenceOutside, load_yaml, read_text, resolve_reference, unreadable
from ..model import Department, Journey, Target
from ..portfolio import (
    DEFAULT_POLICY,
    DUNBAR,
    AccountManagement,
    CheckedPortfolio,
    ManagerLevel,
    Portfolio,
    RevenueError,
    Template,
    Tier,
    parse_horizon,
    parse_revenue,
    parse_warmup,
)
from ..problems import Problem, excerpt, sort_problems
from ..schema import PORTFOLIO_SCHEMA
from . import MAX_VISITS_PER_RUN, check_file, internal_error, structure_problems, too_deep
from .money import check_money
from .service import target_id
from .values import is_number, list_or_empty, mapping_or_empty, str_or
from .wording import did_you_mean

__all__ = ["check_portfolio_file", "PORTFOLIO_RULES"]

_VALIDATOR = jsonschema.Draft202012Validator(PORTFOLIO_SCHEMA)

#: The rules a portfolio file is checked against, besides the structure rules of every file
#: (unknown-key, missing-key, wrong-type, out-of-range, invalid-value...).
PORTFOLIO_RULES: dict[str, str] = {
    "unknown-reference": "a template file that does not exist, a department or priority class the templates lack",
    "outside-project": "a template outside the folder of the portfolio file",
    "invalid-template": "a template that is not a journey or an account file, or has errors",
    "invalid-revenue": "a revenue that is not plain numbers (a currency sign, a unit), negative, or malformed",
    "missing-currency": "revenue given, but the portfolio names no currency",
    "managers-short": "more accounts than the account managers can hold: the rest go to the pool (a warning)",
    "dunbar": "a manager's relationship limit above about 150 (a warning)",
    "idle-managers": "no template has a step of the account managers' department (a warning)",
    "invalid-duration": "a horizon or a target's time that cannot be read",
    "duplicate-id": "two tiers, or two manager levels, with the same id",
    "priority-mismatch": "templates that list different priority classes",
    "endless-run": "a horizon whose runs would simulate more step visits than the limit",
}


@dataclass
class _Draft:
    """A portfolio file being checked: its located data, the problems found, and what each section built."""

    loc: Located
    problems: list[Problem]
    lint: bool
    #: template ref -> its journey (None: the file is unusable, already reported)
    journeys: dict[str, Journey | None] = field(default_factory=dict)
    meetings: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, Literal["account", "journey"]] = field(default_factory=dict)
    #: template ref -> where it is first named
    first_named: dict[str, Path] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    management: AccountManagement | None = None
    tiers: list[Tier] = field(default_factory=list)

    def error(self, path: Path, rule: str, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.loc.problem(path, rule, message, hint, key=key))

    def warn(self, path: Path, rule: str, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.loc.problem(path, rule, message, hint, key=key, severity="warning"))

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)

    @property
    def templates_ok(self) -> bool:
        """Every template named could be read: only then is a department or class missing from all of them news."""
        return bool(self.journeys) and all(j is not None for j in self.journeys.values())

    @property
    def good_journeys(self) -> dict[str, Journey]:
        return {ref: j for ref, j in self.journeys.items() if j is not None}


def check_portfolio_file(file: str, *, lint: bool = True) -> CheckedPortfolio:
    """Check a portfolio file and the templates it names; never raises on bad input."""
    try:
        return _check(file, lint=lint)
    except RecursionError:
        return CheckedPortfolio(None, [too_deep(file)])
    except Exception as exc:  # a bug of ours: one file must never stop `validate DIR` or `run DIR`
        return CheckedPortfolio(None, [internal_error(file, exc)])


def _check(file: str, *, lint: bool) -> CheckedPortfolio:
    """The sections in order: each reads what the ones before it built."""
    try:
        text = read_text(file)
    except (OSError, UnicodeDecodeError) as exc:
        return CheckedPortfolio(None, [unreadable(file, exc, "portfolio")])
    loc, problems = load_yaml(text, file)
    if loc is None:
        return CheckedPortfolio(None, sort_problems(problems))
    problems += structure_problems(loc, _VALIDATOR)
    data = mapping_or_empty(loc.data)
    d = _Draft(loc, problems, lint)
    tiers = list_or_empty(data.get("tiers"))
    _templates(d, tiers)
    _priorities(d)
    _departments(d, list_or_empty(data.get("departments")))
    _management(d, data.get("account_management"))
    _tiers(d, tiers)
    meta = mapping_or_empty(data.get("portfolio"))
    _currency(d, meta, tiers)
    money = _money(d, data.get("money"), meta.get("currency"))
    horizon, start, warmup = _header(d, meta)
    if not d.has_errors:
        _run_size(d, horizon + warmup)
        _managers_short(d)
    portfolio = None
    if not d.has_errors and d.tiers:
        portfolio = Portfolio(
            id=str_or(meta.get("id")) or os.path.splitext(os.path.basename(file))[0],
            name=str_or(meta.get("name")), currency=str_or(meta.get("currency")), horizon=horizon, start=start,
            departments=tuple(d.departments.values()), management=d.management, tiers=tuple(d.tiers), money=money,
            source=file, journeys=d.good_journeys, meetings=dict(d.meetings),
            description=str_or(meta.get("description")), warmup=warmup)
    return CheckedPortfolio(portfolio, sort_problems(problems))


# --------------------------------------------------------------------------- templates


def _templates(d: _Draft, tiers: list) -> None:
    """Every template each tier names, checked once (its problems are reported in its own file)."""
    for i, tier in enumerate(tiers):
        for j, entry in enumerate(list_or_empty(mapping_or_empty(tier).get("journeys"))):
            ref = mapping_or_empty(entry).get("template")
            if isinstance(ref, str) and ref not in d.journeys:
                d.first_named[ref] = ("tiers", i, "journeys", j, "template")
                d.journeys[ref] = _template(d, d.first_named[ref], ref)


def _template(d: _Draft, where: Path, ref: str) -> Journey | None:
    """The journey a template names (an account file's combined journey); None when unusable (reported)."""
    from ..account import check_account, is_account_file
    from ..levers import is_levers_file
    from ..portfolio import is_portfolio_file

    try:
        path = resolve_reference(ref, d.loc.file)
    except ReferenceOutside as exc:
        d.error(where, "outside-project", f"a template must be in this folder: {exc}",
                "keep the portfolio and its templates in one folder (or folders below it)")
        return None
    if os.path.exists(path) and not os.path.isfile(path):
        d.error(where, "invalid-template", f"template {excerpt(ref)} is not an ordinary file (a folder, a device?)",
                "give the path of an account or journey file, relative to this portfolio file")
        return None
    if not os.path.isfile(path):
        folder = os.path.dirname(path) or "."
        try:
            near = [f for f in os.listdir(folder) if f.endswith((".yaml", ".yml"))]
        except OSError:
            near = []
        d.error(where, "unknown-reference", f"template file {excerpt(ref)} does not exist{did_you_mean(ref, near)}",
                "give the path of an account or journey file, relative to this portfolio file")
        return None
    if is_portfolio_file(path) or is_levers_file(path):
        d.error(where, "invalid-template",
                f"{excerpt(ref)} is a {'portfolio' if is_portfolio_file(path) else 'levers'} file, not a template",
                "a template is an account file (a deal of a buying group) or a journey file")
        return None
    if is_account_file(path):
        checked_account = check_account(path, lint=d.lint)
        d.problems += checked_account.problems
        if checked_account.account is None:
            d.error(where, "invalid-template", f"account {excerpt(ref)} has errors (listed above)")
            return None
        from ..simulation.account import combined_journey

        journey, meeting = combined_journey(checked_account.account)
        d.kinds[ref], d.meetings[ref] = "account", meeting
        return journey
    checked = check_file(path, lint=d.lint, referenced=True)
    d.problems += checked.problems
    if checked.journey is None:
        d.error(where, "invalid-template", f"journey {excerpt(ref)} has errors (listed above)")
        return None
    d.kinds[ref], d.meetings[ref] = "journey", None
    return checked.journey


def _priorities(d: _Draft) -> None:
    """The templates must list the same priority classes: all accounts' cases are served by one order."""
    good = d.good_journeys
    if not good:
        return
    first_ref, first = next(iter(good.items()))
    for ref, j in good.items():
        if j.priorities != first.priorities:
            d.error(d.first_named[ref], "priority-mismatch",
                    f"{excerpt(ref)} lists the priorities {', '.join(j.priorities)}, but {excerpt(first_ref)} lists "
                    f"{', '.join(first.priorities)}",
                    "every account's cases share the vendor's staff, so the templates must list the same priority "
                    "classes in the same order")
            return


def _departments(d: _Draft, entries: list) -> None:
    """The templates' departments merged (the first template's calendar wins, a mismatch warns), then the
    portfolio's capacity and cost per hour over them."""
    seen_in: dict[str, str] = {}
    for ref, j in d.good_journeys.items():
        for dept in j.departments:
            if dept.calendar is None and dept.shifts is None and j.calendar is not None:
                dept = replace(dept, calendar=j.calendar)
            if dept.id not in d.departments:
                d.departments[dept.id], seen_in[dept.id] = dept, ref
            elif (d.departments[dept.id].calendar, d.departments[dept.id].shifts) != (dept.calendar, dept.shifts):
                d.warn(d.first_named[ref], "calendar-mismatch",
                       f"department {dept.id!r} has other working hours in {excerpt(ref)} than in "
                       f"{excerpt(seen_in[dept.id])}; the portfolio uses those of {excerpt(seen_in[dept.id])}",
                       "give the department the same calendar and shifts in every template")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        did = entry["id"]
        base = d.departments.get(did)
        if base is None:
            if d.templates_ok:
                d.error(("departments", i, "id"), "unknown-reference",
                        f"no template has a department {did!r}{did_you_mean(did, d.departments)}",
                        f"departments in the templates: {', '.join(d.departments) or 'none'}")
            continue
        cap = entry.get("capacity", base.capacity)
        if base.shifts is not None and "capacity" in entry:
            d.error(("departments", i, "capacity"), "invalid-capacity",
                    f"department {did!r} works in shifts in the templates: its capacity comes from them",
                    "remove 'capacity' here, or change the shifts in the templates", key=True)
            continue
        cost = entry.get("cost_per_hour", base.cost_per_hour)
        d.departments[did] = replace(base, name=str_or(entry.get("name"), base.name),
                                     capacity=cap if isinstance(cap, int) and cap >= 1 else base.capacity,
                                     cost_per_hour=float(cost) if is_number(cost) and cost >= 0 else base.cost_per_hour)


# --------------------------------------------------------------------------- account managers


def _management(d: _Draft, raw: Any) -> None:
    """``account_management:``: a department of the templates, levels with distinct names, a pool."""
    if not isinstance(raw, dict):
        return
    dept = raw.get("department")
    ok = _management_department(d, dept)
    levels = _manager_levels(d, raw.get("managers"), dept)
    pool = mapping_or_empty(raw.get("pool"))
    pool_cap, pool_cost = pool.get("capacity", 1), pool.get("cost_per_hour")
    policy = raw.get("policy", DEFAULT_POLICY)
    if ok and levels and isinstance(policy, str):
        d.management = AccountManagement(
            department=str(dept), levels=tuple(levels), policy=policy,
            pool_capacity=pool_cap if isinstance(pool_cap, int) and pool_cap >= 1 else 1,
            pool_cost_per_hour=float(pool_cost) if is_number(pool_cost) else _dept_cost(d, dept))


def _management_department(d: _Draft, dept: Any) -> bool:
    """The managers' department is one of the templates' (an error otherwise) and does some step (a warning)."""
    if not isinstance(dept, str):
        return False
    if d.templates_ok and dept not in d.departments:
        d.error(("account_management", "department"), "unknown-reference",
                f"no template has a department {dept!r}{did_you_mean(dept, d.departments)}",
                "name the department whose steps an account's own manager does "
                f"(departments in the templates: {', '.join(d.departments) or 'none'})")
        return False
    if d.lint and d.templates_ok and not any(st.owner == dept for j in d.good_journeys.values()
                                             for st in j.steps):
        d.warn(("account_management", "department"), "idle-managers",
               f"no template has a step done by {dept!r}: the account managers would do nothing",
               "name the department whose steps are the account manager's (the account team)")
    return True


def _manager_levels(d: _Draft, raw: Any, dept: Any) -> list[ManagerLevel]:
    """The manager levels, most senior first: each named once, with a Dunbar warning above 150 accounts."""
    levels: list[ManagerLevel] = []
    seen: set[str] = set()
    for i, m in enumerate(list_or_empty(raw)):
        if not isinstance(m, dict) or not isinstance(m.get("level"), str):
            continue
        if m["level"] in seen:
            d.error(("account_management", "managers", i, "level"), "duplicate-id",
                    f"manager level {m['level']!r} is listed twice", "list each level once, most senior first")
            continue
        seen.add(m["level"])
        people, limit = m.get("people"), m.get("relationships")
        if not (isinstance(people, int) and people >= 0 and isinstance(limit, int) and limit >= 1):
            continue  # reported by the structure pass
        if d.lint and limit > DUNBAR:
            d.warn(("account_management", "managers", i, "relationships"), "dunbar",
                   f"a {m['level']} manager holds up to {limit} accounts; a person keeps about {DUNBAR} working "
                   "relationships (Dunbar's number), and gives real attention to far fewer",
                   f"keep it at {DUNBAR} or below, and add managers instead")
        cost = m.get("cost_per_hour")
        levels.append(ManagerLevel(m["level"], people, limit, float(cost) if is_number(cost) else _dept_cost(d, dept)))
    return levels


def _dept_cost(d: _Draft, dept: Any) -> float:
    """The cost per hour of the department the managers stand in for (0 when it has none)."""
    found = d.departments.get(dept) if isinstance(dept, str) else None
    return float(found.cost_per_hour) if found is not None and found.cost_per_hour is not None else 0.0


def _managers_short(d: _Draft) -> None:
    """More accounts than the managers can hold: say how many managers it would take (a warning: the rest
    go to the pool, which is what the research saw happen, but never silently)."""
    m = d.management
    accounts = sum(t.accounts for t in d.tiers)
    if m is None or accounts <= m.capacity:
        return
    short = accounts - m.capacity
    last = m.levels[-1]
    more = math.ceil(short / last.relationships)
    d.warn(("account_management", "managers"), "managers-short",
           f"the {accounts:,} accounts need {m.people + more:,} managers at these limits ({more:,} more {last.level} "
           f"at {last.relationships} relationships); you have {m.people:,}: {short:,} accounts go to the pool",
           f"add {more} {last.level} manager(s), or accept that the pool (capacity {m.pool_capacity}) serves the "
           "long tail", key=True)


# --------------------------------------------------------------------------- tiers


def _tiers(d: _Draft, entries: list) -> None:
    """Each tier: a distinct id, its revenue, a known priority, its templates and targets."""
    seen: dict[str, int] = {}
    classes = next(iter(d.good_journeys.values())).priorities if d.good_journeys else ()
    for i, t in enumerate(entries):
        if not isinstance(t, dict) or not isinstance(t.get("id"), str):
            continue
        tid = t["id"]
        if tid in seen:
            d.error(("tiers", i, "id"), "duplicate-id", f"tier {tid!r} is listed twice", "give each tier its own id")
            continue
        seen[tid] = i
        revenue = _revenue(d, ("tiers", i, "revenue"), t.get("revenue"))
        priority = t.get("priority")
        if isinstance(priority, str) and d.templates_ok and priority not in classes:
            d.error(("tiers", i, "priority"), "unknown-reference",
                    f"priority {excerpt(priority)} is not one of the templates' priority classes "
                    f"({', '.join(classes)}){did_you_mean(priority, classes)}",
                    "use one of them (highest first), or remove 'priority' to give the tier's cases none")
            priority = None
        templates = _tier_templates(d, i, list_or_empty(t.get("journeys")))
        targets = _targets(d, i, tid, list_or_empty(t.get("targets")))
        accounts = t.get("accounts")
        if revenue is None or templates is None or targets is None or not isinstance(accounts, int) or accounts < 1:
            continue
        d.tiers.append(Tier(tid, accounts, revenue, priority if isinstance(priority, str) else None, templates,
                            targets, str_or(t.get("name"))))


def _revenue(d: _Draft, where: Path, value: Any) -> Any:
    """A tier's revenue: plain numbers, a distribution of them (None: missing or wrong, reported)."""
    if value is None:
        return None  # missing: the structure pass said so
    try:
        return parse_revenue(value)
    except RevenueError as exc:
        d.error(where + exc.where, "invalid-revenue", str(exc),
                "revenue is per account per year in the portfolio's currency, as plain numbers: 50000, "
                "{uniform: [5000, 40000]}, {lognormal: {mean: 2000000, sd: 800000}}")
        return None


def _tier_templates(d: _Draft, i: int, entries: list) -> tuple[Template, ...] | None:
    """A tier's ``journeys:``; None when one of them is unusable (reported)."""
    out: list[Template] = []
    labels: set[str] = set()
    ok = True
    for j, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("template"), str) or not is_number(e.get("per_year")):
            ok = False
            continue
        ref = e["template"]
        if d.journeys.get(ref) is None:
            ok = False  # reported where it was first named
            continue
        label = str_or(e.get("as")) or os.path.splitext(os.path.basename(ref))[0]
        if label in labels:
            d.error(("tiers", i, "journeys", j), "duplicate-id", f"two journeys of the tier are labelled {label!r}",
                    "give each its own 'as:' label", key=True)
            ok = False
            continue
        labels.add(label)
        if e["per_year"] > 0:
            out.append(Template(ref, d.kinds[ref], float(e["per_year"]), label))
    return tuple(out) if ok and out else None


def _targets(d: _Draft, i: int, tid: str, entries: list) -> tuple[Target, ...] | None:
    """A tier's targets: journey scope, a time with a unit; None when one is wrong (reported)."""
    out: list[Target] = []
    for k, t in enumerate(entries):
        if not isinstance(t, dict) or not isinstance(t.get("within"), str):
            return None
        try:
            within, basis = parse_timed(t["within"], bases=BASES)
        except DurationError as exc:
            d.error(("tiers", i, "targets", k, "within"), "invalid-duration", str(exc), "e.g. within: 30d")
            return None
        if within <= 0:
            d.error(("tiers", i, "targets", k, "within"), "out-of-range", "a target needs a time greater than zero",
                    "e.g. within: 30d")
            return None
        name = str_or(t.get("name")) or f"{tid} within {t['within']}"
        goal = t.get("goal", 0.9)
        out.append(Target(str_or(t.get("id")) or target_id(name, k), name, "journey", "", within, basis,
                          float(goal) if is_number(goal) and 0 <= goal <= 1 else 0.9))
    return tuple(out)


def _currency(d: _Draft, meta: dict, tiers: list) -> None:
    """Revenue is money: it needs the currency it is counted in."""
    if isinstance(meta.get("currency"), str) or "currency" in meta:
        return  # given (a wrong one is reported by the structure pass)
    for i, t in enumerate(tiers):
        if isinstance(t, dict) and "revenue" in t:
            d.error(("tiers", i, "revenue"), "missing-currency",
                    "the tiers give revenue, but the portfolio names no currency",
                    "add the ISO code of the amounts under 'portfolio:', e.g. currency: EUR", key=True)
            return


# --------------------------------------------------------------------------- money and header


def _money(d: _Draft, raw: Any, currency: Any) -> dict[str, Any] | None:
    """``money:``: checked as a journey's block is (:func:`~.money.check_money`: one definition), in the portfolio's
    currency; the block as written when it is valid (the simulation reads it with :func:`journeymap.money.money_of`)."""
    if not isinstance(raw, dict):
        return None
    checked = check_money(raw, lambda path, rule, message, hint: d.error(path, rule, message, hint),
                          currency=currency if isinstance(currency, str) else None)
    return dict(raw) if checked is not None else None


def _header(d: _Draft, meta: dict) -> tuple[float, Any, float]:
    """The horizon (default a year), the start (read in the templates' time zone) and the warm-up (default 0)."""
    horizon = YEAR
    if "horizon" in meta:
        try:
            horizon = parse_horizon(meta["horizon"])
        except DurationError as exc:
            d.error(("portfolio", "horizon"), "invalid-duration", str(exc), "e.g. horizon: 1y, 26w or 90d")
    start = None
    if isinstance(meta.get("start"), str):
        from .calendars import parse_start

        try:
            start = parse_start(meta["start"], _timezone(d))
        except ValueError as exc:
            d.error(("portfolio", "start"), "invalid-value", str(exc), "e.g. start: 2027-01-04 09:00")
    warmup = 0.0
    if "warmup" in meta:
        try:
            warmup = parse_warmup(meta["warmup"], horizon)
        except DurationError as exc:
            d.error(("portfolio", "warmup"), "invalid-duration", str(exc),
                    "e.g. warmup: 8w (simulated before the horizon, not measured), or leave it out for none")
    return horizon, start, warmup


def _timezone(d: _Draft) -> str:
    """The templates' time zone: the first calendar found, else UTC."""
    for j in d.good_journeys.values():
        for c in [j.calendar] + [dept.calendar for dept in j.departments]:
            if c is not None:
                return c.timezone
    return "UTC"


def _run_size(d: _Draft, horizon: float) -> None:
    """A run must finish: the expected step visits of the whole book over the horizon (and its warm-up) within
    the limit."""
    from ..analysis import expected_visits
    from ..graph import build_graph

    per_case = {ref: sum(expected_visits(build_graph(j)).values()) for ref, j in d.good_journeys.items()}
    visits = sum(t.accounts * tpl.per_year * horizon / YEAR * per_case[tpl.ref] for t in d.tiers for tpl in t.templates)
    if visits > MAX_VISITS_PER_RUN:
        d.error(("portfolio", "horizon") if "horizon" in mapping_or_empty(d.loc.data).get("portfolio", {})
                else ("tiers",), "endless-run",
                f"a run would simulate about {visits:,.0f} step visits; the limit is {MAX_VISITS_PER_RUN:,}",
                "simulate a shorter horizon, fewer accounts, or fewer journeys per year", key=True)
