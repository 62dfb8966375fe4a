"""The buffer's lifecycle: TTL on reads, probabilistic and periodic prunes, journey retention."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from support import anon_id_of, app_client, make_settings, page_view, row_counts, run_store

from leadtrail.lifecycle import Pruner, prune
from leadtrail.store import EventRow, JourneyRecord, utcnow


def test_promote_never_snapshots_events_older_than_the_ttl(database_url):
    """An event older than EVENT_TTL is left out of the journey even before any prune."""
    with app_client(database_url, event_ttl=3600) as client:
        client.post("/api/track", json=page_view("/new", "new"))
        anon_id = anon_id_of(client)
        assert anon_id
        # The same visitor's view from two hours ago, stored as the server would have (no sleeping
        # through a short TTL: the ages are far from the boundary on any machine).
        old = EventRow(anon_id, "page_view", "/old", "{}", utcnow() - timedelta(hours=2))
        run_store(database_url, lambda store: store.add_events([old]))
        r = client.post("/api/track/promote", json={"email": "ttl@x.co"})
        assert r.status_code == 201 and r.json()["server_events"] == 1
    assert row_counts(database_url) == (2, 1)  # nothing pruned: the read itself applied the TTL


def test_cookie_lifetime_follows_the_ttl(database_url):
    """The anon_id cookie lives as long as EVENT_TTL."""
    with app_client(database_url, event_ttl=3600) as client:
        r = client.post("/api/track", json=page_view("/"))
        assert "Max-Age=3600" in r.headers["set-cookie"]


def test_probabilistic_prune_runs_in_the_background_on_track(database_url):
    """With PRUNE_PROBABILITY=1 a track request prunes expired rows without waiting for it."""
    now = utcnow()
    run_store(
        database_url,
        lambda store: store.add_events(
            [EventRow(f"v{i}", "old", "/", "{}", now - timedelta(days=2)) for i in range(30)]
        ),
    )
    with app_client(database_url, prune_probability=1.0, prune_batch=1000) as client:
        assert client.post("/api/track", json=page_view("/")).status_code == 204
        deadline = time.monotonic() + 10
        while row_counts(database_url)[0] != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert row_counts(database_url)[0] == 1


def test_prune_with_retention_deletes_old_journeys_only(database_url):
    """JOURNEY_RETENTION=30 deletes journeys older than 30 days and keeps newer ones and all of the buffer's fresh rows."""
    settings = make_settings(database_url, journey_retention=30, prune_batch=2)

    async def work(store):
        now = utcnow()
        for age in (40, 35, 31, 29, 1):
            await store.save_journey(
                JourneyRecord(f"a{age}@x.co", None, [], [], None, None, {}),
                now - timedelta(days=age),
                timedelta(minutes=10),
            )
        await store.add_events([EventRow("v", "e", "/", "{}", now - timedelta(hours=h)) for h in (30, 26, 2)])
        result = await prune(store, settings, now=now)
        return result, await store.count("journeys"), await store.count("events")

    result, journeys, events = run_store(database_url, work)
    assert (result.events, result.journeys, journeys, events) == (2, 3, 2, 1)


def test_periodic_pruner_runs_until_nothing_is_left(database_url):
    """The server's periodic prune loops over bounded batches until every expired row is gone."""
    settings = make_settings(database_url, prune_batch=7, prune_interval=3600)

    async def work(store):
        now = utcnow()
        await store.add_events([EventRow(f"v{i}", "e", "/", "{}", now - timedelta(days=3)) for i in range(50)])
        pruner = Pruner(store, settings)
        pruner.start_periodic()
        # A bounded wait, generous for a loaded machine (each batch rests as long as it took).
        for _ in range(3000):  # 60 s at most
            if await store.count("events") == 0:
                break
            await asyncio.sleep(0.02)
        await pruner.stop()
        return await store.count("events")

    assert run_store(database_url, work) == 0


def test_retention_hides_old_journeys_from_export_before_prune(database_url):
    """Journeys past JOURNEY_RETENTION are not exported even before a prune deletes them."""
    from leadtrail.lifecycle import visible_journeys_since

    settings = make_settings(database_url, journey_retention=10)

    async def work(store):
        now = utcnow()
        await store.save_journey(
            JourneyRecord("r@x.co", None, [], [], None, None, {}), now - timedelta(days=11), timedelta(minutes=10)
        )
        await store.save_journey(
            JourneyRecord("r@x.co", None, [], [], None, None, {}), now - timedelta(days=9), timedelta(minutes=10)
        )
        return await store.journeys_by_email("r@x.co", visible_journeys_since(settings, now))

    assert len(run_store(database_url, work)) == 1
