"""Remembered visits through the promote: the browser's touches are validated one by one (a bad
one dropped and counted), kept with the journey, merged on a refresh, ignored under GPC, and make
an older visit the journey's first touch in the export and the API."""

from __future__ import annotations

import time

from support import app_client, page_view, run_store

from leadtrail.export import export_journey

NOW_MS = int(time.time() * 1000)
NEWSLETTER = {
    "ts": NOW_MS - 10 * 86_400_000,
    "page_path": "/?utm_source=newsletter&utm_medium=email&secret=1",
    "referrer": "https://mail.example.com/inbox/123",
    "pages": 3,
}


def _journey(database_url: str, journey_id: int) -> dict:
    async def work(store):
        rows = await store.fetch("api_journey_get", id=journey_id)
        return export_journey(store.journey_out(rows[0]))

    return run_store(database_url, work)


def test_a_remembered_newsletter_visit_is_the_first_touch(database_url):
    """A touch from ten days ago becomes the first visit (Email, newsletter), cleaned; a bad one is dropped and counted."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        r = client.post(
            "/api/track/promote",
            json={"email": "couple@example.com", "touches": [NEWSLETTER, {"ts": "yesterday", "page_path": "/"}]},
        )
    assert r.status_code == 201 and r.json()["touches_dropped"] == 1
    journey = _journey(database_url, r.json()["journey_id"])
    first = journey["visits"][0]
    assert first["remembered"] and first["channel"] == "Email" and first["source"] == "newsletter"
    assert journey["touches"][0]["page_path"] == "/?utm_source=newsletter&utm_medium=email"  # secret dropped
    assert journey["touches"][0]["referrer"] == "https://mail.example.com"  # reduced to its origin
    assert journey["summary"]["first_touch"]["channel"] == "Email" and journey["summary"]["visits"] == 2
    assert journey["summary"]["time_to_enquiry_ms"] >= 10 * 86_400_000 - 60_000


def test_touches_are_merged_on_a_refresh_and_ignored_under_gpc(database_url):
    """A second promote without touches keeps the first one's; a GPC promote stores none."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        first = client.post("/api/track/promote", json={"email": "again@example.com", "touches": [NEWSLETTER]})
        again = client.post("/api/track/promote", json={"email": "again@example.com"})
        assert again.status_code == 200 and again.json()["journey_id"] == first.json()["journey_id"]
        client.cookies.clear()
        gpc = client.post(
            "/api/track/promote",
            json={"email": "private@example.com", "touches": [NEWSLETTER]},
            headers={"Sec-GPC": "1"},
        )
    assert len(_journey(database_url, first.json()["journey_id"])["touches"]) == 1
    assert _journey(database_url, gpc.json()["journey_id"])["touches"] == []
