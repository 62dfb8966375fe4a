"""The signed-in member: the session behind the cookie (looked up once per request), the
decorators that guard the dashboard's handlers, and the CSRF check of every POST.

Two guards, by role (accounts/owner.py): `owner_required` lets only owners through, `member_required`
viewers too. owner_required is the default a handler starts with, so a route added without a
thought about viewers is an owner's; a handler that only shows something is marked
member_required on purpose (tests/test_team.py reads the route table and checks every route a
viewer may not use answers them 403)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..accounts.keys import csrf_matches
from ..accounts.owner import OWNER, ROLES, Owner
from ..accounts.sessions import session_owner
from .cookies import services_of, session_cookie_name
from .forms import read_form, same_origin
from .render import forbidden, message

_MISSING = object()
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Session:
    owner: Owner
    token: str
    csrf: str


async def current_session(request: Request) -> Session | None:
    cached = getattr(request.state, "cp_session", _MISSING)
    if cached is not _MISSING:
        return cast(Session | None, cached)
    token = request.cookies.get(session_cookie_name(request))
    services = services_of(request)
    owner = await session_owner(services.store, token)
    session = Session(owner, token, services.keys.session_csrf(token)) if owner and token else None
    request.state.cp_session = session
    return session


async def signed_in(request: Request) -> Session:
    """The session of a handler behind owner_required (which answered already without one)."""
    session = await current_session(request)
    if session is None:
        raise HTTPException(403, "not signed in")
    return session


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/cp/login?next={quote(target, safe='/')}", status_code=303)


def _guard(handler: Handler, roles: tuple[str, ...]) -> Handler:
    """GET: no session -> redirect to the login page (and back afterwards). Other methods: no
    session -> 403, and a missing or wrong CSRF token -> 403 with nothing changed. A member whose
    role is not among `roles` -> 403 (read_only) whatever the method, with nothing changed."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        session = await current_session(request)
        if request.method in ("GET", "HEAD"):
            if session is None:
                return login_redirect(request)
            if session.owner.role not in roles:
                return read_only(request)
            return await handler(request)
        if session is None:
            return forbidden(request, "Your session has ended. Log in again, then retry.")
        if session.owner.role not in roles:
            return read_only(request)
        problem = await check_post(request, session.csrf)
        if problem:
            return problem
        return await handler(request)

    return wrapper


def read_only(request: Request) -> Response:
    """What a viewer gets from a handler only owners may use (nothing was changed)."""
    return message(
        request,
        "Read-only access",
        "Your account is a viewer's: it sees every enquiry, journey and insight, but does not change, "
        "erase or download them, or manage API tokens or the team. Ask an owner if this needs doing.",
        403,
    )


def owner_required(handler: Handler) -> Handler:
    """Owners only: everything that changes, erases or downloads data, and tokens and the team."""
    return _guard(handler, (OWNER,))


def member_required(handler: Handler) -> Handler:
    """Every member, viewers included: pages that only show, and a member's own login."""
    return _guard(handler, ROLES)


async def check_post(request: Request, expected_csrf: str | None) -> Response | None:
    """None when the POST may go ahead; else the 403 page (nothing was changed)."""
    if not same_origin(request):
        return forbidden(request, "This request came from another site, so it was refused.")
    form = await read_form(request)
    if expected_csrf is None or not csrf_matches(expected_csrf, form.get("csrf_token")):
        return forbidden(
            request,
            "This form had expired or was not sent from this dashboard, so nothing "
            "was changed. Go back, reload the page and try again.",
        )
    return None
