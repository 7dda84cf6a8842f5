"""Tests for journeymap.experience: the pure functions (the simulated figures are in test_simulation_summary.py)."""

from __future__ import annotations

import pytest

from journeymap.experience import lived_score, moments_at_risk, persona_experience, to_index


def tp(step: str, share: float, moment: bool = True, visits: float = 1.0) -> dict:
    return {"step": step, "name": step.title(), "stage": "s", "moment_of_truth": moment,
            "share_over_tolerance": share, "visits_per_case": visits, "wait_per_visit": 60.0, "tolerance": 30.0}


def test_moments_at_risk_are_moments_of_truth_that_waited_too_long_most_at_risk_first():
    rows = moments_at_risk([
        tp("a", 0.10),
        tp("b", 0.90, moment=False),    # not a moment of truth: not listed however long it waits
        tp("c", 0.40),
        tp("d", 0.0),                   # never beyond tolerance: not at risk
        tp("e", 0.40, visits=2.0),      # as often as c, on more visits per case: first
    ])
    assert [r["step"] for r in rows] == ["e", "c", "a"]
    assert set(rows[0]) == {"step", "name", "stage", "share_over_tolerance", "visits_per_case", "wait_per_visit",
                            "tolerance"}


def test_no_moment_at_risk_gives_an_empty_list():
    assert moments_at_risk([]) == [] and moments_at_risk([tp("a", 0.0)]) == []


def test_index_of_one_soured_touchpoint_by_hand():
    # emotion +1, beyond tolerance on 25% of visits: 0.75 x 1 + 0.25 x (-2) = 0.25 -> 50 + 50 x 0.25 / 3
    assert lived_score(1, 0.25) == pytest.approx(0.25)
    e = persona_experience([{"step": "a", "stage": "s", "emotion": 1, "visits_per_case": 1, "over_tolerance": 0.25}],
                           ["s"])
    assert e["overall"] == pytest.approx(to_index(0.25)) == pytest.approx(50 + 50 * 0.25 / 3)
