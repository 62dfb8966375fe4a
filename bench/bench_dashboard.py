"""Dashboard latency at 100,000 journeys, on SQLite and on PostgreSQL, through the real app.

Fills each database with realistic journeys (summaries and events, as promote stores them; see
tests/test_dashboard_helpers.py), logs in through the real form, then times requests to the
in-process ASGI app: the list's first page, an e-mail search, a date range, page 50 (following
the "older" cursor), the journey page, the insights page and the CSV export. With a year of daily
totals and every journey's facts (totals.py), it also times totals.load_insights (the conversion
figures of the insights page and GET /api/v1/insights) directly. Prints p50/p95;
asserts nothing. Goal: list p95 < 150 ms, journey page < 100 ms on both databases.

Run:  .venv/bin/python bench/bench_dashboard.py [--journeys 100000] [--only sqlite|postgres]
      [--keep DIR]  (reuse a filled SQLite file in DIR between runs)
      [--pg-url URL]  (use, and fill when it holds fewer journeys, this PostgreSQL database
                       instead of a throwaway server: reuse between runs)
      [--cases TEXT]  (time only the requests whose name contains TEXT, e.g. 'insights: last';
                       'insights data' for load_insights alone; the CSV export runs with 'csv')
      [--repeat N]    (run the chosen cases N times, printing each run: spread between runs)

Measured 2026-11-27 on a shared 2-CPU container (other test runs alongside), 100,000 journeys
over a year (SQLite 638 MiB, PostgreSQL 15 348 MiB), p50 / p95 ms:

                                   SQLite          PostgreSQL
  list: first page                 9.7 / 14.0      20.2 / 35.7
  list: search 'olivia.4'         52.2 / 88.0      18.8 / 27.4
  list: search '@proton.me'       64.2 / 94.1      11.1 / 21.1
  list: search (no match)         41.5 / 70.9      43.7 / 64.5
  list: date range (90 days)      12.0 / 26.8      16.4 / 32.8
  list: last 30 days              10.6 / 12.1      11.7 / 24.5
  list: page 50                   10.1 / 14.7      21.0 / 38.6
  journey page                     6.9 / 12.9      12.8 / 27.8
  journey JSON                     2.9 /  3.9       8.3 / 13.1
  insights: last 30 days         193.0 / 244.3    307.5 / 374.4
  insights: whole year           618.8 / 722.2    394.7 / 507.0
  CSV export, last 30 days       302 ms / 8,254 rows   288 ms / 8,254 rows
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT / "src", ROOT / "tests"):
    sys.path.insert(0, str(p))

import orjson  # noqa: E402
from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD, make_journey  # noqa: E402

from leadtrail.store import dumps, iso  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
SPREAD = timedelta(days=365)
COLUMNS = (
    "email",
    "anon_id",
    "events",
    "client_events",
    "created_at",
    "updated_at",
    "form",
    "consent",
    "first_channel",
    "first_source",
    "landing_page",
    "visits",
    "page_views",
    "time_to_enquiry_ms",
)


def journeys(n: int, seed: int = 1):
    """n rows in insert order (oldest first), as tuples in COLUMNS order."""
    rng = random.Random(seed)
    for i in range(n):
        at = NOW - SPREAD + SPREAD * (i + 1) / (n + 1) + timedelta(microseconds=rng.randrange(10**6))
        r = make_journey(rng, at)
        s = r.summary
        yield (
            r.email,
            r.anon_id,
            dumps(r.events),
            dumps(r.client_events),
            at,
            at,
            r.form,
            r.consent,
            s["first_channel"],
            s["first_source"],
            s["landing_page"],
            s["visits"],
            s["page_views"],
            s["time_to_enquiry_ms"],
        )


TOTAL_CHANNELS = [
    ("Organic Search", "google"),
    ("Organic Search", "bing"),
    ("Paid Search", "google"),
    ("Email", "newsletter"),
    ("Organic Social", "facebook"),
    ("Paid Social", "facebook"),
    ("Referral", "weddingwire.com"),
    ("Direct", "(direct)"),
    ("AI Assistants", "chatgpt.com"),
    ("Display", "google"),
]
TOTAL_PAGES = [f"/page-{i}" for i in range(150)] + ["/", "/prices", "/contact", "/book"]


def sample_parts(n: int) -> list[str]:
    """Each journey's insights sample part (journey_facts.sample, JSON) in insert order, as the
    facts refresh computes it: the same journeys as journeys(n), rebuilt from their stored events."""
    from leadtrail.insights import journey_sample
    from leadtrail.journeys import outline

    out = []
    started = time.perf_counter()
    for i, row in enumerate(journeys(n), 1):
        at = row[4]
        out.append(dumps(journey_sample(outline(orjson.loads(row[2]), orjson.loads(row[3]), at))))
        if i % 20000 == 0:
            print(f"  {i:>7,}/{n:,} sample parts ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    return out


def totals_rows(ids: list[int], samples: list[str]):
    """A year of daily totals (every channel/source, 150+ pages a day) and each journey's facts
    (first touch from its summary, a random last touch, a few pages seen), as totals.py keeps them."""
    rng = random.Random(5)
    first_day = (NOW - SPREAD).date()
    visits, landings, views = [], [], []
    for d in range(SPREAD.days + 1):
        day = (first_day + timedelta(days=d)).isoformat()
        for channel, source in TOTAL_CHANNELS:
            visits.append((day, channel, source, rng.randint(20, 900)))
        for page in TOTAL_PAGES:
            landings.append((day, page, rng.randint(0, 200)))
            views.append((day, page, rng.randint(1, 900)))
    facts = []
    for journey_id, sample in zip(ids, samples, strict=True):
        first = rng.choice(TOTAL_CHANNELS)
        last = rng.choice(TOTAL_CHANNELS)
        pages = sorted(rng.sample(TOTAL_PAGES, rng.randint(1, 6)))
        facts.append(
            (
                journey_id,
                iso(NOW),
                *first,
                rng.choice(TOTAL_PAGES),
                *last,
                rng.choice(TOTAL_PAGES),
                dumps(pages),
                sample,
            )
        )
    return [
        ("totals_visits", ("day", "channel", "source", "visits"), visits),
        ("totals_landings", ("day", "page_path", "visits"), landings),
        ("totals_views", ("day", "page_path", "views"), views),
        (
            "journey_facts",
            (
                "journey_id",
                "computed_at",
                "first_channel",
                "first_source",
                "first_landing",
                "last_channel",
                "last_source",
                "last_landing",
                "pages",
                "sample",
            ),
            facts,
        ),
    ]


def bench_insights_data(url: str, rounds: int, cases: str | None = None) -> None:
    """totals.load_insights (GET /api/v1/insights' document) at both models, 30 days and a year."""
    from support import make_settings

    from leadtrail import totals
    from leadtrail.store import open_store

    async def go():
        store = await open_store(make_settings(url))
        try:
            year = ((NOW - SPREAD).date(), NOW.date())
            month = ((NOW - timedelta(days=30)).date(), NOW.date())
            for label, (first, last) in (("30 days", month), ("whole year", year)):
                for model in ("last_touch", "first_touch"):
                    name = f"insights data: {label}, {model}"
                    if not wanted(name, cases):
                        continue
                    samples = []
                    for i in range(rounds + 3):
                        t0 = time.perf_counter()
                        await totals.load_insights(store, first, last, UTC, model)
                        if i >= 3:
                            samples.append((time.perf_counter() - t0) * 1000)
                    print(
                        f"  {name:44} {statistics.median(samples):8.1f} {percentile(samples, 0.95):8.1f} "
                        f"{max(samples):8.1f} {len(samples):4}"
                    )
        finally:
            await store.close()

    asyncio.run(go())


def progress(i: int, n: int, started: float) -> None:
    if i % 10000 == 0 or i == n:
        print(f"  {i:>7,}/{n:,} journeys ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)


async def migrate(url: str) -> None:
    from support import make_settings
    from test_dashboard_helpers import OWNER_EMAIL  # noqa: F401

    from leadtrail.store import open_store

    store = await open_store(make_settings(url))
    try:
        await store.migrate()
    finally:
        await store.close()


def fill_sqlite(path: str, n: int) -> None:
    asyncio.run(migrate(f"sqlite:///{path}"))
    conn = sqlite3.connect(path, isolation_level=None)
    have = conn.execute("select count(*) from submission_journeys").fetchone()[0]
    if have >= n:
        print(f"  SQLite already holds {have:,} journeys", file=sys.stderr)
        if conn.execute("select count(*) from journey_facts where sample is null").fetchone()[0]:
            # Filled before journey_facts.sample (migration 2026-12-07-1): add it.
            ids = [r[0] for r in conn.execute("select id from submission_journeys order by id")]
            conn.execute("begin")
            conn.executemany(
                "update journey_facts set sample = ? where journey_id = ?", zip(sample_parts(n), ids, strict=True)
            )
            conn.execute("commit")
        return
    sql = f"insert into submission_journeys ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    batch = []
    conn.execute("begin")
    for i, row in enumerate(journeys(n), 1):
        row = list(row)
        row[4] = row[5] = iso(row[4])
        batch.append(row)
        if len(batch) == 2000:
            conn.executemany(sql, batch)
            batch.clear()
        progress(i, n, started)
    conn.executemany(sql, batch)
    conn.execute("commit")
    ids = [r[0] for r in conn.execute("select id from submission_journeys order by id")]
    conn.execute("begin")
    for table, columns, rows in totals_rows(ids, sample_parts(n)):
        conn.executemany(f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})", rows)
    conn.execute("commit")
    conn.execute("analyze")
    conn.close()


async def fill_postgres(url: str, n: int) -> None:
    import asyncpg

    await migrate(url)
    conn = await asyncpg.connect(url)
    try:
        have = await conn.fetchval("select count(*) from submission_journeys")
        if have >= n:
            print(f"  PostgreSQL already holds {have:,} journeys", file=sys.stderr)
            if await conn.fetchval("select count(*) from journey_facts where sample is null"):
                # Filled before journey_facts.sample (migration 2026-12-07-1): add it.
                ids = [r[0] for r in await conn.fetch("select id from submission_journeys order by id")]
                await conn.execute("create temporary table samples (journey_id bigint, sample text)")
                await conn.copy_records_to_table("samples", records=list(zip(ids, sample_parts(n), strict=True)))
                await conn.execute(
                    "update journey_facts f set sample = s.sample from samples s where s.journey_id = f.journey_id"
                )
                await conn.execute("vacuum analyze journey_facts")
            return
        started = time.perf_counter()
        batch = []
        for i, row in enumerate(journeys(n), 1):
            batch.append(row)
            if len(batch) == 2000:
                await conn.copy_records_to_table("submission_journeys", records=batch, columns=COLUMNS)
                batch.clear()
            progress(i, n, started)
        if batch:
            await conn.copy_records_to_table("submission_journeys", records=batch, columns=COLUMNS)
        ids = [r[0] for r in await conn.fetch("select id from submission_journeys order by id")]
        for table, columns, rows in totals_rows(ids, sample_parts(n)):
            if table == "journey_facts":
                rows = [(r[0], datetime.fromisoformat(r[1]), *r[2:]) for r in rows]
            await conn.copy_records_to_table(table, records=rows, columns=columns)
        await conn.execute("vacuum analyze")
    finally:
        await conn.close()


def wanted(name: str, cases: str | None) -> bool:
    return cases is None or cases.lower() in name.lower()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_app(url: str, label: str, rounds: int, cases: str | None = None) -> None:
    from starlette.testclient import TestClient
    from support import CHROME_UA, make_settings, run_store
    from test_dashboard_helpers import login

    from leadtrail.accounts.users import create_user
    from leadtrail.app import create_app

    try:
        run_store(url, lambda store: create_user(store, OWNER_EMAIL, OWNER_PASSWORD))
    except Exception as exc:  # already there from an earlier run
        if "exists" not in str(exc):
            raise
    app = create_app(make_settings(url))
    with TestClient(app, headers={"User-Agent": CHROME_UA}) as client:
        assert login(client).status_code == 303
        first = client.get("/cp/")
        ids = [int(m) for m in re.findall(r'href="/cp/journeys/(\d+)"', first.text)]
        # Page 50: follow the "older" cursor 49 times, then time that URL.
        url50 = "/cp/"
        for _ in range(49 if wanted("list: page 50", cases) else 0):
            page = client.get(url50)
            match = re.search(r'href="(/cp/\?[^"]*before=[^"]+)"', page.text)
            url50 = match.group(1).replace("&amp;", "&")
        sample_ids = random.Random(3).sample(range(1, max(ids) + 1), 40) + ids[:10]
        month_ago = (NOW - timedelta(days=30)).date().isoformat()
        quarter = ((NOW - timedelta(days=200)).date().isoformat(), (NOW - timedelta(days=110)).date().isoformat())
        table = [
            ("list: first page", lambda i: "/cp/"),
            ("list: search 'olivia.4'", lambda i: f"/cp/?q=olivia.{4 + i % 5}"),
            ("list: search '@proton.me'", lambda i: "/cp/?q=%40proton.me"),
            ("list: search (no match)", lambda i: f"/cp/?q=nobody{i}@nowhere.example"),
            ("list: date range (90 days)", lambda i: f"/cp/?from={quarter[0]}&to={quarter[1]}"),
            ("list: last 30 days", lambda i: f"/cp/?from={month_ago}"),
            ("list: page 50", lambda i: url50),
            ("journey page", lambda i: f"/cp/journeys/{sample_ids[i % len(sample_ids)]}"),
            ("journey JSON", lambda i: f"/cp/journeys/{sample_ids[i % len(sample_ids)]}.json"),
            ("insights: last 30 days", lambda i: "/cp/insights"),
            ("insights: whole year", lambda i: f"/cp/insights?from={(NOW - SPREAD).date().isoformat()}"),
        ]
        print(f"\n{label}")
        # cpu ms: this process's CPU per request (all its threads; not the PostgreSQL server's),
        # the median: less moved by other programs' load on a shared machine than the times are.
        print(f"  {'request':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   n {'cpu ms':>8}")
        for name, make_url in table:
            if not wanted(name, cases):
                continue
            n = rounds if not name.startswith("insights") else max(5, rounds // 5)
            for i in range(3):
                client.get(make_url(i))  # warm caches and prepared statements
            samples, cpu = [], []
            for i in range(n):
                target = make_url(i)
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(target)
                samples.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                assert response.status_code == 200, (target, response.status_code)
            print(
                f"  {name:32} {statistics.median(samples):8.1f} {percentile(samples, 0.95):8.1f} "
                f"{max(samples):8.1f} {n:4} {statistics.median(cpu):8.1f}"
            )
        if not wanted("CSV export, last 30 days", cases):
            return
        t0 = time.perf_counter()
        response = client.get(f"/cp/export.csv?from={month_ago}")
        rows = response.text.count("\n") - 1
        print(f"  {'CSV export, last 30 days':32} {(time.perf_counter() - t0) * 1000:8.1f} ms for {rows:,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--journeys", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--keep", help="directory for a SQLite file reused between runs")
    parser.add_argument("--pg-url", help="a PostgreSQL database to fill (when short of journeys) and reuse")
    parser.add_argument("--cases", help="time only the requests whose name contains this text")
    parser.add_argument("--repeat", type=int, default=1, help="run the chosen cases this many times")
    args = parser.parse_args()
    print(
        f"leadtrail dashboard benchmark: {args.journeys:,} journeys over {SPREAD.days} days, "
        f"{os.cpu_count()} CPU(s), in-process ASGI (Starlette TestClient)"
    )

    if args.only in (None, "sqlite"):
        workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="leadtrail-bench-"))
        workdir.mkdir(parents=True, exist_ok=True)
        path = str(workdir / f"bench-{args.journeys}.db")
        print(f"filling SQLite {path}", file=sys.stderr)
        fill_sqlite(path, args.journeys)
        size = os.path.getsize(path) / 2**20
        for _ in range(args.repeat):
            bench_app(f"sqlite:///{path}", f"SQLite ({size:,.0f} MiB file)", args.rounds, args.cases)
            bench_insights_data(f"sqlite:///{path}", max(5, args.rounds // 3), args.cases)

    if args.only in (None, "postgres") and args.pg_url:
        print("filling PostgreSQL", file=sys.stderr)
        asyncio.run(fill_postgres(args.pg_url, args.journeys))
        for _ in range(args.repeat):
            bench_app(args.pg_url, "PostgreSQL (--pg-url)", args.rounds, args.cases)
            bench_insights_data(args.pg_url, max(5, args.rounds // 3), args.cases)
    elif args.only in (None, "postgres"):
        from pgserver import PgServer

        server = PgServer()
        try:
            server.initdb()
            server.start()
            url = server.create_database("bench")
            print("filling PostgreSQL", file=sys.stderr)
            asyncio.run(fill_postgres(url, args.journeys))
            size = server.psql("select pg_database_size('bench') / 1048576")
            version = server.psql("show server_version")
            for _ in range(args.repeat):
                bench_app(url, f"PostgreSQL {version} ({size} MiB database)", args.rounds, args.cases)
                bench_insights_data(url, max(5, args.rounds // 3), args.cases)
        finally:
            server.destroy()


if __name__ == "__main__":
    main()
