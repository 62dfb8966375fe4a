"""The new-enquiry webhook, delivered over real HTTP to a small receiver started by each test."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support import EPOCH, app_client, page_view, run_store, wait_for_background, wait_until

from leadtrail import webhook
from leadtrail.export import export_journey
from leadtrail.settings import SettingsError, load_settings

SECRET = "whsec-test-0123456789abcdef"


class Receiver:
    """An HTTP server on a free loopback port that records each POST and answers from a script
    of statuses (the last one repeats)."""

    def __init__(self, statuses=(200,), set_cookie: bool = False):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body, "at": time.monotonic()}
                )
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                if set_cookie:
                    self.send_header("Set-Cookie", "session=abc; Path=/")
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/leadtrail?token=t1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(*statuses, **kwargs):
        r = Receiver(statuses or (200,), **kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def quick_retries(monkeypatch):
    """A schedule of tenths of seconds instead of a minute."""
    monkeypatch.setattr(webhook, "RETRY_DELAYS", (0.05, 0.1))
    monkeypatch.setattr(webhook, "ATTEMPT_TIMEOUT", 1.0)
    monkeypatch.setattr(webhook, "SHUTDOWN_GRACE", 0.5)


@pytest.fixture
def black_hole():
    """The URL of a port that accepts connections (they complete in the backlog) and never reads
    or answers anything: a receiver that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


def client_event(name, path, event_id, ts):
    return {"event_name": name, "page_path": path, "params": {}, "event_id": event_id, "ts": ts}


def test_a_created_journey_is_posted_once_with_its_summary_and_a_signature_that_verifies(
    database_url, receiver, quick_retries
):
    """One POST per created journey: the documented fields, the e-mail, the summary, and an
    X-Leadtrail-Signature over the exact body that verifies with the secret (and not without it)."""
    hook = receiver(200)
    now_ms = int(time.time() * 1000)
    with app_client(database_url, webhook_url=hook.url, webhook_secret=SECRET) as client:
        client.post(
            "/api/track", json=page_view("/?utm_source=google&utm_medium=cpc", "p1", referrer="https://www.google.com/")
        )
        client.post("/api/track", json=page_view("/services", "p2"))
        r = client.post(
            "/api/track/promote",
            json={
                "email": "Jane@Example.com",
                "form": "booking",
                "consent": True,
                "client_events": [
                    client_event("page_view", "/", "p1", now_ms - 5000),
                    client_event("cta_click", "/services", "blocked", now_ms - 1000),
                ],
            },
        )
        assert r.status_code == 201
        [request] = hook.wait_for(1)
    # Leaving the client stopped the sender after its queue drained: a second, wrong, delivery
    # would have been sent by now or counted as dropped.
    assert len(hook.requests) == 1 and "dropped" not in client.app.state.services.metrics.webhooks
    body = request["body"]
    assert request["path"] == "/hooks/leadtrail?token=t1"
    assert request["headers"]["Content-Type"] == "application/json"
    assert "Cookie" not in request["headers"]
    payload = json.loads(body)
    assert set(payload) == {"type", "journey_id", "created_at", "email", "form", "consent", "url", "summary"}
    assert payload["type"] == "journey.created" and payload["journey_id"] == r.json()["journey_id"]
    assert payload["email"] == "jane@example.com" and payload["form"] == "booking" and payload["consent"] is True
    created = datetime.fromisoformat(payload["created_at"])
    assert created.utcoffset().total_seconds() == 0 and abs(created - datetime.now(UTC)).total_seconds() < 60
    assert payload["url"] is None  # the in-process client is neither a trusted proxy nor loopback
    summary = payload["summary"]
    assert summary["first_touch"] == {"channel": "Paid Search", "source": "google", "landing_page": "/"}
    assert summary["last_touch"] == summary["first_touch"]
    assert (summary["visits"], summary["page_views"], summary["client_only_events"]) == (1, 2, 1)
    assert summary["time_to_enquiry_ms"] >= 0
    # The one summary: what the export (and the dashboard, the API) computes from the stored row.
    stored = run_store(database_url, lambda store: store.journeys_by_email("jane@example.com", EPOCH))
    assert summary == webhook.brief(export_journey(stored[0])["summary"])

    signature = request["headers"]["X-Leadtrail-Signature"]
    assert webhook.verify_signature(SECRET, body, signature, now=time.time())
    assert not webhook.verify_signature("another-secret-0123456789", body, signature, now=time.time())
    assert not webhook.verify_signature(SECRET, body.replace(b"jane", b"joan"), signature, now=time.time())
    assert not webhook.verify_signature(SECRET, body, signature, now=time.time() + 3600)  # a replay, later


def test_the_documented_verification_recipe_works():
    """The Python lines docs/integration.md gives a receiver accept a real signature header and
    refuse a changed body, another secret and an old timestamp."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "integration.md").read_text()
    section = doc.split("## 5. New-enquiry webhook", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict = {}
    exec(code, namespace)
    verify = namespace["verify"]
    body = b'{"type": "journey.created", "journey_id": 1}'
    header = webhook.signature_header(SECRET, body, int(time.time()))
    assert verify(SECRET, body, header)
    assert not verify(SECRET, body + b" ", header)
    assert not verify("another-secret-0123456789", body, header)
    assert not verify(SECRET, body, webhook.signature_header(SECRET, body, int(time.time()) - 3600))
    assert not verify(SECRET, body, "v1=" + header.split("v1=")[1])


def test_a_refresh_and_the_late_look_deliver_nothing_more(database_url, receiver, quick_retries, monkeypatch):
    """The 200 refresh within ten minutes and the late refresh update the journey but post nothing."""
    from leadtrail import promote as promote_workflow

    monkeypatch.setattr(promote_workflow, "LATE_REFRESH_DELAY", 0.2)
    hook = receiver(200)
    with app_client(database_url, webhook_url=hook.url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        first = client.post(
            "/api/track/promote",
            json={
                "email": "again@x.co",
                # the page opened a minute ago (sent at once, a form is a bot's: spam.FAST_SECONDS)
                "client_events": [client_event("page_view", "/", "a", int(time.time() * 1000) - 60_000)],
            },
        )
        client.post(
            "/api/track",
            json={"event_name": "page_engagement", "page_path": "/", "event_id": "late", "params": {"engaged_ms": 900}},
        )
        second = client.post("/api/track/promote", json={"email": "again@x.co"})
        assert (first.status_code, second.status_code) == (201, 200)
        hook.wait_for(1)
        wait_for_background(client)  # the late look has run
    assert len(hook.requests) == 1 and "dropped" not in client.app.state.services.metrics.webhooks
    assert "X-Leadtrail-Signature" not in hook.requests[0]["headers"]  # no secret, no signature
    assert json.loads(hook.requests[0]["body"])["journey_id"] == first.json()["journey_id"]


def test_a_500_is_retried_and_then_delivered_once(database_url, receiver, quick_retries, caplog):
    """500 then 200: a second attempt after the backoff, one delivery counted and logged without
    the e-mail; a cookie the receiver sets is not sent back."""
    caplog.set_level(logging.INFO, logger="leadtrail.webhook")
    hook = receiver(500, 200, set_cookie=True)
    with app_client(database_url, webhook_url=hook.url, webhook_secret=SECRET) as client:
        r = client.post("/api/track/promote", json={"email": "retry@x.co"})
        requests = hook.wait_for(2)
        metrics = client.app.state.services.metrics
        wait_until(lambda: "delivered" in metrics.webhooks, what="the delivery counted")
        counts = dict(metrics.webhooks)
    assert len(requests) == 2 and requests[0]["body"] == requests[1]["body"]
    assert requests[1]["at"] - requests[0]["at"] >= 0.05
    assert "Cookie" not in requests[1]["headers"]
    for request in requests:
        assert webhook.verify_signature(
            SECRET, request["body"], request["headers"]["X-Leadtrail-Signature"], now=time.time()
        )
    assert counts == {"retried": 1, "delivered": 1}
    records = [rec for rec in caplog.records if rec.name == "leadtrail.webhook" and hasattr(rec, "outcome")]
    assert [(rec.outcome, rec.status, rec.attempt) for rec in records] == [("retry", 500, 1), ("delivered", 200, 2)]
    assert all(rec.journey_id == r.json()["journey_id"] for rec in records)
    assert "retry@x.co" not in caplog.text


@pytest.mark.parametrize("status", [400, 302])
def test_a_4xx_or_a_redirect_is_not_retried_or_followed(sqlite_url, receiver, quick_retries, caplog, status):
    """A 4xx other than 429 gives up at once; a redirect is not followed (and not a delivery)."""
    caplog.set_level(logging.INFO, logger="leadtrail.webhook")
    hook = receiver(status)
    with app_client(sqlite_url, webhook_url=hook.url) as client:
        client.post("/api/track/promote", json={"email": "four@x.co"})
        hook.wait_for(1)
        metrics = client.app.state.services.metrics
        wait_until(lambda: "failed" in metrics.webhooks, what="the failure counted")
        counts = dict(metrics.webhooks)
    assert [req["path"] for req in hook.requests] == ["/hooks/leadtrail?token=t1"]
    assert counts == {"failed": 1}
    [record] = [rec for rec in caplog.records if getattr(rec, "outcome", None) == "failed"]
    assert (record.status, record.attempt) == (status, 1)


def test_an_unreachable_url_does_not_slow_the_promote_and_the_failure_is_logged(
    database_url, quick_retries, caplog, black_hole
):
    """A receiver that accepts connections and never answers: the promote answers at once; the
    sender times out on each of its three attempts, then logs that it gave up."""
    caplog.set_level(logging.INFO, logger="leadtrail.webhook")
    with app_client(database_url, webhook_url=black_hole) as client:
        client.post("/api/track", json=page_view("/", "a"))
        opened = client_event("page_view", "/", "a", int(time.time() * 1000) - 60_000)  # not a bot's instant send
        started = time.monotonic()
        r = client.post("/api/track/promote", json={"email": "slow@x.co", "client_events": [opened]})
        elapsed = time.monotonic() - started
        assert r.status_code == 201
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            getattr(rec, "outcome", None) == "failed" for rec in caplog.records
        ):
            time.sleep(0.05)
        counts = dict(client.app.state.services.metrics.webhooks)
    assert elapsed < webhook.ATTEMPT_TIMEOUT  # delivery inline would take at least three timeouts
    outcomes = [
        (rec.outcome, rec.status, rec.attempt)
        for rec in caplog.records
        if hasattr(rec, "outcome") and rec.name == "leadtrail.webhook"
    ]
    assert outcomes == [("retry", "ReadTimeout", 1), ("retry", "ReadTimeout", 2), ("failed", "ReadTimeout", 3)]
    assert counts == {"retried": 2, "failed": 1}


def test_pending_deliveries_are_dropped_after_the_shutdown_grace(
    sqlite_url, quick_retries, caplog, monkeypatch, black_hole
):
    """Stopping the server waits SHUTDOWN_GRACE for a delivery in flight, then drops it (logged)."""
    monkeypatch.setattr(webhook, "ATTEMPT_TIMEOUT", 30.0)
    caplog.set_level(logging.INFO, logger="leadtrail.webhook")
    with app_client(sqlite_url, webhook_url=black_hole) as client:
        journey_id = client.post("/api/track/promote", json={"email": "bye@x.co"}).json()["journey_id"]
        time.sleep(0.1)
        stopping = time.monotonic()
    stopped_in = time.monotonic() - stopping
    assert stopped_in < 5
    [record] = [rec for rec in caplog.records if getattr(rec, "outcome", None) == "dropped"]
    assert record.journey_id == journey_id and record.reason == "server stopping"


def test_a_full_queue_drops_instead_of_waiting(sqlite_url, quick_retries, caplog, monkeypatch, black_hole):
    """Past QUEUE_SIZE waiting deliveries a promote still answers; the extra one is dropped and counted."""
    monkeypatch.setattr(webhook, "QUEUE_SIZE", 1)
    monkeypatch.setattr(webhook, "SENDERS", 1)
    monkeypatch.setattr(webhook, "ATTEMPT_TIMEOUT", 0.5)
    monkeypatch.setattr(webhook, "RETRY_DELAYS", ())
    caplog.set_level(logging.INFO, logger="leadtrail.webhook")
    with app_client(sqlite_url, webhook_url=black_hole) as client:
        statuses = [client.post("/api/track/promote", json={"email": f"q{i}@x.co"}).status_code for i in range(3)]
        counts = dict(client.app.state.services.metrics.webhooks)
    assert statuses == [201, 201, 201]
    # One in flight, one waiting, the third dropped.
    assert counts.get("dropped", 0) >= 1
    assert any(getattr(rec, "reason", None) == "queue full" for rec in caplog.records)


def test_without_webhook_url_nothing_is_sent(database_url, receiver, quick_retries):
    """WEBHOOK_URL unset: no sender, no request, even with a secret set."""
    hook = receiver(200)
    with app_client(database_url, webhook_secret=SECRET) as client:
        assert client.app.state.services.webhook is None
        assert client.post("/api/track/promote", json={"email": "off@x.co"}).status_code == 201
        wait_for_background(client)
    assert hook.requests == []


@pytest.mark.parametrize(
    "value",
    [
        "ftp://hooks.example.com/x",
        "hooks.example.com/x",
        "https://",
        "https:///path",
        "http://hooks.example.com:99999/",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/#frag",
    ],
)
def test_a_bad_webhook_url_is_refused_at_load_time(value):
    """WEBHOOK_URL must be an http(s) URL with a host; the message names the setting."""
    with pytest.raises(SettingsError, match="LEADTRAIL_WEBHOOK_URL"):
        load_settings({}, env={"LEADTRAIL_WEBHOOK_URL": value})


def test_webhook_settings_load_and_round_trip():
    """Both settings load from the environment, stay out of repr, and survive to_env for workers;
    a short secret is refused."""
    from leadtrail.settings import to_env

    s = load_settings(
        {}, env={"LEADTRAIL_WEBHOOK_URL": " https://hooks.example.com/x?token=abc ", "LEADTRAIL_WEBHOOK_SECRET": SECRET}
    )
    assert (s.webhook_url, s.webhook_secret) == ("https://hooks.example.com/x?token=abc", SECRET)
    assert "token=abc" not in repr(s) and SECRET not in repr(s)
    assert load_settings({}, env=to_env(s)) == s
    assert load_settings({}, env=to_env(load_settings({}, env={}))).webhook_url == ""
    with pytest.raises(SettingsError, match="LEADTRAIL_WEBHOOK_SECRET"):
        load_settings({}, env={"LEADTRAIL_WEBHOOK_SECRET": "short"})


def test_the_link_is_given_only_for_an_origin_that_can_be_believed():
    """Through a trusted proxy or from this machine: the dashboard URL; straight from the internet
    (Host is whatever the caller says) or without a host: none."""
    assert (
        webhook.journey_link("https://www.example.com", "10.0.0.2", True, 7) == "https://www.example.com/cp/journeys/7"
    )
    assert webhook.journey_link("http://127.0.0.1:8000", "127.0.0.1", False, 7) == "http://127.0.0.1:8000/cp/journeys/7"
    assert webhook.journey_link("http://evil.example", "203.0.113.9", False, 7) is None
    assert webhook.journey_link("http://", "127.0.0.1", False, 7) is None


def test_the_link_follows_the_origin_a_trusted_proxy_forwarded(database_url, receiver, start_server):
    """`leadtrail serve` with LEADTRAIL_WEBHOOK_URL: a promote through a trusted proxy gets the
    dashboard link on the public origin the proxy forwarded."""
    import urllib.request

    from browser import CHROME_UA

    hook = receiver(200)
    server = start_server(
        database_url, env={"LEADTRAIL_WEBHOOK_URL": hook.url, "LEADTRAIL_TRUSTED_PROXIES": "127.0.0.1"}
    )
    request = urllib.request.Request(
        server.url + "/api/track/promote",
        data=b'{"email": "link@x.co"}',
        headers={
            "Content-Type": "application/json",
            "User-Agent": CHROME_UA,
            "Sec-Fetch-Mode": "cors",  # a browser's request (without any trace of one: spam)
            "X-Forwarded-Host": "www.example.com",
            "X-Forwarded-Proto": "https",
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        journey_id = json.loads(response.read())["journey_id"]
    [delivery] = hook.wait_for(1)
    assert json.loads(delivery["body"])["url"] == f"https://www.example.com/cp/journeys/{journey_id}"


def test_metrics_count_webhook_deliveries(sqlite_url):
    """/metrics carries leadtrail_webhook_deliveries_total by result."""
    from leadtrail.metrics import render

    with app_client(sqlite_url) as client:
        services = client.app.state.services
        services.metrics.webhooks["delivered"] += 2
        text = render(services)
    assert 'leadtrail_webhook_deliveries_total{result="delivered"} 2' in text
    assert 'leadtrail_webhook_deliveries_total{result="dropped"} 0' in text


def test_brief_keeps_what_a_new_enquiry_message_says_and_nothing_else():
    """brief() of a journeys.summarize() summary: touches without their time, the counts; an
    enquiry without events has no touches and zero counts."""
    from leadtrail.journeys import summarize

    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    server = [
        {
            "id": 1,
            "event_name": "page_view",
            "page_path": "/?gclid=abc",
            "params": {"referrer": "https://www.google.com/"},
            "created_at": "2026-11-27T11:50:00.000000+00:00",
        }
    ]
    brief = webhook.brief(summarize(server, [], now))
    assert brief == {
        "first_touch": {"channel": "Paid Search", "source": "google", "landing_page": "/"},
        "last_touch": {"channel": "Paid Search", "source": "google", "landing_page": "/"},
        "visits": 1,
        "page_views": 1,
        "time_to_enquiry_ms": 600_000,
        "client_only_events": 0,
    }
    empty = webhook.brief(summarize([], [], now))
    assert empty["first_touch"] is None and empty["visits"] == 0 and empty["time_to_enquiry_ms"] is None
