"""conv_enquiry_groups: the enquiries of a range by touch channel and source, by landing page and
by page seen, in one query on SQLite and PostgreSQL, exactly as grouping each journey's facts in
Python gives them; also when journey ids do not follow creation times (PostgreSQL reads the facts
between the range's lowest and highest id, and must still leave out a journey of another time
whose id falls between)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from support import run_store
from test_conversions import enquire, ev, set_status

from leadtrail import totals

NOW = datetime.now(UTC)
SINCE, UNTIL = NOW - timedelta(days=30), NOW + timedelta(minutes=1)
GOOGLE = "https://www.google.com/"


def expected(journeys: list[dict], first: bool) -> tuple[list, list, list]:
    """What each journey's facts add up to (spam and other times left out)."""
    channels: defaultdict = defaultdict(Counter)
    landings: defaultdict = defaultdict(Counter)
    pages: Counter = Counter()
    for j in journeys:
        if j["status"] == "spam" or not (SINCE <= j["at"] < UNTIL):
            continue
        f = j["facts"]
        touch = "first" if first else "last"
        won = j["status"] == "won"
        value = j["value"] if won else 0
        channels[(f[f"{touch}_channel"], f[f"{touch}_source"])].update(n=1, won=int(won), value=value)
        landings[f[f"{touch}_landing"]].update(n=1, won=int(won), value=value)
        pages.update(f["pages"])
    return (
        sorted((k[0] or "", k[1] or "", c["n"], c["won"], c["value"]) for k, c in channels.items()),
        sorted((k or "", c["n"], c["won"], c["value"]) for k, c in landings.items()),
        sorted(pages.items()),
    )


def got(rows: list[dict]) -> tuple[list, list, list]:
    by_channel, by_landing, pages = totals.enquiry_groups(rows)
    return (
        sorted((r["channel"] or "", r["source"] or "", r["n"], r["won"], float(r["value"] or 0)) for r in by_channel),
        sorted((r["page_path"] or "", r["n"], r["won"], float(r["value"] or 0)) for r in by_landing),
        sorted((r["page_path"], r["enquirers"]) for r in pages),
    )


def test_the_groups_add_up_each_journeys_facts_whatever_the_ids(database_url):
    # (created, first page with its referrer, later pages, status, value); ids in this order, so
    # the second and fourth (outside the range) get ids between those of the range's journeys.
    plan = [
        (NOW - timedelta(days=2), ("/prices", GOOGLE), ["/about", "/book"], "won", 120.0),
        (NOW - timedelta(days=45), ("/old", GOOGLE), ["/gallery"], "won", 999.0),
        (NOW - timedelta(days=29), ("/?utm_source=newsletter&utm_medium=email", None), ["/prices"], None, None),
        (NOW - timedelta(days=31), ("/prices", None), ["/book"], "lost", None),
        (NOW - timedelta(hours=5), ("/gallery", "https://news.example/"), ["/prices", "/book"], "won", 80.5),
        (NOW - timedelta(hours=3), ("/prices", GOOGLE), ["/book"], "spam", None),
        (NOW - timedelta(days=10), ("/about", None), [], None, None),
    ]

    async def work(store):
        journeys = []
        for i, (at, (landing, referrer), later, status, value) in enumerate(plan):
            params = {"referrer": referrer} if referrer else {}
            events = [ev("page_view", landing, at - timedelta(minutes=20), **params)]
            events += [ev("page_view", p, at - timedelta(minutes=19 - k)) for k, p in enumerate(later)]
            journey_id = await enquire(store, f"g{i}@example.com", events, at)
            if status is not None:
                await set_status(store, journey_id, status, value)
            facts = totals.journey_facts(events, [], at)
            journeys.append({"id": journey_id, "at": at, "status": status, "value": value or 0, "facts": facts})
        assert await totals.refresh_all_facts(store) == len(plan)
        rows = {}
        for first in (True, False):
            rows[first] = await store.fetch("conv_enquiry_groups", since=SINCE, until=UNTIL, first=first)
        return journeys, rows

    journeys, rows = run_store(database_url, work)
    ids = [j["id"] for j in journeys]
    assert ids == sorted(ids)
    for first in (True, False):
        want = expected(journeys, first)
        assert got(rows[first]) == want
        assert want[0] and want[1] and want[2]
    # The range's won value: the first and fifth journeys (the 45-day-old one is out).
    assert sum(r[4] for r in got(rows[False])[0]) == 200.5
