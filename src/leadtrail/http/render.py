"""Rendering dashboard pages: the context every template gets (the owner, the CSRF token, asset
URLs, the owner's time formats), the 403 and 404 pages, and sentences an owner reads."""

from __future__ import annotations

import functools
import hashlib

from starlette.requests import Request
from starlette.responses import Response

from ..store import utcnow
from ..templating import STATIC_DIR, templates
from .cookies import services_of

CP_STATIC_DIR = STATIC_DIR / "cp"


@functools.cache
def asset_version(name: str) -> str:
    """A short content hash for cache-busting static URLs (computed once per process)."""
    path = CP_STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.exists() else "0"


def render(request: Request, template: str, context: dict, status: int = 200, headers: dict | None = None) -> Response:
    session = getattr(request.state, "cp_session", None)
    base = {
        "owner": session.owner if session else None,
        "csrf_token": session.csrf if session else None,
        "css_url": f"/cp/static/cp.css?v={asset_version('cp.css')}",
        "js_url": f"/cp/static/cp.js?v={asset_version('cp.js')}",
        "fmt": services_of(request).times,
        "section": "",
        "now": utcnow(),
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status, headers=headers)


def message(request: Request, heading: str, text: str, status: int, back: str = "/cp/") -> Response:
    """A page that says one thing (refused, not found, not saved) with a way back."""
    return render(request, "cp/message.html", {"heading": heading, "message": text, "back": back}, status)


def forbidden(request: Request, text: str) -> Response:
    return message(request, "Request refused", text, 403)


def not_found(request: Request, what: str = "page") -> Response:
    text = (
        "This enquiry does not exist, or it has been erased or passed the retention period."
        if what == "enquiry"
        else "There is no page at this address in the dashboard."
    )
    return message(request, f"No such {what}", text, 404)


def sentence(text: str) -> str:
    """An error message as a sentence: capitalised, one full stop."""
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def too_many_attempts(retry_after: int, what: str) -> str:
    """What a throttled owner reads: `what` is paused for N seconds (under 2 minutes) or about N
    minutes (the same wait as the Retry-After header)."""
    if retry_after < 120:
        seconds = max(1, retry_after)
        wait = f"in {seconds} second{'s' if seconds != 1 else ''}"
    else:
        wait = f"in about {round(retry_after / 60)} minutes"
    return f"Too many attempts. For your account's safety, {what} is paused: try again {wait}."
