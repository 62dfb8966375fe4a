"""Passwords: argon2-cffi's PasswordHasher defaults (argon2id, RFC 9106's low-memory profile),
rehashed at login when those defaults move on. Hashing runs on a thread: it is CPU-bound. An
unknown address is checked against a dummy hash, so it takes as long as a wrong password."""

from __future__ import annotations

import asyncio
import functools
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# One rule for what an address is, for owners as for enquirers: no control characters (a NUL
# cannot even reach PostgreSQL), no spaces, one @, a dotted domain.
from ..ingest import normalise_email, valid_email
from ..store import SqlStore, utcnow
from ..store import dashboard as db
from .owner import AccountError, Owner

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes anything, but an unbounded input is a free CPU sink

hasher = PasswordHasher()


def password_problem(password: str, email: str = "") -> str | None:
    """Why this password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"use a password of at least {MIN_PASSWORD} characters (a few words make a good one)"
    if len(password) > MAX_PASSWORD:
        return f"use a password of at most {MAX_PASSWORD} characters"
    if email and password.strip().lower() == email:
        return "use a password that is not your e-mail address"
    if len(set(password)) < 4:
        return "use a password with more than a few different characters"
    return None


def new_password_problem(email: str, new: str, confirm: str) -> str | None:
    """Why a new password typed twice is refused, or None: password_problem's rules, as everywhere."""
    if new != confirm:
        return "the two new passwords differ"
    return password_problem(new, email)


def checked_owner(email: str, password: str) -> str:
    """The normalised address of a new owner; AccountError when the address or password is refused."""
    address = normalise_email(email)
    if not valid_email(address):
        raise AccountError(f"{email.strip()!r} is not an e-mail address")
    problem = password_problem(password, address)
    if problem:
        raise AccountError(problem)
    return address


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


@functools.cache
def dummy_hash() -> str:
    """A hash of nothing anyone knows, with the current parameters: verified for unknown
    addresses so they take as long as a wrong password."""
    return hasher.hash(secrets.token_urlsafe(24))


def verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def matches(password_hash: str | None, password: str) -> bool:
    """Does the password match the stored hash (None: no such owner, the dummy hash is checked
    alike)? Passwords over MAX_PASSWORD never match."""
    candidate = password if len(password) <= MAX_PASSWORD else ""
    ok = await asyncio.to_thread(verify, password_hash or dummy_hash(), candidate)
    return ok and password_hash is not None and candidate != ""


async def authenticate(store: SqlStore, email: str, password: str, now: datetime | None = None) -> Owner | None:
    """The owner when the address and password match, else None: one answer, similar timing."""
    address = normalise_email(email)
    row = await db.owner_by_email(store, address) if valid_email(address) else None
    stored = row["password_hash"] if row is not None else None
    ok = await matches(stored, password)  # the dummy hash for an unknown address: the same work
    if row is None or stored is None or not ok:
        return None
    new_hash = None
    if hasher.check_needs_rehash(stored):
        new_hash = await hash_password(password)
    await db.record_login(store, row["id"], now or utcnow(), new_hash)
    return Owner(int(row["id"]), row["email"], row["role"])
