"""PostgreSQL: the production store. asyncpg pool; the seed's tables and indexes exactly.

Commits are durable (`synchronous_commit` is left on). Every way of losing the server (refused,
reset, killed, too many clients, timeouts) surfaces as StoreUnavailable, so callers answer 503, and
the pool reconnects by itself when the server is back.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Sequence

import asyncpg

from . import migrations as mig
from .base import EventRow, SqlStore, StoreUnavailable, Transaction, utcnow
from .queries import load_query

CONNECT_TIMEOUT = 1.5  # seconds: a down database must answer 503 within 2 s, not hang
ACQUIRE_TIMEOUT = 1.5
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
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch(self, query: str, **params: Any) -> list[dict]:
        sql, args = _args(query, params)
        return [dict(row) for row in await self._conn.fetch(sql, *args)]

    async def execute(self, query: str, **params: Any) -> int:
        sql, args = _args(query, params)
        status = await self._conn.execute(sql, *args)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0


class PostgresStore(SqlStore):
    dialect = "postgres"

    def __init__(self, dsn: str, min_size: int = 2, max_size: int = 10) -> None:
        super().__init__()
        self.dsn = dsn
        self._pool_size = (min_size, max_size)
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        try:
            self.pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self._pool_size[0],
                max_size=self._pool_size[1],
                timeout=CONNECT_TIMEOUT,
                command_timeout=30,
                server_settings={"application_name": "leadtrail", "timezone": "UTC"},
            )
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"PostgreSQL at {self._safe_dsn()} did not answer: {exc}") from exc

    def _safe_dsn(self) -> str:
        head, _, tail = self.dsn.rpartition("@")
        return tail if head else self.dsn

    async def close(self) -> None:
        await super().close()
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        assert self.pool is not None, "store is not open"
        try:
            async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                yield conn
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"PostgreSQL: {exc.__class__.__name__}: {exc}") from exc

    async def fetch(self, query: str, **params: Any) -> list[dict]:
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

    async def write_events(self, rows: Sequence[EventRow]) -> None:
        sql = load_query("insert_events", "postgres").sql
        columns = list(zip(*rows)) if rows else [[], [], [], [], []]
        async with self._connection() as conn:
            await conn.execute(sql, *columns)

    def decode_time(self, value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)

    # -- migrations ----------------------------------------------------------------------------------
    async def _applied(self, conn: asyncpg.Connection) -> dict[str, datetime]:
        await conn.execute(mig.CREATE_TABLE.format(timestamp="timestamptz"))
        return {r["name"]: r["applied_at"] for r in await conn.fetch("select name, applied_at from leadtrail_migrations")}

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
