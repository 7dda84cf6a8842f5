"""journeymap explore: each lever alone against today, paired by replication, ranked by gain and by gain per cost."""

from __future__ import annotations

import json

import pytest
from helpers import JOURNEYS, SERIAL_JOURNEY, copy_journey, dedent

from journeymap.cli import main
from journeymap.explore import explore, explore_blocks, setting_text
from journeymap.levers import load_levers
from journeymap.rendering.tornado import tornado_chart, tornado_rows
from journeymap.tables import plain

SERIAL = SERIAL_JOURNEY

LEVERS = """
journey: serial.yaml
levers:
  - {id: faster-pitch, kind: speed, step: pitch, range: [0.5, 1], cost: {once: 1000}}
  - {id: no-inbox, kind: cut_delay, flow: pitch -> review, range: [0, 1], cost: {once: 100, per_month: 10}}
  - {id: more-legal, kind: staff, department: legal, range: [0, 2], cost: {per_person: {per_month: 5000}}}
"""


@pytest.fixture
def levers(tmp_path):
    (tmp_path / "serial.yaml").write_text(dedent(SERIAL), encoding="utf-8")
    (tmp_path / "levers.yaml").write_text(dedent(LEVERS), encoding="utf-8")
    return load_levers(tmp_path / "levers.yaml")


def _setting(result, lever, value):
    row = next(r for r in result["levers"] if r["id"] == lever)
    return next(s for s in row["settings"] if s["value"] == value)


def test_each_levers_effect_is_exact_on_a_journey_without_chance(levers):
    result = explore(levers, replications=3, seed=1)
    assert result["baseline"]["cycle_time_mean"] == pytest.approx(60 + 120 + 30)
    pitch = _setting(result, "faster-pitch", 0.5)["effects"]["cycle_time_mean"]
    assert pitch["change"] == pytest.approx(-30) and pitch["ci95"] == [pytest.approx(-30), pytest.approx(-30)]
    inbox = _setting(result, "no-inbox", 0.0)["effects"]["cycle_time_mean"]
    assert inbox["change"] == pytest.approx(-120)
    staff = _setting(result, "more-legal", 2.0)["effects"]["cycle_time_mean"]
    assert staff["unchanged"] and not staff["significant"]          # nobody queues: more people buy nothing
    # the neutral settings (factor 1, +0 people) are the baseline itself and are not run again
    assert [s["value"] for r in result["levers"] for s in r["settings"]] == [0.5, 0.0, 2.0]
    cost = _setting(result, "faster-pitch", 0.5)["effects"]["cost_per_case"]
    assert cost["change"] == pytest.approx(-0.5 * 60)                  # half an hour of sales at 60 an hour


def test_levers_are_ranked_by_gain_and_by_gain_per_first_year_cost(levers):
    result = explore(levers, replications=3, seed=1)
    assert result["ranking"]["by_gain"] == ["no-inbox", "faster-pitch", "more-legal"]
    best = {r["id"]: r["best"] for r in result["levers"]}
    assert best["no-inbox"]["first_year_cost"] == 100 + 12 * 10
    assert best["no-inbox"]["gain_per_cost"] == pytest.approx(120 / 220)
    assert best["more-legal"]["value"] is None and best["more-legal"]["gain"] == 0
    assert result["ranking"]["by_gain_per_cost"] == ["no-inbox", "faster-pitch"]   # 0.55 and 0.03 min per unit


def test_the_table_and_the_tornado_show_the_json_numbers(levers):
    result = explore(levers, replications=3, seed=1)
    text = plain(explore_blocks(result))
    assert "delay x0" in text and "duration x0.5" in text and "+2 people" in text and "unchanged" in text
    assert "−2.0h" in text and "−30min" in text   # the changes of cycle time, as the JSON has them
    rows = tornado_rows(result)
    assert [r["id"] for r in rows] == ["no-inbox", "faster-pitch", "more-legal"]   # biggest swing on top
    assert rows[0]["bars"][0]["change"] == _setting(result, "no-inbox", 0.0)["effects"]["cycle_time_mean"]["change"]
    fig = tornado_chart(result)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "delay x0: -2.0" in labels and "duration x0.5: -0.5" in labels   # in hours on this chart


def test_setting_text():
    assert setting_text("staff", 1) == "+1 person" and setting_text("staff", 2) == "+2 people"
    assert setting_text("remove_step", 1) == "on" and setting_text("probability", 0.1) == "probability 0.1"


def test_explore_command_writes_json_and_the_tornado(tmp_path, capsys):
    folder = tmp_path / "j"
    folder.mkdir()
    copy_journey(JOURNEYS / "insurance-before.yaml", folder / "insurance-before.yaml")
    copy_journey(JOURNEYS / "insurance-levers.yaml", folder / "insurance-levers.yaml")
    out = tmp_path / "out"
    code = main(["explore", str(folder / "insurance-levers.yaml"), "--replications", "2", "--cases", "60",
                 "-o", str(out), "--no-progress"])
    assert code == 0
    data = json.loads((out / "explore.json").read_text(encoding="utf-8"))
    assert data["journey"] == "insurance-before" and len(data["levers"]) == 7
    assert (out / "tornado.png").stat().st_size > 10_000 and (out / "tornado.svg").exists()
    assert "Ranked by the best significant gain" in capsys.readouterr().out
    # one replication gives no confidence interval: refused before anything runs
    assert main(["explore", str(folder / "insurance-levers.yaml"), "--replications", "1", "--no-progress"]) == 2


def _at(data, path):
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def test_the_html_report_shows_the_json_numbers(levers):
    import re

    from markupsafe import escape

    from journeymap.levers_report import ONE_AT_A_TIME_NOTE, levers_html

    result = explore(levers, replications=3, seed=1)
    page = levers_html(result, tornado="<svg><text>chart</text></svg>")
    cells = re.findall(r'data-value="([^"]+)" data-path="([^"]+)"', page)
    assert len(cells) >= 5 + 3 + 3 * 5   # today's figures, every setting's cost and effects
    for value, path in cells:
        assert float(value) == pytest.approx(_at(result, path), abs=0, rel=1e-12), path
    paths = {p for _, p in cells}
    assert "levers.1.settings.0.effects.cycle_time_mean.change" in paths and "levers.1.best.gain" in paths
    assert "−2.0h" in page and "[−2.0h … −2.0h]" in page and "<svg><text>chart</text></svg>" in page
    assert escape(ONE_AT_A_TIME_NOTE) in page and "<script" not in page


def test_explore_command_writes_the_html_report(levers, tmp_path):
    out = tmp_path / "html"
    assert main(["explore", str(tmp_path / "levers.yaml"), "--replications", "2", "-o", str(out),
                 "--no-progress"]) == 0
    page = (out / "explore.html").read_text(encoding="utf-8")
    assert "Which lever buys most" in page and "<svg" in page and "http" not in page.split("<svg")[0]
