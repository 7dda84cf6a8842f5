"""The account-level experience index: how each persona, and the account as a whole, lives the journey.

CX tools measure individuals' opinions; an account renews on the experience
of the people who decide. The index combines what the designer declared (each
touchpoint's emotion score) with what the simulation shows (how long the
persona waited for it), then weights the personas by their influence.

For a touchpoint *t* of persona *p*:

* ``e_t``, its emotion score, -3..+3 (0 when the file gives none);
* ``T_t``, its tolerance: the touchpoint's own ``tolerance``, else the
  persona's; with neither, waiting never sours it;
* ``f_t``, the share of its simulated visits where the persona waited longer
  than ``T_t`` for it. The wait counts queueing for staff, the inbox delay on
  the flow into it, and waiting at a consensus gate;
* the **lived score** ``a_t = (1 - f_t)·e_t + f_t·min(e_t, SOUR)``: a wait
  beyond tolerance turns the touchpoint to at most ``SOUR`` (-2, frustrated).

A persona's score in a stage is the mean of ``a_t`` over its touchpoints in
that stage, weighted by their expected visits per case ``v_t``; its overall
score weights all its touchpoints the same way. Scores map to a 0-100
**index**, ``I = 50 + 50·score/3``: 0 is every touchpoint furious, 50 neutral
and 100 delighted. The **account index** of a stage is the influence-weighted
mean of the indexes of the personas who have touchpoints in it, and the
overall account index is the influence-weighted mean of the personas'
overall indexes.

A **moment of truth at risk** is a moment-of-truth touchpoint whose wait
went beyond its tolerance on some simulated visit (``f_t > 0``); they are
listed most at risk (largest ``f_t``) first, because those are the
touchpoints where the renewal is won or lost and the wait already sours them.

The index is computed on the pooled cases and, for its confidence interval,
once per replication (``index_stats`` of the simulation summary).

A persona's **pull** is ``w_p·(I_p - I_account) / Σw``: how many index
points it moves the account's index, so the most negative pull names the
persona who drags the account down.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SOUR", "lived_score", "to_index", "persona_experience", "account_experience", "moments_at_risk"]

#: What a touchpoint becomes, at most, when the persona waited beyond its tolerance.
SOUR = -2.0


def lived_score(emotion: float, over_tolerance: float) -> float:
    """``a = (1 - f)·e + f·min(e, SOUR)``."""
    return (1 - over_tolerance) * emotion + over_tolerance * min(emotion, SOUR)


def to_index(score: float) -> float:
    """-3..+3 to 0..100."""
    return 50 + 50 * score / 3


def persona_experience(touchpoints: Sequence[Mapping[str, Any]], stages: Sequence[str]) -> dict[str, Any]:
    """One persona's experience from its touchpoints.

    Each touchpoint is ``{"step", "stage", "emotion", "visits_per_case", "over_tolerance"}``
    (``emotion`` may be None: neutral). Returns the per-touchpoint lived scores,
    the index per stage (None where the persona has no touchpoint) and overall.
    """
    rows = []
    sums: dict[str, list[float]] = {s: [0.0, 0.0] for s in stages}
    total = [0.0, 0.0]
    for t in touchpoints:
        e = float(t["emotion"]) if t.get("emotion") is not None else 0.0
        f = float(t.get("over_tolerance") or 0.0)
        v = float(t.get("visits_per_case", 1.0))
        a = lived_score(e, f)
        rows.append({"step": t["step"], "stage": t["stage"], "emotion": e, "over_tolerance": f,
                     "visits_per_case": v, "lived": a})
        if v > 0:
            sums.setdefault(t["stage"], [0.0, 0.0])
            sums[t["stage"]][0] += v * a
            sums[t["stage"]][1] += v
            total[0] += v * a
            total[1] += v
    per_stage = {s: (to_index(sums[s][0] / sums[s][1]) if sums[s][1] > 0 else None) for s in sums}
    overall = to_index(total[0] / total[1]) if total[1] > 0 else None
    return {"touchpoints": rows, "stages": per_stage, "overall": overall}


def account_experience(personas: Mapping[str, Mapping[str, Any]], influence: Mapping[str, float],
                       stages: Sequence[str]) -> dict[str, Any]:
    """Weight the personas' experience (from :func:`persona_experience`) into the account's.

    Returns the account index per stage and overall, each persona's pull on
    the overall index, and the persona pulling it down most.
    """
    per_stage: dict[str, Any] = {}
    for s in stages:
        num = den = 0.0
        for p, exp in personas.items():
            value = exp["stages"].get(s)
            if value is not None:
                num += influence[p] * value
                den += influence[p]
        per_stage[s] = num / den if den > 0 else None
    num = den = 0.0
    for p, exp in personas.items():
        if exp["overall"] is not None:
            num += influence[p] * exp["overall"]
            den += influence[p]
    overall = num / den if den > 0 else None
    pull = {}
    for p, exp in personas.items():
        if exp["overall"] is not None and overall is not None:
            pull[p] = influence[p] * (exp["overall"] - overall) / den
    weakest = min(pull, key=lambda p: (pull[p], p)) if pull else None
    return {
        "stages": per_stage,
        "overall": overall,
        "pull": pull,
        "pulled_down_by": (weakest if weakest is not None and pull[weakest] < 0
                           and not math.isclose(pull[weakest], 0.0, abs_tol=1e-12) else None),
    }


def moments_at_risk(touchpoints: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The moments of truth whose wait exceeded the tolerance on some visit, most at risk first.

    Each touchpoint is ``{"step", "name", "stage", "moment_of_truth", "share_over_tolerance",
    "visits_per_case", "wait_per_visit", "tolerance"}`` (``share_over_tolerance``: 0..1 of its
    visits). Returns those with ``moment_of_truth`` and a share above 0, without the flag,
    sorted by share (then visits per case), ties in the given order.

    >>> moments_at_risk([
    ...     {"step": "a", "name": "A", "stage": "s", "moment_of_truth": True, "share_over_tolerance": 0.1,
    ...      "visits_per_case": 1.0, "wait_per_visit": 60.0, "tolerance": 30.0},
    ...     {"step": "b", "name": "B", "stage": "s", "moment_of_truth": False, "share_over_tolerance": 0.9,
    ...      "visits_per_case": 1.0, "wait_per_visit": 90.0, "tolerance": 30.0},
    ...     {"step": "c", "name": "C", "stage": "s", "moment_of_truth": True, "share_over_tolerance": 0.4,
    ...      "visits_per_case": 1.0, "wait_per_visit": 50.0, "tolerance": 30.0}])[0]["step"]
    'c'
    """
    keys = ("step", "name", "stage", "share_over_tolerance", "visits_per_case", "wait_per_visit", "tolerance")
    risky = [{k: t[k] for k in keys} for t in touchpoints
             if t.get("moment_of_truth") and (t.get("share_over_tolerance") or 0.0) > 0]
    return sorted(risky, key=lambda t: (-t["share_over_tolerance"], -t["visits_per_case"]))
