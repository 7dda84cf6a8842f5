"""The main job: everything journeymap can say about a set of journeys, written into one folder.

``journeymap run journeys/ -o outputs/`` does, for every journey file:

1. validate it (every problem printed; a file with errors is skipped, the
   others go on, and the exit code is 1);
2. analyse it: ``<name>/analysis.json`` and ``analysis.txt``;
3. simulate it with a fixed seed: ``<name>/simulation.json`` and ``simulation.txt``;
4. render the map, blueprint and handoff network (SVG and PNG) shaded by the
   simulation, and its charts;

then, across files:

5. for every account file: the buying group simulated together
   (``<name>/account.{json,txt}``), the map with a lane per persona, and the
   personas' emotion curves on one chart (``<account id>-emotions.png``);
6. a before/after comparison for every overlay (a file with ``extends:``)
   against its base, and for every ``NAME-after.yaml`` against
   ``NAME-before.yaml``: ``NAME-compare.html`` and ``NAME-compare.json``.

Every file is written atomically.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

from .analysis import analyze
from .errors import EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK
from .errors import DotNotFound
from .graph import build_graph
from .model import Journey
from .output import write_json, write_text
from .problems import format_problem
from .tables import analysis_text
from .validation import check_file

__all__ = ["run_all", "comparison_pairs"]

#: Replications per journey in the main job (``--quick``: fewer).
REPLICATIONS = 10
QUICK_REPLICATIONS = 3


def _name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def comparison_pairs(journeys: dict[str, Journey]) -> list[tuple[str, str, str]]:
    """(name, before file, after file) for every overlay and every NAME-before/NAME-after pair."""
    by_norm = {os.path.normpath(f): f for f in journeys}
    pairs = []
    for f, j in journeys.items():
        if j.base and os.path.normpath(j.base) in by_norm:
            pairs.append((_name(f), by_norm[os.path.normpath(j.base)], f))
        elif _name(f).endswith("-after"):
            stem = _name(f)[: -len("-after")]
            before = os.path.join(os.path.dirname(f), stem + "-before" + os.path.splitext(f)[1])
            if os.path.normpath(before) in by_norm:
                pairs.append((stem, by_norm[os.path.normpath(before)], f))
    return pairs


def run_all(files: Sequence[str], out_dir: str, *, seed: int = 1, quick: bool = False, workers: int = 1,
            log: Callable[[str], None] = print) -> int:
    """Run the main job; returns the exit code (1 when any file has errors, 3 without Graphviz)."""
    from .rendering import emotion_chart, render_all
    from .simulation import simulate, summary_text

    replications = QUICK_REPLICATIONS if quick else REPLICATIONS
    out_dir = os.path.normpath(out_dir)

    def show(problems) -> None:
        """Errors in full; warnings counted, so the job's log stays readable."""
        for p in problems:
            if p.is_error:
                log(format_problem(p))
        warnings = [p for p in problems if not p.is_error]
        if warnings:
            files = sorted({p.file for p in warnings})
            log(f"{', '.join(files)}: {len(warnings)} warning(s); see them with: journeymap validate {' '.join(files)}")

    failed = 0
    journeys: dict[str, Journey] = {}
    missing_dot = False
    from .account import check_account, is_account_file

    accounts = [f for f in files if is_account_file(f)]
    for f in files:
        if f in accounts:
            continue
        checked = check_file(f)
        show(checked.problems)
        if checked.journey is None:
            failed += 1
            continue
        journey = checked.journey
        journeys[f] = journey
        folder = os.path.join(out_dir, _name(f))
        report = analyze(build_graph(journey))
        write_json(os.path.join(folder, "analysis.json"), report)
        write_text(os.path.join(folder, "analysis.txt"), analysis_text(report) + "\n")
        result = simulate(journey, replications=replications, seed=seed, workers=workers)
        write_json(os.path.join(folder, "simulation.json"), result.summary)
        write_text(os.path.join(folder, "simulation.txt"), summary_text(result.summary) + "\n")
        try:
            render_all(journey, folder, results=result.summary)
        except DotNotFound as exc:
            missing_dot = True
            log(f"journeymap: {exc}")
        cycle, b = result.summary["case"]["cycle_time"], result.summary["bottleneck"]
        steady = result.summary["stability"]["steady"]
        log(f"{f}: {report['touchpoints']} touchpoints, {report['handoffs']} handoffs, "
            f"cycle time mean {cycle['mean'] / 1440:.1f}d (P90 {cycle['p90'] / 1440:.1f}d)"
            + ("" if steady else " NOT A STEADY STATE (see simulation.txt)")
            + f", bottleneck {b['department']} ({b['department_share']:.0%} department share of waiting) -> {folder}/")

    for f in accounts:
        from .account_simulation import account_summary_text, combined_journey, summarize_account
        from .rendering import render_view

        checked_account = check_account(f)
        show([p for p in checked_account.problems if p.file == f])  # the personas' journeys were reported above
        account = checked_account.account
        if account is None:
            failed += 1
            continue
        folder = os.path.join(out_dir, _name(f))
        combined, meeting = combined_journey(account)
        result = simulate(combined, replications=replications, seed=seed, workers=workers, meeting=meeting)
        summary = summarize_account(account, combined, result)
        write_json(os.path.join(folder, "account.json"), summary)
        write_text(os.path.join(folder, "account.txt"), account_summary_text(summary) + "\n")
        try:
            for fmt in ("svg", "png"):
                render_view(combined, os.path.join(folder, f"personas.{fmt}"), "personas", result.summary, fmt)
        except DotNotFound as exc:
            missing_dot = True
            log(f"journeymap: {exc}")
        chart = emotion_chart([p.journey for p in account.personas], os.path.join(out_dir, f"{account.id}-emotions.png"))
        log(f"{f}: {len(account.personas)} personas, deal cycle time mean "
            f"{summary['cycle_time']['mean'] / 1440:.1f}d, experience index "
            f"{summary['experience']['overall']:.0f} -> {folder}/, {chart}")

    for name, before_file, after_file in comparison_pairs(journeys):
        from .comparison import compare
        from .report import build_report

        before, after = journeys[before_file], journeys[after_file]
        result = compare(before, after, replications=max(replications, 10), seed=seed, workers=workers)
        write_json(os.path.join(out_dir, f"{name}-compare.json"), result)
        write_text(os.path.join(out_dir, f"{name}-compare.html"), build_report(result, before, after))
        log(f"{before_file} -> {after_file}: {result['headline']} -> {out_dir}/{name}-compare.html")

    log(f"{len(files)} journey file(s): {len(files) - failed} done, {failed} with errors; outputs in {out_dir}/")
    if failed:
        return EXIT_INVALID
    return EXIT_ENVIRONMENT if missing_dot else EXIT_OK
