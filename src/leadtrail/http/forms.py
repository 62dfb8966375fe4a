"""POSTed forms: reading one (bounded, cached on the request), the browser's own word on where
it came from (Origin, Sec-Fetch-Site), and where a form may send the owner back to."""

from __future__ import annotations

from typing import cast

from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..web import own_origin
from .cookies import services_of

MAX_FORM_BODY = 16 * 1024
_MISSING = object()


async def read_form(request: Request) -> dict[str, str]:
    """The POSTed form's text fields (cached on the request), or {} when it is not one."""
    cached = getattr(request.state, "cp_form", _MISSING)
    if cached is not _MISSING:
        return cast(dict[str, str], cached)
    form: dict[str, str] = {}
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FORM_BODY:
        raise HTTPException(413, "form too large")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        data = await request.form(max_files=0, max_fields=50, max_part_size=MAX_FORM_BODY)
        form = {key: value for key, value in data.items() if isinstance(value, str)}
    request.state.cp_form = form
    return form


def same_origin(request: Request) -> bool:
    """False for what a browser marks as sent from another site: a foreign or null Origin, or
    Sec-Fetch-Site cross-site/same-site. (Non-browser clients send neither; the CSRF token is
    what stops forgeries in any case.)"""
    site = request.headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    return origin.lower().rstrip("/") == own_origin(request, services_of(request).settings) or site == "same-origin"


def back_to(form: dict[str, str], fallback: str) -> str:
    """Where a form from the enquiry list asks to go back to (the list with its filters), else
    `fallback`: only /cp/ itself, never another path, host or a protocol-relative URL."""
    back = form.get("back", "")
    if back.startswith("/cp/?") or back == "/cp/":
        return back if "\\" not in back and "//" not in back[1:] else "/cp/"
    return fallback
