"""The portfolio report: tables and charts of a simulated book of business (``journeymap portfolio``).

Pure builders (:func:`portfolio_blocks`, :func:`pareto_points`, :func:`tier_points`) turn the summary of
:func:`journeymap.simulation.portfolio.summarize_book` into lines, tables and chart data; the charts
(:func:`pareto_chart`, :func:`tier_chart`) draw exactly those numbers, and :func:`write_report` writes
the JSON and the charts (atomically, through :mod:`journeymap.output` and
:mod:`journeymap.rendering.output`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["portfolio_blocks", "pareto_points", "tier_points", "pareto_chart", "tier_chart", "report_files",
           "write_report"]


def _days(minutes: float | None) -> str:
    from .tables import format_value

    return format_value(minutes, "minutes")


def _index(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _share(value: float | None) -> str:
    """An attainment as a percentage; "n/a" for a tier with no case measured in the run."""
    return "n/a" if value is None else f"{value:.0%}"


def _money(value: float, currency: str) -> str:
    return f"{value / 1e6:,.1f}M {currency}" if value >= 1e6 else f"{value:,.0f} {currency}"


def portfolio_blocks(s: Mapping[str, Any]) -> list[Any]:
    """The terminal report: the book, its tiers, the managers, the 80/20 view."""
    from .tables import Table

    book, cur = s["book"], s["currency"]
    lo, hi = book["experience_ci95"]
    ci = "" if lo is None else f" (95% CI {lo:.1f} .. {hi:.1f})"
    out: list[Any] = [
        f"Book {s['portfolio']} ({s['name']}): {book['accounts']:,} accounts, revenue {_money(book['revenue'], cur)} "
        f"a year; {s['replications']} replication(s) of {s['horizon_minutes'] / 1440:.0f} days, seed {s['seed']}; "
        f"{s['cases']:,} cases measured",
        f"Revenue-weighted experience index of the book: {_index(book['experience'])}{ci}", "",
        "per tier (priority order of service: " + " > ".join(s["classes"]) + ")"]
    rows = []
    for tid, t in s["tiers"].items():
        sla = "; ".join(f"{_share(x['attainment'])} within {_days(x['within'])} (goal {x['goal']:.0%})"
                        for x in t["sla"]) or "-"
        rows.append([tid, f"{t['accounts']:,}", _money(t["revenue"], cur), f"{t['cases_per_replication']:,.0f}",
                     *((_days(t["cycle_time"]["mean"]), _days(t["cycle_time"]["p90"])) if t["cases"] else ("n/a",) * 2),
                     sla, _index(t["experience"]),
                     "-" if t["without_manager"] is None else f"{t['without_manager']:,}"])
    out.append(Table(["tier", "accounts", "revenue", "cases/run", "cycle mean", "cycle p90", "SLA attainment",
                      "experience", "no manager"], rows, "lrrrrrlrr"))
    m = s.get("management")
    if m:
        out += ["", f"account managers ({m['policy']}): {m['without_manager']:,} account(s) without a manager go to "
                    f"the pool of {m['pool']['capacity']}" + (f"; over the limit: {', '.join(m['over_limit'])}"
                                                               if m["over_limit"] else "")]
        out.append(Table(["manager", "level", "accounts held", "limit", "held / limit", "utilisation"],
                         [[name, x["level"], f"{x['load']}", f"{x['limit']}",
                           "n/a" if x["load_share"] is None else f"{x['load_share']:.0%}",
                           "n/a" if x["utilisation"] is None else f"{x['utilisation']['mean']:.0%}"]
                          for name, x in m["managers"].items()], "llrrrr"))
    money = s.get("money")
    if money:
        out += ["", f"money a year (docs/money.md; handoff overhead {money['handoff_overhead_minutes']:g} min per "
                    "handoff; revenue at risk through the churn link, expansion through the expansion link, "
                    "low .. high)"]
        grow = (money["book"] or {}).get("expansion_revenue") is not None

        def band(r: Mapping[str, float] | None) -> str:
            if r is None:
                return "-"
            return f"{_money(r['mean'], cur)} ({_money(r['low'], cur)} .. {_money(r['high'], cur)})"

        mrows = []
        for tid, t in money["tiers"].items():
            mrows.append([tid, f"{t['cases_per_year']:,.0f}", _money(t["staff_cost_per_year"]["total"], cur),
                          "n/a" if t["cost_per_case"] is None else _money(t["cost_per_case"], cur),
                          band(t["revenue_at_risk"])] + ([band(t.get("expansion_revenue"))] if grow else []))
        out.append(Table(["tier", "cases/year", "staff cost", "cost per case", "revenue at risk"]
                         + (["expansion revenue"] if grow else []), mrows, "lrrrl" + ("l" if grow else "")))
    p = s["pareto"]
    out += ["", f"80/20: the top {p['top_accounts']:,} accounts ({p['top_share_of_accounts']:.0%}) hold "
                f"{p['revenue_share_of_top']:.0%} of revenue; their experience index {_index(p['experience_top'])}, "
                f"the rest's {_index(p['experience_rest'])} (revenue-weighted)"]
    return out


def pareto_points(s: Mapping[str, Any]) -> dict[str, Any]:
    """The 80/20 chart as data, from the JSON: per account (largest revenue first) its share of accounts, the
    cumulative revenue share and its experience index (None: no case measured), and its tier."""
    tier_of = {a["id"]: a["tier"] for a in s["accounts"]}
    curve = s["pareto"]["curve"]
    return {"x": [c["account_share"] for c in curve], "revenue_share": [c["revenue_share"] for c in curve],
            "experience": [c["experience"] for c in curve], "tier": [tier_of[c["account"]] for c in curve],
            "top": s["pareto"]["top_share_of_accounts"], "book": s["book"]["experience"]}


def tier_points(s: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The tiers chart as data: per tier its share of revenue, its experience index and mean cycle time (minutes)."""
    total = s["book"]["revenue"] or 1.0
    tiers = s["tiers"]
    return {"tier": list(tiers), "revenue_share": [t["revenue"] / total for t in tiers.values()],
            "experience": [t["experience"] for t in tiers.values()],
            "cycle_time": [t["cycle_time"]["mean"] for t in tiers.values()]}


def pareto_chart(s: Mapping[str, Any]) -> Any:
    """Revenue share against experience: accounts ranked by revenue (x), the cumulative revenue share (line,
    left axis) and each account's experience index (dots by tier, right axis), the top 20% shaded."""
    from .rendering import palette
    from .rendering.plots import plt

    d = pareto_points(s)
    fig, ax = plt.subplots(figsize=(11, 6.5), layout="constrained")
    ax.axvspan(0, d["top"], color="#EEEEEE", zorder=0, label=f"the top {d['top']:.0%} of accounts")
    ax.plot([0.0, *d["x"]], [0.0, *d["revenue_share"]], color="black", linewidth=2.5,
            label="cumulative share of revenue")
    ax.set_xlabel("accounts ranked by revenue, largest first (share of accounts)")
    ax.set_ylabel("cumulative share of revenue")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    right = ax.twinx()
    # Okabe-Ito without yellow (too pale on white) and vermillion (the book's line)
    colours = [palette.OKABE_ITO[c] for c in ("blue", "orange", "green", "purple", "sky_blue", "black")]
    for k, tier in enumerate(dict.fromkeys(d["tier"])):
        pts = [(x, e) for x, e, t in zip(d["x"], d["experience"], d["tier"], strict=True)
               if t == tier and e is not None]
        right.scatter([p[0] for p in pts], [p[1] for p in pts], s=14, color=colours[k % len(colours)],
                      label=f"{tier}: experience index", alpha=0.8)
    if d["book"] is not None:
        right.axhline(d["book"], color=palette.OKABE_ITO["vermillion"], linestyle="--", linewidth=1.5,
                      label=f"book (revenue-weighted) {d['book']:.1f}")
    right.set_ylabel("account experience index (0-100)")
    right.set_ylim(0, 100)
    p = s["pareto"]
    ax.set_title(f"{s['name']}: the top {p['top_share_of_accounts']:.0%} of accounts hold "
                 f"{p['revenue_share_of_top']:.0%} of revenue; experience {_index(p['experience_top'])} for them, "
                 f"{_index(p['experience_rest'])} for the rest", fontsize=12)
    lines, labels = ax.get_legend_handles_labels()
    lines2, labels2 = right.get_legend_handles_labels()
    right.legend(lines + lines2, labels + labels2, loc="lower right", fontsize=9)
    return fig


def tier_chart(s: Mapping[str, Any]) -> Any:
    """Per tier: share of revenue, experience index and mean cycle time, side by side."""
    from .rendering import palette
    from .rendering.plots import plt, time_unit

    d = tier_points(s)
    unit, per = time_unit(max(d["cycle_time"], default=0.0))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.5), layout="constrained")
    colour = palette.OKABE_ITO["blue"]
    for ax, key, title in zip(axes, ("revenue_share", "experience", "cycle_time"),
                              ("share of revenue", "experience index (revenue-weighted)", f"cycle time, mean ({unit})"),
                              strict=True):
        values = [(v if v is not None else 0.0) / (per if key == "cycle_time" else 1.0) for v in d[key]]
        ax.bar(d["tier"], values, color=colour)
        ax.set_title(title, fontsize=11)
        ax.tick_params(axis="x", labelsize=10, labelrotation=20)
        for k, v in enumerate(d[key]):
            text = "n/a" if v is None else (f"{v:.0%}" if key == "revenue_share" else f"{values[k]:.1f}")
            ax.annotate(text, (k, values[k]), ha="center", va="bottom", fontsize=9)
    axes[1].set_ylim(0, 100)
    fig.suptitle(f"{s['name']}: tiers", fontsize=12)
    return fig


def report_files(folder: str, stem: str) -> list[str]:
    """The files :func:`write_report` writes: the JSON, the 80/20 chart and the tiers chart."""
    return [os.path.join(folder, f"{stem}-{x}") for x in ("portfolio.json", "pareto.png", "tiers.png")]


def write_report(s: Mapping[str, Any], files: list[str]) -> None:
    """Write the JSON and the two charts to ``files`` (:func:`report_files`), atomically."""
    from .output import write_json
    from .rendering.output import write_figure

    write_json(files[0], s)
    write_figure(files[1], pareto_chart(s))
    write_figure(files[2], tier_chart(s))
