"""Spam score (0-100) of a new enquiry, with the reasons an owner reads, from the journey itself:
what the visitor did before the form, how the promote arrived, and how many enquiries came from
the same visitor, address or client lately. No network look-ups.

At the default SPAM_THRESHOLD of 70: a filled honeypot alone is spam (100); so is a promote with
no page seen from something that is not a browser (80), and a form sent faster than anyone types
an e-mail address (under FAST_SECONDS after the first page opened, its own page barely open: 70).
A quick submit (under INSTANT_SECONDS: 65, under QUICK_SECONDS: 45) is spam only together with
another sign (not a browser, repeated enquiries): a quick enquirer, or a site's own test, is a
lead lost if filed as spam, and the owner still sees the score and its reasons. An enquirer
who read a few pages over a few minutes, without a honeypot, scores at most 65 whatever else
happens (bursts add at most BURST_CAP, a program's promote SERVER_CLIENT), so is never spam.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections import deque
from dataclasses import dataclass, field

from leadtrail.timestamps import epoch_ms

HONEYPOT = 100
NO_PAGES = 50
FAST = 50  # the form sent within FAST_SECONDS of the first page: faster than anyone types an address
INSTANT = 45  # ... within INSTANT_SECONDS
QUICK = 25  # ... within QUICK_SECONDS
GLANCE = 20  # the form's own page open for under GLANCE_SECONDS
SERVER_CLIENT = 30  # the promote did not come from a browser
BURST_CAP = 35
FAST_SECONDS, INSTANT_SECONDS, QUICK_SECONDS, GLANCE_SECONDS = 1.5, 3, 10, 2


@dataclass(frozen=True)
class Evidence:
    page_views: int  # page views known before the enquiry (server and browser)
    time_to_enquiry_ms: int | None  # from the first known event to the enquiry
    form_page_ms: int | None  # from the last page view to the enquiry
    honeypot: bool
    browser: bool  # the promote's user agent is a browser's (bots.is_bot says no)
    same_email: int = 0  # earlier enquiries of this address in the last day
    same_visitor: int = 0  # earlier enquiries of this visitor (anon_id) in the last day
    same_client: int = 0  # enquiries from this client address in the last hour, this one included
    # (count it only when the address is the visitor's: a form's server promotes for everyone)


def score(e: Evidence) -> tuple[int, list[str]]:
    """(0-100, reasons), each reason a sentence an owner understands."""
    points = 0
    reasons: list[str] = []

    def add(value: int, reason: str) -> None:
        nonlocal points
        points += value
        reasons.append(reason)

    if e.honeypot:
        add(HONEYPOT, "a hidden field that only bots fill in (honeypot) was filled in")
    if e.page_views == 0:
        add(NO_PAGES, "no page of the site was seen before the form")
    elif e.time_to_enquiry_ms is not None and e.time_to_enquiry_ms < FAST_SECONDS * 1000:
        add(
            FAST,
            f"the form was sent {e.time_to_enquiry_ms / 1000:.1f} s after the first page opened, "
            "faster than anyone types an e-mail address",
        )
    elif e.time_to_enquiry_ms is not None and e.time_to_enquiry_ms < INSTANT_SECONDS * 1000:
        add(INSTANT, f"the form was sent {e.time_to_enquiry_ms / 1000:.1f} s after the first page opened")
    elif e.time_to_enquiry_ms is not None and e.time_to_enquiry_ms < QUICK_SECONDS * 1000:
        add(QUICK, f"the form was sent {e.time_to_enquiry_ms / 1000:.0f} s after the first page opened")
    quick = e.time_to_enquiry_ms is not None and e.time_to_enquiry_ms < 60_000
    if e.page_views and quick and e.form_page_ms is not None and e.form_page_ms < GLANCE_SECONDS * 1000:
        add(GLANCE, f"the form's page was open for {e.form_page_ms / 1000:.1f} s")
    if not e.browser:
        add(SERVER_CLIENT, "sent by a program, not a web browser")
    burst = 0
    burst_reasons = []
    if e.same_visitor >= 2:
        burst += 10 * e.same_visitor
        burst_reasons.append(f"{e.same_visitor + 1} enquiries from this visitor within a day")
    if e.same_email >= 2:
        burst += 10 * e.same_email
        burst_reasons.append(f"{e.same_email + 1} enquiries from this address within a day")
    if e.same_client >= 5:
        burst += 3 * e.same_client
        burst_reasons.append(f"{e.same_client} enquiries from one network address within an hour")
    if burst:
        add(min(burst, BURST_CAP), "; ".join(burst_reasons))
    return min(points, 100), reasons


def from_browser(ua_is_bot: bool, browser_headers: bool, anon_id: bool, client_events: bool, touches: bool) -> bool:
    """Whether a promote came from (or on behalf of) a web browser.

    - A signed anon_id cookie: a browser ran the tracker; the promote may come from the site's own
      server forwarding it (docs/integration.md, section 4), whatever that server's user agent.
    - No cookie: a user agent bots.py flags is a program. So is one with no trace of the tracker at
      all (no events, no remembered visits) and none of the headers every current browser sends
      with a request (Origin, Sec-Fetch-*): a script posting the promote or the site's form itself.
      A form's server forwarding the browser's Sec-Fetch-* headers keeps its visitors browsers.
    """
    if anon_id:
        return True
    return not ua_is_bot and (browser_headers or client_events or touches)


def page_evidence(
    server_events: list[dict], client_events: list[dict], touches: list[dict], submitted_ms: int
) -> tuple[int, int | None, int | None]:
    """(page views, ms from the first known event, ms from the last page view) before the
    enquiry, from both capture paths and the browser's remembered visits. Cheap (one pass, no
    reconstruction): a page seen by both paths counts twice, which only matters as "none"."""
    server_views = [e.get("created_at") for e in server_events if e.get("event_name") == "page_view"]
    views = _first_and_last_ms(server_views, submitted_ms)
    views += [epoch_ms(e.get("ts")) for e in client_events if e.get("event_name") == "page_view"]
    starts = [epoch_ms(e.get("created_at")) for e in server_events[:1]]
    starts += [epoch_ms(e.get("ts")) for e in client_events] + [epoch_ms(t.get("ts")) for t in touches]
    known_views = [t for t in views if t is not None and t <= submitted_ms]
    known_starts = [t for t in starts if t is not None and t <= submitted_ms] + known_views
    first = min(known_starts) if known_starts else None
    last = max(known_views) if known_views else None
    client_views = sum(1 for e in client_events if e.get("event_name") == "page_view")
    return (
        len(server_views) + client_views + sum(int(t.get("pages") or 1) for t in touches),
        None if first is None else submitted_ms - first,
        None if last is None else submitted_ms - last,
    )


# Lines of the storage form (timestamps.iso): fixed width, UTC, so text order is time order.
_STORAGE_LINES = re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:[0-5]\d:[0-5]\d\.\d{6}\+00:00\n)*", re.ASCII)


def _first_and_last_ms(stored: list[object], submitted_ms: int) -> list[int | None]:
    """Milliseconds of the stored times: all of them, or only the earliest and the latest when that
    gives the same earliest and latest at or before `submitted_ms`. A snapshot's times are all in
    the storage form, so one check of them all and two parses replace a parse per event (the
    parses were most of a promote's spam scoring at 2,000 buffered events)."""
    if len(stored) > 2 and all(type(v) is str for v in stored):
        if _STORAGE_LINES.fullmatch("\n".join(stored) + "\n"):  # type: ignore[arg-type]
            earliest, latest = epoch_ms(min(stored)), epoch_ms(max(stored))  # type: ignore[type-var]
            if earliest is not None and latest is not None and latest <= submitted_ms:
                return [earliest, latest]
    return [epoch_ms(v) for v in stored]


@dataclass
class ClientBursts:
    """Enquiries per client address over the last hour, in this process's memory only, keyed by
    an HMAC of the address (never the address itself), bounded in size."""

    secret: bytes
    window: float = 3600.0
    max_keys: int = 10_000
    seen: dict[str, deque[float]] = field(default_factory=dict)

    def count(self, address: str, now: float | None = None) -> int:
        """Records one enquiry from `address`; returns the enquiries from it inside the window."""
        clock = time.monotonic() if now is None else now
        key = hmac.new(self.secret, address.encode(), hashlib.sha256).hexdigest()[:32]
        times = self.seen.get(key)
        if times is None:
            if len(self.seen) >= self.max_keys:
                self.seen.clear()
            times = self.seen[key] = deque()
        while times and clock - times[0] > self.window:
            times.popleft()
        times.append(clock)
        return len(times)

    def forget(self, address: str) -> None:
        """Takes back one enquiry count()ed from `address` (a promote that was not saved after all)."""
        times = self.seen.get(hmac.new(self.secret, address.encode(), hashlib.sha256).hexdigest()[:32])
        if times:
            times.pop()
