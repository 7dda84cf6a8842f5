"""The main job: everything journeymap can say about a set of journeys, written into one folder.

``journeymap run journeys/ -o outputs/`` does, for every journey file:

1. validate it (every problem printed; a file with errors is skipped, the
   others go on, and the exit code is 1);
2. analyse it: ``<name>/analysis.json`` and ``analysis.txt``;
3. simulate it with a fixed seed: ``<name>/simulation.json`` and ``simulation.txt``;
4. render the overview, map, blueprint and handoff network shaded by the
   simulation, and its charts (formats: :data:`DRAWN_FORMATS`);

then, across files:

5. for every account file: the buying group simulated together
   (``<name>/account.{json,txt}``), the map with a lane per persona, and the
   personas' emotion curves on one chart (``<account id>-emotions.png``);
6. a before/after comparison for every overlay (a file with ``extends:``)
   against its base, and for every ``NAME-after.yaml`` against
   ``NAME-before.yaml``: ``NAME-compare.html`` and ``NAME-compare.json``;
7. two books compared for every portfolio ``BOOK-NAME.yaml`` beside a portfolio ``BOOK.yaml``
   (:func:`book_pairs`): ``BOOK-NAME-compare.json``, ``BOOK-NAME-compare.txt`` and ``BOOK-NAME-compare.html``.

Every file is written atomically, and the whole set is built in a hidden staging folder and moved
into the output folder at the end, so an interrupted run leaves the output folder as it was (see
:func:`journeymap.output.staged_folder`). A file that fails is reported, its folder gets an
``INCOMPLETE`` file saying why, and the other files go on. The output folder may not hold any input.

Drawing is most of the work: it runs in worker processes, one per core (:class:`journeymap.workers.Jobs`),
while this process simulates the next journey; outcomes are reported in file order whatever finishes
first. A simulation is run once: the comparisons reuse the journeys' results when they were simulated
with the same seed and replications (identical results, since a run is a function of them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from .analysis import analyze
from .distributions import DAY
from .errors import EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK, DotNotFound, JourneymapError
from .graph import build_graph
from .model import Journey
from .output import input_files, mark_incomplete, refuse_inputs, staged_folder, write_json, write_text
from .problems import Problem, format_problem
from .tables import analysis_text
from .validation import check_file
from .workers import Jobs, available_cores

__all__ = ["run_all", "comparison_pairs", "DRAWN_FORMATS"]

#: Replications per journey in the main job (``--quick``: fewer).
REPLICATIONS = 10
QUICK_REPLICATIONS = 3
#: The most replications the main job runs of a portfolio (a year of a whole book each: about a second for
#: the bundled 400 accounts); ``journeymap portfolio --replications`` runs more.
PORTFOLIO_REPLICATIONS = 3
#: The fewest replications a comparison runs (its confidence intervals need them, even with ``--quick``).
COMPARISON_REPLICATIONS = 10

#: The formats the main job writes each view and chart in: a PNG only where a PNG is what people use.
#: Maps are read in a browser, where an SVG stays sharp at any zoom and its text can be searched (a PNG
#: of a 40-step map is also most of the job's time); the overview and the handoff network are the
#: pictures for a slide, and so are the charts: slide tools paste PNG. The README's outputs table says so.
DRAWN_FORMATS: dict[str, tuple[str, ...]] = {
    "map": ("svg",),
    "blueprint": ("svg",),
    "personas": ("svg",),
    "overview": ("svg", "png"),
    "handoffs": ("svg", "png"),
    "emotion": ("svg", "png"),
    "cycle_time": ("svg", "png"),
    "stage_breakdown": ("svg", "png"),
    "utilisation": ("svg", "png"),
}


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


def _book_case_line(result: dict[str, Any]) -> str:
    """The main job's line for two books: revenue protected and staff cost saved a year, central figures."""
    from .money import format_amount

    bc, cur = result["business_case"], result["currency"]
    if not bc:
        return "compared (no money: block, so no business case)"
    parts = []
    if bc["revenue_protected_per_year"] is not None:
        parts.append(f"revenue protected {format_amount(bc['revenue_protected_per_year']['mean'], cur)} a year")
    if bc["cost_saved_per_year"] is not None:
        saved = bc["cost_saved_per_year"]["mean"]
        parts.append(f"staff cost {'saved' if saved >= 0 else 'added'} {format_amount(abs(saved), cur)} a year")
    return ", ".join(parts)


def _horizon_text(minutes: float) -> str:
    """A book's horizon as the main job's line says it: "a year", "2 years", "90 days"."""
    from .distributions import YEAR

    years = minutes / YEAR
    if abs(years - round(years)) < 1e-9 and round(years) >= 1:
        return "a year" if round(years) == 1 else f"{round(years)} years"
    days = minutes / 1440
    return f"{days:g} day{'' if days == 1 else 's'}"


def book_pairs(portfolios: Sequence[str]) -> list[tuple[str, str, str]]:
    """(name, before file, after file) for every portfolio ``BOOK-NAME.yaml`` beside a portfolio ``BOOK.yaml``
    (the longest such BOOK): the after design of a book is named after it, as ``book-more-managers.yaml``."""
    by_norm = {os.path.normpath(f): f for f in portfolios}
    pairs = []
    for f in portfolios:
        stem, ext = _name(f), os.path.splitext(f)[1]
        cuts = [k for k in range(len(stem) - 1, 0, -1) if stem[k] == "-"]
        for k in cuts:
            before = os.path.normpath(os.path.join(os.path.dirname(f), stem[:k] + ext))
            if before in by_norm:
                pairs.append((stem, by_norm[before], f))
                break
    return pairs


def run_all(files: Sequence[str], out_dir: str, *, seed: int = 1, quick: bool = False, workers: int = 1,
            draw_workers: int | None = None, log: Callable[[str], None] = print) -> int:
    """Run the main job; returns the exit code.

    Refuses (:class:`~journeymap.errors.OutputIsInput`) an output folder that holds any input, before
    anything runs. Results are built in a staging folder and moved into ``out_dir`` at the end
    (:func:`~journeymap.output.staged_folder`): an interrupted run leaves ``out_dir`` as it was.
    A journey that fails (invalid, or Graphviz cannot draw it) is reported and the others go on; its
    folder holds an ``INCOMPLETE`` file saying why, so stale results of an earlier run never pass for
    this run's. Exit code: 1 when any file has errors, else 3 when anything else failed (no Graphviz,
    a drawing or a simulation that failed), else 0.

    ``workers``: processes for each simulation's replications. ``draw_workers``: processes that draw
    (default: one per available core; 1 draws in this process). Neither changes any result.
    """
    out_dir = os.path.normpath(out_dir)
    refuse_inputs(input_files(*files), folders=[out_dir])
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NotADirectoryError(f"the output {out_dir!r} is a file, not a folder")
    with staged_folder(out_dir) as stage, Jobs(available_cores() if draw_workers is None else draw_workers) as jobs:
        job = _MainJob(stage, out_dir, seed=seed, replications=QUICK_REPLICATIONS if quick else REPLICATIONS,
                       workers=workers, log=log, jobs=jobs)
        job.run(files)
        jobs.wait_all()
    tally = job.tally
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


# --------------------------------------------------------------------------- drawing jobs (run in worker processes)


def _draw_journey(journey: Journey, folder: str, summary: dict[str, Any]) -> bool:
    """Every view and chart of one journey; whether Graphviz's dot was missing."""
    from . import rendering  # looked up when called: tests replace render_all

    try:
        rendering.render_all(journey, folder, results=summary, formats=(), chart_formats=(), formats_for=DRAWN_FORMATS)
    except DotNotFound:
        return True
    return False


def _draw_portfolio(summary: dict[str, Any], files: list[str]) -> bool:
    """A portfolio's charts (the 80/20 chart and the tiers); no Graphviz needed."""
    from .portfolio_report import pareto_chart, tier_chart
    from .rendering.output import write_figure

    write_figure(files[1], pareto_chart(summary))
    write_figure(files[2], tier_chart(summary))
    return False


def _draw_account(combined: Journey, folder: str, summary: dict[str, Any], personas: list[Journey],
                  chart: str) -> bool:
    """An account's overview (one row per persona, with its gates: the view a room can read) and personas
    map, and its personas' emotion curves on one chart; whether Graphviz's dot was missing."""
    from .rendering import emotion_chart, render_view

    missing_dot = False
    try:
        for view in ("overview", "personas"):
            for fmt in DRAWN_FORMATS[view]:
                render_view(combined, os.path.join(folder, f"{view}.{fmt}"), view, summary, fmt)
    except DotNotFound:
        missing_dot = True
    emotion_chart(personas, chart)
    return missing_dot


def _write_report(path: str, comparison: dict[str, Any], before: Journey, after: Journey) -> None:
    from .report import build_report

    write_text(path, build_report(comparison, before, after))


def _warm_up() -> None:
    """Import what drawing needs before the workers fork, so each starts with it (matplotlib: ~0.5 s)."""
    from . import report  # noqa: F401
    from .rendering import plots  # noqa: F401


# --------------------------------------------------------------------------- the job


@dataclass
class _MainJob:
    """The main job's work, written into ``stage``; messages name the final folder ``out_dir``."""

    stage: str
    out_dir: str
    seed: int
    replications: int
    workers: int
    log: Callable[[str], None]
    jobs: Jobs
    tally: _Tally = field(default_factory=_Tally)
    #: the valid journeys, by file
    journeys: dict[str, Journey] = field(default_factory=dict)
    #: simulation results by (file, replications): each simulation runs once
    simulations: dict[tuple[str, int], Any] = field(default_factory=dict)
    #: the valid portfolios, by file
    books: dict[str, Any] = field(default_factory=dict)
    #: each portfolio file's run (summary, book, result), for the book comparisons to reuse
    book_runs: dict[str, Any] = field(default_factory=dict)

    def run(self, files: Sequence[str]) -> None:
        from .account import is_account_file
        from .levers import is_levers_file
        from .portfolio import is_portfolio_file

        levers = [f for f in files if is_levers_file(f)]
        for f in levers:
            self.levers(f)
        portfolios = [f for f in files if is_portfolio_file(f)]
        for f in portfolios:
            self.portfolio(f)
        for name, before_file, after_file in book_pairs([f for f in portfolios if f in self.books]):
            self.book_comparison(name, before_file, after_file)
        files = [f for f in files if f not in levers and f not in portfolios]
        if self.jobs.workers > 1:
            _warm_up()
        accounts = [f for f in files if is_account_file(f)]
        for f in files:
            if f not in accounts:
                self.journey(f)
        for f in accounts:
            self.account(f)
        for name, before_file, after_file in comparison_pairs(self.journeys):
            self.comparison(name, before_file, after_file)

    # ----------------------------------------------------------------------- reporting

    def show(self, problems: Sequence[Problem]) -> None:
        """Errors in full; warnings counted, so the job's log stays readable."""
        for p in problems:
            if p.is_error:
                self.log(format_problem(p))
        warnings = [p for p in problems if not p.is_error]
        if warnings:
            files = sorted({p.file for p in warnings})
            self.log(f"{', '.join(files)}: {len(warnings)} warning(s); "
                     f"see them with: journeymap validate {' '.join(files)}")

    def skipped(self, f: str, why: str) -> None:
        """Mark the file's folder, so the previous run's results for it are replaced by this note."""
        mark_incomplete(os.path.join(self.stage, _name(f)), f"{f}: {why}")

    def invalid(self, f: str, why: str) -> None:
        self.tally.invalid += 1
        self.skipped(f, why)

    def unchecked(self, f: str, exc: Exception) -> None:
        """A checker bug must not stop the other files."""
        self.log(f"{f}: could not be checked: {_failure(exc)}")
        self.invalid(f, "could not be checked")

    def failed(self, f: str, exc: BaseException) -> None:
        self.tally.failed += 1
        self.log(f"{f}: failed: {_failure(exc)}; the other journeys go on")
        self.skipped(f, f"failed: {_failure(exc)}\n"
                        "The other files in this folder are what was written before it failed.")

    def drawn(self, f: str, future: Future, summary_line: Callable[[], str]) -> None:
        """A drawing job's outcome: the file's summary line, or its failure."""
        try:
            missing_dot = future.result()
        except Exception as exc:
            self.failed(f, exc)
            return
        if missing_dot:
            self.tally.missing_dot = True
            self.log(f"journeymap: {DotNotFound()}")
        self.log(summary_line())

    # ----------------------------------------------------------------------- simulations, each run once

    def simulated(self, f: str, journey: Journey, replications: int, meeting: Any = None) -> Any:
        """The simulation of ``journey`` (file ``f``) with the job's seed: run once, then reused."""
        from .simulation import simulate

        key = (f, replications)
        if key not in self.simulations:
            self.simulations[key] = simulate(journey, replications=replications, seed=self.seed,
                                             workers=self.workers, meeting=meeting)
        return self.simulations[key]

    # ----------------------------------------------------------------------- the three kinds of work

    def journey(self, f: str) -> None:
        from .simulation import summary_text

        try:
            checked = check_file(f)
        except Exception as exc:
            self.unchecked(f, exc)
            return
        self.show(checked.problems)
        if checked.journey is None:
            self.invalid(f, f"not run: the file has errors; see them with: journeymap validate {f}")
            return
        journey = self.journeys[f] = checked.journey
        folder = os.path.join(self.stage, _name(f))
        try:
            report = analyze(build_graph(journey))
            write_json(os.path.join(folder, "analysis.json"), report)
            write_text(os.path.join(folder, "analysis.txt"), analysis_text(report) + "\n")
            summary = self.simulated(f, journey, self.replications).summary
            write_json(os.path.join(folder, "simulation.json"), summary)
            write_text(os.path.join(folder, "simulation.txt"), summary_text(summary) + "\n")
        except Exception as exc:
            self.failed(f, exc)
            return
        shown = os.path.join(self.out_dir, _name(f))
        self.jobs.submit(lambda fut: self.drawn(f, fut, lambda: _journey_line(f, report, summary, shown)),
                         _draw_journey, journey, folder, summary)

    def levers(self, f: str) -> None:
        """A levers file (docs/levers.md) is checked, not run: it is no journey, and needs no folder."""
        from .levers import check_levers

        checked = check_levers(f)
        self.show([p for p in checked.problems if p.file == f])
        if checked.levers is None:
            self.tally.invalid += 1
            self.log(f"{f}: levers file with errors; see them with: journeymap validate {f}")

    def portfolio(self, f: str) -> None:
        """A portfolio file (docs/portfolio.md): checked, then a year (its horizon) of the book simulated with
        :data:`PORTFOLIO_REPLICATIONS` replications at most, and its report written (as ``journeymap portfolio``
        writes it, with plain file names in the file's folder)."""
        from .portfolio import check_portfolio

        checked = check_portfolio(f)
        self.show([p for p in checked.problems if p.file == f])
        if checked.portfolio is None:
            self.tally.invalid += 1
            self.log(f"{f}: portfolio file with errors; see them with: journeymap validate {f}")
            return
        portfolio = checked.portfolio
        self.books[f] = portfolio
        folder = os.path.join(self.stage, _name(f))
        files = [os.path.join(folder, x) for x in ("portfolio.json", "pareto.png", "tiers.png")]
        try:
            from .output import write_json, write_text
            from .portfolio_report import portfolio_blocks
            from .simulation.portfolio import simulate_portfolio
            from .tables import plain

            run = simulate_portfolio(portfolio, replications=min(self.replications, PORTFOLIO_REPLICATIONS),
                                     seed=self.seed, workers=self.workers)
            self.book_runs[f] = run
            summary = run[0]
            write_json(files[0], summary)
            write_text(os.path.join(folder, "portfolio.txt"), plain(portfolio_blocks(summary)) + "\n")
        except Exception as exc:
            self.failed(f, exc)
            return

        def line() -> str:
            book = summary["book"]
            return (f"{f}: {book['accounts']:,} accounts, {summary['cases']:,} cases over "
                    f"{summary['replications']} run(s) of {_horizon_text(summary['horizon_minutes'])}, "
                    f"revenue-weighted experience index "
                    f"{'n/a' if book['experience'] is None else format(book['experience'], '.1f')} -> "
                    f"{os.path.join(self.out_dir, _name(f))}/")

        self.jobs.submit(lambda fut: self.drawn(f, fut, line), _draw_portfolio, summary, files)

    def book_comparison(self, name: str, before_file: str, after_file: str) -> None:
        """Two books compared as ``journeymap compare`` does (docs/portfolio.md, "Comparing two books"), with
        the portfolios' replications of the main job (2 at least, for an interval): ``NAME-compare.json``,
        ``NAME-compare.txt`` and the business case's page ``NAME-compare.html``."""
        from .portfolio_compare import compare_books, compare_books_blocks
        from .portfolio_report_html import book_report_html
        from .tables import plain

        replications = max(2, min(self.replications, PORTFOLIO_REPLICATIONS))
        # the books' own runs, when they were made with these replications (the same seed): not simulated again
        runs = [self.book_runs.get(f) for f in (before_file, after_file)]
        reuse = all(r is not None and len(r[2].replications) == replications for r in runs)
        try:
            result = compare_books(self.books[before_file], self.books[after_file], seed=self.seed,
                                   replications=replications, workers=self.workers, runs=runs if reuse else None)
            write_json(os.path.join(self.stage, f"{name}-compare.json"), result)
            write_text(os.path.join(self.stage, f"{name}-compare.txt"), plain(compare_books_blocks(result)) + "\n")
            # the page is text built from the JSON (no chart to draw): cheap enough to write here
            write_text(os.path.join(self.stage, f"{name}-compare.html"), book_report_html(result))
        except Exception as exc:
            self.compared(before_file, after_file, exc)
            return
        self.log(f"{before_file} -> {after_file}: {_book_case_line(result)} -> {self.out_dir}/{name}-compare.txt, "
                 f"{self.out_dir}/{name}-compare.html")

    def account(self, f: str) -> None:
        from .account import check_account
        from .simulation.account import combined_journey, summarize_account
        from .simulation.text import account_summary_text

        try:
            checked = check_account(f)
        except Exception as exc:
            self.unchecked(f, exc)
            return
        self.show([p for p in checked.problems if p.file == f])  # the personas' journeys were reported above
        account = checked.account
        if account is None:
            self.invalid(f, f"not run: the file has errors; see them with: journeymap validate {f}")
            return
        folder = os.path.join(self.stage, _name(f))
        try:
            combined, meeting = combined_journey(account)
            result = self.simulated(f, combined, self.replications, meeting)
            summary = summarize_account(account, combined, result)
            write_json(os.path.join(folder, "account.json"), summary)
            write_text(os.path.join(folder, "account.txt"), account_summary_text(summary) + "\n")
        except Exception as exc:
            self.failed(f, exc)
            return
        chart = f"{account.id}-emotions.png"

        def line() -> str:
            return (f"{f}: {len(account.personas)} personas, deal cycle time mean "
                    f"{summary['cycle_time']['mean'] / DAY:.1f}d, experience index "
                    f"{summary['experience']['overall']:.0f} -> {os.path.join(self.out_dir, _name(f))}/, "
                    f"{os.path.join(self.out_dir, chart)}")

        self.jobs.submit(lambda fut: self.drawn(f, fut, line), _draw_account, combined, folder, result.summary,
                         [p.journey for p in account.personas], os.path.join(self.stage, chart))

    def comparison(self, name: str, before_file: str, after_file: str) -> None:
        from .comparison import compare_results

        before, after = self.journeys[before_file], self.journeys[after_file]
        replications = max(self.replications, COMPARISON_REPLICATIONS)
        try:
            result = compare_results(before, after, self.simulated(before_file, before, replications),
                                     self.simulated(after_file, after, replications))
            write_json(os.path.join(self.stage, f"{name}-compare.json"), result)
        except Exception as exc:
            self.compared(before_file, after_file, exc)
            return

        def reported(future: Future) -> None:
            try:
                future.result()
            except Exception as exc:
                self.compared(before_file, after_file, exc)
                return
            self.log(f"{before_file} -> {after_file}: {result['headline']} -> {self.out_dir}/{name}-compare.html")

        self.jobs.submit(reported, _write_report, os.path.join(self.stage, f"{name}-compare.html"), result,
                         before, after)

    def compared(self, before_file: str, after_file: str, exc: Exception) -> None:
        self.tally.failed += 1
        self.log(f"{before_file} -> {after_file}: comparison failed: {_failure(exc)}; the others go on")


def _journey_line(f: str, report: dict[str, Any], summary: dict[str, Any], shown: str) -> str:
    """The log's line for a journey done: its size, cycle time, steady state and bottleneck."""
    cycle, b = summary["case"]["cycle_time"], summary["bottleneck"]
    return (f"{f}: {report['touchpoints']} touchpoints, {report['handoffs']} handoffs, "
            f"cycle time mean {cycle['mean'] / DAY:.1f}d (P90 {cycle['p90'] / DAY:.1f}d)"
            + ("" if summary["stability"]["steady"] else " NOT A STEADY STATE (see simulation.txt)")
            + f", bottleneck {b['department']} ({b['department_share']:.0%} department share of waiting) -> {shown}/")
