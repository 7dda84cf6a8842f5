"""journeymap optimise: the full factorial, its Pareto front, and the best setting within a budget, verified."""

from __future__ import annotations

import json

import pytest
from helpers import SERIAL_JOURNEY, dedent

from journeymap.cli import main
from journeymap.errors import InvalidArgument
from journeymap.explore import run_scenarios
from journeymap.levers import load_levers
from journeymap.optimise import VERIFY_SEED_OFFSET, factorial, optimise, optimise_blocks, pareto_front
from journeymap.rendering.pareto import pareto_chart, pareto_points
from journeymap.sweep import Scenario
from journeymap.tables import plain

SERIAL = SERIAL_JOURNEY

#: First-year costs: faster pitch 1,000; no inbox 100 + 12 x 10 = 220; each lawyer 12 x 5,000 = 60,000.
LEVERS = """
journey: serial.yaml
levers:
  - {id: faster-pitch, kind: speed, step: pitch, range: [0.5, 1], cost: {once: 1000}}
  - {id: no-inbox, kind: cut_delay, flow: pitch -> review, range: [0, 1], cost: {once: 100, per_month: 10}}
  - {id: more-legal, kind: staff, department: legal, range: [LOW, 2], cost: {per_person: {per_month: 5000}}}
"""


def _levers(tmp_path, journey=SERIAL, low=0):
    (tmp_path / "serial.yaml").write_text(dedent(journey), encoding="utf-8")
    (tmp_path / "levers.yaml").write_text(dedent(LEVERS).replace("LOW", str(low)), encoding="utf-8")
    return load_levers(tmp_path / "levers.yaml")


@pytest.fixture
def levers(tmp_path):
    return _levers(tmp_path)


def _exact(s):
    """The cycle time of a setting of the serial journey, worked out by hand (minutes)."""
    return 60 * s["faster-pitch"] + 120 * s["no-inbox"] + 30


def _first_year(s):
    return (1000 if s["faster-pitch"] != 1 else 0) + (220 if s["no-inbox"] != 1 else 0) + 60_000 * s["more-legal"]


def test_pareto_front_on_hand_checked_points():
    points = [(0, 210), (220, 90), (1000, 180), (1220, 60), (1220, 60), (120_000, 210), (300, 90)]
    # (1000, 180) is dominated by (220, 90); (300, 90) by (220, 90); the tie at (1220, 60) is kept twice
    assert pareto_front(points) == [0, 1, 3, 4]
    assert pareto_front([]) == [] and pareto_front([(5, 5)]) == [0]


def test_the_factorial_is_exact_and_its_front_is_the_hand_checked_one(levers):
    result = factorial(levers, replications=2, seed=1, metric="cycle_time_mean")
    rows = result["settings"]
    assert len(rows) == 8 and result["today"]["means"]["cycle_time_mean"] == pytest.approx(210)
    for r in rows:
        assert r["means"]["cycle_time_mean"] == pytest.approx(_exact(r["settings"]))
        assert r["first_year_cost"] == pytest.approx(_first_year(r["settings"]))
        assert r["people"] == r["settings"]["more-legal"]
    front = [rows[i]["settings"] for i in result["front"]]   # cheapest first
    assert front == [{"faster-pitch": 1.0, "no-inbox": 1.0, "more-legal": 0.0},     # today: 210 min for 0
                     {"faster-pitch": 1.0, "no-inbox": 0.0, "more-legal": 0.0},     # 90 min for 220
                     {"faster-pitch": 0.5, "no-inbox": 0.0, "more-legal": 0.0}]     # 60 min for 1,220
    assert [r["on_front"] for r in rows].count(True) == 3
    assert rows[result["front"][0]]["today"] and rows[result["front"][0]]["text"] == "as today"
    assert rows[result["front"][2]]["text"] == "faster-pitch duration x0.5, no-inbox delay x0"


def _brute_force(levers, budget, metric="cycle_time_p90", seed=1, replications=2):
    """The best setting within ``budget`` found without the optimiser: every grid setting simulated on its own."""
    best = None
    for s in levers.grid(2):
        cost = levers.cost(s)
        spent = {"once": cost.once, "per_month": cost.per_month, "first_year": cost.once + 12 * cost.per_month,
                 "people": s["more-legal"]}
        if any(spent[k] > v for k, v in budget.items()):
            continue
        (runs,) = run_scenarios([Scenario("s", levers.scenario(s), s)], replications=replications, seed=seed)
        mean = sum(r[metric] for r in runs) / len(runs)
        key = (round(mean, 9), spent["first_year"], spent["people"])
        if best is None or key < best[0]:
            best = (key, s)
    return best[1] if best else None


@pytest.mark.parametrize("budget", [
    {"first_year": 1000},                    # the inbox alone (90 min for 220) beats the faster pitch (180 min)
    {"people": 0},                            # no lawyer: both changes (60 min)
    {"once": 1000, "per_month": 0},           # nothing monthly: the faster pitch alone
    {"first_year": 200_000, "people": 1},     # money is no limit, one lawyer at most: nobody queues, none hired
])
def test_the_optimisers_choice_is_the_brute_force_one_and_within_the_budget(levers, budget):
    names = {"first_year": "budget_first_year", "once": "budget_once", "per_month": "budget_per_month",
             "people": "people"}
    result = optimise(levers, replications=2, **{names[k]: v for k, v in budget.items()})
    winner = result["settings"][result["winner"]]
    assert winner["settings"] == _brute_force(levers, budget)
    assert winner["first_year_cost"] <= budget.get("first_year", float("inf"))
    assert winner["people"] <= budget.get("people", 99) and winner["once"] <= budget.get("once", float("inf"))
    for i in result["within_budget"]:
        assert result["settings"][i]["means"]["cycle_time_p90"] >= winner["means"]["cycle_time_p90"]


def test_on_a_journey_with_chance_too_the_choice_is_the_brute_force_one(tmp_path):
    random = SERIAL.replace("{every: 1d}", "{poisson: 40min}").replace("duration: 30min",
                                                                       "duration: {exponential: 35min}")
    levers = _levers(tmp_path, random)
    result = optimise(levers, budget_first_year=61_000, replications=3, cases=30)
    assert result["settings"][result["winner"]]["settings"] == _brute_force(levers, {"first_year": 61_000},
                                                                             replications=3)


def test_verification_reruns_winner_runner_up_and_today_with_a_fresh_seed(levers):
    calls = []

    def spy(scenarios, **kw):
        calls.append((len(scenarios), kw["seed"]))
        return run_scenarios(scenarios, **kw)

    result = optimise(levers, budget_first_year=1000, replications=2, seed=7, run=spy)
    assert calls == [(9, 7), (3, 7 + VERIFY_SEED_OFFSET)]          # today + 8 settings; then today, winner, runner-up
    v = result["verification"]
    assert v["seed"] == 7 + VERIFY_SEED_OFFSET
    assert v["winner"]["mean"] == pytest.approx(90) and v["winner"]["ci95"] == [pytest.approx(90)] * 2
    runner_up = result["settings"][result["runner_up"]]
    assert runner_up["settings"] == {"faster-pitch": 0.5, "no-inbox": 1.0, "more-legal": 0.0}   # 180 min for 1,000
    assert v["against_runner_up"]["change"] == pytest.approx(-90) and v["against_runner_up"]["significantly_better"]
    assert v["against_today"]["change"] == pytest.approx(-120)
    text = plain(optimise_blocks(result))
    assert "no-inbox delay x0" in text and "still beats it" in text and "seed 1007" in text


def test_a_budget_no_setting_meets_is_refused_with_the_cheapest_cost(tmp_path):
    levers = _levers(tmp_path, low=1)   # at least one more lawyer in every setting: 60,000 a year
    with pytest.raises(InvalidArgument, match=r"first-year cost at most 1,000: the least any setting needs is 60,000"):
        optimise(levers, budget_first_year=1000, replications=2)
    with pytest.raises(InvalidArgument, match=r"people added at most 0: the least any setting needs is 1"):
        optimise(levers, people=0, replications=2)


def test_too_many_settings_are_refused_before_anything_runs(levers):
    with pytest.raises(InvalidArgument, match=r"300 settings .* limit of a factorial is 256: use --points 2"):
        factorial(levers, points=10, run=None)  # type: ignore[arg-type]


def test_the_charts_points_are_the_jsons(levers):
    result = optimise(levers, budget_first_year=1000, replications=2)
    points = pareto_points(result)
    assert [(p["cost"], p["value"]) for p in points] == \
        [(r["first_year_cost"], r["means"]["cycle_time_p90"]) for r in result["settings"]]
    fig = pareto_chart(result)
    ax = fig.axes[0]
    drawn = sorted(tuple(xy) for c in ax.collections[:2] for xy in c.get_offsets().tolist())
    per = 60  # values from 60 to 210 minutes are drawn in hours
    assert drawn == sorted((r["first_year_cost"], pytest.approx(r["means"]["cycle_time_p90"] / per))
                           for r in result["settings"])
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3"]           # the front, numbered
    assert "no-inbox delay x0" in fig.axes[1].texts[0].get_text()
    assert ax.collections[3].get_offsets().tolist() == [[220, 1.5]]      # the winner, ringed


def test_optimise_command_writes_json_and_the_chart(levers, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["optimise", str(tmp_path / "levers.yaml"), "--replications", "2", "--budget-year", "1000",
                 "-o", str(out), "--no-progress"])
    assert code == 0
    data = json.loads((out / "optimise.json").read_text(encoding="utf-8"))
    assert data["settings"][data["winner"]]["settings"]["no-inbox"] == 0
    assert (out / "pareto.png").stat().st_size > 10_000 and (out / "pareto.svg").exists()
    assert "Best within the budget" in capsys.readouterr().out
    assert main(["optimise", str(tmp_path / "levers.yaml"), "--budget-year", "-1", "--no-progress"]) == 2
    assert "no setting of the grid is within the budget" in capsys.readouterr().err
