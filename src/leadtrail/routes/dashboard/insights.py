"""GET /cp/insights: the insights queries of the chosen range, turned into the page's figures and
charts by leadtrail.insights (pure) and conversions (the same document as GET /api/v1/insights)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import Response

from ... import conversions, insights, totals
from ...http.cookies import services_of
from ...http.filters import Filters, filters_from, presets
from ...http.render import render
from ...http.sessions import member_required
from ...localtime import local_date
from ...store import SqlStore, utcnow
from ...store import dashboard as db


@member_required
async def insights_page(request: Request) -> Response:
    services = services_of(request)
    store = services.store
    f = filters_from(request, default_days=30, max_days=insights.MAX_DAYS)
    since, until = f.list_filter.since, f.list_filter.until
    tz, now = services.settings.tz, utcnow()
    today, since_day = local_date(now, tz), local_date(since, tz)
    # With a start day (filters_from gives one here) the days shown do not depend on the data, so
    # every read runs at once (SQLite's reader threads, PostgreSQL's pool); the conversion figures
    # are read again below only if the data moved the last day.
    _, guessed_last = insights.shown_range(f.start, f.end, since_day, today, ())
    conversion = asyncio.ensure_future(_conversions(request, f, since_day, guessed_last, now))
    sample = asyncio.ensure_future(_sample_analysis(store, since, until))
    try:
        by_day, buckets, landing = await asyncio.gather(
            db.insights_by_day(store, since, until, tz, now),
            db.insights_buckets(store, since, until),
            db.insights_landing_pages(store, since, until, insights.LANDING_PAGES),
        )
        days = (insights.as_date(r["day"]) for r in by_day)
        first, last = insights.shown_range(f.start, f.end, since_day, today, days)
        figures = insights.figures(by_day, buckets, landing, first, last)
        median_ms, analysis, conversions_of = await asyncio.gather(
            db.insights_median_time(store, since, until, figures["timed"]), sample, conversion
        )
    finally:
        _settle(conversion, sample)
    if max(since_day, last) != max(since_day, guessed_last):
        conversions_of = await _conversions(request, f, since_day, last, now)
    return render(
        request,
        "cp/insights.html",
        {
            "section": "insights",
            "filters": f,
            **figures,
            **insights.page_charts(figures, analysis),
            "median_ms": median_ms,
            "analysis": analysis,
            "sample_size": insights.SAMPLE,
            "presets": presets(today),
            **conversions_of,
        },
    )


def _settle(*tasks: asyncio.Future) -> None:
    """After a failed read: the page's other reads are cancelled, and a failure of theirs is taken
    (not logged as never retrieved); the first failure is the one raised."""
    for task in tasks:
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()


async def _sample_analysis(store: SqlStore, since: datetime, until: datetime) -> dict:
    """insights.analyse_samples of the newest journeys of the range: each journey's part as
    journey_facts keeps it, rebuilt from the events only where that is missing or out of date."""
    rows = await db.insights_sample_facts(store, since, until, insights.SAMPLE)
    stale = insights.stale_samples(rows)
    rebuilt = {}
    if stale:
        journeys = await db.insights_sample_rows(store, stale)
        rebuilt = await asyncio.to_thread(insights.samples_of_rows, journeys)
    return insights.analyse_samples(insights.sample_parts(rows, rebuilt))


async def _conversions(request: Request, f: Filters, first: date, last: date, now: datetime) -> dict:
    """Conversion figures (totals.load_insights, as GET /api/v1/insights gives them), the
    first/last-touch links and the visits-and-enquiries-per-day chart."""
    services = services_of(request)
    model = request.query_params.get("model", conversions.DEFAULT_MODEL)
    model = model if model in conversions.MODELS else conversions.DEFAULT_MODEL
    document = await totals.load_insights(services.store, first, max(first, last), services.settings.tz, model, now)
    return {
        "conversions": document,
        "model": model,
        "model_links": [
            (value, name, "/cp/insights?" + f.query(model=value))
            for value, name in (("last_touch", "Last touch"), ("first_touch", "First touch"))
        ],
        "conversion_chart": insights.conversion_chart(document),
        "conversion_rows": 25,
        "currency": services.settings.currency,
    }
