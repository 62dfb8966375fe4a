"""Outcomes and the spam list in real Chromium against a live `leadtrail serve`, with JavaScript
off (the forms work without it): one click marks an enquiry won with its value from the list, the
journey page does the same, a bad value is refused with the reason, "Not spam" moves a journey
back; nothing scrolls sideways on a phone. Screenshots of the list, the spam list and a journey
at 1280 and 390 pixels go to test-artifacts/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from browser import screenshot_path
from support import run_store
from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD, save, seed_journeys, simple_journey

from leadtrail import outcomes
from leadtrail.accounts.users import create_user

pytestmark = pytest.mark.browser
NOW = datetime.now(UTC)
SPAM_REASONS = [
    "the form was sent 0.4 s after the first page opened, faster than anyone types an e-mail address",
    "the form's page was open for 0.4 s",
]


def seed(database_url: str) -> dict[str, int]:
    async def work(store):
        await create_user(store, OWNER_EMAIL, OWNER_PASSWORD)
        await seed_journeys(store, 6, now=NOW - timedelta(hours=3), seed=5, spread=timedelta(days=3))
        ids = {}
        for name, minutes in (("won", 50), ("lead", 40), ("junk", 30), ("junk2", 20)):
            at = NOW - timedelta(minutes=minutes)
            ids[name] = await save(store, simple_journey(f"{name}@example.com", at), at)
        async with store.transaction() as tx:
            await outcomes.set_outcome(tx, ids["won"], outcomes.Outcome("won", 2450.0), "EUR")
            for junk in ("junk", "junk2"):
                await tx.execute(
                    "journey_set_spam", id=ids[junk], score=70, reasons=store_json(SPAM_REASONS), spam=True
                )
        return ids

    return run_store(database_url, work)


def store_json(value) -> str:
    from leadtrail.store import dumps

    return dumps(value)


def shoot(page, name: str) -> None:
    path = screenshot_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def log_in(page, base: str) -> None:
    page.goto(base + "/cp/login")
    page.get_by_label("E-mail address").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, page.url


def row(page, email: str):
    return page.locator("tr", has=page.get_by_role("link", name=email, exact=True))


@pytest.fixture
def dashboard(start_server, sqlite_url):
    ids = seed(sqlite_url)
    server = start_server(sqlite_url, env={"LEADTRAIL_CURRENCY": "EUR"})
    return server, ids


@pytest.mark.spam_expected  # the seeded spam list
@pytest.mark.parametrize("width", [1280, 390])
def test_outcomes_in_one_click_without_javascript(dashboard, new_page, page_errors, width):
    """From the list: a value typed the continental way and Won, one click; the journey page: Lost;
    a bad value refused with the reason; the spam list and Not spam; all at desktop and phone width."""
    server, ids = dashboard
    page = new_page(viewport={"width": width, "height": 900}, java_script_enabled=False)
    log_in(page, server.url)
    size = "desktop" if width > 600 else "phone"

    page.goto(server.url + "/cp/")
    assert page.get_by_role("link", name="Spam (2)").is_visible()
    assert row(page, "junk@example.com").count() == 0  # spam is not among the enquiries
    assert "EUR 2,450.00" in row(page, "won@example.com").inner_text()
    no_sideways_scroll(page)
    shoot(page, f"outcomes-list-{size}")
    row(page, "won@example.com").screenshot(path=str(screenshot_path(f"outcomes-list-row-{size}")))

    lead = row(page, "lead@example.com")
    lead.get_by_label("Value in EUR").fill("1.250,50")
    with page.expect_navigation():
        lead.get_by_role("button", name="Won").click()
    assert page.url == server.url + "/cp/"
    assert "Won · EUR 1,250.50" in row(page, "lead@example.com").inner_text()
    with page.expect_navigation():  # Enter in the value field saves it and keeps the status
        row(page, "lead@example.com").get_by_label("Value in EUR").fill("1300")
        page.keyboard.press("Enter")
    assert "Won · EUR 1,300.00" in row(page, "lead@example.com").inner_text()

    page.goto(f"{server.url}/cp/journeys/{ids['lead']}")
    assert page.get_by_text("Won, worth EUR 1,300.00.").is_visible()
    no_sideways_scroll(page)
    shoot(page, f"outcomes-journey-{size}")
    page.locator(".outcome-panel").screenshot(path=str(screenshot_path(f"outcomes-journey-panel-{size}")))
    page.get_by_label("Value in EUR").fill("12,5,0")
    with page.expect_navigation():
        page.get_by_role("button", name="Lost").click()
    assert "Nothing was changed" in page.content() and "1,250.50 or 1.250,50" in page.content()
    page_errors[:] = [e for e in page_errors if "400 (Bad Request)" not in e]  # the refusal expected
    no_sideways_scroll(page)
    page.goto(f"{server.url}/cp/journeys/{ids['lead']}")
    assert page.get_by_text("Won, worth EUR 1,300.00.").is_visible()  # the refused click changed nothing
    with page.expect_navigation():
        page.get_by_role("button", name="Lost").click()
    assert page.url == f"{server.url}/cp/journeys/{ids['lead']}"
    assert page.get_by_text("Lost.").is_visible()

    page.goto(server.url + "/cp/?list=spam")
    assert row(page, "junk@example.com").is_visible() and row(page, "lead@example.com").count() == 0
    assert "faster than anyone types" in page.content()
    no_sideways_scroll(page)
    shoot(page, f"outcomes-spam-list-{size}")
    row(page, "junk@example.com").screenshot(path=str(screenshot_path(f"outcomes-spam-row-{size}")))
    with page.expect_navigation():
        row(page, "junk@example.com").get_by_role("button", name="Not spam").click()
    assert page.get_by_role("link", name="Spam (1)").is_visible()
    assert row(page, "junk@example.com").count() == 0
    page.goto(server.url + "/cp/")
    assert row(page, "junk@example.com").is_visible()
