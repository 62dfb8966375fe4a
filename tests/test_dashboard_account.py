"""The owner's account page over HTTP, on SQLite and PostgreSQL: its details, changing the
password (current one checked and throttled like a login, the same rules for the new one, other
sessions ended, this one kept), signing out everywhere else, CSRF on both forms."""

from __future__ import annotations

import re
from html import unescape

import pytest
from support import app_client, make_settings, run_store
from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD, csrf_from, login

from leadtrail.accounts.keys import Keys, new_token
from leadtrail.accounts.owner import Owner
from leadtrail.accounts.passwords import MAX_PASSWORD, new_password_problem, password_problem
from leadtrail.accounts.throttling import FREE_ATTEMPTS_PER_CLIENT, THROTTLE_WINDOW
from leadtrail.accounts.users import account_details
from leadtrail.routes.dashboard.account import notice_of
from leadtrail.store import dashboard as db
from leadtrail.store import utcnow

NEW_PASSWORD = "a quieter lighthouse at dawn"


def password_hash(url: str) -> str:
    return run_store(url, lambda store: db.owner_by_email(store, OWNER_EMAIL))["password_hash"]


def account_attempts(url: str) -> int:
    """Failed-login attempts recorded for the owner's account inside the window."""
    keys = Keys(make_settings(url).secret_key)

    async def work(store):
        since = utcnow() - THROTTLE_WINDOW
        counts = await db.attempt_counts(store, keys.account_key(OWNER_EMAIL), keys.address_key("-"), since, 0)
        return counts["account_n"]

    return run_store(url, work)


def signed_in(client) -> bool:
    return client.get("/cp/", follow_redirects=False).status_code == 200


def change(client, current: str = OWNER_PASSWORD, new: str = NEW_PASSWORD, confirm: str | None = None, **extra):
    """Posts the change-password form with the page's own CSRF token (unless `extra` overrides it)."""
    token = csrf_from(client.get("/cp/account").text)
    data = {
        "csrf_token": token,
        "current_password": current,
        "new_password": new,
        "new_password_confirm": new if confirm is None else confirm,
        **extra,
    }
    return client.post("/cp/account", data={k: v for k, v in data.items() if v is not None}, follow_redirects=False)


def text_of(html: str) -> str:
    return " ".join(unescape(html).split())


# -- the page --------------------------------------------------------------------------------------------


def test_account_page_needs_a_login(owner_db):
    with app_client(owner_db) as client:
        page = client.get("/cp/account", follow_redirects=False)
        post = client.post(
            "/cp/account",
            data={
                "csrf_token": "x" * 43,
                "current_password": OWNER_PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
            follow_redirects=False,
        )
        others = client.post("/cp/account/sign-out-others", data={"csrf_token": "x" * 43}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/cp/login?next=/cp/account"
    assert post.status_code == 403 and others.status_code == 403
    assert password_hash(owner_db) and login_works(owner_db, OWNER_PASSWORD)


def test_account_page_shows_address_created_last_login_and_is_in_the_nav(owner_db):
    never = run_store(owner_db, lambda store: account_details(store, Owner(1, OWNER_EMAIL), new_token()))
    assert never["last_login_at"] is None and never["other_sessions"] == 0
    with app_client(owner_db) as client:
        assert login(client).status_code == 303
        home = client.get("/cp/")
        page = client.get("/cp/account")
    assert 'href="/cp/account"' in home.text
    assert page.status_code == 200 and 'aria-current="page">Account<' in page.text
    text = text_of(page.text)
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", page.text))
    today = utcnow().strftime("%-d %b %Y, ")  # TIMEZONE is UTC here
    assert facts["E-mail address"] == OWNER_EMAIL
    assert facts["Account created"].startswith(today) and facts["Account created"].endswith(" UTC")
    assert facts["Last login"].startswith(today)
    assert "not logged in anywhere else" in text
    assert "password_hash" not in page.text and "$argon2" not in page.text


# -- changing the password ---------------------------------------------------------------------------------


def login_works(url: str, password: str) -> bool:
    with app_client(url) as client:
        return login(client, password=password).status_code == 303


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(owner_db):
    before = password_hash(owner_db)
    with app_client(owner_db) as client, app_client(owner_db) as other:
        assert login(client).status_code == 303 and login(other).status_code == 303
        old_cookie = dict(client.cookies)
        assert "logged in from 1 other browser" in text_of(client.get("/cp/account").text)
        r = change(client)
        assert r.status_code == 303 and r.headers["location"] == "/cp/account?changed=1"
        assert "leadtrail_session=" in r.headers["set-cookie"]  # this browser: a new session id
        done = client.get(r.headers["location"])
        assert done.status_code == 200
        assert "Your password has been changed" in done.text and "not logged in anywhere else" in done.text
        assert signed_in(client)
        assert not signed_in(other)  # the other browser's session has ended
        assert dict(client.cookies) != old_cookie
    with app_client(owner_db) as replay:  # the old cookie of this browser no longer works either
        for name, value in old_cookie.items():
            replay.cookies.set(name, value)
        assert not signed_in(replay)
    after = password_hash(owner_db)
    assert after != before and after.startswith("$argon2id$")
    assert not login_works(owner_db, OWNER_PASSWORD)
    assert login_works(owner_db, NEW_PASSWORD)


def test_a_wrong_current_password_is_refused_and_counted_like_a_failed_login(owner_db):
    before = password_hash(owner_db)
    with app_client(owner_db) as client, app_client(owner_db) as other:
        login(client)
        login(other)
        assert account_attempts(owner_db) == 0
        r = change(client, current="not my password at all")
        assert r.status_code == 400 and "current password is not right" in r.text
        assert 'name="current_password"' in r.text and "not my password" not in r.text  # never echoed
        assert account_attempts(owner_db) == 1
        for _ in range(FREE_ATTEMPTS_PER_CLIENT - 1):
            assert change(client, current="not my password at all").status_code == 400
        # Throttled now: even the right current password is not checked, and logging in from this
        # browser is paused too.
        throttled = change(client)
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
        assert "Too many attempts" in throttled.text
        assert signed_in(client) and signed_in(other)
        client.post("/cp/logout", data={"csrf_token": csrf_from(client.get("/cp/account").text)})
        assert login(client).status_code == 429
    assert password_hash(owner_db) == before


def test_mismatched_new_passwords_are_refused_without_spending_an_attempt(owner_db):
    before = password_hash(owner_db)
    with app_client(owner_db) as client, app_client(owner_db) as other:
        login(client)
        login(other)
        r = change(client, confirm=NEW_PASSWORD + "!")
        assert r.status_code == 400 and "The two new passwords differ." in r.text
        assert signed_in(client) and signed_in(other)
    assert password_hash(owner_db) == before and account_attempts(owner_db) == 0


@pytest.mark.parametrize(
    "weak, why",
    [
        ("short", "at least 10 characters"),
        ("aaaaaaaaaaaaaa", "more than a few different characters"),
        (OWNER_EMAIL.upper(), "not your e-mail address"),
        (OWNER_PASSWORD, "not the one you typed as your current one"),
        ("x" * (MAX_PASSWORD + 1), f"at most {MAX_PASSWORD}"),
    ],
)
def test_a_weak_new_password_is_refused_by_the_same_rules_as_user_add(owner_db, weak, why):
    """Refused before the current password is checked: no attempt counted, nothing changed."""
    before = password_hash(owner_db)
    with app_client(owner_db) as client, app_client(owner_db) as other:
        login(client)
        login(other)
        r = change(client, new=weak)
        assert r.status_code == 400 and why in r.text
        assert signed_in(client) and signed_in(other)
    assert password_hash(owner_db) == before and account_attempts(owner_db) == 0
    assert new_password_problem(OWNER_EMAIL, weak, weak) == (
        None if weak == OWNER_PASSWORD else password_problem(weak, OWNER_EMAIL)
    )


def test_both_account_forms_need_their_csrf_token_and_a_same_origin_post(owner_db):
    before = password_hash(owner_db)
    with app_client(owner_db) as client, app_client(owner_db) as other:
        login(client)
        login(other)
        other_token = csrf_from(other.get("/cp/account").text)
        token = csrf_from(client.get("/cp/account").text)
        refused = [
            change(client, csrf_token=None),
            change(client, csrf_token="x" * 43),
            change(client, csrf_token=other_token),
        ]
        fields = {
            "csrf_token": token,
            "current_password": OWNER_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        }
        refused.append(
            client.post(
                "/cp/account",
                data=fields,
                follow_redirects=False,
                headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            )
        )
        refused.append(client.post("/cp/account", json=fields, follow_redirects=False))
        for data in ({}, {"csrf_token": "x" * 43}, {"csrf_token": other_token}):
            refused.append(client.post("/cp/account/sign-out-others", data=data, follow_redirects=False))
        refused.append(
            client.post(
                "/cp/account/sign-out-others",
                data={"csrf_token": token},
                headers={"Origin": "https://evil.example"},
                follow_redirects=False,
            )
        )
        for r in refused:
            assert r.status_code == 403, r.text
            assert "leadtrail_session" not in r.headers.get("set-cookie", "")
        assert signed_in(client) and signed_in(other)
    assert password_hash(owner_db) == before and account_attempts(owner_db) == 0


# -- signing out everywhere else ------------------------------------------------------------------------------


def test_sign_out_everywhere_else_ends_the_other_sessions_only(owner_db):
    before = password_hash(owner_db)
    with app_client(owner_db) as client, app_client(owner_db) as phone, app_client(owner_db) as laptop:
        for c in (client, phone, laptop):
            assert login(c).status_code == 303
        page = client.get("/cp/account")
        assert "logged in from 2 other browsers" in text_of(page.text)
        r = client.post(
            "/cp/account/sign-out-others", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == "/cp/account?signed_out=2"
        assert "set-cookie" not in r.headers  # this session is kept as it is
        assert "Signed out 2 other sessions" in client.get(r.headers["location"]).text
        assert signed_in(client)
        assert not signed_in(phone) and not signed_in(laptop)
        again = client.post("/cp/account/sign-out-others", data={"csrf_token": csrf_from(page.text)})
        assert "no other sessions to sign out" in again.text
    assert password_hash(owner_db) == before  # the password is untouched


def test_confirmation_notices_come_only_from_well_formed_query_values():
    assert notice_of({"changed": "1"}).startswith("Your password has been changed")
    assert notice_of({"signed_out": "1"}).startswith("Signed out 1 other session.")
    assert notice_of({"signed_out": "0"}) == "There were no other sessions to sign out."
    for bad in ({"signed_out": "٣"}, {"signed_out": "-1"}, {"signed_out": "9" * 40}, {"changed": "yes"}, {}):
        assert notice_of(bad) is None
