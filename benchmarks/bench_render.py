"""Benchmark: draw a generated 200-step journey.

Issue 4 asks that a 200-step journey render in under 3 s. This script
generates a realistic journey with the generator of ``bench_validate.py``
(stages, ten departments, branches, rework loops, parallel blocks), loads it,
and times, for each Graphviz view,

* build: :func:`journeymap.rendering.dot.journey_dot` (layout + DOT text, pure Python), and
* draw: ``dot -Tsvg`` on that source (:func:`journeymap.rendering.output.run_dot`),

printing the median of several runs. PNG is timed too, for information: it
costs more because the picture of a 200-step map is large.

Example::

    python benchmarks/bench_render.py                 # 200 steps, 3 runs
    python benchmarks/bench_render.py --steps 400 --runs 1 --png

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
from journeymap.rendering.output import dot_available, run_dot  # noqa: E402
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
            seconds, rss, code, last = run_cli("render", path, "--view", view, "-o", os.path.join(tmp, f"{n}-{view}.svg"))
            worst = max(worst, seconds)
            print(f"{n:>6,} steps, {view:8s}: {seconds:6.1f} s, peak RSS {rss:6.0f} MB, exit {code}: {last[:100]}")
    print(f"slowest: {worst:.1f} s (target 30 s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--png", action="store_true", help="also time PNG output")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--large", action="store_true",
                        help="time the command on a 20,000-step journey and one at the step limit instead")
    args = parser.parse_args(argv)
    if not dot_available():
        print("Graphviz 'dot' is not installed: apt-get install graphviz", file=sys.stderr)
        return 3
    if args.large:
        return large()
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
        builds, draws, pngs = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            src = journey_dot(journey, view, g=g)
            t1 = time.perf_counter()
            run_dot(src, "svg")
            t2 = time.perf_counter()
            builds.append(t1 - t0)
            draws.append(t2 - t1)
            if args.png:
                t3 = time.perf_counter()
                run_dot(src, "png")
                pngs.append(time.perf_counter() - t3)
        b, d = statistics.median(builds), statistics.median(draws)
        worst = max(worst, b + d)
        line = f"{view:10s} build {b:6.3f} s + dot -Tsvg {d:6.3f} s = {b + d:6.3f} s"
        if pngs:
            line += f"   (PNG {statistics.median(pngs):.3f} s)"
        print(line)
    verdict = "OK" if worst < BUDGET_SECONDS else "TOO SLOW"
    print(f"slowest view: {worst:.3f} s (budget {BUDGET_SECONDS:.0f} s): {verdict}")
    return 0 if worst < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
