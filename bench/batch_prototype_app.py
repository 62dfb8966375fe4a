"""The approach's ceiling: a bare group-commit prototype, no framework and no validation.

A plain ASGI app: read the body, parse the JSON, queue one row, and answer 204 once the multi-row
INSERT holding it has committed (one flusher, asyncpg, one JSON parameter per batch as leadtrail
sends it). No cleaning, no bot check, no cookie, no origin check, no deadlines, no error
isolation: what leadtrail does on top of this is what its ratio to this figure costs.

PostgreSQL only (BENCH_DATABASE_URL); the schema must exist (`leadtrail migrate`).
Run: uvicorn --app-dir bench batch_prototype_app:app (bench/bench.py does this).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import asyncpg
import orjson

URL = os.environ["BENCH_DATABASE_URL"]
INSERT = (
    "insert into session_events (anon_id, event_name, page_path, params, created_at) "
    "select r->>0, r->>1, r->>2, r->3, (r->>4)::timestamptz from jsonb_array_elements($1::jsonb) as r "
    "on conflict do nothing"
)

state: dict = {}


async def flusher() -> None:
    conn = await asyncpg.connect(URL)
    queue: list = state["queue"]
    wakeup: asyncio.Event = state["wakeup"]
    while True:
        if not queue:
            wakeup.clear()
            await wakeup.wait()
            continue
        batch = queue[:]
        queue.clear()
        try:
            await conn.execute(INSERT, orjson.dumps([row for row, _ in batch]).decode())
        except Exception as exc:
            for _, future in batch:
                future.set_exception(exc)
            continue
        for _, future in batch:
            future.set_result(None)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                state["queue"] = []
                state["wakeup"] = asyncio.Event()
                state["task"] = asyncio.create_task(flusher())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
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
        event = orjson.loads(b"".join(chunks))
        params = dict(event.get("params") or {})
        params["event_id"] = event.get("event_id")
        future = asyncio.get_running_loop().create_future()
        state["queue"].append(
            (("prototype", event["event_name"], event.get("page_path"), params, datetime.now(UTC)), future)
        )
        state["wakeup"].set()
        await future
    except Exception:
        status = 503
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})
