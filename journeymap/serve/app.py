"""The workshop web application: :func:`create_app` builds it for one folder; uvicorn runs it.

Routes (every page is also served as a *fragment*, the part a page fetches again on a change):

``GET /``, ``GET /fragment/index``
    the journeys, accounts and levers files of the folder: validation state and headline figures;
``GET /journey/{name}``, ``GET /fragment/journey/{name}``
    one file: its map, blueprint and handoff network (pan, zoom, click a step, hover a handoff), its
    figures and its problems with ``file:line:column``;
``GET /present/{name}``, ``GET /present/{name}/{stage}``, ``GET /fragment/present/{name}``
    presenter mode: the journey stage by stage in large type, opened on the overview or on a stage
    (:mod:`.present`; the keyboard moves between the slides);
``GET /events``
    server-sent events: ``change`` with the names of the files that changed (:mod:`.events`);
``GET /static/...``
    the page's own script and style sheet, shipped in the package (nothing comes from another host);
``POST /whatif/{name}``, ``GET /whatif/{name}/job/{id}``, ``POST /whatif/{name}/save``
    the what-if panel (:mod:`.whatif`): start a run of lever settings (JSON), read its tiles, save the
    settings as an ``extends:`` overlay beside the journey. A POST must come from the page itself (its
    ``Origin``) with a JSON body.

Safety: a name is served only when it is a journey file directly in the folder that stays inside it
(:func:`.workshop.safe_name`, the rule of ``extends:``); anything else is 404. Only "Save as overlay"
writes, a new file beside the journey (never the journey or a file it reads). Every string from a file
is escaped by Jinja2's autoescaping. The ``Host`` header must name this machine when the server listens on
the loopback only (a web page elsewhere cannot reach it through DNS rebinding). Request bodies over
:data:`MAX_BODY_BYTES` are refused with 413 before any route reads them (no route takes a body yet; the
what-if panel's are small JSON). A Content-Security-Policy forbids scripts, styles, pictures and connections from
anywhere but the server itself.

Adding a page (presenter mode, the what-if panel): a template in ``templates/serve/``, a route here that
builds its context from :class:`~.workshop.Workshop`, and, for live reload, a ``data-fragment`` URL on its
``<main>`` (docs/workshop.md, "For developers").
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import JourneymapError
from .events import Broadcaster
from .pages import annotate_svg, headline, located, step_details
from .present import VIEW_OF_KIND, overview_rows, slide_svg, stage_figures, stage_handoffs, stage_tiles
from .whatif import BadRequest, WhatIf, panel
from .workshop import DRAWING_WAIT, QUICK_REPLICATIONS, Entry, Workshop, safe_name

__all__ = ["create_app", "LOCAL_HOSTS", "MAX_BODY_BYTES", "VIEWS_SHOWN", "BodyLimit", "SecurityHeaders"]

log = logging.getLogger("journeymap.serve")

#: Host names the server answers to when it listens on the loopback only.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: The largest request body accepted (bytes); larger ones get 413 before any route reads them.
MAX_BODY_BYTES = 64 * 1024
#: Worker processes of the what-if panel: its baseline and what-if simulations run side by side.
WHATIF_WORKERS = 2
#: The drawings a page shows, by kind of file, in tab order.
VIEWS_SHOWN = {"journey": ("map", "blueprint", "handoffs"), "account": ("personas", "overview", "handoffs"),
               "levers": ()}
VIEW_NAMES = {"map": "Map", "blueprint": "Blueprint", "handoffs": "Handoff network", "personas": "Personas",
              "overview": "Overview"}

#: Only the server itself: its pages, script, style sheet and event stream. Graphviz's SVG carries
#: ``style`` attributes, hence ``'unsafe-inline'`` for styles (never for scripts).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")

_PACKAGE = Path(__file__).resolve().parent.parent
_ENV = Environment(loader=FileSystemLoader(_PACKAGE / "templates" / "serve"),
                   autoescape=select_autoescape(default=True, default_for_string=True))


class BodyLimit:
    """ASGI middleware: refuse (413) any request whose body is over ``max_bytes``, announced or streamed.

    The body is read here first (it is small by then), so no route ever starts on a body too large, and
    then handed to the application as one message.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        queued: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: the application hears it
                queued.append(message)
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        queued.insert(0, {"type": "http.request", "body": b"".join(chunks), "more_body": False})

        async def replayed() -> Message:
            return queued.pop(0) if queued else await receive()

        await self.app(scope, replayed, send)


def _too_large(max_bytes: int) -> Response:
    return Response(f"request body over {max_bytes:,} bytes\n", status_code=413, media_type="text/plain")


class SecurityHeaders:
    """ASGI middleware: every response forbids other origins (:data:`CSP`), sniffing, framing and referrers."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


# --------------------------------------------------------------------------- page contexts


def _views(workshop: Workshop, entry: Entry) -> list[dict[str, Any]]:
    """Each view of the file's last good version, as annotated SVG or the reason there is none."""
    from ..errors import DotNotFound

    good = entry.good
    if good is None:
        return []
    summary = workshop.summary(good.digest)
    workshop.start_drawings(entry.name, VIEWS_SHOWN[entry.kind])
    deadline = time.monotonic() + DRAWING_WAIT  # for all the views together: they are drawn at once
    out = []
    for view in VIEWS_SHOWN[entry.kind]:
        shown: dict[str, Any] = {"id": view, "name": VIEW_NAMES[view], "svg": None, "error": None}
        try:
            svg = workshop.drawing(entry.name, view, wait=max(0.0, deadline - time.monotonic()))
            shown["svg"] = annotate_svg(svg, good.journey, view, summary) if svg else None
        except DotNotFound as exc:
            shown["error"] = str(exc)
        except JourneymapError as exc:  # too large to draw, or Graphviz failed
            shown["error"] = str(exc)
        out.append(shown)
    return out


def _entry_context(workshop: Workshop, entry: Entry, *, drawings: bool) -> dict[str, Any]:
    good = entry.good
    summary = workshop.summary(good.digest) if good else None
    journey = good.journey if good else None
    return {
        "name": entry.name, "kind": entry.kind, "current": entry.current,
        "title": journey.name if journey else entry.name,
        "persona": journey.persona.name if journey else "",
        "errors": located(entry.errors, workshop.folder), "warnings": located(entry.warnings, workshop.folder),
        "stale": good is not None and not entry.current,
        "good_at": time.strftime("%H:%M:%S", time.localtime(good.read_at)) if good else None,
        "simulation": workshop.simulation_state(good.digest) if good else "none",
        "tiles": headline(journey, summary, workshop.analysis(good)) if good and journey else [],
        "views": _views(workshop, entry) if drawings else [],
        "steps": step_details(journey, summary) if journey and drawings else [],
        "whatif": (panel(journey) | {"version": good.digest[:16]}) if good and journey and drawings
        and entry.kind == "journey" else None,
    }


def _index_context(workshop: Workshop) -> dict[str, Any]:
    workshop.refresh()
    entries = [workshop.entry(n) for n in workshop.names()]
    return {"folder": workshop.folder, "entries": [_entry_context(workshop, e, drawings=False) for e in entries if e]}


def _journey_context(workshop: Workshop, name: str) -> dict[str, Any]:
    if safe_name(workshop.folder, name) is None or name not in workshop.names():
        raise HTTPException(404)
    workshop.refresh()
    workshop.prefer(name)
    entry = workshop.entry(name)
    if entry is None:
        raise HTTPException(404)
    return {"folder": workshop.folder, "entry": _entry_context(workshop, entry, drawings=True)}


# --------------------------------------------------------------------------- the what-if panel's routes


def _json_error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _refused(request: Request) -> JSONResponse | None:
    """Why a what-if POST is refused (403: not from this server's own page; 415: not JSON), or None.

    A Content-Security-Policy does not stop another site's page from posting to localhost: the browser
    says where a POST comes from in ``Origin``, which must be this server (scheme and ``Host``).
    """
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin != own:
        return _json_error(f"a what-if request must come from this server's own page (Origin {own}), "
                           f"not {origin or 'a request without an Origin header'}", 403)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        return _json_error(f"send the body as application/json, not {kind or 'no content type'}", 415)
    return None


def _whatif_subject(workshop: Workshop, name: str) -> Entry:
    """The journey file ``name`` with a good version, for a what-if request (HTTPException otherwise)."""
    if safe_name(workshop.folder, name) is None:
        raise HTTPException(404)
    workshop.refresh()
    entry = workshop.entry(name)
    if entry is None:
        raise HTTPException(404)
    if entry.kind != "journey" or entry.good is None:
        why = (f"{name} is {'an account' if entry.kind == 'account' else 'a levers file'}: the what-if panel "
               "changes one journey" if entry.kind != "journey" else f"{name} has no version without errors")
        raise BadRequest(why, status=409)
    return entry


def _whatif_run(workshop: Workshop, whatif: WhatIf, name: str, body: bytes) -> dict[str, Any]:
    from .whatif import request_settings

    entry = _whatif_subject(workshop, name)
    good = entry.good
    assert good is not None
    settings = request_settings(body, whatif.levers(good.digest, good.journey))
    return whatif.run(name, good.digest, entry.path, good.journey, settings).as_dict()


def _whatif_save(workshop: Workshop, whatif: WhatIf, name: str, body: bytes) -> dict[str, Any]:
    from ..output import refuse_inputs, write_text
    from .whatif import parse_save, what_if_journey

    entry = _whatif_subject(workshop, name)
    good = entry.good
    assert good is not None
    levers = whatif.levers(good.digest, good.journey)
    settings, path, _ = parse_save(body, levers, workshop.folder, entry.path)
    refuse_inputs([entry.path, *_inputs_of(entry.path)], files=[path])
    _, text = what_if_journey(entry.path, good.journey, settings, levers)
    write_text(path, text)
    workshop.refresh()
    return {"file": os.path.basename(path), "settings": settings, "text": text}


def _inputs_of(path: str) -> list[str]:
    from ..output import input_files

    return input_files(path)


def _present_context(workshop: Workshop, name: str, stage: str | None = None) -> dict[str, Any]:
    """The deck of one file (presenter mode, :mod:`.present`): 404 for a file without stages to show, or a
    ``stage`` it does not have."""
    from ..analysis import handoff_numbers
    from ..errors import DotNotFound
    from ..graph import build_graph

    if safe_name(workshop.folder, name) is None or name not in workshop.names():
        raise HTTPException(404)
    workshop.refresh()
    workshop.prefer(name)
    entry = workshop.entry(name)
    good = entry.good if entry else None
    if entry is None or entry.kind not in VIEW_OF_KIND or good is None:
        raise HTTPException(404)
    context: dict[str, Any] = {"folder": workshop.folder, "entry": _entry_context(workshop, entry, drawings=False)}
    journey = good.journey
    if stage is not None and stage not in journey.stage_by_id:
        raise HTTPException(404)
    summary = workshop.summary(good.digest)
    counts = workshop.analysis(good)["stages"]
    figures = stage_figures(journey, summary)
    numbers = handoff_numbers(build_graph(journey))
    cycle = summary["case"]["cycle_time"]["mean"] if summary else None
    view = VIEW_OF_KIND[entry.kind]
    workshop.start_drawings(name, [view], [(s.id,) for s in journey.stages])
    deadline = time.monotonic() + DRAWING_WAIT
    slides = []
    for i, s in enumerate(journey.stages, 1):
        svg, error = None, None
        try:
            drawn = workshop.drawing(name, view, wait=max(0.0, deadline - time.monotonic()), stages=(s.id,))
            svg = slide_svg(drawn, journey, view, summary) if drawn else None
        except (DotNotFound, JourneymapError) as exc:  # no Graphviz, too large to draw, Graphviz failed
            error = str(exc)
        slides.append({"id": s.id, "n": i, "name": s.name, "svg": svg, "error": error,
                       "tiles": stage_tiles(counts[s.id], figures.get(s.id), cycle),
                       "handoffs": stage_handoffs(journey, s.id, summary, numbers)})
    context.update(stage=stage, slides=slides, overview=overview_rows(journey, counts, figures))
    return context


def _page(template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(template).render(**context), status_code=status)


# --------------------------------------------------------------------------- the application


def create_app(folder: str, *, simulate: bool = True, executor: Executor | None = None, watch: bool = True,
               replications: int = QUICK_REPLICATIONS, seed: int = 1,
               allowed_hosts: Sequence[str] = LOCAL_HOSTS, max_body: int = MAX_BODY_BYTES) -> Starlette:
    """The workshop application for the journey files in ``folder`` (pure: nothing starts until it is served).

    While served (its lifespan), it watches the folder (``watch``) and simulates each content in the
    background (``simulate``) on ``executor``, by default one worker process of its own. Without the
    lifespan (Starlette's ``TestClient`` outside a ``with``), every request reads the folder again and
    nothing is simulated. ``allowed_hosts``: the ``Host`` header values answered ("*": any).
    """
    workshop = Workshop(folder, replications=replications, seed=seed)
    broadcaster = Broadcaster()
    workshop.subscribe(broadcaster.publish)
    whatif = WhatIf(folder, seed=seed)

    async def index(request: Request) -> Response:
        return _page("index.html.j2", await run_in_threadpool(_index_context, workshop))

    async def index_fragment(request: Request) -> Response:
        return _page("_index.html.j2", await run_in_threadpool(_index_context, workshop))

    async def journey(request: Request) -> Response:
        context = await run_in_threadpool(_journey_context, workshop, request.path_params["name"])
        good = workshop.entry(request.path_params["name"])
        if context["entry"]["whatif"] and whatif.running and good is not None and good.good is not None:
            whatif.warm(good.good.digest, good.good.journey)  # the first change then waits for itself only
        return _page("journey.html.j2", context)

    async def _whatif_call(request: Request, action: Callable[..., Any], status: int) -> Response:
        """A what-if POST: refused unless from this page (Origin, content type), ``action`` run off the event loop
        on the body, its bad requests answered with their status."""
        refused = _refused(request)
        if refused is not None:
            return refused
        body = await request.body()
        try:
            answer = await run_in_threadpool(action, workshop, whatif, request.path_params["name"], body)
        except BadRequest as exc:
            return _json_error(str(exc), exc.status)
        except JourneymapError as exc:  # a save whose output is an input (through a link)
            return _json_error(str(exc), 400)
        return JSONResponse(answer, status_code=status)

    async def whatif_post(request: Request) -> Response:
        return await _whatif_call(request, _whatif_run, 202)

    async def whatif_job(request: Request) -> Response:
        ident = request.path_params["job"]
        job = whatif.job(ident)
        if job is None or job.name != request.path_params["name"]:
            return _json_error(f"no what-if run {ident} of {request.path_params['name']}", 404)
        return JSONResponse(job.as_dict(), headers={"Cache-Control": "no-store"})

    async def whatif_save(request: Request) -> Response:
        return await _whatif_call(request, _whatif_save, 201)

    async def journey_fragment(request: Request) -> Response:
        return _page("_journey.html.j2", await run_in_threadpool(_journey_context, workshop,
                                                                 request.path_params["name"]))

    async def present(request: Request) -> Response:
        return _page("present.html.j2", await run_in_threadpool(
            _present_context, workshop, request.path_params["name"], request.path_params.get("stage")))

    async def present_fragment(request: Request) -> Response:
        return _page("_present.html.j2", await run_in_threadpool(_present_context, workshop,
                                                                 request.path_params["name"]))

    async def events(request: Request) -> Response:
        return StreamingResponse(broadcaster.stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def not_found(request: Request, exc: Exception) -> Response:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        return _page("error.html.j2", {"status": code, "folder": workshop.folder}, status=code)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = None
        mine = None
        if simulate:
            own = executor if executor is not None else _worker_process()
            workshop.start(own.submit)
            mine = executor if executor is not None else _worker_process(WHATIF_WORKERS)
            whatif.start(mine.submit)
        stop = threading.Event()
        watcher = None
        if watch:
            watcher = threading.Thread(target=_watch, args=(workshop, stop), name="journeymap-watch", daemon=True)
            watcher.start()
        else:
            await run_in_threadpool(workshop.refresh)
        try:
            yield
        finally:
            stop.set()
            broadcaster.close()
            workshop.stop()
            whatif.stop()
            if own is not None and executor is None:
                own.shutdown(wait=False, cancel_futures=True)
            if mine is not None and executor is None:
                mine.shutdown(wait=False, cancel_futures=True)
            if watcher is not None:
                watcher.join(timeout=2)

    app = Starlette(
        routes=[Route("/", index), Route("/fragment/index", index_fragment),
                Route("/journey/{name}", journey), Route("/fragment/journey/{name}", journey_fragment),
                Route("/present/{name}", present), Route("/present/{name}/{stage}", present),
                Route("/fragment/present/{name}", present_fragment),
                Route("/events", events),
                Route("/whatif/{name}", whatif_post, methods=["POST"]),
                Route("/whatif/{name}/job/{job:int}", whatif_job),
                Route("/whatif/{name}/save", whatif_save, methods=["POST"]),
                Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
                    Middleware(BodyLimit, max_bytes=max_body), Middleware(SecurityHeaders)],
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    app.state.workshop = workshop
    app.state.broadcaster = broadcaster
    app.state.whatif = whatif
    return app


def _worker_process(workers: int = 1) -> Executor:
    """``workers`` worker processes for the simulations, started from a clean server process (``forkserver``): the
    server's threads are never forked, and a simulation never holds up the page (Python's lock)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _watch(workshop: Workshop, stop: threading.Event) -> None:
    """Read the folder now and after every save, until ``stop`` (journeymap.watch: the system's file events)."""
    from ..watch import watch

    def refresh() -> None:
        try:
            workshop.refresh()
        except Exception:  # a bug must not stop live reload: log it, keep watching
            log.exception("journeymap serve: could not read the folder again")

    while not stop.is_set():
        watch(workshop.watched, refresh, stop_event=stop)
        stop.wait(1.0)  # no file to watch yet: look again for new files in a second
