"""The store on both databases: migrations, group commit, dedupe, snapshots, journeys, erasure."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from support import EPOCH, run_store

from leadtrail.store import EventRow, JourneyRecord, utcnow

SEED_INDEXES = {"session_events_anon_idx", "session_events_created_idx", "submission_journeys_email_idx"}


def test_migrations_apply_once_and_are_listed(database_url):
    """Every migration is applied by the first migrate, recorded, and the second applies nothing."""

    async def work(store):
        again = await store.migrate()
        listed = await store.migrations()
        return again, listed

    again, listed = run_store(database_url, work)
    assert again == []
    assert listed and all(applied is not None for _, applied in listed)


def test_postgres_has_the_seed_schema_exactly(pg_url):
    """On PostgreSQL the seed's tables, column types, defaults and indexes exist as written."""

    async def work(store):
        async with store.pool.acquire() as conn:
            cols = await conn.fetch(
                "select table_name, column_name, data_type, column_default, is_nullable from information_schema.columns "
                "where table_name in ('session_events', 'submission_journeys') order by table_name, ordinal_position"
            )
            idx = await conn.fetch(
                "select indexname, indexdef from pg_indexes where tablename in ('session_events', 'submission_journeys')"
            )
        return [tuple(c) for c in cols], {i["indexname"]: i["indexdef"] for i in idx}

    cols, idx = run_store(pg_url, work)
    by_name = {(t, c): (d, default, null) for t, c, d, default, null in cols}
    assert by_name[("session_events", "id")][0] == "bigint" and "nextval" in by_name[("session_events", "id")][1]
    assert by_name[("session_events", "params")] == ("jsonb", "'{}'::jsonb", "NO")
    assert by_name[("session_events", "created_at")] == ("timestamp with time zone", "now()", "NO")
    assert by_name[("submission_journeys", "events")] == ("jsonb", "'[]'::jsonb", "NO")
    assert by_name[("submission_journeys", "anon_id")][2] == "YES"
    assert SEED_INDEXES <= set(idx)
    assert "(anon_id, created_at)" in idx["session_events_anon_idx"]
    assert "(email, created_at DESC)" in idx["submission_journeys_email_idx"]


def test_group_commit_batches_concurrent_writes_and_dedupes(database_url):
    """Concurrent writers share batches; a repeated (anon_id, event_id) is stored once, within a batch or across."""

    async def work(store):
        now = utcnow()
        rows = [[EventRow("v1", "page_view", f"/{i}", f'{{"event_id": "e{i % 10}"}}', now)] for i in range(100)]
        await asyncio.gather(*(store.add_events(r) for r in rows))
        await store.add_events([EventRow("v2", "x", None, "{}", now)] * 3)
        return await store.count("events"), store.committer.batches

    count, batches = run_store(database_url, work)
    assert count == 10 + 3
    assert batches < 100


def test_snapshot_excludes_expired_events_and_other_visitors(database_url):
    """A snapshot holds one visitor's events newer than the cut-off, oldest first."""

    async def work(store):
        now = utcnow()
        await store.add_events(
            [
                EventRow("v1", "old", "/", "{}", now - timedelta(hours=25)),
                EventRow("v1", "b", "/b", "{}", now - timedelta(minutes=1)),
                EventRow("v1", "a", "/a", "{}", now - timedelta(minutes=2)),
                EventRow("v2", "other", "/", "{}", now),
            ]
        )
        return await store.snapshot_events("v1", now - timedelta(hours=24))

    events = run_store(database_url, work)
    assert [e["event_name"] for e in events] == ["a", "b"]


def test_journey_is_refreshed_within_ten_minutes_and_new_after(database_url):
    """Same visitor and address within the window refreshes the journey; later, a new one is made."""

    async def work(store):
        now = utcnow()
        record = JourneyRecord("a@b.co", "v1", [], [], "booking", None, {"visits": 1})
        first = await store.save_journey(record, now, timedelta(minutes=10))
        again = await store.save_journey(
            record._replace(consent=True) if hasattr(record, "_replace") else record,
            now + timedelta(minutes=5),
            timedelta(minutes=10),
        )
        later = await store.save_journey(record, now + timedelta(minutes=16), timedelta(minutes=10))
        other_visitor = await store.save_journey(
            JourneyRecord("a@b.co", None, [], [], None, None, {}), now, timedelta(minutes=10)
        )
        return first, again, later, other_visitor, await store.count("journeys")

    first, again, later, other, count = run_store(database_url, work)
    assert first[1] is True and again == (first[0], False)
    assert later[1] is True and later[0] != first[0]
    assert other[1] is True
    assert count == 3


SUMMARY = {
    "first_channel": "Organic Search",
    "first_source": "google",
    "landing_page": "/",
    "visits": 2,
    "page_views": 5,
    "time_to_enquiry_ms": 1234,
}


def test_summary_computed_while_the_row_is_written_is_stored_with_it(database_url):
    """A summary given as a function is called during the write and lands in the same row, on a
    new journey and on a refresh; the snapshot is stored intact."""
    events = [
        {
            "id": i,
            "event_name": "page_view",
            "page_path": f"/p{i}",
            "params": {"event_id": f"e{i}"},
            "created_at": "2026-11-27T02:25:44.123456+00:00",
        }
        for i in range(300)
    ]
    calls = []

    async def listed(store):
        rows = await store.fetch(
            "cp_list_older",
            since=EPOCH,
            until=utcnow() + timedelta(days=1),
            cursor_at=utcnow() + timedelta(days=1),
            cursor_id=2**62,
            spam=False,
            limit=10,
        )
        return [{k: row[k] for k in SUMMARY} for row in rows]

    def summarize(client_events, touches=()):
        calls.append(client_events)
        return dict(SUMMARY, visits=len(calls))

    async def work(store):
        now = utcnow()
        record = JourneyRecord("sum@b.co", "v5", events, [], "booking", True, summarize)
        first = await store.save_journey(record, now, timedelta(minutes=10))
        after_first = await listed(store)
        again = await store.save_journey(record, now + timedelta(minutes=1), timedelta(minutes=10))
        [journey] = await store.journeys_by_email("sum@b.co", now - timedelta(days=1))
        return first, again, after_first, await listed(store), journey["events"]

    first, again, after_first, after_again, stored_events = run_store(database_url, work)
    assert first[1] is True and again == (first[0], False) and len(calls) == 2
    assert after_first == [dict(SUMMARY, visits=1)]
    assert after_again == [dict(SUMMARY, visits=2)]
    assert stored_events == events


def test_a_refresh_keeps_the_browser_events_form_and_consent_it_had(database_url):
    """A second promote within the window with a shorter or empty buffer and no form or consent
    loses nothing: browser events are merged by event_id, form and consent kept, and the summary
    is computed from the merged events."""
    a = {"event_name": "page_view", "page_path": "/", "params": {}, "event_id": "a", "ts": 1764200000000}
    b = {"event_name": "page_view", "page_path": "/b", "params": {}, "event_id": "b", "ts": 1764200001000}
    c = {"event_name": "cta", "page_path": "/b", "params": {}, "event_id": "c", "ts": 1764200002000}
    seen = []

    def summarize(client_events, touches=()):
        seen.append([e["event_id"] for e in client_events])
        return {"visits": len(client_events)}

    async def work(store):
        now = utcnow()
        first = await store.save_journey(
            JourneyRecord("m@b.co", "v7", [], [a, b], "booking", True, summarize), now, timedelta(minutes=10)
        )
        second = await store.save_journey(
            JourneyRecord("m@b.co", "v7", [], [], None, None, summarize),
            now + timedelta(minutes=1),
            timedelta(minutes=10),
        )
        third = await store.save_journey(
            JourneyRecord("m@b.co", "v7", [], [b, c], None, None, summarize),
            now + timedelta(minutes=2),
            timedelta(minutes=10),
        )
        [journey] = await store.journeys_by_email("m@b.co", now - timedelta(days=1))
        return first, second, third, journey

    first, second, third, journey = run_store(database_url, work)
    assert first[1] is True and second == (first[0], False) and third == (first[0], False)
    assert seen == [["a", "b"], ["a", "b"], ["a", "b", "c"]]
    assert [e["event_id"] for e in journey["client_events"]] == ["a", "b", "c"]
    assert journey["form"] == "booking" and journey["consent"] is True


def test_a_summary_that_fails_stores_nothing(database_url):
    """If the summary raises, the transaction that holds the row rolls back."""

    def broken(client_events, touches=()):
        raise RuntimeError("boom")

    async def work(store):
        try:
            await store.save_journey(
                JourneyRecord("no@b.co", "v6", [], [], None, None, broken), utcnow(), timedelta(minutes=10)
            )
        except RuntimeError as exc:
            return str(exc), await store.count("journeys")
        return None, await store.count("journeys")

    assert run_store(database_url, work) == ("boom", 0)


def test_concurrent_promotes_of_one_visitor_make_one_journey(database_url):
    """Ten simultaneous promotes of the same visitor and address create exactly one row."""

    async def work(store):
        now = utcnow()
        record = JourneyRecord("race@b.co", "v9", [], [], None, None, {})
        results = await asyncio.gather(*(store.save_journey(record, now, timedelta(minutes=10)) for _ in range(10)))
        return results, await store.count("journeys")

    results, count = run_store(database_url, work)
    assert count == 1 and len({r[0] for r in results}) == 1
    assert sum(1 for r in results if r[1]) == 1


def test_erase_deletes_journeys_and_that_visitors_buffer(database_url):
    """Erasure removes every journey of the address and the buffered events of its visitors, nothing else."""

    async def work(store):
        now = utcnow()
        await store.add_events([EventRow("v1", "a", "/", "{}", now), EventRow("v2", "b", "/", "{}", now)])
        await store.save_journey(JourneyRecord("x@y.co", "v1", [], [], None, None, {}), now, timedelta(minutes=10))
        await store.save_journey(JourneyRecord("x@y.co", None, [], [], None, None, {}), now, timedelta(minutes=10))
        await store.save_journey(JourneyRecord("keep@y.co", "v2", [], [], None, None, {}), now, timedelta(minutes=10))
        erased = await store.erase_email("x@y.co")
        return erased, await store.count("events"), await store.count("journeys")

    assert run_store(database_url, work) == (2, 1, 1)


def test_prune_deletes_in_bounded_batches(database_url):
    """Expired rows go in batches of the given size, newer rows stay."""

    async def work(store):
        now = utcnow()
        await store.add_events(
            [EventRow(f"v{i}", "a", "/", "{}", now - timedelta(days=2)) for i in range(25)]
            + [EventRow("fresh", "a", "/", "{}", now)]
        )
        first = await store.delete_expired_events(now - timedelta(days=1), 10)
        return first, await store.count("events")

    assert run_store(database_url, work) == (10, 16)
