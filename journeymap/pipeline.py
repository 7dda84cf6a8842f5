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

Every file is written atomically, and the whole set is built in a hidden staging folder and moved
into the output folder at the end, so an interrupted run leaves the output folder as it was (see
:func:`journeymap.output.staged_folder`). A file that fails is reported, its folder gets an
``INCOMPLETE`` file saying why, and the other files go on. The output folder may not hold any input.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .analysis import analyze
from .errors import EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK, DotNotFound, JourneymapError
from .graph import build_graph
from .model import Journey
from .output import input_files, mark_incomplete, refuse_inputs, staged_folder, write_json, write_text
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
    """Run the main job; returns the exit code.

    Refuses (:class:`~journeymap.errors.OutputIsInput`) an output folder that holds any input, before
    anything runs. Results are built in a staging folder and moved into ``out_dir`` at the end
    (:func:`~journeymap.output.staged_folder`): an interrupted run leaves ``out_dir`` as it was.
    A journey that fails (invalid, or Graphviz cannot draw it) is reported and the others go on; its
    folder holds an ``INCOMPLETE`` file saying why, so stale results of an earlier run never pass for
    this run's. Exit code: 1 when any file has errors, else 3 when anything else failed (no Graphviz,
    a drawing or a simulation that failed), else 0.
    """
    out_dir = os.path.normpath(out_dir)
    refuse_inputs(input_files(*files), folders=[out_dir])
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NotADirectoryError(f"the output {out_dir!r} is a file, not a folder")
    with staged_folder(out_dir) as stage:
        tally = _run_into(stage, out_dir, files, seed=seed, quick=quick, workers=workers, log=log)
    log(f"{len(files)} journey file(s): {len(files) - tally.invalid - tally.failed} done, {tally.invalid} with errors"
        + (f", {tally.failed} failed" if tally.failed else "") + f"; outputs in {out_dir}/")
    if tally.invalid:
        return EXIT_INVALID
    return EXIT_ENVIRONMENT if tally.failed or tally.missing_dot else EXIT_OK


@dataclass
class _Tally:
    """What went wrong in a run: files with errors, files that failed later, whether dot was missing."""

    invalid: int = 0
    failed: int = 0
    missing_dot: bool = False


def _failure(exc: BaseException) -> str:
    """One line about an exception: its own message for ours, the type too for anything unexpected."""
    if isinstance(exc, JourneymapError):
        return str(exc)
    return f"{type(exc).__name__}: {exc} (unexpected; please report it)"


def _run_into(stage: str, out_dir: str, files: Sequence[str], *, seed: int, quick: bool, workers: int,
              log: Callable[[str], None]) -> _Tally:
    """The main job's work, written into ``stage``; messages name the final folder ``out_dir``."""
    from .rendering import emotion_chart, render_all
    from .simulation import simulate, summary_text

    replications = QUICK_REPLICATIONS if quick else REPLICATIONS

    def show(problems) -> None:
        """Errors in full; warnings counted, so the job's log stays readable."""
        for p in problems:
            if p.is_error:
                log(format_problem(p))
        warnings = [p for p in problems if not p.is_error]
        if warnings:
            files = sorted({p.file for p in warnings})
            log(f"{', '.join(files)}: {len(warnings)} warning(s); see them with: journeymap validate {' '.join(files)}")

    def skipped(f: str, why: str) -> None:
        """Mark the file's folder, so the previous run's results for it are replaced by this note."""
        mark_incomplete(os.path.join(stage, _name(f)), f"{f}: {why}")

    def failed(f: str, exc: Exception) -> None:
        tally.failed += 1
        log(f"{f}: failed: {_failure(exc)}; the other journeys go on")
        skipped(f, f"failed: {_failure(exc)}\nThe other files in this folder are what was written before it failed.")

    tally = _Tally()
    journeys: dict[str, Journey] = {}
    from .account import check_account, is_account_file

    accounts = [f for f in files if is_account_file(f)]
    for f in files:
        if f in accounts:
            continue
        try:
            checked = check_file(f)
        except Exception as exc:  # a checker bug must not stop the other files
            tally.invalid += 1
            log(f"{f}: could not be checked: {_failure(exc)}")
            skipped(f, "could not be checked")
            continue
        show(checked.problems)
        if checked.journey is None:
            tally.invalid += 1
            skipped(f, f"not run: the file has errors; see them with: journeymap validate {f}")
            continue
        journey = checked.journey
        journeys[f] = journey
        folder = os.path.join(stage, _name(f))
        shown = os.path.join(out_dir, _name(f))
        try:
            report = analyze(build_graph(journey))
            write_json(os.path.join(folder, "analysis.json"), report)
            write_text(os.path.join(folder, "analysis.txt"), analysis_text(report) + "\n")
            result = simulate(journey, replications=replications, seed=seed, workers=workers)
            write_json(os.path.join(folder, "simulation.json"), result.summary)
            write_text(os.path.join(folder, "simulation.txt"), summary_text(result.summary) + "\n")
            try:
                render_all(journey, folder, results=result.summary)
            except DotNotFound as exc:
                tally.missing_dot = True
                log(f"journeymap: {exc}")
        except Exception as exc:
            failed(f, exc)
            continue
        cycle, b = result.summary["case"]["cycle_time"], result.summary["bottleneck"]
        steady = result.summary["stability"]["steady"]
        log(f"{f}: {report['touchpoints']} touchpoints, {report['handoffs']} handoffs, "
            f"cycle time mean {cycle['mean'] / 1440:.1f}d (P90 {cycle['p90'] / 1440:.1f}d)"
            + ("" if steady else " NOT A STEADY STATE (see simulation.txt)")
            + f", bottleneck {b['department']} ({b['department_share']:.0%} department share of waiting) -> {shown}/")

    for f in accounts:
        from .account_simulation import account_summary_text, combined_journey, summarize_account
        from .rendering import render_view

        try:
            checked_account = check_account(f)
        except Exception as exc:
            tally.invalid += 1
            log(f"{f}: could not be checked: {_failure(exc)}")
            skipped(f, "could not be checked")
            continue
        show([p for p in checked_account.problems if p.file == f])  # the personas' journeys were reported above
        account = checked_account.account
        if account is None:
            tally.invalid += 1
            skipped(f, f"not run: the file has errors; see them with: journeymap validate {f}")
            continue
        folder = os.path.join(stage, _name(f))
        shown = os.path.join(out_dir, _name(f))
        try:
            combined, meeting = combined_journey(account)
            result = simulate(combined, replications=replications, seed=seed, workers=workers, meeting=meeting)
            summary = summarize_account(account, combined, result)
            write_json(os.path.join(folder, "account.json"), summary)
            write_text(os.path.join(folder, "account.txt"), account_summary_text(summary) + "\n")
            try:
                # the overview collapses each persona to one row with its gates: the view a room can read
                for view in ("overview", "personas"):
                    for fmt in ("svg", "png"):
                        render_view(combined, os.path.join(folder, f"{view}.{fmt}"), view, result.summary, fmt)
            except DotNotFound as exc:
                tally.missing_dot = True
                log(f"journeymap: {exc}")
            chart = f"{account.id}-emotions.png"
            emotion_chart([p.journey for p in account.personas], os.path.join(stage, chart))
        except Exception as exc:
            failed(f, exc)
            continue
        log(f"{f}: {len(account.personas)} personas, deal cycle time mean "
            f"{summary['cycle_time']['mean'] / 1440:.1f}d, experience index "
            f"{summary['experience']['overall']:.0f} -> {shown}/, {os.path.join(out_dir, chart)}")

    for name, before_file, after_file in comparison_pairs(journeys):
        from .comparison import compare
        from .report import build_report

        before, after = journeys[before_file], journeys[after_file]
        try:
            result = compare(before, after, replications=max(replications, 10), seed=seed, workers=workers)
            write_json(os.path.join(stage, f"{name}-compare.json"), result)
            write_text(os.path.join(stage, f"{name}-compare.html"), build_report(result, before, after))
        except Exception as exc:
            tally.failed += 1
            log(f"{before_file} -> {after_file}: comparison failed: {_failure(exc)}; the others go on")
            continue
        log(f"{before_file} -> {after_file}: {result['headline']} -> {out_dir}/{name}-compare.html")
    return tally
