"""Journey reconstruction: one enquirer's server and client events -> timeline, visits, summary.

Pure and defensive: inputs come from a browser buffer anyone can forge, so junk inside events is
ignored or clamped, never raised on. The output shape is the one in CONTRIBUTING.md.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime, timedelta
from statistics import median
from urllib.parse import parse_qsl

from . import channels
from .timestamps import MAX_US as _MAX_US
from .timestamps import MIN_US as _MIN_US
from .timestamps import epoch_us as _instant_us
from .timestamps import iso_us as _iso

VISIT_GAP = timedelta(minutes=30)  # a gap strictly longer than this starts a new visit
MATCH_WINDOW = timedelta(seconds=5)  # id-less events of both capture paths this close are one event

_US = timedelta(microseconds=1)
_GAP_US = VISIT_GAP // _US
_WINDOW_US = MATCH_WINDOW // _US
# A browser clock outside 2000..2100 is broken or forged: such a ts is treated as missing.
_TS_MIN_MS, _TS_MAX_MS = 946_684_800_000, 4_102_444_800_000
# How far before the enquiry a browser's own clock may place an event: the 24-hour buffer and a
# day of slack (an EVENT_TTL raised to 48 hours still fits); earlier times are a clock gone wrong.
_CLIENT_WINDOW_US = 48 * 3600 * 1_000_000
_MAX_ENGAGED_MS = 86_400_000  # nothing in a 24-hour buffer was looked at for longer
_UTM_KEYS = ("source", "medium", "campaign", "term", "content")


class _Event:
    """One merged event while it is being placed; `key` orders it, `t` is its time (µs epoch)."""

    __slots__ = ("eid", "name", "path", "params", "source", "t", "key", "idx", "visit", "engaged_ms")

    def __init__(self, eid, name, path, params, source, t, idx):
        self.eid, self.name, self.path, self.params, self.source, self.t, self.idx = (
            eid,
            name,
            path,
            params,
            source,
            t,
            idx,
        )
        self.key, self.visit, self.engaged_ms = (None if t is None else (t, idx, 0)), 0, None


def _event_id(value: object) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _client_us(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not (math.isfinite(value) and _TS_MIN_MS <= value < _TS_MAX_MS):
        return None
    return int(value * 1000)


def _base_path(path: str | None) -> str | None:
    return None if path is None else path.split("#", 1)[0].split("?", 1)[0]


def _event_fields(raw: dict) -> tuple[str, str | None, dict]:
    name, path, params = raw.get("event_name"), raw.get("page_path"), raw.get("params")
    return (
        name if isinstance(name, str) else "",
        path if isinstance(path, str) else None,
        dict(params) if isinstance(params, dict) else {},
    )


def _merge(
    server_events: object, client_events: object, latest_us: int | None = None, clock: list[int] | None = None
) -> list[_Event]:
    """Every distinct event once, marked server/client/both, with a time and a sort key.
    Client-only times never pass `latest_us` (the submission: the buffer was sent then). The
    browser clock's offset found on the way is appended to `clock` when one is given."""
    events: list[_Event] = []
    by_id: dict[str, _Event] = {}
    for raw in server_events if isinstance(server_events, list) else ():
        if not isinstance(raw, dict):
            continue
        name, path, params = _event_fields(raw)
        eid = _event_id(params.get("event_id"))
        if eid is not None and eid in by_id:
            continue  # the same event stored twice is still one event
        event = _Event(eid, name, path, params, "server", _instant_us(raw.get("created_at")), len(events))
        events.append(event)
        if eid is not None:
            by_id[eid] = event
    _place_untimed(events)  # a server row whose created_at is unreadable follows the one before

    # Client buffer in its own order: (server event it matched, event_id, fields, client clock µs).
    buffer: list[tuple[_Event | None, str | None, tuple, int | None]] = []
    seen_client_ids: set[str] = set()
    offsets: list[int] = []
    for raw in client_events if isinstance(client_events, list) else ():
        if not isinstance(raw, dict):
            continue
        fields = _event_fields(raw)
        eid = _event_id(raw.get("event_id")) or _event_id(fields[2].get("event_id"))
        if eid is not None:
            if eid in seen_client_ids:
                continue
            seen_client_ids.add(eid)
        ts = _client_us(raw.get("ts"))
        match = by_id.get(eid) if eid is not None else None
        if match is not None:
            match.source = "both"
            if match.t is not None and ts is not None:
                offsets.append(match.t - ts)
        buffer.append((match, eid, fields, ts))
    # The browser clock may be off; events both paths saw tell by how much (median resists outliers).
    offset = round(median(offsets)) if offsets else 0
    if clock is not None:
        clock.append(offset)

    unmatched = _unmatched_index(events)
    order: list[_Event] = []
    lower = _MIN_US if latest_us is None else latest_us - _CLIENT_WINDOW_US
    for match, eid, fields, ts in buffer:
        if match is None:
            upper = _MAX_US if latest_us is None else min(_MAX_US, latest_us)
            t = None if ts is None else min(max(ts + offset, _MIN_US), upper)
            if t is not None and t < lower:  # a clock far behind: no time rather than a wrong one
                t = None
            match = _match_without_id(unmatched, eid, fields, t, events)
            if match is None:
                match = _Event(eid, *fields, "client", t, len(events))
                events.append(match)
        order.append(match)
    # Client-only events carry their own key; ones without a clock follow their buffer predecessor.
    _place_untimed(order)
    _browser_times(events)
    return events


def _browser_times(events: list[_Event]) -> None:
    """A server event's time is when the browser recorded it (`client_ts`) on the server's clock,
    not when a delayed send finally arrived: the browser's offset is estimated from the sends that
    were not delayed (the smallest arrival minus record time: a delay only adds to it), and the
    result is bounded by the arrival itself and the client window before it. Events re-sent after
    a blocked or failed send so keep their place in the visit (issue 12, findings 6 and 14)."""
    pairs = []
    for e in events:
        if e.source != "client" and e.t is not None:
            cts = _client_us(e.params.get("client_ts"))
            if cts is not None:
                pairs.append((e, cts))
    if not pairs:
        return
    offset = min(e.t - cts for e, cts in pairs)
    for e, cts in pairs:
        t = max(min(e.t, cts + offset), e.t - _CLIENT_WINDOW_US)
        if t != e.t:
            e.t = t
            e.key = (t, e.idx, 0)


def _unmatched_index(events: list[_Event]) -> dict[tuple, tuple[list, list]]:
    """Server events not matched by id, by (name, path): sorted (t, idx) without id / with id."""
    index: dict[tuple, tuple[list, list]] = {}
    for e in events:
        if e.source == "server" and e.t is not None:
            index.setdefault((e.name, e.path), ([], []))[e.eid is not None].append((e.t, e.idx))
    for lists in index.values():
        lists[0].sort()
        lists[1].sort()
    return index


def _match_without_id(
    index: dict, eid: str | None, fields: tuple, t: int | None, events: list[_Event]
) -> _Event | None:
    """Nearest unmatched server event with the same name and path within MATCH_WINDOW, if either
    side has no event_id (two different ids are two different events)."""
    if t is None:
        return None
    lists = index.get(fields[:2])
    if not lists:
        return None
    best = None  # (distance, candidate list, position)
    for candidates in (lists[0],) if eid is not None else lists:
        i = bisect_left(candidates, (t, -1))
        for j in (i - 1, i):
            if 0 <= j < len(candidates):
                distance = abs(candidates[j][0] - t)
                if distance <= _WINDOW_US and (best is None or distance < best[0]):
                    best = (distance, candidates, j)
    if best is None:
        return None
    _, candidates, j = best
    event = events[candidates.pop(j)[1]]
    event.source = "both"
    event.eid = event.eid or eid
    return event


def _place_untimed(events: list[_Event]) -> None:
    """Put each event without a time right after its predecessor in `events` (right before its
    successor when it leads); none is placed only when no event of the sequence has a time."""
    last = None
    leading: list[_Event] = []
    for event in events:
        if event.key is not None:
            for n, early in enumerate(reversed(leading), 1):
                early.key, early.t = (event.key[0], event.key[1], event.key[2] - n), event.key[0]
            last, leading = event.key, []
        elif last is None:
            leading.append(event)
        else:
            last = event.key = (last[0], last[1], last[2] + 1)
            event.t = last[0]


def _engaged_ms(value: object) -> float | None:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) and 0 <= value <= _MAX_ENGAGED_MS else None


def _split_visits(ordered: list[_Event]) -> list[list[_Event]]:
    visits: list[list[_Event]] = []
    previous = None
    for event in ordered:
        if not visits or (event.t is not None and previous is not None and event.t - previous > _GAP_US):
            visits.append([])
        if event.t is not None:
            previous = event.t
        event.visit = len(visits) - 1
        visits[-1].append(event)
    return visits


def _time_on_page(ordered: list[_Event], submitted_us: int | None) -> dict[int, int | None]:
    """page_view idx -> ms: its page_engagement reports (summed: the tracker may report a page
    once per hide); else the time to the next page_view of the visit (clicks and custom events on
    the page do not end it); for the last page of a visit, the time to the visit's last event, or
    to the submission when the visit ended with the enquiry; else None."""
    latest_view: dict[str | None, _Event] = {}
    for event in ordered:
        if event.name == "page_view":
            latest_view[_base_path(event.path)] = event
        elif event.name == "page_engagement":
            view = latest_view.get(_base_path(event.path))
            engaged = _engaged_ms(event.params.get("engaged_ms"))
            if view is not None and engaged is not None:
                view.engaged_ms = (view.engaged_ms or 0) + engaged
    last_visit = max((e.visit for e in ordered), default=None)
    result: dict[int, int | None] = {}
    for i, event in enumerate(ordered):
        if event.name != "page_view":
            continue
        if event.engaged_ms is not None:
            result[event.idx] = int(event.engaged_ms)
            continue
        result[event.idx] = None
        if event.t is None:
            continue
        # Walk forward by index (a slice per page view made this quadratic in the journey's size).
        end = None
        last_page = True
        for j in range(i + 1, len(ordered)):
            following = ordered[j]
            if following.visit != event.visit:
                break
            if following.t is not None:
                end = following.t
            if following.name == "page_view":
                last_page = False
                break
        if (
            last_page
            and event.visit == last_visit
            and submitted_us is not None
            and 0 <= submitted_us - event.t <= _GAP_US
        ):
            end = submitted_us
        if end is not None and end >= event.t:
            result[event.idx] = (end - event.t) // 1000
    return result


def _describe_visit(index: int, visit: list[_Event], own_hosts: frozenset[str]) -> dict:
    views = sum(1 for e in visit if e.name == "page_view")
    # The first page_view lands the visit; without one, the first event that names a page.
    landing = next((e for e in visit if e.name == "page_view"), None) or next(
        (e for e in visit if e.path is not None), None
    )
    query: dict[str, str] = {}
    if landing is not None and landing.path and "?" in landing.path:
        for key, value in parse_qsl(landing.path.split("#", 1)[0].split("?", 1)[1]):
            query.setdefault(key.lower(), value.strip())
    utm = {k: query[f"utm_{k}"] for k in _UTM_KEYS if query.get(f"utm_{k}")}
    click_ids = {k: query[k] for k in channels.CLICK_ID_PARAMS if query.get(k)}
    referrer = channels.host_of(landing.params.get("referrer")) if landing is not None else None
    if referrer in own_hosts:  # the tracker sends document.referrer on every page load
        referrer = None
    # Plausible-style ?ref= / ?source= tags name the source when nothing better does.
    source = utm.get("source") or (None if referrer else query.get("ref") or query.get("source"))
    attribution = channels.classify(
        referrer_host=referrer,
        utm_source=source,
        utm_medium=utm.get("medium"),
        utm_campaign=utm.get("campaign"),
        click_ids=click_ids,
    )
    times = [e.t for e in visit if e.t is not None]
    return {
        "index": index,
        "started_at": _iso(times[0]) if times else None,
        "ended_at": _iso(times[-1]) if times else None,
        "landing_page": _base_path(landing.path) if landing is not None else None,
        "referrer": referrer,
        "utm": utm,
        "click_ids": click_ids,
        "channel": attribution.channel,
        "source": attribution.source,
        "page_views": views,
        "events": len(visit),
    }


def _touch(visit: dict | None) -> dict | None:
    keys = ("channel", "source", "landing_page")
    return None if visit is None else {**{k: visit[k] for k in keys}, "at": visit["started_at"]}


def _ordered(
    server_events: object, client_events: object, submitted_us: int | None, clock: list[int] | None = None
) -> tuple[list[_Event], list[_Event]]:
    """The merged events, and the same in timeline order."""
    events = _merge(server_events, client_events, submitted_us, clock)
    # Events no clock could place (no usable time anywhere) go last, in input order.
    return events, sorted(events, key=lambda e: e.key if e.key is not None else (math.inf, e.idx, 0))


def _remembered(
    touches: object, offset_us: int, before_us: int | None, own_hosts: frozenset[str], latest_us: int | None = None
) -> list[dict]:
    """The browser's remembered earlier visits (oldest first) as visits: attributed from their
    landing page and referrer exactly as a buffered visit is, times corrected by the browser's
    clock offset (never after `latest_us`, the submission), and only those that ended before the
    buffered events begin (a visit the buffer also holds is not counted twice). Bad entries are
    skipped."""
    visits: list[dict] = []
    if not isinstance(touches, list):
        return visits
    for touch in touches:
        if not isinstance(touch, dict):
            continue
        ts = _client_us(touch.get("ts"))
        path = touch.get("page_path")
        if ts is None or not isinstance(path, str):
            continue
        t = min(max(ts + offset_us, _MIN_US), _MAX_US if latest_us is None else max(latest_us, _MIN_US))
        if before_us is not None and t > before_us - _GAP_US:
            continue
        referrer = touch.get("referrer")
        params = {"referrer": referrer} if isinstance(referrer, str) else {}
        landing = _Event(None, "page_view", path, params, "remembered", t, 0)
        visit = _describe_visit(0, [landing], own_hosts)
        pages = touch.get("pages")
        visit["page_views"] = visit["events"] = pages if isinstance(pages, int) and 0 < pages <= 10_000 else 1
        visit["remembered"] = True
        visits.append(visit)
    visits.sort(key=lambda v: v["started_at"] or "")
    return visits


def _with_remembered(
    touches: object, offset_us: int, ordered: list[_Event], own_hosts: frozenset[str], submitted_us: int | None
) -> list[dict]:
    first_t = next((e.t for e in ordered if e.t is not None), None)
    return _remembered(touches, offset_us, first_t, own_hosts, submitted_us) if touches else []


def _visits(
    server_events: object, client_events: object, submitted_us: int | None, touches: object, own_hosts: frozenset[str]
) -> tuple[list[_Event], list[_Event], list[dict], list[dict]]:
    """The merged events, the same in timeline order, the remembered visits, and all visits
    (remembered first, then the buffer's, attributed)."""
    clock: list[int] = []
    events, ordered = _ordered(server_events, client_events, submitted_us, clock)
    remembered = _with_remembered(touches, clock[0] if clock else 0, ordered, own_hosts, submitted_us)
    shift = len(remembered)
    visits = remembered + [_describe_visit(i + shift, v, own_hosts) for i, v in enumerate(_split_visits(ordered))]
    for index, visit in enumerate(remembered):
        visit["index"] = index
    return events, ordered, remembered, visits


def _summary(
    events: list[_Event], ordered: list[_Event], remembered: list[dict], visits: list[dict], submitted_us: int | None
) -> dict:
    """The summary of a journey (the shape in CONTRIBUTING.md), from what _visits() gives."""
    first_t = next((e.t for e in ordered if e.t is not None), None)
    if remembered:
        first_t = _instant_us(remembered[0]["started_at"])
    to_enquiry = None
    if first_t is not None and submitted_us is not None:
        to_enquiry = max(0, (submitted_us - first_t) // 1000)  # a skewed clock never makes it negative
    last_touch = next((v for v in reversed(visits) if v["channel"] != channels.DIRECT), visits[-1] if visits else None)
    return {
        "first_touch": _touch(visits[0] if visits else None),
        "last_touch": _touch(last_touch),
        "visits": len(visits),
        "page_views": sum(v["page_views"] for v in visits),
        "first_seen_at": _iso(first_t),
        "submitted_at": _iso(submitted_us),
        "time_to_enquiry_ms": to_enquiry,
        "client_only_events": sum(1 for e in events if e.source == "client"),
    }


def _own_hosts(site_hosts: Iterable[str]) -> frozenset[str]:
    return frozenset(filter(None, map(channels.host_of, site_hosts or ())))


def reconstruct(
    server_events: list[dict],
    client_events: list[dict],
    submitted_at: datetime,
    *,
    site_hosts: Iterable[str] = (),
    touches: object = (),
) -> dict:
    """The journey of one enquiry: merged timeline, visits with attribution, and its summary
    (the same as summarize() gives).

    `site_hosts` (hosts or origins of the site itself) turns self-referrals into "no referrer":
    a visit resumed from a tab left open otherwise reads as a Referral from the site.
    """
    submitted_us = _instant_us(submitted_at)
    events, ordered, remembered, visits = _visits(
        server_events, client_events, submitted_us, touches, _own_hosts(site_hosts)
    )
    shift = len(remembered)
    on_page = _time_on_page(ordered, submitted_us)
    timeline = [
        {
            "event_id": e.eid,
            "event_name": e.name,
            "page_path": e.path,
            "params": e.params,
            "at": _iso(e.t),
            "source": e.source,
            "visit": e.visit + shift,
            "time_on_page_ms": on_page.get(e.idx),
        }
        for e in ordered
    ]
    return {
        "timeline": timeline,
        "visits": visits,
        "summary": _summary(events, ordered, remembered, visits, submitted_us),
    }


def summarize(
    server_events: list[dict],
    client_events: list[dict],
    submitted_at: datetime,
    *,
    site_hosts: Iterable[str] = (),
    touches: object = (),
) -> dict:
    """The summary of one enquiry (first and last touch, visits, page views, time to enquiry,
    events only the browser saw), without the timeline: the one summary the enquiry list (as
    list_columns), the webhook and the e-mail use; reconstruct() gives the same. It skips the
    per-event work only a timeline needs (times on page, the timeline's ISO times), which was
    about half of a promote's CPU for a visitor with thousands of events. (outline()'s summary.)"""
    return outline(server_events, client_events, submitted_at, site_hosts=site_hosts, touches=touches)["summary"]


def outline(
    server_events: list[dict],
    client_events: list[dict],
    submitted_at: datetime,
    *,
    site_hosts: Iterable[str] = (),
    touches: object = (),
) -> dict:
    """reconstruct() at summarize()'s cost: the same visits and summary, and as `timeline` only
    the page views (event_name and page_path, in timeline order), all that the journey's facts
    (totals.facts_of) and its insights sample part (insights.journey_sample) read. The promote
    computes it once for the list's columns and the journey's facts."""
    submitted_us = _instant_us(submitted_at)
    events, ordered, remembered, visits = _visits(
        server_events, client_events, submitted_us, touches, _own_hosts(site_hosts)
    )
    return {
        "timeline": [{"event_name": e.name, "page_path": e.path} for e in ordered if e.name == "page_view"],
        "visits": visits,
        "summary": _summary(events, ordered, remembered, visits, submitted_us),
    }


def list_columns(summary: dict) -> dict:
    """A summary as the enquiry list's columns (what a promote stores with the journey)."""
    first = summary.get("first_touch") or {}
    return {
        "first_channel": first.get("channel"),
        "first_source": first.get("source"),
        "landing_page": first.get("landing_page"),
        "visits": summary.get("visits"),
        "page_views": summary.get("page_views"),
        "time_to_enquiry_ms": summary.get("time_to_enquiry_ms"),
    }


def list_summary(
    server_events: list[dict], client_events: list[dict], submitted_at: datetime, touches: object = ()
) -> dict:
    """The enquiry list's columns of a journey: list_columns(summarize(...))."""
    return list_columns(summarize(server_events, client_events, submitted_at, touches=touches))


def server_visits(server_events: list[dict], *, site_hosts: Iterable[str] = ()) -> list[dict]:
    """reconstruct()'s visits of server events alone, without the timeline: what the anonymous
    daily totals (totals.py) count, attributed exactly as a journey's visits are."""
    _, ordered = _ordered(server_events, [], None)
    own_hosts = _own_hosts(site_hosts)
    return [_describe_visit(i, v, own_hosts) for i, v in enumerate(_split_visits(ordered))]
