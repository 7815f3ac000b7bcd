"""Request guards (pure ASGI middleware): a bounded request body and a query-free access log.

* :class:`BodyLimit` reads at most ``limit`` bytes of a request body before the app sees it;
  a larger body (declared or streamed) is answered ``413`` and never buffered whole.
* :class:`AccessLog` logs one line per request, ``method``, ``path`` (never the query string:
  ping keys travel there), status and duration. uvicorn's own access log is off.
"""

from __future__ import annotations

import logging
import time

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("checkrunner.web.access")

QUIET_PATHS = frozenset({"/healthz", "/metrics"})


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        try:
            if declared is not None and declared > self.limit:
                raise _TooLarge
            body = await self._read(receive)
        except _TooLarge:
            response = PlainTextResponse(
                f"413 request body larger than {self.limit} bytes\n", status_code=413
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # http.disconnect, when the client goes away

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            # Scrapes and probes every few seconds would drown the log: debug unless they fail.
            quiet = scope["path"] in QUIET_PATHS and 0 < status < 400
            log.log(
                logging.DEBUG if quiet else logging.INFO,
                "http method=%s path=%s status=%d ms=%.1f client=%s",
                scope["method"],
                scope["path"],  # the path only: the query string may hold a ping key
                status,
                (time.perf_counter() - started) * 1000,
                client[0] if client else "-",
            )
