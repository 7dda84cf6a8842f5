"""Broken and hostile input (issue 10): never a traceback, never a hang, never a changed input.

What validates, renders: every view and chart of a journey whose names are drawn from the whole
Unicode range is valid XML.

The property test that mutates the bundled journeys and accounts and runs ``journeymap validate``
on each lives with the other CLI tests, in tests/test_cli.py (its strategies, in tests/helpers.py);
it runs ``HOSTILE_EXAMPLES`` examples (default 40) in the normal run, and its ``slow`` twin, only
when ``HOSTILE_SLOW=1`` is set, ``HOSTILE_SLOW_EXAMPLES`` (default 1,000)::

    HOSTILE_EXAMPLES=500 pytest tests/test_cli.py -k mutated
    HOSTILE_SLOW=1 pytest -m slow tests/test_cli.py
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import yaml
from helpers import ALL_EXAMPLES, EXAMPLE_TEXTS, JOURNEYS

from journeymap.validation import bad_characters, check_text


def test_the_examples_are_unchanged_by_the_mutations():
    """The strategies mutate copies: the bundled files on disk are what they were."""
    assert {f.name: f.read_text(encoding="utf-8") for f in ALL_EXAMPLES} == EXAMPLE_TEXTS
    assert JOURNEYS.is_dir()


# --------------------------------------------------------------------------- what validates, renders


def _wide_unicode(count: int, stride: int = 89) -> list[str]:
    """``count`` names of 12 characters sampled across the whole code space (planes 0-3),
    keeping the characters validation accepts, plus hand-picked hard cases."""
    chars = [chr(c) for c in range(0x20, 0x33000, stride)
             if not list(bad_characters(chr(c), ()))]
    names = ["".join(chars[i:i + 12]).strip() or "x" for i in range(0, len(chars), 12)]
    hard = ["Café über naïve", "見積もり依頼", "🧑‍💼 sign-off ✅", "מחיר ← שלום", "مراجعة العقد",
            "e\u0301\u0302\u0303 combining", "<legal> & \"quotes\" 'too'", "back\\slash {brace} |pipe|",
            "\u200b\u200d zero width", "line\nbreak\tand tab", "\U0001f600\U0001f4bc\U0001f3e6", "Ωμέγα Σ"]
    step = max(1, len(names) // count)
    return hard + names[::step][: max(0, count - len(hard))]


def _unicode_journey(names: list[str]) -> str:
    """A small journey with a rework loop and a label, every name taken from ``names``, as YAML."""
    n = len(names) - 10
    steps = []
    for i in range(n):
        owner = "customer" if i % 3 == 0 else f"d{i % 3}"
        step: dict[str, Any] = {"id": f"s{i}", "stage": f"st{min(2, 3 * i // n)}", "owner": owner,
                                "duration": "1h", "name": names[i + 10]}
        step.update({"channel": "email", "emotion": 1} if owner == "customer" else {"value_adding": True})
        if i == n - 3:
            step["next"] = [{"to": f"s{i - 1}", "probability": 0.2, "label": names[i + 10][:20]},
                            {"to": f"s{i + 1}", "probability": 0.8}]
        steps.append(step)
    data = {
        "journey": {"id": "wide", "name": names[0], "description": names[1]},
        "persona": {"id": "p", "name": names[2], "goals": [names[3]]},
        "stages": [{"id": f"st{i}", "name": names[4 + i]} for i in range(3)],
        "departments": [{"id": f"d{i}", "name": names[7 + i], "capacity": 2} for i in range(3)],
        "steps": steps,
        "workload": {"arrivals": {"every": "1d"}, "cases": 12},
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


@pytest.mark.exe
@pytest.mark.filterwarnings("ignore:Glyph")  # matplotlib's fonts lack many scripts: boxes, still valid XML
def test_every_view_of_a_wide_unicode_journey_is_valid_xml(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' is not installed")
    from journeymap.rendering import render_all
    from journeymap.simulation import simulate

    text = _unicode_journey(_wide_unicode(60))
    checked = check_text(text, str(tmp_path / "wide.yaml"))
    assert checked.errors == [], checked.errors[:3]
    journey = checked.journey
    result = simulate(journey, replications=1, seed=1)
    written = render_all(journey, tmp_path / "out", results=result.summary, formats=("svg",))
    svgs = [p for p in written if p.endswith(".svg")]
    assert {"map.svg", "blueprint.svg", "handoffs.svg", "emotion.svg"} <= {os.path.basename(p) for p in svgs}
    for path in svgs:
        ET.parse(path)  # raises on invalid XML


def test_a_name_refused_at_validation_would_have_broken_the_render():
    """The characters validation refuses are the ones that broke `render` (U+FFFE) and emotion.svg (a bell)."""
    names = _wide_unicode(14)
    for bad in ("\ufffe", "\a"):
        names[12] = "Sign" + bad
        checked = check_text(_unicode_journey(names), "bad.yaml")
        assert [p.rule for p in checked.errors] == ["invalid-character"], checked.errors
