"""Promotes cannot fill the disk (issue 12, finding 5): a limit of its own per client address, a
cap on the bytes of browser events one journey keeps, and a guard that refuses new journeys while
the database's disk is low, said by /healthz and /metrics."""

from __future__ import annotations

from support import app_client, page_view, run_store

from leadtrail.store.base import MAX_CLIENT_EVENT_BYTES, cap_client_events


def test_one_address_making_up_addresses_is_limited(sqlite_url):
    """Unique e-mails from one address: after the burst of 20, 429 with Retry-After; nothing more stored."""
    with app_client(sqlite_url, rate_limit=600) as client:
        statuses = [
            client.post("/api/track/promote", json={"email": f"u{i}@example.com"}).status_code for i in range(30)
        ]
        refused = client.post("/api/track/promote", json={"email": "last@example.com"})
    assert statuses.count(201) == 20 and statuses[20:] == [429] * 10
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert run_store(sqlite_url, lambda store: store.count("journeys")) == 20


def test_a_journey_keeps_at_most_a_capped_size_of_browser_events():
    """The newest events that fit the cap are kept; small buffers are kept whole."""
    events = [{"event_name": "note", "params": {"text": "x" * 900}, "event_id": f"e{i}"} for i in range(400)]
    kept = cap_client_events(events)
    assert kept == events[-len(kept) :] and 100 < len(kept) < 400
    assert sum(len(str(e)) for e in kept) < MAX_CLIENT_EVENT_BYTES * 1.2
    assert cap_client_events(events[:5]) == events[:5]


def test_repeated_refreshes_do_not_grow_a_journey_without_end(sqlite_url):
    """Twenty refreshes, each with new large browser events, leave the journey within the cap."""
    with app_client(sqlite_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        for round_ in range(20):
            buffer = [
                {"event_name": "note", "params": {"text": "y" * 900}, "event_id": f"r{round_}-{i}"} for i in range(60)
            ]
            r = client.post("/api/track/promote", json={"email": "grow@example.com", "client_events": buffer})
            assert r.status_code in (200, 201)

    async def size(store):
        rows = await store.fetch("api_journey_get", id=r.json()["journey_id"])
        return len(str(store.journey_out(rows[0])["client_events"]))

    assert run_store(sqlite_url, size) < MAX_CLIENT_EVENT_BYTES * 1.2


def test_low_disk_refuses_new_journeys_and_says_so(sqlite_url):
    """With MIN_FREE_DISK_MB above the free space: promote 503 with Retry-After, tracking still 204,
    /healthz low_disk, /metrics leadtrail_disk_low 1."""
    with app_client(sqlite_url, min_free_disk_mb=10**9) as client:
        assert client.post("/api/track", json=page_view("/", "a")).status_code == 204
        r = client.post("/api/track/promote", json={"email": "jo@example.com"})
        assert r.status_code == 503 and r.headers["retry-after"] and "disk" in r.json()["error"]
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "low_disk"
    assert run_store(sqlite_url, lambda store: store.count("journeys")) == 0
