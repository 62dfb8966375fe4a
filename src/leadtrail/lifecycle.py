"""The buffer's lifecycle: expired events and journeys are deleted three ways.

1. Probabilistically on /api/track (PRUNE_PROBABILITY): one bounded batch in the background, so the
   request it rides on is never slowed; at most one such prune runs at a time, and after one that
   found little to delete the next waits PROBABILISTIC_QUIET seconds (at thousands of requests a
   second, 1% would otherwise be a prune query after every other).
2. Periodically in the server (every PRUNE_INTERVAL seconds): batches until nothing is left.
3. On demand: `leadtrail prune`.
Every prune shares the database with ingestion: after each batch it rests `store.prune_rest` times
as long as the batch took, so it holds the database at most 1/(1 + rest) of the time and writers
always get in between batches (bench/ measures ingest throughput during a 10-million-row prune).
PostgreSQL rests 2x (ingest keeps ~0.9 of its rate); SQLite, whose one writer the prune's batches
hold, takes smaller batches and rests 4x.
Reads never depend on this having run: they filter by the TTL themselves.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import totals
from .settings import Settings
from .store import SqlStore, StoreUnavailable, utcnow

log = logging.getLogger("leadtrail.prune")

PROBABILISTIC_QUIET = 10.0  # seconds between probabilistic prunes once little is left to delete


@dataclass
class PruneResult:
    events: int = 0
    journeys: int = 0


def event_cutoff(settings: Settings, now: datetime) -> datetime:
    """Buffered events created before this are expired."""
    return now - timedelta(seconds=settings.event_ttl)


def journey_cutoff(settings: Settings, now: datetime) -> datetime | None:
    """Journeys created before this are past JOURNEY_RETENTION (None: kept until erased)."""
    if settings.journey_retention is None:
        return None
    return now - timedelta(days=settings.journey_retention)


def visible_journeys_since(settings: Settings, now: datetime) -> datetime:
    return journey_cutoff(settings, now) or datetime(1970, 1, 1, tzinfo=now.tzinfo)


def prune_batch(store: SqlStore, settings: Settings) -> int:
    """PRUNE_BATCH, capped where the store wants smaller batches (SQLite: every batch holds the
    one writer, so ingestion waits for it)."""
    cap = store.prune_batch_cap
    return min(settings.prune_batch, cap) if cap else settings.prune_batch


async def prune(
    store: SqlStore,
    settings: Settings,
    now: datetime | None = None,
    max_batches: int | None = None,
    pause: float = 0.0,
    rest: float | None = None,
) -> PruneResult:
    """Deletes expired rows in bounded batches; between batches it sleeps `rest` times as long as
    the batch took (default: the store's prune_rest; at least `pause` seconds), so writers get in."""
    now = now or utcnow()
    rest = store.prune_rest if rest is None else rest
    batch = prune_batch(store, settings)
    result = PruneResult()
    batches = 0
    before = await _counted_cutoff(store, settings, now)
    while before is not None and (max_batches is None or batches < max_batches):
        started = time.monotonic()
        deleted = await store.delete_expired_events(before, batch)
        result.events += deleted
        batches += 1
        if deleted < batch or (max_batches is not None and batches >= max_batches):
            break
        wait = max(pause, rest * (time.monotonic() - started))
        if wait:
            await asyncio.sleep(wait)
    cutoff = journey_cutoff(settings, now)
    while cutoff is not None:
        deleted = await store.delete_expired_journeys(cutoff, settings.prune_batch)
        result.journeys += deleted
        if deleted < settings.prune_batch:
            break
    return result


async def _counted_cutoff(store: SqlStore, settings: Settings, now: datetime) -> datetime | None:
    """The TTL cut-off, but never past events the daily totals have not counted (totals.py): when
    the roll-up lags behind the cut-off (no server ran it: `leadtrail prune`), it runs first."""
    cutoff = event_cutoff(settings, now)
    before = await totals.prune_before(store, cutoff)
    if before is None or before < cutoff:
        await totals.roll_up(store, settings.tz, now)
        before = await totals.prune_before(store, cutoff)
    return before


class Pruner:
    """Runs the in-server prunes: the probabilistic one and the periodic one."""

    def __init__(self, store: SqlStore, settings: Settings, rng: random.Random | None = None) -> None:
        self.store = store
        self.settings = settings
        self._rng = rng or random.Random()
        self._running: asyncio.Task[None] | None = None
        self._periodic: asyncio.Task[None] | None = None
        self._next_probabilistic = 0.0  # time.monotonic() before which maybe_prune does nothing
        self.deleted_events = 0  # for /metrics

    def maybe_prune(self) -> None:
        """Called on /api/track: with PRUNE_PROBABILITY, starts one bounded batch in the background."""
        if self._rng.random() >= self.settings.prune_probability:
            return
        if self._running is not None and not self._running.done():
            return
        if time.monotonic() < self._next_probabilistic:
            return
        self._running = asyncio.create_task(self._probabilistic())

    async def _probabilistic(self) -> None:
        started = time.monotonic()
        result = await self._quietly(max_batches=1)
        took = time.monotonic() - started
        full = result is not None and result.events >= prune_batch(self.store, self.settings)
        # More expired rows waiting: the next batch after the usual rest. Little or nothing (or
        # the database away): wait a while, the periodic prune covers the rest.
        self._next_probabilistic = time.monotonic() + (self.store.prune_rest * took if full else PROBABILISTIC_QUIET)

    async def _quietly(self, max_batches: int | None, pause: float = 0.0) -> PruneResult | None:
        try:
            result = await prune(self.store, self.settings, max_batches=max_batches, pause=pause)
            self.deleted_events += result.events
            if result.events or result.journeys:
                log.info(
                    "pruned events=%d journeys=%d",
                    result.events,
                    result.journeys,
                    extra={"events_deleted": result.events, "journeys_deleted": result.journeys},
                )
            return result
        except StoreUnavailable as exc:
            log.warning("prune skipped: %s", exc)
            return None
        except Exception:
            log.exception("prune failed")
            return None

    def start_periodic(self) -> None:
        self._periodic = asyncio.create_task(self._every_interval())

    async def _every_interval(self) -> None:
        while True:
            await self._quietly(max_batches=None, pause=0.05)
            await asyncio.sleep(self.settings.prune_interval)

    async def stop(self) -> None:
        for task in (self._periodic, self._running):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
