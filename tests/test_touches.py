"""Remembered visits through the promote: the browser's touches are validated one by one (a bad
one dropped and counted), kept with the journey, merged on a refresh, ignored under GPC, and make
an older visit the journey's first touch in the export and the API; and in the journey's picture,
drawn days apart without squashing today's visits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from support import app_client, page_view, run_store

from leadtrail import charts
from leadtrail.charts import journey as journey_chart
from leadtrail.charts import strip
from leadtrail.export import export_journey
from leadtrail.journeys import reconstruct

NOW_MS = int(time.time() * 1000)
NEWSLETTER = {
    "ts": NOW_MS - 10 * 86_400_000,
    "page_path": "/?utm_source=newsletter&utm_medium=email&secret=1",
    "referrer": "https://mail.example.com/inbox/123",
    "pages": 3,
}


def _journey(database_url: str, journey_id: int) -> dict:
    async def work(store):
        rows = await store.fetch("api_journey_get", id=journey_id)
        return export_journey(store.journey_out(rows[0]))

    return run_store(database_url, work)


def test_a_remembered_newsletter_visit_is_the_first_touch(database_url):
    """A touch from ten days ago becomes the first visit (Email, newsletter), cleaned; a bad one is dropped and counted."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        r = client.post(
            "/api/track/promote",
            json={"email": "couple@example.com", "touches": [NEWSLETTER, {"ts": "yesterday", "page_path": "/"}]},
        )
    assert r.status_code == 201 and r.json()["touches"] == 1 and r.json()["touches_dropped"] == 1
    journey = _journey(database_url, r.json()["journey_id"])
    first = journey["visits"][0]
    assert first["remembered"] and first["channel"] == "Email" and first["source"] == "newsletter"
    assert journey["touches"][0]["page_path"] == "/?utm_source=newsletter&utm_medium=email"  # secret dropped
    assert journey["touches"][0]["referrer"] == "https://mail.example.com"  # reduced to its origin
    assert journey["summary"]["first_touch"]["channel"] == "Email" and journey["summary"]["visits"] == 2
    assert journey["summary"]["time_to_enquiry_ms"] >= 10 * 86_400_000 - 60_000


def test_touches_are_merged_on_a_refresh_and_ignored_under_gpc(database_url):
    """A second promote without touches keeps the first one's; a GPC promote stores none."""
    with app_client(database_url) as client:
        client.post("/api/track", json=page_view("/", "a"))
        first = client.post("/api/track/promote", json={"email": "again@example.com", "touches": [NEWSLETTER]})
        again = client.post("/api/track/promote", json={"email": "again@example.com"})
        assert again.status_code == 200 and again.json()["journey_id"] == first.json()["journey_id"]
        client.cookies.clear()
        gpc = client.post(
            "/api/track/promote",
            json={"email": "private@example.com", "touches": [NEWSLETTER]},
            headers={"Sec-GPC": "1"},
        )
    assert again.json()["touches"] == 0 and "touches_dropped" not in again.json()
    assert gpc.json()["touches"] == 0  # ignored, not stored
    assert len(_journey(database_url, first.json()["journey_id"])["touches"]) == 1
    assert _journey(database_url, gpc.json()["journey_id"])["touches"] == []


# -- the picture: remembered visits, days apart -------------------------------------------------------

TODAY = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _picture_journey(touches: list[dict], buffered: bool = True) -> dict:
    """reconstruct() of two buffered visits today (an hour apart) after the given remembered ones."""
    servers = []
    if buffered:
        for i, minutes in enumerate([70, 68, 10, 5]):
            at = TODAY - timedelta(minutes=minutes)
            servers.append(
                {
                    "id": i + 1,
                    "event_name": "page_view",
                    "page_path": f"/p{i}",
                    "params": {"event_id": f"e{i}"},
                    "created_at": at.isoformat(timespec="microseconds"),
                }
            )
    journey = reconstruct(servers, [], TODAY, touches=touches)
    return {**journey, "form": "booking"}


NEWSLETTER_10_DAYS = {
    "ts": _ms(TODAY - timedelta(days=10, hours=2)),
    "page_path": "/?utm_source=newsletter&utm_medium=email",
    "referrer": None,
    "pages": 3,
}


def test_the_strip_breaks_the_ten_days_before_todays_visits():
    """A visit remembered from ten days ago gets a labelled break; today's two visits and the
    enquiry keep most of the axis instead of being squashed into its last pixels."""
    s = strip.strip(_picture_journey([NEWSLETTER_10_DAYS]))
    assert [b.label for b in s.breaks] == ["10 days"]
    first, today, later = s.visits
    assert first.x == s.left and first.x < s.breaks[0].x < today.x
    assert later.x - today.x > (s.right - s.left) / 2  # the hour between today's visits is visible
    assert all(s.left <= v.x and v.x + v.width <= s.right for v in s.visits)
    svg = str(charts.journey_strip(_picture_journey([NEWSLETTER_10_DAYS])))
    assert 'class="strip-break"' in svg and "10 days" in svg


def test_a_strip_without_long_waits_keeps_real_time():
    """Visits hours apart within a day are not broken: the scale is plain time."""
    s = strip.strip(_picture_journey([]))
    assert s.breaks == () and len(s.visits) == 2


_instants = st.integers(0, 40 * 86_400_000).map(lambda ms: TODAY - timedelta(days=41) + timedelta(milliseconds=ms))


@given(st.lists(st.tuples(_instants, st.integers(0, 3 * 3_600_000)), max_size=12))
def test_a_broken_scale_is_monotonic_and_stays_on_the_axis(visits):
    """Whatever the visits, the scale maps time to x without going back or off the axis, from left
    at the first visit to right at the enquiry."""
    spans = [(s, min(s + timedelta(milliseconds=d), TODAY)) for s, d in visits]
    start = min([s for s, _ in spans], default=TODAY - timedelta(days=1))
    scale, breaks = strip.broken_scale(start, TODAY, 10, 660, spans)
    instants = sorted({start, TODAY, *(t for span in spans for t in span)})
    xs = [scale.x(t) for t in instants]
    assert xs == sorted(xs) and all(10 - 1e-6 <= x <= 660 + 1e-6 for x in xs)
    assert abs(scale.x(start) - 10) < 1e-6 and abs(scale.x(TODAY) - 660) < 1e-6
    assert all(10 <= b.x <= 660 for b in breaks)


def test_the_picture_notes_a_remembered_visit_and_breaks_the_days():
    """A remembered visit is drawn with its page count and no rows; the ten days after it are a
    broken gap; the SVG says so."""
    t = journey_chart.timeline(_picture_journey([NEWSLETTER_10_DAYS]))
    remembered, today, later = t.segments
    assert remembered.remembered.text == "3 pages, remembered by the visitor's browser" and remembered.rows == ()
    assert today.gap.days and today.gap.label == "10 days later" and not later.gap.days
    assert today.remembered is None and len(today.rows) == 2
    svg = str(charts.journey_picture(_picture_journey([NEWSLETTER_10_DAYS])))
    assert "remembered by the visitor" in svg and 'class="gap-break"' in svg and "Email · newsletter" in svg


def test_a_journey_of_remembered_visits_only_draws_each_of_them():
    """With nothing buffered (all of it remembered), every remembered visit still gets its place."""
    touches = [NEWSLETTER_10_DAYS, {**NEWSLETTER_10_DAYS, "ts": _ms(TODAY - timedelta(days=2)), "page_path": "/"}]
    t = journey_chart.timeline(_picture_journey(touches, buffered=False))
    assert [s.head.number for s in t.segments] == [1, 2] and all(s.remembered for s in t.segments)
