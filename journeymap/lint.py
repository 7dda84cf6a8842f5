"""Lint: warnings about journeys that are valid but smell.

Each warning has a rule id, documented in ``docs/format.md``; thresholds are
the module constants below. Warnings never stop a journey from loading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .analysis import (
    expected_visits,
    handoffs,
    is_overloaded,
    longest_backstage_chain,
    overload_hint,
    ping_pongs,
    return_probability,
    stability_of,
)
from .graph import build_graph
from .loading import Located, Path
from .model import Journey
from .problems import Problem

__all__ = ["LINT_RULES", "MAX_STAGE_HANDOFFS", "MAX_BACKSTAGE_CHAIN", "MAX_REWORK_PROBABILITY", "lint_journey"]

#: A stage with more internal handoffs than this gets a warning.
MAX_STAGE_HANDOFFS = 5
#: More hidden steps than this in a row, before the customer hears back, gets a warning.
MAX_BACKSTAGE_CHAIN = 4
#: Rework taken more often than this gets a warning.
MAX_REWORK_PROBABILITY = 0.3

#: Relative tolerance of threshold comparisons: expected counts and probabilities are sums of
#: floats (0.1 + 0.2 is 0.30000000000000004), and "more than 30%" must not fire at exactly 30%.
_TOLERANCE = 1e-9


def _above(value: float, limit: float) -> bool:
    """``value > limit``, ignoring float error."""
    return value > limit + _TOLERANCE * max(1.0, abs(limit))


LINT_RULES: dict[str, str] = {
    "handoff-heavy-stage": f"a stage where a case goes through more than {MAX_STAGE_HANDOFFS} internal handoffs "
                           "(expected)",
    "long-backstage-chain": f"more than {MAX_BACKSTAGE_CHAIN} hidden steps in a row before the customer hears back",
    "missing-emotion": "a touchpoint without an emotion score",
    "missing-channel": "a frontstage touchpoint without a channel",
    "ping-pong": "work that goes from department A to B and straight back to A",
    "heavy-rework": f"a step that more than {MAX_REWORK_PROBABILITY:.0%} of its cases come back to redo",
    "overloaded-department": "a department asked for more work than its capacity can do: queues grow without end",
    "hidden-moment-of-truth": "a moment of truth on a step the customer cannot see",
    "hidden-survey": "a survey or a wait tolerance on a step the customer cannot see (it is ignored there)",
    "no-value-adding": "no step is marked value_adding, so flow efficiency is zero",
    "unused-department": "a department that owns no step",
    "working-time-without-calendar": "working hours (wh) or business days (bd) in a journey with no calendar: "
                                     "they count around the clock",
    "empty-stage": "a stage with no steps",
}


@dataclass
class _Lint:
    """One journey being linted: the model, its graph and expected visits, and the file's positions."""

    journey: Journey
    g: nx.DiGraph
    visits: dict[str, float]
    loc: Located
    step_index: dict[str, int]
    flow_path: dict[tuple[str, str], Path]
    out: list[Problem] = field(default_factory=list)

    def warn(self, path: Path, rule: str, message: str, hint: str = "", key: bool = False) -> None:
        self.out.append(self.loc.problem(path, rule, message, hint, key=key, severity="warning"))

    def step_at(self, sid: str, key: str = "id") -> Path:
        """Where a warning about step ``sid`` points: its id, or another of its keys."""
        return ("steps", self.step_index[sid], key)

    def raw_step(self, sid: str) -> dict[str, Any]:
        return _raw_step(self.loc, self.step_index[sid])


def lint_journey(journey: Journey, loc: Located, step_index: dict[str, int],
                 flow_path: dict[tuple[str, str], Path]) -> list[Problem]:
    """Warnings for a journey that passed every error check: each function of :data:`_CHECKS` adds its own."""
    g = build_graph(journey)
    lint = _Lint(journey, g, expected_visits(g), loc, step_index, flow_path)
    for check in _CHECKS:
        check(lint)
    return lint.out + _load_warnings(journey, g, loc)


def _handoff_heavy_stages(lint: _Lint) -> None:
    stage_pos = _stage_positions(lint.loc)
    per_stage: dict[str, float] = {}
    for h in handoffs(lint.g):
        per_stage[h["stage"]] = per_stage.get(h["stage"], 0.0) + lint.visits[h["from_step"]] * h["probability"]
    for stage, count in per_stage.items():
        if _above(count, MAX_STAGE_HANDOFFS):
            lint.warn(stage_pos.get(stage, ("stages",)), "handoff-heavy-stage",
                      f"a case goes through {count:.1f} internal handoffs in stage {stage!r} "
                      f"(more than {MAX_STAGE_HANDOFFS})",
                      "each handoff is a queue and a chance to lose information: merge steps or give one team the case")


def _long_backstage_chain(lint: _Lint) -> None:
    chain = longest_backstage_chain(lint.g)
    if chain["length"] > MAX_BACKSTAGE_CHAIN:
        lint.warn(lint.step_at(chain["steps"][0]), "long-backstage-chain",
                  f"{chain['length']} hidden steps in a row ({chain['steps'][0]} ... {chain['steps'][-1]}) "
                  "before the customer hears back",
                  "add a status update touchpoint, or cut the chain")


def _touchpoints(lint: _Lint) -> None:
    """Touchpoints without an emotion or a channel; moments of truth the customer cannot see."""
    for s in lint.journey.steps:
        if s.is_touchpoint and s.emotion is None:
            lint.warn(lint.step_at(s.id), "missing-emotion", f"touchpoint {s.id!r} has no emotion score",
                      "add emotion: -3 (furious) .. +3 (delighted)")
        if s.lane == "frontstage" and not s.channel:
            lint.warn(lint.step_at(s.id), "missing-channel", f"frontstage touchpoint {s.id!r} has no channel",
                      "add channel: email, phone, meeting, portal, ...")
        if s.moment_of_truth and not s.is_touchpoint:
            lint.warn(lint.step_at(s.id, "moment_of_truth") if "moment_of_truth" in lint.raw_step(s.id)
                      else lint.step_at(s.id),
                      "hidden-moment-of-truth", f"{s.id!r} is a moment of truth but the customer cannot see it",
                      "mark the touchpoint where the customer experiences it instead", key=True)


def _hidden_surveys(lint: _Lint) -> None:
    for s in lint.journey.steps:
        raw = lint.raw_step(s.id)
        for key in ("survey", "tolerance"):
            if key in raw and not s.is_touchpoint:
                lint.warn(lint.step_at(s.id, key), "hidden-survey",
                          f"{s.id!r} has a {key} but the customer cannot see this step, so it is ignored",
                          f"move the {key} to the touchpoint where the customer experiences it", key=True)


def _ping_pongs(lint: _Lint) -> None:
    for pp in ping_pongs(lint.g):
        u, v, w = pp["steps"]
        a, b, _ = pp["departments"]
        lint.warn(lint.flow_path.get((v, w), lint.step_at(v)), "ping-pong",
                  f"work goes {a} -> {b} -> {a} ({u} -> {v} -> {w})",
                  f"let {a} finish the case, or give {b}'s part to {a}")


def _heavy_rework(lint: _Lint) -> None:
    returns = return_probability(lint.g, lint.visits)
    warned: set[str] = set()
    for f in lint.journey.flows:
        r = returns[f.target]
        if f.rework and _above(r, MAX_REWORK_PROBABILITY) and f.target not in warned:
            warned.add(f.target)
            lint.warn(lint.flow_path.get((f.source, f.target), lint.step_at(f.source)), "heavy-rework",
                      f"{r:.0%} of the cases at {f.target!r} come back to do it again (via {f.source!r})",
                      "find why work comes back and fix it at the source (checklists, better intake)")


def _no_value_adding(lint: _Lint) -> None:
    if not any(s.value_adding for s in lint.journey.steps):
        lint.warn(("steps",), "no-value-adding", "no step is marked value_adding: flow efficiency will be 0%",
                  "mark the steps the customer would pay for with value_adding: true", key=True)


def _working_time_without_calendar(lint: _Lint) -> None:
    """``4wh`` or ``2bd`` where nothing keeps working time: they silently mean ``4h`` and ``2d`` (the first use)."""
    journey = lint.journey
    if journey.has_calendars:
        return
    places: list[tuple[Path, str]] = [(lint.step_at(s.id, "duration"), f"step {s.id!r}")
                                      for s in journey.steps if s.basis != "elapsed"]
    places += [(lint.flow_path.get((f.source, f.target), lint.step_at(f.source)), f"the delay {f.source} -> {f.target}")
               for f in journey.flows if f.delay_basis != "elapsed"]
    places += [(("targets", i), f"target {t.id!r}") for i, t in enumerate(journey.targets) if t.basis != "elapsed"]
    if places:
        path, what = places[0]
        more = f" (and {len(places) - 1} more)" if len(places) > 1 else ""
        lint.warn(path, "working-time-without-calendar",
                  f"{what}{more} is in working hours or business days, but the journey has no calendar: "
                  "they count around the clock (4wh as 4h, 2bd as 2d)",
                  "give the departments (or the journey) a calendar: see 'Working time' in docs/format.md")


def _unused(lint: _Lint) -> None:
    """Departments that own no step, and stages that hold none."""
    owners = {s.owner for s in lint.journey.steps}
    for i, d in enumerate(lint.loc.data.get("departments") or []):
        if isinstance(d, dict) and d.get("id") not in owners:
            lint.warn(("departments", i, "id"), "unused-department", f"department {d.get('id')!r} owns no step",
                      "remove it, or give it the steps it does")
    stage_pos = _stage_positions(lint.loc)
    used_stages = {s.stage for s in lint.journey.steps}
    for st in lint.journey.stages:
        if st.id not in used_stages:
            lint.warn(stage_pos.get(st.id, ("stages",)), "empty-stage", f"stage {st.id!r} has no steps",
                      "remove the stage or add its steps")


#: The lint checks, each for one or a few rules of :data:`LINT_RULES`; ``overloaded-department`` comes from
#: :func:`_load_warnings`, on the same figures as the simulation summary's ``stability``.
_CHECKS: tuple[Callable[[_Lint], None], ...] = (
    _handoff_heavy_stages, _long_backstage_chain, _touchpoints, _hidden_surveys, _ping_pongs, _heavy_rework,
    _no_value_adding, _unused, _working_time_without_calendar,
)


def _raw_step(loc: Located, i: int) -> dict[str, Any]:
    steps = loc.data.get("steps") or []
    return steps[i] if i < len(steps) and isinstance(steps[i], dict) else {}


def _stage_positions(loc: Located) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for i, s in enumerate(loc.data.get("stages") or []):
        if isinstance(s, str):
            out.setdefault(s, ("stages", i))
        elif isinstance(s, dict) and isinstance(s.get("id"), str):
            out.setdefault(s["id"], ("stages", i, "id"))
    return out


def _load_warnings(journey: Journey, g, loc: Located) -> list[Problem]:
    """Departments offered as much work as they can do, or more (:func:`journeymap.analysis.stability_of`).

    The same exact figures as the ``stability`` of a simulation summary, and the same hint: when the
    department's heaviest step is long for work, writing its elapsed time as a flow ``delay:`` comes first.
    """
    loads = {d["department"]: d for d in stability_of(journey)}
    out = []
    for i, d in enumerate(loc.data.get("departments") or []):
        if not isinstance(d, dict) or d.get("id") not in loads:
            continue
        load = loads[d["id"]]
        if not is_overloaded(load["utilisation"]):
            continue
        out.append(loc.problem(("departments", i, "capacity") if "capacity" in d else ("departments", i, "id"),
                               "overloaded-department",
                               f"department {load['department']!r} would be {load['utilisation']:.0%} busy: each case "
                               f"needs {load['work_per_case']:.0f} min of its work, and a case arrives every "
                               f"{load['arrival_gap']:.0f} min",
                               overload_hint(load["department"], load["step"], load["step_duration"],
                                             int(load["offered_load"]) + 1),
                               severity="warning"))
    return out
