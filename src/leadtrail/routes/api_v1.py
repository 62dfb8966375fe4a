"""/api/v1/: the API for integrations (CRMs, Zapier/n8n steps). Bearer tokens; JSON in and out;
the shapes are contract.py's. Each handler parses, calls one store or pure function, answers."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import contract, outcomes
from ..export import export_journey
from ..ingest import IngestError, load_json
from ..localtime import local_date
from ..services import Services
from ..settings import Settings
from ..store import StoreUnavailable, utcnow
from ..totals import load_insights
from ..web import HTTPProblem, json_response, media_type, problem_response, read_body

Handler = Callable[[Request, Services], Awaitable[Response]]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
DEFAULT_INSIGHT_DAYS = 30


def _query(request: Request, allowed: dict[str, Any]) -> dict[str, str]:
    unknown = [name for name in request.query_params if name not in allowed]
    if unknown:
        raise HTTPProblem(
            400, "invalid query", [f"{name}: not a parameter of this route ({', '.join(allowed)})" for name in unknown]
        )
    return {name: request.query_params[name] for name in allowed if name in request.query_params}


def _since(raw: str | None) -> datetime:
    if raw is None:
        return EPOCH
    try:
        at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace(" ", "+"))
        return at.replace(tzinfo=at.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):  # 0001-01-01T00:00+01:00 is before the first UTC instant
        raise HTTPProblem(
            400, "invalid query", ["since: must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z"]
        ) from None


def encode_cursor(created_at: str, journey_id: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at}|{journey_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """(created_at, id) of a cursor encode_cursor made; a 400 for anything else (it must encode back
    to itself: no other spelling of the time or the id, no bytes after them)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, raw_id = text.partition("|")
        journey_id = contract.whole_number(raw_id)
        if journey_id is None or not 0 < journey_id <= contract.MAX_ID or not at.isprintable():
            raise ValueError(cursor)
        if encode_cursor(at, journey_id) != cursor:
            raise ValueError(cursor)
        return datetime.fromisoformat(at).astimezone(UTC), journey_id
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise HTTPProblem(400, "invalid query", ["cursor: use next_cursor from the previous page as it is"]) from None


def _limit(raw: str | None) -> int:
    if raw is None:
        return contract.MAX_PAGE
    limit = contract.whole_number(raw, 3)
    if limit is None or not 1 <= limit <= contract.MAX_PAGE:
        raise HTTPProblem(400, "invalid query", [f"limit: must be a whole number from 1 to {contract.MAX_PAGE}"])
    return limit


def _status(raw: str | None) -> str | None:
    if raw is not None and raw not in contract.STATUSES:
        raise HTTPProblem(400, "invalid query", [f"status: {contract.STATUS_RULE}"])
    return raw


async def list_journeys(request: Request, services: Services) -> Response:
    query = _query(request, contract.JOURNEYS_QUERY)
    since, limit, status = _since(query.get("since")), _limit(query.get("limit")), _status(query.get("status"))
    cursor_at, cursor_id = decode_cursor(query["cursor"]) if "cursor" in query else (FAR_FUTURE, contract.MAX_ID)
    store = services.store
    rows = await store.fetch(
        "api_journeys_page",
        since=since,
        any_status=status is None,
        status=status or "",
        cursor_at=cursor_at,
        cursor_id=cursor_id,
        limit=limit + 1,
    )
    journeys = [export_journey(store.journey_out(row), timeline=False) for row in rows[:limit]]
    more = len(rows) > limit
    next_cursor = encode_cursor(journeys[-1]["created_at"], journeys[-1]["id"]) if more and journeys else None
    return json_response({"journeys": journeys, "next_cursor": next_cursor})


def _journey_id(request: Request) -> int:
    raw = request.path_params["id"]
    journey_id = contract.whole_number(raw)
    if journey_id is None or not 0 < journey_id <= contract.MAX_ID:
        raise HTTPProblem(404, "no such journey", [f"id: {raw[:20]!r} is not a journey id"])
    return journey_id


async def get_journey(request: Request, services: Services) -> Response:
    journey_id = _journey_id(request)
    rows = await services.store.fetch("api_journey_get", id=journey_id)
    if not rows:
        raise HTTPProblem(404, "no such journey", [f"id: no journey {journey_id}"])
    return json_response(export_journey(services.store.journey_out(rows[0])))


async def set_outcome(request: Request, services: Services) -> Response:
    journey_id = _journey_id(request)
    if media_type(request) != "application/json":
        raise HTTPProblem(
            415, "send the outcome as application/json", [f"got Content-Type {request.headers.get('content-type')!r}"]
        )
    body = await read_body(request, contract.MAX_API_BODY)
    try:
        outcome = outcomes.parse_outcome(load_json(body))
    except IngestError as exc:
        raise HTTPProblem(exc.status, exc.message, exc.details) from None
    except outcomes.OutcomeError as exc:
        raise HTTPProblem(400, "invalid outcome", exc.details) from None
    async with services.store.transaction() as tx:
        stored = await outcomes.set_outcome(tx, journey_id, outcome, services.settings.currency)
    if stored is None:
        raise HTTPProblem(404, "no such journey", [f"id: no journey {journey_id}"])
    return json_response(stored)


def insights_days(query: dict[str, str], settings: Settings, now: datetime) -> tuple[date, date]:
    """from/to as local days (both included); the last 30 days up to today by default."""
    today = local_date(now, settings.tz)
    days: dict[str, date] = {}
    for name in ("from", "to"):
        if name in query:
            given = contract.day(query[name])
            if given is None:
                raise HTTPProblem(400, "invalid query", [f"{name}: {contract.DAY_RULE}"])
            days[name] = given
    last = days.get("to", today)
    first = days["from"] if "from" in days else last - timedelta(days=DEFAULT_INSIGHT_DAYS - 1)
    if first > last:
        raise HTTPProblem(400, "invalid query", ["from: must not be after to"])
    if (last - first).days > 3660:
        raise HTTPProblem(400, "invalid query", ["from: at most ten years before to"])
    return first, last


async def insights(request: Request, services: Services) -> Response:
    query = _query(request, contract.INSIGHTS_QUERY)
    model = query.get("model", contract.MODELS[0])
    if model not in contract.MODELS:
        raise HTTPProblem(400, "invalid query", [f"model: must be one of {', '.join(contract.MODELS)}"])
    now = utcnow()
    first, last = insights_days(query, services.settings, now)
    document = await load_insights(services.store, first, last, services.settings.tz, model, now=now)
    return json_response(document)


def _guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Bearer auth, then the handler; every refusal a JSON error, storage trouble a 503."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        try:
            name = await services.tokens.check(services.store, request.headers.get("authorization"), utcnow())
            if name is None:
                raise HTTPProblem(
                    401,
                    "a valid API token is required",
                    ["send Authorization: Bearer <token>; make one with `leadtrail token create NAME`"],
                    headers={"WWW-Authenticate": 'Bearer realm="leadtrail"'},
                )
            return await handler(request, services)
        except HTTPProblem as problem:
            return problem_response(problem)
        except StoreUnavailable:
            return problem_response(HTTPProblem(503, "storage unavailable; retry later", headers={"Retry-After": "2"}))

    return endpoint


def routes(settings: Settings) -> list[Route]:
    return [
        Route("/api/v1/journeys", _guarded(list_journeys), methods=["GET"]),
        Route("/api/v1/journeys/{id}", _guarded(get_journey), methods=["GET"]),
        Route("/api/v1/journeys/{id}/outcome", _guarded(set_outcome), methods=["POST"]),
        Route("/api/v1/insights", _guarded(insights), methods=["GET"]),
    ]
