"""HTTP helpers the routes share: JSON errors, the client's address, origins, CORS, body limits."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Iterable
from typing import Any, NamedTuple

import orjson
from starlette.requests import ClientDisconnect, Request, cookie_parser
from starlette.responses import Response

from .ratelimit import RateLimiter, retry_after_header
from .settings import Settings


class Address(NamedTuple):
    host: str
    port: int


class _Scheme(NamedTuple):
    scheme: str


_MISSING: Any = object()
# The headers the routes and helpers here read; only these are decoded up front.
LEAN_HEADER_NAMES = frozenset(
    (
        "content-type",
        "content-length",
        "content-encoding",
        "origin",
        "user-agent",
        "cookie",
        "sec-gpc",
        "host",
        "sec-fetch-site",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
    )
)
_LEAN_NAME_PAIRS = tuple((name, name.encode("latin-1")) for name in sorted(LEAN_HEADER_NAMES))


class LeanHeaders(dict):
    """Header name -> value, decoded up front for LEAN_HEADER_NAMES only (a browser sends a dozen
    more that /api/track never looks at); any other name is found in the raw list when asked for.
    The first of a repeated header wins, as with Starlette's `Headers.get`."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        super().__init__()
        self._raw = raw
        by_name = dict(raw)  # in C; ASGI servers send lower-case names (uvicorn does)
        if len(by_name) != len(raw):  # a repeated header: the first one wins
            by_name = {}
            for name, value in raw:
                by_name.setdefault(name, value)
        for key, name in _LEAN_NAME_PAIRS:
            found = by_name.get(name)
            if found is not None:
                dict.__setitem__(self, key, found.decode("latin-1"))

    def get(self, key: str, default: Any = None) -> Any:
        value = dict.get(self, key, _MISSING)
        if value is not _MISSING:
            return value
        if key in LEAN_HEADER_NAMES:
            return default
        wanted = key.lower().encode("latin-1")
        for name, raw_value in self._raw:
            if name.lower() == wanted:
                return raw_value.decode("latin-1")
        return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, _MISSING) is not _MISSING

    def __getitem__(self, key: str) -> str:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value


class LeanRequest:
    """What the helpers below read from a request (`headers.get`, `client.host`, `url.scheme`,
    `cookies`, `stream()`), straight from the ASGI scope.

    For the hot path (POST /api/track), where a Starlette Request and its routing cost more than
    the rest of the request.
    """

    __slots__ = ("scope", "_receive", "headers", "client", "url")

    def __init__(self, scope: dict[str, Any], receive: Any) -> None:
        self.scope = scope
        self._receive = receive
        self.headers = LeanHeaders(scope["headers"])
        client = scope.get("client")
        self.client = Address(client[0], client[1]) if client else None
        self.url = _Scheme(scope.get("scheme", "http"))

    @property
    def cookies(self) -> dict[str, str]:
        return cookie_parser(self.headers.get("cookie", ""))

    async def read(self, limit: int) -> bytes:
        return await receive_body(self._receive, limit)

    async def stream(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if body:
                    yield body
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                raise ClientDisconnect()


async def receive_body(receive: Any, limit: int) -> bytes:
    """The whole body from an ASGI `receive`, or HTTPProblem(413) once it exceeds `limit`. A small
    body comes in one message: no async generator on the hot path."""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body = message.get("body", b"")
        if len(body) > limit:
            raise HTTPProblem(413, f"body too large: at most {limit} bytes")
        return body
    if message["type"] == "http.disconnect":
        raise ClientDisconnect()
    chunks = [message.get("body", b"")]
    size = len(chunks[0])
    while True:
        if size > limit:
            raise HTTPProblem(413, f"body too large: at most {limit} bytes")
        if not message.get("more_body", False):
            return b"".join(chunks)
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])


# What the helpers below accept: a Starlette request, or the /api/track fast path's lean one.
AnyRequest = Request | LeanRequest


def cookie_value(request: AnyRequest, name: str) -> str | None:
    """request.cookies.get(name), the same answer as Starlette's cookie_parser (see cookie_in)."""
    return cookie_in(request.headers.get("cookie"), name)


def cookie_in(header: str | None, name: str) -> str | None:
    """Cookie `name` of a Cookie header, the same answer as Starlette's cookie_parser, without
    parsing every cookie of the header in the common case: the name occurs once, as a cookie of
    its own, and nothing is quoted. Anything else goes to cookie_parser."""
    if not header:
        return None
    token = name + "="
    at = header.find(token)
    if at < 0:
        return None if name not in header else cookie_parser(header).get(name)
    if header.find(token, at + 1) < 0 and '"' not in header and (at == 0 or header[:at].rstrip()[-1:] in ("", ";")):
        end = header.find(";", at)
        return header[at + len(token) : end if end >= 0 else len(header)].strip()
    return cookie_parser(header).get(name)


class HTTPProblem(Exception):
    """An error answer: status, a message a user can act on, details, extra headers."""

    def __init__(self, status: int, message: str, details: Iterable[str] = (), headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)
        self.headers = headers or {}


def json_response(body: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def problem_body(problem: HTTPProblem) -> bytes:
    return orjson.dumps({"error": problem.message, "details": problem.details})


def problem_response(problem: HTTPProblem, extra_headers: dict | None = None) -> Response:
    headers = {**problem.headers, **(extra_headers or {})}
    return json_response({"error": problem.message, "details": problem.details}, problem.status, headers)


def trusted_peer(address: str, settings: Settings) -> bool:
    """Whether `address` is one of TRUSTED_PROXIES."""
    if not settings.trusted_networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.trusted_networks)


def client_address(request: AnyRequest, settings: Settings) -> str:
    """The client, as rate limits and throttles key it: the peer, or, when the peer is a trusted
    proxy, the nearest untrusted hop of X-Forwarded-For (walking from the right, as each proxy
    appends); an IPv6 address as its /64, which one subscriber holds whole and rotates within."""
    peer = request.client.host if request.client else "unknown"
    return address_of(peer, request.headers.get("x-forwarded-for"), settings)


def address_of(peer: str, forwarded_for: str | None, settings: Settings) -> str:
    """client_address from the peer's address and the X-Forwarded-For header (None: not sent)."""
    if trusted_peer(peer, settings):
        hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
        peer = next((hop for hop in reversed(hops) if not trusted_peer(hop, settings)), hops[0] if hops else peer)
    return ipv6_prefix(peer) if ":" in peer else peer


def ipv6_prefix(address: str) -> str:
    """An IPv6 address's /64 network ("2001:db8:1:2::/64"); an IPv4-mapped one as its IPv4
    address; anything unparsable as it is."""
    try:
        ip = ipaddress.IPv6Address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


def is_https(request: AnyRequest, settings: Settings) -> bool:
    peer = request.client.host if request.client else ""
    if trusted_peer(peer, settings):
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto:
            return proto == "https"
    return request.url.scheme == "https"


def own_origin(request: AnyRequest, settings: Settings) -> str:
    """The origin the browser used to reach us (through a trusted proxy's X-Forwarded-* if any)."""
    peer = request.client.host if request.client else ""
    host = request.headers.get("host", "")
    if trusted_peer(peer, settings):
        host = request.headers.get("x-forwarded-host", host).split(",")[0].strip()
    scheme = "https" if is_https(request, settings) else "http"
    return f"{scheme}://{host}".lower()


def check_origin(request: AnyRequest, settings: Settings) -> None:
    """Refuses browser requests from origins that are neither ours nor allowed (CSRF, abuse)."""
    origin = request.headers.get("origin")
    if origin is None:
        # Browsers send Origin on every cross-origin POST; without it the caller is a server,
        # a same-origin navigation, or a non-browser client, none of which CSRF applies to.
        return
    origin = origin.lower().rstrip("/")
    if origin in settings.allowed_origins or origin == own_origin(request, settings):
        return
    if origin != "null" and request.headers.get("sec-fetch-site") == "same-origin":
        # The browser itself says the page and this URL share an origin (e.g. behind a proxy that
        # rewrites Host), which it would not say for a cross-site page.
        return
    raise HTTPProblem(
        403,
        f"origin {origin} is not allowed to call this API",
        ["add it to LEADTRAIL_ALLOWED_ORIGINS if it is your site"],
    )


def cors_headers(request: AnyRequest, settings: Settings) -> dict[str, str]:
    origin = request.headers.get("origin", "").lower().rstrip("/")
    if origin and origin in settings.allowed_origins:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }
    return {}


async def preflight(request: Request) -> Response:
    """OPTIONS for the API routes: CORS for ALLOWED_ORIGINS, 403 for anyone else."""
    headers = cors_headers(request, request.app.state.services.settings)
    if not headers:
        return problem_response(HTTPProblem(403, "origin not allowed"))
    headers.update(
        {
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "86400",
        }
    )
    return Response(status_code=204, headers=headers)


def media_type(request: AnyRequest) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def check_identity_encoding(request: AnyRequest) -> None:
    """A compressed body (Content-Encoding: gzip, ...) is not read as JSON: 415 (RFC 9110 15.5.16)."""
    encoding = request.headers.get("content-encoding")
    if encoding is not None and encoding.strip().lower() not in ("", "identity"):
        raise HTTPProblem(415, "send the body uncompressed", [f"got Content-Encoding {encoding!r}"])


def check_declared_length(declared: str | bytes | None, limit: int) -> None:
    """HTTPProblem(413) when a Content-Length header says more than `limit`, 400 when unreadable."""
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPProblem(413, f"body too large: at most {limit} bytes")
        except ValueError:
            raise HTTPProblem(400, "invalid Content-Length header") from None


async def read_body(request: AnyRequest, limit: int) -> bytes:
    """The request body, or a 413 as soon as it is known to exceed `limit` bytes."""
    check_declared_length(request.headers.get("content-length"), limit)
    if type(request) is LeanRequest:
        return await request.read(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPProblem(413, f"body too large: at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# -- checks shared by the ingest routes ---------------------------------------------------------


def gpc_opt_out(request: AnyRequest, settings: Settings) -> bool:
    """The browser sends Global Privacy Control and HONOR_GPC is on: nothing is linked or kept."""
    return settings.honor_gpc and request.headers.get("sec-gpc") == "1"


def drop_self_referrals(params_list: Iterable[dict[str, Any]], request: Request | LeanRequest) -> None:
    """A referrer from the site itself (a tab reopened, a full page load) says nothing about
    where the visitor came from; the page's origin is the Origin header the browser sends."""
    origin = request.headers.get("origin")
    if origin:
        drop_referrals_from(params_list, origin.lower())


def drop_referrals_from(params_list: Iterable[dict[str, Any]], origin: str) -> None:
    """drop_self_referrals with the lower-cased Origin header."""
    for params in params_list:
        referrer = params.get("referrer")
        if referrer is not None and referrer.lower() == origin:
            del params["referrer"]


def check_rate(limiter: RateLimiter, key: str, what: str) -> None:
    """429 with Retry-After when `key` has used up its share of `limiter`."""
    wait = limiter.acquire(key)
    if wait:
        raise HTTPProblem(429, f"too many requests from this {what}; retry later", headers=retry_after_header(wait))


# Any of these says a proxy stands between the peer and the client (RFC 7239, de facto headers).
FORWARDING_HEADERS = (
    "forwarded",
    "x-forwarded-for",
    "x-real-ip",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "x-cluster-client-ip",
)


def direct_local_peer(request: AnyRequest) -> bool:
    """The request comes from this machine itself, not relayed by a (local) proxy: loopback peer
    and no forwarding header at all. For what only the host may see (/metrics, the demo's setup link)."""
    peer = request.client.host if request.client else ""
    if peer not in ("127.0.0.1", "::1", "localhost"):
        return False
    return not any(name in request.headers for name in FORWARDING_HEADERS)


# -- the dashboard's headers (also the enquirer's receipt page) -------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
CP_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
