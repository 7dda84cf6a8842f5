"""Live reload: changes heard in any thread, pushed to every open page as server-sent events.

The file watcher and the background simulations run in threads of their own; each open page holds one
``GET /events`` stream, served by the event loop. :class:`Broadcaster` hands a change from the first to
the second with :meth:`asyncio.AbstractEventLoop.call_soon_threadsafe`, one queue per page, so a page
hears of a save as soon as the watcher does (no polling). The page then fetches its content again
(``serve.js``); an event carries only the names of the files that changed, never their text.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator

__all__ = ["Broadcaster", "KEEPALIVE_SECONDS"]

#: A comment line this often keeps proxies and the browser from closing an idle stream.
KEEPALIVE_SECONDS = 15.0


class Broadcaster:
    """Fan changes out to the event streams of the open pages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[list[str] | None]]] = set()
        self.version = 0

    def publish(self, names: list[str]) -> None:
        """Tell every open page that ``names`` changed; safe to call from any thread."""
        with self._lock:
            self.version += 1
            queues = list(self._queues)
        for loop, queue in queues:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, list(names))
            except RuntimeError:  # that page's loop has closed
                pass

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        with self._lock:
            queues = list(self._queues)
        for loop, queue in queues:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except RuntimeError:
                pass

    @property
    def listeners(self) -> int:
        """How many pages are listening."""
        with self._lock:
            return len(self._queues)

    async def stream(self) -> AsyncIterator[str]:
        """One page's ``text/event-stream``: a ``hello`` event, then a ``change`` event per change."""
        queue: asyncio.Queue[list[str] | None] = asyncio.Queue()
        member = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._queues.add(member)
            version = self.version
        try:
            yield f"event: hello\ndata: {json.dumps({'version': version})}\n\n"
            while True:
                try:
                    names = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if names is None:
                    return
                yield f"event: change\ndata: {json.dumps({'files': names, 'version': self.version})}\n\n"
        finally:
            with self._lock:
                self._queues.discard(member)
