"""Comparing two books of business: the paired change of every tier's figures and the business case in money.

:func:`compare_books` simulates a BEFORE and an AFTER portfolio with the same seed and replications
(common random numbers): the accounts are drawn from the seed and each tier's own stream
(:func:`journeymap.assignment.draw_accounts`), and each replication's arrivals from
``(seed, replication, SCHEDULE_STREAM)`` (:class:`journeymap.simulation.portfolio.BookArrivals`), so
where the two books have the same tiers and templates they see the same accounts and the same cases;
only what the designs change (managers, capacities, the pool) differs.

Each replication is summarised on its own (:func:`~journeymap.simulation.portfolio.summarize_book`) and
the change AFTER − BEFORE of each figure is taken per replication; its 95% interval is the paired
t-interval over replications (:func:`journeymap.statistics.t_interval`). The business case reuses
:mod:`journeymap.money`: staff cost saved a year (BEFORE − AFTER), revenue protected a year (the revenue
at risk BEFORE − AFTER, a band whose ends take the churn link's low and high ends and the paired
interval), and the payback of the AFTER book's ``money: investment`` (:func:`journeymap.money.payback`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .money import Band, format_amount, money_of, payback
from .statistics import t_interval

__all__ = ["compare_books", "book_metrics", "compare_books_blocks", "book_views", "pareto_compact", "figure_text"]


def book_metrics(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """The figures one replication's book summary gives, by name (None where it has none): the
    revenue-weighted experience index (book and per tier), staff cost a year (book and per tier), revenue at risk
    a year (the churn link's central, low and high ends; book and per tier), expansion revenue a year (the
    expansion link's; only with one) and mean cycle time per tier."""
    money = summary.get("money") or {}
    out: dict[str, float | None] = {"experience": summary["book"]["experience"]}
    out["staff_cost"] = (money.get("book") or {}).get("staff_cost_per_year")
    _bands(out, "", money.get("book") or {})
    for tid, tier in summary["tiers"].items():
        m = (money.get("tiers") or {}).get(tid) or {}
        out[f"{tid}.experience"] = tier["experience"]
        out[f"{tid}.staff_cost"] = (m.get("staff_cost_per_year") or {}).get("total")
        _bands(out, f"{tid}.", m)
        out[f"{tid}.cycle_time"] = tier["cycle_time"]["mean"] if tier["cases"] else None
    return out


def _bands(out: dict[str, float | None], prefix: str, money: Mapping[str, Any]) -> None:
    """The revenue-at-risk band's three ends into ``out`` (None each without a churn link), and the expansion
    revenue band's when the book has an expansion link (the key absent otherwise: no row in the tables)."""
    risk = money.get("revenue_at_risk")
    for end in ("mean", "low", "high"):
        out[f"{prefix}revenue_at_risk.{end}"] = risk[end] if risk else None
    gain = money.get("expansion_revenue")
    if gain:
        for end in ("mean", "low", "high"):
            out[f"{prefix}expansion_revenue.{end}"] = gain[end]


def _per_replication(book: Any, result: Any) -> list[dict[str, float | None]]:
    """:func:`book_metrics` of each replication summarised on its own."""
    from .simulation.portfolio import summarize_book

    return [book_metrics(summarize_book(book, dataclasses.replace(result, replications=(r,))))
            for r in result.replications]


def _paired(before: Sequence[float | None], after: Sequence[float | None]) -> dict[str, Any] | None:
    """Mean of each side, the mean change AFTER − BEFORE and its paired 95% interval, over the replications where
    both sides have the figure; None where none has."""
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if b is not None and a is not None]
    if not pairs:
        return None
    diffs = [a - b for b, a in pairs]
    lo, hi = t_interval(diffs)
    mean = float(np.mean(diffs))
    if lo is not None and hi is not None and math.isclose(lo, hi, abs_tol=1e-9):
        lo = hi = mean
    return {"before": float(np.mean([b for b, _ in pairs])), "after": float(np.mean([a for _, a in pairs])),
            "change": mean, "ci95": [lo, hi]}


def _protected(changes: Mapping[str, Any], prefix: str, figure: str = "revenue_at_risk",
               sign: int = -1) -> dict[str, float] | None:
    """Revenue protected a year (risk BEFORE − AFTER) from the paired changes of the risk at the churn link's
    central, low and high ends: the central figure at the middle of the link; the band's ends the smallest and
    largest of the paired intervals' ends at the link's two ends. With ``figure="expansion_revenue"`` and
    ``sign=1``: expansion gained (AFTER − BEFORE) the same way."""
    mid, low, high = (changes.get(f"{prefix}{figure}.{end}") for end in ("mean", "low", "high"))
    if mid is None or low is None or high is None:
        return None
    ends = [sign * x for row in (low, high)
            for x in (row["ci95"] if row["ci95"][0] is not None else [row["change"]] * 2)]
    return Band(mean=sign * mid["change"], low=min(ends), high=max(ends)).as_dict()


def _saved(change: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Staff cost saved a year: the change of staff cost turned round (BEFORE − AFTER), its interval too."""
    if change is None:
        return None
    lo, hi = change["ci95"]
    return {"mean": -change["change"], "ci95": [None, None] if lo is None else [-hi, -lo]}


def _saved_band(saved: Mapping[str, Any] | None) -> dict[str, float]:
    """Cost saved as a band: its mean and interval (the mean at both ends without an interval; 0 without it)."""
    if saved is None:
        return {"mean": 0.0, "low": 0.0, "high": 0.0}
    lo, hi = saved["ci95"]
    return {"mean": saved["mean"], "low": saved["mean"] if lo is None else lo,
            "high": saved["mean"] if hi is None else hi}


def _business_case(after: Any, changes: Mapping[str, Any], tiers: Sequence[str]) -> dict[str, Any] | None:
    """Cost saved, revenue protected, expansion gained (book and per tier) and the payback of the AFTER book's
    investment."""
    m = money_of(after.money, after.currency)
    saved = _saved(changes.get("staff_cost"))
    protected = _protected(changes, "")
    gained = _protected(changes, "", "expansion_revenue", 1)
    if saved is None and protected is None and gained is None:
        return None
    # the benefit a year: cost saved plus revenue protected plus expansion gained, each range's ends added
    parts = [_saved_band(saved)] + [b for b in (protected, gained) if b is not None]
    benefit = Band(*(sum(b[end] for b in parts) for end in ("mean", "low", "high")))
    investment = m.investment if m is not None else None

    def tier(t: str) -> dict[str, Any]:
        row = {"cost_saved_per_year": _saved(changes.get(f"{t}.staff_cost")),
               "revenue_protected_per_year": _protected(changes, f"{t}.")}
        if gained is not None:
            row["expansion_gained_per_year"] = _protected(changes, f"{t}.", "expansion_revenue", 1)
        return row

    return {
        "currency": after.currency,
        "cost_saved_per_year": saved,
        "revenue_protected_per_year": protected,
        **({"expansion_gained_per_year": gained} if gained is not None else {}),
        "benefit_per_year": benefit.as_dict(),
        "tiers": {t: tier(t) for t in tiers},
        "investment": None if investment is None else dataclasses.asdict(investment),
        "payback_months": None if investment is None else payback(investment, benefit),
    }


def compare_books(before: Any, after: Any, *, replications: int = 5, seed: int = 1, workers: int = 1,
                  progress: Callable[..., Any] | None = None, executor: str = "local", scheduler: str | None = None,
                  connect_timeout: float | None = None, runs: Sequence[Any] | None = None) -> dict[str, Any]:
    """The paired comparison of two portfolios (:class:`journeymap.portfolio.Portfolio`) and its business case.

    Both books run ``replications`` horizons from ``seed`` (common random numbers), on this machine or on
    Dask (``executor``, ``scheduler``, ``connect_timeout``: see
    :func:`journeymap.simulation.portfolio.simulate_book`; the result does not depend on them). Returns a
    JSON-ready dict: ``changes`` (each figure's mean BEFORE and AFTER, the change and its paired 95% interval;
    see :func:`book_metrics` for the names) and ``business_case`` (None without a churn link or priced staff).

    ``runs``: the two books' runs already made with this seed and these replications (each what
    :func:`~journeymap.simulation.portfolio.simulate_portfolio` returned), so that a caller that simulated them
    (the main job) does not simulate them again; the result is the same.
    """
    from .simulation.portfolio import simulate_portfolio

    if runs is None and executor == "dask" and scheduler is None:
        # one LocalCluster for both books, not one each: both connect to it by its address
        from .sweep import local_cluster

        with local_cluster(workers) as cluster:
            return compare_books(before, after, replications=replications, seed=seed, workers=workers,
                                 progress=progress, executor=executor, scheduler=cluster.scheduler_address,
                                 connect_timeout=connect_timeout)
    if runs is not None:
        sides = list(runs)
        if len(sides) != 2 or any(len(r[2].replications) != replications for r in sides):
            raise ValueError(f"runs must be the two books' runs of {replications} replications")
    else:
        sides = [simulate_portfolio(p, replications=replications, seed=seed, workers=workers, progress=progress,
                                    executor=executor, scheduler=scheduler, connect_timeout=connect_timeout)
                 for p in (before, after)]
    per = [_per_replication(book, result) for _, book, result in sides]
    names = list(dict.fromkeys(list(per[0][0]) + list(per[1][0]))) if per[0] and per[1] else []
    changes = {}
    for name in names:
        row = _paired([r.get(name) for r in per[0]], [r.get(name) for r in per[1]])
        if row is not None:
            changes[name] = row
    tiers = [t.id for t in after.tiers if t.id in {u.id for u in before.tiers}]
    return {
        "before": before.id, "after": after.id, "currency": after.currency, "seed": seed,
        "replications": replications, "tiers": tiers,
        "without_manager": {"before": (sides[0][0]["management"] or {}).get("without_manager"),
                            "after": (sides[1][0]["management"] or {}).get("without_manager")},
        "changes": changes,
        "business_case": _business_case(after, changes, tiers),
        **book_views(before, after, (sides[0][0], sides[1][0])),
    }


def book_views(before: Any, after: Any, summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the report of two books shows beside the paired changes (``journeymap compare --report``): each
    book's ``names``, its money ``assumptions`` (the portfolio's ``money:`` block as
    :func:`journeymap.money.money_of` reads it, amounts in the book's currency, durations in minutes; None
    without one) and its ``pareto`` view (:func:`pareto_compact` of its run's summary)."""
    def assumptions(p: Any) -> dict[str, Any] | None:
        m = money_of(p.money, p.currency)
        return None if m is None else {k: v for k, v in dataclasses.asdict(m).items() if v is not None}

    return {"names": {"before": before.name, "after": after.name},
            "assumptions": {"before": assumptions(before), "after": assumptions(after)},
            "pareto": {"before": pareto_compact(summaries[0]), "after": pareto_compact(summaries[1])}}


def pareto_compact(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A book's 80/20 view in columns (the summary's ``pareto`` without per-account dicts, about a third of its
    size): per account, largest revenue first, its share of accounts, the cumulative share of revenue, its
    experience index (None: no case measured) and its tier; the top's revenue share and the experience of the
    top and of the rest; the book's revenue-weighted index."""
    p = summary["pareto"]
    tier_of = {a["id"]: a["tier"] for a in summary["accounts"]}
    curve = p["curve"]
    return {"top_share_of_accounts": p["top_share_of_accounts"], "top_accounts": p["top_accounts"],
            "revenue_share_of_top": p["revenue_share_of_top"], "experience_top": p["experience_top"],
            "experience_rest": p["experience_rest"], "experience_book": summary["book"]["experience"],
            "tiers": list(summary["tiers"]),
            "account_share": [c["account_share"] for c in curve], "revenue_share": [c["revenue_share"] for c in curve],
            "experience": [c["experience"] for c in curve], "tier": [tier_of[c["account"]] for c in curve]}


# --------------------------------------------------------------------------- terminal


def figure_text(name: str, value: float | None, currency: str) -> str:
    """A figure of :func:`compare_books` as the terminal table writes it (amounts as
    :func:`journeymap.money.format_amount`, cycle times in days, the index with two decimals): the report's
    strings are these."""
    return _number(name, value, currency)


def _number(name: str, value: float | None, currency: str) -> str:
    if value is None:
        return "n/a"
    if "staff_cost" in name or "revenue_at_risk" in name or "expansion_revenue" in name:
        return format_amount(value, currency)
    # the minus sign format_amount writes, so that every column reads alike
    if name.endswith("cycle_time"):
        return f"{value / 1440:,.2f} d".replace("-", "−")
    return f"{value:,.2f}".replace("-", "−")


def _label(name: str) -> str:
    words = {"experience": "experience index (revenue-weighted)", "staff_cost": "staff cost a year",
             "revenue_at_risk.mean": "revenue at risk a year", "expansion_revenue.mean": "expansion revenue a year",
             "cycle_time": "cycle time (mean)"}
    head, _, rest = name.partition(".")
    if head in ("experience", "staff_cost", "revenue_at_risk", "expansion_revenue"):
        return words.get(name, name)
    return f"{head}: {words.get(rest, rest)}"


def _range(lo: Any, hi: Any) -> str:
    return f"{lo} to {hi}"


def compare_books_blocks(c: Mapping[str, Any]) -> list[Any]:
    """The terminal view of :func:`compare_books`: the changes' table and the business case, every number from
    the result (amounts as :func:`journeymap.money.format_amount` writes them, cycle times in days)."""
    from .tables import Table

    cur = c["currency"]
    rows = []
    for name, row in c["changes"].items():
        if name.endswith((".low", ".high")):
            continue
        lo, hi = row["ci95"]
        ci = "n/a" if lo is None else _range(_number(name, lo, cur), _number(name, hi, cur))
        rows.append([_label(name), _number(name, row["before"], cur), _number(name, row["after"], cur),
                     _number(name, row["change"], cur), ci])
    wm = c["without_manager"]
    blocks: list[Any] = [f"Comparing books {c['before']} → {c['after']} ({c['replications']} paired replications, "
                         f"seed {c['seed']}); accounts without a manager: {wm['before']} → {wm['after']}",
                         Table(["figure", "before", "after", "change", "change 95% CI"], rows, "lrrrr")]
    bc = c["business_case"]
    if bc:
        blocks += ["", f"Business case ({cur})", Table(["figure", "central", "range"], _case_rows(bc, cur), "lrr")]
    return blocks


def _case_rows(bc: Mapping[str, Any], cur: str) -> list[list[str]]:
    rows = []

    def amounts(label: str, row: Mapping[str, Any]) -> None:
        saved = row["cost_saved_per_year"]
        if saved is not None:
            lo, hi = saved["ci95"]
            rows.append([f"{label}staff cost saved a year", format_amount(saved["mean"], cur),
                         "n/a" if lo is None else _range(format_amount(lo, cur), format_amount(hi, cur))])
        for key, what in (("revenue_protected_per_year", "revenue protected a year"),
                          ("expansion_gained_per_year", "expansion gained a year")):
            band = row.get(key)
            if band is not None:
                rows.append([f"{label}{what}", format_amount(band["mean"], cur),
                             _range(format_amount(band["low"], cur), format_amount(band["high"], cur))])

    amounts("", bc)
    if "expansion_gained_per_year" in bc:
        b = bc["benefit_per_year"]
        rows.append(["benefit a year (saved + protected + expansion)", format_amount(b["mean"], cur),
                     _range(format_amount(b["low"], cur), format_amount(b["high"], cur))])
    for tid, t in bc["tiers"].items():
        amounts(f"{tid}: ", t)
    if bc["investment"] is not None:
        inv = bc["investment"]
        rows.append(["investment", f"{format_amount(inv['one_off'], cur)} once",
                     f"{format_amount(inv['per_month'], cur)} a month"])
        pb = bc["payback_months"]
        months = ("never" if pb["months"] is None else f"{pb['months']:,.1f} months")
        ends = [("never" if pb[k] is None else f"{pb[k]:,.1f}") for k in ("fastest", "slowest")]
        rows.append(["payback", months, _range(*ends)])
    return rows
