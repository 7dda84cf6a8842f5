"""Benchmark: a year of a book of business, 250 / 500 / 1,000 accounts x 5 personas (issue 17, item 4).

Run it from the repository root::

    python benchmarks/bench_portfolio.py                    # 250, 500 and 1,000 accounts, 1 replication each
    python benchmarks/bench_portfolio.py --accounts 1000 --replications 2 --workers 2

Every account is the Acme account of ``journeys/acme-account.yaml`` (five personas' journeys in parallel,
meeting at a gate, office hours in Frankfurt and Singapore) starting one deal a year (``--deals``), plus
twelve support cases a year (``--support``; ``journeys/insurance-before.yaml``), over a horizon of one
year. The shared departments grow with the book (their capacity in the files times a factor proportional
to the accounts, at least the file's) so that each person's load is about the same at every size: time
should then grow linearly with the accounts. One
senior and one junior level of account managers (relationship limits 30 and 150, one manager per 60
accounts) and a pool take the account-management steps (here: the sales steps).

It prints, per size (each in a fresh process): cases simulated, step visits, wall-clock and CPU seconds,
CPU seconds per 1,000 accounts (flat when growth is linear) and the process's peak RSS (imports included;
with workers, the parent's only). Targets: 1,000 accounts under 5 minutes and under 2 GB.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journeymap.account import load_account  # noqa: E402
from journeymap.distributions import YEAR  # noqa: E402
from journeymap.simulation.account import combined_journey  # noqa: E402
from journeymap.simulation.portfolio import compile_book, simulate_book, summarize_book  # noqa: E402
from journeymap.validation import load_journey  # noqa: E402

ACCOUNT = ROOT / "journeys" / "acme-account.yaml"
SUPPORT = ROOT / "journeys" / "insurance-before.yaml"
#: the department whose steps the account's manager does
MANAGED = "sales"


def book(n: int, deals: float = 1.0, support: float = 12.0) -> tuple[SimpleNamespace, tuple, SimpleNamespace]:
    """A portfolio of ``n`` accounts in two tiers (the contract's fields), its accounts and an assignment."""
    deal, meeting = combined_journey(load_account(ACCOUNT))
    desk = load_journey(SUPPORT)
    grow = max(1.0, n / 100 * (deals + support / 4) / 2)
    departments = {}
    for j in (deal, desk):
        for d in j.departments:
            if d.id != MANAGED and d.id not in departments:
                departments[d.id] = dataclasses.replace(d, capacity=max(d.capacity, round(d.capacity * grow)))
    templates = (SimpleNamespace(ref="acme-account.yaml", kind="account", per_year=deals, label="deal"),
                 SimpleNamespace(ref="insurance-before.yaml", kind="journey", per_year=support,
                                 label="support"))
    key = n // 5
    tiers = (SimpleNamespace(id="key", accounts=key, revenue=None, priority="key", templates=templates, targets=()),
             SimpleNamespace(id="growth", accounts=n - key, revenue=None, priority="growth", templates=templates,
                             targets=()))
    people = max(1, n // 60)
    levels = (SimpleNamespace(level="senior", people=max(1, people // 3), relationships=30, cost_per_hour=110.0),
              SimpleNamespace(level="junior", people=people - max(1, people // 3) or 1, relationships=150,
                              cost_per_hour=60.0))
    management = SimpleNamespace(department=MANAGED, levels=levels, policy="by_revenue",
                                 pool_capacity=max(1, round(2 * grow)), pool_cost_per_hour=55.0)
    portfolio = SimpleNamespace(id="bench", name=f"Bench book of {n}", currency="EUR", horizon=YEAR, start=None,
                                departments=tuple(departments.values()), management=management, tiers=tiers,
                                money=None, source=str(ACCOUNT),
                                journeys={"acme-account.yaml": deal, "insurance-before.yaml": desk},
                                meetings={"acme-account.yaml": meeting, "insurance-before.yaml": None})
    accounts = tuple(SimpleNamespace(id=f"{t.id}-{k + 1:04d}", tier=t.id, revenue=1e6 / (1 + k))
                     for t in tiers for k in range(t.accounts))
    # by revenue: the largest accounts to the seniors, up to each one's limit; the rest to the pool
    slots = [f"{lv.level}-{k + 1}" for lv in levels for k in range(lv.people) for _ in range(lv.relationships)]
    ranked = sorted(accounts, key=lambda a: -a.revenue)
    manager = {a.id: (slots[i] if i < len(slots) else None) for i, a in enumerate(ranked)}
    load: dict[str, int] = {}
    for m in manager.values():
        if m is not None:
            load[m] = load.get(m, 0) + 1
    assignment = SimpleNamespace(manager=manager, load=load, unassigned=(), over_limit=())
    return portfolio, accounts, assignment


def run(n: int, replications: int, workers: int, deals: float, support: float) -> dict[str, float]:
    """One size, in this process (a fresh one per size, so that its peak RSS is its own)."""
    portfolio, accounts, assignment = book(n, deals, support)
    t0, c0 = time.perf_counter(), time.process_time()
    compiled = compile_book(portfolio, accounts, assignment)
    result = simulate_book(compiled, replications=replications, seed=1, workers=workers)
    summary = summarize_book(compiled, result)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    visits = sum(sum(r.step_visits) for r in result.replications)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"accounts": n, "cases": summary["cases"], "visits": visits, "wall": wall, "cpu": cpu,
            "rss_mb": rss, "index": summary["book"]["experience"] or 0.0, "steps": len(compiled.journey.steps)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, action="append", help="sizes (default 250, 500, 1000)")
    ap.add_argument("--replications", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--deals", type=float, default=1.0, help="deals per account per year (default 1)")
    ap.add_argument("--support", type=float, default=12.0, help="support cases per account per year (default 12)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size in this process, as JSON
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run(args.one, args.replications, args.workers, args.deals, args.support)))
        return
    sizes = args.accounts or [250, 500, 1000]
    print(f"Python {sys.version.split()[0]}; a year; {args.deals:g} deal(s) (5 personas) and {args.support:g} support "
          f"case(s) per account; {args.replications} replication(s), {args.workers} worker(s)")
    print(f"{'accounts':>8} {'steps':>6} {'cases':>8} {'step visits':>12} {'wall s':>8} {'CPU s':>8} "
          f"{'CPU s/1k acc':>12} {'peak RSS MB':>11} {'book index':>10}")
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--replications", str(args.replications),
                              "--workers", str(args.workers), "--deals", str(args.deals), "--support",
                              str(args.support)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{n:>8,} {r['steps']:>6} {r['cases']:>8,} {r['visits']:>12,.0f} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
              f"{r['cpu'] / n * 1000:>12.1f} {r['rss_mb']:>11.0f} {r['index']:>10.1f}", flush=True)
    print("targets at 1,000 accounts: < 300 s and < 2,048 MB; CPU s per 1,000 accounts flat when growth is linear")


if __name__ == "__main__":
    main()
