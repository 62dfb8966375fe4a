"""Login throttling: one row per attempt in `cp_login_attempts` over a sliding window, keyed by
keyed hashes (never the raw address), so every worker agrees.

A client is a browser that signed in to this account before (its signed known-device cookie) or
else its address. Per (account, client): 5 attempts, then each must wait twice as long as the
one before (30 s, 1 min, 2 min, ... at most the window), so one client gets about 9 guesses per
15 minutes. Per client address: 20 per window. Per account, all unknown clients together: 30 per
window. A known browser counts only against its own (account, browser) pair, so nobody else's
failures, from any number of addresses, ever lock the owner out of a browser they signed in with
before; a stolen device cookie buys no extra guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..store import SqlStore, utcnow
from ..store import dashboard as db
from .keys import Keys

THROTTLE_WINDOW = timedelta(minutes=15)
FREE_ATTEMPTS_PER_CLIENT = 5  # per (account, client) before delays; a successful login forgives them
FIRST_DELAY = timedelta(seconds=30)  # then each attempt waits FIRST_DELAY * 2^k since the last one
MAX_ATTEMPTS_PER_ADDRESS = 20  # per client address, whatever address it types (unknown browsers)
MAX_ATTEMPTS_PER_ACCOUNT = 30  # per e-mail address typed, all unknown browsers together
DEVICE_LIFETIME = timedelta(days=365)  # the known-device cookie


@dataclass(frozen=True)
class Throttled:
    retry_after: int  # seconds


def pair_delay(attempts: int) -> timedelta:
    """How long the attempts-th attempt of one (account, client) in the window waits after the
    one before it (pure)."""
    extra = attempts - FREE_ATTEMPTS_PER_CLIENT - 1
    if extra < 0:
        return timedelta(0)
    return min(FIRST_DELAY * (1 << min(extra, 16)), THROTTLE_WINDOW)


def throttle_wait(counts: dict[str, Any], known: bool, now: datetime, decode: Any) -> int | None:
    """Seconds to wait before this attempt may be checked, or None (pure). `counts` includes the
    attempt itself: pair_n and pair_previous (the one before it) for (account, client), and the
    account's and the address's counts and oldest attempts in the window."""
    waits: list[datetime] = []
    previous = counts.get("pair_previous")
    if previous is not None:
        delay = pair_delay(int(counts["pair_n"]))
        if delay and decode(previous) + delay > now:
            waits.append(decode(previous) + delay)
    if not known:
        for scope, cap in (("account", MAX_ATTEMPTS_PER_ACCOUNT), ("address", MAX_ATTEMPTS_PER_ADDRESS)):
            oldest = counts[f"{scope}_oldest"]
            if int(counts[f"{scope}_n"]) > cap and oldest is not None:
                waits.append(decode(oldest) + THROTTLE_WINDOW)
    if not waits:
        return None
    return max(1, int((max(waits) - now).total_seconds()) + 1)


async def begin_attempt(
    store: SqlStore,
    keys: Keys,
    email: str,
    address: str,
    now: datetime | None = None,
    device: str | None = None,
) -> int | Throttled:
    """Records a login attempt before the password is checked, then counts: concurrent guesses
    all count, so at most the limit of them is ever checked. `device` is the browser's
    known-device cookie, if any. Returns the attempt's id, or Throttled (the attempt is then
    forgotten, so hammering does not extend the wait)."""
    now = now or utcnow()
    account = keys.account_key(email)
    known = keys.device_key(email, device)
    client = known or keys.address_key(address)
    attempt_id = await db.record_attempt(store, account, client, now)
    counts = await db.attempt_counts(store, account, client, now - THROTTLE_WINDOW, attempt_id)
    wait = throttle_wait(counts, known is not None, now, store.decode_time)
    if wait is None:
        return attempt_id
    await db.delete_attempt(store, attempt_id)
    return Throttled(wait)


async def forgive_account(store: SqlStore, keys: Keys, email: str) -> None:
    """Every attempt on the account forgiven (its password was just reset from the command line)."""
    await db.clear_account_attempts(store, keys.account_key(email))


async def forgive_client(store: SqlStore, keys: Keys, email: str, address: str, device: str | None = None) -> None:
    """A successful login forgives that client's attempts on that account (not anyone else's)."""
    client = keys.device_key(email, device) or keys.address_key(address)
    await db.clear_pair_attempts(store, keys.account_key(email), client)


async def forget_old_attempts(store: SqlStore, now: datetime | None = None) -> None:
    """Deletes login attempts past the window (cheap, index-backed)."""
    await db.delete_old_attempts(store, (now or utcnow()) - THROTTLE_WINDOW)
