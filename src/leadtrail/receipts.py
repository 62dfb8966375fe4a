"""The enquirer's receipt: what was attached to their enquiry, at an unguessable signed address
under /api/track/ (so the site's own proxy serves it), with one button that removes their
browsing history from it and keeps the enquiry itself.

A receipt path is /api/track/receipt/<journey id>.<signature>: an HMAC of the id and the
journey's creation time under the secret key, so it cannot be guessed, a changed id or signature
is refused, and an id reused after an erasure (SQLite may reuse the last one) never opens the
new journey. The removal form carries its own token (an HMAC of the signature), so no session is
needed and no other site can post it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Any

from . import describe
from .contract import MAX_ID, whole_number

PREFIX = "/api/track/receipt/"
LATEST = PREFIX + "latest"
STYLESHEET = "/api/track/receipt.css"
QUIET_EVENTS = frozenset(("page_view", "page_engagement"))  # shown as the page and its reading time
_MAC = re.compile(r"[0-9a-f]{32}")  # what _mac() gives: hmac.compare_digest takes no other text


def _mac(key: bytes, message: str, size: int = 32) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:size]


def signature(key: bytes, journey_id: int, created_at: datetime) -> str:
    return _mac(key, f"receipt|{journey_id}|{created_at.isoformat(timespec='microseconds')}")


def receipt_path(key: bytes, journey_id: int, created_at: datetime) -> str:
    return f"{PREFIX}{journey_id}.{signature(key, journey_id, created_at)}"


def parse_token(token: str) -> tuple[int, str] | None:
    """(journey id, signature) from the last path segment, or None when it has not the shape
    receipt_path gives (the id's digits as written there, the signature's 32 lower-case hex)."""
    raw_id, dot, sig = token.partition(".")
    journey_id = whole_number(raw_id)
    if not dot or journey_id is None or not 0 < journey_id <= MAX_ID or str(journey_id) != raw_id:
        return None
    return (journey_id, sig) if _MAC.fullmatch(sig) else None


def valid(key: bytes, journey_id: int, created_at: datetime, sig: str) -> bool:
    return hmac.compare_digest(signature(key, journey_id, created_at), sig)


def removal_token(key: bytes, sig: str) -> str:
    return _mac(key, f"receipt-remove|{sig}")


def removal_token_ok(key: bytes, sig: str, given: str | None) -> bool:
    if given is None or _MAC.fullmatch(given) is None:  # compare_digest raises on non-ASCII text
        return False
    return hmac.compare_digest(removal_token(key, sig), given)


CHANNEL_NOTES = {
    "Direct": "no link or campaign was seen: the address typed in, a bookmark, or a link in an app",
}


def view(journey: dict[str, Any]) -> dict[str, Any]:
    """What the receipt shows, from an exported journey: each visit (when, channel, remembered or
    not) with the pages of it, when each was opened, how long it was read and what was done on it
    (in the dashboard's words). Nothing else about anyone."""
    pages_by_visit: dict[int, list[dict[str, Any]]] = {}
    for event in journey.get("timeline") or []:
        name, pages = event.get("event_name"), pages_by_visit.setdefault(event.get("visit", 0), [])
        if name == "page_view" and event.get("page_path"):
            read = event.get("time_on_page_ms")
            pages.append(
                {
                    "path": event["page_path"].split("?", 1)[0],
                    "at": event.get("at"),
                    "read": describe.duration(read) if isinstance(read, int) and read >= 1000 else None,
                    "did": [],
                }
            )
        elif name and name not in QUIET_EVENTS and pages and describe.event_label(name) not in pages[-1]["did"]:
            pages[-1]["did"].append(describe.event_label(name))
    visits = [
        {
            "started_at": v.get("started_at"),
            "channel": v.get("channel"),
            "channel_note": CHANNEL_NOTES.get(v.get("channel") or ""),
            "source": v.get("source"),
            "landing_page": v.get("landing_page"),
            "remembered": bool(v.get("remembered")),
            "page_views": v.get("page_views"),
            "pages": pages_by_visit.get(v["index"], []),
        }
        for v in journey.get("visits") or []
    ]
    return {"visits": visits, "pages": sum(len(v["pages"]) for v in visits)}
