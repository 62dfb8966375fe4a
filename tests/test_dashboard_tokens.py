"""API tokens from the Account page, over HTTP on SQLite and PostgreSQL: an owner makes one (shown
in that answer only, never stored in the clear), it opens /api/v1/, the page lists it with its last
use, a taken or bad name is refused with nothing made, revoking it closes the API to it; a viewer
sees no token section and is refused both forms."""

from __future__ import annotations

import re
from html import unescape

from support import app_client, run_store
from test_dashboard_helpers import csrf_from, login
from test_team import MEMBER_PASSWORD, VIEWER_EMAIL, add_member, text_of

from leadtrail import tokens

SHOWN = re.compile(r'<textarea id="new-token"[^>]*>([^<]+)</textarea>')


def live_tokens(url: str) -> list[dict]:
    return run_store(url, tokens.list_tokens)


def create(client, name: str):
    page = client.get("/cp/account")
    return client.post("/cp/account/tokens", data={"csrf_token": csrf_from(page.text), "name": name})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_owner_makes_uses_and_revokes_a_token_from_the_account_page(owner_db):
    with app_client(owner_db) as client:
        assert login(client).status_code == 303
        assert "No tokens yet." in text_of(client.get("/cp/account").text)
        made = create(client, "  Pipedrive CRM ")
        assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
        token = unescape(SHOWN.search(made.text).group(1))
        assert tokens.bearer_token(f"Bearer {token}") == token
        assert "shown only this once" in text_of(made.text)
        assert [t["name"] for t in live_tokens(owner_db)] == ["Pipedrive CRM"]  # trimmed
        stored = run_store(
            owner_db, lambda store: store.fetch("api_token_by_hash", token_hash=tokens.token_hash(token))
        )
        assert len(stored) == 1 and token not in str(stored)  # only the hash is stored

        again = client.get("/cp/account")
        assert token not in again.text and SHOWN.search(again.text) is None  # shown once
        assert "Pipedrive CRM" in again.text and "never used" in text_of(again.text)
        assert client.get("/api/v1/journeys", headers=bearer(token)).status_code == 200
        assert "last used" in text_of(client.get("/cp/account").text)

        page = client.get("/cp/account")
        revoked = client.post(
            "/cp/account/tokens/revoke",
            data={"csrf_token": csrf_from(page.text), "name": "Pipedrive CRM"},
            follow_redirects=False,
        )
        assert revoked.status_code == 303 and revoked.headers["location"] == "/cp/account?revoked=1#tokens"
        assert "requests with it are refused" in text_of(client.get(revoked.headers["location"]).text)
        assert client.get("/api/v1/journeys", headers=bearer(token)).status_code == 401
        assert live_tokens(owner_db) == []
        twice = client.post(
            "/cp/account/tokens/revoke",
            data={"csrf_token": csrf_from(page.text), "name": "Pipedrive CRM"},
            follow_redirects=False,
        )
        assert twice.headers["location"] == "/cp/account?revoked=0#tokens"


def test_a_taken_or_bad_name_is_refused_and_nothing_is_made(owner_db):
    with app_client(owner_db) as client:
        assert login(client).status_code == 303
        assert create(client, "zapier").status_code == 200
        for name, says in (
            ("zapier", "a token named 'zapier' exists"),
            ("", "enter a name for the token"),
            ("<script>x</script>", "a token name is 1-64 characters"),
            ("x" * 65, "a token name is 1-64 characters"),
        ):
            refused = create(client, name)
            assert refused.status_code == 400, name
            assert says in unescape(refused.text).lower(), name
            assert SHOWN.search(refused.text) is None and "<script>x" not in refused.text
        assert [t["name"] for t in live_tokens(owner_db)] == ["zapier"]


def test_a_viewer_has_no_token_section_and_is_refused_its_forms(owner_db):
    add_member(owner_db, VIEWER_EMAIL, "viewer")
    with app_client(owner_db) as owner:
        assert login(owner).status_code == 303
        assert create(owner, "n8n").status_code == 200
    with app_client(owner_db) as viewer:
        assert login(viewer, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 303
        page = viewer.get("/cp/account")
        assert page.status_code == 200 and "API tokens" not in page.text and "n8n" not in page.text
        csrf = csrf_from(page.text)
        made = viewer.post("/cp/account/tokens", data={"csrf_token": csrf, "name": "mine"})
        gone = viewer.post("/cp/account/tokens/revoke", data={"csrf_token": csrf, "name": "n8n"})
        assert made.status_code == gone.status_code == 403
    assert [t["name"] for t in live_tokens(owner_db)] == ["n8n"]
