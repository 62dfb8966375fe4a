"""POST /api/track: validate, clean, group-commit, answer 204 only after the commit."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..bots import is_bot
from ..identity import COOKIE_NAME, anon_cookie_header
from ..ingest import IngestError, parse_track_body
from ..ratelimit import retry_after_header
from ..services import Services
from ..store import EventRow, StoreUnavailable, dumps, utcnow
from ..web import (HTTPProblem, check_origin, client_address, cors_headers, is_https, media_type,
                   preflight_response, problem_response, read_body)

MAX_TRACK_BODY = 64 * 1024
TRACK_MEDIA_TYPES = ("application/json", "text/plain")


def gpc_opt_out(request: Request, services: Services) -> bool:
    return services.settings.honor_gpc and request.headers.get("sec-gpc") == "1"


def check_rate(limiter, key: str, what: str) -> None:
    wait = limiter.acquire(key)
    if wait:
        raise HTTPProblem(429, f"too many requests from this {what}; retry later", headers=retry_after_header(wait))


async def track(request: Request) -> Response:
    services: Services = request.app.state.services
    settings = services.settings
    cors = cors_headers(request, settings)
    try:
        if media_type(request) not in TRACK_MEDIA_TYPES:
            raise HTTPProblem(415, "send JSON as application/json or text/plain",
                              [f"got Content-Type {request.headers.get('content-type')!r}"])
        check_origin(request, settings)
        check_rate(services.address_limiter, client_address(request, settings), "address")
        body = await read_body(request, MAX_TRACK_BODY)
        try:
            events = parse_track_body(body)
        except IngestError as exc:
            raise HTTPProblem(exc.status, exc.message, exc.details) from None
        if gpc_opt_out(request, services) or is_bot(request.headers.get("user-agent")):
            return Response(status_code=204, headers=cors)
        anon_id = services.signer.verify(request.cookies.get(COOKIE_NAME))
        if anon_id is None:
            anon_id, cookie = services.signer.mint()
        else:
            cookie = services.signer.cookie_value(anon_id)
            check_rate(services.anon_limiter, anon_id, "visitor")
        now = utcnow()
        rows = [EventRow(anon_id, e.event_name, e.page_path, dumps(e.params), now) for e in events]
        try:
            await services.store.add_events(rows)
        except StoreUnavailable:
            raise HTTPProblem(503, "storage unavailable; retry later", headers={"Retry-After": "2"}) from None
    except HTTPProblem as problem:
        return problem_response(problem, cors)
    services.pruner.maybe_prune()
    headers = {"Set-Cookie": anon_cookie_header(cookie, settings.event_ttl, is_https(request, settings)), **cors}
    return Response(status_code=204, headers=headers)


async def track_preflight(request: Request) -> Response:
    return preflight_response(request, request.app.state.services.settings)


def routes() -> list[Route]:
    return [
        Route("/api/track", track, methods=["POST"]),
        Route("/api/track", track_preflight, methods=["OPTIONS"]),
    ]
