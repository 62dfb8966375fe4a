"""First-owner setup: with no owner, the server prints a link carrying HMAC(secret key, nonce);
the database holds the nonce and the token's SHA-256. Single use, expires, retired once an
owner exists."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from ..store import SqlStore, utcnow
from ..store import dashboard as db
from .keys import Keys, new_token, token_hash
from .owner import OWNER, AccountError, Owner
from .passwords import checked_owner, hash_password

SETUP_TTL = timedelta(hours=24)
_SETUP_LOCK = "leadtrail:cp:setup"


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
    address = checked_owner(email, password)
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
    return Owner(owner_id, address, OWNER)
