"""TIMEZONE in the dashboard, on SQLite and PostgreSQL: times shown in the owner's zone with the
offset of their own date, and the list's date filter and the insights' days running from local
midnight to local midnight. Downloads stay UTC."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import orjson
from support import app_client, run_store
from test_dashboard_helpers import listed_ids, login, save, simple_journey

LONDON = "Europe/London"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def seed(database_url: str, times: dict[str, datetime]) -> dict[str, int]:
    async def work(store):
        return {name: await save(store, simple_journey(f"{name}@example.com", at), at) for name, at in times.items()}

    return run_store(database_url, work)


def per_day_totals(html: str) -> dict[str, int]:
    """The insights table "Show as a table": {period label: total enquiries}."""
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S)
    return {label: int(re.findall(r'<td class="num">(\d+)</td>', cells)[-1]) for label, cells in rows}


def test_a_summer_evening_in_utc_is_the_next_local_day_in_the_list_and_insights(owner_db):
    """23:30 UTC on 1 July is 00:30 BST on 2 July: listed, filtered and counted on 2 July in London,
    on 1 July with the default UTC. London's midnight in summer is 23:00 UTC, to the second."""
    ids = seed(
        owner_db,
        {"late": utc(2026, 7, 1, 23, 30), "before": utc(2026, 7, 1, 22, 59, 59), "midnight": utc(2026, 7, 1, 23, 0, 0)},
    )
    july_1 = {"from": "2026-07-01", "to": "2026-07-01"}
    july_2 = {"from": "2026-07-02", "to": "2026-07-02"}
    week = {"from": "2026-06-29", "to": "2026-07-05"}
    with app_client(owner_db, timezone=LONDON) as client:
        login(client)
        listing = client.get("/cp/", params=july_2).text
        assert listed_ids(listing) == [ids["late"], ids["midnight"]]
        assert listed_ids(client.get("/cp/", params=july_1).text) == [ids["before"]]
        late_row = re.search(rf'<tr data-href="/cp/journeys/{ids["late"]}">(.*?)</tr>', listing, re.S).group(1)
        assert 'data-label="When (Europe/London)"' in late_row and "2 Jul 2026, 00:30 BST" in late_row
        assert "When (Europe/London)</th>" in listing and 'From <span class="muted">(Europe/London)' in listing
        days = per_day_totals(client.get("/cp/insights", params=week).text)
        csv_rows = list(csv.DictReader(io.StringIO(client.get("/cp/export.csv", params=july_2).text)))
    assert days["Wed 1 Jul 2026"] == 1 and days["Thu 2 Jul 2026"] == 2 and sum(days.values()) == 3
    # The CSV keeps UTC in submitted_at and adds the local time with its offset.
    assert [(r["submitted_at"], r["submitted_at_local"]) for r in csv_rows] == [
        ("2026-07-01T23:30:00+00:00", "2026-07-02T00:30:00+01:00"),
        ("2026-07-01T23:00:00+00:00", "2026-07-02T00:00:00+01:00"),
    ]
    with app_client(owner_db) as client:
        login(client)
        assert listed_ids(client.get("/cp/", params=july_1).text) == [ids["late"], ids["midnight"], ids["before"]]
        assert listed_ids(client.get("/cp/", params=july_2).text) == []
        days = per_day_totals(client.get("/cp/insights", params=week).text)
    assert days["Wed 1 Jul 2026"] == 3 and days["Thu 2 Jul 2026"] == 0


def test_insights_days_follow_the_clock_change(owner_db):
    """The clocks go back at 01:00 UTC on 25 October 2026: 23:30 UTC on the 24th is 00:30 BST on the
    25th and 23:30 UTC on the 25th is 23:30 GMT the same day, so the 25th (a 25-hour day) holds both."""
    seed(
        owner_db, {"bst": utc(2026, 10, 24, 23, 30), "gmt": utc(2026, 10, 25, 23, 30), "next": utc(2026, 10, 26, 0, 30)}
    )
    with app_client(owner_db, timezone=LONDON) as client:
        login(client)
        html = client.get("/cp/insights", params={"from": "2026-10-23", "to": "2026-10-27"}).text
        listing = client.get("/cp/", params={"from": "2026-10-25", "to": "2026-10-25"}).text
    days = per_day_totals(html)
    assert (days["Sat 24 Oct 2026"], days["Sun 25 Oct 2026"], days["Mon 26 Oct 2026"]) == (0, 2, 1)
    assert "bst@example.com" in listing and "gmt@example.com" in listing and "next@example.com" not in listing


def test_journey_times_carry_the_offset_of_their_own_date(owner_db):
    """Noon UTC is 12:00 GMT in January and 13:00 BST in July, on the journey page (summary, tables,
    the picture); with the default zone it stays 12:00 UTC; the JSON download stays UTC."""
    ids = seed(owner_db, {"winter": utc(2026, 1, 15, 12), "summer": utc(2026, 7, 15, 12)})
    with app_client(owner_db, timezone=LONDON) as client:
        login(client)
        winter = client.get(f"/cp/journeys/{ids['winter']}").text
        summer = client.get(f"/cp/journeys/{ids['summer']}").text
        document = orjson.loads(client.get(f"/cp/journeys/{ids['summer']}.json").content)
    assert "Enquired 15 Jan 2026, 12:00 GMT" in winter and "Enquired 15 Jul 2026, 13:00 BST" in summer
    # The first page view, 3 minutes before: in the summary card, the visits table, the events table.
    assert "(11:57 GMT)" in winter and "(12:57 BST)" in summer
    assert "15 Jul 2026, 12:57 BST</td>" in summer and "Started (Europe/London)" in summer
    assert "Time (Europe/London)" in summer and '<span>12:57<span class="muted">:00</span>' in summer
    picture = re.search(r'<svg[^>]*class="chart journey-picture".*?</svg>', summer, re.S).group(0)
    assert ">12:57</text>" in picture and ">13:00</text>" in picture and ">12:00</text>" not in picture
    assert "UTC" not in summer
    assert document["created_at"].startswith("2026-07-15T12:00:00") and document["created_at"].endswith("+00:00")
    assert document["timeline"][0]["at"].startswith("2026-07-15T11:57:00")
    with app_client(owner_db) as client:
        login(client)
        default = client.get(f"/cp/journeys/{ids['summer']}").text
    assert "Enquired 15 Jul 2026, 12:00 UTC" in default and "(11:57 UTC)" in default
    assert "Started (UTC)" in default
