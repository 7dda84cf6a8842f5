"""Plain-text tables: pure functions from data to strings."""

from __future__ import annotations

from journeymap.analysis import analyze
from journeymap.graph import build_graph
from journeymap.tables import analysis_text, table
from journeymap.validation import load_journey
from conftest import ROOT


def test_table_aligns_text_left_and_numbers_right():
    out = table(["name", "n"], [["a", 1], ["bbb", 22.5]])
    assert out.splitlines() == ["name      n", "----  -----", "a         1", "bbb   22.50"]


def test_table_with_explicit_alignment_and_no_rows():
    assert table(["x", "y"], [], "rl").splitlines() == ["x  y", "-  -"]


def test_analysis_text_for_acme_cio():
    report = analyze(build_graph(load_journey(ROOT / "journeys" / "acme-cio.yaml")))
    text = analysis_text(report)
    first = text.splitlines()[0]
    assert first == (f"Journey acme-cio (persona cio): {report['steps']} steps, {report['touchpoints']} touchpoints, "
                     f"{report['handoffs']} internal handoffs")
    assert "security_call -> answer_questionnaire: p=0.25" in text   # the rework loop
    for stage in report["stages"]:
        assert any(line.startswith(stage) for line in text.splitlines())
