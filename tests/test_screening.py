"""journeymap explore --screen morris: Morris elementary effects of a levers file, ranked by mu*."""

from __future__ import annotations

import json

import pytest
from helpers import SERIAL_JOURNEY, dedent

from journeymap.cli import main
from journeymap.errors import InvalidArgument
from journeymap.levers import load_levers
from journeymap.rendering.screening import screening_bars, screening_chart
from journeymap.screening import MAX_SCREEN_SETTINGS, lever_value, morris_design, screen, screening_blocks
from journeymap.tables import plain

#: On the serial journey nobody ever queues: a faster pitch changes cycle time by exactly 30 min across its
#: range (60 min x (1 - 0.5)) whatever the other lever does, and more legal staff change nothing.
LEVERS = """
journey: serial.yaml
levers:
  - {id: more-legal, kind: staff, department: legal, range: [0, 2]}
  - {id: faster-pitch, kind: speed, step: pitch, range: [0.5, 1], cost: {once: 1000}}
"""
ONE = """
journey: serial.yaml
levers:
  - {id: faster-pitch, kind: speed, step: pitch, range: [0.5, 1]}
"""


def _levers(tmp_path, text=LEVERS):
    (tmp_path / "serial.yaml").write_text(dedent(SERIAL_JOURNEY), encoding="utf-8")
    (tmp_path / "levers.yaml").write_text(dedent(text), encoding="utf-8")
    return load_levers(tmp_path / "levers.yaml")


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    return screen(_levers(tmp_path_factory.mktemp("s")), trajectories=4, replications=2)


def test_the_inert_lever_has_no_effect_and_the_active_one_its_exact_effect(screened):
    by_id = {r["id"]: r for r in screened["levers"]}
    assert by_id["more-legal"]["mu_star"] == 0 and by_id["more-legal"]["mu"] == 0
    assert by_id["more-legal"]["mu_star_ci95"] == [0, 0]
    pitch = by_id["faster-pitch"]
    assert pitch["mu_star"] == pytest.approx(30) and pitch["mu"] == pytest.approx(30)  # low to high: +30 min
    assert pitch["sigma"] == pytest.approx(0)                                          # no interaction
    assert screened["ranking"] == ["faster-pitch", "more-legal"]
    assert screened["settings"] == 4 * 3 and screened["simulated"] <= 4   # 2 levers at 2 levels: 4 corners
    json.dumps(screened)   # JSON-ready


@pytest.mark.parametrize(("kind", "low", "high", "u", "value"), [
    ("speed", 0.5, 1.0, 0.5, 0.75),     # continuous: low + u (high - low)
    ("staff", 0, 3, 0.5, 2.0),          # staff: rounded to whole people (1.5 -> 2)
    ("staff", 0, 3, 1 / 3, 1.0),
    ("remove_step", 0, 1, 0.49, 0.0),   # a switch is off below 0.5
    ("move_step", 0, 1, 0.5, 1.0),      # and on from 0.5
])
def test_lever_value_maps_the_unit_interval(kind, low, high, u, value):
    from journeymap.levers import Lever

    assert lever_value(Lever("x", kind, "t", low, high, 0), u) == value


def test_refusals(tmp_path):
    levers = _levers(tmp_path)
    with pytest.raises(InvalidArgument, match="at least 2 levers"):
        screen(_levers(tmp_path, ONE))
    with pytest.raises(InvalidArgument, match="at least 2 trajectories"):
        screen(levers, trajectories=1)
    with pytest.raises(InvalidArgument, match="the limit is"):
        morris_design(levers, MAX_SCREEN_SETTINGS)
    with pytest.raises(InvalidArgument, match="even number"):
        screen(levers, levels=3)
    with pytest.raises(InvalidArgument, match="not one of"):
        screen(levers, metric="nonsense")


def test_the_design_has_r_times_k_plus_1_rows_on_the_unit_interval(tmp_path):
    design = morris_design(_levers(tmp_path), 5, seed=3)
    assert design.shape == (5 * 3, 2) and set(design.ravel()) <= {0.0, 1.0}


def test_the_table_and_the_chart_show_the_json_numbers(screened):
    text = plain(screening_blocks(screened))
    assert "30min" in text and "faster-pitch" in text
    bars = screening_bars(screened)
    assert bars["unit"] == "minutes"
    assert [b["id"] for b in bars["bars"]] == screened["ranking"]
    for bar, row in zip(bars["bars"], screened["levers"], strict=True):
        assert bar["mu_star"] == row["mu_star"] and bar["sigma"] == row["sigma"]
        assert bar["ci95"] == [max(row["mu_star_ci95"][0], 0), row["mu_star_ci95"][1]]
    fig = screening_chart(screened)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["30.00", "0.00"]
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == [pytest.approx(30), 0]


def test_explore_screen_command(tmp_path, capsys):
    _levers(tmp_path)
    out = tmp_path / "out"
    code = main(["explore", str(tmp_path / "levers.yaml"), "--screen", "morris", "--trajectories", "3",
                 "--replications", "2", "-o", str(out), "--no-progress"])
    assert code == 0
    data = json.loads((out / "screening.json").read_text(encoding="utf-8"))
    assert data["ranking"] == ["faster-pitch", "more-legal"] and data["trajectories"] == 3
    assert (out / "screening.png").stat().st_size > 10_000 and (out / "screening.svg").exists()
    assert "Morris screening" in capsys.readouterr().out
    assert main(["explore", str(tmp_path / "levers.yaml"), "--screen", "morris", "--trajectories", "1",
                 "--no-progress"]) == 2
