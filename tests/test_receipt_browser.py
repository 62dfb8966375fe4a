"""The enquirer's receipt end to end in Chromium, on SQLite and PostgreSQL: a couple who came from
the newsletter ten days ago (the browser's clock; the server never kept it) book through the demo's
form, whose own submission leaves the page while the promote is still on its way (held by the site's
proxy); the thank-you page's [data-leadtrail-receipt] becomes the receipt's link; the receipt lists
both visits; its button removes the history and keeps the enquiry; the dashboard says so and when;
tampered and erased receipts are 404. And the same receipt with JavaScript off, reached through the
thank-you page's plain link.

Screenshots (test-artifacts/screenshots/receipt-*.png) at 1280 and 390 px, before and after removal.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from browser import screenshot_path
from pgserver import free_port
from support import EPOCH, run_store
from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD
from test_tracker_browser import TrackerSite, expect_failed_requests, wait_acked

pytestmark = pytest.mark.browser

DAY = timedelta(days=1)
NEWSLETTER = "/demo/journal/autumn-barn-weddings?utm_source=newsletter&utm_medium=email&utm_campaign=autumn"
RECEIPT = re.compile(r"/api/track/receipt/\d+\.[0-9a-f]{32}")


@pytest.fixture
def site(owner_db, start_server):
    """The demo on a fresh server (either database, the dashboard's owner made) behind a
    same-origin proxy that holds every promote 3 s: the booking form's own submission reaches the
    thank-you page before the promote is answered, as it usually does on a real network."""
    port = free_port()
    env = {"LEADTRAIL_RATE_LIMIT": "0", "LEADTRAIL_ALLOWED_ORIGINS": f"http://127.0.0.1:{port}"}
    server = start_server(owner_db, "--demo", env=env)
    proxy = TrackerSite(server.port, port)
    proxy.server = server
    proxy.promote_delay = 3.0
    yield proxy
    proxy.close()


def stored_journey(database_url: str, email: str) -> dict | None:
    """The stored row of the journey of `email` (events, client events, touches as stored), or None."""

    async def work(store):
        rows = await store.journeys_by_email(email, since=EPOCH)
        return rows[0] if rows else None

    return run_store(database_url, work)


def wait_journey(database_url: str, email: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while (row := stored_journey(database_url, email)) is None:
        assert time.monotonic() < deadline, f"no journey of {email} after {timeout} s"
        time.sleep(0.2)
    return row


def shoot(page, name: str) -> None:
    """Screenshots of the whole page at 1280 and at 390 px wide (a phone); no sideways scroll."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        path = screenshot_path(f"receipt-{name}-{width}")
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} px scrolls sideways by {overflow} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def book(page, base: str, email: str) -> None:
    """The demo's booking form filled at a person's pace and sent; on the thank-you page after."""
    page.goto(base + "/demo/book")
    wait_acked(page)
    page.context.clock.fast_forward("02:00")  # reading and typing: a person's pace, not a bot's
    page.fill("#name", "Jo & Sam")
    page.fill("#email", email)
    page.fill("#message", "An autumn barn wedding, about 80 guests.")
    page.click("button[type=submit]")
    page.wait_for_url("**/demo/thanks")


def log_in(page, base: str) -> None:
    page.goto(base + "/cp/login")
    page.get_by_label("E-mail address").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")


def test_the_receipt_of_a_booking_end_to_end(site, owner_db, new_page, page_errors):
    """Newsletter ten days ago, back directly today, booked: the thank-you page links the receipt
    once the held promote is saved; the receipt shows both visits, their channels, pages and times;
    removal empties events, browser events and remembered visits and keeps e-mail, form and time;
    the dashboard says the enquirer removed it and when; tampered and erased receipts are 404."""
    email = "jo.sam@example.com"
    visitor = new_page()
    visitor.context.add_init_script("window.leadtrailTest = true")
    clock = visitor.context.clock
    clock.install(time=datetime.now(UTC) - 10 * DAY - timedelta(minutes=30))
    site.block = "drop"  # the server never keeps the old visit (its 24-hour buffer forgot it long ago)
    visitor.goto(site.url + NEWSLETTER)
    visitor.wait_for_function("JSON.parse(localStorage.getItem('leadtrail:touches') || '[]').length == 1")
    clock.fast_forward("03:00")
    visitor.goto(site.url + "/demo/services/weddings")
    site.block = None
    visitor.close()  # the tab closed; another day, a new tab: no buffer, a new cookie
    visitor.context.clear_cookies()
    visitor = visitor.context.new_page()
    expect_failed_requests(page_errors, "/api/track")

    clock.set_system_time(datetime.now(UTC) - timedelta(minutes=5))
    visitor.goto(site.url + "/demo/")
    fresh = wait_acked(visitor)  # a new tab's buffer: today's page only
    assert [e["page_path"] for e in fresh if e["event_name"] == "page_view"] == ["/demo/"]
    book(visitor, site.url, "Jo.Sam@Example.com")

    link = visitor.locator("[data-leadtrail-receipt]")
    visitor.wait_for_function(
        "/\\/api\\/track\\/receipt\\/\\d+\\.[0-9a-f]{32}$/.test("
        "document.querySelector('[data-leadtrail-receipt]').getAttribute('href'))",
        timeout=20_000,
    )
    href = link.get_attribute("href").removeprefix(site.url)
    assert RECEIPT.fullmatch(href) and link.is_visible()
    # The thank-you page asked for its receipt before the held promote was answered, and again after.
    answered = [p for method, p, _, _ in list(site.seen) if method == "POST" and p.startswith("/api/track/")]
    assert "/api/track/receipt" in answered[: answered.index("/api/track/promote")]
    stored = wait_journey(owner_db, email)
    assert href.startswith(f"/api/track/receipt/{stored['id']}.")
    assert stored["events"] and stored["client_events"]
    assert [t["page_path"] for t in stored["touches"]] == [NEWSLETTER, "/demo/"]  # the browser's memory

    link.click()
    visitor.wait_for_url(site.url + href)
    main = visitor.locator("main")
    visits = visitor.locator("section.visit")
    assert visits.count() == 2, main.inner_text()
    first, second = visits.nth(0).inner_text(), visits.nth(1).inner_text()
    assert "Email (newsletter)" in first and "Remembered by your own browser" in first
    assert "/demo/journal/autumn-barn-weddings" in first and "utm_" not in first
    assert "Direct" in second and "/demo/book" in second and "/demo/" in second
    assert re.search(r"\d{2}:\d{2}", second)  # each page with the time it was opened
    assert email not in main.inner_text().lower()  # nothing about the person beyond the visits
    assert visitor.locator("script").count() == 0
    shoot(visitor, "before")

    visitor.get_by_role("button", name=re.compile("Remove my browsing history")).click()
    visitor.wait_for_url(site.url + href + "?removed=1")
    text = main.inner_text()
    assert "Your browsing history was removed" in text and "/demo/book" not in text
    assert "for up to 90 days" in text  # the browser's own memory: how to make it forget
    assert visits.count() == 0 and visitor.get_by_role("button").count() == 0
    shoot(visitor, "after")

    after = stored_journey(owner_db, email)
    assert after["events"] == [] and after["client_events"] == [] and after["touches"] == []
    assert (after["email"], after["form"], after["created_at"]) == (email, "booking", stored["created_at"])
    assert after["history_removed_at"]

    owner = new_page()
    log_in(owner, site.server.url)
    owner.goto(f"{site.server.url}/cp/journeys/{stored['id']}")
    note = owner.get_by_role("status").filter(has_text="removed their browsing history")
    assert note.is_visible()
    removed = datetime.fromisoformat(after["history_removed_at"]).astimezone(UTC)  # TIMEZONE is UTC here
    assert f"{removed.day} {removed:%b %Y, %H:%M}" in note.inner_text()
    assert owner.locator("#journey-picture .visit").count() == 0
    shoot(owner, "dashboard-journey")

    journey_id, sig = href.rsplit("/", 1)[1].split(".")
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    for bad in (f"{journey_id}.{flipped}", f"{int(journey_id) + 1}.{sig}", f"{journey_id}.{sig[:-1]}"):
        answer = visitor.goto(f"{site.url}/api/track/receipt/{bad}")
        assert answer.status == 404 and "No receipt here" in visitor.locator("h1").inner_text(), bad
    shoot(visitor, "not-found")

    owner.goto(f"{site.server.url}/cp/journeys/{stored['id']}/erase")
    owner.get_by_role("button", name=re.compile("Erase 1 journey")).click()
    owner.wait_for_load_state()
    assert stored_journey(owner_db, email) is None
    assert visitor.goto(site.url + href).status == 404


def test_the_receipt_without_javascript(site, owner_db, new_page):
    """With JavaScript off, the thank-you page's plain link (/api/track/receipt/latest, this
    browser's cookie) opens the receipt, and its button removes the history."""
    email = "nojs@example.com"
    visitor = new_page()
    visitor.add_init_script("window.leadtrailTest = true")
    visitor.context.clock.install(time=datetime.now(UTC) - timedelta(minutes=5))
    visitor.goto(site.url + "/demo/services/elopements")
    book(visitor, site.url, email)
    journey = wait_journey(owner_db, email)
    cookies = [c["value"].split(".", 1)[0] for c in visitor.context.cookies() if c["name"] == "anon_id"]
    assert cookies == [journey["anon_id"]], (cookies, journey["anon_id"])  # the browser that sent it

    plain = new_page(java_script_enabled=False, storage_state=visitor.context.storage_state())
    plain.goto(site.url + "/demo/thanks")
    link = plain.locator("[data-leadtrail-receipt]")
    assert link.get_attribute("href") == "/api/track/receipt/latest" and link.is_visible()
    link.click()
    plain.wait_for_url(RECEIPT)
    assert "/demo/services/elopements" in plain.locator("section.visit").inner_text()
    shoot(plain, "nojs-before")
    plain.get_by_role("button", name=re.compile("Remove my browsing history")).click()
    plain.wait_for_url(re.compile(r".*\?removed=1$"))
    assert "Your browsing history was removed" in plain.locator("main").inner_text()
    shoot(plain, "nojs-after")
    after = stored_journey(owner_db, email)
    assert after["events"] == [] and after["client_events"] == [] and after["history_removed_at"]
