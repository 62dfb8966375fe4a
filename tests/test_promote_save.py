"""The promote's one transaction (store.save_promoted), on both databases: a new journey's spam
score is written with the journey itself (nothing of it is stored when the transaction fails), the
counts the score needs are of the address's and the visitor's other journeys of the last day, and
the journey's creation time comes back from the save, so the receipt needs no query of its own
and a refresh answers the first promote's receipt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import anon_id_of, app_client, page_view, run_store

from leadtrail import receipts
from leadtrail.spam import ClientBursts
from leadtrail.store import JourneyRecord, utcnow
from leadtrail.store.base import SpamVerdict


def _record(email: str, anon_id: str | None, **kw) -> JourneyRecord:
    return JourneyRecord(email, anon_id, [], [], "booking", None, {"visits": 1}, **kw)


def test_the_spam_verdict_is_stored_with_the_new_journey_and_counts_the_last_day(database_url):
    """The verdict function gets the address's and the visitor's journeys of the last day (not the
    new one, not older ones, not another visitor's); its score, reasons and status are on the row."""
    seen: list[tuple[int, int]] = []

    def verdict(same_email: int, same_visitor: int) -> SpamVerdict:
        seen.append((same_email, same_visitor))
        return SpamVerdict(80, ["a reason", "another"], True)

    async def work(store):
        now = utcnow()
        window = timedelta(minutes=10)
        await store.save_journey(_record("a@b.co", "v1"), now - timedelta(days=2), window)  # too old
        await store.save_journey(_record("a@b.co", "v2"), now - timedelta(hours=5), window)
        await store.save_journey(_record("c@d.co", "v1"), now - timedelta(hours=4), window)
        await store.save_journey(_record("e@f.co", "v1"), now - timedelta(hours=3), window)
        await store.save_journey(_record("x@y.co", "v9"), now - timedelta(hours=2), window)  # unrelated
        saved = await store.save_promoted(_record("a@b.co", "v1", spam=verdict), now, window)
        row = (await store.journeys_by_email("a@b.co", now - timedelta(days=30)))[0]
        return saved, row

    saved, row = run_store(database_url, work)
    assert seen == [(1, 2)]
    assert saved.created and saved.status == "spam"
    assert row["id"] == saved.id and row["status"] == "spam"
    assert row["spam_score"] == 80 and row["spam_reasons"] == ["a reason", "another"]


def test_a_zero_score_leaves_the_journey_open_and_unscored(database_url):
    async def work(store):
        now = utcnow()
        saved = await store.save_promoted(
            _record("a@b.co", "v1", spam=lambda e, v: SpamVerdict(0, [], False)), now, timedelta(minutes=10)
        )
        return saved, (await store.journeys_by_email("a@b.co", now - timedelta(days=1)))[0]

    saved, row = run_store(database_url, work)
    assert saved.status == "open" and row["status"] == "open"
    assert row["spam_score"] == 0 and row["spam_reasons"] == []


def test_a_refresh_is_not_scored_and_keeps_the_first_score_and_creation_time(database_url):
    calls: list[tuple[int, int]] = []

    def verdict(same_email: int, same_visitor: int) -> SpamVerdict:
        calls.append((same_email, same_visitor))
        return SpamVerdict(45, ["quick"], False)

    async def work(store):
        now = utcnow()
        window = timedelta(minutes=10)
        first = await store.save_promoted(_record("a@b.co", "v1", spam=verdict), now, window)
        again = await store.save_promoted(_record("a@b.co", "v1", spam=verdict), now + timedelta(minutes=2), window)
        return first, again, (await store.journeys_by_email("a@b.co", now - timedelta(days=1)))

    first, again, rows = run_store(database_url, work)
    assert calls == [(0, 0)]
    assert first.created and not again.created and again.id == first.id
    assert again.created_at == first.created_at
    assert len(rows) == 1 and rows[0]["spam_score"] == 45 and rows[0]["status"] == "open"


def test_the_saved_creation_time_is_the_stored_one(database_url):
    """What the receipt is signed with at the promote is what its page later reads back."""

    async def work(store):
        now = utcnow()
        saved = await store.save_promoted(_record("a@b.co", "v1"), now, timedelta(minutes=10))
        row = (await store.journeys_by_email("a@b.co", now - timedelta(days=1)))[0]
        return saved, row

    saved, row = run_store(database_url, work)
    assert saved.created_at.isoformat(timespec="microseconds") == row["created_at"]


def test_a_failure_while_scoring_stores_nothing(database_url):
    """The journey and its score are one transaction: when scoring fails, no journey is left behind
    unscored (before, a journey was committed first and scored in a second transaction)."""

    def broken(same_email: int, same_visitor: int) -> SpamVerdict:
        raise RuntimeError("scoring failed")

    async def work(store):
        now = utcnow()
        with pytest.raises(RuntimeError):
            await store.save_promoted(_record("a@b.co", "v1", spam=broken), now, timedelta(minutes=10))
        return await store.count("journeys")

    assert run_store(database_url, work) == 0


def test_the_promote_answers_the_receipt_of_the_stored_journey_and_a_refresh_the_same(database_url):
    with app_client(database_url, spam_threshold=101) as client:
        client.post("/api/track", json=page_view("/prices", "a"))
        first = client.post("/api/track/promote", json={"email": "jo@example.com", "form": "booking"})
        again = client.post("/api/track/promote", json={"email": "jo@example.com", "form": "booking"})
        visitor = anon_id_of(client)
        page = client.get(first.json()["receipt_url"])
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["receipt_url"] == first.json()["receipt_url"]
    assert page.status_code == 200 and "/prices" in page.text
    token = first.json()["receipt_url"].rsplit("/", 1)[1]
    journey_id, _ = receipts.parse_token(token)  # type: ignore[misc]
    assert journey_id == first.json()["journey_id"] and visitor


def test_a_promote_that_was_not_saved_is_not_counted_against_its_network_address():
    bursts = ClientBursts(b"k" * 32)
    for _ in range(3):
        bursts.count("203.0.113.9", now=100.0)
    bursts.forget("203.0.113.9")
    bursts.forget("198.51.100.1")  # never seen: nothing happens
    assert bursts.count("203.0.113.9", now=101.0) == 3


def _page_evidence_per_event(server_events, client_events, touches, submitted_ms):
    """spam.page_evidence as it was: every stored time parsed (the reference for the fast path)."""
    from leadtrail.timestamps import epoch_ms

    views = [epoch_ms(e.get("created_at")) for e in server_events if e.get("event_name") == "page_view"]
    views += [epoch_ms(e.get("ts")) for e in client_events if e.get("event_name") == "page_view"]
    starts = [epoch_ms(e.get("created_at")) for e in server_events[:1]]
    starts += [epoch_ms(e.get("ts")) for e in client_events] + [epoch_ms(t.get("ts")) for t in touches]
    known_views = [t for t in views if t is not None and t <= submitted_ms]
    known_starts = [t for t in starts if t is not None and t <= submitted_ms] + known_views
    first = min(known_starts) if known_starts else None
    last = max(known_views) if known_views else None
    return (
        len(views) + sum(int(t.get("pages") or 1) for t in touches),
        None if first is None else submitted_ms - first,
        None if last is None else submitted_ms - last,
    )


def test_page_evidence_reads_only_the_extremes_and_agrees_with_reading_every_event():
    """The spam score's page evidence parses the first and last stored time when every time is in
    the storage form, and every one otherwise; either way the answer is what parsing every event
    gives, for snapshots in order or not, with times after the submission, unreadable times and
    times in other forms among them."""
    import random
    from datetime import UTC, datetime, timedelta

    from leadtrail import spam
    from leadtrail.timestamps import iso

    rng = random.Random(9)
    base = datetime(2026, 12, 5, 10, tzinfo=UTC)
    submitted_ms = int((base + timedelta(hours=2)).timestamp() * 1000)
    odd = ["2026-12-05T13:00:00+01:00", "2026-13-05T10:00:00.000000+00:00", "", None, 17, "2026-12-05 09:00:00"]
    for case in range(400):
        n = rng.choice([0, 1, 2, 3, 10, 200])
        times = [iso(base + timedelta(seconds=rng.randrange(-3600, 3 * 3600))) for _ in range(n)]
        if case % 2 == 0:
            times.sort()
        if case % 3 == 0 and times:
            times[rng.randrange(len(times))] = rng.choice(odd)
        if case % 5 == 0:
            times = [t for t in times if not isinstance(t, str) or t <= iso(base + timedelta(hours=2))]
        server = [{"event_name": rng.choice(["page_view", "page_view", "click"]), "created_at": t} for t in times]
        client = [{"event_name": "page_view", "ts": submitted_ms - rng.randrange(0, 10**7)} for _ in range(case % 3)]
        touches = [{"ts": submitted_ms - 10**9, "pages": 2}] if case % 4 == 0 else []
        assert spam.page_evidence(server, client, touches, submitted_ms) == _page_evidence_per_event(
            server, client, touches, submitted_ms
        ), (case, times)
