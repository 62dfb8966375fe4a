"""Pure parts of the e-mail: what the templates make of hostile text, the channel colours, the
settings it adds (BASE_URL), the backoff, addresses kept out of logs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadtrail.charts import Format
from leadtrail.notify import enquiry, mail, outbox
from leadtrail.settings import SettingsError, load_settings

NOW = datetime(2026, 12, 5, 14, 2, tzinfo=UTC)


def journey(**fields):
    base = {
        "id": 7,
        "email": "jo@example.com",
        "form": None,
        "consent": None,
        "created_at": "2026-12-05T14:02:00.000000+00:00",
        "submitted_at": "2026-12-05T14:02:00.000000+00:00",
        "summary": {"first_touch": None, "last_touch": None, "visits": 0, "page_views": 0},
        "visits": [],
        "timeline": [],
    }
    return {**base, **fields}


def rendered(j, link=None):
    view = enquiry.enquiry_view(j, link, Format(UTC))
    message = enquiry.enquiry_message(view, "leadtrail <l@x.co>", ("o@x.co",), NOW)
    return message, message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_hostile_text_is_escaped_in_html_kept_in_text_and_kept_out_of_headers():
    """A form name and a page title with markup and line breaks: escaped in the HTML, as typed in
    the plain text, on one line in the subject (no header injection)."""
    form = "x<script>alert(1)</script>\r\nBcc: victim@example.com"
    title = '<img src="https://evil.example/p.gif"> & "quotes"'
    j = journey(
        form=form,
        summary={
            "first_touch": {"channel": "Referral", "source": "<b>evil</b>", "landing_page": "/"},
            "last_touch": None,
            "visits": 1,
            "page_views": 1,
        },
        visits=[
            {
                "index": 0,
                "channel": "Referral",
                "source": "<b>evil</b>",
                "started_at": None,
                "landing_page": "/",
                "page_views": 1,
                "utm": {},
            }
        ],
        timeline=[
            {
                "event_name": "page_view",
                "page_path": "/<x>",
                "params": {"title": title},
                "visit": 0,
                "time_on_page_ms": 1000,
                "source": "both",
            }
        ],
    )
    message, text, html = rendered(j)
    assert "<script>" not in html and "<img" not in html and "<b>evil</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html and "&lt;b&gt;evil&lt;/b&gt;" in html
    assert '<img src="https://evil.example/p.gif"> & "quotes"' in text and "&amp;" not in text
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert message["Bcc"] is None and message["To"] == "o@x.co"


def test_an_enquiry_without_events_or_link_says_so():
    message, text, html = rendered(journey())
    assert "No pages were captured" in text and "Enquiry #7 in your leadtrail dashboard" in text
    assert "not known" in text and "Open the journey" not in html


def test_the_channel_colours_are_the_dashboards():
    """The e-mail's colours (inline styles) equal static/cp/cp.css's .ch-* colours."""
    from leadtrail.channels import CHANNEL_GROUPS
    from leadtrail.charts.text import channel_class

    css = (Path(mail.__file__).parents[1] / "static" / "cp" / "cp.css").read_text()
    colours = dict(re.findall(r"\.(ch-[a-z-]+) \{ --c: (#[0-9a-f]{6}); \}", css))
    for channel in CHANNEL_GROUPS:
        if channel == "Unassigned":
            continue
        assert mail.channel_colour(channel) == colours[channel_class(channel)], channel
    assert mail.channel_colour("Unassigned") == mail.channel_colour(None) == mail.OTHER_COLOUR


def test_addresses_are_redacted_from_server_answers():
    assert mail.redact_addresses("550 5.1.1 <jane.doe+x@example.co.uk>: unknown") == "550 5.1.1 <<address>>: unknown"
    assert mail.redact_addresses("no address here: 421 busy") == "no address here: 421 busy"


def test_the_default_sender_is_the_smtp_user_or_leadtrail_at_the_smtp_host():
    assert mail.default_sender("leads@studio.example", "smtp.example.com") == "leadtrail <leads@studio.example>"
    assert mail.default_sender("apikey", "smtp.example.com") == "leadtrail <leadtrail@smtp.example.com>"
    assert mail.default_sender(None, "127.0.0.1") == "leadtrail <leadtrail@127.0.0.1>"


def test_backoff_doubles_from_15_seconds_to_15_minutes():
    assert [outbox.backoff(n) for n in range(1, 9)] == [15, 30, 60, 120, 240, 480, 900, 900]


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("https://stats.example.com", "https://stats.example.com"),
        ("https://stats.example.com/", "https://stats.example.com"),
        (" https://example.com/leadtrail/ ", "https://example.com/leadtrail"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("", ""),
    ],
)
def test_base_url_is_kept_without_its_trailing_slash(raw, kept):
    assert load_settings({}, env={"LEADTRAIL_BASE_URL": raw}).base_url == kept


@pytest.mark.parametrize(
    "raw",
    [
        "stats.example.com",
        "ftp://stats.example.com",
        "https://",
        "https://x.com/?a=1",
        "https://x.com/#top",
        "https://u:p@x.com",
        "https://x.com:99999",
        "https://x.com/a b",
    ],
)
def test_a_base_url_leadtrail_cannot_append_a_path_to_is_refused(raw):
    with pytest.raises(SettingsError, match="LEADTRAIL_BASE_URL"):
        load_settings({}, env={"LEADTRAIL_BASE_URL": raw})
