"""create_app(settings): the ASGI application. Routes, middleware, and a lifespan that opens the
store, applies pending migrations, and on shutdown lets in-flight writes commit before closing."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from . import metrics, openapi
from .logs import configure as configure_logging
from .routes import health, promote, track
from .services import Services
from .settings import Settings, load_settings, with_secret_key
from .web import json_response

log = logging.getLogger("leadtrail")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]


class SecurityHeaders:
    """Adds headers every response should carry (pure ASGI: cheap on the hot path)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                names = {name.lower() for name, _ in message["headers"]}
                message["headers"] = list(message["headers"]) + [h for h in SECURITY_HEADERS if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
        return json_response({"error": exc.detail, "details": []}, exc.status_code, getattr(exc, "headers", None))
    return Response(
        f"{exc.status_code} {exc.detail}\n",
        exc.status_code,
        media_type="text/plain",
        headers=getattr(exc, "headers", None),
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return json_response({"error": "internal error", "details": []}, 500)


class LeadtrailApp(Starlette):
    """Starlette, with a few hot routes answered by plain ASGI handlers before routing and
    middleware: `fast_routes` maps (method, path) to a handler, which must add what the middleware
    would (SecurityHeaders). Everything else, /api/track's OPTIONS included, goes the usual way."""

    fast_routes: dict[tuple[str, str], Any]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            handler = self.fast_routes.get((scope["method"], scope["path"]))
            if handler is not None:
                scope["app"] = self
                try:
                    await handler(scope, receive, send)
                except Exception:
                    # What ServerErrorMiddleware does for the other routes (the response has not
                    # started: handlers send only once they have their answer).
                    log.exception("unhandled error on %s %s", scope["method"], scope["path"])
                    body = b'{"error":"internal error","details":[]}'
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 500,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                *SECURITY_HEADERS,
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                return
        await super().__call__(scope, receive, send)


def feature_modules(settings: Settings) -> list[ModuleType]:
    """Route modules beyond the API: each has routes(settings), and may have on_startup(services)."""
    from .routes import api_v1, dashboard, receipt, script

    modules: list[ModuleType] = [script, receipt, dashboard, api_v1]
    if settings.demo:
        from .routes import demo

        modules.append(demo)
    return modules


def create_app(settings: Settings) -> LeadtrailApp:
    services = Services.build(settings)
    features = feature_modules(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.store.open()
        applied = await services.store.migrate()
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        services.pruner.start_periodic()
        if services.totals is not None:
            services.totals.start_periodic()
        if services.notifier is not None:
            services.notifier.start()
        for module in features:
            if hasattr(module, "on_startup"):
                await module.on_startup(services)
        try:
            yield
        finally:
            await services.pruner.stop()
            if services.totals is not None:
                await services.totals.stop()
            await services.stop_background()
            await services.store.close()

    track_endpoint = track.TrackEndpoint(services, SECURITY_HEADERS)
    app = LeadtrailApp(
        routes=[
            *track.routes(track_endpoint),
            *promote.routes(),
            *health.routes(),
            *openapi.routes(),
            *metrics.routes(),
            *(route for module in features for route in module.routes(settings)),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, 500: server_error},
    )
    app.state.services = services
    app.add_middleware(SecurityHeaders)
    app.fast_routes = {("POST", "/api/track"): track_endpoint}
    return app


def tune_gc_for_serving() -> None:
    """For a server process (`leadtrail serve`, each worker), not for tests or tools: what is
    loaded at start-up (modules, the bot list, templates) lives as long as the process, so it is
    frozen out of the collector's scans, and young collections run every 50,000 allocations
    instead of 700. At thousands of requests a second the defaults spent ~4% of the CPU in
    collections and paused up to ~25 ms (the p99 of /api/track); reference counting still frees
    everything that is not a cycle at once."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def create_app_from_env() -> LeadtrailApp:
    """Factory for worker processes started by `leadtrail serve --workers N`."""
    settings = with_secret_key(load_settings())
    configure_logging(settings.log_level, settings.log_format)  # a spawned worker starts with none
    from .server import protocol_for

    protocol_for(settings.max_connections, settings.head_timeout)  # the class's limits, in this process too
    app = create_app(settings)
    tune_gc_for_serving()
    return app
