"""/api/v1/: bearer tokens (made, listed and revoked from the command line), the journeys list with
its cursor, one journey, outcomes (validated once for the API and the dashboard), insights, and
Google Ads' conversion import CSV; on both databases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from support import TEST_SECRET, app_client, run_store
from test_dashboard_helpers import login, save, simple_journey

from leadtrail import adexport, outcomes, tokens
from leadtrail.cli import main

NOW = datetime.now(UTC)


def cli(database_url: str, *args: str):
    env = {"LEADTRAIL_SECRET_KEY": TEST_SECRET, "LEADTRAIL_DATABASE_URL": database_url}
    return CliRunner().invoke(main, list(args), env=env)


def make_token(database_url: str, name: str = "crm") -> str:
    result = cli(database_url, "token", "create", name)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def seed(database_url: str, count: int, landing: str = "/") -> list[int]:
    async def work(store):
        times = [NOW - timedelta(hours=count - i) for i in range(count)]
        return [await save(store, simple_journey(f"p{i}@example.com", at, landing), at) for i, at in enumerate(times)]

    return run_store(database_url, work)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_requests_without_a_valid_token_get_401(database_url):
    """No token, a malformed one, an unknown one and a revoked one are each a 401 JSON error with WWW-Authenticate."""
    token = make_token(database_url)
    with app_client(database_url) as client:
        assert client.get("/api/v1/journeys", headers=bearer(token)).status_code == 200
        for headers in ({}, {"Authorization": "Basic eDp5"}, bearer("lt_" + "x" * 43), {"Authorization": token}):
            r = client.get("/api/v1/journeys", headers=headers)
            assert r.status_code == 401 and r.json()["error"] and "Bearer" in r.headers["www-authenticate"]
        assert cli(database_url, "token", "revoke", "crm").exit_code == 0
        assert client.get("/api/v1/journeys", headers=bearer(token)).status_code == 401


def test_tokens_are_listed_with_their_last_use_and_names_are_unique(database_url):
    """token list shows a used token's last use; a second live token of the same name is refused."""
    token = make_token(database_url, "zapier")
    assert "never used" in cli(database_url, "token", "list").stdout
    with app_client(database_url) as client:
        client.get("/api/v1/journeys", headers=bearer(token))
    listed = cli(database_url, "token", "list").stdout
    assert "zapier" in listed and "never used" not in listed
    again = cli(database_url, "token", "create", "zapier")
    assert again.exit_code == 1 and "exists" in again.output
    assert cli(database_url, "token", "revoke", "nobody").exit_code == 1

    async def stored(store):
        return await store.fetch("api_token_list")

    assert all(token not in str(row) for row in run_store(database_url, stored)), "only a hash is stored"


def test_journeys_come_newest_first_in_pages_with_a_cursor(database_url):
    """limit=2 pages through five journeys newest first, each once, and the last page has no cursor."""
    ids = seed(database_url, 5)
    token = make_token(database_url)
    with app_client(database_url) as client:
        seen, cursor = [], None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/journeys", params=params, headers=bearer(token)).json()
            seen += [j["id"] for j in page["journeys"]]
            assert all("timeline" not in j and j["status"] == "open" for j in page["journeys"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(ids, reverse=True)
        since = (NOW - timedelta(hours=2, minutes=30)).isoformat()
        recent = client.get("/api/v1/journeys", params={"since": since}, headers=bearer(token)).json()
        assert [j["id"] for j in recent["journeys"]] == sorted(ids, reverse=True)[:2]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "x"},
        {"status": "closed"},
        {"since": "yesterday"},
        {"cursor": "!!"},
        {"unknown": "1"},
    ],
)
def test_bad_list_queries_are_400_with_the_field_named(database_url, params):
    """Each invalid query parameter is a 400 whose details name it."""
    token = make_token(database_url)
    with app_client(database_url) as client:
        r = client.get("/api/v1/journeys", params=params, headers=bearer(token))
        assert r.status_code == 400, r.text
        assert next(iter(params)) in r.json()["details"][0]


def test_one_journey_has_its_timeline_and_unknown_ids_are_404(database_url):
    """GET /api/v1/journeys/{id} is the exported journey with its timeline; unknown or malformed ids are 404."""
    [journey_id] = seed(database_url, 1)
    token = make_token(database_url)
    with app_client(database_url) as client:
        one = client.get(f"/api/v1/journeys/{journey_id}", headers=bearer(token)).json()
        assert one["id"] == journey_id and one["timeline"] and one["summary"]["first_touch"]["channel"]
        for bad in (journey_id + 1000, "abc", "-1", "99999999999999999999999"):
            r = client.get(f"/api/v1/journeys/{bad}", headers=bearer(token))
            assert r.status_code == 404 and r.json()["error"] == "no such journey"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "closed"},
        {"status": "won", "value": -1},
        {"status": "won", "value": "100"},
        {"status": "won", "value": True},
        {"status": "won", "value": 1e13},
        {"value": 10},
        {"status": "won", "vaule": 10},
        ["won"],
    ],
)
def test_bad_outcomes_are_refused_and_change_nothing(database_url, body):
    """A bad status, a negative, non-numeric or huge value, a missing status or an unknown field: 400, nothing changed."""
    [journey_id] = seed(database_url, 1)
    token = make_token(database_url)
    with app_client(database_url) as client:
        r = client.post(f"/api/v1/journeys/{journey_id}/outcome", json=body, headers=bearer(token))
        assert r.status_code == 400 and r.json()["details"], r.text
        after = client.get(f"/api/v1/journeys/{journey_id}", headers=bearer(token)).json()
        assert (after["status"], after["value"]) == ("open", None)


def test_an_outcome_set_by_the_api_is_what_the_dashboard_shows(database_url):
    """POST outcome answers the stored status, value and currency; the dashboard's JSON of the journey agrees."""
    [journey_id] = seed(database_url, 1)
    token = make_token(database_url)
    with app_client(database_url, currency="EUR") as client:
        r = client.post(
            f"/api/v1/journeys/{journey_id}/outcome", json={"status": "won", "value": 1250.5}, headers=bearer(token)
        )
        assert r.status_code == 200 and r.json() == {
            "id": journey_id,
            "status": "won",
            "value": 1250.5,
            "currency": "EUR",
        }
        unknown = client.post("/api/v1/journeys/999999/outcome", json={"status": "won"}, headers=bearer(token))
        assert unknown.status_code == 404
        text = client.post(
            f"/api/v1/journeys/{journey_id}/outcome",
            content="status=won",
            headers={**bearer(token), "Content-Type": "text/plain"},
        )
        assert text.status_code == 415
        run_store(database_url, lambda store: _owner(store))
        login(client)
        shown = client.get(f"/cp/journeys/{journey_id}.json").json()
        assert (shown["status"], shown["value"], shown["currency"]) == ("won", 1250.5, "EUR")


async def _owner(store):
    from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD

    from leadtrail.accounts.users import create_user

    await create_user(store, OWNER_EMAIL, OWNER_PASSWORD)


def test_insights_answer_the_contract_shape_and_refuse_bad_days(database_url):
    """GET /api/v1/insights returns channels, landing_pages, pages and days; a bad day or model is a 400."""
    seed(database_url, 2)
    token = make_token(database_url)
    with app_client(database_url) as client:
        doc = client.get("/api/v1/insights", headers=bearer(token)).json()
        assert set(doc) >= {"channels", "landing_pages", "pages", "days"} and len(doc["days"]) == 30
        for params in ({"from": "2026-13-01"}, {"model": "linear"}, {"from": "2026-12-05", "to": "2026-12-01"}):
            assert client.get("/api/v1/insights", params=params, headers=bearer(token)).status_code == 400


def test_google_ads_export_holds_exactly_the_won_enquiries_with_a_click_id(database_url):
    """Only won journeys with a gclid/gbraid/wbraid are rows; the time is in TIMEZONE; no plain e-mail anywhere."""

    async def work(store):
        ids = {}
        for name, landing in (
            ("won-gclid", "/?gclid=Cj0KCQ-abc"),
            ("won-wbraid", "/?wbraid=WB123"),
            ("won-none", "/?utm_source=news"),
            ("open-gclid", "/?gclid=Cj0KCQ-open"),
        ):
            ids[name] = await save(store, simple_journey(f"{name}@example.com", NOW - timedelta(hours=1), landing))
        for name in ("won-gclid", "won-wbraid", "won-none"):
            async with store.transaction() as tx:
                await outcomes.set_outcome(tx, ids[name], outcomes.Outcome("won", 300.0), "GBP")
        return ids

    run_store(database_url, work)
    result = CliRunner().invoke(
        main,
        ["export", "--google-ads", "--hashed-email"],
        env={
            "LEADTRAIL_SECRET_KEY": TEST_SECRET,
            "LEADTRAIL_DATABASE_URL": database_url,
            "LEADTRAIL_TIMEZONE": "Europe/London",
        },
    )
    assert result.exit_code == 0, result.output
    first, rest = result.stdout.replace("\r\n", "\n").split("\n", 1)
    assert first == "Parameters:TimeZone=Europe/London"
    rows = list(csv.DictReader(io.StringIO(rest)))
    assert {(r["Google Click ID"], r["WBRAID"]) for r in rows} == {("Cj0KCQ-abc", ""), ("", "WB123")}
    assert all(r["Conversion Value"] == "300.00" and r["Conversion Currency"] == "GBP" for r in rows)
    assert "@" not in result.stdout
    assert {r["Email"] for r in rows} == {
        adexport.normalised_email_hash(f"{n}@example.com") for n in ("won-gclid", "won-wbraid")
    }
    datetime.strptime(rows[0]["Conversion Time"], "%Y-%m-%d %H:%M:%S")
    future = cli(database_url, "export", "--google-ads", "--since", (NOW + timedelta(days=2)).date().isoformat())
    assert len(future.stdout.strip().splitlines()) == 2, "header lines only"
    assert cli(database_url, "export", "--google-ads", "--since", "soon").exit_code == 2


def test_outcome_parsing_is_shared_by_the_api_and_the_form():
    """The form's typed value ("1,200.50", empty) and the API's number give the same outcome; rubbish is refused."""
    assert outcomes.parse_outcome_form("won", "1,200.50") == outcomes.parse_outcome({"status": "won", "value": 1200.5})
    assert outcomes.parse_outcome_form("lost", " ") == outcomes.Outcome("lost", None)
    for status, value in (("won", "ten"), ("won", "-5"), ("maybe", "")):
        with pytest.raises(outcomes.OutcomeError):
            outcomes.parse_outcome_form(status, value)


def test_bearer_tokens_have_a_recognisable_shape():
    """A new token is lt_ plus 43 URL-safe characters and parses back out of the header; other shapes do not."""
    token = tokens.new_token()
    assert tokens.bearer_token(f"Bearer {token}") == token == tokens.bearer_token(f"bearer   {token} ")
    assert tokens.bearer_token(f"Token {token}") is None and tokens.bearer_token("Bearer lt_short") is None
