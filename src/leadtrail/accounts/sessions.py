"""Sessions: 256 random bits in the cookie, only their SHA-256 in `cp_sessions`; an absolute
lifetime and an idle timeout; a new one at every login."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..store import SqlStore, utcnow
from ..store import dashboard as db
from ..store.base import Transaction
from .keys import new_token, token_hash
from .owner import Owner
from .throttling import forget_old_attempts

SESSION_LIFETIME = timedelta(days=7)  # absolute: log in again after a week
SESSION_IDLE = timedelta(hours=12)  # a session unused this long is over
SESSION_TOUCH = timedelta(minutes=5)  # seen_at is written at most this often (one write, not one per page)


async def start_session(store: Transaction, owner: Owner, now: datetime | None = None) -> str:
    """A new session for the owner; returns the cookie value (the only place it exists)."""
    now = now or utcnow()
    token = new_token()
    await db.insert_session(store, token_hash(token), owner.id, now, now + SESSION_LIFETIME)
    return token


async def session_owner(store: SqlStore, token: str | None, now: datetime | None = None) -> Owner | None:
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    id_hash = token_hash(token)
    row = await db.get_session(store, id_hash, now, now - SESSION_IDLE)
    if row is None:
        return None
    if now - store.decode_time(row["seen_at"]) > SESSION_TOUCH:
        await db.touch_session(store, id_hash, now)
    return Owner(int(row["owner_id"]), row["email"], row["role"])


async def end_session(store: SqlStore, token: str | None) -> None:
    if token:
        await db.delete_session(store, token_hash(token))


async def end_other_sessions(store: SqlStore, owner: Owner, token: str) -> int:
    """Ends every session of the owner but the one with this token; returns how many ended."""
    return await db.delete_other_sessions(store, owner.id, token_hash(token))


async def count_other_sessions(store: SqlStore, owner: Owner, token: str, now: datetime | None = None) -> int:
    """The owner's live sessions other than the one with this token."""
    now = now or utcnow()
    return await db.count_other_sessions(store, owner.id, token_hash(token), now, now - SESSION_IDLE)


async def housekeeping(store: SqlStore, now: datetime | None = None) -> None:
    """Deletes expired sessions and login attempts past the window (cheap, index-backed)."""
    now = now or utcnow()
    await db.delete_expired_sessions(store, now, now - SESSION_IDLE)
    await forget_old_attempts(store, now)
