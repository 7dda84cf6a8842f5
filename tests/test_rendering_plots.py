"""matplotlib charts: each takes data and ax=None, returns the Figure, and writes as PNG and SVG."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from helpers import EXAMPLES, ROOT  # noqa: E402

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


def with_breakdown(results: dict, journey, scale: float = 1.0) -> dict:
    """Add a docs/simulation.md time_breakdown that sums to the cycle time (scaled by ``scale``)."""
    comps = list(plots.BREAKDOWN_LABELS)
    weights = [1, 1, 1, 3, 5, 2, 0, 2]  # no gate wait (a journey), some work paused outside working hours
    mean = results["case"]["cycle_time"]["mean"] * scale
    n = len(journey.stages)
    stages = {st.id: {c: mean * w / sum(weights) * (i + 1) / (n * (n + 1) / 2)
                      for c, w in zip(comps, weights, strict=True)}
              for i, st in enumerate(journey.stages)}
    total = {c: sum(v[c] for v in stages.values()) for c in comps}
    out = dict(results, time_breakdown={"components": comps, "total": total, "stages": stages})
    out["case"] = dict(results["case"], cycle_time=dict(results["case"]["cycle_time"], mean=mean))
    return out


def _bar_sum(ax) -> float:
    return sum(p.get_width() for p in ax.patches)


def test_stage_breakdown_bars_add_up_to_the_cycle_time(acme_results, acme):
    """The old chart left out inbox delays that are not handoffs: 30d of a 43.3d cycle time."""
    res = with_breakdown(acme_results, acme)
    fig = plots.stage_breakdown_chart(res, acme)
    ax = fig.axes[0]
    mean = res["case"]["cycle_time"]["mean"]
    assert _bar_sum(ax) * 1440 == pytest.approx(mean, rel=1e-3)
    assert f"add up to the cycle time: {mean / 1440:.1f} days per case" in ax.get_title()
    labels = [t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()]
    assert labels == ["value-adding work", "other work", "customer time", "queueing", "handoff inbox delay",
                      "other inbox delay", "paused outside working hours"]  # no gate row for a journey
    assert [t.get_text() for t in ax.get_yticklabels()] == [s.name for s in acme.stages]


def test_before_and_after_share_one_unit_and_one_scale(acme_results, acme):
    """The before chart was in days and the after chart in hours: side by side the redesign looked worse."""
    before = with_breakdown(acme_results, acme)
    after = with_breakdown(acme_results, acme, scale=0.01)  # about 1.6 hours
    assert plots.time_unit(after["case"]["cycle_time"]["mean"])[0] != "days"
    unit, scale = plots.common_scale(before, after)
    assert unit == plots.common_unit(before, after)[0] == "days"
    a = plots.stage_breakdown_chart(before, acme, unit=unit, scale=scale).axes[0]
    b = plots.stage_breakdown_chart(after, acme, unit=unit, scale=scale).axes[0]
    assert a.get_xlim() == b.get_xlim() == (0, scale)
    assert "(days)" in a.get_xlabel() and "(days)" in b.get_xlabel()
    assert _bar_sum(b) * 1440 == pytest.approx(after["case"]["cycle_time"]["mean"], rel=1e-3)
    with pytest.raises(ValueError, match="unknown unit: 'weeks'"):
        plots.stage_breakdown_chart(before, acme, unit="weeks")


def test_utilisation_flags_the_bottleneck(acme_results, acme):
    fig = plots.utilisation_chart(acme_results, acme)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    b = acme.department_by_id[acme_results["bottleneck"]["department"]].name
    assert f"{b}  \u26a0 bottleneck" in labels
    assert "%" in fig.axes[0].get_xlabel()


def _text_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [(t, t.get_window_extent(renderer)) for ax in fig.axes for t in ax.texts if t.get_text().strip()]


def _assert_no_overlap(fig):
    boxes = _text_boxes(fig)
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            assert not a.overlaps(b), f"{ta.get_text()[:30]!r} overlaps {tb.get_text()[:30]!r}"


def test_emotion_curve_names_every_touchpoint_in_full_without_collisions():
    """Labels used to overlap and were cut to the actor ('Finance director…')."""
    j = load_journey(ROOT / "journeys" / "insurance-before.yaml")
    fig = plots.emotion_curve(j)
    ax = fig.axes[0]
    key = next(t for t in ax.texts if t.get_gid() == "emotion-key").get_text()
    flat = " ".join(line.strip() for line in key.splitlines())
    for s in j.steps:
        if s.is_touchpoint and s.emotion is not None:
            assert s.name in flat
    assert "\u2026" not in key
    _assert_no_overlap(fig)
    assert j.persona.name in ax.get_title("left")


def test_emotion_curve_one_persona_labels_touchpoints(acme):
    fig = plots.emotion_curve(acme)
    ax = fig.axes[0]
    assert "Executive briefing" in next(t for t in ax.texts if t.get_gid() == "emotion-key").get_text()
    assert acme.persona.name in ax.get_title("left")


def test_emotion_curve_several_personas_are_small_multiples(tmp_path):
    """Five tangled lines with two near-identical oranges became one panel per persona; six stay readable."""
    journeys = [load_journey(p) for p in EXAMPLES if "acme" in p.name]
    journeys.append(load_journey(ROOT / "journeys" / "insurance-before.yaml"))
    assert len(journeys) == 6
    fig = plots.emotion_curve(journeys)
    assert len(fig.axes) == 6
    for ax, j in zip(fig.axes, journeys, strict=True):
        assert j.persona.name in ax.get_title("left")
        assert {ln.get_color() for ln in ax.lines if not ln.get_label().startswith("_")} == {plots.OI["blue"]}
        assert ax.get_ylim() == (-3.6, 3.6)
    _assert_no_overlap(fig)
    path = output.emotion_chart(journeys, tmp_path / "emotions.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("ext, magic", [("png", b"\x89PNG"), ("svg", b"<?xml")])
def test_write_figure_is_atomic_and_closes(acme_results, tmp_path, ext, magic):
    fig = plots.utilisation_chart(acme_results)
    path = output.write_figure(tmp_path / f"u.{ext}", fig)
    assert open(path, "rb").read(5).startswith(magic)
    assert not plt.fignum_exists(fig.number)
    assert [p.name for p in tmp_path.iterdir()] == [f"u.{ext}"]
