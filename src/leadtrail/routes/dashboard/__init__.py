"""/cp/: the owner's dashboard. The route table; the handlers are in enquiries.py, journey.py,
insights.py, account.py and auth.py (one module per page family, none importing another); what
they share (headers, cookies, sessions, forms, rendering, filters) is in leadtrail/http/.

  GET  /cp/                            enquiries, newest first (search, date range, keyset pages)
  GET  /cp/export.csv                  the same list as CSV (same filters, streamed)
  GET  /cp/export/google-ads.csv       won enquiries with a Google click id (conversion import)
  GET  /cp/export/meta.csv             won enquiries with an e-mail address (Meta offline events)
  GET  /cp/journeys/{id}               one journey: summary, the path as a picture, events
  GET  /cp/journeys/{id}.json          that journey as `leadtrail export` shows it (download)
  GET  /cp/journeys/{id}/person.json   every journey of that address (right of access)
  GET  /cp/journeys/{id}/erase         confirm; POST erases every journey of that address
  POST /cp/journeys/{id}/outcome       status and value of an enquiry
  GET  /cp/insights                    channels, landing pages, pages seen, time to enquiry, paths
  GET  /cp/login, POST /cp/login       log in;  POST /cp/logout
  GET  /cp/account, POST               the owner's account; POST changes the password
  POST /cp/account/sign-out-others     ends the owner's other sessions
  GET  /cp/setup?token=..., POST       create the first owner from the link printed at start-up
  POST /cp/account/invites             owners: invite a member (the link shown once)
  POST /cp/account/invites/{id}/revoke owners: withdraw a pending invite
  GET  /cp/account/team/{id}/remove    owners: confirm; POST removes a member (never the last owner)
  POST /cp/account/tokens              owners: a new API token, shown once
  POST /cp/account/tokens/revoke       owners: revoke an API token by name
  GET  /cp/invite/{token}, POST        join the team from an invite: choose a password, signed in
  GET  /cp/static/...                  the dashboard's CSS and JS

Every response carries a strict CSP (no inline script or style), Referrer-Policy same-origin and
no-store (static files excepted); every form carries a CSRF token. Handlers are owners' unless
marked member_required (viewers too): see http/sessions.py.
"""

from __future__ import annotations

import logging
import sys

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ...accounts import team
from ...accounts.sessions import housekeeping
from ...accounts.setup import SETUP_TTL
from ...http.headers import CpHeaders
from ...http.render import CP_STATIC_DIR, not_found
from ...http.sessions import current_session
from . import account, auth, enquiries, insights, journey

log = logging.getLogger("leadtrail.dashboard")


async def anything_else(request: Request) -> Response:
    if await current_session(request) is None and request.method in ("GET", "HEAD"):
        return RedirectResponse("/cp/login", status_code=303)
    return not_found(request)


def routes(settings) -> list[BaseRoute]:
    return [
        Mount(
            "/cp",
            middleware=[Middleware(CpHeaders)],
            routes=[
                Route("/", enquiries.enquiries, methods=["GET", "HEAD"]),
                Route("/export.csv", enquiries.export_csv, methods=["GET"]),
                Route("/export/google-ads.csv", enquiries.export_google_ads, methods=["GET"]),
                Route("/export/meta.csv", enquiries.export_meta, methods=["GET"]),
                Route("/journeys/{journey_id:int}", journey.journey_page, methods=["GET", "HEAD"]),
                Route("/journeys/{journey_id:int}.json", journey.journey_json, methods=["GET"]),
                Route("/journeys/{journey_id:int}/person.json", journey.person_json, methods=["GET"]),
                Route("/journeys/{journey_id:int}/erase", journey.erase_confirm, methods=["GET", "HEAD"]),
                Route("/journeys/{journey_id:int}/erase", journey.erase, methods=["POST"]),
                Route("/journeys/{journey_id:int}/outcome", journey.set_outcome, methods=["POST"]),
                Route("/insights", insights.insights_page, methods=["GET", "HEAD"]),
                Route("/account", account.account_page, methods=["GET", "HEAD"]),
                Route("/account", account.change_password, methods=["POST"]),
                Route("/account/sign-out-others", account.sign_out_others, methods=["POST"]),
                Route("/account/invites", account.create_invite, methods=["POST"]),
                Route("/account/invites/{invite_id:int}/revoke", account.revoke_invite, methods=["POST"]),
                Route("/account/team/{member_id:int}/remove", account.remove_confirm, methods=["GET", "HEAD"]),
                Route("/account/team/{member_id:int}/remove", account.remove_member, methods=["POST"]),
                Route("/account/tokens", account.create_token, methods=["POST"]),
                Route("/account/tokens/revoke", account.revoke_token, methods=["POST"]),
                Route("/login", auth.login_page, methods=["GET", "HEAD"]),
                Route("/login", auth.login, methods=["POST"]),
                Route("/logout", auth.logout, methods=["POST"]),
                Route("/setup", auth.setup_page, methods=["GET", "HEAD"]),
                Route("/setup", auth.setup, methods=["POST"]),
                Route("/invite/{token}", auth.invite_page, methods=["GET", "HEAD"]),
                Route("/invite/{token}", auth.accept_invite, methods=["POST"]),
                Mount("/static", app=StaticFiles(directory=CP_STATIC_DIR), name="cp-static"),
                Route("/{rest:path}", anything_else, methods=["GET", "HEAD", "POST"]),
            ],
        )
    ]


async def on_startup(services) -> None:
    """Tidies expired sessions and attempts; with no owner yet, prints the one-time setup link."""
    await housekeeping(services.store)
    await team.housekeeping(services.store)
    link = await auth.announce_setup_link(services)
    if link is None:
        return
    hours = int(SETUP_TTL.total_seconds() // 3600)
    if services.settings.log_format == "json":
        # One structured event, like every other line a log collector reads from this process.
        log.warning(
            "no dashboard owner yet: create one with the one-time setup link (or: leadtrail user add EMAIL)",
            extra={"event": "setup_link", "setup_url": link, "valid_hours": hours},
        )
        return
    banner = (
        "\n"
        "  leadtrail has no dashboard owner yet. Create one with this one-time link\n"
        f"  (valid {hours} hours, works once):\n\n"
        f"    {link}\n\n"
        "  or from the command line: leadtrail user add you@example.com\n"
    )
    print(banner, file=sys.stderr, flush=True)
    log.info("dashboard setup link printed (no owner account exists yet)")
