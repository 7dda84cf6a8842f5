"""Benchmark: a book's replications on 2 local processes against a Dask LocalCluster of 2 processes.

Run it from the repository root::

    python benchmarks/bench_portfolio_dask.py                          # the bundled book, 4 replications
    python benchmarks/bench_portfolio_dask.py --accounts 1000 --rounds 2   # the 1,000-account bench book

The book is ``journeys/book.yaml`` (400 accounts, seed 1) or, with ``--accounts N``, the book of
``benchmarks/bench_portfolio.py`` (N accounts x 5 personas and support cases). Each round times, on the
same compiled book: starting and stopping a LocalCluster(2) alone; ``simulate_book(executor="local",
workers=2)``; ``simulate_book(executor="dask", workers=2)`` (which starts its own cluster), in alternating
order from round to round. It prints wall-clock seconds, the user CPU seconds of this process and its
finished children (the local pool's and the cluster's workers), the load average, and whether the two
summaries (``summarize_book``'s JSON) are identical. On a shared machine the load average moves the wall
clock far more than the executor does: read the CPU seconds too (docs/portfolio.md, "Scale").
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _cpu() -> float:
    return sum(resource.getrusage(who).ru_utime for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:  # not Linux
        return "?"


def main() -> None:
    from journeymap.assignment import assign, draw_accounts
    from journeymap.portfolio import load_portfolio
    from journeymap.simulation.portfolio import compile_book, simulate_book, summarize_book
    from journeymap.sweep import _dask_client

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, help="the bench book of bench_portfolio.py with this many accounts "
                    "(default: the bundled journeys/book.yaml)")
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.accounts is None:
        portfolio = load_portfolio(ROOT / "journeys" / "book.yaml")
        accounts = draw_accounts(portfolio, 1)
        book = compile_book(portfolio, accounts, assign(portfolio, accounts))
        name = "journeys/book.yaml"
    else:
        import bench_portfolio

        book = compile_book(*bench_portfolio.book(args.accounts))
        name = f"bench book of {args.accounts} accounts"
    print(f"{name}: {args.replications} replications of about {book.arrivals.expected_cases():,.0f} cases, "
          f"2 workers", flush=True)
    for r in range(args.rounds):
        t = time.perf_counter()
        client, cluster = _dask_client(None, 2, 8.0)
        client.close()
        cluster.close()
        print(f"round {r}: LocalCluster(2) started and stopped alone in {time.perf_counter() - t:.1f} s", flush=True)
        summaries = {}
        for executor in ("local", "dask") if r % 2 == 0 else ("dask", "local"):
            t, c = time.perf_counter(), _cpu()
            result = simulate_book(book, replications=args.replications, seed=1, workers=2, executor=executor)
            wall, cpu = time.perf_counter() - t, _cpu() - c
            summaries[executor] = json.dumps(summarize_book(book, result), sort_keys=True, default=str)
            print(f"round {r}: {executor:5s} {wall:6.1f} s wall, {cpu:6.1f} s user CPU (all processes); "
                  f"load average {_load()}", flush=True)
        print(f"round {r}: identical summaries: {summaries['local'] == summaries['dask']}", flush=True)


if __name__ == "__main__":
    main()
