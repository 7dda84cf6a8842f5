"""Accounts: buying-group files, consensus gates, experience index, coverage and surveys
(journeymap/account.py, simulation/account.py, experience.py)."""

from __future__ import annotations

import pytest
from helpers import ACCOUNT, persona

from journeymap.account import check_account, coverage, load_account
from journeymap.experience import account_experience, lived_score, persona_experience, to_index
from journeymap.simulation.account import simulate_account


def test_a_gate_waits_for_its_slowest_persona(trio):
    account = load_account(trio("a: sign, b: sign"))
    summary, _ = simulate_account(account, replications=2, seed=1)
    gate = summary["gates"]["decision"]
    # a arrives at 1h, b at 5h: a waits 4h, b not at all, and b holds the deal up every time
    assert gate["wait_per_case"]["a"] == pytest.approx(240)
    assert gate["wait_per_case"]["b"] == pytest.approx(0)
    assert gate["held_up_by"] == {"a": 0.0, "b": 1.0}
    assert summary["personas"]["b"]["held_up"] == {"decision": 1.0}
    # after the gate both sign at 5h (1h), then share the one ops person (2h each):
    # one finishes onboarding at 8h, the other at 10h; c never waits at a gate and finishes at 2+1+2 = 5h
    # unless ops is busy - it is free until 6h, so c is done at 5h.
    cycles = sorted(summary["personas"][p]["cycle_time"]["mean"] for p in ("a", "b"))
    assert cycles == pytest.approx([480, 600])
    assert summary["personas"]["c"]["cycle_time"]["mean"] == pytest.approx(300)
    assert summary["cycle_time"]["mean"] == pytest.approx(600)          # the deal is done when its last persona is


def test_a_persona_removed_from_a_gate_no_longer_delays_it(trio):
    account = load_account(trio("a: sign, c: sign"))
    summary, _ = simulate_account(account, replications=2, seed=1)
    gate = summary["gates"]["decision"]
    assert gate["wait_per_case"]["a"] == pytest.approx(60)              # a waits 1h for c (2h), not 4h for b
    assert "b" not in gate["wait_per_case"]
    assert gate["held_up_by"]["c"] == 1.0


def test_personas_share_the_account_departments(trio, write_journey):
    account = load_account(trio("a: sign, b: sign"))
    assert [d.capacity for d in account.departments] == [1]
    path = write_journey(ACCOUNT.format(at="a: sign, b: sign") + "departments: [{id: ops, capacity: 2}]\n",
                         "account.yaml")
    summary, _ = simulate_account(load_account(path), replications=1, seed=1)
    # with two people, a and b onboard at the same time: both done at 5h + 1h + 2h
    assert summary["personas"]["a"]["cycle_time"]["mean"] == pytest.approx(480)
    assert summary["personas"]["b"]["cycle_time"]["mean"] == pytest.approx(480)
    # a and b finish together, after c: they share being last
    assert [summary["personas"][p]["last_to_finish"] for p in "abc"] == [0.5, 0.5, 0.0]


@pytest.mark.parametrize("at, rule, line, column", [
    ("a: sign, zed: sign", "unknown-reference", 8, 19),           # a persona not in the account: its key
    ("a: sign, b: nope", "unknown-reference", 8, 22),             # a step the persona does not have: the value
])
def test_gate_references_are_located(trio, at, rule, line, column):
    checked = check_account(trio(at))
    assert [(p.rule, p.line, p.column) for p in checked.errors] == [(rule, line, column)]


def test_a_gate_a_persona_can_skip_would_deadlock(trio, write_journey):
    # b may go straight from prepare to onboard, never passing 'sign'
    write_journey(persona("b", "influencer", "5h").replace(
        "duration: 5h, emotion: 1}",
        "duration: 5h, emotion: 1, next: [{to: sign, probability: 0.5}, {to: onboard, probability: 0.5}]}"),
        "b.yaml")
    checked = check_account(trio("a: sign, b: sign"))
    assert [p.rule for p in checked.errors] == ["gate-deadlock"]
    assert "can finish without passing step 'sign'" in checked.errors[0].message


def test_two_gates_met_in_opposite_orders_deadlock(trio, write_journey):
    path = write_journey("""
account: {name: Acme}
personas: [{journey: a.yaml}, {journey: b.yaml}]
gates:
  - {id: first, at: {a: prepare, b: sign}}
  - {id: second, at: {a: sign, b: prepare}}
""", "account.yaml")
    checked = check_account(path)
    assert [p.rule for p in checked.errors] == ["gate-deadlock"]
    assert "deadlock" in checked.errors[0].message


def test_a_journey_error_is_reported_in_its_own_file(trio, write_journey):
    write_journey(persona("c", "user", "2h").replace("owner: ops", "owner: opz"), "c.yaml")
    checked = check_account(trio("a: sign, b: sign"))
    files = {p.file.rsplit("/", 1)[-1] for p in checked.errors}
    assert files == {"c.yaml", "account.yaml"}                    # the error, and the account naming the bad journey


# --------------------------------------------------------------------------- experience index


def test_lived_score_and_index_scale():
    assert lived_score(2, 0.0) == 2
    assert lived_score(2, 1.0) == -2                              # a wait beyond tolerance sours it
    assert lived_score(2, 0.25) == pytest.approx(0.75 * 2 + 0.25 * -2)
    assert lived_score(-3, 1.0) == -3                             # never better than it was
    assert (to_index(-3), to_index(0), to_index(3)) == (0, 50, 100)


def test_index_formula_on_a_hand_computed_account():
    stages = ["buy", "use"]
    cfo = persona_experience([
        {"step": "quote", "stage": "buy", "emotion": 2, "visits_per_case": 1, "over_tolerance": 0.5},   # a = 0
        {"step": "invoice", "stage": "use", "emotion": -1, "visits_per_case": 2, "over_tolerance": 0},  # a = -1
    ], stages)
    user = persona_experience([
        {"step": "training", "stage": "use", "emotion": 3, "visits_per_case": 1, "over_tolerance": 0},  # a = 3
    ], stages)
    assert cfo["stages"] == {"buy": pytest.approx(50), "use": pytest.approx(50 + 50 * -1 / 3)}
    # overall: (1*0 + 2*-1) / 3 = -2/3 -> 50 - 100/9
    assert cfo["overall"] == pytest.approx(50 - 100 / 9)
    assert user["stages"]["buy"] is None and user["overall"] == pytest.approx(100)
    acc = account_experience({"cfo": cfo, "user": user}, {"cfo": 3, "user": 1}, stages)
    assert acc["stages"]["buy"] == pytest.approx(50)              # only the cfo has a touchpoint there
    assert acc["stages"]["use"] == pytest.approx((3 * (50 - 50 / 3) + 1 * 100) / 4)
    overall = (3 * (50 - 100 / 9) + 100) / 4
    assert acc["overall"] == pytest.approx(overall)
    assert acc["pull"]["cfo"] == pytest.approx(3 * ((50 - 100 / 9) - overall) / 4)
    assert acc["pulled_down_by"] == "cfo"


def test_a_wait_beyond_tolerance_turns_a_simulated_touchpoint_sour(trio, write_journey):
    # a tolerates 2h; at the gate it waits 4h for b before signing, so 'sign' (+2) is lived as -2
    write_journey(persona("a", "decision_maker", "1h", tolerance="2h"), "a.yaml")
    summary, _ = simulate_account(load_account(trio("a: sign, b: sign")), replications=1, seed=1)
    rows = {t["step"]: t for t in summary["personas"]["a"]["experience"]["touchpoints"]}
    assert rows["sign"]["over_tolerance"] == 1.0 and rows["sign"]["lived"] == -2
    assert rows["prepare"]["over_tolerance"] == 0.0 and rows["prepare"]["lived"] == 1
    assert summary["experience"]["pulled_down_by"] == "a"


# --------------------------------------------------------------------------- coverage and surveys


def test_coverage_flags_a_silent_decision_maker(trio, write_journey):
    # a has touchpoints in evaluate, buy and use but none at renew: absent at the end
    checked = check_account(trio("a: sign, b: sign"))
    gaps = coverage(checked.account)["gaps"]
    assert {(g["persona"], g["stage"], g["kind"]) for g in gaps} == {("a", "renew", "absent-at-end")}
    assert [p.rule for p in checked.warnings if p.file.endswith("account.yaml")] == ["coverage-gap"]
    # a decision maker with nothing between buy and renew
    write_journey(persona("a", "decision_maker", "1h").replace(
        "stage: use, owner: ops", "stage: buy, owner: ops")
        + "  - {id: renewal, stage: renew, owner: customer, duration: 1h, emotion: 0}\n",
        "a.yaml")
    gaps = coverage(check_account(trio("a: sign, b: sign")).account)["gaps"]
    assert {(g["persona"], g["stage"], g["kind"]) for g in gaps} == {("a", "use", "silent-stage")}


def test_surveys_per_quarter_warn_over_the_limit(trio, write_journey):
    write_journey(persona("c", "user", "2h").replace("emotion: 1}", "emotion: 1, survey: transactional}")
                  + "  - {id: csat, stage: use, owner: customer, duration: 1d, survey: transactional, emotion: 0}\n"
                  + "  - {id: nps, stage: renew, owner: customer, duration: 1d, survey: relational, emotion: 0}\n",
                  "c.yaml")
    path = write_journey(ACCOUNT.format(at="a: sign, b: sign") + "surveys: {max_per_quarter: 2}\n", "account.yaml")
    summary, _ = simulate_account(load_account(path), replications=1, seed=1)
    c = summary["personas"]["c"]["surveys"]
    assert c["max_per_quarter_max"] == 4 and c["over_limit"] is True   # prepare, onboard, csat, nps in days
    assert summary["personas"]["a"]["surveys"]["over_limit"] is False
    assert len(summary["survey_warnings"]) == 1 and summary["survey_warnings"][0].startswith("C gets up to 4 surveys")


def test_the_bundled_account_validates_and_simulates():
    from helpers import ACCOUNTS

    assert ACCOUNTS, "journeys/ should hold an account example"
    for path in ACCOUNTS:
        checked = check_account(path)
        assert checked.errors == []
        summary, _ = simulate_account(checked.account, replications=2, seed=1, cases=20)
        assert summary["measured_cases"] == 40
        assert set(summary["personas"]) == {p.id for p in checked.account.personas}
        assert 0 <= summary["experience"]["overall"] <= 100


def test_the_personas_map_has_a_lane_per_persona_and_escapes_names(trio, write_journey):
    from journeymap.rendering.dot import journey_dot
    from journeymap.simulation.account import combined_journey

    write_journey(persona("a", "decision_maker", "1h").replace("name: A,", 'name: "<CFO> & \\"co\\"",'), "a.yaml")
    journey, _ = combined_journey(load_account(trio("a: sign, b: sign")))
    src = journey_dot(journey, "personas")
    assert "<CFO>" not in src and "&lt;CFO&gt; &amp;" in src
    # the gate step says so on the map (the label is wrapped, so look at the name and a word of it)
    assert journey.step_by_id["a:sign"].name.endswith("(waits for everyone at gate: decision)")
    assert "gate:" in src
    with pytest.raises(ValueError, match="personas view is for accounts"):
        journey_dot(check_account(trio("a: sign, b: sign")).account.personas[1].journey, "personas")


def test_a_persona_called_deal_cannot_collide_with_the_deal_steps(write_journey):
    # persona ids may contain '.', and 'deal' is an ordinary id: combined ids use ':', which ids cannot
    write_journey(persona("deal", "decision_maker", "1h").replace("id: prepare", "id: start"), "a.yaml")
    write_journey(persona("a.b", "user", "2h"), "b.yaml")
    write_journey(persona("a", "user", "2h").replace("id: sign", "id: b.sign"), "c.yaml")
    path = write_journey(ACCOUNT.format(at="deal: sign, a.b: sign"), "account.yaml")
    summary, _ = simulate_account(load_account(path), replications=1, seed=1)
    assert set(summary["personas"]) == {"deal", "a.b", "a"}
    assert all(p["cycle_time"]["mean"] > 0 for p in summary["personas"].values())


def test_an_account_warmup_that_leaves_nothing_is_located(trio, write_journey):
    path = write_journey(ACCOUNT.format(at="a: sign, b: sign").replace("cases: 4}", "cases: 4, warmup: 4}"),
                         "account.yaml")
    errors = check_account(path).errors
    assert [(p.rule, p.line) for p in errors] == [("out-of-range", 9)]


def test_the_account_event_log_names_each_rows_persona(trio, tmp_path):
    import csv

    events = tmp_path / "events.csv"
    simulate_account(load_account(trio("a: sign, b: sign")), replications=1, seed=1, events=str(events))
    rows = list(csv.DictReader(events.open(encoding="utf-8")))
    by_step = {r["concept:name"]: r["case:persona"] for r in rows}
    assert by_step["a:sign"] == "a" and by_step["b:onboard"] == "b" and by_step["c:prepare"] == "c"
    assert by_step[":deal-start"] == "acme"


# --------------------------------------------------------------------------- issue 10: hostile account files


def test_influence_zero_says_more_than_zero(trio):
    path = trio("a: sign, b: sign")
    path.write_text(path.read_text().replace("influence: 3", "influence: 0"))
    (p,) = check_account(path).errors
    assert p.rule == "out-of-range" and "must be more than 0" in p.message and "at least" not in p.message


@pytest.mark.parametrize("ref", ["/etc/passwd", "../../etc/passwd"])
def test_a_persona_journey_outside_the_folder_is_refused(trio, ref):
    path = trio("a: sign, b: sign")
    path.write_text(path.read_text().replace("journey: c.yaml", f"journey: {ref}").replace(", c: sign", ""))
    errors = check_account(path).errors
    assert [p.rule for p in errors] == ["outside-project"] and "root:" not in errors[0].message


def test_a_persona_file_that_is_not_a_journey_is_named_not_quoted(trio, write_journey):
    write_journey("password: hunter2\n", "c.yaml")
    errors = check_account(trio("a: sign, b: sign")).errors
    assert "not-a-journey" in [p.rule for p in errors]
    assert all("hunter2" not in p.message + p.hint for p in errors)


def test_an_account_of_too_many_deals_is_refused(trio, monkeypatch):
    monkeypatch.setattr("journeymap.account.MAX_VISITS_PER_RUN", 1000)  # the real limit needs bigger journeys
    path = trio("a: sign, b: sign")
    path.write_text(path.read_text().replace("cases: 4", "cases: 1000"))
    (p,) = check_account(path).errors
    assert p.rule == "endless-run" and "the limit is 1,000" in p.message and "1,000 deals" in p.message


def test_an_account_keeps_each_personas_office_hours_and_its_departments_calendars(tmp_path):
    # the bundled Acme people work in Singapore (09:00-18:00, Monday to Friday); the vendor in Frankfurt
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from helpers import JOURNEYS, read_rows

    from journeymap.loading import load_subject
    from journeymap.simulation import simulate

    journey, meeting, account = load_subject(str(JOURNEYS / "acme-account.yaml"))
    assert journey.has_calendars and journey.workload.start is not None
    singapore = {p.journey.persona.calendar for p in account.personas}
    assert len(singapore) == 1 and next(iter(singapore)).timezone == "Asia/Singapore"
    assert all(d.calendar is not None and d.calendar.timezone == "Europe/Berlin" for d in journey.departments)
    events = tmp_path / "events.csv"
    simulate(journey, cases=6, replications=1, seed=1, meeting=meeting, events=str(events))
    rows = [r for r in read_rows(events) if r["concept:name"] != "case arrival" and float(r["duration_minutes"]) > 0]
    assert sum(r["org:group"] == "customer" for r in rows) > 50 and sum(r["org:group"] != "customer" for r in rows) > 50
    for r in rows:
        start = datetime.fromisoformat(r["start_timestamp"].replace("Z", "+00:00"))
        local = start.astimezone(ZoneInfo("Asia/Singapore" if r["org:group"] == "customer" else "Europe/Berlin"))
        assert local.weekday() < 5 and 9 * 60 <= local.hour * 60 + local.minute < (18 if r["org:group"] == "customer"
                                                                                     else 17) * 60, r
