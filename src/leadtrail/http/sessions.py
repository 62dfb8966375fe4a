"""The signed-in owner: the session behind the cookie (looked up once per request), the decorator
that guards the owner's pages, and the CSRF check of every POST."""

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
from ..accounts.owner import Owner
from ..accounts.sessions import session_owner
from .cookies import services_of, session_cookie_name
from .forms import read_form, same_origin
from .render import forbidden

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


def owner_required(handler: Handler) -> Handler:
    """GET: no session -> redirect to the login page (and back afterwards). Other methods: no
    session -> 403, and a missing or wrong CSRF token -> 403 with nothing changed."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        session = await current_session(request)
        if request.method in ("GET", "HEAD"):
            if session is None:
                return login_redirect(request)
            return await handler(request)
        if session is None:
            return forbidden(request, "Your session has ended. Log in again, then retry.")
        problem = await check_post(request, session.csrf)
        if problem:
            return problem
        return await handler(request)

    return wrapper


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
