"""Logging in and out, creating the first owner from the setup link, and joining the team from
an invite link (accounts/team.py: the link's token is throttled like a password, the new member signed in).

Before login the forms carry a signed double-submit token: a random value in a SameSite=Strict
cookie and its HMAC in the form. Attempts are recorded before the password is checked and counted
in the database, so every worker agrees (accounts.throttling: per account and client with
growing delays, per address, per account for browsers never signed in); an unknown address and a
wrong password get the same answer after the same argon2 work. A successful login leaves a signed
known-device cookie (a year) that exempts this browser from other people's failures.
"""

from __future__ import annotations

import logging
import posixpath
import re
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...accounts import team
from ...accounts.keys import Keys, new_token
from ...accounts.owner import AccountError, Owner
from ...accounts.passwords import MAX_PASSWORD, MIN_PASSWORD, authenticate
from ...accounts.sessions import SESSION_LIFETIME, end_session, housekeeping, start_session
from ...accounts.setup import redeem_setup_token, setup_token, setup_token_valid
from ...accounts.throttling import DEVICE_LIFETIME, Throttled, begin_attempt, forgive_client
from ...http.cookies import (
    clear_cookie,
    device_cookie_name,
    login_csrf_cookie_name,
    services_of,
    session_cookie_name,
    set_cookie,
)
from ...http.forms import read_form
from ...http.render import render, sentence, too_many_attempts
from ...http.sessions import check_post, current_session
from ...store import dashboard as db
from ...web import client_address, direct_local_peer

log = logging.getLogger("leadtrail.dashboard")

BAD_LOGIN = "That e-mail address and password do not match an account of this dashboard."
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def safe_next(raw: str | None) -> str:
    """Only a path inside the dashboard: never another host, scheme or protocol-relative URL, and
    never one that dot segments (plain or percent-encoded, with / or \\) lead out of /cp/."""
    if not raw or not raw.startswith("/cp/") or raw.startswith("//") or "\\" in raw:
        return "/cp/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in raw):
        return "/cp/"
    decoded = parts.path
    for _ in range(3):  # double-encoded %252e%252e too
        decoded = unquote(decoded)
    resolved = posixpath.normpath(decoded.replace("\\", "/"))
    if not (resolved + "/").startswith("/cp/") or "\\" in decoded or "//" in decoded:
        return "/cp/"
    return raw


def _presession(request: Request) -> tuple[str, bool]:
    """The pre-login CSRF cookie value (existing or new) and whether it is new."""
    value = request.cookies.get(login_csrf_cookie_name(request), "")
    if _TOKEN_SHAPE.match(value):
        return value, False
    return new_token(), True


def _form_page(
    request: Request, template: str, context: dict, status: int = 200, headers: dict | None = None
) -> Response:
    """A page with a pre-login form: its CSRF token, and the cookie it is checked against."""
    value, new = _presession(request)
    response = render(
        request, template, {**context, "form_token": services_of(request).keys.presession_csrf(value)}, status, headers
    )
    if new:
        set_cookie(request, response, login_csrf_cookie_name(request), value, max_age=None)
    return response


async def _presession_problem(request: Request) -> Response | None:
    value = request.cookies.get(login_csrf_cookie_name(request), "")
    expected = services_of(request).keys.presession_csrf(value) if _TOKEN_SHAPE.match(value) else None
    return await check_post(request, expected)


async def login_page(request: Request) -> Response:
    if await current_session(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    services = services_of(request)
    store = services.store
    no_owner = await db.owner_count(store) == 0
    return _form_page(
        request,
        "cp/login.html",
        {
            "next": safe_next(request.query_params.get("next")),
            "no_owner": no_owner,
            "demo_setup": await _demo_setup_path(request, services) if no_owner else None,
            "notice": "You have logged out." if request.query_params.get("bye") else None,
            "email": "",
        },
    )


async def _demo_setup_path(request: Request, services) -> str | None:
    """In demo mode, someone browsing from this very machine may create the first owner from the
    login page instead of finding the printed setup link; nobody else ever sees the link."""
    if not (services.settings.demo and direct_local_peer(request)):
        return None
    token = await setup_token(services.store, Keys(services.settings.secret_key))
    return f"/cp/setup?token={token}" if token else None


async def login(request: Request) -> Response:
    problem = await _presession_problem(request)
    if problem:
        return problem
    services = services_of(request)
    store = services.store
    form = await read_form(request)
    email = form.get("email", "")[:320]
    password = form.get("password", "")
    target = safe_next(form.get("next"))
    context = {"next": target, "email": email.strip(), "no_owner": False}
    if not email.strip() or not password:
        return _form_page(
            request, "cp/login.html", {**context, "error": "Enter your e-mail address and password."}, 400
        )
    keys = services_of(request).keys
    address = client_address(request, services.settings)
    device = request.cookies.get(device_cookie_name(request))
    attempt = await begin_attempt(store, keys, email, address, device=device)
    if isinstance(attempt, Throttled):
        log.warning("dashboard: login throttled (retry after %ss)", attempt.retry_after)
        return _form_page(
            request,
            "cp/login.html",
            {**context, "error": too_many_attempts(attempt.retry_after, "logging in")},
            429,
            {"Retry-After": str(attempt.retry_after)},
        )
    owner = await authenticate(store, email, password)
    if owner is None:
        log.info("dashboard: failed login")
        # 200, as form frameworks answer a form with errors (401 would need WWW-Authenticate).
        return _form_page(request, "cp/login.html", {**context, "error": BAD_LOGIN}, 200)
    await forgive_client(store, keys, email, address, device)
    await housekeeping(store)
    return await _signed_in(request, owner, target)


async def _signed_in(request: Request, owner: Owner, target: str) -> Response:
    store = services_of(request).store
    # A fresh session id at every login; the one the browser had (if any) ends here.
    await end_session(store, request.cookies.get(session_cookie_name(request)))
    token = await start_session(store, owner)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, session_cookie_name(request), token, max_age=int(SESSION_LIFETIME.total_seconds()))
    clear_cookie(request, response, login_csrf_cookie_name(request))
    # This browser now counts as the owner's own: other people's failed logins never lock it out.
    keys = services_of(request).keys
    if keys.device_key(owner.email, request.cookies.get(device_cookie_name(request))) is None:
        lifetime = int(DEVICE_LIFETIME.total_seconds())
        set_cookie(request, response, device_cookie_name(request), keys.device_cookie(owner.email), lifetime)
    log.info("dashboard: owner %s logged in", owner.id)
    return response


async def logout(request: Request) -> Response:
    session = await current_session(request)
    if session is not None:
        problem = await check_post(request, session.csrf)
        if problem:
            return problem
        await end_session(services_of(request).store, session.token)
    response = RedirectResponse("/cp/login?bye=1", status_code=303)
    clear_cookie(request, response, session_cookie_name(request))
    return response


# -- first owner --------------------------------------------------------------------------------------


async def setup_page(request: Request) -> Response:
    store = services_of(request).store
    if await db.owner_count(store):
        return render(
            request,
            "cp/message.html",
            {
                "heading": "Setup is done",
                "message": "An owner account exists already. Log in with it.",
                "back": "/cp/login",
                "back_label": "Log in",
            },
            410,
        )
    token = request.query_params.get("token", "")
    if not await setup_token_valid(store, token):
        return render(
            request,
            "cp/message.html",
            {
                "heading": "This setup link does not work",
                "message": "It is mistyped, used or expired. Restart leadtrail to print a new link, or create an "
                "owner from the command line with: leadtrail user add you@example.com",
                "back": "/cp/login",
                "back_label": "Log in",
            },
            403,
        )
    return _form_page(request, "cp/setup.html", {"token": token, "email": ""})


async def setup(request: Request) -> Response:
    problem = await _presession_problem(request)
    if problem:
        return problem
    store = services_of(request).store
    form = await read_form(request)
    token, email = form.get("token", ""), form.get("email", "")[:320]
    password, confirm = form.get("password", ""), form.get("password_confirm", "")
    context = {"token": token, "email": email.strip()}
    if password != confirm:
        return _form_page(request, "cp/setup.html", {**context, "error": "The two passwords differ."}, 400)
    try:
        owner = await redeem_setup_token(store, token, email, password)
    except AccountError as exc:
        return _form_page(request, "cp/setup.html", {**context, "error": sentence(str(exc))}, 400)
    log.info("dashboard: first owner created from the setup link")
    return await _signed_in(request, owner, "/cp/?welcome=1")


async def announce_setup_link(services) -> str | None:
    """With no owner yet, prints the one-time setup link (the same for every worker); returns it."""
    settings = services.settings
    token = await setup_token(services.store, Keys(settings.secret_key))
    if token is None:
        return None
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "localhost"
    if ":" in host:
        host = f"[{host}]"
    link = f"http://{host}:{settings.port}/cp/setup?token={token}"
    return link


# -- joining the team from an invite ----------------------------------------------------------------


async def _open_invite(request: Request) -> team.Invite | Response:
    """The invite behind the link, or the page that says why it does not open (404 unknown,
    410 used, withdrawn or expired, 429 too many guesses from this client)."""
    services = services_of(request)
    address = client_address(request, services.settings)
    try:
        found = await team.open_invite(services.store, services.keys, request.path_params["token"], address)
    except team.InviteUnusable as exc:
        return _invite_refused(request, str(exc), exc.status)
    if isinstance(found, Throttled):
        log.warning("dashboard: invite link guesses throttled (retry after %ss)", found.retry_after)
        text = too_many_attempts(found.retry_after, "opening invite links from your network")
        return _invite_refused(request, text, 429, {"Retry-After": str(found.retry_after)})
    return found


def _invite_refused(request: Request, text: str, status: int, headers: dict | None = None) -> Response:
    context = {
        "heading": "Too many attempts" if status == 429 else "This invite link does not work",
        "message": sentence(text),
        "back": "/cp/login",
        "back_label": "Log in",
    }
    return render(request, "cp/message.html", context, status, headers)


async def _invite_form(request: Request, invite: team.Invite, error: str | None = None, status: int = 200) -> Response:
    session = await current_session(request)
    context = {
        "invite": invite,
        "token": request.path_params["token"],
        "role_names": team.ROLE_NAMES,
        "signed_in_as": session.owner.email if session else None,
        "min_password": MIN_PASSWORD,
        "max_password": MAX_PASSWORD,
        "error": error,
    }
    return _form_page(request, "cp/invite.html", context, status)


async def invite_page(request: Request) -> Response:
    found = await _open_invite(request)
    if isinstance(found, Response):
        return found
    return await _invite_form(request, found)


async def accept_invite(request: Request) -> Response:
    problem = await _presession_problem(request)
    if problem:
        return problem
    found = await _open_invite(request)
    if isinstance(found, Response):
        return found
    form = await read_form(request)
    try:
        member = await team.accept_invite(
            services_of(request).store,
            found,
            request.path_params["token"],
            form.get("password", ""),
            form.get("password_confirm", ""),
        )
    except team.InviteUnusable as exc:
        return _invite_refused(request, str(exc), exc.status)
    except AccountError as exc:
        return await _invite_form(request, found, sentence(str(exc)), 400)
    log.info("dashboard: a new %s (%s) joined from invite %s", member.role, member.id, found.id)
    return await _signed_in(request, member, "/cp/?welcome=1")
