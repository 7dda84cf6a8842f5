"""Levers: the changes a team could make to a journey, each with the range to explore and its cost.

A levers file names a journey and lists its levers (docs/levers.md)::

    journey: insurance-before.yaml
    levers:
      - {id: more-underwriters, kind: staff, department: underwriting, range: [0, 3],
         cost: {per_person: {per_month: 7000}}}
      - {id: faster-pricing, kind: speed, step: pricing, range: [0.3, 1], cost: {once: 40000}}

:func:`check_levers` checks such a file (safe YAML with line:column positions, the JSON Schema of
:data:`journeymap.schema.LEVERS_SCHEMA`, then every reference against the journey, with the closest
id for a typo) and never raises on bad input; :func:`load_levers` is the one way in. The model is a
:class:`LeverSet` of frozen :class:`Lever` records; :meth:`LeverSet.apply` turns settings (lever id
-> value) into a new :class:`~journeymap.model.Journey`, purely, and refuses a setting out of range
with :class:`~journeymap.errors.InvalidArgument`. :meth:`LeverSet.corners` and
:meth:`LeverSet.grid` list settings for sweeps.

What each kind does to the journey (value = the setting):

* ``staff``: ``value`` more people (a whole number, may be negative) in the department;
* ``speed``: the step's duration times ``value`` (every parameter of its distribution);
* ``cut_delay``: the flow's delay times ``value`` (0 removes the delay);
* ``probability``: the branch's probability becomes ``value``; its sibling branches are scaled
  so the branches still sum to 1 (shared equally when they were all 0);
* ``move_step`` (a switch, 0 or 1): at 1 the step is done by department ``to``;
* ``remove_step`` (a switch, 0 or 1): at 1 the step is gone and each flow into it is rewired to
  each of its successors (see :func:`remove_step`);
* ``change`` (a switch, 0 or 1): one entry of an overlay, at 1 applied; only
  :func:`journeymap.overlay_levers.levers_from_overlay` makes them (never a levers file), and
  :meth:`LeverSet.apply` applies every change lever set to 1 at once, as one partial overlay.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import jsonschema

from .distributions import Distribution
from .errors import InvalidArgument, JourneyInvalid
from .loading import Located, Path, ReferenceOutside, load_yaml, read_text, resolve_reference, unreadable
from .model import CUSTOMER, Flow, Journey, Step
from .problems import Problem, Problems, sort_problems
from .schema import LEVER_KINDS, LEVERS_SCHEMA, MAX_CAPACITY, MAX_FACTOR
from .validation import check_file, internal_error, structure_problems, too_deep
from .validation.context import Context
from .validation.flow import flow_problems, work_problems
from .validation.values import is_number, list_or_empty, mapping_or_empty, str_or
from .validation.wording import closest, did_you_mean

__all__ = ["Kind", "KINDS", "SWITCHES", "LEVER_RULES", "Cost", "Lever", "LeverSet", "CheckedLevers",
           "check_levers", "load_levers", "is_levers_file", "parse_flow", "apply_lever", "remove_step",
           "MAX_SETTINGS"]

Kind = Literal["staff", "speed", "remove_step", "move_step", "cut_delay", "probability", "change"]
#: Every kind of lever, in the order docs/levers.md explains them.
KINDS: tuple[str, ...] = LEVER_KINDS
#: The kinds that are on (1) or off (0), with no range in the file.
SWITCHES = ("remove_step", "move_step", "change")
#: Most settings :meth:`LeverSet.corners` and :meth:`LeverSet.grid` list (each is a simulation or more).
MAX_SETTINGS = 100_000

#: The rules a levers file is checked against, besides the structure rules of journey files
#: (unknown-key, missing-key, wrong-type, invalid-value, ...).
LEVER_RULES: dict[str, str] = {
    "unknown-reference": "a lever names a department, step or flow the journey does not have",
    "invalid-range": "a range that is empty, inverted, or outside what the kind allows",
    "invalid-lever": "a change the journey cannot take (removing its start, moving a customer step...)",
    "duplicate-id": "two levers with the same id",
    "not-a-journey": "the file named by journey: is not a journey",
    "outside-project": "journey: names a file outside the folder of the levers file",
}

#: A top-level ``levers:`` key, in block style or as a key of a flow/JSON mapping.
_LEVERS_KEY = re.compile(r'^(?:levers|"levers")\s*:|^\{.*[{,]\s*"?levers"?\s*:', re.M)
_FLOW_RE = re.compile(r"^\s*([^\s>-][^\s]*?)\s*->\s*([^\s]+)\s*$")
#: The key that names what each kind changes.
_TARGET_KEY = {"staff": "department", "speed": "step", "remove_step": "step", "move_step": "step",
               "cut_delay": "flow", "probability": "flow"}
_VALIDATOR = jsonschema.Draft202012Validator(LEVERS_SCHEMA)


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Cost:
    """Money a lever costs: once (to set it up) and every month (to keep it), in the journey's currency."""

    once: float = 0.0
    per_month: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.once + other.once, self.per_month + other.per_month)

    def times(self, k: float) -> Cost:
        return Cost(self.once * k, self.per_month * k)


@dataclass(frozen=True)
class Lever:
    """One change and the values to explore: ``low`` .. ``high`` (0 .. 1 for a switch)."""

    id: str
    kind: Kind
    #: What it changes: a department id (staff), a step id, or a flow "a -> b" (cut_delay, probability).
    target: str
    low: float
    high: float
    #: The value that changes nothing: 0 people, a factor of 1, a switch off, the branch's probability now.
    neutral: float
    name: str = ""
    #: move_step: the department that takes the step.
    to: str | None = None
    #: Paid once the lever is set to anything but ``neutral``.
    cost: Cost = field(default_factory=Cost)
    #: staff: paid for each person added (saved for each one removed).
    per_person: Cost = field(default_factory=Cost)

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def is_switch(self) -> bool:
        return self.kind in SWITCHES

    @property
    def flow(self) -> tuple[str, str]:
        """(source, target) of a cut_delay or probability lever."""
        found = parse_flow(self.target)
        if found is None:  # pragma: no cover - checked when the file was loaded
            raise InvalidArgument(f"lever {self.id!r}: {self.target!r} is not a flow 'a -> b'")
        return found

    def check(self, value: Any) -> float:
        """``value`` as a setting of this lever, or :class:`InvalidArgument` saying what is allowed."""
        if not is_number(value) and not isinstance(value, bool) or not math.isfinite(value):
            raise InvalidArgument(f"lever {self.id!r}: the setting must be a number, got {value!r}")
        if self.is_switch and value not in (0, 1):
            raise InvalidArgument(f"lever {self.id!r} ({self.kind}) is a switch: set it to 0 (off) or 1 (on), "
                                  f"got {value!r}")
        if self.kind == "staff" and float(value) != int(value):
            raise InvalidArgument(f"lever {self.id!r} adds whole people: got {value!r}")
        if not self.low <= value <= self.high:
            raise InvalidArgument(f"lever {self.id!r}: {value!r} is outside its range {self.low:g} .. {self.high:g}")
        return float(value)

    def values(self, points: int) -> tuple[float, ...]:
        """``points`` values evenly spread from ``low`` to ``high`` (both included); a switch is (0, 1),
        and staff whole numbers (fewer when the range holds fewer)."""
        if points < 2:
            raise InvalidArgument(f"a grid needs at least 2 points per lever, got {points}")
        if self.is_switch:
            return (0.0, 1.0)
        spread = [self.low + (self.high - self.low) * i / (points - 1) for i in range(points)]
        if self.kind == "staff":
            return tuple(sorted({float(round(v)) for v in spread}))
        return tuple(spread)

    def cost_at(self, value: float) -> Cost:
        """What the lever costs at ``value``: nothing at ``neutral``; staff pays per person added."""
        if value == self.neutral:
            return Cost()
        return self.cost + self.per_person.times(value) if self.kind == "staff" else self.cost


@dataclass(frozen=True)
class LeverSet:
    """The levers of one journey, as a levers file gives them."""

    journey: Journey
    levers: tuple[Lever, ...]
    #: The levers file, and the journey file it names.
    source: str = ""
    journey_file: str = ""
    #: For ``change`` levers (an overlay read as levers): the journey with the change levers of these ids
    #: applied together (:mod:`journeymap.overlay_levers`); None for a levers file.
    overlay: Callable[[Sequence[str]], Journey] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def by_id(self) -> dict[str, Lever]:
        return {lever.id: lever for lever in self.levers}

    def settings(self, settings: Mapping[str, Any]) -> dict[str, float]:
        """``settings`` checked: every id a lever, every value in its range (:class:`InvalidArgument` if not)."""
        out = {}
        for ident, value in settings.items():
            lever = self.by_id.get(ident)
            if lever is None:
                raise InvalidArgument(f"no lever {ident!r}{did_you_mean(ident, self.by_id)} "
                                      f"(levers: {', '.join(self.by_id)})")
            out[ident] = lever.check(value)
        return out

    def apply(self, journey: Journey, settings: Mapping[str, Any]) -> Journey:
        """``journey`` with each lever in ``settings`` set to its value; levers not named change nothing.

        Pure: ``journey`` is not changed. ``change`` levers come first: those set to 1 are applied together,
        as one partial overlay of the base journey (``journey`` must then be :attr:`journey`); the other
        kinds follow. Removals are applied last, so a lever on a step another lever removes is well defined
        (and moot). The result passes the checks of a loaded journey (every step
        reachable, every loop left, a run that finishes); settings that would break them, or a value out of
        range, raise :class:`~journeymap.errors.InvalidArgument` with the reason.
        """
        values = self.settings(settings)
        changes = [lever.id for lever in self.levers if lever.kind == "change" and values.get(lever.id)]
        if changes:
            journey = self._changed(journey, changes)
        chosen = [lever for lever in self.levers if lever.id in values and lever.kind != "change"]
        ordered = sorted(chosen, key=lambda lv: lv.kind == "remove_step")
        for lever in ordered:
            journey = apply_lever(journey, lever, values[lever.id])
        broken = run_problems(journey)
        if broken:
            shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
            raise InvalidArgument(f"the settings {shown} make a journey that cannot run: {broken[0]}")
        return journey

    def _changed(self, journey: Journey, ids: Sequence[str]) -> Journey:
        """The base journey with the change levers ``ids`` applied together (one partial overlay)."""
        if self.overlay is None:
            raise InvalidArgument(f"lever {ids[0]!r} is a change of an overlay, but these levers come from no overlay")
        if journey is not self.journey:
            raise InvalidArgument("change levers apply to the journey their overlay extends, not to another one")
        return self.overlay(ids)

    def scenario(self, settings: Mapping[str, Any]) -> Journey:
        """The file's journey with ``settings`` applied."""
        return self.apply(self.journey, settings)

    def cost(self, settings: Mapping[str, Any]) -> Cost:
        """What ``settings`` cost, lever by lever added up."""
        values = self.settings(settings)
        total = Cost()
        for ident, value in values.items():
            total += self.by_id[ident].cost_at(value)
        return total

    def corners(self) -> list[dict[str, float]]:
        """Every combination of each lever at its low and its high end (2^n settings, first lever slowest)."""
        return self._product([(lever.low, lever.high) for lever in self.levers])

    def grid(self, points: int) -> list[dict[str, float]]:
        """The full factorial: every combination of each lever's :meth:`Lever.values` (``points`` each)."""
        return self._product([lever.values(points) for lever in self.levers])

    def one_at_a_time(self, points: int) -> list[dict[str, float]]:
        """Each lever alone at each of its ``points`` values, the others unset (a tornado's settings)."""
        return [{lever.id: v} for lever in self.levers for v in lever.values(points)]

    def _product(self, axes: list[tuple[float, ...]]) -> list[dict[str, float]]:
        count = math.prod(len(a) for a in axes)
        if count > MAX_SETTINGS:
            raise InvalidArgument(f"{count:,} combinations of {len(axes)} levers; the limit is {MAX_SETTINGS:,}: "
                                  "use fewer levers or points, or a screening design")
        ids = [lever.id for lever in self.levers]
        return [dict(zip(ids, combo, strict=True)) for combo in itertools.product(*axes)]


# --------------------------------------------------------------------------- applying one lever


def parse_flow(text: Any) -> tuple[str, str] | None:
    """``"a -> b"`` as ``("a", "b")``; None when it is not written that way."""
    if not isinstance(text, str):
        return None
    m = _FLOW_RE.match(text)
    return (m.group(1), m.group(2)) if m else None


def _scaled(d: Distribution, k: float) -> Distribution:
    """The distribution of ``k`` times a value of ``d``: every time parameter times ``k`` (a Weibull's
    shape, a plain number, stays; see each class's ``scaled``)."""
    return d.scaled(k)


def _step(journey: Journey, lever: Lever) -> Step:
    step = journey.step_by_id.get(lever.target)
    if step is None:
        raise InvalidArgument(f"lever {lever.id!r}: the journey has no step {lever.target!r}")
    return step


def _flow_index(journey: Journey, lever: Lever) -> int:
    source, target = lever.flow
    for i, f in enumerate(journey.flows):
        if f.source == source and f.target == target:
            return i
    raise InvalidArgument(f"lever {lever.id!r}: the journey has no flow {source} -> {target}")


def _with_step(journey: Journey, step: Step) -> Journey:
    return replace(journey, steps=tuple(step if s.id == step.id else s for s in journey.steps))


def _staff(journey: Journey, lever: Lever, value: float) -> Journey:
    dept = journey.department_by_id.get(lever.target)
    if dept is None:
        raise InvalidArgument(f"lever {lever.id!r}: the journey has no department {lever.target!r}")
    capacity = dept.capacity + int(value)
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidArgument(f"lever {lever.id!r}: {dept.id} would have {capacity} people "
                              f"(from 1 to {MAX_CAPACITY:,} allowed)")
    changed = replace(dept, capacity=capacity)
    return replace(journey, departments=tuple(changed if d.id == dept.id else d for d in journey.departments))


def _speed(journey: Journey, lever: Lever, value: float) -> Journey:
    step = _step(journey, lever)
    return _with_step(journey, replace(step, duration=_scaled(step.duration, value)))


def _move(journey: Journey, lever: Lever, value: float) -> Journey:
    if not value:
        return journey
    if lever.to not in journey.department_by_id:
        raise InvalidArgument(f"lever {lever.id!r}: the journey has no department {lever.to!r}")
    return _with_step(journey, replace(_step(journey, lever), owner=lever.to))


def _cut_delay(journey: Journey, lever: Lever, value: float) -> Journey:
    i = _flow_index(journey, lever)
    flow = journey.flows[i]
    if flow.delay is None:
        return journey
    delay = _scaled(flow.delay, value) if value > 0 else None
    flows = list(journey.flows)
    flows[i] = replace(flow, delay=delay, delay_basis=flow.delay_basis if delay else "elapsed")
    return replace(journey, flows=tuple(flows))


def _probability(journey: Journey, lever: Lever, value: float) -> Journey:
    i = _flow_index(journey, lever)
    flow = journey.flows[i]
    if value == flow.probability:
        return journey
    siblings = [j for j, f in enumerate(journey.flows) if f.source == flow.source and j != i and not f.parallel]
    if not siblings:
        raise InvalidArgument(f"lever {lever.id!r}: {flow.source} -> {flow.target} is the only way on from "
                              f"{flow.source!r}; its probability cannot change")
    rest = sum(journey.flows[j].probability for j in siblings)
    flows = list(journey.flows)
    flows[i] = replace(flow, probability=value)
    for j in siblings:
        old = journey.flows[j].probability
        flows[j] = replace(flows[j], probability=old * (1 - value) / rest if rest > 0 else (1 - value) / len(siblings))
    return replace(journey, flows=tuple(flows))


def _remove(journey: Journey, lever: Lever, value: float) -> Journey:
    if not value:
        return journey
    if lever.target not in journey.step_by_id:
        return journey  # removed already (two levers on one step)
    return remove_step(journey, lever.target)


def remove_step(journey: Journey, step_id: str) -> Journey:
    """``journey`` without step ``step_id``, each flow into it rewired to each of its successors.

    A flow ``a -> s`` (probability p) and a flow ``s -> b`` (probability q, among the successors' total Q,
    a loop ``s -> s`` left out) become ``a -> b`` with probability ``p * q / Q``, the delay of ``s -> b``
    (the wait before ``b``'s people pick the case up stays; the inbox of ``s`` goes), the label of
    ``s -> b`` (else of ``a -> s``), rework when either was, parallel when ``a -> s`` was. Where ``a``
    already had a flow to ``b``, the probabilities add up and that flow keeps its delay and label.
    """
    flows_in = [f for f in journey.flows if f.target == step_id and f.source != step_id]
    flows_out = [f for f in journey.flows if f.source == step_id and f.target != step_id]
    total = sum(f.probability for f in flows_out) or 1.0
    merged: dict[tuple[str, str], Flow] = {}
    for f in journey.flows:
        if step_id in (f.source, f.target):
            if f in flows_in:
                for g in flows_out:
                    _merge(merged, Flow(f.source, g.target, probability=f.probability * g.probability / total,
                                        delay=g.delay, rework=f.rework or g.rework, parallel=f.parallel,
                                        label=g.label or f.label, delay_basis=g.delay_basis))
            continue
        _merge(merged, f)
    steps = tuple(s for s in journey.steps if s.id != step_id)
    return replace(journey, steps=steps, flows=tuple(merged.values()))


def _merge(merged: dict[tuple[str, str], Flow], flow: Flow) -> None:
    key = (flow.source, flow.target)
    first = merged.get(key)
    merged[key] = flow if first is None else replace(first, probability=first.probability + flow.probability,
                                                     rework=first.rework or flow.rework)


def _change(journey: Journey, lever: Lever, value: float) -> Journey:
    raise InvalidArgument(f"lever {lever.id!r} is a change of an overlay: LeverSet.apply applies the change "
                          "levers of a setting together")


_APPLY = {"staff": _staff, "speed": _speed, "move_step": _move, "cut_delay": _cut_delay,
          "probability": _probability, "remove_step": _remove, "change": _change}


def apply_lever(journey: Journey, lever: Lever, value: float) -> Journey:
    """``journey`` with one lever set to ``value`` (already checked against its range); pure."""
    return _APPLY[lever.kind](journey, lever, value)


def run_problems(journey: Journey) -> list[str]:
    """Why ``journey`` could not run (the flow checks of a loaded journey: reachability, loops, parallel
    blocks, a run that finishes), as messages; empty when it can."""
    ctx = Context(Located("<levers>", {}))
    ctx.step_index = {s.id: i for i, s in enumerate(journey.steps)}
    flow_problems(ctx, journey)
    if not ctx.problems:
        work_problems(ctx, journey)
    return [p.message for p in ctx.problems if p.is_error]


# --------------------------------------------------------------------------- checking a levers file


@dataclass
class CheckedLevers(Problems):
    """What checking a levers file gives: the levers (None when the file has errors) and every problem."""

    levers: LeverSet | None
    problems: list[Problem]


@dataclass
class _Draft:
    loc: Located
    problems: list[Problem]
    journey: Journey | None = None
    journey_file: str = ""
    levers: list[Lever] = field(default_factory=list)

    def error(self, path: Path, rule: str, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.loc.problem(path, rule, message, hint, key=key))

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)


def is_levers_file(path: str | os.PathLike) -> bool:
    """True when the file's top level has a ``levers:`` key (cheap check, no validation)."""
    try:
        text = read_text(os.fspath(path))
    except (OSError, UnicodeDecodeError):
        return False
    return _LEVERS_KEY.search(text) is not None


def check_levers(path: str | os.PathLike) -> CheckedLevers:
    """Check a levers file and the journey it names; never raises on bad input."""
    file = os.fspath(path)
    try:
        return _check_levers(file)
    except RecursionError:
        return CheckedLevers(None, [too_deep(file)])
    except Exception as exc:  # a bug of ours: one file must never stop `validate DIR`
        return CheckedLevers(None, [internal_error(file, exc)])


def load_levers(path: str | os.PathLike) -> LeverSet:
    """Load and check a levers file; the one way in. Raises :class:`~journeymap.errors.JourneyInvalid`
    carrying every problem when it has errors."""
    checked = check_levers(path)
    if checked.levers is None:
        raise JourneyInvalid(checked.problems)
    return checked.levers


def _check_levers(file: str) -> CheckedLevers:
    try:
        text = read_text(file)
    except (OSError, UnicodeDecodeError) as exc:
        return CheckedLevers(None, [unreadable(file, exc, "levers")])
    loc, problems = load_yaml(text, file)
    if loc is None:
        return CheckedLevers(None, sort_problems(problems))
    problems += structure_problems(loc, _VALIDATOR)
    draft = _Draft(loc, problems)
    data = mapping_or_empty(loc.data)
    _journey(draft, data.get("journey"))
    seen: dict[str, int] = {}
    for i, entry in enumerate(list_or_empty(data.get("levers"))):
        if isinstance(entry, dict):
            _lever(draft, i, entry, seen)
    if draft.has_errors or draft.journey is None:
        return CheckedLevers(None, sort_problems(problems))
    levers = LeverSet(draft.journey, tuple(draft.levers), source=file, journey_file=draft.journey_file)
    _each_alone(draft, levers)
    if draft.has_errors:
        return CheckedLevers(None, sort_problems(problems))
    return CheckedLevers(levers, sort_problems(problems))


def _journey(draft: _Draft, ref: Any) -> None:
    """``journey:``: a journey file in the folder of the levers file (or below), without errors."""
    if not isinstance(ref, str):
        return  # missing or of the wrong type: the structure pass said so
    where = ("journey",)
    try:
        target = resolve_reference(ref, draft.loc.file)
    except ReferenceOutside as exc:
        draft.error(where, "outside-project", f"journey: {exc}",
                    "put the levers file beside its journey (or in a folder above it) and name it relatively")
        return
    if not os.path.isfile(target):
        folder = os.path.dirname(target) or "."
        names = [n for n in _yaml_files(folder)]
        draft.error(where, "file", f"journey file {ref!r} not found{did_you_mean(os.path.basename(ref), names)}",
                    "name the journey file relative to the levers file, e.g. journey: insurance-before.yaml")
        return
    _referenced(draft, where, ref, target)


def _yaml_files(folder: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(folder) if n.endswith((".yaml", ".yml")))
    except OSError:
        return []


def _referenced(draft: _Draft, where: Path, ref: str, target: str) -> None:
    from .account import is_account_file

    if is_levers_file(target) or is_account_file(target):
        kind = "a levers file" if is_levers_file(target) else "an account file"
        draft.error(where, "not-a-journey", f"{ref!r} is {kind}, not a journey",
                    "levers change one journey: name a journey file (an overlay is fine)")
        return
    checked = check_file(target, lint=False, referenced=True)
    if checked.journey is None:
        draft.problems.extend(p for p in checked.problems if p.is_error)
        n = len(checked.errors)
        draft.error(where, "not-a-journey", f"the journey {ref!r} has {n} error(s)",
                    f"fix them first: journeymap validate {target}")
        return
    draft.journey, draft.journey_file = checked.journey, target


def _lever(draft: _Draft, i: int, entry: dict, seen: dict[str, int]) -> None:
    """One lever: a known kind, only its own keys, its references and its range; appended when all are right."""
    p: Path = ("levers", i)
    ident, kind = entry.get("id"), entry.get("kind")
    if isinstance(ident, str):
        if ident in seen:
            draft.error(p + ("id",), "duplicate-id",
                        f"lever {ident!r} appears twice (first as lever {seen[ident] + 1})",
                        "give each lever its own id: settings name levers by id")
        seen.setdefault(ident, i)
    if kind not in KINDS:
        return  # missing or unknown: the structure pass said so, with the closest kind
    before = len(draft.problems)
    _own_keys(draft, p, kind, entry)
    target = _target(draft, p, kind, entry)
    low, high = _range(draft, p, kind, entry, target)
    to = _move_to(draft, p, entry, target) if kind == "move_step" else None
    if len(draft.problems) > before or not isinstance(ident, str) or target is None or low is None:
        return
    cost, per_person = _costs(entry)
    draft.levers.append(Lever(ident, kind, target, low, high, _neutral(draft, kind, target),  # type: ignore[arg-type]
                              name=str_or(entry.get("name")), to=to, cost=cost, per_person=per_person))


#: The keys every lever may have; each kind adds its own (see :func:`_own_keys`).
_COMMON_KEYS = ("id", "kind", "name", "description", "cost")
_KIND_KEYS = {"staff": ("department", "range"), "speed": ("step", "range"), "remove_step": ("step",),
              "move_step": ("step", "to"), "cut_delay": ("flow", "range"), "probability": ("flow", "range")}


def _own_keys(draft: _Draft, p: Path, kind: str, entry: dict) -> None:
    allowed = _COMMON_KEYS + _KIND_KEYS[kind]
    for key in entry:
        if key not in allowed:
            users = [k for k, keys in _KIND_KEYS.items() if key in keys]
            draft.error(p + (key,), "unknown-key", f"{key!r} does not apply to a {kind} lever"
                        + (f" (it is for {', '.join(users)})" if users else ""),
                        f"a {kind} lever takes: {', '.join(allowed)}", key=True)
    per_person = mapping_or_empty(entry.get("cost")).get("per_person")
    if per_person is not None and kind != "staff":
        draft.error(p + ("cost", "per_person"), "unknown-key", f"a cost per person is for staff levers, not {kind}",
                    "write the cost of this change as once: and per_month:", key=True)


def _target(draft: _Draft, p: Path, kind: str, entry: dict) -> str | None:
    """The department, step or flow the lever changes, checked against the journey; None when wrong."""
    key = _TARGET_KEY[kind]
    value = entry.get(key)
    if not isinstance(value, str):
        return None  # missing or of the wrong type: the structure pass said so
    journey = draft.journey
    if key == "flow":
        return _flow_target(draft, p + (key,), kind, value)
    if journey is None:
        return value  # the journey has errors: they are reported; nothing to check against
    if key == "department":
        return _department_target(draft, p + (key,), value)
    return _step_target(draft, p + (key,), kind, value)


def _department_target(draft: _Draft, where: Path, value: str) -> str | None:
    journey = draft.journey
    assert journey is not None
    dept = journey.department_by_id.get(value)
    if dept is None:
        hint = ("the customer holds no staff" if value == CUSTOMER
                else f"departments: {', '.join(journey.department_by_id)}")
        draft.error(where, "unknown-reference",
                    f"no department {value!r} in the journey{did_you_mean(value, journey.department_by_id)}", hint)
        return None
    if dept.shifts is not None:
        draft.error(where, "invalid-lever", f"department {value!r} works in shifts; a staff lever changes a "
                    "department's capacity", "change its shifts in an overlay instead")
        return None
    return value


def _step_target(draft: _Draft, where: Path, kind: str, value: str) -> str | None:
    journey = draft.journey
    assert journey is not None
    step = journey.step_by_id.get(value)
    if step is None:
        draft.error(where, "unknown-reference",
                    f"no step {value!r} in the journey{did_you_mean(value, journey.step_by_id)}",
                    "name a step by its id, as in the journey file")
        return None
    why = _step_refused(journey, step, kind)
    if why:
        draft.error(where, "invalid-lever", why[0], why[1])
        return None
    return value


def _step_refused(journey: Journey, step: Step, kind: str) -> tuple[str, str] | None:
    """Why a lever of ``kind`` cannot change ``step`` (message, hint), or None."""
    if kind == "move_step" and step.is_customer:
        return (f"step {step.id!r} is done by the customer; only a department's step can move",
                "name a department's step")
    if kind != "remove_step":
        return None
    sid = step.id
    named = [t.id for t in journey.targets if sid in (t.ref, t.since)]
    reasons = [
        (sid == journey.start, "it is the start step"),
        (sid in journey.ends, "it is an end step"),
        (step.join is not None or any(s.join == sid for s in journey.steps), "it opens or closes a parallel block"),
        (any(f.target == sid and f.parallel for f in journey.flows), "it is a branch of a parallel block"),
        (any(b.step == sid for b in journey.workload.backlog), "cases wait there at the start (backlog)"),
        (bool(named), f"the target {named[0] if named else ''!r} is measured at it"),
    ]
    for refused, reason in reasons:
        if refused:
            return (f"step {sid!r} cannot be removed: {reason}",
                    "remove another step, or change the journey in an overlay")
    return None


def _flow_target(draft: _Draft, where: Path, kind: str, value: str) -> str | None:
    pair = parse_flow(value)
    if pair is None:
        draft.error(where, "invalid-value", f"{value!r} is not a flow", "write a flow as 'from_step -> to_step'")
        return None
    journey = draft.journey
    if journey is None:
        return value
    for end in pair:
        if end not in journey.step_by_id:
            draft.error(where, "unknown-reference",
                        f"no step {end!r} in the journey{did_you_mean(end, journey.step_by_id)}",
                        "name a step by its id, as in the journey file")
            return None
    flow = next((f for f in journey.flows if (f.source, f.target) == pair), None)
    if flow is None:
        onward = [f.target for f in journey.flows_from[pair[0]]]
        close = closest(pair[1], onward)
        draft.error(where, "unknown-reference", f"no flow {pair[0]} -> {pair[1]} in the journey"
                    + (f" (did you mean '{pair[0]} -> {close}'?)" if close else ""),
                    f"flows from {pair[0]!r} go to: {', '.join(onward) or 'nowhere (an end step)'}")
        return None
    why = _flow_refused(journey, flow, kind)
    if why:
        draft.error(where, "invalid-lever", why, "choose another flow")
        return None
    return f"{pair[0]} -> {pair[1]}"


def _flow_refused(journey: Journey, flow: Flow, kind: str) -> str | None:
    if kind == "cut_delay" and flow.delay is None:
        return f"the flow {flow.source} -> {flow.target} has no delay to cut"
    if kind == "probability" and flow.parallel:
        return f"{flow.source} -> {flow.target} is a parallel branch (always taken); it has no probability"
    if kind == "probability" and not [f for f in journey.flows_from[flow.source] if f is not flow and not f.parallel]:
        return (f"{flow.source} -> {flow.target} is the only way on from {flow.source!r}; "
                "a probability lever needs a branch with siblings")
    return None


def _move_to(draft: _Draft, p: Path, entry: dict, step_id: str | None) -> str | None:
    to = entry.get("to")
    journey = draft.journey
    if not isinstance(to, str) or journey is None:
        return to if isinstance(to, str) else None
    if to not in journey.department_by_id:
        hint = ("the customer holds no staff: a step moves between departments" if to == CUSTOMER
                else f"departments: {', '.join(journey.department_by_id)}")
        draft.error(p + ("to",), "unknown-reference",
                    f"no department {to!r} in the journey{did_you_mean(to, journey.department_by_id)}", hint)
        return None
    step = journey.step_by_id.get(step_id or "")
    if step is not None and step.owner == to:
        draft.error(p + ("to",), "invalid-lever", f"step {step.id!r} is already done by {to!r}",
                    "name the department that should take it over")
        return None
    return to


def _range(draft: _Draft, p: Path, kind: str, entry: dict, target: str | None) -> tuple[float | None, float | None]:
    """(low, high) of the lever: 0 .. 1 for a switch; else its ``range``, checked for the kind."""
    if kind in SWITCHES:
        return 0.0, 1.0
    rng = entry.get("range")
    if not (isinstance(rng, list) and len(rng) == 2 and all(is_number(v) for v in rng)):
        return None, None  # missing or of the wrong shape: the structure pass said so
    low, high = rng
    where = p + ("range",)
    problem = _range_problem(kind, low, high)
    if problem is None and kind == "staff" and target is not None and draft.journey is not None:
        problem = _staff_problem(draft.journey, target, low, high)
    if problem is not None:
        draft.error(where, "invalid-range", problem[0], problem[1])
        return None, None
    return float(low), float(high)


_RANGE_HINTS = {
    "staff": "people added: whole numbers, e.g. [0, 3] (negative to take people away)",
    "speed": "a factor on the step's duration, e.g. [0.2, 1] (0.2: five times faster; 1: as today)",
    "cut_delay": "a factor on the flow's delay, e.g. [0, 1] (0: no delay at all; 1: as today)",
    "probability": "the branch's new probability, e.g. [0.05, 0.3]",
}


def _range_problem(kind: str, low: float, high: float) -> tuple[str, str] | None:
    """What is wrong with ``[low, high]`` for a lever of ``kind`` (message, hint), or None."""
    hint = _RANGE_HINTS[kind]
    if low > high:
        return f"the range [{low:g}, {high:g}] is inverted: its low end is above its high end", \
            f"write [{high:g}, {low:g}]; {hint}"
    if low == high:
        return f"the range [{low:g}, {high:g}] is empty: a lever needs two different ends to explore", hint
    if kind == "staff" and not all(isinstance(v, int) or float(v).is_integer() for v in (low, high)):
        return f"the range [{low:g}, {high:g}] of a staff lever must be whole numbers of people", hint
    if kind == "speed" and low <= 0:
        return f"a speed factor must be above 0, got {low:g}", hint + "; remove_step takes a step away"
    if kind == "cut_delay" and low < 0:
        return f"a delay factor cannot be negative, got {low:g}", hint
    if kind in ("speed", "cut_delay") and high > MAX_FACTOR:
        return f"a factor of {high:g} is above the limit of {MAX_FACTOR:g}", hint
    if kind == "probability" and not (0 <= low and high <= 1):
        return f"the range [{low:g}, {high:g}] is outside [0, 1]", hint
    return None


def _staff_problem(journey: Journey, dept_id: str, low: float, high: float) -> tuple[str, str] | None:
    capacity = journey.department_by_id[dept_id].capacity
    if capacity + low < 1:
        return (f"{dept_id!r} has {capacity} people; taking {-int(low)} away leaves nobody",
                f"the low end may take at most {capacity - 1} away: [{1 - capacity}, ...]")
    if capacity + high > MAX_CAPACITY:
        return f"{dept_id!r} would have {capacity + int(high):,} people; the limit is {MAX_CAPACITY:,}", ""
    return None


def _costs(entry: dict) -> tuple[Cost, Cost]:
    """The lever's cost and its cost per person (both checked by the schema: numbers of at least 0)."""
    cost = mapping_or_empty(entry.get("cost"))
    person = mapping_or_empty(cost.get("per_person"))

    def money(d: dict, key: str) -> float:
        v = d.get(key, 0)
        return float(v) if is_number(v) else 0.0

    return Cost(money(cost, "once"), money(cost, "per_month")), Cost(money(person, "once"), money(person, "per_month"))


def _neutral(draft: _Draft, kind: str, target: str) -> float:
    """The setting that leaves the journey as it is."""
    if kind in ("speed", "cut_delay"):
        return 1.0
    if kind == "probability" and draft.journey is not None:
        pair = parse_flow(target)
        return next(f.probability for f in draft.journey.flows if (f.source, f.target) == pair)
    return 0.0


def _each_alone(draft: _Draft, levers: LeverSet) -> None:
    """Each lever alone at both ends of its range must give a journey that can run; else say so at the lever."""
    data = list_or_empty(mapping_or_empty(draft.loc.data).get("levers"))
    positions: dict[str, int] = {}
    for i, entry in enumerate(data):
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            positions.setdefault(entry["id"], i)
    for lever in levers.levers:
        for value in (lever.low, lever.high):
            try:
                broken = run_problems(apply_lever(levers.journey, lever, value))
            except InvalidArgument as exc:
                broken = [str(exc)]
            if broken:
                draft.error(("levers", positions[lever.id], _TARGET_KEY[lever.kind]), "invalid-lever",
                            f"set to {value:g}, lever {lever.id!r} gives a journey that cannot run: {broken[0]}",
                            "narrow the range, or choose another change")
                break
