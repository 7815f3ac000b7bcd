"""The OpenAPI 3.1 document of ``/api/v1`` and ``/ping``, written by hand from one small table
(a test checks that every documented path is served and every served API path documented)."""

from __future__ import annotations

from typing import Any

from checkrunner import __version__

_TIME = {"type": "string", "format": "date-time", "description": "ISO-8601 with offset"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_STATUS = {"type": "string", "enum": ["ok", "warning", "critical", "unknown"]}

SCHEMAS: dict[str, Any] = {
    "Result": {
        "type": "object",
        "properties": {
            "check": {"type": "string"},
            "status": _STATUS,
            "value": {"type": ["number", "null"]},
            "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
            "latency_ms": {"type": "number"},
            "summary": {"type": "string"},
            "detail": {"type": ["string", "null"]},
            "threshold": {"type": ["string", "null"]},
            "started_at": _TIME,
            "run_id": {"type": ["integer", "null"]},
        },
    },
    "Check": {
        "type": "object",
        "properties": {
            "check": {"type": "string"},
            "type": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "state": {"type": "string", "enum": ["pending", "soft", "hard"]},
            "status": {"type": ["string", "null"], "description": "hard status; null while pending"},
            "since": _NULLABLE_TIME,
            "last_result": {"oneOf": [{"$ref": "#/components/schemas/Result"}, {"type": "null"}]},
            "age_seconds": {"type": ["number", "null"]},
            "uptime": {
                "type": "object",
                "description": "percent of ok results in the last 24h, 7d and 30d (null: no result)",
                "properties": {w: {"type": ["number", "null"]} for w in ("24h", "7d", "30d")},
            },
            "silenced": {"type": "boolean"},
            "acknowledged": {"type": "boolean"},
        },
    },
    "Run": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["checklist", "monitor", "check"]},
            "name": {"type": "string"},
            "status": {"type": ["string", "null"]},
            "scheduled_at": _NULLABLE_TIME,
            "started_at": _TIME,
            "finished_at": _NULLABLE_TIME,
            "steps": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
        },
    },
    "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
    "Incident": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "check": {"type": "string"},
            "status": _STATUS,
            "peak": _STATUS,
            "opened_at": _TIME,
            "resolved_at": _NULLABLE_TIME,
            "acknowledged_at": _NULLABLE_TIME,
            "acknowledged_by": {"type": ["string", "null"]},
            "suppressed_by": {"type": ["string", "null"]},
        },
    },
    "Silence": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "target": {"type": "string", "description": "a check name, tag:NAME or a glob"},
            "until": _TIME,
            "reason": {"type": "string"},
        },
    },
    "NewSilence": {
        "type": "object",
        "required": ["target"],
        "description": 'give "for" or "until"; at most 90 days',
        "properties": {
            "target": {"type": "string"},
            "for": {"type": "string", "description": "a duration such as 2h"},
            "until": {"type": "string", "format": "date-time"},
            "reason": {"type": "string"},
            "by": {"type": "string"},
        },
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_NOT_FOUND = _json(_ref("Error"), "unknown name or id")
_CROSS_SITE = _json(_ref("Error"), "cross-site request refused")


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    media = {"schema": schema}
    return {"content": {"application/json": media, "application/x-www-form-urlencoded": media}}


_KEY = [
    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
    {"name": "key", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "X-Ping-Key", "in": "header", "required": False, "schema": {"type": "string"}},
]
_PING_RESPONSES = {"200": {"description": "recorded"}, "404": {"description": "unknown check or wrong key"}}


def _ping(summary: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    op = {
        "summary": summary,
        "security": [],
        "parameters": _KEY + (extra or []),
        "responses": _PING_RESPONSES,
    }
    return {"get": op, "head": op, "post": op}


PATHS: dict[str, Any] = {
    "/api/v1/checks": {
        "get": {
            "summary": "Every configured check with its state, last result and uptime",
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"checks": {"type": "array", "items": _ref("Check")}}}
                )
            },
        }
    },
    "/api/v1/checks/{name}/results": {
        "get": {
            "summary": "Results of one check, newest first",
            "parameters": [
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "since",
                    "in": "query",
                    "schema": {"type": "string", "default": "24h"},
                    "description": "a duration back from now (24h, 7d) or an ISO date",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "default": 500, "maximum": 5000},
                },
            ],
            "responses": {
                "200": _json({"type": "array", "items": _ref("Result")}),
                "400": _json(_ref("Error"), "bad parameter"),
                "404": _NOT_FOUND,
            },
        }
    },
    "/api/v1/runs/{id}": {
        "get": {
            "summary": "One checklist or monitor run with its step results",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": _json(_ref("Run")), "404": _NOT_FOUND},
        }
    },
    "/api/v1/incidents": {
        "get": {
            "summary": "Open incidents (all=1: the latest 100 of any state)",
            "parameters": [{"name": "all", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}}],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"incidents": {"type": "array", "items": _ref("Incident")}},
                    }
                )
            },
        }
    },
    "/api/v1/checks/{name}/ack": {
        "post": {
            "summary": "Acknowledge the check's open incident: no reminders or escalation until it recovers",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": _body({"type": "object", "properties": {"by": {"type": "string"}}}),
            "responses": {
                "200": {"description": "acknowledged (a form post: 303 to /)"},
                "404": _NOT_FOUND,
                "409": _json(_ref("Error"), "no open incident"),
                "403": _CROSS_SITE,
            },
        }
    },
    "/api/v1/silences": {
        "get": {
            "summary": "Silences in force",
            "responses": {"200": _json({"type": "array", "items": _ref("Silence")})},
        },
        "post": {
            "summary": "Silence a check, a tag or a glob",
            "requestBody": _body(_ref("NewSilence")),
            "responses": {
                "201": _json(_ref("Silence"), "created (a form post: 303 to /)"),
                "400": _json(_ref("Error"), "bad field"),
                "403": _CROSS_SITE,
            },
        },
    },
    "/api/v1/silences/{id}": {
        "delete": {
            "summary": "End a silence now",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"204": {"description": "ended"}, "404": _NOT_FOUND, "403": _CROSS_SITE},
        }
    },
    "/api/v1/silences/{id}/delete": {
        "post": {
            "summary": "End a silence now (for HTML forms, which cannot send DELETE); 303 to /",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"303": {"description": "ended"}, "404": _NOT_FOUND, "403": _CROSS_SITE},
        }
    },
    "/ping/{name}": _ping("Heartbeat success"),
    "/ping/{name}/start": _ping("Heartbeat: a run started"),
    "/ping/{name}/fail": _ping("Heartbeat: the run failed"),
    "/ping/{name}/{exit_code}": _ping(
        "Heartbeat with the job's exit code (0 = success, anything else = failure)",
        [
            {
                "name": "exit_code",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "maximum": 255},
            }
        ],
    ),
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "checkrunner",
            "version": __version__,
            "description": "Status, results and heartbeat pings of a checkrunner daemon. With "
            "server.token set, every path but /healthz and /ping needs the token (Bearer, or "
            "the password of HTTP Basic auth).",
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
        "security": [{"bearer": []}, {"basic": []}],
        "paths": PATHS,
    }
