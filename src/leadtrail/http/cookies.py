"""The dashboard's cookies: names (__Host- when served over HTTPS) and attributes (HttpOnly,
SameSite=Strict, Secure where it can be)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..services import Services
from ..web import is_https


def services_of(request: Request) -> Services:
    return request.app.state.services


def secure(request: Request) -> bool:
    return is_https(request, services_of(request).settings)


def session_cookie_name(request: Request) -> str:
    # __Host- needs Secure, which browsers refuse on plain http:// (a local `make run`).
    return "__Host-leadtrail_session" if secure(request) else "leadtrail_session"


def login_csrf_cookie_name(request: Request) -> str:
    return "__Host-leadtrail_csrf" if secure(request) else "leadtrail_csrf"


def device_cookie_name(request: Request) -> str:
    """The known-device cookie: this browser signed in to an account before (accounts.keys.Keys)."""
    return "__Host-leadtrail_device" if secure(request) else "leadtrail_device"


def invite_cookie_name(request: Request) -> str:
    """A new invite's token, from the POST that made it to the one page that shows it (minutes)."""
    return "__Host-leadtrail_invite" if secure(request) else "leadtrail_invite"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=secure(request), httponly=True, samesite="strict"
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=secure(request), httponly=True, samesite="strict")
