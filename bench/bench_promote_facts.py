#!/usr/bin/env python3
"""What writing a journey's facts at the promote costs (store.save_promoted with `record.facts`,
totals.facts_row), on SQLite, in-process, against what the periodic refresh spent on the
same journey (totals._facts_rows: reconstruct() on a thread).

    python bench/bench_promote_facts.py [--events 2000] [--n 40]

A visitor's journey of --events server events (page views and engagement events over a few
visits) and 200 client events, saved --n times each way on a fresh SQLite database: the save
without facts (as before), the save with them: wall time and CPU of all threads of the whole
save (its write transaction, with the summary and facts computed inside it as the promote does);
the CPU of the facts themselves (new journey; refreshed one; with remembered visits), and of the
refresh for the same journey. Prints medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from leadtrail import journeys, totals
from leadtrail.settings import Settings
from leadtrail.store import JourneyRecord, open_store, utcnow
from leadtrail.timestamps import iso


def events_of(n: int, start) -> list[dict[str, Any]]:
    out = []
    for j in range(n):
        at = start + timedelta(seconds=20 * j + (3600 if j > n // 2 else 0))
        name = "page_view" if j % 3 == 0 else "page_engagement"
        path = f"/services/page-{j % 60}" + ("?utm_source=google&utm_medium=cpc" if j == 0 else "")
        out.append(
            {"id": j, "event_name": name, "page_path": path, "params": {"event_id": f"s{j}"}, "created_at": iso(at)}
        )
    return out


def client_of(n: int, start) -> list[dict[str, Any]]:
    base = int(start.timestamp() * 1000)
    return [
        {"event_name": "page_view", "page_path": f"/c/{j % 30}", "params": {}, "event_id": f"c{j}", "ts": base + j}
        for j in range(n)
    ]


TOUCHES = [{"ts": int(time.time() * 1000) - 5 * 86_400_000, "page_path": "/?utm_source=news", "pages": 2}]


def show(what: str, ms: float) -> None:
    print(f"  {what:58} {ms:6.2f} ms")


def cpu_ms(fn, n: int) -> float:
    runs = []
    for _ in range(n):
        t = time.process_time()
        fn()
        runs.append((time.process_time() - t) * 1000)
    return statistics.median(runs)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    now = utcnow()
    server = events_of(args.events, now - timedelta(hours=3))
    client = client_of(200, now - timedelta(minutes=20))

    outlined = journeys.outline(server, client, now)
    with_touches = journeys.outline(server, client, now, touches=TOUCHES)
    later = now + timedelta(minutes=3)
    print(f"{args.events} server events, 200 client events (CPU ms, medians of {args.n})")
    steps = {
        "summarize (the promote's summary, before)": lambda: journeys.summarize(server, client, now),
        "outline (the promote's summary, now)": lambda: journeys.outline(server, client, now),
        "facts_row, new journey": lambda: totals.facts_row(server, client, [], now, now, outlined),
        "facts_row, refreshed": lambda: totals.facts_row(server, client, [], now, later, outlined),
        "facts_row, new with remembered visits": lambda: totals.facts_row(
            server, client, TOUCHES, now, now, with_touches
        ),
    }
    for what, step in steps.items():
        show(what, cpu_ms(step, args.n))

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'lt.db'}")
        store = await open_store(settings)
        await store.migrate()
        try:
            row = {
                "id": 1,
                "events": server,
                "client_events": client,
                "touches": [],
                "created_at": iso(now),
                "updated_at": iso(now),
            }
            show(
                "the refresh's _facts_rows of the same journey",
                cpu_ms(lambda: totals._facts_rows(store, [row]), args.n),
            )
            held: dict[str, list[float]] = {"without facts": [], "with facts": []}
            used: dict[str, list[float]] = {"without facts": [], "with facts": []}
            for i in range(args.n * 2):
                kind = "with facts" if i % 2 else "without facts"
                stored: list[Any] = []

                def columns(ce, tt, stored=stored):
                    stored[:] = [ce, tt, journeys.outline(server, ce, now, touches=tt)]
                    return journeys.list_columns(stored[2]["summary"])

                def facts(created_at, stored=stored):
                    return totals.facts_row(server, stored[0], stored[1], created_at, now, stored[2])

                record = JourneyRecord(
                    f"x{i}@example.com",
                    f"v{i}",
                    server,
                    client,
                    "booking",
                    True,
                    columns,
                    facts=facts if kind == "with facts" else None,
                )
                t, c = time.perf_counter(), time.process_time()
                await store.save_promoted(record, now, timedelta(minutes=10))
                held[kind].append((time.perf_counter() - t) * 1000)
                used[kind].append((time.process_time() - c) * 1000)
            for kind, runs in held.items():
                show(f"save_promoted on SQLite, {kind} (wall)", statistics.median(runs))
                show(f"save_promoted on SQLite, {kind} (CPU, all threads)", statistics.median(used[kind]))
            t = time.perf_counter()
            for i in range(args.n):
                async with store.transaction() as tx:
                    await tx.execute("facts_upsert", rows=totals.dumps([[2 * i + 2, *facts(now)]]))
            show("facts_upsert alone, one row in its own transaction (wall)", (time.perf_counter() - t) * 1000 / args.n)
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
