"""The promote workflow's pure parts: which buffered events belong to the path to the enquiry."""

from __future__ import annotations

from datetime import UTC, datetime


def until_next_page(server_events: list[dict], submitted_at: datetime) -> list[dict]:
    """The visitor's buffered events (oldest first) without what they did after the enquiry.

    Events stored after the submission on the form's own page stay: the tracker sends the page's
    engagement time and the form's own events (a `generate_lead`) with the promote, and they may
    commit just after it. From the first `page_view` after the submission on (the thank-you page
    the form leads to, the next page the visitor reads) the events belong after the enquiry, not
    in the path to it, so they are left out. Only the events newer than the submission are looked
    at; `created_at` is fixed-width ISO 8601 UTC text, so comparing text compares times.
    """
    cut = submitted_at.astimezone(UTC).isoformat(timespec="microseconds")
    first_after = len(server_events)
    while first_after and _later(server_events[first_after - 1].get("created_at"), cut, submitted_at):
        first_after -= 1
    for i in range(first_after, len(server_events)):
        if server_events[i].get("event_name") == "page_view":
            return server_events[:i]
    return server_events


def _later(created_at: object, cut: str, submitted_at: datetime) -> bool:
    if isinstance(created_at, str):
        return created_at > cut
    if isinstance(created_at, datetime):  # naive times are UTC, as everywhere in the store
        return created_at.replace(tzinfo=created_at.tzinfo or UTC) > submitted_at
    return False
