"""The /api/track/promote contract, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from support import app_client, page_view, row_counts, run_store, wait_for_background


def journeys_of(database_url: str, email: str) -> list[dict]:
    from support import EPOCH

    return run_store(database_url, lambda store: store.journeys_by_email(email, EPOCH))


def client_event(name: str, path: str, event_id: str, ts: int = 1764200000000) -> dict:
    return {"event_name": name, "page_path": path, "params": {}, "event_id": event_id, "ts": ts}


def test_promote_snapshots_server_events_and_client_buffer(database_url):
    """201 with counts; the journey holds the visitor's buffered events oldest first and the cleaned client buffer."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/?utm_source=google&utm_medium=cpc", "p1", title="Home"))
        client.post("/api/track", json=page_view("/book", "p2", title="Book"))
        r = client.post(
            "/api/track/promote",
            json={
                "email": "  Jane.Doe@Example.COM ",
                "form": "booking",
                "consent": True,
                "client_events": [
                    client_event("page_view", "/", "p1"),
                    client_event("page_view", "/blocked?email=x@y.z", "c1"),
                    {"event_name": "<bad>"},
                ],
            },
        )
        assert r.status_code == 201, r.text
        body = r.json()
    assert body["server_events"] == 2 and body["client_events"] == 2 and body["client_events_dropped"] == 1
    [journey] = journeys_of(database_url, "jane.doe@example.com")
    assert journey["id"] == body["journey_id"]
    assert journey["email"] == "jane.doe@example.com"
    assert journey["form"] == "booking" and journey["consent"] is True
    assert [e["page_path"] for e in journey["events"]] == ["/?utm_source=google&utm_medium=cpc", "/book"]
    assert set(journey["events"][0]) == {"id", "event_name", "page_path", "params", "created_at"}
    assert [e["page_path"] for e in journey["client_events"]] == ["/", "/blocked"]


def test_same_visitor_and_address_within_ten_minutes_refreshes(database_url):
    """A second promote by the same visitor and address answers 200 with the same journey_id and a refreshed snapshot."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        first = client.post("/api/track/promote", json={"email": "a@b.co"})
        client.post("/api/track", json=page_view("/again", "b"))
        second = client.post("/api/track/promote", json={"email": "A@B.co"})
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["journey_id"] == second.json()["journey_id"]
    assert second.json()["server_events"] == 2
    assert row_counts(database_url)[1] == 1


def test_without_cookie_the_journey_holds_client_events_only(database_url):
    """No valid anon_id: the journey has anon_id null and only the client events."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        client.cookies.clear()
        client.cookies.set("anon_id", "forged.value")
        r = client.post(
            "/api/track/promote", json={"email": "c@d.co", "client_events": [client_event("page_view", "/x", "z")]}
        )
        assert r.status_code == 201
        assert r.json()["server_events"] == 0 and r.json()["client_events"] == 1
    [journey] = journeys_of(database_url, "c@d.co")
    assert journey["anon_id"] is None and journey["events"] == []


def test_promote_links_only_the_callers_own_events(database_url):
    """A journey never holds another visitor's events, whatever the body says."""
    with app_client(database_url) as victim:
        victim.post("/api/track", json=page_view("/secret-page", "v"))
    with app_client(database_url) as attacker:
        attacker.post("/api/track", json=page_view("/mine", "m"))
        r = attacker.post("/api/track/promote", json={"email": "att@x.co"})
        assert r.json()["server_events"] == 1
    [journey] = journeys_of(database_url, "att@x.co")
    assert [e["page_path"] for e in journey["events"]] == ["/mine"]


BAD_PROMOTES = [
    ("no-email", b'{"client_events": []}', "application/json", {}, 400),
    ("bad-email", b'{"email": "not an address"}', "application/json", {}, 400),
    ("email-number", b'{"email": 42}', "application/json", {}, 400),
    ("consent-string", b'{"email": "a@b.co", "consent": "yes"}', "application/json", {}, 400),
    ("events-object", b'{"email": "a@b.co", "client_events": {}}', "application/json", {}, 400),
    (
        "too-many-events",
        json.dumps({"email": "a@b.co", "client_events": [{"event_name": "x"}] * 501}).encode(),
        "application/json",
        {},
        400,
    ),
    ("form-too-long", json.dumps({"email": "a@b.co", "form": "f" * 101}).encode(), "application/json", {}, 400),
    ("form-nul", b'{"email": "a@b.co", "form": "book\\u0000ing"}', "application/json", {}, 400),
    ("form-number", b'{"email": "a@b.co", "form": 7}', "application/json", {}, 400),
    ("not-json", b"email=a@b.co", "application/json", {}, 400),
    ("text-plain", b'{"email": "a@b.co"}', "text/plain", {}, 415),
    ("gzip-body", b'{"email": "a@b.co"}', "application/json", {"Content-Encoding": "br"}, 415),
    (
        "too-large",
        json.dumps(
            {"email": "a@b.co", "client_events": [{"event_name": "x", "params": {"a": "b" * 900}}] * 300}
        ).encode(),
        "application/json",
        {},
        413,
    ),
    (
        "cross-site",
        b'{"email": "a@b.co"}',
        "application/json",
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        403,
    ),
    ("null-origin", b'{"email": "a@b.co"}', "application/json", {"Origin": "null"}, 403),
]


@pytest.mark.parametrize(
    "body,content_type,headers,status", [c[1:] for c in BAD_PROMOTES], ids=[c[0] for c in BAD_PROMOTES]
)
def test_bad_promotes_get_a_json_error_and_store_nothing(database_url, body, content_type, headers, status):
    """Each bad promote gets its status and a JSON error, and no journey is written."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        r = client.post("/api/track/promote", content=body, headers={"Content-Type": content_type, **headers})
        assert r.status_code == status, r.text
        assert r.json()["error"]
    assert row_counts(database_url) == (1, 0)


def test_gpc_promote_keeps_the_submission_but_no_tracking_data(database_url):
    """With Sec-GPC: 1 the journey is recorded without server or client events."""
    with app_client(database_url, honor_gpc=False) as client:
        client.post("/api/track", json=page_view("/", "a"))
    with app_client(database_url) as client:
        r = client.post(
            "/api/track/promote",
            json={"email": "g@p.co", "client_events": [client_event("page_view", "/", "x")]},
            headers={"Sec-GPC": "1"},
        )
        assert r.status_code == 201
        assert r.json()["server_events"] == 0 and r.json()["client_events"] == 0


def test_promote_rate_limit_per_address(database_url):
    """Past a burst of 5, promotes for one e-mail address are throttled with 429."""
    with app_client(database_url, rate_limit=600) as client:
        statuses = [client.post("/api/track/promote", json={"email": "spam@x.co"}).status_code for _ in range(8)]
    assert statuses[:5] == [201] * 5  # the per-e-mail burst of 5
    assert statuses[5:] == [429] * 3


def test_duplicate_keys_in_a_promote_body_are_refused(sqlite_url):
    """A promote body with the same key twice is ambiguous, so it is a 400 and nothing is stored."""
    with app_client(sqlite_url) as client:
        r = client.post(
            "/api/track/promote",
            content=b'{"email": "a@b.co", "email": "c@d.co"}',
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400 and "duplicate" in r.text
    assert row_counts(sqlite_url) == (0, 0)


def test_events_in_flight_at_promote_are_taken_in_late(database_url):
    """An event the browser sent with the promote that commits just after the snapshot joins the
    journey in a late refresh, so it is not reported as hidden from the server."""
    import time

    from leadtrail import promote as promote_workflow

    original = promote_workflow.LATE_REFRESH_DELAY
    promote_workflow.LATE_REFRESH_DELAY = 0.3
    try:
        with app_client(database_url) as client:
            client.post("/api/track", json=page_view("/", "a"))
            r = client.post(
                "/api/track/promote",
                json={
                    "email": "late@x.co",
                    "client_events": [
                        client_event("page_view", "/", "a"),
                        client_event("page_engagement", "/", "late"),
                    ],
                },
            )
            assert r.json()["server_events"] == 1
            client.post(
                "/api/track",
                json={
                    "event_name": "page_engagement",
                    "page_path": "/",
                    "event_id": "late",
                    "params": {"engaged_ms": 900},
                },
            )
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                [journey] = journeys_of(database_url, "late@x.co")
                if len(journey["events"]) == 2:
                    break
                time.sleep(0.1)
    finally:
        promote_workflow.LATE_REFRESH_DELAY = original
    assert [e["params"]["event_id"] for e in journey["events"]] == ["a", "late"]
    assert journey["created_at"] == journey["updated_at"]  # the submission time did not move


def test_pages_after_the_enquiry_stay_out_of_the_journey(database_url):
    """The thank-you page the form leads to (and whatever follows it) commits after the promote;
    the late refresh must not put it in the path to the enquiry. The form page's own late events
    (its engagement time, a generate_lead) still join."""
    import time

    from leadtrail import promote as promote_workflow

    original = promote_workflow.LATE_REFRESH_DELAY
    promote_workflow.LATE_REFRESH_DELAY = 0.3
    try:
        with app_client(database_url) as client:
            client.post("/api/track", json=page_view("/book", "a"))
            r = client.post(
                "/api/track/promote",
                json={"email": "thanks@x.co", "client_events": [client_event("page_view", "/book", "a")]},
            )
            assert r.json()["server_events"] == 1
            client.post(
                "/api/track",
                json={
                    "events": [
                        {
                            "event_name": "page_engagement",
                            "page_path": "/book",
                            "event_id": "eng",
                            "params": {"engaged_ms": 900},
                        },
                        {"event_name": "generate_lead", "page_path": "/book", "event_id": "lead"},
                    ]
                },
            )
            client.post("/api/track", json=page_view("/thanks", "thanks"))
            client.post("/api/track", json={"event_name": "cta_click", "page_path": "/thanks", "event_id": "after"})
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                [journey] = journeys_of(database_url, "thanks@x.co")
                if len(journey["events"]) > 1:
                    break
                time.sleep(0.1)
    finally:
        promote_workflow.LATE_REFRESH_DELAY = original
    assert [e["params"]["event_id"] for e in journey["events"]] == ["a", "eng", "lead"]


def test_until_next_page_cuts_at_the_first_page_view_after_the_submission():
    from datetime import datetime

    from leadtrail.promote import until_next_page

    def ev(name, at):
        return {"event_name": name, "created_at": f"2026-11-27T10:00:{at:02d}.000000+00:00"}

    submitted = datetime(2026, 11, 27, 10, 0, 10, tzinfo=UTC)
    before = [ev("page_view", 1), ev("page_view", 5), ev("click", 9)]
    assert until_next_page(before, submitted) == before
    late = [ev("page_engagement", 11), ev("generate_lead", 11)]
    assert until_next_page(before + late, submitted) == before + late
    assert until_next_page(before + late + [ev("page_view", 12), ev("click", 13)], submitted) == before + late
    assert until_next_page([], submitted) == []
    # A page view before the submission is never cut, whatever follows it.
    assert until_next_page([ev("page_view", 10)], submitted) == [ev("page_view", 10)]


def test_late_look_does_not_rewrite_a_journey_for_pages_after_the_enquiry(database_url, caplog):
    """Only the thank-you page arrived after the promote: the late look finds nothing that belongs
    before the enquiry and writes nothing (no second save of a snapshot it would only trim)."""
    import logging

    from leadtrail import promote as promote_workflow

    original = promote_workflow.LATE_REFRESH_DELAY
    promote_workflow.LATE_REFRESH_DELAY = 0.2
    caplog.set_level(logging.INFO, logger="leadtrail.promote")
    try:
        with app_client(database_url) as client:
            client.post("/api/track", json=page_view("/book", "a"))
            r = client.post(
                "/api/track/promote",
                json={"email": "once@x.co", "client_events": [client_event("page_view", "/book", "a")]},
            )
            journey_id = r.json()["journey_id"]
            client.post("/api/track", json=page_view("/thanks", "thanks"))
            wait_for_background(client)  # the late look has run, inside the client's lifespan
    finally:
        promote_workflow.LATE_REFRESH_DELAY = original
    saves = [rec for rec in caplog.records if getattr(rec, "journey_id", None) == journey_id]
    assert [rec.outcome for rec in saves] == ["created"]
    [journey] = journeys_of(database_url, "once@x.co")
    assert [e["params"]["event_id"] for e in journey["events"]] == ["a"]
