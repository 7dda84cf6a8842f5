"""Write the sample event log journeys/data/claims-log.csv: a B2B claims process with known parameters.

This is deliberately NOT journeymap's simulator: a small discrete-event
simulation in plain Python (``heapq`` for the event list, ``random`` for the
draws, NumPy only to format timestamps), so that mining its log back tests
journeymap against a process it did not write itself.

The process (what ``journeymap mine`` should find):

* cases arrive at random (Poisson), one every :data:`ARRIVAL_GAP` minutes on average;
* ``Register claim`` (intake) -> inbox delay -> ``Assess claim`` (claims);
* after the assessment, 25% of claims need more information: ``Request information``
  (intake), the client's reply after an inbox delay, and ``Assess claim`` again (a rework loop);
  the rest go to ``Review claim`` (the review board);
* the review approves 70% (``Pay claim``, finance, after an inbox delay) and rejects 30%
  (``Reject claim``, claims); both end with ``Close claim`` (intake);
* each department serves its queue first come, first served with named people (its capacity);
* durations are lognormal or gamma with the means and standard deviations in :data:`ACTIVITIES`.

Run it from the repository root (``python journeys/data/make_sample_log.py``); the same seed writes the same
file. The benchmark and the tests import :func:`generate` and :func:`write_log`.
"""

from __future__ import annotations

import csv
import heapq
import math
import random
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Mean minutes between two arriving claims.
ARRIVAL_GAP = 60.0

#: department -> its people (capacity = how many)
DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "intake": ("Ana Silva", "Ben Okafor"),
    "claims": ("Chen Wei", "Dara Novak", "Eli Haddad", "Finn Berg"),
    "review": ("Fay Morgan",),
    "finance": ("Gus Lund", "Hana Ito"),
}


@dataclass(frozen=True)
class Activity:
    """One activity: its department and its duration (``kind`` lognormal or gamma, mean and sd in minutes)."""

    department: str
    kind: str
    mean: float
    sd: float


ACTIVITIES: dict[str, Activity] = {
    "Register claim": Activity("intake", "lognormal", 20.0, 10.0),
    "Assess claim": Activity("claims", "gamma", 90.0, 45.0),
    "Request information": Activity("intake", "lognormal", 30.0, 15.0),
    "Review claim": Activity("review", "gamma", 30.0, 15.0),
    "Pay claim": Activity("finance", "lognormal", 45.0, 20.0),
    "Reject claim": Activity("claims", "gamma", 30.0, 10.0),
    "Close claim": Activity("intake", "lognormal", 15.0, 5.0),
}

FIRST = "Register claim"

#: activity -> ((next activity, probability), ...); no entry: the case ends
ROUTING: dict[str, tuple[tuple[str, float], ...]] = {
    "Register claim": (("Assess claim", 1.0),),
    "Assess claim": (("Request information", 0.25), ("Review claim", 0.75)),
    "Request information": (("Assess claim", 1.0),),
    "Review claim": (("Pay claim", 0.7), ("Reject claim", 0.3)),
    "Pay claim": (("Close claim", 1.0),),
    "Reject claim": (("Close claim", 1.0),),
}

#: (from, to) -> mean of the exponential inbox delay in minutes (the case waits, nobody is busy with it)
DELAYS: dict[tuple[str, str], float] = {
    ("Register claim", "Assess claim"): 240.0,
    ("Request information", "Assess claim"): 1440.0,
    ("Review claim", "Pay claim"): 120.0,
}

#: Minute 0 of the log.
ORIGIN = np.datetime64("2025-03-03T08:00:00", "s")

COLUMNS = ("case:concept:name", "concept:name", "start_timestamp", "time:timestamp", "org:resource", "org:group")


@dataclass
class Generated:
    """The log as columns (times in minutes from :data:`ORIGIN`), in completion order."""

    case: list[int] = field(default_factory=list)
    activity: list[str] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    end: list[float] = field(default_factory=list)
    resource: list[str] = field(default_factory=list)
    department: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.case)


def events_per_case() -> float:
    """Expected activities per case, from the routing (the loop's geometric number of assessments)."""
    p_info = dict(ROUTING["Assess claim"])["Request information"]
    assessments = 1 / (1 - p_info)
    return 1 + assessments + assessments * p_info + 1 + 1 + 1


def _duration(rng: random.Random, a: Activity) -> float:
    if a.kind == "lognormal":
        sigma2 = math.log(1 + (a.sd / a.mean) ** 2)
        return rng.lognormvariate(math.log(a.mean) - sigma2 / 2, math.sqrt(sigma2))
    shape = (a.mean / a.sd) ** 2
    return rng.gammavariate(shape, a.sd ** 2 / a.mean)


def _choose(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    u = rng.random()
    for name, p in options:
        u -= p
        if u < 0:
            return name
    return options[-1][0]


def generate(cases: int = 1000, seed: int = 2025, arrival_gap: float = ARRIVAL_GAP,
             stop_at_last_arrival: bool = False) -> Generated:
    """Simulate ``cases`` claims and return the log.

    With ``stop_at_last_arrival`` the log is cut when the last case arrives: cases still open then have
    only the events they completed (what an export taken on a given day looks like; they make a backlog).
    """
    rng = random.Random(seed)
    out = Generated()
    free = {d: list(people) for d, people in DEPARTMENTS.items()}
    waiting: dict[str, deque[tuple[int, str]]] = {d: deque() for d in DEPARTMENTS}
    heap: list[tuple[float, int, int, int, str, str]] = []  # (time, order, kind, case, activity, resource)
    arrive, ready, finish = 0, 1, 2
    order = 0
    t = 0.0
    for c in range(cases):
        t += rng.expovariate(1 / arrival_gap)
        heapq.heappush(heap, (t, order, arrive, c, FIRST, ""))
        order += 1
    last_arrival = t
    starts: dict[tuple[int, str], float] = {}

    def begin(now: float, c: int, name: str, person: str) -> None:
        nonlocal order
        starts[(c, name)] = now
        heapq.heappush(heap, (now + _duration(rng, ACTIVITIES[name]), order, finish, c, name, person))
        order += 1

    while heap:
        now, _, kind, c, name, person = heapq.heappop(heap)
        if stop_at_last_arrival and now > last_arrival:
            break
        if kind in (arrive, ready):
            dept = ACTIVITIES[name].department
            if free[dept]:
                begin(now, c, name, free[dept].pop(0))
            else:
                waiting[dept].append((c, name))
            continue
        dept = ACTIVITIES[name].department
        out.case.append(c)
        out.activity.append(name)
        out.start.append(starts.pop((c, name)))
        out.end.append(now)
        out.resource.append(person)
        out.department.append(dept)
        if waiting[dept]:
            nc, nname = waiting[dept].popleft()
            begin(now, nc, nname, person)
        else:
            free[dept].append(person)
            free[dept].sort(key=DEPARTMENTS[dept].index)
        if name in ROUTING:
            target = _choose(rng, ROUTING[name])
            delay = DELAYS.get((name, target))
            at = now + (rng.expovariate(1 / delay) if delay else 0.0)
            heapq.heappush(heap, (at, order, ready, c, target, ""))
            order += 1
    return out


def stamps(minutes: Sequence[float]) -> list[str]:
    """ISO 8601 UTC timestamps to the second, all at once with NumPy."""
    seconds = np.rint(np.asarray(minutes, dtype=float) * 60).astype("timedelta64[s]")
    return [s + "Z" for s in np.datetime_as_string(ORIGIN + seconds, unit="s").tolist()]


def write_log(path: str | Path, log: Generated, *, group: bool = True) -> None:
    """Write the log as CSV in PM4Py's column names; ``group=False`` leaves out ``org:group`` (as a CRM export
    that knows people, not teams, would: journeys/data/claims-mapping.yaml maps them)."""
    columns = COLUMNS if group else COLUMNS[:-1]
    rows = zip([f"CLM-{c + 1:06d}" for c in log.case], log.activity, stamps(log.start), stamps(log.end),
               log.resource, log.department, strict=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows if group else (r[:-1] for r in rows))


def main(argv: Sequence[str] = ()) -> int:
    target = Path(argv[0]) if argv else Path(__file__).with_name("claims-log.csv")
    log = generate(cases=800, seed=2025, stop_at_last_arrival=True)
    write_log(target, log, group=False)
    print(f"wrote {target}: {len(log)} events of {len(set(log.case))} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
