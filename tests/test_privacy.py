"""Personal data never reaches a table: e-mail addresses, tokens and phone numbers hidden in paths,
query values, titles, custom params, form names and remembered visits are redacted by the one
redaction every stored string goes through (cleaning.redact_text), while prices, dates and order
ids are kept (issue 12, finding 7)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import app_client

from leadtrail.cleaning import clean_page_path, redact_text

PHONES = [
    "+44 7700 900123",
    "07700900456",
    "(555) 867-5309",
    "555-867-5309",
    "+1-202-555-0143",
    "020 7946 0958",
    "01.23.45.67.89",
    "+33 1 23 45 67 89",
    "0049 30 1234567",
    "+81 3-1234-5678",
    "(02) 9876 5432",
    "+91 98765 43210",
    "+49 (0)30 1234567",
    "+61 2 9876 5432",
    "0612345678",
]
NOT_PHONES = [
    "$1,299.00",
    "€ 1.234,56",
    "2026-12-05",
    "05/12/2026",
    "12.05.2026",
    "10:30",
    "Order 12345678",
    "1 234 567",
    "192.168.100.200",
    "v1.2.3.4567",
    "3.14159265",
    "ISBN 978-3-16-148410-0",
]
TOKENS = ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl", "sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh"]
EMAILS = ["jane.doe@example.com", "j%40example.org", "someone+tag@mail.example.co.uk"]
SECRETS = PHONES + TOKENS + EMAILS

filler = st.text(alphabet=st.characters(whitelist_categories=("L", "Zs"), max_codepoint=0x7F), max_size=12)


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_from_several_countries_are_redacted(phone):
    """Each format becomes [phone] in free text, and in a path as written or as bare digits with
    its 0 or + (a bare run without one, like 5558675309, reads as an order id and is kept)."""
    assert "[phone]" in redact_text(f"Call {phone} today") and phone not in redact_text(f"Call {phone} today")
    assert "[phone]" in clean_page_path(f"/tel/{phone.replace(' ', '-')}/x")
    digits = "".join(c for c in phone if c.isdigit() or c == "+")
    if digits.startswith(("0", "+")):
        assert "[phone]" in clean_page_path(f"/tel/{digits}/x")


@pytest.mark.parametrize("text", NOT_PHONES)
def test_prices_dates_and_ids_are_not_phone_numbers(text):
    """Prices, dates, times, order ids, grouped numbers, addresses and versions are kept as they are."""
    assert redact_text(f"see {text} here") == f"see {text} here"


@settings(max_examples=2000, deadline=None)
@given(before=filler, secret=st.sampled_from(SECRETS), after=filler)
def test_redaction_leaves_no_secret_and_is_idempotent(before, secret, after):
    """Wherever a secret sits in text, it is gone after redaction, and redacting again changes nothing."""
    text = f"{before} {secret} {after}"
    once = redact_text(text)
    assert secret not in once and redact_text(once) == once


def _dump(db_path: str) -> str:
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
        return "\n".join(str(row) for table in tables for row in db.execute(f"select * from {table}"))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def _send_batches(client, data):
    events = []
    for _ in range(50):
        secret = data.draw(st.sampled_from(SECRETS))
        where = data.draw(st.sampled_from(["path", "query", "title", "param", "key"]))
        event = {"event_name": "page_view", "page_path": "/", "params": {"title": "Home"}}
        if where == "path":
            event["page_path"] = "/p/" + secret.replace(" ", "-").replace("/", "-") + "/x"
        elif where == "query":
            event["page_path"] = "/?utm_campaign=" + secret.replace(" ", "+").replace("&", "")
        elif where == "title":
            event["params"]["title"] = f"Contact {secret} now"
        elif where == "param":
            event["event_name"] = "callback"
            event["params"] = {"note": f"ring me on {secret}", "ok": True}
        else:
            event["params"] = {f"k {secret}"[:64]: 1}
        events.append(event)
    r = client.post("/api/track", json={"events": events})
    assert r.status_code == 204, r.text


def test_ten_thousand_strings_with_personal_data_leave_none_in_any_table(sqlite_url):
    """200 batches of 50 events (10,000 strings) plus promotes with form names and remembered
    visits: a dump of every table holds no phone number, token or e-mail address from them."""
    with app_client(sqlite_url) as client:
        _send_batches(client)
        for secret in SECRETS:
            client.post(
                "/api/track/promote",
                json={
                    "email": "enquirer@example.com",
                    "form": f"callback {secret}",
                    "touches": [{"ts": 1764000000000, "page_path": "/?utm_term=" + secret.replace(" ", "+")}],
                    "client_events": [{"event_name": "note", "params": {"text": secret}, "event_id": "c1"}],
                },
            )
    dump = _dump(sqlite_url.removeprefix("sqlite:///"))
    assert "[phone]" in dump and "[token]" in dump and "[email]" in dump
    leaked = [s for s in SECRETS if s in dump or s.replace(" ", "+") in dump or s.replace(" ", "-") in dump]
    assert leaked == []


def test_event_ids_stay_distinct():
    """The tracker's random event ids (digits and dashes, 40 characters) are not tokens or phone
    numbers: they pass unchanged, so events are not merged into one (only an address is redacted)."""
    from leadtrail.ingest import parse_track_body

    ids = ["3417901172-285756836-3715379275-4162380614", "675110916-1442476279-2175038444-1036442547"]
    body = {"events": [{"event_name": "page_view", "page_path": "/", "event_id": i} for i in ids]}
    import json

    events = parse_track_body(json.dumps(body).encode())
    assert [e.params["event_id"] for e in events] == ids
    [mail] = parse_track_body(b'{"event_name": "x", "event_id": "jo@example.com"}')
    assert mail.params["event_id"] == "[email]"
