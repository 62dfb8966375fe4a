"""The dashboard's pages over HTTP, on SQLite and PostgreSQL: the enquiry list (search, dates,
keyset pages, retention), the CSV export, one journey (picture, JSON, erasure), insights."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import orjson
import pytest
from support import app_client, run_store
from test_dashboard_helpers import (
    OWNER_EMAIL,
    OWNER_PASSWORD,
    csrf_from,
    hostile_journey,
    listed_ids,
    login,
    make_journey,
    save,
    seed_journeys,
    simple_journey,
)

from leadtrail import charts
from leadtrail.accounts.users import create_user
from leadtrail.export import csv_cell
from leadtrail.journeys import list_summary
from leadtrail.store import JourneyRecord, iso

NOW = datetime.now(UTC)


def link(html: str, rel: str) -> str | None:
    match = re.search(rf'href="(/cp/\?[^"]*)" rel="{rel}"', html)
    return unescape(match.group(1)) if match else None


def test_list_is_newest_first_with_keyset_pages_both_ways(owner_db):
    ids = run_store(owner_db, lambda s: seed_journeys(s, 120, now=NOW))
    newest_first = list(reversed(ids))
    with app_client(owner_db) as client:
        login(client)
        first = client.get("/cp/")
        assert first.status_code == 200
        assert listed_ids(first.text) == newest_first[:50]
        assert "120 enquiries" in first.text
        assert link(first.text, "prev") is None
        second = client.get(link(first.text, "next"))
        assert listed_ids(second.text) == newest_first[50:100]
        third = client.get(link(second.text, "next"))
        assert listed_ids(third.text) == newest_first[100:]
        assert link(third.text, "next") is None
        back = client.get(link(third.text, "prev"))
        assert listed_ids(back.text) == newest_first[50:100]
        back2 = client.get(link(back.text, "prev"))
        assert listed_ids(back2.text) == newest_first[:50]
        assert link(back2.text, "prev") is None
        # Columns the owner scans: channel, landing page, visits, pages, time to enquiry.
        row = re.search(r'<tr data-href="/cp/journeys/\d+">(.*?)</tr>', first.text, re.S).group(1)
        # Times are UTC like the filters' dates; the column says so (the owner's clock may not be UTC).
        for label in (
            "When (UTC)",
            "E-mail",
            "Form",
            "First touch",
            "Landing page",
            "Visits",
            "Pages",
            "Time to enquiry",
        ):
            assert f'data-label="{label}"' in row
        # A tampered cursor is ignored, not an error.
        assert client.get("/cp/?before=junk&after=1.x").status_code == 200


def test_search_is_case_insensitive_substring_and_escapes_wildcards(owner_db):
    async def seed(store):
        for i, email in enumerate(
            [
                "olivia.jones@gmail.com",
                "ben@olivia-photo.co.uk",
                "sam_smith@proton.me",
                "samXsmith@proton.me",
                "percent%sign@example.com",
                "zoe@example.com",
            ]
        ):
            await save(store, simple_journey(email, NOW - timedelta(hours=i)), NOW - timedelta(hours=i))

    run_store(owner_db, seed)
    with app_client(owner_db) as client:
        login(client)

        def found(q: str) -> list[str]:
            html = client.get("/cp/", params={"q": q}).text
            return re.findall(r'class="email"><a href="/cp/journeys/\d+">([^<]+)</a>', html)

        assert found("OLIVIA") == ["olivia.jones@gmail.com", "ben@olivia-photo.co.uk"]
        assert found("  Olivia.J ") == ["olivia.jones@gmail.com"]
        assert found("sam_") == ["sam_smith@proton.me"]
        assert found("%") == ["percent%sign@example.com"]
        assert found("@proton.me") == ["sam_smith@proton.me", "samXsmith@proton.me"]
        empty = client.get("/cp/", params={"q": "nobody-here"})
        assert empty.status_code == 200 and "No enquiry matches" in empty.text


def test_date_range_and_retention_bound_the_list(owner_db):
    async def seed(store):
        ids = {}
        for days in (1, 5, 10, 40):
            at = NOW - timedelta(days=days)
            ids[days] = await save(store, simple_journey(f"d{days}@example.com", at), at)
        return ids

    ids = run_store(owner_db, seed)
    day = lambda d: (NOW - timedelta(days=d)).date().isoformat()  # noqa: E731
    with app_client(owner_db) as client:
        login(client)
        assert listed_ids(client.get("/cp/", params={"from": day(6), "to": day(4)}).text) == [ids[5]]
        assert listed_ids(client.get("/cp/", params={"from": day(11)}).text) == [ids[1], ids[5], ids[10]]
        assert listed_ids(client.get("/cp/", params={"to": day(9)}).text) == [ids[10], ids[40]]
        bad = client.get("/cp/", params={"from": "yesterday"})
        assert bad.status_code == 200 and "not a date" in bad.text
    with app_client(owner_db, journey_retention=30) as client:
        login(client)
        assert ids[40] not in listed_ids(client.get("/cp/").text)
        assert client.get(f"/cp/journeys/{ids[40]}").status_code == 404
        assert client.get(f"/cp/journeys/{ids[40]}.json").status_code == 404
        assert "30 days" in client.get("/cp/").text


def test_csv_exports_what_the_filters_show_and_defuses_formulas(owner_db):
    async def seed(store):
        await save(store, simple_journey("keep@example.com", NOW - timedelta(hours=2), form='=HYPERLINK("x")'))
        await save(store, simple_journey("other@example.com", NOW - timedelta(hours=1), landing="/+1"))
        await save(store, simple_journey("-keep2@example.com", NOW - timedelta(minutes=30), form="@SUM(A1)"))

    run_store(owner_db, seed)
    with app_client(owner_db) as client:
        login(client)
        r = client.get("/cp/export.csv", params={"q": "keep"})
        everything = client.get("/cp/export.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["email"] for row in rows] == ["'-keep2@example.com", "keep@example.com"]
    assert rows[0]["form"] == "'@SUM(A1)" and rows[1]["form"] == '\'=HYPERLINK("x")'
    assert rows[1]["first_channel"] == "Organic Search" and rows[1]["landing_page"] == "/"
    assert rows[1]["visits"] == "1" and rows[1]["page_views"] == "2" and rows[1]["consent"] == "yes"
    assert int(rows[1]["time_to_enquiry_seconds"]) == 180
    assert len(list(csv.DictReader(io.StringIO(everything.text)))) == 3
    for cell in ("=1+1", "+1", "-1", "@x", "\t=1", "\r=1"):
        assert csv_cell(cell).startswith("'")
    assert csv_cell("plain") == "plain" and csv_cell(5) == 5


def test_csv_streams_every_row_across_pages(owner_db):
    run_store(owner_db, lambda s: seed_journeys(s, 1100, now=NOW, seed=3))
    with app_client(owner_db) as client:
        login(client)
        rows = list(csv.DictReader(io.StringIO(client.get("/cp/export.csv").text)))
    ids = [int(r["journey_id"]) for r in rows]
    assert len(ids) == 1100 and len(set(ids)) == 1100
    assert ids == sorted(ids, reverse=True)


def test_journey_page_shows_the_picture_summary_and_events(owner_db):
    record = simple_journey("ann@example.com", NOW)
    journey_id = run_store(owner_db, lambda s: save(s, record, NOW))
    with app_client(owner_db) as client:
        login(client)
        r = client.get(f"/cp/journeys/{journey_id}")
    assert r.status_code == 200
    html = r.text
    assert "ann@example.com" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart journey-picture"' in html
    assert "Organic Search" in html and "First touch" in html and "Time to enquiry" in html
    assert "browser only" in html  # the cta_click only the browser buffer saw
    assert "cta_click" in html and "/booking" in html
    assert "Enquiry sent" in html


def test_journey_json_download_is_the_export_document(owner_db):
    record = simple_journey("ann@example.com", NOW - timedelta(hours=3))  # events before its submission

    async def seed(store):
        first = await save(store, record, NOW - timedelta(hours=3))
        await save(store, simple_journey("ann@example.com", NOW), NOW)
        return first

    journey_id = run_store(owner_db, seed)
    with app_client(owner_db) as client:
        login(client)
        r = client.get(f"/cp/journeys/{journey_id}.json")
        person = client.get(f"/cp/journeys/{journey_id}/person.json")
        missing = client.get("/cp/journeys/987654.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["content-disposition"] == f'attachment; filename="leadtrail-journey-{journey_id}.json"'
    doc = orjson.loads(r.content)
    assert doc["id"] == journey_id and doc["email"] == "ann@example.com"
    assert {"summary", "visits", "timeline", "events", "client_events"} <= set(doc)
    assert {e["source"] for e in doc["timeline"]} == {"server", "client"}
    assert doc["visits"][0]["channel"] == "Organic Search"
    assert person.status_code == 200 and person.headers["content-disposition"].startswith("attachment")
    assert len(orjson.loads(person.content)["journeys"]) == 2
    assert missing.status_code == 404


def test_erase_confirms_then_deletes_every_journey_of_that_address(owner_db):
    async def seed(store):
        a = await save(store, simple_journey("gone@example.com", NOW - timedelta(days=1)), NOW - timedelta(days=1))
        await save(store, simple_journey("gone@example.com", NOW), NOW)
        keep = await save(store, simple_journey("stays@example.com", NOW), NOW)
        return a, keep

    gone, keep = run_store(owner_db, seed)
    with app_client(owner_db) as client:
        login(client)
        confirm = client.get(f"/cp/journeys/{gone}/erase")
        assert confirm.status_code == 200
        assert "gone@example.com" in confirm.text and "2 enquiry journeys" in confirm.text
        r = client.post(
            f"/cp/journeys/{gone}/erase", data={"csrf_token": csrf_from(confirm.text)}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == "/cp/?erased=2"
        after = client.get(r.headers["location"])
        assert "Erased 2 journeys" in after.text
        assert listed_ids(after.text) == [keep]
        assert client.get(f"/cp/journeys/{gone}").status_code == 404
    left = run_store(owner_db, lambda s: s.journeys_by_email("gone@example.com", NOW - timedelta(days=30)))
    assert left == []


def test_event_data_is_escaped_everywhere(owner_db):
    """Script and markup inside event data come out as text in the list, the journey page and its SVG."""
    journey_id = run_store(owner_db, lambda s: save(s, hostile_journey(NOW)))
    with app_client(owner_db) as client:
        login(client)
        pages = [
            client.get("/cp/").text,
            client.get(f"/cp/journeys/{journey_id}").text,
            client.get(f"/cp/journeys/{journey_id}/erase").text,
            client.get("/cp/insights").text,
        ]
    for html in pages:
        assert "<script>window" not in html
        assert "<img src=x" not in html and "<svg onload" not in html
        assert "</text></svg><svg" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in pages[1]


def test_insights_summarise_channels_pages_time_and_paths(owner_db):
    run_store(owner_db, lambda s: seed_journeys(s, 150, now=NOW, seed=11, spread=timedelta(days=20)))
    with app_client(owner_db) as client:
        login(client)
        r = client.get("/cp/insights")
        wide = client.get("/cp/insights", params={"from": (NOW - timedelta(days=400)).date().isoformat()})
        empty = client.get("/cp/insights", params={"from": "2001-01-01", "to": "2001-02-01"})
    assert r.status_code == 200
    html = r.text
    for chart_id in ("chart-channels", "chart-landing", "chart-pages", "chart-time", "chart-visits"):
        assert f'id="{chart_id}"' in html
    assert "Enquiries per day" in html and "Top landing pages" in html
    assert "Pages seen before enquiring" in html and "Most common paths" in html
    assert re.search(r'<p class="big number">150</p>', html)
    assert "From the newest 150 enquiries of this range" in html
    assert "Enquiries per week" in wide.text or "Enquiries per month" in wide.text
    assert empty.status_code == 200 and "No enquiries in this range" in empty.text


def test_insights_sample_is_bounded_and_said_so(owner_db, monkeypatch):
    from leadtrail import insights

    monkeypatch.setattr(insights, "SAMPLE", 20)
    run_store(owner_db, lambda s: seed_journeys(s, 60, now=NOW, seed=5, spread=timedelta(days=5)))
    with app_client(owner_db) as client:
        login(client)
        html = client.get("/cp/insights").text
    assert "From the newest 20 enquiries of this range (a sample" in html
    assert re.search(r'<p class="big number">60</p>', html)


def test_charts_are_pure_and_escape_their_text():
    rng = __import__("random").Random(9)
    record = make_journey(rng, NOW)
    from leadtrail.export import export_journey

    row = {
        "id": 1,
        "email": record.email,
        "anon_id": None,
        "form": "<b>x</b>",
        "consent": None,
        "created_at": iso(NOW),
        "updated_at": iso(NOW),
        "events": record.events,
        "client_events": record.client_events,
    }
    journey = export_journey(row)
    picture = str(charts.journey_picture(journey))
    compact = str(charts.journey_picture(journey, "c", compact=True))
    assert picture.startswith("<svg") and compact.startswith("<svg")
    assert "<b>" not in picture and "&lt;b&gt;" in picture
    assert str(charts.journey_picture(journey)) == picture  # deterministic
    assert charts.duration(0) == "0 s" and charts.duration(61_000) == "1 min 1 s"
    assert charts.duration(3 * 3600_000 + 60_000, short=True) == "3 h" and charts.duration(None) == "–"
    bars = str(charts.stacked_bars("s", "<t>", [("a", "b<", {"Direct": 3})], ["Direct"]))
    assert "&lt;t&gt;" in bars and "b&lt;" in bars and "ch-direct" in bars


def test_a_journey_without_any_event_still_has_a_page(owner_db):
    """A visitor whose every request was blocked (or who sent Sec-GPC) leaves an enquiry with no events."""
    record = JourneyRecord("quiet@example.com", None, [], [], "contact", None, list_summary([], [], NOW))
    journey_id = run_store(owner_db, lambda s: save(s, record, NOW))
    with app_client(owner_db) as client:
        login(client)
        page = client.get(f"/cp/journeys/{journey_id}")
        listing = client.get("/cp/")
        insights = client.get("/cp/insights")
    assert page.status_code == 200 and "No events were captured" in page.text
    assert listing.status_code == 200 and "quiet@example.com" in listing.text
    assert insights.status_code == 200


def test_database_outage_answers_503_with_the_dashboard_headers(pg_server, pg_url):
    """With PostgreSQL gone, dashboard pages answer a calm 503 page (CSP and all), not a 500."""
    run_store(pg_url, lambda store: create_user(store, OWNER_EMAIL, OWNER_PASSWORD))
    with app_client(pg_url) as client:
        login(client)
        assert client.get("/cp/").status_code == 200
        pg_server.stop("fast")
        try:
            r = client.get("/cp/")
        finally:
            pg_server.start()
    assert r.status_code == 503 and r.headers["retry-after"]
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert r.headers["cache-control"] == "no-store"
    assert "database is not answering" in r.text


@pytest.mark.parametrize("consent, pill", [(True, "Consent given"), (False, "Consent declined"), (None, None)])
def test_the_journey_page_says_what_the_visitor_answered_about_consent(owner_db, consent, pill):
    """consent=false is an answer (the form's box left unticked), not a missing record."""
    record = JourneyRecord("asked@example.com", None, [], [], "contact", consent, list_summary([], [], NOW))
    journey_id = run_store(owner_db, lambda s: save(s, record, NOW))
    with app_client(owner_db) as client:
        login(client)
        html = client.get(f"/cp/journeys/{journey_id}").text
    pills = re.findall(r'<span class="pill[^"]*"[^>]*>([^<]*)</span>', html)
    assert [p for p in pills if "onsent" in p] == ([pill] if pill else [])
    assert "No consent recorded" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/cp/?q=%00",
        "/cp/?q=jo%00e",
        "/cp/export.csv?q=%00",
        "/cp/insights?q=%00",
        "/cp/?erased=%C2%B2",
        "/cp/?erased=%D9%A3",
        "/cp/?erased=99999999999999999999999",
    ],
)
def test_hostile_query_strings_get_a_page_not_a_500(owner_db, path):
    """A NUL in the search (PostgreSQL cannot take one) or a non-ASCII digit in ?erased= is
    ignored like any other odd filter value, on both databases."""
    run_store(owner_db, lambda store: save(store, simple_journey("joe@example.com", NOW), NOW))
    with app_client(owner_db) as client:
        login(client)
        r = client.get(path)
        assert r.status_code == 200, r.text[:300]
        if "q=" in path and not path.startswith("/cp/insights"):
            assert "joe@example.com" in r.text


def test_last_touch_says_when_later_visits_were_direct(owner_db):
    """Last touch skips Direct visits (GA4's rule); an owner whose enquirer came back by typing the
    address saw "Last touch: Organic Search" at 03:00 and no word of the 06:00 visit."""
    first = simple_journey("back@example.com", NOW - timedelta(hours=3))
    later = {
        "id": 3,
        "event_name": "page_view",
        "page_path": "/",
        "params": {"title": "Home", "event_id": "p3"},
        "created_at": iso(NOW - timedelta(minutes=2)),
    }
    events = first.events + [later]
    came_back = JourneyRecord(first.email, None, events, [], "booking", True, list_summary(events, [], NOW))
    ids = [
        run_store(owner_db, lambda s, r=r: save(s, r, NOW))
        for r in (came_back, simple_journey("once@example.com", NOW))
    ]
    with app_client(owner_db) as client:
        login(client)
        pages = [unescape(client.get(f"/cp/journeys/{i}").text) for i in ids]
    assert "later visits were Direct" in pages[0]
    assert "later visits were Direct" not in pages[1]
