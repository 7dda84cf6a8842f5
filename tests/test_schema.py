"""The JSON Schema: valid Draft 2020-12, accepts every example, and the committed copy is current."""

from __future__ import annotations

import json

import jsonschema
import pytest
from helpers import EXAMPLES, ROOT

from journeymap.loading import load_yaml
from journeymap.schema import JOURNEY_SCHEMA, schema_json


@pytest.fixture(scope="module")
def printed_schema() -> dict:
    """The schema `journeymap schema` prints (journeymap.schema.schema_json), parsed; tests/test_cli.py checks
    that the command prints exactly this."""
    return json.loads(schema_json())


def test_schema_is_valid_draft_2020_12(printed_schema):
    assert printed_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(printed_schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_validates_against_the_printed_schema(path, printed_schema):
    # journeymap's own loader, as validate reads the file: dates such as holidays stay text (yaml.safe_load
    # would make them date objects, which no JSON Schema type describes)
    loc, problems = load_yaml(path.read_text(encoding="utf-8"), str(path))
    assert problems == []
    data = loc.data
    errors = sorted(jsonschema.Draft202012Validator(printed_schema).iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_committed_schema_file_is_current():
    """docs/journey.schema.json is what `journeymap schema` prints; regenerate it with
    `journeymap schema > docs/journey.schema.json` after changing journeymap/schema.py."""
    committed = (ROOT / "docs" / "journey.schema.json").read_text(encoding="utf-8")
    assert committed == schema_json()


def test_schema_rejects_what_the_validator_calls_structure_errors(printed_schema):
    validator = jsonschema.Draft202012Validator(printed_schema)
    bad = {"journey": {"name": "T"}, "persona": {"id": "p"}, "stages": ["a"],
           "steps": [{"id": "s", "stage": "a", "owner": "customer", "duration": "1h", "valu_adding": True}]}
    assert any(e.validator == "additionalProperties" for e in validator.iter_errors(bad))
    del bad["steps"][0]["valu_adding"]
    assert not list(validator.iter_errors(bad))
    del bad["steps"][0]["duration"]
    assert any(e.validator == "required" for e in validator.iter_errors(bad))


def test_every_key_has_a_description_for_editors():
    """Hover help: each step key and each top-level key with structure says what it is."""
    step = JOURNEY_SCHEMA["properties"]["steps"]["items"]["properties"]
    undocumented = [k for k, v in step.items() if k not in ("id", "notes") and not v.get("description")]
    assert undocumented == []


def test_the_schema_knows_every_time_unit_the_parser_knows():
    """The duration pattern is built from distributions.UNITS, and the examples in messages all parse."""
    import re

    from journeymap.distributions import UNITS, parse_duration
    from journeymap.schema import DURATION_EXAMPLES, DURATION_PATTERN

    for unit in UNITS:
        assert re.match(DURATION_PATTERN, f"2{unit}") and re.match(DURATION_PATTERN, f"1.5 {unit}"), unit
    assert not re.match(DURATION_PATTERN, "2 fortnights")
    for example in DURATION_EXAMPLES.split(", "):
        assert re.match(DURATION_PATTERN, example) and parse_duration(example) > 0, example


def test_the_working_time_patterns_accept_exactly_the_bases_of_their_keys():
    """A step's duration may be in working hours (4wh), a delay or a target also in business days (2bd);
    elsewhere (arrivals, tolerances) only elapsed time: the editor underlines what validate refuses."""
    import re

    from journeymap.distributions import BASES, DurationError, parse_duration
    from journeymap.schema import DURATION_PATTERN, DURATION_PATTERNS, TIMED_DURATION_PATTERN, WORKING_DURATION_PATTERN

    accepts = {pattern: [text for text in ("2h", "4wh", "2bd") if re.match(pattern, text)]
               for pattern in DURATION_PATTERNS}
    assert accepts == {DURATION_PATTERN: ["2h"], WORKING_DURATION_PATTERN: ["2h", "4wh"],
                       TIMED_DURATION_PATTERN: ["2h", "4wh", "2bd"]}
    for pattern, bases in DURATION_PATTERNS.items():
        for text in ("2h", "4wh", "2bd"):
            try:
                parse_duration(text, bases=bases)
                parsed = True
            except DurationError:
                parsed = False
            assert parsed == bool(re.match(pattern, text)), (pattern, text)
    assert DURATION_PATTERNS[TIMED_DURATION_PATTERN] == BASES


def test_working_time_keys_have_descriptions_for_editors():
    props = JOURNEY_SCHEMA["properties"]
    for key in ("holidays", "calendars", "calendar", "priorities", "targets"):
        assert props[key].get("description"), key
    department = props["departments"]["items"]["properties"]
    persona = props["persona"]["properties"]
    workload = props["workload"]["properties"]
    target = props["targets"]["items"]["properties"]
    calendar = props["calendars"]["additionalProperties"]["properties"]
    shift = department["shifts"]["items"]["properties"]
    for where, keys in ((department, ("calendar", "shifts")), (persona, ("calendar", "priority")),
                        (workload, ("start", "mix")), (target, tuple(target)), (calendar, tuple(calendar)),
                        (shift, tuple(shift)), (JOURNEY_SCHEMA["properties"]["steps"]["items"]["properties"],
                                                ("must_finish", "duration"))):
        assert [k for k in keys if not where[k].get("description")] == [], keys


# --------------------------------------------------------------------------- levers files (issue 13)


def test_levers_schema_is_valid_and_the_committed_copy_is_current():
    """docs/levers.schema.json is what `journeymap schema --levers` prints; regenerate it with
    `journeymap schema --levers -o docs/levers.schema.json` after changing journeymap/schema.py."""
    from journeymap.schema import LEVERS_SCHEMA, levers_schema_json

    printed = json.loads(levers_schema_json())
    assert printed == LEVERS_SCHEMA and printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(printed)
    assert (ROOT / "docs" / "levers.schema.json").read_text(encoding="utf-8") == levers_schema_json()


def test_every_levers_example_validates_against_the_levers_schema():
    from helpers import LEVERS_EXAMPLES

    from journeymap.schema import LEVERS_SCHEMA

    assert LEVERS_EXAMPLES
    for path in LEVERS_EXAMPLES:
        loc, problems = load_yaml(path.read_text(encoding="utf-8"), str(path))
        assert problems == []
        assert not list(jsonschema.Draft202012Validator(LEVERS_SCHEMA).iter_errors(loc.data)), path


def test_the_levers_schema_asks_each_kind_for_what_it_changes():
    """An editor flags a staff lever without its department, the way validate does."""
    from journeymap.schema import LEVER_KINDS, LEVERS_SCHEMA

    validator = jsonschema.Draft202012Validator(LEVERS_SCHEMA)
    lever = {"id": "x", "kind": "staff", "range": [0, 1]}
    errors = list(validator.iter_errors({"journey": "j.yaml", "levers": [lever]}))
    assert [e.validator for e in errors] == ["required"] and "department" in errors[0].message
    lever["department"] = "ops"
    assert not list(validator.iter_errors({"journey": "j.yaml", "levers": [lever]}))
    assert LEVERS_SCHEMA["properties"]["levers"]["items"]["properties"]["kind"]["enum"] == list(LEVER_KINDS)
