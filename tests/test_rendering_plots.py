"""matplotlib charts: each takes data and ax=None, returns the Figure, and writes as PNG and SVG."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from conftest import EXAMPLES  # noqa: E402

from journeymap import load_journey  # noqa: E402
from journeymap.rendering import output, plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("minutes, unit", [
    (30, "minutes"),      # under two hours: minutes
    (600, "hours"),       # under two days: hours
    (10_000, "days"),     # longer: days
])
def test_time_unit(minutes, unit):
    assert plots.time_unit(minutes)[0] == unit


def test_cycle_time_marks_p50_and_p90(acme_results, acme):
    fig = plots.cycle_time_chart(acme_results, acme)
    hist, cdf = fig.axes
    p50 = acme_results["case"]["cycle_time"]["p50"] / 1440
    labels = [t.get_text() for t in hist.get_legend().get_texts()]
    assert any(lbl.startswith("P50") for lbl in labels) and any(lbl.startswith("P90") for lbl in labels)
    assert any(abs(line.get_xdata()[0] - p50) < 1e-9 for line in hist.lines)
    assert "days" in hist.get_xlabel() and "cases done (%)" == cdf.get_ylabel()
    assert acme.persona.name in hist.get_title()


@pytest.mark.parametrize("make", [
    plots.cycle_time_histogram,   # histogram alone
    plots.cycle_time_cdf,         # CDF alone
])
def test_charts_draw_into_a_given_axes(make, acme_results):
    fig, ax = plt.subplots()
    assert make(acme_results, ax) is fig
    assert ax.get_title()


def test_stage_breakdown_stacks_the_four_parts(acme_results, acme):
    fig = plots.stage_breakdown_chart(acme_results, acme)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["value-adding work", "other work", "waiting in queues", "handoff delay"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [s.name for s in acme.stages]
    assert "mean time per case" in ax.get_xlabel()


def test_utilisation_flags_the_bottleneck(acme_results, acme):
    fig = plots.utilisation_chart(acme_results, acme)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    b = acme.department_by_id[acme_results["bottleneck"]["department"]].name
    assert f"{b}  \u26a0 bottleneck" in labels
    assert "%" in fig.axes[0].get_xlabel()


def test_emotion_curve_one_persona_labels_touchpoints(acme):
    fig = plots.emotion_curve(acme)
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert "Executive briefing" in texts
    assert acme.persona.name in ax.get_title()


def test_emotion_curve_several_personas(tmp_path):
    journeys = [load_journey(p) for p in EXAMPLES[:4]]
    fig = plots.emotion_curve(journeys)
    assert len([ln for ln in fig.axes[0].lines if ln.get_label() and not ln.get_label().startswith("_")]) == len(journeys)
    path = output.emotion_chart(journeys, tmp_path / "emotions.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("ext, magic", [("png", b"\x89PNG"), ("svg", b"<?xml")])
def test_write_figure_is_atomic_and_closes(acme_results, tmp_path, ext, magic):
    fig = plots.utilisation_chart(acme_results)
    path = output.write_figure(tmp_path / f"u.{ext}", fig)
    assert open(path, "rb").read(5).startswith(magic)
    assert not plt.fignum_exists(fig.number)
    assert [p.name for p in tmp_path.iterdir()] == [f"u.{ext}"]
