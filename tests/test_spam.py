"""Spam scoring: a filled honeypot alone is spam; an enquirer who read a few pages over a few minutes
without one never is, whatever else; a scripted promote with no page seen is; and the promote files
a new journey as spam at SPAM_THRESHOLD (no webhook) while a human-like one stays open."""

from __future__ import annotations

import time

import orjson
from hypothesis import given
from hypothesis import strategies as st
from support import app_client, page_view, run_store

from leadtrail import spam

THRESHOLD = 70
browser = st.booleans()
counts = st.integers(0, 50)


@given(
    page_views=st.integers(0, 100),
    to_enquiry=st.none() | st.integers(0, 10**9),
    form_page=st.none() | st.integers(0, 10**9),
    browser=browser,
    same_email=counts,
    same_visitor=counts,
    same_client=counts,
)
def test_a_filled_honeypot_alone_is_spam(
    page_views, to_enquiry, form_page, browser, same_email, same_visitor, same_client
):
    """Whatever the journey looks like, a filled honeypot reaches the default threshold."""
    evidence = spam.Evidence(page_views, to_enquiry, form_page, True, browser, same_email, same_visitor, same_client)
    score, reasons = spam.score(evidence)
    assert score >= THRESHOLD and any("honeypot" in r for r in reasons)


@given(
    page_views=st.integers(2, 100),
    to_enquiry=st.integers(120_000, 10**9),
    form_page=st.none() | st.integers(0, 10**9),
    browser=browser,
    same_email=counts,
    same_visitor=counts,
    same_client=counts,
)
def test_an_enquirer_who_read_a_few_pages_over_minutes_is_never_spam(
    page_views, to_enquiry, form_page, browser, same_email, same_visitor, same_client
):
    """A few pages over two minutes or more, no honeypot: below the default threshold, always."""
    evidence = spam.Evidence(page_views, to_enquiry, form_page, False, browser, same_email, same_visitor, same_client)
    score, _ = spam.score(evidence)
    assert 0 <= score < THRESHOLD


def test_each_sign_says_why():
    """No page seen, a program instead of a browser, an instant submit and repeats each give a reason."""
    bot = spam.Evidence(0, None, None, False, False)
    score, reasons = spam.score(bot)
    assert score >= THRESHOLD and len(reasons) == 2
    score, reasons = spam.score(spam.Evidence(1, 800, 500, False, True))
    assert score >= THRESHOLD and "0.8 s" in reasons[0] and "faster than anyone types" in reasons[0]
    score, reasons = spam.score(spam.Evidence(1, 2400, 1500, False, True))
    assert 0 < score < THRESHOLD and "2.4 s" in reasons[0] and "1.5 s" in reasons[1]
    score, reasons = spam.score(spam.Evidence(1, 2400, 1500, False, True, same_email=3))
    assert score >= THRESHOLD and "4 enquiries from this address" in reasons[-1]
    assert spam.score(spam.Evidence(4, 300_000, 60_000, False, True)) == (0, [])


def test_page_evidence_reads_both_capture_paths_and_remembered_visits():
    """Page views and times come from server events, client events and remembered visits."""
    server = [{"event_name": "page_view", "created_at": "2026-12-05T10:00:00.000000+00:00"}]
    client = [{"event_name": "page_view", "ts": 1764929100000}]  # 10:05:00 UTC
    touches = [{"ts": 1764842400000, "pages": 3}]  # a day earlier
    submitted = 1764929160000  # 10:06:00
    views, first, last = spam.page_evidence(server, client, touches, submitted)
    assert views == 5 and first == submitted - 1764842400000 and last == 60_000


def test_client_bursts_count_within_the_hour_and_forget_after():
    """The same address counts up inside the window and starts again after it; only an HMAC is kept."""
    bursts = spam.ClientBursts(b"k" * 32)
    assert [bursts.count("203.0.113.9", now=t) for t in (0, 10, 20)] == [1, 2, 3]
    assert bursts.count("203.0.113.9", now=4000) == 1
    assert all("203.0.113.9" not in key for key in bursts.seen)


def _journey(database_url, journey_id):
    async def work(store):
        rows = await store.fetch("api_journey_get", id=journey_id)
        return store.journey_out(rows[0])

    return run_store(database_url, work)


def test_a_honeypot_promote_is_filed_as_spam_and_an_ordinary_one_is_not(database_url):
    """The promote stores the score and reasons; a filled honeypot files the journey as spam."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        opened = {**page_view("/", "a"), "ts": int(time.time() * 1000) - 90_000}  # the page opened 90 s ago
        human = client.post("/api/track/promote", json={"email": "jo@example.com", "client_events": [opened]})
        human = human.json()["journey_id"]
        client.cookies.clear()
        client.post("/api/track", json=page_view("/", "b"))
        bot = client.post("/api/track/promote", json={"email": "bot@example.com", "honeypot": True}).json()[
            "journey_id"
        ]
    assert _journey(database_url, human)["status"] == "open"
    stored = _journey(database_url, bot)
    assert stored["status"] == "spam" and stored["spam_score"] == 100
    assert any("honeypot" in r for r in orjson.loads(orjson.dumps(stored["spam_reasons"])))


def test_a_server_side_promote_with_no_page_seen_is_spam(database_url):
    """A program's promote (python-httpx user agent, no cookie, no events) is filed as spam."""
    with app_client(database_url) as client:
        r = client.post(
            "/api/track/promote", json={"email": "x@example.com"}, headers={"User-Agent": "python-httpx/0.28"}
        )
    assert r.status_code == 201
    assert _journey(database_url, r.json()["journey_id"])["status"] == "spam"


def test_a_browser_is_told_by_its_cookie_its_tracker_or_its_headers():
    """A signed cookie means a browser (even through a form's server); without one, a bot's user agent
    or no trace of the tracker and no browser headers means a program."""
    assert spam.from_browser(True, False, True, False, False)  # the site's server, cookie forwarded
    assert not spam.from_browser(True, True, False, True, True)  # a flagged user agent, no cookie
    assert not spam.from_browser(False, False, False, False, False)  # a script with a browser's name
    assert spam.from_browser(False, True, False, False, False)  # a browser whose tracker was blocked
    assert spam.from_browser(False, False, False, True, False)  # a server forwarding the buffer


@given(bot_ua=st.booleans(), headers=st.booleans(), events=st.booleans(), touches=st.booleans())
def test_a_forwarded_cookie_is_always_a_browser(bot_ua, headers, events, touches):
    """The documented server-side promote (cookie forwarded, any user agent) is never called a program."""
    assert spam.from_browser(bot_ua, headers, True, events, touches)


def test_a_script_with_a_browser_user_agent_and_no_tracker_is_spam_but_a_browser_is_not(database_url):
    """A promote with a browser's user agent but no cookie, no events and no browser headers is
    filed as spam; the same with the Sec-Fetch-* headers a form's server forwards stays open."""
    from browser import CHROME_UA

    with app_client(database_url) as client:
        client.headers.pop("Sec-Fetch-Mode")  # as httpx sends it: a browser's name, nothing else
        client.headers["User-Agent"] = CHROME_UA
        scripted = client.post("/api/track/promote", json={"email": "script@example.com"})
        forwarded = client.post(
            "/api/track/promote",
            json={"email": "adblock@example.com"},
            headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-origin"},
        )
    assert scripted.status_code == forwarded.status_code == 201
    bot = _journey(database_url, scripted.json()["journey_id"])
    assert bot["status"] == "spam" and "sent by a program, not a web browser" in bot["spam_reasons"]
    human = _journey(database_url, forwarded.json()["journey_id"])
    assert human["status"] == "open" and human["spam_score"] < THRESHOLD
