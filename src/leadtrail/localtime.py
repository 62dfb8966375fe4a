"""Pure: the site owner's time zone (the TIMEZONE setting). Turning local days into UTC instants
for queries, stored UTC instants into local times for people, and the zone's labels.

Everything stored stays UTC; only what the dashboard shows and the days it filters and groups by
are local. Each instant is converted with its own offset, so a summer time shows as BST and a
winter time as GMT. A local day runs from local midnight to the next local midnight (23 or 25
hours on the days the clocks change).
"""

from __future__ import annotations

import math
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NamedTuple

from .timestamps import parse

UTC_NAME = "UTC"
_DAY = timedelta(days=1)
_PROBE = timedelta(days=7)
_FIRST_DAY, _LAST_DAY = date(1, 1, 2), date(9999, 12, 30)


# -- zones ------------------------------------------------------------------------------------------


def zone(name: str) -> tzinfo:
    """The tzinfo of an IANA name ("Europe/London"); "UTC" is timezone.utc. Raises ValueError
    for a name no zone database here knows."""
    if name == UTC_NAME:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


def canonical_zone_name(raw: str) -> str:
    """The IANA name leadtrail will use for `raw`: blank means UTC, a known name is kept, a known
    name in the wrong case ("europe/london") gets the database's spelling. Raises ValueError
    when no zone has that name."""
    name = raw.strip()
    if not name or name.upper() == UTC_NAME:
        return UTC_NAME
    try:
        zone(name)
        return name
    except ValueError:
        pass
    matches = [known for known in zoneinfo.available_timezones() if known.lower() == name.lower()]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"unknown time zone {raw!r}")


def zone_name(tz: tzinfo) -> str:
    """The IANA name of a zone from zone(), for labels ("Europe/London", "UTC")."""
    return getattr(tz, "key", None) or UTC_NAME


# -- instants <-> local ------------------------------------------------------------------------------


def parse_time(value: str | date | datetime | None) -> datetime | None:
    """An aware datetime from an ISO string, a datetime (naive ones are UTC) or a date (its UTC
    midnight); None for None or what does not parse (timestamps.parse)."""
    return parse(value)


def to_local(value: str | datetime | None, tz: tzinfo) -> datetime | None:
    at = parse_time(value)
    return at.astimezone(tz) if at is not None else None


def local_date(at: datetime, tz: tzinfo) -> date:
    """The owner's calendar day of an instant."""
    return at.astimezone(tz).date()


def day_start(d: date, tz: tzinfo) -> datetime:
    """The UTC instant at which local day `d` begins. Where the clocks jump over midnight, the day
    begins at the jump (fold=0 gives the offset before it, which lands on the same instant)."""
    if d <= _FIRST_DAY:
        return datetime.min.replace(tzinfo=UTC)  # (0001-01-01 east of UTC is year 0)
    if d >= _LAST_DAY:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)


def day_end(d: date, tz: tzinfo) -> datetime:
    """The UTC instant at which local day `d` ends (the next one begins)."""
    return day_start(d + _DAY, tz) if d < _LAST_DAY else datetime.max.replace(tzinfo=UTC)


def day_range(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[since, until) in UTC covering local days first..last, both included."""
    return day_start(first, tz), day_end(last, tz)


class Segment(NamedTuple):
    """A stretch of time [since, until) in which the zone's UTC offset stays `offset_seconds`."""

    since: datetime
    until: datetime
    offset_seconds: int


def _offset(at: datetime, tz: tzinfo) -> int:
    offset = at.astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_segments(since: datetime, until: datetime, tz: tzinfo, now: datetime | None = None) -> list[Segment]:
    """Split [since, until) where the zone's offset changes, so a query can take the local day of
    each row as the UTC day of (created_at + offset) inside each segment. Offsets are probed a week
    apart (no zone changes its offset and back within a week; a 50-year range costs ~3,000
    look-ups), each change pinned to its second by bisection, and only up to two days after `now`:
    nothing is stored later than now, so the last segment runs on to `until`."""
    if until <= since:
        return []
    if tz is UTC:
        return [Segment(since, until, 0)]
    scan_end = until if now is None else min(until, max(since, now) + 2 * _DAY)
    segments: list[Segment] = []
    start, current = since, _offset(since, tz)
    probe = since
    while probe < scan_end:
        step = min(probe + _PROBE, scan_end)
        if _offset(step, tz) != current:
            # The change lies in (probe, step]; offsets change on whole seconds.
            lo, hi = math.floor(probe.timestamp()), math.ceil(step.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(datetime.fromtimestamp(mid, UTC), tz) == current:
                    lo = mid
                else:
                    hi = mid
            change = datetime.fromtimestamp(hi, UTC)
            segments.append(Segment(start, change, current))
            start, current = change, _offset(change, tz)
            step = change
        probe = step
    segments.append(Segment(start, until, current))
    return segments


# -- labels and formats ----------------------------------------------------------------------------


def abbreviation(at: datetime, tz: tzinfo) -> str:
    """The zone's short name at that instant: "BST", "GMT", "UTC", or "+04" where it has none."""
    return at.astimezone(tz).strftime("%Z") or zone_name(tz)


class LocalTimes:
    """How the dashboard writes times: each instant in the owner's zone, with its own offset.
    Dates (datetime.date) are calendar days already and are written as they are."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.name = zone_name(tz)

    def clock(self, value: str | datetime | None) -> str:
        """14:02"""
        at = to_local(value, self.tz)
        return at.strftime("%H:%M") if at else "–"

    def seconds(self, value: str | datetime | None) -> str:
        """:05 (the seconds of clock())"""
        at = to_local(value, self.tz)
        return at.strftime(":%S") if at else ""

    def clock_zone(self, value: str | datetime | None) -> str:
        """14:02 BST"""
        at = to_local(value, self.tz)
        return f"{at.strftime('%H:%M')} {abbreviation(at, self.tz)}" if at else "–"

    def day(self, value: str | date | datetime | None) -> str:
        """Wed 1 Jul 2026"""
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.strftime("%a %-d %b %Y")
        at = to_local(value, self.tz)
        return at.strftime("%a %-d %b %Y") if at else "–"

    def moment(self, value: str | datetime | None) -> str:
        """1 Jul 2026, 00:30 BST"""
        at = to_local(value, self.tz)
        return f"{at.strftime('%-d %b %Y, %H:%M')} {abbreviation(at, self.tz)}" if at else "–"

    def short_moment(self, value: str | datetime | None, now: datetime | None = None) -> str:
        """1 Jul, 00:30 (with the year when it is not this local year's); the column says the zone."""
        at = to_local(value, self.tz)
        if at is None:
            return "–"
        this_year = (now or datetime.now(UTC)).astimezone(self.tz).year
        return at.strftime("%-d %b %Y, %H:%M") if at.year != this_year else at.strftime("%-d %b, %H:%M")

    def local_iso(self, value: str | datetime | None) -> str:
        """2026-07-01T00:30:00+01:00 (to the second; for spreadsheets)."""
        at = to_local(value, self.tz)
        return at.isoformat(timespec="seconds") if at else ""


UTC_TIMES = LocalTimes(UTC)
