"""GET /healthz: 200 when the database answers, else 503."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..store import StoreUnavailable
from ..web import json_response


async def healthz(request: Request) -> Response:
    try:
        await request.app.state.services.store.ping()
    except StoreUnavailable as exc:
        return json_response({"status": "unavailable", "error": str(exc)}, 503, {"Retry-After": "2"})
    disk = request.app.state.services.disk
    if disk.low():
        # Still 200: tracking and the dashboard work; only new enquiries are refused.
        return json_response(
            {"status": "low_disk", "disk_free_bytes": disk.free(), "min_free_disk_mb": disk.min_free_mb}
        )
    return json_response({"status": "ok"})


def routes() -> list[Route]:
    return [Route("/healthz", healthz, methods=["GET", "HEAD"])]
