"""The charts' geometry (pure: charts/journey.py, strip.py, figures.py) and its drawing through the
SVG templates: rows stack, bars scale, visits sit in real time, everything a browser sent is escaped."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from test_dashboard_helpers import hostile_journey, make_journey

from leadtrail import charts
from leadtrail.charts import figures, journey, strip
from leadtrail.export import export_journey
from leadtrail.store import iso

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def exported(record, touches=()) -> dict:
    row = {
        "id": 1,
        "email": record.email,
        "anon_id": None,
        "form": record.form,
        "consent": None,
        "created_at": iso(NOW),
        "updated_at": iso(NOW),
        "events": record.events,
        "client_events": record.client_events,
        "touches": list(touches),
    }
    return export_journey(row)


def page(path: str, at: datetime, engaged_ms: int | None = None, eid: str = "") -> list[dict]:
    events = [
        {
            "id": 1,
            "event_name": "page_view",
            "page_path": path,
            "params": {"event_id": eid + "p"},
            "created_at": iso(at),
        }
    ]
    if engaged_ms is not None:
        events.append(
            {
                "id": 2,
                "event_name": "page_engagement",
                "page_path": path,
                "params": {"event_id": eid + "e", "engaged_ms": engaged_ms},
                "created_at": iso(at + timedelta(milliseconds=engaged_ms)),
            }
        )
    return events


def doc(server_events: list[dict], form: str | None = "booking") -> dict:
    from leadtrail.journeys import reconstruct

    rebuilt = reconstruct(server_events, [], NOW)
    return {**rebuilt, "form": form}


def rows_of(t: journey.Timeline) -> list[journey.Row]:
    return [r for s in t.segments for r in s.rows]


# -- the timeline ------------------------------------------------------------------------------------


def test_each_visit_is_a_segment_with_its_rows_and_a_gap_saying_how_long_before():
    """Two visits three hours apart: two segments, the second after a "3 h later" break."""
    first = NOW - timedelta(hours=4)
    events = page("/", first, 30_000, "a") + page("/pricing", first + timedelta(minutes=1), 60_000, "b")
    events += page("/booking", NOW - timedelta(minutes=50), 20_000, "c")
    t = journey.timeline(doc(events))
    assert [len(s.rows) for s in t.segments] == [2, 1]
    assert t.segments[0].gap is None
    gap = t.segments[1].gap
    assert gap is not None and gap.label.endswith("later") and gap.label.startswith("3 h")
    assert t.segments[1].head.y == gap.y + journey.GAP_HEIGHT


def test_rows_stack_downwards_without_overlapping_and_the_enquiry_ends_the_picture():
    """Every row starts where the one before ended; the height is the enquiry's bottom."""
    t = journey.timeline(exported(make_journey(random.Random(3), NOW)))
    y = journey.TOP
    for s in t.segments:
        if s.gap:
            assert s.gap.y == y
            y += journey.GAP_HEIGHT
        assert s.head.y == y and s.lane_top == y + journey.LANE_OFFSET
        y += journey.HEAD_HEIGHT
        for row in s.rows:
            assert row.y == y
            y += journey.row_height(row, t.layout)
        assert s.lane_bottom == y - 4
    later = journey.LATER_HEIGHT if t.enquiry.later else 0
    assert t.enquiry.y == y + later and t.height == t.enquiry.y + journey.ENQUIRY_HEIGHT


def test_bars_grow_with_the_square_root_of_time_on_page_and_never_vanish():
    """A page read 4x longer gets a bar 2x as long; an unknown time gets the minimum bar."""
    scale = journey.bar_scale([{"time_on_page_ms": 400_000}])
    assert journey.bar_length(400_000, scale, 160) == 160
    assert journey.bar_length(100_000, scale, 160) == 80
    assert journey.bar_length(None, scale, 160) == journey.MIN_BAR
    assert journey.bar_length(1, scale, 160) == journey.MIN_BAR
    # A minute at least fills the scale: quick glances do not draw long bars.
    assert journey.bar_length(5_000, journey.bar_scale([{"time_on_page_ms": 5_000}]), 160) < 50


def test_engagement_is_folded_into_the_page_and_custom_events_are_rows_of_their_own():
    """page_engagement is no row; a click is an EventRow with its most telling detail."""
    events = page("/", NOW - timedelta(minutes=5), 30_000, "a")
    events.append(
        {
            "id": 3,
            "event_name": "click",
            "page_path": "/",
            "params": {"event_id": "k", "href": "/pricing"},
            "created_at": iso(NOW - timedelta(minutes=4)),
        }
    )
    rows = rows_of(journey.timeline(doc(events)))
    assert [r.kind for r in rows] == ["page", "event"]
    assert isinstance(rows[1], journey.EventRow) and rows[1].label == "click — href: /pricing"


def test_rows_past_max_rows_are_counted_in_a_note_and_later_visits_left_out():
    """With room for 3 rows, the rest is a "… and N more events" note."""
    record = make_journey(random.Random(11), NOW)
    full = journey.timeline(exported(record))
    cut = journey.timeline(exported(record), max_rows=3)
    assert len(rows_of(cut)) == 3
    assert cut.more is not None and f"and {len(rows_of(full)) - 3} more events" in cut.more.text
    assert len(cut.segments) <= len(full.segments)


def test_the_compact_layout_writes_the_path_under_the_bar_and_the_clock_in_the_labels():
    """On a phone rows are two lines tall and there is no clock column."""
    t = journey.timeline(doc(page("/", NOW - timedelta(minutes=5), 30_000)), compact=True)
    (row,) = rows_of(t)
    assert t.layout is journey.COMPACT and journey.row_height(row, t.layout) == journey.PAGE_ROW_TWO_LINE
    assert isinstance(row, journey.PageRow) and row.after == f"30 s · {row.clock}"
    assert t.enquiry.label.endswith("· 12:00")


def test_a_wait_before_the_enquiry_is_written_only_when_over_a_minute():
    """The enquiry gets "X later" after a long wait, nothing after a short one."""
    assert journey.timeline(doc(page("/", NOW - timedelta(seconds=30)))).enquiry.later is None
    later = journey.timeline(doc(page("/", NOW - timedelta(hours=2)))).enquiry.later
    assert later is not None and later.text == "2 h later"


events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["/", "/pricing", "/a?utm_source=x&utm_medium=email", None]),
        st.integers(min_value=0, max_value=20 * 3600),
        st.one_of(st.none(), st.integers(min_value=0, max_value=3_600_000)),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(events_strategy, st.integers(min_value=1, max_value=40), st.booleans())
def test_any_journey_lays_out_top_to_bottom(raw, max_rows, compact):
    """For any events: rows strictly descend, bars fit the layout, the picture ends below them."""
    events = []
    for i, (path, seconds_ago, engaged) in enumerate(sorted(raw, key=lambda r: -r[1])):
        events += page(path, NOW - timedelta(seconds=seconds_ago), engaged, f"{i}-")
    t = journey.timeline(doc(events), max_rows=max_rows, compact=compact)
    ys = [r.y for r in rows_of(t)]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert len(ys) <= max_rows
    for row in rows_of(t):
        if isinstance(row, journey.PageRow):
            assert journey.MIN_BAR <= row.bar <= t.layout.bar_max
    assert t.height > max(ys, default=0)
    svg = str(charts.journey_picture(doc(events), max_rows=max_rows, compact=compact))
    assert svg.count('<g class="visit">') == len(t.segments)
    assert f'viewBox="0 0 {t.layout.width} {t.height}"' in svg


# -- the strip ---------------------------------------------------------------------------------------


def test_the_strip_places_visits_in_real_time_inside_the_axis():
    """Visits keep their order and sit between the axis's ends, at least the minimum width wide."""
    first = NOW - timedelta(hours=10)
    events = page("/", first, 10_000, "a") + page("/b", NOW - timedelta(hours=5), 10_000, "b")
    events += page("/c", NOW - timedelta(minutes=10), 10_000, "c")
    s = strip.strip(doc(events))
    xs = [v.x for v in s.visits]
    assert len(xs) == 3 and xs == sorted(xs)
    assert all(s.left <= v.x and v.x + v.width <= s.right and v.width >= strip.STRIP_MIN_VISIT for v in s.visits)
    # The middle visit started halfway between the first visit and the enquiry.
    assert abs(xs[1] - (s.left + (s.right - s.left) / 2)) < 1
    assert s.label.startswith("3 visit(s) over 10 h")


def test_a_journey_without_a_span_gets_an_empty_strip():
    """No events: the axis alone, no visits."""
    s = strip.strip({"visits": [], "summary": {"submitted_at": iso(NOW), "first_seen_at": None}})
    assert s.empty and s.visits == ()
    assert "<rect" not in str(charts.journey_strip({"visits": [], "summary": {}}))


def test_time_scale_clamps_instants_outside_its_span():
    scale = strip.TimeScale(NOW - timedelta(hours=1), NOW, 10, 110)
    assert scale.x(NOW - timedelta(minutes=30)) == 60
    assert scale.x(NOW - timedelta(days=3)) == 10 and scale.x(NOW + timedelta(days=3)) == 110


# -- insights figures ----------------------------------------------------------------------------------


def test_nice_max_rounds_up_to_a_tick_that_divides_it():
    """7 -> 8 in steps of 2; 0 -> an empty axis of 4; 1234 -> 1250 in steps of 250."""
    assert figures.nice_max(7) == (8, 2)
    assert figures.nice_max(0) == (4, 1)
    assert [figures.nice_max(n) for n in (1, 2, 5, 6)] == [(1, 1), (2, 1), (5, 1), (6, 2)]  # counts: no 0.2 steps
    assert figures.nice_max(1234) == (1250, 250)


def test_stacked_bars_stack_series_bottom_up_in_proportion():
    """A bar's segments stack from the axis up; a count twice as big is twice as tall."""
    c = figures.stacked_bars([("a", "A", {"Direct": 2, "Email": 4}), ("b", "B", {})], ["Direct", "Email"])
    bar = c.bars[0]
    direct, email = bar.segments
    assert direct.y + direct.height == c.bottom and email.y + email.height == direct.y
    assert abs(email.height - 2 * direct.height) < 1e-9
    assert c.bars[1].segments == () and c.ticks[0].axis and c.ticks[0].y == c.bottom
    assert c.description == "6 enquiries in 2 periods"


def test_bar_labels_thin_out_when_there_are_many_bars():
    """Ninety days on a phone: a label every few bars, the first one always."""
    buckets = [(str(i), str(i), {"Direct": 1}) for i in range(90)]
    c = figures.stacked_bars(buckets, ["Direct"], width=360)
    labelled = [i for i, b in enumerate(c.bars) if b.label]
    assert labelled[0] == 0 and 1 < labelled[1] and len(labelled) <= 23


def test_bar_list_gives_the_top_item_the_full_length():
    """The biggest value fills the bar column; others are in proportion, labels truncated."""
    c = figures.bar_list([("/a" * 200, 10, "10"), ("/b", 5, "5")], label_width=190, width=360, value_width=44)
    assert c.rows[0].bar == 360 - 44 - (190 + 12) and abs(c.rows[1].bar - c.rows[0].bar / 2) < 1e-9
    assert c.rows[0].label.endswith("…") and len(c.rows[0].label) == int(190 // 7.6)
    assert c.height == 2 * figures.BAR_ROW + 4


def test_histogram_columns_have_heights_in_proportion_and_shares():
    c = figures.histogram([("a", 1), ("b", 3), ("c", 0)])
    assert [col.share for col in c.columns] == ["25%", "75%", "0%"]
    assert c.columns[1].height == 148 and abs(c.columns[0].height - 148 / 3) < 1e-9


def test_visits_and_enquiries_puts_enquiries_on_their_own_axis():
    """Two enquiries among thousands of visits reach the top of their own axis, not the floor."""
    c = figures.visits_and_enquiries([("01", "d1", 5000, 0), ("02", "d2", 3000, 2)])
    assert c.days[0].cy == c.bottom and c.days[1].cy < c.days[0].cy
    assert c.line.count(",") == 2
    assert c.enquiry_ticks[-1].label == "2" and c.visit_ticks[-1].label == "5,000"


# -- drawing ----------------------------------------------------------------------------------------


SVG_TAGS = {"svg", "title", "desc", "g", "line", "circle", "rect", "path", "text", "tspan", "polyline"}
SVG_ATTRIBUTES = {
    "xmlns", "class", "id", "viewBox", "role", "aria-labelledby", "preserveAspectRatio", "x", "y", "x1", "y1",
    "x2", "y2", "cx", "cy", "r", "rx", "width", "height", "d", "text-anchor", "dx", "points",
}  # fmt: skip


def test_drawing_escapes_what_a_browser_sent_and_emits_nothing_active():
    """A hostile journey's markup shows as text; no script, handler, link or style in any chart."""
    picture = str(charts.journey_picture(exported(hostile_journey(NOW))))
    strip_svg = str(charts.journey_strip(exported(hostile_journey(NOW))))
    bars = str(charts.stacked_bars("s", "<t>", [("a", "b<", {"<x>": 3})], ["<x>"]))
    for svg in (picture, strip_svg, bars):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        for tag, attributes in re.findall(r"<([a-zA-Z]+)([^<>]*)>", svg):
            assert tag in SVG_TAGS, tag
            assert set(re.findall(r"([\w:-]+)=", attributes)) <= SVG_ATTRIBUTES, attributes
    assert "</text></svg><svg" not in picture and "&lt;/text&gt;&lt;/svg&gt;" in picture
    assert "&lt;t&gt;" in bars and "b&lt;" in bars


def test_numbers_are_written_to_one_decimal_without_trailing_zeros():
    assert charts.draw.svg_number(12.0) == "12" and charts.draw.svg_number(12.46) == "12.5"
    assert charts.draw.svg_number(7) == "7"


def test_no_whitespace_between_tags_of_a_drawn_chart():
    """The templates' indentation does not reach the page."""
    svg = str(charts.histogram("h", "H", [("a", 1)]))
    assert not re.search(r">\s+<", svg)
