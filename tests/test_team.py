"""The team, over HTTP on SQLite and PostgreSQL: an owner invites an owner or a viewer from the
Account page by a one-time link (shown once, stored hashed, expiring, revocable, replaced by a
new invite to the same address); accepting sets a password and signs in; a viewer sees every page
and gets 403 on every route of the dashboard's table that changes or downloads anything (the
table is read from the app, so a new route cannot be missed) and sees none of those buttons;
members are listed and removed (never the last owner), their sessions ending at once; token
guesses are throttled like password guesses; CSRF on every new form; the CLI's `user` commands."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from html import unescape

import pytest
from click.testing import CliRunner
from support import app_client, make_settings, run_store
from test_dashboard_helpers import OWNER_EMAIL, csrf_from, login, save, simple_journey

from leadtrail.accounts import keys, team, throttling, users
from leadtrail.cli import main
from leadtrail.store import utcnow

VIEWER_EMAIL = "viewer@studio.example"
SECOND_OWNER = "partner@studio.example"
MEMBER_PASSWORD = "seven quiet otters rowing"
LINK = re.compile(r'<textarea id="invite-link"[^>]*>([^<]+)</textarea>')


def text_of(html: str) -> str:
    """The words of a page, tags left out."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def link_in(html: str) -> str | None:
    match = LINK.search(html)
    return unescape(match.group(1)) if match else None


def path_of(link: str) -> str:
    return link.removeprefix("http://testserver")


def invite(client, email: str = VIEWER_EMAIL, role: str = "viewer", **extra):
    """Posts the invite form with the Account page's own CSRF token; returns the response."""
    token = csrf_from(client.get("/cp/account").text)
    data = {"csrf_token": token, "email": email, "role": role, **extra}
    return client.post("/cp/account/invites", data={k: v for k, v in data.items() if v is not None})


def invite_link(client, email: str = VIEWER_EMAIL, role: str = "viewer") -> str:
    r = invite(client, email, role)
    assert r.status_code == 200, text_of(r.text)
    link = link_in(r.text)
    assert link and link.startswith("http://testserver/cp/invite/")
    return path_of(link)


def accept(client, path: str, password: str = MEMBER_PASSWORD, confirm: str | None = None, **extra):
    """Opens the link and sends its form (with the page's own pre-login CSRF token)."""
    page = client.get(path)
    assert page.status_code == 200, text_of(page.text)
    data = {
        "csrf_token": csrf_from(page.text),
        "password": password,
        "password_confirm": password if confirm is None else confirm,
        **extra,
    }
    return client.post(path, data={k: v for k, v in data.items() if v is not None}, follow_redirects=False)


def members(url: str) -> dict[str, str]:
    return {m["email"]: m["role"] for m in run_store(url, team.members)}


def pending(url: str) -> list[str]:
    return [i["email"] for i in run_store(url, team.pending_invites)]


def add_member(url: str, email: str, role: str, password: str = MEMBER_PASSWORD) -> int:
    """A member made the way the dashboard makes one: an owner's invite, accepted."""

    async def work(store):
        owner = await users.find_owner(store, OWNER_EMAIL)
        made = await team.create_invite(store, owner, email, role)
        return (await team.accept_invite(store, made.invite, made.token, password, password)).id

    return run_store(url, work)


# -- inviting and accepting ---------------------------------------------------------------------------


def test_an_owner_invites_a_viewer_who_accepts_and_signs_in(owner_db):
    """The link is shown once (only its hash is stored), the invite is pending until accepted;
    accepting sets the password, signs the viewer in, and the password works for later logins."""
    with app_client(owner_db) as owner, app_client(owner_db) as guest:
        assert login(owner).status_code == 303
        r = invite(owner)
        assert r.status_code == 200
        link = link_in(r.text)
        assert link is not None and "shown only now" in text_of(r.text)
        token = link.rsplit("/", 1)[1]
        assert pending(owner_db) == [VIEWER_EMAIL]
        assert r.url.path == "/cp/account" and r.url.query == b"invited=1"  # redirected: a reload sends nothing
        again = owner.get("/cp/account?invited=1")
        assert token not in again.text and link_in(again.text) is None  # shown once
        assert "The invite link is shown only once" in text_of(again.text)
        assert "Pending invites" in again.text and VIEWER_EMAIL in again.text

        stored = run_store(owner_db, lambda store: store.fetch("cp_invite_by_hash", token_hash=keys.token_hash(token)))
        assert stored and stored[0]["email"] == VIEWER_EMAIL and stored[0]["role"] == "viewer"
        raw = run_store(owner_db, lambda store: store.fetch("cp_invites_pending", now=utcnow()))
        assert all(token not in str(row) for row in raw)

        page = guest.get(path_of(link))
        assert page.status_code == 200
        assert f"{OWNER_EMAIL} invited you as a viewer" in text_of(page.text) and VIEWER_EMAIL in page.text
        done = accept(guest, path_of(link))
        assert done.status_code == 303 and done.headers["location"] == "/cp/?welcome=1"
        assert "__Host-" in done.headers["set-cookie"] or "leadtrail_session=" in done.headers["set-cookie"]
        home = guest.get("/cp/", follow_redirects=False)
        assert home.status_code == 200 and VIEWER_EMAIL in home.text
        account = text_of(guest.get("/cp/account").text)
        assert "Viewer: sees every page; cannot erase" in account
        assert "Invite someone" not in account  # a viewer manages no team

    assert members(owner_db) == {OWNER_EMAIL: "owner", VIEWER_EMAIL: "viewer"}
    assert pending(owner_db) == []
    with app_client(owner_db) as later:
        assert login(later, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 303


def test_an_invited_owner_can_manage_the_team(owner_db):
    """An owner's invite makes an owner: they see the team section and can invite in turn."""
    with app_client(owner_db) as owner, app_client(owner_db) as partner, app_client(owner_db) as viewer:
        assert login(owner).status_code == 303
        assert accept(partner, invite_link(owner, SECOND_OWNER, "owner")).status_code == 303
        assert "Invite someone" in partner.get("/cp/account").text
        assert accept(viewer, invite_link(partner, VIEWER_EMAIL, "viewer")).status_code == 303
    assert members(owner_db) == {OWNER_EMAIL: "owner", SECOND_OWNER: "owner", VIEWER_EMAIL: "viewer"}


def test_a_link_works_once(owner_db):
    """Used once: the link answers 410 with a clear sentence, and a second POST makes nothing."""
    with app_client(owner_db) as owner, app_client(owner_db) as guest, app_client(owner_db) as other:
        assert login(owner).status_code == 303
        path = invite_link(owner)
        form = guest.get(path)
        assert accept(guest, path).status_code == 303
        again = other.get(path)
        assert again.status_code == 410 and "has been used already" in text_of(again.text)
        replay = guest.post(
            path,
            data={
                "csrf_token": csrf_from(form.text),
                "password": "another long password",
                "password_confirm": "another long password",
            },
            follow_redirects=False,
        )
        assert replay.status_code in (403, 410)
    assert members(owner_db) == {OWNER_EMAIL: "owner", VIEWER_EMAIL: "viewer"}
    with app_client(owner_db) as later:
        assert login(later, VIEWER_EMAIL, "another long password").status_code == 200  # not changed


def test_an_expired_link_is_refused(owner_db):
    """A link older than INVITE_TTL answers 410 (expired), on GET and POST, and makes nothing."""

    async def old_invite(store):
        owner = await users.find_owner(store, OWNER_EMAIL)
        return await team.create_invite(
            store, owner, VIEWER_EMAIL, "viewer", now=utcnow() - team.INVITE_TTL - timedelta(minutes=1)
        )

    made = run_store(owner_db, old_invite)
    path = f"/cp/invite/{made.token}"
    with app_client(owner_db) as guest:
        page = guest.get(path)
        assert page.status_code == 410 and "has expired" in text_of(page.text)
        login_page = guest.get("/cp/login")
        post = guest.post(
            path,
            data={
                "csrf_token": csrf_from(login_page.text),
                "password": MEMBER_PASSWORD,
                "password_confirm": MEMBER_PASSWORD,
            },
            follow_redirects=False,
        )
        assert post.status_code == 410
    assert members(owner_db) == {OWNER_EMAIL: "owner"} and pending(owner_db) == []


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
        lambda t: t[:-2],  # cut short
        lambda t: t + "x",  # too long
        lambda t: "%00" + t[3:],
        lambda t: t[:-1] + "~",  # a character no token has
        lambda t: "a" * 500,
    ],
    ids=["changed", "short", "long", "nul", "tilde", "huge"],
)
def test_a_tampered_link_is_not_found(owner_db, tamper):
    """Any other token: 404 with a sentence saying what to do, never a 500, nothing made."""
    with app_client(owner_db) as owner, app_client(owner_db) as guest:
        assert login(owner).status_code == 303
        path = invite_link(owner)
        bad = "/cp/invite/" + tamper(path.rsplit("/", 1)[1])
        page = guest.get(bad)
        assert page.status_code == 404, page.text
        assert "does not work" in text_of(page.text) or "No such page" in text_of(page.text)
        post = guest.post(
            bad,
            data={
                "csrf_token": csrf_from(guest.get("/cp/login").text),
                "password": MEMBER_PASSWORD,
                "password_confirm": MEMBER_PASSWORD,
            },
            follow_redirects=False,
        )
        assert post.status_code == 404
        assert guest.get(path).status_code == 200  # the real link still works
    assert members(owner_db) == {OWNER_EMAIL: "owner"}


def test_a_withdrawn_link_is_refused_and_a_new_invite_replaces_the_old(owner_db):
    """Withdraw from the pending list: the link answers 410. Inviting the same address again
    makes a new link and the earlier one stops working."""
    with app_client(owner_db) as owner, app_client(owner_db) as guest:
        assert login(owner).status_code == 303
        first = invite_link(owner)
        second_response = invite(owner)
        assert "The earlier link for this address no longer works" in text_of(second_response.text)
        second = path_of(link_in(second_response.text) or "")
        assert guest.get(first).status_code == 410 and guest.get(second).status_code == 200
        assert pending(owner_db) == [VIEWER_EMAIL]

        invite_id = run_store(owner_db, team.pending_invites)[0]["id"]
        token = csrf_from(owner.get("/cp/account").text)
        r = owner.post(f"/cp/account/invites/{invite_id}/revoke", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/cp/account?withdrawn=1")
        assert "its link no longer works" in text_of(owner.get(r.headers["location"]).text)
        withdrawn = guest.get(second)
        assert withdrawn.status_code == 410 and "withdrawn" in text_of(withdrawn.text)
        twice = owner.post(
            f"/cp/account/invites/{invite_id}/revoke", data={"csrf_token": token}, follow_redirects=False
        )
        assert twice.headers["location"].startswith("/cp/account?withdrawn=0")
    assert pending(owner_db) == [] and members(owner_db) == {OWNER_EMAIL: "owner"}


@pytest.mark.parametrize(
    ("email", "role", "says"),
    [
        ("not an address", "viewer", "is not an e-mail address"),
        ("  ", "viewer", "enter the e-mail address of the person to invite"),
        (VIEWER_EMAIL, "admin", "choose a role: owner or viewer"),
        (VIEWER_EMAIL, None, "choose a role: owner or viewer"),
        ("Owner@Studio.example", "viewer", "already has an account"),
        ("x" * 5000 + "@example.com", "viewer", "is not an e-mail address"),
    ],
)
def test_an_invite_that_cannot_be_made_says_why(owner_db, email, role, says):
    """A bad address, an unknown role or a member's address: 400 with the reason, nothing made."""
    with app_client(owner_db) as owner:
        assert login(owner).status_code == 303
        r = invite(owner, email, role)
        assert r.status_code == 400 and says.lower() in text_of(r.text).lower(), text_of(r.text)[:600]
        assert link_in(r.text) is None
    assert pending(owner_db) == []


def test_the_invitee_password_follows_the_rules_and_the_link_survives_a_refusal(owner_db):
    """Two different passwords, a short one, the address itself: 400 with the reason; the link
    still works afterwards."""
    with app_client(owner_db) as owner, app_client(owner_db) as guest:
        assert login(owner).status_code == 303
        path = invite_link(owner)
        for password, confirm, says in (
            (MEMBER_PASSWORD, MEMBER_PASSWORD + "!", "The two new passwords differ"),
            ("short", "short", "at least 10 characters"),
            (VIEWER_EMAIL, VIEWER_EMAIL, "not your e-mail address"),
        ):
            r = accept(guest, path, password, confirm)
            assert r.status_code == 400 and says in text_of(r.text), text_of(r.text)[:500]
        assert members(owner_db) == {OWNER_EMAIL: "owner"}
        assert accept(guest, path).status_code == 303


def test_an_address_that_got_an_account_meanwhile_keeps_its_invite_unused(owner_db):
    """Made from the command line between invite and acceptance: a clear 400, the invite unused."""
    with app_client(owner_db) as owner, app_client(owner_db) as guest:
        assert login(owner).status_code == 303
        path = invite_link(owner)
        run_store(owner_db, lambda store: users.create_user(store, VIEWER_EMAIL, "made on the command line"))
        r = accept(guest, path)
        assert r.status_code == 400 and "exists already" in text_of(r.text)
    assert pending(owner_db) == [VIEWER_EMAIL]


def test_a_signed_in_visitor_of_a_link_is_told_who_they_will_become(owner_db):
    """The owner opening their own link sees that finishing signs them in as the invitee."""
    with app_client(owner_db) as owner:
        assert login(owner).status_code == 303
        page = owner.get(invite_link(owner))
        assert f"You are logged in as {OWNER_EMAIL}" in text_of(page.text)


# -- throttling of token guesses -------------------------------------------------------------------------


def test_token_guesses_are_throttled_like_password_guesses(owner_db):
    """Five wrong links, then each further guess waits (429 with Retry-After), even with a right
    link; opening a right link does not count, so an invitee reloading it is never throttled."""
    with app_client(owner_db) as owner, app_client(owner_db) as guest:
        assert login(owner).status_code == 303
        path = invite_link(owner)
        for _ in range(throttling.FREE_ATTEMPTS_PER_CLIENT + 3):
            assert guest.get(path).status_code == 200
        wrong = "/cp/invite/" + "A" * 43
        statuses = [guest.get(wrong).status_code for _ in range(throttling.FREE_ATTEMPTS_PER_CLIENT + 1)]
        assert statuses == [404] * throttling.FREE_ATTEMPTS_PER_CLIENT + [429]
        held = guest.get(path)
        assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
        assert "Too many attempts" in text_of(held.text)


def test_token_guesses_count_per_client_address(owner_db):
    """Guesses from one address never hold up another address's invitee: no cap over all clients
    together, so nobody can shut the invites of everyone."""
    dashboard_keys = keys.Keys(make_settings(owner_db).secret_key)

    async def work(store):
        owner = await users.find_owner(store, OWNER_EMAIL)
        made = await team.create_invite(store, owner, VIEWER_EMAIL, "viewer")
        results = []
        for n in range(40):
            address = f"198.51.100.{n % 20}"
            try:
                results.append(await team.open_invite(store, dashboard_keys, "B" * 43, address))
            except team.InviteUnusable as exc:
                results.append(exc.status)
        fine = await team.open_invite(store, dashboard_keys, made.token, "203.0.113.9")
        return results, fine

    results, fine = run_store(owner_db, work)
    assert results == [404] * 40  # two guesses from each of 20 addresses: none throttled
    assert isinstance(fine, team.Invite) and fine.email == VIEWER_EMAIL


# -- viewers: read-only, enforced on the server for every route (the walk over the whole route table
# is tests/test_dashboard_routes.py) ------------------------------------------------------------------


def seed_team(url: str) -> dict[str, int]:
    from datetime import UTC, datetime

    async def work(store):
        owner = await users.find_owner(store, OWNER_EMAIL)
        journey = await save(store, simple_journey("lead@example.com", datetime.now(UTC) - timedelta(minutes=5)))
        made = await team.create_invite(store, owner, "someone@example.com", "viewer")
        return {"journey": journey, "invite": made.invite.id, "member": owner.id}

    ids = run_store(url, work)
    ids["viewer"] = add_member(url, VIEWER_EMAIL, "viewer")
    return ids


def test_a_viewer_sees_no_button_that_changes_or_downloads(owner_db):
    """The list, the spam list, a journey, insights and the account page show a viewer no
    outcome form, export, download, erasure or team; an owner's pages show them."""
    ids = seed_team(owner_db)
    pages = ["/cp/", "/cp/?list=spam", f"/cp/journeys/{ids['journey']}", "/cp/insights", "/cp/account"]
    forbidden_marks = [
        "/outcome",
        "/export.csv",
        "/export/google-ads.csv",
        "/export/meta.csv",
        ".json",
        "/erase",
        "/cp/account/invites",
        "/cp/account/team/",
        "Invite someone",
    ]

    def marks(client) -> set[str]:
        seen = set()
        for path in pages:
            r = client.get(path)
            assert r.status_code == 200, path
            seen |= {mark for mark in forbidden_marks if mark in r.text}
        return seen

    with app_client(owner_db) as viewer, app_client(owner_db) as owner:
        assert login(viewer, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 303
        assert login(owner).status_code == 303
        assert marks(viewer) == set()
        assert marks(owner) >= {
            "/outcome",
            "/export.csv",
            "/export/meta.csv",
            ".json",
            "/erase",
            "/cp/account/invites",
            "Invite someone",
        }
        journey = text_of(viewer.get(f"/cp/journeys/{ids['journey']}").text)
        assert "Open" in journey and "lead@example.com" in journey  # the status is still shown


def test_a_viewer_keeps_their_own_login_in_hand(owner_db):
    """A viewer changes their own password and signs out their other sessions (their account,
    not the team's)."""
    add_member(owner_db, VIEWER_EMAIL, "viewer")
    with app_client(owner_db) as viewer, app_client(owner_db) as other:
        assert login(viewer, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 303
        assert login(other, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 303
        token = csrf_from(viewer.get("/cp/account").text)
        r = viewer.post("/cp/account/sign-out-others", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/cp/account?signed_out=1"
        assert other.get("/cp/", follow_redirects=False).status_code == 303
        new = "a different viewer password"
        token = csrf_from(viewer.get("/cp/account").text)
        r = viewer.post(
            "/cp/account",
            data={
                "csrf_token": token,
                "current_password": MEMBER_PASSWORD,
                "new_password": new,
                "new_password_confirm": new,
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
    with app_client(owner_db) as later:
        assert login(later, VIEWER_EMAIL, new).status_code == 303


def test_a_viewer_login_is_throttled_like_an_owner_login(owner_db):
    """Sessions and throttling as for owners: wrong passwords for a viewer are delayed the same."""
    add_member(owner_db, VIEWER_EMAIL, "viewer")
    with app_client(owner_db) as guest:
        codes = [
            login(guest, VIEWER_EMAIL, "not the password at all").status_code
            for _ in range(throttling.FREE_ATTEMPTS_PER_CLIENT + 1)
        ]
        assert codes == [200] * throttling.FREE_ATTEMPTS_PER_CLIENT + [429]


# -- members: listing and removing -------------------------------------------------------------------


def remove(client, member_id: int, **extra):
    confirm = client.get(f"/cp/account/team/{member_id}/remove")
    token = csrf_from(confirm.text) if confirm.status_code == 200 else csrf_from(client.get("/cp/account").text)
    data = {"csrf_token": token, **extra}
    return client.post(
        f"/cp/account/team/{member_id}/remove",
        data={k: v for k, v in data.items() if v is not None},
        follow_redirects=False,
    )


def test_removing_a_member_ends_their_sessions_at_once(owner_db):
    """The confirm page names them; removing signs them out everywhere and their password stops
    working; the invites they made stop working too."""
    viewer_id = add_member(owner_db, VIEWER_EMAIL, "viewer")
    partner_id = add_member(owner_db, SECOND_OWNER, "owner")
    with app_client(owner_db) as owner, app_client(owner_db) as viewer, app_client(owner_db) as partner:
        assert login(owner).status_code == 303
        assert login(viewer, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 303
        assert login(partner, SECOND_OWNER, MEMBER_PASSWORD).status_code == 303
        partner_link = invite_link(partner, "friend@example.com", "viewer")
        listed = text_of(owner.get("/cp/account").text)
        assert VIEWER_EMAIL in listed and SECOND_OWNER in listed and "friend@example.com" in listed
        confirm = owner.get(f"/cp/account/team/{viewer_id}/remove")
        assert confirm.status_code == 200 and f"Remove {VIEWER_EMAIL} from the team?" in text_of(confirm.text)
        r = remove(owner, viewer_id)
        assert r.status_code == 303 and r.headers["location"].startswith("/cp/account?removed=1")
        assert viewer.get("/cp/", follow_redirects=False).status_code == 303  # signed out at once
        r = remove(owner, partner_id)
        assert r.status_code == 303
        assert partner.get("/cp/account", follow_redirects=False).status_code == 303
        with app_client(owner_db) as fresh:
            assert fresh.get(partner_link).status_code == 404  # their invite went with them
        assert remove(owner, viewer_id).status_code == 404  # gone already
    assert members(owner_db) == {OWNER_EMAIL: "owner"} and pending(owner_db) == []
    with app_client(owner_db) as later:
        assert login(later, VIEWER_EMAIL, MEMBER_PASSWORD).status_code == 200


def test_the_last_owner_cannot_be_removed(owner_db):
    """Alone, the owner has no remove button and a forged request is refused (409, nothing
    changed). With a second owner one may leave (signed out), and then the other cannot."""
    with app_client(owner_db) as owner:
        assert login(owner).status_code == 303
        own_id = run_store(owner_db, lambda store: users.find_owner(store, OWNER_EMAIL)).id
        page = text_of(owner.get("/cp/account").text)
        assert "Only owner" in page and f"/cp/account/team/{own_id}/remove" not in page
        confirm = owner.get(f"/cp/account/team/{own_id}/remove")
        assert confirm.status_code == 409 and "only owner" in text_of(confirm.text)
        token = csrf_from(owner.get("/cp/account").text)
        r = owner.post(f"/cp/account/team/{own_id}/remove", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 409 and "only owner" in text_of(r.text)
        assert owner.get("/cp/", follow_redirects=False).status_code == 200

    add_member(owner_db, VIEWER_EMAIL, "viewer")  # a viewer does not count as an owner
    partner_id = add_member(owner_db, SECOND_OWNER, "owner")
    with app_client(owner_db) as partner, app_client(owner_db) as owner:
        assert login(partner, SECOND_OWNER, MEMBER_PASSWORD).status_code == 303
        assert login(owner).status_code == 303
        confirm = partner.get(f"/cp/account/team/{partner_id}/remove")
        assert "Leave the team?" in text_of(confirm.text)
        r = remove(partner, partner_id)
        assert r.status_code == 200 and "You left the team" in text_of(r.text)
        assert partner.get("/cp/", follow_redirects=False).status_code == 303
        r = remove(owner, own_id)
        assert r.status_code == 409
    assert members(owner_db) == {OWNER_EMAIL: "owner", VIEWER_EMAIL: "viewer"}


def test_two_owners_removing_each_other_at_once_leave_one(owner_db):
    """Removals are serialised: of two owners removing each other at the same moment, exactly
    one succeeds."""
    partner_id = add_member(owner_db, SECOND_OWNER, "owner")

    async def work(store):
        owner = await users.find_owner(store, OWNER_EMAIL)
        results = await asyncio.gather(
            team.remove_member(store, owner.id), team.remove_member(store, partner_id), return_exceptions=True
        )
        return results

    results = run_store(owner_db, work)
    assert sorted(type(r).__name__ for r in results) == ["TeamError", "str"]
    assert list(members(owner_db).values()) == ["owner"]


def test_ids_past_what_a_database_holds_are_not_found(owner_db):
    """A member or invite id of 30 digits: 404 or 'already withdrawn', never a 500."""
    big = "9" * 30
    with app_client(owner_db) as owner:
        assert login(owner).status_code == 303
        token = csrf_from(owner.get("/cp/account").text)
        assert owner.get(f"/cp/account/team/{big}/remove").status_code == 404
        assert owner.post(f"/cp/account/team/{big}/remove", data={"csrf_token": token}).status_code == 404
        r = owner.post(f"/cp/account/invites/{big}/revoke", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and "withdrawn=0" in r.headers["location"]
        assert owner.get("/cp/account/team/0/remove").status_code == 404


# -- CSRF on every new form ----------------------------------------------------------------------------


def test_every_team_form_needs_its_csrf_token(owner_db):
    """Invite, withdraw, remove and accept without the form's token (or with another's): 403,
    nothing changed."""
    viewer_id = add_member(owner_db, VIEWER_EMAIL, "viewer")
    with app_client(owner_db) as owner, app_client(owner_db) as guest:
        assert login(owner).status_code == 303
        path = invite_link(owner, "friend@example.com", "viewer")
        invite_id = run_store(owner_db, team.pending_invites)[0]["id"]
        page = guest.get(path)
        accept_form = {"password": MEMBER_PASSWORD, "password_confirm": MEMBER_PASSWORD}
        for token in (None, "", "x" * 43, csrf_from(owner.get("/cp/account").text)[:-2] + "zz"):
            extra = {} if token is None else {"csrf_token": token}
            assert (
                owner.post(
                    "/cp/account/invites", data={"email": "more@example.com", "role": "owner", **extra}
                ).status_code
                == 403
            )
            assert owner.post(f"/cp/account/invites/{invite_id}/revoke", data=extra).status_code == 403
            assert owner.post(f"/cp/account/team/{viewer_id}/remove", data=extra).status_code == 403
            assert guest.post(path, data={**accept_form, **extra}).status_code == 403
        # The signed-in owner's token is not the invite form's, nor the other way round.
        owner_token = csrf_from(owner.get("/cp/account").text)
        assert guest.post(path, data={**accept_form, "csrf_token": owner_token}).status_code == 403
        assert (
            owner.post(f"/cp/account/team/{viewer_id}/remove", data={"csrf_token": csrf_from(page.text)}).status_code
            == 403
        )
        # Cross-site, with the right token: refused too.
        r = owner.post(
            "/cp/account/invites",
            data={"csrf_token": owner_token, "email": "more@example.com", "role": "owner"},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert r.status_code == 403
    assert members(owner_db) == {OWNER_EMAIL: "owner", VIEWER_EMAIL: "viewer"}
    assert pending(owner_db) == ["friend@example.com"]


# -- the command line ---------------------------------------------------------------------------------


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, env={"LEADTRAIL_SECRET_KEY": None}, catch_exceptions=False)


def test_cli_adds_lists_and_removes_members(owner_db):
    """`user add --role viewer`, `user list`, `user remove` (never the last owner)."""
    r = invoke(
        "user",
        "add",
        VIEWER_EMAIL,
        "--role",
        "viewer",
        "--password-stdin",
        "--database-url",
        owner_db,
        input=MEMBER_PASSWORD + "\n",
    )
    assert r.exit_code == 0 and f"created viewer {VIEWER_EMAIL}" in r.output, r.output
    assert members(owner_db) == {OWNER_EMAIL: "owner", VIEWER_EMAIL: "viewer"}
    r = invoke(
        "user",
        "add",
        "x@example.com",
        "--role",
        "admin",
        "--password-stdin",
        "--database-url",
        owner_db,
        input=MEMBER_PASSWORD + "\n",
    )
    assert r.exit_code == 2 and "admin" in r.output
    listed = invoke("user", "list", "--database-url", owner_db)
    assert listed.exit_code == 0
    lines = listed.output.strip().splitlines()
    assert lines[0].startswith(f"{OWNER_EMAIL}\towner") and lines[1].startswith(f"{VIEWER_EMAIL}\tviewer")
    last = invoke("user", "remove", OWNER_EMAIL, "--database-url", owner_db)
    assert last.exit_code == 1 and "only owner" in last.output
    gone = invoke("user", "remove", "Viewer@Studio.example", "--database-url", owner_db)
    assert gone.exit_code == 0 and f"removed {VIEWER_EMAIL}" in gone.output
    unknown = invoke("user", "remove", VIEWER_EMAIL, "--database-url", owner_db)
    assert unknown.exit_code == 1
    assert members(owner_db) == {OWNER_EMAIL: "owner"}
