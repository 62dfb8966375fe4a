"""The promote workflow: snapshot the visitor's buffer with their browser's buffer into a journey,
score it for spam, hand a new non-spam enquiry to the webhook (and the e-mail notifier), and take
one late look for events that were in flight. routes/promote.py is its HTTP adapter."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from . import spam, totals
from .bots import is_bot
from .ingest import PromoteRequest
from .journeys import list_columns, outline
from .lifecycle import event_cutoff
from .services import Services
from .store import JourneyRecord
from .store.base import SNAPSHOT_LIMIT, SpamVerdict
from .timestamps import iso
from .webhook import JourneyCreated, journey_link


def until_next_page(server_events: list[dict], submitted_at: datetime) -> list[dict]:
    """The visitor's buffered events (oldest first) without what they did after the enquiry.

    Events stored after the submission on the form's own page stay: the tracker sends the page's
    engagement time and the form's own events (a `generate_lead`) with the promote, and they may
    commit just after it. From the first `page_view` after the submission on (the thank-you page
    the form leads to, the next page the visitor reads) the events belong after the enquiry, not
    in the path to it, so they are left out. Only the events newer than the submission are looked
    at; `created_at` is fixed-width ISO 8601 UTC text, so comparing text compares times.
    """
    cut = iso(submitted_at)
    first_after = len(server_events)
    while first_after and _later(server_events[first_after - 1].get("created_at"), cut, submitted_at):
        first_after -= 1
    for i in range(first_after, len(server_events)):
        if server_events[i].get("event_name") == "page_view":
            return server_events[:i]
    return server_events


def _later(created_at: object, cut: str, submitted_at: datetime) -> bool:
    if isinstance(created_at, str):
        return created_at > cut
    if isinstance(created_at, datetime):  # naive times are UTC, as everywhere in the store
        return created_at.replace(tzinfo=created_at.tzinfo or UTC) > submitted_at
    return False


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


class Saved(NamedTuple):
    journey_id: int
    created: bool
    server_events: list[dict]  # the snapshot of the visitor's buffer
    summary: dict[str, Any]  # journeys.summarize() of what was stored: the list's columns, the webhook, the e-mail
    created_at: datetime  # the journey's creation time (its receipt is signed with it)
    status: str  # a new journey's: open, or spam when its score reached SPAM_THRESHOLD


async def save_snapshot(
    services: Services,
    req: PromoteRequest,
    anon_id: str | None,
    client_events: list[dict],
    now: datetime,
    server_events: list[dict] | None = None,
    caller: Caller | None = None,
) -> Saved:
    """Snapshots the visitor's buffer with the client events into a journey. Its summary is
    computed once, of the client events and remembered visits as stored (merged with an earlier
    promote's on a refresh), while the database takes in the row; so is a new journey's spam
    score when `caller` is given (the late look's refresh passes none: it never creates), and the
    journey's facts (totals.facts_row, from the same outline), written in the same
    transaction: the periodic facts refresh has nothing left to rebuild for it."""
    started = time.perf_counter()
    if server_events is None:
        server_events = await buffered_until_enquiry(services, anon_id, now)
    snapshot_ms = (time.perf_counter() - started) * 1000
    summary: dict[str, Any] = {}
    snapshot = server_events
    stored: list[Any] = []  # the client events and remembered visits stored, and their outline

    def columns(stored_client_events: list[dict], stored_touches: list[dict]) -> dict[str, Any]:
        outlined = outline(snapshot, stored_client_events, now, touches=stored_touches)
        stored[:] = [stored_client_events, stored_touches, outlined]
        summary.update(outlined["summary"])
        return list_columns(summary)

    def facts(created_at: datetime) -> list | None:
        try:
            stored_client_events, stored_touches, outlined = stored
            return totals.facts_row(snapshot, stored_client_events, stored_touches, created_at, now, outlined)
        except Exception:  # never the promote's failure: the periodic refresh computes them
            log.exception("journey facts not computed at the promote")
            return None

    verdicts: list[SpamVerdict] = []

    def spam_verdict(same_email: int, same_visitor: int) -> SpamVerdict:
        assert caller is not None
        evidence = evidence_of(services, req, anon_id, snapshot, client_events, caller, now, same_email, same_visitor)
        score, reasons = spam.score(evidence)
        verdicts.append(SpamVerdict(score, reasons, score >= services.settings.spam_threshold))
        return verdicts[-1]

    record = JourneyRecord(
        email=req.email,
        anon_id=anon_id,
        events=server_events,
        client_events=client_events,
        form=req.form,
        consent=req.consent,
        summary=columns,
        touches=req.touches,
        spam=spam_verdict if caller is not None else None,
        facts=facts,
    )
    try:
        saved = await services.store.save_promoted(record, now, IDEMPOTENCY_WINDOW)
    except BaseException:
        if verdicts and caller is not None and caller.visitor_address:
            services.client_bursts.forget(caller.address)  # not saved: a retry is not a second enquiry
        raise
    journey_id, created = saved.id, saved.created
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
    if verdicts and verdicts[-1].score:
        log.info(
            "journey %d spam score %d",
            journey_id,
            verdicts[-1].score,
            extra={"journey_id": journey_id, "spam_score": verdicts[-1].score},
        )
    return Saved(journey_id, created, server_events, summary, saved.created_at, saved.status)


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


@dataclass(frozen=True)
class Caller:
    """What the HTTP layer knows about who promoted: their user agent, their client address, and
    whether the origin they reached us at can be believed for links (webhook.journey_link)."""

    user_agent: str | None
    address: str
    origin: str
    peer: str
    trusted_proxy: bool
    # Origin or Sec-Fetch-* headers: what every current browser sends and scripts usually do not.
    browser_headers: bool = False
    # An Origin header: a page's script sent the promote itself, so `address` is the visitor's
    # (a form's server calling promote has its own address, unless it is a trusted proxy).
    from_page: bool = False

    @property
    def visitor_address(self) -> bool:
        return self.from_page or self.trusted_proxy

    def link(self, journey_id: int) -> str | None:
        return journey_link(self.origin, self.peer, self.trusted_proxy, journey_id)


@dataclass(frozen=True)
class Promoted:
    journey_id: int
    created: bool
    server_events: int
    status: str
    created_at: datetime  # the journey's creation time: its receipt's signature covers it


def evidence_of(
    services: Services,
    req: PromoteRequest,
    anon_id: str | None,
    server_events: list[dict],
    client_events: list[dict],
    caller: Caller,
    now: datetime,
    same_email: int,
    same_visitor: int,
) -> spam.Evidence:
    """A new journey's spam evidence; `same_email` and `same_visitor` are the journeys the address
    and the visitor made in the last day before this one (store.save_promoted counts them)."""
    page_views, to_enquiry, form_page = spam.page_evidence(
        server_events, client_events, req.touches, int(now.timestamp() * 1000)
    )
    return spam.Evidence(
        page_views=page_views,
        time_to_enquiry_ms=to_enquiry,
        form_page_ms=form_page,
        honeypot=req.honeypot,
        browser=spam.from_browser(
            is_bot(caller.user_agent),
            caller.browser_headers,
            anon_id is not None,
            bool(client_events),
            bool(req.touches),
        ),
        same_email=same_email,
        same_visitor=same_visitor if anon_id is not None else 0,
        same_client=services.client_bursts.count(caller.address) if caller.visitor_address else 0,
    )


async def promote(
    services: Services, req: PromoteRequest, anon_id: str | None, caller: Caller, now: datetime
) -> Promoted:
    """The whole promote after the request is parsed and allowed: save and score (one
    transaction), notify, look late. Raises StoreUnavailable when the database does not answer
    (nothing is acknowledged then)."""
    client_events = req.client_events
    saved = await save_snapshot(services, req, anon_id, client_events, now, caller=caller)
    services.metrics.journeys["created" if saved.created else "refreshed"] += 1
    if saved.created and saved.status != "spam":
        announce(services, req, saved, caller, now)
    if anon_id is not None and client_events:
        services.spawn(refresh_late(services, req, anon_id, client_events, now, len(saved.server_events)))
    return Promoted(saved.journey_id, saved.created, len(saved.server_events), saved.status, saved.created_at)


def announce(services: Services, req: PromoteRequest, saved: Saved, caller: Caller, now: datetime) -> None:
    """A new enquiry that is not spam goes to the webhook and the e-mail notifier: committed
    already, delivered later by bounded background senders, never delaying the answer. Each gets
    the same JourneyCreated (its summary computed once, at the save). The dashboard link is made
    from BASE_URL when it is set, else from the promote's origin when that can be believed."""
    base_url = services.settings.base_url
    created = JourneyCreated(
        journey_id=saved.journey_id,
        created_at=now,
        email=req.email,
        form=req.form,
        consent=req.consent,
        link=f"{base_url}/cp/journeys/{saved.journey_id}" if base_url else caller.link(saved.journey_id),
        summary=saved.summary,
    )
    if services.webhook is not None:
        services.webhook.submit(created)
    if services.notifier is not None:
        services.notifier.submit(created.journey_id, created.created_at, created.link)
