"""Sweeps (journeymap/sweep.py): the same results on every executor, a store that resumes and refuses
another journey's results, and a clear error for an unreachable Dask scheduler."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import socket
import sqlite3
import time

import pytest
from helpers import journey_of, queue_journey

from journeymap import sweep
from journeymap.comparison import replication_metrics
from journeymap.errors import InvalidArgument, JourneymapError, SchedulerUnreachable, StoreMismatch
from journeymap.simulation import simulate
from journeymap.sweep import Scenario, Store, run_sweep, scenario_hash

CASES = 40
REPS = 3


def _scenarios(n: int = 3) -> list[Scenario]:
    """``n`` designs of one queue: 1, 2, ... people at the desk."""
    return [Scenario(f"desk={c}", journey_of(queue_journey(c, 20, 15)), {"desk": c}) for c in range(1, n + 1)]


@pytest.fixture(scope="module")
def reference() -> sweep.SweepResult:
    """Three scenarios x three replications run in this process (one worker)."""
    return run_sweep(_scenarios(), replications=REPS, seed=7, cases=CASES, workers=1)


def test_a_unit_is_the_replication_of_simulate(reference):
    """Each unit's metrics are replication_metrics of the same replication of an ordinary simulate()."""
    journey = reference.scenarios[1].journey
    expected = replication_metrics(journey, simulate(journey, cases=CASES, replications=REPS, seed=7))
    assert list(reference.metrics[1]) == expected
    assert reference.computed == 9 and reference.reused == 0
    assert reference.values(0, "cycle_time_mean") == [m["cycle_time_mean"] for m in reference.metrics[0]]
    # more staff, shorter waits: the scenarios really differ
    assert reference.values(0, "cycle_time_mean")[0] > reference.values(2, "cycle_time_mean")[0]


def test_two_local_workers_give_identical_results(reference):
    result = run_sweep(_scenarios(), replications=REPS, seed=7, cases=CASES, workers=2)
    assert result.metrics == reference.metrics
    assert result.hashes == reference.hashes


def test_dask_local_cluster_of_two_processes_gives_identical_results(reference, monkeypatch):
    """A real LocalCluster: two worker processes, units as Dask tasks of several units each."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep, "TASKS_PER_WORKER", 1)  # 9 units, 2 workers: a task per scenario (3 units)
    result = run_sweep(_scenarios(), replications=REPS, seed=7, cases=CASES, workers=2, executor="dask")
    assert result.metrics == reference.metrics


def test_a_running_cluster_given_by_address_gives_identical_results(reference):
    """What --scheduler tcp://HOST:8786 does: the same work sent to a cluster that is already running."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        result = run_sweep(_scenarios(), replications=REPS, seed=7, cases=CASES, executor="dask",
                           scheduler=c.scheduler_address)
    assert result.metrics == reference.metrics


@pytest.mark.parametrize("units, workers, expected", [
    # 2 scenarios x 4 replications on 1 worker: 8 // 8 = 1 unit a task
    ([(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3)], 1, [[0], [1], [2], [3], [0], [1], [2], [3]]),
    # 40 units of one scenario on 1 worker: 5 units a task
    ([(0, r) for r in range(40)], 1, [list(range(r, r + 5)) for r in range(0, 40, 5)]),
    # 30 units, 3 a task, but never two scenarios in one task: scenario 0's 4th unit is a task alone
    ([(0, r) for r in range(4)] + [(1, r) for r in range(26)], 1,
     [[0, 1, 2], [3]] + [list(range(r, min(r + 3, 26))) for r in range(0, 26, 3)]),
    # the same 30 units on 2 workers: 30 // 16 = 1 unit a task
    ([(0, r) for r in range(30)], 2, [[r] for r in range(30)]),
])
def test_dask_tasks_batch_units_of_one_scenario(units, workers, expected):
    batches = sweep._batches([sweep.Unit(*u) for u in units], workers)
    assert [[u.replication for u in b] for b in batches] == expected
    assert [u for b in batches for u in b] == units  # every unit once, in order


def test_a_store_resumes_and_computes_only_what_is_missing(tmp_path, monkeypatch, reference):
    calls = []
    real = sweep.simulate_unit

    def counting(*args):
        calls.append(args[4])
        return real(*args)

    monkeypatch.setattr(sweep, "simulate_unit", counting)
    store = tmp_path / "sweep.sqlite"
    first = run_sweep(_scenarios()[:2], replications=2, seed=7, cases=CASES, workers=1, store=store)
    assert (first.computed, first.reused, len(calls)) == (4, 0, 4)
    calls.clear()
    # one more scenario and one more replication: 3 x 3 - 2 x 2 = 5 new units
    second = run_sweep(_scenarios(), replications=REPS, seed=7, cases=CASES, workers=1, store=store)
    assert (second.computed, second.reused, len(calls)) == (5, 4, 5)
    assert second.metrics == reference.metrics  # stored floats come back exactly
    calls.clear()
    third = run_sweep(_scenarios(), replications=REPS, seed=7, cases=CASES, workers=1, store=store)
    assert (third.computed, third.reused, calls) == (0, 9, [])
    assert third.metrics == reference.metrics
    # another seed is another key: nothing reused
    other = run_sweep(_scenarios(1), replications=1, seed=8, cases=CASES, workers=1, store=store)
    assert other.reused == 0


@pytest.mark.parametrize("workers", [
    1,  # interrupted in this process
    2,  # interrupted while forked workers run: they are stopped, the store keeps finished units only
])
def test_an_interrupted_sweep_leaves_whole_units_and_resumes(tmp_path, reference, workers):
    store = tmp_path / "sweep.sqlite"
    children = set(multiprocessing.active_children())

    def stop_after_four(done: int, total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(_scenarios(), replications=REPS, seed=7, cases=CASES, workers=workers, store=store,
                  progress=stop_after_four)
    assert set(multiprocessing.active_children()) <= children  # no worker left behind
    with Store(store) as db:
        assert db.count() == 4
    resumed = run_sweep(_scenarios(), replications=REPS, seed=7, cases=CASES, workers=workers, store=store)
    assert (resumed.computed, resumed.reused) == (5, 4)
    assert resumed.metrics == reference.metrics


def test_a_store_of_another_journey_version_is_refused(tmp_path):
    store = tmp_path / "sweep.sqlite"
    old = _scenarios(1)
    run_sweep(old, replications=1, seed=7, cases=CASES, workers=1, store=store)
    journey = old[0].journey
    newer = dataclasses.replace(journey, departments=(dataclasses.replace(journey.departments[0], capacity=5),))
    with pytest.raises(StoreMismatch) as err:
        run_sweep([Scenario("newer", newer)], replications=1, seed=7, cases=CASES, workers=1, store=store)
    message = str(err.value)
    assert sweep.journey_hash(journey)[:12] in message and sweep.journey_hash(newer)[:12] in message
    assert "another store path" in message
    with Store(store) as db:
        assert db.count() == 1  # nothing was added
    # a scenario of the same base journey is welcome when the base is named
    result = run_sweep([Scenario("newer", newer)], replications=1, seed=7, cases=CASES, workers=1, store=store,
                       base=journey)
    assert result.computed == 1


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("not a database, just notes\n" * 100, encoding="utf-8")
    with pytest.raises(StoreMismatch, match="not a journeymap sweep store"):
        run_sweep(_scenarios(1), replications=1, seed=7, cases=CASES, workers=1, store=path)


def test_the_store_is_plain_sqlite(tmp_path):
    """Anyone can read the results: one row per unit, metrics as JSON, the base journey in meta."""
    store = tmp_path / "sweep.sqlite"
    result = run_sweep(_scenarios(1), replications=2, seed=7, cases=CASES, workers=1, store=store)
    conn = sqlite3.connect(store)
    rows = conn.execute("SELECT scenario, seed, replication, label FROM results ORDER BY replication").fetchall()
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    conn.close()
    assert rows == [(result.hashes[0], 7, 0, "desk=1"), (result.hashes[0], 7, 1, "desk=1")]
    assert meta["journey_hash"] == sweep.journey_hash(result.scenarios[0].journey)


def test_the_scenario_hash_is_stable_and_sees_every_change():
    a = journey_of(queue_journey(2, 20, 15))
    moved = dataclasses.replace(a, source="elsewhere/queue.yaml")
    slower = journey_of(queue_journey(2, 21, 15))
    key = scenario_hash(a, cases=10, warmup=0)
    assert key == scenario_hash(journey_of(queue_journey(2, 20, 15)), cases=10, warmup=0)  # loaded again
    assert key == scenario_hash(moved, cases=10, warmup=0)  # where the file lives is not what it is
    assert len({key, scenario_hash(slower, cases=10, warmup=0), scenario_hash(a, cases=11, warmup=0),
                scenario_hash(a, cases=10, warmup=1)}) == 4


def test_an_unreachable_scheduler_is_a_clear_error_within_ten_seconds():
    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    began = time.monotonic()
    with pytest.raises(SchedulerUnreachable) as err:
        run_sweep(_scenarios(1), replications=1, seed=7, cases=CASES, executor="dask", scheduler=address)
    assert time.monotonic() - began < sweep.CONNECT_TIMEOUT + 2
    assert address in str(err.value) and "leave out --scheduler" in str(err.value)
    # the CLI's exit code 3 (an outside failure), not 2 (a wrong command line)
    assert isinstance(err.value, JourneymapError) and not isinstance(err.value, InvalidArgument)


def _server(reply: bytes | None):
    """A TCP server on a free local port that is not a Dask scheduler: it accepts one connection, reads, then
    sends ``reply`` (an HTTP answer, like a web server or a proxy) or nothing at all (a silent listener)."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(15)

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            if reply is not None:
                conn.sendall(reply)
            time.sleep(5)  # keep the connection open, as a server would

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.mark.parametrize("reply", [
    None,  # accepts the connection and never answers: Dask's handshake read alone would wait for ever
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",  # read by Dask as a frame of exabytes
])
def test_a_server_that_is_not_a_scheduler_is_a_clear_error_in_time(reply):
    pytest.importorskip("distributed")
    server = _server(reply)
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    began = time.monotonic()
    try:
        with pytest.raises(SchedulerUnreachable) as err:
            run_sweep(_scenarios(1), replications=1, seed=7, cases=CASES, executor="dask", scheduler=address,
                      connect_timeout=1.0)
    finally:
        server.close()
    assert time.monotonic() - began < 1.0 + 2
    assert address in str(err.value) and "not" in str(err.value) and "leave out --scheduler" in str(err.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"executor": "spark"}, "unknown executor 'spark'"),  # a typo names the choices
    ({"scheduler": "tcp://x:8786"}, "needs executor='dask'"),  # an address for the local executor
    ({"workers": 0}, "workers must be at least 1"),
    ({"replications": 0}, "replications must be at least 1"),
])
def test_bad_arguments_are_refused(kwargs, message):
    args = {"replications": 1, "seed": 7, "cases": CASES, **kwargs}
    with pytest.raises(InvalidArgument, match=message):
        run_sweep(_scenarios(1), **args)


# --------------------------------------------------------------------------- journeymap replicate


def test_replicate_prints_the_metrics_and_resumes_from_its_store(tmp_path, write_journey, capsys):
    from journeymap.cli import main

    path = write_journey(queue_journey(2, 20, 15))
    store = tmp_path / "runs.sqlite"
    argv = ["replicate", str(path), "--replications", "3", "--cases", "30", "--store", str(store), "--no-progress"]
    assert main(argv + ["--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "(3 simulated, 0 from the store)" in out and "cycle_time_mean" in out and "95% CI" in out
    assert main(argv + ["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["computed"], data["reused"]) == (0, 3)
    expected = run_sweep([Scenario("queue", journey_of(queue_journey(2, 20, 15)))], replications=3, seed=1,
                         cases=30, workers=1)
    assert [r["cycle_time_mean"] for r in data["replications"]] == expected.values(0, "cycle_time_mean")


def test_replicate_exit_codes(tmp_path, write_journey, capsys, monkeypatch):
    from journeymap.cli import main

    store = tmp_path / "runs.sqlite"
    first = write_journey(queue_journey(2, 20, 15), "first.yaml")
    other = write_journey(queue_journey(3, 20, 15), "other.yaml")
    assert main(["replicate", str(first), "--replications", "2", "--cases", "20", "--store", str(store),
                 "--no-progress"]) == 0
    capsys.readouterr()
    # a store of another journey: exit 2, both versions named
    assert main(["replicate", str(other), "--replications", "2", "--cases", "20", "--store", str(store),
                 "--no-progress"]) == 2
    assert "never mixed" in capsys.readouterr().err
    # an unreachable scheduler: exit 3 (the timeout shortened here; the 10 s default is tested above)
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT", 1.0)
    assert main(["replicate", str(first), "--replications", "2", "--scheduler", "tcp://127.0.0.1:9",
                 "--no-progress"]) == 3
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
