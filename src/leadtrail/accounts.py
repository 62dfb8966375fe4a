"""Dashboard owners: argon2id passwords, sessions, login throttling, the first-owner setup link.

Everything that must agree across worker processes (sessions, failed attempts, the setup token)
lives in the database; nothing here keeps state in memory except the dummy hash that makes an
unknown address cost as much to check as a wrong password.

- Passwords: argon2-cffi's PasswordHasher defaults (argon2id, RFC 9106's low-memory profile),
  rehashed at login when those defaults move on. Hashing runs on a thread: it is CPU-bound.
- Sessions: 256 random bits in the cookie, only their SHA-256 in `cp_sessions`; an absolute
  lifetime and an idle timeout; a new one at every login.
- CSRF: a session's token is an HMAC of its cookie value (synchroniser token, nothing stored);
  before login, a signed double-submit pair (random cookie, HMAC of it in the form).
- Throttling: one row per attempt in `cp_login_attempts` over a sliding window, keyed by keyed
  hashes (never the raw address). A client is a browser that signed in to this account before (its
  signed known-device cookie) or else its address. Per (account, client): 5 attempts, then each
  must wait twice as long as the one before (30 s, 1 min, 2 min, ... at most the window), so one
  client gets about 9 guesses per 15 minutes. Per client address: 20 per window. Per account, all
  unknown clients together: 30 per window. A known browser counts only against its own
  (account, browser) pair, so nobody else's failures, from any number of addresses, ever lock the
  owner out of a browser they signed in with before; a stolen device cookie buys no extra guesses.
- Password changes (account page, `leadtrail user passwd`): the same rules as creation; the
  current password is checked as a login attempt (throttled alike); every session of the owner
  ends, and the page's own browser gets a new one.
- Setup: with no owner, the server prints a link carrying HMAC(secret key, nonce); the database
  holds the nonce and the token's SHA-256. Single use, expires, retired once an owner exists.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# One rule for what an address is, for owners as for enquirers: no control characters (a NUL
# cannot even reach PostgreSQL), no spaces, one @, a dotted domain.
from .ingest import normalise_email, valid_email
from .store import SqlStore, utcnow
from .store import dashboard as db
from .store.base import Transaction

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes anything, but an unbounded input is a free CPU sink

SESSION_LIFETIME = timedelta(days=7)  # absolute: log in again after a week
SESSION_IDLE = timedelta(hours=12)  # a session unused this long is over
SESSION_TOUCH = timedelta(minutes=5)  # seen_at is written at most this often (one write, not one per page)

THROTTLE_WINDOW = timedelta(minutes=15)
FREE_ATTEMPTS_PER_CLIENT = 5  # per (account, client) before delays; a successful login forgives them
FIRST_DELAY = timedelta(seconds=30)  # then each attempt waits FIRST_DELAY * 2^k since the last one
MAX_ATTEMPTS_PER_ADDRESS = 20  # per client address, whatever address it types (unknown browsers)
MAX_ATTEMPTS_PER_ACCOUNT = 30  # per e-mail address typed, all unknown browsers together
DEVICE_LIFETIME = timedelta(days=365)  # the known-device cookie

SETUP_TTL = timedelta(hours=24)
_SETUP_LOCK = "leadtrail:cp:setup"

hasher = PasswordHasher()


class AccountError(Exception):
    """An owner account cannot be made as asked; the message says why, for the person asking."""


@dataclass(frozen=True)
class Owner:
    id: int
    email: str


@dataclass(frozen=True)
class Throttled:
    retry_after: int  # seconds


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


def _checked(email: str, password: str) -> str:
    address = normalise_email(email)
    if not valid_email(address):
        raise AccountError(f"{email.strip()!r} is not an e-mail address")
    problem = password_problem(password, address)
    if problem:
        raise AccountError(problem)
    return address


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def create_user(store: SqlStore, email: str, password: str) -> int:
    """Creates a dashboard owner; returns its id. Weak passwords and duplicates: AccountError."""
    address = _checked(email, password)
    if await db.owner_by_email(store, address) is not None:
        raise AccountError(f"an owner with the address {address} already exists")
    password_hash = await hash_password(password)
    now = utcnow()
    owner_id = await db.insert_owner(store, address, password_hash, now)
    if owner_id is None:  # lost a race with another process creating the same address
        raise AccountError(f"an owner with the address {address} already exists")
    await db.retire_setup_tokens(store, now)
    return owner_id


# -- passwords ---------------------------------------------------------------------------------


@functools.cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, with the current parameters: verified for unknown
    addresses so they take as long as a wrong password."""
    return hasher.hash(secrets.token_urlsafe(24))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def authenticate(store: SqlStore, email: str, password: str, now: datetime | None = None) -> Owner | None:
    """The owner when the address and password match, else None: one answer, similar timing."""
    address = normalise_email(email)
    row = await db.owner_by_email(store, address) if valid_email(address) else None
    candidate = password if len(password) <= MAX_PASSWORD else ""
    stored = row["password_hash"] if row is not None else _dummy_hash()
    ok = await asyncio.to_thread(_verify, stored, candidate)
    if row is None or not ok or not candidate:
        return None
    new_hash = None
    if hasher.check_needs_rehash(stored):
        new_hash = await hash_password(password)
    await db.record_login(store, row["id"], now or utcnow(), new_hash)
    return Owner(int(row["id"]), row["email"])


# -- keyed hashes --------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Keys:
    """Purpose-specific keys derived from the secret key (as identity.py does for anon_id)."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"leadtrail dashboard v1\x00" + secret_key.encode()).digest()

    def mac(self, purpose: str, value: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest())

    # CSRF, after login: a synchroniser token bound to the session, recomputed, never stored.
    def session_csrf(self, session_token: str) -> str:
        return self.mac("csrf", session_token)

    # CSRF, before login: signed double submit. The cookie holds random bits, the form their HMAC.
    def presession_csrf(self, cookie_value: str) -> str:
        return self.mac("login-csrf", cookie_value)

    def account_key(self, email: str) -> str:
        return self.mac("login-account", normalise_email(email))[:32]

    def address_key(self, address: str) -> str:
        return self.mac("login-address", address)[:32]

    def setup_token(self, nonce: str) -> str:
        return self.mac("setup", nonce)

    # A browser that signed in to an account: "<nonce>.<HMAC(account, nonce)>" in a cookie. It
    # proves only that this browser once knew the password; it opens nothing by itself.
    def device_cookie(self, email: str, nonce: str | None = None) -> str:
        nonce = nonce or secrets.token_urlsafe(18)
        return f"{nonce}.{self.mac('login-device', self.account_key(email) + nonce)}"

    def device_key(self, email: str, cookie: str | None) -> str | None:
        """The throttling key of a known browser of this account, or None (no, a tampered or
        another account's cookie)."""
        value = (cookie or "")[:200]
        nonce, _, mac = value.partition(".")
        if not nonce or not mac or not hmac.compare_digest(self.device_cookie(email, nonce).encode(), value.encode()):
            return None
        return "d:" + self.mac("login-device-key", nonce)[:30]


def csrf_matches(expected: str, given: str | None) -> bool:
    return (
        given is not None and given != "" and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
    )


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# -- sessions -------------------------------------------------------------------------------------


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
    return Owner(int(row["owner_id"]), row["email"])


async def end_session(store: SqlStore, token: str | None) -> None:
    if token:
        await db.delete_session(store, token_hash(token))


async def housekeeping(store: SqlStore, now: datetime | None = None) -> None:
    """Deletes expired sessions and login attempts past the window (cheap, index-backed)."""
    now = now or utcnow()
    await db.delete_expired_sessions(store, now, now - SESSION_IDLE)
    await db.delete_old_attempts(store, now - THROTTLE_WINDOW)


# -- throttling ---------------------------------------------------------------------------------------


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


# -- the owner's own account: password changes, other sessions -------------------------------------


class WrongPassword(AccountError):
    """The current password typed does not match (a failed login attempt, counted as one)."""


def new_password_problem(email: str, new: str, confirm: str) -> str | None:
    """Why a new password typed twice is refused, or None: password_problem's rules, as everywhere."""
    if new != confirm:
        return "the two new passwords differ"
    return password_problem(new, email)


async def find_owner(store: SqlStore, email: str) -> Owner:
    """The owner with this address; AccountError when there is none."""
    address = normalise_email(email)
    row = await db.owner_by_email(store, address) if valid_email(address) else None
    if row is None:
        raise AccountError(f"no owner account has the address {email.strip()!r}")
    return Owner(int(row["id"]), row["email"])


async def account_details(store: SqlStore, owner: Owner, token: str, now: datetime | None = None) -> dict[str, Any]:
    """What the account page shows: address, when made, last login, other live sessions."""
    now = now or utcnow()
    row = await db.owner_by_id(store, owner.id)
    if row is None:  # deleted while signed in: the session would be gone with it (cascade)
        raise AccountError("this owner account no longer exists")
    others = await db.count_other_sessions(store, owner.id, token_hash(token), now, now - SESSION_IDLE)
    last = row["last_login_at"]
    return {
        "email": row["email"],
        "created_at": store.decode_time(row["created_at"]),
        "last_login_at": store.decode_time(last) if last is not None else None,
        "other_sessions": others,
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
    candidate = current if len(current) <= MAX_PASSWORD else ""
    ok = await asyncio.to_thread(_verify, row["password_hash"] if row else _dummy_hash(), candidate)
    if row is None or not ok or not candidate:
        raise WrongPassword("your current password is not right")
    _, token = await _replace_password(store, owner.id, new, owner, now)
    assert token is not None  # _replace_password makes a session when new_session_for is given
    await forgive_client(store, keys, owner.email, address, device)
    return token


async def end_other_sessions(store: SqlStore, owner: Owner, token: str) -> int:
    """Ends every session of the owner but the one with this token; returns how many ended."""
    return await db.delete_other_sessions(store, owner.id, token_hash(token))


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


# -- first-owner setup ----------------------------------------------------------------------------------


async def setup_token(store: SqlStore, keys: Keys, now: datetime | None = None) -> str | None:
    """The setup link's token while no owner exists (the same one for every worker and restart
    until it expires or is used); None once an owner exists."""
    now = now or utcnow()
    if await db.owner_count(store):
        return None
    async with store.transaction(lock_key=_SETUP_LOCK) as tx:
        row = await db.current_setup_token(tx, now)
        if row is not None:
            token = keys.setup_token(row["nonce"])
            if hmac.compare_digest(token_hash(token), row["token_hash"]):
                return token
            # Made under another secret key: useless now, replaced below.
        nonce = new_token()
        token = keys.setup_token(nonce)
        await db.insert_setup_token(tx, token_hash(token), nonce, now, now + SETUP_TTL)
        return token


async def setup_token_valid(store: SqlStore, token: str | None, now: datetime | None = None) -> bool:
    if not token or len(token) > 128:
        return False
    row = await db.current_setup_token(store, now or utcnow())
    return row is not None and hmac.compare_digest(token_hash(token), row["token_hash"])


async def redeem_setup_token(
    store: SqlStore, token: str, email: str, password: str, now: datetime | None = None
) -> Owner:
    """Creates the first owner with a valid setup token, using the token up. AccountError when
    the token is not (or no longer) valid, an owner exists already, or the input is refused."""
    now = now or utcnow()
    if not await setup_token_valid(store, token, now):
        raise AccountError(
            "this setup link is not valid any more; restart the server for a new one, "
            "or create an owner with `leadtrail user add EMAIL`"
        )
    address = _checked(email, password)
    password_hash = await hash_password(password)  # before the transaction: it takes a while
    async with store.transaction(lock_key=_SETUP_LOCK) as tx:
        if await db.owner_count(tx):
            raise AccountError("an owner account exists already; log in instead")
        if await db.use_setup_token(tx, token_hash(token), now) != 1:
            raise AccountError("this setup link has been used already")
        owner_id = await db.insert_owner(tx, address, password_hash, now)
        if owner_id is None:
            raise AccountError(f"an owner with the address {address} already exists")
        await db.record_login(tx, owner_id, now, None)  # the setup page signs the new owner in
        await db.retire_setup_tokens(tx, now)
    return Owner(owner_id, address)
