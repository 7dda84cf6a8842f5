"""Benchmark: read and mine a 1,000,000-event log.

Issue 14 asks that mining a 1,000,000-event log take under 60 s and under 1.5 GB peak memory on the
2-core machine, reading the log in columns (never as a Python list of dicts). This script

1. writes the log with the independent generator of the sample log (journeys/data/make_sample_log.py:
   the B2B claims process, about 5.7 events per case, so about 176,000 cases), not timed;
2. in a fresh Python process (so the generator's memory does not count), times
   * reading: :func:`journeymap.eventlog_reader.read_log`, and
   * mining: :func:`journeymap.mining.mine`, :func:`journeymap.mining.journey_yaml` and validating the text
     (what ``journeymap mine`` does after reading),
   and prints the seconds of each and the process's peak resident memory (``resource.getrusage``'s
   ``ru_maxrss``) after each.

Example::

    python benchmarks/bench_mine.py                    # 1,000,000 events
    python benchmarks/bench_mine.py --events 100000
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 60.0
BUDGET_BYTES = 1.5 * 1024 ** 3
ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("make_sample_log", ROOT / "journeys" / "data" / "make_sample_log.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_sample_log"] = module
    spec.loader.exec_module(module)
    return module


def _peak_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # bytes on macOS, kB on Linux


def measure(path: str) -> dict[str, float]:
    """Read and mine ``path`` in this process; seconds and peak memory after each."""
    from journeymap.eventlog_reader import read_log
    from journeymap.mining import journey_yaml, mine
    from journeymap.validation import check_text

    t0 = time.perf_counter()
    log = read_log(path)
    t1 = time.perf_counter()
    read_peak = _peak_bytes()
    mined = mine(log)
    text = journey_yaml(mined, path)
    checked = check_text(text, "mined.yaml")
    t2 = time.perf_counter()
    if checked.errors:
        raise SystemExit(f"the mined journey does not validate: {checked.errors[0]}")
    return {"events": log.n_events, "cases": log.n_cases, "read_seconds": t1 - t0, "read_peak_bytes": read_peak,
            "mine_seconds": t2 - t1, "peak_bytes": _peak_bytes(), "steps": len(mined.steps)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log (default: 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measure", metavar="LOG", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    gen = _generator()
    cases = math.ceil(args.events / gen.events_per_case())
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "log.csv")
        t0 = time.perf_counter()
        gen.write_log(path, gen.generate(cases=cases, seed=args.seed))
        size = os.path.getsize(path)
        print(f"generated {cases:,} cases in {time.perf_counter() - t0:.1f} s: {size / 1e6:.0f} MB", flush=True)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        out = subprocess.run([sys.executable, __file__, "--measure", path], check=True, capture_output=True,
                             text=True, env=env).stdout
    r = json.loads(out.strip().splitlines()[-1])
    total = r["read_seconds"] + r["mine_seconds"]
    print(f"{r['events']:,} events of {r['cases']:,} cases -> {r['steps']} steps")
    print(f"read:  {r['read_seconds']:6.1f} s, peak memory {r['read_peak_bytes'] / 2 ** 20:,.0f} MB")
    print(f"mine:  {r['mine_seconds']:6.1f} s (mine, write the YAML, validate it)")
    print(f"total: {total:6.1f} s (budget {BUDGET_SECONDS:.0f} s), peak memory {r['peak_bytes'] / 2 ** 20:,.0f} MB "
          f"(budget {BUDGET_BYTES / 2 ** 30:.1f} GB)")
    ok = total < BUDGET_SECONDS and r["peak_bytes"] < BUDGET_BYTES
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
