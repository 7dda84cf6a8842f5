"""The HTML page of ``journeymap explain``: which change bought what, on one self-contained page.

Pure: :func:`explain_html` takes the explain data (:func:`journeymap.attribution.explain`, or its JSON read
back) and the waterfall chart as SVG text and returns the page; :func:`explain_report` draws the chart too
(:func:`journeymap.rendering.waterfall.waterfall`). It shares the compare report's styles
(``templates/_style.css.j2``) and, like it, has no script and no network resource. Its numbers are written
as the terminal table writes them (:func:`journeymap.attribution.explain_blocks`), and every one carries the
JSON value it shows in ``data-value`` and where it comes from in ``data-path`` (dotted, e.g.
``contributions.0.ci95.1``), so a test can check the page against the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .attribution import explain_method, format_share
from .levers_report import _cell, _interval
from .report import _ENV, _figure_svg, inline_svg
from .tables import format_change, format_value

__all__ = ["explain_html", "explain_report", "LARGEST"]

#: How many contributions the headline names (the largest, leaving out any that is exactly zero).
LARGEST = 3


def _tone(change: float, ci: Sequence[float | None], lower_is_better: bool) -> str:
    """``good`` or ``bad`` when the 95% CI excludes zero (better or worse for this metric), else ``""``."""
    lo, hi = ci
    if lo is None or hi is None or lo <= 0 <= hi:
        return ""
    return "good" if (change < 0) == lower_is_better else "bad"


def _row(row: Mapping[str, Any], path: str, unit: str, lower_is_better: bool) -> dict[str, Any]:
    """A change's row: its contribution, 95% CI and share of the total (and sampling error when sampled)."""
    se = row.get("sampling_se")
    change = lambda v: format_change(v, unit)  # noqa: E731
    return {"title": row["title"], "key": row["key"],
            "contribution": _cell(change(row["contribution"]), row["contribution"], f"{path}.contribution"),
            "ci": _interval(row["ci95"], change, f"{path}.ci95"),
            "share": _cell(format_share(row["share"]), row["share"], f"{path}.share"),
            "se": None if se is None else _cell(format_value(se, unit), se, f"{path}.sampling_se"),
            "tone": _tone(row["contribution"], row["ci95"], lower_is_better)}


def explain_html(result: Mapping[str, Any], *, waterfall: str | bytes | None = None) -> str:
    """The page for a result of :func:`journeymap.attribution.explain`; ``waterfall`` is SVG text (optional)."""
    metric = result["metric"]
    unit, lower = metric["unit"], metric["lower_is_better"]
    total = result["total"]
    rows = [_row(r, f"contributions.{i}", unit, lower) for i, r in enumerate(result["contributions"])]
    sampled = result["method"] != "exact"
    before, after = result["before"], result["after"]
    return _ENV.get_template("explain.html.j2").render(
        title=f"Which change bought what: {after.get('name') or after['file']}",
        result=result, metric_label=metric["label"], before=before, after=after,
        before_value=_cell(format_value(result["before_value"], unit), result["before_value"], "before_value"),
        after_value=_cell(format_value(result["after_value"], unit), result["after_value"], "after_value"),
        total=_cell(format_change(total["change"], unit), total["change"], "total.change"),
        total_ci=_interval(total["ci95"], lambda v: format_change(v, unit), "total.ci95"),
        total_share="100%" if total["change"] else "—",
        tone=_tone(total["change"], total["ci95"], lower), rows=rows,
        largest=[r for r in rows if r["contribution"]["value"]][:LARGEST], sampled=sampled,
        method=explain_method(result, "in the last column"), ci_note=result["ci_note"],
        waterfall=inline_svg(waterfall))


def explain_report(result: Mapping[str, Any]) -> str:
    """:func:`explain_html` with the waterfall chart drawn and inlined as SVG."""
    from .rendering.waterfall import waterfall

    return explain_html(result, waterfall=_figure_svg(waterfall(result)))
