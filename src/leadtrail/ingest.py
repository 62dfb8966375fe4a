"""Pure: a raw /api/track body -> list[CleanEvent], or an IngestError saying what is wrong.

Validation follows docs/contract.md, with the limits and messages of contract.py. Where the
contract is silent:
- Unknown keys on an event or on the `{"events": [...]}` wrapper are ignored (forward compatible).
- `page_path`, `params`, `event_id` and `ts` may be missing or null (null means "not sent").
- `params` keys: 1-64 characters. No string anywhere may contain NUL (PostgreSQL cannot store it).
- Param numbers: any finite JSON number. An integer beyond 64 signed bits (what SQLite, jsonb
  and orjson all round-trip) is kept as the nearest float, as orjson itself parses those beyond
  2**64; the OpenAPI document says `number`.
- `ts`: an integer, or a float without fraction (JSON Schema's "integer"); one outside
  [TS_MIN, TS_MAX] (years 2000-2100: a visitor's clock gone wrong) is ignored, the event kept.
- Client params named `event_id` or `client_ts` are dropped: in stored params those keys belong to
  the server (deduplication reads `params->>'event_id'`).
- Duplicate keys in any JSON object are an error (orjson silently keeps the last one).
- At most MAX_DETAILS problems are listed; a batch is all or nothing.
This runs on every request: the happy path formats no strings and parses once (bench/bench_ingest.py).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NamedTuple

import orjson

from .cleaning import clean_page_path, clean_params, redact_id, redact_text, reduce_referrer
from .contract import (
    EMAIL_PATTERN,
    EMAIL_SPACE,
    EVENT_NAME_PATTERN,
    FORM_RULE,
    ID_RULE,
    INT_MAX,
    INT_MIN,
    KEY_RULE,
    MAX_BATCH,
    MAX_CLIENT_EVENTS,
    MAX_DETAILS,
    MAX_EMAIL,
    MAX_EVENT_ID,
    MAX_FORM,
    MAX_KEY,
    MAX_PARAMS,
    MAX_PATH,
    MAX_REFERRER,
    MAX_TOUCH_PAGES,
    MAX_TOUCHES,
    MAX_TRACK_BODY,
    MAX_VALUE,
    NAME_RULE,
    PARAMS_RULE,
    PATH_RULE,
    TS_MAX,
    TS_MIN,
    TS_RULE,
    VALUE_RULE,
)

_NAME = re.compile(EVENT_NAME_PATTERN[1:-1])  # fullmatch: the anchors add ~30 ns an event
_BOM = b"\xef\xbb\xbf"
_RESERVED_PARAMS = ("event_id", "client_ts")
_CLIENT_EVENT_KEYS = ("event_name", "page_path", "params", "event_id", "ts")  # the order _check returns

_new_tuple = tuple.__new__
_seen_names: set[str] = set()  # event names already validated (bounded), a pure memo


class IngestError(Exception):
    """A request that must be refused: HTTP status, a one-line message, and one detail per problem."""

    def __init__(self, status: int, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details or [])


class CleanEvent(NamedTuple):
    event_name: str
    page_path: str | None
    params: dict


def _bad(message: str, problems: list[str]) -> IngestError:
    if len(problems) > MAX_DETAILS:
        problems = problems[:MAX_DETAILS] + [f"... and {len(problems) - MAX_DETAILS} more problems"]
    return IngestError(400, message, problems)


def _value_ok(value: Any) -> bool:
    t = type(value)
    if t is str:  # the common case first
        return len(value) <= MAX_VALUE and "\x00" not in value
    return (
        (t is int and INT_MIN <= value <= INT_MAX)
        or (t is float and math.isfinite(value))
        or value is None
        or t is bool
    )


def _prefix(where: str | int) -> str:
    """ "events[3]." for a batch index, "where." for a name, "" for a lone event (error path only)."""
    if isinstance(where, int):
        return f"events[{where}]."
    return where + "." if where else ""


def _check(obj: Any, where: str | int, problems: list[str]) -> tuple | None:
    """(event_name, page_path, params, event_id, ts) cleaned, or None after appending problems.

    The params returned lack the reserved keys; `where` is only formatted to report a problem.
    """
    if type(obj) is not dict:
        problems.append(f"{_prefix(where)[:-1] or 'body'}: must be a JSON object")
        return None
    before = len(problems)

    name: Any = obj.get("event_name")
    if type(name) is not str or name not in _seen_names:  # a site uses few names: skip the regex
        if name is None:
            problems.append(f"{_prefix(where)}event_name: is required; {NAME_RULE}")
        elif type(name) is not str or _NAME.fullmatch(name) is None:
            problems.append(f"{_prefix(where)}event_name: {NAME_RULE}")
        elif len(_seen_names) < 1024:
            _seen_names.add(name)

    path = obj.get("page_path")
    if path is not None and (type(path) is not str or len(path) > MAX_PATH or path[:1] != "/" or "\x00" in path):
        problems.append(f"{_prefix(where)}page_path: {PATH_RULE}")

    params = obj.get("params")
    big_ints = False
    if params is not None:
        if type(params) is not dict:
            problems.append(f"{_prefix(where)}params: {PARAMS_RULE}")
        elif len(params) > MAX_PARAMS:
            problems.append(f"{_prefix(where)}params: {PARAMS_RULE} (got {len(params)})")
        else:
            for key, value in params.items():
                if type(key) is not str or not 0 < len(key) <= MAX_KEY or "\x00" in key:
                    problems.append(f"{_prefix(where)}params: key {str(key)[:MAX_KEY]!r} {KEY_RULE}")
                elif not _value_ok(value):
                    if type(value) is int:  # beyond 64 bits: becomes a float below
                        big_ints = True
                    else:
                        problems.append(f"{_prefix(where)}params.{key}: {VALUE_RULE}")

    event_id = obj.get("event_id")
    if event_id is not None and (
        type(event_id) is not str or not 0 < len(event_id) <= MAX_EVENT_ID or "\x00" in event_id
    ):
        problems.append(f"{_prefix(where)}event_id: {ID_RULE}")

    ts = obj.get("ts")
    if ts is not None:
        if type(ts) is float and ts.is_integer():  # 1.7e12 is an integer to JSON Schema too
            ts = int(ts)
        if type(ts) is not int:  # bools, fractions, strings: a bug in the sender
            problems.append(f"{_prefix(where)}ts: {TS_RULE}")
        elif not TS_MIN <= ts <= TS_MAX:
            # A visitor's clock reset to 1970 (or far ahead) is not the site's fault: the event is
            # kept, without a client time nobody could use (the server's own time still orders it).
            ts = None

    if len(problems) != before:
        return None
    # Clean only once everything is known valid; cleaning is the costly part.
    if params and ("event_id" in params or "client_ts" in params):
        params = {k: v for k, v in params.items() if k not in _RESERVED_PARAMS}
    if big_ints and params:
        params = {k: float(v) if type(v) is int and not INT_MIN <= v <= INT_MAX else v for k, v in params.items()}
    return (
        name,
        None if path is None else clean_page_path(path),
        clean_params(params, name) if params else {},  # name: a valid name is a str
        None if event_id is None else redact_id(event_id)[:MAX_EVENT_ID],
        ts,
    )


def validate_event(obj: Any, where: str = "") -> CleanEvent:
    """One event as stored in session_events, or IngestError(400) naming each problem under `where`."""
    problems: list[str] = []
    checked = _check(obj, where, problems)
    if checked is None:
        raise _bad("invalid event", problems)
    return _stored(checked)


def _stored(checked: tuple) -> CleanEvent:
    name, path, params, event_id, ts = checked
    if event_id is not None:
        params["event_id"] = event_id
    if ts is not None:
        params["client_ts"] = ts
    return _new_tuple(CleanEvent, (name, path, params))  # skips NamedTuple's Python-level __new__


# --- JSON -------------------------------------------------------------------------------------
def _as_bytes(body: bytes) -> bytes:
    if type(body) is bytes:
        return body
    return body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)


def _loads(body: bytes) -> Any:
    """orjson.loads with IngestError on failure.

    A leading UTF-8 byte order mark is ignored (RFC 8259 §8.1 allows it); orjson refuses one, so
    that is handled on the error path, costing nothing on the usual one.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        error = exc
    if body.startswith(_BOM):
        try:
            return orjson.loads(body[3:])
        except orjson.JSONDecodeError as exc:
            error = exc
    what = "must be UTF-8" if "UTF-8" in error.msg else "is not valid JSON"
    raise IngestError(
        400, "malformed JSON", [f"body: {what} ({error.msg} at line {error.lineno} column {error.colno})"]
    )


class _Duplicate(Exception):
    pass


def _pairs(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return d


def _reject_duplicate_keys(body: bytes, doc: Any, members: int) -> None:
    """Raise IngestError if any JSON object in `body` repeats a key (orjson keeps the last).

    A second parse with object_pairs_hook would cost more than the rest of the request, so we
    count: outside strings each ":" separates a key from its value, hence raw ":" count = members
    parsed + duplicates dropped + ":" in raw strings. When it equals the caller's cheap count of
    `members`, done. Else orjson re-serialises the document (never escaping ":"): members parsed +
    ":" in decoded strings. These agree exactly when nothing was dropped, unless an escaped colon
    (\\u003a) decoded into a ":" absent from the raw text; that case, any disagreement and documents
    orjson cannot re-serialise (over 255 levels deep) go to the standard library parser.
    """
    raw = body.count(b":")
    if raw == members:
        return
    if b"\\u003a" not in body and b"\\u003A" not in body:
        try:
            if orjson.dumps(doc).count(b":") == raw:
                return
        except orjson.JSONEncodeError:
            pass
    try:
        json.loads(body.decode("utf-8-sig"), object_pairs_hook=_pairs)
    except _Duplicate as dup:
        raise IngestError(
            400, "malformed JSON", [f"body: duplicate key {str(dup.args[0])[:MAX_KEY]!r} in a JSON object"]
        ) from None
    except (ValueError, RecursionError):  # orjson parsed it, so it is nested too deeply for json
        raise IngestError(400, "malformed JSON", ["body: is nested too deeply"]) from None


def load_json(body: bytes) -> Any:
    """Parse a request body strictly (UTF-8, no NaN, no duplicate keys) or raise IngestError(400)."""
    body = _as_bytes(body)
    doc = _loads(body)
    _reject_duplicate_keys(body, doc, -1)
    return doc


# --- entry points -----------------------------------------------------------------------------
def parse_track_body(body: bytes) -> list[CleanEvent]:
    """A /api/track body (one event or {"events": [...]} of 1-50) -> cleaned events to store.

    All or nothing: any invalid event refuses the whole request. An event_id repeated within the
    batch is stored once (the first).
    """
    body = _as_bytes(body)
    if len(body) > MAX_TRACK_BODY:
        raise IngestError(413, "body too large", [f"body: at most {MAX_TRACK_BODY} bytes, got {len(body)}"])
    doc = _loads(body)
    if type(doc) is not dict:
        raise IngestError(400, "invalid body", ['body: must be a JSON object: an event or {"events": [...]}'])

    batch = "events" in doc
    items, members = (doc["events"], len(doc)) if batch else ((doc,), 0)
    if batch and "event_name" in doc:
        raise IngestError(400, "invalid body", ['body: is either one event or {"events": [...]}, not both'])
    if batch and (type(items) is not list or not 0 < len(items) <= MAX_BATCH):
        got = f" (got {len(items)})" if type(items) is list else ""
        raise IngestError(400, "invalid body", [f"events: must be an array of 1-{MAX_BATCH} events{got}"])

    problems: list[str] = []
    checked_events = []
    for i, obj in enumerate(items):
        if type(obj) is dict:
            members += len(obj)
            params = obj.get("params")
            if type(params) is dict:
                members += len(params)
        checked_events.append(_check(obj, i if batch else "", problems))
    _reject_duplicate_keys(body, doc, members)
    if problems:
        raise _bad("invalid events" if batch else "invalid event", problems)

    # No problems: every event was checked (None only comes with a problem). An annotation, not
    # cast(list[tuple], ...): that builds a generic alias on every request (~0.3 us).
    valid: list[tuple] = checked_events  # type: ignore[assignment]
    if not batch:
        return [_stored(valid[0])]
    seen: set[str] = set()
    return [_stored(checked) for checked in valid if _first(checked[3], seen)]


def _first(event_id: str | None, seen: set[str]) -> bool:
    """False for an event_id already in `seen` (then dropped as a repeat); records new ones."""
    if event_id is None:
        return True
    if event_id in seen:
        return False
    seen.add(event_id)
    return True


def parse_client_events(items: list) -> tuple[list[dict], int]:
    """The promote request's browser buffer -> (cleaned client events, number dropped).

    Each valid item becomes {"event_name", "page_path", "params", "event_id", "ts"}; an invalid
    one (stale or tampered buffer) is dropped and counted, never failing the promote. A repeated
    event_id keeps its first item; repeats are not counted as dropped.
    """
    if type(items) is not list:
        raise IngestError(400, "invalid promote request", ["client_events: must be an array of events"])
    if len(items) > MAX_CLIENT_EVENTS:
        raise IngestError(
            400, "invalid promote request", [f"client_events: at most {MAX_CLIENT_EVENTS} events, got {len(items)}"]
        )
    checked_items = [_check(obj, "", []) for obj in items]
    seen: set[str] = set()
    events = [
        dict(zip(_CLIENT_EVENT_KEYS, checked, strict=True))
        for checked in checked_items
        if checked is not None and _first(checked[3], seen)
    ]
    return events, checked_items.count(None)


# --- promote ----------------------------------------------------------------------------------
_EMAIL = re.compile(EMAIL_PATTERN)


class PromoteRequest(NamedTuple):
    email: str  # trimmed, lower-cased
    client_events: list[dict]
    client_events_dropped: int
    form: str | None
    consent: bool | None
    touches: list[dict] = []  # remembered earlier visits, cleaned, oldest first
    touches_dropped: int = 0
    honeypot: bool = False


def normalise_email(raw: str) -> str:
    return raw.strip(EMAIL_SPACE).lower()


def valid_email(email: str) -> bool:
    return len(email) <= MAX_EMAIL and _EMAIL.match(email) is not None


def parse_touches(items: Any) -> tuple[list[dict], int]:
    """The browser's remembered visits -> (cleaned touches oldest first, number dropped).

    Each valid item becomes {"ts", "page_path", "referrer", "pages"}: the landing page cleaned like
    any page_path (so only the allowlisted campaign tags and click ids of its query stay), the
    referrer reduced to its origin. An invalid one (a stale or tampered memory) is dropped and
    counted on its own; the same visit twice (same start and landing page) is kept once.
    """
    if items is None:
        return [], 0
    touches: dict[tuple[int, str], dict] = {}
    dropped = 0
    for item in items:
        touch = _touch(item)
        if touch is None:
            dropped += 1
        else:
            touches.setdefault((touch["ts"], touch["page_path"]), touch)
    return sorted(touches.values(), key=lambda t: t["ts"]), dropped


def _touch(item: Any) -> dict | None:
    if type(item) is not dict:
        return None
    ts, path, referrer, pages = item.get("ts"), item.get("page_path"), item.get("referrer"), item.get("pages")
    if type(ts) is float and ts.is_integer():
        ts = int(ts)
    if type(ts) is not int or not TS_MIN <= ts <= TS_MAX:
        return None
    if type(path) is not str or not 0 < len(path) <= MAX_PATH or path[0] != "/" or "\x00" in path:
        return None
    if referrer is not None and (type(referrer) is not str or len(referrer) > MAX_REFERRER or "\x00" in referrer):
        return None
    if pages is not None and (type(pages) is not int or not 1 <= pages <= MAX_TOUCH_PAGES):
        return None
    return {
        "ts": ts,
        "page_path": clean_page_path(path),
        "referrer": reduce_referrer(referrer) if referrer else None,
        "pages": pages or 1,
    }


def parse_promote_body(body: bytes) -> PromoteRequest:
    """A /api/track/promote body -> PromoteRequest, or IngestError(400) naming each problem.

    Browser buffers (client_events, touches) are checked item by item: a bad item is dropped and
    counted, never failing the promote; only their container's type and length can refuse it.
    """
    data = load_json(body)  # strict: UTF-8, no NaN, no duplicate keys
    if not isinstance(data, dict):
        raise IngestError(400, "body must be a JSON object", ['expected {"email": ..., "client_events": [...]}'])
    errors = []
    email_raw = data.get("email")
    email = normalise_email(email_raw) if isinstance(email_raw, str) else ""
    if not isinstance(email_raw, str):
        errors.append("email: required, a string")
    elif len(email_raw) > MAX_EMAIL or not valid_email(email_raw.strip(EMAIL_SPACE)):
        errors.append("email: not a valid e-mail address")
    form = data.get("form")
    if form is not None and (not isinstance(form, str) or len(form) > MAX_FORM or "\x00" in form):
        errors.append(f"form: {FORM_RULE}")
    consent = data.get("consent")
    if consent is not None and not isinstance(consent, bool):
        errors.append("consent: true or false")
    honeypot = data.get("honeypot")
    if honeypot is not None and not isinstance(honeypot, bool):
        errors.append("honeypot: true or false")
    items = data.get("client_events", [])
    if items is None:
        items = []
    if not isinstance(items, list):
        errors.append("client_events: must be an array of events")
    elif len(items) > MAX_CLIENT_EVENTS:
        errors.append(f"client_events: at most {MAX_CLIENT_EVENTS} events, got {len(items)}")
    touches = data.get("touches")
    if touches is not None and not isinstance(touches, list):
        errors.append("touches: must be an array of remembered visits")
    elif touches is not None and len(touches) > MAX_TOUCHES:
        errors.append(f"touches: at most {MAX_TOUCHES} remembered visits, got {len(touches)}")
    if errors:
        raise IngestError(400, "invalid promote request", errors)
    client_events, dropped = parse_client_events(items)
    clean_touches, touches_dropped = parse_touches(touches)
    return PromoteRequest(
        email=email,
        client_events=client_events,
        client_events_dropped=dropped,
        form=redact_text(form.strip()) or None if isinstance(form, str) else None,
        consent=consent,
        touches=clean_touches,
        touches_dropped=touches_dropped,
        honeypot=honeypot is True,
    )
