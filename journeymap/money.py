"""Money: what a journey's cases cost, what its experience puts at risk, and the business case of a redesign.

Nothing here runs a simulation: the functions take what a simulation measured (staff minutes, handoffs,
the experience index) and the journey's ``money:`` block, and return plain numbers. docs/money.md defines
every figure with a hand-computed example; tests/test_money.py checks those examples.

The pure functions other modules call (the portfolio's simulation calls the first two per tier)::

    staff_cost_by(groups: Mapping[str, Mapping[str, float]],      # group (tier, design) -> dept -> staff minutes
                  cost_per_hour: Mapping[str, float | None]        # dept -> rate (None: unpriced, costs 0)
                  ) -> dict[str, dict[str, float]]                 # group -> dept -> cost, plus "total"
    revenue_at_risk(index: float, revenue: float, churn: ChurnLink, *,
                    index_ci: tuple[float, float] | None = None) -> Band   # revenue lost a year, a band
    cost_per_case(staff_minutes: Mapping[str, float],              # dept -> staff minutes per case
                  handoffs: Mapping[tuple[str, str], float],       # (from dept, to dept) -> handoffs per case
                  cost_per_hour: Mapping[str, float | None],
                  handoff_overhead: float) -> dict[str, Any]       # staff, overhead, total, per department
    fte(minutes_per_year: float, hours_per_fte: float = HOURS_PER_FTE) -> float
    revenue_protected(index_before, index_change, change_ci, revenue, churn) -> Band
    expansion_revenue(index, revenue, expansion, *, index_ci=None) -> Band          # revenue gained a year
    expansion_gained(index_before, index_change, change_ci, revenue, expansion) -> Band
    payback(investment: Investment, benefit_per_year: Band) -> dict[str, Any]   # months, a band

    money_of(block: Mapping[str, Any] | None, currency: str) -> Money | None   # a portfolio's checked block

A portfolio keeps its ``money:`` block as written (``Portfolio.money``, checked by its own validation);
:func:`money_of` reads it with the portfolio's currency. A journey's block is checked and read by
``journeymap.validation.money.check_money``.

Definitions (docs/money.md):

* **cost per case** = Σ over departments of staff minutes on its steps / 60 × its ``cost_per_hour``
  + Σ over handoffs of ``handoff_overhead`` / 60 × the *receiving* department's ``cost_per_hour`` (the
  time it takes to pick up a case someone else worked on: reading the file, asking what was meant);
* **capacity freed** = staff minutes per case saved × ``cases_per_year`` / 60 / ``hours_per_fte``
  (1,680 productive hours per full-time person a year by default: 52 weeks × 40 h less leave,
  public holidays and sickness);
* **revenue at risk** = ``revenue`` × churn points / 100, churn points = max(0, ``below`` − index) ×
  ``per_point``; the link is a range ``[low, high]``, so the result is a band: its low end takes the
  link's low end and the top of the index's 95% interval, its high end the link's high end and the
  bottom of the interval; the central figure takes the middle of the link and the index's mean;
* **expansion revenue** = ``revenue`` × expansion points / 100, expansion points = max(0, index − ``above``) ×
  ``per_point``: the mirror of the churn link for accounts whose experience is good (upsell, more seats,
  more modules); a band the same way (low end: the link's low end and the bottom of the index's interval);
* **revenue gained** by a redesign = revenue protected (churn risk before − after) + expansion gained
  (expansion after − before): the experience's whole effect on revenue;
* **payback** = ``one_off`` / (benefit per year / 12 − ``per_month``) months; none when the monthly
  benefit does not cover the running cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .statistics import t_interval

if TYPE_CHECKING:
    from .model import Journey
    from .simulation.records import Replication, SimulationResult

__all__ = ["HOURS_PER_FTE", "ChurnLink", "ExpansionLink", "Investment", "Money", "Band", "cost_per_case",
           "staff_cost_by", "fte", "churn_points", "revenue_at_risk", "revenue_protected", "expansion_points",
           "expansion_revenue", "expansion_gained", "payback", "replication_money",
           "business_case", "format_amount", "business_case_view", "MONEY_NOTE", "money_of"]

#: Productive hours a full-time person works in a year: 52 weeks × 40 h = 2,080 h, less about 25 days of leave,
#: 8 public holidays and 7 days of sickness (40 days × 8 h = 320 h), rounded to 1,680 h. ``money: {hours_per_fte}``
#: replaces it.
HOURS_PER_FTE = 1680.0
#: Months in a year (the payback is in months).
MONTHS = 12.0

#: One line beside every business case: what its intervals cover.
MONEY_NOTE = ("Cost saved and capacity freed carry the 95% interval of the simulation (paired replications); "
              "revenue protected, expansion gained and the payback are bands that also span the stated churn "
              "and expansion links (their low and high ends). The volumes, revenue, links and investment are the "
              "journey's stated assumptions. Staff cost is the cost of the time spent on cases: the pay of people "
              "added or let go is part of the investment (per_month), not of it.")


class _StatedRange:
    """A link the user states as a range of percentage points per index point, ``low``..``high``."""

    low: float
    high: float

    @property
    def mid(self) -> float:
        """The middle of the stated range: the central figure's link."""
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class ChurnLink(_StatedRange):
    """Each experience-index point below ``below`` adds ``low``..``high`` percentage points of annual churn."""

    below: float
    low: float
    high: float


@dataclass(frozen=True)
class ExpansionLink(_StatedRange):
    """Each experience-index point above ``above`` adds ``low``..``high`` percentage points of annual expansion
    revenue: the accounts a good experience makes buy more (the other half of the churn-and-expansion link)."""

    above: float
    low: float
    high: float


@dataclass(frozen=True)
class Investment:
    """What the redesign costs: once, and every month it runs."""

    one_off: float = 0.0
    per_month: float = 0.0


@dataclass(frozen=True)
class Money:
    """A journey's ``money:`` block: the stated assumptions that turn time and experience into money."""

    currency: str
    #: staff minutes each internal handoff costs the receiving department
    handoff_overhead: float = 0.0
    cases_per_year: float | None = None
    #: revenue a year of the customers this journey serves (what churn puts at risk)
    revenue: float | None = None
    churn: ChurnLink | None = None
    investment: Investment | None = None
    hours_per_fte: float = HOURS_PER_FTE
    expansion: ExpansionLink | None = None


@dataclass(frozen=True)
class Band:
    """A central figure and the range around it (``low`` <= ``mean`` <= ``high``)."""

    mean: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high}


def money_of(block: Mapping[str, Any] | None, currency: str) -> Money | None:
    """The :class:`Money` of a ``money:`` block already checked (a portfolio's), in ``currency`` unless it names
    its own; None without a block. ``ValueError`` naming the first problem when the block is not valid."""
    from .validation.money import check_money

    problems: list[str] = []
    money = check_money(dict(block) if block is not None else None,
                        lambda path, rule, message, hint: problems.append(f"{'.'.join(map(str, path))}: {message}"),
                        currency=currency)
    if block is not None and money is None:
        raise ValueError(problems[0] if problems else "the money: block is not valid (docs/money.md)")
    return money


# --------------------------------------------------------------------------- pure building blocks


def _rate(cost_per_hour: Mapping[str, float | None], dept: str) -> float:
    return float(cost_per_hour.get(dept) or 0.0)


def cost_per_case(staff_minutes: Mapping[str, float], handoffs: Mapping[tuple[str, str], float],
                  cost_per_hour: Mapping[str, float | None], handoff_overhead: float) -> dict[str, Any]:
    """Cost of one case: staff time × rate, plus ``handoff_overhead`` minutes per handoff at the receiver's rate.

    ``staff_minutes`` and ``handoffs`` are per case (means). Returns ``staff``, ``overhead`` and ``total``
    cost, ``departments`` (each department's cost, its overhead included) and ``minutes`` (each
    department's staff minutes, overhead included: what capacity is computed on). A receiver that is not
    a priced department costs 0.
    """
    departments = {d: m / 60 * _rate(cost_per_hour, d) for d, m in staff_minutes.items()}
    minutes = dict(staff_minutes)
    overhead = 0.0
    for (_, to), n in handoffs.items():
        cost = n * handoff_overhead / 60 * _rate(cost_per_hour, to)
        overhead += cost
        if to in departments:
            departments[to] += cost
            minutes[to] += n * handoff_overhead
    staff = sum(m / 60 * _rate(cost_per_hour, d) for d, m in staff_minutes.items())
    return {"staff": staff, "overhead": overhead, "total": staff + overhead, "departments": departments,
            "minutes": minutes}


def staff_cost_by(groups: Mapping[str, Mapping[str, float]],
                  cost_per_hour: Mapping[str, float | None]) -> dict[str, dict[str, float]]:
    """Staff cost of each group (a tier, a design) per department, and its ``total``.

    ``groups`` maps a group to each department's staff minutes (over whatever period: a year, per
    case); the cost is in the same period. An unpriced department (rate None or absent) costs 0.
    """
    out = {}
    for group, minutes in groups.items():
        costs = {d: m / 60 * _rate(cost_per_hour, d) for d, m in minutes.items()}
        costs["total"] = sum(costs.values())
        out[group] = costs
    return out


def fte(minutes_per_year: float, hours_per_fte: float = HOURS_PER_FTE) -> float:
    """Full-time equivalents a year's staff minutes make: minutes / 60 / productive hours per FTE-year."""
    return minutes_per_year / 60 / hours_per_fte


def churn_points(index: float, churn: ChurnLink, per_point: float) -> float:
    """Points of annual churn the link gives at ``index``: max(0, below − index) × per_point."""
    return max(0.0, churn.below - index) * per_point


def revenue_at_risk(index: float, revenue: float, churn: ChurnLink, *,
                    index_ci: tuple[float, float] | None = None) -> Band:
    """Revenue a year the experience puts at risk, as a band.

    Central: the middle of the link at the index's mean. Low: the link's low end at the top of the
    index's interval (the best the data allows); high: the link's high end at its bottom. Without
    ``index_ci`` the band spans the link only.
    """
    lo_i, hi_i = index_ci if index_ci is not None else (index, index)
    return Band(mean=revenue * churn_points(index, churn, churn.mid) / 100,
                low=revenue * churn_points(hi_i, churn, churn.low) / 100,
                high=revenue * churn_points(lo_i, churn, churn.high) / 100)


def revenue_protected(index_before: float, index_change: float, change_ci: tuple[float, float] | None,
                      revenue: float, churn: ChurnLink) -> Band:
    """Revenue a year a change of the experience index keeps: risk before − risk after, as a band.

    The index after is ``index_before + change``; the band spans the paired 95% interval of the change
    (``change_ci``) and the link's two ends: its low end is the smallest of the four products, its high
    end the largest (a change that lowers the index protects a negative amount).
    """
    below = max(0.0, churn.below - index_before)

    def points(change: float) -> float:  # index points below the line that the change removes
        return below - max(0.0, churn.below - (index_before + change))

    return _change_band(points, index_change, change_ci, revenue, churn)


def _change_band(points: Callable[[float], float], index_change: float, change_ci: tuple[float, float] | None,
                 revenue: float, link: ChurnLink | ExpansionLink) -> Band:
    """The revenue a year a change of the index moves through ``link``, ``points(change)`` index points counting:
    central at the change's mean and the link's middle; the band the smallest and largest of the four corners
    (the change's paired 95% interval × the link's two ends)."""
    c_lo, c_hi = change_ci if change_ci is not None else (index_change, index_change)
    corners = [revenue * points(c) * p / 100 for c in (c_lo, c_hi) for p in (link.low, link.high)]
    return Band(mean=revenue * points(index_change) * link.mid / 100, low=min(corners), high=max(corners))


def expansion_points(index: float, expansion: ExpansionLink, per_point: float) -> float:
    """Points of annual expansion the link gives at ``index``: max(0, index − above) × per_point."""
    return max(0.0, index - expansion.above) * per_point


def expansion_revenue(index: float, revenue: float, expansion: ExpansionLink, *,
                      index_ci: tuple[float, float] | None = None) -> Band:
    """Revenue a year the experience adds through expansion, as a band.

    Central: the middle of the link at the index's mean. Low: the link's low end at the bottom of the
    index's interval; high: the link's high end at its top. Without ``index_ci`` the band spans the link.
    """
    lo_i, hi_i = index_ci if index_ci is not None else (index, index)
    return Band(mean=revenue * expansion_points(index, expansion, expansion.mid) / 100,
                low=revenue * expansion_points(lo_i, expansion, expansion.low) / 100,
                high=revenue * expansion_points(hi_i, expansion, expansion.high) / 100)


def expansion_gained(index_before: float, index_change: float, change_ci: tuple[float, float] | None,
                     revenue: float, expansion: ExpansionLink) -> Band:
    """Expansion revenue a year a change of the experience index adds: expansion after − before, as a band over
    the paired interval of the change and the link's two ends (the smallest and largest of the four corners)."""
    above = max(0.0, index_before - expansion.above)

    def points(change: float) -> float:  # index points above the line the change adds
        return max(0.0, index_before + change - expansion.above) - above

    return _change_band(points, index_change, change_ci, revenue, expansion)


def _months(one_off: float, per_month: float, benefit_per_year: float) -> float | None:
    net = benefit_per_year / MONTHS - per_month
    if net <= 0:
        return None
    return one_off / net


def payback(investment: Investment, benefit_per_year: Band) -> dict[str, Any]:
    """Months until the benefit has repaid the investment: ``one_off`` / (benefit / 12 − ``per_month``).

    ``months`` at the central benefit; ``fastest`` at the high end of the benefit, ``slowest`` at its
    low end. None where the monthly benefit does not cover ``per_month``: it never pays back.
    """
    return {"months": _months(investment.one_off, investment.per_month, benefit_per_year.mean),
            "fastest": _months(investment.one_off, investment.per_month, benefit_per_year.high),
            "slowest": _months(investment.one_off, investment.per_month, benefit_per_year.low)}


# --------------------------------------------------------------------------- from a simulation


def replication_money(journey: Journey, rep: Replication, handoff_overhead: float) -> dict[str, Any]:
    """:func:`cost_per_case` of one replication: its staff minutes and handoffs per measured case."""
    from .simulation.summary import department_work

    n = rep.measured
    minutes = {d: w / n for d, w in department_work(journey, rep).items()}
    handoffs: dict[tuple[str, str], float] = {}
    for pair, count in zip(rep.pairs, rep.pair_handoffs, strict=True):
        handoffs[pair] = handoffs.get(pair, 0.0) + count / n
    rates = {d.id: d.cost_per_hour for d in journey.departments}
    return cost_per_case(minutes, handoffs, rates, handoff_overhead)


def _measured(result: SimulationResult) -> list[Replication]:
    """The replications :func:`journeymap.comparison.replication_metrics` pairs (same filter, same order)."""
    return [r for r in result.replications if len(r.cases["cycle_time"]) and r.measured]


def _stats(values: Sequence[float]) -> dict[str, Any]:
    lo, hi = t_interval(values)
    mean = float(np.mean(values)) if len(values) else 0.0
    if lo is not None and hi is not None and math.isclose(lo, hi, abs_tol=1e-12):
        lo = hi = mean
    return {"mean": mean, "ci95": [lo, hi]}


def _scaled(stats: Mapping[str, Any], k: float) -> dict[str, Any]:
    """``stats`` × k (the interval's ends swapped when k < 0)."""
    lo, hi = stats["ci95"]
    ends = [None, None] if lo is None else sorted([lo * k, hi * k])
    return {"mean": stats["mean"] * k, "ci95": ends}


def _assumptions(m: Money, investment: Investment | None) -> dict[str, Any]:
    return {"currency": m.currency, "handoff_overhead_minutes": m.handoff_overhead,
            "cases_per_year": m.cases_per_year, "revenue": m.revenue,
            "churn": None if m.churn is None else {"below": m.churn.below, "per_point": [m.churn.low, m.churn.high]},
            "expansion": None if m.expansion is None else {"above": m.expansion.above,
                                                           "per_point": [m.expansion.low, m.expansion.high]},
            "investment": None if investment is None else {"one_off": investment.one_off,
                                                          "per_month": investment.per_month},
            "hours_per_fte": m.hours_per_fte}


def business_case(before: Journey, after: Journey, result_before: SimulationResult, result_after: SimulationResult,
                  metrics: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Cost saved, capacity freed, revenue protected and payback of going from ``before`` to ``after``.

    The volumes, revenue and churn link are the before design's ``money:`` (the same customers; the after
    design's when the before has none), the investment the after design's; each side's cost per case uses
    its own handoff overhead. ``metrics`` are the rows of :func:`journeymap.comparison.compare_metrics`
    (the experience index's paired change). None when neither design has a ``money:`` block.
    """
    base = before.money or after.money
    if base is None:
        return None
    invest = (after.money or base).investment
    notes = _differences(before.money, after.money)
    sides, per_rep = {}, {}
    for side, journey, result in (("before", before, result_before), ("after", after, result_after)):
        sides[side], per_rep[side] = _side(journey, result, (journey.money or base).handoff_overhead)
    # replication i of each design shares its random streams: the pairs are the replications both measured
    pairs = [(per_rep["before"][i], per_rep["after"][i]) for i in per_rep["before"] if i in per_rep["after"]]
    saved_case = _stats([b["total"] - a["total"] for b, a in pairs])
    out: dict[str, Any] = {"currency": base.currency, "assumptions": _assumptions(base, invest),
                           "before": sides["before"], "after": sides["after"], "saved_per_case": saved_case}
    if base.cases_per_year is not None:
        out.update(_year(base, base.cases_per_year, saved_case, pairs))
        for side, journey in (("before", before), ("after", after)):
            rates = {d.id: d.cost_per_hour for d in journey.departments}
            # a department's minutes include the handoff overhead it receives: priced at its own rate
            out[side]["staff_cost_per_year"] = staff_cost_by(
                {side: {d: m * base.cases_per_year for d, m in sides[side]["department_minutes"].items()}},
                rates)[side]
    else:
        notes.append("No cases_per_year in the money: block, so no cost per year, capacity freed or payback.")
    out.update(_revenue(base, metrics, (_index_ci(result_before), _index_ci(result_after)), notes))
    out.update(_benefit_and_payback(out, invest, notes))
    out["notes"] = notes
    out["note"] = MONEY_NOTE
    out["headline"] = _headline(out)
    return out


def _differences(before: Money | None, after: Money | None) -> list[str]:
    """A note when the after design states other volumes, revenue or link than the before design."""
    if before is None or after is None:
        return []
    differ = [k for k in ("cases_per_year", "revenue", "churn", "expansion", "hours_per_fte", "currency")
              if getattr(before, k) != getattr(after, k)]
    if not differ:
        return []
    return [f"The after design's {', '.join(differ)} differ from the before design's; the business case uses the "
            "before design's (the same customers)."]


def _side(journey: Journey, result: SimulationResult, overhead: float
          ) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """One design's cost per case (staff, overhead, total) and per department, and its replications by index."""
    by_index = {r.index: replication_money(journey, r, overhead) for r in _measured(result)}
    reps = list(by_index.values())
    depts = list(dict.fromkeys(d for r in reps for d in r["departments"]))

    def mean(key: str, d: str) -> float:
        return float(np.mean([r[key].get(d, 0.0) for r in reps]))

    side = {"cost_per_case": _stats([r["total"] for r in reps]),
            "staff_cost_per_case": _stats([r["staff"] for r in reps]),
            "overhead_per_case": _stats([r["overhead"] for r in reps]),
            "departments": {d: mean("departments", d) for d in depts},
            "department_minutes": {d: mean("minutes", d) for d in depts},
            "minutes_per_case": float(np.mean([sum(r["minutes"].values()) for r in reps])) if reps else 0.0}
    return side, by_index


def _year(base: Money, volume: float, saved_case: Mapping[str, Any],
          pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, Any]:
    """Cost saved a year and capacity freed (in total with its paired CI, and per department)."""
    minutes_saved = _stats([sum(b["minutes"].values()) - sum(a["minutes"].values()) for b, a in pairs])
    per_fte = fte(volume, base.hours_per_fte)
    depts = dict.fromkeys([d for b, a in pairs for d in (*b["minutes"], *a["minutes"])])
    by_dept = {d: float(np.mean([b["minutes"].get(d, 0.0) - a["minutes"].get(d, 0.0) for b, a in pairs])) * per_fte
               for d in depts}
    return {"cost_saved_per_year": _scaled(saved_case, volume), "capacity_freed_fte": _scaled(minutes_saved, per_fte),
            "capacity_freed_fte_by_department": by_dept}


def _index_ci(result: SimulationResult) -> tuple[float, float] | None:
    """The 95% interval of a design's experience index over its replications (its simulation summary)."""
    ci = ((result.summary.get("experience") or {}).get("index_stats") or {}).get("ci95") or [None, None]
    return None if ci[0] is None or ci[1] is None else (float(ci[0]), float(ci[1]))


def _revenue(base: Money, metrics: Sequence[Mapping[str, Any]],
             index_ci: tuple[tuple[float, float] | None, tuple[float, float] | None],
             notes: list[str]) -> dict[str, Any]:
    """Revenue at risk before and after (each over its own index interval), and protected (over the paired
    interval of the index's change), from the experience index row of the comparison; the same for expansion
    revenue and expansion gained when the block has an expansion link."""
    if base.revenue is None or (base.churn is None and base.expansion is None):
        notes.append("No revenue and churn or expansion link in the money: block, so no revenue at risk.")
        return {}
    row = next((r for r in metrics if r["key"] == "experience_index"), None)
    if row is None:
        notes.append("No experience index (no touchpoint, or an account's combined journey), so no revenue at risk.")
        return {}
    lo, hi = row["ci95"]
    change_ci = None if lo is None else (float(lo), float(hi))
    out = _expansion(base, row, index_ci, change_ci) if base.expansion is not None else {}
    if base.churn is None:
        return out
    protected = revenue_protected(row["before"], row["change"], change_ci, base.revenue, base.churn)
    return {**out, "revenue_at_risk": {"before": revenue_at_risk(row["before"], base.revenue, base.churn,
                                                          index_ci=index_ci[0]).as_dict(),
                                "after": revenue_at_risk(row["after"], base.revenue, base.churn,
                                                         index_ci=index_ci[1]).as_dict(),
                                "index_before": row["before"], "index_after": row["after"],
                                "index_before_ci95": list(index_ci[0]) if index_ci[0] else [None, None],
                                "index_after_ci95": list(index_ci[1]) if index_ci[1] else [None, None],
                                "index_change_ci95": list(change_ci) if change_ci else [None, None]},
            "revenue_protected": protected.as_dict()}


def _expansion(base: Money, row: Mapping[str, Any],
               index_ci: tuple[tuple[float, float] | None, tuple[float, float] | None],
               change_ci: tuple[float, float] | None) -> dict[str, Any]:
    """Expansion revenue before and after (each over its own index interval) and gained (over the paired
    interval of the index's change)."""
    assert base.revenue is not None and base.expansion is not None
    revenue, link = base.revenue, base.expansion
    gained = expansion_gained(row["before"], row["change"], change_ci, revenue, link)
    return {"expansion_revenue": {side: expansion_revenue(row[side], revenue, link, index_ci=ci).as_dict()
                                  for side, ci in (("before", index_ci[0]), ("after", index_ci[1]))},
            "expansion_gained": gained.as_dict()}


def _benefit_and_payback(out: Mapping[str, Any], invest: Investment | None, notes: list[str]) -> dict[str, Any]:
    """Benefit a year (cost saved + revenue protected + expansion gained, ends added) and the payback of the
    investment."""
    saved = out.get("cost_saved_per_year")
    gains = [out[k] for k in ("revenue_protected", "expansion_gained") if k in out]
    if saved is None and not gains:
        return {}
    mean = low = high = 0.0
    if saved is not None:
        s_lo, s_hi = saved["ci95"] if saved["ci95"][0] is not None else (saved["mean"], saved["mean"])
        mean, low, high = saved["mean"], s_lo, s_hi
    for band in gains:
        mean, low, high = mean + band["mean"], low + band["low"], high + band["high"]
    benefit = Band(mean, low, high)
    res: dict[str, Any] = {"benefit_per_year": benefit.as_dict()}
    if invest is None:
        notes.append("No investment in the after design's money: block, so no payback.")
    else:
        res["payback_months"] = payback(invest, benefit)
    return res


# --------------------------------------------------------------------------- words and figures for people


def format_amount(value: float | None, currency: str) -> str:
    """An amount as an executive reads it: "GBP 1.24m", "GBP 412k", "GBP 8,300", "−GBP 12k"."""
    if value is None:
        return "n/a"
    sign = "−" if value < 0 else ""
    v = abs(value)
    if v < 0.005:
        return f"{currency} 0"
    if v >= 1e6:
        text = f"{v / 1e6:.2f}m"
    elif v >= 1e5:
        text = f"{v / 1e3:.0f}k"
    elif v >= 10:
        text = f"{v:,.0f}"
    else:
        text = f"{v:,.2f}"
    return f"{sign}{currency} {text}"


def _months_text(m: float | None) -> str:
    if m is None:
        return "never"
    return f"{m:.1f} months"


def _fte_text(x: float) -> str:
    return f"{x:.1f} FTE".replace("-", "−")


def _range(lo: str, hi: str) -> str:
    return f"{lo} … {hi}"


def business_case_view(bc: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of a business case as text, for the terminal and the report alike (the same strings).

    ``rows``: (label, central figure, range, what the range is), the year's figures first, then the per-case
    and per-design details they come from; ``tiles``: (label, figure, range), the ones an executive reads first;
    ``tone``: "good" when the benefit a year is positive, "bad" when negative (the headline's colour).
    """
    cur = bc["currency"]

    def amt(x: float | None) -> str:
        return format_amount(x, cur)

    sim, link = "95% CI (simulation)", "churn link low–high × index CI"
    grow = "expansion link low–high × index CI"
    rows, details, tiles = [], [], []
    if "cost_saved_per_year" in bc:
        s = bc["cost_saved_per_year"]
        rows.append(("Staff cost saved a year", amt(s["mean"]), _ci(s, amt), sim))
        tiles.append(("Staff cost saved a year", amt(s["mean"]), _ci(s, amt)))
        f = bc["capacity_freed_fte"]
        rows.append(("Capacity freed (full-time people)", _fte_text(f["mean"]), _ci(f, _fte_text), sim))
        tiles.append(("Capacity freed", _fte_text(f["mean"]), _ci(f, _fte_text)))
    if "revenue_protected" in bc:
        p = bc["revenue_protected"]
        rows.append(("Revenue protected a year", amt(p["mean"]), _range(amt(p["low"]), amt(p["high"])), link))
        tiles.append(("Revenue protected a year", amt(p["mean"]), _range(amt(p["low"]), amt(p["high"]))))
    if "expansion_gained" in bc:
        e = bc["expansion_gained"]
        rows.append(("Expansion revenue gained a year", amt(e["mean"]), _range(amt(e["low"]), amt(e["high"])), grow))
        tiles.append(("Expansion gained a year", amt(e["mean"]), _range(amt(e["low"]), amt(e["high"]))))
    if "benefit_per_year" in bc:
        g = bc["benefit_per_year"]
        parts = ["saved"] + [w for k, w in (("revenue_protected", "protected"), ("expansion_gained", "expansion"))
                             if k in bc]
        rows.append((f"Benefit a year ({' + '.join(parts)})", amt(g["mean"]), _range(amt(g["low"]), amt(g["high"])),
                     "low ends added … high ends added"))
    if "payback_months" in bc:
        pb = bc["payback_months"]
        rng = _range(_months_text(pb["fastest"]), _months_text(pb["slowest"]))
        rows.append(("Payback of the investment", _months_text(pb["months"]), rng, "at high … low benefit"))
        tiles.append(("Payback", _months_text(pb["months"]), rng))
    for label, key in (("Cost per case with handoff overhead, before", "before"),
                       ("Cost per case with handoff overhead, after", "after")):
        s = bc[key]["cost_per_case"]
        details.append((label, amt(s["mean"]), _ci(s, amt), sim))
    s = bc["saved_per_case"]
    details.append(("Saved per case", amt(s["mean"]), _ci(s, amt), sim))
    if "revenue_protected" in bc:
        r = bc["revenue_at_risk"]
        for side in ("before", "after"):
            band = r[side]
            details.append((f"Revenue at risk a year, {side}", amt(band["mean"]),
                            _range(amt(band["low"]), amt(band["high"])), link))
    if "expansion_gained" in bc:
        for side in ("before", "after"):
            band = bc["expansion_revenue"][side]
            details.append((f"Expansion revenue a year, {side}", amt(band["mean"]),
                            _range(amt(band["low"]), amt(band["high"])), grow))
    benefit = (bc.get("benefit_per_year") or {}).get("mean")
    tone = "" if benefit is None or benefit == 0 else "good" if benefit > 0 else "bad"
    return {"rows": rows + details, "tiles": tiles, "headline": bc["headline"], "tone": tone,
            "assumptions": _assumption_lines(bc["assumptions"], amt), "notes": list(bc.get("notes") or []),
            "note": bc["note"]}


def _ci(stats: Mapping[str, Any], fmt) -> str:
    lo, hi = stats["ci95"]
    if lo is None:
        return "n/a"
    return _range(fmt(lo), fmt(hi))


def _assumption_lines(a: Mapping[str, Any], amt) -> list[str]:
    lines = []
    if a["cases_per_year"] is not None:
        lines.append(f"{a['cases_per_year']:,.0f} cases a year")
    if a["handoff_overhead_minutes"]:
        lines.append(f"each internal handoff costs the receiving department {a['handoff_overhead_minutes']:g} "
                     "minutes of staff time")
    if a["revenue"] is not None:
        lines.append(f"{amt(a['revenue'])} a year of revenue from these customers")
    if a["churn"] is not None:
        c = a["churn"]
        lines.append(f"each experience-index point below {c['below']:g} adds {c['per_point'][0]:g}–"
                     f"{c['per_point'][1]:g} points of annual churn")
    if a.get("expansion") is not None:
        e = a["expansion"]
        lines.append(f"each experience-index point above {e['above']:g} adds {e['per_point'][0]:g}–"
                     f"{e['per_point'][1]:g} points of annual expansion revenue")
    if a["investment"] is not None:
        i = a["investment"]
        costs = [f"{amt(i['one_off'])} once"] if i["one_off"] else []
        costs += [f"{amt(i['per_month'])} a month"] if i["per_month"] or not costs else []
        lines.append("the after design costs " + " and ".join(costs))
    lines.append(f"{a['hours_per_fte']:,.0f} productive hours per full-time person a year")
    return lines


def _headline(bc: Mapping[str, Any]) -> str:
    """One sentence an executive reads first: what the after design saves and protects a year, and its payback.

    A negative figure is said as what it is (adds staff cost, puts more revenue at risk), with its range
    turned the same way, so no sentence carries a minus sign.
    """
    cur = bc["currency"]
    parts = []
    if "cost_saved_per_year" in bc:
        s = bc["cost_saved_per_year"]
        if abs(s["mean"]) < 0.5:
            parts.append("leaves the staff cost unchanged")
        else:
            verb = "saves" if s["mean"] > 0 else "adds"
            parts.append(f"{verb} {format_amount(abs(s['mean']), cur)} of staff cost a year")
    if "revenue_protected" in bc:
        p = bc["revenue_protected"]
        sign = 1 if p["mean"] >= 0 else -1
        lo, hi = sorted([p["low"] * sign, p["high"] * sign])
        band = f"({_range(format_amount(lo, cur), format_amount(hi, cur))})"
        parts.append(f"protects {format_amount(p['mean'], cur)} of revenue a year {band}" if sign > 0 else
                     f"puts {format_amount(-p['mean'], cur)} more revenue a year at risk {band}")
    if "expansion_gained" in bc and abs(bc["expansion_gained"]["mean"]) >= 0.5:
        e = bc["expansion_gained"]
        sign = 1 if e["mean"] >= 0 else -1
        lo, hi = sorted([e["low"] * sign, e["high"] * sign])
        band = f"({_range(format_amount(lo, cur), format_amount(hi, cur))})"
        parts.append(f"adds {format_amount(e['mean'], cur)} of expansion revenue a year {band}" if sign > 0 else
                     f"loses {format_amount(-e['mean'], cur)} of expansion revenue a year {band}")
    if not parts:
        s = bc["saved_per_case"]
        verb = "saves" if s["mean"] >= 0 else "adds"
        parts.append(f"{verb} {format_amount(abs(s['mean']), cur)} of staff cost a case")
    text = "The after design " + (", ".join(parts[:-1]) + " and " if len(parts) > 1 else "") + parts[-1]
    pb = bc.get("payback_months")
    if pb is not None:
        text += (f"; it pays back in {_months_text(pb['months'])}" if pb["months"] is not None
                 else "; at the central figures it never pays back")
    return text + "."
