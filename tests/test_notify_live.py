"""The e-mail from a running `leadtrail serve` (the real schedule, not a shortened one), on both
databases: STARTTLS trusted through SSL_CERT_FILE as an operator would set it, two worker
processes sending each e-mail once within 30 seconds, and promotes answered while SMTP is down."""

from __future__ import annotations

import time

import httpx
import pytest
from browser import CHROME_UA
from smtpsink import SmtpSink, ThrowawayCA
from support import run_store, wait_until

NOTIFY = "owner@studio.example"


def enquire(http: httpx.Client, email: str) -> tuple[int, float]:
    """A visitor's two pages and a form sent two minutes after landing (their browser's clock):
    (journey id, seconds the promote took to answer)."""
    now_ms = int(time.time() * 1000)
    http.post(
        "/api/track",
        json={
            "event_name": "page_view",
            "page_path": "/?utm_source=newsletter&utm_medium=email",
            "params": {"title": "Home"},
            "event_id": "v1",
        },
    )
    http.post(
        "/api/track",
        json={"event_name": "page_view", "page_path": "/services", "params": {"title": "Services"}, "event_id": "v2"},
    )
    started = time.monotonic()
    r = http.post(
        "/api/track/promote",
        json={
            "email": email,
            "form": "contact",
            "client_events": [
                {
                    "event_name": "page_view",
                    "page_path": "/?utm_source=newsletter&utm_medium=email",
                    "params": {},
                    "event_id": "v1",
                    "ts": now_ms - 120_000,
                },
                {
                    "event_name": "page_view",
                    "page_path": "/services",
                    "params": {},
                    "event_id": "v2",
                    "ts": now_ms - 60_000,
                },
            ],
        },
    )
    took = time.monotonic() - started
    assert r.status_code == 201, r.text
    return r.json()["journey_id"], took


def visitor(server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={"User-Agent": CHROME_UA, "Sec-Fetch-Mode": "cors", "Origin": server.url},
        timeout=10,
    )


@pytest.fixture
def ca(tmp_path):
    return ThrowawayCA(tmp_path)


def test_two_workers_email_each_enquiry_once_within_30_seconds(database_url, start_server, ca, tmp_path):
    """`serve --workers 2` with STARTTLS and a login: three enquiries, three e-mails (none twice),
    each within 30 s of its promote, with the BASE_URL link; the figures are printed."""
    sink = SmtpSink(ca=ca, starttls=True, login=("leads@studio.example", "pw")).start()
    try:
        server = start_server(
            database_url,
            "--workers",
            "2",
            env={
                "LEADTRAIL_SMTP_URL": sink.url,
                "LEADTRAIL_NOTIFY_EMAILS": NOTIFY,
                "LEADTRAIL_BASE_URL": "https://stats.studio.example",
                "SSL_CERT_FILE": str(ca.ca_file),
            },
        )
        promoted, took = {}, []
        for i in range(3):
            with visitor(server) as http:
                journey_id, seconds = enquire(http, f"visitor{i}@example.com")
            promoted[journey_id] = time.monotonic()
            took.append(seconds)
        received = sink.wait_for(3, timeout=30)
        rows = wait_until_sent(database_url, 3)
    finally:
        sink.stop()
    assert len(received) == 3 and all(r["tls"] for r in received)
    subjects = sorted(r["message"]["Subject"] for r in received)
    assert subjects == [f"New enquiry from visitor{i}@example.com (contact form)" for i in range(3)]
    delays = []
    for r in received:
        journey_id = next(j for j in promoted if f"/cp/journeys/{j}" in r["message"].get_body(("plain",)).get_content())
        delays.append(r["at"] - promoted[journey_id])
    assert max(delays) < 30
    assert [row["attempts"] for row in rows] == [1, 1, 1]
    print(
        f"\npromote answered in {max(took) * 1000:.0f} ms at most; e-mails delivered {min(delays):.1f}-{max(delays):.1f} s after the promote"
    )


def wait_until_sent(database_url, count):
    def rows():
        return [r for r in run_store(database_url, lambda store: store.fetch("outbox_rows")) if r["outcome"] == "sent"]

    wait_until(lambda: len(rows()) == count, timeout=10, what=f"{count} rows marked sent")
    return rows()


def test_smtp_down_a_promote_still_answers_and_the_email_waits(sqlite_url, start_server):
    """Nothing listening on the SMTP port: promotes answer (figures printed); the e-mail waits in
    the outbox with the reason, retried on the real schedule."""
    sink = SmtpSink()  # never started
    server = start_server(sqlite_url, env={"LEADTRAIL_SMTP_URL": sink.url, "LEADTRAIL_NOTIFY_EMAILS": NOTIFY})
    took = []
    for i in range(5):
        with visitor(server) as http:
            took.append(enquire(http, f"down{i}@example.com")[1])

    def first_attempt_failed():
        rows = run_store(sqlite_url, lambda store: store.fetch("outbox_rows"))
        return len(rows) == 5 and all(r["last_error"] for r in rows)

    wait_until(first_attempt_failed, timeout=30, what="a failed first attempt for each e-mail")
    rows = run_store(sqlite_url, lambda store: store.fetch("outbox_rows"))
    assert all("connection refused" in r["last_error"] and r["outcome"] is None for r in rows)
    logs = server.logs()
    assert "e-mail for journey" in logs and "connection refused" in logs
    assert "down0@" not in logs and "owner@studio.example" not in logs  # no address in the logs
    print(f"\nSMTP down: promotes answered in {min(took) * 1000:.0f}-{max(took) * 1000:.0f} ms")
