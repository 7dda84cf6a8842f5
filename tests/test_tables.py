"""Plain-text tables: pure functions from data to strings."""

from __future__ import annotations

import io

import pytest
from helpers import ROOT

from journeymap.analysis import analyze
from journeymap.graph import build_graph
from journeymap.tables import analysis_text, table
from journeymap.validation import load_journey


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


# --------------------------------------------------------------------------- comparison_text


def comparison(stability=None) -> dict:
    """A small comparison (the shape of journeymap.comparison.compare) with rows of every kind."""
    from journeymap.comparison import CI_NOTE, compare_metrics

    before = [{"cycle_time_mean": 1000.0 + i, "flow_efficiency_mean": 0.031 + 0.0001 * i, "rework_mean": 2.0,
               "experience_index": 34.0 + 0.1 * i, "cost_per_case": 6500.0 + i, "cost:legal": 400.0,
               "utilisation:legal": 0.25 + 0.01 * i} for i in range(3)]
    after = [{"cycle_time_mean": 200.0 + 2 * i, "flow_efficiency_mean": 0.089 + 0.0002 * i, "rework_mean": 2.0,
              "experience_index": 65.0 + 0.2 * i, "cost_per_case": 2700.0 + 3 * i, "cost:legal": 400.0,
              "utilisation:legal": 0.25 + 0.01 * i} for i in range(3)]
    steady = stability is None or stability["steady"]
    rows = compare_metrics(before, after, steady=steady)
    diff = {"steps": {"before": 3, "after": 3, "added": [], "removed": [], "changed": {}},
            "touchpoints": {"before": 1, "after": 1}, "load": [],
            "handoffs": {"before": 1, "after": 1, "expected_before": 1.0, "expected_after": 1.0}}
    return {"before": {"name": "Before"}, "after": {"name": "After"}, "replications": 3, "seed": 1,
            "headline": "Cycle time down 80%.", "metrics": rows, "diff": diff, "ci_note": CI_NOTE,
            "stability": stability or {"steady": True, "message": None, "hint": None}}


def line_of(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(label))


def test_comparison_text_never_prints_percentage_points_as_percent():
    from journeymap.tables import comparison_text

    text = comparison_text(comparison())
    flow = line_of(text, "Flow efficiency")
    # before/after are shares (%), the change and its interval are percentage points, with no relative change
    assert "+5.8 pp" in flow and "[+5.8 pp, +5.8 pp]" in flow
    assert flow.count("%") == 2, flow
    cycle = line_of(text, "Cycle time, mean")
    assert "−80%" in cycle and "−13.3h" in cycle and "pp" not in cycle
    assert "pp = percentage points" in text


def test_comparison_text_says_unchanged_and_has_experience_and_cost_rows():
    from journeymap.tables import comparison_text

    text = comparison_text(comparison())
    assert line_of(text, "Rework per case").split()[-1] == "unchanged"
    assert "significant" not in line_of(text, "Rework per case")
    assert "34.1" in line_of(text, "Experience index") and "65.2" in line_of(text, "Experience index")
    assert "6,501" in line_of(text, "Staff cost per case") and "2,703" in line_of(text, "Staff cost per case")
    assert "Staff cost per case, legal" not in text  # a department's cost only when it moved
    assert "simulation noise" in text


def test_comparison_text_warns_when_a_design_is_not_steady():
    from journeymap.tables import comparison_text

    st = {"steady": False, "message": "Warning: the after design is not in a steady state.",
          "hint": "write elapsed time as a flow delay"}
    text = comparison_text(comparison(st))
    lines = text.splitlines()
    assert lines[3] == st["message"] and lines[4] == "Hint: write elapsed time as a flow delay"
    assert line_of(text, "Cycle time, mean").split()[-2:] == ["not", "steady"]


def test_the_stability_warning_is_printed_once_above_the_rest_of_the_headline():
    """The headline opens with the warning (for the JSON and the report); the terminal printed it twice."""
    from journeymap.tables import comparison_text

    st = {"steady": False, "message": "Warning: the after design is not in a steady state.", "hint": None}
    c = comparison(st)
    c["headline"] = f"{st['message']} Cycle time up 5396% (not significant)."
    text = comparison_text(c)
    assert text.count(st["message"]) == 1
    assert "Cycle time up 5396% (not significant)." in text.splitlines()


def test_comparison_text_says_where_the_time_goes():
    from journeymap.comparison import main_driver
    from journeymap.tables import comparison_text

    def block(queueing: float) -> dict:
        return {"total": {"value_adding_work": 60.0, "queueing": queueing, "handoff_inbox": 2880.0}}

    c = comparison()
    c["drivers"] = main_driver(block(1200.0), block(480.0))
    line = line_of(comparison_text(c), "Where the time goes")
    assert line.endswith("staff work 1.0h -> 1.0h; queueing 20.0h -> 8.0h; inbox delays 2.0d -> 2.0d.")


# --------------------------------------------------------------------------- blocks: plain text or rich


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_report_is_blocks_whose_plain_form_is_the_text():
    from journeymap.tables import Table, analysis_blocks, comparison_blocks, comparison_text, plain

    report = analyze(build_graph(load_journey(ROOT / "journeys" / "acme-cio.yaml")))
    blocks = analysis_blocks(report)
    assert any(isinstance(b, Table) for b in blocks)
    assert plain(blocks) == analysis_text(report)
    assert plain(comparison_blocks(comparison())) == comparison_text(comparison())
    assert str(Table(["name", "n"], [["a", 1]])) == table(["name", "n"], [["a", 1]])


@pytest.mark.parametrize("stream, env, expected", [
    (_Tty(), {}, True),                      # a terminal
    (io.StringIO(), {}, False),              # a pipe or a file
    (_Tty(), {"NO_COLOR": "1"}, False),      # https://no-color.org
    (_Tty(), {"TERM": "dumb"}, False),       # a terminal that draws nothing
])
def test_fancy_only_on_a_terminal_that_wants_it(monkeypatch, stream, env, expected):
    from journeymap.tables import fancy

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert fancy(stream) is expected


def test_show_prints_the_plain_text_when_not_fancy_and_rich_tables_when_fancy(monkeypatch):
    from journeymap.tables import Table, plain, show

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    blocks = ["Title [not markup]", Table(["stage", "wait"], [["sell", 1.5], ["sign", 12.25]], "lr")]
    pipe, tty = io.StringIO(), _Tty()
    show(blocks, pipe)
    show(blocks, tty)
    assert pipe.getvalue() == plain(blocks) + "\n"
    drawn = tty.getvalue()
    assert "Title [not markup]" in drawn                     # journey text is never read as rich markup
    assert "\x1b[1mstage" in drawn and "12.25" in drawn and "─" in drawn
