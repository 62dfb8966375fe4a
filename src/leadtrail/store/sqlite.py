"""SQLite: the embedded default. WAL with synchronous=FULL, so a commit survives a power cut.

One writer connection lives on one thread and every write goes through it under an asyncio lock
(SQLite has one writer anyway); reads use their own connections on a small thread pool, which WAL
lets run beside the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from . import migrations as mig
from .base import EventRow, SqlStore, StoreUnavailable, Transaction, iso, utcnow
from .queries import load_query

T = TypeVar("T")

_PRAGMAS = (
    "pragma journal_mode=wal",
    "pragma synchronous=full",
    "pragma busy_timeout=5000",
    "pragma foreign_keys=on",
)


# Rows per INSERT statement: 5 parameters each, well under SQLite's 32,766 variables per statement.
MAX_ROWS_PER_STATEMENT = 500


@lru_cache(maxsize=MAX_ROWS_PER_STATEMENT)
def _insert_sql(rows: int) -> str:
    """insert_events.sqlite.sql with its VALUES row repeated `rows` times."""
    sql = "\n".join(
        line for line in load_query("insert_events", "sqlite").sql.splitlines() if not line.lstrip().startswith("--")
    )
    head, _, rest = sql.partition("values")
    row, _, tail = rest.partition(")")
    return f"{head}values {', '.join([row.strip() + ')'] * rows)}{tail}"


def _slices(params: list[Any]) -> list[list[Any]]:
    step = MAX_ROWS_PER_STATEMENT * 5
    return [params[i : i + step] for i in range(0, len(params), step)]


def _adapt(params: dict[str, Any]) -> dict[str, Any]:
    return {key: iso(value) if isinstance(value, datetime) else value for key, value in params.items()}


class _SqliteTx(Transaction):
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def fetch(self, query: str, **params: Any) -> list[dict[str, Any]]:
        return await self._store._on_writer(self._store._fetch_sync, self._store._writer, query, params)

    async def execute(self, query: str, **params: Any) -> int:
        return await self._store._on_writer(self._store._execute_sync, query, params)


class SqliteStore(SqlStore):
    dialect = "sqlite"
    # A prune batch holds the one writer (and in another process, the file's write lock): small
    # batches (~10 ms) and a long rest keep ingestion flowing (bench/).
    prune_rest = 4.0
    prune_batch_cap = 1000

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="leadtrail-sqlite-writer")
        self._reader_pool = ThreadPoolExecutor(4, thread_name_prefix="leadtrail-sqlite-reader")
        self._local = threading.local()
        self._writer: sqlite3.Connection | None = None
        self._write_lock = asyncio.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        return conn

    async def open(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._on_writer(self._connect)

    async def close(self) -> None:
        await super().close()
        if self._writer is not None:
            await self._on_writer(self._writer.close)
            self._writer = None
        self._writer_pool.shutdown(wait=True)
        self._reader_pool.shutdown(wait=True)

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite: {exc}") from exc

    async def _on_writer(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._run(self._writer_pool, fn, *args)

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    # -- sync bodies, run on a pool thread ---------------------------------------------------------
    @staticmethod
    def _fetch_sync(conn: sqlite3.Connection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        sql = load_query(query, "sqlite").sql
        return [dict(row) for row in conn.execute(sql, _adapt(params)).fetchall()]

    def _execute_sync(self, query: str, params: dict[str, Any]) -> int:
        assert self._writer is not None
        return self._writer.execute(load_query(query, "sqlite").sql, _adapt(params)).rowcount

    def _read_sync(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._fetch_sync(self._reader(), query, params)

    def _write_events_sync(self, statements: list[tuple[str, list[Any]]]) -> None:
        assert self._writer is not None
        conn = self._writer
        if len(statements) == 1:
            # One statement is one transaction on its own (autocommit): a single step that inserts
            # and commits, so the thread takes the GIL back once per batch.
            conn.execute(*statements[0])
            return
        conn.execute("begin immediate")
        try:
            for sql, params in statements:
                conn.execute(sql, params)
            conn.execute("commit")
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise

    # -- primitives ----------------------------------------------------------------------------------
    async def fetch(self, query: str, **params: Any) -> list[dict[str, Any]]:
        return await self._run(self._reader_pool, self._read_sync, query, params)

    async def execute(self, query: str, **params: Any) -> int:
        async with self._write_lock:
            return await self._on_writer(self._execute_sync, query, params)

    async def write_events(self, rows: Sequence[EventRow], lane: int = 0, deadline: float | None = None) -> None:
        # One writer thread, one transaction per batch. `deadline` is not applied: a write handed
        # to the thread cannot be taken back, and a local file does not hang the way a network
        # server can (a lock held by another process is bounded by busy_timeout).
        if not rows:
            return
        # Flattened here, on the event loop: the writer thread only binds, steps and commits.
        params: list[Any] = []
        for anon_id, event_name, page_path, event_params, created_at in rows:
            params += (anon_id, event_name, page_path, event_params, iso(created_at))
        # More rows than one statement may bind: one statement per slice, still one transaction.
        statements = [(_insert_sql(len(chunk) // 5), chunk) for chunk in _slices(params)]
        async with self._write_lock:
            await self._on_writer(self._write_events_sync, statements)

    @asynccontextmanager
    async def transaction(self, lock_key: str | None = None) -> AsyncIterator[Transaction]:
        async with self._write_lock:
            assert self._writer is not None
            await self._on_writer(self._writer.execute, "begin immediate")
            try:
                yield _SqliteTx(self)
            except BaseException:
                await self._on_writer(self._rollback_sync)
                raise
            await self._on_writer(self._writer.execute, "commit")

    def _rollback_sync(self) -> None:
        assert self._writer is not None
        if self._writer.in_transaction:
            self._writer.execute("rollback")

    def decode_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)

    def time_text(self, value: Any) -> str:
        # Stored as fixed-width ISO 8601 UTC already: no round trip through datetime.
        if type(value) is str and len(value) == 32 and value.endswith("+00:00"):
            return value
        return iso(self.decode_time(value))

    # -- migrations ------------------------------------------------------------------------------------
    def _applied_sync(self) -> dict[str, str]:
        assert self._writer is not None
        self._writer.execute(mig.CREATE_TABLE.format(timestamp="text"))
        return {row[0]: row[1] for row in self._writer.execute("select name, applied_at from leadtrail_migrations")}

    def _migrate_sync(self) -> list[str]:
        assert self._writer is not None
        applied_now = []
        for name in mig.pending(set(self._applied_sync())):
            script = mig.migration_sql(name, "sqlite")
            record = f"insert into leadtrail_migrations values ('{name}', '{iso(utcnow())}');"
            try:
                self._writer.executescript(f"begin immediate;\n{script}\n;{record}\ncommit;")
            except BaseException:
                self._rollback_sync()
                raise
            applied_now.append(name)
        return applied_now

    async def migrate(self) -> list[str]:
        async with self._write_lock:
            return await self._on_writer(self._migrate_sync)

    async def migrations(self) -> list[tuple[str, datetime | None]]:
        async with self._write_lock:
            applied = await self._on_writer(self._applied_sync)
        return [(name, self.decode_time(applied[name]) if name in applied else None) for name in mig.migration_names()]
