"""The new-enquiry webhook: one signed JSON POST to WEBHOOK_URL for each journey a promote creates.

Best effort, at least once per created journey while the process lives: the promote hands the
journey over after its commit and answers at once; a small background sender (a bounded queue and
a few tasks) delivers it, retrying network errors, 5xx and 429 with backoff. A full queue drops
the delivery (logged, counted) instead of making a promote wait; at shutdown pending deliveries
get a short grace period, then are dropped. The journey itself is already in the database.

Pure parts: `build_payload`, `brief`, `signature_header`, `verify_signature`, `journey_link`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import orjson

from .metrics import Metrics
from .timestamps import iso

log = logging.getLogger("leadtrail.webhook")

EVENT_TYPE = "journey.created"
SIGNATURE_HEADER = "X-Leadtrail-Signature"
USER_AGENT = "leadtrail-webhook/1"

# The delivery schedule. Module constants, not settings: tests shorten them.
ATTEMPT_TIMEOUT = 5.0  # seconds for one attempt (connect, send, answer)
RETRY_DELAYS = (10.0, 40.0)  # waits before attempts 2 and 3: three attempts over about a minute
QUEUE_SIZE = 256  # journeys waiting for delivery; past this they are dropped
SENDERS = 2  # deliveries in flight at once
SHUTDOWN_GRACE = 3.0  # seconds pending deliveries get when the server stops
SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept a signature's timestamp for


@dataclass(frozen=True)
class JourneyCreated:
    """What a promote hands the webhook and the e-mail notifier about a new enquiry: the stored
    row's fields, the link to its dashboard page, and its summary (journeys.summarize(), computed
    once when it was saved)."""

    journey_id: int
    created_at: datetime
    email: str
    form: str | None
    consent: bool | None
    link: str | None
    summary: dict[str, Any]


TOUCH_KEYS = ("channel", "source", "landing_page")


def brief(summary: dict[str, Any]) -> dict[str, Any]:
    """A journey summary as a new-enquiry message tells it: first and last touch (channel,
    source, landing page), visits, page views, time to enquiry, events only the browser saw."""
    first, last = summary.get("first_touch"), summary.get("last_touch")
    return {
        "first_touch": {k: first.get(k) for k in TOUCH_KEYS} if first else None,
        "last_touch": {k: last.get(k) for k in TOUCH_KEYS} if last else None,
        "visits": summary.get("visits", 0),
        "page_views": summary.get("page_views", 0),
        "time_to_enquiry_ms": summary.get("time_to_enquiry_ms"),
        "client_only_events": summary.get("client_only_events", 0),
    }


def build_payload(journey: JourneyCreated) -> dict:
    """The JSON object a delivery carries (pure)."""
    return {
        "type": EVENT_TYPE,
        "journey_id": journey.journey_id,
        "created_at": iso(journey.created_at),
        "email": journey.email,
        "form": journey.form,
        "consent": journey.consent,
        "url": journey.link,
        "summary": brief(journey.summary),
    }


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (Stripe's scheme)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, body: bytes, header: str, now: float, tolerance: int = SIGNATURE_TOLERANCE) -> bool:
    """What a receiver does: the signature matches this body and its timestamp is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature_header(secret, body, timestamp).split(",v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def journey_link(origin: str, peer: str, trusted_proxy: bool, journey_id: int) -> str | None:
    """The dashboard page of the journey, when the origin the promote came in by can be believed:
    through a trusted proxy, or from this machine (a local proxy, the site's own backend). A
    request straight from the internet may name any Host, and the owner would click the link."""
    host = origin.split("://", 1)[-1]
    if not host:
        return None
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        loopback = False
    if not (trusted_proxy or loopback):
        return None
    return f"{origin}/cp/journeys/{journey_id}"


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class WebhookSender:
    """A bounded queue of created journeys and SENDERS tasks that POST them to `url`."""

    def __init__(self, url: str, secret: str, metrics: Metrics) -> None:
        self.url = url
        self.secret = secret
        self.metrics = metrics
        self._queue: asyncio.Queue[JourneyCreated] | None = None
        self._tasks: list[asyncio.Task] = []
        self._client: Any = None
        self._closing = False

    def submit(self, journey: JourneyCreated) -> bool:
        """Queues one delivery; never waits. False (logged, counted) when full or stopping."""
        if self._closing:
            self._drop(journey.journey_id, "stopping")
            return False
        if self._queue is None:
            self._start()
        assert self._queue is not None
        try:
            self._queue.put_nowait(journey)
        except asyncio.QueueFull:
            self._drop(journey.journey_id, "queue full")
            return False
        return True

    def _start(self) -> None:
        import httpx

        self._queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        # No cookies kept or sent (a jar whose policy refuses every cookie), no redirects followed,
        # nothing from the environment (proxies, .netrc credentials).
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers={"User-Agent": USER_AGENT},
        )
        self._tasks = [asyncio.create_task(self._work()) for _ in range(SENDERS)]

    def _drop(self, journey_id: int, reason: str) -> None:
        self.metrics.webhooks["dropped"] += 1
        log.warning(
            "webhook for journey %d dropped: %s",
            journey_id,
            reason,
            extra={"journey_id": journey_id, "outcome": "dropped", "reason": reason},
        )

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            journey = await self._queue.get()
            try:
                await self.deliver(journey)
            except asyncio.CancelledError:
                self._drop(journey.journey_id, "server stopping")
                raise
            except Exception as exc:  # a bug here must not stop the sender
                self.metrics.webhooks["failed"] += 1
                log.error(
                    "webhook for journey %d failed: %r",
                    journey.journey_id,
                    exc,
                    extra={"journey_id": journey.journey_id, "outcome": "failed"},
                )
            finally:
                self._queue.task_done()

    async def deliver(self, journey: JourneyCreated) -> bool:
        """Up to 1 + len(RETRY_DELAYS) attempts; True once a 2xx came back."""
        import httpx

        body = orjson.dumps(build_payload(journey))
        attempts = 1 + len(RETRY_DELAYS)
        fields: dict[str, object] = {"journey_id": journey.journey_id}
        for attempt in range(1, attempts + 1):
            headers = {"Content-Type": "application/json", "X-Leadtrail-Event": EVENT_TYPE}
            if self.secret:
                # Signed afresh for each attempt, so a late retry is not taken for a replay.
                headers[SIGNATURE_HEADER] = signature_header(self.secret, body, int(time.time()))
            try:
                response = await self._client.post(self.url, content=body, headers=headers, timeout=ATTEMPT_TIMEOUT)
                status: int | str = response.status_code
                retry = _retryable(response.status_code)
            except httpx.HTTPError as exc:
                status, retry = type(exc).__name__, True
            fields["status"], fields["attempt"] = status, attempt
            if isinstance(status, int) and 200 <= status < 300:
                self.metrics.webhooks["delivered"] += 1
                log.info(
                    "webhook for journey %d delivered", journey.journey_id, extra={**fields, "outcome": "delivered"}
                )
                return True
            if retry and attempt < attempts:
                self.metrics.webhooks["retried"] += 1
                log.warning(
                    "webhook for journey %d: attempt %d got %s; retrying",
                    journey.journey_id,
                    attempt,
                    status,
                    extra={**fields, "outcome": "retry"},
                )
                await asyncio.sleep(RETRY_DELAYS[attempt - 1])
                continue
            break
        self.metrics.webhooks["failed"] += 1
        log.warning(
            "webhook for journey %d not delivered: attempt %d got %s; giving up",
            journey.journey_id,
            fields["attempt"],
            fields["status"],
            extra={**fields, "outcome": "failed"},
        )
        return False

    async def close(self, grace: float | None = None) -> None:
        """Stops taking deliveries, lets pending ones finish for `grace` seconds, drops the rest."""
        self._closing = True
        if self._queue is None:
            return
        grace = SHUTDOWN_GRACE if grace is None else grace
        try:
            await asyncio.wait_for(self._queue.join(), grace)
        except TimeoutError:
            pass
        for task in self._tasks:
            task.cancel()  # an attempt in flight or waiting to retry is dropped (and logged)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._queue.empty():
            self._drop(self._queue.get_nowait().journey_id, "server stopping")
        await self._client.aclose()
