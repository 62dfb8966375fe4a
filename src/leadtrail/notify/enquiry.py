"""Pure: the new-enquiry e-mail. From a journey as export.export_journey gives it (its summary,
visits and timeline), in the owner's words (describe.py, charts/text.py) and TIMEZONE.

What it holds (docs/contract.md, "E-mail"): the enquirer's address and form, first and last touch
(channel, source, landing page), the pages read with time on page, visits, time to enquiry, and
the link to the journey in the dashboard. Reply-To is the enquirer, so answering is one click.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any

from ..charts.text import Format, truncate
from . import mail

# Page rows the e-mail lists at most; the journey's page has them all. The latest are kept (the
# pages just before the enquiry say most about what the enquirer wants).
MAX_PAGES = 40
PATH_LIMIT = 70
TITLE_LIMIT = 80


def _base_path(path: object) -> str | None:
    return path.split("#", 1)[0].split("?", 1)[0] or "/" if isinstance(path, str) else None


def _touch(touch: dict[str, Any] | None, times: Format) -> dict[str, Any] | None:
    if not touch:
        return None
    return {
        "channel": touch.get("channel") or "Unassigned",
        "source": touch.get("source"),
        "landing_page": truncate(touch.get("landing_page"), PATH_LIMIT) if touch.get("landing_page") else None,
        "at": times.moment(touch.get("at")) if touch.get("at") else None,
    }


def _pages_by_visit(journey: dict[str, Any], times: Format) -> tuple[list[dict[str, Any]], int]:
    """Each visit (oldest first) with its pages read (page views, with time on page), and how
    many page rows were left out (only the latest MAX_PAGES are listed)."""
    views: dict[int, list[dict[str, Any]]] = {}
    for event in journey.get("timeline") or ():
        if event.get("event_name") != "page_view":
            continue
        params = event.get("params") if isinstance(event.get("params"), dict) else {}
        ms = event.get("time_on_page_ms")
        views.setdefault(int(event.get("visit") or 0), []).append(
            {
                # Without its query: what a query may keep (campaign tags, click ids) is the visit's
                # attribution, said in its heading.
                "path": truncate(_base_path(event.get("page_path")) or "–", PATH_LIMIT),
                "title": truncate(params.get("title"), TITLE_LIMIT) if params.get("title") else None,
                "time_on_page": times.duration(ms) if isinstance(ms, int | float) else None,
                "browser_only": event.get("source") == "client",
            }
        )
    budget, left_out = MAX_PAGES, 0
    visits: list[dict[str, Any]] = []
    for visit in reversed(journey.get("visits") or ()):
        pages = views.get(int(visit.get("index") or 0), [])
        shown = pages[max(0, len(pages) - budget) :] if budget else []
        budget -= len(shown)
        left_out += len(pages) - len(shown)
        visits.append(
            {
                "number": int(visit.get("index") or 0) + 1,
                "channel": visit.get("channel") or "Unassigned",
                "source": visit.get("source"),
                "campaign": truncate((visit.get("utm") or {}).get("campaign"), 60) or None,
                "started": times.moment(visit.get("started_at")) if visit.get("started_at") else None,
                "landing_page": truncate(visit.get("landing_page"), PATH_LIMIT) if visit.get("landing_page") else None,
                "page_views": int(visit.get("page_views") or 0),
                "remembered": bool(visit.get("remembered")),
                "pages": shown,
                "pages_left_out": len(pages) - len(shown),
            }
        )
    visits.reverse()
    return visits, left_out


def enquiry_view(journey: dict[str, Any], link: str | None, times: Format) -> dict[str, Any]:
    """What the templates show (pure): `journey` as export.export_journey gives it."""
    summary = journey.get("summary") or {}
    visits, left_out = _pages_by_visit(journey, times)
    first = _touch(summary.get("first_touch"), times)
    page_views = int(summary.get("page_views") or 0)
    visit_count = int(summary.get("visits") or 0)
    to_enquiry = summary.get("time_to_enquiry_ms")
    return {
        "journey_id": journey.get("id"),
        "email": journey.get("email") or "",
        "form": truncate(journey.get("form"), 80) if journey.get("form") else None,
        "consent": journey.get("consent"),
        "submitted": times.moment(journey.get("submitted_at") or journey.get("created_at")),
        "link": link,
        "first_touch": first,
        "last_touch": _touch(summary.get("last_touch"), times),
        "visits": visit_count,
        "visits_text": f"{visit_count} visit{'' if visit_count == 1 else 's'}",
        "page_views_text": f"{page_views} page{'' if page_views == 1 else 's'} viewed",
        "time_to_enquiry": times.duration(to_enquiry) if to_enquiry is not None else None,
        "first_seen": times.moment(summary.get("first_seen_at")) if summary.get("first_seen_at") else None,
        "client_only_events": int(summary.get("client_only_events") or 0),
        "visit_pages": visits,
        "pages_left_out": left_out,
        "history_removed": bool(journey.get("history_removed_at")),
        "zone": times.name,
        "max_pages": MAX_PAGES,
    }


def subject(view: dict[str, Any]) -> str:
    form = f" ({view['form']} form)" if view["form"] else ""
    return f"New enquiry from {view['email']}{form}"


def preview(view: dict[str, Any]) -> str:
    """The line inboxes show after the subject."""
    parts = []
    if view["first_touch"]:
        touch = view["first_touch"]
        parts.append(f"Found you through {touch['channel']}" + (f" ({touch['source']})" if touch["source"] else ""))
    parts.append(view["visits_text"])
    if view["time_to_enquiry"]:
        parts.append(f"{view['time_to_enquiry']} to enquire")
    return " · ".join(parts)


def enquiry_message(view: dict[str, Any], sender: str, recipients: tuple[str, ...], now: datetime) -> EmailMessage:
    context = {**view, "preview": preview(view)}
    text, html = mail.render("enquiry", context)
    return mail.assemble(subject(view), text, html, sender, recipients, now, reply_to=view["email"] or None)
