"""The business case of two books in HTML (``journeymap compare BOOK.yaml BOOK-NAME.yaml --report book.html``).

Pure: :func:`book_report_html` takes the result of :func:`journeymap.portfolio_compare.compare_books` (its JSON)
and returns one self-contained page (styles and the 80/20 charts inline, no script, no network resource) in
the look of the before/after report (``templates/_style.css.j2``). Writing it is the caller's job.

Every number on the page is one of the JSON's, written as the terminal table writes it
(:func:`journeymap.portfolio_compare.figure_text`, :func:`journeymap.money.format_amount`); each cell that
shows one carries it in ``data-value`` and where it comes from in ``data-path`` (the keys into the JSON joined
by ``/``, list indexes as numbers: the figures' names have dots), so tests/test_portfolio_report_html.py
can check the page against the JSON.

The business case is rendered from whatever keys it has: every ``{mean, ci95}`` or ``{mean, low, high}``
entry of ``business_case`` (book and per tier) becomes a tile and a column, labelled from :data:`CASE_LABELS`
or from its key, so a figure added to the business case appears without a change here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from .money import format_amount
from .portfolio_compare import figure_text

__all__ = ["book_report_html", "pareto_svg", "book_headline", "CASE_LABELS", "BOOK_NOTE"]

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True))

#: Labels of the business case's figures; a key not here is labelled from its name.
CASE_LABELS = {"cost_saved_per_year": "Staff cost saved a year",
               "revenue_protected_per_year": "Revenue protected a year", "benefit_per_year": "Benefit a year"}

#: Labels of the paired figures (the part after the tier's id); a name not here is labelled from itself.
FIGURE_LABELS = {"experience": "Experience index (revenue-weighted)", "staff_cost": "Staff cost a year",
                 "revenue_at_risk.mean": "Revenue at risk a year", "cycle_time": "Cycle time (mean)"}

#: Figures for which a fall is good (cost, risk, time); a rise of any other known figure is good.
_LOWER_IS_BETTER = ("staff_cost", "revenue_at_risk", "cycle_time")
_HIGHER_IS_BETTER = ("experience",)

#: What the ranges of a book comparison's business case cover (the journey comparison's is money.MONEY_NOTE).
BOOK_NOTE = ("Both books ran the same seed and replications (common random numbers: the same accounts, revenue "
             "and cases), so each replication gives one paired difference. Staff cost saved carries the 95% "
             "interval of those differences; revenue protected is a band from the lowest to the highest end of "
             "the paired intervals at the churn link's low and high ends; the benefit adds the ranges' low ends "
             "and their high ends; the payback is at the central benefit, its range at the benefit's high and low "
             "ends. Staff cost is the cost of the time spent on cases: the pay of people added is part of the "
             "investment (per_month), not of it.")


def _humanised(key: str) -> str:
    text = key.replace("_per_year", " a year").replace(".mean", "").replace("_", " ").replace(".", " ")
    return text[:1].upper() + text[1:]


def _cell(text: str, value: float | None, path: str, tone: str = "") -> dict[str, Any]:
    return {"text": text, "value": value, "path": path, "tone": tone}


def _range(lo: str, hi: str) -> str:
    return f"{lo} to {hi}"


def _is_band(x: Any) -> bool:
    return isinstance(x, Mapping) and "mean" in x and ("ci95" in x or ("low" in x and "high" in x))


def _band_cells(band: Mapping[str, Any], cur: str, path: str) -> dict[str, Any]:
    """A business-case figure: its central amount and its range (the interval, or the band's low and high)."""
    lo, hi = band["ci95"] if "ci95" in band else (band["low"], band["high"])
    # coloured as the tables' changes: only when the whole range is on one side of zero (a gain or a loss)
    tone = "" if lo is None or lo <= 0 <= hi or format_amount(band["mean"], cur) == format_amount(0, cur) else \
        "good" if band["mean"] > 0 else "bad"
    mean = _cell(format_amount(band["mean"], cur), band["mean"], f"{path}/mean", tone)
    if "ci95" in band:
        lo, hi = band["ci95"]
        ends = [None, None] if lo is None else [_cell(format_amount(lo, cur), lo, f"{path}/ci95/0"),
                                                _cell(format_amount(hi, cur), hi, f"{path}/ci95/1")]
        covers = "95% CI of the paired replications"
    else:
        ends = [_cell(format_amount(band["low"], cur), band["low"], f"{path}/low"),
                _cell(format_amount(band["high"], cur), band["high"], f"{path}/high")]
        covers = "its parts' low ends added, to their high ends added" if path.endswith("benefit_per_year") else \
            "the link's low to high end, each with its paired 95% CI"
    return {"mean": mean, "ends": ends, "covers": covers}


def _months(m: float | None) -> str:
    return "never" if m is None else f"{m:,.1f}"


def _payback(bc: Mapping[str, Any]) -> dict[str, Any] | None:
    pb, inv = bc.get("payback_months"), bc.get("investment")
    if pb is None or inv is None:
        return None
    cur, path = bc["currency"], "business_case/payback_months"
    months = "never" if pb["months"] is None else f"{pb['months']:,.1f} months"
    return {"mean": _cell(months, pb["months"], f"{path}/months", "bad" if pb["months"] is None else "good"),
            "ends": [_cell(_months(pb["fastest"]), pb["fastest"], f"{path}/fastest"),
                     _cell(_months(pb["slowest"]), pb["slowest"], f"{path}/slowest")],
            "one_off": _cell(format_amount(inv["one_off"], cur), inv["one_off"], "business_case/investment/one_off"),
            "per_month": _cell(format_amount(inv["per_month"], cur), inv["per_month"],
                               "business_case/investment/per_month")}


def _case(bc: Mapping[str, Any] | None, tiers: Sequence[str]) -> dict[str, Any] | None:
    """The business case's tiles (every band of the book, in the JSON's order) and its per-tier table."""
    if not bc:
        return None
    cur = bc["currency"]
    tiles = [dict(_band_cells(v, cur, f"business_case/{k}"), label=CASE_LABELS.get(k, _humanised(k)), key=k)
             for k, v in bc.items() if _is_band(v)]
    per_tier = bc.get("tiers") or {}
    keys = list(dict.fromkeys(k for t in per_tier.values() for k, v in (t or {}).items() if _is_band(v)))
    rows = []
    for tid in [t for t in tiers if t in per_tier] + [t for t in per_tier if t not in tiers]:
        t = per_tier[tid] or {}
        rows.append({"tier": tid, "cells": [_band_cells(t[k], cur, f"business_case/tiers/{tid}/{k}")
                                            if _is_band(t.get(k)) else None for k in keys]})
    return {"tiles": tiles, "payback": _payback(bc), "columns": [CASE_LABELS.get(k, _humanised(k)) for k in keys],
            "rows": rows, "note": bc.get("note") or BOOK_NOTE}


def _tone(name: str, row: Mapping[str, Any]) -> str:
    """"good"/"bad" when the paired interval excludes zero and the figure has a better direction, else ""."""
    lo, hi = row["ci95"]
    if lo is None or (lo <= 0 <= hi) or figure_text(name, row["change"], "") == figure_text(name, 0.0, ""):
        return ""  # not significant, or no change a reader can see (a sum's rounding error)
    metric = name.split(".", 1)[-1] if "." in name else name
    if metric.startswith(_LOWER_IS_BETTER):
        better = row["change"] < 0
    elif metric.startswith(_HIGHER_IS_BETTER):
        better = row["change"] > 0
    else:
        return ""
    return "good" if better else "bad"


def _change_row(name: str, row: Mapping[str, Any], cur: str, label: str) -> dict[str, Any]:
    path = f"changes/{name}"
    lo, hi = row["ci95"]
    ci = None if lo is None else [_cell(figure_text(name, lo, cur), lo, f"{path}/ci95/0"),
                                  _cell(figure_text(name, hi, cur), hi, f"{path}/ci95/1")]
    return {"label": label, "name": name, "before": _cell(figure_text(name, row["before"], cur), row["before"],
                                                          f"{path}/before"),
            "after": _cell(figure_text(name, row["after"], cur), row["after"], f"{path}/after"),
            "change": _cell(figure_text(name, row["change"], cur), row["change"], f"{path}/change",
                            _tone(name, row)), "ci": ci}


def _changes(c: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The book's rows and, per tier, its rows: every paired figure but the churn link's ends."""
    cur, tiers = c["currency"], list(c["tiers"])
    book: list[dict[str, Any]] = []
    per_tier: dict[str, list[dict[str, Any]]] = {t: [] for t in tiers}
    for name, row in c["changes"].items():
        if name.endswith((".low", ".high")):
            continue
        head, _, rest = name.partition(".")
        if head in per_tier and rest:
            per_tier[head].append(_change_row(name, row, cur, FIGURE_LABELS.get(rest, _humanised(rest))))
        else:
            book.append(_change_row(name, row, cur, FIGURE_LABELS.get(name, _humanised(name))))
    return book, [{"tier": t, "rows": rows} for t, rows in per_tier.items() if rows]


def _assumption_lines(a: Mapping[str, Any] | None, side: str) -> list[Markup]:
    """The stated assumptions of one book's ``money:`` block as sentences, each number a ``data-path`` span."""
    if not a:
        return []
    path = f"assumptions/{side}"
    cur = a.get("currency", "")

    def n(text: str, value: Any, where: str) -> Markup:
        return Markup('<span class="num" data-value="{}" data-path="{}">{}</span>').format(value, f"{path}/{where}",
                                                                                           text)

    lines = []
    for key, value in a.items():
        if key in ("currency", "hours_per_fte", "cases_per_year", "revenue"):
            continue  # the currency is said once; the rest are a journey's and do not enter a book's case
        if key == "handoff_overhead":
            lines.append(Markup("each internal handoff costs the receiving department {} minutes of staff time")
                         .format(n(f"{value:g}", value, key)))
        elif key == "investment" and isinstance(value, Mapping):
            costs = [Markup("{} once").format(n(format_amount(value["one_off"], cur), value["one_off"],
                                                "investment/one_off"))] * bool(value["one_off"])
            costs += [Markup("{} a month").format(n(format_amount(value["per_month"], cur), value["per_month"],
                                                    "investment/per_month"))] * bool(value["per_month"] or not costs)
            lines.append(Markup("the investment: {} (what the payback repays)").format(Markup(" and ").join(costs)))
        elif isinstance(value, Mapping) and {"low", "high"} <= set(value) and ({"below", "above"} & set(value)):
            edge = "below" if "below" in value else "above"
            what = "churn" if key == "churn" else key.replace("_", " ")
            lines.append(Markup("each experience-index point {} {} adds {}–{} points of annual {}").format(
                edge, n(f"{value[edge]:g}", value[edge], f"{key}/{edge}"),
                n(f"{value['low']:g}", value["low"], f"{key}/low"),
                n(f"{value['high']:g}", value["high"], f"{key}/high"), what))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            lines.append(Markup("{}: {}").format(_humanised(key), n(f"{value:g}", value, key)))
        else:
            lines.append(Markup("{}: {}").format(_humanised(key), escape(str(value))))
    return lines


def _assumptions(c: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What both books state alike, then what each states on its own (the investment is usually the AFTER
    book's alone: it is the one the payback uses)."""
    a = c.get("assumptions") or {}
    names = c.get("names") or {"before": c["before"], "after": c["after"]}
    before, after = a.get("before") or {}, a.get("after") or {}
    common = {k: v for k, v in after.items() if k in before and before[k] == v}
    out = [{"title": "Both books", "lines": _assumption_lines(common, "after")}] if common else []
    for side, own in (("before", before), ("after", after)):
        rest = {k: v for k, v in own.items() if k not in common}
        if rest:
            out.append({"title": f"{side.capitalize()} only ({names[side]})",
                        "lines": _assumption_lines(dict(rest, currency=own.get("currency", "")), side)})
    return [x for x in out if x["lines"]]


# --------------------------------------------------------------------------- headline


def _significant(row: Mapping[str, Any] | None) -> bool:
    if row is None:
        return False
    lo, hi = row["ci95"]
    return lo is not None and not (lo <= 0 <= hi)


def _what_changed(c: Mapping[str, Any]) -> list[str]:
    """The change a reader sees first: the accounts without a manager, the tier whose cycle time moved most."""
    parts = []
    wm = c.get("without_manager") or {}
    b, a = wm.get("before"), wm.get("after")
    if b is not None and a is not None and b != a:
        parts.append(f"every account gets a manager ({b:,} had none)" if a == 0 else
                     f"{b:,} accounts without a manager become {a:,}")
    cur = c["currency"]
    moved = [(abs(r["change"]) / r["before"], t) for t in c["tiers"]
             if (r := c["changes"].get(f"{t}.cycle_time")) and _significant(r) and r["before"]]
    if moved:
        _, t = max(moved)
        r = c["changes"][f"{t}.cycle_time"]
        name = f"{t}.cycle_time"
        parts.append(f"the {t} tier's mean cycle time goes from {figure_text(name, r['before'], cur)} to "
                     f"{figure_text(name, r['after'], cur)}")
    return parts


def _what_it_buys(bc: Mapping[str, Any] | None) -> str:
    if not bc:
        return "Neither book prices its staff or links experience to churn, so there is no business case."
    cur = bc["currency"]
    parts = []
    for key, band in bc.items():
        if not _is_band(band) or key == "benefit_per_year":
            continue
        lo, hi = (band["ci95"] if "ci95" in band else (band["low"], band["high"]))
        value = band["mean"]
        sign = 1 if value >= 0 else -1  # a negative figure is said as what it is, its range turned the same way
        ends = None if lo is None else sorted([lo * sign, hi * sign])
        rng = "" if ends is None else f" ({_range(format_amount(ends[0], cur), format_amount(ends[1], cur))})"
        amount = format_amount(value * sign, cur)
        if key == "cost_saved_per_year":
            parts.append(f"{'saves' if sign > 0 else 'adds'} {amount} of staff cost a year{rng}")
        elif key == "revenue_protected_per_year":
            parts.append(f"protects {amount} of revenue a year{rng}" if sign > 0 else
                         f"puts {amount} more revenue a year at risk{rng}")
        elif key == "expansion_gained_per_year":
            parts.append(f"adds {amount} of expansion revenue a year{rng}" if sign > 0 else
                         f"loses {amount} of expansion revenue a year{rng}")
        else:
            parts.append(f"{CASE_LABELS.get(key, _humanised(key)).lower()}: {format_amount(value, cur)}"
                         f"{'' if lo is None else f' ({_range(format_amount(lo, cur), format_amount(hi, cur))})'}")
    text = ("The change " + (", ".join(parts[:-1]) + " and " if len(parts) > 1 else "") + parts[-1] if parts
            else "The change moves no priced figure")
    pb, inv = bc.get("payback_months"), bc.get("investment")
    if pb is not None and inv is not None:
        cost = " and ".join([f"{format_amount(inv['one_off'], cur)} once"] * bool(inv["one_off"])
                            + [f"{format_amount(inv['per_month'], cur)} a month"] * bool(inv["per_month"]))
        cost = cost or format_amount(0, cur)
        if pb["months"] is not None:
            text += f"; the investment ({cost}) pays back in {pb['months']:,.1f} months"
        elif pb["fastest"] is not None:
            text += (f"; at the central figures the investment ({cost}) never pays back, at the top of the range "
                     f"in {pb['fastest']:,.1f} months")
        else:
            text += f"; the investment ({cost}) never pays back, not even at the top of the range"
    return text + "."


def book_headline(c: Mapping[str, Any]) -> tuple[str, str]:
    """One sentence an executive reads first (what changed, what it buys), and its tone: "good" when the AFTER
    book pays back (or, without an investment, when its benefit a year is positive), "bad" when it never pays
    back or loses money, "" otherwise. Every figure in it is the JSON's, formatted as the tables write it."""
    changed = _what_changed(c)
    first = (" and ".join(changed) if changed else "no tier's cycle time changes beyond the noise") + "."
    first = first[:1].upper() + first[1:]
    bc = c.get("business_case")
    tone = ""
    if bc:
        benefit = (bc.get("benefit_per_year") or {}).get("mean")
        pb = bc.get("payback_months")
        if pb is not None:
            tone = "good" if pb["months"] is not None else "bad"
        elif benefit is not None and abs(benefit) >= 0.5:
            tone = "good" if benefit > 0 else "bad"
    return f"{first} {_what_it_buys(bc)}", tone


# --------------------------------------------------------------------------- the 80/20 chart

#: Okabe-Ito colours for the tiers, in tier order (journeymap.rendering.palette, without yellow: too pale).
_TIER_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#000000")
_BOOK_LINE = "#D55E00"
_W, _H = 640, 360
_L, _R, _T, _B = 56, 56, 16, 44


def pareto_svg(view: Mapping[str, Any], side: str) -> Markup:
    """A book's 80/20 chart as inline SVG: accounts ranked by revenue (x), the cumulative share of revenue (the
    line, left axis), each account's experience index (a dot in its tier's colour, right axis), the book's
    index (dashed) and the top share of accounts shaded. Each dot carries its account's values from the JSON
    (``data-x``, ``data-e``: the JSON's ``pareto/<side>`` columns); axis ticks are the only other numbers."""
    pw, ph = _W - _L - _R, _H - _T - _B

    def x(v: float) -> float:
        return _L + v * pw

    def y_share(v: float) -> float:
        return _T + (1 - v) * ph

    def y_index(v: float) -> float:
        return _T + (1 - v / 100) * ph

    colours = {t: _TIER_COLOURS[k % len(_TIER_COLOURS)] for k, t in enumerate(view["tiers"])}
    top = view["top_share_of_accounts"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
           f'aria-label="{escape(side)} book: cumulative share of revenue and each account\'s experience index">',
           f'<rect x="{x(0):.1f}" y="{_T}" width="{top * pw:.1f}" height="{ph}" fill="#eeeeee"/>']
    for k in range(6):  # the grid and the ticks: 0-100% of accounts and revenue, index 0-100
        v = k / 5
        out.append(f'<line x1="{_L}" x2="{_L + pw}" y1="{y_share(v):.1f}" y2="{y_share(v):.1f}" stroke="#e3e6ea"/>')
        out.append(f'<text x="{_L - 6}" y="{y_share(v) + 4:.1f}" text-anchor="end" font-size="11">{v:.0%}</text>')
        out.append(f'<text x="{_L + pw + 6}" y="{y_share(v) + 4:.1f}" font-size="11">{v * 100:.0f}</text>')
        out.append(f'<text x="{x(v):.1f}" y="{_T + ph + 16}" text-anchor="middle" font-size="11">{v:.0%}</text>')
    out.append(f'<rect x="{_L}" y="{_T}" width="{pw}" height="{ph}" fill="none" stroke="#59636e"/>')
    for xi, e, t in zip(view["account_share"], view["experience"], view["tier"], strict=True):
        if e is not None:
            out.append(f'<circle cx="{x(xi):.1f}" cy="{y_index(e):.1f}" r="2.6" fill="{colours[t]}" '
                       f'fill-opacity="0.8" data-x="{xi!r}" data-e="{e!r}" data-tier="{escape(t)}"/>')
    points = " ".join(f"{x(a):.1f},{y_share(r):.1f}" for a, r in
                      zip([0.0, *view["account_share"]], [0.0, *view["revenue_share"]], strict=True))
    out.append(f'<polyline points="{points}" fill="none" stroke="#1b1f24" stroke-width="2.5"/>')
    if view["experience_book"] is not None:
        yb = y_index(view["experience_book"])
        out.append(f'<line x1="{_L}" x2="{_L + pw}" y1="{yb:.1f}" y2="{yb:.1f}" stroke="{_BOOK_LINE}" '
                   f'stroke-width="1.6" stroke-dasharray="6 4" data-e="{view["experience_book"]!r}"/>')
    out.append(f'<text x="{_L + pw / 2}" y="{_H - 6}" text-anchor="middle" font-size="12">accounts ranked by '
               'revenue, largest first (share of accounts)</text>')
    out.append(f'<text transform="translate(14 {_T + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">'
               'cumulative share of revenue</text>')
    out.append(f'<text transform="translate({_W - 10} {_T + ph / 2}) rotate(90)" text-anchor="middle" '
               'font-size="12">experience index (dots)</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - numbers and escaped tier ids only


def _pareto(c: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Both books' 80/20 views: the chart, its caption's figures and the tiers' colours."""
    views = c.get("pareto") or {}
    names = c.get("names") or {"before": c["before"], "after": c["after"]}
    out = []
    for side in ("before", "after"):
        v = views.get(side)
        if not v:
            continue
        path = f"pareto/{side}"

        def index(value: float | None, key: str, path: str = path) -> dict[str, Any]:
            return _cell("n/a" if value is None else f"{value:.1f}", value, f"{path}/{key}")

        out.append({"side": side, "name": names[side], "svg": pareto_svg(v, side),
                    "top": _cell(f"{v['top_share_of_accounts']:.0%}", v["top_share_of_accounts"],
                                 f"{path}/top_share_of_accounts"),
                    "share": _cell(f"{v['revenue_share_of_top']:.0%}", v["revenue_share_of_top"],
                                   f"{path}/revenue_share_of_top"),
                    "experience_top": index(v["experience_top"], "experience_top"),
                    "experience_rest": index(v["experience_rest"], "experience_rest"),
                    "experience_book": index(v["experience_book"], "experience_book"),
                    "legend": [(t, _TIER_COLOURS[k % len(_TIER_COLOURS)]) for k, t in enumerate(v["tiers"])]})
    return out


# --------------------------------------------------------------------------- the page


def _tiles(c: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The book's figures before and after, and the accounts without a manager."""
    cur = c["currency"]
    tiles = []
    for name in ("experience", "staff_cost", "revenue_at_risk.mean"):
        row = c["changes"].get(name)
        if row is not None:
            tiles.append(dict(_change_row(name, row, cur, FIGURE_LABELS[name])))
    wm = c.get("without_manager") or {}
    if wm.get("before") is not None and wm.get("after") is not None:
        tiles.append({"label": "Accounts without a manager",
                      "before": _cell(f"{wm['before']:,}", wm["before"], "without_manager/before"),
                      "after": _cell(f"{wm['after']:,}", wm["after"], "without_manager/after"), "change": None,
                      "ci": None})
    return tiles


def book_report_html(c: Mapping[str, Any]) -> str:
    """The page for a result of :func:`journeymap.portfolio_compare.compare_books` (its JSON)."""
    names = c.get("names") or {"before": c["before"], "after": c["after"]}
    headline, tone = book_headline(c)
    book_rows, tier_tables = _changes(c)
    case = _case(c.get("business_case"), c["tiers"])
    return _ENV.get_template("book_report.html.j2").render(
        title=f"The business case: {names['after']}", names=names, c=c, headline=headline, tone=tone,
        tiles=_tiles(c), case=case, book_rows=book_rows, tier_tables=tier_tables, pareto=_pareto(c),
        assumptions=_assumptions(c), currency=c["currency"])
