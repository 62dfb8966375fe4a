"""Dashboard accounts and sessions over HTTP, on SQLite and PostgreSQL: login, cookies, CSRF,
throttling, logout, the setup link, and the headers every /cp/ response carries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from support import app_client, make_settings, run_store
from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD, csrf_from, hostile_journey, login, save

from leadtrail.accounts import passwords
from leadtrail.accounts.keys import Keys
from leadtrail.accounts.owner import AccountError
from leadtrail.accounts.passwords import authenticate
from leadtrail.accounts.sessions import SESSION_IDLE, session_owner, start_session
from leadtrail.accounts.setup import setup_token, setup_token_valid
from leadtrail.accounts.throttling import (
    FREE_ATTEMPTS_PER_CLIENT,
    MAX_ATTEMPTS_PER_ADDRESS,
    THROTTLE_WINDOW,
    Throttled,
    begin_attempt,
)
from leadtrail.accounts.users import create_user
from leadtrail.ingest import normalise_email, valid_email
from leadtrail.store import dashboard as db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def session_cookie(response) -> str:
    cookies = response.headers.get_list("set-cookie")
    [cookie] = [c for c in cookies if "leadtrail_session=" in c]
    return cookie


def parsed_tags(html: str) -> list[tuple[str, dict]]:
    """Every start tag as the browser's parser sees it: (name, attributes)."""
    from html.parser import HTMLParser

    tags: list[tuple[str, dict]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    Collector().feed(html)
    return tags


def journeys_count(url: str) -> int:
    return run_store(url, lambda store: store.count("journeys"))


# -- redirects and headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/cp/",
        "/cp/insights",
        "/cp/journeys/1",
        "/cp/journeys/1.json",
        "/cp/journeys/1/erase",
        "/cp/export.csv",
        "/cp/account",
        "/cp/anything",
    ],
)
def test_unauthenticated_pages_redirect_to_login(sqlite_url, path):
    """Every dashboard page sends a visitor without a session to the login form, and back afterwards."""
    with app_client(sqlite_url) as client:
        r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/cp/login")
    assert "Set-Cookie" not in r.headers or "leadtrail_session" not in r.headers["set-cookie"]


def test_cp_without_slash_and_head_requests(sqlite_url):
    with app_client(sqlite_url) as client:
        r = client.get("/cp", follow_redirects=False)
        assert r.status_code in (301, 307, 308) and r.headers["location"].endswith("/cp/")
        assert client.head("/cp/login").status_code == 200


def test_unauthenticated_posts_are_refused(sqlite_url):
    with app_client(sqlite_url) as client:
        r = client.post("/cp/journeys/1/erase", data={"csrf_token": "x"}, follow_redirects=False)
    assert r.status_code == 403


def test_every_cp_response_carries_the_security_headers(owner_db):
    """CSP (no inline script or style), nosniff, Referrer-Policy, frame denial; no-store on pages."""
    journey_id = run_store(owner_db, lambda s: save(s, hostile_journey(datetime.now(UTC))))
    with app_client(owner_db) as client:
        responses = {"login": client.get("/cp/login")}
        assert login(client).status_code == 303
        for name, path in [
            ("list", "/cp/"),
            ("journey", f"/cp/journeys/{journey_id}"),
            ("json", f"/cp/journeys/{journey_id}.json"),
            ("csv", "/cp/export.csv"),
            ("insights", "/cp/insights"),
            ("missing", "/cp/journeys/999999"),
            ("erase", f"/cp/journeys/{journey_id}/erase"),
            ("account", "/cp/account"),
            ("unknown", "/cp/nope"),
        ]:
            responses[name] = client.get(path)
        responses["405"] = client.request("PUT", "/cp/login")
        static = client.get("/cp/static/cp.css")
    for name, r in responses.items():
        assert r.headers["content-security-policy"] == CSP, name
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin"), name
        assert r.headers["x-frame-options"] == "DENY", name
        assert r.headers["cache-control"] == "no-store", name
    assert responses["missing"].status_code == 404 and responses["unknown"].status_code == 404
    assert responses["405"].status_code == 405
    assert static.status_code == 200 and static.headers["content-security-policy"] == CSP
    assert "no-store" not in static.headers["cache-control"]
    # No inline script or style anywhere: the CSP would block it, so the page must not need it.
    for name in ("login", "list", "journey", "insights", "erase", "account"):
        html = responses[name].text
        tags = parsed_tags(html)
        assert not [a for t, a in tags if t == "script" and "src" not in a], name
        assert not [t for t, a in tags if t == "style" or "style" in a], name
        assert not [a for t, a in tags if any(k.startswith("on") for k in a)], name


# -- login ----------------------------------------------------------------------------------------------


def test_login_sets_a_strict_httponly_session_cookie_over_http(owner_db):
    """Over plain HTTP (a local run) the cookie is leadtrail_session: HttpOnly, SameSite=Strict, no Secure."""
    with app_client(owner_db) as client:
        form = client.get("/cp/login")
        assert 'name="email"' in form.text and 'name="password"' in form.text
        r = login(client)
        assert r.status_code == 303 and r.headers["location"] == "/cp/"
        cookie = session_cookie(r)
        assert client.get("/cp/", follow_redirects=False).status_code == 200
    assert cookie.startswith("leadtrail_session=")
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs and "samesite=strict" in attrs and "path=/" in attrs
    assert "secure" not in attrs and not any(a.startswith("domain") for a in attrs)
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 43  # 256 random bits, base64url


def test_login_over_https_uses_a_host_prefixed_secure_cookie(owner_db):
    """Over HTTPS the cookie is __Host-leadtrail_session: Secure, Path=/, no Domain."""
    with app_client(owner_db) as client:
        client.base_url = "https://testserver"
        r = login(client)
        assert r.status_code == 303
        cookie = session_cookie(r)
        assert client.get("/cp/", follow_redirects=False).status_code == 200
        # The plain-HTTP name is not honoured over HTTPS.
        value = cookie.split(";")[0].split("=", 1)[1]
        client.cookies.clear()
        client.cookies.set("leadtrail_session", value)
        assert client.get("/cp/", follow_redirects=False).status_code == 303
    assert cookie.startswith("__Host-leadtrail_session=")
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= set(attrs)
    assert not any(a.startswith("domain") for a in attrs)


def test_https_through_a_trusted_proxy_is_recognised(owner_db):
    """Behind a proxy listed in TRUSTED_PROXIES that says X-Forwarded-Proto: https, the cookie is
    the __Host- one; the same header from anyone else changes nothing."""
    from starlette.testclient import TestClient
    from support import CHROME_UA

    from leadtrail.app import create_app

    def cookie_via(peer: str) -> str:
        app = create_app(make_settings(owner_db, trusted_proxies="10.0.0.0/8"))
        with TestClient(
            app, client=(peer, 40000), headers={"User-Agent": CHROME_UA, "X-Forwarded-Proto": "https"}
        ) as client:
            # The proxy speaks plain HTTP to us, so the client's jar would hold back Secure cookies:
            # carry the pre-login cookie by hand, as the browser on the HTTPS side would.
            page = client.get("/cp/login")
            pre = page.headers["set-cookie"].split(";")[0]
            client.cookies.clear()
            r = client.post(
                "/cp/login",
                data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": csrf_from(page.text)},
                headers={"Cookie": pre},
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
            return session_cookie(r)

    assert cookie_via("10.1.2.3").startswith("__Host-leadtrail_session=")
    assert cookie_via("203.0.113.9").startswith("leadtrail_session=")


def test_wrong_password_and_unknown_address_get_the_same_answer(owner_db):
    """Same status and same page (bar the echoed address) for a wrong password and an unknown user."""
    with app_client(owner_db) as client:
        wrong = login(client, password="not the password at all")
        unknown = login(client, email="nobody@studio.example", password="not the password at all")
        assert client.get("/cp/", follow_redirects=False).status_code == 303
    assert wrong.status_code == unknown.status_code == 200
    assert "leadtrail_session" not in wrong.headers.get("set-cookie", "")

    def scrub(html: str) -> str:
        return re.sub(r'value="[^"]*@[^"]*"', 'value=""', html)

    assert scrub(wrong.text) == scrub(unknown.text)
    assert "do not match" in wrong.text


@pytest.mark.parametrize("email", ["owner\x00@studio.example", "own\x01er@studio.example", "owner@studio.example\x00"])
def test_a_control_character_in_the_login_address_is_a_failed_login(owner_db, email):
    """A NUL (which PostgreSQL cannot take) or another control character in the address is the
    usual failed login, on both databases; such an address can never be an owner's either."""
    with app_client(owner_db) as client:
        r = login(client, email=email)
        assert r.status_code == 200 and "do not match" in r.text
        assert "leadtrail_session" not in r.headers.get("set-cookie", "")
    assert not valid_email(normalise_email(email))


def test_login_needs_its_csrf_token_and_a_same_origin_post(owner_db):
    """Without the form's token, with a token not matching the cookie, or from another site: 403."""
    with app_client(owner_db) as client:
        page = client.get("/cp/login")
        token = csrf_from(page.text)
        no_token = client.post(
            "/cp/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}, follow_redirects=False
        )
        forged = client.post(
            "/cp/login",
            data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token[::-1]},
            follow_redirects=False,
        )
        cross_site = client.post(
            "/cp/login",
            data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            follow_redirects=False,
        )
        client.cookies.clear()
        no_cookie = client.post(
            "/cp/login",
            data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
    for r in (no_token, forged, cross_site, no_cookie):
        assert r.status_code == 403
        assert "leadtrail_session" not in r.headers.get("set-cookie", "")


def test_login_redirects_only_inside_the_dashboard(owner_db):
    with app_client(owner_db) as client:
        ok = login(client, next="/cp/insights?from=2026-01-01")
        client.cookies.clear()
        evil = login(client, next="//evil.example/cp/")
        client.cookies.clear()
        evil2 = login(client, next="https://evil.example/")
    assert ok.headers["location"] == "/cp/insights?from=2026-01-01"
    assert evil.headers["location"] == "/cp/" and evil2.headers["location"] == "/cp/"


def test_each_login_gets_a_new_session_id_and_ends_the_old_one(owner_db):
    """A login never reuses a session id (no fixation): the browser gets a new one, and a session
    cookie it already held is ended."""
    with app_client(owner_db) as client:
        first = session_cookie(login(client)).split(";")[0]
        name, value = first.split("=", 1)
        # The cookie as the jar holds it (domain "testserver.local"): cookies.set(name, value) would
        # file it under domain "" beside the one the next login sets, and both would be sent.
        [held] = [c for c in client.cookies.jar if c.name == name]
    with app_client(owner_db) as client:
        page = client.get("/cp/login")  # a login form loaded before the cookie below was set
        client.cookies.jar.set_cookie(held)
        r = client.post(
            "/cp/login",
            data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": csrf_from(page.text)},
            follow_redirects=False,
        )
        second = session_cookie(r).split(";")[0]
        assert second != first
        assert client.get("/cp/", follow_redirects=False).status_code == 200
    with app_client(owner_db) as other:
        other.cookies.set(name, value)
        assert other.get("/cp/", follow_redirects=False).status_code == 303


# -- throttling -------------------------------------------------------------------------------------------


def test_failed_logins_are_throttled_per_account_and_client(owner_db):
    """After five failures from one client the account answers it 429 with Retry-After, even to
    the right password, and another worker process sharing the database agrees."""
    with app_client(owner_db) as client:
        for _ in range(FREE_ATTEMPTS_PER_CLIENT):
            assert "do not match" in login(client, password="wrong password!!").text
        throttled = login(client)
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0
        assert "leadtrail_session" not in throttled.headers.get("set-cookie", "")
        assert "Too many attempts" in throttled.text
    with app_client(owner_db) as another_worker:
        assert login(another_worker).status_code == 429


def test_failed_logins_are_throttled_per_client_address(owner_db):
    """One address guessing across many accounts is stopped too."""
    with app_client(owner_db) as client:
        for i in range(MAX_ATTEMPTS_PER_ADDRESS):
            assert "do not match" in login(client, email=f"guess{i}@studio.example", password="wrong password!!").text
        assert login(client, email="another@studio.example", password="wrong password!!").status_code == 429


def test_throttling_forgets_attempts_after_the_window(owner_db):
    """A refused attempt is not counted (no endless lock-out); old ones fall out of the window."""
    keys = Keys(make_settings(owner_db).secret_key)

    async def work(store):
        now = datetime.now(UTC)
        past = now - THROTTLE_WINDOW - timedelta(seconds=5)
        for _ in range(FREE_ATTEMPTS_PER_CLIENT):
            assert isinstance(await begin_attempt(store, keys, OWNER_EMAIL, "1.2.3.4", past), int)
        fresh = await begin_attempt(store, keys, OWNER_EMAIL, "1.2.3.4", now)
        for _ in range(FREE_ATTEMPTS_PER_CLIENT - 1):
            await begin_attempt(store, keys, OWNER_EMAIL, "1.2.3.4", now)
        refused = [await begin_attempt(store, keys, OWNER_EMAIL, "1.2.3.4", now) for _ in range(3)]
        counts = await db.attempt_counts(
            store, keys.account_key(OWNER_EMAIL), keys.address_key("1.2.3.4"), now - THROTTLE_WINDOW, 0
        )
        return fresh, refused, counts

    fresh, refused, counts = run_store(owner_db, work)
    assert isinstance(fresh, int)
    assert all(isinstance(r, Throttled) for r in refused)
    assert counts["account_n"] == counts["pair_n"] == FREE_ATTEMPTS_PER_CLIENT


# -- sessions, logout, CSRF on actions ----------------------------------------------------------------------


def test_logout_needs_csrf_and_ends_the_session_everywhere(owner_db):
    with app_client(owner_db) as client:
        cookie = session_cookie(login(client)).split(";")[0]
        page = client.get("/cp/")
        refused = client.post("/cp/logout", data={}, follow_redirects=False)
        assert refused.status_code == 403
        assert client.get("/cp/", follow_redirects=False).status_code == 200
        out = client.post("/cp/logout", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"].startswith("/cp/login")
        assert client.get("/cp/", follow_redirects=False).status_code == 303
    with app_client(owner_db) as replay:
        name, value = cookie.split("=", 1)
        replay.cookies.set(name, value)
        assert replay.get("/cp/", follow_redirects=False).status_code == 303


def test_sessions_are_stored_hashed_and_expire(owner_db):
    async def work(store):
        owner = await authenticate(store, OWNER_EMAIL, OWNER_PASSWORD)
        now = datetime.now(UTC)
        token = await start_session(store, owner, now)
        raw = await store.fetch("cp_session_get", id_hash=token, now=now, idle_since=now - timedelta(days=1))
        live = await session_owner(store, token, now + timedelta(hours=1))
        idle = await session_owner(store, token, now + SESSION_IDLE + timedelta(hours=2))
        token2 = await start_session(store, owner, now)
        for hours in range(0, 24 * 8, 6):  # used every 6 hours: still ends at the absolute lifetime
            last = await session_owner(store, token2, now + timedelta(hours=hours))
        return raw, live, idle, last

    raw, live, idle, last = run_store(owner_db, work)
    assert raw == []  # the cookie value itself is not a key of the table
    assert live is not None and live.email == OWNER_EMAIL
    assert idle is None and last is None


def test_actions_without_a_valid_csrf_token_are_refused_and_change_nothing(owner_db):
    journey_id = run_store(owner_db, lambda s: save(s, hostile_journey(datetime.now(UTC), "a@b.example")))
    with app_client(owner_db) as client:
        login(client)
        page = client.get(f"/cp/journeys/{journey_id}/erase")
        token = csrf_from(page.text)
        with app_client(owner_db) as other:
            login(other)
            other_token = csrf_from(other.get("/cp/").text)
        attempts = [
            client.post(f"/cp/journeys/{journey_id}/erase", data={}, follow_redirects=False),
            client.post(f"/cp/journeys/{journey_id}/erase", data={"csrf_token": "x" * 43}, follow_redirects=False),
            client.post(f"/cp/journeys/{journey_id}/erase", data={"csrf_token": other_token}, follow_redirects=False),
            client.post(
                f"/cp/journeys/{journey_id}/erase",
                data={"csrf_token": token},
                headers={"Origin": "https://evil.example"},
                follow_redirects=False,
            ),
            client.post(f"/cp/journeys/{journey_id}/erase", json={"csrf_token": token}, follow_redirects=False),
        ]
        for r in attempts:
            assert r.status_code == 403
        assert journeys_count(owner_db) == 1
        done = client.post(f"/cp/journeys/{journey_id}/erase", data={"csrf_token": token}, follow_redirects=False)
        assert done.status_code == 303
    assert journeys_count(owner_db) == 0


# -- first owner -------------------------------------------------------------------------------------------


def test_setup_link_is_printed_and_works_once(database_url, capsys):
    """With no owner, start-up prints a one-time link; it creates the owner and logs them in, and
    nothing can be done with it afterwards."""
    with app_client(database_url) as client:
        printed = capsys.readouterr().err
        match = re.search(r"http://127\.0\.0\.1:8000(/cp/setup\?token=([A-Za-z0-9_-]+))", printed)
        assert match, printed
        link, token = match.group(1), match.group(2)
        assert "No owner account yet" in client.get("/cp/login").text
        assert client.get("/cp/setup?token=" + "x" * 43).status_code == 403
        form = client.get(link)
        assert form.status_code == 200
        fields = {"csrf_token": csrf_from(form.text), "token": token, "email": "Mira@Studio.example"}
        weak = client.post(
            "/cp/setup", data={**fields, "password": "short", "password_confirm": "short"}, follow_redirects=False
        )
        assert weak.status_code == 400 and "at least 10" in weak.text
        done = client.post(
            "/cp/setup",
            data={**fields, "password": OWNER_PASSWORD, "password_confirm": OWNER_PASSWORD},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"].startswith("/cp/")
        assert client.get("/cp/", follow_redirects=False).status_code == 200
        again = client.post(
            "/cp/setup",
            data={
                **fields,
                "email": "intruder@evil.example",
                "password": OWNER_PASSWORD,
                "password_confirm": OWNER_PASSWORD,
            },
            follow_redirects=False,
        )
        assert again.status_code in (400, 403)
        assert client.get(link).status_code == 410
    owners = run_store(database_url, lambda store: store.fetch("cp_owner_by_email", email="intruder@evil.example"))
    assert owners == []
    [mira] = run_store(database_url, lambda store: store.fetch("cp_owner_by_email", email="mira@studio.example"))
    mira = run_store(database_url, lambda store: db.owner_by_id(store, mira["id"]))
    assert mira["last_login_at"] is not None  # the setup page signed her in: that is a login
    assert run_store(database_url, db.owner_count) == 1
    with app_client(database_url) as client:
        assert "/cp/setup" not in capsys.readouterr().err  # an owner exists: no link any more
        assert login(client, email="mira@studio.example").status_code == 303


def test_setup_token_is_the_same_for_every_worker_and_stored_hashed(database_url):
    keys = Keys(make_settings(database_url).secret_key)

    async def work(store):
        first = await setup_token(store, keys)
        second = await setup_token(store, keys)
        rows = await store.fetch("cp_setup_token_current", now=datetime.now(UTC))
        other_key = await setup_token(store, Keys("another-secret-key-0123456789"))
        await create_user(store, OWNER_EMAIL, OWNER_PASSWORD)
        after = await setup_token(store, keys)
        valid_after = await setup_token_valid(store, first)
        return first, second, rows, other_key, after, valid_after

    first, second, rows, other_key, after, valid_after = run_store(database_url, work)
    assert first == second and len(first) >= 43
    assert first not in str(rows)
    assert other_key != first  # made under another secret: replaced
    assert after is None and valid_after is False


# -- accounts -------------------------------------------------------------------------------------------------


def test_create_user_refuses_weak_passwords_bad_addresses_and_duplicates(sqlite_url):
    async def work(store):
        problems = []
        for email, password in [
            ("a@b.example", "short"),
            ("not-an-address", OWNER_PASSWORD),
            ("a@b.example", "aaaaaaaaaaaa"),
            ("a@b.example", "a@b.example"),
        ]:
            try:
                await create_user(store, email, password)
            except AccountError as exc:
                problems.append(str(exc))
        await create_user(store, " Owner@Studio.Example ", OWNER_PASSWORD)
        try:
            await create_user(store, "owner@studio.example", OWNER_PASSWORD + "x")
        except AccountError as exc:
            problems.append(str(exc))
        row = await db.owner_by_email(store, "owner@studio.example")
        return problems, row

    problems, row = run_store(sqlite_url, work)
    assert len(problems) == 5
    assert "10 characters" in problems[0] and "not an e-mail" in problems[1]
    assert "already exists" in problems[-1]
    assert row["password_hash"].startswith("$argon2id$")


def test_cli_user_add_reads_the_password_from_stdin(sqlite_url):
    from click.testing import CliRunner

    from leadtrail.cli import main

    runner = CliRunner()
    ok = runner.invoke(
        main,
        ["user", "add", "mira@studio.example", "--password-stdin", "--database-url", sqlite_url],
        input=OWNER_PASSWORD + "\n",
    )
    weak = runner.invoke(
        main, ["user", "add", "b@studio.example", "--password-stdin", "--database-url", sqlite_url], input="short\n"
    )
    again = runner.invoke(
        main,
        ["user", "add", "MIRA@studio.example", "--password-stdin", "--database-url", sqlite_url],
        input=OWNER_PASSWORD + "\n",
    )
    assert ok.exit_code == 0, ok.output
    assert weak.exit_code != 0 and "10 characters" in weak.output
    assert again.exit_code != 0 and "already exists" in again.output


def test_an_unknown_address_costs_one_argon2_verification_too(sqlite_url, monkeypatch):
    """Unknown addresses are checked against a dummy hash with the same parameters, so they take as
    long as a wrong password (measured by the work done, not by a timed assertion)."""
    calls = []
    real = passwords.verify
    monkeypatch.setattr(passwords, "verify", lambda h, p: calls.append(h) or real(h, p))

    async def work(store):
        await create_user(store, OWNER_EMAIL, OWNER_PASSWORD)
        unknown = await authenticate(store, "nobody@studio.example", OWNER_PASSWORD)
        wrong = await authenticate(store, OWNER_EMAIL, "wrong password!!")
        right = await authenticate(store, OWNER_EMAIL, OWNER_PASSWORD)
        return unknown, wrong, right

    unknown, wrong, right = run_store(sqlite_url, work)
    assert unknown is None and wrong is None and right is not None
    assert len(calls) == 3
    assert calls[0].startswith("$argon2id$") and calls[0] != calls[1]
    assert calls[0].split("$")[2:4] == calls[1].split("$")[2:4]  # same version and cost parameters
