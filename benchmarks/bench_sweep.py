"""Benchmark: a sweep of 100 scenarios x 10 replications of the reference model, on each executor.

Run it from the repository root (about a minute on two idle cores)::

    python benchmarks/bench_sweep.py                     # 100 scenarios x 10 replications, 200 cases each
    python benchmarks/bench_sweep.py --scenarios 20 --cases 100   # a quick look

The reference model is benchmarks/bench_simulation.py's (14 steps, five departments, a rework loop), with
200 cases per replication instead of 1,000 so that the whole benchmark takes about a minute. The 100
scenarios are staffing variants: sales +0/+1, legal +0..+4, finance +0..+4, implementation +0/+1
(2 x 5 x 5 x 2 = 100). Each scenario runs 10 replications: 1,000 work units.

It prints scenarios per second (wall clock: it measures what a second core gives) for

* 1 local worker (the units one after the other in this process),
* 2 local workers (forked processes): target speed-up >= 1.8 over 1 worker,
* Dask: a ``LocalCluster`` of 2 worker processes started by the sweep (its start-up counted), and the
  same sweep sent by address to a LocalCluster that is already running (what ``--scheduler`` does):
  target overhead <= 10% over 2 local workers,

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


def timed(run: Callable[[], SweepResult]) -> tuple[float, SweepResult]:
    began = time.perf_counter()
    result = run()
    return time.perf_counter() - began, result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--cases", type=int, default=200, help="cases per replication (default 200)")
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

    one_t, one = timed(lambda: run_sweep(work, workers=1, **common))
    print(f"1 local worker:                 {n / one_t:7.2f} scenarios/s ({one_t:.1f} s)")
    two_t, two = timed(lambda: run_sweep(work, workers=2, **common))
    print(f"2 local workers:                {n / two_t:7.2f} scenarios/s ({two_t:.1f} s); "
          f"speed-up {one_t / two_t:.2f}x (target >= 1.8)")
    dask_t, dask = timed(lambda: run_sweep(work, workers=2, executor="dask", **common))
    print(f"Dask LocalCluster(2), started:  {n / dask_t:7.2f} scenarios/s ({dask_t:.1f} s); "
          f"overhead {dask_t / two_t - 1:+.0%} over 2 local workers (target <= +10%)")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        running_t, running = timed(lambda: run_sweep(work, executor="dask", scheduler=address, **common))
    print(f"Dask LocalCluster(2), running:  {n / running_t:7.2f} scenarios/s ({running_t:.1f} s); "
          f"overhead {running_t / two_t - 1:+.0%} over 2 local workers (target <= +10%)")
    same = one.metrics == two.metrics == dask.metrics == running.metrics
    print(f"identical metrics on every executor: {same}; load average after {os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
