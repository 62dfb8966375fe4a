"""The public API contract, declared once: every limit, every rule's message, and the JSON Schema of
each body and answer. Validation (ingest.py) reads the limits and messages from here and
/openapi.json (openapi.py) is built from the schemas here, so a limit changes in one place; the
conformance tests (tests/test_conformance.py) fail if the document and the validators disagree in
either direction. docs/contract.md is the prose form.

Why not msgspec Structs: measured on a typical page_view (bench/README.md, "contract"), decoding
into a constrained Struct took 8.4 µs against 1.7 µs for orjson plus ~4 µs for ingest.py's
checks, because each no-NUL string pattern runs a regex; and msgspec stops at the first problem
where the API lists each one. The declarations below are plain data, so both consumers stay cheap.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

# --- limits -----------------------------------------------------------------------------------
MAX_TRACK_BODY = 64 * 1024  # bytes of a POST /api/track body
MAX_PROMOTE_BODY = 256 * 1024  # bytes of a POST /api/track/promote body
MAX_API_BODY = 16 * 1024  # bytes of a POST /api/v1/... body
MAX_BATCH = 50  # events in {"events": [...]}
MAX_CLIENT_EVENTS = 500  # browser-buffer events in one promote
MAX_TOUCHES = 20  # remembered visits in one promote
MAX_PARAMS = 50  # keys of an event's params
MAX_KEY = 64  # characters of a params key
MAX_VALUE = 1000  # characters of a string param value (cleaning.MAX_TEXT)
MAX_PATH = 2048  # characters of a page_path (cleaning.MAX_PATH)
MAX_EVENT_ID = 64
MAX_EMAIL = 254
MAX_FORM = 100
MAX_REFERRER = 2048  # characters of a touch's referrer before it is reduced to an origin
MAX_TOUCH_PAGES = 10_000  # page views one remembered visit may claim
MAX_DETAILS = 20  # problems listed in one error answer
TS_MIN = 946_684_800_000  # 2000-01-01T00:00:00Z in ms: a client time before it is a clock gone wrong
TS_MAX = 4_102_444_800_000  # 2100-01-01T00:00:00Z in ms
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_ID = 2**62  # (19 digits) the highest row id a URL, cursor or receipt may name (both databases store 64-bit ids)
MAX_PAGE = 100  # journeys in one GET /api/v1/journeys page
MAX_VALUE_AMOUNT = 1e12  # an enquiry's value, in CURRENCY

EVENT_NAME_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# Pragmatic, not RFC 5322: one @, no spaces or brackets, a dot in the domain. The form's own
# server validates deliverability; we only refuse what cannot be an address. Spelled without \s
# so every regex engine (and the OpenAPI document) reads it the same way.
EMAIL_PATTERN = (
    r"^[^@<>()\[\],;:\"\\\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
EMAIL_SPACE = " \t\r\n"  # what a typed address may carry around it (trimmed before it is stored)
# The promote body's `email` as typed: the address with optional spaces and line breaks around it.
TYPED_EMAIL_PATTERN = "^[ \t\r\n]*" + EMAIL_PATTERN[1:-1] + "[ \t\r\n]*$"
STATUSES = ("open", "won", "lost", "spam")
MODELS = ("last_touch", "first_touch")


def whole_number(text: str | None, digits: int = 19) -> int | None:
    """A number written as 1-`digits` ASCII digits (an id, a page size, a count in a URL), else None.
    int() alone would take what no URL should carry and fail on some of it: signs, spaces and
    underscores ("+1", " 1", "1_0"), other scripts' digits ("１２"), and digits str.isdigit()
    knows but int() refuses ("²", a ValueError) or more than int() reads (4,300: a ValueError)."""
    if not text or len(text) > digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


# --- the messages of each rule (what a 400's details say after "field: ") ----------------------
NAME_RULE = "must be 1-64 characters of letters, digits, _ . : -"
PATH_RULE = f'must be null or a string of at most {MAX_PATH} characters starting with "/", without NUL'
PARAMS_RULE = f"must be a flat JSON object of at most {MAX_PARAMS} keys"
KEY_RULE = f"must be 1-{MAX_KEY} characters without NUL"
VALUE_RULE = f"must be a string (at most {MAX_VALUE} characters, no NUL), a number, a boolean or null"
ID_RULE = f"must be a string of 1-{MAX_EVENT_ID} characters without NUL"
TS_RULE = "must be an integer number of milliseconds since the epoch"
FORM_RULE = f"a string of at most {MAX_FORM} characters, without NUL"
STATUS_RULE = "must be one of " + ", ".join(STATUSES)
AMOUNT_RULE = f"must be a number from 0 to {MAX_VALUE_AMOUNT:.0e}, or null"

# --- JSON Schema (OpenAPI 3.1 takes JSON Schema 2020-12) -----------------------------------------
NO_NUL = "^[^\x00]*$"
_NULLABLE_BOOL = {"type": ["boolean", "null"]}


def _text(max_length: int, min_length: int = 0, pattern: str = NO_NUL, nullable: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    schema["pattern"] = pattern
    return schema


SCALAR: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "maxLength": MAX_VALUE, "pattern": NO_NUL},
        # Any JSON number (integers past 64 bits are kept as the nearest float); only a literal too
        # large for a double (over 300 digits) is refused, a bound JSON Schema cannot state exactly.
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
    ]
}
PARAMS: dict[str, Any] = {
    "type": ["object", "null"],
    "maxProperties": MAX_PARAMS,
    "additionalProperties": SCALAR,
    "propertyNames": {"minLength": 1, "maxLength": MAX_KEY, "pattern": NO_NUL},
}
TS: dict[str, Any] = {
    "type": ["integer", "null"],
    "description": "client clock, milliseconds since the epoch; a time outside the years 2000-2100 "
    "(a visitor's clock gone wrong) is ignored and the event kept",
}
EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["event_name"],
    "properties": {
        "event_name": {"type": "string", "pattern": EVENT_NAME_PATTERN},
        "page_path": _text(MAX_PATH, pattern="^/[^\x00]*$"),
        "params": PARAMS,
        "event_id": _text(MAX_EVENT_ID, min_length=1),
        "ts": TS,
    },
}
TRACK_BODY: dict[str, Any] = {
    "anyOf": [
        # One event is the body itself, so it cannot also be a batch; inside a batch an event's
        # unknown keys, "events" among them, are ignored like any other.
        {**EVENT, "not": {"required": ["events"]}},
        {
            "type": "object",
            "required": ["events"],
            "not": {"required": ["event_name"]},
            "properties": {"events": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": EVENT}},
        },
    ]
}
TOUCH: dict[str, Any] = {
    "type": "object",
    "description": "one earlier visit the visitor's browser remembered: when it started, its landing page (with "
    "the campaign tags and click ids of its query), where it came from, how many pages it saw",
    "required": ["ts", "page_path"],
    "properties": {
        "ts": {"type": "integer", "minimum": TS_MIN, "maximum": TS_MAX},
        "page_path": _text(MAX_PATH, pattern="^/[^\x00]*$", nullable=False),
        "referrer": _text(MAX_REFERRER),
        "pages": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_TOUCH_PAGES},
    },
}
PROMOTE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["email"],
    "properties": {
        "email": {
            "type": "string",
            "maxLength": MAX_EMAIL,
            "pattern": TYPED_EMAIL_PATTERN,
            "description": "compared case-insensitively; stored trimmed and lower-cased",
        },
        "client_events": {
            "type": ["array", "null"],
            "maxItems": MAX_CLIENT_EVENTS,
            "items": {},
            "description": "the tracker's buffer of events (each as for /api/track); invalid items are dropped, "
            "not refused",
        },
        "touches": {
            "type": ["array", "null"],
            "maxItems": MAX_TOUCHES,
            "items": {},
            "description": "earlier visits the visitor's browser remembered (each a touch: ts, page_path, referrer, "
            "pages); invalid items are dropped, not refused",
        },
        "form": _text(MAX_FORM),
        "consent": _NULLABLE_BOOL,
        "honeypot": {
            "type": ["boolean", "null"],
            "description": "true when a form field marked data-leadtrail-honeypot held a value",
        },
    },
}
PROMOTED: dict[str, Any] = {
    "type": "object",
    "required": ["journey_id", "server_events", "client_events"],
    "properties": {
        "journey_id": {"type": "integer"},
        "server_events": {"type": "integer"},
        "client_events": {"type": "integer"},
        "client_events_dropped": {"type": "integer"},
        "touches": {"type": "integer"},
        "touches_dropped": {"type": "integer"},
        "receipt_url": {
            "type": "string",
            "description": "a path under /api/track/ where the enquirer sees what was attached to the enquiry",
        },
    },
}
ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error", "details"],
    "properties": {"error": {"type": "string"}, "details": {"type": "array", "items": {"type": "string"}}},
}

# --- /api/v1 ---------------------------------------------------------------------------------
OUTCOME_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "additionalProperties": False,
    "properties": {
        "status": {"type": "string", "enum": list(STATUSES)},
        "value": {"type": ["number", "null"], "minimum": 0, "maximum": MAX_VALUE_AMOUNT},
    },
}
OUTCOME: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "value", "currency"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "value": {"type": ["number", "null"]},
        "currency": {"type": "string"},
    },
}
_TOUCH_OUT = {
    "type": ["object", "null"],
    "properties": {
        "channel": {"type": "string"},
        "source": {"type": ["string", "null"]},
        "landing_page": {"type": ["string", "null"]},
        "at": {"type": ["string", "null"]},
    },
}
JOURNEY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "email", "submitted_at", "status", "value", "currency", "spam_score", "spam_reasons"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "form": {"type": ["string", "null"]},
        "consent": {"type": ["boolean", "null"]},
        "submitted_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "value": {"type": ["number", "null"]},
        "currency": {"type": ["string", "null"], "description": "of `value`; null while no value was ever set"},
        "spam_score": {"type": "integer", "minimum": 0, "maximum": 100},
        "spam_reasons": {"type": "array", "items": {"type": "string"}},
        "summary": {
            "type": "object",
            "properties": {
                "first_touch": _TOUCH_OUT,
                "last_touch": _TOUCH_OUT,
                "visits": {"type": "integer"},
                "page_views": {"type": "integer"},
                "first_seen_at": {"type": ["string", "null"]},
                "time_to_enquiry_ms": {"type": ["integer", "null"]},
            },
        },
        "visits": {"type": "array", "items": {"type": "object"}},
        "timeline": {"type": "array", "items": {"type": "object"}, "description": "only on GET /api/v1/journeys/{id}"},
    },
}
JOURNEY_PAGE: dict[str, Any] = {
    "type": "object",
    "required": ["journeys", "next_cursor"],
    "properties": {
        "journeys": {"type": "array", "items": JOURNEY},
        "next_cursor": {"type": ["string", "null"], "description": "pass as ?cursor= for the next (older) page"},
    },
}
_RATE = {"type": ["number", "null"], "minimum": 0}
INSIGHTS: dict[str, Any] = {
    "type": "object",
    "required": ["channels", "landing_pages", "pages", "days"],
    "properties": {
        "channels": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["channel", "source", "visits", "enquiries", "conversion_rate", "won", "value"],
                "properties": {
                    "channel": {"type": "string"},
                    "source": {"type": ["string", "null"]},
                    "visits": {"type": "integer"},
                    "enquiries": {"type": "integer"},
                    "conversion_rate": _RATE,
                    "won": {"type": "integer"},
                    "value": {"type": "number"},
                },
            },
        },
        "landing_pages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["page_path", "visits", "enquiries", "conversion_rate"],
                "properties": {
                    "page_path": {"type": "string"},
                    "visits": {"type": "integer"},
                    "enquiries": {"type": "integer"},
                    "conversion_rate": _RATE,
                },
            },
        },
        "pages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["page_path", "views", "enquirers", "assist_rate"],
                "properties": {
                    "page_path": {"type": "string"},
                    "views": {"type": "integer"},
                    "enquirers": {"type": "integer"},
                    "assist_rate": _RATE,
                },
            },
        },
        "days": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["date", "visits", "enquiries"],
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "visits": {"type": "integer"},
                    "enquiries": {"type": "integer"},
                },
            },
        },
    },
}
# Query parameters of the /api/v1 GET routes: name -> (schema, description).
JOURNEYS_QUERY: dict[str, tuple[dict[str, Any], str]] = {
    "since": ({"type": "string", "format": "date-time"}, "only journeys submitted at or after this ISO 8601 time"),
    "status": ({"type": "string", "enum": list(STATUSES)}, "only journeys with this status"),
    "limit": ({"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": MAX_PAGE}, "journeys per page"),
    "cursor": ({"type": "string", "maxLength": 200}, "next_cursor of the previous page"),
}
# Days of an insights query: the span of TS_MIN..TS_MAX (far years overflow local-day arithmetic).
DAY_MIN, DAY_MAX = "2000-01-01", "2099-12-31"
DAY_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DAY_RULE = f"must be a day as YYYY-MM-DD, from {DAY_MIN} to {DAY_MAX}"
_DAY_TEXT = re.compile(DAY_PATTERN)


def day(text: str | None) -> date | None:
    """A day written exactly as YYYY-MM-DD between DAY_MIN and DAY_MAX, else None (what
    date.fromisoformat also takes, such as 20260101 or 2026-W01-1, is not one; nor is 2026-02-30)."""
    if not text or _DAY_TEXT.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


_DAY = {"type": "string", "format": "date", "pattern": DAY_PATTERN}
INSIGHTS_QUERY: dict[str, tuple[dict[str, Any], str]] = {
    "from": (_DAY, "first day (YYYY-MM-DD, in TIMEZONE), included"),
    "to": (_DAY, "last day (YYYY-MM-DD, in TIMEZONE), included"),
    "model": ({"type": "string", "enum": list(MODELS), "default": MODELS[0]}, "which touch gets the credit"),
}
