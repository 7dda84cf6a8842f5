"""Shared pytest fixtures for the journeymap test suite.

Keep this file small and tidy: fixtures used by more than one test module live here, each with a
one-line docstring. Helpers and constants that test modules import (paths of the examples, ``dedent``,
made-up results) live in ``tests/helpers.py``: a test module never imports from this file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import (
    ACCOUNT,
    EXAMPLES,
    HANDOFF_JOURNEY,
    JOURNEYS,
    OVERLAY_BASE,
    dedent,
    example_ids,
    fake_results,
    journey_of,
    persona,
)

#: the ``chromium`` fixture of the browser tests (tests/browser.py), for every test module
pytest_plugins = ("browser",)

# --------------------------------------------------------------------------- journey files


@pytest.fixture(params=EXAMPLES, ids=example_ids())
def example_path(request) -> Path:
    """Each journeys/*.yaml in turn."""
    return request.param


@pytest.fixture
def write_journey(tmp_path):
    """Factory: write YAML text (dedented) to a temp file and return its path."""

    def write(text: str, name: str = "journey.yaml") -> Path:
        path = tmp_path / name
        path.write_text(dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def base(write_journey) -> Path:
    """The overlay tests' base journey (helpers.OVERLAY_BASE), written as base.yaml beside write_journey's files."""
    return write_journey(OVERLAY_BASE, "base.yaml")


# --------------------------------------------------------------------------- rendering (fake simulation results)


@pytest.fixture
def acme():
    """The example CIO journey, loaded."""
    from journeymap import load_journey

    return load_journey(JOURNEYS / "acme-cio.yaml")


@pytest.fixture
def acme_results(acme) -> dict:
    """Made-up simulation results for the CIO journey, in the simulator's JSON shape."""
    return fake_results(acme)


@pytest.fixture
def no_graphviz(monkeypatch, tmp_path_factory):
    """No ``dot`` anywhere: PATH is one empty folder, as on a machine without Graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("no-graphviz")))
    assert shutil.which("dot") is None


# --------------------------------------------------------------------------- simulation


@pytest.fixture
def handoff_journey():
    """The deterministic two-case handoff journey (see helpers.HANDOFF_JOURNEY)."""
    return journey_of(HANDOFF_JOURNEY)


# --------------------------------------------------------------------------- accounts


@pytest.fixture
def trio(write_journey):
    """Three personas: a is ready after 1h, b after 5h, c after 2h; ops has one person."""
    write_journey(persona("a", "decision_maker", "1h"), "a.yaml")
    write_journey(persona("b", "influencer", "5h"), "b.yaml")
    write_journey(persona("c", "user", "2h"), "c.yaml")

    def account(at: str):
        return write_journey(ACCOUNT.format(at=at), "account.yaml")

    return account
