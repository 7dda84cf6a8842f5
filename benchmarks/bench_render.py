"""Benchmark: draw a generated 200-step journey, or the bundled journeys format by format.

Issue 4 asks that a 200-step journey render in under 3 s. This script
generates a realistic journey with the generator of ``bench_validate.py``
(stages, ten departments, branches, rework loops, parallel blocks), loads it,
and times, for each Graphviz view,

* build: :func:`journeymap.rendering.dot.journey_dot` (layout + DOT text, pure Python), and
* draw: ``dot -T<format>`` on that source (:func:`journeymap.rendering.output.run_dot`), for each
  format of ``--formats`` (default svg; PNG costs more because the picture of a 200-step map is large),

printing the median of several runs. The budget applies to build + SVG.

Example::

    python benchmarks/bench_render.py                 # 200 steps, 3 runs, SVG
    python benchmarks/bench_render.py --steps 400 --runs 1 --formats svg,png,pdf

``--bundled`` times what the main job draws for each bundled journey (``journeys/*.yaml``): every
view in every format, one ``dot`` call per format, and for comparison one ``dot -Tsvg -Tpng`` call
making both files (which is not what we do: the PNG resolution would scale the SVG too); and each
chart saved in each format. With ``--results DIR`` the views are shaded and the charts drawn from
``DIR/<name>/simulation.json`` (e.g. a folder the main job wrote); ``--pool 2`` also times
``render_all`` on a process pool of that size against the same calls one after the other::

    python benchmarks/bench_render.py --bundled --results /work/baseline --pool 2

``--large`` instead times ``journeymap render FILE -o FILE.svg`` (the command, in a fresh process,
validation included) on a 20,000-step journey, which is above the documented limit
(:data:`journeymap.rendering.output.MAX_RENDER_STEPS`) and must be refused quickly, on the same
journey's handoff network (departments, no limit), and on a journey at the limit, printing seconds and
peak RSS (the process and Graphviz)::

    python benchmarks/bench_render.py --large          # target: each under 30 s and 1 GB
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_validate import generate_journey  # noqa: E402

from journeymap.graph import build_graph  # noqa: E402
from journeymap.rendering.dot import JOURNEY_VIEWS, journey_dot  # noqa: E402
from journeymap.rendering.output import DRAWN_FORMATS, dot_available, run_dot  # noqa: E402
from journeymap.validation import load_journey  # noqa: E402

BUDGET_SECONDS = 3.0


def large() -> int:
    """Time ``journeymap render`` on a 20,000-step journey (map and handoffs) and on one at the limit."""
    from bench_simulation import run_cli

    from journeymap.rendering.output import MAX_RENDER_STEPS

    print(f"limit: {MAX_RENDER_STEPS:,} steps (journeymap.rendering.output.MAX_RENDER_STEPS)")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n, view in ((20_000, "map"), (20_000, "handoffs"), (MAX_RENDER_STEPS - 100, "map")):
            path = os.path.join(tmp, f"large-{n}.yaml")
            if not os.path.exists(path):
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(generate_journey(n, 1))
            out = os.path.join(tmp, f"{n}-{view}.svg")
            seconds, rss, code, last = run_cli("render", path, "--view", view, "-o", out)
            worst = max(worst, seconds)
            print(f"{n:>6,} steps, {view:8s}: {seconds:6.1f} s, peak RSS {rss:6.0f} MB, exit {code}: {last[:100]}")
    print(f"slowest: {worst:.1f} s (target 30 s)")
    return 0


def _timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def _dot_both(source: str, tmp: str) -> float:
    """Seconds for one ``dot -Tsvg -Tpng`` call writing both files (PNG resolution as ``run_dot`` sets it)."""
    import subprocess

    from journeymap.rendering.output import png_dpi

    path = os.path.join(tmp, "both.dot")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(source)
    t = time.perf_counter()
    subprocess.run(["dot", "-Tsvg", "-Tpng", f"-Gdpi={png_dpi(source)}", "-O", path], check=True,
                   capture_output=True)
    return time.perf_counter() - t


def bundled(results_dir: str | None, pool: int) -> int:
    """Time every view of every bundled journey in every format, and each chart (see the module docstring)."""
    import glob
    import json

    import matplotlib.pyplot as plt

    from journeymap.account import is_account_file
    from journeymap.rendering import output, plots

    totals = dict.fromkeys(("build", *DRAWN_FORMATS, "svg+png in one call"), 0.0)
    chart_totals: dict[str, float] = {"draw": 0.0, "svg": 0.0, "png": 0.0, "pdf": 0.0}
    print(f"{'journey':22s} {'view':10s} {'build':>7s} " + " ".join(f"{f:>7s}" for f in DRAWN_FORMATS)
          + f" {'svg+png, 1 call':>16s}")
    makers = {"emotion": lambda j, r: plots.emotion_curve([j]),
              "cycle_time": lambda j, r: plots.cycle_time_chart(r, j),
              "stage_breakdown": lambda j, r: plots.stage_breakdown_chart(r, j),
              "utilisation": lambda j, r: plots.utilisation_chart(r, j)}
    work = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(glob.glob("journeys/*.yaml")):
            if is_account_file(path):
                continue
            name = os.path.splitext(os.path.basename(path))[0]
            journey = load_journey(path)
            results = None
            if results_dir and os.path.exists(os.path.join(results_dir, name, "simulation.json")):
                with open(os.path.join(results_dir, name, "simulation.json"), encoding="utf-8") as fh:
                    results = json.load(fh)
            work.append((journey, results))
            g = build_graph(journey)
            for view in JOURNEY_VIEWS:
                t0 = time.perf_counter()
                src = journey_dot(journey, view, results, g=g)
                times = {"build": time.perf_counter() - t0}
                times |= {fmt: _timed(run_dot, src, fmt) for fmt in DRAWN_FORMATS}
                times["svg+png in one call"] = _dot_both(src, tmp)
                for k, v in times.items():
                    totals[k] += v
                print(f"{name:22s} {view:10s} " + " ".join(f"{v:7.3f}" for v in list(times.values())[:-1])
                      + f" {times['svg+png in one call']:16.3f}")
            for chart, make in makers.items():
                if chart != "emotion" and not results:
                    continue
                t0 = time.perf_counter()
                fig = make(journey, results)
                chart_totals["draw"] += time.perf_counter() - t0
                for fmt in ("svg", "png", "pdf"):
                    out = os.path.join(tmp, f"{chart}.{fmt}")
                    chart_totals[fmt] += _timed(output.write_figure, out, fig, 150, False)
                plt.close(fig)
        print("total, views: " + ", ".join(f"{k} {v:.2f} s" for k, v in totals.items()))
        print("total, charts: " + ", ".join(f"{k} {v:.2f} s" for k, v in chart_totals.items()))
        if pool > 1:
            _pooled(work, tmp, pool)
    return 0


def _pooled(work: list, tmp: str, pool: int) -> None:
    """``render_all`` (SVG and PNG, charts) of every journey: one call after the other, then on a process pool."""
    from concurrent.futures import ProcessPoolExecutor

    from journeymap.rendering import render_all

    t0 = time.perf_counter()
    for k, (journey, results) in enumerate(work):
        render_all(journey, os.path.join(tmp, f"serial{k}"), results=results)
    serial = time.perf_counter() - t0
    with ProcessPoolExecutor(pool) as ex:
        t0 = time.perf_counter()
        for k, (journey, results) in enumerate(work):
            render_all(journey, os.path.join(tmp, f"pooled{k}"), results=results, executor=ex)
        pooled = time.perf_counter() - t0
    print(f"render_all, SVG + PNG + charts, {len(work)} journeys: one after the other {serial:.1f} s, "
          f"on a pool of {pool} processes {pooled:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="svg",
                        help=f"comma-separated formats to time, of {', '.join(DRAWN_FORMATS)} (default: svg)")
    parser.add_argument("--png", action="store_true", help="also time PNG output (same as --formats svg,png)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--large", action="store_true",
                        help="time the command on a 20,000-step journey and one at the step limit instead")
    parser.add_argument("--bundled", action="store_true",
                        help="time every view and chart of the bundled journeys in every format instead")
    parser.add_argument("--results", help="with --bundled: a folder of <name>/simulation.json to shade and chart")
    parser.add_argument("--pool", type=int, default=0, help="with --bundled: also time render_all on this many "
                                                             "worker processes")
    args = parser.parse_args(argv)
    if not dot_available():
        print("Graphviz 'dot' is not installed: apt-get install graphviz", file=sys.stderr)
        return 3
    if args.large:
        return large()
    if args.bundled:
        return bundled(args.results, args.pool)
    formats = [f for f in args.formats.split(",") if f] + (["png"] if args.png else [])
    formats = list(dict.fromkeys(["svg", *formats]))  # SVG always: the budget is about it
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(generate_journey(args.steps, args.seed))
        journey = load_journey(path)
    g = build_graph(journey)
    handoff_count = sum(1 for *_, d in g.edges(data=True) if d["handoff"])
    print(f"journey: {len(journey.steps)} steps, {g.number_of_edges()} flows, {handoff_count} handoffs, "
          f"{len(journey.departments)} departments, {len(journey.stages)} stages")
    worst = 0.0
    for view in JOURNEY_VIEWS:
        builds: list[float] = []
        draws: dict[str, list[float]] = {fmt: [] for fmt in formats}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            src = journey_dot(journey, view, g=g)
            builds.append(time.perf_counter() - t0)
            for fmt in formats:
                draws[fmt].append(_timed(run_dot, src, fmt))
        b, d = statistics.median(builds), statistics.median(draws["svg"])
        worst = max(worst, b + d)
        line = f"{view:10s} build {b:6.3f} s + dot -Tsvg {d:6.3f} s = {b + d:6.3f} s"
        others = [f"{fmt.upper()} {statistics.median(draws[fmt]):.3f} s" for fmt in formats if fmt != "svg"]
        if others:
            line += f"   ({', '.join(others)})"
        print(line)
    verdict = "OK" if worst < BUDGET_SECONDS else "TOO SLOW"
    print(f"slowest view: {worst:.3f} s (budget {BUDGET_SECONDS:.0f} s): {verdict}")
    return 0 if worst < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
