"""The team in real Chromium against a live `leadtrail serve`, at 1280 and 390 pixels: an owner
invites a viewer from the Account page, copies the link with the Copy button, the viewer joins
from that link in another browser and sees the enquiries without any button that changes or
downloads; the owner sees the member and the confirm page of removing them. Nothing scrolls
sideways. Screenshots (test-artifacts/screenshots/team-*.png) of the team section, the invite
page, the viewer's list and journey, and the removal confirm page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from browser import screenshot_path
from support import run_store
from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD, seed_journeys

from leadtrail.accounts.users import create_user

pytestmark = pytest.mark.browser
NOW = datetime.now(UTC)
VIEWER_EMAIL = "assistant.with.a.rather.long.address@lumen-studio-photography.example"
VIEWER_PASSWORD = "seven quiet otters rowing"


def seed(database_url: str) -> list[int]:
    async def work(store):
        await create_user(store, OWNER_EMAIL, OWNER_PASSWORD)
        return await seed_journeys(store, 6, now=NOW - timedelta(hours=2), seed=11, spread=timedelta(days=3))

    return run_store(database_url, work)


def shoot(target, name: str) -> None:
    path = screenshot_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(target, "context"):  # a page: the whole of it
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, page.url


def log_in(page, base: str, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD) -> None:
    page.goto(base + "/cp/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


@pytest.fixture
def dashboard(start_server, sqlite_url):
    ids = seed(sqlite_url)
    return start_server(sqlite_url), ids


@pytest.mark.parametrize("width", [1280, 390])
def test_an_owner_invites_a_viewer_who_joins_and_sees_no_owner_buttons(dashboard, new_page, page_errors, width):
    """The whole invite in Chromium: invite, copy, join, look around as a viewer, see the member."""
    server, ids = dashboard
    size = "desktop" if width > 600 else "phone"
    viewport = {"width": width, "height": 900}
    owner = new_page(viewport=viewport, permissions=["clipboard-read", "clipboard-write"])
    log_in(owner, server.url)

    owner.goto(server.url + "/cp/account")
    team = owner.locator("#team")
    assert team.get_by_text("Only owner").is_visible()
    assert team.get_by_label("Viewer").is_checked()  # the smaller grant is the default
    no_sideways_scroll(owner)
    shoot(team, f"team-section-alone-{size}")

    team.get_by_label("Their e-mail address").fill(VIEWER_EMAIL)
    with owner.expect_navigation():
        team.get_by_role("button", name="Create invite link").click()
    link_field = owner.get_by_label("Invite link")
    link = link_field.input_value()
    assert link.startswith(server.url + "/cp/invite/") and len(link) == len(server.url) + len("/cp/invite/") + 43
    assert owner.locator(".invite-made").get_by_text("shown only now").is_visible()
    copy = owner.get_by_role("button", name="Copy link")
    assert copy.is_visible()
    copy.click()
    owner.get_by_role("button", name="Copied").wait_for()
    assert owner.evaluate("navigator.clipboard.readText()") == link
    assert owner.url == server.url + "/cp/account?invited=1#team"  # a reload re-sends nothing
    pending = owner.get_by_role("list", name="Pending invites")
    assert pending.get_by_text(VIEWER_EMAIL, exact=True).is_visible()
    no_sideways_scroll(owner)
    shoot(owner, f"team-invite-made-{size}")
    shoot(owner.locator("#team"), f"team-section-invite-made-{size}")

    viewer = new_page(viewport=viewport)
    viewer.goto(link)
    assert viewer.get_by_label("Your e-mail address").inner_text() == VIEWER_EMAIL
    assert viewer.get_by_text(f"{OWNER_EMAIL} invited you as a viewer").is_visible()
    no_sideways_scroll(viewer)
    shoot(viewer, f"team-invite-page-{size}")
    viewer.get_by_label("Password", exact=True).fill(VIEWER_PASSWORD)
    viewer.get_by_label("Password again").fill(VIEWER_PASSWORD)
    with viewer.expect_navigation():
        viewer.get_by_role("button", name="Join and open the dashboard").click()
    assert viewer.url == server.url + "/cp/?welcome=1"
    assert viewer.locator("table.enquiries tbody tr").count() == len(ids)
    for name in ("Export CSV", "Won", "Lost", "Spam", "Not spam"):
        assert viewer.get_by_role("button", name=name, exact=True).count() == 0, name
        assert viewer.get_by_role("link", name=name, exact=True).count() == 0, name
    no_sideways_scroll(viewer)
    shoot(viewer, f"team-viewer-list-{size}")

    viewer.goto(f"{server.url}/cp/journeys/{ids[-1]}")
    for name in ("Download JSON", "All data of this person", "Erase this person…"):
        assert viewer.get_by_role("link", name=name).count() == 0, name
    assert viewer.locator("form.outcome").count() == 0
    no_sideways_scroll(viewer)
    shoot(viewer, f"team-viewer-journey-{size}")
    viewer.screenshot(path=str(screenshot_path(f"team-viewer-journey-top-{size}")))  # what shows first

    viewer.goto(server.url + "/cp/account")
    assert viewer.locator("#team").count() == 0
    assert viewer.get_by_text("Viewer: sees every page").is_visible()
    no_sideways_scroll(viewer)
    shoot(viewer, f"team-viewer-account-{size}")

    viewer.goto(server.url + "/cp/export.csv")
    assert viewer.get_by_role("heading", name="Read-only access").is_visible()
    page_errors[:] = [e for e in page_errors if "403 (Forbidden)" not in e]  # the refusal expected
    no_sideways_scroll(viewer)
    shoot(viewer, f"team-viewer-refused-{size}")

    owner.goto(server.url + "/cp/account")
    member = owner.locator(".people li", has_text=VIEWER_EMAIL)
    assert "Viewer" in member.inner_text() and "last login" in member.inner_text()
    assert owner.get_by_text("Pending invites").count() == 0
    no_sideways_scroll(owner)
    shoot(owner.locator("#team"), f"team-section-members-{size}")
    with owner.expect_navigation():
        member.get_by_role("link", name="Remove").click()
    assert owner.get_by_role("heading", name=f"Remove {VIEWER_EMAIL} from the team?").is_visible()
    no_sideways_scroll(owner)
    shoot(owner, f"team-remove-confirm-{size}")
    with owner.expect_navigation():
        owner.get_by_role("button", name="Remove from the team").click()
    assert owner.get_by_text("The member was removed and signed out everywhere.").is_visible()
    viewer.goto(server.url + "/cp/")
    assert viewer.url.startswith(server.url + "/cp/login")
