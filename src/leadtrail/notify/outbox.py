"""The e-mail sender: new-enquiry e-mails and digests through the `email_outbox` table.

A promote's announce() hands a created, non-spam journey to `Notifier.submit`, which never waits:
a bounded in-memory queue, drained by a task that writes one outbox row per e-mail (its journey
id and dashboard link, no address). From then on the e-mail survives a restart or a crash. A
sender task per process takes due rows by compare-and-set (`claim`, `claimed_until`), so with
several workers or hosts each e-mail is sent by one of them; a holder that dies lets go when its
claim runs out (CLAIM_SECONDS), and another sends it. Delivery is at least once: a crash between
the server's "accepted" and the row's update sends that e-mail again.

The e-mail is written when it is sent, FIRST_DELAY after the promote (so the promote's late look
at events in flight is in it), from the journey as stored then: an enquiry erased or refiled as
spam meanwhile is not sent. A failed attempt is retried with exponential backoff (RETRY_BASE
doubling up to RETRY_MAX) for GIVE_UP_AFTER; a message the server refuses for good (5xx) is
given up at once. Logs name journeys by id and never hold an e-mail address.

NOTIFY_DIGEST: every look at the outbox also adds the latest ended period's digest
(digest.due_period) by its key; the table's primary key makes that once per period for all
workers, and finished rows are kept KEEP_FINISHED so a period is never added again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, NamedTuple

from ..charts.text import Format
from ..export import export_journey
from ..lifecycle import visible_journeys_since
from ..metrics import Metrics
from ..settings import Settings
from ..store import SqlStore, StoreUnavailable, utcnow
from ..store import dashboard as db
from . import digest, enquiry, smtp
from .mail import default_sender, redact_addresses

log = logging.getLogger("leadtrail.notify")

# The schedule. Module constants, not settings: tests shorten them.
FIRST_DELAY = 5.0  # seconds after the promote; its late look (promote.LATE_REFRESH_DELAY) is done by then
POLL_INTERVAL = 10.0  # seconds between looks for e-mails due (retries, other workers' rows, digests)
RETRY_BASE = 15.0  # seconds before the second attempt; doubled for each one after
RETRY_MAX = 900.0  # the longest wait between two attempts
GIVE_UP_AFTER = timedelta(hours=24)  # an e-mail still not sent this long after it was queued is given up
CLAIM_SECONDS = 300.0  # how long a sender holds an e-mail (more than an attempt may take)
QUEUE_SIZE = 256  # announced enquiries waiting to be written to the outbox; past this they are dropped
BATCH = 20  # due e-mails taken per look
KEEP_FINISHED = timedelta(days=35)  # finished rows kept (a weekly digest's key must outlive its period)
SHUTDOWN_GRACE = 3.0  # seconds the outbox writes and a send in progress get when the server stops
STORE_RETRY = 2.0  # seconds between tries to write the outbox while the database is down
HOUSEKEEPING_EVERY = 3600.0  # seconds between deletions of old finished rows


class Announced(NamedTuple):
    journey_id: int
    created_at: datetime
    link: str | None


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: 15, 30, 60, ... 900."""
    return min(RETRY_MAX, RETRY_BASE * 2 ** max(0, attempts - 1))


def journey_key(journey_id: int) -> str:
    return f"journey:{journey_id}"


class Skip(Exception):
    """Nothing to send for this row (its journey was erased, or refiled as spam)."""


class Notifier:
    """One per server process, when SMTP_URL and NOTIFY_EMAILS are set."""

    def __init__(self, store: SqlStore, settings: Settings, metrics: Metrics, times: Format) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.times = times
        self.server = smtp.SmtpServer.from_url(settings.smtp_url)
        self.sender = settings.smtp_from or default_sender(self.server.username, self.server.host)
        self.recipients = settings.notify_emails
        self._queue: asyncio.Queue[Announced] | None = None
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._digest_added: str | None = None
        self._housekept = 0.0

    # -- the promote's side: never waits -------------------------------------------------------------
    def submit(self, journey_id: int, created_at: datetime, link: str | None) -> bool:
        """Queues a new enquiry's e-mail; False (logged, counted) when the queue is full or stopping."""
        if self._closing:
            return self._drop(journey_id, "server stopping")
        if self._queue is None:
            self.start()
        assert self._queue is not None
        try:
            self._queue.put_nowait(Announced(journey_id, created_at, link))
        except asyncio.QueueFull:
            return self._drop(journey_id, "queue full")
        return True

    def _drop(self, journey_id: int, reason: str) -> bool:
        self.metrics.emails[("enquiry", "dropped")] += 1
        log.warning(
            "e-mail for journey %d dropped: %s",
            journey_id,
            reason,
            extra={"journey_id": journey_id, "outcome": "dropped", "reason": reason},
        )
        return False

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._queue is not None:
            return
        self._queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._wake = asyncio.Event()
        self._tasks = [asyncio.create_task(self._record()), asyncio.create_task(self._send_loop())]

    async def close(self, grace: float | None = None) -> None:
        """Writes what is queued to the outbox and lets a send in progress finish, for `grace`
        seconds; the rest waits in the outbox for the next start (or another worker)."""
        self._closing = True
        if self._queue is None or self._wake is None:
            return
        grace = SHUTDOWN_GRACE if grace is None else grace
        self._wake.set()
        try:
            await asyncio.wait_for(self._queue.join(), grace)
        except TimeoutError:
            pass
        recorder, sender = self._tasks
        recorder.cancel()  # waiting for the next item (none comes), or still writing one: dropped, logged
        try:
            await asyncio.wait_for(asyncio.shield(sender), grace)  # a send in progress finishes
        except TimeoutError:
            sender.cancel()  # its claim runs out, then this e-mail is sent by the next start
        except Exception:
            pass
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._queue.empty():
            self._drop(self._queue.get_nowait().journey_id, "server stopping")

    # -- writing the outbox ------------------------------------------------------------------------------
    async def _record(self) -> None:
        assert self._queue is not None and self._wake is not None
        while True:
            item = await self._queue.get()
            try:
                while True:
                    try:
                        await self.add_enquiry(item)
                        self.metrics.emails[("enquiry", "queued")] += 1
                        break
                    except StoreUnavailable as exc:
                        if self._closing:
                            raise
                        log.warning("e-mail for journey %d waits for the database: %s", item.journey_id, exc)
                        await asyncio.sleep(STORE_RETRY)
                self._wake.set()
            except asyncio.CancelledError:
                self._drop(item.journey_id, "server stopping")
                raise
            except Exception as exc:
                self._drop(item.journey_id, f"not written to the outbox: {exc!r}")
            finally:
                self._queue.task_done()

    async def add_enquiry(self, item: Announced) -> None:
        async with self.store.transaction() as tx:
            await tx.execute(
                "outbox_add_enquiry",
                key=journey_key(item.journey_id),
                journey_id=item.journey_id,
                link=item.link,
                created_at=item.created_at,
                due_at=item.created_at + timedelta(seconds=FIRST_DELAY),
            )

    async def add_due_digest(self, now: datetime) -> bool:
        """Adds the latest ended period's digest to the outbox; True when this call added it
        (every other worker's insert of the same key changes nothing)."""
        period = digest.due_period(self.settings.notify_digest, now, self.settings.tz)
        if period is None or period.key == self._digest_added:
            return False
        async with self.store.transaction() as tx:
            added = await tx.execute("outbox_add_digest", key=period.key, created_at=now, due_at=now)
        self._digest_added = period.key
        return added == 1

    # -- sending -------------------------------------------------------------------------------------------
    async def _send_loop(self) -> None:
        assert self._wake is not None
        while not self._closing:
            self._wake.clear()
            delay = POLL_INTERVAL
            try:
                await self.run_once()
                next_due = await self.store.fetchval("outbox_next_due")
                if next_due is not None:
                    wait = (self.store.decode_time(next_due) - utcnow()).total_seconds()
                    delay = min(POLL_INTERVAL, max(0.05, wait))
            except StoreUnavailable as exc:
                log.warning("e-mail outbox not read: %s", exc)
            except Exception:
                log.exception("e-mail outbox failed")
            if self._closing:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass

    async def run_once(self, now: datetime | None = None) -> int:
        """One look at the outbox: adds a due digest, sends what is due. Returns e-mails handled."""
        now = now or utcnow()
        if self.settings.notify_digest != "off":
            await self.add_due_digest(now)
        if time.monotonic() - self._housekept > HOUSEKEEPING_EVERY:
            self._housekept = time.monotonic()
            async with self.store.transaction() as tx:
                await tx.execute("outbox_forget", before=now - KEEP_FINISHED)
        handled = 0
        while not self._closing:
            rows = await self.store.fetch("outbox_due", now=now, limit=BATCH)
            for row in rows:
                if self._closing:
                    break
                claim = secrets.token_hex(8)
                # The clock now, not at the look: sends before this one may have taken minutes,
                # and the claim must outlast this attempt.
                at = max(now, utcnow())
                async with self.store.transaction() as tx:
                    taken = await tx.execute(
                        "outbox_claim",
                        key=row["key"],
                        claim=claim,
                        now=at,
                        until=at + timedelta(seconds=CLAIM_SECONDS),
                    )
                if taken == 1:
                    await self.send_row(row, claim)
                    handled += 1
            if len(rows) < BATCH:
                break
            now = utcnow()
        return handled

    async def compose(self, row: dict[str, Any], now: datetime) -> EmailMessage:
        """The e-mail of an outbox row, written now. Raises Skip when there is nothing to send."""
        if row["kind"] == "digest":
            return await self._compose_digest(digest.period_of(row["key"]), now)
        since = visible_journeys_since(self.settings, now)
        journey_row = await db.get_journey(self.store, int(row["journey_id"]), since)
        if journey_row is None:
            raise Skip("the journey is gone (erased, or past JOURNEY_RETENTION)")
        if journey_row.get("status") == "spam":
            raise Skip("the journey was filed as spam")
        journey = await asyncio.to_thread(export_journey, journey_row)
        view = enquiry.enquiry_view(journey, row.get("link"), self.times)
        return enquiry.enquiry_message(view, self.sender, self.recipients, now)

    async def _compose_digest(self, period: digest.Period, now: datetime) -> EmailMessage:
        from ..localtime import day_range
        from ..totals import load_insights

        tz = self.settings.tz
        figures = []
        for p in (period, period.previous()):
            since, until = day_range(p.first, p.last, tz)
            [outcomes] = await self.store.fetch("digest_outcomes", since=since, until=until)
            figures.append((outcomes, await load_insights(self.store, p.first, p.last, tz, now=now)))
        link = None
        if self.settings.base_url:
            link = f"{self.settings.base_url}/cp/insights?from={period.first.isoformat()}&to={period.last.isoformat()}"
        view = digest.digest_view(
            period, figures[0][0], figures[1][0], figures[0][1], figures[1][1], self.settings.currency, link
        )
        return digest.digest_message(view, self.sender, self.recipients, now)

    async def send_row(self, row: dict[str, Any], claim: str) -> str:
        """One attempt at a claimed row; returns its outcome (sent, retry, failed, skipped)."""
        kind, key = row["kind"], row["key"]
        attempt = int(row["attempts"]) + 1
        fields: dict[str, Any] = {"email_key": key, "attempt": attempt}
        if row.get("journey_id") is not None:
            fields["journey_id"] = int(row["journey_id"])
        what = f"journey {row['journey_id']}" if kind == "enquiry" else key.removeprefix("digest:").replace(":", " ")
        now = utcnow()
        started = time.perf_counter()
        try:
            try:
                message = await self.compose(row, now)
            except (Skip, asyncio.CancelledError):
                raise
            except Exception as exc:  # the database went away, or a bug: tried again like a failed send
                raise smtp.SendFailed(f"the e-mail could not be written: {redact_addresses(repr(exc))[:200]}") from None
            started = time.perf_counter()
            await smtp.send(self.server, message)
        except Skip as exc:
            await self._finish(key, claim, now, "skipped", str(exc))
            self.metrics.emails[(kind, "skipped")] += 1
            log.info("e-mail for %s not sent: %s", what, exc, extra={**fields, "outcome": "skipped"})
            return "skipped"
        except smtp.SendFailed as exc:
            return await self._failed(row, claim, exc, what, fields)
        queued = self.store.decode_time(row["created_at"])
        delay = round((utcnow() - queued).total_seconds(), 1)
        await self._finish(key, claim, utcnow(), "sent", None)
        self.metrics.emails[(kind, "sent")] += 1
        log.info(
            "e-mail for %s sent (attempt %d, %.1f s after it was queued)",
            what,
            attempt,
            delay,
            extra={
                **fields,
                "outcome": "sent",
                "delay_s": delay,
                "send_ms": round((time.perf_counter() - started) * 1000),
            },
        )
        return "sent"

    async def _failed(
        self, row: dict[str, Any], claim: str, exc: smtp.SendFailed, what: str, fields: dict[str, Any]
    ) -> str:
        kind, key = row["kind"], row["key"]
        attempt = fields["attempt"]
        now = utcnow()
        expired = now - self.store.decode_time(row["created_at"]) >= GIVE_UP_AFTER
        if exc.permanent or expired:
            await self._finish(key, claim, now, "failed", exc.reason)
            self.metrics.emails[(kind, "failed")] += 1
            log.error(
                "e-mail for %s not sent: %s; giving up after %d attempt(s)",
                what,
                exc.reason,
                attempt,
                extra={**fields, "outcome": "failed", "reason": exc.reason},
            )
            return "failed"
        wait = backoff(attempt)
        async with self.store.transaction() as tx:
            await tx.execute(
                "outbox_retry", key=key, claim=claim, due=now + timedelta(seconds=wait), error=exc.reason[:500]
            )
        self.metrics.emails[(kind, "retried")] += 1
        log.warning(
            "e-mail for %s: attempt %d failed: %s; next try in %.0f s",
            what,
            attempt,
            exc.reason,
            wait,
            extra={**fields, "outcome": "retry", "reason": exc.reason},
        )
        return "retry"

    async def _finish(self, key: str, claim: str, now: datetime, outcome: str, error: str | None) -> None:
        async with self.store.transaction() as tx:
            await tx.execute(
                "outbox_finish", key=key, claim=claim, now=now, outcome=outcome, error=error[:500] if error else None
            )
