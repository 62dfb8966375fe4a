"""The Account page: a member's own login (details, password, other sessions) and, for owners,
the team (accounts/team.py): members, pending invites, a new invite.

  GET  /cp/account                          the page (address, role, created, last login, other
                                            sessions; owners: the team)
  POST /cp/account                          change the password (current + new twice)
  POST /cp/account/sign-out-others          end every other session of this member
  POST /cp/account/invites                  owners: a new invite; the page shows its link once
  POST /cp/account/invites/{id}/revoke      owners: withdraw a pending invite
  GET  /cp/account/team/{id}/remove         owners: confirm; POST removes the member (never the
                                            last owner), their sessions ending at once
  POST /cp/account/tokens                   owners: a new API token (tokens.py), shown in this
                                            answer only (no-store, never in a URL or a cookie)
  POST /cp/account/tokens/revoke            owners: revoke the live token named in the form

A viewer uses the first three (their own login); the rest are owners' (owner_required).

Every form carries the session's CSRF token (the guards check it). A password change checks
the current password as a login attempt is checked (accounts.users.change_password), ends every session
of the owner and gives this browser a new session id: a stolen copy of the old cookie, the likely
reason for changing a password, stops working too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ... import tokens
from ...accounts import team, users
from ...accounts.owner import OWNER, ROLES, VIEWER, AccountError
from ...accounts.passwords import MAX_PASSWORD, MIN_PASSWORD
from ...accounts.sessions import SESSION_LIFETIME, end_other_sessions
from ...accounts.throttling import Throttled
from ...http.cookies import (
    clear_cookie,
    device_cookie_name,
    invite_cookie_name,
    services_of,
    session_cookie_name,
    set_cookie,
)
from ...http.forms import read_form
from ...http.render import forbidden, message, not_found, render, sentence, too_many_attempts
from ...http.sessions import member_required, owner_required, signed_in
from ...store import utcnow
from ...web import client_address, own_origin

log = logging.getLogger("leadtrail.dashboard")

INVITE_SHOWN_WITHIN = 600  # seconds the new invite's link waits in a cookie for its page
CHANGED = "Your password has been changed. Every other session was signed out; this browser stays logged in."


def notice_of(query: Mapping[str, str]) -> str | None:
    """The confirmation a redirect back to the page asked for (?changed=1, ?signed_out=N)."""
    if query.get("changed") == "1":
        return CHANGED
    n = query.get("signed_out")
    if n is not None and n.isascii() and n.isdigit() and len(n) < 7:
        count = int(n)
        if count == 0:
            return "There were no other sessions to sign out."
        return f"Signed out {count} other session{'' if count == 1 else 's'}. Only this browser is logged in now."
    return None


def team_notice_of(query: Mapping[str, str]) -> str | None:
    """The team section's confirmation (?withdrawn=1|0, ?removed=1, ?invited=N once the link has
    been shown): no address in the URL."""
    if query.get("invited") in ("1", "2"):
        return "The invite link is shown only once. If it was not copied, withdraw the invite below and make a new one."
    withdrawn = query.get("withdrawn")
    if withdrawn == "1":
        return "The invite was withdrawn: its link no longer works."
    if withdrawn == "0":
        return "That invite had been used or withdrawn already."
    if query.get("removed") == "1":
        return "The member was removed and signed out everywhere."
    return None


def token_notice_of(query: Mapping[str, str]) -> str | None:
    """The API tokens section's confirmation (?revoked=1|0)."""
    revoked = query.get("revoked")
    if revoked == "1":
        return "The token was revoked: requests with it are refused from now on."
    if revoked == "0":
        return "There is no live token of that name (revoked already?)."
    return None


async def _page(
    request: Request,
    error: str | None = None,
    status: int = 200,
    headers: dict | None = None,
    team_context: dict | None = None,
) -> Response:
    session = await signed_in(request)
    store = services_of(request).store
    details = await users.account_details(store, session.owner, session.token)
    context: dict[str, Any] = {
        "section": "account",
        "account": details,
        "error": error,
        "notice": None if error else notice_of(request.query_params),
        "min_password": MIN_PASSWORD,
        "max_password": MAX_PASSWORD,
        "role_names": team.ROLE_NAMES,
        "role_descriptions": team.ROLE_DESCRIPTIONS,
    }
    if session.owner.role == OWNER:
        everyone = await team.members(store)
        context.update(
            members=everyone,
            owner_count=sum(m["role"] == OWNER for m in everyone),
            invites=await team.pending_invites(store),
            roles=ROLES[::-1],  # viewer first: the smaller grant
            invite_email="",
            invite_role=VIEWER,
            team_notice=team_notice_of(request.query_params),
            api_tokens=await tokens.list_tokens(store),
            token_notice=token_notice_of(request.query_params),
            token_name="",
            token_name_rule=tokens.NAME_RULE,
        )
    shown_token = request.cookies.get(invite_cookie_name(request))
    if session.owner.role == OWNER and shown_token:
        invite = await team.invite_to_show(store, shown_token, session.owner)
        if invite is not None:
            context.update(
                new_invite=invite,
                invite_link=invite_link(request, shown_token),
                invite_replaced=request.query_params.get("invited") == "2",
                team_notice=None,
            )
    context.update(team_context or {})
    response = render(request, "cp/account.html", context, status, headers)
    if shown_token is not None:
        clear_cookie(request, response, invite_cookie_name(request))  # shown once
    return response


@member_required
async def account_page(request: Request) -> Response:
    return await _page(request)


@member_required
async def change_password(request: Request) -> Response:
    session = await signed_in(request)
    services = services_of(request)
    form = await read_form(request)
    try:
        result = await users.change_password(
            services.store,
            services_of(request).keys,
            session.owner,
            client_address(request, services.settings),
            form.get("current_password", ""),
            form.get("new_password", ""),
            form.get("new_password_confirm", ""),
            device=request.cookies.get(device_cookie_name(request)),
        )
    except users.WrongPassword as exc:
        log.info("dashboard: password change refused (wrong current password)")
        return await _page(request, sentence(str(exc)), 400)
    except AccountError as exc:
        return await _page(request, sentence(str(exc)), 400)
    if isinstance(result, Throttled):
        log.warning("dashboard: password change throttled (retry after %ss)", result.retry_after)
        return await _page(
            request,
            too_many_attempts(result.retry_after, "changing your password"),
            429,
            {"Retry-After": str(result.retry_after)},
        )
    log.info("dashboard: owner %s changed their password; their other sessions ended", session.owner.id)
    response = RedirectResponse("/cp/account?changed=1", status_code=303)
    set_cookie(request, response, session_cookie_name(request), result, max_age=int(SESSION_LIFETIME.total_seconds()))
    return response


@member_required
async def sign_out_others(request: Request) -> Response:
    session = await signed_in(request)
    ended = await end_other_sessions(services_of(request).store, session.owner, session.token)
    log.info("dashboard: owner %s signed out %s other session(s)", session.owner.id, ended)
    return RedirectResponse(f"/cp/account?signed_out={ended}", status_code=303)


# -- the team (owners) ------------------------------------------------------------------------------------


def invite_link(request: Request, token: str) -> str:
    """Where the invitee opens the invite: BASE_URL when set, else the origin this owner's
    browser reached the dashboard at (through a trusted proxy's X-Forwarded-* if any)."""
    settings = services_of(request).settings
    base = settings.base_url.rstrip("/") if settings.base_url else own_origin(request, settings)
    return f"{base}/cp/invite/{token}"


@owner_required
async def create_invite(request: Request) -> Response:
    """A new invite. Its token goes to this browser in a cookie for a few minutes, and the page
    it is sent back to shows the link once and clears the cookie (a reload then shows nothing,
    where a re-sent form would have made a second invite and killed the link just copied)."""
    session = await signed_in(request)
    form = await read_form(request)
    email, role = form.get("email", "")[:320], form.get("role", "")
    try:
        if not email.strip():
            raise team.TeamError("enter the e-mail address of the person to invite")
        made = await team.create_invite(services_of(request).store, session.owner, email, role)
    except team.NotAnOwner as exc:  # removed or changed since the guard looked: nothing to show
        return forbidden(request, sentence(str(exc)))
    except team.TeamError as exc:
        refused = {
            "team_error": sentence(str(exc)),
            "invite_email": email.strip(),
            "invite_role": role if role in ROLES else VIEWER,
        }
        return await _page(request, status=400, team_context=refused)
    log.info("dashboard: owner %s invited a new %s (invite %s)", session.owner.id, made.invite.role, made.invite.id)
    response = RedirectResponse(f"/cp/account?invited={2 if made.replaced else 1}#team", status_code=303)
    set_cookie(request, response, invite_cookie_name(request), made.token, max_age=INVITE_SHOWN_WITHIN)
    return response


@owner_required
async def revoke_invite(request: Request) -> Response:
    withdrawn = await team.revoke_invite(services_of(request).store, request.path_params["invite_id"])
    if withdrawn:
        log.info("dashboard: invite %s withdrawn", request.path_params["invite_id"])
    return RedirectResponse(f"/cp/account?withdrawn={int(withdrawn)}#team", status_code=303)


def _cannot_remove(request: Request, why: str) -> Response:
    return message(request, "Not removed", sentence(why), 409, "/cp/account#team")


@owner_required
async def remove_confirm(request: Request) -> Response:
    session = await signed_in(request)
    store = services_of(request).store
    member = await team.member(store, request.path_params["member_id"])
    if member is None:
        return not_found(request)
    everyone = await team.members(store)
    if member["role"] == OWNER and sum(m["role"] == OWNER for m in everyone) <= 1:
        return _cannot_remove(request, team.last_owner_problem(member["email"]))
    context = {
        "section": "account",
        "member": member,
        "yourself": int(member["id"]) == session.owner.id,
        "role_names": team.ROLE_NAMES,
    }
    return render(request, "cp/team_remove.html", context)


@owner_required
async def remove_member(request: Request) -> Response:
    session = await signed_in(request)
    member_id = request.path_params["member_id"]
    try:
        await team.remove_member(services_of(request).store, member_id)
    except team.NotAMember:
        return not_found(request)
    except team.TeamError as exc:
        return _cannot_remove(request, str(exc))
    log.info("dashboard: owner %s removed member %s", session.owner.id, member_id)
    if member_id != session.owner.id:
        return RedirectResponse("/cp/account?removed=1#team", status_code=303)
    request.state.cp_session = None  # this page is rendered for nobody now
    response = render(
        request,
        "cp/message.html",
        {
            "heading": "You left the team",
            "message": "Your account was deleted and you are signed out. The enquiries stay with the rest of the team.",
            "back": "/cp/login",
            "back_label": "Go to the login page",
        },
    )
    clear_cookie(request, response, session_cookie_name(request))
    return response


# -- API tokens (owners) -----------------------------------------------------------------------------------


@owner_required
async def create_token(request: Request) -> Response:
    """A new token for /api/v1/, shown in this answer only: the page is not stored (no-store), and
    the value is in no URL, cookie or log. A re-sent form is refused (the name is taken), so a
    reload cannot make a second token unseen."""
    session = await signed_in(request)
    form = await read_form(request)
    name = form.get("name", "").strip()[:200]
    try:
        if not name:
            raise ValueError("enter a name for the token, e.g. the integration that will use it")
        value = await tokens.create_token(services_of(request).store, name, utcnow())
    except ValueError as exc:  # TokenNameTaken included
        return await _page(request, status=400, team_context={"token_error": sentence(str(exc)), "token_name": name})
    log.info("dashboard: owner %s created an API token", session.owner.id)
    return await _page(request, team_context={"new_token": value, "new_token_name": name})


@owner_required
async def revoke_token(request: Request) -> Response:
    session = await signed_in(request)
    form = await read_form(request)
    revoked = await tokens.revoke_token(services_of(request).store, form.get("name", "")[:200], utcnow())
    if revoked:
        log.info("dashboard: owner %s revoked an API token", session.owner.id)
    return RedirectResponse(f"/cp/account?revoked={int(revoked)}#tokens", status_code=303)
