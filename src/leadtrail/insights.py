"""Pure: the Insights page's figures from the dashboard's insights queries (store/dashboard.py)
and a sample of journeys, and the page's charts from those figures.

`figures()` turns the per-day rows, the time/visit buckets and the top landing pages into the
page's numbers (channels, periods, histograms); `analyse_samples()` adds up the page-level figures
of a sample of journeys (each journey's part, `journey_sample()`, is kept in journey_facts.sample,
so the page reads no events; `analyse_sample()` rebuilds it from the events); `charts()` draws both.
routes/dashboard/insights.py is the HTTP adapter: it runs the queries and renders the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from . import charts
from .charts import percent
from .export import export_journey

SAMPLE = 400  # journeys whose events are read for page-level insights (newest of the range)
TIME_BUCKETS = ["under 2 min", "2–10 min", "10–30 min", "30 min–2 h", "2–6 h", "6–24 h", "a day or more"]
VISIT_BUCKETS = ["1 visit", "2 visits", "3 visits", "4 visits", "5 or more"]
LANDING_PAGES = 10  # rows of the top landing pages

Period = tuple[date, str, str]  # (first day, short label, long label)


def periods(first: date, last: date) -> tuple[str, list[Period]]:
    """Periods covering [first, last]: days up to two months, then weeks, then months.
    Returns (period name, [(period start, short label, long label)])."""
    days = (last - first).days + 1
    out = []
    if days <= 62:
        d = first
        while d <= last:
            out.append((d, d.strftime("%-d %b"), d.strftime("%a %-d %b %Y")))
            d += timedelta(days=1)
        return "day", out
    if days <= 7 * 60:
        d = first - timedelta(days=first.weekday())
        while d <= last:
            out.append((d, d.strftime("%-d %b"), "week of " + d.strftime("%-d %b %Y")))
            d += timedelta(days=7)
        return "week", out
    d = first.replace(day=1)
    while d <= last:
        out.append((d, d.strftime("%b %y"), d.strftime("%B %Y")))
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return "month", out


def period_of(d: date, kind: str) -> date:
    """The first day of the period ("day", "week" from Monday, "month") that holds `d`."""
    if kind == "week":
        return d - timedelta(days=d.weekday())
    if kind == "month":
        return d.replace(day=1)
    return d


def as_date(value: object) -> date:
    """A row's day: a date, a datetime's date, or 'YYYY-MM-DD...' text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


MAX_DAYS = 3653  # ten years: the longest range the Insights page draws (as GET /api/v1/insights takes)


def shown_range(
    start: date | None, end: date | None, since: date, today: date, days: Iterable[date]
) -> tuple[date, date]:
    """The days the page covers: from the asked start (never before what is visible, `since`;
    without a start, from the first day with data), to the asked end (never after today)."""
    first = max(start or since, since)
    with_data = list(days)
    if start is None and with_data:
        first = max(first, min(with_data))
    last = min(end or today, today) if (end or today) >= first else first
    return first, last


def figures(
    by_day: list[dict[str, Any]],
    buckets: list[dict[str, Any]],
    landing: list[dict[str, Any]],
    first: date,
    last: date,
) -> dict[str, Any]:
    """The page's figures for the days first..last: enquiries, averages, channels (by first touch,
    most enquiries first), enquiries per period and channel, time to enquiry and visits before
    enquiring as histogram rows, the top landing pages."""
    enquiries = sum(int(r["n"]) for r in by_day)
    totals: Counter[str] = Counter()
    visits: Counter[str] = Counter()
    time_ms: Counter[str] = Counter()
    timed: Counter[str] = Counter()
    kind, spans = periods(first, max(first, last))
    per_period: dict[date, Counter[str]] = {start: Counter() for start, _, _ in spans}
    for r in by_day:
        channel = r["channel"] or "Unassigned"
        n = int(r["n"])
        totals[channel] += n
        visits[channel] += int(r["visits"] or 0)
        time_ms[channel] += int(r["time_ms"] or 0)
        timed[channel] += int(r["timed"] or 0)
        period = period_of(as_date(r["day"]), kind)
        if period in per_period:
            per_period[period][channel] += n
    channels = [
        {
            "name": name,
            "n": totals[name],
            "share": 100 * totals[name] / (enquiries or 1),
            "avg_visits": visits[name] / totals[name],
            "avg_time_ms": time_ms[name] / timed[name] if timed[name] else None,
            "css": charts.channel_class(name),
        }
        for name, _ in totals.most_common()
    ]
    time_rows, unknown_time, visit_rows = histograms(buckets)
    return {
        "first": first,
        "last": last,
        "kind": kind,
        "periods": spans,
        "per_period": per_period,
        "enquiries": enquiries,
        "timed": sum(timed.values()),
        "avg_visits": sum(visits.values()) / enquiries if enquiries else None,
        "avg_page_views": sum(int(r["page_views"] or 0) for r in by_day) / enquiries if enquiries else None,
        "channels": channels,
        "time_rows": time_rows,
        "unknown_time": unknown_time,
        "visit_rows": visit_rows,
        "landing_rows": [
            (r["landing_page"], int(r["n"]), f"{int(r['n']):,} · {percent(int(r['n']), enquiries)}") for r in landing
        ],
    }


def histograms(buckets: list[dict[str, Any]]) -> tuple[list[tuple[str, int]], int, list[tuple[str, int]]]:
    """(time to enquiry rows, enquiries without a known time, visits before enquiring rows) from
    the counts per (time_bucket, visits) pair (cp_insights_buckets.sql: time_bucket -1 is unknown)."""
    time_counts = [0] * len(TIME_BUCKETS)
    visit_counts = [0] * len(VISIT_BUCKETS)
    unknown_time = 0
    for r in buckets:
        n, tb, vb = int(r["n"]), int(r["time_bucket"]), int(r["visits"])
        if tb < 0:
            unknown_time += n
        else:
            time_counts[min(tb, len(TIME_BUCKETS) - 1)] += n
        if vb >= 1:
            visit_counts[min(vb, len(VISIT_BUCKETS)) - 1] += n
    # A day or more is rare (the buffer holds 24 hours); show that bar only when it has any.
    time_labels = TIME_BUCKETS if time_counts[-1] else TIME_BUCKETS[:-1]
    return (
        list(zip(time_labels, time_counts, strict=False)),
        unknown_time,
        list(zip(VISIT_BUCKETS, visit_counts, strict=True)),
    )


def journey_sample(rebuilt: dict[str, Any]) -> dict[str, Any]:
    """Pure: what one journey adds to the sample's figures, from its reconstruct() (as
    export.export_journey rebuilds it: its timeline, visits and summary): the pages read before
    the enquiry (each once, without the one the form was sent from: every enquirer saw it;
    sorted), its first four channels and first three landing pages (with "…" when there were
    more visits), how many of its events only the browser saw. Small and JSON-ready:
    journey_facts.sample keeps it, so the page reads no events (analyse_samples adds them up)."""
    viewed = [
        (e.get("page_path") or "").split("#", 1)[0].split("?", 1)[0]
        for e in rebuilt["timeline"]
        if e.get("event_name") == "page_view" and e.get("page_path")
    ]
    visits = rebuilt["visits"]
    return {
        "pages": sorted(set(viewed) - set(viewed[-1:])),
        "channels": [v.get("channel") or "Unassigned" for v in visits[:4]] + (["…"] if len(visits) > 4 else []),
        "landings": [v.get("landing_page") or "(unknown)" for v in visits[:3]] + (["…"] if len(visits) > 3 else []),
        "client_only": rebuilt["summary"].get("client_only_events") or 0,
    }


def sample_of_row(row: dict) -> dict[str, Any]:
    """Pure: journey_sample of a journey row as the store returns it (JSON decoded, ISO times),
    rebuilt as export.export_journey rebuilds it."""
    return journey_sample(export_journey(row))


def stale_samples(rows: list[dict[str, Any]]) -> list[int]:
    """Pure: the ids among the sample's rows (store.dashboard.insights_sample_facts) whose kept
    part is missing or older than the journey's last write: those are rebuilt from their events."""
    return [
        row["id"]
        for row in rows
        if row["sample"] is None or row["computed_at"] is None or row["computed_at"] < row["written"]
    ]


def samples_of_rows(rows: list[dict]) -> dict[int, dict[str, Any]]:
    """Pure (CPU-bound: run on a thread): journey id -> sample_of_row, for journey rows."""
    return {row["id"]: sample_of_row(row) for row in rows}


def sample_parts(rows: list[dict[str, Any]], rebuilt: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Pure: each sample row's part in the rows' order, the rebuilt one where there is one (a
    journey deleted in between has neither and is left out)."""
    stale = set(stale_samples(rows))
    parts = [rebuilt.get(row["id"]) if row["id"] in stale else row["sample"] for row in rows]
    return [part for part in parts if part is not None]


def analyse_samples(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Pure: page-level figures from the journey_sample of each journey of the sample (newest
    first): pages seen (each once per journey, the form's own page left out), the commonest
    paths by channel and by landing page, how many enquirers had events only their browser saw."""
    pages: Counter[str] = Counter()
    channel_paths: Counter[tuple[str, ...]] = Counter()
    landing_paths: Counter[tuple[str, ...]] = Counter()
    hidden = 0
    hidden_events = 0
    for one in samples:
        pages.update(one["pages"])
        if one["channels"]:
            channel_paths[tuple(one["channels"])] += 1
            landing_paths[tuple(one["landings"])] += 1
        if one["client_only"]:
            hidden += 1
            hidden_events += one["client_only"]
    return {
        "n": len(samples),
        "pages": pages.most_common(12),
        "channel_paths": channel_paths.most_common(8),
        "landing_paths": landing_paths.most_common(8),
        "hidden": hidden,
        "hidden_events": hidden_events,
    }


def analyse_sample(rows: list[dict]) -> dict[str, Any]:
    """Page-level figures (analyse_samples) from a sample of journey rows with their events,
    rebuilt by export.export_journey (CPU-bound: run on a thread)."""
    return analyse_samples([sample_of_row(row) for row in rows])


def page_charts(fig: dict[str, Any], analysis: dict[str, Any]) -> dict[str, Any]:
    """The page's charts (each wide and narrow) and the pages-seen rows, from figures() and
    analyse_sample()."""
    order = [c["name"] for c in fig["channels"]]
    bars = [(short, long, fig["per_period"][start]) for start, short, long in fig["periods"]]
    over_time_label = f"Enquiries per {fig['kind']}, by first-touch channel"
    time_rows, visit_rows, landing_rows = fig["time_rows"], fig["visit_rows"], fig["landing_rows"]
    time_label, visits_label = "Time from first visit to enquiry", "Visits before enquiring"
    landing_label, pages_label = "Top landing pages of the first visit", "Pages seen before enquiring"
    landing_narrow = [(page, n, percent(n, fig["enquiries"])) for page, n, _ in landing_rows]
    n_sample = analysis["n"] or 1
    pages_rows = [(page, n, f"{percent(n, n_sample)} of enquirers") for page, n in analysis["pages"]]
    pages_narrow = [(page, n, percent(n, n_sample)) for page, n in analysis["pages"]]
    return {
        "over_time": charts.responsive(
            charts.stacked_bars("chart-channels", over_time_label, bars, order),
            charts.stacked_bars("chart-channels-compact", over_time_label, bars, order, width=360, height=230),
        ),
        "time_chart": charts.responsive(
            charts.histogram("chart-time", time_label, time_rows),
            charts.histogram("chart-time-compact", time_label, time_rows, width=360),
        ),
        "visits_chart": charts.responsive(
            charts.histogram("chart-visits", visits_label, visit_rows, css="bar-fill alt"),
            charts.histogram("chart-visits-compact", visits_label, visit_rows, css="bar-fill alt", width=360),
        ),
        "landing_chart": charts.responsive(
            charts.bar_list("chart-landing", landing_label, landing_rows),
            charts.bar_list(
                "chart-landing-compact", landing_label, landing_narrow, label_width=190, width=360, value_width=44
            ),
        ),
        "pages_rows": pages_rows,
        "pages_chart": charts.responsive(
            charts.bar_list(
                "chart-pages", pages_label, pages_rows, css="bar-fill alt", label_width=380, width=1100, value_width=160
            ),
            charts.bar_list(
                "chart-pages-compact",
                pages_label,
                pages_narrow,
                css="bar-fill alt",
                label_width=190,
                width=360,
                value_width=44,
            ),
        ),
    }


def conversion_chart(document: dict[str, Any]) -> Any:
    """Visits (bars) and enquiries (line) per day of an insights document (conversions.py)."""
    days = [(d["date"][5:], d["date"], d["visits"], d["enquiries"]) for d in document["days"]]
    label = "Visits (bars) and enquiries (line) per day"
    return charts.responsive(
        charts.visits_and_enquiries("chart-conversions", label, days),
        charts.visits_and_enquiries("chart-conversions-compact", label, days, width=360, height=230),
    )
