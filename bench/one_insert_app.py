"""The baseline leadtrail is measured against: one INSERT (one commit) per request.

A plain ASGI app (no framework, so the framework is not what is measured): read the body, parse
the JSON, insert one row into session_events, answer 204 after the commit. No validation, no
cleaning, no cookie: strictly less work per request than leadtrail, except the group commit.

- PostgreSQL: an asyncpg pool of BENCH_POOL connections (default 20), one autocommit INSERT each.
- SQLite: one writer thread, WAL and synchronous=FULL as leadtrail, one transaction per request.

BENCH_DATABASE_URL selects the database; the schema must exist (`leadtrail migrate`).
Run: uvicorn --app-dir bench one_insert_app:app (bench/bench.py does this).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import orjson

URL = os.environ["BENCH_DATABASE_URL"]
POOL = int(os.environ.get("BENCH_POOL", "20"))
PG_INSERT = (
    "insert into session_events (anon_id, event_name, page_path, params, created_at) "
    "values ($1, $2, $3, $4::jsonb, $5) on conflict do nothing"
)
SQLITE_INSERT = (
    "insert into session_events (anon_id, event_name, page_path, params, created_at) "
    "values (?, ?, ?, ?, ?) on conflict do nothing"
)

state: dict = {}


async def startup() -> None:
    if URL.startswith("postgres"):
        import asyncpg

        state["pool"] = await asyncpg.create_pool(URL, min_size=POOL, max_size=POOL)
    else:
        writer = ThreadPoolExecutor(1)
        path = URL[len("sqlite:///") :]

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("pragma journal_mode=wal")
            conn.execute("pragma synchronous=full")
            conn.execute("pragma busy_timeout=5000")
            return conn

        state["writer"] = writer
        state["conn"] = await asyncio.get_running_loop().run_in_executor(writer, connect)


def _sqlite_insert(args: tuple) -> None:
    conn = state["conn"]
    conn.execute("begin immediate")
    conn.execute(SQLITE_INSERT, args)
    conn.execute("commit")


async def store(event: dict) -> None:
    params = dict(event.get("params") or {})
    if "event_id" in event:
        params["event_id"] = event["event_id"]
    now = datetime.now(UTC)
    anon_id = "baseline"
    if "pool" in state:
        await state["pool"].execute(
            PG_INSERT, anon_id, event["event_name"], event.get("page_path"), orjson.dumps(params).decode(), now
        )
    else:
        args = (
            anon_id,
            event["event_name"],
            event.get("page_path"),
            orjson.dumps(params).decode(),
            now.isoformat(timespec="microseconds"),
        )
        await asyncio.get_running_loop().run_in_executor(state["writer"], _sqlite_insert, args)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if "pool" in state:
                    await state["pool"].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    status = 204
    try:
        await store(orjson.loads(b"".join(chunks)))
    except Exception:
        status = 503
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})
