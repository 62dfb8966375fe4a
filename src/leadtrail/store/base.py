"""The store: what leadtrail asks of a database, written once over two dialects.

`SqlStore` holds every operation in terms of named queries (store/queries/) and a small set of
primitives that each dialect provides: `fetch`, `execute`, `transaction()` and `write_events`.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from ..timestamps import iso  # the form timestamps take in JSON and in SQLite (re-exported)
from .batcher import GroupCommitter

# The most buffered events one promote snapshots (oldest first).
SNAPSHOT_LIMIT = 5000


class StoreUnavailable(Exception):
    """The database did not answer; the caller answers 503 with Retry-After."""


class EventRow(NamedTuple):
    anon_id: str
    event_name: str
    page_path: str | None
    params: str  # JSON text
    created_at: datetime


@dataclass(frozen=True)
class JourneyRecord:
    """What a promote stores: the snapshot, the client buffer and the list summary."""

    email: str
    anon_id: str | None
    events: list[dict[str, Any]]
    client_events: list[dict[str, Any]]
    form: str | None
    consent: bool | None
    # first_channel, first_source, landing_page, visits, page_views, time_to_enquiry_ms; or a
    # function of the client events and remembered visits stored, which save_journey calls while
    # the database writes
    summary: dict[str, Any] | Callable[[list[dict[str, Any]], list[dict[str, Any]]], dict[str, Any]]
    touches: list[dict[str, Any]] = field(default_factory=list)  # the browser's remembered earlier visits
    # A new journey's spam verdict from the journeys its address and its visitor made in the last
    # day (counted under the promote's lock, in the statement that looks for a journey to refresh),
    # written in the same transaction as the journey; None: not scored (status open, score 0).
    spam: Callable[[int, int], SpamVerdict] | None = None
    # The journey's facts (journey_facts) as totals.facts_row gives them, a function of its
    # creation time called after the summary, written in the same transaction so the periodic
    # refresh has nothing to do for it; it returns None when they could not be computed (that
    # refresh computes them then).
    facts: Callable[[datetime], list[Any] | None] | None = None


class SpamVerdict(NamedTuple):
    score: int  # 0-100
    reasons: list[str]
    spam: bool  # filed as spam (the score reached SPAM_THRESHOLD)


class SavedJourney(NamedTuple):
    id: int
    created: bool  # False: an earlier journey of the same visitor and address was refreshed
    created_at: datetime  # the journey's own creation time (what its receipt is signed with)
    status: str  # open or spam for a new journey; an earlier one's is not read ("open")


def merge_client_events(earlier: Any, later: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A refreshed journey's browser events: what it had, then each new event it did not (by
    event_id; an event without one by its whole content). A second promote with a shorter or
    empty buffer (the browser's is capped, or the form's server called promote) loses nothing."""
    if not isinstance(earlier, list) or not earlier:
        return later
    merged = [e for e in earlier if isinstance(e, dict)]
    ids = {e.get("event_id") for e in merged if e.get("event_id") is not None}
    anonymous = [e for e in merged if e.get("event_id") is None]
    for event in later:
        eid = event.get("event_id")
        if (eid is not None and eid in ids) or (eid is None and event in anonymous):
            continue
        merged.append(event)
        if eid is not None:
            ids.add(eid)
    return merged


# The most bytes (JSON) of browser events one journey keeps: a refresh adds the new ones, so without
# a cap repeated promotes could grow one row without end (issue 12, finding 5).
MAX_CLIENT_EVENT_BYTES = 128 * 1024


def cap_client_events(events: list[dict[str, Any]], max_bytes: int = MAX_CLIENT_EVENT_BYTES) -> list[dict[str, Any]]:
    """The newest events whose JSON fits in `max_bytes` (the oldest go first: the last pages before
    the enquiry matter most, and the buffer's start is what the server saw too)."""
    sizes = [len(orjson.dumps(e)) + 1 for e in events]
    total = sum(sizes)
    start = 0
    while total > max_bytes and start < len(events):
        total -= sizes[start]
        start += 1
    return events[start:] if start else events


def merge_touches(earlier: Any, later: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A refreshed journey's remembered visits: the earlier ones and each new one (by start time
    and landing page), oldest first; a promote without any (the form's own server) loses none."""
    merged: dict[tuple[Any, Any], dict[str, Any]] = {}
    for touch in [*(earlier if isinstance(earlier, list) else []), *later]:
        if isinstance(touch, dict):
            merged.setdefault((touch.get("ts"), touch.get("page_path")), touch)
    return sorted(merged.values(), key=lambda t: t["ts"] if isinstance(t.get("ts"), int) else 0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Transaction(abc.ABC):
    @abc.abstractmethod
    async def fetch(self, query: str, **params: Any) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    async def execute(self, query: str, **params: Any) -> int:
        """Runs a statement; returns the number of rows it changed."""

    async def fetchval(self, query: str, **params: Any) -> Any:
        rows = await self.fetch(query, **params)
        return next(iter(rows[0].values())) if rows else None


class SqlStore(Transaction):
    """Every operation of leadtrail's storage, over the primitives a dialect implements."""

    dialect: str = ""
    JOURNEY_LIST_COLUMNS = (
        "first_channel",
        "first_source",
        "landing_page",
        "visits",
        "page_views",
        "time_to_enquiry_ms",
    )

    # Concurrent batch writers of the group commit (PostgreSQL: one connection each).
    flushers: int = 1
    # Pruning (lifecycle.prune): seconds of rest per second of deleting, and a cap on the batch.
    prune_rest: float = 2.0
    prune_batch_cap: int | None = None

    def __init__(self) -> None:
        self.committer = GroupCommitter(self.write_events, unavailable=StoreUnavailable, flushers=self.flushers)

    # -- primitives each dialect provides ---------------------------------------------------
    @abc.abstractmethod
    async def open(self) -> None: ...

    async def close(self) -> None:
        await self.committer.close()

    @abc.abstractmethod
    def transaction(self, lock_key: str | None = None) -> AbstractAsyncContextManager[Transaction]: ...

    @abc.abstractmethod
    async def write_events(self, rows: Sequence[EventRow], lane: int = 0, deadline: float | None = None) -> None:
        """Writes one batch in one transaction; returns after the commit. `lane` is the group
        commit's flusher (one connection each where the dialect can); `deadline` (event-loop
        time) bounds how long the write may wait for the database before StoreUnavailable."""

    @abc.abstractmethod
    async def migrate(self) -> list[str]:
        """Applies pending migrations; returns the names applied."""

    @abc.abstractmethod
    async def migrations(self) -> list[tuple[str, datetime | None]]:
        """Every known migration and when it was applied (None: pending)."""

    @abc.abstractmethod
    def decode_time(self, value: Any) -> datetime: ...

    def decode_json(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, (str, bytes)) else value

    # -- ingest --------------------------------------------------------------------------------
    def add_events(self, rows: Sequence[EventRow]) -> Awaitable[None]:
        """Stores events durably: what it returns completes only after the commit that holds them
        (group commit). The committer's future itself, not a coroutine around it: on the hot path
        each coroutine layer costs at the call and again when the request resumes."""
        return self.committer.enqueue(rows)

    # -- buffer lifecycle ------------------------------------------------------------------------
    async def snapshot_events(self, anon_id: str, since: datetime, limit: int = SNAPSHOT_LIMIT) -> list[dict[str, Any]]:
        rows = await self.fetch("snapshot_events", anon_id=anon_id, since=since, limit=limit)
        return [self._event_out(row) for row in rows]

    def _event_out(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "event_name": row["event_name"],
            "page_path": row["page_path"],
            "params": self.decode_json(row["params"]),
            "created_at": self.time_text(row["created_at"]),
        }

    def time_text(self, value: Any) -> str:
        """A stored timestamp as fixed-width ISO 8601 UTC (what `iso` makes)."""
        return iso(self.decode_time(value))

    async def delete_expired_events(self, before: datetime, limit: int) -> int:
        async with self.transaction() as tx:
            return await tx.execute("delete_expired_events", before=before, limit=limit)

    async def delete_expired_journeys(self, before: datetime, limit: int) -> int:
        async with self.transaction() as tx:
            return await tx.execute("delete_expired_journeys", before=before, limit=limit)

    # -- journeys ----------------------------------------------------------------------------------
    async def count_visitor_events(self, anon_id: str, since: datetime) -> int:
        return int(await self.fetchval("count_visitor_events", anon_id=anon_id, since=since))

    async def save_journey(self, record: JourneyRecord, now: datetime, idempotency: timedelta) -> tuple[int, bool]:
        """save_promoted() as (journey id, created)."""
        saved = await self.save_promoted(record, now, idempotency)
        return saved.id, saved.created

    async def save_promoted(self, record: JourneyRecord, now: datetime, idempotency: timedelta) -> SavedJourney:
        """Stores a promote; the same visitor and address within `idempotency` refreshes the
        earlier journey instead, keeping the browser events it had (merged by event_id with the
        new buffer) and its form and consent when the new request has none; one whose history the
        enquirer removed (their receipt) is left as it is.

        One transaction, one statement per step: the lock on (visitor, address); one look for the
        journey to refresh and, for a new one, the counts its spam score needs; the row; its
        summary and spam score; the commit. When `record.summary` is a function (of the client
        events stored), it is called, and then `record.spam` for a new journey, while the database
        takes in the row (parsing thousands of events into jsonb costs PostgreSQL about as long as
        the summary costs Python); their result is written in the same transaction, and so are
        the journey's facts when `record.facts` is given (one more statement)."""
        later = callable(record.summary)
        summary: dict[str, Any] = {} if later else record.summary  # type: ignore[assignment]
        values = dict(
            events=dumps(record.events),
            form=record.form,
            consent=record.consent,
            **{column: summary.get(column) for column in self.JOURNEY_LIST_COLUMNS},
        )
        client_events = record.client_events
        touches = record.touches
        lock_key = f"{record.anon_id}|{record.email}" if record.anon_id else None
        async with self.transaction(lock_key=lock_key) as tx:
            existing, created_at = None, now
            rows = await tx.fetch(
                "find_recent_journey",
                email=record.email,
                anon_id=record.anon_id,
                since=now - idempotency,
                day_ago=now - timedelta(days=1),
            )
            look = rows[0]
            if look["id"] is not None:
                existing, created_at = int(look["id"]), self.decode_time(look["created_at"])
                if look["history_removed_at"] is not None:
                    # the enquirer removed its history: it stays removed
                    return SavedJourney(existing, False, created_at, "open")
                client_events = merge_client_events(self.decode_json(look["client_events"]), client_events)
                touches = merge_touches(self.decode_json(look["touches"]), touches)
            client_events = cap_client_events(client_events)
            values["client_events"] = dumps(client_events)
            values["touches"] = dumps(touches)
            if existing is not None:
                write = tx.execute("refresh_journey", id=existing, updated_at=now, **values)
            else:
                write = tx.fetchval(
                    "insert_journey", email=record.email, anon_id=record.anon_id, created_at=now, **values
                )
            verdict, facts = None, None
            if not later and (existing is not None or record.spam is None):
                written = await write
                facts = record.facts(created_at) if record.facts is not None else None
            else:
                task = asyncio.ensure_future(write)
                await asyncio.sleep(0)  # one step of the task: the statement is on its way
                try:
                    if later:
                        summary = record.summary(client_events, touches)  # type: ignore[operator]
                    if existing is None and record.spam is not None:
                        verdict = record.spam(int(look["same_email"]), int(look["same_visitor"]))
                    if record.facts is not None:
                        facts = record.facts(created_at)
                finally:
                    written = await task
            journey_id = int(existing if existing is not None else written)
            if later or verdict is not None:
                scored = verdict if verdict is not None and verdict.score > 0 else None
                await tx.execute(
                    "set_journey_summary",
                    id=journey_id,
                    score=scored.score if scored else None,
                    reasons=dumps(scored.reasons) if scored else None,
                    spam=bool(scored and scored.spam),
                    **{column: summary.get(column) for column in self.JOURNEY_LIST_COLUMNS},
                )
            if facts is not None:
                await tx.execute("facts_upsert", rows=dumps([[journey_id, *facts]]))
            status = "spam" if verdict is not None and verdict.score > 0 and verdict.spam else "open"
            return SavedJourney(journey_id, existing is None, created_at, status)

    def journey_out(self, row: dict[str, Any]) -> dict[str, Any]:
        out = dict(row)
        for key in ("events", "client_events", "spam_reasons", "touches"):
            if key in out:
                out[key] = self.decode_json(out[key])
        if out.get("value") is not None:
            out["value"] = float(out["value"])  # numeric: a Decimal from PostgreSQL
        for key in ("created_at", "updated_at", "history_removed_at"):
            if out.get(key) is not None:
                out[key] = iso(self.decode_time(out[key]))
        if out.get("consent") is not None:
            out["consent"] = bool(out["consent"])
        return out

    async def journeys_by_email(self, email: str, since: datetime) -> list[dict[str, Any]]:
        rows = await self.fetch("journeys_by_email", email=email, since=since)
        return [self.journey_out(row) for row in rows]

    async def erase_email(self, email: str) -> int:
        """Deletes every journey of the address and the buffered events of its visitors."""
        async with self.transaction() as tx:
            await tx.execute("erase_buffered_events_of_email", email=email)
            return await tx.execute("erase_journeys_of_email", email=email)

    async def ping(self) -> None:
        await self.fetch("ping")

    async def count(self, what: str) -> int:
        return int(await self.fetchval(f"count_{what}"))
