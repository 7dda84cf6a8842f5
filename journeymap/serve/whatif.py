"""The what-if panel: move a lever of the journey on screen, see the figures change, with their CIs.

The panel's levers are made from the journey itself (:func:`panel_levers`), one
:class:`~journeymap.levers.Lever` per thing a room asks about:

* ``staff:<department>`` — people added to or taken from a department (−/+);
* ``speed:<step>`` — the step's duration times a factor;
* ``delay:<from>-><to>`` — a flow's delay times a factor (0 removes it);
* ``branch:<from>-><to>`` — a branch's probability (its siblings are scaled so the branches sum to 1).

A change is a request body ``{"settings": {lever id: value}}``, checked totally by
:func:`parse_settings` (types, ranges, known ids, one branch per choice; the settings must give a journey
that can run) and turned into a small ``extends:`` overlay of the base file by :func:`overlay_text`. The
what-if journey simulated is **that overlay, read back** as ``journeymap compare`` reads it
(:func:`what_if_journey`), so the panel's figures are the ones ``journeymap compare BASE OVERLAY --seed S
--replications N`` prints, to the last digit, and "Save as overlay" writes exactly that text.

The comparison is paired as in :mod:`journeymap.comparison`: both designs simulated with the same seed,
replication ``i`` of each on the same random streams (common random numbers), each metric's 95% CI a
Student-t interval over the paired differences (:func:`~journeymap.comparison.compare_metrics`). A run
goes in stages (:data:`STAGES`: few replications first, then more); a newer change for the same journey
cancels the older run (its stages not started are never started). The simulations run in the panel's
own worker processes (:meth:`WhatIf.start`), apart from the background simulations of the files.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..comparison import compare_metrics, replication_metrics, stability_of_pair
from ..distributions import (
    Distribution,
    written_distribution,
    written_duration,
)
from ..errors import InvalidArgument, JourneymapError
from ..levers import Lever, LeverSet
from ..loading import load_yaml, read_text
from ..model import Journey
from ..overlay import resolve_overlay
from ..problems import excerpt
from ..schema import MAX_CAPACITY
from ..tables import format_value
from ..validation import check_text
from ..validation.wording import did_you_mean

__all__ = ["WhatIf", "BadRequest", "Superseded", "Job", "panel_levers", "panel", "parse_settings", "parse_save",
           "overlay_text", "what_if_journey", "tiles", "replication_rows", "request_settings", "duration_text",
           "distribution_value", "describe_setting", "STAGES", "TILES", "SPEED_RANGE", "DELAY_RANGE"]

#: Replications of each stage of a run: a first answer quickly, then a tighter one.
STAGES = (3, 10)
#: The tiles the panel shows: (metric key of :data:`journeymap.comparison.METRICS`, label). The cost tile is the
#: cost of the staff time spent on a case (compare's definition): it says "time" so that nobody reads the pay of
#: added people in it.
TILES = (("cycle_time_mean", "Cycle time, mean"), ("cycle_time_p90", "Cycle time, P90"),
         ("handoff_waste_mean", "Lost at handoffs"), ("experience_index", "Experience index"),
         ("cost_per_case", "Staff time cost per case"))
#: The factor on a step's duration the panel offers (0.1: ten times faster; 3: three times slower).
SPEED_RANGE = (0.1, 3.0)
#: The factor on a flow's delay (0: the delay is removed).
DELAY_RANGE = (0.0, 3.0)
#: The most people the − and + buttons add to a department (or its capacity, when larger).
STAFF_ADDED = 5
#: An overlay file name: letters, digits, ``.``, ``_`` and ``-``, ending in .yaml or .yml.
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.ya?ml$")
#: The virtual path the what-if overlay is read at (beside the base; never written).
_VIRTUAL = ".journeymap-what-if.yaml"


class BadRequest(JourneymapError):
    """A what-if request that cannot be followed; the message says what is wrong and what is allowed.
    ``status``: the HTTP status to answer with (400, or 409 for a file that exists)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- the levers of the panel


def _flow_name(source: str, target: str) -> str:
    return f"{source} -> {target}"


def panel_levers(journey: Journey) -> LeverSet:
    """The levers the panel offers for ``journey`` (see the module's docstring), in the panel's order."""
    levers: list[Lever] = []
    for d in journey.departments:
        if d.shifts is not None:  # its capacity is a shift pattern, not a number of people
            continue
        high = min(MAX_CAPACITY - d.capacity, max(STAFF_ADDED, d.capacity))
        levers.append(Lever(f"staff:{d.id}", "staff", d.id, float(1 - d.capacity), float(high), 0.0, name=d.name))
    for s in journey.steps:
        levers.append(Lever(f"speed:{s.id}", "speed", s.id, *SPEED_RANGE, 1.0, name=s.name))
    for f in journey.flows:
        if f.delay is not None:
            levers.append(Lever(f"delay:{f.source}->{f.target}", "cut_delay", _flow_name(f.source, f.target),
                                *DELAY_RANGE, 1.0, name=f"{f.source} → {f.target}"))
    for f in journey.flows:
        siblings = [g for g in journey.flows_from[f.source] if g is not f and not g.parallel]
        if not f.parallel and siblings:
            levers.append(Lever(f"branch:{f.source}->{f.target}", "probability", _flow_name(f.source, f.target),
                                0.0, 1.0, f.probability, name=f"{f.source} → {f.target}"))
    return LeverSet(journey, tuple(levers), journey_file=journey.source)


def panel(journey: Journey) -> dict[str, Any]:
    """The controls of the panel for the template: groups of levers with their range and neutral value."""
    steps = journey.step_by_id
    names = {d.id: d.name for d in journey.departments}
    capacity = {d.id: d.capacity for d in journey.departments}
    groups: dict[str, list[dict[str, Any]]] = {"staff": [], "speed": [], "cut_delay": [], "probability": []}
    flows = {(f.source, f.target): f for f in journey.flows}
    for lever in panel_levers(journey).levers:
        row: dict[str, Any] = {"id": lever.id, "low": lever.low, "high": lever.high, "neutral": lever.neutral}
        if lever.kind == "staff":
            row.update(label=names[lever.target], capacity=capacity[lever.target])
        elif lever.kind == "speed":
            s = steps[lever.target]
            row.update(label=s.name, note=s.duration.describe(), step=s.id)
        else:
            a, b = lever.flow
            row.update(label=f"{steps[a].name} → {steps[b].name}", step=a)
            if lever.kind == "cut_delay":
                delay = flows[(a, b)].delay
                row["note"] = delay.describe() if delay is not None else ""
            else:
                row["note"] = f"{lever.neutral:.0%} today" + (" (rework)" if flows[(a, b)].rework else "")
        groups[lever.kind].append(row)
    return {"groups": groups, "stages": list(STAGES), "tiles": [{"key": k, "label": label} for k, label in TILES]}


# --------------------------------------------------------------------------- checking a request


def _json_object(body: bytes, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not JSON ({excerpt(str(exc))}); send "
                         '{"settings": {"staff:legal": 1}}') from None
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(data).__name__}")
    for key in data:
        if key not in allowed:
            raise BadRequest(f"unknown key {excerpt(key)} in the body{did_you_mean(key, allowed)} "
                             f"(keys: {', '.join(allowed)})")
    for key in required:
        if key not in data:
            raise BadRequest(f"the body has no {key!r} (keys: {', '.join(allowed)})")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_settings(data: Any, levers: LeverSet) -> dict[str, float]:
    """``data`` (the ``settings`` of a body) as lever settings: every id known, every value a number in
    its lever's range (a whole number of people for staff), one branch per choice; the journey they
    give must be able to run. :class:`BadRequest` with the reason otherwise."""
    if not isinstance(data, dict):
        raise BadRequest(f"'settings' must be an object of lever id: value, got {type(data).__name__}")
    out: dict[str, float] = {}
    for ident, value in data.items():
        lever = levers.by_id.get(ident)
        if lever is None:
            raise BadRequest(f"no lever {excerpt(ident)}{did_you_mean(ident, levers.by_id)}: the panel's "
                             "levers are staff:<department>, speed:<step>, delay:<from>-><to>, branch:<from>-><to>")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BadRequest(f"lever {ident!r}: the setting must be a number, got {excerpt(json.dumps(value))}")
        try:
            out[ident] = lever.check(value)
        except InvalidArgument as exc:
            raise BadRequest(str(exc)) from None
    choices: dict[str, str] = {}
    for ident in out:
        lever = levers.by_id[ident]
        if lever.kind == "probability":
            source = lever.flow[0]
            if source in choices:
                raise BadRequest(f"levers {choices[source]!r} and {ident!r} are branches of the same choice: "
                                 "set one branch of a choice (the others follow, so they still sum to 1)")
            choices[source] = ident
    try:
        levers.apply(levers.journey, out)
    except InvalidArgument as exc:
        raise BadRequest(str(exc)) from None
    return {k: v for k, v in out.items() if v != levers.by_id[k].neutral}


def request_settings(body: bytes, levers: LeverSet) -> dict[str, float]:
    """The settings of a ``POST /whatif/{name}`` body ``{"settings": {...}}``, checked (:func:`parse_settings`)."""
    return parse_settings(_json_object(body, ("settings",), ("settings",))["settings"], levers)


def parse_save(body: bytes, levers: LeverSet, folder: str, base: str) -> tuple[dict[str, float], str, bool]:
    """A "save as overlay" body ``{"settings": {...}, "file": "name.yaml", "overwrite": false}``: the settings,
    the path to write (a plain file name in ``folder``, not the base) and whether an existing file may go."""
    data = _json_object(body, ("settings", "file", "overwrite"), ("settings", "file"))
    settings = parse_settings(data["settings"], levers)
    name, overwrite = data["file"], data.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise BadRequest(f"'overwrite' must be true or false, got {excerpt(json.dumps(overwrite))}")
    if not isinstance(name, str) or not _FILE_NAME.match(name):
        raise BadRequest(f"the file name {excerpt(json.dumps(name))} is not allowed: a name such as "
                         "what-if.yaml (letters, digits, '.', '_' and '-', ending in .yaml), written beside "
                         f"{os.path.basename(base)}")
    path = os.path.join(folder, name)
    if os.path.realpath(path) in {os.path.realpath(f) for f in _inputs(base)}:
        raise BadRequest(f"{name} is the journey (or a file it reads); the base is never written: "
                         "choose another name")
    if os.path.lexists(path) and (not overwrite or not os.path.isfile(path) or os.path.islink(path)):
        raise BadRequest(f"{name} exists already: choose another name, or save with overwrite", status=409)
    if not settings:
        raise BadRequest("nothing is changed: move a lever before saving an overlay")
    return settings, path, overwrite


def _inputs(base: str) -> list[str]:
    from ..output import input_files

    return input_files(base)


# --------------------------------------------------------------------------- the overlay


def duration_text(minutes: float, basis: str = "elapsed") -> str:
    """``minutes`` as the overlay writes them (:func:`journeymap.distributions.written_duration`): the what-if
    simulated is the overlay read back, so the panel and ``journeymap compare`` of the saved file agree."""
    return written_duration(minutes, basis)


def distribution_value(d: Distribution, basis: str = "elapsed") -> Any:
    """A distribution as the overlay writes it (:func:`journeymap.distributions.written_distribution`)."""
    return written_distribution(d, basis)


def _raw_steps(base_file: str) -> dict[str, dict[str, Any]]:
    """The base's steps as written (merged onto its own base when it is an overlay), by id."""
    loc, _ = load_yaml(read_text(base_file), base_file)
    if loc is None:
        raise BadRequest(f"{os.path.basename(base_file)} cannot be read now: fix it first")
    merged, _ = resolve_overlay(loc)
    steps = merged.data.get("steps") if isinstance(merged.data, dict) else None
    return {s["id"]: s for s in steps or [] if isinstance(s, dict) and isinstance(s.get("id"), str)}


def _flow_entry(entry: Any, after: Journey, before: Journey, source: str) -> Any:
    """One written flow of ``source`` (a step id, or a mapping with ``to``) with the what-if's delay and
    probability; as written when neither changed."""
    target = entry if isinstance(entry, str) else entry.get("to") if isinstance(entry, dict) else None
    fa = next((f for f in after.flows if (f.source, f.target) == (source, target)), None)
    fb = next((f for f in before.flows if (f.source, f.target) == (source, target)), None)
    if fa is None or fb is None or (fa.delay == fb.delay and fa.probability == fb.probability):
        return entry
    out = {"to": entry} if isinstance(entry, str) else dict(entry)
    if fa.delay != fb.delay:
        if fa.delay is None:
            out.pop("delay", None)
            out.pop("delay_estimate", None)  # nothing left to be unsure of
        else:
            out["delay"] = distribution_value(fa.delay, fa.delay_basis)
    if fa.probability != fb.probability:
        out["probability"] = float(f"{fa.probability:.12g}")  # 0.9, not 0.9000000000000001: the sum stays 1
    return out


def _next_value(raw: Any, after: Journey, before: Journey, source: str) -> Any:
    """A step's ``next`` as written, with the what-if's delays and probabilities (``next`` is replaced as a
    whole by an overlay, so it is written whole)."""
    if isinstance(raw, list):
        return [_flow_entry(e, after, before, source) for e in raw]
    if isinstance(raw, dict) and "parallel" in raw:
        out = dict(raw)
        out["parallel"] = [_flow_entry(e, after, before, source) for e in raw.get("parallel") or []]
        return out
    return _flow_entry(raw, after, before, source)


def _comment(text: str) -> str:
    """Text for a one-line YAML comment: whitespace (line breaks too) as single spaces, at most 100 characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= 100 else line[:99] + "…"


def describe_setting(lever: Lever, value: float) -> str:
    """A setting in words, for the overlay's comment and the page."""
    if lever.kind == "staff":
        return f"{lever.label}: {int(value):+d} {'person' if abs(value) == 1 else 'people'}"
    if lever.kind == "speed":
        return f"{lever.label}: duration x{value:g}"
    if lever.kind == "cut_delay":
        return f"delay {lever.label}: " + ("removed" if value == 0 else f"x{value:g}")
    return f"branch {lever.label}: probability {value:g}"


def overlay_text(base_file: str, before: Journey, after: Journey, settings: Mapping[str, float],
                 levers: LeverSet, extends: str) -> str:
    """The ``extends:`` overlay of ``base_file`` that makes ``after``: the departments whose staff changed,
    the steps whose duration changed, the ``next`` of each step whose flows changed; nothing else."""
    raw_steps = _raw_steps(base_file)
    data: dict[str, Any] = {"extends": extends,
                            "journey": {"name": f"{before.name} (what if)"}}
    departments = [{"id": d.id, "capacity": d.capacity} for d, b in zip(after.departments, before.departments,
                                                                      strict=True) if d.capacity != b.capacity]
    if departments:
        data["departments"] = departments
    steps: list[dict[str, Any]] = []
    old = before.step_by_id
    for s in after.steps:
        entry: dict[str, Any] = {"id": s.id}
        if s.duration != old[s.id].duration:
            entry["duration"] = distribution_value(s.duration, s.basis)
        flows_a = [(f.target, f.delay, f.probability) for f in after.flows_from[s.id]]
        flows_b = [(f.target, f.delay, f.probability) for f in before.flows_from[s.id]]
        if flows_a != flows_b:
            entry["next"] = _next_value(raw_steps[s.id].get("next"), after, before, s.id)
        if len(entry) > 1:
            steps.append(entry)
    if steps:
        data["steps"] = steps
    said = [describe_setting(levers.by_id[k], v) for k, v in settings.items()]
    header = [f"# What if, from the what-if panel of journeymap serve: {_comment(os.path.basename(base_file))}"]
    header += [f"#   {_comment(line)}" for line in said] or ["#   (nothing changed)"]
    header.append("# Compare it with its base: journeymap compare "
                  f"{_comment(os.path.basename(base_file))} THIS_FILE")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110)
    return "\n".join(header) + "\n" + body


def what_if_journey(base_file: str, before: Journey, settings: Mapping[str, float],
                    levers: LeverSet) -> tuple[Journey, str]:
    """The what-if journey and its overlay text: the settings applied, written as an overlay beside the base,
    and that overlay read back as ``journeymap compare`` reads the saved file."""
    after = levers.apply(before, settings)
    text = overlay_text(base_file, before, after, settings, levers, os.path.basename(base_file))
    checked = check_text(text, os.path.join(os.path.dirname(base_file), _VIRTUAL), lint=False)
    if checked.journey is None:
        first = checked.errors[0] if checked.errors else None
        raise BadRequest(f"these settings give an overlay that does not validate: {first.message if first else '?'}"
                         + (f" ({os.path.basename(base_file)} may have changed: reload the page)" if first else ""))
    return checked.journey, text


# --------------------------------------------------------------------------- simulating and the tiles


class Superseded(Exception):
    """A newer change made this run useless: it stops (raised in the worker, from the progress callback)."""


def replication_rows(journey: Journey, replications: int, seed: int, stop_file: str | None = None) -> dict[str, Any]:
    """One design simulated: its per-replication metrics and its stability block (for the worker process).

    ``stop_file``: when that file appears, the run stops within about 1% of a replication
    (:class:`Superseded`): a worker process cannot be interrupted otherwise, and a stale run must not hold
    it while the room waits for the newer one.
    """
    from ..simulation import simulate

    def check(done: int, total: int) -> None:
        if stop_file is not None and os.path.exists(stop_file):
            raise Superseded(stop_file)

    result = simulate(journey, replications=replications, seed=seed, progress=check if stop_file else None)
    return {"reps": replication_metrics(journey, result), "stability": result.summary.get("stability")}


def _text(value: float | None, unit: str) -> str:
    return format_value(value, unit) if value is not None else "n/a"


def _signed(value: float | None, unit: str) -> str:
    """A change with its sign; an index's to 2 decimals (a tenth of a point is a change a room sees)."""
    if value is None:
        return "n/a"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + (f"{abs(value):.2f}" if unit == "index" else _text(abs(value), unit))


def tiles(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The tiles of a paired comparison of two :func:`replication_rows`: for each of :data:`TILES` that both
    designs measure, before, after, the change and its 95% CI (numbers, and the text the page shows)."""
    stability = stability_of_pair({"stability": before["stability"]}, {"stability": after["stability"]})
    rows = {r["key"]: r for r in compare_metrics(before["reps"], after["reps"], paired=True,
                                                 steady=stability["steady"])}
    out = []
    for key, label in TILES:
        r = rows.get(key)
        if r is None or not all(key in rep for rep in before["reps"] + after["reps"]):
            continue  # no touchpoint (experience) or no price (cost): no tile
        lo, hi = r["ci95"]
        unit = r["unit"]
        relative = r["relative_change"]
        ci = "" if r["unchanged"] or lo is None else f"95% CI {_signed(lo, unit)} to {_signed(hi, unit)}"
        better = None if r["unchanged"] else (r["change"] < 0) == (key != "experience_index")
        out.append({
            "key": key, "label": label, "unit": unit, "before": r["before"], "after": r["after"],
            "change": r["change"], "relative_change": relative, "ci95": [lo, hi], "significant": r["significant"],
            "verdict": r["verdict"], "better": better,
            "text": {"before": _text(r["before"], unit), "after": _text(r["after"], unit),
                     "change": "no change" if r["unchanged"] else _signed(r["change"], unit)
                     + (f" ({relative:+.0%})" if relative is not None else ""),
                     "ci": ci},
        })
    return {"tiles": out, "steady": stability["steady"], "message": stability["message"]}


@dataclass
class Job:
    """One what-if run of one journey: its settings, the stage reached, and the tiles of that stage."""

    id: int
    name: str
    settings: dict[str, float]
    stage: int = 0
    replications: int = 0
    done: bool = False
    cancelled: bool = False
    error: str | None = None
    result: dict[str, Any] | None = None
    futures: list[Future] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {"job": self.id, "name": self.name, "settings": self.settings, "stage": self.stage,
               "stages": len(STAGES), "replications": self.replications, "done": self.done,
               "cancelled": self.cancelled, "error": self.error}
        out.update(self.result or {"tiles": [], "steady": True, "message": None})
        return out


Submit = Callable[..., Future]


def _inline(fn: Callable[..., Any], *args: Any) -> Future:
    """An executor's ``submit`` that runs the call at once (no worker: Starlette's TestClient, tests)."""
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting job as a future's exception
        future.set_exception(exc)
    return future


class WhatIf:
    """The what-if runs of a served folder: at most one live run per journey, newer changes first.

    ``seed`` and :data:`STAGES` make every figure reproducible with ``journeymap compare``. The baseline of
    each content and stage is simulated once and kept (the room moves many levers on one journey).
    """

    def __init__(self, folder: str, *, seed: int = 1, stages: tuple[int, ...] = STAGES) -> None:
        self.folder = folder
        self.seed = seed
        self.stages = stages
        self.submit: Submit = _inline
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._jobs: dict[int, Job] = {}
        self._live: dict[str, Job] = {}
        self._baselines: dict[tuple[str, int], Future] = {}
        self._levers: dict[str, LeverSet] = {}
        #: a folder of stop files, one per superseded run (see :func:`replication_rows`), made when first needed
        self._stops: str | None = None

    def start(self, submit: Submit) -> None:
        """Simulate with ``submit`` (an executor's) from now on."""
        self.submit = submit

    @property
    def running(self) -> bool:
        """Whether simulations go to workers (else each runs in the request's thread, as in tests)."""
        return self.submit is not _inline

    def stop(self) -> None:
        """Cancel every run (the server is stopping)."""
        with self._lock:
            for job in self._live.values():
                self._cancel(job)
            self.submit = _inline
        if self._stops is not None:
            shutil.rmtree(self._stops, ignore_errors=True)
            self._stops = None

    def levers(self, digest: str, journey: Journey) -> LeverSet:
        """The panel's levers of one content of a journey, made once."""
        with self._lock:
            if digest not in self._levers:
                self._levers[digest] = panel_levers(journey)
                while len(self._levers) > 64:
                    del self._levers[next(iter(self._levers))]
            return self._levers[digest]

    def baseline(self, digest: str, journey: Journey, replications: int) -> Future:
        """The baseline simulation of a content at ``replications`` (started now, or already)."""
        with self._lock:
            key = (digest, replications)
            future = self._baselines.get(key)
            if future is None or future.cancelled():
                future = self._baselines[key] = self.submit(replication_rows, journey, replications, self.seed)
                while len(self._baselines) > 64:
                    del self._baselines[next(iter(self._baselines))]
            return future

    def warm(self, digest: str, journey: Journey) -> None:
        """Start the baseline of a journey whose page is open, so the first change waits only for itself."""
        self.baseline(digest, journey, self.stages[0])

    def run(self, name: str, digest: str, base_file: str, journey: Journey, settings: dict[str, float]) -> Job:
        """Start a run of these (checked) settings; the older run of ``name`` is cancelled."""
        levers = self.levers(digest, journey)
        after, _ = what_if_journey(base_file, journey, settings, levers)
        with self._lock:
            job = Job(next(self._ids), name, dict(settings))
            old = self._live.get(name)
            if old is not None:
                self._cancel(old)
            self._live[name] = job
            self._jobs[job.id] = job
            for gone in [k for k in self._jobs if k <= job.id - 256]:
                del self._jobs[gone]
        threading.Thread(target=self._stages, args=(job, digest, journey, after), daemon=True,
                         name=f"journeymap-what-if-{job.id}").start()
        return job

    def job(self, ident: int) -> Job | None:
        with self._lock:
            return self._jobs.get(ident)

    def _stop_file(self, job: Job) -> str:
        if self._stops is None:
            self._stops = tempfile.mkdtemp(prefix="journeymap-what-if-")
            weakref.finalize(self, shutil.rmtree, self._stops, True)
        return os.path.join(self._stops, str(job.id))

    def _cancel(self, job: Job) -> None:
        job.cancelled = True
        for f in job.futures:
            f.cancel()
        if not job.done:
            with contextlib.suppress(OSError):
                open(self._stop_file(job), "w").close()  # the worker running it stops

    def _stages(self, job: Job, digest: str, before: Journey, after: Journey) -> None:
        try:
            for stage, replications in enumerate(self.stages, start=1):
                if job.cancelled:
                    return
                base = self.baseline(digest, before, replications)
                mine = self.submit(replication_rows, after, replications, self.seed, self._stop_file(job))
                job.futures += [mine]
                result = tiles(base.result(), mine.result())
                with self._lock:
                    if job.cancelled:
                        return
                    job.result, job.stage, job.replications = result, stage, replications
        except (CancelledError, Superseded):
            return
        except Exception as exc:  # a bug or a worker that died: the page says so, the server goes on
            job.error = f"the simulation failed: {excerpt(str(exc)) or type(exc).__name__}"
        finally:
            job.done = True
            with contextlib.suppress(OSError):
                os.remove(self._stop_file(job))

