"""``journeymap serve``: the journeys of a folder as a live web page for a workshop.

* :mod:`.workshop` — the folder's files, checked, drawn and simulated once per content (the state);
* :mod:`.pages` — what the pages show, as plain data (figures, step details, the SVG made clickable);
* :mod:`.events` — live reload: changes pushed to the open pages as server-sent events;
* :mod:`.whatif` — the what-if panel: levers moved on the page, re-simulated against the baseline;
* :mod:`.app` — the Starlette application, built by :func:`create_app` (pure: testable with
  Starlette's ``TestClient``);
* :func:`serve` — runs it with uvicorn on a socket it binds first, so a port in use is an ordinary error.

The page's script and style sheet are in ``static/``, its templates in ``journeymap/templates/serve/``.
docs/workshop.md says how to run a workshop with it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from .app import LOCAL_HOSTS, create_app

__all__ = ["create_app", "serve", "address", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def address(host: str, port: int) -> str:
    """The URL a browser opens for a server bound to ``host``:``port``."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free one); raises :class:`OSError` (port in use)."""
    family, kind, proto, _, where = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(where)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(folder: str, *, host: str = "127.0.0.1", port: int = 8000,
          log: Callable[[str], None] = print) -> None:
    """Serve ``folder``'s journeys until interrupted; ``log`` hears the address once the port is bound.

    Binds ``host`` only (the loopback unless told otherwise). Raises :class:`OSError` when the port
    cannot be had.
    """
    import uvicorn

    sock = bind(host, port)
    port = sock.getsockname()[1]
    hosts = list(LOCAL_HOSTS) if is_loopback(host) else ["*"]
    app = create_app(folder, allowed_hosts=hosts)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="on")
    server = uvicorn.Server(config)
    log(f"journeymap serve: {address(host, port)} (the journeys in {folder}); Ctrl-C to stop")
    try:
        server.run(sockets=[sock])  # returns on Ctrl-C or SIGTERM, once open pages are closed
    finally:
        sock.close()
    log("journeymap serve: stopped")
