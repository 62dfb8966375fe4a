"""Pure: a raw promote body -> PromoteRequest, or an IngestError saying what is wrong."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import NamedTuple

from .cleaning import redact_text
from .ingest import IngestError, load_json, parse_client_events

MAX_EMAIL = 254
MAX_FORM = 100
MAX_CLIENT_EVENTS = 500
# Pragmatic, not RFC 5322: one @, no spaces or brackets, a dot in the domain. The form's own
# server validates deliverability; we only refuse what cannot be an address.
# Spelled without \s so every regex engine (and the OpenAPI document) reads it the same way:
# no controls, no Unicode spaces, none of the specials that need quoting in an address.
EMAIL_PATTERN = (
    r"^[^@<>()\[\],;:\"\\\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_EMAIL = re.compile(EMAIL_PATTERN)


class PromoteRequest(NamedTuple):
    email: str  # trimmed, lower-cased
    client_events: list[dict]
    client_events_dropped: int
    form: str | None
    consent: bool | None


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def valid_email(email: str) -> bool:
    return len(email) <= MAX_EMAIL and _EMAIL.match(email) is not None


def parse_promote_body(body: bytes) -> PromoteRequest:
    data = load_json(body)  # strict: UTF-8, no NaN, no duplicate keys
    if not isinstance(data, dict):
        raise IngestError(400, "body must be a JSON object", ['expected {"email": ..., "client_events": [...]}'])
    errors = []
    email_raw = data.get("email")
    email = normalise_email(email_raw) if isinstance(email_raw, str) else ""
    if not isinstance(email_raw, str):
        errors.append("email: required, a string")
    elif not valid_email(email_raw.strip()):
        errors.append("email: not a valid e-mail address")
    form = data.get("form")
    if form is not None and (not isinstance(form, str) or len(form) > MAX_FORM or "\x00" in form):
        errors.append(f"form: a string of at most {MAX_FORM} characters, without NUL")
    consent = data.get("consent")
    if consent is not None and not isinstance(consent, bool):
        errors.append("consent: true or false")
    items = data.get("client_events", [])
    if items is None:
        items = []
    if not isinstance(items, list):
        errors.append("client_events: must be an array of events")
    elif len(items) > MAX_CLIENT_EVENTS:
        errors.append(f"client_events: at most {MAX_CLIENT_EVENTS} events, got {len(items)}")
    if errors:
        raise IngestError(400, "invalid promote request", errors)
    client_events, dropped = parse_client_events(items)
    return PromoteRequest(
        email=email,
        client_events=client_events,
        client_events_dropped=dropped,
        form=redact_text(form.strip()) or None if isinstance(form, str) else None,
        consent=consent,
    )


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
