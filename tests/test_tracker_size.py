"""The tracker as served by GET /api/track/script.js: size budget, caching, and a minified copy
that is up to date with the readable source."""

from __future__ import annotations

import gzip
import hashlib
import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from leadtrail.routes import script
from leadtrail.settings import Settings

BUDGET = 2560  # bytes gzipped; Plausible's script is about 2.5 KiB and does far less


@pytest.fixture(scope="module")
def client():
    app = Starlette(routes=script.routes(Settings(demo=False)))
    with TestClient(app) as c:
        yield c


def test_served_gzipped_size_is_within_budget(client):
    """The tracker served to a browser that accepts gzip is at most 2,560 bytes on the wire."""
    res = client.get("/api/track/script.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert res.status_code == 200
    assert res.headers["content-encoding"] == "gzip"
    wire = int(res.headers["content-length"])
    print(f"tracker.js served gzipped: {wire} bytes (budget {BUDGET})")
    assert wire <= BUDGET
    assert gzip.decompress(script.load_script().gzipped) == res.content


def test_minified_copy_is_built_from_the_current_source():
    """tracker.min.js was made by scripts/build-tracker.sh from the tracker.js in the tree
    (otherwise the readable source would be served: run that script and commit both)."""
    recorded = script.MINIFIED_HASH.read_text().split()[0]
    assert recorded == hashlib.sha256(script.SOURCE.read_bytes()).hexdigest(), (
        "tracker.min.js is stale: run scripts/build-tracker.sh"
    )
    assert script.load_script().minified


def test_minified_copy_keeps_the_wire_format():
    """Every name the server and the integration guide rely on survives minification."""
    body = script.load_script().body.decode()
    for name in [
        "leadtrail:events",
        "/api/track",
        "/api/track/promote",
        "event_name",
        "page_path",
        "params",
        "event_id",
        "ts",
        "page_view",
        "page_engagement",
        "engaged_ms",
        "outbound_click",
        "file_download",
        "href",
        "referrer",
        "title",
        "client_events",
        "data-leadtrail-promote",
        "data-leadtrail-consent",
        "data-leadtrail-form",
        "allowAutomation",
        "leadtrailTest",
        "globalPrivacyControl",
        "webdriver",
        "sendBeacon",
        "keepalive",
        "dataLayer",
        "pushState",
        "replaceState",
        "popstate",
        "leadtrail:touches",
        "touches",
        "pages",
        "data-leadtrail-honeypot",
        "honeypot",
        "leadtrail:receipt",
        "data-leadtrail-receipt",
        "receipt_url",
        "/api/track/receipt",
        "localStorage",
    ]:
        assert name in body, name


def test_touch_memory_days_is_written_into_the_served_script():
    """The server writes its TOUCH_MEMORY_DAYS into the script (0 turns the memory off); the
    placeholder never reaches a browser."""
    for days in (90, 0, 365):
        body = script.load_script(days).body.decode()
        assert "@@TOUCH_DAYS@@" not in body and f'parseInt("{days}")' in body


def test_source_header_says_what_it_sends():
    """The readable source opens with a comment naming every event it sends."""
    header = re.match(r"/\*!(.*?)\*/", script.SOURCE.read_text(), re.S).group(1)
    for name in [
        "page_view",
        "page_engagement",
        "outbound_click",
        "file_download",
        "promote",
        "globalPrivacyControl",
        "webdriver",
    ]:
        assert name in header, name


def test_javascript_headers_and_plain_body_without_gzip(client):
    """A client that does not accept gzip gets the plain script, typed and cacheable."""
    res = client.get("/api/track/script.js", headers={"Accept-Encoding": "identity"})
    assert res.status_code == 200
    assert "content-encoding" not in res.headers
    assert res.headers["content-type"] == "application/javascript; charset=utf-8"
    assert res.headers["cache-control"] == "public, max-age=3600"
    assert res.headers["vary"] == "Accept-Encoding"
    assert res.content == script.load_script().body


def test_gzip_refused_with_q_zero(client):
    """Accept-Encoding: gzip;q=0 means no gzip."""
    res = client.get("/api/track/script.js", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in res.headers


def test_etag_revalidation_answers_304(client):
    """A browser revalidating with the ETag it has gets 304 and no body."""
    etag = client.get("/api/track/script.js").headers["etag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        res = client.get("/api/track/script.js", headers={"If-None-Match": sent})
        assert res.status_code == 304, sent
        assert res.content == b""
        assert res.headers["etag"] == etag
    assert client.get("/api/track/script.js", headers={"If-None-Match": '"other"'}).status_code == 200


def test_served_by_the_app(tmp_path):
    """create_app mounts the script route."""
    from support import app_client

    with app_client(f"sqlite:///{tmp_path}/t.db") as c:
        res = c.get("/api/track/script.js")
        assert res.status_code == 200
        assert res.content == script.load_script().body
