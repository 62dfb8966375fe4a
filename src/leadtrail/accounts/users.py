"""Owner accounts: made (`leadtrail user add`), found, and their passwords changed.

- Creation and changes follow the same password rules (passwords.password_problem).
- A change on the account page checks the current password as a login attempt (throttled alike);
  every session of the owner ends, and the page's own browser gets a new one.
- `leadtrail user passwd` sets a new password without the old one, ends every session and
  forgives the account's failed logins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..ingest import normalise_email, valid_email
from ..store import SqlStore, utcnow
from ..store import dashboard as db
from .keys import Keys
from .owner import OWNER, ROLES, AccountError, Owner
from .passwords import checked_owner, hash_password, matches, new_password_problem, password_problem
from .sessions import count_other_sessions, start_session
from .throttling import Throttled, begin_attempt, forgive_account, forgive_client


class WrongPassword(AccountError):
    """The current password typed does not match (a failed login attempt, counted as one)."""


async def create_user(store: SqlStore, email: str, password: str, role: str = OWNER) -> int:
    """Creates a dashboard account (an owner unless `role` says viewer); returns its id. Weak
    passwords, duplicates, an unknown role and a viewer before any owner: AccountError."""
    if role not in ROLES:
        raise AccountError(f"choose a role: {' or '.join(ROLES)}")
    address = checked_owner(email, password)
    if await db.owner_by_email(store, address) is not None:
        raise AccountError(f"an owner with the address {address} already exists")
    if role != OWNER and not await db.owner_count(store):
        raise AccountError("the first account must be an owner, so someone can manage the team")
    password_hash = await hash_password(password)
    now = utcnow()
    owner_id = await db.insert_owner(store, address, password_hash, now, role)
    if owner_id is None:  # lost a race with another process creating the same address
        raise AccountError(f"an owner with the address {address} already exists")
    await db.retire_setup_tokens(store, now)
    return owner_id


async def find_owner(store: SqlStore, email: str) -> Owner:
    """The owner with this address; AccountError when there is none."""
    address = normalise_email(email)
    row = await db.owner_by_email(store, address) if valid_email(address) else None
    if row is None:
        raise AccountError(f"no owner account has the address {email.strip()!r}")
    return Owner(int(row["id"]), row["email"], row["role"])


async def account_details(store: SqlStore, owner: Owner, token: str, now: datetime | None = None) -> dict[str, Any]:
    """What the account page shows: address, when made, last login, other live sessions."""
    row = await db.owner_by_id(store, owner.id)
    if row is None:  # deleted while signed in: the session would be gone with it (cascade)
        raise AccountError("this owner account no longer exists")
    last = row["last_login_at"]
    return {
        "email": row["email"],
        "created_at": store.decode_time(row["created_at"]),
        "last_login_at": store.decode_time(last) if last is not None else None,
        "other_sessions": await count_other_sessions(store, owner, token, now),
    }


async def _replace_password(
    store: SqlStore, owner_id: int, password: str, new_session_for: Owner | None, now: datetime
) -> tuple[int, str | None]:
    """Stores the new password's hash and ends every session of the owner in one transaction;
    with new_session_for, starts one fresh session in it. Returns (sessions ended, new token)."""
    password_hash = await hash_password(password)  # before the transaction: it takes a while
    token = None
    async with store.transaction() as tx:
        await db.set_password(tx, owner_id, password_hash)
        ended = await db.delete_owner_sessions(tx, owner_id)
        if new_session_for is not None:
            token = await start_session(tx, new_session_for, now)
    return ended, token


async def change_password(
    store: SqlStore,
    keys: Keys,
    owner: Owner,
    address: str,
    current: str,
    new: str,
    confirm: str,
    now: datetime | None = None,
    device: str | None = None,
) -> str | Throttled:
    """The signed-in owner changes their password. The new one is checked first (the same rules
    as everywhere, no password work spent); the current one is then checked as a login attempt
    is: recorded and counted per account and client address first, so this form cannot be used
    to guess faster than the login form. On success every session of the owner ends and the
    caller gets a new one: returns its token. Throttled when too many attempts were made;
    AccountError (WrongPassword for the current one) with nothing changed otherwise."""
    now = now or utcnow()
    problem = new_password_problem(owner.email, new, confirm)
    if problem:
        raise AccountError(problem)
    if new == current:  # compares two things typed here: tells nothing about the stored password
        raise AccountError("choose a new password, not the one you typed as your current one")
    attempt = await begin_attempt(store, keys, owner.email, address, now, device)
    if isinstance(attempt, Throttled):
        return attempt
    row = await db.owner_by_id(store, owner.id)
    if not await matches(row["password_hash"] if row is not None else None, current):
        raise WrongPassword("your current password is not right")
    _, token = await _replace_password(store, owner.id, new, owner, now)
    assert token is not None  # _replace_password makes a session when new_session_for is given
    await forgive_client(store, keys, owner.email, address, device)
    return token


async def reset_password(store: SqlStore, email: str, password: str, keys: Keys | None = None) -> int:
    """`leadtrail user passwd`: a new password for a forgotten one, without the old one. Ends
    every session of the owner (returns how many) and, with the keys, forgives the account's
    failed logins so the owner can log in at once. AccountError for an unknown address or a
    refused password; nothing changed then."""
    owner = await find_owner(store, email)
    problem = password_problem(password, owner.email)
    if problem:
        raise AccountError(problem)
    ended, _ = await _replace_password(store, owner.id, password, None, utcnow())
    if keys is not None:
        await forgive_account(store, keys, owner.email)
    return ended
