"""Every example journey validates with no errors and analyzes; so does the example in docs/format.md.

(`journeymap validate journeys/*.yaml`, the command, is tested in test_cli.py.)
"""

from __future__ import annotations

import json
import re

import pytest
from helpers import EXAMPLES, ROOT

from journeymap.analysis import analyze
from journeymap.graph import build_graph
from journeymap.problems import format_problem
from journeymap.validation import check_file, check_text


def test_there_are_examples():
    assert len(EXAMPLES) >= 1


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_validates_and_analyzes(path):
    checked = check_file(path)
    assert checked.errors == [], "\n".join(format_problem(p) for p in checked.errors)
    report = analyze(build_graph(checked.journey))
    json.dumps(report)                       # JSON-ready as it is
    assert report["steps"] == len(checked.journey.steps)
    assert sum(report["steps_per_lane"].values()) == report["steps"]
    assert report["expected_visits"][checked.journey.start] >= 1
    for end in checked.journey.ends:
        assert report["expected_visits"][end] <= 1 + 1e-9   # a case ends once (or not at all there)
    assert sum(report["expected_visits"][e] for e in checked.journey.ends) == pytest.approx(1.0)


def test_the_annotated_example_in_format_md_is_clean():
    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    checked = check_text(block, "docs/format.md")
    assert checked.problems == [], "\n".join(format_problem(p) for p in checked.problems)
