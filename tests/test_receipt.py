"""The enquirer's receipt: every promote answers with a signed receipt_url under /api/track/; the
page lists the visits and pages attached to that enquiry under the dashboard's CSP; one button
removes the browsing history and keeps the enquiry; unknown, tampered and erased receipts are
404; the thank-you page's /api/track/receipt/latest link finds this browser's newest enquiry."""

from __future__ import annotations

import re

from support import anon_id_of, app_client, buffered_events, page_view, run_store

from leadtrail import receipts

NEWSLETTER = {"ts": 1764000000000, "page_path": "/?utm_source=newsletter&utm_medium=email", "pages": 2}


def _enquire(client, email: str = "jo@example.com") -> dict:
    client.post("/api/track", json=page_view("/prices", "a"))
    r = client.post("/api/track/promote", json={"email": email, "form": "booking", "touches": [NEWSLETTER]})
    assert r.status_code == 201
    return r.json()


def test_the_receipt_shows_what_was_attached_and_nothing_else(database_url):
    """The receipt lists the pages and each visit's channel, remembered ones included; no address, no JavaScript."""
    with app_client(database_url) as client:
        answer = _enquire(client)
        url = answer["receipt_url"]
        assert re.fullmatch(r"/api/track/receipt/\d+\.[0-9a-f]{32}", url)
        page = client.get(url)
    assert page.status_code == 200 and "/prices" in page.text and "Email" in page.text
    assert "Remembered by your own browser" in page.text
    assert "jo@example.com" not in page.text and "<script" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<link rel="stylesheet" href="/api/track/receipt.css">' in page.text


def test_the_receipts_stylesheet_is_served_beside_it(database_url):
    """The receipt's CSS is under /api/track/ too, so a site proxy that forwards only /api/track*
    shows the receipt styled."""
    with app_client(database_url) as client:
        css = client.get("/api/track/receipt.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".remove button" in css.text


def test_tampered_unknown_and_erased_receipts_are_404(database_url):
    """A changed id or signature, an unknown journey and an erased one all answer 404."""
    with app_client(database_url) as client:
        url = _enquire(client)["receipt_url"]
        journey_id, sig = url.rsplit("/", 1)[1].split(".")
        flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        for bad in (
            f"/api/track/receipt/{journey_id}.{flipped}",
            f"/api/track/receipt/{int(journey_id) + 1}.{sig}",
            "/api/track/receipt/99999.0123456789abcdef0123456789abcdef",
            "/api/track/receipt/nonsense",
        ):
            assert client.get(bad).status_code == 404, bad
        run_store(database_url, lambda store: store.erase_email("jo@example.com"))
        assert client.get(url).status_code == 404


def test_removing_the_history_keeps_the_enquiry(database_url):
    """The button deletes events, browser events and remembered visits, and the browser's buffered
    events; address, form and time stay; the same browser promoting again attaches nothing; a post
    without the page's token or from another site changes nothing."""
    with app_client(database_url) as client:
        answer = _enquire(client)
        url = answer["receipt_url"]
        page = client.get(url)
        token = re.search(r'name="token" value="([0-9a-f]+)"', page.text).group(1)
        assert client.post(url, data={"token": "0" * 32}).status_code == 403
        assert client.post(url, data={"token": token}, headers={"Origin": "https://evil.example"}).status_code == 403
        done = client.post(url, data={"token": token}, follow_redirects=False)
        assert done.status_code == 303
        after = client.get(done.headers["location"])
        visitor = anon_id_of(client)
        assert buffered_events(database_url, visitor) == []  # the browser's buffered events went too
        # The same browser sends the form again (a double submit, a late look): nothing comes back.
        client.post("/api/track", json=page_view("/again", "b"))
        again = client.post("/api/track/promote", json={"email": "jo@example.com", "touches": [NEWSLETTER]})
        assert again.status_code == 200 and again.json()["journey_id"] == answer["journey_id"]
    assert "Your browsing history was removed" in after.text and "/prices" not in after.text
    assert "for up to 90 days" in after.text  # what the browser itself may still remember

    async def row(store):
        rows = await store.fetch("receipt_journey", id=answer["journey_id"])
        return store.journey_out(rows[0])

    stored = run_store(database_url, row)
    assert stored["events"] == [] and stored["client_events"] == [] and stored["touches"] == []
    assert stored["email"] == "jo@example.com" and stored["form"] == "booking" and stored["history_removed_at"]


def test_the_thank_you_link_finds_this_browsers_newest_enquiry(database_url):
    """/api/track/receipt/latest redirects to the receipt of this browser's enquiry; another browser
    gets a 404 that says the enquiry may still be on its way, with a link to try again."""
    with app_client(database_url) as client:
        answer = _enquire(client)
        r = client.get("/api/track/receipt/latest", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == answer["receipt_url"]
        client.cookies.clear()
        missing = client.get("/api/track/receipt/latest")
    assert missing.status_code == 404 and "may still be on its way" in missing.text
    assert 'href="/api/track/receipt/latest"' in missing.text  # try again, without JavaScript


def test_the_dashboard_says_the_enquirer_removed_their_history(owner_db):
    """After a removal the journey page says so, with when."""
    from test_dashboard_helpers import login

    with app_client(owner_db) as client:
        answer = _enquire(client, "gone@example.com")
        url = answer["receipt_url"]
        token = re.search(r'name="token" value="([0-9a-f]+)"', client.get(url).text).group(1)
        client.post(url, data={"token": token})
        login(client)
        page = client.get(f"/cp/journeys/{answer['journey_id']}")
    assert "removed their browsing history" in page.text


def test_the_tracker_can_ask_for_the_receipt_of_its_enquiry(database_url):
    """POST /api/track/receipt answers this browser's receipt_url (null without an enquiry); a
    foreign origin is refused."""
    with app_client(database_url) as client:
        assert client.post("/api/track/receipt", content="").json() == {"receipt_url": None}
        answer = _enquire(client)
        assert client.post("/api/track/receipt", content="").json() == {"receipt_url": answer["receipt_url"]}
        assert client.post("/api/track/receipt", headers={"Origin": "https://evil.example"}).status_code == 403


def test_the_receipt_says_how_long_each_page_was_read_and_what_was_done_on_it():
    """Each page with its time, its reading time (from a second up) and the other events on it in
    the dashboard's words, once each; a visit's channel note for Direct."""
    journey = {
        "visits": [{"index": 0, "started_at": "2026-12-05T10:00:00+00:00", "channel": "Direct", "page_views": 2}],
        "timeline": [
            {"event_name": "page_view", "page_path": "/prices?x=1", "visit": 0, "at": "t1", "time_on_page_ms": 65_000},
            {"event_name": "page_engagement", "page_path": "/prices", "visit": 0},
            {"event_name": "file_download", "page_path": "/prices", "visit": 0},
            {"event_name": "file_download", "page_path": "/prices", "visit": 0},
            {"event_name": "faq_open", "page_path": "/prices", "visit": 0},
            {"event_name": "page_view", "page_path": "/book", "visit": 0, "at": "t2", "time_on_page_ms": 400},
        ],
    }
    [visit] = receipts.view(journey)["visits"]
    assert visit["channel_note"] and "typed" in visit["channel_note"]
    prices, book = visit["pages"]
    assert (prices["path"], prices["read"], prices["did"]) == (
        "/prices",
        "1 min 5 s",
        ["Downloaded a file", "Faq open"],
    )
    assert (book["path"], book["read"], book["did"]) == ("/book", None, [])
