"""The /api/track contract, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import gzip
import json

import pytest
from support import anon_id_of, app_client, buffered_events, page_view, row_counts

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_single_event_is_stored_cleaned_and_sets_a_signed_cookie(database_url):
    """A page_view is committed before the 204, with its path cleaned and the cookie set as the contract says."""
    with app_client(database_url) as client:
        r = client.post(
            "/api/track",
            json={
                "event_name": "page_view",
                "page_path": "/pricing?utm_source=news&email=a@b.com&x=1#top",
                "params": {"title": "Prices", "referrer": "https://www.google.com/search?q=secret"},
                "event_id": "e1",
                "ts": 1764200000000,
            },
        )
        assert r.status_code == 204, r.text
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie and "Max-Age=86400" in cookie
        anon = anon_id_of(client)
    [event] = buffered_events(database_url, anon)
    assert event["event_name"] == "page_view"
    assert event["page_path"] == "/pricing?utm_source=news"
    assert event["params"]["title"] == "Prices"
    assert event["params"]["referrer"] == "https://www.google.com"
    assert event["params"]["event_id"] == "e1"
    assert event["params"]["client_ts"] == 1764200000000


def test_batch_as_text_plain_is_stored_and_event_ids_dedupe(database_url):
    """A text/plain batch (what sendBeacon sends) is stored; resending the same event_ids stores nothing twice."""
    batch = {"events": [page_view("/", "a"), page_view("/about", "b"), {"event_name": "cta_click", "event_id": "c"}]}
    with app_client(database_url) as client:
        for _ in range(3):
            r = client.post(
                "/api/track", content=json.dumps(batch), headers={"Content-Type": "text/plain;charset=UTF-8"}
            )
            assert r.status_code == 204, r.text
        anon = anon_id_of(client)
    events = buffered_events(database_url, anon)
    assert [e["params"]["event_id"] for e in events] == ["a", "b", "c"]


def test_events_without_event_id_are_all_kept(database_url):
    """Events without an event_id cannot be deduplicated, so each one sent is stored."""
    with app_client(database_url) as client:
        for _ in range(2):
            assert client.post("/api/track", json=page_view("/")).status_code == 204
        anon = anon_id_of(client)
    assert len(buffered_events(database_url, anon)) == 2


def test_cookie_is_reused_and_a_tampered_one_replaced(database_url):
    """A valid cookie keeps the visitor's anon_id; a forged or unsigned value is replaced by a fresh one."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/"))
        first = client.cookies.get("anon_id")
        client.post("/api/track", json=page_view("/two"))
        assert client.cookies.get("anon_id") == first
        anon = first.split(".")[0]
        for forged in (anon, anon + ".AAAAAAAAAAAAAAAAAAAAAA", "x" * 45, ""):
            client.cookies.clear()
            r = client.post("/api/track", json=page_view("/forged"), headers={"Cookie": f"anon_id={forged}"})
            assert r.status_code == 204
            minted = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
            assert minted.split(".")[0] != anon and len(minted) == 45
    assert [e["page_path"] for e in buffered_events(database_url, anon)] == ["/", "/two"]


def test_bots_get_204_and_nothing_is_stored(database_url):
    """A known crawler is answered 204 and nothing is written."""
    with app_client(database_url) as client:
        r = client.post("/api/track", json=page_view("/"), headers={"User-Agent": GOOGLEBOT})
        assert r.status_code == 204
        assert "set-cookie" not in r.headers
    assert row_counts(database_url) == (0, 0)


def test_global_privacy_control_stores_nothing_and_sets_no_cookie(database_url):
    """Sec-GPC: 1 gets 204 without a cookie and nothing buffered (HONOR_GPC defaults to true)."""
    with app_client(database_url) as client:
        r = client.post("/api/track", json=page_view("/"), headers={"Sec-GPC": "1"})
        assert r.status_code == 204 and "set-cookie" not in r.headers
    assert row_counts(database_url) == (0, 0)


def test_gpc_is_ignored_when_honor_gpc_is_off(database_url):
    """HONOR_GPC=false stores the event despite Sec-GPC."""
    with app_client(database_url, honor_gpc=False) as client:
        assert client.post("/api/track", json=page_view("/"), headers={"Sec-GPC": "1"}).status_code == 204
    assert row_counts(database_url) == (1, 0)


TOO_BIG = b'{"event_name":"x","params":{"a":"' + b"a" * (65 * 1024) + b'"}}'
GZIPPED_EVENT = gzip.compress(b'{"event_name": "x"}')

BAD_REQUESTS = [
    # (id, body bytes, content type, extra headers, expected status)
    ("not-json", b"{nope", "application/json", {}, 400),
    ("empty-body", b"", "application/json", {}, 400),
    ("array", b"[]", "application/json", {}, 400),
    ("no-name", b'{"page_path": "/"}', "application/json", {}, 400),
    ("bad-name", b'{"event_name": "<script>"}', "application/json", {}, 400),
    ("long-name", json.dumps({"event_name": "a" * 65}).encode(), "application/json", {}, 400),
    ("path-no-slash", b'{"event_name": "x", "page_path": "http://evil"}', "application/json", {}, 400),
    (
        "path-too-long",
        json.dumps({"event_name": "x", "page_path": "/" + "a" * 2048}).encode(),
        "application/json",
        {},
        400,
    ),
    ("nested-params", b'{"event_name": "x", "params": {"a": {"b": 1}}}', "application/json", {}, 400),
    (
        "too-many-params",
        json.dumps({"event_name": "x", "params": {f"k{i}": i for i in range(51)}}).encode(),
        "application/json",
        {},
        400,
    ),
    ("long-param", json.dumps({"event_name": "x", "params": {"a": "b" * 1001}}).encode(), "application/json", {}, 400),
    ("empty-batch", b'{"events": []}', "application/json", {}, 400),
    ("big-batch", json.dumps({"events": [{"event_name": "x"}] * 51}).encode(), "application/json", {}, 400),
    (
        "one-bad-in-batch",
        json.dumps({"events": [{"event_name": "ok"}, {"event_name": ""}]}).encode(),
        "application/json",
        {},
        400,
    ),
    ("ts-string", b'{"event_name": "x", "ts": "yesterday"}', "application/json", {}, 400),
    ("event-id-long", json.dumps({"event_name": "x", "event_id": "e" * 65}).encode(), "application/json", {}, 400),
    ("invalid-utf8", b'{"event_name": "\xff\xfe"}', "application/json", {}, 400),
    ("too-large", TOO_BIG, "application/json", {}, 413),
    ("form-encoded", b"event_name=x", "application/x-www-form-urlencoded", {}, 415),
    ("no-content-type", b'{"event_name": "x"}', "", {}, 415),
    ("gzip-body", GZIPPED_EVENT, "application/json", {"Content-Encoding": "gzip"}, 415),
    ("foreign-origin", b'{"event_name": "x"}', "application/json", {"Origin": "https://evil.example"}, 403),
]


@pytest.mark.parametrize(
    "body,content_type,headers,status", [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS]
)
def test_bad_requests_get_a_json_error_and_store_nothing(database_url, body, content_type, headers, status):
    """Each kind of bad input gets its status and a JSON error body, and the row counts do not move."""
    with app_client(database_url) as client:
        hdrs = {"Content-Type": content_type, **headers} if content_type else headers
        r = client.post("/api/track", content=body, headers=hdrs)
        if not content_type:
            r = client.post("/api/track", content=body, headers={"Content-Type": ""})
        assert r.status_code == status, r.text
        payload = r.json()
        assert isinstance(payload["error"], str) and payload["error"]
        assert isinstance(payload["details"], list)
        assert "set-cookie" not in r.headers
    assert row_counts(database_url) == (0, 0)


def test_allowed_origin_gets_cors_headers_and_same_origin_passes(database_url):
    """An origin in ALLOWED_ORIGINS is accepted with credentialed CORS headers; the server's own origin needs no listing."""
    with app_client(database_url, allowed_origins="https://www.example.com") as client:
        r = client.post("/api/track", json=page_view("/"), headers={"Origin": "https://www.example.com"})
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == "https://www.example.com"
        assert r.headers["access-control-allow-credentials"] == "true"
        assert (
            client.post("/api/track", json=page_view("/"), headers={"Origin": "http://testserver"}).status_code == 204
        )
        pre = client.options(
            "/api/track/promote", headers={"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"}
        )
        assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "https://www.example.com"
        assert client.options("/api/track", headers={"Origin": "https://evil.example"}).status_code == 403
    assert row_counts(database_url) == (2, 0)


def test_rate_limit_answers_429_with_retry_after(database_url):
    """Past the burst, one address gets 429 with Retry-After and those requests store nothing."""
    with app_client(database_url, rate_limit=60) as client:
        statuses = [client.post("/api/track", json=page_view("/")).status_code for _ in range(25)]
        limited = client.post("/api/track", json=page_view("/"))
    assert statuses.count(204) == 15  # burst of max(10, 60 // 4)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert row_counts(database_url)[0] == 15


def test_a_referrer_from_the_site_itself_is_dropped(database_url):
    """A page_view whose referrer is the page's own origin keeps no referrer; another site's is kept."""
    with app_client(database_url, allowed_origins="https://shop.example") as client:
        headers = {"Origin": "https://shop.example"}
        client.post("/api/track", json=page_view("/a", "1", referrer="https://shop.example/prev"), headers=headers)
        client.post("/api/track", json=page_view("/b", "2", referrer="https://duckduckgo.com/"), headers=headers)
        anon = anon_id_of(client)
    events = buffered_events(database_url, anon)
    assert "referrer" not in events[0]["params"]
    assert events[1]["params"]["referrer"] == "https://duckduckgo.com"


def test_one_entry_point_counts_each_answer_once_also_under_a_root_path(database_url):
    """The fast dispatch and the route table lead to the same endpoint: mounted under a root_path
    (a proxy serving leadtrail under /stats: no fast dispatch) an event is stored and each answer
    counted once, as at the top level."""
    from starlette.routing import Route
    from starlette.testclient import TestClient
    from support import CHROME_UA, make_settings

    from leadtrail.app import create_app
    from leadtrail.routes.track import TrackEndpoint

    app = create_app(make_settings(database_url))
    [route] = [r for r in app.routes if isinstance(r, Route) and r.path == "/api/track" and "POST" in r.methods]
    assert route.app is app.fast_routes[("POST", "/api/track")] and isinstance(route.app, TrackEndpoint)
    metrics = app.state.services.metrics
    with TestClient(app, headers={"User-Agent": CHROME_UA}, root_path="/stats") as mounted:
        r = mounted.post("/stats/api/track", json=page_view("/b", event_id="r2"))
        assert r.status_code == 204 and r.headers["x-content-type-options"] == "nosniff"
        anon = anon_id_of(mounted)
        bad = mounted.post("/stats/api/track", content=b"{", headers={"Content-Type": "application/json"})
        assert bad.status_code == 400
    assert metrics.responses[("track", 204)] == 1 and metrics.responses[("track", 400)] == 1
    assert [e["page_path"] for e in buffered_events(database_url, anon)] == ["/b"]


def test_remembered_header_verdicts_answer_each_combination_as_the_checks_do(database_url):
    """The header checks' verdicts are remembered per combination of the headers they read: the
    same client alternating origins, user agents, GPC, media types and (behind a trusted proxy)
    schemes gets each answer as if nothing were remembered, in any order, also past the bound."""
    from starlette.testclient import TestClient
    from support import CHROME_UA, make_settings

    from leadtrail.app import create_app

    settings = make_settings(database_url, allowed_origins="https://shop.example", trusted_proxies="10.0.0.0/8")
    app = create_app(settings)
    verdicts = app.fast_routes[("POST", "/api/track")].verdicts
    verdicts.limit = 3  # forgets often: every answer below must survive being recomputed too
    cases = [
        ({"Origin": "https://shop.example"}, 204, "https://shop.example", False),
        ({"Origin": "https://evil.example"}, 403, None, None),
        ({"Origin": "https://shop.example", "X-Forwarded-Proto": "https"}, 204, "https://shop.example", True),
        ({"X-Forwarded-Proto": "https"}, 204, None, True),
        ({}, 204, None, False),
        ({"User-Agent": GOOGLEBOT}, 204, None, None),
        ({"Sec-GPC": "1"}, 204, None, None),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, None, None),
        ({"Content-Encoding": "gzip"}, 415, None, None),
    ]
    stored = 0
    with TestClient(app, client=("10.0.0.5", 40000), headers={"User-Agent": CHROME_UA}) as client:
        for _ in range(3):
            for extra, status, cors, secure in cases + cases[::-1]:
                r = client.post(
                    "/api/track",
                    content=json.dumps(page_view("/")),
                    headers={"Content-Type": "text/plain;charset=UTF-8", **extra},
                )
                assert r.status_code == status, (extra, r.text)
                assert r.headers.get("access-control-allow-origin") == cors, extra
                cookie = r.headers.get("set-cookie")
                assert (cookie is not None) == (secure is not None), extra
                if cookie is not None:
                    assert ("Secure" in cookie) == secure, extra
                    stored += 1
        assert len(verdicts._known) <= 3
        # A flood of made-up user agents costs no memory past the bound.
        verdicts.limit = 512
        for i in range(600):
            assert (
                client.post("/api/track", json=page_view("/"), headers={"User-Agent": f"{CHROME_UA} x{i}"}).status_code
                == 204
            )
        assert len(verdicts._known) <= 512
    assert row_counts(database_url)[0] == stored + 600
