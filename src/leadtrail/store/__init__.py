"""Storage: one Store interface, SQLite and PostgreSQL implementations."""

from __future__ import annotations

from ..settings import Settings
from .base import EventRow, JourneyRecord, SqlStore, StoreUnavailable, dumps, iso, utcnow

__all__ = [
    "dumps",
    "EventRow",
    "JourneyRecord",
    "SqlStore",
    "StoreUnavailable",
    "iso",
    "open_store",
    "utcnow",
    "make_store",
]


def make_store(settings: Settings) -> SqlStore:
    if settings.is_postgres:
        from .postgres import PostgresStore

        return PostgresStore(settings.database_url)
    from .sqlite import SqliteStore

    return SqliteStore(settings.sqlite_path)


async def open_store(settings: Settings) -> SqlStore:
    store = make_store(settings)
    await store.open()
    return store
