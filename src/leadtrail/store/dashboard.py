"""The dashboard's queries: owners, sessions, login attempts, setup tokens, the enquiry list,
one journey, insights. Functions over a store (or a transaction of one) and named SQL files
(store/queries/cp_*.sql), so both dialects share them.

The list is keyset-paginated on (created_at desc, id desc) and never reads the events of the rows
it lists; a search scans only the e-mail index, then fetches the page it found. Insights aggregate
in SQL over the summary columns (covered by cp_journeys_insights_idx); page-level figures come from
a bounded sample of the newest journeys, each journey's part kept in journey_facts.sample.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from ..contract import whole_number
from ..localtime import offset_segments
from .base import SqlStore, Transaction, dumps

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
MAX_ID = 2**62


# -- owners ------------------------------------------------------------------------------------


async def owner_count(db: Transaction) -> int:
    return int(await db.fetchval("cp_owner_count") or 0)


async def insert_owner(
    db: Transaction, email: str, password_hash: str, now: datetime, role: str = "owner"
) -> int | None:
    """The new account's id, or None when the address is taken."""
    value = await db.fetchval("cp_owner_insert", email=email, password_hash=password_hash, role=role, created_at=now)
    return None if value is None else int(value)


async def owner_by_email(db: Transaction, email: str) -> dict[str, Any] | None:
    rows = await db.fetch("cp_owner_by_email", email=email)
    return rows[0] if rows else None


async def record_login(db: Transaction, owner_id: int, now: datetime, password_hash: str | None) -> None:
    await db.execute("cp_owner_login", id=owner_id, now=now, password_hash=password_hash)


async def owner_by_id(db: Transaction, owner_id: int) -> dict[str, Any] | None:
    rows = await db.fetch("cp_owner_by_id", id=owner_id)
    return rows[0] if rows else None


async def set_password(db: Transaction, owner_id: int, password_hash: str) -> int:
    return await db.execute("cp_owner_set_password", id=owner_id, password_hash=password_hash)


# -- sessions ------------------------------------------------------------------------------------


async def insert_session(db: Transaction, id_hash: str, owner_id: int, now: datetime, expires_at: datetime) -> None:
    await db.execute("cp_session_insert", id_hash=id_hash, owner_id=owner_id, now=now, expires_at=expires_at)


async def get_session(db: Transaction, id_hash: str, now: datetime, idle_since: datetime) -> dict[str, Any] | None:
    rows = await db.fetch("cp_session_get", id_hash=id_hash, now=now, idle_since=idle_since)
    return rows[0] if rows else None


async def touch_session(db: Transaction, id_hash: str, now: datetime) -> None:
    await db.execute("cp_session_touch", id_hash=id_hash, now=now)


async def delete_session(db: Transaction, id_hash: str) -> int:
    return await db.execute("cp_session_delete", id_hash=id_hash)


async def delete_owner_sessions(db: Transaction, owner_id: int) -> int:
    return await db.execute("cp_sessions_delete_owner", owner_id=owner_id)


async def delete_other_sessions(db: Transaction, owner_id: int, keep_hash: str) -> int:
    return await db.execute("cp_sessions_delete_others", owner_id=owner_id, keep_hash=keep_hash)


async def count_other_sessions(
    db: Transaction, owner_id: int, keep_hash: str, now: datetime, idle_since: datetime
) -> int:
    return int(
        await db.fetchval(
            "cp_sessions_count_others", owner_id=owner_id, keep_hash=keep_hash, now=now, idle_since=idle_since
        )
        or 0
    )


async def delete_expired_sessions(db: Transaction, now: datetime, idle_since: datetime) -> int:
    return await db.execute("cp_sessions_delete_expired", now=now, idle_since=idle_since)


# -- login attempts ---------------------------------------------------------------------------------


async def record_attempt(db: Transaction, account_key: str, address_key: str, now: datetime) -> int:
    return int(await db.fetchval("cp_attempt_insert", account_key=account_key, address_key=address_key, now=now))


async def attempt_counts(
    db: Transaction, account_key: str, address_key: str, since: datetime, attempt_id: int
) -> dict[str, Any]:
    rows = await db.fetch(
        "cp_attempt_counts", account_key=account_key, address_key=address_key, since=since, id=attempt_id
    )
    row = rows[0]
    return {
        **row,
        "account_n": int(row["account_n"]),
        "address_n": int(row["address_n"]),
        "pair_n": int(row["pair_n"]),
    }


async def delete_attempt(db: Transaction, attempt_id: int) -> None:
    await db.execute("cp_attempt_delete", id=attempt_id)


async def clear_account_attempts(db: Transaction, account_key: str) -> None:
    await db.execute("cp_attempts_clear_account", account_key=account_key)


async def clear_pair_attempts(db: Transaction, account_key: str, address_key: str) -> None:
    await db.execute("cp_attempts_clear_pair", account_key=account_key, address_key=address_key)


async def delete_old_attempts(db: Transaction, before: datetime) -> int:
    return await db.execute("cp_attempts_delete_old", before=before)


# -- setup tokens ----------------------------------------------------------------------------------


async def current_setup_token(db: Transaction, now: datetime) -> dict[str, Any] | None:
    rows = await db.fetch("cp_setup_token_current", now=now)
    return rows[0] if rows else None


async def insert_setup_token(db: Transaction, token_hash: str, nonce: str, now: datetime, expires_at: datetime) -> None:
    await db.execute("cp_setup_token_insert", token_hash=token_hash, nonce=nonce, now=now, expires_at=expires_at)


async def use_setup_token(db: Transaction, token_hash: str, now: datetime) -> int:
    return await db.execute("cp_setup_token_use", token_hash=token_hash, now=now)


async def retire_setup_tokens(db: Transaction, now: datetime) -> None:
    await db.execute("cp_setup_tokens_retire", now=now)


# -- the enquiry list -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A place in the list: (created_at, id) of a row; pages go older or newer from it."""

    at: datetime
    id: int

    def encode(self) -> str:
        us = int(self.at.timestamp() * 1_000_000) if self.at.year < 9999 else 0
        return f"{self.id}.{us}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        if not raw or len(raw) > 40:
            return None
        head, _, tail = raw.partition(".")
        journey_id, us = whole_number(head, 20), whole_number(tail, 20)
        if journey_id is None or us is None:
            return None
        try:
            at = datetime.fromtimestamp(us / 1_000_000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return cls(at, min(journey_id, MAX_ID))


@dataclass(frozen=True)
class ListFilter:
    since: datetime  # inclusive; already raised to the retention cut-off
    until: datetime = FAR_FUTURE  # exclusive
    search: str | None = None  # lower-cased text to find inside the e-mail address
    spam: bool = False  # the spam list (status spam) instead of the enquiries (every other status)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _row_out(store: SqlStore, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["created_at"] = store.decode_time(row["created_at"])
    if out.get("value") is not None:
        out["value"] = float(out["value"])  # numeric: a Decimal from PostgreSQL
    if out.get("consent") is not None:
        out["consent"] = bool(out["consent"])
    if "spam_reasons" in out:
        out["spam_reasons"] = store.decode_json(out["spam_reasons"]) or []
    return out


async def list_journeys(
    store: SqlStore, flt: ListFilter, limit: int, before: Cursor | None = None, after: Cursor | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """One page, newest first: rows older than `before` (default: the newest), or the rows just
    newer than `after`. Returns (rows, whether more exist beyond the page in that direction)."""
    params: dict[str, Any] = dict(since=flt.since, until=flt.until, spam=flt.spam, limit=limit + 1)
    if flt.search:
        params["pattern"] = like_pattern(flt.search)
    kind = "search" if flt.search else "list"
    if after is not None:
        rows = await store.fetch(f"cp_{kind}_newer", cursor_at=after.at, cursor_id=after.id, **params)
    else:
        cursor = before or Cursor(FAR_FUTURE, MAX_ID)
        rows = await store.fetch(f"cp_{kind}_older", cursor_at=cursor.at, cursor_id=cursor.id, **params)
    more = len(rows) > limit
    rows = [_row_out(store, r) for r in rows[:limit]]
    if after is not None:
        rows.reverse()
    return rows, more


async def count_journeys(store: SqlStore, flt: ListFilter, cap: int) -> int:
    """How many rows match, counting at most `cap` (a bounded count: "10,000+")."""
    params: dict[str, Any] = dict(since=flt.since, until=flt.until, spam=flt.spam, cap=cap)
    if flt.search:
        return int(await store.fetchval("cp_search_count", pattern=like_pattern(flt.search), **params))
    return int(await store.fetchval("cp_list_count", **params))


async def iter_journeys(store: SqlStore, flt: ListFilter, batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
    """Every matching row, newest first, a keyset page at a time (for the CSV export)."""
    cursor = None
    while True:
        rows, more = await list_journeys(store, flt, batch, before=cursor)
        for row in rows:
            yield row
        if not more or not rows:
            return
        cursor = Cursor(rows[-1]["created_at"], rows[-1]["id"])


# -- one journey ------------------------------------------------------------------------------------------


async def get_journey(store: SqlStore, journey_id: int, since: datetime) -> dict[str, Any] | None:
    """The stored journey as `export.export_journey` takes it, or None (missing or past retention)."""
    if not 0 < journey_id <= MAX_ID:
        return None
    rows = await store.fetch("cp_journey_get", id=journey_id, since=since)
    return store.journey_out(rows[0]) if rows else None


async def journey_head(store: SqlStore, journey_id: int, since: datetime) -> dict[str, Any] | None:
    if not 0 < journey_id <= MAX_ID:
        return None
    rows = await store.fetch("cp_journey_head", id=journey_id, since=since)
    return _row_out(store, rows[0]) if rows else None


async def count_journeys_of_email(store: SqlStore, email: str) -> int:
    return int(await store.fetchval("cp_journeys_of_email_count", email=email))


# -- insights -------------------------------------------------------------------------------------------------


async def insights_by_day(
    store: SqlStore, since: datetime, until: datetime, tz: tzinfo, now: datetime
) -> list[dict[str, Any]]:
    """Per local day (in `tz`) and first-touch channel: enquiries (n), sums of visits and
    page_views, how many have a time to enquiry (timed) and its sum (time_ms). Totals and
    per-channel figures derive from these rows, so the range is read once: one query per stretch
    of constant UTC offset (two a year where the clocks change). A day the clocks change on may
    come in two rows per channel; callers add rows up."""
    rows: list[dict[str, Any]] = []
    for segment in offset_segments(since, until, tz, now):
        rows += await store.fetch(
            "cp_insights_by_day", since=segment.since, until=segment.until, shift=segment.offset_seconds
        )
    return rows


async def insights_buckets(store: SqlStore, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Counts per (time_bucket, visits) pair: see cp_insights_buckets.sql for the buckets."""
    return await store.fetch("cp_insights_buckets", since=since, until=until)


async def insights_median_time(store: SqlStore, since: datetime, until: datetime, timed: int) -> int | None:
    """The median time to enquiry of the range (the middle one of `timed` known values)."""
    if not timed:
        return None
    value = await store.fetchval("cp_insights_nth_time", since=since, until=until, offset=timed // 2)
    return None if value is None else int(value)


async def insights_landing_pages(store: SqlStore, since: datetime, until: datetime, limit: int) -> list[dict[str, Any]]:
    return await store.fetch("cp_insights_landing_pages", since=since, until=until, limit=limit)


async def insights_sample_facts(store: SqlStore, since: datetime, until: datetime, sample: int) -> list[dict[str, Any]]:
    """The newest `sample` journeys of the range, newest first, without their events: id, when
    they were last written (`written`: updated_at, else created_at), their insights sample part
    (`sample`, decoded; None when not computed) and when it was computed (`computed_at`)."""
    rows = await store.fetch("cp_insights_sample_facts", since=since, until=until, sample=sample)
    return [
        {
            "id": row["id"],
            "written": store.decode_time(row["updated_at"] if row["updated_at"] is not None else row["created_at"]),
            "computed_at": None if row["computed_at"] is None else store.decode_time(row["computed_at"]),
            "sample": None if row["sample"] is None else store.decode_json(row["sample"]),
        }
        for row in rows
    ]


async def insights_sample_rows(store: SqlStore, ids: list[int]) -> list[dict[str, Any]]:
    """These journeys with their events (the sample's journeys whose part must be rebuilt)."""
    rows = await store.fetch("cp_insights_sample_rows", ids=dumps(ids))
    return [store.journey_out(row) for row in rows]
