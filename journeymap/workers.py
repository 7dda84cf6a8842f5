"""Jobs in worker processes that never outlive the command: how the main job draws on every core.

Drawing (Graphviz and matplotlib) is most of the main job's time, and each journey's pictures are
independent of the others', so the main job hands them to :class:`Jobs` and goes on simulating the next
journey. Each job is a function called in a child process; its outcome (a value or an exception) comes
back through a pipe as a :class:`concurrent.futures.Future`, and outcomes are handed to the caller in the
order the jobs were submitted, so the log, the exit code and the files do not depend on which job
finished first, nor on the number of workers.

Why a forked child per job rather than :class:`concurrent.futures.ProcessPoolExecutor`:

* no thread in the parent: a pool runs a manager thread, and the simulator forks its own worker pool in
  the same process meanwhile (forking a process that runs threads can deadlock the child);
* each child starts with the parent's modules already imported (matplotlib takes about half a second to
  import) and the job's data already in memory (nothing is pickled on the way in);
* a child leads its own process group, so stopping it also stops the ``dot`` it is running.

Where ``fork`` is not available (Windows) or not safe (macOS), jobs run one after the other in the
calling process, with the same outcomes.

A child ignores Ctrl-C (the parent handles it once and stops the children), dies on SIGTERM with the
``dot`` it runs, and dies with its parent even when the parent cannot clean up (SIGKILL): on Linux the
kernel sends it SIGTERM (``prctl(PR_SET_PDEATHSIG)``), elsewhere a watchdog thread notices.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from types import TracebackType
from typing import Any

__all__ = ["Jobs", "available_cores", "can_fork", "worker_init", "die_with_parent"]

#: How long a stopped child may take to exit before it is killed (seconds).
STOP_TIMEOUT = 5.0


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether jobs can run in forked children: POSIX, except macOS (where system libraries break after fork)."""
    return hasattr(os, "fork") and sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def die_with_parent(parent: int) -> None:
    """Make this process end when ``parent`` does, even if ``parent`` is killed with SIGKILL."""
    watched = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            watched = libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0) == 0
        except (OSError, AttributeError):
            watched = False
    if os.getppid() != parent:  # the parent died before we could ask to die with it
        os._exit(1)
    if not watched:

        def watchdog() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watchdog, name="journeymap-parent-watchdog", daemon=True).start()


def _stop_group(signum: int, frame: Any) -> None:
    """SIGTERM in a child that leads its process group: end the group, the ``dot`` it runs included."""
    os.killpg(os.getpid(), signal.SIGKILL)


def worker_init(parent: int) -> None:
    """Set up a child: Ctrl-C is the parent's to handle, SIGTERM ends it (and its ``dot``), and it dies
    with ``parent``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # the parent held them while it forked us (see Jobs._start)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        os.setpgid(0, 0)  # its own process group, so SIGTERM can take the dot it runs along
        signal.signal(signal.SIGTERM, _stop_group)
    except OSError:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)


def _portable(exc: BaseException) -> tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]:
    """An exception as (class, args, attributes), which pickles even when its ``__init__`` takes other
    arguments than its ``args`` (pickle would call ``cls(*args)``: ``DotNotFound`` takes none)."""
    import pickle

    parts = (type(exc), exc.args, dict(vars(exc)))
    try:
        pickle.dumps(parts)
    except Exception:
        return RuntimeError, (f"{type(exc).__name__}: {exc}",), {}
    return parts


def _rebuilt(parts: tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]) -> BaseException:
    cls, args, attributes = parts
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(attributes)
    return exc


def _child(conn: Connection, parent: int, fn: Callable[..., Any], args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> None:
    worker_init(parent)
    try:
        message: tuple[str, Any] = ("value", fn(*args, **kwargs))
    except BaseException as exc:  # every outcome goes back to the parent, which decides
        message = ("error", _portable(exc))
    try:
        conn.send(message)
    except Exception as exc:  # a value that does not pickle
        conn.send(("error", _portable(RuntimeError(f"the job's result could not be sent back: {exc}"))))
    conn.close()


@dataclass
class _Job:
    then: Callable[[Future], None]
    future: Future = field(default_factory=Future)
    process: Any = None
    conn: Connection | None = None


class Jobs:
    """Run functions in up to ``workers`` child processes; hand each outcome to its ``then`` callback in
    submission order.

    Use as a context manager: leaving it normally waits for every job; leaving it with an exception
    (Ctrl-C, SIGTERM, an error) stops the children still running and waits for them to exit, so nothing
    writes after it returns. ``workers <= 1`` (or no ``fork``) runs each job at once in this process.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers if workers > 1 and can_fork() else 1
        self._pending: deque[_Job] = deque()   # submitted, outcome not handed over yet, in order
        self._running: dict[Connection, _Job] = {}

    def __enter__(self) -> Jobs:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.wait_all()
        else:
            self.stop()

    def submit(self, then: Callable[[Future], None], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)``; ``then(future)`` is called with its outcome, in submission order."""
        job = _Job(then)
        self._pending.append(job)
        if self.workers <= 1:
            try:
                job.future.set_result(fn(*args, **kwargs))
            except Exception as exc:  # handed over like a child's; Ctrl-C goes straight up
                job.future.set_exception(exc)
        else:
            while len(self._running) >= self.workers:
                self._collect()
            self._start(job, fn, args, kwargs)
        self._hand_over()

    def wait_all(self) -> None:
        """Wait for every job and hand over every outcome."""
        while self._running:
            self._collect()
        self._hand_over()

    def stop(self) -> None:
        """Stop the children still running (SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT`) and reap them."""
        jobs = list(self._running.values())
        self._running.clear()
        for job in jobs:
            job.process.terminate()
        for job in jobs:
            job.process.join(STOP_TIMEOUT)
            if job.process.is_alive():
                job.process.kill()
                job.process.join()
            if job.conn is not None:
                job.conn.close()
        self._pending.clear()

    def _start(self, job: _Job, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from .output import signals_held

        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        job.process = ctx.Process(target=_child, args=(send, os.getpid(), fn, args, kwargs),
                                  name="journeymap-worker", daemon=True)
        # Ctrl-C between the fork and the bookkeeping would leave a child that stop() does not know of,
        # still writing after the staging folder is gone: the two happen with SIGINT and SIGTERM held
        with signals_held():
            job.process.start()
            job.conn = receive
            self._running[receive] = job
        send.close()  # the child's end: closed here, so a child that dies unannounced reads as end-of-file

    def _collect(self) -> None:
        """Wait until at least one child has answered or died; record its outcome."""
        for conn in wait(list(self._running)):
            assert isinstance(conn, Connection)
            job = self._running.pop(conn)
            try:
                kind, payload = conn.recv()
            except (EOFError, OSError):
                job.process.join()
                kind, payload = "error", _portable(RuntimeError(
                    f"a worker process ended without an answer (exit code {job.process.exitcode})"))
            conn.close()
            job.process.join()
            if kind == "value":
                job.future.set_result(payload)
            else:
                job.future.set_exception(_rebuilt(payload))

    def _hand_over(self) -> None:
        while self._pending and self._pending[0].future.done():
            job = self._pending.popleft()
            job.then(job.future)
