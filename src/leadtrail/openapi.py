"""GET /openapi.json: the JSON API as the server really accepts and answers it, assembled from the
schemas of contract.py (no limit is written here)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import contract as c
from .web import json_response


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/Error"}, description)


_INGEST_ERRORS = {
    "400": _error("malformed or invalid; nothing stored"),
    "403": _error("origin not allowed; nothing stored"),
    "413": _error("body too large; nothing stored"),
    "415": _error("wrong content type; nothing stored"),
    "429": _error("too many requests; see Retry-After"),
    "503": _error("storage unavailable; see Retry-After"),
}
_API_ERRORS = {
    "401": _error("no token, or an unknown or revoked one (Authorization: Bearer <token>)"),
    "503": _error("storage unavailable; see Retry-After"),
}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _query(params: dict[str, tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
        for name, (schema, description) in params.items()
    ]


_JOURNEY_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_TRACK_BODY_REF = {"$ref": "#/components/schemas/TrackBody"}


def build_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "leadtrail",
            "version": "2",
            "description": "First-party analytics ingest, enquiry promotion, and the API for integrations.",
        },
        "components": {
            "schemas": {
                "Event": c.EVENT,
                "TrackBody": c.TRACK_BODY,
                "Touch": c.TOUCH,
                "PromoteBody": c.PROMOTE_BODY,
                "Promoted": c.PROMOTED,
                "Error": c.ERROR,
                "OutcomeBody": c.OUTCOME_BODY,
                "Outcome": c.OUTCOME,
                "Journey": c.JOURNEY,
                "JourneyPage": c.JOURNEY_PAGE,
                "Insights": c.INSIGHTS,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a token from `leadtrail token create`"}
            },
        },
        "paths": {
            "/api/track": {
                "post": {
                    "summary": f"Record one event or a batch of 1-{c.MAX_BATCH} events",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _TRACK_BODY_REF},
                            "text/plain": {"schema": _TRACK_BODY_REF},
                        },
                    },
                    "responses": {
                        "204": {"description": "every event committed (or a bot / GPC request ignored)"},
                        **_INGEST_ERRORS,
                    },
                }
            },
            "/api/track/promote": {
                "post": {
                    "summary": "Link this visitor's recent events to the e-mail address they submitted",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PromoteBody"}}},
                    },
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Promoted"}, "journey created"),
                        "200": _json(
                            {"$ref": "#/components/schemas/Promoted"},
                            "same visitor and address within 10 minutes: journey refreshed",
                        ),
                        **_INGEST_ERRORS,
                    },
                }
            },
            "/api/v1/journeys": {
                "get": {
                    "summary": f"Journeys, newest first, at most {c.MAX_PAGE} a page, without the full timeline",
                    "security": _BEARER,
                    "parameters": _query(c.JOURNEYS_QUERY),
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/JourneyPage"}, "one page"),
                        "400": _error("a query parameter is invalid"),
                        **_API_ERRORS,
                    },
                }
            },
            "/api/v1/journeys/{id}": {
                "get": {
                    "summary": "One journey as exported, timeline included",
                    "security": _BEARER,
                    "parameters": [_JOURNEY_ID],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Journey"}, "the journey"),
                        "404": _error("no such journey"),
                        **_API_ERRORS,
                    },
                }
            },
            "/api/v1/journeys/{id}/outcome": {
                "post": {
                    "summary": "Set a journey's status and value",
                    "security": _BEARER,
                    "parameters": [_JOURNEY_ID],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OutcomeBody"}}},
                    },
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Outcome"}, "the journey's status, value, currency"),
                        "400": _error("not a valid outcome; nothing changed"),
                        "404": _error("no such journey"),
                        "413": _error("body too large"),
                        "415": _error("send application/json"),
                        **_API_ERRORS,
                    },
                }
            },
            "/api/v1/insights": {
                "get": {
                    "summary": "Visits, enquiries and conversion rates by channel, landing page, page and day",
                    "security": _BEARER,
                    "parameters": _query(c.INSIGHTS_QUERY),
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Insights"}, "the figures, spam left out"),
                        "400": _error("a query parameter is invalid"),
                        **_API_ERRORS,
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


DOCUMENT = build_document()


async def openapi_json(request: Request) -> Response:
    return json_response(DOCUMENT)


def routes() -> list[Route]:
    return [Route("/openapi.json", openapi_json, methods=["GET"])]
