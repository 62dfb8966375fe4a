#!/usr/bin/env python3
"""One promote, taken apart: in-process, against a database bench_promote.py loaded, the time of
each step and every statement sent to PostgreSQL (round trips: each statement, BEGIN, COMMIT and
the pool's reset on release).

    PYTHONPATH=<tree>/src python bench/profile_promote.py --dsn URL --visitor ANON_ID [--n 50]

Run by `bench_promote.py --profile` once per tree. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import statistics
import time
import uuid
from collections import Counter, defaultdict

import asyncpg
import orjson

from leadtrail import promote as workflow
from leadtrail import receipts
from leadtrail.ingest import parse_promote_body
from leadtrail.services import Services
from leadtrail.settings import load_settings
from leadtrail.store import utcnow

STEPS: dict[str, list[float]] = defaultdict(list)
SENT: list[str] = []


def timed(owner: object, name: str, label: str) -> None:
    fn = getattr(owner, name, None)
    if fn is None:
        return
    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return await fn(*a, **k)
            finally:
                STEPS[label].append((time.perf_counter() - t) * 1000)
    else:

        @functools.wraps(fn)
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                STEPS[label].append((time.perf_counter() - t) * 1000)

    setattr(owner, name, wrapper)


def time_collections() -> None:
    started: list[float] = []

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            STEPS[f"gc generation {info['generation']}"].append((time.perf_counter() - started.pop()) * 1000)

    gc.callbacks.append(callback)


def count_statements() -> None:
    plain_execute = asyncpg.connection.Connection.execute
    extended = asyncpg.connection.Connection._execute

    async def execute(self, query, *args, **kwargs):
        if not args:
            SENT.append(" ".join(query.split())[:60])
        return await plain_execute(self, query, *args, **kwargs)

    async def _execute(self, query, *rest, **kwargs):
        SENT.append(" ".join(query.split())[:60])
        return await extended(self, query, *rest, **kwargs)

    asyncpg.connection.Connection.execute = execute
    asyncpg.connection.Connection._execute = _execute


def body(i: int, client_events: int = 200) -> bytes:
    events = [
        {
            "event_name": "page_view",
            "page_path": f"/services/page-{j % 60}",
            "params": {"title": f"Page {j % 60}"},
            "event_id": f"c{j}",
            "ts": 1764200000000 + j * 1000,
        }
        for j in range(client_events)
    ]
    return orjson.dumps(
        {
            "email": f"prof{i}-{uuid.uuid4().hex[:6]}@example.com",
            "client_events": events,
            "form": "booking",
            "consent": True,
        }
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--visitor", required=True)
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    settings = load_settings(
        env={
            "LEADTRAIL_DATABASE_URL": args.dsn,
            "LEADTRAIL_SECRET_KEY": "leadtrail-bench-secret-key-0123456789abcdef0123",
            "LEADTRAIL_EVENT_TTL": str(30 * 86400),
        }
    )
    services = Services.build(settings)
    await services.store.open()
    count_statements()
    time_collections()
    from leadtrail.app import tune_gc_for_serving

    tune_gc_for_serving()  # as in `leadtrail serve`
    store = type(services.store)
    for owner, name, label in [
        (store, "snapshot_events", "snapshot (query + rows)"),
        (store, "save_journey", "save_journey"),
        (store, "save_promoted", "save_promoted"),
        (workflow, "summarize", "summarize (Python)"),
        (workflow, "evidence_of", "spam evidence"),
        (workflow, "file_spam", "file spam"),
        (workflow.spam, "page_evidence", "spam page evidence (Python)"),
        (receipts, "receipt_url", "receipt_url"),
    ]:
        timed(owner, name, label)
    caller = workflow.Caller(
        user_agent="Mozilla/5.0 Chrome/131",
        address="127.0.0.1",
        origin="http://127.0.0.1",
        peer="127.0.0.1",
        trusted_proxy=False,
        browser_headers=True,
        from_page=True,
    )
    totals: list[float] = []
    per_promote: list[list[str]] = []
    for i in range(args.n + 3):
        raw = body(i)
        SENT.clear()
        t = time.perf_counter()
        req = parse_promote_body(raw)
        STEPS["parse body"].append((time.perf_counter() - t) * 1000)
        done = await workflow.promote(services, req, args.visitor, caller, utcnow())
        if hasattr(receipts, "receipt_url"):  # a tree that still reads the creation time back
            await receipts.receipt_url(services, done.journey_id)
        else:
            receipts.receipt_path(settings.secret_key.encode(), done.journey_id, done.created_at)
        elapsed = (time.perf_counter() - t) * 1000
        if i >= 3:
            totals.append(elapsed)
            per_promote.append(list(SENT))
        else:
            for v in STEPS.values():
                v.clear()
    for task in list(services.background):
        task.cancel()
    await services.store.close()
    print(f"promote in-process (no HTTP), n={args.n}: p50 {statistics.median(totals):.1f} ms, max {max(totals):.1f} ms")
    for label, values in STEPS.items():
        if values:
            print(
                f"  {label:28} p50 {statistics.median(values):6.2f} ms  max {max(values):6.2f} ms"
                f"  (x{len(values) / args.n:.2f} per promote)"
            )
    trips = Counter(len(s) for s in per_promote)
    print(f"  statements sent per promote (incl. BEGIN/COMMIT/pool reset): {dict(trips)}")
    for s in per_promote[-1]:
        print(f"    {s}")


if __name__ == "__main__":
    asyncio.run(main())
