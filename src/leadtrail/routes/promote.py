"""POST /api/track/promote: snapshot the visitor's buffer and their browser's buffer into a journey."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..contract import MAX_PROMOTE_BODY
from ..identity import COOKIE_NAME
from ..ingest import IngestError, PromoteRequest, parse_promote_body
from ..journeys import list_summary
from ..lifecycle import event_cutoff
from ..promote import until_next_page
from ..services import Services
from ..store import JourneyRecord, StoreUnavailable, utcnow
from ..store.base import SNAPSHOT_LIMIT
from ..web import (
    HTTPProblem,
    check_identity_encoding,
    check_origin,
    client_address,
    cors_headers,
    json_response,
    media_type,
    own_origin,
    preflight,
    problem_response,
    read_body,
    trusted_peer,
)
from ..webhook import JourneyCreated, journey_link
from .track import check_rate, drop_self_referrals, gpc_opt_out

log = logging.getLogger("leadtrail.promote")

IDEMPOTENCY_WINDOW = timedelta(minutes=10)
# The tracker sends the page's last events (its engagement time, the form's own event) at the
# moment it promotes; they can commit just after the snapshot. One late look at the buffer takes
# them in, so the journey does not call them "hidden from the server" when they were only in flight.
LATE_REFRESH_DELAY = 3.0


async def buffered_until_enquiry(services: Services, anon_id: str | None, now: datetime) -> list[dict]:
    """The visitor's buffered events inside the TTL, without what came after the enquiry."""
    if anon_id is None:
        return []
    return until_next_page(await services.store.snapshot_events(anon_id, event_cutoff(services.settings, now)), now)


async def save_snapshot(
    services: Services,
    req: PromoteRequest,
    anon_id: str | None,
    client_events: list[dict],
    now: datetime,
    server_events: list[dict] | None = None,
) -> tuple[int, bool, list[dict]]:
    """Snapshots the visitor's buffer with the client events into a journey: (id, created, server events)."""
    started = time.perf_counter()
    if server_events is None:
        server_events = await buffered_until_enquiry(services, anon_id, now)
    snapshot_ms = (time.perf_counter() - started) * 1000
    record = JourneyRecord(
        email=req.email,
        anon_id=anon_id,
        events=server_events,
        client_events=client_events,
        form=req.form,
        consent=req.consent,
        summary=lambda stored_client_events: list_summary(server_events, stored_client_events, now),
    )
    journey_id, created = await services.store.save_journey(record, now, IDEMPOTENCY_WINDOW)
    outcome = "created" if created else "refreshed"
    # Never the e-mail address: the journey id is how an owner finds it.
    log.info(
        "journey %d %s",
        journey_id,
        outcome,
        extra={
            "journey_id": journey_id,
            "outcome": outcome,
            "server_events": len(server_events),
            "client_events": len(client_events),
            "snapshot_ms": round(snapshot_ms, 1),
            "save_ms": round((time.perf_counter() - started) * 1000 - snapshot_ms, 1),
        },
    )
    return journey_id, created, server_events


async def refresh_late(
    services: Services, req: PromoteRequest, anon_id: str, client_events: list[dict], now: datetime, seen: int
) -> None:
    """The late look: a count first (cheap); the snapshot again only when events arrived, and a
    write only when some of them belong before the enquiry (not the thank-you page after it)."""
    await asyncio.sleep(LATE_REFRESH_DELAY)
    since = event_cutoff(services.settings, now)
    if min(await services.store.count_visitor_events(anon_id, since), SNAPSHOT_LIMIT) <= seen:
        return
    server_events = await buffered_until_enquiry(services, anon_id, now)
    if len(server_events) > seen:
        await save_snapshot(services, req, anon_id, client_events, now, server_events)


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
        check_rate(services.address_limiter, client_address(request, settings), "address")
        body = await read_body(request, MAX_PROMOTE_BODY)
        try:
            req = parse_promote_body(body)
        except IngestError as exc:
            raise HTTPProblem(exc.status, exc.message, exc.details) from None
        check_rate(services.email_limiter, req.email, "e-mail address")
        anon_id = services.signer.verify(request.cookies.get(COOKIE_NAME))
        client_events = req.client_events
        drop_self_referrals([e["params"] for e in client_events], request)
        if gpc_opt_out(request, services):
            anon_id, client_events = None, []
        now = utcnow()
        try:
            journey_id, created, server_events = await save_snapshot(services, req, anon_id, client_events, now)
        except StoreUnavailable:
            raise HTTPProblem(503, "storage unavailable; retry later", headers={"Retry-After": "2"}) from None
    except HTTPProblem as problem:
        services.metrics.response("promote", problem.status)
        return problem_response(problem, cors)
    services.metrics.response("promote", 201 if created else 200)
    services.metrics.journeys["created" if created else "refreshed"] += 1
    server_count = len(server_events)
    if created and services.webhook is not None:
        # Committed already; the sender delivers it later and never makes this answer wait.
        peer = request.client.host if request.client else ""
        services.webhook.submit(
            JourneyCreated(
                journey_id=journey_id,
                created_at=now,
                email=req.email,
                form=req.form,
                consent=req.consent,
                server_events=server_events,
                client_events=client_events,
                link=journey_link(own_origin(request, settings), peer, trusted_peer(peer, settings), journey_id),
            )
        )
    if anon_id is not None and client_events:
        services.spawn(refresh_late(services, req, anon_id, client_events, now, server_count))
    body_out = {"journey_id": journey_id, "server_events": server_count, "client_events": len(client_events)}
    if req.client_events_dropped:
        body_out["client_events_dropped"] = req.client_events_dropped
    return json_response(body_out, 201 if created else 200, cors)


def routes() -> list[Route]:
    return [
        Route("/api/track/promote", promote, methods=["POST"]),
        Route("/api/track/promote", preflight, methods=["OPTIONS"]),
    ]
