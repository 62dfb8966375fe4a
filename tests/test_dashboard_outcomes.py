"""The lead desk in the dashboard: status and value set in one click from the list and the journey
page (CSRF-protected, bad values refused with nothing changed), the spam list with its count, and
"Not spam" moving a journey back; the list, the journey page and the API read the same row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import app_client, run_store
from test_dashboard_helpers import csrf_from, listed_ids, login, save, simple_journey

from leadtrail import outcomes

NOW = datetime.now(UTC)


def seed(database_url: str) -> tuple[int, int]:
    async def work(store):
        lead = await save(store, simple_journey("lead@example.com", NOW - timedelta(hours=2)), NOW - timedelta(hours=2))
        junk = await save(store, simple_journey("junk@example.com", NOW - timedelta(hours=1)), NOW - timedelta(hours=1))
        async with store.transaction() as tx:
            await outcomes.set_outcome(tx, junk, outcomes.Outcome("spam", None), "USD")
        return lead, junk

    return run_store(database_url, work)


def outcome_of(database_url: str, journey_id: int) -> dict:
    async def work(store):
        return outcomes.outcome_out((await store.fetch("journey_outcome", id=journey_id))[0])

    return run_store(database_url, work)


def test_the_list_leaves_spam_out_and_the_spam_list_has_it(owner_db):
    """The enquiries list shows the lead only; the Spam (1) list shows the spam journey with its score."""
    lead, junk = seed(owner_db)
    with app_client(owner_db) as client:
        login(client)
        main = client.get("/cp/")
        assert listed_ids(main.text) == [lead] and "Spam (1)" in main.text
        spam = client.get("/cp/?list=spam")
        assert listed_ids(spam.text) == [junk] and "Not spam" in spam.text


def test_one_click_on_the_list_marks_an_enquiry_won_with_its_value(owner_db):
    """The list's Won button with a typed value stores won and the value in CURRENCY, and returns to the list."""
    lead, _ = seed(owner_db)
    with app_client(owner_db, currency="GBP") as client:
        login(client)
        page = client.get("/cp/?q=lead")
        r = client.post(
            f"/cp/journeys/{lead}/outcome",
            data={"csrf_token": csrf_from(page.text), "status": "won", "value": "1,250.00", "back": "/cp/?q=lead"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/cp/?q=lead"
        assert outcome_of(owner_db, lead) == {"id": lead, "status": "won", "value": 1250.0, "currency": "GBP"}
        shown = client.get(f"/cp/journeys/{lead}")
        assert "Won, worth GBP 1,250.00" in shown.text


def test_outcome_changes_need_the_csrf_token_and_a_valid_value(owner_db):
    """Without the CSRF token: 403; a negative or non-numeric value or an unknown status: 400; nothing changes."""
    lead, _ = seed(owner_db)
    with app_client(owner_db) as client:
        login(client)
        token = csrf_from(client.get("/cp/").text)
        assert client.post(f"/cp/journeys/{lead}/outcome", data={"status": "won"}).status_code == 403
        for data in ({"status": "won", "value": "-5"}, {"status": "won", "value": "lots"}, {"status": "sold"}):
            r = client.post(f"/cp/journeys/{lead}/outcome", data={"csrf_token": token, **data})
            assert r.status_code == 400 and "Nothing was changed" in r.text
            assert ("1,250.50 or 1.250,50" in r.text) == ("value" in data)  # how to write it, when it was the value
        assert (
            client.post("/cp/journeys/999999/outcome", data={"csrf_token": token, "status": "won"}).status_code == 404
        )
        hostile = client.post(
            f"/cp/journeys/{lead}/outcome",
            data={"csrf_token": token, "status": "lost", "back": "//evil.example/"},
            follow_redirects=False,
        )
        assert hostile.headers["location"] == f"/cp/journeys/{lead}"
    assert outcome_of(owner_db, lead)["status"] == "lost"


def test_not_spam_moves_a_journey_back_to_the_enquiries(owner_db):
    """One click on Not spam files the journey as open: it leaves the spam list and joins the enquiries."""
    lead, junk = seed(owner_db)
    with app_client(owner_db) as client:
        login(client)
        page = client.get("/cp/?list=spam")
        client.post(f"/cp/journeys/{junk}/outcome", data={"csrf_token": csrf_from(page.text), "status": "open"})
        assert listed_ids(client.get("/cp/").text) == [junk, lead]
        assert "Spam (0)" in client.get("/cp/").text
