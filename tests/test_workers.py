"""Jobs in worker processes (journeymap/workers.py): outcomes in submission order, errors carried back,
children that never outlive their work."""

from __future__ import annotations

import os
import time

import pytest
from helpers import alive, wait_for

from journeymap.errors import DotNotFound, JourneyInvalid
from journeymap.problems import Problem
from journeymap.workers import Jobs, can_fork

forks = pytest.mark.skipif(not can_fork(), reason="jobs run in the calling process where fork is unavailable")


def _sleep_then(seconds: float, value):
    time.sleep(seconds)
    return value


def _raise(exc: BaseException):
    raise exc


def _outcome(future):
    try:
        return ("value", future.result())
    except BaseException as exc:  # noqa: B036 - the test records whatever came back
        return ("error", exc)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_outcomes_are_handed_over_in_submission_order_whatever_finishes_first(workers):
    seen = []
    with Jobs(workers) as jobs:
        for i, delay in enumerate([0.4, 0.0, 0.2, 0.0]):
            jobs.submit(lambda fut: seen.append(fut.result()), _sleep_then, delay, i)
    assert seen == [0, 1, 2, 3]


@pytest.mark.parametrize("workers", [1, 2])
def test_errors_come_back_as_themselves_even_when_they_do_not_pickle(workers):
    problem = Problem("j.yaml", 1, 2, "error", "missing-key", "missing key 'x'", None)
    outcomes = []
    with Jobs(workers) as jobs:
        for exc in (DotNotFound(), JourneyInvalid([problem]), ValueError("bad")):
            jobs.submit(lambda fut: outcomes.append(_outcome(fut)), _raise, exc)
    (k1, dot), (k2, invalid), (k3, value) = outcomes
    assert k1 == k2 == k3 == "error"
    assert type(dot) is DotNotFound and "Graphviz" in str(dot)       # DotNotFound() takes no arguments
    assert type(invalid) is JourneyInvalid and invalid.problems == [problem]
    assert type(value) is ValueError and str(value) == "bad"


@forks
def test_work_runs_in_other_processes_at_most_workers_at_once():
    pids = []
    with Jobs(2) as jobs:
        for _ in range(4):
            jobs.submit(lambda fut: pids.append(fut.result()), os.getpid)
    assert os.getpid() not in pids and len(set(pids)) == 4             # a fresh child per job


@forks
def test_a_child_that_dies_is_a_failed_job_not_a_hang():
    outcomes = []
    with Jobs(2) as jobs:
        jobs.submit(lambda fut: outcomes.append(_outcome(fut)), os._exit, 7)
        jobs.submit(lambda fut: outcomes.append(_outcome(fut)), _sleep_then, 0.0, "next")
    assert outcomes[0][0] == "error" and "exit code 7" in str(outcomes[0][1])
    assert outcomes[1] == ("value", "next")


@forks
def test_an_interrupt_in_a_job_reaches_the_caller():
    with pytest.raises(KeyboardInterrupt):
        with Jobs(2) as jobs:
            jobs.submit(lambda fut: fut.result(), _raise, KeyboardInterrupt())


def _run_a_program(pid_file: str) -> None:
    """Start a long program (as a drawing job starts dot), say its pid, wait for it."""
    import subprocess

    proc = subprocess.Popen(["sleep", "60"])
    with open(pid_file + ".tmp", "w") as fh:
        fh.write(str(proc.pid))
    os.replace(pid_file + ".tmp", pid_file)
    proc.wait()


@forks
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc to see the programs")
def test_leaving_with_an_exception_stops_the_children_and_their_programs_at_once(tmp_path):
    pid_files = [str(tmp_path / f"{i}.pid") for i in range(2)]
    started = time.monotonic()
    with pytest.raises(RuntimeError):
        with Jobs(2) as jobs:
            for pid_file in pid_files:
                jobs.submit(lambda fut: None, _run_a_program, pid_file)
            children = [job.process for job in jobs._running.values()]
            assert wait_for(lambda: all(os.path.exists(p) for p in pid_files), timeout=20.0), \
                "the programs did not start"
            raise RuntimeError("stop")
    assert time.monotonic() - started < 10
    assert children and not any(p.is_alive() for p in children)
    programs = [int(open(p).read()) for p in pid_files]
    assert wait_for(lambda: not any(alive(pid) for pid in programs), timeout=5), "a program outlived its job"
