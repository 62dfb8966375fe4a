"""Every route of the dashboard, read from the app's own route table (nested mounts and endpoint
classes included), one test case per (method, route) on SQLite and PostgreSQL: a route added
later without a guard, a CSRF check or a place in the allow-lists below fails here by itself.

For each route:
- nobody signed in: a GET is sent to the login page, anything else refused (403), unless the route
  is PUBLIC (logging in, the setup link, an invite link, the not-found catch-all);
- a signed-in viewer: 403 "Read-only access" and no download on every route outside VIEWER_MAY,
  even with a valid CSRF token; the routes in VIEWER_MAY are not refused to them;
- every method other than GET: refused (403) without the form's CSRF token, with a wrong one and
  with the right one sent cross-site; CSRF_FREE lists the one route that changes nothing anyway;
- an owner is not refused anything a viewer is (the viewer's 403 is the role's).
Nothing a refused request could change has changed afterwards (journeys, outcomes, members,
invites, sessions, passwords).

Also here: the invite-making function itself refuses a maker who is not an owner at that moment
(a viewer, or an owner removed since the route's guard looked), not only the route's guard.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from support import app_client, make_settings, run_store
from test_dashboard_helpers import OWNER_EMAIL, csrf_from, login
from test_team import MEMBER_PASSWORD, SECOND_OWNER, VIEWER_EMAIL, add_member, members, pending, seed_team, text_of

from leadtrail.accounts import team, users
from leadtrail.accounts.owner import Owner
from leadtrail.store import utcnow

ANY_METHOD = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Usable without being signed in (each checks what it needs itself).
PUBLIC = {
    ("GET", "/cp/login"),
    ("POST", "/cp/login"),
    ("POST", "/cp/logout"),  # without a session there is nothing to end: back to the login page
    ("GET", "/cp/setup"),
    ("POST", "/cp/setup"),
    ("GET", "/cp/invite/{token}"),
    ("POST", "/cp/invite/{token}"),
    ("GET", "/cp/{rest:path}"),
    ("POST", "/cp/{rest:path}"),
}

# What a signed-in viewer may use: pages that only show, and their own login. Everything else in
# the table answers them 403.
VIEWER_MAY = PUBLIC | {
    ("GET", "/cp/"),
    ("GET", "/cp/journeys/{journey_id:int}"),
    ("GET", "/cp/insights"),
    ("GET", "/cp/account"),
    ("POST", "/cp/account"),  # their own password
    ("POST", "/cp/account/sign-out-others"),  # their own other sessions
}

# Must stay owners' whatever the allow-lists say (erasure, every download, outcomes incl. moving
# an enquiry back from spam, the team).
OWNERS_ONLY = {
    ("GET", "/cp/export.csv"),
    ("GET", "/cp/export/google-ads.csv"),
    ("GET", "/cp/export/meta.csv"),
    ("GET", "/cp/journeys/{journey_id:int}.json"),
    ("GET", "/cp/journeys/{journey_id:int}/person.json"),
    ("GET", "/cp/journeys/{journey_id:int}/erase"),
    ("POST", "/cp/journeys/{journey_id:int}/erase"),
    ("POST", "/cp/journeys/{journey_id:int}/outcome"),
    ("POST", "/cp/account/invites"),
    ("POST", "/cp/account/invites/{invite_id:int}/revoke"),
    ("GET", "/cp/account/team/{member_id:int}/remove"),
    ("POST", "/cp/account/team/{member_id:int}/remove"),
}

# Answers 404 to every POST: nothing to forge.
CSRF_FREE = {("POST", "/cp/{rest:path}")}

# Mounted apps under /cp that are not routes of handlers: only the dashboard's static files.
MOUNTED_FILES = {"/cp/static"}


def cp_table(routes: list[BaseRoute], prefix: str = "") -> tuple[list[tuple[str, str]], set[str]]:
    """(method, full path pattern) of every route under /cp, nested mounts walked; and the paths
    of whatever else is mounted there (static files). An endpoint class (methods None) answers any
    method, so it is listed under each."""
    found: list[tuple[str, str]] = []
    other: set[str] = set()
    for route in routes:
        path = prefix + getattr(route, "path", "")
        inside = path == "/cp" or path.startswith("/cp/")
        if isinstance(route, Mount) and not isinstance(route.app, StaticFiles) and route.routes:
            more, rest = cp_table(list(route.routes), path)
            found += more
            other |= rest
        elif isinstance(route, Route) and inside:
            methods = sorted(route.methods) if route.methods else ANY_METHOD
            found += [(m, path) for m in methods if m != "HEAD"]  # HEAD goes where GET goes
        elif inside:
            other.add(path)
    return found, other


def _app_table() -> tuple[list[tuple[str, str]], set[str]]:
    from leadtrail.app import create_app

    # Building the app opens no database: the table is read without one.
    return cp_table(create_app(make_settings("sqlite:////nonexistent/leadtrail.db")).routes)


TABLE, MOUNTED = _app_table()


def test_the_table_is_what_the_lists_name():
    """Every name in the allow-lists is still in the table (a renamed route cannot keep a stale
    exemption), nothing is mounted under /cp but the static files, and the owners-only routes are
    not on the viewer's list."""
    table = set(TABLE)
    assert len(table) == len(TABLE), "a (method, route) appears twice in the table"
    assert VIEWER_MAY | OWNERS_ONLY | CSRF_FREE <= table, (VIEWER_MAY | OWNERS_ONLY | CSRF_FREE) - table
    assert not (OWNERS_ONLY & VIEWER_MAY)
    assert MOUNTED == MOUNTED_FILES
    assert len(table) >= 25  # the walk found the table, not an empty mount


def test_the_walk_finds_nested_routes_and_endpoint_classes():
    """The walker itself: a route in a nested mount and an endpoint class are listed."""
    from starlette.endpoints import HTTPEndpoint

    class Anything(HTTPEndpoint):
        async def get(self, request):  # pragma: no cover - never called
            raise AssertionError

    async def page(request):  # pragma: no cover - never called
        raise AssertionError

    routes: list[BaseRoute] = [
        Mount("/cp", routes=[Mount("/more", routes=[Route("/x", page, methods=["POST"])]), Route("/y", Anything)])
    ]
    found, _ = cp_table(routes)
    assert ("POST", "/cp/more/x") in found
    assert {("GET", "/cp/y"), ("POST", "/cp/y"), ("DELETE", "/cp/y")} <= set(found)


# -- one case per route --------------------------------------------------------------------------------


def seed(url: str) -> dict[str, int]:
    """test_team's seed (an owner, a viewer, a journey, a pending invite) and a second owner."""
    ids = seed_team(url)
    ids["partner"] = add_member(url, SECOND_OWNER, "owner")
    return ids


def concrete(pattern: str, ids: dict[str, int]) -> str:
    path = (
        pattern.replace("{journey_id:int}", str(ids["journey"]))
        .replace("{invite_id:int}", str(ids["invite"]))
        .replace("{member_id:int}", str(ids["partner"]))
        .replace("{token}", "A" * 43)
        .replace("{rest:path}", "nothing-here")
    )
    assert "{" not in path, f"a path parameter this test does not know: {pattern} (add it to concrete())"
    return path


def state(url: str, journey_id: int) -> tuple:
    """Everything a refused request could have changed."""

    async def work(store):
        now = utcnow()
        accounts = []
        for m in await team.members(store):
            row = await store.fetch("cp_owner_by_email", email=m["email"])
            live = await store.fetchval(
                "cp_sessions_count_others",
                owner_id=m["id"],
                keep_hash="",
                now=now,
                idle_since=now - timedelta(hours=12),
            )
            accounts.append((m["email"], m["role"], row[0]["password_hash"], int(live or 0)))
        return (
            await store.count("journeys"),
            [dict(r) for r in await store.fetch("journey_outcome", id=journey_id)],
            sorted(accounts),
            [(i["email"], i["role"]) for i in await team.pending_invites(store)],
        )

    return run_store(url, work)


# Every field any handler reads, so a refused request is refused for the right reason and not for
# a missing field.
FORM = {
    "status": "won",
    "value": "100",
    "email": "new@example.com",
    "role": "owner",
    "current_password": MEMBER_PASSWORD,
    "new_password": "eight loud herons singing",
    "new_password_confirm": "eight loud herons singing",
    "password": MEMBER_PASSWORD,
    "password_confirm": MEMBER_PASSWORD,
    "token": "A" * 43,
}


def send(client, method: str, path: str, data: dict | None = None, headers: dict | None = None):
    if method == "GET":
        return client.get(path, follow_redirects=False, headers=headers)
    return client.request(method, path, data=data or {}, follow_redirects=False, headers=headers)


# The pre-login forms: their CSRF token is the one their own page gives a signed-out browser.
PRE_LOGIN = {("POST", "/cp/login"), ("POST", "/cp/setup"), ("POST", "/cp/invite/{token}")}


def forgeries(client, method: str, path: str, token: str) -> list:
    """The same request without the token, with a made-up one, with a tampered one, and with
    the right one sent from another site."""
    return [
        send(client, method, path, FORM),
        send(client, method, path, {**FORM, "csrf_token": "x" * 43}),
        send(client, method, path, {**FORM, "csrf_token": token[:-2] + ("zz" if not token.endswith("zz") else "yy")}),
        send(
            client,
            method,
            path,
            {**FORM, "csrf_token": token},
            {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        ),
    ]


@pytest.mark.parametrize("method,pattern", TABLE, ids=[f"{m} {p}" for m, p in TABLE])
def test_every_route_refuses_who_may_not_use_it(owner_db, method, pattern):
    ids = seed(owner_db)
    path = concrete(pattern, ids)
    route = (method, pattern)

    with app_client(owner_db) as nobody, app_client(owner_db) as viewer, app_client(owner_db) as owner:
        assert login(viewer, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 303
        assert login(owner).status_code == 303
        viewer_csrf = csrf_from(viewer.get("/cp/account").text)
        owner_csrf = csrf_from(owner.get("/cp/account").text)
        before = state(owner_db, ids["journey"])

        r = send(nobody, method, path, FORM)
        if route not in PUBLIC:
            if method == "GET":
                assert r.status_code == 303 and r.headers["location"].startswith("/cp/login?next="), r.status_code
            else:
                assert r.status_code == 403, f"signed out: {r.status_code}"
        assert "attachment" not in r.headers.get("content-disposition", "")

        if route not in VIEWER_MAY:
            r = send(viewer, method, path, {**FORM, "csrf_token": viewer_csrf})
            assert r.status_code == 403, f"a viewer got {r.status_code}"
            assert "Read-only access" in r.text and "ask an owner" in text_of(r.text).lower()
            assert "attachment" not in r.headers.get("content-disposition", "")
        elif method == "GET" and route not in PUBLIC:
            assert send(viewer, method, path).status_code == 200

        if route in PRE_LOGIN:
            page = nobody.get(path)
            token = csrf_from(page.text) if "csrf_token" in page.text else "x" * 43
            refused = forgeries(nobody, method, path, token)
        elif method != "GET" and route not in CSRF_FREE:
            refused = forgeries(owner, method, path, owner_csrf)
        else:
            refused = []
        assert [r.status_code for r in refused] == [403] * len(refused), "CSRF"

        assert state(owner_db, ids["journey"]) == before, "a refused request changed something"

        if route not in VIEWER_MAY:  # the viewer's 403 was the role's: an owner is let through
            r = send(owner, method, path, {**FORM, "role": "viewer", "csrf_token": owner_csrf})
            assert r.status_code != 403, f"an owner was refused: {text_of(r.text)[:200]}"
            assert r.status_code < 500


def test_the_must_stay_owners_routes_are_in_the_table():
    assert OWNERS_ONLY <= set(TABLE) - VIEWER_MAY


# -- the invite-maker, checked where the invite is made --------------------------------------------------


def test_only_a_current_owner_makes_an_invite(owner_db):
    """team.create_invite itself refuses a viewer (who could otherwise mint an owner's link) and an
    owner removed meanwhile (whose row is gone: the foreign key would fail): NotAnOwner, nothing
    made. The route's guard is not the only check."""
    viewer_id = add_member(owner_db, VIEWER_EMAIL, "viewer")
    partner_id = add_member(owner_db, SECOND_OWNER, "owner")

    async def work(store):
        viewer = Owner(viewer_id, VIEWER_EMAIL, "viewer")
        claimed = Owner(viewer_id, VIEWER_EMAIL, "owner")  # a stale or forged role in hand
        partner = await users.find_owner(store, SECOND_OWNER)
        await team.remove_member(store, partner_id)
        outcomes = []
        for maker in (viewer, claimed, partner):
            try:
                await team.create_invite(store, maker, "friend@example.com", "owner")
                outcomes.append("made")
            except team.NotAnOwner as exc:
                outcomes.append(str(exc))
        return outcomes

    said = run_store(owner_db, work)
    assert said[0] == said[1] == "only an owner can invite someone to the team"
    assert "no longer on the team" in said[2]
    assert pending(owner_db) == []


def test_an_owner_removed_while_inviting_gets_a_403_not_a_500(owner_db, monkeypatch):
    """The guard let the owner in, then another owner removed them before the invite was made: a
    403 page, no invite, no server error."""
    from leadtrail.routes.dashboard import account

    add_member(owner_db, SECOND_OWNER, "owner")
    original = account.read_form

    async def removed_meanwhile(request):
        store = request.app.state.services.store
        await team.remove_member(store, (await users.find_owner(store, OWNER_EMAIL)).id)
        return await original(request)

    with app_client(owner_db) as owner:
        assert login(owner).status_code == 303
        csrf = csrf_from(owner.get("/cp/account").text)
        monkeypatch.setattr(account, "read_form", removed_meanwhile)
        r = owner.post(
            "/cp/account/invites",
            data={"csrf_token": csrf, "email": "friend@example.com", "role": "owner"},
            follow_redirects=False,
        )
        assert r.status_code == 403 and "no longer on the team" in text_of(r.text)
    assert pending(owner_db) == [] and members(owner_db) == {SECOND_OWNER: "owner"}
