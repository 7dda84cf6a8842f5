"""Benchmark: validate plus analyze a generated 2,000-step journey.

Issue 2 asks that ``journeymap validate`` plus ``journeymap analyze`` of a
2,000-step journey take under 2 s. This script writes a realistic journey
(stages, ten departments, branches, rework loops, nested parallel blocks,
every duration form) to a temporary file, then times

* validate: :func:`journeymap.validation.check_file` with lint, and
* analyze: :func:`journeymap.graph.build_graph` + :func:`journeymap.analysis.analyze`

and prints the median of several runs and the peak memory (tracemalloc) of one.

Issue 10 asks what happens at 20,000 steps: ``validate`` must answer in under
30 s and 1 GB. Journeys above ``MAX_STEPS`` (4,000) are refused with a
located ``too-large`` error (simulating and drawing them took minutes and
gigabytes), so the script then times ``validate`` of a 20,000-step journey
(refused) and of a journey at the limit (fully checked), with their peak
memory (tracemalloc) and the process's peak resident size.

Example::

    python benchmarks/bench_validate.py            # 2,000 steps, 5 runs; then 20,000 steps and just under the limit
    python benchmarks/bench_validate.py --steps 5000 --runs 3 --no-large
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc

from journeymap.analysis import analyze
from journeymap.graph import build_graph
from journeymap.validation import MAX_STEPS, check_file

BUDGET_SECONDS = 2.0

DEPARTMENTS = ["sales", "presales", "security", "legal", "finance", "procurement",
               "implementation", "support", "success", "billing"]
STAGES = ["awareness", "evaluate", "shortlist", "negotiate", "buy", "onboard", "adopt", "use", "expand", "renew"]
CHANNELS = ["email", "meeting", "video", "phone", "portal", "chat"]


def _duration(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"{rng.choice([15, 30, 45, 90])}min"
    if kind < 0.6:
        return f"{{exponential: {rng.randint(1, 8)}h}}"
    if kind < 0.8:
        a = rng.randint(1, 4)
        return f"{{triangular: [{a}h, {a + 1}h, {a + 4}h]}}"
    if kind < 0.9:
        return f"{{uniform: [{rng.randint(1, 3)}h, {rng.randint(4, 9)}h]}}"
    return f"{{lognormal: {{mean: {rng.randint(2, 6)}h, sd: 1h}}}}"


def generate_journey(n_steps: int = 2000, seed: int = 1) -> str:
    """YAML text of a valid journey with about ``n_steps`` steps.

    The main chain is cut into blocks: plain steps, a two-way choice that
    meets again, a rework check that sends 20% of cases back up to five
    main-chain steps (never to a join, which waits for its fork), and a parallel block (two or three branches, one of
    which may hold a nested parallel block) with its join.
    """
    rng = random.Random(seed)
    lines: list[str] = []
    count = 0
    main_chain: list[str] = []

    def step(sid: str, stage: str, nxt: str | None = None, owner: str | None = None) -> None:
        nonlocal count
        count += 1
        owner = owner or (rng.choice(DEPARTMENTS) if rng.random() > 0.15 else "customer")
        lines.append(f"  - id: {sid}")
        lines.append(f"    name: Step {count}")
        lines.append(f"    stage: {stage}")
        lines.append(f"    owner: {owner}")
        if owner == "customer":
            lines.append(f"    emotion: {rng.randint(-3, 3)}")
        elif rng.random() < 0.3:
            lines.append(f"    channel: {rng.choice(CHANNELS)}")
            lines.append(f"    emotion: {rng.randint(-3, 3)}")
        if rng.random() < 0.3:
            lines.append("    value_adding: true")
        lines.append(f"    duration: {_duration(rng)}")
        if nxt:
            lines.append(f"    next: {nxt}")

    def parallel(prefix: str, stage: str, depth: int, exit_to: str | None = None) -> str:
        """A fork, its branches and the join; returns the join id (the block's last step).

        ``exit_to`` is where the join leads (None: the next step in the file).
        """
        fork, join = f"{prefix}_fork", f"{prefix}_join"
        width = rng.choice([2, 2, 3])
        branches = [f"{prefix}_b{b}_1" for b in range(width)]
        step(fork, stage, f"{{parallel: [{', '.join(branches)}], join: {join}}}")
        for b in range(width):
            length = rng.randint(1, 3)
            for k in range(1, length + 1):
                sid = f"{prefix}_b{b}_{k}"
                if depth == 0 and k == length and rng.random() < 0.3:
                    # a nested parallel block ends this branch
                    step(sid, stage, f"{sid}_fork")
                    parallel(sid, stage, depth + 1, exit_to=join)
                else:
                    step(sid, stage, join if k == length else None)
        step(join, stage, exit_to)
        return join

    i = 0
    while count < n_steps - 1:
        stage = STAGES[min(len(STAGES) - 1, count * len(STAGES) // n_steps)]
        i += 1
        kind = rng.random()
        if kind < 0.55 or len(main_chain) < 3:
            sid = f"s{i}"
            step(sid, stage)
            main_chain.append(sid)
        elif kind < 0.75:
            d, a, b, m = f"c{i}_decide", f"c{i}_a", f"c{i}_b", f"c{i}_merge"
            step(d, stage, f"[{{to: {a}, probability: 0.6}}, {{to: {b}, probability: 0.4}}]")
            step(a, stage, m)
            step(b, stage)
            step(m, stage)
            main_chain += [d, m]
        elif kind < 0.9:
            sid = f"r{i}_check"
            back = rng.choice(main_chain[-5:])
            nxt = f"r{i}_after"
            step(sid, stage, f"[{{to: {nxt}, probability: 0.8}}, {{to: {back}, probability: 0.2, label: rework}}]")
            step(nxt, stage)
            main_chain += [sid, nxt]
        else:
            parallel(f"p{i}", stage, 0)  # a join cannot be a rework target: it waits for its fork
    step("done", STAGES[-1], owner="customer")

    header = [
        "journey:",
        f"  id: generated-{n_steps}",
        f"  name: Generated journey ({n_steps} steps, seed {seed})",
        "persona:",
        "  id: buyer",
        "  role: decision_maker",
        f"stages: [{', '.join(STAGES)}]",
        "departments:",
    ] + [f"  - {{id: {d}, capacity: {rng.randint(2, 6)}}}" for d in DEPARTMENTS] + [
        "workload:",
        "  arrivals: {poisson: 90d}",
        "  cases: 50",
        "steps:",
    ]
    return "\n".join(header + lines) + "\n"


def run_once(path: str) -> tuple[float, float, int, dict]:
    t0 = time.perf_counter()
    checked = check_file(path, lint=True)
    t1 = time.perf_counter()
    if checked.journey is None:
        raise SystemExit("the generated journey is invalid:\n" + "\n".join(
            f"{p.line}:{p.column} [{p.rule}] {p.message}" for p in checked.errors[:20]))
    report = analyze(build_graph(checked.journey))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(checked.warnings), report


def large(n_steps: int, seed: int = 1) -> None:
    """Time and measure one ``validate`` (with lint) of a generated journey of ``n_steps`` steps."""
    text = generate_journey(n_steps, seed)
    fd, path = tempfile.mkstemp(suffix=".yaml", prefix="journeymap-bench-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        t0 = time.perf_counter()
        checked = check_file(path, lint=True)
        seconds = time.perf_counter() - t0
        tracemalloc.start()  # a second run for the memory: tracing slows Python down several times
        check_file(path, lint=True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        os.unlink(path)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    refused = [p for p in checked.errors if p.rule == "too-large"]
    outcome = (f"refused: {refused[0].message}" if refused else
               f"{'valid' if checked.journey else 'invalid'}, {len(checked.warnings)} warnings")
    print(f"validate of a {n_steps:,}-step journey ({len(text) / 1e6:.1f} MB): {seconds:.2f} s, "
          f"peak {peak / 2**20:.0f} MiB (tracemalloc), process max RSS {rss:.0f} MiB; {outcome}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000, help="steps in the journey (default 2000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the median is reported (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-large", action="store_true", help="skip the 20,000-step and limit figures")
    args = parser.parse_args(argv)

    text = generate_journey(args.steps, args.seed)
    fd, path = tempfile.mkstemp(suffix=".yaml", prefix="journeymap-bench-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        validate_times, analyze_times, totals = [], [], []
        for _ in range(args.runs):
            v, a, n_warn, report = run_once(path)
            validate_times.append(v)
            analyze_times.append(a)
            totals.append(v + a)
        tracemalloc.start()
        run_once(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        os.unlink(path)

    total = statistics.median(totals)
    print(f"journey: {report['steps']} steps, {len(report['handoff_list'])} handoffs, "
          f"{len(report['rework_loops'])} rework loops, {text.count('parallel:')} parallel blocks, "
          f"{n_warn} warnings, {len(text.splitlines())} lines of YAML")
    print(f"validate (check_file with lint): median {statistics.median(validate_times):.3f} s")
    print(f"analyze (build_graph + analyze): median {statistics.median(analyze_times):.3f} s")
    print(f"validate + analyze: median {total:.3f} s over {args.runs} runs "
          f"(budget {BUDGET_SECONDS:.1f} s: {'OK' if total < BUDGET_SECONDS else 'OVER'})")
    print(f"peak memory (tracemalloc, one run): {peak / 2**20:.1f} MiB")
    if not args.no_large:
        for steps in (20_000, MAX_STEPS - 10):  # the generator may add a few steps to close its blocks
            large(steps, args.seed)
    return 0 if total < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())

