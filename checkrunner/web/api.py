"""The JSON API, ``/api/v1``: read-only views of checks, results and runs (documented in
``openapi.py``, served at ``/api/v1/openapi.json``).

Shapes follow the CLI's ``--json`` output (DESIGN.md "JSON shapes"): times are ISO-8601 with
the offset of the config's timezone; secrets are masked in every string. Errors are JSON
``{"error": "<one line>"}`` with 400 (bad parameter) or 404 (unknown check or run).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, tzinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from checkrunner.core import durations
from checkrunner.store import RunRecord
from checkrunner.web.context import web
from checkrunner.web.data import snapshot
from checkrunner.web.openapi import openapi_document
from checkrunner.web.views import Redact, check_json, iso, result_json

DEFAULT_SINCE = "24h"
DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
#: Largest id a run can have (BIGINT); a larger one is "not found", not a database error.
MAX_ID = 2**63 - 1


class BadRequest(ValueError):
    """A query parameter the API cannot use; the message is the one-line answer."""


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def parse_since(text: str, now: datetime, tz: tzinfo) -> datetime:
    """``?since=``: see :func:`checkrunner.core.durations.parse_since`; 400 when unreadable."""
    try:
        return durations.parse_since(text, now, tz)
    except ValueError as exc:
        raise BadRequest(f"since={text!r}: {exc}") from None


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadRequest(f"limit={text!r}: expected a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def run_json(run: RunRecord, tz: tzinfo, redact: Redact) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "name": run.name,
        "status": None if run.status is None else run.status.label,
        "scheduled_at": iso(run.scheduled_at, tz),
        "started_at": iso(run.started_at, tz),
        "finished_at": iso(run.finished_at, tz),
        "steps": [result_json(result, tz, redact) for result in run.results],
    }


async def checks(request: Request) -> JSONResponse:
    context = web(request)
    snap = await snapshot(context, with_runs=False)
    tz = context.config.timezone
    return JSONResponse({"checks": [check_json(view, tz, context.redact) for view in snap.checks]})


async def results(request: Request) -> JSONResponse:
    context = web(request)
    name = request.path_params["name"]
    config = context.config
    if name not in config.checks:
        return error(404, f"unknown check {name!r}")
    try:
        since = parse_since(
            request.query_params.get("since", DEFAULT_SINCE), context.clock.now(), config.timezone
        )
        limit = parse_limit(request.query_params.get("limit"))
    except BadRequest as exc:
        return error(400, str(exc))
    found = await asyncio.to_thread(context.store.history, name, since, limit)
    tz = config.timezone
    return JSONResponse([result_json(result, tz, context.redact) for result in found])


async def run(request: Request) -> JSONResponse:
    context = web(request)
    run_id: int = request.path_params["id"]
    found = None if run_id > MAX_ID else await asyncio.to_thread(context.store.get_run, run_id)
    if found is None:
        return error(404, "no such run")
    return JSONResponse(run_json(found, context.config.timezone, context.redact))


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


routes = [
    Route("/api/v1/checks", checks, methods=["GET"]),
    Route("/api/v1/checks/{name}/results", results, methods=["GET"]),
    Route("/api/v1/runs/{id:int}", run, methods=["GET"]),
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
]
