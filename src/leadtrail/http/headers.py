"""The /cp mount's middleware: the security headers of every dashboard response (errors
included), caching (the static files only), and HTML answers for errors raised below it."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from ..store import StoreUnavailable
from ..web import CP_HEADERS, is_https

log = logging.getLogger("leadtrail.dashboard")

STATIC_PREFIX = "/cp/static/"
HSTS = b"max-age=31536000; includeSubDomains"
_REPLACED = frozenset(name for name, _ in CP_HEADERS) | {b"cache-control"}

UNAVAILABLE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Database unavailable · leadtrail</title>
<link rel="stylesheet" href="/cp/static/cp.css"></head><body class="plain"><main class="narrow">
<h1>The database is not answering</h1><p>leadtrail could not reach its database. Nothing was changed.
Try again in a moment; if this goes on, check the server's log.</p>
<p><a href="">Try again</a></p></main></body></html>"""


def _served_over_https(scope: dict) -> bool:
    """HTTPS directly, or through a trusted proxy that says so (X-Forwarded-Proto)."""
    app = scope.get("app")
    services = getattr(getattr(app, "state", None), "services", None)
    if services is None:
        return scope.get("scheme") == "https"
    return is_https(Request(scope), services.settings)


class CpHeaders:
    """Pure ASGI middleware on the /cp mount: security headers on every response (errors
    included), no-store on everything but the static files, and an HTML answer for errors raised
    below it (a 405, the database going away) so they get the headers too."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith(STATIC_PREFIX)
        hsts = _served_over_https(scope)
        started = False

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
                headers += CP_HEADERS
                if hsts:  # browsers ignore it over plain HTTP; only sent where it is true
                    headers.append((b"strict-transport-security", HSTS))
                headers.append((b"cache-control", b"public, max-age=86400" if static else b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except HTTPException as exc:
            if started:
                raise
            response: Response = PlainTextResponse(
                f"{exc.status_code} {exc.detail}\n", exc.status_code, headers=getattr(exc, "headers", None)
            )
            await response(scope, receive, send_with_headers)
        except StoreUnavailable as exc:
            if started:
                raise
            log.warning("dashboard: database unavailable: %s", exc)
            response = HTMLResponse(UNAVAILABLE_PAGE, 503, headers={"Retry-After": "5"})
            await response(scope, receive, send_with_headers)
