"""Benchmark: calls per second of the working-time timeline, office hours against ALWAYS_OPEN.

The engine calls :meth:`journeymap.workingtime.Timeline.add_working` once per step, so its cost
is what a calendar adds to a simulation (issue 12 asks the whole engine to stay within 1.3x of
its time without calendars; this script measures the timeline alone). It draws ``--calls``
random start instants over a simulated year and exponential amounts of work (mean 4 working
hours, like a review step), then times, best of ``--runs``:

* ``add_working`` on a 09:00-17:00 Monday-Friday calendar in Europe/Berlin (with its spring and
  autumn clock changes): once *cold* (a fresh timeline, so the lazy week-by-week compilation is
  included) and then *warm* (the year already compiled);
* the same with a lunch break (09:00-12:30, 13:30-17:30) and ten public holidays;
* ``add_working`` on ``ALWAYS_OPEN`` (identity arithmetic) and plain ``t + w`` in the same loop,
  the floor any call costs;
* ``is_open``, ``next_open``, ``open_minutes`` and ``add_business_days`` on the office calendar.

Example::

    python benchmarks/bench_workingtime.py               # 200,000 calls, best of 5
    python benchmarks/bench_workingtime.py --calls 50000 --runs 3
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from journeymap.workingtime import ALWAYS_OPEN, Calendar, Timeline, WeeklyHours, parse_days, parse_hours

START = datetime(2027, 1, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # a Monday, minute 0
YEAR = 365 * 1440.0
MEAN_WORK = 4 * 60.0
HOLIDAYS = frozenset(date.fromisoformat(d) for d in (
    "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-01", "2027-05-06",
    "2027-05-17", "2027-10-03", "2027-12-24", "2027-12-25", "2027-12-31",
))


def office() -> Calendar:
    """09:00-17:00, Monday to Friday, Europe/Berlin."""
    return Calendar("Europe/Berlin", WeeklyHours.every(parse_days("mon-fri"), parse_hours("09:00-17:00")))


def office_with_lunch_and_holidays() -> Calendar:
    """09:00-12:30 and 13:30-17:30, Monday to Friday, Europe/Berlin, ten public holidays."""
    hours = WeeklyHours.every(parse_days("mon-fri"), parse_hours("09:00-12:30"), parse_hours("13:30-17:30"))
    return Calendar("Europe/Berlin", hours, HOLIDAYS)


def rate_of_pairs(call: Callable[[float, float], object], pairs: list[tuple[float, float]], runs: int) -> float:
    """Calls per second of ``call(a, b)`` over ``pairs``, the best of ``runs`` runs."""

    def run() -> None:
        for a, b in pairs:
            call(a, b)

    return len(pairs) / min(_seconds(run) for _ in range(runs))


def rate_of_singles(call: Callable[[float], object], ts: list[float], runs: int) -> float:
    """Calls per second of ``call(t)`` over ``ts``, the best of ``runs`` runs."""

    def run() -> None:
        for t in ts:
            call(t)

    return len(ts) / min(_seconds(run) for _ in range(runs))


def _plus(t: float, w: float) -> float:
    """The floor: a plain function call doing ``t + w``."""
    return t + w


def _seconds(run: Callable[[], None]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="calls per timed run (default 200,000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs, the best is reported (default 5)")
    args = parser.parse_args(argv)

    rng = random.Random(20270104)
    ts = [rng.uniform(0, YEAR) for _ in range(args.calls)]
    pairs = [(t, rng.expovariate(1 / MEAN_WORK)) for t in ts]

    began = time.perf_counter()
    compiled = Timeline(office(), START)
    compiled.next_open(YEAR)
    compile_ms = (time.perf_counter() - began) * 1000

    cold = rate_of_pairs(Timeline(office(), START).add_working, pairs, runs=1)  # a fresh timeline each time
    warm = Timeline(office(), START)
    rate_of_pairs(warm.add_working, pairs, runs=1)  # compile the year (and the weeks work spills into)
    lunch = Timeline(office_with_lunch_and_holidays(), START)
    rate_of_pairs(lunch.add_working, pairs, runs=1)
    always = Timeline(ALWAYS_OPEN, START)

    rows: list[tuple[str, float]] = [
        ("add_working, 09-17 Mon-Fri, cold (includes compiling)", cold),
        ("add_working, 09-17 Mon-Fri, warm", rate_of_pairs(warm.add_working, pairs, args.runs)),
        ("add_working, lunch break + 10 holidays, warm", rate_of_pairs(lunch.add_working, pairs, args.runs)),
        ("add_working, ALWAYS_OPEN", rate_of_pairs(always.add_working, pairs, args.runs)),
        ("a plain function returning t + w (the floor)", rate_of_pairs(_plus, pairs, args.runs)),
        ("is_open, 09-17 Mon-Fri", rate_of_singles(warm.is_open, ts, args.runs)),
        ("next_open, 09-17 Mon-Fri", rate_of_singles(warm.next_open, ts, args.runs)),
        ("open_minutes, 09-17 Mon-Fri", rate_of_pairs(warm.open_minutes, pairs, args.runs)),
        ("add_business_days, 09-17 Mon-Fri", rate_of_pairs(warm.add_business_days, [(t, 2) for t in ts], args.runs)),
    ]

    print(f"{args.calls:,} calls per run over a simulated year, best of {args.runs} "
          f"(work ~ exponential, mean {MEAN_WORK / 60:g} working hours)")
    width = max(len(name) for name, _ in rows)
    for name, rate in rows:
        print(f"  {name:<{width}}  {rate / 1e6:6.2f} M calls/s  {1e9 / rate:6.0f} ns/call")
    print(f"  add_working on office hours takes {rows[3][1] / rows[1][1]:.1f}x as long as on ALWAYS_OPEN")
    print(f"  compiling a year of 09-17 Mon-Fri: {compile_ms:.1f} ms")


if __name__ == "__main__":
    main()
