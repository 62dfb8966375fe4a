"""The tracker repeats some of the server's limits so that one bad event cannot get a whole batch
refused; each repeated limit must equal contract.py's (the tracker is served as written, with no
build step of its own, so the limits are checked here rather than templated in)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from leadtrail import contract

NAME_MAX = int(re.fullmatch(r"\^\[A-Za-z0-9_\.:-\]\{1,(\d+)\}\$", contract.EVENT_NAME_PATTERN).group(1))
TRACKER = (Path(contract.__file__).parent / "static" / "tracker.js").read_text()


def _one(pattern: str) -> int:
    found = {int(m) for m in re.findall(pattern, TRACKER)}
    assert len(found) == 1, f"{pattern!r} found {found or 'nowhere'} in tracker.js"
    return found.pop()


@pytest.mark.parametrize(
    "what,pattern,limit",
    [
        ("events per request", r"\.filter\([^;]*!e\.s[^;]*\)\.slice\(0, (\d+)\)", contract.MAX_BATCH),
        ("params per event", r"Object\.entries\(params \|\| \{\}\)\.slice\(0, (\d+)\)", contract.MAX_PARAMS),
        ("characters of a params key (one more is refused)", r"\|\.\{(\d+)\}/\.test\(k\)", contract.MAX_KEY + 1),
        ("characters of a string param", r"\[\.\.\.v\]\.slice\(0, (\d+)\)", contract.MAX_VALUE),
        ("characters of a page path", r"loc\.search\)\.slice\(0, (\d+)\)", contract.MAX_PATH),
        ("characters of an event name", r"\^\[\\w\.:-\]\{1,(\d+)\}\$", NAME_MAX),
    ],
)
def test_the_tracker_keeps_the_servers_limits(what, pattern, limit):
    """Each limit the tracker applies before sending is the server's own."""
    assert _one(pattern) == limit, what


def test_the_tracker_buffer_fits_one_promote():
    """The browser buffer sent with a promote never exceeds what the server accepts."""
    assert _one(r"buffer\.slice\(-(\d+)\)") <= contract.MAX_CLIENT_EVENTS


def test_the_tracker_remembers_no_more_touches_than_a_promote_takes():
    """The visits the tracker keeps (and sends with a promote) never exceed MAX_TOUCHES, which would refuse it."""
    assert _one(r"touches\.splice\(1, touches\.length - (\d+)\)") <= contract.MAX_TOUCHES


@pytest.mark.parametrize(
    "text, day",
    [
        ("2026-12-07", date(2026, 12, 7)),
        ("2000-01-01", date(2000, 1, 1)),
        ("2099-12-31", date(2099, 12, 31)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2026-02-29", None),
        ("2026-02-30", None),
        ("20261207", None),  # date.fromisoformat takes it; the contract's YYYY-MM-DD does not
        ("2026-W49-1", None),
        ("2026-12-7", None),
        ("1999-12-31", None),
        ("2100-01-01", None),
        ("+02026-12-07", None),
        ("2026-12-07 ", None),
        ("２０２６-12-07", None),
        ("", None),
        (None, None),
    ],
)
def test_a_day_is_exactly_yyyy_mm_dd_within_the_span(text, day):
    assert contract.day(text) == day
