"""The demo site (/demo/, `leadtrail serve --demo`): pages, the booking form, and a visitor's
whole journey through it in Chromium, checked in what the server stored."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import app_client

SRC = Path(__file__).resolve().parent.parent / "src"
PAGES = [
    "/demo/",
    "/demo/services",
    "/demo/services/weddings",
    "/demo/services/elopements",
    "/demo/services/portraits",
    "/demo/about",
    "/demo/journal",
    "/demo/journal/choosing-your-wedding-photographer",
    "/demo/journal/autumn-barn-weddings",
    "/demo/book",
    "/demo/thanks",
]


@pytest.fixture
def demo_client(tmp_path):
    with app_client(f"sqlite:///{tmp_path}/demo.db", demo=True) as client:
        yield client


def test_every_page_renders_with_the_tracker_tag(demo_client):
    """Each page answers 200 as HTML and includes the tracker the way a site owner would."""
    for path in PAGES:
        res = demo_client.get(path)
        assert res.status_code == 200, path
        assert res.headers["content-type"].startswith("text/html")
        assert '<script defer src="/api/track/script.js"></script>' in res.text, path
        assert "data-allow-automation" not in res.text


def test_unknown_pages_are_404_and_demo_redirects_to_slash(demo_client):
    """Unknown packages and posts are 404 pages of the site; /demo goes to /demo/."""
    assert demo_client.get("/demo/services/yachts").status_code == 404
    assert demo_client.get("/demo/journal/nope").status_code == 404
    res = demo_client.get("/demo", follow_redirects=False)
    assert res.status_code == 308 and res.headers["location"] == "/demo/"


def test_static_files_and_the_price_list_pdf(demo_client):
    """CSS, JS, images and a real PDF are served from /demo/static/."""
    assert demo_client.get("/demo/static/site.css").headers["content-type"].startswith("text/css")
    assert "javascript" in demo_client.get("/demo/static/site.js").headers["content-type"]
    assert demo_client.get("/demo/static/img/golden-hour.svg").headers["content-type"] == "image/svg+xml"
    pdf = demo_client.get("/demo/static/ellie-marlow-price-list-2026.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")


def test_booking_form_is_marked_for_promote(demo_client):
    """The booking form carries the attributes the tracker acts on."""
    html = demo_client.get("/demo/book?package=elopements").text
    assert "data-leadtrail-promote" in html
    assert 'data-leadtrail-form="booking"' in html and 'data-leadtrail-consent="consent"' in html
    assert '<option value="elopements" selected>' in html


def test_booking_redirects_to_thanks_when_valid(demo_client):
    """A valid enquiry is answered with 303 to the thank-you page."""
    res = demo_client.post(
        "/demo/book",
        data={
            "name": "Jo",
            "email": "jo@example.com",
            "date": "",
            "package": "weddings",
            "message": "Hi",
            "consent": "yes",
        },
        follow_redirects=False,
    )
    assert res.status_code == 303 and res.headers["location"] == "/demo/thanks"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("email", "not-an-address", "e-mail address"),
        ("name", "", "your name"),
        ("date", "2001-01-01", "date has passed"),
        ("date", "next tuesday", "YYYY-MM-DD"),
    ],
)
def test_booking_shows_errors_and_keeps_what_was_typed(demo_client, field, value, message):
    """An invalid enquiry comes back as the form (400) with a message and the visitor's input."""
    data = {"name": "Jo <b>", "email": "jo@example.com", "date": "", "package": "", "message": "Our day"}
    data[field] = value
    res = demo_client.post("/demo/book", data=data, follow_redirects=False)
    assert res.status_code == 400
    assert message in res.text
    assert "Our day" in res.text
    assert "<b>" not in res.text.split("<form", 1)[1].split("</form>", 1)[0]  # autoescaped


def test_demo_is_absent_without_the_flag(tmp_path):
    """Without --demo there is no /demo/."""
    with app_client(f"sqlite:///{tmp_path}/plain.db") as client:
        assert client.get("/demo/").status_code == 404


# -- in Chromium ---------------------------------------------------------------------------


def stored_names(db_path: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as db:
        return [tuple(row) for row in db.execute("select event_name, page_path from session_events order by id")]


def export(server, email: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADTRAIL_")}
    env["PYTHONPATH"] = str(SRC)
    out = subprocess.run(
        [sys.executable, "-m", "leadtrail", "export", "--email", email, "--database-url", server.database_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.fixture
def demo_server(start_server, sqlite_url):
    return start_server(sqlite_url, "--demo", env={"LEADTRAIL_RATE_LIMIT": "0"})


@pytest.mark.browser
def test_a_visitors_journey_through_the_demo_reaches_the_owner(demo_server, sqlite_url, page):
    """Home -> services -> a package switched without reload -> FAQ -> price list -> booking
    form -> thank-you page -> dashboard link; the journey exported for the e-mail holds it all."""
    page.add_init_script("window.leadtrailTest = true")
    page.context.route(
        "https://**", lambda route: route.fulfill(status=200, body="<title>x</title>", content_type="text/html")
    )
    # A person's pace: the browser clock starts in the past and moves on while they read the
    # booking page (at Playwright's own speed the walk takes a second: a bot's, filed as spam).
    page.context.clock.install(time=datetime.now(UTC) - timedelta(minutes=10))
    base = demo_server.url
    page.goto(base + "/demo/")
    page.click("text=See packages & prices")
    page.wait_for_url("**/demo/services")
    loads = page.evaluate("performance.getEntriesByType('navigation').length")
    page.click("[data-package-tab=portraits]")
    page.wait_for_url("**/demo/services/portraits")
    assert page.title() == "Portrait sessions · Ellie Marlow Photography"
    assert page.is_visible("[data-package=portraits]") and page.is_hidden("[data-package=weddings]")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == loads  # no reload
    page.click("summary >> text=How do we secure our date?")
    with page.expect_download() as download:
        page.click("text=Download the price list (PDF, 2 KB)")
    assert download.value.suggested_filename == "ellie-marlow-price-list-2026.pdf"
    page.click("text=Ask about portraits")
    page.wait_for_url("**/demo/book?package=portraits")
    page.context.clock.fast_forward("02:00")
    page.fill("#name", "Jo & Sam")
    page.fill("#email", "Jo.Sam@Example.com")
    page.fill("#message", "A small studio session in spring.")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_url("**/demo/thanks")
    assert page.is_visible("text=your enquiry is on its way")

    deadline = time.monotonic() + 10
    while not (journeys := export(demo_server, "jo.sam@example.com")["journeys"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(journeys) == 1
    journey = journeys[0]
    assert journey["form"] == "booking" and journey["consent"] is True
    steps = [
        (e["event_name"], e["page_path"]) for e in journey["timeline"] if e["event_name"] not in ("page_engagement",)
    ]
    assert steps[:4] == [
        ("page_view", "/demo/"),
        ("page_view", "/demo/services"),
        ("view_package", "/demo/services/portraits"),
        ("page_view", "/demo/services/portraits"),
    ] or steps[:4] == [
        ("page_view", "/demo/"),
        ("page_view", "/demo/services"),
        ("page_view", "/demo/services/portraits"),
        ("view_package", "/demo/services/portraits"),
    ]
    assert ("faq_open", "/demo/services/portraits") in steps
    assert ("file_download", "/demo/services/portraits") in steps
    assert ("page_view", "/demo/book") in steps  # ?package= is not on the allowlist
    assert ("booking_form_start", "/demo/book") in steps
    assert all(e["source"] == "both" for e in journey["timeline"] if e["event_name"] == "page_view")
    assert journey["visits"][0]["landing_page"] == "/demo/"
    views = [e for e in journey["timeline"] if e["event_name"] == "page_view"]
    assert views[2]["params"]["title"] == "Portrait sessions · Ellie Marlow Photography"

    # The Google tag's lead event is sent as the form goes; it reaches the server all the same.
    deadline = time.monotonic() + 10
    while ("generate_lead", "/demo/book") not in stored_names(sqlite_url[len("sqlite:///") :]):
        assert time.monotonic() < deadline, "generate_lead never stored"
        time.sleep(0.2)

    page.click("text=open the leadtrail dashboard")
    page.wait_for_url("**/cp/**")


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_the_screen(demo_server, new_page, width):
    """No page scrolls sideways on a phone or a laptop, and every image loads."""
    page = new_page(viewport={"width": width, "height": 800})
    page.add_init_script("window.leadtrailTest = true")
    for path in PAGES:
        page.goto(demo_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        broken = page.evaluate("[...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src)")
        assert broken == [], (path, broken)
