"""HTML pages: the status page (``GET /``) and one run (``GET /runs/{id}``).

Templates come from the one Jinja environment (``checkrunner.templating``: the user's
templates folder first, autoescaping on for ``.html``), so a user can restyle the page by
dropping a ``status.html.j2`` of their own. The rendered page passes through the redactor as
a last guard; the values were already redacted when the views were built.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from checkrunner.core.status import Status
from checkrunner.templating import make_environment
from checkrunner.web.api import MAX_ID
from checkrunner.web.context import WebContext, web
from checkrunner.web.data import snapshot
from checkrunner.web.views import WINDOWS, age_text

#: Seconds between the page's own refreshes (``<meta http-equiv=refresh>``).
REFRESH = 30
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@functools.lru_cache(maxsize=8)
def _environment(templates_dir: Path | None, tz: ZoneInfo) -> jinja2.Environment:
    # One environment per (folder, zone): it caches compiled templates, and a reload that
    # changes neither keeps the cache.
    return make_environment(templates_dir, tz)


def render_page(context: WebContext, name: str, **values: Any) -> HTMLResponse:
    config = context.config
    html = _environment(config.templates_dir, config.timezone).get_template(name).render(**values)
    return HTMLResponse(context.redact(html), headers=_HEADERS)


async def status_page(request: Request) -> Response:
    context = web(request)
    snap = await snapshot(context)
    counts = {label: 0 for label in ("ok", "warning", "critical", "unknown", "pending")}
    for view in snap.checks:
        counts[view.label] += 1
    counts["problems"] = sum(counts[s.label] for s in (Status.WARNING, Status.CRITICAL, Status.UNKNOWN))
    return render_page(
        context,
        "status.html.j2",
        now=snap.now,
        refresh=REFRESH,
        counts=counts,
        checks=snap.checks,
        windows=list(WINDOWS),
        next_runs=snap.next_runs,
        runs=snap.runs,
        incidents=snap.incidents,
        silences=snap.silences,
        channels=snap.channels,
        age=age_text,
    )


async def run_page(request: Request) -> Response:
    context = web(request)
    run_id: int = request.path_params["id"]
    run = None if run_id > MAX_ID else await asyncio.to_thread(context.store.get_run, run_id)
    if run is None:
        return PlainTextResponse("404 no such run\n", status_code=404)
    checklist = context.config.checklists.get(run.name) if run.kind == "checklist" else None
    title = (checklist.title if checklist else None) or run.name
    steps = [
        dataclasses.replace(
            r, summary=context.redact(r.summary), detail=r.detail and context.redact(r.detail)
        )
        for r in run.results
    ]
    return render_page(context, "web/run.html.j2", run=run, title=title, steps=steps, refresh=None)


routes = [
    Route("/", status_page, methods=["GET"]),
    Route("/runs/{id:int}", run_page, methods=["GET"]),
]
