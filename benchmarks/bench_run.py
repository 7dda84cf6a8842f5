"""Benchmark: the main job, ``journeymap run journeys/ -o outputs/``, and where its time goes.

Issue 11 asks that the main job on the bundled journeys take under 25 s (it took 62 s on a 2-core
machine: 55% Graphviz, mostly PNG rasterisation; 18% matplotlib; 8 of its 14 s of simulation were the
comparisons simulating again what the job had simulated). This script prints

1. the wall time of the job as users run it (a fresh process; drawing on every core), and with
   drawing in the main process only (``draw_workers=1``), the median of ``--runs`` runs each;
2. its phases, each timed alone in this process, one core: validation and analysis, the simulations
   (each run once: the comparisons reuse them), the comparisons, Graphviz per format (what the job
   draws, and for information the PNGs it no longer draws), the charts per format, and the reports.

Example::

    python benchmarks/bench_run.py              # 1 run of each, then the phases
    python benchmarks/bench_run.py --runs 3 --no-phases
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journeymap.tables import table  # noqa: E402

TARGET_SECONDS = 25.0


def time_job(journeys: str, draw_workers: int | None) -> tuple[float, float]:
    """Wall and CPU seconds (all its processes, Graphviz included) for the main job in a fresh process,
    imports included, as a user runs it. CPU seconds say what a busy machine hides."""
    import resource

    with tempfile.TemporaryDirectory(prefix="journeymap-bench-") as tmp:
        if draw_workers is None:
            argv = [sys.executable, "-m", "journeymap", "run", journeys, "-o", tmp]
        else:
            argv = [sys.executable, "-c", "import sys; from journeymap.cli import _expand; "
                    "from journeymap.pipeline import run_all; "
                    f"sys.exit(run_all(_expand([{journeys!r}]), {tmp!r}, draw_workers={draw_workers}, "
                    "log=lambda m: None))"]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        took = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"the main job failed (exit {proc.returncode})")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


class Phases:
    """Seconds per phase, summed over every call timed under that name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def time(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


def phases(journeys: str) -> Phases:
    """Time the main job's work phase by phase, in this process (one core)."""
    import matplotlib.pyplot as plt

    from journeymap.account import check_account, is_account_file
    from journeymap.analysis import analyze
    from journeymap.comparison import compare_results
    from journeymap.graph import build_graph
    from journeymap.levers import is_levers_file
    from journeymap.pipeline import (
        DRAWN_FORMATS,
        PORTFOLIO_REPLICATIONS,
        REPLICATIONS,
        _draw_portfolio,
        book_pairs,
        comparison_pairs,
    )
    from journeymap.portfolio import is_portfolio_file, load_portfolio
    from journeymap.portfolio_compare import compare_books
    from journeymap.portfolio_report_html import book_report_html
    from journeymap.rendering import journey_dot, plots, run_dot
    from journeymap.report import build_report
    from journeymap.simulation import simulate
    from journeymap.simulation.account import combined_journey
    from journeymap.simulation.portfolio import simulate_portfolio
    from journeymap.validation import check_file

    p = Phases()
    files = sorted(glob.glob(os.path.join(journeys, "*.yaml")))
    loaded, results, books = {}, {}, {}
    for f in files:
        if is_levers_file(f):
            continue
        if is_portfolio_file(f):
            book = p.time("portfolios: validate", load_portfolio, f)
            run = p.time("portfolios: simulate a year", simulate_portfolio, book, replications=PORTFOLIO_REPLICATIONS)
            books[f] = (book, run)
            with tempfile.TemporaryDirectory() as tmp:
                p.time("portfolios: charts", _draw_portfolio, run[0],
                       [os.path.join(tmp, x) for x in ("portfolio.json", "pareto.png", "tiers.png")])
            continue
        if is_account_file(f):
            account = p.time("validate + analyze", check_account, f).account
            combined, meeting = combined_journey(account)
            r = p.time("simulate", simulate, combined, replications=REPLICATIONS, meeting=meeting)
            for view in ("overview", "personas"):
                _draw(p, combined, view, DRAWN_FORMATS, journey_dot, run_dot, r.summary)
            fig = p.time("charts: draw", plots.emotion_curve, [persona.journey for persona in account.personas])
            with tempfile.TemporaryDirectory() as tmp:
                p.time("charts: save PNG", fig.savefig, os.path.join(tmp, "emotions.png"), format="png", dpi=150,
                       bbox_inches="tight")
            plt.close(fig)
            continue
        journey = p.time("validate + analyze", check_file, f).journey
        p.time("validate + analyze", analyze, build_graph(journey))
        loaded[f] = journey
        results[f] = p.time("simulate", simulate, journey, replications=REPLICATIONS)
        for view in ("map", "overview", "blueprint", "handoffs"):
            _draw(p, journey, view, DRAWN_FORMATS, journey_dot, run_dot, results[f].summary)
        charts = {"emotion": lambda j=journey: plots.emotion_curve([j]),
                  "cycle_time": lambda j=journey, r=results[f]: plots.cycle_time_chart(r.summary, j),
                  "stage_breakdown": lambda j=journey, r=results[f]: plots.stage_breakdown_chart(r.summary, j),
                  "utilisation": lambda j=journey, r=results[f]: plots.utilisation_chart(r.summary, j)}
        with tempfile.TemporaryDirectory() as tmp:
            for name, make in charts.items():
                fig = p.time("charts: draw", make)
                for fmt in DRAWN_FORMATS[name]:
                    p.time(f"charts: save {fmt.upper()}", fig.savefig, os.path.join(tmp, f"{name}.{fmt}"),
                           format=fmt, dpi=150, bbox_inches="tight")
                plt.close(fig)
    for _, before, after in comparison_pairs(loaded):
        c = p.time("comparisons (reusing the simulations)", compare_results, loaded[before], loaded[after],
                   results[before], results[after])
        p.time("reports (HTML, its maps and charts)", build_report, c, loaded[before], loaded[after])
    for _, before, after in book_pairs(list(books)):
        c = p.time("book comparisons (reusing the runs)", compare_books, books[before][0], books[after][0],
                   replications=PORTFOLIO_REPLICATIONS, runs=[books[before][1], books[after][1]])
        p.time("reports (HTML, its maps and charts)", book_report_html, c)
    return p


def _draw(p: Phases, journey: Any, view: str, formats: dict[str, tuple[str, ...]], journey_dot: Callable,
          run_dot: Callable, summary: Any) -> None:
    source = p.time("Graphviz: DOT text", journey_dot, journey, view, summary)
    for fmt in ("svg", "png"):
        if fmt in formats[view]:
            p.time(f"Graphviz: {fmt.upper()}", run_dot, source, fmt)
        else:
            p.time(f"(Graphviz: {fmt.upper()} no longer drawn)", run_dot, source, fmt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", default="journeys", help="journeys folder (default: journeys)")
    parser.add_argument("--runs", type=int, default=1, help="runs of the whole job to take the median of")
    parser.add_argument("--no-phases", action="store_true", help="time the whole job only")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"journeymap run {args.journeys}/ on {cores} core(s), median of {args.runs} run(s)")
    rows = []
    for label, draw_workers in (("drawing on every core (as users run it)", None),
                                ("drawing in the main process (draw_workers=1)", 1)):
        runs = [time_job(args.journeys, draw_workers) for _ in range(args.runs)]
        rows.append([label, round(statistics.median(w for w, _ in runs), 1),
                     round(statistics.median(c for _, c in runs), 1)])
    print(table(["main job", "wall s", "CPU s"], rows))
    every = rows[0][1]
    print(f"target: under {TARGET_SECONDS:.0f} s: {'met' if every < TARGET_SECONDS else 'NOT MET'}"
          f" (load average {os.getloadavg()[0]:.1f} at the end: other work on the machine slows every figure)")
    if not args.no_phases:
        p = phases(args.journeys)
        done = sum(s for name, s in p.seconds.items() if not name.startswith("("))
        rows = [[name, round(s, 2), f"{s / done:.0%}" if not name.startswith("(") else ""]
                for name, s in sorted(p.seconds.items(), key=lambda kv: (kv[0].startswith("("), -kv[1]))]
        print()
        print(table(["phase (one core, timed alone)", "seconds", "share"], rows + [["total", round(done, 1), ""]],
                    "lrr"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
