"""POST /api/track: validate, clean, group-commit, answer 204 only after the commit.

This is the hot path, with one entry point: `TrackEndpoint`, a plain ASGI app that reads the raw
ASGI scope and sends raw response messages (no Request, Response or middleware objects per
request). app.py calls it before Starlette's routing; the route table holds the same object
(what a mount under a root_path reaches, and what looks at the routes sees). `respond()` holds
the logic; the endpoint counts the answer in the metrics.

The checks that read only headers a site's beacons repeat (media type, encoding, origin, CORS,
HTTPS, GPC, bot) are made by web.py's shared helpers on a `LeanRequest`, once per combination
of the values they read, and the verdict is remembered (`HeaderVerdicts`): the same answers,
without decoding a dozen headers and running five checks per request.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, cast

from starlette.requests import ClientDisconnect
from starlette.routing import Route

from ..bots import is_bot
from ..contract import MAX_TRACK_BODY
from ..identity import COOKIE_NAME, VerifiedCookies, anon_cookie_header
from ..ingest import IngestError, parse_track_body
from ..services import Services
from ..settings import Settings
from ..store import EventRow, StoreUnavailable, dumps, utcnow
from ..web import (
    HTTPProblem,
    LeanRequest,
    address_of,
    check_declared_length,
    check_identity_encoding,
    check_origin,
    check_rate,
    cookie_in,
    cors_headers,
    drop_referrals_from,
    gpc_opt_out,
    is_https,
    media_type,
    preflight,
    problem_body,
    receive_body,
)

log = logging.getLogger("leadtrail.track")

TRACK_MEDIA_TYPES = ("application/json", "text/plain")
RETRY_AFTER_UNAVAILABLE = "2"

Headers = list[tuple[bytes, bytes]]


def _encode(headers: dict[str, str]) -> Headers:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def _problem(problem: HTTPProblem, cors: Headers, cookie: bytes | None = None) -> tuple[int, Headers, bytes]:
    body = problem_body(problem)
    headers = _encode(problem.headers) + cors
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


class Verdict(NamedTuple):
    """What /api/track's header checks say about a request."""

    problem: HTTPProblem | None  # 415 or 403: the answer, before the body is read
    cors: Headers  # CORS headers for an allowed cross-origin page (raw)
    secure: bool  # the anon_id cookie gets Secure (HTTPS, directly or through a trusted proxy)
    ignored: bool  # Global Privacy Control or a bot: 204 once the body is valid; nothing stored
    origin: str | None  # the Origin header, lower-cased: a referrer equal to it is dropped


def judge(request: LeanRequest, settings: Settings) -> Verdict:
    """The header checks, in the order their answers take precedence."""
    cors = cors_headers(request, settings) if "origin" in request.headers else {}
    problem = None
    try:
        if media_type(request) not in TRACK_MEDIA_TYPES:
            raise HTTPProblem(
                415,
                "send JSON as application/json or text/plain",
                [f"got Content-Type {request.headers.get('content-type')!r}"],
            )
        check_identity_encoding(request)
        check_origin(request, settings)
    except HTTPProblem as refused:
        problem = refused
    origin = request.headers.get("origin")
    return Verdict(
        problem,
        _encode(cors),
        is_https(request, settings),
        gpc_opt_out(request, settings) or is_bot(request.headers.get("user-agent")),
        origin.lower() if origin else None,
    )


# What judge() reads: these headers and the scheme; with TRUSTED_PROXIES, the peer and what a
# trusted one forwards too.
VERDICT_HEADERS = (
    b"content-type",
    b"content-encoding",
    b"origin",
    b"host",
    b"sec-fetch-site",
    b"sec-gpc",
    b"user-agent",
)
PROXY_VERDICT_HEADERS = (b"x-forwarded-host", b"x-forwarded-proto")


class HeaderVerdicts:
    """judge(), remembered per combination of the values it reads (it is pure given the settings).
    A site's beacons repeat a few combinations (one per browser build and page origin). Bounded:
    at most `limit` verdicts, forgotten all at once; keys longer than MAX_KEY_BYTES in all are not
    remembered (so a flood of made-up headers costs no memory)."""

    MAX_KEY_BYTES = 2048
    __slots__ = ("_settings", "_known", "limit")

    def __init__(self, settings: Settings, limit: int = 512) -> None:
        self._settings = settings
        self._known: dict[tuple[Any, ...], Verdict] = {}
        self.limit = limit

    def of(self, scope: dict[str, Any], headers: dict[bytes, bytes]) -> Verdict:
        key: tuple[Any, ...] = (scope.get("scheme"), *map(headers.get, VERDICT_HEADERS))
        if self._settings.trusted_networks:
            client = scope.get("client")
            key += (client[0] if client else None, *map(headers.get, PROXY_VERDICT_HEADERS))
        verdict = self._known.get(key)
        if verdict is None:
            verdict = judge(LeanRequest(scope, None), self._settings)
            if sum(len(value) for value in key if value) <= self.MAX_KEY_BYTES:
                if len(self._known) >= self.limit:
                    self._known.clear()
                self._known[key] = verdict
        return verdict


class KnownVisitors:
    """The anon_id a Cookie header carries, verified, remembered per raw header value: a returning
    visitor's browser sends the same header with each event, so one lookup replaces decoding it,
    finding the cookie and the verified-value lookup (the answer is a pure function of the header
    and the key). Headers without a valid anon_id are not remembered (they mint a new id); bounded
    like HeaderVerdicts: at most `limit` headers of at most MAX_KEY_BYTES each (a few MB at worst;
    a longer header, one carrying many of the site's own cookies, is read as before)."""

    MAX_KEY_BYTES = 512
    __slots__ = ("_cookies", "_known", "limit")

    def __init__(self, cookies: VerifiedCookies, limit: int = 10_000) -> None:
        self._cookies = cookies
        self._known: dict[bytes, tuple[str, str]] = {}
        self.limit = limit

    def of(self, header: bytes | None) -> tuple[str, str] | None:
        """(anon_id, cookie value) of the header's valid anon_id cookie, or None."""
        known = self._known.get(header) if header is not None else None
        if known is None:
            presented = cookie_in(_text(header), COOKIE_NAME)
            anon_id = self._cookies.verify(presented)
            if anon_id is None:
                return None
            known = (anon_id, cast(str, presented))
            if header is not None and len(header) <= self.MAX_KEY_BYTES:
                if len(self._known) >= self.limit:
                    self._known.clear()
                self._known[header] = known
        return known


def first_values(raw: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """Raw header name -> value; the first of a repeated header wins (as in LeanHeaders)."""
    headers = dict(raw)  # in C; the usual case has no repeated header
    if len(headers) != len(raw):
        headers = {}
        for name, value in raw:
            headers.setdefault(name, value)
    return headers


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


_new_tuple = tuple.__new__


async def respond(
    scope: dict[str, Any], receive: Any, services: Services, verdicts: HeaderVerdicts, visitors: KnownVisitors
) -> tuple[int, Headers, bytes]:
    """(status, raw headers, body) for one POST /api/track."""
    headers = first_values(scope["headers"])
    verdict = verdicts.of(scope, headers)
    if verdict.problem is not None:
        return _problem(verdict.problem, verdict.cors)
    settings = services.settings
    cookie: bytes | None = None
    try:
        if services.address_limiter.enabled:
            client = scope.get("client")
            address = address_of(client[0] if client else "unknown", _text(headers.get(b"x-forwarded-for")), settings)
            check_rate(services.address_limiter, address, "address")
        check_declared_length(headers.get(b"content-length"), MAX_TRACK_BODY)  # int() reads bytes too
        body = await receive_body(receive, MAX_TRACK_BODY)
        try:
            events = parse_track_body(body)
        except IngestError as exc:
            raise HTTPProblem(exc.status, exc.message, exc.details) from None
        if verdict.ignored:
            return 204, list(verdict.cors), b""
        known = visitors.of(headers.get(b"cookie"))
        if known is None:
            anon_id, value = services.signer.mint()
        else:
            anon_id, value = known  # verified: the same id and signature, renewed below
            check_rate(services.anon_limiter, anon_id, "visitor")
        cookie = _set_cookie(value, settings.event_ttl, verdict.secure)
        if verdict.origin:
            drop_referrals_from((e[2] for e in events), verdict.origin)
        now = utcnow()
        rows = [_new_tuple(EventRow, (anon_id, e[0], e[1], dumps(e[2]), now)) for e in events]
        try:
            await services.store.add_events(rows)
        except StoreUnavailable:
            # The cookie goes out with the 503 too: the outcome of a write cut off mid-commit is
            # unknown, and a retry under the same anon_id and event_id is then stored once.
            return _problem(
                HTTPProblem(503, "storage unavailable; retry later", headers={"Retry-After": RETRY_AFTER_UNAVAILABLE}),
                verdict.cors,
                cookie,
            )
    except HTTPProblem as problem:
        return _problem(problem, verdict.cors)
    services.pruner.maybe_prune()
    return 204, [(b"set-cookie", cookie), *verdict.cors], b""


class TrackEndpoint:
    """POST /api/track as a plain ASGI app; `extra_headers` go on every response (what the
    middleware it skips would add)."""

    __slots__ = ("services", "extra_headers", "verdicts", "visitors")

    def __init__(self, services: Services, extra_headers: Headers) -> None:
        self.services = services
        self.extra_headers = extra_headers
        self.verdicts = HeaderVerdicts(services.settings)
        self.visitors = KnownVisitors(services.cookies)

    async def __call__(self, scope, receive, send) -> None:
        try:
            status, headers, body = await respond(scope, receive, self.services, self.verdicts, self.visitors)
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
