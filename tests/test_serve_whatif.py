"""The what-if panel of journeymap serve (journeymap/serve/whatif.py and its routes in serve/app.py).

The levers made from a journey; a body checked totally (400 with the reason, 413 over the limit, 403 from
another origin); the paired re-simulation in stages; the numbers identical to ``journeymap compare`` on the
saved overlay; "Save as overlay" beside the base, never over it; and, in headless Chromium, the capacity
control of the bottleneck department moving the cycle-time tile.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from pathlib import Path

import pytest
from browser import Tab, docs_image
from helpers import JOURNEYS, dedent
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.cli import main
from journeymap.distributions import DAY, HOUR, format_minutes, parse_timed
from journeymap.serve import create_app
from journeymap.serve.app import MAX_BODY_BYTES
from journeymap.serve.whatif import (
    STAGES,
    TILES,
    BadRequest,
    Superseded,
    WhatIf,
    describe_setting,
    duration_text,
    panel,
    panel_levers,
    parse_settings,
    replication_rows,
    what_if_journey,
)
from journeymap.tables import format_value
from journeymap.validation import load_journey

LOCAL = "http://127.0.0.1"
JSON_POST = {"Origin": LOCAL, "Content-Type": "application/json"}

#: A small journey with every kind of lever: two departments, a delay, a rework branch, a price and emotions.
DEAL = """
journey: {id: deal, name: Small deal}
persona: {id: buyer, name: Buyer}
stages: [sell, sign]
departments:
  - {id: sales, name: Sales, capacity: 1, cost_per_hour: 60}
  - {id: legal, name: Legal, capacity: 1, cost_per_hour: 90}
steps:
  - {id: ask, stage: sell, owner: customer, name: Buyer asks for a quote, duration: 5min, emotion: 1}
  - {id: pitch, stage: sell, owner: sales, name: Sales writes the quote, duration: {exponential: 40min},
     next: {to: redline, delay: {exponential: 30min}}}
  - {id: redline, stage: sign, owner: legal, name: Legal redlines the contract, duration: {exponential: 50min},
     next: [{to: sign, probability: 0.7}, {to: pitch, probability: 0.3, label: back to sales}]}
  - {id: sign, stage: sign, owner: customer, name: Buyer signs, duration: 5min, emotion: -1}
workload: {arrivals: {poisson: 1h}, cases: 60}
"""


@pytest.fixture
def folder(tmp_path) -> Path:
    served = tmp_path / "served"
    served.mkdir()
    (served / "deal.yaml").write_text(dedent(DEAL), encoding="utf-8")
    return served


@pytest.fixture
def client(folder):
    from starlette.testclient import TestClient

    return TestClient(create_app(str(folder)), base_url=LOCAL)


def post(client, path: str, body, headers=JSON_POST):
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, content=content, headers=headers)


def finished(client, name: str, job: int, timeout: float = 60.0) -> dict:
    """The state of a run once its last stage is in."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/whatif/{name}/job/{job}").json()
        if state["done"]:
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.05)


# --------------------------------------------------------------------------- the levers


def test_the_panel_offers_a_lever_for_each_department_step_delay_and_branch():
    journey = load_journey(JOURNEYS / "insurance-before.yaml")
    levers = panel_levers(journey)
    kinds = [lv.kind for lv in levers.levers]
    assert kinds.count("staff") == len(journey.departments)
    assert kinds.count("speed") == len(journey.steps)
    assert kinds.count("cut_delay") == sum(f.delay is not None for f in journey.flows)
    staff = levers.by_id["staff:compliance"]
    assert (staff.low, staff.neutral) == (1 - journey.department_by_id["compliance"].capacity, 0)
    groups = panel(journey)["groups"]
    assert [c["id"] for c in groups["staff"]] == [f"staff:{d.id}" for d in journey.departments]
    assert [t["key"] for t in panel(journey)["tiles"]] == [k for k, _ in TILES]


# from a millisecond (no journey times less) to 5 years, and 0
@given(minutes=st.just(0.0) | st.floats(min_value=1e-5, max_value=5 * 365 * DAY, allow_nan=False),
       basis=st.sampled_from(["elapsed", "working", "business"]))
@settings(deadline=None)  # a shared machine: pure arithmetic, but the first call may wait for a core
def test_a_duration_is_written_so_that_it_reads_back_exactly(minutes, basis):
    if basis == "working":
        minutes = min(minutes, 5 * 365 * 24 * HOUR)
    text = duration_text(minutes, basis)
    read, read_basis = parse_timed(text, bases=("elapsed", "working", "business"))
    assert read_basis == basis
    if basis == "elapsed":
        assert read == minutes  # a minute is the unit: exact
    else:  # hours and days x 60 or 1440 do not reach every float: the nearest one (what is simulated is read back)
        assert math.isclose(read, minutes, rel_tol=4e-16, abs_tol=0)


def test_the_overlay_read_back_is_the_journey_the_levers_make(folder):
    base = folder / "deal.yaml"
    journey = load_journey(base)
    levers = panel_levers(journey)
    chosen = {"staff:legal": 1.0, "speed:pitch": 0.5, "delay:pitch->redline": 0.0, "branch:redline->pitch": 0.1}
    after, text = what_if_journey(str(base), journey, chosen, levers)
    applied = levers.apply(journey, chosen)
    assert after.department_by_id["legal"].capacity == 2
    assert after.step_by_id["pitch"].duration == applied.step_by_id["pitch"].duration
    assert [(f.source, f.target, f.delay, f.probability) for f in after.flows] == \
        [(f.source, f.target, f.delay, f.probability) for f in applied.flows]
    assert text.splitlines()[0].startswith("# What if")
    assert "extends: deal.yaml" in text


# --------------------------------------------------------------------------- bodies checked totally


@pytest.mark.parametrize("body, status, words", [
    (b"not json", 400, "not JSON"),                                             # not JSON at all
    (b"\xff\xfe", 400, "not JSON"),                                             # not UTF-8
    ([1, 2], 400, "must be a JSON object"),                                     # an array
    ({}, 400, "has no 'settings'"),                                             # nothing to do
    ({"settings": {}, "extra": 1}, 400, "unknown key 'extra'"),                 # a key of no use
    ({"settings": [1]}, 400, "'settings' must be an object"),                   # settings of the wrong type
    ({"settings": {"staff:lgal": 1}}, 400, "did you mean 'staff:legal'"),       # a misspelt lever
    ({"settings": {"staff:legal": "1"}}, 400, "must be a number"),              # a string
    ({"settings": {"staff:legal": True}}, 400, "must be a number"),             # a boolean is no number
    ({"settings": {"staff:legal": 0.5}}, 400, "whole people"),                  # half a person
    ({"settings": {"staff:legal": -1}}, 400, "outside its range"),              # nobody left in legal
    ({"settings": {"speed:pitch": 0}}, 400, "outside its range"),               # a step that takes no time
    ({"settings": {"delay:pitch->redline": 9}}, 400, "outside its range"),      # beyond the factor allowed
    ({"settings": {"branch:redline->pitch": 1.5}}, 400, "outside its range"),   # a probability above 1
    ({"settings": {"branch:redline->pitch": 1}}, 400, "cannot run"),            # a loop nobody leaves
    ({"settings": {"branch:redline->pitch": 0.2, "branch:redline->sign": 0.2}}, 400, "same choice"),
    (b'{"settings": {"staff:legal": NaN}}', 400, "not JSON"),                    # NaN is not JSON
])
def test_a_bad_body_gets_400_with_the_reason(client, body, status, words):
    response = post(client, "/whatif/deal.yaml", body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_a_body_over_the_limit_gets_413(client):
    big = {"settings": {"staff:legal": 1}, "pad": "x" * MAX_BODY_BYTES}
    response = post(client, "/whatif/deal.yaml", big)
    assert response.status_code == 413
    assert "over" in response.text


@pytest.mark.parametrize("headers, status", [
    ({"Content-Type": "application/json"}, 403),                                     # no Origin
    ({"Origin": "http://evil.example", "Content-Type": "application/json"}, 403),    # another site's page
    ({"Origin": "http://127.0.0.1:9", "Content-Type": "application/json"}, 403),     # another port
    ({"Origin": LOCAL, "Content-Type": "text/plain"}, 415),                          # a form's content type
])
def test_a_post_from_elsewhere_or_not_json_is_refused(client, headers, status):
    response = post(client, "/whatif/deal.yaml", {"settings": {}}, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]


@pytest.mark.parametrize("name", ["nope.yaml", "..%2Fdeal.yaml", "%2Fetc%2Fpasswd"])
def test_a_what_if_of_a_file_not_served_is_404(client, name):
    assert post(client, f"/whatif/{name}", {"settings": {}}).status_code == 404


# --------------------------------------------------------------------------- runs


def test_a_run_goes_in_stages_and_ends_with_the_tiles(client):
    response = post(client, "/whatif/deal.yaml", {"settings": {"staff:legal": 1}})
    assert response.status_code == 202
    state = finished(client, "deal.yaml", response.json()["job"])
    assert state["error"] is None and state["stage"] == len(STAGES) and state["replications"] == STAGES[-1]
    assert [t["key"] for t in state["tiles"]] == [k for k, _ in TILES]  # the deal is priced and has emotions
    cycle = state["tiles"][0]
    assert cycle["after"] < cycle["before"]  # a second lawyer: less waiting
    assert math.isclose(cycle["change"], cycle["after"] - cycle["before"], rel_tol=1e-9)
    lo, hi = cycle["ci95"]
    assert lo <= cycle["change"] <= hi
    # the text of every tile is its numbers, formatted
    assert cycle["text"]["before"] == format_minutes(cycle["before"])
    assert cycle["text"]["after"] == format_minutes(cycle["after"])
    signed = [("+" if v > 0 else "−" if v < 0 else "±") + format_minutes(abs(v)) for v in (lo, hi)]
    assert cycle["text"]["ci"] == f"95% CI {signed[0]} to {signed[1]}"
    cost = state["tiles"][-1]
    assert cost["text"]["after"] == format_value(cost["after"], "money")


def test_a_newer_change_cancels_the_older_run(folder):
    whatif = WhatIf(str(folder), stages=(2, 3))
    base = folder / "deal.yaml"
    journey = load_journey(base)
    gate: list = []

    def held(fn, *args):  # the runs wait here until the test lets them go
        from concurrent.futures import Future

        future: Future = Future()
        gate.append((future, fn, args))
        return future

    whatif.start(held)
    first = whatif.run("deal.yaml", "d", str(base), journey, {"staff:legal": 1.0})
    time.sleep(0.2)
    second = whatif.run("deal.yaml", "d", str(base), journey, {"staff:sales": 1.0})
    assert first.cancelled and not second.cancelled
    deadline = time.monotonic() + 30
    while not second.done:
        for future, fn, args in list(gate):
            if not future.done():
                future.set_result(fn(*args))
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert first.result is None  # its stages never finished: its tiles are never shown
    assert second.result is not None and second.replications == 3


def test_a_superseded_run_stops_in_its_worker(folder):
    stop = folder / "stop"
    stop.touch()
    with pytest.raises(Superseded):
        replication_rows(load_journey(folder / "deal.yaml"), 3, 1, str(stop))


def test_the_tiles_are_the_numbers_journeymap_compare_gives_for_the_saved_overlay(client, folder, capsys):
    chosen = {"staff:legal": 1, "delay:pitch->redline": 0.5, "branch:redline->pitch": 0.2}
    job = post(client, "/whatif/deal.yaml", {"settings": chosen}).json()["job"]
    state = finished(client, "deal.yaml", job)
    saved = post(client, "/whatif/deal.yaml/save", {"settings": chosen, "file": "deal-what-if.yaml"})
    assert saved.status_code == 201, saved.text
    capsys.readouterr()
    assert main(["compare", str(folder / "deal.yaml"), str(folder / "deal-what-if.yaml"), "--json",
                 "--seed", "1", "--replications", str(STAGES[-1]), "--no-progress"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)["metrics"]}
    for tile in state["tiles"]:
        row = rows[tile["key"]]
        assert (tile["before"], tile["after"], tile["change"], tile["ci95"]) == \
            (row["before"], row["after"], row["change"], row["ci95"]), tile["key"]


def test_the_tiles_match_compare_on_the_insurance_journey(tmp_path, capsys):
    served = tmp_path / "insurance"
    served.mkdir()
    shutil.copy(JOURNEYS / "insurance-before.yaml", served)
    shutil.copytree(JOURNEYS / "holidays", served / "holidays")
    from starlette.testclient import TestClient

    app = create_app(str(served))
    app.state.whatif.stages = (3,)
    client = TestClient(app, base_url=LOCAL)
    chosen = {"staff:compliance": 1, "speed:pricing": 0.5, "delay:allocate->underwriting": 0}
    state = finished(client, "insurance-before.yaml",
                     post(client, "/whatif/insurance-before.yaml", {"settings": chosen}).json()["job"])
    assert post(client, "/whatif/insurance-before.yaml/save",
                {"settings": chosen, "file": "w.yaml"}).status_code == 201
    capsys.readouterr()
    assert main(["compare", str(served / "insurance-before.yaml"), str(served / "w.yaml"), "--json",
                 "--seed", "1", "--replications", "3", "--no-progress"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)["metrics"]}
    assert len(state["tiles"]) == 5
    for tile in state["tiles"]:
        assert (tile["after"], tile["ci95"]) == (rows[tile["key"]]["after"], rows[tile["key"]]["ci95"])


# --------------------------------------------------------------------------- save as overlay


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_save_writes_a_valid_overlay_beside_the_base_and_never_the_base(client, folder):
    base = folder / "deal.yaml"
    before = _digest(base)
    body = {"settings": {"staff:legal": 1, "speed:pitch": 0.8}, "file": "two-lawyers.yaml"}
    response = post(client, "/whatif/deal.yaml/save", body)
    assert response.status_code == 201, response.text
    written = folder / "two-lawyers.yaml"
    journey = load_journey(written)
    assert journey.department_by_id["legal"].capacity == 2
    assert journey.step_by_id["pitch"].duration.mean == pytest.approx(0.8 * 40)
    assert written.read_text(encoding="utf-8") == response.json()["text"]
    # an existing file is kept unless asked; the base never, even when asked
    again = post(client, "/whatif/deal.yaml/save", body)
    assert again.status_code == 409 and "exists already" in again.json()["error"]
    body["settings"] = {"staff:legal": 2}
    assert post(client, "/whatif/deal.yaml/save", {**body, "overwrite": True}).status_code == 201
    assert load_journey(written).department_by_id["legal"].capacity == 3
    over_base = post(client, "/whatif/deal.yaml/save", {**body, "file": "deal.yaml", "overwrite": True})
    assert over_base.status_code == 400 and "never written" in over_base.json()["error"]
    assert _digest(base) == before
    assert sorted(p.name for p in folder.iterdir()) == ["deal.yaml", "two-lawyers.yaml"]  # no temporary left


@pytest.mark.parametrize("file, words", [
    ("../out.yaml", "not allowed"),          # out of the folder
    ("/tmp/out.yaml", "not allowed"),        # an absolute path
    ("sub/out.yaml", "not allowed"),         # a subfolder
    ("out.txt", "not allowed"),              # not a journey file's name
    (".hidden.yaml", "not allowed"),         # a hidden file
    (3, "not allowed"),                      # not a name
])
def test_save_refuses_a_name_outside_the_folder_or_of_the_wrong_kind(client, folder, file, words):
    response = post(client, "/whatif/deal.yaml/save", {"settings": {"staff:legal": 1}, "file": file})
    assert response.status_code == 400 and words in response.json()["error"]
    assert sorted(p.name for p in folder.iterdir()) == ["deal.yaml"]


def test_save_refuses_a_link_to_the_base(client, folder):
    (folder / "link.yaml").symlink_to(folder / "deal.yaml")
    before = _digest(folder / "deal.yaml")
    response = post(client, "/whatif/deal.yaml/save",
                    {"settings": {"staff:legal": 1}, "file": "link.yaml", "overwrite": True})
    assert response.status_code in (400, 409)
    assert _digest(folder / "deal.yaml") == before


def test_save_with_nothing_changed_is_refused(client):
    response = post(client, "/whatif/deal.yaml/save", {"settings": {"staff:legal": 0}, "file": "same.yaml"})
    assert response.status_code == 400 and "nothing is changed" in response.json()["error"]


def test_parse_settings_drops_neutral_values(folder):
    levers = panel_levers(load_journey(folder / "deal.yaml"))
    assert parse_settings({"staff:legal": 0, "speed:pitch": 1, "speed:ask": 2}, levers) == {"speed:ask": 2.0}
    with pytest.raises(BadRequest):
        parse_settings({"speed:ask": float("inf")}, levers)


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture
def insurance(tmp_path) -> Path:
    served = tmp_path / "workshop"
    served.mkdir()
    shutil.copy(JOURNEYS / "insurance-before.yaml", served)
    shutil.copytree(JOURNEYS / "holidays", served / "holidays")
    return served


@pytest.mark.browser
@pytest.mark.exe
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_the_bottleneck_capacity_control_moves_the_cycle_time_tile(chromium, insurance, tmp_path):
    from test_serve import running

    from journeymap.simulation import simulate

    journey = load_journey(insurance / "insurance-before.yaml")
    bottleneck = simulate(journey, replications=3, seed=1).summary["bottleneck"]["department"]
    app = create_app(str(insurance))
    pictures = bool(os.environ.get("JOURNEYMAP_DOCS_IMAGES"))  # docs/workshop.md's picture: as a room sees it
    if not pictures:
        app.state.whatif.stages = (3, 4)  # refined to 4 replications, not 10: the same path, sooner
    with running(app) as url, Tab(chromium, tmp_path / "chrome", width=1920, height=1080) as tab:
        tab.open(url + "/journey/insurance-before.yaml")
        tab.wait_until("document.body.dataset.live === '1' && document.getElementById('whatif') !== null")
        tab.evaluate("document.querySelector('#whatif > summary').click()")  # closed until asked for
        assert tab.evaluate("document.getElementById('whatif').open") is True
        tab.evaluate(f"document.querySelector('tr[data-lever=\"staff:{bottleneck}\"] [data-step=\"1\"]').click()")
        tab.wait_until("document.getElementById('whatif').dataset.stage === '1'", timeout=30)
        cycle = "document.querySelector('[data-tile=cycle_time_mean]')"
        assert not tab.evaluate(f"{cycle}.hidden")
        before = tab.evaluate(f"{cycle}.querySelector('.before').textContent")
        after = tab.evaluate(f"{cycle}.querySelector('.after').textContent")
        assert before != after and before != "–", (before, after)
        tab.wait_until("document.getElementById('whatif').dataset.done === '1'", timeout=60)
        assert "−" in tab.evaluate(f"{cycle}.querySelector('.change').textContent")  # one more person: shorter
        if pictures:  # the panel with its tiles, the step durations open
            tab.evaluate("document.querySelector('#whatif details[data-group=speed]').open = true; "
                         "document.getElementById('whatif').scrollIntoView(); true")
            time.sleep(0.3)
            docs_image("workshop-whatif.png", tab.screenshot())
        # every tile shows the numbers of the run's JSON, as the server wrote them
        state = tab.evaluate("fetch('/whatif/insurance-before.yaml/job/' + document.getElementById('whatif')"
                             ".dataset.job).then(r => r.json())")
        for t in state["tiles"]:
            shown = tab.evaluate(f"[...document.querySelectorAll('[data-tile={t['key']}] div, "
                                 f"[data-tile={t['key']}] span')].map(e => e.textContent)")
            assert {t["text"]["before"], t["text"]["after"], t["text"]["change"]} <= set(shown), (t, shown)
        # a reload of the page's content (a save, the background simulation) keeps the settings and tiles
        tab.evaluate("document.getElementById('whatif').dataset.old = '1'; "
                     "fetch('/fragment/journey/insurance-before.yaml').then(r => r.text())"
                     ".then(h => { document.getElementById('content').innerHTML = h; }); true")
        tab.wait_until("!document.getElementById('whatif').dataset.old", timeout=10)  # the new content is in
        assert tab.evaluate("document.getElementById('whatif').open") is True
        tab.wait_until(f"document.querySelector('tr[data-lever=\"staff:{bottleneck}\"] .delta').textContent"
                       " === ' (+1)'", timeout=5)
        assert tab.evaluate(f"{cycle}.querySelector('.after').textContent") != "–"
        # a save of the journey runs the same settings again, on the new version
        job = tab.evaluate("Number(document.getElementById('whatif').dataset.job)")
        path = insurance / "insurance-before.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("name: Export credit insurance - new policy (before)",
                                     "name: Renamed in the workshop"), encoding="utf-8")
        tab.wait_until("document.getElementById('title').textContent === 'Renamed in the workshop'", timeout=20)
        tab.wait_until(f"Number(document.getElementById('whatif').dataset.job) > {job}", timeout=30)
        assert tab.evaluate(f"document.querySelector('tr[data-lever=\"staff:{bottleneck}\"] .delta').textContent") \
            == " (+1)"
        (tmp_path / "whatif.png").write_bytes(tab.screenshot())
        assert tab.errors() == []
        assert [u for u in tab.requests() if not u.startswith((url, "data:", "about:"))] == []


def _journey_files() -> list[Path]:
    from journeymap.account import is_account_file
    from journeymap.levers import is_levers_file
    from journeymap.portfolio import is_portfolio_file

    return [p for p in sorted(JOURNEYS.glob("*.yaml"))
            if not is_account_file(str(p)) and not is_levers_file(str(p)) and not is_portfolio_file(str(p))]


@pytest.mark.parametrize("path", _journey_files(), ids=lambda p: p.name)
def test_every_bundled_journey_takes_each_kind_of_lever_as_a_valid_overlay(path):
    journey = load_journey(path)
    levers = panel_levers(journey)
    first = {}
    for lever in levers.levers:  # the first lever of each kind, set away from today
        if lever.kind not in first:
            value = lever.high if lever.kind == "staff" else 0.5 if lever.kind != "probability" else \
                (0.0 if lever.neutral > 0.5 else lever.neutral / 2)
            first[lever.kind] = (lever.id, value)
    chosen = dict(first.values())
    try:
        chosen = parse_settings(chosen, levers)
    except BadRequest as exc:  # a branch that would trap cases: the other kinds alone
        assert "cannot run" in str(exc)
        chosen = parse_settings({k: v for k, v in chosen.items() if not k.startswith("branch:")}, levers)
    after, text = what_if_journey(str(path), journey, chosen, levers)
    for ident, value in chosen.items():  # the comment says what was set
        assert describe_setting(levers.by_id[ident], value)[:40] in text
    for ident, value in chosen.items():
        lever = levers.by_id[ident]
        if lever.kind == "staff":
            was = journey.department_by_id[lever.target].capacity
            assert after.department_by_id[lever.target].capacity == was + value
        elif lever.kind == "speed":
            assert after.step_by_id[lever.target].duration.mean == pytest.approx(
                journey.step_by_id[lever.target].duration.mean * value, rel=1e-12)
