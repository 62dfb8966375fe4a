"""POST /api/track/promote: snapshot the visitor's buffer and their browser's buffer into a journey."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import promote as workflow
from .. import receipts
from ..contract import MAX_PROMOTE_BODY
from ..identity import COOKIE_NAME
from ..ingest import IngestError, parse_promote_body
from ..services import Services
from ..store import StoreUnavailable, utcnow
from ..web import (
    HTTPProblem,
    check_identity_encoding,
    check_origin,
    check_rate,
    client_address,
    cors_headers,
    drop_self_referrals,
    gpc_opt_out,
    json_response,
    media_type,
    own_origin,
    preflight,
    problem_response,
    read_body,
    trusted_peer,
)


async def promote(request: Request) -> Response:
    services: Services = request.app.state.services
    settings = services.settings
    cors = cors_headers(request, settings)
    try:
        if media_type(request) != "application/json":
            raise HTTPProblem(
                415,
                "send the promote request as application/json",
                [f"got Content-Type {request.headers.get('content-type')!r}"],
            )
        check_identity_encoding(request)
        check_origin(request, settings)
        address = client_address(request, settings)
        check_rate(services.address_limiter, address, "address")
        body = await read_body(request, MAX_PROMOTE_BODY)
        try:
            req = parse_promote_body(body)
        except IngestError as exc:
            raise HTTPProblem(exc.status, exc.message, exc.details) from None
        check_rate(services.email_limiter, req.email, "e-mail address")
        if services.promote_limiter.enabled:
            check_rate(services.promote_limiter, address, "address (enquiries)")
        if services.disk.low():
            raise HTTPProblem(
                503,
                "the server is low on disk space; retry later",
                ["free disk below MIN_FREE_DISK_MB: new enquiries are refused until space is made"],
                headers={"Retry-After": "60"},
            )
        anon_id = services.signer.verify(request.cookies.get(COOKIE_NAME))
        drop_self_referrals([e["params"] for e in req.client_events], request)
        if gpc_opt_out(request, settings):
            anon_id, req = None, req._replace(client_events=[], touches=[])
        now = utcnow()
        peer = request.client.host if request.client else ""
        caller = workflow.Caller(
            user_agent=request.headers.get("user-agent"),
            address=address,
            origin=own_origin(request, settings),
            peer=peer,
            trusted_proxy=trusted_peer(peer, settings),
            browser_headers=any(h in request.headers for h in ("origin", "sec-fetch-mode", "sec-fetch-site")),
            from_page="origin" in request.headers,
        )
        try:
            done = await workflow.promote(services, req, anon_id, caller, now)
        except StoreUnavailable:
            raise HTTPProblem(503, "storage unavailable; retry later", headers={"Retry-After": "2"}) from None
    except HTTPProblem as problem:
        services.metrics.response("promote", problem.status)
        return problem_response(problem, cors)
    status = 201 if done.created else 200
    services.metrics.response("promote", status)
    body_out: dict[str, object] = {
        "journey_id": done.journey_id,
        "server_events": done.server_events,
        "client_events": len(req.client_events),
        "touches": len(req.touches),
    }
    if req.client_events_dropped:
        body_out["client_events_dropped"] = req.client_events_dropped
    if req.touches_dropped:
        body_out["touches_dropped"] = req.touches_dropped
    # Signed with the journey's creation time, which the save returned: no query of its own.
    body_out["receipt_url"] = receipts.receipt_path(
        services.settings.secret_key.encode(), done.journey_id, done.created_at
    )
    return json_response(body_out, status, cors)


def routes() -> list[Route]:
    return [
        Route("/api/track/promote", promote, methods=["POST"]),
        Route("/api/track/promote", preflight, methods=["OPTIONS"]),
    ]
