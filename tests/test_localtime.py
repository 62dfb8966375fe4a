"""The owner's time zone: local days as UTC instants, offsets that change with the seasons, labels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadtrail.localtime import (
    UTC_TIMES,
    LocalTimes,
    Segment,
    canonical_zone_name,
    day_range,
    day_start,
    local_date,
    offset_segments,
    zone,
)

LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
UTC = UTC


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_local_day_runs_from_local_midnight_to_local_midnight():
    """2 July in London (BST) is 1 July 23:00 UTC to 2 July 23:00 UTC; in Sydney (AEST) 1 July 14:00 UTC on."""
    assert day_range(date(2026, 7, 2), date(2026, 7, 2), LONDON) == (at(2026, 7, 1, 23), at(2026, 7, 2, 23))
    assert day_range(date(2026, 1, 2), date(2026, 1, 3), LONDON) == (at(2026, 1, 2), at(2026, 1, 4))
    assert day_start(date(2026, 7, 2), SYDNEY) == at(2026, 7, 1, 14)
    assert day_range(date(2026, 7, 2), date(2026, 7, 2), UTC) == (at(2026, 7, 2), at(2026, 7, 3))
    # The calendar's ends do not overflow (year 1 east of UTC would begin in year 0).
    assert day_range(date(1, 1, 1), date(9999, 12, 31), SYDNEY) == (
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
    )


def test_days_the_clocks_change_are_23_and_25_hours_long():
    spring = day_range(date(2026, 3, 29), date(2026, 3, 29), LONDON)
    autumn = day_range(date(2026, 10, 25), date(2026, 10, 25), LONDON)
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)


def test_a_day_whose_midnight_is_skipped_begins_when_the_clocks_jump():
    """Chile moves its clocks from 24:00 to 01:00: 6 September 2026 begins at 04:00 UTC (01:00 -03)."""
    santiago = ZoneInfo("America/Santiago")
    assert day_start(date(2026, 9, 6), santiago) == at(2026, 9, 6, 4)
    assert day_start(date(2026, 9, 7), santiago) == at(2026, 9, 7, 3)


def test_an_evening_in_utc_is_the_next_local_day_in_summer_only():
    assert local_date(at(2026, 7, 1, 23, 30), LONDON) == date(2026, 7, 2)
    assert local_date(at(2026, 1, 1, 23, 30), LONDON) == date(2026, 1, 1)
    assert local_date(at(2026, 7, 1, 23, 30), UTC) == date(2026, 7, 1)


def test_offset_segments_split_exactly_where_the_clocks_change():
    segments = offset_segments(at(2026, 1, 1), at(2027, 1, 1), LONDON)
    assert segments == [
        Segment(at(2026, 1, 1), at(2026, 3, 29, 1), 0),
        Segment(at(2026, 3, 29, 1), at(2026, 10, 25, 1), 3600),
        Segment(at(2026, 10, 25, 1), at(2027, 1, 1), 0),
    ]
    # Past now (+2 days) nothing is stored: the last segment runs on without probing to year 9999.
    far = offset_segments(at(2026, 1, 1), datetime(9999, 12, 31, tzinfo=UTC), LONDON, now=at(2026, 6, 1))
    assert far[-1] == Segment(at(2026, 3, 29, 1), datetime(9999, 12, 31, tzinfo=UTC), 3600) and len(far) == 2
    assert offset_segments(at(2026, 1, 1), at(2027, 1, 1), UTC) == [Segment(at(2026, 1, 1), at(2027, 1, 1), 0)]
    assert offset_segments(at(2026, 1, 1), at(2026, 1, 1), LONDON) == []
    # Every instant's local day is its UTC day shifted by its segment's offset.
    for s in segments:
        for t in (s.since, s.until - timedelta(microseconds=1)):
            assert (t + timedelta(seconds=s.offset_seconds)).date() == local_date(t, LONDON)


def test_times_carry_their_own_offset_winter_and_summer():
    london = LocalTimes(LONDON)
    assert london.moment("2026-01-15T12:00:00+00:00") == "15 Jan 2026, 12:00 GMT"
    assert london.moment("2026-07-15T12:00:00.123456+00:00") == "15 Jul 2026, 13:00 BST"
    assert london.clock_zone(at(2026, 7, 1, 23, 30)) == "00:30 BST"
    assert london.clock(at(2026, 1, 1, 23, 30, 7)) == "23:30" and london.seconds(at(2026, 1, 1, 23, 30, 7)) == ":07"
    assert london.local_iso(at(2026, 7, 1, 23, 30)) == "2026-07-02T00:30:00+01:00"
    assert london.day(date(2026, 7, 1)) == "Wed 1 Jul 2026"  # a calendar day is not shifted
    assert london.day(at(2026, 7, 1, 23, 30)) == "Thu 2 Jul 2026"
    assert london.short_moment(at(2026, 12, 31, 23, 30), now=at(2026, 12, 31, 23, 40)) == "31 Dec, 23:30"
    assert london.short_moment(at(2025, 12, 31, 23, 30), now=at(2026, 6, 1)) == "31 Dec 2025, 23:30"
    assert LocalTimes(SYDNEY).moment(at(2026, 1, 15, 12)) == "15 Jan 2026, 23:00 AEDT"
    assert UTC_TIMES.moment(at(2026, 7, 15, 12)) == "15 Jul 2026, 12:00 UTC"
    assert (london.moment(None), london.clock("not a time")) == ("–", "–")


def test_zone_names_are_checked_and_spelled_as_the_database_does():
    assert canonical_zone_name("Europe/London") == "Europe/London"
    assert canonical_zone_name(" europe/london ") == "Europe/London"
    assert canonical_zone_name("") == "UTC" and canonical_zone_name("utc") == "UTC"
    assert zone("UTC") is UTC
    for bad in ("Mars/Olympus", "Europe", "../../etc/passwd", "/etc/localtime", "Europe/London\x00"):
        with pytest.raises(ValueError):
            canonical_zone_name(bad)
