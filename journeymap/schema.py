"""The JSON Schema of journey files.

One schema serves two purposes: editors use it (through the
``yaml-language-server`` modeline, or ``journeymap schema > journey.schema.json``)
to autocomplete and flag mistakes as the designer types, and the loader checks
every file against the very same schema before the semantic rules run, so what
the editor says and what ``journeymap validate`` says cannot drift apart.

Rules a schema cannot express (references, probabilities summing to one,
reachability) live in :mod:`journeymap.validation`.
"""

from __future__ import annotations

import json
from typing import Any

from .distributions import BASES, ELAPSED, MAX_EMPIRICAL, UNITS, WORKING_UNITS, Basis
from .model import CHANNELS, EMOTION_SCALE, ESTIMATE_TAGS, LANES, PRIORITY_CLASSES, ROLES, SURVEYS

__all__ = ["JOURNEY_SCHEMA", "ACCOUNT_SCHEMA", "schema_json", "account_schema_json", "ID_PATTERN", "DURATION_PATTERN",
           "WORKING_DURATION_PATTERN", "TIMED_DURATION_PATTERN", "DURATION_PATTERNS",
           "MAX_STEPS", "MAX_CASES", "MAX_ID_LENGTH", "MAX_CAPACITY", "DURATION_EXAMPLES", "LEVER_KINDS",
           "LEVERS_SCHEMA", "levers_schema", "levers_schema_json", "MAX_FACTOR", "MAX_LEVERS", "MONEY"]

#: Most steps in one journey: validate, simulate and render each stay within seconds at this size
#: (docs/format.md, "Limits"); 20,000 steps took minutes and gigabytes to render.
MAX_STEPS = 4_000
#: Most cases (or deals) per replication, and backlog cases at one step.
MAX_CASES = 1_000_000

#: Longest id: ids are quoted in messages and drawn on maps.
MAX_ID_LENGTH = 100
#: Most people in one department.
MAX_CAPACITY = 10_000
#: How messages and descriptions show a duration.
DURATION_EXAMPLES = "45s, 30min, 2h, 3d, 1w"

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"


def _duration_pattern(units: list[str]) -> str:
    return r"^\s*(\d+(\.\d+)?|\.\d+)\s*(" + "|".join(sorted(units, key=len, reverse=True)) + r")\s*$"


#: Elapsed time only (arrival gaps, tolerances): 45s, 30min, 2h, 3d, 1w.
DURATION_PATTERN = _duration_pattern(list(UNITS))
#: Elapsed time or working hours (a step's duration): also 4wh.
WORKING_DURATION_PATTERN = _duration_pattern(list(UNITS) + ["wh"])
#: Any basis (a flow's delay, a target's within): also 4wh and 2bd.
TIMED_DURATION_PATTERN = _duration_pattern(list(UNITS) + list(WORKING_UNITS))
#: Each duration pattern with the bases it accepts, for messages that explain a value it refuses.
DURATION_PATTERNS: dict[str, tuple[Basis, ...]] = {
    DURATION_PATTERN: ELAPSED,
    WORKING_DURATION_PATTERN: ("elapsed", "working"),
    TIMED_DURATION_PATTERN: BASES,
}

_ID = {"type": "string", "pattern": ID_PATTERN, "maxLength": MAX_ID_LENGTH,
       "description": "A short identifier: a letter, then letters, digits, '_', '-' or '.'."}
_TEXT = {"type": "string"}

_DURATION_STRING = {"type": "string", "pattern": DURATION_PATTERN,
                    "description": f"A number and a unit: {DURATION_EXAMPLES}."}
_WORKING_STRING = {"type": "string", "pattern": WORKING_DURATION_PATTERN,
                   "description": f"A number and a unit: {DURATION_EXAMPLES}, or working hours: 4wh."}
_TIMED_STRING = {"type": "string", "pattern": TIMED_DURATION_PATTERN,
                 "description": f"A number and a unit: {DURATION_EXAMPLES}; working hours: 4wh; business days: 2bd."}


def _duration(string: dict[str, Any], description: str) -> dict[str, Any]:
    """The schema of a ``duration:`` (or ``delay:``) value whose durations match ``string``."""
    return {
        "$comment": "duration",
        "description": description,
        "anyOf": [
            string,
            {"type": "number", "const": 0},
            {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
             "properties": {
                 "fixed": string,
                 "exponential": {**string, "description": "The mean duration."},
                 "triangular": {"type": "array", "items": string, "minItems": 3, "maxItems": 3,
                                "description": "[shortest, most likely, longest]"},
                 "uniform": {"type": "array", "items": string, "minItems": 2, "maxItems": 2,
                             "description": "[shortest, longest]"},
                 "lognormal": {"type": "object", "additionalProperties": False, "required": ["mean", "sd"],
                               "properties": {"mean": string, "sd": string},
                               "description": "Right-skewed, by mean and standard deviation."},
                 "gamma": {"type": "object", "additionalProperties": False, "required": ["mean", "sd"],
                           "properties": {"mean": string, "sd": string},
                           "description": "Right-skewed, lighter tail than the lognormal, by mean and standard "
                                          "deviation (shape = (mean/sd)^2, scale = sd^2/mean)."},
                 "weibull": {"type": "object", "additionalProperties": False, "required": ["shape", "scale"],
                             "properties": {"shape": {"type": "number", "exclusiveMinimum": 0,
                                                      "description": "A plain number: 1 is the exponential, "
                                                                     "above 1 a rising hazard."},
                                            "scale": string},
                             "description": "Weibull by shape (a number) and scale (a duration)."},
                 "empirical": {"type": "array", "items": string, "minItems": 2, "maxItems": MAX_EMPIRICAL,
                               "description": "Quantiles at equally spaced probabilities 0, 1/(n-1), ..., 1, "
                                              "non-decreasing; sampled by linear interpolation."},
             }},
        ],
    }


_DISTRIBUTIONS = ("a distribution: {exponential: 2h}, {triangular: [1h, 2h, 5h]}, {uniform: [1h, 3h]}, "
                  "{lognormal: {mean: 2h, sd: 1h}}, {gamma: {mean: 2h, sd: 1h}}, {weibull: {shape: 1.5, scale: 2h}}, "
                  "{empirical: [10min, 25min, 1h, 3h]}, {fixed: 30min}")
#: A step's duration: elapsed time, or working hours (4wh: pauses while the owner's calendar is closed).
DURATION: dict[str, Any] = _duration(
    _WORKING_STRING, f"A fixed duration (30min, 2h, 3d; 4wh in working hours) or {_DISTRIBUTIONS}. "
                     "Working hours (wh) pause while the owner's calendar is closed; elapsed time runs on the clock.")
#: A flow's delay: elapsed time, working hours or business days of the receiving side's calendar.
DELAY: dict[str, Any] = _duration(
    _TIMED_STRING, "Time the case sits untouched before the next step starts (an inbox, a weekly committee): "
                   "elapsed (3d), working hours (4wh) or business days (2bd) of the receiving side; "
                   f"or {_DISTRIBUTIONS}.")

#: Most a range of an estimate may scale a mean by (a mean 100 times the written one is a typo).
MAX_ESTIMATE = 100.0

#: How sure a number is: a tag with a default spread, or the range of its true mean as factors of the written one.
ESTIMATE: dict[str, Any] = {
    "description": "How sure the mean is: observed (x0.9-1.1), estimated (x0.7-1.3), assumed (x0.5-1.5), or "
                   "{low: 0.8, high: 1.5}: the true mean lies between 0.8 and 1.5 times the written one. "
                   "Used by 'journeymap uncertainty' (docs/uncertainty.md); the simulation ignores it.",
    "anyOf": [
        {"enum": list(ESTIMATE_TAGS)},
        {"type": "object", "additionalProperties": False, "required": ["low", "high"],
         "properties": {k: {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_ESTIMATE,
                            "description": f"The {w} factor on the written mean."}
                        for k, w in (("low", "lowest"), ("high", "highest"))}},
    ],
}

FLOW: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["to"],
    "description": "A flow to another step: {to: step_id, probability: 0.3, delay: 2d, label: why}.",
    "properties": {
        "to": {**_ID, "description": "The id of the step the case goes to."},
        "probability": {"type": "number", "minimum": 0, "maximum": 1,
                        "description": "Chance of taking this branch; the branches of a step sum to 1."},
        "delay": DELAY,
        "delay_estimate": {**ESTIMATE, "description": "How sure the delay's mean is. " + ESTIMATE["description"]},
        "rework": {"type": "boolean", "description": "Marks a loop back to redo work. Flows to an earlier "
                                                     "step in the file are rework unless marked rework: false "
                                                     "(a cycle of use, such as raising another ticket)."},
        "label": {**_TEXT, "description": "Shown on the map, e.g. 'documents missing'."},
    },
}

NEXT: dict[str, Any] = {
    "description": "Where the case goes after this step. Omit it to go to the next step in the file. "
                   "A step id; a flow {to, delay}; a list of branches with probabilities; or "
                   "{parallel: [...], join: step} to run branches at the same time.",
    "anyOf": [
        {**_ID, "description": "The id of the next step."},
        FLOW,
        {"type": "array", "minItems": 1, "items": FLOW},
        {"type": "object", "additionalProperties": False, "required": ["parallel", "join"],
         "properties": {
             "parallel": {"type": "array", "minItems": 2,
                          "items": {"anyOf": [_ID, FLOW]},
                          "description": "Steps started at the same time."},
             "join": {**_ID, "description": "The step that waits for every parallel branch."},
         }},
    ],
}

#: Keys every step of a complete journey needs. An overlay (a file with
#: ``extends``) may give just a step's id and the keys it changes, so these are
#: required through the conditional at the top of the schema, not in STEP.
STEP_REQUIRED = ["id", "stage", "owner", "duration"]

STEP: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id"],
    "properties": {
        "id": _ID,
        "after": {**_ID,
                  "description": "Overlays only: place this new step right after that step of the base journey."},
        "name": {**_TEXT, "description": "What happens, in the customer's words for touchpoints."},
        "stage": {**_ID, "description": "The id of the stage this step belongs to."},
        "lane": {"enum": list(LANES),
                 "description": "Service-blueprint lane. Default: customer for customer steps, frontstage "
                                "when a channel is given, backstage otherwise."},
        "owner": {**_ID, "description": "The department doing the step, or 'customer'."},
        "channel": {"enum": list(CHANNELS), "description": "How the customer meets us at this touchpoint."},
        "duration": DURATION,
        "estimate": {**ESTIMATE, "description": "How sure the duration's mean is. " + ESTIMATE["description"]},
        "value_adding": {"type": "boolean", "default": False,
                         "description": "Would the customer pay for this step? Used for flow efficiency."},
        "emotion": {"type": "number", "minimum": -3, "maximum": 3,
                    "description": "How the touchpoint feels: " +
                                   ", ".join(f"{k:+d} {v}" for k, v in EMOTION_SCALE.items())},
        "moment_of_truth": {"type": "boolean", "default": False,
                            "description": "A touchpoint that makes or breaks the relationship."},
        "must_finish": {"type": "boolean", "default": False,
                        "description": "Once started, runs to the end even past closing time (a meeting); its "
                                       "duration is elapsed time. Default: work pauses at closing time."},
        "notes": _TEXT,
        "tolerance": {**_DURATION_STRING,
                      "description": "How long the persona waits for this touchpoint before it turns sour "
                                     "(overrides the persona's tolerance)."},
        "survey": {"enum": list(SURVEYS),
                   "description": "A survey sent at this touchpoint: transactional (about this interaction) "
                                  "or relational (about the relationship)."},
        "next": NEXT,
    },
}

ARRIVALS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
    "description": "One of: poisson (mean gap between cases), every (fixed gap), schedule (list of times).",
    "properties": {
        "poisson": {**_DURATION_STRING, "description": "Mean time between arrivals of a Poisson process."},
        "every": {**_DURATION_STRING, "description": "A new case arrives at this fixed interval."},
        "schedule": {"type": "array", "minItems": 1, "items": _DURATION_STRING,
                     "description": "Arrival times from the start of the simulation."},
    },
}

# --------------------------------------------------------------------------- working time (docs/format.md)

_CLASSES = ", ".join(PRIORITY_CLASSES)
_DATE = {"type": "string", "description": "A date, YYYY-MM-DD (quoted or not), e.g. 2027-12-24."}
_INTERVAL = {"type": "string",
             "description": "Opening hours HH:MM-HH:MM on the 24-hour clock, e.g. 09:00-17:30 (at most to 24:00; "
                            "an interval may not cross midnight)."}
_HOURS_OF_DAYS = {
    "$comment": "hours",
    "description": "Opening hours of these days: one interval '09:00-17:00', or a list of them "
                   "[09:00-12:30, 13:30-17:30]. A lone time such as 10:00 is not an interval (and YAML reads it "
                   "as the number 600).",
    "anyOf": [_INTERVAL, {"type": "array", "minItems": 1, "items": _INTERVAL}],
}

CALENDAR: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["timezone", "hours"],
    "description": "When a department (or the customer) works: weekly opening hours in a time zone, minus "
                   "holidays, e.g. {timezone: Europe/Berlin, hours: {mon-fri: 09:00-17:00}, holidays: [de-2027]}.",
    "properties": {
        "timezone": {"type": "string",
                     "description": "An IANA time zone name: Europe/Berlin, Asia/Singapore, America/New_York, UTC."},
        "hours": {"type": "object", "additionalProperties": _HOURS_OF_DAYS,
                  "description": "Opening hours by days: keys are days (mon-fri, sat, mon,wed,fri), values one "
                                 "interval or a list, e.g. {mon-fri: [09:00-12:30, 13:30-17:30], sat: 10:00-14:00}. "
                                 "Days not named are closed."},
        "holidays": {"type": "array", "items": _TEXT,
                     "description": "Closed dates: names of lists under the top-level 'holidays', and/or dates "
                                    "(YYYY-MM-DD)."},
    },
}

SHIFT: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["days", "hours", "people"],
    "description": "People present on some days at some hours, e.g. {days: mon-fri, hours: 09:00-17:00, people: 3}.",
    "properties": {
        "days": {"type": "string", "description": "Days: mon-fri, sat, mon,wed,fri (a range may wrap: fri-mon)."},
        "hours": _HOURS_OF_DAYS,
        "people": {"type": "integer", "minimum": 0, "maximum": MAX_CAPACITY,
                   "description": "How many people work in this shift (shifts that overlap add up)."},
    },
}

TARGET: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["name", "within"],
    "description": "A service-level target: {name: Quote within 2 business days, step: send_quote, within: 2bd, "
                   "goal: 0.9}. Give exactly one of step, stage or journey: true.",
    "properties": {
        "id": {**_ID, "description": "The target's id in results. Default: made from the name."},
        "name": {**_TEXT, "description": "How reports name the target."},
        "step": {**_ID, "description": "The target is met when the case finishes this step (its first visit) in "
                                       "time, counted from the case's arrival (or from the end of 'since')."},
        "stage": {**_ID, "description": "The target is met when the case gets through this stage (first entry to "
                                        "last exit) in time."},
        "journey": {"type": "boolean",
                    "description": "journey: true: the whole journey, arrival to end, in time."},
        "since": {**_ID, "description": "Step targets only: count from the end of this step instead of the arrival."},
        "within": {**_TIMED_STRING,
                   "description": "The time allowed: elapsed (30d), working hours (16wh) or business days (2bd), "
                                  "counted on the journey's calendar."},
        "goal": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.9,
                 "description": "The share of cases that should meet it, as a fraction: 0.9 for 90%."},
    },
}


_AMOUNT = {"type": "number", "minimum": 0, "description": "An amount of 0 or more in the block's currency, "
                                                          "e.g. 250000."}

#: The ``money:`` block (docs/money.md): the stated assumptions that turn time and experience into money.
MONEY: dict[str, Any] = {
    # 'currency' is required of the merged journey (validation/money.py), not of an overlay that adds an investment
    "type": "object", "additionalProperties": False,
    "description": "The business case's assumptions, e.g. money: {currency: GBP, handoff_overhead: 10min, "
                   "cases_per_year: 1200, revenue: 30000000, churn: {below: 60, per_point: [0.5, 1.5]}, "
                   "expansion: {above: 70, per_point: [0.2, 0.6]}}.",
    "properties": {
        "currency": {"type": "string", "description": "Required: an ISO 4217 code in capitals: EUR, GBP, USD. "
                                                      "The departments' cost_per_hour are in it."},
        "handoff_overhead": {**_DURATION_STRING,
                             "description": "Staff time each internal handoff costs the receiving department "
                                            "(reading the file, asking what was meant), e.g. 10min."},
        "cases_per_year": {"type": "number", "minimum": 0, "description": "How many cases a year this journey "
                                                                         "serves: turns per-case figures into "
                                                                         "a year's."},
        "revenue": {**_AMOUNT, "description": "Revenue a year from the customers this journey serves, in the "
                                              "currency: what churn puts at risk and expansion adds to."},
        "churn": {
            "type": "object", "additionalProperties": False, "required": ["below", "per_point"],
            "description": "The churn link: each experience-index point below 'below' adds 'per_point' "
                           "[low, high] percentage points of annual churn, e.g. {below: 60, per_point: [0.5, 1.5]}.",
            "properties": {
                "below": {"type": "number", "minimum": 0, "maximum": 100,
                          "description": "The experience index (0-100) under which churn grows."},
                "per_point": {"type": "array", "minItems": 2, "maxItems": 2,
                              "items": {"type": "number", "minimum": 0, "maximum": 100,
                                        "description": "Percentage points of annual churn (0-100) per index "
                                                       "point below the line."},
                              "description": "[low, high]: percentage points of annual churn per index point "
                                             "below the line."},
            },
        },
        "expansion": {
            "type": "object", "additionalProperties": False, "required": ["above", "per_point"],
            "description": "The expansion link: each experience-index point above 'above' adds 'per_point' "
                           "[low, high] percentage points of annual expansion revenue (upsell, more seats), "
                           "e.g. {above: 70, per_point: [0.2, 0.6]}.",
            "properties": {
                "above": {"type": "number", "minimum": 0, "maximum": 100,
                          "description": "The experience index (0-100) over which accounts expand."},
                "per_point": {"type": "array", "minItems": 2, "maxItems": 2,
                              "items": {"type": "number", "minimum": 0, "maximum": 100,
                                        "description": "Percentage points of annual expansion (0-100) per index "
                                                       "point above the line."},
                              "description": "[low, high]: percentage points of annual expansion revenue per "
                                             "index point above the line."},
            },
        },
        "investment": {
            "type": "object", "additionalProperties": False,
            "description": "What the redesign costs (give it in the after design): {one_off: 250000, "
                           "per_month: 5000}.",
            "properties": {"one_off": _AMOUNT, "per_month": _AMOUNT},
        },
        "hours_per_fte": {"type": "number", "exclusiveMinimum": 0, "maximum": 8784,
                          "description": "Productive hours of a full-time person a year (default 1680)."},
    },
}


JOURNEY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://journeymap.dev/schema/journey.schema.json",
    "title": "journeymap journey",
    "description": "One persona's journey through a B2B relationship, and the internal work behind it.",
    "type": "object",
    "additionalProperties": False,
    # A complete journey needs these; an overlay (with 'extends') inherits them.
    "if": {"required": ["extends"]},
    "then": {},
    "else": {"required": ["journey", "persona", "stages", "steps"],
             "properties": {"steps": {"items": {"required": STEP_REQUIRED}}}},
    "properties": {
        "$schema": {"type": "string"},
        "extends": {"type": "string",
                    "description": "Path of the base journey this file changes (an overlay); see docs/format.md."},
        "remove": {
            "type": "object", "additionalProperties": False,
            "description": "Overlays only: ids of base entries to drop.",
            "properties": {k: {"type": "array", "items": _ID} for k in ("steps", "departments", "stages")},
        },
        "journey": {
            "type": "object", "additionalProperties": False, "required": ["name"],
            "description": "The journey's name (and optional id and description), "
                           "e.g. journey: {name: Acme - the CIO's journey}.",
            "properties": {"id": _ID, "name": _TEXT, "description": _TEXT},
        },
        "persona": {
            "type": "object", "additionalProperties": False, "required": ["id"],
            "description": "Who walks this journey, e.g. persona: {id: cio, name: Chief Information Officer, "
                           "role: decision_maker}.",
            "properties": {
                "id": _ID,
                "name": _TEXT,
                "role": {"enum": list(ROLES), "description": "Role in the buying group."},
                "goals": {"type": "array", "items": _TEXT},
                "tolerance": {**_DURATION_STRING,
                              "description": "How long this persona waits before a touchpoint turns sour."},
                "calendar": {**_ID, "description": "The name of a calendar (under 'calendars'): when the customer "
                                                   "works. Customer steps and delays into them follow it. "
                                                   "Default: around the clock."},
                "priority": {**_ID, "description": f"The priority class of this persona's cases, one of "
                                                   f"'priorities' (default {_CLASSES})."},
            },
        },
        "stages": {
            "type": "array", "minItems": 1,
            "description": "The stages in order, e.g. evaluate, buy, onboard, use, renew.",
            "items": {"anyOf": [
                _ID,
                {"type": "object", "additionalProperties": False, "required": ["id"],
                 "properties": {"id": _ID, "name": _TEXT, "description": _TEXT}},
            ]},
        },
        "departments": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["id"],
                "properties": {
                    "id": _ID,
                    "name": _TEXT,
                    "capacity": {"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY, "default": 1,
                                 "description": "People who can work on cases at the same time."},
                    "cost_per_hour": {"type": "number", "minimum": 0},
                    "calendar": {**_ID, "description": "The name of a calendar (under 'calendars'): the "
                                                       "department's opening hours, time zone and holidays. "
                                                       "Default: the journey's 'calendar', else around the clock."},
                    "shifts": {"type": "array", "minItems": 1, "items": SHIFT,
                               "description": "Instead of capacity: how many people are present when. Uses the "
                                              "time zone and holidays of the department's calendar (or the "
                                              "journey's; else UTC, no holidays)."},
                },
            },
        },
        "steps": {"type": "array", "minItems": 1, "maxItems": MAX_STEPS, "items": STEP,
                  "description": "The steps in order: what the customer does and the work behind it."},
        "start": {**_ID, "description": "The first step. Default: the first step in the file."},
        "end": {"description": "The step(s) where the journey ends. Default: the last step in the file.",
                "anyOf": [_ID, {"type": "array", "minItems": 1, "items": _ID}]},
        "workload": {
            "type": "object", "additionalProperties": False,
            "description": "What the simulation feeds in.",
            "properties": {
                "arrivals": ARRIVALS,
                "arrivals_estimate": {**ESTIMATE, "description": "How sure the mean gap between arrivals is "
                                                                 "(poisson and every). " + ESTIMATE["description"]},
                "cases": {"type": "integer", "minimum": 1, "maximum": MAX_CASES,
                          "description": "Cases per replication."},
                "warmup": {"type": "integer", "minimum": 0,
                           "description": "Cases at the start of each run left out of the statistics."},
                "start": {"type": "string",
                          "description": "When the simulation starts: a local date and time in the journey "
                                         "calendar's time zone, '2027-01-04 09:00', or ISO 8601 with an offset, "
                                         "'2027-01-04T09:00+01:00'. Default: the next Monday 09:00."},
                "mix": {"type": "object", "minProperties": 1,
                        "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1,
                                                 "description": "The class's share of the cases, as a fraction: "
                                                                "0.3 for 30%."},
                        "description": "Priority classes of arriving cases and their shares (fractions summing "
                                       "to 1), e.g. {key: 0.3, growth: 0.7}."},
                "backlog": {
                    "type": "array",
                    "description": "Cases already waiting at a step at time zero.",
                    "items": {"type": "object", "additionalProperties": False, "required": ["step", "cases"],
                              "properties": {"step": _ID,
                                             "cases": {"type": "integer", "minimum": 1, "maximum": MAX_CASES}}},
                },
            },
        },
        "holidays": {
            "type": "object",
            "description": "Named lists of closed dates, for calendars to reuse: {de-2027: [2027-01-01, "
                           "2027-12-25], uk-2027: {file: holidays/uk-2027.yaml}}.",
            "additionalProperties": {"anyOf": [
                {"type": "array", "items": _DATE, "description": "The dates, YYYY-MM-DD."},
                {"type": "object", "additionalProperties": False, "required": ["file"],
                 "properties": {"file": {"type": "string",
                                         "description": "A YAML file holding a list of dates, relative to this "
                                                        "file and inside its folder."}}},
            ]},
        },
        "calendars": {
            "type": "object", "additionalProperties": CALENDAR,
            "description": "Named calendars (opening hours, time zone, holidays) for departments and the persona.",
        },
        "calendar": {**_ID, "description": "The name of the calendar of departments without one, and of targets. "
                                           "Default: around the clock."},
        "priorities": {"type": "array", "minItems": 1, "items": _ID,
                       "description": f"Priority classes, highest first (default {_CLASSES}): waiting cases of an "
                                      "earlier class are served first."},
        "estimates": {
            "type": "object", "additionalProperties": False,
            "description": "How sure the journey's numbers are when a step or flow does not say, e.g. "
                           "estimates: {default: estimated}: every duration and delay without its own estimate.",
            "properties": {"default": ESTIMATE},
        },
        "targets": {"type": "array", "items": TARGET,
                    "description": "Service-level targets: a step, a stage or the whole journey within a time, for "
                                   "a share of the cases."},
        "money": MONEY,
    },
}


def schema_json() -> str:
    """The schema as pretty JSON, for ``journeymap schema``."""
    return json.dumps(JOURNEY_SCHEMA, indent=2) + "\n"


#: The JSON Schema of account files: a buying group of personas whose journeys
#: run together against shared staff and meet at consensus gates.
ACCOUNT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://journeymap.dev/schema/account.schema.json",
    "title": "journeymap account",
    "description": "A B2B account: its buying group's personas, their journeys, shared departments and "
                   "consensus gates.",
    "type": "object",
    "additionalProperties": False,
    "required": ["account", "personas"],
    "properties": {
        "$schema": {"type": "string"},
        "account": {
            "type": "object", "additionalProperties": False, "required": ["name"],
            "properties": {
                "id": _ID, "name": _TEXT, "description": _TEXT,
                "tier": {**_TEXT, "description": f"The account's tier. When it names a priority class of the "
                                                 f"journeys ({_CLASSES} by default), the account's cases have that "
                                                 f"priority; otherwise it is a label (e.g. enterprise)."},
                "revenue_band": {**_TEXT, "description": "e.g. 1-5M"},
            },
        },
        "personas": {
            "type": "array", "minItems": 1,
            "description": "The buying group: one journey file per persona, with its influence on the decision.",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["journey"],
                "properties": {
                    "journey": {"type": "string",
                                "description": "Path of the persona's journey file, relative to this file."},
                    "influence": {"type": "number", "exclusiveMinimum": 0, "default": 1,
                                  "description": "Weight of this persona in the account's experience index."},
                },
            },
        },
        "departments": {
            "type": "array",
            "description": "Capacities of the staff the personas share (override the journeys' own).",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["id"],
                "properties": {"id": _ID, "name": _TEXT,
                               "capacity": {"type": "integer", "minimum": 1},
                               "cost_per_hour": {"type": "number", "minimum": 0}},
            },
        },
        "gates": {
            "type": "array",
            "description": "Consensus gates: each named persona waits at its step until all have arrived.",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["id", "at"],
                "properties": {
                    "id": _ID, "name": _TEXT,
                    "at": {"type": "object", "minProperties": 2,
                           "description": "persona id: the step of that persona's journey where it waits",
                           "additionalProperties": _ID},
                },
            },
        },
        "workload": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "arrivals": ARRIVALS,
                "arrivals_estimate": {**ESTIMATE, "description": "How sure the mean gap between arrivals is "
                                                                 "(poisson and every). " + ESTIMATE["description"]},
                "cases": {"type": "integer", "minimum": 1, "maximum": MAX_CASES,
                          "description": "Accounts (deals) per replication."},
                "warmup": {"type": "integer", "minimum": 0},
            },
        },
        "surveys": {
            "type": "object", "additionalProperties": False,
            "properties": {"max_per_quarter": {"type": "integer", "minimum": 0, "default": 2,
                                               "description": "Warn when a persona gets more surveys than this "
                                                              "in a quarter."}},
        },
    },
}


def account_schema_json() -> str:
    """The account schema as pretty JSON, for ``journeymap schema --account``."""
    return json.dumps(ACCOUNT_SCHEMA, indent=2) + "\n"


# --------------------------------------------------------------------------- levers files (issue 13)

#: The kinds of lever a levers file may list (docs/levers.md explains what each does to the journey).
LEVER_KINDS = ("staff", "speed", "remove_step", "move_step", "cut_delay", "probability")
#: Largest factor a speed or cut_delay lever may apply (a step 1,000 times slower is a typo).
MAX_FACTOR = 1_000.0
#: Most levers in one file.
MAX_LEVERS = 64

_MONEY = {"type": "number", "minimum": 0,
          "description": "Money, in the currency of the journey's cost_per_hour."}
_COST = {
    "type": "object", "additionalProperties": False,
    "description": "What the change costs, paid when the lever is set to anything but 'no change'.",
    "properties": {
        "once": {**_MONEY, "description": "Paid once to make the change (money)."},
        "per_month": {**_MONEY, "description": "Paid every month while the change is in place (money)."},
        "per_person": {
            "type": "object", "additionalProperties": False,
            "description": "staff levers only: paid for each person added (and saved for each one taken away).",
            "properties": {"once": {**_MONEY, "description": "Paid once per person added (hiring, training)."},
                           "per_month": {**_MONEY, "description": "Paid every month per person added."}},
        },
    },
}
_RANGE = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"},
          "description": "[low, high]: the values to explore. staff: people added (whole numbers); speed and "
                         "cut_delay: a factor on the duration or delay; probability: the branch's new probability."}
#: What each kind of lever must name, with the description an editor shows.
_LEVER_NEEDS: dict[str, dict[str, Any]] = {
    "staff": {"department": {"description": "The department that gets (or loses) people."}, "range": _RANGE},
    "speed": {"step": {"description": "The step to speed up (or automate): its duration times the factor."},
              "range": _RANGE},
    "remove_step": {"step": {"description": "The step to remove: flows into it go on to its successors."}},
    "move_step": {"step": {"description": "The step to move."},
                  "to": {"description": "The department that takes the step over."}},
    "cut_delay": {"flow": {"description": "The flow 'from_step -> to_step' whose delay is cut."}, "range": _RANGE},
    "probability": {"flow": {"description": "The branch 'from_step -> to_step' whose probability changes; its "
                                           "sibling branches are rescaled to keep the sum 1."}, "range": _RANGE},
}
LEVER = {
    "type": "object", "additionalProperties": False, "required": ["id", "kind"],
    "description": "One change a team could make, with the range of values to explore and its cost.",
    "properties": {
        "id": {**_ID, "description": "The lever's id: settings and results name the lever by it."},
        "name": {**_TEXT, "description": "A name for charts and tables (default: the id)."},
        "description": _TEXT,
        "kind": {"enum": list(LEVER_KINDS),
                 "description": "staff: people in a department; speed: a step's duration x factor; remove_step; "
                                "move_step: to another department; cut_delay: a flow's delay x factor; "
                                "probability: a branch's probability."},
        "department": {**_ID, "description": "staff: the department that gets (or loses) people."},
        "step": {**_ID, "description": "speed, remove_step, move_step: the step changed."},
        "flow": {"type": "string", "description": "cut_delay, probability: the flow 'from_step -> to_step'."},
        "to": {**_ID, "description": "move_step: the department that takes the step over."},
        "range": _RANGE,
        "cost": _COST,
    },
    "allOf": [{"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
               "then": {"required": list(needs), "properties": needs}}
              for kind, needs in _LEVER_NEEDS.items()],
}

#: The JSON Schema of levers files: a journey and the changes to explore on it.
LEVERS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://journeymap.dev/schema/levers.schema.json",
    "title": "journeymap levers",
    "description": "The levers of a journey: changes a team could make, each with a range to explore and a cost.",
    "type": "object",
    "additionalProperties": False,
    "required": ["journey", "levers"],
    "properties": {
        "$schema": {"type": "string"},
        "journey": {"type": "string",
                    "description": "The journey file the levers change, relative to this file (an overlay is fine)."},
        "description": _TEXT,
        "levers": {"type": "array", "minItems": 1, "maxItems": MAX_LEVERS, "items": LEVER,
                   "description": "The levers, each with an id, a kind and what it changes."},
    },
}


def levers_schema() -> dict[str, Any]:
    """The JSON Schema of levers files."""
    return LEVERS_SCHEMA


def levers_schema_json() -> str:
    """The levers schema as pretty JSON, for ``journeymap schema --levers``."""
    return json.dumps(LEVERS_SCHEMA, indent=2) + "\n"


# --------------------------------------------------------------------------- portfolio files (issue 17)

__all__ += ["PORTFOLIO_SCHEMA", "REVENUE", "portfolio_schema_json", "MAX_TIERS", "MAX_ACCOUNTS"]

#: Most tiers in one portfolio, and most accounts in one tier (a run simulates every account).
MAX_TIERS = 20
MAX_ACCOUNTS = 100_000
#: An amount of revenue. Text is let through the structure pass so that the portfolio checks can say what is wrong
#: with it (a currency sign, a time unit) and refuse it there.
_MONEY_NUMBER = {"type": ["number", "string"],
                 "description": "A plain number in the portfolio's currency, per account per year (no currency sign, "
                                "no unit): 2000000 or 2_000_000."}
_REVENUE_LIST = {"type": "array", "items": _MONEY_NUMBER}
#: Revenue per account per year: the duration distributions with plain numbers (money, not time).
REVENUE: dict[str, Any] = {
    "description": "Revenue per account per year, in the portfolio's currency, as a plain number or a distribution "
                   "of plain numbers: 50000, {uniform: [5000, 40000]}, {triangular: [low, likely, high]}, "
                   "{lognormal: {mean: 2000000, sd: 800000}}, {gamma: {mean: ..., sd: ...}}, {exponential: mean}, "
                   "{empirical: [quantiles]}, {fixed: 50000}.",
    "anyOf": [
        _MONEY_NUMBER,
        {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
         "properties": {
             "fixed": _MONEY_NUMBER,
             "exponential": {**_MONEY_NUMBER, "description": "The mean revenue."},
             "triangular": {**_REVENUE_LIST, "minItems": 3, "maxItems": 3, "description": "[lowest, likely, highest]"},
             "uniform": {**_REVENUE_LIST, "minItems": 2, "maxItems": 2, "description": "[lowest, highest]"},
             "lognormal": {"type": "object", "additionalProperties": False, "required": ["mean", "sd"],
                           "properties": {"mean": _MONEY_NUMBER, "sd": _MONEY_NUMBER},
                           "description": "Right-skewed (a few large accounts), by mean and standard deviation."},
             "gamma": {"type": "object", "additionalProperties": False, "required": ["mean", "sd"],
                       "properties": {"mean": _MONEY_NUMBER, "sd": _MONEY_NUMBER},
                       "description": "Right-skewed, lighter tail than the lognormal, by mean and sd."},
             "empirical": {**_REVENUE_LIST, "minItems": 2, "maxItems": MAX_EMPIRICAL,
                           "description": "Quantiles at equally spaced probabilities, non-decreasing."},
         }},
    ],
}
_PERCENT = {"type": "number", "description": "Percentage points, from 0 to 100."}
PORTFOLIO_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://journeymap.dev/schema/portfolio.schema.json",
    "title": "journeymap portfolio",
    "description": "A book of business: account tiers with their revenue and journeys, the account managers who "
                   "serve them, and the vendor's departments every account shares (docs/portfolio.md).",
    "type": "object",
    "additionalProperties": False,
    "required": ["portfolio", "tiers"],
    "properties": {
        "$schema": {"type": "string"},
        "portfolio": {
            "type": "object", "additionalProperties": False, "required": ["name"],
            "properties": {
                "id": _ID, "name": _TEXT, "description": _TEXT,
                "currency": {"type": "string", "pattern": r"^[A-Z]{3}$",
                             "description": "The ISO 4217 code of every amount in the file (revenue, "
                                            "cost_per_hour): EUR, USD, GBP."},
                "horizon": {"type": "string",
                            "description": "How long a run simulates: 1y, 2y, 26w, 90d (at most 10y). Default 1y."},
                "start": {"type": "string", "description": "The run's minute 0: 2027-01-04 09:00 (local to the "
                                                           "templates' time zone unless it has an offset)."},
                "warmup": {"type": "string",
                           "description": "Time simulated before the horizon and not measured, so the year starts "
                                          "with queues already there: 8w, 60d. Default none."},
            },
        },
        "departments": {
            "type": "array",
            "description": "The vendor's departments every account shares: their capacity and cost override the "
                           "templates' own.",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["id"],
                "properties": {"id": _ID, "name": _TEXT,
                               "capacity": {"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY,
                                            "description": "People working on cases at once."},
                               "cost_per_hour": {"type": "number", "minimum": 0,
                                                 "description": "Cost of an hour of staff time, in the currency."}},
            },
        },
        "account_management": {
            "type": "object", "additionalProperties": False, "required": ["department", "managers"],
            "description": "The account managers: each account's own manager does the steps of 'department'.",
            "properties": {
                "department": {**_ID, "description": "The department of the templates whose steps an account's "
                                                     "own manager does (e.g. sales)."},
                "managers": {
                    "type": "array", "minItems": 1,
                    "description": "Levels of seniority, most senior first.",
                    "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["level", "people", "relationships"],
                        "properties": {
                            "level": _ID,
                            "people": {"type": "integer", "minimum": 0, "maximum": MAX_CAPACITY,
                                       "description": "How many managers of this level there are."},
                            "relationships": {"type": "integer", "minimum": 1, "maximum": MAX_ACCOUNTS,
                                              "description": "Most accounts one manager of this level holds (about "
                                                             "150 working relationships is a person's limit)."},
                            "cost_per_hour": {"type": "number", "minimum": 0},
                        },
                    },
                },
                "policy": {"enum": ["by_revenue", "by_tier", "round_robin"], "default": "by_revenue",
                           "description": "How accounts get a manager: by_revenue (largest first, most senior "
                                          "first), by_tier (tier order), round_robin (dealt in turn)."},
                "pool": {"type": "object", "additionalProperties": False,
                         "description": "The pooled team that serves accounts without a manager.",
                         "properties": {"capacity": {"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY},
                                        "cost_per_hour": {"type": "number", "minimum": 0}}},
            },
        },
        "tiers": {
            "type": "array", "minItems": 1, "maxItems": MAX_TIERS,
            "description": "The account tiers, highest value first.",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["id", "accounts", "revenue", "journeys"],
                "properties": {
                    "id": _ID, "name": _TEXT,
                    "accounts": {"type": "integer", "minimum": 1, "maximum": MAX_ACCOUNTS,
                                 "description": "How many accounts the tier has (a whole number, at least 1; "
                                                "remove a tier that has none)."},
                    "revenue": REVENUE,
                    "priority": {**_ID, "description": f"The priority class of the tier's cases ({_CLASSES} by "
                                                       "default, or the templates' own priorities)."},
                    "journeys": {
                        "type": "array", "minItems": 1,
                        "description": "What each account of the tier runs, and how often per account per year.",
                        "items": {
                            "type": "object", "additionalProperties": False, "required": ["template", "per_year"],
                            "properties": {
                                "template": {"type": "string", "description": "An account or journey file, relative "
                                                                              "to this file, in its folder."},
                                "per_year": {"type": "number", "exclusiveMinimum": 0, "maximum": 100_000,
                                             "description": "How many of these journeys one account starts per "
                                                            "year, on average (0.5: one every two years)."},
                                "as": {**_ID, "description": "A label in results: new_deal, renewal, support."},
                            },
                        },
                    },
                    "targets": {
                        "type": "array",
                        "description": "Service-level targets of the tier's cases, arrival to end.",
                        "items": {"type": "object", "additionalProperties": False, "required": ["within"],
                                  "properties": {"id": _ID, "name": _TEXT,
                                                 "within": _TIMED_STRING,
                                                 "goal": {"type": "number", "minimum": 0, "maximum": 1,
                                                          "default": 0.9,
                                                          "description": "The share of cases that should meet it, "
                                                                         "as a fraction: 0.9 for 90%."}}},
                    },
                },
            },
        },
        # the journey's money block (one definition, checked by validation/money.check_money), with what applies
        # to a whole book: revenue is per tier and the volume comes from the tiers, so neither is written here
        "money": {**MONEY, "description": "The business case (docs/money.md): handoff overhead, the churn and "
                                          "expansion links, "
                                          "the investment an after-design costs (compare of two books); "
                                          "the currency is the portfolio's.",
                  "properties": {k: v for k, v in MONEY["properties"].items()
                                 if k in ("currency", "handoff_overhead", "churn", "expansion", "hours_per_fte",
                                          "investment")}},
    },
}


def portfolio_schema_json() -> str:
    """The portfolio schema as pretty JSON, for ``journeymap schema --portfolio``."""
    return json.dumps(PORTFOLIO_SCHEMA, indent=2) + "\n"
