"""Tables for the terminal: pure functions from result data to text, and one way to print it.

A report for the terminal is a list of *blocks*: lines of text and :class:`Table` records. :func:`plain`
turns them into the fixed-width text of the ``.txt`` outputs and of a terminal that is not one (a pipe, a
file, ``NO_COLOR`` set); :func:`show` prints them, with rich's tables on a terminal. ``analysis_text``
and ``comparison_text`` are the plain form of ``analysis_blocks`` and ``comparison_blocks``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from .distributions import format_minutes

__all__ = ["table", "Table", "Block", "plain", "fancy", "show", "rich_table", "analysis_blocks", "analysis_text",
           "business_case_blocks",
           "comparison_blocks", "comparison_text",
           "uncertainty_comparison_blocks", "format_value", "format_change", "format_relative", "format_ci"]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A fixed-width table; ``align`` has one of 'l'/'r' per column (default: text left, numbers right)."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if align is None:
        align = _default_align(rows, len(headers))
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if a == "r" else c.ljust(w)
                               for c, w, a in zip(r, widths, align, strict=False)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _default_align(rows: Sequence[Sequence[Any]], n: int) -> str:
    return "".join("r" if rows and isinstance(rows[0][i], (int, float)) else "l" for i in range(n))


@dataclass(frozen=True)
class Table:
    """A table in a report: printed by :func:`table` as plain text, or by rich on a terminal."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    #: one of 'l'/'r' per column (default: text left, numbers right)
    align: str | None = None

    def __str__(self) -> str:
        return table(self.headers, self.rows, self.align)


#: A part of a report for the terminal: a line (or lines) of text, or a table.
Block = str | Table


def plain(blocks: Sequence[Block]) -> str:
    """The report as plain text: each block on its own line(s), tables in fixed-width columns."""
    return "\n".join(str(b) for b in blocks)


def fancy(stream: IO[str] | None = None) -> bool:
    """Whether to print to ``stream`` (default: standard output) with rich: a terminal, and ``NO_COLOR``
    (https://no-color.org) not set; never for a pipe or a file, which get the plain text."""
    stream = stream if stream is not None else sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def rich_table(t: Table) -> Any:
    """A :class:`Table` as a ``rich.table.Table``: the same cells, a header rule, columns aligned alike."""
    from rich import box
    from rich.table import Table as RichTable

    out = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    align = _default_align(t.rows, len(t.headers)) if t.align is None else t.align
    for header, a in zip(t.headers, align, strict=False):
        out.add_column(str(header), justify="right" if a == "r" else "left", no_wrap=a == "r")  # numbers whole
    for row in t.rows:
        out.add_row(*(_cell(c) for c in row))
    return out


def show(blocks: Sequence[Block], file: IO[str] | None = None) -> None:
    """Print a report: rich's tables on a terminal (:func:`fancy`), else exactly :func:`plain`'s text."""
    file = file if file is not None else sys.stdout
    if not fancy(file):
        print(plain(blocks), file=file)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=file, highlight=False)
    for b in blocks:
        console.print(rich_table(b) if isinstance(b, Table) else Text(b))


def _cell(c: Any) -> str:
    if isinstance(c, float):
        return f"{c:.2f}"
    return str(c)


def analysis_text(a: dict[str, Any]) -> str:
    """The report of ``journeymap analyze`` for a person, as plain text."""
    return plain(analysis_blocks(a))


def analysis_blocks(a: dict[str, Any]) -> list[Block]:
    """The report of ``journeymap analyze`` for a person: lines and tables."""
    out: list[Block] = [
        f"Journey {a['journey']} (persona {a['persona']}): {a['steps']} steps, "
        f"{a['touchpoints']} touchpoints, {a['handoffs']} internal handoffs",
        f"Expected per case: {a['expected_handoffs']:.2f} handoffs, "
        f"touch time {format_minutes(a['expected_touch_time'])}, "
        f"flow delays {format_minutes(a['expected_flow_delay'])}",
        "", "Steps per lane: " + ", ".join(f"{k} {v}" for k, v in a["steps_per_lane"].items()), ""]
    rows = [[sid, st["steps"], st["touchpoints"], st["handoffs"], round(st["expected_handoffs"], 2),
             format_minutes(st["expected_touch_time"])] for sid, st in a["stages"].items()]
    out.append(Table(["stage", "steps", "touchpoints", "handoffs", "exp. handoffs", "touch time"], rows, "lrrrrr"))
    matrix = a["handoff_matrix"]
    depts = [d for d in matrix if any(matrix[d].values()) or any(matrix[x][d] for x in matrix)]
    if depts:
        out += ["", "Handoffs from (rows) to (columns):",
                Table(["from \\ to"] + depts, [[d] + [matrix[d][e] or "." for e in depts] for d in depts],
                      "l" + "r" * len(depts))]
    if a["ping_pongs"]:
        out += ["", "Ping-pong handoffs:"] + [f"  {' -> '.join(p['departments'])}  ({' -> '.join(p['steps'])})"
                                              for p in a["ping_pongs"]]
    chain = a["longest_backstage_chain"]
    if chain["length"]:
        out += ["", f"Longest backstage chain: {chain['length']} steps, {format_minutes(chain['mean_time'])} "
                    f"({' -> '.join(chain['steps'])})"]
    if a["rework_loops"]:
        out += ["", "Rework loops:"] + [
            f"  {r['from']} -> {r['to']}: p={r['probability']:.2f}, "
            f"taken {r['expected_times_taken']:.2f} times per case, redoes {len(r['steps'])} step(s)"
            for r in a["rework_loops"]]
    busiest = sorted(a["expected_visits"].items(), key=lambda kv: -kv[1])[:5]
    out += ["", "Most visited steps: " + ", ".join(f"{k} {v:.2f}" for k, v in busiest)]
    return out


def format_value(value: Any, unit: str) -> str:
    """A metric value in its unit: minutes as 2.5h/3.1d, shares as percentages, counts with 2 decimals."""
    if value is None:
        return "n/a"
    if unit == "minutes":
        return format_minutes(value)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "index":
        return f"{value:.1f}"
    if unit == "money":
        return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}"
    return f"{value:.2f}"


def format_change(value: Any, unit: str) -> str:
    """A signed change in the metric's unit; a change of a share in percentage points ("+5.8 pp"), never "%"."""
    if value is None:
        return "n/a"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    if unit == "share":
        points = abs(value) * 100
        return f"{sign}{points:.2f} pp" if 0 < points < 0.1 else f"{sign}{points:.1f} pp"
    if unit == "index" and 0 < abs(value) < 0.1:
        return f"{sign}{abs(value):.2f}"
    return sign + format_value(abs(value), unit).lstrip("-")


def format_relative(row: Any) -> str:
    """The relative change of a row ("−12%"), or "—" for a change in points (a share) or from zero."""
    rel = row.get("relative_change")
    if row.get("change_kind", "relative") == "points" or rel is None:
        return "—"
    if row.get("unchanged"):
        return "0%"
    return (f"{rel:+.0%}" if abs(rel) >= 0.005 else f"{rel:+.1%}").replace("-", "−")


def format_ci(row: Any) -> str:
    """The 95% CI of a row's change in the change's own unit (pp for shares)."""
    lo, hi = row["ci95"]
    if lo is None:
        return "n/a"
    return f"[{format_change(lo, row['unit'])}, {format_change(hi, row['unit'])}]"


def _drivers_lines(drivers: Any) -> list[str]:
    """Where the time goes per case, before -> after, by mechanism (critical path: the parts add up to the
    cycle time)."""
    if not drivers:
        return []
    parts = [f"{g['words']} {format_minutes(g['before'])} -> {format_minutes(g['after'])}"
             for g in drivers["groups"].values() if g["before"] or g["after"]]
    return ["Where the time goes per case (adds up to the cycle time): " + "; ".join(parts) + "."]


def attainment_side(a: dict[str, Any] | None) -> str:
    """One side's attainment of a target and its goal verdict: "82.4% (goal met)", "—" when it has no such target."""
    if a is None:
        return "—"
    if a["attainment"] is None:
        return "n/a"
    verdict = {True: "goal met", False: "goal missed", None: "undecided"}[a["goal_met"]]
    return f"{format_value(a['attainment'], 'share')} ({verdict})"


def target_comparison_rows(t: dict[str, Any]) -> list[list[str]]:
    """A compared target as table rows (the target, then its classes): before, after, change, CI, verdict."""
    def cells(label: str, r: dict[str, Any]) -> list[str]:
        if r.get("unchanged"):
            change, ci = "unchanged", "—"
        elif r.get("change") is None:
            change, ci = "—", "—"
        else:
            change, ci = format_change(r["change"], "share"), format_ci(dict(r, unit="share"))
        return [label, attainment_side(r["before"]), attainment_side(r["after"]), change, ci, r["verdict"]]

    rows = [cells(f"{t['name']} (goal {format_value(t['goal'], 'share')})", t)]
    rows += [cells(f"  {c}", r) for c, r in (t.get("classes") or {}).items()]
    return rows


def target_comparison_blocks(targets: list[dict[str, Any]] | None) -> list[Block]:
    """The service-level targets of ``journeymap compare``: attainment before and after, and the paired change."""
    if not targets:
        return []
    rows = [row for t in targets for row in target_comparison_rows(t)]
    return ["", "Service-level targets (share of cases within the limit; the change is paired by replication):",
            Table(["target", "before", "after", "change", "95% CI of the change", "verdict"], rows, "lrrrrl")]


def uncertainty_comparison_blocks(u: dict[str, Any]) -> list[Block]:
    """The section of ``journeymap compare --uncertain``: the change at the written inputs (simulation noise)
    and across the plausible inputs (input uncertainty), per metric, and the statements."""
    from .uncertainty import SURE_TITLE, change_rows

    lo_p, hi_p = u["band_percentiles"]
    rows = change_rows(u)
    n = len(u["inputs"])
    return ["", f"{SURE_TITLE}: {u['samples']} input samples (Latin hypercube) of {n} uncertain "
                f"input{'s' if n != 1 else ''} x {u['replications']} replications, seed {u['seed']} "
                "(docs/uncertainty.md):",
            Table(["metric", "change at written inputs (95% CI: noise)",
                   f"change across inputs ({lo_p:g}-{hi_p:g}%)", "direction sure"],
                  [[r["label"], f"{r['change']} {r['noise']}", r["band"], r["sure"]] for r in rows], "lrrl"),
            *[r["statement"] for r in rows]]


def _caution_lines(u: dict[str, Any] | None) -> list[str]:
    from .uncertainty import caution

    line = caution(u) if u else None
    return [line] if line else []


def business_case_blocks(bc: dict[str, Any] | None) -> list[Block]:
    """The business case of ``compare`` (docs/money.md): the figures of
    :func:`journeymap.money.business_case_view`, the same strings the report shows."""
    if not bc:
        return []
    from .money import business_case_view

    view = business_case_view(bc)
    return ["", f"Business case ({bc['currency']})", view["headline"], "",
            Table(["figure", "central", "range", "the range is"], [list(r) for r in view["rows"]], "lrrl"),
            "Assumed: " + "; ".join(view["assumptions"]) + ".", *view["notes"], view["note"]]


def comparison_text(c: dict[str, Any]) -> str:
    """The table of ``journeymap compare`` as plain text (see :func:`comparison_blocks`)."""
    return plain(comparison_blocks(c))


def comparison_blocks(c: dict[str, Any]) -> list[Block]:
    """The table of ``journeymap compare``: one row per metric, with the CI of the change.

    The change is in the metric's unit (percentage points for shares, "pp"),
    the relative change only for non-shares ("%"), and the last column is the
    verdict: unchanged, significant, not significant, or not steady.
    """
    rows = []
    for r in c["metrics"]:
        if r["key"].startswith("cost:") and r.get("unchanged"):
            continue  # the total cost row is there; a department's cost only when it moved
        if r.get("unchanged"):
            change, ci = "unchanged", "—"
        else:
            change, ci = format_change(r["change"], r["unit"]), format_ci(r)
        rows.append([r["label"], format_value(r["before"], r["unit"]), format_value(r["after"], r["unit"]),
                     change, format_relative(r), ci,
                     r.get("verdict") or ("significant" if r["significant"] else "not significant")])
    d = c["diff"]
    stability = c.get("stability") or {}
    out: list[Block] = [f"{c['before']['name']}  ->  {c['after']['name']}",
           f"{c['replications']} paired replications, seed {c['seed']}", ""]
    said = ""
    if stability and not stability.get("steady", True):
        said = stability["message"]
        out += [said] + ([f"Hint: {stability['hint']}"] if stability.get("hint") else []) + [""]
    u = c.get("uncertainty")
    # the headline opens with the stability warning (for the JSON and the report); printed just above, it
    # would be read twice
    out += [c["headline"].removeprefix(said).strip(), *_caution_lines(u), "",
            Table(["metric", "before", "after", "change", "relative", "95% CI of the change", "verdict"], rows,
                  "lrrrrrl"),
            "pp = percentage points (a change of a share); % = relative to before.",
            *target_comparison_blocks(c.get("targets")),
            *_drivers_lines(c.get("drivers")),
            c.get("ci_note", ""), *(uncertainty_comparison_blocks(u) if u else []),
            *business_case_blocks(c.get("business_case")), "",
            f"Steps {d['steps']['before']} -> {d['steps']['after']} (added {len(d['steps']['added'])}, "
            f"removed {len(d['steps']['removed'])}, changed {len(d['steps']['changed'])}); "
            f"touchpoints {d['touchpoints']['before']} -> {d['touchpoints']['after']}; "
            f"handoffs on the map {d['handoffs']['before']} -> {d['handoffs']['after']} "
            f"(expected per case {d['handoffs']['expected_before']:.1f} -> {d['handoffs']['expected_after']:.1f})"]
    moved = [load for load in d["load"] if abs(load["change"]) >= 1]
    if moved:
        out += ["", "Load moved (expected work per case):"] + [
            f"  {m['department']}: {format_minutes(m['before'])} -> {format_minutes(m['after'])}"
            f" (capacity {m['capacity_before']} -> {m['capacity_after']})" for m in moved]
    return out
