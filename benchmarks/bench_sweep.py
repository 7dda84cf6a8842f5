"""Benchmark: a sweep of 100 scenarios x 10 replications of the reference model, on each executor.

Run it from the repository root (about a minute on two idle cores)::

    PYTHONPATH=. python benchmarks/bench_sweep.py        # 100 scenarios x 10 replications, 150 cases each
    PYTHONPATH=. python benchmarks/bench_sweep.py --scenarios 20 --cases 100   # a quick look

The reference model is benchmarks/bench_simulation.py's (14 steps, five departments, a rework loop), with
150 cases per replication instead of 1,000 so that the whole benchmark takes about a minute. The 100
scenarios are staffing variants: sales +0/+1, legal +0..+4, finance +0..+4, implementation +0/+1
(2 x 5 x 5 x 2 = 100). Each scenario runs 10 replications: 1,000 work units.

It prints scenarios per second (wall clock: it measures what a second core gives), and the CPU seconds
of all processes together (this one, its workers, a LocalCluster's scheduler and workers: what each
executor costs, which other programs on a shared machine change far less than the wall clock), for

* 1 local worker (the units one after the other in this process),
* 2 local workers (forked processes): target speed-up >= 1.8 over 1 worker,
* Dask: a ``LocalCluster`` of 2 worker processes started by the sweep (its start-up counted), and the
  same sweep sent by address to a LocalCluster that is already running (what ``--scheduler`` does),
  twice: the first time its workers still import journeymap (about 0.4 s each), the second time they
  have it, as on a long-lived cluster. Target overhead <= 10% over 2 local workers,

and checks that every executor gave the same metrics. On a shared machine, other programs take cores
from the workers: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

from bench_simulation import reference_yaml

from journeymap.model import Journey
from journeymap.sweep import Scenario, SweepResult, run_sweep
from journeymap.validation import check_text

#: Extra people per department, the axes of the 100 staffing variants.
EXTRA = {"sales": (0, 1), "legal": (0, 1, 2, 3, 4), "finance": (0, 1, 2, 3, 4), "implementation": (0, 1)}


def scenarios(base: Journey, count: int) -> list[Scenario]:
    """The first ``count`` staffing variants of the reference model."""
    out = []
    for combo in itertools.product(*EXTRA.values()):
        settings = dict(zip(EXTRA, combo, strict=True))
        departments = tuple(dataclasses.replace(d, capacity=d.capacity + settings.get(d.id, 0))
                            for d in base.departments)
        label = " ".join(f"{k}+{v}" for k, v in settings.items())
        out.append(Scenario(label, dataclasses.replace(base, departments=departments), settings))
    return out[:count]


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and every process it started (live or ended)."""
    import psutil  # comes with dask.distributed

    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in psutil.Process().children(recursive=True):
        try:
            c = child.cpu_times()
        except psutil.Error:  # ended meanwhile: counted in children_* once reaped
            continue
        total += c.user + c.system
    return total


@dataclasses.dataclass
class Timing:
    wall: float
    cpu: float
    result: SweepResult


def timed(run: Callable[[], SweepResult]) -> Timing:
    """Wall-clock and CPU seconds (all processes) of one sweep."""
    cpu, began = cpu_seconds(), time.perf_counter()
    result = run()
    return Timing(time.perf_counter() - began, cpu_seconds() - cpu, result)


def line(name: str, n: int, t: Timing, extra: str = "") -> str:
    return f"{name:<31} {n / t.wall:6.2f} scenarios/s ({t.wall:5.1f} s wall, {t.cpu:5.1f} s CPU){extra}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--cases", type=int, default=150, help="cases per replication (default 150)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from distributed import LocalCluster

    journey = check_text(reference_yaml()).journey
    assert journey is not None
    work = scenarios(journey, args.scenarios)
    n = len(work)
    common = {"replications": args.replications, "seed": args.seed, "cases": args.cases}
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average before "
          f"{os.getloadavg()[0]:.2f}; {n} scenarios x {args.replications} replications x {args.cases} cases")

    one = timed(lambda: run_sweep(work, workers=1, **common))
    print(line("1 local worker:", n, one))
    two = timed(lambda: run_sweep(work, workers=2, **common))
    print(line("2 local workers:", n, two, f"; speed-up {one.wall / two.wall:.2f}x (target >= 1.8)"))
    dask = timed(lambda: run_sweep(work, workers=2, executor="dask", **common))
    print(line("Dask LocalCluster(2), started:", n, dask,
               f"; overhead {dask.wall / two.wall - 1:+.0%} over 2 local workers (target <= +10%)"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        running = timed(lambda: run_sweep(work, executor="dask", scheduler=address, **common))
        print(line("Dask LocalCluster(2), running:", n, running,
                   f"; overhead {running.wall / two.wall - 1:+.0%} over 2 local workers (target <= +10%)"))
        again = timed(lambda: run_sweep(work, executor="dask", scheduler=address, **common))
    print(line("  the same sweep again:", n, again,
               f"; overhead {again.wall / two.wall - 1:+.0%} (workers have journeymap imported)"))
    same = all(one.result.metrics == t.result.metrics for t in (two, dask, running, again))
    print(f"identical metrics on every executor: {same}; load average after {os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
