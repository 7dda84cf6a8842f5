"""``journeymap compare --uncertain`` (issue 13, item 5): the change across the plausible inputs in compare's
JSON (``uncertainty``, exactly :func:`~journeymap.uncertainty.uncertainty_pair`'s result), its terminal table
and the report's section "How sure, given the inputs", on deterministic one-step pairs."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from helpers import ONE_STEP_JOURNEY

from journeymap import load_journey
from journeymap.cli import main
from journeymap.comparison import compare
from journeymap.output import dumps_json
from journeymap.report import report_html
from journeymap.tables import format_change, plain, uncertainty_comparison_blocks
from journeymap.uncertainty import SURE_TITLE, change_rows, uncertainty_pair

ONE_STEP = ONE_STEP_JOURNEY

ASSUMED = "    estimate: assumed\n"
OPTIONS = ["--samples", "4", "--replications", "2", "--no-progress"]


def _pair(write_journey, after: str = "30min", before_extra: str = ASSUMED, after_extra: str = ASSUMED):
    b = write_journey(ONE_STEP.format(duration="60min", extra=before_extra), "before.yaml")
    a = write_journey(ONE_STEP.format(duration=after, extra=after_extra), "after.yaml")
    return str(b), str(a)


def _compare_json(capsys, b: str, a: str, *extra: str) -> dict:
    assert main(["compare", b, a, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_json_holds_uncertainty_pairs_result_and_nothing_else_changes(write_journey, capsys):
    b, a = _pair(write_journey)
    data = _compare_json(capsys, b, a, "--uncertain", *OPTIONS)
    expected = uncertainty_pair(load_journey(b), load_journey(a), samples=4, replications=2, seed=1)
    assert data["uncertainty"] == json.loads(dumps_json(expected))
    m = data["uncertainty"]["metrics"]["cycle_time_mean"]
    assert m["change"] == pytest.approx(-30.0) and m["survives"]
    plain_data = _compare_json(capsys, b, a, "--replications", "2", "--no-progress")
    assert "uncertainty" not in plain_data
    del data["uncertainty"]
    assert dumps_json(data) == dumps_json(plain_data)  # the rest of the JSON, byte for byte


def test_the_library_option(write_journey):
    b, a = (load_journey(p) for p in _pair(write_journey))
    with_u = compare(b, a, replications=2, uncertain_samples=3)
    assert with_u["uncertainty"] == uncertainty_pair(b, a, samples=3, replications=2, seed=1)
    assert "uncertainty" not in compare(b, a, replications=2)


def test_the_terminal_shows_the_jsons_numbers(write_journey, capsys):
    b, a = _pair(write_journey)
    data = _compare_json(capsys, b, a, "--uncertain", *OPTIONS)
    assert main(["compare", b, a, "--uncertain", *OPTIONS]) == 0
    out = capsys.readouterr().out
    assert f"{SURE_TITLE}: 4 input samples (Latin hypercube) of 1 uncertain input x 2 replications" in out
    for m in data["uncertainty"]["metrics"].values():
        lo, hi = m["change_band"]
        assert f"{format_change(lo, 'minutes')} to {format_change(hi, 'minutes')}" in out
        assert format_change(m["change"], "minutes") in out
        assert m["statement"][0].upper() + m["statement"][1:] + "." in out
    assert "Cycle time, mean falls by " in out and "may not survive" not in out
    # the section follows the line that says the CIs cover simulation noise only
    assert out.index("cover simulation noise only") < out.index(SURE_TITLE)


class _Cells(HTMLParser):
    """The cells of table#uncertainty: (text, data-minutes) per cell, a list per row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str | None]]] = []
        self._in, self._cell = False, None  # type: ignore[var-annotated]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._in = a.get("id") == "uncertainty"
        elif self._in and tag == "tr":
            self.rows.append([])
        elif self._in and tag == "td":
            self._cell = ["", a.get("data-minutes")]

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append((self._cell[0], self._cell[1]))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


def test_the_report_section_equals_the_json(write_journey, capsys):
    b, a = _pair(write_journey)
    data = _compare_json(capsys, b, a, "--uncertain", *OPTIONS)
    page = report_html(data)
    assert f'<h2 id="how-sure">{SURE_TITLE}</h2>' in page
    note, pointer = page.index('id="ci-note"'), page.index('id="ci-note-uncertainty"')
    assert note < pointer < page.index('id="metrics"') and 'href="#how-sure"' in page
    parser = _Cells()
    parser.feed(page)
    rows = [r for r in parser.rows if r]
    metrics = list(data["uncertainty"]["metrics"].values())
    assert len(rows) == len(metrics) == 2
    for row, m, shown in zip(rows, metrics, change_rows(data["uncertainty"]), strict=True):
        (label, _), (change, raw_change), (noise, raw_ci), (band, raw_band), (sure, _) = row
        assert label == m["label"] and sure == ("yes" if m["survives"] else "no")
        assert float(raw_change) == m["change"] and change == format_change(m["change"], "minutes")
        assert [float(x) for x in raw_ci.split()] == m["change_ci95"] and noise == shown["noise"]
        assert [float(x) for x in raw_band.split()] == m["change_band"]
        lo, hi = m["change_band"]
        assert band == f"{format_change(lo, 'minutes')} to {format_change(hi, 'minutes')}"
        assert shown["statement"] in page
    assert 'id="uncertainty-caution"' not in page
    plain_page = report_html(_compare_json(capsys, b, a, "--replications", "2", "--no-progress"))
    assert SURE_TITLE not in plain_page and "ci-note-uncertainty" not in plain_page


def test_a_direction_the_inputs_cannot_tell_is_said_in_the_headline(write_journey, capsys):
    """Before 60 min as written (no estimate), after the same 60 min x0.5-1.5: the change runs from about
    -30 to +30 min across the inputs, so its direction is not sure."""
    b, a = _pair(write_journey, after="60min", before_extra="")
    data = _compare_json(capsys, b, a, "--uncertain", *OPTIONS)
    u = data["uncertainty"]
    lo, hi = u["metrics"]["cycle_time_mean"]["change_band"]
    assert lo < 0 < hi and not u["metrics"]["cycle_time_mean"]["survives"]
    text = plain(uncertainty_comparison_blocks(u))
    assert "too uncertain to tell the direction" in text and " no" in text
    assert main(["compare", b, a, "--uncertain", *OPTIONS]) == 0
    out = capsys.readouterr().out
    headline = out.index(data["headline"])
    caution = "Across the plausible inputs, cycle time, mean and cycle time, P90 could go either way: the change " \
              "may not survive input uncertainty"
    assert out.index(caution) == headline + len(data["headline"]) + 1
    assert " 0s ±0s" in text and "±0s ±0s" not in text  # an unchanged value at the written inputs is 0s
    assert 'id="uncertainty-caution"' in report_html(data)


def test_usage_errors(write_journey, capsys):
    b, a = _pair(write_journey, before_extra="", after_extra="")
    assert main(["compare", b, a, "--uncertain", *OPTIONS]) == 2
    err = capsys.readouterr().err
    assert "has an uncertain input" in err and "docs/uncertainty.md" in err
    assert main(["compare", b, a, "--samples", "4", "--no-progress"]) == 2
    assert "give --uncertain too" in capsys.readouterr().err
    b, a = _pair(write_journey)
    assert main(["compare", b, a, "--uncertain", "--samples", "1", "--no-progress"]) == 2
