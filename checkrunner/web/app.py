"""The web surface as one Starlette application (``create_app``).

Routes::

    GET  /healthz                      liveness for Docker, systemd and load balancers (open)
    GET  /metrics                      Prometheus text format
    GET  /                             status page (HTML, no JavaScript, refreshes itself)
    GET  /runs/{id}                    one checklist run (HTML)
    GET  /api/v1/...                   JSON API (see openapi.py)
    POST /api/v1/checks/{name}/ack, /api/v1/silences …   acting (actions.py)
    GET|HEAD|POST /ping/{name}[/...]   heartbeat pings (open; the check's ping key)

Middleware, outermost first: access log (paths only, never query strings), token auth
(everything but /healthz and /ping), request body limit (413).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from checkrunner.core.errors import StoreError
from checkrunner.store import Store
from checkrunner.web import actions, api, pages, ping
from checkrunner.web.auth import TokenAuth
from checkrunner.web.context import WebContext, web
from checkrunner.web.guards import AccessLog, BodyLimit
from checkrunner.web.health import healthz
from checkrunner.web.metrics import CONTENT_TYPE

log = logging.getLogger("checkrunner.web")


async def metrics(request: Request) -> Response:
    context = web(request)
    try:
        # Read at scrape time: the database is the truth shared by every daemon on it.
        pending, incidents = await asyncio.to_thread(_store_gauges, context.store)
        context.metrics.outbox_depth(pending)
        context.metrics.incidents_open(incidents)
    except StoreError as exc:
        log.warning("metrics: cannot read outbox and incident counts: %s", context.redact(str(exc)))
    return Response(context.metrics.render(), media_type=CONTENT_TYPE)


def _store_gauges(store: Store) -> tuple[int, int]:
    return store.outbox_pending(), store.count_open_incidents()


async def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("404 not found\n", status_code=404)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("405 method not allowed\n", status_code=405)


def create_app(context: WebContext) -> Starlette:
    """The ASGI app serving ``context`` (its engine's current config, store and clock)."""
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *pages.routes,
        *api.routes,
        *actions.routes,
        *ping.routes,
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(AccessLog),
            Middleware(TokenAuth, token=lambda: context.config.document.server.token),
            Middleware(BodyLimit, limit=context.max_body),
        ],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
    app.state.web = context
    return app
