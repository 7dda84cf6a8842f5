"""The runner: replications in this process or in worker processes, the event log parts, progress.

:func:`simulate` checks its arguments, runs ``replications`` independent runs
(:func:`run_replication`, each one :class:`~.engine.ReplicationRun`) and hands
the records to :func:`~.summary.summarize_replications`. With ``workers > 1``
the replications run in a :class:`~concurrent.futures.ProcessPoolExecutor`;
every replication draws from streams keyed by its index (:mod:`.streams`), so
the result is the same for any number of workers. Workers never outlive the
command that started them: Ctrl-C stops them at once, and they die with their
parent when it is killed (:func:`_worker_init`).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from datetime import datetime

import numpy as np

from ..errors import InvalidArgument, TooLarge
from ..eventlog import EventLogWriter, LogPart, case_width, open_log, write_header
from ..model import Journey
from ..output import signals_held
from ..schema import MAX_STEPS
from .engine import ReplicationRun, logged_steps
from .records import Meeting, Replication, SimulationResult, Tagged
from .staff import simulation_start
from .summary import pool, summarize_replications

__all__ = ["MAX_SIMULATED_STEPS", "ProgressCallback", "run_replication", "simulate"]

#: ``progress(done, total)``: cases finished so far, of all replications.
ProgressCallback = Callable[[int, int], None]

#: The largest journey simulated (steps; for an account, all personas' steps together). Time grows with
#: steps x cases x replications: 4,000 steps with 50 cases and 10 replications take about 25 s, 20,000
#: steps over 2 minutes (benchmarks/bench_simulation.py --large). ``validate`` refuses larger journeys.
MAX_SIMULATED_STEPS = MAX_STEPS  # the same limit validate enforces


def total_cases(journey: Journey, cases: int) -> int:
    """Cases per replication: the new arrivals and the backlog."""
    return cases + sum(b.cases for b in journey.workload.backlog)


def run_replication(journey: Journey, *, cases: int, warmup: int, seed: int, index: int,
                    events: str | LogPart | None = None,
                    progress: Callable[[int], None] | None = None,
                    meeting: Meeting | None = None, start: datetime | None = None,
                    tagged: Tagged | None = None) -> Replication:
    """Run replication ``index`` and return its flat record.

    ``events`` is where to stream the event log of this replication: a path
    (a complete log with its header; the caller makes it atomic) or a
    :class:`~journeymap.eventlog.LogPart`, the folder where :func:`simulate`
    collects one headerless part per replication and joins them in
    replication order, whatever the number of workers. ``progress`` is
    called with the number of cases finished so far. ``start`` (a journey with calendars) is the
    simulation's minute 0, a real instant: working time counts from it and the event log's
    timestamps are real dates; :func:`simulate` computes it once and gives it to every replication.
    Left out for such a journey, it is :func:`~.staff.simulation_start`'s (never "around the clock").
    ``tagged``: the cases are tagged arrivals (a portfolio; ``cases`` is then only for the event log's width).
    """
    if start is None and journey.has_calendars:
        start = simulation_start(journey)
    if events is None:
        return ReplicationRun(journey, cases, warmup, seed, index, progress=progress, meeting=meeting,
                              start=start, tagged=tagged).run(index)
    if isinstance(events, LogPart):
        path, header, rep_width = events.path(index), False, events.replication_width
    else:
        path, header, rep_width = events, True, 1
    with open_log(path) as stream:
        log = EventLogWriter(stream, journey.persona.id, case_width(total_cases(journey, cases)), replication=index,
                             warmup=warmup, header=header, replication_width=rep_width,
                             steps=logged_steps(journey, meeting), start=start)
        return ReplicationRun(journey, cases, warmup, seed, index, log=log, progress=progress,
                              meeting=meeting, start=start, tagged=tagged).run(index)


def _worker_init(parent: int | None = None) -> None:
    """Set up a worker process: it must never outlive the command that started it.

    Ctrl-C is handled once, in the parent, which then stops the workers, so workers ignore SIGINT.
    SIGTERM gets its default action back (a forked worker inherits the CLI's handler, which would turn
    the parent's ``terminate()`` into an exception the worker survives). And a worker dies with its
    parent even when the parent cannot clean up (SIGKILL, a crash): on Linux the kernel sends it SIGTERM
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a watchdog thread notices the parent is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # forked while the parent held them (see _run_in_pool)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    if parent is None:
        return
    from ..workers import die_with_parent

    die_with_parent(parent)


def _check_size(journey: Journey) -> None:
    if len(journey.steps) > MAX_SIMULATED_STEPS:
        raise TooLarge(f"{len(journey.steps):,} steps are too many to simulate (the limit is "
                         f"{MAX_SIMULATED_STEPS:,}: each case walks every step, so a run would take many "
                         f"minutes); split the journey into smaller ones, for example one per stage")


def _run_here(journey: Journey, cases: int, warmup: int, seed: int, replications: int,
              events: str | LogPart | None, progress: ProgressCallback | None,
              meeting: Meeting | None, start: datetime | None, tagged: Tagged | None = None) -> list[Replication]:
    """Every replication in this process, one after the other, with progress about every 1% of cases."""
    per_rep = total_cases(journey, cases)
    total = per_rep * replications
    out = []
    for i in range(replications):
        tick = None
        if progress is not None:
            every = max(1, per_rep // 100)
            base = i * per_rep

            def tick(done: int, base: int = base, every: int = every) -> None:
                if done % every == 0 or done == per_rep:
                    progress(base + done, total)
        out.append(run_replication(journey, cases=cases, warmup=warmup, seed=seed, index=i,
                                   events=events, progress=tick, meeting=meeting, start=start, tagged=tagged))
    return out


def _run_in_pool(journey: Journey, cases: int, warmup: int, seed: int, replications: int, workers: int,
                 events: str | LogPart | None, progress: ProgressCallback | None,
                 meeting: Meeting | None, start: datetime | None, tagged: Tagged | None = None) -> list[Replication]:
    """Every replication in worker processes; results in replication order, progress per replication."""
    import multiprocessing

    per_rep = total_cases(journey, cases)
    total = per_rep * replications
    others = set(multiprocessing.active_children())  # a library caller's own processes are not ours to stop
    pool = cf.ProcessPoolExecutor(max_workers=min(workers, replications), initializer=_worker_init,
                                  initargs=(os.getpid(),))
    try:
        # The pool forks its workers in the first submit. A SIGTERM that lands during a fork runs our handler
        # inside os.fork's after-fork callbacks, where Python ignores the exception it raises: the run would
        # go on with SIGTERM already ignored. So the forks happen with SIGINT and SIGTERM held; a signal sent
        # meanwhile is delivered right after, here in the try, and stops the pool below.
        with signals_held():
            futures = [pool.submit(run_replication, journey, cases=cases, warmup=warmup, seed=seed, index=i,
                                   events=events, meeting=meeting, start=start, tagged=tagged)
                       for i in range(replications)]
        done = 0
        for fut in cf.as_completed(futures):
            fut.result()
            done += 1
            if progress is not None:
                progress(done * per_rep, total)
        results = [f.result() for f in futures]  # replication order, whatever finished first
    except BaseException:
        _stop_pool(pool, others)
        raise
    pool.shutdown()
    return results


def _stop_pool(pool: cf.ProcessPoolExecutor, others: set) -> None:
    """Stop our own workers now rather than after their replication, and leave no thread waiting on them."""
    import multiprocessing

    # The list must be taken before shutdown(), which forgets it.
    workers_started = list((getattr(pool, "_processes", None) or {}).values())
    # a worker being started when the signal came is not in the pool's list yet, but would be
    # waited for at exit (while it waits for work): stop it too
    workers_started += [p for p in multiprocessing.active_children() if p not in others]
    results_queue = getattr(pool, "_result_queue", None)  # shutdown() forgets it too
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in workers_started:
        proc.terminate()
    for proc in workers_started:
        proc.join(5)
    # A worker stopped while it was sending its replication leaves half a message in the results
    # pipe, and the pool's manager thread waits for the rest for ever; the interpreter then hangs
    # at exit joining that thread. With every worker gone, closing our copy of the pipe's write
    # end turns that wait into an end-of-file, which the manager treats as a broken pool and exits.
    writer = getattr(results_queue, "_writer", None)
    if writer is not None:
        writer.close()


def _run_all(journey: Journey, cases: int, warmup: int, seed: int, replications: int, workers: int,
             events: str | LogPart | None, progress: ProgressCallback | None,
             meeting: Meeting | None = None, start: datetime | None = None,
             tagged: Tagged | None = None) -> list[Replication]:
    _check_size(journey)
    if workers <= 1 or replications == 1:
        return _run_here(journey, cases, warmup, seed, replications, events, progress, meeting, start, tagged)
    return _run_in_pool(journey, cases, warmup, seed, replications, workers, events, progress, meeting, start,
                        tagged)


def _check_arguments(journey: Journey, cases: int, warmup: int, replications: int, workers: int) -> None:
    """Refuse arguments that leave nothing to measure, saying which and why."""
    if replications < 1:
        raise InvalidArgument(f"replications must be at least 1, got {replications}")
    if workers < 1:
        raise InvalidArgument(f"workers must be at least 1, got {workers}")
    if cases < 0:
        raise InvalidArgument(f"cases cannot be negative, got {cases}")
    total = total_cases(journey, cases)
    if total == 0:
        raise InvalidArgument("nothing to simulate: 0 cases per replication (give --cases or workload.cases)")
    if not 0 <= warmup < total:
        raise InvalidArgument(f"warmup ({warmup}) must be at least 0 and less than the {total} cases per replication")


def simulate(journey: Journey, *, cases: int | None = None, replications: int = 10, seed: int = 1,
             warmup: int | None = None, workers: int = 1, events: str | os.PathLike | None = None,
             progress: ProgressCallback | None = None, meeting: Meeting | None = None) -> SimulationResult:
    """Simulate ``replications`` independent runs of ``journey`` and summarise them.

    ``cases`` (new arrivals per replication) and ``warmup`` default to the
    file's ``workload``. ``workers > 1`` runs replications in parallel
    processes; the result is identical for any number of workers. ``events``
    writes the event log of every replication, in replication order (see
    :mod:`journeymap.eventlog`), atomically: each replication streams its
    rows to its own part file in a temporary folder next to ``events``, and
    the parts are joined once all are done, so the log is the same for any
    number of workers. ``progress(done, total)`` is called with cases
    finished so far.

    A journey with calendars runs from one start (``workload.start``, else the next Monday 09:00
    after now in the journey's time zone: :func:`~.staff.simulation_start`), computed here once and
    shared by every replication and worker, so their results agree.

    Raises :class:`~journeymap.errors.InvalidArgument` (a ``ValueError``) for arguments that leave nothing to
    measure, and :class:`~journeymap.errors.TooLarge` for a journey above :data:`MAX_SIMULATED_STEPS`.
    """
    wl = journey.workload
    cases = wl.cases if cases is None else cases
    if wl.arrivals.kind == "schedule":
        cases = min(cases, len(wl.arrivals.times))
    warmup = wl.warmup if warmup is None else warmup
    _check_arguments(journey, cases, warmup, replications, workers)
    start = simulation_start(journey) if journey.has_calendars else None
    if events is not None:
        from ..output import write_with

        reps: list[Replication] = []

        def write(tmp: str) -> None:
            if replications == 1:  # one part is the whole log: write it in place, header included
                reps.extend(_run_all(journey, cases, warmup, seed, 1, workers, tmp, progress, meeting, start))
                return
            with tempfile.TemporaryDirectory(prefix=".journeymap-parts-", dir=os.path.dirname(tmp)) as folder:
                parts = LogPart(folder, replications)
                reps.extend(_run_all(journey, cases, warmup, seed, replications, workers, parts, progress, meeting,
                                     start))
                with open(tmp, "w", encoding="utf-8", newline="") as out:
                    write_header(out)
                    for i in range(replications):
                        with open(parts.path(i), encoding="utf-8", newline="") as part:
                            shutil.copyfileobj(part, out, 1 << 20)

        write_with(events, write, suffix=".csv")
    else:
        reps = _run_all(journey, cases, warmup, seed, replications, workers, None, progress, meeting, start)
    summary = summarize_replications(journey, reps, seed=seed, cases=cases, warmup=warmup)
    cycle: np.ndarray = pool([r.cases["cycle_time"] for r in reps])
    return SimulationResult(summary=summary, cycle_times=cycle, replications=tuple(reps))
