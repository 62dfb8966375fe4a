"""The e-mails' HTML in Chromium at a desktop and a phone width: it fetches nothing, fits the
width without sideways scrolling, and shows what matters. Screenshots go to
test-artifacts/screenshots/ (looked at when the layout changes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from browser import screenshot_path

from leadtrail.charts import Format
from leadtrail.export import export_journey
from leadtrail.localtime import zone
from leadtrail.notify import digest, enquiry
from leadtrail.timestamps import iso

NOW = datetime(2026, 12, 5, 14, 2, tzinfo=UTC)
WIDTHS = {"desktop": 1280, "phone": 390}


def sample_journey(extra_pages: int = 0) -> dict:
    """A person who came from Instagram three days ago (remembered by their browser), then from a
    Google ad today: four pages with titles and times, one click the server never saw."""
    t0 = NOW - timedelta(minutes=9)
    events: list[dict] = []

    def add(name, path, at, **params):
        events.append(
            {
                "id": len(events) + 1,
                "event_name": name,
                "page_path": path,
                "params": {**params, "event_id": f"e{len(events)}"},
                "created_at": iso(at),
            }
        )

    landing = "/?utm_source=google&utm_medium=cpc&utm_campaign=winter-weddings-2026"
    add(
        "page_view",
        landing,
        t0,
        title="Studio Lumen — Wedding & portrait photography",
        referrer="https://www.google.com/",
    )
    add("page_engagement", "/", t0 + timedelta(seconds=45), engaged_ms=41_000)
    add("page_view", "/services/weddings", t0 + timedelta(seconds=46), title="Weddings: full day, half day, elopements")
    add("page_view", "/pricing", t0 + timedelta(minutes=4), title="Pricing & packages")
    for k in range(extra_pages):
        add(
            "page_view",
            f"/journal/{k}-a-winter-wedding-at-the-old-mill-with-a-very-long-address",
            t0 + timedelta(minutes=5, seconds=k),
            title=f"Journal {k}",
        )
    add("page_view", "/booking", t0 + timedelta(minutes=7), title="Book a consultation")
    touches = [
        {
            "ts": int((NOW - timedelta(days=3)).timestamp() * 1000),
            "page_path": "/",
            "referrer": "https://www.instagram.com",
            "pages": 3,
        }
    ]
    blocked = {
        "event_name": "cta_click",
        "page_path": "/pricing",
        "params": {},
        "event_id": "x",
        "ts": int((t0 + timedelta(minutes=5)).timestamp() * 1000),
    }
    row = {
        "id": 1042,
        "email": "alexandra.montgomery-fitzwilliam@photography-enquiries.example.co.uk",
        "anon_id": "a",
        "form": "Wedding booking",
        "consent": True,
        "created_at": iso(NOW),
        "updated_at": None,
        "history_removed_at": None,
        "events": events,
        "client_events": [blocked],
        "touches": touches,
    }
    return export_journey(row)


def enquiry_html(extra_pages: int = 0, link: str | None = "https://stats.studio.example/cp/journeys/1042") -> str:
    view = enquiry.enquiry_view(sample_journey(extra_pages), link, Format(zone("Europe/London")))
    message = enquiry.enquiry_message(view, "leadtrail <leads@studio.example>", ("owner@studio.example",), NOW)
    return message.get_body(("html",)).get_content()


def digest_html() -> str:
    def doc(rows, days):
        return {
            "channels": [
                {"channel": c, "source": None, "visits": v, "enquiries": n, "won": w, "value": val}
                for c, v, n, w, val in rows
            ],
            "days": [{"date": "x", "visits": days, "enquiries": 0}],
        }

    now = doc(
        [
            ("Organic Search", 812, 9, 3, 4250.0),
            ("Paid Search", 301, 5, 1, 1200.0),
            ("Organic Social", 140, 2, 0, 0),
            ("AI Assistants", 12, 1, 0, 0),
        ],
        1290,
    )
    before = doc(
        [("Organic Search", 790, 6, 1, 900.0), ("Paid Search", 280, 7, 2, 2500.0), ("Direct", 80, 1, 0, 0)], 1150
    )
    period = digest.Period("weekly", date(2026, 11, 30), date(2026, 12, 6))
    view = digest.digest_view(
        period,
        {"enquiries": 18, "won": 4, "value": 5450.0, "spam": 3},
        {"enquiries": 14, "won": 3, "value": 3400.0, "spam": 0},
        now,
        before,
        "GBP",
        "https://stats.studio.example/cp/insights?from=2026-11-30&to=2026-12-06",
    )
    message = digest.digest_message(view, "leadtrail <leads@studio.example>", ("owner@studio.example",), NOW)
    return message.get_body(("html",)).get_content()


@pytest.mark.parametrize("width_name", WIDTHS)
@pytest.mark.parametrize(
    ("name", "html", "must_show"),
    [
        (
            "enquiry",
            enquiry_html(),
            ["New enquiry", "Open the journey", "Paid Search", "Pages read", "/services/weddings", "41 s"],
        ),
        ("enquiry-many-pages", enquiry_html(60), ["The latest 40 pages", "earlier pages of this visit not listed"]),
        ("enquiry-no-link", enquiry_html(0, None), ["Enquiry #1042 in your leadtrail dashboard"]),
        (
            "digest",
            digest_html(),
            [
                "Weekly summary",
                "Mon 30 Nov – Sun 6 Dec 2026",
                "GBP 5,450.00",
                "AI Assistants",
                "3 spam enquiries were left out",
            ],
        ),
    ],
    ids=["enquiry", "enquiry-many-pages", "enquiry-no-link", "digest"],
)
def test_the_email_html_reads_well_at_desktop_and_phone_width(new_page, width_name, name, html, must_show):
    """Nothing requested from the network, no sideways scroll, the key facts visible; a screenshot."""
    width = WIDTHS[width_name]
    page = new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    page.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
    page.set_content(html, wait_until="load")
    assert requests == []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} at {width} px scrolls sideways by {overflow} px"
    text = page.inner_text("body")
    for words in must_show:
        assert words.lower() in text.lower(), f"{words!r} not shown in {name}"  # some labels are upper-cased by CSS
    path = screenshot_path(f"email-{name}-{width_name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
