"""GET /api/track/receipt/<id>.<signature>: the enquirer's receipt (what was attached to their
enquiry); POST on it: remove their browsing history, keeping the enquiry. GET
/api/track/receipt/latest: the receipt of this browser's newest enquiry (the thank-you page's
link, which works even when the form's own submission left the page before the promote
answered). No JavaScript; the dashboard's CSP; 404 for anything unknown, tampered or erased."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .. import receipts
from ..export import export_journey
from ..http.forms import same_origin
from ..identity import COOKIE_NAME
from ..localtime import LocalTimes
from ..services import Services
from ..store import dumps, utcnow
from ..templating import STATIC_DIR, templates
from ..web import CP_HEADERS, HTTPProblem, check_origin, cors_headers, json_response, preflight, problem_response

LATEST_WINDOW = timedelta(hours=1)
STYLESHEET = STATIC_DIR / "receipt.css"


def _headers() -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in CP_HEADERS} | {"Cache-Control": "no-store"}


def _page(request: Request, context: dict, status: int = 200) -> Response:
    services: Services = request.app.state.services
    base = {
        "fmt": LocalTimes(services.settings.tz),
        "css_url": receipts.STYLESHEET,
        "latest_url": receipts.LATEST,
        "memory_days": services.settings.touch_memory_days,
    }
    return templates.TemplateResponse(request, "receipt.html", base | context, status_code=status, headers=_headers())


def _not_found(request: Request) -> Response:
    return _page(request, {"missing": True}, 404)


async def _journey(request: Request) -> tuple[dict, str] | None:
    """The journey this receipt path opens and its signature, or None (unknown, tampered, erased)."""
    services: Services = request.app.state.services
    parsed = receipts.parse_token(request.path_params["token"])
    if parsed is None:
        return None
    journey_id, sig = parsed
    rows = await services.store.fetch("receipt_journey", id=journey_id)
    if not rows:
        return None
    row = services.store.journey_out(rows[0])
    created = services.store.decode_time(rows[0]["created_at"])
    if not receipts.valid(services.settings.secret_key.encode(), journey_id, created, sig):
        return None
    return row, sig


async def receipt_page(request: Request) -> Response:
    found = await _journey(request)
    if found is None:
        return _not_found(request)
    row, sig = found
    key = request.app.state.services.settings.secret_key.encode()
    journey = export_journey(row)
    return _page(
        request,
        {
            "missing": False,
            "j": row,
            "receipt": receipts.view(journey),
            "removed_at": row.get("history_removed_at"),
            "removal_token": receipts.removal_token(key, sig),
            "removed_now": request.query_params.get("removed") == "1",
        },
    )


async def remove_history(request: Request) -> Response:
    services: Services = request.app.state.services
    found = await _journey(request)
    if found is None:
        return _not_found(request)
    row, sig = found
    form = await request.form(max_files=0, max_fields=5, max_part_size=1024)
    token = form.get("token")
    key = services.settings.secret_key.encode()
    if not same_origin(request) or not receipts.removal_token_ok(key, sig, token if isinstance(token, str) else None):
        return _page(request, {"missing": False, "refused": True, "j": row, "receipt": {"visits": []}}, 403)
    now = utcnow()
    async with services.store.transaction() as tx:
        await tx.execute("receipt_remove_history", id=row["id"], empty=dumps([]), now=now)
        await tx.execute("receipt_forget_facts", id=row["id"], empty=dumps([]))
        await tx.execute("receipt_forget_buffer", id=row["id"])
    return RedirectResponse(request.url.path + "?removed=1", status_code=303, headers=_headers())


async def _latest_path(request: Request) -> str | None:
    """The receipt path of this browser's newest enquiry of the last hour (its signed anon_id cookie)."""
    services: Services = request.app.state.services
    anon_id = services.signer.verify(request.cookies.get(COOKIE_NAME))
    if anon_id is None:
        return None
    rows = await services.store.fetch("receipt_latest_of_visitor", anon_id=anon_id, since=utcnow() - LATEST_WINDOW)
    if not rows:
        return None
    created = services.store.decode_time(rows[0]["created_at"])
    return receipts.receipt_path(services.settings.secret_key.encode(), int(rows[0]["id"]), created)


async def latest(request: Request) -> Response:
    """GET: a link a thank-you page can hold without any script."""
    path = await _latest_path(request)
    if path is None:
        return _page(request, {"missing": True, "latest": True}, 404)
    return RedirectResponse(path, status_code=303, headers=_headers())


async def latest_json(request: Request) -> Response:
    """POST /api/track/receipt (the tracker, on the page after a promote it never heard answered):
    {"receipt_url": path, or null while the enquiry is not saved yet}."""
    settings = request.app.state.services.settings
    cors = cors_headers(request, settings)
    try:
        check_origin(request, settings)
    except HTTPProblem as problem:
        return problem_response(problem, cors)
    return json_response({"receipt_url": await _latest_path(request)}, 200, cors)


async def stylesheet(request: Request) -> Response:
    """The receipt's own stylesheet, under /api/track/ like the receipt: a site's proxy that
    forwards only /api/track* serves it too."""
    return Response(
        STYLESHEET.read_bytes(),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def routes(settings) -> list[BaseRoute]:
    return [
        Route(receipts.STYLESHEET, stylesheet, methods=["GET", "HEAD"]),
        Route(receipts.LATEST, latest, methods=["GET"]),
        Route(receipts.PREFIX.rstrip("/"), latest_json, methods=["POST"]),
        Route(receipts.PREFIX.rstrip("/"), preflight, methods=["OPTIONS"]),
        Route(receipts.PREFIX + "{token}", receipt_page, methods=["GET", "HEAD"]),
        Route(receipts.PREFIX + "{token}", remove_history, methods=["POST"]),
    ]
