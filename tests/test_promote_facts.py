"""The promote writes the journey's facts (journey_facts: first and last touch, pages, the insights
sample's part) in its own transaction, from the outline it computes for the list's columns: on
both databases, journeys of several shapes (remembered visits or none, client events matched and
browser-only, refreshed by a second promote or by the late look, no cookie) get exactly the row a
fresh totals._facts_rows computation of the stored journey gives, stamped so that facts_stale
finds none of them; a failure to compute them leaves the promote answered and the refresh repairs."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import datetime

import orjson
import pytest
from support import app_client, page_view, run_store, wait_for_background

from leadtrail import promote as promote_workflow
from leadtrail import totals
from leadtrail.totals import Totals

NOW_MS = int(time.time() * 1000)
NEWSLETTER = {
    "ts": NOW_MS - 10 * 86_400_000,
    "page_path": "/?utm_source=newsletter&utm_medium=email",
    "referrer": "https://mail.example.com/inbox/1",
    "pages": 3,
}
ADS = {"ts": NOW_MS - 3 * 86_400_000, "page_path": "/offers?gclid=abc", "referrer": None, "pages": 1}


def client_event(name: str, path: str, event_id: str, ts: int) -> dict:
    return {"event_name": name, "page_path": path, "params": {}, "event_id": event_id, "ts": ts}


def _on_database(database_url: str, sql: str) -> list[list]:
    """Runs one statement past the store; its rows."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("sqlite:///", 1)[1]) as conn:
            return [list(r) for r in conn.execute(sql)]
    import asyncpg

    async def run():
        conn = await asyncpg.connect(database_url)
        try:
            return [list(r.values()) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    return asyncio.run(run())


def _stored_facts(database_url: str) -> dict[int, list]:
    """journey_facts as stored: id -> [computed_at (datetime), six touch columns, pages, sample
    (decoded)]."""
    rows = _on_database(
        database_url,
        "select journey_id, computed_at, first_channel, first_source, first_landing, last_channel,"
        " last_source, last_landing, pages, sample from journey_facts",
    )
    return {r[0]: _normal(r[1:]) for r in rows}


def _normal(row: list) -> list:
    at = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0])
    return [at, *row[1:7], orjson.loads(row[7]), None if row[8] is None else orjson.loads(row[8])]


def _recomputed(database_url: str) -> tuple[list, dict[int, list]]:
    """What facts_stale finds, then (the facts deleted) the rows a fresh refresh computes."""

    async def stale(store):
        return await store.fetch("facts_stale", limit=1000)

    async def fresh(store):
        rows = await store.fetch("facts_stale", limit=1000)
        return {row[0]: _normal(row[1:]) for row in totals._facts_rows(store, rows)}

    found = run_store(database_url, stale)
    _on_database(database_url, "delete from journey_facts")
    return found, run_store(database_url, fresh)


def _shapes(client) -> dict[str, int]:
    """Promotes journeys of several shapes through the app; name -> journey id."""
    ids: dict[str, int] = {}

    def promote(name: str, body: dict, status: int = 201, **kw) -> None:
        r = client.post("/api/track/promote", json=body, **kw)
        assert r.status_code == status, r.text
        ids[name] = r.json()["journey_id"]

    # Server events only, a campaign landing and a few pages.
    client.post("/api/track", json=page_view("/?utm_source=google&utm_medium=cpc", "p1"))
    client.post("/api/track", json=page_view("/prices?x=1", "p2"))
    client.post("/api/track", json=page_view("/contact#form", "p3"))
    promote("plain", {"email": "plain@example.com"})

    # Remembered visits (touches), one of them older than the buffer.
    client.cookies.clear()
    client.post("/api/track", json=page_view("/", "t1"))
    client.post("/api/track", json=page_view("/book", "t2"))
    promote("touches", {"email": "touches@example.com", "touches": [NEWSLETTER, ADS]})

    # Client events: matched by id, and browser-only (one timed now, one from hours ago).
    client.cookies.clear()
    client.post("/api/track", json=page_view("/?ref=x", "c1"))
    now_ms = int(time.time() * 1000)
    promote(
        "client",
        {
            "email": "client@example.com",
            "client_events": [
                client_event("page_view", "/?ref=x", "c1", now_ms - 1000),
                client_event("page_view", "/blocked-by-adblock", "c2", now_ms - 500),
                client_event("page_view", "/earlier?utm_source=bing&utm_medium=cpc", "c0", now_ms - 4 * 3600_000),
                client_event("form_submit", "/blocked-by-adblock", "c3", now_ms),
            ],
        },
    )

    # Refreshed by a second promote: more pages, browser-only events timed after the first promote
    # (the refresh's facts are rebuilt at the journey's creation time, its sample at the refresh).
    client.cookies.clear()
    client.post("/api/track", json=page_view("/?utm_source=facebook&utm_medium=social", "r1"))
    promote("refreshed", {"email": "again@example.com", "touches": [ADS]})
    time.sleep(0.05)
    client.post("/api/track", json=page_view("/pricing", "r2"))
    later_ms = int(time.time() * 1000) + 60_000  # a browser clock ahead
    promote(
        "refreshed",
        {
            "email": "again@example.com",
            "client_events": [
                client_event("page_view", "/pricing", "r2", later_ms - 2000),
                client_event("page_view", "/only-in-browser", "r3", later_ms),
            ],
        },
        status=200,
    )
    refreshed_first = ids["refreshed"]

    # Refreshed without any remembered visit, by a browser-only page view timed just inside the
    # 48 hours before the first promote and outside those before the second: rebuilt at the
    # journey's creation time (as the refresh does) it is a visit of its own and the first touch;
    # at the second promote's time it has no time (it follows the buffer).
    client.cookies.clear()
    client.post("/api/track", json=page_view("/a", "s1"))
    promote("refreshed_plain", {"email": "twice@example.com"})
    first_answered_ms = int(time.time() * 1000)
    time.sleep(1.0)
    client.post("/api/track", json=page_view("/b", "s2"))
    edge_ms = first_answered_ms - 48 * 3600_000 + 500
    promote(
        "refreshed_plain",
        {
            "email": "twice@example.com",
            "client_events": [client_event("page_view", "/edge?utm_source=bing&utm_medium=cpc", "s3", edge_ms)],
        },
        status=200,
    )

    # The late look: an event sent with the promote commits just after its snapshot.
    client.cookies.clear()
    client.post("/api/track", json=page_view("/late", "l1"))
    now_ms = int(time.time() * 1000)
    promote(
        "late",
        {
            "email": "late@example.com",
            "client_events": [
                client_event("page_view", "/late", "l1", now_ms - 100),
                client_event("page_engagement", "/late", "l2", now_ms),
            ],
        },
    )
    client.post(
        "/api/track",
        json={"event_name": "page_engagement", "page_path": "/late", "event_id": "l2", "params": {"engaged_ms": 900}},
    )

    # No cookie: the browser's events only.
    client.cookies.clear()
    promote(
        "no_cookie",
        {
            "email": "nocookie@example.com",
            "client_events": [client_event("page_view", "/landing?utm_source=x", "n1", now_ms - 5000)],
        },
    )
    assert ids["refreshed"] == refreshed_first
    return ids


@pytest.fixture
def no_periodic_refresh(monkeypatch):
    """The app's periodic roll-up and facts refresh do not run: every fact stored is the promote's."""
    monkeypatch.setattr(Totals, "start_periodic", lambda self: None)
    monkeypatch.setattr(promote_workflow, "LATE_REFRESH_DELAY", 0.3)


def test_the_promote_writes_the_facts_a_refresh_would_compute(database_url, no_periodic_refresh):
    with app_client(database_url) as client:
        ids = _shapes(client)
        wait_for_background(client)
    stored = _stored_facts(database_url)
    stale, expected = _recomputed(database_url)

    assert stale == []  # the periodic refresh has nothing to do
    assert set(stored) == set(expected) == set(ids.values())
    for name, journey_id in ids.items():
        assert stored[journey_id] == expected[journey_id], name
    # The shapes are what they claim to be: remembered visits count, browser-only pages are there.
    assert expected[ids["touches"]][1] == "Email"  # first touch: the remembered newsletter visit
    assert "/only-in-browser" in expected[ids["refreshed"]][7]
    assert expected[ids["no_cookie"]][7] == ["/landing"]
    assert expected[ids["refreshed_plain"]][1] == "Paid Search"  # the edge visit, at the creation time


def test_a_failure_to_compute_the_facts_leaves_the_promote_and_the_refresh_repairs(
    database_url, no_periodic_refresh, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("facts broke")

    monkeypatch.setattr(totals, "facts_row", broken)
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/x", "f1"))
        r = client.post("/api/track/promote", json={"email": "broken@example.com"})
        assert r.status_code == 201
    monkeypatch.undo()  # the refresh computes them as usual
    journey_id = r.json()["journey_id"]
    assert _stored_facts(database_url) == {}

    async def refresh(store):
        stale = [row["id"] for row in await store.fetch("facts_stale", limit=10)]
        return stale, await totals.refresh_all_facts(store), await store.fetch("facts_stale", limit=10)

    stale, refreshed, after = run_store(database_url, refresh)
    assert stale == [journey_id] and refreshed == 1 and after == []
