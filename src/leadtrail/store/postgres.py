"""PostgreSQL: the production store. asyncpg pool; the seed's tables and indexes exactly.

Commits are durable (`synchronous_commit` is left on). Every way of losing the server (refused,
reset, killed, too many clients, timeouts) surfaces as StoreUnavailable, so callers answer 503, and
the pool reconnects by itself when the server is back.

/api/track writes do not go through the pool: each flusher of the group commit owns one connection
(no acquire/release, and no reset round trip per batch), sends its whole batch as one
statement with the rows as one JSON parameter, and drops the connection on any failure so the next
batch reconnects. Connect and statement time are bounded by the batch's deadline, so a hung server
is a 503 within the deadline, never a hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from . import migrations as mig
from .base import SNAPSHOT_LIMIT, EventRow, SqlStore, StoreUnavailable, Transaction, utcnow
from .queries import load_query

# A connection of its own (the writers) or one borrowed from the pool: the same API.
Conn = asyncpg.Connection | PoolConnectionProxy

CONNECT_TIMEOUT = 1.5  # seconds: a down database must answer 503 within 2 s, not hang
ACQUIRE_TIMEOUT = 1.5
PING_TIMEOUT = 1.5
WRITE_TIMEOUT = 1.7  # a batch write without a deadline of its own
MIN_TIMEOUT = 0.05
# Group-commit flushers, each with its own connection: while one batch waits for its commit, the
# next is being built and sent, and one slow commit does not hold up every request. More flushers
# make smaller batches, and PostgreSQL's cost per row grows as batches shrink (about a third of it
# is per statement and commit): on 2 cores (bench/) 1 and 2 tie, 3 is 10-15% slower.
WRITE_FLUSHERS = 2
DEDUPE_SECONDS = 10.0  # after a duplicate event, batches use ON CONFLICT DO NOTHING for this long
SERVER_SETTINGS = {"application_name": "leadtrail", "timezone": "UTC"}
MIGRATION_LOCK = 0x6C656164  # advisory lock id: serialises concurrent `migrate` runs

_UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)


def _args(query: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    q = load_query(query, "postgres")
    return q.sql, [params[name] for name in q.params]


class _PgTx(Transaction):
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def fetch(self, query: str, **params: Any) -> list[dict[str, Any]]:
        sql, args = _args(query, params)
        return [dict(row) for row in await self._conn.fetch(sql, *args)]

    async def execute(self, query: str, **params: Any) -> int:
        sql, args = _args(query, params)
        status = await self._conn.execute(sql, *args)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0


class PostgresStore(SqlStore):
    dialect = "postgres"
    flushers = WRITE_FLUSHERS

    def __init__(self, dsn: str, min_size: int = 2, max_size: int = 10) -> None:
        super().__init__()
        self.dsn = dsn
        self._pool_size = (min_size, max_size)
        self.pool: asyncpg.Pool | None = None
        self._writers: list[asyncpg.Connection | None] = [None] * self.flushers
        self._insert_sql = load_query("insert_events", "postgres").sql
        self._strict_sql = load_query("insert_events_strict", "postgres").sql
        self._dedupe_until = 0.0  # event-loop time until which batches go with ON CONFLICT first

    async def open(self) -> None:
        try:
            self.pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self._pool_size[0],
                max_size=self._pool_size[1],
                timeout=CONNECT_TIMEOUT,
                command_timeout=30,
                server_settings=SERVER_SETTINGS,
            )
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"PostgreSQL at {self._safe_dsn()} did not answer: {exc}") from exc

    def _safe_dsn(self) -> str:
        head, _, tail = self.dsn.rpartition("@")
        return tail if head else self.dsn

    async def close(self) -> None:
        await super().close()  # lets queued batches commit first
        for lane, conn in enumerate(self._writers):
            self._writers[lane] = None
            if conn is not None and not conn.is_closed():
                try:
                    await asyncio.wait_for(conn.close(), 2)
                except Exception:
                    conn.terminate()
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        assert self.pool is not None, "store is not open"
        try:
            async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                yield conn
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"PostgreSQL: {exc.__class__.__name__}: {exc}") from exc

    async def fetch(self, query: str, **params: Any) -> list[dict[str, Any]]:
        async with self._connection() as conn:
            return await _PgTx(conn).fetch(query, **params)

    async def execute(self, query: str, **params: Any) -> int:
        async with self._connection() as conn:
            return await _PgTx(conn).execute(query, **params)

    @asynccontextmanager
    async def transaction(self, lock_key: str | None = None) -> AsyncIterator[Transaction]:
        async with self._connection() as conn:
            async with conn.transaction():
                tx = _PgTx(conn)
                if lock_key is not None:
                    await tx.fetch("lock_journey_key", key=lock_key)
                yield tx

    async def write_events(self, rows: Sequence[EventRow], lane: int = 0, deadline: float | None = None) -> None:
        if not rows:
            return
        # EventRow.params is JSON text already: embedded as it is, not as a string.
        events = orjson.dumps([(r[0], r[1], r[2], orjson.Fragment(r[3]), r[4]) for r in rows]).decode()
        loop = asyncio.get_running_loop()
        if deadline is None:
            deadline = loop.time() + WRITE_TIMEOUT
        conn = self._writers[lane]
        try:
            if conn is None or conn.is_closed():
                conn = self._writers[lane] = None
                conn = await asyncpg.connect(
                    self.dsn, timeout=max(MIN_TIMEOUT, deadline - loop.time()), server_settings=SERVER_SETTINGS
                )
                self._writers[lane] = conn
            # One statement, so one implicit transaction: committed (and fsynced) when it returns.
            if loop.time() >= self._dedupe_until:
                try:
                    await conn.execute(self._strict_sql, events, timeout=max(MIN_TIMEOUT, deadline - loop.time()))
                    return
                except asyncpg.exceptions.UniqueViolationError:
                    # A resent event (a client retrying, maybe after an outage): more may follow,
                    # so the next batches skip duplicates from the start for a while.
                    self._dedupe_until = loop.time() + DEDUPE_SECONDS
            await conn.execute(self._insert_sql, events, timeout=max(MIN_TIMEOUT, deadline - loop.time()))
        except _UNAVAILABLE as exc:
            self._drop_writer(lane)
            raise StoreUnavailable(f"PostgreSQL: {exc.__class__.__name__}: {exc}") from exc

    def _drop_writer(self, lane: int) -> None:
        """Forgets a writer connection in an unknown state (timed out, broken); the next batch of
        this lane connects afresh."""
        conn, self._writers[lane] = self._writers[lane], None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    async def ping(self) -> None:
        async with self._connection() as conn:
            try:
                await conn.fetchval("select 1", timeout=PING_TIMEOUT)
            except _UNAVAILABLE:
                # A connection that hung or broke must not go back into the pool as if healthy.
                conn.terminate()
                raise

    def decode_time(self, value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)

    async def snapshot_events(self, anon_id: str, since: datetime, limit: int = SNAPSHOT_LIMIT) -> list[dict[str, Any]]:
        # Records as they come (no dict per row first); see store/queries/snapshot_events.postgres.sql.
        sql, args = _args("snapshot_events", {"anon_id": anon_id, "since": since, "limit": limit})
        async with self._connection() as conn:
            rows = await conn.fetch(sql, *args)
        loads = orjson.loads
        return [
            {"id": r[0], "event_name": r[1], "page_path": r[2], "params": loads(r[3]), "created_at": r[4]} for r in rows
        ]

    # -- migrations ----------------------------------------------------------------------------------
    async def _applied(self, conn: Conn) -> dict[str, datetime]:
        await conn.execute(mig.CREATE_TABLE.format(timestamp="timestamptz"))
        return {
            r["name"]: r["applied_at"] for r in await conn.fetch("select name, applied_at from leadtrail_migrations")
        }

    async def migrate(self) -> list[str]:
        applied_now = []
        async with self._connection() as conn:
            await conn.execute("select pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                for name in mig.pending(set(await self._applied(conn))):
                    async with conn.transaction():
                        await conn.execute(mig.migration_sql(name, "postgres"))
                        await conn.execute(
                            "insert into leadtrail_migrations (name, applied_at) values ($1, $2)", name, utcnow()
                        )
                    applied_now.append(name)
            finally:
                await conn.execute("select pg_advisory_unlock($1)", MIGRATION_LOCK)
        return applied_now

    async def migrations(self) -> list[tuple[str, datetime | None]]:
        async with self._connection() as conn:
            applied = await self._applied(conn)
        return [(name, applied.get(name)) for name in mig.migration_names()]
