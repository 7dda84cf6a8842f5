"""The terminal text of ``journeymap simulate``: readable tables built from the JSON summaries (pure).

:func:`summary_text` reads a journey's ``summary`` (docs/simulation.md) and
:func:`account_summary_text` an account's (docs/accounts.md); neither computes
a statistic, so what the terminal says is what the JSON says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..distributions import DAY
from ..distributions import format_minutes as fm
from ..tables import Block, Table, plain
from .records import BREAKDOWN_LABELS
from .summary import WHERE_TIME_GOES_LABELS

__all__ = ["account_summary_text", "attainment_cells", "scope_text", "summary_text", "time_breakdown_text",
           "within_text"]


def time_breakdown_text(tb: dict[str, Any]) -> str:
    """:func:`time_breakdown_blocks` as plain text."""
    return plain(time_breakdown_blocks(tb))


def time_breakdown_blocks(tb: dict[str, Any]) -> list[Block]:
    """The "where the time goes" table of a ``time_breakdown``: a row per stage, a total row and column (pure).

    The total column of the total row is the mean cycle time. The gate column
    appears only when some case waited at a gate (accounts).
    """
    shown = [c for c in tb["components"] if c != "gate_wait" or tb["total"][c]]
    rows = [[sid] + [fm(v[c]) for c in shown] + [fm(sum(v.values()))] for sid, v in tb["stages"].items()]
    rows.append(["total"] + [fm(tb["total"][c]) for c in shown] + [fm(sum(tb["total"].values()))])
    return ["Where the time goes (per case, on the critical path; the total is the cycle time):",
            Table(["stage"] + [BREAKDOWN_LABELS[c] for c in shown] + ["total"], rows,
                  "l" + "r" * (len(shown) + 1))]


def summary_text(summary: dict[str, Any]) -> str:
    """The terminal report of ``journeymap simulate`` as plain text (for files and pipes; pure)."""
    return plain(summary_blocks(summary))


def _working_time_line(working: dict[str, Any]) -> str:
    """Where a run with calendars starts, and which calendar its working hours are counted on."""
    from datetime import datetime

    start = datetime.fromisoformat(working["start"])
    on = working["working_hours_calendar"]
    zone = working["working_hours_timezone"]
    return (f"Working time: cases start from {start:%a %Y-%m-%d %H:%M} ({working['timezone']}); durations in days "
            f"are on the clock, working hours are the open hours of the {on} calendar ({zone})")


def summary_blocks(summary: dict[str, Any]) -> list[Block]:
    """The terminal report of ``journeymap simulate``: lines and a few readable tables (pure), which
    :func:`journeymap.tables.show` prints with rich on a terminal."""
    steady = (summary.get("stability") or {}).get("steady", True)

    def ci(s: dict[str, Any], fmt: Callable[[float], str]) -> str:
        lo, hi = s["ci95"]
        if not steady:  # a CI of a run with no steady state would read as a property of the design
            return "not steady"
        return "n/a" if lo is None else f"{fmt(lo)} .. {fmt(hi)}"

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    def num(x: float) -> str:
        return f"{x:.2f}"

    c = summary["case"]
    out: list[Block] = [
        f"Journey {summary['journey']} (persona {summary['persona']}): {summary['replications']} replication(s) "
        f"x {summary['cases']} cases" + (f" + {summary['backlog']} backlog" if summary.get("backlog") else "")
        + f", warm-up {summary['warmup']}, seed {summary['seed']}; {summary['measured_cases']} cases measured", ""]
    out += _stability_lines(summary)
    rows = []
    for key, label, fmt in (("cycle_time", "cycle time", fm), ("processing_time", "processing (touch) time", fm),
                            ("waiting_time", "queue waiting", fm), ("flow_delay", "flow delays (inboxes)", fm),
                            ("handoff_delay", "handoff delay", fm), ("handoffs", "handoffs", num),
                            ("rework", "rework", num), ("flow_efficiency", "flow efficiency", pct)):
        s = c[key]
        rows.append([label, fmt(s["mean"]), fmt(s["p50"]), fmt(s["p90"]), fmt(s["p95"]), ci(s, fmt)])
    share = summary["handoff_waste"]["share_of_cycle_time"]
    rows.append(["handoff waste / cycle time", pct(share["mean"]), pct(share["p50"]), pct(share["p90"]),
                 pct(share["p95"]), ci(share, pct)])
    working = summary.get("working_time")
    if working is not None:
        def wh(x: float) -> str:
            return f"{x:,.1f}wh"

        s = working["cycle_time_working_hours"]
        rows.insert(1, ["cycle time, working hours", wh(s["mean"]), wh(s["p50"]), wh(s["p90"]), wh(s["p95"]),
                        ci(s, wh)])
        out[-1:-1] = [_working_time_line(working)]
    out.append(Table(["per case", "mean", "p50", "p90", "p95", "95% CI of mean"], rows, "lrrrrr"))
    out += _class_blocks(summary, ci)
    out += _target_blocks(summary, steady)

    rows = [[d, pct(v["utilisation"]["mean"]), num(v["queue_length"]["mean"]), fm(v["wait"]["mean"]),
             fm(v["wait"]["p90"]), pct(v["share_of_waiting"])] for d, v in summary["departments"].items()]
    if rows:
        busy = "utilisation" if working is None else "utilisation (open hours)"
        out += ["", Table(["department", busy, "queue", "wait", "p90 wait", "share of queueing"], rows, "lrrrrr")]
    rows = [[sid, num(v["visits_per_case"]), fm(v["time_per_case"]), fm(v["wait_per_visit"]),
             pct(v["share_of_waiting"])] for sid, v in summary["steps"].items() if v["visits_per_case"]]
    out += ["", Table(["step", "visits", "time/case", "wait/visit", "share of queueing"], rows, "lrrrr")]
    out += ["", *time_breakdown_blocks(summary["time_breakdown"])]
    # time lost on each handoff arrow (its inbox + the queueing it leads into), worst first
    arrows = sorted((f for f in summary["flows"] if f["handoff"] and f["traversals_per_case"]),
                    key=lambda f: (-f["lost_per_case"], f["number"]))
    if arrows:
        out += ["", Table(["handoff", "arrow", "departments", "per case", "inbox", "queueing", "lost per case"],
                          [[f"H{f['number']}", f"{f['source']} -> {f['target']}",
                            f"{f['from_department']} -> {f['to_department']}", num(f["traversals_per_case"]),
                            fm(f["inbox_per_case"]), fm(f["queue_per_case"]), fm(f["lost_per_case"])]
                           for f in arrows], "lllrrrr")]
    out += _bottleneck_lines(summary)
    out += _customer_lines(summary)
    out += _cost_lines(summary)
    if not steady:
        out += ["", "!! " + summary["stability"]["message"]]
    return out


def _class_blocks(summary: dict[str, Any], ci: Callable[[dict[str, Any], Callable[[float], str]], str]
                  ) -> list[Block]:
    """Per priority class, highest first: its cases, cycle time and queue waiting with their CIs."""
    classes = summary.get("classes")
    if not classes:
        return []
    rows = [[c, f"{v['cases']} ({100 * v['share']:.1f}%)", fm(v["cycle_time"]["mean"]), ci(v["cycle_time"], fm),
             fm(v["waiting_time"]["mean"]), ci(v["waiting_time"], fm)] for c, v in classes.items()]
    return ["", "Per priority class (served highest first, then first come first served; nobody is interrupted):",
            Table(["class", "cases", "cycle time", "95% CI", "queue waiting", "95% CI"], rows, "lrrrrr")]


def within_text(target: dict[str, Any]) -> str:
    """A target's limit as people write it: "2.0d", "4.0h working", "2 business days"."""
    within = target["within_minutes"]
    if target["basis"] == "business":
        days = within / DAY
        return f"{days:g} business day" + ("" if days == 1 else "s")
    return fm(within) + (" working" if target["basis"] == "working" else "")


def scope_text(target: dict[str, Any]) -> str:
    """What a target measures: "journey", "stage buy", "step quote (after brief)"."""
    if target["scope"] == "journey":
        return "journey"
    since = f" (after {target['since']})" if target.get("since") else ""
    return f"{target['scope']} {target['ref']}{since}"


def attainment_cells(a: dict[str, Any], steady: bool = True) -> list[str]:
    """Attainment, its 95% CI and the goal verdict of a target (or of one class), as shown everywhere."""
    if a["attainment"] is None:
        return ["n/a", "n/a", "no case measured"]
    if not steady:
        return [pct(a["attainment"]), "not steady", "not steady"]
    verdict = {True: "goal met", False: "goal missed", None: "undecided"}[a["goal_met"]]
    return [pct(a["attainment"]), f"{pct(a['ci_low'])} .. {pct(a['ci_high'])}", verdict]


def pct(x: float) -> str:
    """A share as the terminal shows it (one decimal of a percent)."""
    return f"{100 * x:.1f}%"


def _target_blocks(summary: dict[str, Any], steady: bool) -> list[Block]:
    """Service-level targets: the share of cases meeting each, its 95% CI and whether the goal is met, per class."""
    targets = summary.get("targets")
    if not targets:
        return []
    rows = []
    for t in targets:
        rows.append([t["name"], scope_text(t), within_text(t), pct(t["goal"]), str(t["measured_cases"]),
                     *attainment_cells(t, steady)])
        rows += [[f"  {c}", "", "", "", str(a["measured_cases"]), *attainment_cells(a, steady)]
                 for c, a in (t.get("classes") or {}).items()]
    return ["", "Service-level targets (share of measured cases done within the limit; 95% CI over replications):",
            Table(["target", "scope", "within", "goal", "cases", "attained", "95% CI", "verdict"], rows,
                  "lllrrrrl")]


def _stability_lines(summary: dict[str, Any]) -> list[str]:
    """The banner of a run with no steady state: what is wrong, how to fix it, what the figures mean."""
    st = summary.get("stability") or {}
    if st.get("steady", True):
        return []
    return ["!! " + st["message"], "   Fix: " + st["hint"] + ".",
            f"   The figures below describe this run of {summary['cases']} cases per replication; "
            "no confidence interval is given, because there is no mean to estimate.", ""]


def _bottleneck_lines(summary: dict[str, Any]) -> list[str]:
    """The bottleneck with both shares labelled, what is lost there, and where a case's time goes."""
    b = summary["bottleneck"]
    out = []
    if b.get("department") is not None:
        name = b.get("department_name") or b["department"]
        label = name if name == b["department"] else f"{name} ({b['department']})"
        out += ["", f"Bottleneck: {label}, step {b['step']}: {b['department_share']:.0%} department share of "
                    f"waiting, {b['step_share']:.0%} step share; {fm(b['lost_per_case'])} lost per case: "
                    f"{fm(b['queueing_per_case'])} queueing, {fm(b['inbox_per_case'])} inbox delay",
                "  (waiting = queueing for staff + inbox delay on the arrows into its steps)"]
    where = b.get("where_time_goes") or {}
    total = sum(where.values())
    if total > 0:
        parts = [f"{label} {fm(where[k])} ({where[k] / total:.0%})" for k, label in WHERE_TIME_GOES_LABELS
                 if where.get(k) or k in ("work", "queueing", "inbox")]
        out.append("  where a case's time goes: " + ", ".join(parts))
    return out


def _customer_lines(summary: dict[str, Any]) -> list[str]:
    """The customer's side: the experience index with its CI, and the moments of truth at risk."""
    out = []
    e = summary.get("experience") or {}
    if e.get("overall") is not None:
        stats = e.get("index_stats") or {}
        lo, hi = (stats.get("ci95") or [None, None])
        ci = f" (95% CI {lo:.0f} .. {hi:.0f})" if lo is not None and (summary.get("stability") or {}).get(
            "steady", True) else ""
        out += ["", f"Experience index (0 furious .. 50 neutral .. 100 delighted): {e['overall']:.0f}{ci}"]
    risky = summary.get("moments_at_risk")
    if risky:
        out.append("Moments of truth at risk (waited beyond the persona's tolerance):")
        for m in risky:
            tol = f"the tolerance of {fm(m['tolerance'])}" if m.get("tolerance") is not None else "the tolerance"
            out.append(f"  {m['step']} ({m['name']}, stage {m['stage']}): {m['share_over_tolerance']:.0%} of visits "
                       f"waited beyond {tol}; mean wait {fm(m['wait_per_visit'])} a visit, "
                       f"{m['visits_per_case']:.2f} visits per case")
    elif risky is not None and e.get("overall") is not None:
        out.append("Moments of truth at risk: none (no moment of truth waited beyond its tolerance)")
    return out


def _money(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _cost_lines(summary: dict[str, Any], top: int = 3) -> list[str]:
    """Staff cost per case, total and the departments that cost most, with CIs (in the file's currency)."""
    c = summary.get("cost") or {}
    if not c.get("priced"):
        return []
    steady = (summary.get("stability") or {}).get("steady", True)

    def ci(stats: dict[str, Any]) -> str:
        lo, hi = stats["ci95"]
        return f" (95% CI {_money(lo)} .. {_money(hi)})" if lo is not None and steady else ""

    total = c["total"]["mean"]
    ranked = sorted(((d, v["per_case"]) for d, v in c["departments"].items() if v["per_case"]["mean"] > 0),
                    key=lambda t: -t[1]["mean"])
    parts = [f"{d} {_money(st['mean'])} ({st['mean'] / total:.0%})" for d, st in ranked[:top]] if total else []
    unpriced = [d for d, v in c["departments"].items() if v["cost_per_hour"] is None]
    return ["", f"Staff cost per case (time x cost_per_hour): {_money(total)}{ci(c['total'])}"
            + ("; most: " + ", ".join(parts) if parts else "")
            + (f"; not priced: {', '.join(unpriced)}" if unpriced else "")]


def account_summary_text(a: dict[str, Any]) -> str:
    """The terminal report of ``journeymap simulate ACCOUNT`` as plain text (pure)."""
    return plain(account_summary_blocks(a))


def account_summary_blocks(a: dict[str, Any]) -> list[Block]:
    """The terminal report of ``journeymap simulate ACCOUNT`` (pure): personas, gates, where the deal's time goes."""
    ct = a["cycle_time"]
    out: list[Block] = [f"Account {a['name']} ({a['account']}): {a['replications']} replication(s), "
           f"{a['measured_cases']} deals measured",
           f"Deal cycle time: mean {fm(ct['mean'])}, P50 {fm(ct['p50'])}, P90 {fm(ct['p90'])}", ""]
    rows = [[p["name"], p["role"].replace("_", " "), p["influence"], fm(p["cycle_time"]["mean"]),
             f"{p.get('last_to_finish', 0):.0%}",
             ", ".join(f"{g} {v:.0%}" for g, v in p["held_up"].items()) or "-",
             f"{p['experience']['overall']:.0f}" if p["experience"]["overall"] is not None else "-"]
            for p in a["personas"].values()]
    out.append(Table(["persona", "role", "influence", "cycle time", "last to finish", "held up gate", "experience"],
                     rows, "llrrrlr"))
    for gid, g in a["gates"].items():
        waits = ", ".join(f"{pid} {fm(w)}" for pid, w in g["wait_per_case"].items())
        out += ["", f"Gate {g['name']} ({gid}): usually held up by {g['usually_held_up_by']}; "
                    f"mean wait per deal: {waits}"]
    if "time_breakdown" in a:
        head, *rest = time_breakdown_blocks(a["time_breakdown"])
        out += ["", str(head).replace("per case", "per deal", 1), *rest]
    out += _account_experience_lines(a)
    b = a["bottleneck"]
    if b.get("department"):
        out.append(f"Bottleneck: {b['department']} at {b['step']} ({b['department_share']:.0%} department share "
                   f"of waiting, {b['step_share']:.0%} step share)")
    stability = a.get("combined", {}).get("stability") or {}
    if not stability.get("steady", True):
        out[:0] = ["!! " + stability["message"], "   Fix: " + stability["hint"] + ".", ""]
    return out


def _account_experience_lines(a: dict[str, Any]) -> list[str]:
    """The account's experience index, who pulls it down, coverage gaps and over-surveyed personas."""
    e = a["experience"]
    out = ["", "Account experience index (0 furious .. 50 neutral .. 100 delighted): "
           + (f"{e['overall']:.0f}" if e["overall"] is not None else "n/a")
           + "; per stage: " + ", ".join(f"{s} {v:.0f}" for s, v in e["stages"].items() if v is not None)]
    if e["pulled_down_by"]:
        out.append(f"Pulled down most by {a['personas'][e['pulled_down_by']]['name']} "
                   f"({e['pull'][e['pulled_down_by']]:+.1f} points)")
    out += [f"coverage gap: {gap['message']}" for gap in a["coverage"]["gaps"]]
    out += [f"over-surveyed: {w}" for w in a["survey_warnings"]]
    return out
