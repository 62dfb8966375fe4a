"""The owner's own account: its details, changing the password, signing out other sessions.

  GET  /cp/account                      the page (address, created, last login, other sessions)
  POST /cp/account                      change the password (current + new twice)
  POST /cp/account/sign-out-others      end every other session of this owner

Both forms carry the session's CSRF token (owner_required checks it). A password change checks
the current password as a login attempt is checked (accounts.users.change_password), ends every session
of the owner and gives this browser a new session id: a stolen copy of the old cookie, the likely
reason for changing a password, stops working too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...accounts import users
from ...accounts.owner import AccountError
from ...accounts.passwords import MAX_PASSWORD, MIN_PASSWORD
from ...accounts.sessions import SESSION_LIFETIME, end_other_sessions
from ...accounts.throttling import Throttled
from ...http.cookies import device_cookie_name, services_of, session_cookie_name, set_cookie
from ...http.forms import read_form
from ...http.render import render, sentence, too_many_attempts
from ...http.sessions import owner_required, signed_in
from ...web import client_address

log = logging.getLogger("leadtrail.dashboard")

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


async def _page(request: Request, error: str | None = None, status: int = 200, headers: dict | None = None) -> Response:
    session = await signed_in(request)
    details = await users.account_details(services_of(request).store, session.owner, session.token)
    return render(
        request,
        "cp/account.html",
        {
            "section": "account",
            "account": details,
            "error": error,
            "notice": None if error else notice_of(request.query_params),
            "min_password": MIN_PASSWORD,
            "max_password": MAX_PASSWORD,
        },
        status,
        headers,
    )


@owner_required
async def account_page(request: Request) -> Response:
    return await _page(request)


@owner_required
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


@owner_required
async def sign_out_others(request: Request) -> Response:
    session = await signed_in(request)
    ended = await end_other_sessions(services_of(request).store, session.owner, session.token)
    log.info("dashboard: owner %s signed out %s other session(s)", session.owner.id, ended)
    return RedirectResponse(f"/cp/account?signed_out={ended}", status_code=303)
