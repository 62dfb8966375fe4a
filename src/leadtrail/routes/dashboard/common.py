"""What every dashboard page shares: security headers, cookies, the signed-in owner, CSRF checks,
rendering, filters from the query string."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast
from urllib.parse import quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from ... import accounts, charts
from ...lifecycle import visible_journeys_since
from ...localtime import day_end, day_start, local_date
from ...services import Services
from ...store import StoreUnavailable, utcnow
from ...store.dashboard import FAR_FUTURE, ListFilter
from ...templating import STATIC_DIR, templates
from ...web import CP_HEADERS, is_https, own_origin

log = logging.getLogger("leadtrail.dashboard")

STATIC_PREFIX = "/cp/static/"
MAX_FORM_BODY = 16 * 1024
CP_STATIC_DIR = STATIC_DIR / "cp"
_MISSING = object()


HSTS = b"max-age=31536000; includeSubDomains"


def _served_over_https(scope: dict) -> bool:
    """HTTPS directly, or through a trusted proxy that says so (X-Forwarded-Proto)."""
    app = scope.get("app")
    services = getattr(getattr(app, "state", None), "services", None)
    if services is None:
        return scope.get("scheme") == "https"
    return is_https(Request(scope), services.settings)


class CpHeaders:
    """Pure ASGI middleware on the /cp mount: security headers on every response (errors
    included), no-store on everything but the static files, and an HTML answer for errors raised
    below it (a 405, the database going away) so they get the headers too."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith(STATIC_PREFIX)
        hsts = _served_over_https(scope)
        started = False

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {name for name, _ in CP_HEADERS} and k.lower() != b"cache-control"
                ]
                headers += CP_HEADERS
                if hsts:  # browsers ignore it over plain HTTP; only sent where it is true
                    headers.append((b"strict-transport-security", HSTS))
                headers.append((b"cache-control", b"public, max-age=86400" if static else b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except HTTPException as exc:
            if started:
                raise
            response: Response = PlainTextResponse(
                f"{exc.status_code} {exc.detail}\n", exc.status_code, headers=getattr(exc, "headers", None)
            )
            await response(scope, receive, send_with_headers)
        except StoreUnavailable as exc:
            if started:
                raise
            log.warning("dashboard: database unavailable: %s", exc)
            response = HTMLResponse(UNAVAILABLE_PAGE, 503, headers={"Retry-After": "5"})
            await response(scope, receive, send_with_headers)


UNAVAILABLE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Database unavailable · leadtrail</title>
<link rel="stylesheet" href="/cp/static/cp.css"></head><body class="plain"><main class="narrow">
<h1>The database is not answering</h1><p>leadtrail could not reach its database. Nothing was changed.
Try again in a moment; if this goes on, check the server's log.</p>
<p><a href="">Try again</a></p></main></body></html>"""


@functools.cache
def asset_version(name: str) -> str:
    """A short content hash for cache-busting static URLs (computed once per process)."""
    path = CP_STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.exists() else "0"


def services_of(request: Request) -> Services:
    return request.app.state.services


def _per_process(request: Request, key: str, make: Callable):
    """services.extras[key], made from the settings on first use (settings do not change)."""
    services = services_of(request)
    value = services.extras.get(key)
    if value is None:
        value = services.extras[key] = make(services.settings)
    return value


def keys_of(request: Request) -> accounts.Keys:
    return _per_process(request, "dashboard_keys", lambda settings: accounts.Keys(settings.secret_key))


def local_times(request: Request) -> charts.Format:
    """Formats for times in the owner's zone (TIMEZONE)."""
    return _per_process(request, "dashboard_format", lambda settings: charts.Format(settings.tz))


# -- cookies ------------------------------------------------------------------------------------


def secure(request: Request) -> bool:
    return is_https(request, services_of(request).settings)


def session_cookie_name(request: Request) -> str:
    # __Host- needs Secure, which browsers refuse on plain http:// (a local `make run`).
    return "__Host-leadtrail_session" if secure(request) else "leadtrail_session"


def login_csrf_cookie_name(request: Request) -> str:
    return "__Host-leadtrail_csrf" if secure(request) else "leadtrail_csrf"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=secure(request), httponly=True, samesite="strict"
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=secure(request), httponly=True, samesite="strict")


# -- the signed-in owner ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    owner: accounts.Owner
    token: str
    csrf: str


async def current_session(request: Request) -> Session | None:
    cached = getattr(request.state, "cp_session", _MISSING)
    if cached is not _MISSING:
        return cast(Session | None, cached)
    token = request.cookies.get(session_cookie_name(request))
    owner = await accounts.session_owner(services_of(request).store, token)
    session = Session(owner, token, keys_of(request).session_csrf(token)) if owner and token else None
    request.state.cp_session = session
    return session


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/cp/login?next={quote(target, safe='/')}", status_code=303)


Handler = Callable[[Request], Awaitable[Response]]


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


# -- forms and CSRF ----------------------------------------------------------------------------------


async def signed_in(request: Request) -> Session:
    """The session of a handler behind owner_required (which answered already without one)."""
    session = await current_session(request)
    if session is None:
        raise HTTPException(403, "not signed in")
    return session


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


async def check_post(request: Request, expected_csrf: str | None) -> Response | None:
    """None when the POST may go ahead; else the 403 page (nothing was changed)."""
    if not same_origin(request):
        return forbidden(request, "This request came from another site, so it was refused.")
    form = await read_form(request)
    if expected_csrf is None or not accounts.csrf_matches(expected_csrf, form.get("csrf_token")):
        return forbidden(
            request,
            "This form had expired or was not sent from this dashboard, so nothing "
            "was changed. Go back, reload the page and try again.",
        )
    return None


def forbidden(request: Request, message: str) -> Response:
    return render(request, "cp/message.html", {"heading": "Request refused", "message": message, "back": "/cp/"}, 403)


# -- rendering --------------------------------------------------------------------------------------------


def render(request: Request, template: str, context: dict, status: int = 200, headers: dict | None = None) -> Response:
    session = getattr(request.state, "cp_session", None)
    base = {
        "owner": session.owner if session else None,
        "csrf_token": session.csrf if session else None,
        "css_url": f"/cp/static/cp.css?v={asset_version('cp.css')}",
        "js_url": f"/cp/static/cp.js?v={asset_version('cp.js')}",
        "fmt": local_times(request),
        "section": "",
        "now": utcnow(),
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status, headers=headers)


def not_found(request: Request, what: str = "page") -> Response:
    return render(
        request,
        "cp/message.html",
        {
            "heading": f"No such {what}",
            "message": (
                "This enquiry does not exist, or it has been erased or passed the retention period."
                if what == "enquiry"
                else "There is no page at this address in the dashboard."
            ),
            "back": "/cp/",
        },
        404,
    )


# -- filters from the query string -----------------------------------------------------------------------


def parse_day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    q: str
    start: date | None
    end: date | None
    list_filter: ListFilter
    problems: tuple[str, ...]

    @property
    def spam(self) -> bool:
        return self.list_filter is not None and self.list_filter.spam

    def query(self, **extra: str | None) -> str:
        """The query string of these filters plus `extra` (None values dropped)."""
        params = {
            "list": "spam" if self.spam else None,
            "q": self.q or None,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            **extra,
        }
        return urlencode({k: v for k, v in params.items() if v})


def filters_from(request: Request, default_days: int | None = None) -> Filters:
    settings = services_of(request).settings
    params = request.query_params
    problems = []
    # No stored address holds a NUL (and PostgreSQL cannot take one in a pattern): dropped.
    q = " ".join(params.get("q", "").replace("\x00", "").split())[:254].lower()
    start, end = parse_day(params.get("from")), parse_day(params.get("to"))
    if params.get("from") and start is None:
        problems.append("The start date was not a date; it is ignored.")
    if params.get("to") and end is None:
        problems.append("The end date was not a date; it is ignored.")
    if start and end and end < start:
        start, end = end, start
    # Days are the owner's (TIMEZONE): from local midnight to local midnight, as UTC instants.
    tz, now = settings.tz, utcnow()
    if start is None and default_days is not None:  # an unreadable start date means the default range
        start = local_date(now, tz) - timedelta(days=default_days - 1)
    floor = visible_journeys_since(settings, now)
    since = max(day_start(start, tz), floor) if start else floor
    until = min(day_end(end, tz), FAR_FUTURE) if end else FAR_FUTURE
    spam = params.get("list") == "spam"
    return Filters(q, start, end, ListFilter(since, until, q or None, spam), tuple(problems))
