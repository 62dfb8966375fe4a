"""Findings of the hardening audit (issue 12) that live in the HTTP layer: HSTS over HTTPS, IPv6
clients limited by their /64, /metrics and the demo's setup link refused through any proxy
header, ?next= kept inside /cp/ whatever its dot segments, the setup link as one JSON event, and
the owner's words (never Python's) in the event table."""

from __future__ import annotations

import json
import logging

import pytest
from starlette.testclient import TestClient
from support import CHROME_UA, make_settings

from leadtrail.app import create_app
from leadtrail.describe import event_details, event_label
from leadtrail.routes.dashboard.auth import safe_next
from leadtrail.web import ipv6_prefix


def _client(database_url: str, peer: str, **settings) -> TestClient:
    return TestClient(
        create_app(make_settings(database_url, **settings)), client=(peer, 40000), headers={"User-Agent": CHROME_UA}
    )


def test_hsts_is_sent_on_dashboard_responses_over_https_only(sqlite_url):
    """Through a trusted proxy saying https: Strict-Transport-Security for at least a year; plain HTTP: none."""
    with _client(sqlite_url, "10.0.0.5", trusted_proxies="10.0.0.0/8") as client:
        secure = client.get("/cp/login", headers={"X-Forwarded-Proto": "https"})
        plain = client.get("/cp/login")
    value = secure.headers["strict-transport-security"]
    assert int(value.split("max-age=")[1].split(";")[0]) >= 31536000
    assert "strict-transport-security" not in plain.headers
    with _client(sqlite_url, "203.0.113.9") as client:  # not a trusted proxy: its header is not believed
        assert (
            "strict-transport-security" not in client.get("/cp/login", headers={"X-Forwarded-Proto": "https"}).headers
        )


def test_ipv6_clients_share_one_limit_per_64(sqlite_url):
    """Addresses rotating inside one /64 behind a trusted proxy are one client to the rate limit."""
    with _client(sqlite_url, "10.0.0.5", trusted_proxies="10.0.0.0/8", rate_limit=20) as client:
        statuses = [
            client.post(
                "/api/track",
                json={"event_name": "page_view", "page_path": "/"},
                headers={"X-Forwarded-For": f"2001:db8:1:2:{i:x}::1"},
            ).status_code
            for i in range(60)
        ]
    assert statuses.count(429) > 0 and statuses.count(204) < 30
    assert ipv6_prefix("2001:db8:1:2:aaaa::1") == ipv6_prefix("2001:db8:1:2:ffff::9") != ipv6_prefix("2001:db8:1:3::1")
    assert ipv6_prefix("::ffff:203.0.113.9") == "203.0.113.9"


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded", "True-Client-IP"])
def test_metrics_are_refused_through_any_forwarding_header(sqlite_url, header):
    """A loopback peer relaying for someone (any proxy header) gets 404 from /metrics; without one, 200."""
    with _client(sqlite_url, "127.0.0.1") as client:
        assert client.get("/metrics").status_code == 200
        assert (
            client.get(
                "/metrics", headers={header: "for=203.0.113.9" if header == "Forwarded" else "203.0.113.9"}
            ).status_code
            == 404
        )


def test_the_demo_setup_link_is_not_shown_through_a_local_proxy(sqlite_url):
    """The demo login page offers the setup link to this machine, not to a client behind X-Real-IP."""
    with _client(sqlite_url, "127.0.0.1", demo=True) as client:
        assert "/cp/setup?token=" in client.get("/cp/login").text
        assert "/cp/setup?token=" not in client.get("/cp/login", headers={"X-Real-IP": "203.0.113.9"}).text


@pytest.mark.parametrize(
    "raw",
    [
        "/cp/../../evil.example",
        "/cp/%2e%2e/%2e%2e/evil",
        "/cp/%252e%252e/%252e%252e/x",
        "/cp/..%5c..%5cevil",
        "/cp/.%2e/.%2e/x",
        "//evil.example/cp/",
        "/cp/\\\\evil",
    ],
)
def test_next_never_leaves_the_dashboard(raw):
    """Dot segments, plain or encoded, never lead ?next= out of /cp/."""
    assert safe_next(raw) == "/cp/"


def test_next_keeps_real_dashboard_paths():
    """Ordinary dashboard paths and their queries are kept."""
    for raw in ("/cp/journeys/3", "/cp/?list=spam&q=jo", "/cp/insights?from=2026-01-01"):
        assert safe_next(raw) == raw


def test_the_setup_link_is_one_json_event_with_log_format_json(sqlite_url, capfd):
    """With LOG_FORMAT=json the setup link is a structured event (no plain banner on stderr)."""
    from leadtrail.logs import configure

    configure("info", "json")
    try:
        with _client(sqlite_url, "127.0.0.1", log_format="json"):
            pass
    finally:
        configure("info", "text")
        logging.getLogger("leadtrail").handlers.clear()
    err = capfd.readouterr().err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    setup = [e for e in events if e.get("event") == "setup_link"]
    assert len(setup) == 1 and "/cp/setup?token=" in setup[0]["setup_url"]
    assert "leadtrail has no dashboard owner yet" not in err


def test_events_are_described_in_the_owners_words():
    """Null params show as nothing, booleans as yes/no, engagement as reading time, names as phrases."""
    assert event_details("signup", {"referrer": None, "plan": None, "newsletter": True}) == "newsletter: yes"
    assert event_details("page_engagement", {"engaged_ms": 5191, "package_name": ""}) == "read for 5 s"
    assert "None" not in event_details("custom", {"a": None, "b": False})
    assert event_label("page_engagement") == "Read the page" and event_label("outbound_click").startswith("Clicked")
    assert event_details("outbound_click", {"href": "https://maps.example.com/x?y"}) == "to maps.example.com"
