"""Does a change keep the main job's results byte for byte?

A refactoring must not move a single number. This script runs the main job
(``journeymap run journeys/``) with the code of this checkout and with the code
of another git revision (or compares with a folder of results saved earlier),
then compares every JSON result file byte for byte and prints how long each
run took::

    python benchmarks/same_results.py --base HEAD~5     # this checkout against HEAD~5
    python benchmarks/same_results.py --against saved/  # against results in saved/

It exits 1 when a JSON file differs or is missing on one side, and prints the
first differing line of each file that differs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_job(code: Path, journeys: Path, out: Path) -> float:
    """Run the main job with the package found in ``code``; seconds taken."""
    env = dict(os.environ, PYTHONPATH=str(code))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "journeymap", "run", str(journeys), "-o", str(out)],
                          env=env, cwd=code, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"the main job failed with the code in {code} (exit {proc.returncode})")
    return took


def compare(before: Path, after: Path) -> list[str]:
    """Names of JSON files that differ (or exist on one side only), with the first differing line."""
    names = sorted({p.relative_to(before).as_posix() for p in before.rglob("*.json")}
                   | {p.relative_to(after).as_posix() for p in after.rglob("*.json")})
    problems = []
    for name in names:
        a, b = before / name, after / name
        if not a.exists() or not b.exists():
            problems.append(f"{name}: only in {'after' if b.exists() else 'before'}")
            continue
        if a.read_bytes() == b.read_bytes():
            continue
        for k, (x, y) in enumerate(zip(a.read_text().splitlines(), b.read_text().splitlines(), strict=False), 1):
            if x != y:
                problems.append(f"{name}:{k}: before {x.strip()!r}, after {y.strip()!r}")
                break
        else:
            problems.append(f"{name}: one file is a prefix of the other")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--base", help="git revision whose code gives the reference results")
    side.add_argument("--against", type=Path, help="folder of reference results from an earlier run")
    parser.add_argument("--journeys", type=Path, default=Path("journeys"),
                        help="journeys folder, relative to each checkout (default: journeys)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="journeymap-same-") as tmp:
        work = Path(tmp)
        if args.base:
            base = work / "base"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.base],
                           check=True)
            try:
                took = run_job(base, args.journeys, work / "before")
                print(f"{args.base}: main job {took:.1f} s")
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
            before = work / "before"
        else:
            before = args.against
        took = run_job(ROOT, args.journeys, work / "after")
        print(f"this checkout: main job {took:.1f} s")
        problems = compare(before, work / "after")
        n = len(list((work / "after").rglob("*.json")))
        if problems:
            print(f"{len(problems)} of {n} JSON files differ:")
            for p in problems:
                print(f"  {p}")
            return 1
        print(f"all {n} JSON result files are byte-identical")
        return 0


if __name__ == "__main__":
    sys.exit(main())
