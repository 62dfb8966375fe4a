"""Conversion figures (conversions.py) and their read from the store (totals.load_insights)."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import make_settings, run_store

from leadtrail import conversions, insights, lifecycle, totals
from leadtrail.store import EventRow, JourneyRecord, dumps

DAYS = ["2026-06-01", "2026-06-02"]


def credit(groups: list[dict], model: str) -> tuple[list[dict], list[dict], list[dict]]:
    """What the queries give for journey groups: enquiries by channel/source and landing page of
    the model's touch, and per day."""
    touch = "first" if model == "first_touch" else "last"
    channels, landings, days = {}, {}, Counter()
    for g in groups:
        for table, key in (
            (channels, (g[f"{touch}_channel"], g[f"{touch}_source"])),
            (landings, g[f"{touch}_landing"]),
        ):
            row = table.setdefault(key, {"n": 0, "won": 0, "value": None})
            row["n"] += g["n"]
            row["won"] += g["won"]
            if g["value"] is not None:
                row["value"] = (row["value"] or 0) + float(g["value"])
        days[g["day"]] += g["n"]
    return (
        [{"channel": c, "source": s, **r} for (c, s), r in channels.items()],
        [{"page_path": p, **r} for p, r in landings.items()],
        [{"day": d, "n": n} for d, n in days.items()],
    )


def document(visits, landings, views, groups, pages, model="last_touch"):
    return conversions.insights_document(visits, landings, views, *credit(groups, model), pages, DAYS)


def group(day, first, last, n=1, won=0, value=None, first_landing="/a", last_landing="/b"):
    return {
        "day": day,
        "first_channel": first[0],
        "first_source": first[1],
        "first_landing": first_landing,
        "last_channel": last[0],
        "last_source": last[1],
        "last_landing": last_landing,
        "n": n,
        "won": won,
        "value": value,
    }


def test_a_small_example_gives_the_contract_document():
    """Visits, enquiries, rates, won and value per channel/source, landing page, page and day,
    credited to the last touch."""
    doc = document(
        [
            {"day": "2026-06-01", "channel": "Email", "source": "newsletter", "visits": 10},
            {"day": "2026-06-02", "channel": "Organic Search", "source": "google", "visits": 40},
            {"day": "2026-06-02", "channel": "Direct", "source": "", "visits": 50},
        ],
        [{"page_path": "/a", "visits": 60}, {"page_path": "/b", "visits": 40}],
        [{"page_path": "/a", "views": 80}, {"page_path": "/c", "views": 0}],
        [group("2026-06-02", ("Organic Search", "google"), ("Email", "newsletter"), n=2, won=1, value="120.5")],
        [{"page_path": "/a", "enquirers": 2}],
    )
    zero = {"enquiries": 0, "conversion_rate": 0.0, "won": 0, "value": 0.0}
    assert doc["channels"] == [
        {"channel": "Direct", "source": None, "visits": 50, **zero},
        {"channel": "Organic Search", "source": None, "visits": 40, **zero},
        {"channel": "Organic Search", "source": "google", "visits": 40, **zero},
        {
            "channel": "Email",
            "source": None,
            "visits": 10,
            "enquiries": 2,
            "conversion_rate": 0.2,
            "won": 1,
            "value": 120.5,
        },
        {
            "channel": "Email",
            "source": "newsletter",
            "visits": 10,
            "enquiries": 2,
            "conversion_rate": 0.2,
            "won": 1,
            "value": 120.5,
        },
    ]
    assert [(r["page_path"], r["visits"], r["enquiries"]) for r in doc["landing_pages"]] == [
        ("/a", 60, 0),
        ("/b", 40, 2),
    ]
    assert doc["pages"] == [
        {"page_path": "/a", "views": 80, "enquirers": 2, "assist_rate": 0.025},
        {"page_path": "/c", "views": 0, "enquirers": 0, "assist_rate": None},
    ]
    assert doc["days"] == [
        {"date": "2026-06-01", "visits": 10, "enquiries": 0},
        {"date": "2026-06-02", "visits": 90, "enquiries": 2},
    ]
    first = document([], [], [], [group("2026-06-02", ("Organic Search", "google"), ("Email", "x"))], [], "first_touch")
    assert [(r["channel"], r["source"], r["enquiries"], r["conversion_rate"]) for r in first["channels"]] == [
        ("Organic Search", None, 1, None),
        ("Organic Search", "google", 1, None),
    ]
    assert first["landing_pages"][0]["page_path"] == "/a"


def test_an_unknown_model_is_refused():
    """Only last_touch and first_touch are models."""
    with pytest.raises(ValueError):
        asyncio.run(totals.load_insights(None, date(2026, 1, 1), date(2026, 1, 2), UTC, "linear"))


CHANNELS = st.sampled_from(
    [("Email", "newsletter"), ("Direct", None), ("Organic Search", "google"), ("Paid Search", "google"), (None, None)]
)


@settings(max_examples=200, deadline=None)
@given(
    journeys=st.lists(
        st.tuples(st.sampled_from(DAYS), CHANNELS, CHANNELS, st.booleans(), st.integers(0, 1000)), max_size=30
    ),
    visits=st.lists(st.tuples(st.sampled_from(DAYS), CHANNELS, st.integers(0, 50)), max_size=20),
    model=st.sampled_from(conversions.MODELS),
)
def test_figures_add_up_for_any_journeys_and_visits(journeys, visits, model):
    """Channel rows hold every credited enquiry and visit once; each source row is part of its
    channel; days hold every enquiry; a rate is enquiries / visits, None without visits."""
    groups = [group(d, f, last, won=int(w), value=v if w else None) for d, f, last, w, v in journeys]
    visit_rows = [{"day": d, "channel": c or "Direct", "source": s or "", "visits": n} for d, (c, s), n in visits]
    doc = document(visit_rows, [], [], groups, [], model)
    touch = 0 if model == "first_touch" else 1
    credited = Counter(j[1 + touch][0] for j in journeys if j[1 + touch][0] is not None)
    channel_rows = [r for r in doc["channels"] if r["source"] is None]
    assert {r["channel"]: r["enquiries"] for r in channel_rows if r["enquiries"]} == dict(credited)
    assert sum(r["visits"] for r in channel_rows) == sum(n for _, _, n in visits)
    assert sum(r["won"] for r in channel_rows) == sum(1 for j in journeys if j[3] and j[1 + touch][0] is not None)
    assert sum(r["value"] for r in channel_rows) == pytest.approx(
        sum(j[4] for j in journeys if j[3] and j[1 + touch][0] is not None)
    )
    by_channel = {r["channel"]: r for r in channel_rows}
    for r in doc["channels"]:
        assert r["conversion_rate"] == (r["enquiries"] / r["visits"] if r["visits"] else None)
        if r["source"] is not None:
            assert r["visits"] <= by_channel[r["channel"]]["visits"]
            assert r["enquiries"] <= by_channel[r["channel"]]["enquiries"]
    assert sum(d["enquiries"] for d in doc["days"]) == len(journeys)
    assert sum(d["visits"] for d in doc["days"]) == sum(n for _, _, n in visits)


# -- through the store ---------------------------------------------------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)


def ev(name, path, at, **params):
    return {
        "event_name": name,
        "page_path": path,
        "params": params,
        "created_at": at.isoformat(timespec="microseconds"),
    }


async def enquire(store, email, events, at, status=None, value=None):
    record = JourneyRecord(
        email=email, anon_id=None, events=events, client_events=[], form=None, consent=None, summary={}
    )
    journey_id, _ = await store.save_journey(record, at, timedelta(0))
    if status is not None:
        await set_status(store, journey_id, status, value)
    return journey_id


async def set_status(store, journey_id, status, value):
    """Straight SQL on the store's own connection (the lead desk's query is not this module's)."""
    if store.dialect == "sqlite":
        async with store._write_lock:
            await store._on_writer(
                store._writer.execute,
                "update submission_journeys set status = ?, value = ? where id = ?",
                (status, value, journey_id),
            )
    else:
        conn = await __import__("asyncpg").connect(store.dsn)
        try:
            await conn.execute(
                "update submission_journeys set status = $1, value = $2 where id = $3", status, value, journey_id
            )
        finally:
            await conn.close()


def test_insights_from_the_store_credit_the_chosen_touch_and_leave_spam_out(database_url):
    """Buffered visits rolled into totals and three enquiries (one won, one spam): the document
    credits first or last touch, counts assists, and spam counts nowhere."""
    day = NOW - timedelta(hours=3)
    google = ev("page_view", "/prices", day, referrer="https://www.google.com/")
    later = day + timedelta(hours=1)
    newsletter = ev("page_view", "/?utm_source=newsletter&utm_medium=email", later)
    contact = ev("page_view", "/contact", later + timedelta(minutes=1))
    buffer = [
        EventRow(f"v{i}", e["event_name"], e["page_path"], dumps(e["params"]), datetime.fromisoformat(e["created_at"]))
        for i in range(3)
        for e in (google, newsletter, contact)
    ]
    local = NOW.date()

    async def work(store):
        await store.add_events(buffer)
        await totals.roll_up(store, UTC)
        await enquire(store, "won@example.com", [google, newsletter, contact], later + timedelta(minutes=2), "won", 250)
        await enquire(store, "open@example.com", [google, newsletter, contact], later + timedelta(minutes=3))
        await enquire(store, "spam@example.com", [newsletter, contact], later + timedelta(minutes=4), "spam")
        first = local - timedelta(days=1)
        return (
            await totals.load_insights(store, first, local, UTC, "last_touch"),
            await totals.load_insights(store, first, local, UTC, "first_touch"),
        )

    last_doc, first_doc = run_store(database_url, work)
    row = {(r["channel"], r["source"]): r for r in last_doc["channels"]}
    assert row[("Email", None)] == {
        "channel": "Email",
        "source": None,
        "visits": 3,
        "enquiries": 2,
        "conversion_rate": 2 / 3,
        "won": 1,
        "value": 250.0,
    }
    assert row[("Email", "newsletter")]["enquiries"] == 2
    assert row[("Organic Search", None)]["enquiries"] == 0 and row[("Organic Search", None)]["visits"] == 3
    first_row = {(r["channel"], r["source"]): r for r in first_doc["channels"]}
    assert first_row[("Organic Search", "google")]["enquiries"] == 2 and first_row[("Email", None)]["enquiries"] == 0
    pages = {r["page_path"]: r for r in last_doc["pages"]}
    assert pages["/contact"] == {"page_path": "/contact", "views": 3, "enquirers": 2, "assist_rate": 2 / 3}
    landing = {r["page_path"]: r for r in first_doc["landing_pages"]}
    assert landing["/prices"]["enquiries"] == 2 and landing["/prices"]["visits"] == 3
    assert sum(d["enquiries"] for d in last_doc["days"]) == 2
    assert sum(d["visits"] for d in last_doc["days"]) == 6


def test_after_the_buffer_expires_insights_still_give_visits_and_conversion_rates(database_url):
    """40 silent visitors and one who enquires, all two days ago; after their buffer expired and
    was pruned, the insights still give 41 visits and the conversion rate 1/41."""
    at = NOW - timedelta(days=2)
    rng = random.Random(3)
    rows = [
        EventRow(
            f"silent-{rng.getrandbits(40):010x}",
            "page_view",
            "/prices",
            dumps({"referrer": "https://www.bing.com/"}),
            at + timedelta(minutes=i),
        )
        for i in range(41)
    ]
    settings_ = make_settings(database_url)

    async def work(store):
        await store.add_events(rows)
        enquirer = rows[-1]
        event = ev("page_view", "/prices", enquirer.created_at, referrer="https://www.bing.com/")
        await enquire(store, "one@example.com", [event], enquirer.created_at + timedelta(minutes=1))
        await lifecycle.prune(store, settings_)
        assert await store.count("events") == 0
        d = at.date()
        return await totals.load_insights(store, d - timedelta(days=1), d + timedelta(days=1), UTC)

    doc = run_store(database_url, work)
    organic = next(r for r in doc["channels"] if r["channel"] == "Organic Search" and r["source"] is None)
    assert (organic["visits"], organic["enquiries"], organic["conversion_rate"]) == (41, 1, 1 / 41)


def test_facts_follow_a_journey_and_go_with_it(database_url):
    """A journey gets its facts on the next read, and erasing it deletes them."""

    async def work(store):
        at = NOW - timedelta(hours=1)
        await enquire(store, "gone@example.com", [ev("page_view", "/x", at)], at)
        assert await totals.refresh_facts(store) == 1
        assert await totals.refresh_facts(store) == 0
        await store.erase_email("gone@example.com")
        return await store.fetchval("facts_stale", limit=10), await store.fetch(
            "conv_enquiry_groups", since=at - timedelta(days=1), until=NOW + timedelta(days=1), first=False
        )

    stale, pages = run_store(database_url, work)
    assert stale is None and pages == []


# -- the dashboard's Insights page ---------------------------------------------------------------------


def test_insights_page_shows_conversion_tables_and_switches_the_model(owner_db):
    """The Insights page shows visits, enquiries and conversion per channel and source, landing
    page and page, and a per-day chart; ?model=first_touch credits the first touch; spam is out."""
    from support import app_client
    from test_dashboard_helpers import login

    at = NOW - timedelta(hours=3)
    google = ev("page_view", "/prices", at, referrer="https://www.google.com/")
    newsletter = ev("page_view", "/?utm_source=newsletter&utm_medium=email", at + timedelta(hours=1))
    buffer = [
        EventRow(f"p{i}", e["event_name"], e["page_path"], dumps(e["params"]), datetime.fromisoformat(e["created_at"]))
        for i in range(4)
        for e in (google, newsletter)
    ]

    async def work(store):
        await store.add_events(buffer)
        await totals.roll_up(store, UTC)
        await enquire(store, "a@example.com", [google, newsletter], at + timedelta(hours=1, minutes=5), "won", 90)
        await enquire(store, "spam@example.com", [google, newsletter], at + timedelta(hours=1, minutes=6), "spam")

    run_store(owner_db, work)
    with app_client(owner_db) as client:
        assert login(client).status_code == 303
        last = client.get("/cp/insights")
        first = client.get("/cp/insights", params={"model": "first_touch"})
        odd = client.get("/cp/insights", params={"model": "linear"})
    assert last.status_code == first.status_code == odd.status_code == 200
    for page in (last.text, first.text):
        assert 'id="chart-conversions"' in page and 'id="conversion-pages"' in page

    def channel_row(html: str, name: str) -> str:
        table = html.split('id="conversion-channels"', 1)[1].split("</table>", 1)[0]
        return next(row for row in table.split("<tr")[1:] if name in row and "source-row" not in row)

    email_last, organic_first = channel_row(last.text, "Email"), channel_row(first.text, "Organic Search")
    assert ">4<" in email_last and ">1<" in email_last and "25.0%" in email_last  # 4 visits, 1 enquiry
    assert "25.0%" in organic_first and "25.0%" not in channel_row(first.text, "Email")
    assert 'aria-current="true">First touch' in first.text and 'aria-current="true">Last touch' in odd.text


def test_a_rate_above_one_reads_as_over_100_percent_with_the_reason():
    """With first-touch credit (or visits before the totals began) a row can have more enquiries
    than visits; the page says "over 100%" with the reason instead of "300.0%"; the API keeps the
    plain quotient the contract defines."""
    from leadtrail.templating import templates

    macro = templates.env.get_template("cp/_macros.html").module.rate  # type: ignore[attr-defined]
    assert str(macro(0.25)) == "25.0%" and str(macro(1.0)) == "100.0%" and str(macro(None)) == "–"
    over = str(macro(3.0))
    assert "over 100%" in over and "300" not in over and "earlier" in over
    document = conversions.insights_document(
        [{"day": "2026-12-01", "channel": "Email", "source": "", "visits": 1}],
        [],
        [],
        [{"channel": "Email", "source": "", "n": 3, "won": 0, "value": None}],
        [],
        [],
        [],
        ["2026-12-01"],
    )
    assert document["channels"][0]["conversion_rate"] == 3.0


def test_insights_page_offers_owners_the_ad_platform_files_of_its_range(owner_db):
    """The Insights page links both ad-platform files from the range's first day; the links work."""
    from support import app_client
    from test_dashboard_helpers import login

    with app_client(owner_db) as client:
        assert login(client).status_code == 303
        page = client.get("/cp/insights", params={"from": "2026-11-01", "to": "2026-11-30"})
        assert page.status_code == 200
        links = re.findall(r'href="(/cp/export/[^"]+)"', page.text)
        assert links == ["/cp/export/google-ads.csv?since=2026-11-01", "/cp/export/meta.csv?since=2026-11-01"]
        for link in links:
            answer = client.get(link)
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")


def test_the_insights_page_draws_at_most_ten_years_and_says_so(owner_db):
    """A 27-year range (the widest days the filters read) starts ten years before its end, with a
    word on the page; a range within ten years is drawn as asked."""
    from support import app_client
    from test_dashboard_helpers import login

    with app_client(owner_db) as client:
        assert login(client).status_code == 303
        wide = client.get("/cp/insights", params={"from": "2000-01-01", "to": "2026-01-31"})
        fits = client.get("/cp/insights", params={"from": "2017-01-01", "to": "2026-01-31"})
    assert wide.status_code == fits.status_code == 200
    start = date(2026, 1, 31) - timedelta(days=insights.MAX_DAYS - 1)
    assert f"this one starts on {start.isoformat()}" in wide.text
    assert f'id="from" name="from" type="date" value="{start.isoformat()}"' in wide.text
    assert "at most" not in fits.text and 'value="2017-01-01"' in fits.text
    assert len(wide.text) < 2 * len(fits.text)
