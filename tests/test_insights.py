"""The Insights page's figures (leadtrail.insights, pure): periods, the shown range, channels and
periods from the per-day rows, the histograms, the sample's page-level figures, and the charts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from test_dashboard_helpers import make_journey

from leadtrail import insights
from leadtrail.store import iso

D = date(2026, 11, 27)


def day_row(day: date, channel: str | None, n: int, visits: int = 0, timed: int = 0, time_ms: int = 0) -> dict:
    return {
        "day": day,
        "channel": channel,
        "n": n,
        "visits": visits,
        "page_views": 2 * n,
        "timed": timed,
        "time_ms": time_ms,
    }


def test_periods_are_days_then_weeks_then_months():
    """Up to 62 days: days; up to 60 weeks: weeks from Monday; beyond: months."""
    kind, days = insights.periods(D - timedelta(days=6), D)
    assert kind == "day" and len(days) == 7 and days[-1][0] == D and days[0][2] == "Sat 21 Nov 2026"
    kind, weeks = insights.periods(D - timedelta(days=89), D)
    assert kind == "week" and all(start.weekday() == 0 for start, _, _ in weeks) and weeks[-1][0] <= D
    kind, months = insights.periods(date(2024, 12, 5), D)
    assert kind == "month" and months[0][0] == date(2024, 12, 1) and months[-1][1] == "Nov 26"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)), st.integers(min_value=0, max_value=800))
def test_every_day_of_the_range_falls_in_one_of_its_periods(first, length):
    """period_of() of any day in [first, last] is one of periods()' starts."""
    last = first + timedelta(days=length)
    kind, spans = insights.periods(first, last)
    starts = {start for start, _, _ in spans}
    for d in (first, last, first + timedelta(days=length // 2)):
        assert insights.period_of(d, kind) in starts


def test_shown_range_starts_at_the_first_day_with_data_unless_a_start_was_asked():
    """No start: from the first day with enquiries (within what is visible); never past today."""
    since = D - timedelta(days=29)
    assert insights.shown_range(None, None, since, D, [D - timedelta(days=3)]) == (D - timedelta(days=3), D)
    assert insights.shown_range(None, None, since, D, []) == (since, D)
    assert insights.shown_range(D - timedelta(days=10), D + timedelta(days=5), since, D, []) == (
        D - timedelta(days=10),
        D,
    )
    # A start before what is visible is clamped; an end before the start ends where it starts.
    assert insights.shown_range(since - timedelta(days=9), since - timedelta(days=5), since, D, []) == (since, since)


def test_figures_add_up_channels_and_periods_from_the_rows():
    """Channels sorted by enquiries with shares and averages; each period holds its days' counts."""
    rows = [
        day_row(D, "Organic Search", 3, visits=6, timed=3, time_ms=30_000),
        day_row(D, None, 1, visits=1),
        day_row(D - timedelta(days=1), "Organic Search", 2, visits=2, timed=1, time_ms=10_000),
    ]
    fig = insights.figures(rows, [], [{"landing_page": "/", "n": 4}], D - timedelta(days=1), D)
    assert fig["enquiries"] == 6 and fig["timed"] == 4 and fig["kind"] == "day"
    organic, unassigned = fig["channels"]
    assert organic["name"] == "Organic Search" and organic["n"] == 5 and round(organic["share"]) == 83
    assert organic["avg_visits"] == 8 / 5 and organic["avg_time_ms"] == 10_000
    assert unassigned["name"] == "Unassigned" and unassigned["avg_time_ms"] is None
    assert fig["per_period"][D] == {"Organic Search": 3, "Unassigned": 1}
    assert fig["avg_visits"] == 9 / 6 and fig["avg_page_views"] == 2
    assert fig["landing_rows"] == [("/", 4, "4 · 67%")]


def test_figures_of_an_empty_range_are_zeros_not_errors():
    fig = insights.figures([], [], [], D, D)
    assert fig["enquiries"] == 0 and fig["channels"] == [] and fig["avg_visits"] is None
    assert len(fig["time_rows"]) == len(insights.TIME_BUCKETS) - 1  # "a day or more" only when it has any


def test_histograms_bucket_times_and_visits_and_count_the_unknown():
    """time_bucket -1 is counted as unknown; visits of 5 and more share the last bar."""
    rows = [
        {"n": 2, "time_bucket": 0, "visits": 1},
        {"n": 1, "time_bucket": -1, "visits": 0},
        {"n": 4, "time_bucket": 9, "visits": 7},
    ]
    time_rows, unknown, visit_rows = insights.histograms(rows)
    assert unknown == 1
    assert time_rows[0] == ("under 2 min", 2) and time_rows[-1] == ("a day or more", 4)
    assert visit_rows[0] == ("1 visit", 2) and visit_rows[-1] == ("5 or more", 4)


def test_the_sample_counts_pages_once_per_enquirer_without_the_form_page():
    """Pages seen are counted once per journey; the page the form was sent from is left out."""
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    rows = []
    for seed in range(5):
        record = make_journey(random.Random(seed), now)
        rows.append(
            {
                "id": seed,
                "email": record.email,
                "anon_id": None,
                "form": record.form,
                "consent": None,
                "created_at": iso(now),
                "updated_at": iso(now),
                "events": record.events,
                "client_events": record.client_events,
            }
        )
    analysis = insights.analyse_sample(rows)
    assert analysis["n"] == 5
    assert all(0 < n <= 5 for _, n in analysis["pages"])
    assert sum(n for _, n in analysis["channel_paths"]) <= 5
    assert 0 <= analysis["hidden"] <= 5


def test_page_charts_draw_every_figure_wide_and_narrow():
    """Each chart comes in both layouts; pages-seen rows say their share of the sample."""
    fig = insights.figures([day_row(D, "Email", 2)], [{"n": 2, "time_bucket": 1, "visits": 2}], [], D, D)
    drawn = insights.page_charts(fig, {"n": 4, "pages": [("/pricing", 1)]})
    for key in ("over_time", "time_chart", "visits_chart", "landing_chart", "pages_chart"):
        assert str(drawn[key]).count("<svg") == 2 and 'class="narrow-only"' in str(drawn[key])
    assert drawn["pages_rows"] == [("/pricing", 1, "25% of enquirers")]
