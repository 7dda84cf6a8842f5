"""Headless Chromium for the browser tests (``@pytest.mark.browser``): the ``chromium`` fixture and a
DevTools client.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``), so the standard
library is enough: no websocket client, no port. :class:`DevTools` sends commands and keeps the events;
:class:`Tab` opens one page in it, evaluates script there and says what went wrong (:func:`page_errors`:
console errors, uncaught exceptions, failed loads) and what the page asked for (:func:`requested`).
Used by tests/test_report.py (a file) and tests/test_serve.py (a live server). The fixture is registered
for every test module by ``pytest_plugins`` in conftest.py.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

__all__ = ["chromium", "DevTools", "Tab", "page_errors", "requested", "find_chromium", "docs_image", "CENTRE",
           "HOVER"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium; installed with apt-get when missing and we are root, else the test skips."""
    found = find_chromium()
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); "
                    "installing it needs root and apt-get")
    proc = subprocess.run(
        ["sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"],
        capture_output=True, text=True, timeout=1200)
    found = find_chromium()
    if not found:
        pytest.skip(f"could not install Chromium with apt-get (exit {proc.returncode}): {proc.stderr[-400:]}")
    return found


class DevTools:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``.

    Chromium reads NUL-terminated JSON commands on fd 3 and writes replies and
    events on fd 4. Events that arrive while we wait for a reply are kept in
    :attr:`events`, so nothing logged during a page load is lost.
    """

    def __init__(self, executable: str, user_data_dir: Path, timeout: float = 30.0):
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._buffer = b""
        self._id = 0
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def as_fd_3_and_4():  # runs in the child, before exec
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)  # fresh numbers, so dup2 below never is a no-op
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={user_data_dir}",
                "--remote-debugging-pipe", "about:blank"]
        self.process = subprocess.Popen(args, preexec_fn=as_fd_3_and_4, close_fds=False,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._deadline = time.monotonic() + timeout

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self._deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer within {self.timeout:g} s")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise EOFError(f"Chromium closed the pipe (exit code {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile go to :attr:`events`."""
        self._id += 1
        self._deadline = time.monotonic() + self.timeout
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event called ``method`` (already received, or the next to come)."""
        self._deadline = time.monotonic() + self.timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.send("Browser.close")
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        finally:
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            os.close(self._to_chrome)
            os.close(self._from_chrome)


def page_errors(events: list[dict[str, Any]]) -> list[str]:
    """What went wrong in a page, from its DevTools events: console.error/assert, uncaught exceptions and
    error log entries (a failed load, a refused connection, a blocked request)."""
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            errors.append(f"console.{params['type']}: {args}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            errors.append("uncaught: " + details.get("exception", {}).get("description", details.get("text", "")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip())
    return errors


def requested(events: list[dict[str, Any]]) -> list[str]:
    """Every URL a page asked for (the page itself included), from its DevTools events."""
    return [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]


class Tab:
    """One page in a headless Chromium: open a URL, evaluate script, wait for a condition, take a screenshot.

    Use as a context manager; :attr:`events` holds everything the page reported.
    """

    def __init__(self, executable: str, workdir: Path, *, width: int = 1440, height: int = 900,
                 timeout: float = 30.0) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.chrome = DevTools(executable, workdir / "profile", timeout=timeout)
        target = self.chrome.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.chrome.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.chrome.send(f"{domain}.enable", self.session)
        self.chrome.send("Emulation.setDeviceMetricsOverride", self.session, width=width, height=height,
                         deviceScaleFactor=1, mobile=False)

    def __enter__(self) -> Tab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.chrome.close()

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.chrome.events

    def open(self, url: str) -> None:
        """Navigate to ``url`` and wait for its load event."""
        self.chrome.events[:] = [e for e in self.chrome.events if e.get("method") != "Page.loadEventFired"]
        self.chrome.send("Page.navigate", self.session, url=url)
        self.chrome.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-like values)."""
        reply = self.chrome.send("Runtime.evaluate", self.session, expression=expression, returnByValue=True,
                                 awaitPromise=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression!r} failed: {reply['exceptionDetails'].get('text')}")
        return reply["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 10.0, poll: float = 0.02) -> float:
        """Wait until ``expression`` is truthy in the page; returns how long that took (seconds)."""
        start = time.monotonic()
        while not self.evaluate(expression):
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"{expression!r} still false after {timeout:g} s")
            time.sleep(poll)
        return time.monotonic() - start

    def click(self, x: float, y: float) -> None:
        """A left click at (x, y) CSS pixels of the viewport."""
        for kind in ("mousePressed", "mouseReleased"):
            self.chrome.send("Input.dispatchMouseEvent", self.session, type=kind, x=x, y=y, button="left",
                             clickCount=1)

    def screenshot(self, *, whole: bool = False) -> bytes:
        """A PNG of the viewport (or of the whole page)."""
        shot = self.chrome.send("Page.captureScreenshot", self.session, format="png", captureBeyondViewport=whole)
        return base64.b64decode(shot["data"])

    def errors(self) -> list[str]:
        return page_errors(self.events)

    def requests(self) -> list[str]:
        return requested(self.events)


#: ``JOURNEYMAP_DOCS_IMAGES``, made absolute when the tests start (a test may change the working folder).
DOCS_IMAGES = Path(os.environ["JOURNEYMAP_DOCS_IMAGES"]).resolve() if os.environ.get("JOURNEYMAP_DOCS_IMAGES") \
    else None


def docs_image(name: str, png: bytes) -> None:
    """Write ``png`` as the docs picture ``name`` when ``JOURNEYMAP_DOCS_IMAGES`` names a folder (e.g.
    ``JOURNEYMAP_DOCS_IMAGES=docs/images pytest tests/test_serve.py``): the pictures in the docs are taken by
    the tests that check the same page, so they show what the tests saw. Without it, nothing is written."""
    if DOCS_IMAGES is not None:
        (DOCS_IMAGES / name).write_bytes(png)


# ----------------------------------------------------------------------- the workshop page (journeymap serve)

#: Click the bottleneck step (the first step when there is no such step) and bring it to the middle of the view.
CENTRE = """(() => {
  const g = document.querySelector('.view:not([hidden]) g.step[data-step="underwriting"]')
    || document.querySelector('.view:not([hidden]) g.step');
  g.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  const svg = g.closest('svg'), b = g.getBBox(), m = g.getCTM(), s = svg.getCTM();
  const x = (b.x + b.width / 2) * m.a + m.e, y = (b.y + b.height / 2) * m.d + m.f;   // screen px
  const p = new DOMPoint(x, y).matrixTransform(s.inverse());                          // viewBox units
  const w = svg.clientWidth / 0.9, h = svg.clientHeight / 0.9;
  svg.setAttribute('viewBox', [p.x - w / 2, p.y - h / 2, w, h].join(' '));
  return true;
})()"""

#: Point at the middle of the first handoff arrow that is on screen, as a mouse would.
HOVER = """(() => {
  const box = document.querySelector('.view:not([hidden]) .viewport').getBoundingClientRect();
  for (const g of document.querySelectorAll('.view:not([hidden]) g.edge.tip')) {
    const path = g.querySelector('path');
    if (!path) continue;
    const p = path.getPointAtLength(path.getTotalLength() / 2), m = path.getScreenCTM();
    const x = p.x * m.a + m.e, y = p.y * m.d + m.f;
    if (x < box.left + 20 || x > box.right - 400 || y < box.top + 20 || y > box.bottom - 80) continue;
    g.dispatchEvent(new PointerEvent('pointerenter', {clientX: x, clientY: y}));
    g.dispatchEvent(new PointerEvent('pointermove', {clientX: x, clientY: y}));
    return true;
  }
  return false;
})()"""
