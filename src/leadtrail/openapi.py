"""GET /openapi.json: the JSON API as the server really accepts and answers it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .promote import EMAIL_PATTERN
from .web import json_response

# The rules of ingest.py and promote.py, as JSON Schema (OpenAPI 3.1 takes JSON Schema 2020-12).
_NO_NUL = "^[^\x00]*$"
_NAME = {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"}
_SCALAR = {
    "anyOf": [
        {"type": "string", "maxLength": 1000, "pattern": _NO_NUL},
        # Any JSON number (integers past 64 bits are kept as the nearest float); only a literal too
        # large for a double (over 300 digits) is refused, a bound JSON Schema cannot state exactly.
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
    ]
}
EVENT = {
    "type": "object",
    "required": ["event_name"],
    "not": {"required": ["events"]},
    "properties": {
        "event_name": _NAME,
        "page_path": {"type": ["string", "null"], "maxLength": 2048, "pattern": "^/[^\x00]*$"},
        "params": {
            "type": ["object", "null"],
            "maxProperties": 50,
            "additionalProperties": _SCALAR,
            "propertyNames": {"minLength": 1, "maxLength": 64, "pattern": _NO_NUL},
        },
        "event_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 64, "pattern": _NO_NUL},
        "ts": {
            "type": ["integer", "null"],
            "description": "client clock, milliseconds since the epoch; a time outside the years 2000-2100 "
            "(a visitor's clock gone wrong) is ignored and the event kept",
        },
    },
}
ERROR = {
    "type": "object",
    "required": ["error", "details"],
    "properties": {"error": {"type": "string"}, "details": {"type": "array", "items": {"type": "string"}}},
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


_ERRORS = {
    "400": _error("malformed or invalid; nothing stored"),
    "403": _error("origin not allowed; nothing stored"),
    "413": _error("body too large; nothing stored"),
    "415": _error("wrong content type; nothing stored"),
    "429": _error("too many requests; see Retry-After"),
    "503": _error("storage unavailable; see Retry-After"),
}
TRACK_BODY = {
    "anyOf": [
        EVENT,
        {
            "type": "object",
            "required": ["events"],
            "not": {"required": ["event_name"]},
            "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 50, "items": EVENT}},
        },
    ]
}
PROMOTE_BODY = {
    "type": "object",
    "required": ["email"],
    "properties": {
        "email": {
            "type": "string",
            "maxLength": 254,
            "pattern": EMAIL_PATTERN,
            "description": "compared case-insensitively; stored trimmed and lower-cased",
        },
        "client_events": {
            "type": ["array", "null"],
            "maxItems": 500,
            "items": {},
            "description": "the tracker's buffer; invalid items are dropped, not refused",
        },
        "form": {"type": ["string", "null"], "maxLength": 100, "pattern": _NO_NUL},
        "consent": {"type": ["boolean", "null"]},
    },
}
PROMOTED = {
    "type": "object",
    "required": ["journey_id", "server_events", "client_events"],
    "properties": {
        "journey_id": {"type": "integer"},
        "server_events": {"type": "integer"},
        "client_events": {"type": "integer"},
        "client_events_dropped": {"type": "integer"},
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "leadtrail",
        "version": "1",
        "description": "First-party analytics ingest and enquiry promotion.",
    },
    "paths": {
        "/api/track": {
            "post": {
                "summary": "Record one event or a batch of 1-50 events",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": TRACK_BODY}, "text/plain": {"schema": TRACK_BODY}},
                },
                "responses": {
                    "204": {"description": "every event committed (or a bot / GPC request ignored)"},
                    **_ERRORS,
                },
            }
        },
        "/api/track/promote": {
            "post": {
                "summary": "Link this visitor's recent events to the e-mail address they submitted",
                "requestBody": {"required": True, "content": {"application/json": {"schema": PROMOTE_BODY}}},
                "responses": {
                    "201": {"description": "journey created", "content": {"application/json": {"schema": PROMOTED}}},
                    "200": {
                        "description": "same visitor and address within 10 minutes: journey refreshed",
                        "content": {"application/json": {"schema": PROMOTED}},
                    },
                    **_ERRORS,
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Database health",
                "responses": {"200": {"description": "ok"}, "503": {"description": "database unavailable"}},
            }
        },
    },
}


async def openapi_json(request: Request) -> Response:
    return json_response(DOCUMENT)


def routes() -> list[Route]:
    return [Route("/openapi.json", openapi_json, methods=["GET"])]
