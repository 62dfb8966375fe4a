"""POST /api/track: validate, clean, group-commit, answer 204 only after the commit.

This is the hot path, with one entry point: `TrackEndpoint`, a plain ASGI app that reads the
request as a `LeanRequest` and sends raw response messages (no Request, Response or middleware
objects per request). app.py calls it before Starlette's routing; the route table holds the same
object (what a mount under a root_path reaches, and what looks at the routes sees). `respond()`
holds the logic; the endpoint counts the answer in the metrics.
"""

from __future__ import annotations

import logging
from typing import cast

from starlette.requests import ClientDisconnect
from starlette.routing import Route

from ..bots import is_bot
from ..contract import MAX_TRACK_BODY
from ..identity import COOKIE_NAME, anon_cookie_header
from ..ingest import IngestError, parse_track_body
from ..services import Services
from ..store import EventRow, StoreUnavailable, dumps, utcnow
from ..web import (
    HTTPProblem,
    LeanRequest,
    check_identity_encoding,
    check_origin,
    check_rate,
    client_address,
    cookie_value,
    cors_headers,
    drop_self_referrals,
    gpc_opt_out,
    is_https,
    media_type,
    preflight,
    problem_body,
    read_body,
)

log = logging.getLogger("leadtrail.track")

TRACK_MEDIA_TYPES = ("application/json", "text/plain")
RETRY_AFTER_UNAVAILABLE = "2"

Headers = list[tuple[bytes, bytes]]


def _encode(headers: dict[str, str]) -> Headers:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def _problem(problem: HTTPProblem, cors: dict[str, str], cookie: bytes | None = None) -> tuple[int, Headers, bytes]:
    body = problem_body(problem)
    headers = _encode({**problem.headers, **cors})
    headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode()))
    if cookie is not None:
        headers.append((b"set-cookie", cookie))
    return problem.status, headers, body


_COOKIE_PARTS: dict[tuple[int, bool], tuple[bytes, bytes]] = {}


def _set_cookie(value: str, max_age: int, secure: bool) -> bytes:
    """anon_cookie_header(...) as bytes, from parts made once per (max_age, secure)."""
    parts = _COOKIE_PARTS.get((max_age, secure))
    if parts is None:
        head, _, tail = anon_cookie_header("\x00", max_age, secure).partition("\x00")
        parts = _COOKIE_PARTS[(max_age, secure)] = (head.encode("latin-1"), tail.encode("latin-1"))
    return parts[0] + value.encode("latin-1") + parts[1]


async def respond(request: LeanRequest, services: Services) -> tuple[int, Headers, bytes]:
    """(status, raw headers, body) for one POST /api/track."""
    settings = services.settings
    cors = cors_headers(request, settings) if "origin" in request.headers else {}
    cookie: bytes | None = None
    try:
        if media_type(request) not in TRACK_MEDIA_TYPES:
            raise HTTPProblem(
                415,
                "send JSON as application/json or text/plain",
                [f"got Content-Type {request.headers.get('content-type')!r}"],
            )
        check_identity_encoding(request)
        check_origin(request, settings)
        if services.address_limiter.enabled:
            check_rate(services.address_limiter, client_address(request, settings), "address")
        body = await read_body(request, MAX_TRACK_BODY)
        try:
            events = parse_track_body(body)
        except IngestError as exc:
            raise HTTPProblem(exc.status, exc.message, exc.details) from None
        if gpc_opt_out(request, settings) or is_bot(request.headers.get("user-agent")):
            return 204, _encode(cors), b""
        presented = cookie_value(request, COOKIE_NAME)
        anon_id = services.cookies.verify(presented)
        if anon_id is None:
            anon_id, value = services.signer.mint()
        else:
            value = cast(str, presented)  # verified: the same id and signature, renewed below
            check_rate(services.anon_limiter, anon_id, "visitor")
        cookie = _set_cookie(value, settings.event_ttl, is_https(request, settings))
        drop_self_referrals([e.params for e in events], request)
        now = utcnow()
        rows = [EventRow(anon_id, e.event_name, e.page_path, dumps(e.params), now) for e in events]
        try:
            await services.store.add_events(rows)
        except StoreUnavailable:
            # The cookie goes out with the 503 too: the outcome of a write cut off mid-commit is
            # unknown, and a retry under the same anon_id and event_id is then stored once.
            return _problem(
                HTTPProblem(503, "storage unavailable; retry later", headers={"Retry-After": RETRY_AFTER_UNAVAILABLE}),
                cors,
                cookie,
            )
    except HTTPProblem as problem:
        return _problem(problem, cors)
    services.pruner.maybe_prune()
    headers = [(b"set-cookie", cookie)]
    if cors:
        headers += _encode(cors)
    return 204, headers, b""


class TrackEndpoint:
    """POST /api/track as a plain ASGI app; `extra_headers` go on every response (what the
    middleware it skips would add)."""

    __slots__ = ("services", "extra_headers")

    def __init__(self, services: Services, extra_headers: Headers) -> None:
        self.services = services
        self.extra_headers = extra_headers

    async def __call__(self, scope, receive, send) -> None:
        try:
            status, headers, body = await respond(LeanRequest(scope, receive), self.services)
        except ClientDisconnect:
            return  # nobody is listening, and nothing was stored
        self.services.metrics.response("track", status)
        headers.extend(self.extra_headers)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def routes(endpoint: TrackEndpoint) -> list[Route]:
    return [
        Route("/api/track", endpoint, methods=["POST"]),
        Route("/api/track", preflight, methods=["OPTIONS"]),
    ]
