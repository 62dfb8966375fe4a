"""timestamps.py: the storage form of an instant (fixed-width UTC ISO 8601 to the microsecond),
written and read in one place; the fast reader agrees with Python's own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from leadtrail import timestamps

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)))
def test_storage_timestamps_read_fast_as_python_reads_them(moment):
    """The shortcut for stored timestamps gives the instant datetime.fromisoformat gives."""
    text = moment.isoformat(timespec="microseconds")
    expected = (moment - EPOCH) // timedelta(microseconds=1)
    assert timestamps._storage_us(text) == expected
    assert timestamps.epoch_us(text) == expected


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_written_and_read_back_are_the_same_instant(moment):
    """iso() then parse() is the identity; iso_us(epoch_us()) writes exactly what iso() writes."""
    text = timestamps.iso(moment)
    assert len(text) == 32 and text.endswith("+00:00")
    assert timestamps.parse(text) == moment
    assert timestamps.iso_us(timestamps.epoch_us(moment)) == text


def test_near_misses_of_the_storage_format_fall_back_or_are_refused():
    """Text that only looks like the storage format is read by the general parser or refused."""
    assert timestamps._storage_us("2026-11-27T02:25:44.123456+01:00") is None
    assert timestamps.epoch_us("2026-11-27T02:25:44.123456+01:00") == timestamps.epoch_us(
        "2026-11-27T01:25:44.123456+00:00"
    )
    for bad in (
        "2026-13-27T02:25:44.123456+00:00",
        "2026-11-27T24:25:44.123456+00:00",
        "2026-11-27T02:25:60.123456+00:00",
        "2026-11-27T02:25:4\u0664.123456+00:00",
        "2026-02-30T02:25:44.123456+00:00",
    ):
        assert timestamps._storage_us(bad) is None
        assert timestamps.epoch_us(bad) is None


def test_other_zones_and_naive_times_are_written_as_utc():
    """A time in another zone is written as the same instant in UTC; a naive one is taken as UTC."""
    berlin = datetime(2026, 7, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert timestamps.iso(berlin) == "2026-07-01T12:00:00.000000+00:00"
    assert timestamps.iso(datetime(2026, 7, 1, 12, 0)) == "2026-07-01T12:00:00.000000+00:00"


def test_parse_takes_datetimes_dates_and_text_and_refuses_junk():
    assert timestamps.parse(date(2026, 7, 1)) == datetime(2026, 7, 1, tzinfo=UTC)
    assert timestamps.parse(datetime(2026, 7, 1, 12)) == datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert timestamps.parse("2026-07-01T12:00:00") == datetime(2026, 7, 1, 12, tzinfo=UTC)
    for junk in (None, "", "yesterday", "2026-02-30T00:00:00"):
        assert timestamps.parse(junk) is None


def test_epoch_ms_reads_numbers_as_they_are_and_instants_as_utc():
    """A browser's ms clock stays; an ISO time (naive: UTC, whatever the server's zone) becomes ms."""
    assert timestamps.epoch_ms(1_764_200_000_000) == 1_764_200_000_000
    assert timestamps.epoch_ms("1970-01-01T00:00:01") == 1000
    assert timestamps.epoch_ms("1970-01-01T00:00:01.000000+00:00") == 1000
    assert timestamps.epoch_ms(True) is None and timestamps.epoch_ms("soon") is None
