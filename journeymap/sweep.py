"""Sweeps: many scenarios x replications, on local processes or a Dask cluster, resumable from a SQLite store.

A sweep runs every :class:`Scenario` (a label, a journey, the lever settings that made it) for
``replications`` replications. Each (scenario, replication) pair is one **work unit**: replication
``index`` of the scenario's journey with the sweep's ``seed``, turned into one dict of metrics by
:func:`journeymap.comparison.replication_metrics`. A unit draws its random numbers from streams keyed by
the seed and its replication index (:mod:`journeymap.simulation.streams`), never from the order in which
units run, so the results are identical whatever runs them:

* ``executor="local"`` (the default): forked worker processes of this machine (``workers``, default every
  core), which die with the command; ``workers=1`` runs the units in this process.
* ``executor="dask"``: a :class:`distributed.LocalCluster` of ``workers`` processes started for the sweep,
  or, with ``scheduler="tcp://host:8786"``, a Dask cluster that is already running (its workers need
  journeymap installed). An unreachable scheduler raises :class:`~journeymap.errors.SchedulerUnreachable`
  after :data:`CONNECT_TIMEOUT` seconds (the CLI's exit code 3).

With ``store=PATH`` each unit's metrics go into an embedded SQLite file as soon as the unit is done, one
transaction per unit, keyed by (scenario hash, seed, replication): Ctrl-C leaves every finished unit
stored and nothing half-written, and the next run with the same store computes only the missing units.
The scenario hash (:func:`scenario_hash`) covers every field of the journey model, the cases, the
warm-up, the simulation start and :data:`STORE_FORMAT`, so a changed journey is never mistaken for a
stored one. The store also remembers the sweep's base journey (its ``meta`` table): a store made for
another journey (or another version of it) is refused with :class:`~journeymap.errors.StoreMismatch`.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from .errors import InvalidArgument, JourneymapError, SchedulerUnreachable, StoreMismatch
from .model import Journey

__all__ = ["Scenario", "SweepResult", "Store", "run_sweep", "journey_hash", "scenario_hash", "simulate_unit",
           "simulate_units", "STORE_FORMAT", "CONNECT_TIMEOUT", "EXECUTORS", "TASKS_PER_WORKER"]

#: Version of what a stored unit holds (the metrics of :func:`replication_metrics`). Part of every
#: scenario hash: raise it when the metrics of the same replication would change, so old stores are not reused.
STORE_FORMAT = 1

#: Seconds to wait for a Dask scheduler given by address (connection and handshake) before giving up: 7, so
#: that with the command's own start-up (1-3 s on a busy 2-core machine) the message comes within 10 s.
CONNECT_TIMEOUT = 7.0

#: The ways to run a sweep.
EXECUTORS = ("local", "dask")

#: ``progress(done, total)``: work units finished (stored ones included) of all units.
ProgressCallback = Callable[[int, int], None]

#: Fields of the model that say where a journey came from, not what it is: moving a file keeps its hash.
#: How sure the inputs are (docs/uncertainty.md) does not change what a replication simulates either.
_BOOKKEEPING = {"Journey": ("source", "base"), "Step": ("duration_estimate",), "Flow": ("delay_estimate",),
                "Workload": ("arrivals_estimate",)}


@dataclass(frozen=True)
class Scenario:
    """One design to simulate: a label for people, the journey, and the lever settings that made it."""

    label: str
    journey: Journey
    settings: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepResult:
    """The metrics of every scenario and replication of a sweep.

    ``metrics[i][r]`` is :func:`~journeymap.comparison.replication_metrics`' dict for replication ``r`` of
    ``scenarios[i]`` (an empty dict when that replication measured no case). ``computed`` units were
    simulated by this call, ``reused`` were read from the store.
    """

    scenarios: tuple[Scenario, ...]
    hashes: tuple[str, ...]
    seed: int
    replications: int
    metrics: tuple[tuple[dict[str, float], ...], ...]
    computed: int
    reused: int

    def values(self, scenario: int, metric: str) -> list[float]:
        """One metric of one scenario, per replication (replications without it are left out)."""
        return [m[metric] for m in self.metrics[scenario] if metric in m]

    def summary(self, scenario: int = 0) -> list[dict[str, Any]]:
        """Each metric of one scenario: its mean over replications and the Student-t 95% interval
        (``None`` bounds with fewer than two replications), in the order the metrics first appear."""
        from .statistics import t_interval

        names = dict.fromkeys(k for m in self.metrics[scenario] for k in m)
        out = []
        for name in names:
            values = self.values(scenario, name)
            low, high = t_interval(values)
            out.append({"metric": name, "mean": sum(values) / len(values), "ci_low": low, "ci_high": high,
                        "replications": len(values)})
        return out


# --------------------------------------------------------------------------- hashing


def _canonical(value: Any) -> Any:
    """A JSON-ready form of a model value that is the same in every process and on every machine."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        skip = _BOOKKEEPING.get(name, ())
        out = {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in skip}
        out["__type__"] = name
        return out
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot hash a {type(value).__name__} in a journey model: teach journeymap.sweep._canonical")


def _sha256(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def journey_hash(journey: Journey) -> str:
    """The stable sha256 of every field of the journey model (not the file it came from) and
    :data:`STORE_FORMAT`: the version of a journey a store belongs to."""
    return _sha256({"journey": _canonical(journey), "format": STORE_FORMAT})


def scenario_hash(journey: Journey, *, cases: int, warmup: int, start: datetime | None = None) -> str:
    """The stable sha256 of what a replication's results depend on: :func:`journey_hash`, the cases, the
    warm-up and the start of a journey with calendars."""
    return _sha256({"journey": journey_hash(journey), "cases": cases, "warmup": warmup,
                    "start": start.isoformat() if start is not None else None})


# --------------------------------------------------------------------------- one work unit


def simulate_unit(journey: Journey, cases: int, warmup: int, seed: int, index: int,
                  start: datetime | None = None) -> dict[str, float]:
    """Replication ``index`` of ``journey`` and its metrics: what a worker runs for one work unit.

    The same numbers as replication ``index`` of :func:`journeymap.simulation.simulate` with the same seed,
    cases and warm-up (its streams depend on nothing else).
    """
    from .comparison import replication_metrics
    from .simulation.records import SimulationResult
    from .simulation.runner import run_replication

    rep = run_replication(journey, cases=cases, warmup=warmup, seed=seed, index=index, start=start)
    result = SimulationResult(summary={}, cycle_times=rep.cases["cycle_time"], replications=(rep,))
    rows = replication_metrics(journey, result)
    return {k: float(v) for k, v in rows[0].items()} if rows else {}


@dataclass(frozen=True)
class _Plan:
    """A scenario ready to run: its journey, resolved cases and warm-up, start and hash."""

    journey: Journey
    cases: int
    warmup: int
    start: datetime | None
    key: str


def _plan(journey: Journey, cases: int | None, warmup: int | None, replications: int) -> _Plan:
    """Resolve cases and warm-up as :func:`~journeymap.simulation.simulate` does and check them."""
    from .simulation.runner import _check_arguments, _check_size
    from .simulation.staff import simulation_start

    wl = journey.workload
    n = wl.cases if cases is None else cases
    if wl.arrivals.kind == "schedule":
        n = min(n, len(wl.arrivals.times))
    w = wl.warmup if warmup is None else warmup
    _check_arguments(journey, n, w, replications, 1)
    _check_size(journey)
    start = simulation_start(journey) if journey.has_calendars else None
    return _Plan(journey, n, w, start, scenario_hash(journey, cases=n, warmup=w, start=start))


# --------------------------------------------------------------------------- the store


class Store:
    """An SQLite file of finished work units: ``results(scenario, seed, replication) -> metrics JSON``.

    Every write is its own transaction (``with self.conn``), so an interruption at any moment leaves
    whole units only. The ``meta`` table holds the base journey's hash and the store format; :meth:`claim`
    refuses a store made for another journey.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30.0)
            with self.conn:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS results (scenario TEXT NOT NULL, seed INTEGER NOT NULL, "
                    "replication INTEGER NOT NULL, label TEXT NOT NULL, metrics TEXT NOT NULL, "
                    "PRIMARY KEY (scenario, seed, replication))")
            self.conn.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a crash of the program
        except sqlite3.DatabaseError as exc:
            raise StoreMismatch(f"{self.path} is not a journeymap sweep store ({exc}); give another store path "
                                f"(--store) or remove the file") from exc

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def claim(self, base: Journey, base_hash: str) -> None:
        """Mark the store as this base journey's, or refuse it when it belongs to another one."""
        meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            with self.conn:
                self.conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                      [("journey_hash", base_hash), ("journey", f"{base.id} ({base.name})"),
                                       ("format", str(STORE_FORMAT))])
            return
        if meta.get("journey_hash") != base_hash or meta.get("format") != str(STORE_FORMAT):
            raise StoreMismatch(
                f"the store {self.path} holds results of journey {meta.get('journey', '?')} version "
                f"{meta.get('journey_hash', '?')[:12]} (store format {meta.get('format', '?')}), not of journey "
                f"{base.id} ({base.name}) version {base_hash[:12]} (store format {STORE_FORMAT}): results of two "
                f"journey versions are never mixed; give another store path (--store) or remove the file")

    def stored(self, key: str, seed: int) -> dict[int, dict[str, float]]:
        """The stored metrics of one scenario and seed, by replication."""
        rows = self.conn.execute("SELECT replication, metrics FROM results WHERE scenario = ? AND seed = ?",
                                 (key, seed))
        return {rep: json.loads(text) for rep, text in rows}

    def put(self, key: str, seed: int, replication: int, label: str, metrics: Mapping[str, float]) -> None:
        """Store one finished unit (one transaction)."""
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
                              (key, seed, replication, label, json.dumps(dict(metrics), allow_nan=True)))

    def count(self) -> int:
        """How many units the store holds."""
        return int(self.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])


# --------------------------------------------------------------------------- executors

class Unit(NamedTuple):
    """One work unit: replication ``replication`` of scenario number ``scenario``."""

    scenario: int
    replication: int


#: Called with each finished unit and its metrics, in the calling process.
OnResult = Callable[[Unit, dict[str, float]], None]


def _args(plans: Sequence[_Plan], unit: Unit, seed: int) -> tuple[Any, ...]:
    """The arguments of :func:`simulate_unit` for one unit."""
    p = plans[unit.scenario]
    return (p.journey, p.cases, p.warmup, seed, unit.replication, p.start)


def _run_here(plans: Sequence[_Plan], units: Sequence[Unit], seed: int, on_result: OnResult) -> None:
    for unit in units:
        on_result(unit, simulate_unit(*_args(plans, unit, seed)))


def _run_processes(plans: Sequence[_Plan], units: Sequence[Unit], seed: int, workers: int,
                   on_result: OnResult) -> None:
    """Units in forked worker processes (the simulator's pool: they ignore Ctrl-C and die with us)."""
    from .output import signals_held
    from .simulation.runner import _stop_pool, _worker_init
    from .workers import can_fork

    others = set(multiprocessing.active_children())  # a library caller's own processes are not ours to stop
    context = multiprocessing.get_context("fork") if can_fork() else None
    pool = cf.ProcessPoolExecutor(max_workers=min(workers, len(units)), mp_context=context,
                                  initializer=_worker_init, initargs=(os.getpid(),))
    try:
        with signals_held():  # the pool forks in the first submit: see simulation.runner._run_in_pool
            futures = {pool.submit(simulate_unit, *_args(plans, unit, seed)): unit for unit in units}
        for fut in cf.as_completed(futures):
            on_result(futures[fut], fut.result())
    except BaseException:
        _stop_pool(pool, others)
        raise
    pool.shutdown()


def local_cluster(workers: int) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded processes, as every Dask run here starts one
    (close it when done; it is a context manager too)."""
    try:
        from distributed import LocalCluster
    except ImportError as exc:
        raise JourneymapError("the Dask executor needs dask.distributed: pip install \"dask[distributed]\"") from exc
    # no dashboard, its HTTP port any free one (not 8787, which another cluster may hold), and the workers'
    # warnings about the tasks a Ctrl-C cancels kept out of the terminal
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                        silence_logs=logging.ERROR)


def _dask_client(scheduler: str | None, workers: int, timeout: float) -> tuple[Any, Any]:
    """A connected ``distributed.Client`` and the LocalCluster started for it (None for a given scheduler)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise JourneymapError("the Dask executor needs dask.distributed: pip install \"dask[distributed]\"") from exc
    if scheduler is None:
        cluster = local_cluster(workers)
        return Client(cluster), cluster
    try:
        _handshake(scheduler, timeout)
        return Client(scheduler, timeout=timeout), None
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise SchedulerUnreachable(
            f"could not reach the Dask scheduler at {scheduler} within {timeout:g} s ({exc}); check that it runs "
            f"('dask scheduler' prints its address, tcp://HOST:8786 by default), the host and port, and any "
            f"firewall between; or leave out --scheduler to run on this machine's processes") from exc


def _handshake(scheduler: str, timeout: float) -> None:
    """Connect to ``scheduler`` and exchange Dask's handshake, all within ``timeout`` seconds, or raise OSError.

    Why: ``distributed.Client(address, timeout=...)`` bounds the TCP connection only, not the handshake after
    it. When something else listens at the address (the Dask dashboard on 8787, a web server, a proxy), the
    handshake's read waits for ever, or reads an HTTP reply as a frame of exabytes (MemoryError). Done here
    first, in a thread of its own (the caller may be inside an event loop), each becomes a clear message.
    """
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    args = Security().get_connection_args("client")  # what Client uses: dask's configured TLS, for tls://

    async def shake() -> None:
        comm = await asyncio.wait_for(connect(scheduler, timeout=timeout, **args), timeout)
        await comm.close()

    with cf.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(asyncio.run, shake()).result()
        except TimeoutError as exc:
            raise OSError(f"no Dask scheduler answered within {timeout:g} s; if something else listens there, it "
                          f"is not one (the dashboard's port, 8787, is not the scheduler's)") from exc
        except (OSError, ValueError, TypeError):
            raise
        except Exception as exc:  # whatever a peer that is not a Dask scheduler makes the handshake raise
            raise OSError(f"something answered that is not a Dask scheduler: {type(exc).__name__}") from exc


def simulate_units(journey: Journey, cases: int, warmup: int, seed: int, indexes: Sequence[int],
                   start: datetime | None = None) -> list[dict[str, float]]:
    """:func:`simulate_unit` for several replications of one journey: one Dask task for a batch of units."""
    return [simulate_unit(journey, cases, warmup, seed, i, start) for i in indexes]


#: Dask tasks per worker a sweep aims at: enough to balance the load, few enough that the scheduler's
#: few milliseconds per task stay small next to the units' time (see docs/sweeps.md).
TASKS_PER_WORKER = 8


def _batches(units: Sequence[Unit], workers: int) -> list[list[Unit]]:
    """Units grouped into tasks: consecutive replications of one scenario, about
    ``len(units) / (workers * TASKS_PER_WORKER)`` units each (never two scenarios in one task)."""
    size = max(1, len(units) // (max(1, workers) * TASKS_PER_WORKER))
    out: list[list[Unit]] = []
    for unit in units:
        if out and out[-1][0].scenario == unit.scenario and len(out[-1]) < size:
            out[-1].append(unit)
        else:
            out.append([unit])
    return out


def _run_dask(plans: Sequence[_Plan], units: Sequence[Unit], seed: int, workers: int, scheduler: str | None,
              timeout: float, on_result: OnResult) -> None:
    """Units as Dask tasks, on a LocalCluster of ``workers`` processes or on the cluster at ``scheduler``.

    A task is a batch of units (:func:`_batches`); each unit of a finished task is handed over (and
    stored) on its own, so what is stored does not depend on the batching.
    """
    from distributed import as_completed

    client, cluster = _dask_client(scheduler, workers, timeout)
    futures: dict[Any, list[Unit]] = {}
    try:
        if scheduler is not None:  # the running cluster's size, not ours
            workers = len(client.scheduler_info().get("workers", {})) or workers
        # each journey travels to the cluster once, not once per task
        needed = sorted({unit.scenario for unit in units})
        sent = dict(zip(needed, client.scatter([plans[i].journey for i in needed], hash=False), strict=True))
        for batch in _batches(units, workers):
            p = plans[batch[0].scenario]
            fut = client.submit(simulate_units, sent[batch[0].scenario], p.cases, p.warmup, seed,
                                [u.replication for u in batch], p.start, pure=False)
            futures[fut] = batch
        for fut in as_completed(list(futures)):
            for unit, metrics in zip(futures[fut], fut.result(), strict=True):
                on_result(unit, metrics)
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- the sweep


def _check(scenarios: Sequence[Scenario], executor: str, scheduler: str | None, workers: int | None) -> None:
    if not scenarios:
        raise InvalidArgument("a sweep needs at least one scenario")
    if executor not in EXECUTORS:
        raise InvalidArgument(f"unknown executor {executor!r} (must be one of {', '.join(EXECUTORS)})")
    if scheduler is not None and executor != "dask":
        raise InvalidArgument("a scheduler address needs executor='dask'")
    if workers is not None and workers < 1:
        raise InvalidArgument(f"workers must be at least 1, got {workers}")


def _execute(plans: Sequence[_Plan], units: Sequence[Unit], seed: int, *, executor: str, workers: int,
             scheduler: str | None, timeout: float, on_result: OnResult) -> None:
    if not units:
        return
    if executor == "dask":
        _run_dask(plans, units, seed, workers, scheduler, timeout, on_result)
    elif workers <= 1 or len(units) == 1:
        _run_here(plans, units, seed, on_result)
    else:
        _run_processes(plans, units, seed, workers, on_result)


def run_sweep(scenarios: Iterable[Scenario], *, replications: int, seed: int = 1, cases: int | None = None,
              warmup: int | None = None, workers: int | None = None, executor: str = "local",
              scheduler: str | None = None, store: str | os.PathLike[str] | None = None,
              base: Journey | None = None, progress: ProgressCallback | None = None,
              connect_timeout: float | None = None) -> SweepResult:
    """Run every scenario for ``replications`` replications and return every replication's metrics.

    ``cases`` and ``warmup`` default to each journey's ``workload``. ``workers`` defaults to every core
    (local processes, or the LocalCluster's worker processes). ``executor="dask"`` runs the units on
    Dask: a LocalCluster, or the running cluster at ``scheduler`` (an address such as
    ``tcp://host:8786``, reached within ``connect_timeout`` seconds (default :data:`CONNECT_TIMEOUT`) or
    :class:`~journeymap.errors.SchedulerUnreachable`). ``store`` is an SQLite file: units already
    in it are read, not simulated, and each new one is written as soon as it is done. ``base`` is the
    journey the store belongs to (default: the first scenario's); a store of another base journey
    raises :class:`~journeymap.errors.StoreMismatch`. ``progress(done, total)`` counts units.

    The result is the same for any executor and number of workers, with or without a store.
    """
    from .workers import available_cores

    scenarios = tuple(scenarios)
    _check(scenarios, executor, scheduler, workers)
    plans = [_plan(s.journey, cases, warmup, replications) for s in scenarios]
    results: dict[Unit, dict[str, float]] = {}
    db = Store(store) if store is not None else None
    try:
        if db is not None:
            base_journey = base if base is not None else scenarios[0].journey
            db.claim(base_journey, journey_hash(base_journey))
            for i, p in enumerate(plans):
                for rep, metrics in db.stored(p.key, seed).items():
                    if rep < replications:
                        results[Unit(i, rep)] = metrics
        reused, total = len(results), len(plans) * replications
        todo = [Unit(i, r) for i in range(len(plans)) for r in range(replications) if (i, r) not in results]
        if progress is not None:
            progress(reused, total)

        def on_result(unit: Unit, metrics: dict[str, float]) -> None:
            if db is not None:
                db.put(plans[unit.scenario].key, seed, unit.replication, scenarios[unit.scenario].label, metrics)
            results[unit] = metrics
            if progress is not None:
                progress(len(results), total)

        _execute(plans, todo, seed, executor=executor, workers=workers or available_cores(), scheduler=scheduler,
                 timeout=CONNECT_TIMEOUT if connect_timeout is None else connect_timeout, on_result=on_result)
    finally:
        if db is not None:
            db.close()
    table = tuple(tuple(results[Unit(i, r)] for r in range(replications)) for i in range(len(plans)))
    return SweepResult(scenarios=scenarios, hashes=tuple(p.key for p in plans), seed=seed,
                       replications=replications, metrics=table, computed=len(todo), reused=reused)
