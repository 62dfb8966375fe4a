"""What the routes share for the life of the server: settings, store, signer, limiters, pruner."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from .accounts.keys import Keys
from .charts import Format
from .diskguard import DiskGuard
from .identity import AnonIdSigner, VerifiedCookies
from .lifecycle import Pruner
from .metrics import Metrics
from .notify.outbox import Notifier
from .ratelimit import RateLimiter
from .settings import Settings
from .spam import ClientBursts
from .store import SqlStore, make_store
from .tokens import TokenChecker
from .totals import Totals
from .webhook import WebhookSender


@dataclass
class Services:
    settings: Settings
    store: SqlStore
    signer: AnonIdSigner
    address_limiter: RateLimiter
    anon_limiter: RateLimiter
    email_limiter: RateLimiter
    pruner: Pruner
    promote_limiter: RateLimiter
    cookies: VerifiedCookies  # anon_id cookie values verified by this process (the /api/track fast path)
    keys: Keys  # the dashboard's HMAC keys (session CSRF, login CSRF, throttling)
    times: Format  # how the dashboard writes times (TIMEZONE) and durations
    metrics: Metrics = field(default_factory=Metrics)
    background: set = field(default_factory=set)  # tasks that outlive the request that started them
    webhook: WebhookSender | None = None  # WEBHOOK_URL set: delivers created journeys
    tokens: TokenChecker = field(default_factory=TokenChecker)  # /api/v1/ bearer tokens
    disk: DiskGuard = field(default_factory=lambda: DiskGuard(None, 0))  # set by build
    # Enquiries per client address (spam scoring), in memory, keyed by an HMAC under a per-process key.
    client_bursts: ClientBursts = field(default_factory=lambda: ClientBursts(secrets.token_bytes(32)))
    totals: Totals | None = None  # the periodic roll-up of the anonymous daily totals
    notifier: Notifier | None = None  # SMTP_URL and NOTIFY_EMAILS set: new-enquiry e-mails and the digest

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Runs `work` after the response; a failure is logged, never raised into a request."""
        task = asyncio.create_task(work)
        self.background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logging.getLogger("leadtrail").warning("background task failed: %r", task.exception())

    async def stop_background(self) -> None:
        if self.webhook is not None:
            await self.webhook.close()  # pending deliveries get a short grace period
        if self.notifier is not None:
            await self.notifier.close()  # queued e-mails are written to the outbox, sent after a restart
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        store = make_store(settings)
        metrics = Metrics()
        webhook = None
        if settings.webhook_url:
            webhook = WebhookSender(settings.webhook_url, settings.webhook_secret, metrics)
            logging.getLogger("leadtrail.webhook").info(
                "webhook on: each new journey is posted to WEBHOOK_URL (%s)",
                "signed" if settings.webhook_secret else "unsigned; set WEBHOOK_SECRET to sign",
            )
        signer = AnonIdSigner(settings.secret_key)
        times = Format(settings.tz)
        notifier = None
        if settings.smtp_url and settings.notify_emails:
            notifier = Notifier(store, settings, metrics, times)
            logging.getLogger("leadtrail.notify").info(
                "e-mail on: each new enquiry that is not spam goes to %d address(es) in NOTIFY_EMAILS through %s%s",
                len(settings.notify_emails),
                notifier.server.address,
                f"; a {settings.notify_digest} digest too" if settings.notify_digest != "off" else "",
            )
        elif settings.notify_emails or settings.notify_digest != "off":
            logging.getLogger("leadtrail.notify").warning(
                "no e-mail is sent: NOTIFY_EMAILS and NOTIFY_DIGEST need SMTP_URL (and SMTP_URL needs NOTIFY_EMAILS)"
            )
        return cls(
            settings=settings,
            store=store,
            signer=signer,
            cookies=VerifiedCookies(signer),
            keys=Keys(settings.secret_key),
            times=times,
            address_limiter=RateLimiter(settings.rate_limit),
            anon_limiter=RateLimiter(settings.rate_limit),
            # An address promotes once per enquiry; a handful a minute is generous.
            email_limiter=RateLimiter(min(settings.rate_limit, 10), burst=5),
            # New journeys from one client address: a family or an office enquires a few times an
            # hour; a script making up addresses would otherwise fill the disk (issue 12, finding 5).
            promote_limiter=RateLimiter(settings.promote_limit if settings.rate_limit else 0, burst=20),
            pruner=Pruner(store, settings),
            metrics=metrics,
            webhook=webhook,
            disk=DiskGuard(None if settings.is_postgres else settings.sqlite_path, settings.min_free_disk_mb),
            totals=Totals(store, settings),
            notifier=notifier,
        )
