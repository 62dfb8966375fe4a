"""NOTIFY_DIGEST: the daily or weekly summary e-mail, through a real SMTP server, on both
databases: its figures (enquiries, by channel, won value in CURRENCY, against the period before,
spam left out), days in TIMEZONE, and one e-mail per period however many senders look at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from smtpsink import SmtpSink
from support import make_settings, run_async

from leadtrail.charts import Format
from leadtrail.metrics import Metrics
from leadtrail.notify import digest, outbox
from leadtrail.store import JourneyRecord, dumps, iso, open_store

TZ = "America/New_York"  # UTC-5 in December: a UTC day is not the owner's day


@pytest.fixture
def sink():
    s = SmtpSink().start()
    yield s
    s.stop()


def visit(at: datetime, landing: str, referrer: str | None = None) -> list[dict]:
    params = {"event_id": f"v{at.timestamp()}"}
    if referrer:
        params["referrer"] = referrer
    return [{"id": 1, "event_name": "page_view", "page_path": landing, "params": params, "created_at": iso(at)}]


GOOGLE = ("/", "https://www.google.com/")
AD = ("/?gclid=abc&utm_source=google&utm_medium=cpc", "https://www.google.com/")
DIRECT = ("/", None)

# (created_at UTC, email, touch, status, value); local days in New York.
JOURNEYS = [
    # Thu 3 Dec (local): four enquiries and a spam one
    (datetime(2026, 12, 3, 15, 0, tzinfo=UTC), "a@x.co", GOOGLE, "won", 1200),
    (datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "b@x.co", GOOGLE, "open", None),
    (datetime(2026, 12, 3, 17, 0, tzinfo=UTC), "c@x.co", AD, "lost", None),
    (datetime(2026, 12, 4, 3, 0, tzinfo=UTC), "d@x.co", AD, "won", 350.5),  # 22:00 on the 3rd in New York
    (datetime(2026, 12, 3, 18, 0, tzinfo=UTC), "spam@x.co", GOOGLE, "spam", None),
    # Wed 2 Dec: two
    (datetime(2026, 12, 2, 15, 0, tzinfo=UTC), "e@x.co", GOOGLE, "open", None),
    (datetime(2026, 12, 3, 4, 0, tzinfo=UTC), "f@x.co", DIRECT, "won", 99),  # 23:00 on the 2nd in New York
]


async def seed(store):
    for created, email, (landing, referrer), status, value in JOURNEYS:
        events = visit(created - timedelta(minutes=5), landing, referrer)
        record = JourneyRecord(email, None, events, [], None, None, {})
        journey_id, _ = await store.save_journey(record, created, timedelta(minutes=10))
        async with store.transaction() as tx:
            if status == "spam":
                await tx.execute("journey_set_spam", id=journey_id, score=90, reasons=dumps(["honeypot"]), spam=True)
            else:
                await tx.execute("journey_set_outcome", id=journey_id, status=status, value=value, currency="EUR")
    async with store.transaction() as tx:
        rows = [["2026-12-03", "Organic Search", "google", 300], ["2026-12-03", "Paid Search", "google", 100]]
        rows += [["2026-12-02", "Organic Search", "google", 250], ["2026-12-02", "Direct", "", 50]]
        await tx.execute("totals_add_visits", rows=dumps(rows))


def notifier(store, database_url, url, **overrides):
    settings = make_settings(
        database_url,
        smtp_url=url,
        notify_emails="owner@studio.example",
        notify_digest="daily",
        timezone=TZ,
        currency="EUR",
        base_url="https://stats.studio.example",
        **overrides,
    )
    return outbox.Notifier(store, settings, Metrics(), Format(settings.tz))


def test_the_daily_digest_is_sent_once_per_day_with_its_figures(database_url, sink):
    """Three senders see Thursday end at once: one e-mail; looking again sends nothing; Friday's
    comes the next morning. Thursday's figures: 4 enquiries (the spam one left out and counted
    apart, the one at 22:00 New York time in), 2 won worth EUR 1,550.50, by channel against
    Wednesday, visits and the conversion rate, and a link to that day's insights."""

    async def go():
        store = await open_store(make_settings(database_url))
        await store.migrate()
        try:
            await seed(store)
            senders = [notifier(store, database_url, sink.url) for _ in range(3)]
            morning = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 08:00 in New York
            first = await asyncio.gather(*(s.run_once(morning) for s in senders))
            again = await asyncio.gather(*(s.run_once(morning + timedelta(hours=3)) for s in senders))
            next_day = await senders[1].run_once(morning + timedelta(days=1))
            return first, again, next_day, await store.fetch("outbox_rows")
        finally:
            await store.close()

    first, again, next_day, rows = run_async(go())
    assert sum(first) == 1 and sum(again) == 0 and next_day == 1
    assert [r["key"] for r in rows] == ["digest:daily:2026-12-03", "digest:daily:2026-12-04"]
    assert [r["outcome"] for r in rows] == ["sent", "sent"]
    thursday, friday = (m for m in sink.messages())
    assert thursday["Subject"] == "leadtrail daily: 4 enquiries, Thu 3 Dec 2026 (2 the day before)"
    assert thursday["To"] == "owner@studio.example" and thursday["Reply-To"] is None
    text = thursday.get_body(("plain",)).get_content()
    html = thursday.get_body(("html",)).get_content()
    assert text.splitlines()[0] == "Daily summary for Thu 3 Dec 2026"
    assert "Enquiries: 4 (2 the day before)" in text
    assert "Won:       2, worth EUR 1,550.50 (1 worth EUR 99.00 the day before)" in text
    assert "Visits:    400 (300 the day before); 1.0% of visits enquired" in text
    assert "Organic Search" in text and "Paid Search" in text and "Direct" in text
    organic = next(line for line in text.splitlines() if line.strip().startswith("Organic Search"))
    assert "2 enquiries (+1)" in organic and "1 won" in organic and "EUR 1,200.00" in organic
    direct = next(line for line in text.splitlines() if line.strip().startswith("Direct"))
    assert "0 enquiries (−1)" in direct
    assert "1 spam enquiry was left out." in text
    assert "https://stats.studio.example/cp/insights?from=2026-12-03&amp;to=2026-12-03" in html
    assert "spam@x.co" not in text + html
    assert friday["Subject"].startswith("leadtrail daily: 0 enquiries, Fri 4 Dec 2026 (4 the day before)")


def test_nothing_is_added_before_the_morning_after(sqlite_url, sink):
    """At 06:59 local the latest digest due is the day before yesterday's: Thursday's waits for 07:00."""
    tz = make_settings(sqlite_url, timezone=TZ).tz
    early = datetime(2026, 12, 4, 11, 59, tzinfo=UTC)  # 06:59 in New York
    assert digest.due_period("daily", early, tz) == digest.Period("daily", date(2026, 12, 2), date(2026, 12, 2))
    assert digest.due_period("daily", early + timedelta(minutes=1), tz).first == date(2026, 12, 3)
    assert digest.due_period("off", early, tz) is None


@pytest.mark.parametrize(
    ("local_now", "first", "last"),
    [
        (datetime(2026, 12, 7, 6, 59), date(2026, 11, 23), date(2026, 11, 29)),  # Monday before 07:00
        (datetime(2026, 12, 7, 7, 0), date(2026, 11, 30), date(2026, 12, 6)),  # Monday 07:00
        (datetime(2026, 12, 13, 23, 0), date(2026, 11, 30), date(2026, 12, 6)),  # Sunday night
    ],
)
def test_weekly_periods_run_monday_to_sunday_in_the_owners_days(local_now, first, last):
    from leadtrail.localtime import zone

    tz = zone("Europe/London")
    now = local_now.replace(tzinfo=tz).astimezone(UTC)
    period = digest.due_period("weekly", now, tz)
    assert (period.first, period.last) == (first, last)
    assert period.key == f"digest:weekly:{first.isoformat()}" and digest.period_of(period.key) == period
    assert period.previous() == digest.Period("weekly", first - timedelta(days=7), last - timedelta(days=7))


def test_period_labels_and_keys():
    """Labels as the dashboard writes days; a key that is not a digest's is refused."""
    assert digest.Period("daily", date(2026, 12, 3), date(2026, 12, 3)).label == "Thu 3 Dec 2026"
    assert digest.Period("weekly", date(2026, 11, 30), date(2026, 12, 6)).label == "Mon 30 Nov – Sun 6 Dec 2026"
    assert digest.Period("weekly", date(2025, 12, 29), date(2026, 1, 4)).label == "Mon 29 Dec 2025 – Sun 4 Jan 2026"
    assert digest.Period("weekly", date(2026, 12, 7), date(2026, 12, 13)).label == "Mon 7 – Sun 13 Dec 2026"
    for bad in ("journey:4", "digest:hourly:2026-12-03", "digest:daily:yesterday"):
        with pytest.raises(ValueError):
            digest.period_of(bad)
