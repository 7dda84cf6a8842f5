"""Benchmark: journeymap's simulator against a minimal hand-written SimPy model of the same process.

Run it from the repository root (takes a few minutes on two cores)::

    python benchmarks/bench_simulation.py            # 50,000 cases, 8 replications for the speed-up
    python benchmarks/bench_simulation.py --cases 5000 --replications 4   # a quick look

The reference model: 14 sequential steps owned by sales, sales, legal, finance,
legal, sales, implementation, implementation, finance, support,
implementation, support, sales, support; capacities sales 3, legal 2,
finance 2, implementation 4, support 2; exponential durations with mean
10 min (legal steps 20 min); Poisson arrivals with a mean gap of 30 min; after
step 9, back to step 7 with probability 0.2.

It prints journeymap's cases per second with every metric on, the cases per
second of the minimal model (the engine's limit), their time ratio, the peak
memory of one journeymap replication, and the speed-up of 2 workers over 1.
Targets: time ratio <= 1.5, peak memory < 200 MB, speed-up >= 1.8.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sys
import time
import tracemalloc

import simpy

from journeymap.simulation import simulate
from journeymap.validation import check_text

OWNERS = ["sales", "sales", "legal", "finance", "legal", "sales", "implementation", "implementation",
          "finance", "support", "implementation", "support", "sales", "support"]
CAPACITY = {"sales": 3, "legal": 2, "finance": 2, "implementation": 4, "support": 2}
MEAN = {d: 20.0 if d == "legal" else 10.0 for d in CAPACITY}
GAP = 30.0
REWORK_FROM, REWORK_TO, REWORK_P = 9, 7, 0.2  # 1-based step numbers


def reference_yaml() -> str:
    """The reference model as a journey file."""
    lines = ["journey: {id: bench, name: Benchmark reference model}",
             "persona: {id: buyer}", "stages: [deal]", "departments:"]
    lines += [f"  - {{id: {d}, capacity: {c}}}" for d, c in CAPACITY.items()]
    lines.append("steps:")
    for i, d in enumerate(OWNERS, 1):
        lines.append(f"  - {{id: s{i}, stage: deal, owner: {d}, duration: {{exponential: {MEAN[d]:g}min}}"
                     + (f", next: [{{to: s{REWORK_TO}, probability: {REWORK_P}}}, "
                        f"{{to: s{i + 1}, probability: {1 - REWORK_P:g}}}]" if i == REWORK_FROM else "")
                     + "}")
    lines.append(f"workload: {{arrivals: {{poisson: {GAP:g}min}}, cases: 1000}}")
    return "\n".join(lines) + "\n"


def minimal_model(cases: int, seed: int) -> float:
    """The same process written by hand in plain SimPy, recording only cycle times: the engine's limit."""
    rng = random.Random(seed)
    env = simpy.Environment()
    res = {d: simpy.Resource(env, capacity=c) for d, c in CAPACITY.items()}
    plan = [(res[d], 1.0 / MEAN[d]) for d in OWNERS]
    cycle = []

    def case():
        t = env.now
        i = 0
        while i < len(plan):
            r, rate = plan[i]
            with r.request() as req:
                yield req
                yield env.timeout(rng.expovariate(rate))
            if i == REWORK_FROM - 1 and rng.random() < REWORK_P:
                i = REWORK_TO - 1
            else:
                i += 1
        cycle.append(env.now - t)

    def source():
        for _ in range(cases):
            yield env.timeout(rng.expovariate(1.0 / GAP))
            env.process(case())

    env.process(source())
    env.run()
    return sum(cycle) / len(cycle)


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def available_speedup(n: int = 6_000_000, tasks: int = 4) -> float:
    """What two processes gain over one on plain Python arithmetic right now: the machine's ceiling.

    Other programs running on the machine lower it; the simulator's speed-up
    should be read against it.
    """
    import concurrent.futures as cf

    t = time.perf_counter()
    for _ in range(tasks):
        _spin(n)
    one = time.perf_counter() - t
    with cf.ProcessPoolExecutor(2) as pool:
        t = time.perf_counter()
        list(pool.map(_spin, [n] * tasks))
        two = time.perf_counter() - t
    return one / two


def _children_cpu() -> float:
    """CPU seconds used by finished child processes (the workers, once their pool is shut down)."""
    if sys.platform == "win32":
        return 0.0
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(fn, repeat: int = 1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=50_000)
    ap.add_argument("--replications", type=int, default=8, help="replications for the worker speed-up")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many timings (default 3)")
    args = ap.parse_args(argv)
    journey = check_text(reference_yaml()).journey
    assert journey is not None

    print(f"Python {platform.python_version()}, SimPy {simpy.__version__}, {os.cpu_count()} CPUs, "
          f"{args.cases:,} cases")
    # interleaved, best of each: a load that comes and goes hits both sides alike
    t_min = t_jm = float("inf")
    for _ in range(args.repeat):
        t_min = min(t_min, timed(lambda: minimal_model(args.cases, 1))[0])
        t, res = timed(lambda: simulate(journey, cases=args.cases, replications=1, seed=1))
        t_jm = min(t_jm, t)
    print(f"minimal SimPy model : {args.cases / t_min:10,.0f} cases/s  ({t_min:.2f} s)")
    print(f"journeymap          : {args.cases / t_jm:10,.0f} cases/s  ({t_jm:.2f} s, all metrics)")
    print(f"time ratio          : {t_jm / t_min:10.2f}  (target <= 1.5)")
    print(f"  mean cycle time {res.summary['case']['cycle_time']['mean']:.1f} min")

    gc.collect()
    tracemalloc.start()
    simulate(journey, cases=args.cases, replications=1, seed=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory         : {peak / 2**20:10.1f} MB  (traced Python allocations, target < 200 MB)")
    if sys.platform != "win32":
        import resource
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process peak RSS    : {rss:10.1f} MB  (whole interpreter, imports included)")

    print(f"machine ceiling     : {available_speedup():10.2f}x  (2 processes over 1 on plain Python, before)")
    t1, r1 = timed(lambda: simulate(journey, cases=args.cases, replications=args.replications, seed=1, workers=1))
    cpu_before = _children_cpu()
    t2, r2 = timed(lambda: simulate(journey, cases=args.cases, replications=args.replications, seed=1, workers=2))
    cpu2 = _children_cpu() - cpu_before
    same = r1.summary == r2.summary
    print(f"machine ceiling     : {available_speedup():10.2f}x  (2 processes over 1 on plain Python, after)")
    print(f"{args.replications} replications : 1 worker {t1:.1f} s, 2 workers {t2:.1f} s, "
          f"speed-up {t1 / t2:.2f}x (target >= 1.8); identical results: {same}")
    if cpu2 > 0:
        print(f"  the 2 workers used {cpu2:.1f} CPU-s in {t2:.1f} s: {cpu2 / t2:.2f} of the 2 cores "
              f"(less than 2 means other programs had the rest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
