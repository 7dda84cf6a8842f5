"""The JSON Schema: valid Draft 2020-12, accepts every example, and the committed copy is current."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from helpers import EXAMPLES, ROOT

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
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
