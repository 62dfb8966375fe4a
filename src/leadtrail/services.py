"""What the routes share for the life of the server: settings, store, signer, limiters, pruner."""

from __future__ import annotations

from dataclasses import dataclass, field

from .identity import AnonIdSigner
from .lifecycle import Pruner
from .ratelimit import RateLimiter
from .settings import Settings
from .store import SqlStore, make_store


@dataclass
class Services:
    settings: Settings
    store: SqlStore
    signer: AnonIdSigner
    address_limiter: RateLimiter
    anon_limiter: RateLimiter
    email_limiter: RateLimiter
    pruner: Pruner
    extras: dict = field(default_factory=dict)  # per-feature state (dashboard sessions, metrics)

    @classmethod
    def build(cls, settings: Settings) -> "Services":
        store = make_store(settings)
        return cls(
            settings=settings,
            store=store,
            signer=AnonIdSigner(settings.secret_key),
            address_limiter=RateLimiter(settings.rate_limit),
            anon_limiter=RateLimiter(settings.rate_limit),
            # An address promotes once per enquiry; a handful a minute is generous.
            email_limiter=RateLimiter(min(settings.rate_limit, 10), burst=5),
            pruner=Pruner(store, settings),
        )
