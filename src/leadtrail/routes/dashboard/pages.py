"""The owner's pages: the enquiry list (and its CSV), one journey (picture, table, JSON, erasure),
and insights across journeys."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from ... import charts, conversions, outcomes, totals
from ...describe import event_details, event_label
from ...export import csv_cell, export_journey
from ...lifecycle import visible_journeys_since
from ...localtime import UTC_TIMES, LocalTimes, day_start, local_date
from ...store import dashboard as db
from ...store import utcnow
from ...store.dashboard import Cursor
from .common import (
    Filters,
    filters_from,
    local_times,
    not_found,
    owner_required,
    read_form,
    render,
    services_of,
)

PAGE_SIZE = 50
COUNT_CAP = 10_000
EVENT_TABLE_LIMIT = 1000
INSIGHTS_SAMPLE = 400  # journeys whose events are read for page-level insights (newest of the range)
TIME_BUCKETS = ["under 2 min", "2–10 min", "10–30 min", "30 min–2 h", "2–6 h", "6–24 h", "a day or more"]
VISIT_BUCKETS = ["1 visit", "2 visits", "3 visits", "4 visits", "5 or more"]


def _cursor_of(row: dict) -> str:
    return Cursor(row["created_at"], row["id"]).encode()


# -- the enquiry list -------------------------------------------------------------------------------------


@owner_required
async def enquiries(request: Request) -> Response:
    store = services_of(request).store
    f = filters_from(request)
    before = Cursor.decode(request.query_params.get("before"))
    after = Cursor.decode(request.query_params.get("after")) if before is None else None
    rows, more = await db.list_journeys(store, f.list_filter, PAGE_SIZE, before=before, after=after)
    newer = older = None
    if rows:
        if after is not None:
            newer = f.query(after=_cursor_of(rows[0])) if more else None
            older = f.query(before=_cursor_of(rows[-1]))
        else:
            older = f.query(before=_cursor_of(rows[-1])) if more else None
            newer = f.query(after=_cursor_of(rows[0])) if before is not None else None
    total = None
    first_page = before is None and after is None
    if not f.q:
        total = await db.count_journeys(store, f.list_filter, COUNT_CAP + 1)
    elif first_page and not more:
        total = len(rows)
    erased = request.query_params.get("erased")
    spam_count = await db.count_journeys(
        store, dataclasses.replace(f.list_filter, spam=True, search=None), COUNT_CAP + 1
    )
    return render(
        request,
        "cp/list.html",
        {
            "section": "enquiries",
            "spam_list": f.spam,
            "spam_count": spam_count,
            "currency": services_of(request).settings.currency,
            "back": "/cp/" + (f"?{request.url.query}" if request.url.query else ""),
            "rows": rows,
            "filters": f,
            "newer": newer,
            "older": older,
            "total": total,
            "count_cap": COUNT_CAP,
            "first_page": first_page,
            "export_query": f.query(),
            "erased": int(erased) if erased and erased.isascii() and erased.isdigit() else None,
            "welcome": bool(request.query_params.get("welcome")),
            "retention": services_of(request).settings.journey_retention,
        },
    )


# submitted_at is UTC (machine-readable, as ever); submitted_at_local, added last, is the same
# instant in the owner's TIMEZONE with its offset.
CSV_COLUMNS = [
    "journey_id",
    "submitted_at",
    "email",
    "form",
    "consent",
    "first_channel",
    "first_source",
    "landing_page",
    "visits",
    "page_views",
    "time_to_enquiry_seconds",
    "submitted_at_local",
]


def csv_row(row: dict, times: LocalTimes = UTC_TIMES) -> list[object]:
    ms = row.get("time_to_enquiry_ms")
    consent = row.get("consent")
    return [
        csv_cell(v)
        for v in (
            row["id"],
            row["created_at"].astimezone(UTC).isoformat(timespec="seconds"),
            row["email"],
            row.get("form") or "",
            "" if consent is None else ("yes" if consent else "no"),
            row.get("first_channel") or "",
            row.get("first_source") or "",
            row.get("landing_page") or "",
            row.get("visits") if row.get("visits") is not None else "",
            row.get("page_views") if row.get("page_views") is not None else "",
            "" if ms is None else round(ms / 1000),
            times.local_iso(row["created_at"]),
        )
    ]


@owner_required
async def export_csv(request: Request) -> Response:
    store = services_of(request).store
    f = filters_from(request)
    times = local_times(request)

    async def lines() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        async for row in db.iter_journeys(store, f.list_filter):
            writer.writerow(csv_row(row, times))
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    name = f"leadtrail-enquiries-{local_date(utcnow(), times.tz).isoformat()}.csv"
    return StreamingResponse(
        lines(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@owner_required
async def export_google_ads(request: Request) -> Response:
    """Won enquiries with a Google click id, as Google Ads' conversion import CSV (?since=YYYY-MM-DD)."""
    from ... import adexport, outcomes

    settings = services_of(request).settings
    raw = request.query_params.get("since", "")
    try:
        start = day_start(date.fromisoformat(raw), settings.tz) if raw else datetime(1970, 1, 1, tzinfo=UTC)
    except ValueError:
        return Response("since: use a day as YYYY-MM-DD\n", 400, media_type="text/plain")
    journeys = await outcomes.won_journeys(services_of(request).store, start)
    text = adexport.google_ads_csv(journeys, settings.tz, settings.timezone, settings.currency)
    name = f"leadtrail-google-ads-{local_date(utcnow(), settings.tz).isoformat()}.csv"
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# -- one journey ---------------------------------------------------------------------------------------------


def _since(request: Request) -> datetime:
    return visible_journeys_since(services_of(request).settings, utcnow())


async def _journey(request: Request) -> dict | None:
    journey_id = request.path_params["journey_id"]
    row = await db.get_journey(services_of(request).store, journey_id, _since(request))
    return export_journey(row) if row is not None else None


@owner_required
async def journey_page(request: Request) -> Response:
    journey = await _journey(request)
    if journey is None:
        return not_found(request, "enquiry")
    timeline = journey["timeline"]
    events = [
        {**e, "label": event_label(e["event_name"]), "details": event_details(e["event_name"], e.get("params"))}
        for e in timeline[:EVENT_TABLE_LIMIT]
    ]
    sources = Counter(e["source"] for e in timeline)
    times = local_times(request)
    return render(
        request,
        "cp/journey.html",
        {
            "section": "enquiries",
            "currency": services_of(request).settings.currency,
            "j": journey,
            "summary": journey["summary"],
            "visits": journey["visits"],
            "events": events,
            "more_events": max(0, len(timeline) - EVENT_TABLE_LIMIT),
            "sources": sources,
            "picture": charts.journey_picture(journey, times=times),
            "picture_compact": charts.journey_picture(journey, "journey-picture-compact", compact=True, times=times),
            "strip": charts.journey_strip(journey, times=times),
            "strip_compact": charts.journey_strip(journey, "journey-strip-compact", compact=True, times=times),
        },
    )


def _json_download(document: object, name: str) -> Response:
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@owner_required
async def journey_json(request: Request) -> Response:
    journey = await _journey(request)
    if journey is None:
        return not_found(request, "enquiry")
    return _json_download(journey, f"leadtrail-journey-{journey['id']}.json")


@owner_required
async def person_json(request: Request) -> Response:
    """Every journey of this enquiry's address (right of access), as `leadtrail export` prints it."""
    store = services_of(request).store
    head = await db.journey_head(store, request.path_params["journey_id"], _since(request))
    if head is None:
        return not_found(request, "enquiry")
    rows = await store.journeys_by_email(head["email"], _since(request))
    document = {"email": head["email"], "journeys": [export_journey(row) for row in rows]}
    return _json_download(document, f"leadtrail-export-{head['id']}.json")


@owner_required
async def erase_confirm(request: Request) -> Response:
    store = services_of(request).store
    head = await db.journey_head(store, request.path_params["journey_id"], _since(request))
    if head is None:
        return not_found(request, "enquiry")
    count = await db.count_journeys_of_email(store, head["email"])
    return render(request, "cp/erase.html", {"section": "enquiries", "head": head, "count": count})


@owner_required
async def erase(request: Request) -> Response:
    store = services_of(request).store
    head = await db.journey_head(store, request.path_params["journey_id"], _since(request))
    if head is None:
        return not_found(request, "enquiry")
    erased = await store.erase_email(head["email"])
    return RedirectResponse(f"/cp/?erased={erased}", status_code=303)


# -- outcomes ---------------------------------------------------------------------------------------------------


def _back_to(form: dict[str, str], journey_id: int) -> str:
    """Where the outcome form came from: the list (keeping its filters) or the journey page."""
    back = form.get("back", "")
    if back.startswith("/cp/?") or back == "/cp/":
        return back if "\\" not in back and "//" not in back[1:] else "/cp/"
    return f"/cp/journeys/{journey_id}"


@owner_required
async def set_outcome(request: Request) -> Response:
    """One click from the list or the journey page: status (and value) of an enquiry."""
    services = services_of(request)
    journey_id = request.path_params["journey_id"]
    form = await read_form(request)
    try:
        outcome = outcomes.parse_outcome_form(form.get("status"), form.get("value"))
    except outcomes.OutcomeError as exc:
        message = "Nothing was changed: " + "; ".join(exc.details) + "."
        context = {"heading": "Not saved", "message": message, "back": _back_to(form, journey_id)}
        return render(request, "cp/message.html", context, 400)
    async with services.store.transaction() as tx:
        stored = await outcomes.set_outcome(tx, journey_id, outcome, services.settings.currency)
    if stored is None:
        return not_found(request, "enquiry")
    return RedirectResponse(_back_to(form, journey_id), status_code=303)


# -- insights ---------------------------------------------------------------------------------------------------


def _buckets(first: date, last: date) -> tuple[str, list[tuple[date, str, str]]]:
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


def _period_of(d: date, kind: str) -> date:
    if kind == "week":
        return d - timedelta(days=d.weekday())
    if kind == "month":
        return d.replace(day=1)
    return d


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def analyse_sample(rows: list[dict]) -> dict:
    """Page-level figures from a sample of journeys, rebuilt by export.export_journey (CPU-bound:
    run on a thread)."""
    pages: Counter[str] = Counter()
    channel_paths: Counter[tuple[str, ...]] = Counter()
    landing_paths: Counter[tuple[str, ...]] = Counter()
    hidden = 0
    hidden_events = 0
    for row in rows:
        journey = export_journey(row)
        viewed = [
            (e.get("page_path") or "").split("#", 1)[0].split("?", 1)[0]
            for e in journey["timeline"]
            if e.get("event_name") == "page_view" and e.get("page_path")
        ]
        # The pages read before the enquiry, without the one the form was sent from (every enquirer saw it).
        pages.update(set(viewed) - set(viewed[-1:]))
        visits = journey["visits"]
        if visits:
            channel_paths[
                tuple(v.get("channel") or "Unassigned" for v in visits[:4]) + (("…",) if len(visits) > 4 else ())
            ] += 1
            landing_paths[
                tuple(v.get("landing_page") or "(unknown)" for v in visits[:3]) + (("…",) if len(visits) > 3 else ())
            ] += 1
        client_only = journey["summary"].get("client_only_events") or 0
        if client_only:
            hidden += 1
            hidden_events += client_only
    return {
        "n": len(rows),
        "pages": pages.most_common(12),
        "channel_paths": channel_paths.most_common(8),
        "landing_paths": landing_paths.most_common(8),
        "hidden": hidden,
        "hidden_events": hidden_events,
    }


@owner_required
async def insights(request: Request) -> Response:
    store = services_of(request).store
    f = filters_from(request, default_days=30)
    since, until = f.list_filter.since, f.list_filter.until
    tz, now = services_of(request).settings.tz, utcnow()
    by_day, buckets, landing, sample = await asyncio.gather(
        db.insights_by_day(store, since, until, tz, now),
        db.insights_buckets(store, since, until),
        db.insights_landing_pages(store, since, until, 10),
        db.insights_sample(store, since, until, INSIGHTS_SAMPLE),
    )
    enquiries = sum(int(r["n"]) for r in by_day)
    timed = sum(int(r["timed"] or 0) for r in by_day)
    median_ms = await db.insights_median_time(store, since, until, timed)
    analysis = await asyncio.to_thread(analyse_sample, sample)

    # Channels: totals, and enquiries per period for the stacked bars.
    channel_totals: Counter[str] = Counter()
    channel_visits: Counter[str] = Counter()
    channel_time: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    # Days and periods are the owner's local ones (TIMEZONE), as the rows' days are.
    today = local_date(now, tz)
    first = max(f.start or local_date(since, tz), local_date(since, tz))
    days_with_data = [_as_date(r["day"]) for r in by_day]
    if f.start is None and days_with_data:
        first = max(first, min(days_with_data))
    last = min(f.end or today, today) if (f.end or today) >= first else first
    kind, periods = _buckets(first, max(first, last))
    per_period: dict[date, Counter[str]] = {start: Counter() for start, _, _ in periods}
    for r in by_day:
        channel = r["channel"] or "Unassigned"
        n = int(r["n"])
        channel_totals[channel] += n
        channel_visits[channel] += int(r["visits"] or 0)
        channel_time[channel][0] += int(r["time_ms"] or 0)
        channel_time[channel][1] += int(r["timed"] or 0)
        period = _period_of(_as_date(r["day"]), kind)
        if period in per_period:
            per_period[period][channel] += n
    order = [name for name, _ in channel_totals.most_common()]
    channels = [
        {
            "name": name,
            "n": channel_totals[name],
            "share": 100 * channel_totals[name] / (enquiries or 1),
            "avg_visits": channel_visits[name] / channel_totals[name],
            "avg_time_ms": channel_time[name][0] / channel_time[name][1] if channel_time[name][1] else None,
            "css": charts.channel_class(name),
        }
        for name in order
    ]
    bars = [(short, long, per_period[start]) for start, short, long in periods]
    over_time_label = f"Enquiries per {kind}, by first-touch channel"
    over_time = charts.responsive(
        charts.stacked_bars("chart-channels", over_time_label, bars, order),
        charts.stacked_bars("chart-channels-compact", over_time_label, bars, order, width=360, height=230),
    )

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
    time_rows = list(zip(time_labels, time_counts, strict=False))
    time_chart = charts.responsive(
        charts.histogram("chart-time", "Time from first visit to enquiry", time_rows),
        charts.histogram("chart-time-compact", "Time from first visit to enquiry", time_rows, width=360),
    )
    visit_rows = list(zip(VISIT_BUCKETS, visit_counts, strict=False))
    visits_chart = charts.responsive(
        charts.histogram("chart-visits", "Visits before enquiring", visit_rows, css="bar-fill alt"),
        charts.histogram("chart-visits-compact", "Visits before enquiring", visit_rows, css="bar-fill alt", width=360),
    )
    landing_rows = [
        (r["landing_page"], int(r["n"]), f"{int(r['n']):,} · {_percent(int(r['n']), enquiries)}") for r in landing
    ]
    landing_label = "Top landing pages of the first visit"
    landing_chart = charts.responsive(
        charts.bar_list("chart-landing", landing_label, landing_rows),
        charts.bar_list(
            "chart-landing-compact",
            landing_label,
            [(r["landing_page"], int(r["n"]), _percent(int(r["n"]), enquiries)) for r in landing],
            label_width=190,
            width=360,
            value_width=44,
        ),
    )
    conversion = await _conversion_context(request, f, local_date(since, tz), last, now)
    n_sample = analysis["n"] or 1
    pages_rows = [(page, n, f"{_percent(n, n_sample)} of enquirers") for page, n in analysis["pages"]]
    pages_chart = charts.responsive(
        charts.bar_list(
            "chart-pages",
            "Pages seen before enquiring",
            pages_rows,
            css="bar-fill alt",
            label_width=380,
            width=1100,
            value_width=160,
        ),
        charts.bar_list(
            "chart-pages-compact",
            "Pages seen before enquiring",
            [(page, n, _percent(n, n_sample)) for page, n in analysis["pages"]],
            css="bar-fill alt",
            label_width=190,
            width=360,
            value_width=44,
        ),
    )
    return render(
        request,
        "cp/insights.html",
        {
            "section": "insights",
            "filters": f,
            "first": first,
            "last": last,
            "kind": kind,
            "enquiries": enquiries,
            "median_ms": median_ms,
            "avg_visits": sum(channel_visits.values()) / enquiries if enquiries else None,
            "avg_page_views": sum(int(r["page_views"] or 0) for r in by_day) / enquiries if enquiries else None,
            "channels": channels,
            "over_time": over_time,
            "periods": periods,
            "per_period": per_period,
            "time_chart": time_chart,
            "time_rows": time_rows,
            "unknown_time": unknown_time,
            "visits_chart": visits_chart,
            "visit_rows": visit_rows,
            "landing_chart": landing_chart,
            "landing_rows": landing_rows,
            "pages_chart": pages_chart,
            "pages_rows": pages_rows,
            "analysis": analysis,
            "sample_size": INSIGHTS_SAMPLE,
            "presets": _presets(today),
            **conversion,
        },
    )


async def _conversion_context(request: Request, f: Filters, first: date, last: date, now) -> dict:
    """Conversion figures for the page (totals.load_insights, the same as GET /api/v1/insights),
    the first/last-touch links and the visits-and-enquiries-per-day chart."""
    services = services_of(request)
    model = request.query_params.get("model", conversions.DEFAULT_MODEL)
    model = model if model in conversions.MODELS else conversions.DEFAULT_MODEL
    document = await totals.load_insights(services.store, first, max(first, last), services.settings.tz, model, now)
    days = [(d["date"][5:], d["date"], d["visits"], d["enquiries"]) for d in document["days"]]
    label = "Visits (bars) and enquiries (line) per day"
    return {
        "conversions": document,
        "model": model,
        "model_links": [
            (value, name, "/cp/insights?" + f.query(model=value))
            for value, name in (("last_touch", "Last touch"), ("first_touch", "First touch"))
        ],
        "conversion_chart": charts.responsive(
            charts.visits_and_enquiries("chart-conversions", label, days),
            charts.visits_and_enquiries("chart-conversions-compact", label, days, width=360, height=230),
        ),
        "conversion_rows": 25,
        "currency": services.settings.currency,
    }


def _percent(n: int, of: int) -> str:
    share = 100 * n / (of or 1)
    return "<1%" if 0 < share < 1 else f"{share:.0f}%"


def _presets(today: date) -> list[tuple[str, str]]:
    def q(days: int) -> str:
        return Filters("", today - timedelta(days=days - 1), None, None, ()).query()  # type: ignore[arg-type]

    return [("7 days", q(7)), ("30 days", q(30)), ("90 days", q(90)), ("12 months", q(365))]
