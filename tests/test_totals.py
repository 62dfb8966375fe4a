"""Anonymous daily totals (totals.py): every visit counted once, recounted from the raw events.

The oracle is journeys.reconstruct() over each visitor's whole buffer: its visits, on the local
day each started, by channel/source and landing page, and its page views by page and day.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support import make_settings, run_store
from trackclient import wait_for

from leadtrail import journeys, lifecycle, totals
from leadtrail.store import EventRow, dumps, open_store

NOW = datetime.now(UTC).replace(microsecond=0)
TZ = ZoneInfo("Europe/Berlin")
LANDINGS = [
    ("/?utm_source=newsletter&utm_medium=email", None),
    ("/prices", "https://www.google.com/"),
    ("/?gclid=abc", "https://www.google.com/"),
    ("/blog/a", "https://news.ycombinator.com/"),
    ("/", None),
    ("/contact?utm_source=fb&utm_medium=paid_social", None),
]
PAGES = ["/", "/prices", "/blog/a", "/contact", "/about?x=1#top"]


def recount(events_by_visitor: dict[str, list[dict]], tz) -> totals.Counts:
    """The oracle: reconstruct() over each visitor's whole event list."""
    counts = totals.Counts()
    for events in events_by_visitor.values():
        for visit in journeys.reconstruct(events, [], None)["visits"]:
            day = datetime.fromisoformat(visit["started_at"]).astimezone(tz).date().isoformat()
            counts.visits[(day, visit["channel"], visit["source"] or "")] += 1
            if visit["landing_page"] is not None:
                counts.landings[(day, visit["landing_page"])] += 1
        for e in events:
            if e["event_name"] == "page_view":
                day = datetime.fromisoformat(e["created_at"]).astimezone(tz).date().isoformat()
                counts.views[(day, totals.base_path(e["page_path"]))] += 1
    return counts


def synthetic(rng: random.Random, visitors: int, start: datetime, hours: float = 6.0) -> list[EventRow]:
    """Visitors with several visits each (gaps around 30 minutes), varied channels and pages."""
    rows = []
    for v in range(visitors):
        at = start + timedelta(seconds=rng.uniform(0, hours * 1800))
        anon = f"visitor-{v:05d}-{rng.getrandbits(32):08x}"
        for _ in range(rng.randint(1, 3)):
            path, referrer = rng.choice(LANDINGS)
            params = {"referrer": referrer} if referrer else {}
            rows.append(EventRow(anon, "page_view", path, dumps(params), at))
            for _ in range(rng.randint(0, 4)):
                at += timedelta(seconds=rng.choice([1, 30, 300, 1799, 1800]))
                name = rng.choice(["page_view", "page_view", "click", "page_engagement"])
                rows.append(EventRow(anon, name, rng.choice(PAGES), "{}", at))
            at += timedelta(seconds=rng.choice([1801, 3600]))
    return rows


def as_events(rows: list[EventRow]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r.created_at):
        out.setdefault(r.anon_id, []).append(
            {
                "event_name": r.event_name,
                "page_path": r.page_path,
                "params": __import__("orjson").loads(r.params),
                "created_at": r.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            }
        )
    return out


async def stored_counts(store) -> totals.Counts:
    counts = totals.Counts()
    for r in await store.fetch("conv_totals_visits", first="0000", last="9999"):
        counts.visits[(r["day"], r["channel"], r["source"])] += int(r["visits"])
    for r in await store.fetch("conv_totals_landings", first="0000", last="9999"):
        counts.landings[("*", r["page_path"])] += int(r["visits"])
    for r in await store.fetch("conv_totals_views", first="0000", last="9999"):
        counts.views[("*", r["page_path"])] += int(r["views"])
    return counts


def flat(counts: totals.Counts) -> tuple[Counter, Counter, Counter]:
    """Visits keyed as stored; landings and views summed over days (the read sums them)."""
    landings, views = Counter(), Counter()
    for (_, path), n in counts.landings.items():
        landings[("*", path)] += n
    for (_, path), n in counts.views.items():
        views[("*", path)] += n
    return +counts.visits, +landings, +views


async def buffer_events(store) -> dict[str, list[dict]]:
    """Every buffered event, by visitor, oldest first, read with plain SQL."""
    sql = "select anon_id, event_name, page_path, params, created_at from session_events order by created_at, id"
    if store.dialect == "sqlite":
        rows = await store._on_writer(lambda: [dict(r) for r in store._writer.execute(sql).fetchall()])
    else:
        import asyncpg

        conn = await asyncpg.connect(store.dsn)
        try:
            rows = [dict(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["anon_id"], []).append(
            {
                "event_name": r["event_name"],
                "page_path": r["page_path"],
                "params": store.decode_json(r["params"]),
                "created_at": store.time_text(r["created_at"]),
            }
        )
    return out


async def insert(store, rows: list[EventRow]) -> None:
    for i in range(0, len(rows), 2000):
        await store.add_events(rows[i : i + 2000])


# -- the roll-up against the recount ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_counting_in_stretches_cut_anywhere_equals_the_recount(database_url, seed):
    """Rolled up to random moments (each stretch looking back at the visitors' earlier events),
    across a change of summer time, the totals equal reconstruct()'s count of the whole buffer."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # summer time begins in Europe/Berlin
    rows = synthetic(rng, 12, start)
    last = max(r.created_at for r in rows)
    cuts = sorted(start + (last - start) * rng.random() for _ in range(rng.randint(1, 8)))

    async def work(store):
        await insert(store, rows)
        for cut in [*cuts, last + timedelta(seconds=1)]:
            await totals.roll_up(store, TZ, cut + totals.SETTLE)
        return await stored_counts(store), await buffer_events(store)

    stored, events = run_store(database_url, work)
    assert flat(stored) == flat(recount(events, TZ))


@pytest.mark.parametrize("gap, visits", [(journeys.VISIT_GAP, 1), (journeys.VISIT_GAP + timedelta(microseconds=1), 2)])
@pytest.mark.parametrize("cut_between", [False, True])
def test_30_minutes_continue_a_visit_and_a_microsecond_more_starts_one(database_url, gap, visits, cut_between):
    """An event exactly 30 minutes after the visitor's last continues the visit; a microsecond
    later it starts a new one, whether both are in one stretch or the first in an earlier one."""
    at = datetime(2026, 6, 1, 10, tzinfo=UTC)
    rows = [
        EventRow("gap-visitor", "page_view", "/a", "{}", at - gap),
        EventRow("gap-visitor", "page_view", "/b", "{}", at),
    ]

    async def work(store):
        await insert(store, rows)
        if cut_between:
            await totals.roll_up(store, UTC, at - timedelta(minutes=1) + totals.SETTLE)
        await totals.roll_up(store, UTC, at + timedelta(minutes=1) + totals.SETTLE)
        return await stored_counts(store)

    counts = run_store(database_url, work)
    assert sum(counts.visits.values()) == visits
    assert sum(counts.views.values()) == 2


# -- one database --------------------------------------------------------------------------------


def test_roll_up_in_steps_with_restarts_counts_every_visit_once(database_url, monkeypatch):
    """Rolled up in small steps, with a fresh store (a restart) between roll-ups, the totals
    equal the recount from the raw events."""
    monkeypatch.setattr(totals, "MAX_STEP", timedelta(minutes=7))
    rows = synthetic(random.Random(7), 60, NOW - timedelta(hours=14), hours=2)

    async def load(store):
        await insert(store, rows)

    run_store(database_url, load)
    for step in range(1, 9):  # eight "server runs", each rolling up to a later moment
        run_store(database_url, lambda store, s=step: totals.roll_up(store, TZ, NOW - timedelta(hours=16 - 2 * s)))

    async def check(store):
        assert flat(await stored_counts(store)) == flat(recount(await buffer_events(store), TZ))

    run_store(database_url, check)


def test_two_concurrent_roll_ups_never_count_a_stretch_twice(database_url, monkeypatch):
    """Two stores (two workers) rolling up the same buffer at once: each stretch is counted by
    exactly one of them."""
    monkeypatch.setattr(totals, "MAX_STEP", timedelta(minutes=5))
    rows = synthetic(random.Random(11), 80, NOW - timedelta(hours=14), hours=2)
    settings_ = make_settings(database_url)

    async def main():
        a, b = await open_store(settings_), await open_store(settings_)
        try:
            await a.migrate()
            await insert(a, rows)
            read = await asyncio.gather(*(totals.roll_up(s, TZ) for s in (a, b, a, b)))
            expected = recount(await buffer_events(a), TZ)
            assert sum(read) == sum(expected.visits.values())  # each visit counted by one winning step
            assert flat(await stored_counts(a)) == flat(expected)
        finally:
            await a.close()
            await b.close()

    asyncio.run(main())


def test_prune_racing_roll_ups_loses_no_visit(database_url, monkeypatch):
    """Prunes of a buffer that expired run at the same time as roll-ups: the events are gone
    afterwards and the totals still equal the recount made before."""
    monkeypatch.setattr(totals, "MAX_STEP", timedelta(minutes=3))
    rows = synthetic(random.Random(13), 50, NOW - timedelta(days=2, hours=6))
    settings_ = make_settings(database_url, prune_batch=25, timezone="Europe/Berlin")

    async def main():
        a, b = await open_store(settings_), await open_store(settings_)
        try:
            await a.migrate()
            await insert(a, rows)
            expected = flat(recount(await buffer_events(a), TZ))
            await asyncio.gather(
                lifecycle.prune(a, settings_, max_batches=None),
                totals.roll_up(b, TZ),
                lifecycle.prune(b, settings_),
                totals.roll_up(a, TZ),
            )
            await lifecycle.prune(a, settings_)
            assert await a.count("events") == 0
            assert flat(await stored_counts(a)) == expected
        finally:
            await a.close()
            await b.close()

    asyncio.run(main())


def test_prune_never_deletes_what_the_totals_have_not_counted(database_url):
    """With the roll-up behind (never run), prune rolls up first; it never deletes events newer
    than the watermark less the 30-minute look-back."""
    rows = synthetic(random.Random(17), 20, NOW - timedelta(days=3))
    settings_ = make_settings(database_url, timezone="Europe/Berlin")

    async def work(store):
        await insert(store, rows)
        expected = flat(recount(await buffer_events(store), TZ))
        assert await totals.prune_before(store, NOW) is None  # nothing counted: nothing may go
        await lifecycle.prune(store, settings_)
        assert await store.count("events") == 0
        assert flat(await stored_counts(store)) == expected

    run_store(database_url, work)


def test_a_roll_up_that_fails_before_its_commit_counts_nothing_and_the_next_counts_all(database_url, monkeypatch):
    """A roll-up dying inside its transaction (after moving the watermark) leaves neither the
    watermark nor any count behind; the next roll-up counts the stretch exactly once."""
    rows = synthetic(random.Random(19), 30, NOW - timedelta(hours=14), hours=2)

    async def work(store):
        await insert(store, rows)
        real = store.transaction

        def dying(*args, **kwargs):
            cm = real(*args, **kwargs)

            class Dying:
                async def __aenter__(self):
                    tx = await cm.__aenter__()
                    execute = tx.execute

                    async def boom(query, **params):
                        if query == "totals_add_views":
                            raise RuntimeError("killed mid-roll-up")
                        return await execute(query, **params)

                    tx.execute = boom
                    return tx

                async def __aexit__(self, *exc):
                    return await cm.__aexit__(*exc)

            return Dying()

        monkeypatch.setattr(store, "transaction", dying)
        with pytest.raises(RuntimeError):
            await totals.roll_up(store, TZ)
        monkeypatch.setattr(store, "transaction", real)
        assert await store.fetchval("totals_rollup_get") is None
        assert sum((await stored_counts(store)).visits.values()) == 0
        await totals.roll_up(store, TZ)
        assert flat(await stored_counts(store)) == flat(recount(await buffer_events(store), TZ))

    run_store(database_url, work)


def test_after_40_silent_visitors_expire_their_visits_remain_and_no_table_holds_their_anon_ids(database_url):
    """40 visitors who never enquire, their buffer expired and pruned: the totals still give
    their visits, and a dump of every table holds none of their anon_ids."""
    rng = random.Random(23)
    start = NOW - timedelta(days=2)
    rows = [
        EventRow(
            f"silent-{i:02d}-{rng.getrandbits(40):010x}",
            "page_view",
            "/prices",
            dumps({"referrer": "https://www.google.com/"}),
            start + timedelta(minutes=i),
        )
        for i in range(40)
    ]
    settings_ = make_settings(database_url)

    async def work(store):
        await insert(store, rows)
        await lifecycle.prune(store, settings_)
        assert await store.count("events") == 0
        visits = sum(
            int(r["visits"])
            for r in await store.fetch("conv_totals_visits", first="0000", last="9999")
            if r["channel"] == "Organic Search"
        )
        assert visits == 40

    run_store(database_url, work)
    dump = dump_everything(database_url)
    assert "silent-" not in dump and all(r.anon_id not in dump for r in rows)


def dump_everything(database_url: str) -> str:
    """Every row of every table, as text, read straight from the database."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url[len("sqlite:///") :]) as conn:
            tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
            return "\n".join(repr(conn.execute(f'select * from "{t}"').fetchall()) for t in tables)
    import asyncpg

    async def go():
        conn = await asyncpg.connect(database_url)
        try:
            tables = [r[0] for r in await conn.fetch("select tablename from pg_tables where schemaname = 'public'")]
            return "\n".join([repr(await conn.fetch(f'select * from "{t}"')) for t in tables])
        finally:
            await conn.close()

    return asyncio.run(go())


# -- server processes ------------------------------------------------------------------------------

NO_LIMIT = {"LEADTRAIL_RATE_LIMIT": "0", "LEADTRAIL_PRUNE_PROBABILITY": "0"}


def _live_check(database_url: str, timeout: float = 60.0) -> None:
    """Within `timeout` the servers' own roll-ups have counted every buffered event, exactly."""

    async def state(store):
        events = await buffer_events(store)
        last = max(e["created_at"] for evs in events.values() for e in evs)
        through = await store.fetchval("totals_rollup_get")
        done = through is not None and store.time_text(through) > last
        return done, events, await stored_counts(store)

    wait_for(lambda: run_store(database_url, state)[0], timeout, "the servers' roll-up to pass the last event", 0.5)
    _, events, stored = run_store(database_url, state)
    assert flat(stored) == flat(recount(events, UTC))


def test_two_server_processes_count_every_visit_once_within_60_seconds(database_url, start_server):
    """Two `leadtrail serve` processes on one database take visitors' events and roll up
    concurrently; within 60 seconds the totals equal the recount from the raw events."""
    from trackclient import run_visitors

    a = start_server(database_url, env=NO_LIMIT)
    b = start_server(database_url, env=NO_LIMIT)
    run_visitors([a.url, b.url], n=6, events=600)
    _live_check(database_url)
    assert a.proc.poll() is None and b.proc.poll() is None


def test_kill_9_mid_roll_up_then_restart_counts_every_visit_once(database_url, start_server, monkeypatch):
    """A server killed with SIGKILL while it rolls up a large buffer, then started again: the
    totals equal the recount, nothing counted twice, nothing lost."""
    rows = synthetic(random.Random(29), 4000, NOW - timedelta(hours=20), hours=4)
    run_store(database_url, lambda store: insert(store, rows))

    def started_rolling() -> bool:
        return run_store(database_url, lambda store: store.fetchval("totals_rollup_get")) is not None

    server = start_server(database_url, env=NO_LIMIT)
    wait_for(started_rolling, 30, "the first roll-up step", 0.02)
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    again = start_server(database_url, env=NO_LIMIT)
    _live_check(database_url)
    assert again.proc.poll() is None


def test_day_keys_are_local_dates(database_url):
    """A visit at 23:30 UTC on 31 May counts on 1 June in Europe/Berlin."""
    at = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    rows = [EventRow("tz-visitor", "page_view", "/", "{}", at)]

    async def work(store):
        await insert(store, rows)
        await totals.roll_up(store, TZ, at + timedelta(minutes=5))
        return await store.fetch("conv_totals_visits", first="0000", last="9999")

    got = run_store(database_url, work)
    assert [(r["day"], int(r["visits"])) for r in got] == [(date(2026, 6, 1).isoformat(), 1)]
