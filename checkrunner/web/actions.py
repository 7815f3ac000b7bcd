"""Acting from the API and the status page: incidents, acknowledgements, silences.

::

    GET    /api/v1/incidents                  open incidents (``?all=1``: the latest 100 of any state)
    POST   /api/v1/checks/{name}/ack          acknowledge the check's open incident ({"by"})
    GET    /api/v1/silences                   silences in force
    POST   /api/v1/silences                   {"target", "for": "2h" | "until": ISO, "reason", "by"}
    DELETE /api/v1/silences/{id}              end a silence early
    POST   /api/v1/silences/{id}/delete       the same, for an HTML form (forms cannot DELETE)

Bodies are JSON or an HTML form (``application/x-www-form-urlencoded``, parsed here: no
multipart). A form post is the status page's buttons: it answers ``303`` back to ``/``.

Cross-site requests are refused (403): a browser that holds the Basic credentials would
otherwise let any web page post a silence. A request is same-site when its ``Origin`` (sent by
browsers on every POST) is this server, or, without ``Origin``, when ``Sec-Fetch-Site`` is
absent, ``same-origin`` or ``none``; API clients such as curl send neither.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from checkrunner.alerting.silences import parse_target
from checkrunner.core.durations import parse_duration
from checkrunner.store import IncidentRecord
from checkrunner.web.api import MAX_ID, BadRequest, error
from checkrunner.web.context import web
from checkrunner.web.views import Redact, iso

#: The longest silence the API sets (a forgotten silence hides real problems).
MAX_SILENCE = timedelta(days=90)
REASON_MAX = 500
BY_MAX = 200


def incident_json(incident: IncidentRecord, tz: Any, redact: Redact) -> dict[str, Any]:
    return {
        "id": incident.id,
        "check": incident.check,
        "status": incident.status.label,
        "peak": incident.peak.label,
        "opened_at": iso(incident.opened_at, tz),
        "resolved_at": iso(incident.resolved_at, tz),
        "acknowledged_at": iso(incident.acknowledged_at, tz),
        "acknowledged_by": incident.acknowledged_by,
        "suppressed_by": None if incident.suppressed_by is None else redact(incident.suppressed_by),
    }


def same_site(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and urlsplit(origin).netloc == request.headers.get("host", "")
    return request.headers.get("sec-fetch-site", "none") in ("same-origin", "none")


async def _fields(request: Request) -> tuple[dict[str, str], bool]:
    """The request's fields and whether they came from an HTML form. BadRequest when unreadable."""
    body = await request.body()  # bounded by BodyLimit
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}, True
    if not body.strip():
        return {}, False
    try:
        data = json.loads(body)
    except ValueError:
        raise BadRequest("the body is not JSON (or an HTML form)") from None
    if not isinstance(data, dict) or not all(isinstance(v, str | None) for v in data.values()):
        raise BadRequest('the body must be a JSON object of strings, e.g. {"target": "api-*", "for": "2h"}')
    return {k: v for k, v in data.items() if v is not None}, False


def _done(form: bool, body: dict[str, Any], status: int = 200) -> Response:
    return RedirectResponse("/", status_code=303) if form else JSONResponse(body, status_code=status)


async def incidents(request: Request) -> JSONResponse:
    context = web(request)
    everything = request.query_params.get("all") in ("1", "true")
    found = await asyncio.to_thread(context.store.incidents, open_only=not everything, limit=100)
    tz = context.config.timezone
    return JSONResponse({"incidents": [incident_json(i, tz, context.redact) for i in found]})


async def acknowledge(request: Request) -> Response:
    context = web(request)
    if not same_site(request):
        return error(403, "cross-site request refused")
    name = request.path_params["name"]
    if name not in context.config.checks:
        return error(404, f"unknown check {name!r}")
    try:
        fields, form = await _fields(request)
    except BadRequest as exc:
        return error(400, str(exc))
    by = (fields.get("by") or "web")[:BY_MAX]
    incident = await asyncio.to_thread(context.store.acknowledge, name, context.clock.now(), by)
    if incident is None:
        return error(409, f"{name} has no open incident to acknowledge")
    return _done(form, {"acknowledged": incident, "check": name, "by": by})


def silence_fields(fields: dict[str, str], now: datetime, tz: Any) -> tuple[str, datetime, str]:
    """(target, until, reason) from a request; BadRequest naming the field when invalid."""
    try:
        target = parse_target(fields.get("target", ""))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if fields.get("for"):
        try:
            until = now + parse_duration(fields["for"])
        except ValueError as exc:
            raise BadRequest(f"for: {exc}") from None
    elif fields.get("until"):
        try:
            until = datetime.fromisoformat(fields["until"])
        except ValueError:
            raise BadRequest(f"until={fields['until']!r}: expected an ISO date-time") from None
        until = until if until.tzinfo else until.replace(tzinfo=tz)
    else:
        raise BadRequest('give "for" (a duration such as 2h) or "until" (an ISO date-time)')
    if not now < until <= now + MAX_SILENCE:
        raise BadRequest(f"a silence must end after now and within {MAX_SILENCE.days} days")
    return target, until, " ".join(fields.get("reason", "").split())[:REASON_MAX]


async def add_silence(request: Request) -> Response:
    context = web(request)
    if not same_site(request):
        return error(403, "cross-site request refused")
    now = context.clock.now()
    tz = context.config.timezone
    try:
        fields, form = await _fields(request)
        target, until, reason = silence_fields(fields, now, tz)
    except BadRequest as exc:
        return error(400, str(exc))
    by = (fields.get("by") or "web")[:BY_MAX]
    silence_id = await asyncio.to_thread(context.store.add_silence, target, until, reason, now, by)
    body = {"id": silence_id, "target": target, "until": iso(until, tz), "reason": reason}
    return _done(form, body, status=201)


async def silences(request: Request) -> JSONResponse:
    context = web(request)
    found = await asyncio.to_thread(context.store.silences, context.clock.now())
    tz = context.config.timezone
    return JSONResponse(
        [{"id": s.id, "target": s.target, "until": iso(s.until, tz), "reason": s.reason} for s in found]
    )


async def remove_silence(request: Request) -> Response:
    context = web(request)
    if not same_site(request):
        return error(403, "cross-site request refused")
    silence_id: int = request.path_params["id"]
    form = request.method == "POST"
    removed = silence_id <= MAX_ID and await asyncio.to_thread(
        context.store.remove_silence, silence_id, context.clock.now()
    )
    if not removed:
        return error(404, "no such silence in force")
    return RedirectResponse("/", status_code=303) if form else Response(status_code=204)


routes = [
    Route("/api/v1/incidents", incidents, methods=["GET"]),
    Route("/api/v1/checks/{name}/ack", acknowledge, methods=["POST"]),
    Route("/api/v1/silences", silences, methods=["GET"]),
    Route("/api/v1/silences", add_silence, methods=["POST"]),
    Route("/api/v1/silences/{id:int}", remove_silence, methods=["DELETE"]),
    Route("/api/v1/silences/{id:int}/delete", remove_silence, methods=["POST"]),
]
