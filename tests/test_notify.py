"""The new-enquiry e-mail and the digest, sent through a real SMTP server (aiosmtpd) on both
databases: content, STARTTLS with a login, spam left out, SMTP down (retried, then delivered),
a restart, several senders at once, the digest once per period."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from smtpsink import SmtpSink, ThrowawayCA
from support import anon_id_of, app_client, make_settings, page_view, run_async, run_store, wait_until

from leadtrail.charts import Format
from leadtrail.metrics import Metrics
from leadtrail.metrics import render as render_metrics
from leadtrail.notify import outbox, smtp
from leadtrail.store import EventRow, JourneyRecord, open_store

NOTIFY = ("owner@studio.example", "partner@studio.example")
BASE_URL = "https://stats.studio.example"


@pytest.fixture
def quick_mail(monkeypatch):
    """The schedule in tenths of seconds instead of seconds and minutes."""
    monkeypatch.setattr(outbox, "FIRST_DELAY", 0.1)
    monkeypatch.setattr(outbox, "POLL_INTERVAL", 0.2)
    monkeypatch.setattr(outbox, "RETRY_BASE", 0.2)
    monkeypatch.setattr(outbox, "RETRY_MAX", 0.4)
    monkeypatch.setattr(outbox, "STORE_RETRY", 0.2)
    monkeypatch.setattr(smtp, "ATTEMPT_TIMEOUT", 2.0)


@pytest.fixture
def test_ca(tmp_path, monkeypatch):
    """A CA of this test's own, trusted the way an operator trusts a private CA: SSL_CERT_FILE."""
    ca = ThrowawayCA(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    return ca


@pytest.fixture
def smtp_sink():
    made: list[SmtpSink] = []

    def make(**kwargs) -> SmtpSink:
        sink = SmtpSink(**kwargs)
        made.append(sink)
        return sink

    yield make
    for sink in made:
        sink.stop()


def client_event(name, path, event_id, ts, **params):
    return {"event_name": name, "page_path": path, "params": params, "event_id": event_id, "ts": ts}


def human_enquiry(client, database_url, email="jane.doe@example.com", form="booking"):
    """A person from a Google ad: the home page (55 s), the services page (90 s), then the booking
    form two and a half minutes after landing. The server's buffer holds the earlier pages with
    their times (written as they would have been); the browser's buffer mirrors them and adds a
    click the server never saw."""
    now = datetime.now(UTC)
    landing = "/?utm_source=google&utm_medium=cpc&utm_campaign=weddings"
    assert client.post("/api/track", json=page_view("/booking", "p3", title="Book")).status_code == 204
    anon_id = anon_id_of(client)
    earlier = [
        ("page_view", landing, {"event_id": "p1", "title": "Studio Lumen", "referrer": "https://www.google.com/"}, 150),
        ("page_engagement", "/", {"event_id": "g1", "engaged_ms": 55_000}, 95),
        ("page_view", "/services", {"event_id": "p2", "title": "Services & prices"}, 94),
        ("page_engagement", "/services", {"event_id": "g2", "engaged_ms": 90_000}, 4),
    ]
    rows = [
        EventRow(anon_id, name, path, orjson.dumps(params).decode(), now - timedelta(seconds=ago))
        for name, path, params, ago in earlier
    ]
    run_store(database_url, lambda store: store.add_events(rows))
    ms = int(now.timestamp() * 1000)
    r = client.post(
        "/api/track/promote",
        json={
            "email": email,
            "form": form,
            "consent": True,
            "client_events": [
                client_event("page_view", landing, "p1", ms - 150_000, title="Studio Lumen"),
                client_event("page_view", "/services", "p2", ms - 94_000, title="Services & prices"),
                client_event("cta_click", "/services", "blocked", ms - 30_000),
                client_event("page_view", "/booking", "p3", ms - 3_000, title="Book"),
            ],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["journey_id"]


def outbox_rows(database_url):
    return run_store(database_url, lambda store: store.fetch("outbox_rows"))


def leadtrail_logs(caplog) -> str:
    return "\n".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records if rec.name.startswith("leadtrail"))


def test_a_human_enquiry_is_emailed_over_starttls_with_its_journey(
    database_url, quick_mail, test_ca, smtp_sink, caplog
):
    """Through STARTTLS with a login: one e-mail to every NOTIFY_EMAILS address, Reply-To the
    enquirer, plain text and HTML with the address, form, first and last touch, pages with time
    on page, visits, time to enquiry and the BASE_URL link; the HTML fetches nothing and runs
    nothing; logs and the outbox hold no address; /metrics counts it."""
    caplog.set_level(logging.INFO, logger="leadtrail")
    sink = smtp_sink(ca=test_ca, starttls=True, login=("leads@studio.example", "s3cret pass")).start()
    with app_client(
        database_url,
        smtp_url=sink.url.replace("s3cret pass", "s3cret%20pass"),
        smtp_from="Studio Lumen leads <leads@studio.example>",
        notify_emails=",".join(NOTIFY),
        base_url=BASE_URL + "/",
        timezone="Europe/London",
    ) as client:
        journey_id = human_enquiry(client, database_url)
        [received] = sink.wait_for(1)
        wait_until(lambda: outbox_rows(database_url)[0]["outcome"] == "sent", what="the row marked sent")
        metrics = render_metrics(client.app.state.services)  # what GET /metrics answers on loopback
    assert received["tls"] and received["login"] == b"leads@studio.example"
    assert sorted(received["rcpt_tos"]) == sorted(NOTIFY) and received["mail_from"] == "leads@studio.example"
    message = received["message"]
    assert message["Subject"] == "New enquiry from jane.doe@example.com (booking form)"
    assert message["Reply-To"] == "jane.doe@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"{BASE_URL}/cp/journeys/{journey_id}"
    for body in (text, html):
        assert "jane.doe@example.com" in body and "booking" in body
        assert "Paid Search" in body and "google" in body
        assert "/services" in body and "weddings" in body  # the pages; the campaign of the visit
        # time to enquiry: from the landing page 150 s before the test's clock reading, to the
        # promote a moment later (seconds later on a loaded machine)
        assert re.search(r"\b2 min [3-5]\d s\b", body), body
        assert "1 visit" in body and "3 pages viewed" in body
        assert link in body
        assert "GMT" in body or "BST" in body  # times in TIMEZONE
    # Pages read, each with its time on page (the tracker's engagement time), in the owner's words.
    assert re.search(r"55 s\s+/  \"Studio Lumen\"", text) and re.search(r"1 min 30 s\s+/services", text)
    assert re.search(r"/services.*?1 min 30 s", html, re.S) and "Studio Lumen" in html
    assert "1 event only the browser saw" in text
    # Nothing fetched, nothing run.
    assert not re.search(r"<script|<img|<svg|<link|<iframe|url\(|src=", html, re.I)
    assert f'href="{link}"' in html and 'href="mailto:jane.doe@example.com"' in html
    # No address in the logs, the outbox or its errors.
    logs = leadtrail_logs(caplog)
    assert "@" not in logs.replace("leads@studio.example", "")  # the SMTP user is not an enquirer... still:
    assert "leads@studio.example" not in logs
    [row] = outbox_rows(database_url)
    assert row["key"] == f"journey:{journey_id}" and row["outcome"] == "sent" and row["attempts"] == 1
    assert "@" not in str(row)
    assert 'leadtrail_emails_total{kind="enquiry",result="sent"} 1' in metrics
    assert 'leadtrail_emails_total{kind="enquiry",result="queued"} 1' in metrics


def test_spam_is_not_emailed(database_url, quick_mail, smtp_sink):
    """A filled honeypot files the enquiry as spam: no outbox row, no e-mail; the person after it is e-mailed."""
    sink = smtp_sink().start()
    with app_client(database_url, smtp_url=sink.url, notify_emails=NOTIFY[0]) as client:
        spam = client.post("/api/track/promote", json={"email": "bot@example.com", "honeypot": True})
        assert spam.status_code == 201
        person = human_enquiry(client, database_url)
        [received] = sink.wait_for(1)
        keys = [row["key"] for row in outbox_rows(database_url)]
    assert "jane.doe@example.com" in received["message"]["Subject"]
    assert keys == [f"journey:{person}"]
    assert all("bot@example.com" not in m["Subject"] for m in sink.messages())


def test_smtp_down_never_delays_a_promote_and_the_email_goes_once_it_is_back(
    database_url, quick_mail, smtp_sink, caplog
):
    """Nothing listens on the SMTP port: the promote answers at once, the e-mail is retried with
    backoff (logged with the reason, counted), and delivered once the server is up, once."""
    caplog.set_level(logging.INFO, logger="leadtrail")
    sink = smtp_sink()  # not started: connection refused
    with app_client(database_url, smtp_url=sink.url, notify_emails=NOTIFY[0]) as client:
        started = time.monotonic()
        journey_id = human_enquiry(client, database_url)
        answered_in = time.monotonic() - started
        wait_until(lambda: (outbox_rows(database_url) or [{}])[0].get("attempts", 0) >= 3, what="three attempts")
        [row] = outbox_rows(database_url)
        assert row["outcome"] is None and "connection refused" in row["last_error"]
        sink.start()
        [received] = sink.wait_for(1)
        wait_until(lambda: outbox_rows(database_url)[0]["outcome"] == "sent", what="the row marked sent")
        services = client.app.state.services
        counts = dict(services.metrics.emails)
    assert answered_in < smtp.ATTEMPT_TIMEOUT  # the attempt is never inline
    assert str(journey_id) in received["message"].get_body(("plain",)).get_content()
    assert counts[("enquiry", "retried")] >= 2 and counts[("enquiry", "sent")] == 1
    retries = [rec for rec in caplog.records if getattr(rec, "outcome", None) == "retry"]
    assert retries and all("connection refused" in rec.reason for rec in retries)
    assert len(sink.messages()) == 1


def test_a_hanging_smtp_server_does_not_hold_the_promote(sqlite_url, quick_mail, monkeypatch):
    """A server that accepts the connection and never says a word: every promote still answers
    while the sender's attempt hangs (it would take ATTEMPT_TIMEOUT inline)."""
    monkeypatch.setattr(smtp, "ATTEMPT_TIMEOUT", 30.0)
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)
    try:
        url = f"smtp://127.0.0.1:{hole.getsockname()[1]}"
        with app_client(sqlite_url, smtp_url=url, notify_emails=NOTIFY[0]) as client:
            timings = []
            for i in range(5):
                started = time.monotonic()
                human_enquiry(client, sqlite_url, email=f"person{i}@example.com")
                timings.append(time.monotonic() - started)
            wait_until(lambda: any(r["claim"] for r in outbox_rows(sqlite_url)), what="an attempt in flight")
            in_flight = [r for r in outbox_rows(sqlite_url) if r["claim"]]
        assert max(timings) < smtp.ATTEMPT_TIMEOUT and in_flight
        print(f"promote with SMTP hanging: max {max(timings) * 1000:.0f} ms over {len(timings)}")
    finally:
        hole.close()


def test_an_email_waiting_in_the_outbox_survives_a_restart(database_url, quick_mail, smtp_sink):
    """The server stops while SMTP is down: the e-mail waits in the outbox and the next start sends
    it; an enquiry erased before its e-mail went is not sent at all."""
    sink = smtp_sink()
    settings = dict(smtp_url=sink.url, notify_emails=NOTIFY[0])
    with app_client(database_url, **settings) as client:
        kept = human_enquiry(client, database_url, email="kept@example.com")
        erased = human_enquiry(client, database_url, email="erased@example.com")
        wait_until(lambda: len(outbox_rows(database_url)) == 2, what="both in the outbox")
    run_store(database_url, lambda store: store.erase_email("erased@example.com"))
    assert [r["journey_id"] for r in outbox_rows(database_url)] == [kept]  # deleted with its journey
    sink.start()
    with app_client(database_url, **settings):
        [received] = sink.wait_for(1)
        wait_until(lambda: outbox_rows(database_url)[0]["outcome"] == "sent", what="marked sent")
    assert "kept@example.com" in received["message"]["Subject"] and len(sink.messages()) == 1
    assert erased not in [r["journey_id"] for r in outbox_rows(database_url)]


def _notifier(store, database_url, **overrides):
    settings = make_settings(database_url, **overrides)
    return outbox.Notifier(store, settings, Metrics(), Format(settings.tz))


def test_several_senders_send_each_email_once(database_url, smtp_sink):
    """Four senders (workers, hosts) look at the same outbox at once: each e-mail goes once."""
    sink = smtp_sink().start()

    async def go():
        store = await open_store(make_settings(database_url))
        await store.migrate()
        try:
            now = datetime.now(UTC)
            ids = []
            for i in range(3):
                record = JourneyRecord(f"p{i}@example.com", None, [], [], None, None, {})
                journey_id, _ = await store.save_journey(record, now, timedelta(minutes=10))
                ids.append(journey_id)
            notifiers = [_notifier(store, database_url, smtp_url=sink.url, notify_emails=NOTIFY[0]) for _ in range(4)]
            for journey_id in ids:
                await notifiers[0].add_enquiry(outbox.Announced(journey_id, now - timedelta(seconds=10), None))
            handled = await asyncio.gather(*(n.run_once() for n in notifiers))
            return ids, handled, await store.fetch("outbox_rows")
        finally:
            await store.close()

    ids, handled, rows = run_async(go())
    assert sum(handled) == 3 and len(sink.wait_for(3)) == 3
    assert sorted(m["Subject"] for m in sink.messages()) == [f"New enquiry from p{i}@example.com" for i in range(3)]
    assert [r["outcome"] for r in rows] == ["sent"] * 3 and all(r["attempts"] == 1 for r in rows)


def test_a_refused_message_is_given_up_and_an_old_one_too(sqlite_url, smtp_sink, monkeypatch):
    """A 5xx for the message is permanent: given up after one attempt, logged, counted as failed."""
    sink = smtp_sink().start()

    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return f"550 5.1.1 <{address}>: no such user"

    sink.controller.handler = Refuse()  # type: ignore[union-attr]
    sink.controller.server.event_handler = Refuse()  # type: ignore[union-attr]

    async def go():
        store = await open_store(make_settings(sqlite_url))
        await store.migrate()
        try:
            now = datetime.now(UTC)
            record = JourneyRecord("x@example.com", None, [], [], None, None, {})
            journey_id, _ = await store.save_journey(record, now, timedelta(minutes=10))
            notifier = _notifier(store, sqlite_url, smtp_url=sink.url, notify_emails=NOTIFY[0])
            await notifier.add_enquiry(outbox.Announced(journey_id, now - timedelta(seconds=10), None))
            await notifier.run_once()
            return await store.fetch("outbox_rows"), dict(notifier.metrics.emails)
        finally:
            await store.close()

    [row], counts = run_async(go())
    assert row["outcome"] == "failed" and row["attempts"] == 1
    assert "refused every recipient" in row["last_error"] and "@" not in row["last_error"]
    assert counts == {("enquiry", "failed"): 1}


def test_an_email_held_by_a_sender_that_died_is_sent_once_its_claim_runs_out(database_url, smtp_sink):
    """A sender took the e-mail and died: nobody sends it while its claim lasts; after, another does."""
    sink = smtp_sink().start()

    async def go():
        store = await open_store(make_settings(database_url))
        await store.migrate()
        try:
            now = datetime.now(UTC)
            record = JourneyRecord("held@example.com", None, [], [], None, None, {})
            journey_id, _ = await store.save_journey(record, now, timedelta(minutes=10))
            notifier = _notifier(store, database_url, smtp_url=sink.url, notify_emails=NOTIFY[0])
            await notifier.add_enquiry(outbox.Announced(journey_id, now - timedelta(seconds=10), None))
            async with store.transaction() as tx:  # the sender that died
                claim = dict(key=outbox.journey_key(journey_id), claim="dead", now=now)
                assert (
                    await tx.execute("outbox_claim", **claim, until=now + timedelta(seconds=outbox.CLAIM_SECONDS)) == 1
                )
            while_held = await notifier.run_once(now)
            later = await notifier.run_once(now + timedelta(seconds=outbox.CLAIM_SECONDS + 1))
            return while_held, later, await store.fetch("outbox_rows")
        finally:
            await store.close()

    while_held, later, [row] = run_async(go())
    assert (while_held, later) == (0, 1) and len(sink.wait_for(1)) == 1
    assert row["outcome"] == "sent" and row["attempts"] == 2  # the dead sender's attempt and this one
