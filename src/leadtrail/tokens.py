"""API tokens for /api/v1/: made once, shown once, stored as a SHA-256, revocable, last use recorded.

A token is 256 random bits, so a fast hash is as safe to store as a slow one (nothing to guess from
it) and checking one costs an index lookup, not argon2's 50 ms per request. The prefix `lt_` lets
secret scanners and people recognise one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .store.base import SqlStore

PREFIX = "lt_"
_TOKEN = re.compile(r"lt_[A-Za-z0-9_-]{43}")
NAME_RULE = "1-64 characters: letters, digits, spaces and - _ . @"
_NAME = re.compile(r"[A-Za-z0-9 _.@-]{1,64}")
USE_RECORD_INTERVAL = 60.0  # seconds: last use is written at most this often per token and process


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def valid_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None and name.strip() == name


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header when it has a token's shape."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or _TOKEN.fullmatch(value) is None:
        return None
    return value


class TokenNameTaken(ValueError):
    pass


async def create_token(store: SqlStore, name: str, now: datetime) -> str:
    """A new token under `name` (a name in use by a live token is refused); only its hash is kept."""
    if not valid_name(name):
        raise ValueError(f"a token name is {NAME_RULE}")
    token = new_token()
    async with store.transaction(lock_key=f"api-token|{name}") as tx:
        if int(await tx.fetchval("api_token_live_name", name=name) or 0):
            raise TokenNameTaken(f"a token named {name!r} exists; revoke it first or choose another name")
        await tx.execute("api_token_insert", name=name, token_hash=token_hash(token), created_at=now)
    return token


async def list_tokens(store: SqlStore) -> list[dict[str, Any]]:
    rows = await store.fetch("api_token_list")
    return [
        {
            "name": row["name"],
            "created_at": store.decode_time(row["created_at"]),
            "last_used_at": None if row["last_used_at"] is None else store.decode_time(row["last_used_at"]),
        }
        for row in rows
    ]


async def revoke_token(store: SqlStore, name: str, now: datetime) -> bool:
    async with store.transaction() as tx:
        return bool(await tx.execute("api_token_revoke", name=name, now=now))


@dataclass
class TokenChecker:
    """Checks bearer tokens against the store; records each token's last use at most once a minute
    per process, so an integration polling many times a second costs no write per request."""

    recorded: dict[int, float] = field(default_factory=dict)

    async def check(self, store: SqlStore, authorization: str | None, now: datetime) -> str | None:
        """The token's name, or None when there is no token, or an unknown or revoked one."""
        token = bearer_token(authorization)
        if token is None:
            return None
        rows = await store.fetch("api_token_by_hash", token_hash=token_hash(token))
        if not rows:
            return None
        row = rows[0]
        clock = time.monotonic()
        if clock - self.recorded.get(row["id"], -USE_RECORD_INTERVAL) >= USE_RECORD_INTERVAL:
            self.recorded[row["id"]] = clock
            async with store.transaction() as tx:
                await tx.execute("api_token_used", id=row["id"], now=now)
        return str(row["name"])
