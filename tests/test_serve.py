"""journeymap serve (journeymap/serve/): the workshop pages, live reload and their safety.

Three layers: the routes through Starlette's ``TestClient`` (no server, no simulation unless a test
gives an executor); a real uvicorn server on a free port in a thread, whose event stream is read over
HTTP; and the pages in a real headless Chromium (``@pytest.mark.browser``, tests/browser.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from browser import CENTRE, HOVER, Tab, docs_image
from helpers import JOURNEYS, dedent

from journeymap.cli import main
from journeymap.problems import Problem
from journeymap.serve import address, bind, create_app, is_loopback
from journeymap.serve.app import BodyLimit
from journeymap.serve.pages import annotate_svg, located
from journeymap.serve.workshop import Workshop, safe_name
from journeymap.validation import load_journey

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")

LOCAL = "http://127.0.0.1"

SMALL = """
journey: {{id: small, name: {title}}}
persona: {{id: buyer, name: Buyer}}
stages: [sell, sign]
departments: [{{id: sales, name: Sales, capacity: 1}}, {{id: legal, name: Legal, capacity: 1}}]
steps:
  - {{id: pitch, stage: sell, owner: sales, name: {pitch}, duration: 10min, value_adding: true,
     next: {{to: redline, delay: 30min}}}}
  - {{id: redline, stage: sign, owner: legal, name: Legal redlines the contract, duration: 20min}}
  - {{id: sign, stage: sign, owner: customer, name: Buyer signs, duration: 5min, value_adding: true}}
workload: {{arrivals: {{poisson: 2h}}, cases: 30}}
"""

#: ``steps`` is a list of mappings: a mapping here is a wrong-type error at line 6, column 3
BROKEN = ("journey: {id: small, name: Broken}\npersona: {id: buyer}\nstages: [sell]\ndepartments: []\n"
          "steps:\n  oops: 1\n")


def small(title: str = "Small deal", pitch: str = "Sales pitches") -> str:
    return dedent(SMALL.format(title=json.dumps(title), pitch=json.dumps(pitch)))


@pytest.fixture
def folder(tmp_path) -> Path:
    """A served folder holding one small journey, small.yaml."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "small.yaml").write_text(small(), encoding="utf-8")
    return served


@pytest.fixture
def client(folder):
    """Starlette's TestClient on the folder: no lifespan, so no watcher and no simulation."""
    from starlette.testclient import TestClient

    return TestClient(create_app(str(folder)), base_url=LOCAL)


def save(path: Path, text: str) -> None:
    """Save as an editor does: a new file renamed over the old one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- routes


def test_the_index_lists_each_file_with_its_state(client, folder):
    (folder / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    (folder / "notes.txt").write_text("not a journey", encoding="utf-8")
    page = client.get("/")
    assert page.status_code == 200
    assert "Small deal" in page.text and 'href="/journey/small.yaml"' in page.text
    assert 'href="/journey/broken.yaml"' in page.text and "1 error" in page.text
    assert "notes.txt" not in page.text
    assert client.get("/fragment/index").text.count('<article class="card') == 2


@needs_dot
@pytest.mark.exe
def test_a_journey_page_has_three_clickable_drawings_and_the_steps_details(client):
    page = client.get("/journey/small.yaml")
    assert page.status_code == 200
    text = page.text
    for view in ("map", "blueprint", "handoffs"):
        assert f'<div class="view" data-view="{view}"' in text
    assert text.count("<svg") == 3
    for step in ("pitch", "redline", "sign"):
        assert f'id="step-{step}"' in text and f'data-step-detail="{step}"' in text
    assert "<script>" not in text.split("</head>")[1]  # Graphviz's SVG carries no script; ours is a file
    # the handoff arrow says what it costs (a placeholder until the simulation has run)
    tip = "Handoff Sales → Legal: Sales pitches → Legal redlines the contract (time lost: simulating…)"
    assert f'data-tip="{tip}"' in text


@pytest.fixture(scope="module")
def bundled():
    """The TestClient on journeys/ itself (read only)."""
    from starlette.testclient import TestClient

    return TestClient(create_app(str(JOURNEYS)), base_url=LOCAL)


@needs_dot
@pytest.mark.exe
@pytest.mark.parametrize("name, kind, views", [
    ("acme-account.yaml", "account", ["personas", "overview", "handoffs"]),   # a lane per persona
    ("insurance-more-staff.yaml", "journey", ["map", "blueprint", "handoffs"]),  # an overlay: drawn merged
    ("insurance-levers.yaml", "levers", []),                                     # checked, nothing to draw
])
def test_every_kind_of_file_has_its_page(bundled, name, kind, views):
    page = bundled.get(f"/journey/{name}").text
    assert f"· {kind} ·" in page
    assert re.findall(r'<div class="view" data-view="([a-z]+)"', page) == views
    assert 'id="errors"' not in page


@pytest.mark.parametrize("name", [
    "..%2F..%2Fetc%2Fpasswd",       # climbing out
    "%2Fetc%2Fpasswd",              # an absolute path
    "sub%2Finner.yaml",             # a subfolder: only the folder's own files are served
    "outside.yaml",                 # a symlink that leads out of the folder
    "notes.txt",                    # not a journey file
    "missing.yaml",                 # no such file
    "%2E%2E",                       # the folder's parent, encoded so the client leaves it alone
])
@pytest.mark.parametrize("route", ["/journey/", "/fragment/journey/"])
def test_only_the_folders_own_journey_files_are_served(client, folder, tmp_path, route, name):
    (tmp_path / "secret.yaml").write_text(small("Secret"), encoding="utf-8")
    (folder / "outside.yaml").symlink_to(tmp_path / "secret.yaml")
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.yaml").write_text(small("Inner"), encoding="utf-8")
    (folder / "notes.txt").write_text("notes", encoding="utf-8")
    page = client.get(route + name)
    assert page.status_code == 404
    assert "Secret" not in page.text and "root:" not in page.text
    assert "outside.yaml" not in client.get("/").text   # the symlink out is not listed either


@pytest.mark.parametrize("path", ["/static/..%2F..%2Fserve%2Fapp.py", "/static/%2Fetc%2Fpasswd", "/nowhere"])
def test_other_paths_are_404(client, path):
    assert client.get(path).status_code == 404


def test_safe_name_keeps_to_the_folder(folder, tmp_path):
    (folder / "link.yaml").symlink_to(folder / "small.yaml")   # a symlink inside the folder is fine
    assert safe_name(str(folder), "small.yaml") == os.path.join(str(folder), "small.yaml")
    assert safe_name(str(folder), "link.yaml") is not None
    for bad in ("", ".", "../served/small.yaml", str(folder / "small.yaml"), "a\0b.yaml", "C:small.yaml"):
        assert safe_name(str(folder), bad) is None, bad


@needs_dot
@pytest.mark.exe
def test_journey_text_is_escaped_everywhere(client, folder):
    evil = "<script>alert(1)</script>"
    save(folder / "small.yaml", small(title=evil, pitch=evil))
    for url in ("/", "/journey/small.yaml", "/fragment/journey/small.yaml"):
        text = client.get(url).text
        assert "<script>alert" not in text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, url


@needs_dot
@pytest.mark.exe
def test_a_file_saved_with_errors_shows_them_and_keeps_the_last_good_drawing(client, folder):
    first = client.get("/journey/small.yaml").text
    assert 'id="step-pitch"' in first and 'id="errors"' not in first
    save(folder / "small.yaml", BROKEN)
    page = client.get("/fragment/journey/small.yaml").text
    assert 'id="errors"' in page
    assert "<code class=\"where\">small.yaml:6:3</code>" in page  # file:line:column, relative to the folder
    assert "last version without errors" in page
    assert 'id="step-pitch"' in page and page.count("<svg") == 3   # the last good drawing, still there
    save(folder / "small.yaml", small(title="Fixed"))
    fixed = client.get("/fragment/journey/small.yaml").text
    assert 'id="errors"' not in fixed and "Fixed" in fixed


def test_without_graphviz_the_page_says_so_and_shows_the_rest(client, no_graphviz):
    page = client.get("/journey/small.yaml").text
    assert page.count('class="no-drawing"') == 3 and "Graphviz" in page
    assert 'data-step-detail="pitch"' in page and "Handoffs" in page


@needs_dot
@pytest.mark.exe
def test_a_slow_drawing_is_shown_quick_first_then_finished(folder, monkeypatch):
    from journeymap.serve import workshop as ws

    workshop = Workshop(str(folder))
    workshop.refresh()
    heard: list[list[str]] = []
    workshop.subscribe(heard.append)
    slow = ws.DotJob.result

    def late(job):
        time.sleep(0.5)
        return slow(job)

    quick_ones: list[str] = []
    draw = ws._dot_svg

    def recorded(source: str, *, quick: bool) -> str:
        quick_ones.append(source)
        return draw(source, quick=quick)

    monkeypatch.setattr(ws.DotJob, "result", late)
    monkeypatch.setattr(ws, "_dot_svg", recorded)
    first = workshop.drawing("small.yaml", "map", wait=0.05)
    assert "<svg" in first and len(quick_ones) == 1       # straight arrows, drawn at once
    wait_until(lambda: heard == [["small.yaml"]], timeout=10)   # the finished drawing is in: pages fetch it
    assert "<svg" in workshop.drawing("small.yaml", "map", wait=0.05) and len(quick_ones) == 1


def test_a_deleted_file_leaves_the_index_and_its_page_is_404(client, folder):
    (folder / "other.yaml").write_text(small("Other deal"), encoding="utf-8")
    assert "Other deal" in client.get("/").text
    (folder / "other.yaml").unlink()
    assert "Other deal" not in client.get("/").text
    assert client.get("/fragment/journey/other.yaml").status_code == 404   # the open page says it is gone


def test_a_file_that_never_was_valid_says_there_is_nothing_to_draw(client, folder):
    (folder / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    page = client.get("/journey/broken.yaml").text
    assert "No version of this file without errors yet" in page and "<svg" not in page


def test_a_body_over_the_limit_is_refused_before_any_route(folder):
    from starlette.testclient import TestClient

    client = TestClient(create_app(str(folder), max_body=1000), base_url=LOCAL)
    assert client.post("/", content=b"x" * 1001).status_code == 413
    assert client.post("/", content=b"x" * 10).status_code == 405           # small: the route answers


def test_a_streamed_body_is_cut_off_at_the_limit():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def echo(request):
        return PlainTextResponse(str(len(await request.body())))

    client = TestClient(BodyLimit(Starlette(routes=[Route("/", echo, methods=["POST"])]), max_bytes=1000))
    assert client.post("/", content=iter([b"x" * 600, b"x" * 300])).text == "900"
    assert client.post("/", content=iter([b"x" * 600, b"x" * 600])).status_code == 413   # no length announced


def test_the_host_header_must_name_this_machine(client):
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400   # DNS rebinding
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_every_response_forbids_other_hosts(client):
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "script-src 'self';" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    static = client.get("/static/serve.js")
    assert static.status_code == 200 and "EventSource" in static.text
    assert "http://" not in static.text and "https://" not in static.text


# --------------------------------------------------------------------------- simulations in the background


class Immediate:
    """An executor that runs each call at once and counts them."""

    def __init__(self) -> None:
        self.calls = 0

    def submit(self, fn, *args) -> Future:
        self.calls += 1
        future: Future = Future()
        future.set_result(fn(*args))
        return future


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


def test_simulations_run_once_per_content(folder):
    workshop = Workshop(str(folder), replications=1)
    runs = Immediate()
    workshop.start(runs.submit)
    try:
        heard: list[list[str]] = []
        workshop.subscribe(heard.append)
        workshop.refresh()
        first = workshop.entry("small.yaml").good.digest
        wait_until(lambda: workshop.summary(first) is not None)
        save(folder / "small.yaml", small(title="Renamed"))
        workshop.refresh()
        second = workshop.entry("small.yaml").good.digest
        wait_until(lambda: workshop.summary(second) is not None)
        save(folder / "small.yaml", small())      # back to the first content: its figures are kept
        workshop.refresh()
        assert workshop.entry("small.yaml").good.digest == first
        assert workshop.simulation_state(first) == "done"
        time.sleep(0.1)
        assert runs.calls == 2
        assert ["small.yaml"] in heard
    finally:
        workshop.stop()


@needs_dot
@pytest.mark.exe
def test_simulated_figures_reach_the_page_and_the_handoff_tooltips(folder):
    from starlette.testclient import TestClient

    with ThreadPoolExecutor(1) as pool, TestClient(create_app(str(folder), executor=pool, watch=False,
                                                              replications=2), base_url=LOCAL) as client:
        app_workshop = client.app.state.workshop
        wait_until(lambda: app_workshop.simulation_state(app_workshop.entry("small.yaml").good.digest) == "done")
        page = client.get("/journey/small.yaml").text
    assert "Cycle time" in page and "Lost at handoffs" in page
    assert "lost per case (inbox" in page                 # the map's handoff arrow
    assert "Wait per visit" in page                       # the step details


def test_annotate_svg_names_steps_and_explains_handoffs():
    journey = load_journey(JOURNEYS / "insurance-before.yaml")
    svg = ('<?xml version="1.0"?><svg><script>alert(1)</script>'
           '<g id="node7" class="node">\n<title>underwriting</title></g>'
           '<g id="node8" class="node">\n<title>_legend</title></g>'
           '<g id="edge3" class="edge handoff">\n<title>kyc_check&#45;&gt;allocate</title></g></svg>')
    flows = [{"source": "kyc_check", "target": "allocate", "handoff": True, "lost_per_case": 120.0,
              "inbox_per_case": 90.0, "queue_per_case": 30.0}]
    out = str(annotate_svg(svg, journey, "map", {"flows": flows}))
    assert "<script" not in out and "<?xml" not in out
    assert '<g id="step-underwriting" class="node step" data-step="underwriting"' in out
    assert "<title>_legend</title>" in out      # not a step: left as it was
    assert "2.0h lost per case (inbox 1.5h, queue 30min)" in out
    numbered = [dict(flows[0], number=6)]
    assert "H6 Handoff KYC" in str(annotate_svg(svg, journey, "map", {"flows": numbered}))


def test_problems_are_located_relative_to_the_folder(folder):
    p = Problem(str(folder / "small.yaml"), 3, 7, "error", "wrong-type", "bad")
    assert located([p], str(folder))[0]["where"] == "small.yaml:3:7"
    outside = Problem("/elsewhere/x.yaml", 1, 1, "error", "file", "gone")
    assert located([outside], str(folder))[0]["where"] == "/elsewhere/x.yaml:1:1"


# --------------------------------------------------------------------------- a real server


@contextlib.contextmanager
def running(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of the loopback in a thread; yields its address."""
    import uvicorn

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=10)
        yield address("127.0.0.1", sock.getsockname()[1]).rstrip("/")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_saving_a_file_sends_a_change_event(folder):
    import httpx2

    with running(create_app(str(folder), simulate=False)) as url, httpx2.Client(timeout=10) as http:
        with http.stream("GET", url + "/events") as events:
            lines = events.iter_lines()
            assert next(lines) == "event: hello"
            time.sleep(0.5)  # the watcher has started
            saved = time.monotonic()
            save(folder / "small.yaml", small(title="Changed"))
            while next(lines) != "event: change":
                pass
            assert json.loads(next(lines).removeprefix("data: "))["files"] == ["small.yaml"]
            assert time.monotonic() - saved < 1.0


def test_serve_refuses_a_port_in_use_and_a_missing_folder(folder, capsys):
    taken = bind("127.0.0.1", 0)
    try:
        assert main(["serve", str(folder), "--port", str(taken.getsockname()[1])]) == 3
    finally:
        taken.close()
    assert main(["serve", str(folder / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("host, loopback, url", [
    ("127.0.0.1", True, "http://127.0.0.1:8000/"),
    ("localhost", True, "http://localhost:8000/"),
    ("::1", True, "http://[::1]:8000/"),
    ("0.0.0.0", False, "http://127.0.0.1:8000/"),    # every interface: this machine's address works too
    ("192.168.1.20", False, "http://192.168.1.20:8000/"),
])
def test_addresses(host, loopback, url):
    assert is_loopback(host) is loopback
    assert address(host, 8000) == url


# --------------------------------------------------------------------------- in a real browser


def _local(url: str, base: str) -> bool:
    return url.startswith((base, "data:", "about:"))


@pytest.fixture
def insurance(tmp_path) -> Path:
    """A folder with the insurance journey (41 steps, and the holidays its calendars read) and a small one."""
    served = tmp_path / "workshop"
    served.mkdir()
    shutil.copy(JOURNEYS / "insurance-before.yaml", served)
    shutil.copytree(JOURNEYS / "holidays", served / "holidays")
    (served / "small.yaml").write_text(small(), encoding="utf-8")
    return served


@pytest.mark.browser
@pytest.mark.exe
@needs_dot
def test_the_pages_work_in_chromium_without_errors_or_other_hosts(chromium, insurance, tmp_path, monkeypatch):
    monkeypatch.chdir(insurance.parent)         # the page names the folder as given: "workshop"
    with running(create_app(insurance.name)) as url, Tab(chromium, tmp_path / "chrome", width=1920,
                                                         height=1080) as tab:
        tab.open(url + "/")
        tab.wait_until("document.body.dataset.live === '1'")
        assert tab.evaluate("document.querySelectorAll('.card').length") == 2
        tab.open(url + "/journey/insurance-before.yaml")
        tab.wait_until("document.body.dataset.live === '1'")
        assert tab.evaluate("document.querySelectorAll('.view:not([hidden]) g.step').length") == 41
        # clicking a step shows its details
        x, y = tab.evaluate("(() => { const g = document.querySelector('.view:not([hidden]) g.step');"
                            " const r = g.getBoundingClientRect();"
                            " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        tab.click(x, y)
        step = tab.evaluate("document.querySelector('.view:not([hidden]) g.step').dataset.step")
        tab.wait_until(f"!document.querySelector('[data-step-detail=\"{step}\"]').hidden", timeout=5)
        # the figures arrive from the background simulation, and the page updates by itself
        tab.wait_until("document.querySelector('.step-detail:not([hidden]) .figures') !== null", timeout=60)
        # a handoff tooltip says the time lost
        assert "lost per case" in tab.evaluate("document.querySelector('g.edge.tip').dataset.tip")
        # the tabs switch drawings
        tab.evaluate("document.querySelector('.tabs [data-view=handoffs]').click()")
        assert tab.evaluate("document.querySelector('.view[data-view=handoffs]').hidden") is False
        # the picture in docs/workshop.md: the map, the bottleneck step clicked and centred, a handoff pointed at
        tab.evaluate("document.querySelector('.tabs [data-view=map]').click()")
        tab.evaluate(CENTRE)
        tab.wait_until("!document.querySelector('[data-step-detail=\"underwriting\"]').hidden", timeout=5)
        assert tab.evaluate(HOVER) is True
        tip = tab.evaluate("(() => { const t = document.getElementById('tip'); return [t.hidden, t.textContent]; })()")
        assert tip[0] is False and "lost per case" in tip[1], tip
        png = tab.screenshot()
        (tmp_path / "journey.png").write_bytes(png)
        docs_image("workshop-1920.png", png)
        assert tab.errors() == []
        assert [u for u in tab.requests() if not _local(u, url)] == []


@pytest.mark.browser
@pytest.mark.exe
@needs_dot
def test_editing_the_yaml_updates_the_open_page_and_errors_keep_the_drawing(chromium, folder, tmp_path):
    with running(create_app(str(folder), simulate=False)) as url, Tab(chromium, tmp_path / "chrome") as tab:
        tab.open(url + "/journey/small.yaml")
        tab.wait_until("document.body.dataset.live === '1'")
        save(folder / "small.yaml", small(title="Renamed in the meeting"))
        took = tab.wait_until("document.getElementById('title').textContent === 'Renamed in the meeting'")
        assert took < 3.0, took
        save(folder / "small.yaml", BROKEN)
        tab.wait_until("document.getElementById('errors') !== null")
        assert "small.yaml:6:3" in tab.evaluate("document.getElementById('errors').textContent")
        assert tab.evaluate("document.querySelectorAll('g.step').length") > 0   # the last good drawing
        assert tab.errors() == []


@pytest.mark.browser
def test_the_browser_check_catches_console_errors_and_requests_to_other_hosts(chromium, folder, tmp_path):
    with running(create_app(str(folder), simulate=False)) as url, Tab(chromium, tmp_path / "chrome") as tab:
        tab.open(url + "/")
        tab.wait_until("document.body.dataset.live === '1'")
        assert tab.errors() == []
        # port 9 (discard) on the loopback: another origin, and refused at once if it ever got through
        tab.evaluate("console.error('deliberate error'); const i = new Image(); "
                     "i.src = 'http://127.0.0.1:9/pixel.png'; document.body.append(i); true")
        tab.wait_until("true")
        time.sleep(0.3)
        errors = tab.errors()
        assert any("deliberate error" in e for e in errors), errors
        # the page's Content-Security-Policy blocks the request, and the block is reported
        assert any("127.0.0.1:9" in e for e in errors), errors
