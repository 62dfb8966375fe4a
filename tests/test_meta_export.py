"""Meta's offline-events CSV (`leadtrail export --meta`, GET /cp/export/meta.csv): exactly the won
enquiries with an e-mail address, the address only as Meta's SHA-256; on both databases."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from support import TEST_SECRET, app_client, run_store
from test_dashboard_helpers import login, save, simple_journey
from test_team import MEMBER_PASSWORD, VIEWER_EMAIL, add_member

from leadtrail import adexport, outcomes
from leadtrail.cli import main

NOW = datetime.now(UTC).replace(microsecond=0)
OLD = NOW - timedelta(days=3)
HEADER = "email,event_name,event_time,value,currency,order_id,event_id,action_source"
# (address as stored, submitted at, outcome, value): only the won ones with an address are rows.
ENQUIRIES = {
    "won-value": (" Jane.Doe@Example.COM ", NOW - timedelta(hours=1), "won", 1850.0),
    "won-no-value": ("=cmd@example.com", NOW - timedelta(hours=2), "won", None),
    "won-gmail": ("first.last@gmail.com", OLD, "won", 99.5),
    "won-no-address": ("", NOW - timedelta(hours=1), "won", 10.0),
    "lost": ("lost@example.com", NOW - timedelta(hours=1), "lost", 40.0),
    "spam": ("spam@example.com", NOW - timedelta(hours=1), "spam", None),
    "open": ("open@example.com", NOW - timedelta(hours=1), None, None),
}
WON = ("won-value", "won-no-value", "won-gmail")


def seed(url: str) -> dict[str, int]:
    async def work(store):
        ids = {}
        for name, (email, at, status, value) in ENQUIRIES.items():
            ids[name] = await save(store, simple_journey(email, at, "/?fbclid=IwAR-x"), at)
            if status is not None:
                async with store.transaction() as tx:
                    await outcomes.set_outcome(tx, ids[name], outcomes.Outcome(status, value), "GBP")
        return ids

    return run_store(url, work)


def cli(url: str, *args: str):
    env = {
        "LEADTRAIL_SECRET_KEY": TEST_SECRET,
        "LEADTRAIL_DATABASE_URL": url,
        "LEADTRAIL_TIMEZONE": "UTC",
        "LEADTRAIL_CURRENCY": "EUR",
    }
    return CliRunner().invoke(main, ["export", *args], env=env)


def rows_of(text: str) -> list[dict[str, str]]:
    assert text.splitlines()[0] == HEADER
    return list(csv.DictReader(io.StringIO(text)))


def expected_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def assert_no_plain_address(text: str) -> None:
    assert "@" not in text
    for email, *_ in ENQUIRIES.values():
        local = email.strip().lower().split("@")[0]
        assert not local or local not in text.lower()


def test_meta_export_holds_exactly_the_won_enquiries_with_an_address_hashed(database_url):
    """One Purchase row per won enquiry with an address: its SHA-256 (trimmed, lower-cased, Gmail
    dots kept), Unix seconds, value and currency only when set, the journey id to deduplicate."""
    ids = seed(database_url)
    result = cli(database_url, "--meta")
    assert result.exit_code == 0, result.output
    rows = {r["order_id"]: r for r in rows_of(result.stdout)}
    assert set(rows) == {str(ids[name]) for name in WON}
    for name in WON:
        email, at, _, value = ENQUIRIES[name]
        row = rows[str(ids[name])]
        assert row["email"] == expected_hash(email) and len(row["email"]) == 64
        assert row["event_name"] == "Purchase" and row["action_source"] == "physical_store"
        assert row["event_id"] == row["order_id"]
        assert int(row["event_time"]) == int(at.timestamp())
        if value is None:
            assert (row["value"], row["currency"]) == ("", "")
        else:
            assert (row["value"], row["currency"]) == (f"{value:.2f}", "GBP")
    assert rows[str(ids["won-gmail"])]["email"] != adexport.normalised_email_hash("first.last@gmail.com")
    assert_no_plain_address(result.stdout)


def test_meta_export_since_keeps_later_days_and_a_bad_day_is_a_usage_error(database_url):
    """--since DAY keeps enquiries submitted on or after that day; a day that is not YYYY-MM-DD exits 2 saying so."""
    ids = seed(database_url)
    recent = cli(database_url, "--meta", "--since", (NOW - timedelta(days=1)).date().isoformat())
    assert recent.exit_code == 0, recent.output
    assert {r["order_id"] for r in rows_of(recent.stdout)} == {str(ids["won-value"]), str(ids["won-no-value"])}
    future = cli(database_url, "--meta", "--since", (NOW + timedelta(days=2)).date().isoformat())
    assert future.exit_code == 0 and future.stdout.strip() == HEADER
    for bad in ("soon", "2026-13-01", "01/12/2026", "20261201", "2026-W49-1", "2026-2-3", "1999-12-31"):
        result = cli(database_url, "--meta", "--since", bad)
        assert result.exit_code == 2 and "YYYY-MM-DD" in result.output, bad
    for args in (("--meta", "--google-ads"), ("--meta", "--email", "a@example.com"), ("--meta", "--hashed-email")):
        assert cli(database_url, *args).exit_code == 2, args


def test_meta_download_is_for_owners_only(owner_db):
    """Signed in as an owner: the same CSV as an attachment (?since filters, a bad day is a 400);
    a viewer gets 403 and no file; signed out, a redirect to the login page."""
    ids = seed(owner_db)
    add_member(owner_db, VIEWER_EMAIL, "viewer")
    with app_client(owner_db) as anonymous:
        r = anonymous.get("/cp/export/meta.csv", follow_redirects=False)
        assert r.status_code in (302, 303) and "/cp/login" in r.headers["location"]
    with app_client(owner_db) as viewer:
        assert login(viewer, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 303
        r = viewer.get("/cp/export/meta.csv", follow_redirects=False)
        assert r.status_code == 403 and "attachment" not in r.headers.get("content-disposition", "")
        assert "Jane" not in r.text and expected_hash(ENQUIRIES["won-value"][0]) not in r.text
    with app_client(owner_db) as owner:
        assert login(owner).status_code == 303
        r = owner.get("/cp/export/meta.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert 'attachment; filename="leadtrail-meta-' in r.headers["content-disposition"]
        assert {row["order_id"] for row in rows_of(r.text)} == {str(ids[name]) for name in WON}
        assert_no_plain_address(r.text)
        since = (NOW - timedelta(days=1)).date().isoformat()
        recent = owner.get("/cp/export/meta.csv", params={"since": since})
        assert {row["order_id"] for row in rows_of(recent.text)} == {str(ids["won-value"]), str(ids["won-no-value"])}
        for bad in ("soon", "20261201", "2026-W49-1", "2026-02-30", "0001-01-01", "9999-12-31"):
            refused = owner.get("/cp/export/meta.csv", params={"since": bad})
            assert refused.status_code == 400 and "YYYY-MM-DD" in refused.text, bad
            assert owner.get("/cp/export/google-ads.csv", params={"since": bad}).status_code == 400, bad


def test_meta_email_hash_matches_metas_documented_example():
    """Meta's customer-information page: John_Smith@gmail.com hashes to 62a14e44...; spaces and case do not matter."""
    expected = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    assert adexport.meta_email_hash("John_Smith@gmail.com") == expected
    assert adexport.meta_email_hash("  JOHN_SMITH@GMAIL.COM\n") == expected


def test_meta_rows_are_safe_in_a_spreadsheet():
    """An order id or currency that a spreadsheet would run as a formula is written as text."""
    journey = {"id": "=1+1", "status": "won", "email": "a@example.com", "submitted_at": NOW.isoformat()}
    row = adexport.meta_row({**journey, "value": 5, "currency": "@SUM"}, "EUR")
    assert row is not None and row[5] == "'=1+1" and row[4] == "'@SUM"
    assert adexport.meta_row({**journey, "status": "open"}, "EUR") is None
    assert adexport.meta_row({**journey, "email": "  "}, "EUR") is None
