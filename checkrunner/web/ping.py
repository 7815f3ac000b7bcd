"""Heartbeat pings: ``GET|HEAD|POST /ping/{name}[/start|/fail|/{exit_code}]``.

The key comes as ``?key=`` or the ``X-Ping-Key`` header. It is the heartbeat check's ``key``
option, or, when that is empty, a key generated once and stored in the database
(``ping-key:<name>`` setting), so it stays the same across restarts and across daemons
sharing one database. ``checkrunner ping-url NAME`` prints the URL with it (:func:`ping_key`).

A wrong or missing key answers **404, the same as an unknown check**: this endpoint is open
to the network (a cron job must not hold the admin token), and a 401 for known names would
let anyone enumerate which heartbeats exist. Keys are compared in constant time.

A recorded ping re-evaluates the check at once (in the background), so a late heartbeat turns
green, or a reported failure turns critical, without waiting for the next minute's watch.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from checkrunner.config import Config
from checkrunner.config.model import Server
from checkrunner.config.spec import CheckSpec
from checkrunner.store import Store
from checkrunner.web.auth import same
from checkrunner.web.context import web

log = logging.getLogger("checkrunner.web.ping")

#: Compared against when the check is unknown, so both 404s take the same time.
_DUMMY_KEY = secrets.token_urlsafe(24)
_METHODS = ["GET", "HEAD", "POST"]


def is_heartbeat(spec: CheckSpec | None) -> bool:
    return spec is not None and spec.plugin.needs_pings


def ping_key(config: Config, store: Store, name: str) -> str:
    """The ping key of heartbeat check ``name``: its ``key`` option, or the stored generated
    one (created on first use). Registers it with the config's redactor so it is masked in
    every log line. Blocking (database): call it in a thread from the event loop."""
    spec = config.checks[name]
    configured = str(getattr(spec.options, "key", "") or "")
    key = configured or store.get_or_create_setting(f"ping-key:{name}", lambda: secrets.token_urlsafe(24))
    config.redactor.add(key)
    return key


def ping_url(server: Server, name: str, key: str) -> str:
    """The full ping URL of ``name``: base ``server.public_url``, else ``http://<listen>``."""
    base = server.public_url or f"http://{server.listen}"
    return f"{base.rstrip('/')}/ping/{quote(name, safe='')}?key={quote(key, safe='')}"


def _not_found() -> Response:
    return PlainTextResponse("404 not found\n", status_code=404)


async def _ping(request: Request, kind: str, exit_code: int | None = None) -> Response:
    context = web(request)
    name = request.path_params["name"]
    given = request.query_params.get("key") or request.headers.get("x-ping-key") or ""
    config = context.config
    spec = config.checks.get(name)
    if not is_heartbeat(spec):
        same(given, _DUMMY_KEY)
        return _not_found()
    expected = await asyncio.to_thread(ping_key, config, context.store, name)
    if not given or not same(given, expected):
        log.info("ping refused check=%s reason=wrong-or-missing-key", name)
        return _not_found()
    at = context.clock.now()
    await asyncio.to_thread(context.store.record_ping, name, kind, at, exit_code)
    log.info("ping check=%s kind=%s exit_code=%s", name, kind, "-" if exit_code is None else exit_code)
    context.spawn(context.engine.run_checks([name], job="ping"), f"evaluation of {name} after a ping")
    return PlainTextResponse("OK\n", headers={"Cache-Control": "no-store"})


async def success(request: Request) -> Response:
    return await _ping(request, "success")


async def start(request: Request) -> Response:
    return await _ping(request, "start")


async def fail(request: Request) -> Response:
    return await _ping(request, "fail")


async def exit_status(request: Request) -> Response:
    code: int = request.path_params["code"]
    if code > 255:
        return _not_found()
    return await _ping(request, "success" if code == 0 else "fail", code)


routes = [
    Route("/ping/{name}", success, methods=_METHODS),
    Route("/ping/{name}/start", start, methods=_METHODS),
    Route("/ping/{name}/fail", fail, methods=_METHODS),
    Route("/ping/{name}/{code:int}", exit_status, methods=_METHODS),
]
