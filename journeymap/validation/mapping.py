"""The mapping file of ``journeymap mine``: what an event log does not say (teams, stages, lanes, personas).

An export from a CRM knows people and activities; a journey also needs departments, stages, lanes,
channels and the persona. The mapping file gives them (docs/data.md, "The mapping file";
docs/mapping.schema.json for editors)::

    journey: {id: claims, name: B2B claims}
    persona: {id: claims_manager, name: Claims manager at a client}
    stages: [{id: submit, name: Submit}, assess, settle]
    departments:
      intake: {name: Claims intake, resources: [Ana Silva, Ben Okafor]}
    activities:
      Register claim: {id: register_claim, stage: submit, lane: frontstage, channel: portal, emotion: -1}
      Client replies: {owner: customer}

Every problem is located (``file:line:column``) and all are reported at once: an unknown key, a value of
the wrong type, an activity or resource the log does not have (a typo would silently map nothing), a
resource in two departments, a stage or owner not declared, a lane, channel or emotion out of its range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..loading import Located, load_yaml, read_text, unreadable
from ..model import CHANNELS, LANES
from ..problems import Problem, excerpt
from ..schema import ID_PATTERN

__all__ = ["Mapping", "ActivityInfo", "read_mapping", "check_mapping", "MAX_MAPPING_BYTES"]

#: Largest mapping file read (1 MB: thousands of resources).
MAX_MAPPING_BYTES = 1024 * 1024
_ID = re.compile(ID_PATTERN)
_TOP = ("journey", "persona", "stages", "departments", "activities", "$schema")
_ACTIVITY_KEYS = ("id", "name", "stage", "owner", "lane", "channel", "emotion")


@dataclass(frozen=True)
class ActivityInfo:
    """What the mapping says of one activity; None where it says nothing."""

    id: str | None = None
    name: str | None = None
    stage: str | None = None
    owner: str | None = None
    lane: str | None = None
    channel: str | None = None
    emotion: float | None = None


@dataclass(frozen=True)
class Mapping:
    file: str
    journey_id: str | None = None
    journey_name: str | None = None
    persona: dict[str, Any] = field(default_factory=dict)
    stages: tuple[tuple[str, str], ...] = ()
    #: resource -> department id
    resources: dict[str, str] = field(default_factory=dict)
    #: department id -> its display name
    department_names: dict[str, str] = field(default_factory=dict)
    #: activity (as in the log) -> what the mapping says of it
    activities: dict[str, ActivityInfo] = field(default_factory=dict)


def read_mapping(path: str, activities: tuple[str, ...] = (), resources: tuple[str, ...] = ()) -> Mapping:
    """The mapping at ``path``, checked against the log's activities and resources.

    Raises :class:`~journeymap.eventlog_reader.LogInvalid` with every problem found.
    """
    from ..eventlog_reader import LogInvalid

    try:
        text = read_text(path, max_bytes=MAX_MAPPING_BYTES)
    except (OSError, UnicodeDecodeError) as exc:
        raise LogInvalid([unreadable(path, exc, "mapping")]) from exc
    loc, problems = load_yaml(text, path)
    if loc is None:
        raise LogInvalid(problems)
    mapping, more = check_mapping(loc, activities, resources)
    problems += more
    if any(p.is_error for p in problems):
        raise LogInvalid(problems)
    return mapping


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_ID.match(value)) and len(value) <= 100


def check_mapping(loc: Located, activities: tuple[str, ...] = (), resources: tuple[str, ...] = ()
                  ) -> tuple[Mapping, list[Problem]]:
    """The mapping ``loc`` describes and its problems (the mapping is only meaningful without errors)."""
    problems: list[Problem] = []

    def error(path: tuple, rule: str, message: str, hint: str = "", key: bool = False) -> None:
        problems.append(loc.problem(path, rule, message, hint, key=key))

    data = loc.data
    if not isinstance(data, dict):
        error((), "wrong-type", "a mapping file is a YAML mapping", "start from journeys/data/claims-mapping.yaml")
        return Mapping(loc.file), problems
    for k in data:
        if k not in _TOP:
            error((k,), "unknown-key", f"unknown key {excerpt(k)} (allowed: {', '.join(_TOP[:-1])})",
                  "see docs/data.md, 'The mapping file'", key=True)
    journey = data.get("journey", {})
    if not isinstance(journey, dict):
        error(("journey",), "wrong-type", "journey: must be a mapping {id, name}")
        journey = {}
    if "id" in journey and not _is_id(journey["id"]):
        error(("journey", "id"), "bad-id", f"journey id {excerpt(journey['id'])} is not an id",
              "letters, digits, _ . -, starting with a letter")
    persona = data.get("persona", {})
    if not isinstance(persona, dict) or ("id" in persona and not _is_id(persona["id"])):
        error(("persona",), "wrong-type", "persona: must be a mapping with an id, as in a journey file")
        persona = {}
    stages = _stages(data.get("stages", []), error)
    stage_ids = {s for s, _ in stages}
    res_map, names = _departments(data.get("departments", {}), set(resources), error)
    acts = _activities(data.get("activities", {}), set(activities), stage_ids, set(names), error)
    return Mapping(loc.file, journey.get("id"), journey.get("name") if isinstance(journey.get("name"), str) else None,
                   dict(persona), tuple(stages), res_map, names, acts), problems


def _stages(raw: Any, error: Any) -> list[tuple[str, str]]:
    if not isinstance(raw, list):
        error(("stages",), "wrong-type", "stages: must be a list of ids or {id, name}")
        return []
    out = []
    for i, s in enumerate(raw):
        sid, name = (s, None) if isinstance(s, str) else (s.get("id"), s.get("name")) if isinstance(s, dict) \
            else (None, None)
        if not _is_id(sid):
            error(("stages", i), "bad-id", f"stage {excerpt(s)} has no valid id", "write an id, or {id: x, name: X}")
            continue
        out.append((str(sid), str(name) if name else str(sid).replace("_", " ").capitalize()))
    return out


def _departments(raw: Any, resources: set[str], error: Any) -> tuple[dict[str, str], dict[str, str]]:
    res_map: dict[str, str] = {}
    names: dict[str, str] = {}
    if not isinstance(raw, dict):
        error(("departments",), "wrong-type", "departments: must map department ids to {name, resources}")
        return res_map, names
    for dept, spec in raw.items():
        path = ("departments", dept)
        if not _is_id(dept) or dept == "customer":
            error(path, "bad-id", f"department id {excerpt(dept)} is not an id (or is the reserved 'customer')",
                  "letters, digits, _ . -, starting with a letter", key=True)
            continue
        people = spec.get("resources", []) if isinstance(spec, dict) else spec
        if not isinstance(people, list):
            error(path, "wrong-type", f"department {dept!r}: give {{name, resources: [...]}} or a list of resources")
            continue
        if isinstance(spec, dict):
            for k in spec:
                if k not in ("name", "resources"):
                    error(path + (k,), "unknown-key", f"unknown key {excerpt(k)} (allowed: name, resources)", key=True)
        names[dept] = str(spec.get("name", dept)) if isinstance(spec, dict) else dept
        for j, r in enumerate(people):
            rpath = path + (("resources", j) if isinstance(spec, dict) else (j,))
            r = str(r)
            if r in res_map:
                error(rpath, "duplicate", f"resource {excerpt(r)} is in departments {res_map[r]!r} and {dept!r}",
                      "list each resource under one department")
            elif resources and r not in resources:
                error(rpath, "unknown-resource", f"resource {excerpt(r)} does not occur in the log",
                      "check the spelling against the log's resource column (case matters)")
            res_map[r] = dept
    return res_map, names


def _activities(raw: Any, activities: set[str], stages: set[str], departments: set[str], error: Any
                ) -> dict[str, ActivityInfo]:
    out: dict[str, ActivityInfo] = {}
    if not isinstance(raw, dict):
        error(("activities",), "wrong-type", "activities: must map the log's activity names to {stage, lane, ...}")
        return out
    for name, spec in raw.items():
        path = ("activities", name)
        if activities and str(name) not in activities:
            near = sorted(a for a in activities if a.lower() == str(name).lower())
            error(path, "unknown-activity", f"activity {excerpt(name)} does not occur in the log",
                  f"did you mean {near[0]!r}?" if near else "write the activity exactly as the log does", key=True)
            continue
        if not isinstance(spec, dict):
            error(path, "wrong-type", f"activity {excerpt(name)}: give a mapping such as {{stage: x, lane: y}}")
            continue
        for k in spec:
            if k not in _ACTIVITY_KEYS:
                error(path + (k,), "unknown-key", f"unknown key {excerpt(k)} (allowed: {', '.join(_ACTIVITY_KEYS)})",
                      key=True)
        info = ActivityInfo(**{k: spec.get(k) for k in _ACTIVITY_KEYS if k in spec})
        _check_activity(info, path, stages, departments, error)
        out[str(name)] = info
    return out


def _check_activity(info: ActivityInfo, path: tuple, stages: set[str], departments: set[str], error: Any) -> None:
    """The values of one activity's entry: ids, a declared stage and owner, a lane, channel and emotion in range."""
    if info.id is not None and not _is_id(info.id):
        error(path + ("id",), "bad-id", f"step id {excerpt(info.id)} is not an id",
              "letters, digits, _ . -, starting with a letter")
    if info.stage is not None and info.stage not in stages:
        error(path + ("stage",), "unknown-stage", f"stage {excerpt(info.stage)} is not under stages:",
              "declare it under stages:")
    if info.owner is not None and info.owner != "customer" and info.owner not in departments:
        error(path + ("owner",), "unknown-owner", f"owner {excerpt(info.owner)} is not a department",
              "declare it under departments:, or write customer")
    if info.lane is not None and info.lane not in LANES:
        error(path + ("lane",), "bad-value", f"lane {excerpt(info.lane)} is not one of {', '.join(LANES)}")
    if info.channel is not None and info.channel not in CHANNELS:
        error(path + ("channel",), "bad-value", f"channel {excerpt(info.channel)} is not one of {', '.join(CHANNELS)}")
    emotion = info.emotion
    if emotion is not None and (isinstance(emotion, bool) or not isinstance(emotion, (int, float))
                                or not -3 <= emotion <= 3):
        error(path + ("emotion",), "bad-value", f"emotion {excerpt(emotion)} is not a number from -3 to 3")
    if info.name is not None and not isinstance(info.name, str):
        error(path + ("name",), "wrong-type", "name: must be text")
