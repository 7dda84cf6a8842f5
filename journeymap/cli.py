"""The ``journeymap`` command: parse arguments, call the library, format, choose the exit code.

Exit codes (documented in the README):
  0  success
  1  a journey file has errors (every problem is printed)
  2  the command line is wrong (an output that is an input, a journey above a size limit, an argument the
     library refuses: :class:`~journeymap.errors.InvalidArgument`)
  3  something outside the journey is missing (Graphviz's ``dot``, an output folder we cannot write)
  70 a bug in journeymap: the traceback is printed, with a request to report it
  130 interrupted (Ctrl-C, SIGINT)
  143 stopped by SIGTERM (the same clean stop as Ctrl-C: worker processes end, temporary files are removed)
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import glob
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from . import __version__
from .errors import (
    EXIT_ENVIRONMENT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Interrupted,
    InvalidArgument,
    JourneyInvalid,
    JourneymapError,
    OutputIsInput,
    TooLarge,
)
from .output import dumps_json, input_files, refuse_inputs
from .problems import Problem, format_problem
from .progress import ProgressBar as _ProgressBar
from .rendering import FORMATS, VIEWS

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_INVALID", "EXIT_USAGE", "EXIT_ENVIRONMENT", "EXIT_INTERNAL",
           "EXIT_INTERRUPTED", "EXIT_TERMINATED"]

#: What ``render --all`` writes every view and chart as.
ALL_FORMATS = ("svg", "png")


def _print_problems(problems: Sequence[Problem], stream=None) -> None:
    stream = stream or sys.stderr
    for p in problems:
        print(format_problem(p), file=stream)


def _inputs(path: str, *loaded) -> list[str]:
    """The files a command reads for ``path``: the file, its bases, an account's personas, and what the
    loaded journeys and account say they came from (``source``, ``base``), which covers references the
    loader resolved its own way."""
    named = [path]
    for subject in loaded:
        if subject is not None:
            named += [getattr(subject, "source", ""), getattr(subject, "base", "")]
            named += [p.journey.source for p in getattr(subject, "personas", ())]
    return input_files(*(n for n in named if n))


class _Usage(Exception):
    """The command line asks for something that cannot be done (a folder with no journey files, a stage the
    journey does not have): exit code 2 with the message."""


def _expand(paths: Sequence[str]) -> list[str]:
    """Expand folders to their *.yaml/*.yml files and globs the shell left alone."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(f for f in glob.glob(os.path.join(p, "*"))
                           if os.path.splitext(f)[1].lower() in (".yaml", ".yml") and os.path.isfile(f))
            if not found:
                raise _Usage(f"no journey files (*.yaml, *.yml) in {p}")
            out += found
        elif any(c in p for c in "*?[") and not os.path.exists(p):
            out += sorted(glob.glob(p)) or [p]
        else:
            out.append(p)
    return out


# --------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    from .account import check_account, is_account_file
    from .levers import check_levers, is_levers_file
    from .portfolio import check_portfolio, is_portfolio_file
    from .validation import check_file

    files = _expand(args.files)
    lint = not args.no_lint
    results = {f: (check_account(f, lint=lint) if is_account_file(f) else check_levers(f) if is_levers_file(f)
                   else check_portfolio(f, lint=lint) if is_portfolio_file(f)
                   else check_file(f, lint=lint)) for f in files}
    n_err = sum(len(r.errors) for r in results.values())
    n_warn = sum(len(r.warnings) for r in results.values())
    if args.json:
        print(json.dumps({"files": {f: {"valid": not r.errors, "problems": [p.as_dict() for p in r.problems]}
                                    for f, r in results.items()},
                          "errors": n_err, "warnings": n_warn}, indent=2))
    else:
        from .problems import group_problems

        # grouped by the file checked (an overlay's problems under the overlay), each problem once;
        # the group headings go to stderr so stdout stays one located problem a line for editors
        groups = group_problems((f, r.problems) for f, r in results.items())
        for f, group in groups:
            if group and len(results) > 1:
                sys.stdout.flush()
                print(f"== {f}", file=sys.stderr, flush=True)
            _print_problems(group, sys.stdout)
        # the totals count what was listed: a problem an overlay inherits from its base (or an account
        # from its persona's journey) is listed once, and counting it twice made the totals disagree
        listed = [p for _, group in groups for p in group]
        repeats = n_err + n_warn - len(listed)
        bad = sum(1 for r in results.values() if r.errors)
        print(f"{len(files)} file(s) checked: {len(files) - bad} valid, {bad} with errors; "
              f"{sum(p.is_error for p in listed)} error(s), "
              f"{sum(not p.is_error for p in listed)} warning(s)"
              + (f" ({repeats} more found again through another checked file, listed once)" if repeats else ""),
              file=sys.stderr)
    if n_err or (args.strict and n_warn):
        return EXIT_INVALID
    return EXIT_OK


def cmd_analyze(args: argparse.Namespace) -> int:
    from .analysis import analyze
    from .graph import build_graph
    from .loading import load_subject
    from .tables import Block, analysis_blocks, show

    reports = {}
    for f in _expand(args.files):
        journey, _, _ = load_subject(f)  # an account is analysed as its personas' journeys together
        reports[f] = analyze(build_graph(journey))
    if args.json:
        data = next(iter(reports.values())) if len(reports) == 1 else reports
        print(dumps_json(data))
    else:
        blocks: list[Block] = []
        for f, r in reports.items():
            blocks += ([""] if blocks else []) + [f"== {f}", *analysis_blocks(r)]
        show(blocks)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from .schema import account_schema_json, levers_schema_json, portfolio_schema_json, schema_json

    text = (account_schema_json() if args.account else levers_schema_json() if args.levers
            else portfolio_schema_json() if args.portfolio else schema_json())
    if args.output:
        from .output import write_text

        write_text(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run_all

    return run_all(_expand(args.files), args.output, seed=args.seed, quick=args.quick, workers=args.workers,
                   log=lambda msg: print(msg, file=sys.stderr))


def cmd_simulate(args: argparse.Namespace) -> int:
    from .interop.xes import xes_events
    from .loading import load_subject
    from .simulation import simulate
    from .simulation.account import summarize_account
    from .simulation.text import account_summary_blocks, summary_blocks
    from .tables import show

    journey, meeting, account = load_subject(args.file)
    refuse_inputs(_inputs(args.file, journey, account), files=[args.events])
    if args.around_the_clock:
        journey = journey.around_the_clock()
    # arguments simulate refuses (a warm-up that swallows every case) are InvalidArgument: exit 2 in main
    with xes_events(args.events, name=journey.name) as events:  # a .xes log: CSV first, then converted
        result = _progressing(args, lambda progress: simulate(
            journey, cases=args.cases, replications=args.replications, seed=args.seed, warmup=args.warmup,
            workers=args.workers, events=events, progress=progress, meeting=meeting))
    summary = result.summary if account is None else summarize_account(account, journey, result)
    if args.json:
        print(dumps_json(summary))
    else:
        show(summary_blocks(summary) if account is None else account_summary_blocks(summary))
    if args.events:
        print(f"wrote {args.events}", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    if not os.path.isdir(args.folder):
        raise _Usage(f"{args.folder} is not a folder (serve shows the journey files of a folder)")
    serve(args.folder, host=args.host, port=args.port, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    if not args.watch:
        return _render(args)
    from .watch import watch, watched_files

    def again() -> None:
        try:
            _render(args)
        except JourneyInvalid as exc:  # keep watching: the designer is fixing the file
            _print_problems(exc.problems)
        except _Usage as exc:  # a --stage the saved file no longer has: say so, keep watching
            print(f"journeymap render: {exc}", file=sys.stderr)
        print(f"journeymap render: watching {args.file}, the files it reads and the journey files beside it; "
              "Ctrl-C to stop", file=sys.stderr)

    watch(lambda: watched_files(args.file), again)
    return EXIT_OK  # pragma: no cover - watch returns only when interrupted


def _render(args: argparse.Namespace) -> int:
    """One render: check where it goes against the inputs, then simulate (if asked) and draw."""
    from .loading import load_subject
    from .rendering import render_all, render_view
    from .rendering.output import planned_files

    journey, meeting, account = load_subject(args.file)
    view = _view(args.view, account)
    _check_stages(journey, args.stage)
    stem = os.path.splitext(os.path.basename(args.file))[0]
    if args.stage:
        stem = f"{stem}-{'-'.join(args.stage)}"  # a close-up keeps the whole journey's numbers and figures
    inputs = _inputs(args.file, journey, account) + ([args.results] if args.results else [])
    # where it goes, checked against the inputs before anything is simulated or drawn
    if args.all:
        path = args.output or os.path.join("outputs", stem)
        refuse_inputs(inputs, files=[path, *planned_files(journey, path, bool(args.results or args.simulate),
                                                          ALL_FORMATS)])
    else:
        fmt, path = _destination(args.output, args.format, f"{stem}-{view}")
        refuse_inputs(inputs, files=[path])
    results = _results(args, journey, meeting)
    if args.all:
        written = render_all(journey, path, results=results, formats=ALL_FORMATS, stages=args.stage)
    else:
        written = [render_view(journey, path, view, results, fmt, stages=args.stage)]
    for w in written:
        print(f"wrote {w}", file=sys.stderr)
    return EXIT_OK


def _view(view: str | None, account: Any) -> str:
    """The view asked for, or the default: the map, or the personas' lanes for an account."""
    if view is None:
        return "personas" if account is not None else "map"
    if view == "personas" and account is None:
        raise _Usage("--view personas is for account files (a lane per persona)")
    return view


def _check_stages(journey: Any, stages: Sequence[str] | None) -> None:
    unknown = [st for st in stages or () if st not in journey.stage_by_id]
    if unknown:
        raise _Usage(f"no stage {unknown[0]!r} (stages: {', '.join(journey.stage_by_id)})")


def _destination(output: str | None, fmt: str | None, name: str) -> tuple[str, str]:
    """(format, path) of one view: ``--format``, else the extension of ``-o``, else SVG, the two agreeing
    when both are given; ``-o`` may name a folder, where the file is called ``name``.``format``."""
    ext = os.path.splitext(output)[1].lstrip(".").lower() if output else ""
    if ext not in FORMATS:
        ext = ""  # a folder, or a name without a known extension
    if fmt and ext and fmt != ext:
        raise _Usage(f"--format {fmt} does not match the file name {output!r}")
    fmt = fmt or ext or "svg"
    file = f"{name}.{fmt}"
    path = output or os.path.join("outputs", file)
    if os.path.isdir(path) or path.endswith(os.sep) or (output and not ext and not os.path.splitext(path)[1]):
        path = os.path.join(path, file)
    return fmt, path


def _results(args: argparse.Namespace, journey: Any, meeting: Any) -> dict[str, Any] | None:
    """The simulation results to shade by: a results file, a simulation now (``--simulate``), or none."""
    if args.results:
        from .rendering import load_results

        return load_results(args.results)
    if args.simulate:
        from .simulation import simulate

        return simulate(journey, cases=args.cases, replications=args.replications, seed=args.seed,
                        meeting=meeting).summary
    return None


def cmd_compare(args: argparse.Namespace) -> int:
    from .comparison import compare
    from .loading import load_subject
    from .output import write_text
    from .portfolio import is_portfolio_file
    from .report import build_report
    from .tables import comparison_blocks

    portfolios = (is_portfolio_file(args.before), is_portfolio_file(args.after))
    if any(portfolios):
        return _compare_books(args, portfolios)
    if args.dask or args.scheduler:
        raise _Usage("--dask and --scheduler run the replications of two portfolios on Dask; two journeys or "
                     "accounts run on this machine (--workers)")
    before, meeting_b, account_b = load_subject(args.before)
    after, meeting_a, account_a = load_subject(args.after)
    refuse_inputs(_inputs(args.before, before, account_b) + _inputs(args.after, after, account_a),
                  files=[args.json_output, args.report])
    if (account_b is None) != (account_a is None):
        raise _Usage("compare two journeys or two accounts, not one of each "
                     "(a buying group and one persona's journey are not two designs of the same thing)")
    if args.replications < 2:
        raise _Usage("--replications must be at least 2 to give a confidence interval")
    if args.samples is not None and not args.uncertain:
        raise _Usage("--samples is the number of input samples of --uncertain: give --uncertain too")
    samples = (args.samples or 20) if args.uncertain else None
    if samples is not None and samples < 2:
        raise _Usage("--samples must be at least 2 to give a band")
    result = _progressing(args, lambda progress: compare(
        before, after, replications=args.replications, seed=args.seed, cases=args.cases, workers=args.workers,
        progress=progress, meetings=(meeting_b, meeting_a), uncertain_samples=samples))
    _show_json(args, result, comparison_blocks)
    if args.report:
        write_text(args.report, build_report(result, before, after))
        print(f"wrote {args.report}", file=sys.stderr)
    return EXIT_OK


def _compare_books(args: argparse.Namespace, portfolios: tuple[bool, bool]) -> int:
    """``compare`` of two portfolio files: the paired change of the books and the business case
    (:func:`journeymap.portfolio_compare.compare_books`)."""
    from .portfolio import load_portfolio
    from .portfolio_compare import compare_books, compare_books_blocks
    from .simulation.portfolio import portfolio_inputs

    if not all(portfolios):
        one, other = (args.before, args.after) if portfolios[0] else (args.after, args.before)
        raise _Usage(f"{one} is a portfolio and {other} is not: compare two portfolios, or two journeys or accounts")
    if args.uncertain:
        raise _Usage("--uncertain is for journeys and accounts; two portfolios give the paired change and its "
                     "business case (a table, --json-output, --report)")
    if args.replications < 2:
        raise _Usage("--replications must be at least 2 to give a confidence interval")
    before, after = load_portfolio(args.before), load_portfolio(args.after)
    refuse_inputs(input_files(*portfolio_inputs(before), *portfolio_inputs(after)),
                  files=[args.json_output, args.report])
    result = _progressing(args, lambda progress: compare_books(
        before, after, replications=args.replications, seed=args.seed, workers=args.workers, progress=progress,
        **_executor_of(args)))
    _show_json(args, result, compare_books_blocks)
    if args.report:
        from .output import write_text
        from .portfolio_report_html import book_report_html

        write_text(args.report, book_report_html(result))
        print(f"wrote {args.report}", file=sys.stderr)
    return EXIT_OK


def _levers_of(args: argparse.Namespace) -> Any:
    """The levers of explore and optimise: a levers file, or BEFORE AFTER (an overlay read as one lever per
    change, grouped by --together)."""
    from .levers import is_levers_file, load_levers
    from .overlay_levers import levers_from_overlay

    if args.after is None:
        if args.together:
            raise _Usage("--together groups the changes of an overlay: give BEFORE and AFTER")
        return load_levers(args.levers)
    if is_levers_file(args.levers):
        raise _Usage(f"{args.levers} is a levers file: give it alone, or give a journey and an overlay of it")
    return levers_from_overlay(args.levers, args.after, together=[g.split(",") for g in args.together or []])


def _levers_inputs(args: argparse.Namespace, levers: Any) -> list[str]:
    """The files explore and optimise read: the levers file (or BEFORE and AFTER) and what they name."""
    if args.after is None:
        return _inputs(args.levers, levers, levers.journey)
    return input_files(args.levers, args.after)


def cmd_explore(args: argparse.Namespace) -> int:
    from .explore import explore, explore_blocks
    from .levers_report import levers_report
    from .output import write_text
    from .rendering.output import write_figure
    from .rendering.tornado import tornado_chart

    levers = _levers_of(args)
    if args.screen:
        return _explore_screen(args, levers)
    outputs = [os.path.join(args.output, n) for n in ("explore.json", "tornado.png", "tornado.svg",
                                                       "explore.html")] if args.output else []
    refuse_inputs(_levers_inputs(args, levers), files=outputs)
    if args.replications < 2:
        raise _Usage("--replications must be at least 2 to give a confidence interval")
    result = _progressing(args, lambda progress: explore(
        levers, points=args.points, metric=args.metric, replications=args.replications, seed=args.seed,
        cases=args.cases, workers=args.workers, progress=progress, **_where(args)))
    _show_and_write(args, result, explore_blocks, outputs,
                    lambda path: write_text(path, levers_report(result, levers.journey.name)) if path.endswith(".html")
                    else write_figure(path, tornado_chart(result, levers.journey.name)))
    return EXIT_OK


def _explore_screen(args: argparse.Namespace, levers: Any) -> int:
    """explore --screen morris: the Morris screening instead of the one-at-a-time sweep."""
    from .rendering.output import write_figure
    from .rendering.screening import screening_chart
    from .screening import screen, screening_blocks

    outputs = [os.path.join(args.output, n) for n in ("screening.json", "screening.png", "screening.svg")] \
        if args.output else []
    refuse_inputs(_levers_inputs(args, levers), files=outputs)
    result = _progressing(args, lambda progress: screen(
        levers, trajectories=args.trajectories, metric=args.metric, replications=args.replications, seed=args.seed,
        cases=args.cases, workers=args.workers, progress=progress, **_where(args)))
    _show_and_write(args, result, screening_blocks, outputs,
                    lambda path: write_figure(path, screening_chart(result, levers.journey.name)))
    return EXIT_OK


def cmd_uncertainty(args: argparse.Namespace) -> int:
    from .uncertainty import uncertainty, uncertainty_blocks, uncertainty_pair
    from .validation import load_journey

    before = load_journey(args.journey)
    after = load_journey(args.after) if args.after else None
    refuse_inputs(_inputs(args.journey, before) + (_inputs(args.after, after) if after else []),
                  files=[args.json_output])
    if args.replications < 2 or args.samples < 2:
        raise _Usage("--replications and --samples must be at least 2 to give a confidence interval and a band")
    options = dict(samples=args.samples, replications=args.replications, seed=args.seed, cases=args.cases,
                   workers=args.workers, **_where(args))
    result = _progressing(args, lambda progress: (
        uncertainty_pair(before, after, progress=progress, **options) if after is not None
        else uncertainty(before, progress=progress, **options)))
    _show_json(args, result, uncertainty_blocks)
    return EXIT_OK


def cmd_optimise(args: argparse.Namespace) -> int:
    from .levers_report import optimise_report
    from .optimise import optimise, optimise_blocks
    from .output import write_text
    from .rendering.output import write_figure
    from .rendering.pareto import pareto_chart

    levers = _levers_of(args)
    outputs = [os.path.join(args.output, n) for n in ("optimise.json", "pareto.png", "pareto.svg",
                                                       "optimise.html")] if args.output else []
    refuse_inputs(_levers_inputs(args, levers), files=outputs)
    if args.replications < 2:
        raise _Usage("--replications must be at least 2 to give a confidence interval")
    result = _progressing(args, lambda progress: optimise(
        levers, budget_once=args.budget_once, budget_per_month=args.budget_month, budget_first_year=args.budget_year,
        people=args.people, metric=args.metric, points=args.points, replications=args.replications, seed=args.seed,
        cases=args.cases, workers=args.workers, progress=progress, **_where(args)))
    _show_and_write(args, result, optimise_blocks, outputs,
                    lambda path: write_text(path, optimise_report(result, levers.journey.name))
                    if path.endswith(".html") else write_figure(path, pareto_chart(result, levers.journey.name)))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from .attribution import ChangesDepend, explain, explain_blocks, run_designs
    from .attribution_report import explain_report
    from .output import write_json, write_text
    from .rendering.output import write_figure
    from .rendering.waterfall import waterfall
    from .tables import show

    if args.replications < 2:
        raise _Usage("--replications must be at least 2 to give a confidence interval")
    stem = os.path.splitext(os.path.basename(args.after))[0]
    written = [os.path.join(args.output, f"{stem}-{x}") for x in ("explain.json", "waterfall.png", "explain.html")] \
        if args.output else []
    refuse_inputs(input_files(args.before, args.after), files=written)
    run = functools.partial(run_designs, **_where(args))
    try:
        result = _progressing(args, lambda progress: explain(
            args.before, args.after, together=[g.split(",") for g in args.together or []], metric=args.metric,
            replications=args.replications, seed=args.seed, cases=args.cases, workers=args.workers,
            permutations=args.permutations, progress=progress, run=run))
    except ChangesDepend as exc:
        _print_problems(exc.problems)
        print("journeymap explain: some changes work only together; explain them as one with --together, as the "
              "hints say", file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        print(dumps_json(result))
    else:
        show(explain_blocks(result))
    if written:
        write_json(written[0], result)
        write_figure(written[1], waterfall(result))
        write_text(written[2], explain_report(result))
        print(f"wrote {written[0]}, {written[1]} and {written[2]}", file=sys.stderr)
    return EXIT_OK


def cmd_portfolio(args: argparse.Namespace) -> int:
    from .portfolio import load_portfolio
    from .portfolio_report import portfolio_blocks, report_files, write_report
    from .simulation.portfolio import portfolio_inputs, simulate_portfolio

    portfolio = load_portfolio(args.file)
    stem = os.path.splitext(os.path.basename(args.file))[0]
    outputs = report_files(args.output, stem) if args.output else []
    refuse_inputs(input_files(*portfolio_inputs(portfolio)), files=outputs)
    summary = _progressing(args, lambda progress: simulate_portfolio(
        portfolio, replications=args.replications, seed=args.seed, workers=args.workers, progress=progress,
        **_executor_of(args))[0])
    _show_and_write(args, summary, portfolio_blocks, outputs[:1], lambda path: None)
    if outputs:
        write_report(summary, outputs)
        for path in outputs[1:]:
            print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def cmd_surveys(args: argparse.Namespace) -> int:
    from .output import write_json, write_text
    from .surveys import SurveyInvalid, overlay_reference, overlay_text, read_scores, summarize_surveys, survey_blocks
    from .tables import show
    from .validation import check_text, load_journey

    journey = load_journey(args.journey)
    refuse_inputs(_inputs(args.journey, journey) + [args.scores], files=[args.output, args.json_output])
    for out in (args.output, args.json_output):
        if out and os.path.isdir(out):
            raise _Usage(f"{out} is a folder: give the path of the file to write")
    extends = overlay_reference(args.journey, args.output)  # before reading the scores: a wrong -o is the first fix
    try:
        scores = read_scores(args.scores, journey, scale=args.scale)
    except SurveyInvalid as exc:
        _print_problems(exc.problems)
        print(f"journeymap surveys: {len(exc.problems)} problem(s) in {args.scores}; nothing was written",
              file=sys.stderr)
        return EXIT_USAGE
    result = summarize_surveys(journey, scores, min_answers=args.min_answers, journey_file=args.journey)
    text = overlay_text(result, extends)
    # the overlay is checked as journeymap will read it, at the path it goes to, before anything is written
    checked = check_text(text, args.output, lint=False)
    if checked.journey is None:  # pragma: no cover - a bug: the emotions are on the scale by construction
        _print_problems(checked.errors)
        print("journeymap surveys: internal error: the overlay would not validate (a bug; please report it); "
              "nothing was written", file=sys.stderr)
        return EXIT_INTERNAL
    data = result.as_dict()
    if args.json:
        print(dumps_json(data))
    else:
        show(survey_blocks(data))
    write_text(args.output, text)
    print(f"wrote {args.output}", file=sys.stderr)
    if args.json_output:
        write_json(args.json_output, data)
        print(f"wrote {args.json_output}", file=sys.stderr)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Simulate the journey with the log's arrivals and judge each statistic; exit 0 reproduced, 1 off, 2 bad
    input (the journey, the log, or the command line)."""
    from .checking import LogMismatch, check, check_blocks
    from .eventlog_reader import LogInvalid
    from .validation import load_journey

    if not 0 <= args.tolerance < 10:
        raise _Usage(f"--tolerance must be a relative tolerance between 0 and 10 (0.1 is 10%), got {args.tolerance}")
    stem = os.path.splitext(os.path.basename(args.journey))[0]
    chart = os.path.join(args.output, f"{stem}-qq.png") if args.output else None
    refuse_inputs(input_files(args.journey, args.log), files=[args.json_output, chart])
    if args.output and os.path.exists(args.output) and not os.path.isdir(args.output):
        raise _Usage(f"-o {args.output!r} is a file; give a folder for the Q-Q chart")
    columns = _log_columns(args)
    try:
        journey = load_journey(args.journey)
        result = _progressing(args, lambda progress: check(
            journey, args.log, columns=columns, time_zone=args.time_zone, tolerance=args.tolerance,
            replications=args.replications, seed=args.seed, resamples=args.resamples, workers=args.workers,
            progress=progress))
    except (JourneyInvalid, LogInvalid, LogMismatch) as exc:
        _print_problems(exc.problems)
        print(f"journeymap check: {sum(p.is_error for p in exc.problems)} error(s) in the input; nothing was "
              "checked", file=sys.stderr)
        return EXIT_USAGE
    data = result.as_dict()
    _show_json(args, data, lambda _: check_blocks(result))
    if chart:
        from .rendering.output import write_figure
        from .rendering.qq import qq_chart

        os.makedirs(args.output, exist_ok=True)
        write_figure(chart, qq_chart(data, journey.name))
        print(f"wrote {chart}", file=sys.stderr)
    return EXIT_OK if result.reproduced else EXIT_INVALID


def cmd_replicate(args: argparse.Namespace) -> int:
    from .loading import load_subject
    from .sweep import Scenario, run_sweep

    journey, meeting, account = load_subject(args.file)
    if account is not None:
        raise _Usage("replicate takes a journey file, not an account file")
    executor = "dask" if args.scheduler or args.executor == "dask" else "local"
    result = _progressing(args, lambda progress: run_sweep(
        [Scenario(journey.id, journey)], replications=args.replications, seed=args.seed, cases=args.cases,
        workers=args.workers, executor=executor, scheduler=args.scheduler, store=args.store, progress=progress))
    rows = result.summary(0)
    if args.json:
        print(dumps_json({"journey": journey.id, "scenario_hash": result.hashes[0], "seed": args.seed,
                          "computed": result.computed, "reused": result.reused, "metrics": rows,
                          "replications": [dict(m) for m in result.metrics[0]]}))
        return EXIT_OK
    print(f"{journey.id}: {args.replications} replications, seed {args.seed} "
          f"({result.computed} simulated, {result.reused} from the store)")
    for r in rows:
        ci = f"{r['ci_low']:.4g} .. {r['ci_high']:.4g}" if r["ci_low"] is not None else "-"
        print(f"  {r['metric']:<36} {r['mean']:>12.4g}   95% CI {ci}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .interop import export, plan
    from .loading import load_subject

    where = plan(args.file, args.to, args.output)  # an unknown or contradictory format: exit 2, nothing loaded
    journey, meeting, account = load_subject(args.file)
    inputs = _inputs(args.file, journey, account)
    refuse_inputs(inputs, files=[] if where.is_folder else [where.path],
                  folders=[where.path] if where.is_folder else [])
    written = export(journey, where, diagram=args.diagram, cases=args.cases, replications=args.replications,
                     seed=args.seed, workers=args.workers, meeting=meeting)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def cmd_mine(args: argparse.Namespace) -> int:
    from .eventlog_reader import LogInvalid
    from .mining import MineInvalid, mine_file

    columns = _log_columns(args)
    command = " ".join(["journeymap mine", os.path.basename(args.log)]
                       + ([f"--mapping {os.path.basename(args.mapping)}"] if args.mapping else [])
                       + ([f"--min-support {args.min_support:g}"] if args.min_support != 0.02 else [])
                       + (["--schedule"] if args.schedule else []))
    try:
        result = mine_file(args.log, args.output, columns=columns, mapping_path=args.mapping,
                           time_zone=args.time_zone, min_support=args.min_support, schedule=args.schedule,
                           command=command)
    except (LogInvalid, MineInvalid) as exc:
        _print_problems(exc.problems)
        n = sum(1 for p in exc.problems if p.is_error)
        print(f"journeymap mine: {n} error(s); nothing was written", file=sys.stderr)
        return EXIT_USAGE
    mined = result.journey
    for note in mined.notes:
        print(f"journeymap mine: not modelled: {note}", file=sys.stderr)
    blocks = f", {len(mined.parallel)} parallel block(s)" if mined.parallel else ""
    print(f"mined {len(mined.steps)} steps, {len(mined.departments)} departments, {len(mined.flows)} flows{blocks} "
          f"from {mined.events:,} events of {mined.cases:,} cases", file=sys.stderr)
    if result.warnings:
        print(f"{len(result.warnings)} warning(s) about the journey itself: journeymap validate {args.output} "
              "lists them", file=sys.stderr)
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """A workshop's sheet of steps (CSV or .xlsx) to a journey file, written only if it validates; exit 2 with
    every problem at its row and column otherwise."""
    from .interop.sheet import SheetInvalid, import_sheet
    from .output import write_text

    refuse_inputs([args.sheet], files=[args.output])
    if os.path.isdir(args.output):
        raise _Usage(f"{args.output} is a folder: give the path of the journey file to write")
    try:
        result = import_sheet(args.sheet, args.output, name=args.name, persona=args.persona, sheet=args.sheet_name)
    except SheetInvalid as exc:
        _print_problems(exc.problems)
        print(f"journeymap import: {len(exc.problems)} problem(s) in {args.sheet}; nothing was written",
              file=sys.stderr)
        return EXIT_USAGE
    if result.ignored:
        print(f"journeymap import: columns not used: {', '.join(result.ignored)} (docs/interop.md lists the "
              "columns it reads)", file=sys.stderr)
    _print_problems(result.warnings)
    j = result.journey
    print(f"imported {len(j.steps)} steps, {len(j.departments)} departments, {len(j.stages)} stages, "
          f"{len(j.flows)} flows from {result.rows} rows"
          + (f"; {len(result.warnings)} warning(s)" if result.warnings else ""), file=sys.stderr)
    write_text(args.output, result.text)
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _progressing(args: argparse.Namespace, call: Callable[[Any], Any]) -> Any:
    """``call(progress)`` with the command's progress bar (none with --no-progress), closed whatever happens."""
    progress = _ProgressBar(sys.stderr) if not args.no_progress else None
    try:
        return call(progress)
    finally:
        if progress is not None:
            progress.close()


def _show_json(args: argparse.Namespace, result: Any, blocks: Callable[[Any], list[Any]]) -> None:
    """Print ``result`` (JSON with --json, else its tables), then write it to --json-output when given."""
    from .output import write_json
    from .tables import show

    if args.json:
        print(dumps_json(result))
    else:
        show(blocks(result))
    if args.json_output:
        write_json(args.json_output, result)
        print(f"wrote {args.json_output}", file=sys.stderr)


def _show_and_write(args: argparse.Namespace, result: Any, blocks: Callable[[Any], list[Any]], outputs: list[str],
                    draw: Callable[[str], Any]) -> None:
    """Print ``result`` (JSON with --json, else its tables), then write ``outputs``: the JSON first, each other
    file with ``draw(path)``; say what was written."""
    from .output import write_json
    from .tables import show

    if args.json:
        print(dumps_json(result))
    else:
        show(blocks(result))
    if outputs:
        write_json(outputs[0], result)
        for path in outputs[1:]:
            draw(path)
        for path in outputs:
            print(f"wrote {path}", file=sys.stderr)


def _executor_of(args: argparse.Namespace) -> dict[str, Any]:
    """Where --dask and --scheduler send a book's replications: ``executor`` and ``scheduler`` (docs/portfolio.md)."""
    return {"executor": "dask" if args.scheduler or args.dask else "local", "scheduler": args.scheduler}


def _where(args: argparse.Namespace) -> dict[str, Any]:
    """Where the sweep options send the simulations: ``executor``, ``scheduler`` and ``store`` (docs/sweeps.md)."""
    return {**_executor_of(args), "store": args.store}


# --------------------------------------------------------------------------- parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _simulation_options(p: argparse.ArgumentParser, *, replications: int, workers: bool = True,
                        purpose: str = "") -> None:
    """--cases, --replications, --seed and --workers, the same for every command that simulates."""
    p.add_argument("--cases", type=_positive,
                   help=f"new cases per replication{purpose} (default: the file's workload.cases)")
    p.add_argument("--replications", type=_positive, default=replications,
                   help=f"independent runs{purpose} (default: {replications})")
    p.add_argument("--seed", type=int, default=1, help=f"random seed{purpose} (default: 1)")
    if workers:
        p.add_argument("--workers", type=_positive, default=1,
                       help="parallel processes; results do not depend on it (default: 1)")


def _dask_options(p: argparse.ArgumentParser, what: str) -> None:
    """--dask and --scheduler: run the simulations on a Dask cluster (docs/sweeps.md), the results unchanged."""
    p.add_argument("--dask", action="store_true", help=f"run the {what} on a local Dask cluster (--workers processes)")
    p.add_argument("--scheduler", metavar="ADDRESS", help=f"run the {what} on the Dask cluster at this address "
                   "(e.g. tcp://host:8786; exit 3 if not reached within 10 s); the results are the same as on this "
                   "machine")


def _sweep_options(p: argparse.ArgumentParser, what: str) -> None:
    """--dask, --scheduler and --store: where the many simulations of explore and explain run (docs/sweeps.md)."""
    _dask_options(p, what)
    p.add_argument("--store", metavar="PATH.sqlite", help="keep every replication here; a run that was stopped "
                   "resumes without recomputing (docs/sweeps.md)")


def _log_column_options(p: argparse.ArgumentParser) -> None:
    """The event-log column flags (defaults: PM4Py's names, which journeymap's own logs use)."""
    p.add_argument("--case-column", default="case:concept:name", metavar="NAME", help="default: %(default)s")
    p.add_argument("--activity-column", default="concept:name", metavar="NAME", help="default: %(default)s")
    p.add_argument("--timestamp-column", default="time:timestamp", metavar="NAME",
                   help="the completion timestamp (default: %(default)s)")
    p.add_argument("--start-column", default="start_timestamp", metavar="NAME",
                   help="the start timestamp, optional in the file (default: %(default)s; '' for none)")
    p.add_argument("--resource-column", default="org:resource", metavar="NAME",
                   help="optional in the file (default: %(default)s; '' for none)")
    p.add_argument("--group-column", default="org:group", metavar="NAME",
                   help="the department, optional in the file (default: %(default)s; '' for none)")


def _log_columns(args: argparse.Namespace) -> Any:
    """The :class:`~journeymap.eventlog_reader.LogColumns` the column flags name ('' for an optional column: none)."""
    from .eventlog_reader import LogColumns

    return LogColumns(case=args.case_column, activity=args.activity_column, end=args.timestamp_column,
                      start=args.start_column or None, resource=args.resource_column or None,
                      group=args.group_column or None)


def _positive(text: str) -> int:
    """A whole number of at least 1 (cases, replications, workers): argparse exits 2 otherwise."""
    return _whole(text, 1)


def _non_negative(text: str) -> int:
    return _whole(text, 0)


def _two_or_more(text: str) -> int:
    """A sample size that gives a confidence interval (surveys --min-answers)."""
    return _whole(text, 2)


def _port(text: str) -> int:
    value = _whole(text, 0)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be at most 65535, got {value}")
    return value


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="journeymap", formatter_class=_Formatter,
        description="Model, validate, simulate and draw B2B customer journeys and their internal handoffs.",
        epilog="Example:\n  journeymap validate journeys/*.yaml\n  journeymap run journeys/ -o outputs/")
    parser.add_argument("--version", action="version", version=f"journeymap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable, help: str, example: str) -> argparse.ArgumentParser:
        # argparse %-formats the short help (the command list) but prints the description as written
        p = sub.add_parser(name, help=help.replace("%", "%%"), description=help, formatter_class=_Formatter,
                           epilog=f"Example:\n  {example}")
        p.set_defaults(func=func)
        return p

    p = add("validate", cmd_validate, "Check journey files; print every problem as file:line:column.",
            "journeymap validate journeys/*.yaml")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="journey, account, levers (docs/levers.md) or portfolio (docs/portfolio.md) files, or folders")
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    p.add_argument("--no-lint", action="store_true", help="report errors only, no warnings")

    p = add("analyze", cmd_analyze, "Count touchpoints and handoffs; expected visits and handoffs per case.",
            "journeymap analyze journeys/insurance-before.yaml --json")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON (times in minutes)")

    p = add("schema", cmd_schema, "Print the JSON Schema of journey files (for editors).",
            "journeymap schema > journey.schema.json")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--account", action="store_true", help="the schema of account files instead of journey files")
    kind.add_argument("--levers", action="store_true", help="the schema of levers files instead of journey files")
    kind.add_argument("--portfolio", action="store_true",
                      help="the schema of portfolio files (a book of business, docs/portfolio.md)")

    p = add("run", cmd_run, "The main job: validate, analyze, simulate and render every journey into a folder.",
            "journeymap run journeys/ -o outputs/")
    p.add_argument("files", nargs="*", default=["journeys"], metavar="FILE",
                   help="journey files or folders (default: journeys/)")
    p.add_argument("-o", "--output", default="outputs",
                   help="output folder, apart from the inputs; filled only when the run ends, so an interrupted "
                        "run leaves it as it was (default: outputs/)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    p.add_argument("--quick", action="store_true", help="fewer replications, for a fast look")
    p.add_argument("--workers", type=_positive, default=1,
                   help="parallel processes for each simulation (default: 1); drawing always uses every core, "
                        "while the next journey simulates; results do not depend on either")

    p = add("portfolio", cmd_portfolio,
            "Simulate a year (the horizon) of a book of business: every account's journeys sharing the departments, "
            "by tier priority; results per tier and account, managers' load, the revenue-weighted experience index.",
            "journeymap portfolio journeys/book.yaml -o outputs/ --replications 3 --workers 2\n"
            "  journeymap portfolio journeys/book.yaml --replications 20 --scheduler tcp://scheduler:8786")
    p.add_argument("file", metavar="FILE", help="a portfolio file (docs/portfolio.md)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="write FILE-portfolio.json, FILE-pareto.png (the 80/20 chart) and FILE-tiers.png here")
    p.add_argument("--replications", type=_positive, default=3, help="independent horizons (default: 3)")
    p.add_argument("--seed", type=int, default=1, help="random seed: revenue draws and simulation (default: 1)")
    p.add_argument("--workers", type=_positive, default=1,
                   help="parallel processes; results do not depend on it (default: 1)")
    _dask_options(p, "replications")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (docs/portfolio.md)")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    p = add("simulate", cmd_simulate,
            "Simulate cases flowing through the journey; queueing, handoff waste, bottleneck (times in minutes).",
            "journeymap simulate journeys/acme-cio.yaml --replications 20 --workers 2 --events outputs/acme-events.csv")
    p.add_argument("file", metavar="FILE", help="a journey file, or an account file (the buying group together)")
    _simulation_options(p, replications=10)
    p.add_argument("--warmup", type=_non_negative,
                   help="first cases left out of the statistics (default: the file's workload.warmup)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (documented in docs/simulation.md)")
    p.add_argument("--events", metavar="PATH", help="write the event log of every replication as CSV, or as XES "
                   "when PATH ends in .xes (docs/interop.md)")
    p.add_argument("--around-the-clock", action="store_true",
                   help="ignore the file's calendars and shifts: every department open 24/7, working hours and "
                        "business days counted as clock hours and days (what working time costs, by difference)")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    p = add("replicate", cmd_replicate,
            "Replications of one journey as sweep work units: local processes or a Dask cluster, resumable store.",
            "journeymap replicate journeys/insurance-before.yaml --replications 20 --store outputs/ins.sqlite "
            "--scheduler tcp://scheduler:8786")
    p.add_argument("file", metavar="FILE", help="a journey file")
    _simulation_options(p, replications=10, workers=False)
    p.add_argument("--workers", type=_positive, help="local processes, or LocalCluster workers (default: every core)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local processes (default) or a Dask LocalCluster; results do not depend on it")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://host:8786 (exit 3 if not reached within 10 s)")
    p.add_argument("--store", metavar="PATH.sqlite",
                   help="SQLite file of finished replications: a new run computes only what is missing")
    p.add_argument("--json", action="store_true", help="print the metrics and every replication as JSON")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    p = add("render", cmd_render,
            "Draw a journey: map (a lane per department), service blueprint or handoff network; "
            "shaded by waiting with simulation results.",
            "journeymap render journeys/acme-cio.yaml --view blueprint --format png --simulate\n"
            "  journeymap render journeys/acme-cio.yaml --format dot -o outputs/acme.dot   # no Graphviz needed")
    p.add_argument("file", metavar="FILE", help="a journey file, or an account file (the buying group together)")
    p.add_argument("--view", choices=VIEWS, default=None,
                   help="map: one lane per department; overview: stages by lanes on one screen; "
                        "blueprint: customer/frontstage/backstage/support lanes; "
                        "handoffs: departments and the work they pass; personas: a lane per persona, for "
                        "account files (default: map, personas for an account)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="output format; dot writes the Graphviz source and needs no Graphviz "
                        "(default: the extension of -o, else svg)")
    given = p.add_mutually_exclusive_group()
    given.add_argument("--results", metavar="RESULTS.json", help="shade by these simulation results "
                       "(journeymap simulate FILE --json > RESULTS.json)")
    given.add_argument("--simulate", action="store_true", help="simulate first, then shade by the results")
    _simulation_options(p, replications=10, workers=False, purpose=" for --simulate")
    p.add_argument("--stage", action="append", metavar="STAGE",
                   help="draw only this stage (repeat for several): a readable close-up for a workshop")
    p.add_argument("--watch", action="store_true",
                   help="render again each time the file (or a journey file beside it) is saved, until Ctrl-C")
    p.add_argument("--all", action="store_true",
                   help="write every view and chart as SVG and PNG into a folder (--view and --format do not apply)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="output file or folder (default: outputs/FILE-VIEW.FORMAT, or outputs/FILE/ with --all)")

    p = add("serve", cmd_serve,
            "A live page for a workshop: the folder's journeys drawn and simulated in a browser, updated on every "
            "save (docs/workshop.md).",
            "journeymap serve journeys/   # then open http://127.0.0.1:8000/ on the projector")
    p.add_argument("folder", nargs="?", default="journeys", metavar="DIR",
                   help="the folder of journey files (default: journeys/)")
    p.add_argument("--port", type=_port, default=8000, help="TCP port (default: 8000; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 lets other "
                        "machines in the room connect)")

    p = add("compare", cmd_compare,
            "Compare a before and an after design: change in each metric, its 95% CI and significance, "
            "structural diff, HTML report.",
            "journeymap compare journeys/insurance-before.yaml journeys/insurance-after.yaml "
            "--report outputs/compare.html\n"
            "  journeymap compare journeys/book.yaml journeys/book-more-managers.yaml --replications 5")
    p.add_argument("before", metavar="BEFORE", help="the current design")
    p.add_argument("after", metavar="AFTER", help="the new design (a full journey or an overlay that extends BEFORE)")
    _simulation_options(p, replications=20, purpose=" (paired: both designs share the seed)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON instead of a table")
    p.add_argument("--json-output", metavar="PATH", help="also write the JSON to this file")
    p.add_argument("--report", metavar="PATH.html", help="write the self-contained HTML report here")
    p.add_argument("--uncertain", action="store_true",
                   help="also say how much of the change survives input uncertainty: sample the inputs tagged with "
                        "an estimate (Latin hypercube) and give the change's range across them (docs/uncertainty.md); "
                        "each sample runs --replications per design, so this takes (samples + 1) times as long")
    p.add_argument("--samples", type=_positive, metavar="N",
                   help="input samples with --uncertain (default: 20)")
    _dask_options(p, "replications of two portfolios")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    p = add("explore", cmd_explore,
            "Try each lever of a levers file on its own against today's journey: the paired change of cycle "
            "time, P90, handoff waste, experience and cost, ranked by gain and by gain per cost; a tornado chart.",
            "journeymap explore journeys/insurance-levers.yaml -o outputs/insurance-levers\n"
            "  journeymap explore journeys/insurance-levers.yaml --screen morris --trajectories 10\n"
            "  journeymap explore journeys/insurance-before.yaml journeys/insurance-more-staff.yaml")
    p.add_argument("levers", metavar="LEVERS", help="a levers file (it names its journey), or BEFORE: a journey")
    p.add_argument("after", metavar="AFTER", nargs="?", help="an overlay that extends BEFORE: each of its changes "
                   "is a lever, on (applied) or off (docs/levers.md, 'An overlay as levers')")
    p.add_argument("--together", action="append", metavar="A,B",
                   help="with AFTER: read these changes as one lever (they depend on each other); repeat for "
                        "several groups")
    _simulation_options(p, replications=10, purpose=" per setting (paired: every setting shares the seed)")
    p.add_argument("--points", type=_positive, default=2,
                   help="values tried per lever, from the low to the high end of its range (default: 2)")
    p.add_argument("--metric", default="cycle_time_mean",
                   choices=("cycle_time_mean", "cycle_time_p90", "handoff_waste_mean", "experience_index",
                            "cost_per_case"), help="what the levers are ranked by (default: cycle_time_mean)")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of tables")
    p.add_argument("-o", "--output", metavar="DIR", help="write explore.json, the tornado chart (PNG, SVG) and the "
                   "HTML report explore.html here (with --screen: screening.json and its chart)")
    p.add_argument("--screen", choices=("morris",), help="screen all the levers at once with Morris elementary "
                   "effects (SALib) instead of trying each alone: mu*, mu and sigma per lever (docs/levers.md)")
    p.add_argument("--trajectories", type=_positive, default=10,
                   help="Morris trajectories with --screen; each is (levers + 1) settings (default: 10)")
    _sweep_options(p, "settings")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    p = add("uncertainty", cmd_uncertainty,
            "How sure are the results? Sample the inputs tagged with an estimate (Latin hypercube) and report "
            "simulation noise and input uncertainty apart; with --after, the range of the change across the "
            "plausible inputs.",
            "journeymap uncertainty journeys/insurance-before.yaml --after journeys/insurance-after.yaml "
            "--samples 10 --replications 3")
    p.add_argument("journey", metavar="JOURNEY", help="a journey whose steps or flows carry estimates (the before)")
    p.add_argument("--after", metavar="AFTER", help="the new design: report the change across the plausible inputs")
    p.add_argument("--samples", type=_positive, default=20,
                   help="input samples (Latin hypercube) of the uncertain numbers (default: 20)")
    _simulation_options(p, replications=5, purpose=" per input sample (every sample shares the seed)")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of tables")
    p.add_argument("--json-output", metavar="PATH", help="also write the JSON to this file")
    _sweep_options(p, "input samples")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    p = add("optimise", cmd_optimise,
            "Simulate every combination of the levers' settings (a full factorial), draw the cost-versus-metric "
            "Pareto front, and pick the setting with the best mean metric within a budget, verified with fresh "
            "replications.",
            "journeymap optimise journeys/insurance-levers.yaml --budget-year 60000 --people 1 -o outputs/opt")
    p.add_argument("levers", metavar="LEVERS", help="a levers file (it names its journey), or BEFORE: a journey")
    p.add_argument("after", metavar="AFTER", nargs="?", help="an overlay that extends BEFORE: each of its changes "
                   "is a lever, on (applied) or off (docs/levers.md, 'An overlay as levers')")
    p.add_argument("--together", action="append", metavar="A,B",
                   help="with AFTER: read these changes as one lever (they depend on each other); repeat for "
                        "several groups")
    _simulation_options(p, replications=10, purpose=" per setting (paired: every setting shares the seed)")
    p.add_argument("--budget-once", type=float, metavar="N", help="most one-off cost the setting may have")
    p.add_argument("--budget-month", type=float, metavar="N", help="most monthly cost the setting may have")
    p.add_argument("--budget-year", type=float, metavar="N",
                   help="most first-year cost (one-off + 12 x monthly) the setting may have")
    p.add_argument("--people", type=int, metavar="N", help="most people the staff levers may add, net")
    p.add_argument("--points", type=_positive, default=2,
                   help="values tried per lever, from the low to the high end of its range; at most 256 "
                        "combinations (default: 2)")
    p.add_argument("--metric", default="cycle_time_p90",
                   choices=("cycle_time_mean", "cycle_time_p90", "handoff_waste_mean", "experience_index",
                            "cost_per_case"), help="what the best setting is chosen by (default: cycle_time_p90)")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of tables")
    p.add_argument("-o", "--output", metavar="DIR", help="write optimise.json, the Pareto chart (PNG, SVG) "
                   "and the HTML page optimise.html here")
    p.add_argument("--dask", action="store_true", help="run the settings on a local Dask cluster (--workers processes)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run them on the Dask cluster at this address "
                   "(e.g. tcp://host:8786); the results are the same as on this machine")
    p.add_argument("--store", metavar="PATH.sqlite", help="keep every replication here; a run that was stopped "
                   "resumes without recomputing (docs/sweeps.md)")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    p = add("mine", cmd_mine,
            "Mine a journey from an event log (CSV, or XES with pm4py): steps, owners, routing, fitted durations, "
            "delays, capacity and workload, every estimate tagged observed (docs/data.md).",
            "journeymap mine journeys/data/claims-log.csv --mapping journeys/data/claims-mapping.yaml -o claims.yaml")
    p.add_argument("log", metavar="LOG", help="the event log: CSV with a header row, or .xes / .xes.gz")
    p.add_argument("-o", "--output", required=True, metavar="JOURNEY.yaml",
                   help="the journey file to write (never the log or the mapping); written only if it validates")
    p.add_argument("--mapping", metavar="MAPPING.yaml", help="resources to departments; stages, lanes, channels, "
                   "emotions and the persona (docs/data.md, 'The mapping file')")
    p.add_argument("--min-support", type=float, default=0.02, metavar="SHARE",
                   help="a path taken by less than this share of an activity's occurrences is reported, not "
                        "modelled (default: 0.02)")
    p.add_argument("--schedule", action="store_true",
                   help="write the observed arrival times as a schedule instead of a Poisson rate")
    p.add_argument("--time-zone", metavar="ZONE", help="the IANA time zone of timestamps without an offset "
                   "(default: UTC), e.g. Europe/London")
    _log_column_options(p)

    p = add("import", cmd_import,
            "Turn a workshop's sheet of steps (CSV, or .xlsx with openpyxl) into a journey file: one row per step "
            "with its stage, name, department, duration and next step; written only if it validates "
            "(docs/interop.md).",
            "journeymap import journeys/data/workshop-board.csv -o journeys/workshop.yaml --persona 'IT buyer'")
    p.add_argument("sheet", metavar="SHEET", help="a .csv (UTF-8; ',', ';' or tab separated) or .xlsx file")
    p.add_argument("-o", "--output", required=True, metavar="JOURNEY.yaml",
                   help="the journey file to write (never the sheet); written only if it validates")
    p.add_argument("--name", help="the journey's name (default: from the sheet's file name)")
    p.add_argument("--persona", help="the persona's name (default: Customer); a department cell with this name "
                   "is the customer")
    p.add_argument("--sheet", dest="sheet_name", metavar="NAME",
                   help="the worksheet of an .xlsx file to read (default: the first)")

    p = add("surveys", cmd_surveys,
            "Set each touchpoint's emotion from survey scores (NPS, CSAT, CES): sample size and 95% CI per "
            "touchpoint, too few answers flagged; writes an overlay of the journey (docs/surveys.md).",
            "journeymap surveys journeys/insurance-before.yaml journeys/data/claims-surveys.csv "
            "-o journeys/insurance-surveyed.yaml")
    p.add_argument("journey", metavar="JOURNEY", help="the journey whose touchpoints were surveyed")
    p.add_argument("scores", metavar="SCORES.csv",
                   help="one answer per row: touchpoint (a step id), date (YYYY-MM-DD), score, and optionally scale")
    p.add_argument("-o", "--output", required=True, metavar="OVERLAY.yaml",
                   help="the overlay to write: in the journey's folder or above it (it extends the journey)")
    p.add_argument("--scale", choices=("nps", "csat", "ces"),
                   help="the scale of every answer: nps 0-10, csat 1-5, ces 1-7 (default: the file's scale column)")
    p.add_argument("--min-answers", type=_two_or_more, default=30, metavar="N",
                   help="touchpoints with fewer answers keep their emotion, flagged (default: 30)")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    p.add_argument("--json-output", metavar="PATH", help="also write the JSON to this file")

    p = add("explain", cmd_explain,
            "Which change bought what: split the difference between BEFORE and an overlay AFTER into the "
            "contribution of each of its changes (Shapley values, 95% CIs, a waterfall chart).",
            "journeymap explain journeys/insurance-before.yaml journeys/insurance-more-staff.yaml -o outputs/")
    p.add_argument("before", metavar="BEFORE", help="the current design")
    p.add_argument("after", metavar="AFTER", help="an overlay that extends BEFORE; each of its entries is a change")
    _simulation_options(p, replications=20, purpose=" (every partial design shares the seed)")
    p.add_argument("--metric", default="cycle_time_mean",
                   help="the metric to explain: a key of compare's JSON metrics, e.g. cycle_time_p90, "
                        "handoff_waste_mean, cost_per_case, utilisation:DEPT (default: cycle_time_mean)")
    p.add_argument("--together", action="append", metavar="A,B",
                   help="explain these changes as one (they depend on each other); repeat for several groups")
    p.add_argument("--permutations", type=_positive, default=32,
                   help="random orders of the changes sampled beyond 8 changes (default: 32)")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    p.add_argument("-o", "--output", metavar="DIR", help="write AFTER-explain.json, AFTER-waterfall.png and "
                   "the HTML page AFTER-explain.html here")
    _sweep_options(p, "partial designs")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    p = add("export", cmd_export,
            "Write a journey for other tools: BPMN with its layout, a Prosimos scenario (a folder), Mermaid "
            "diagrams, the simulated event log as XES, or a sheet of steps (CSV) that `journeymap import` reads "
            "back (docs/interop.md).",
            "journeymap export journeys/insurance-before.yaml -o outputs/insurance-before.md")
    p.add_argument("file", metavar="JOURNEY", help="a journey file (an account file: its combined journey)")
    p.add_argument("--to", metavar="FORMAT", help="bpmn, prosimos, mermaid, xes or sheet (default: from the "
                   "extension of -o: .bpmn, .md/.mmd, .xes, .csv)")
    p.add_argument("-o", "--output", metavar="PATH", help="the file (a folder for prosimos; default: "
                   "outputs/JOURNEY.bpmn, .md, .xes, .csv or outputs/JOURNEY-prosimos/)")
    p.add_argument("--diagram", metavar="KIND", help="mermaid only: journey or flowchart; a .mmd file holds one "
                   "diagram (default: flowchart), a .md file both unless told")
    _simulation_options(p, replications=1, purpose=" (xes only: the simulated log)")

    p = add("check", cmd_check,
            "Check a journey against an event log: simulate it with the log's arrivals and compare cycle times, "
            "step durations and waits, handoffs, routing and utilisation; exit 0 when reproduced, 1 when off "
            "beyond tolerance, 2 on bad input (docs/check.md).",
            "journeymap check journeys/insurance-before.yaml outputs/claims-log.csv --json-output outputs/check.json "
            "-o outputs/")
    p.add_argument("journey", metavar="JOURNEY", help="the journey file (the model)")
    p.add_argument("log", metavar="LOG", help="the event log (CSV; the column flags name its columns)")
    _log_column_options(p)
    p.add_argument("--time-zone", metavar="ZONE", help="the IANA time zone of timestamps without an offset "
                   "(default: UTC)")
    p.add_argument("--tolerance", type=float, default=0.10,
                   help="relative tolerance beyond sampling noise, 0.1 = 10%% of the real value (default: 0.1)")
    p.add_argument("--replications", type=_positive, default=5,
                   help="simulated runs of the log's arrivals, pooled (default: 5)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the simulation and the bootstrap (default: 1)")
    p.add_argument("--workers", type=_positive, default=1,
                   help="parallel processes; results do not depend on it (default: 1)")
    p.add_argument("--resamples", type=_positive, default=2000,
                   help="bootstrap resamples for the cycle-time quantiles (default: 2000)")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of tables")
    p.add_argument("--json-output", metavar="PATH", help="also write the JSON (every number of the table) here")
    p.add_argument("-o", "--output", metavar="DIR", help="write the Q-Q chart JOURNEY-qq.png here")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad command line (argparse printed why)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        with _sigterm_as_interrupt():
            return args.func(args)
    except (OutputIsInput, TooLarge, InvalidArgument, _Usage) as exc:
        print(f"journeymap {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except JourneyInvalid as exc:
        _print_problems(exc.problems)
        n = sum(1 for p in exc.problems if p.is_error)
        print(f"journeymap: {n} error(s); fix them and run again (journeymap validate FILE lists them)",
              file=sys.stderr)
        return EXIT_INVALID
    except JourneymapError as exc:
        print(f"journeymap: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt as exc:
        # watchfiles turns any signal into a plain KeyboardInterrupt: the handler noted which one came
        signum = getattr(exc, "signum", None) or (_signals_received[-1] if _signals_received else None)
        terminated = signum == signal.SIGTERM
        print(f"journeymap: {'stopped (SIGTERM)' if terminated else 'interrupted'}; worker processes stopped, "
              "nothing half-written was left behind", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        print(f"journeymap: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except Exception:  # the safety net: a bug, whatever its type, is reported as one
        traceback.print_exc()
        print(f"journeymap {args.command}: internal error: this is a bug in journeymap, not in your files; "
              "please report it with the traceback above and the command you ran", file=sys.stderr)
        return EXIT_INTERNAL


#: The signals :func:`_sigterm_as_interrupt` turned into an interrupt, for when a library swallows the exception.
_signals_received: list[int] = []


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM stops it the way Ctrl-C does.

    Python's default for SIGTERM is to die on the spot: no ``finally``, no clean-up, and the simulation's
    worker processes orphaned. Raising :class:`~journeymap.errors.Interrupted` (a ``KeyboardInterrupt``)
    instead lets the worker pool stop its workers and every temporary file be removed. A second SIGTERM
    during that clean-up is ignored; SIGKILL still ends everything (the workers die with their parent).
    """
    if threading.current_thread() is not threading.main_thread():  # signals go to the main thread only
        yield
        return

    owner = os.getpid()
    _signals_received.clear()

    def stop(signum: int, frame) -> None:
        if os.getpid() != owner:  # a worker forked with this handler, stopped before it could reset it
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _signals_received.append(signum)
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
