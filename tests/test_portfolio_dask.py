"""A book's replications on Dask (journeymap.simulation.portfolio.simulate_book with executor="dask"): the same
summary as on this machine, replications back in order with progress per replication, Ctrl-C leaving no cluster
behind, and an unreachable scheduler a clear message with exit code 3 from `portfolio` and `compare`."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import socket

import pytest
from helpers import JOURNEYS

from journeymap import sweep
from journeymap.cli import main
from journeymap.errors import EXIT_ENVIRONMENT, EXIT_USAGE, InvalidArgument
from journeymap.portfolio import load_portfolio
from journeymap.portfolio_compare import compare_books
from journeymap.simulation.portfolio import simulate_portfolio

pytest.importorskip("distributed")

#: The bundled book made small: 60 days of 3 + 5 + 8 + 12 accounts (same tiers, templates, managers and money).
SHRINK = {"horizon: 1y": "horizon: 60d", "accounts: 20\n": "accounts: 3\n", "accounts: 60\n": "accounts: 5\n",
          "accounts: 120\n": "accounts: 8\n", "accounts: 200\n": "accounts: 12\n"}
REPS = 3
SEED = 4


def _small(folder, name: str, more_managers: bool = False):
    """A copy of journeys/book.yaml (or book-more-managers.yaml) shrunk by SHRINK, beside its templates."""
    if not (folder / "book-renewal.yaml").exists():
        shutil.copytree(JOURNEYS, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("data", "book*.yaml"))
        for f in ("book-renewal.yaml", "book-support.yaml"):
            shutil.copy(JOURNEYS / f, folder / f)
    text = (JOURNEYS / ("book-more-managers.yaml" if more_managers else "book.yaml")).read_text(encoding="utf-8")
    for old, new in SHRINK.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _small(tmp_path_factory.mktemp("book"), "small.yaml")


@pytest.fixture(scope="module")
def local(small):
    """The small book's summary on this process (1 worker), the reference."""
    return simulate_portfolio(load_portfolio(small), replications=REPS, seed=SEED, workers=1)


def _json(summary) -> str:
    return json.dumps(summary, sort_keys=True, default=str)


def test_a_local_cluster_of_two_processes_gives_the_same_summary(small, local):
    """Every replication a Dask task on a LocalCluster of 2 processes: the JSON of summarize_book is identical
    to one worker's, the replications come back in replication order, and progress moves one replication's
    cases at a time up to the total."""
    calls = []
    summary, book, result = simulate_portfolio(load_portfolio(small), replications=REPS, seed=SEED, workers=2,
                                               executor="dask", progress=lambda done, total: calls.append((done,
                                                                                                          total)))
    reference, _, reference_result = local
    assert summary["cases"] > 0 and summary["book"]["experience"] is not None
    assert _json(summary) == _json(reference)
    # in order: replication r is replication r of the local run (they differ from each other, so order matters)
    means = [float(r.cases["cycle_time"].mean()) for r in result.replications]
    assert means == [float(r.cases["cycle_time"].mean()) for r in reference_result.replications]
    assert len(set(means)) == REPS
    total = calls[-1][1]
    assert [c[0] for c in calls] == [total * k // REPS for k in range(1, REPS + 1)]
    assert {c[1] for c in calls} == {total}


def test_an_interruption_cancels_the_tasks_and_closes_the_cluster(small):
    """Ctrl-C (here raised by the progress callback after the first replication) propagates, and the
    LocalCluster's worker processes are gone when it does."""
    before = set(multiprocessing.active_children())

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_portfolio(load_portfolio(small), replications=REPS, seed=SEED, workers=2, executor="dask",
                           progress=stop)
    assert set(multiprocessing.active_children()) <= before


@pytest.mark.parametrize("kwargs, message", [
    ({"executor": "spark"}, "unknown executor 'spark'"),
    ({"scheduler": "tcp://x:8786"}, "needs executor='dask'"),
])
def test_bad_executor_arguments_are_refused(small, kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        simulate_portfolio(load_portfolio(small), replications=1, seed=SEED, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_scheduler_exits_3_with_a_message(small, tmp_path, capsys, monkeypatch):
    """`portfolio --scheduler` and `compare BOOK BOOK --scheduler` to a port nobody listens on: exit 3, the
    address and what to check on stderr, no traceback, nothing written."""
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT", 1.0)  # the default is tested in tests/test_sweep.py
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "out"
    assert main(["portfolio", str(small), "--scheduler", address, "--no-progress", "-o", str(out)]) == EXIT_ENVIRONMENT
    err = capsys.readouterr().err
    assert f"could not reach the Dask scheduler at {address}" in err and "leave out --scheduler" in err
    assert "Traceback" not in err and not out.exists()
    other = _small(small.parent, "small-more.yaml", more_managers=True)
    assert main(["compare", str(small), str(other), "--replications", "2", "--scheduler", address,
                 "--no-progress"]) == EXIT_ENVIRONMENT
    err = capsys.readouterr().err
    assert f"could not reach the Dask scheduler at {address}" in err and "Traceback" not in err


def test_dask_options_on_two_journeys_are_refused(capsys):
    """compare of two journeys runs on this machine: --dask is a usage error, not silently ignored."""
    assert main(["compare", str(JOURNEYS / "insurance-before.yaml"), str(JOURNEYS / "insurance-after.yaml"),
                 "--dask", "--no-progress"]) == EXIT_USAGE
    assert "--dask and --scheduler run the replications of two portfolios" in capsys.readouterr().err


def test_compare_of_two_books_on_a_running_cluster_gives_the_same_business_case(small, capsys):
    """`compare BOOK BOOK --scheduler ADDRESS --json` on a cluster already running (here a LocalCluster the test
    starts): the same JSON as compare_books on this process, and the cluster is left running as it was."""
    from distributed import Client, LocalCluster

    other = _small(small.parent, "small-more.yaml", more_managers=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main(["compare", str(small), str(other), "--replications", "2", "--seed", str(SEED),
                     "--scheduler", cluster.scheduler_address, "--json", "--no-progress"]) == 0
        with Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
    data = json.loads(capsys.readouterr().out)
    expected = compare_books(load_portfolio(small), load_portfolio(other), replications=2, seed=SEED, workers=1)
    assert data == json.loads(json.dumps(expected))
    assert data["business_case"] is not None and data["changes"]


def test_a_comparison_of_two_books_on_dask_starts_one_cluster(small, monkeypatch):
    """compare_books with executor='dask' and no scheduler starts one LocalCluster for both books (they connect to
    it by its address), and gives the comparison the local run gives."""
    started = []
    real = sweep.local_cluster

    def counting(workers):
        started.append(workers)
        return real(workers)

    monkeypatch.setattr(sweep, "local_cluster", counting)
    p = load_portfolio(small)
    on_dask = compare_books(p, p, replications=2, seed=SEED, workers=2, executor="dask")
    assert started == [2]
    assert _json(on_dask) == _json(compare_books(p, p, replications=2, seed=SEED, workers=1))
