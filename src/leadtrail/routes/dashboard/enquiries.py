"""The enquiry list (and its spam list), its CSV, and the ad platforms' conversion files.

GET /cp/                         enquiries, newest first (search, date range, keyset pages); ?list=spam
GET /cp/export.csv               the same list as CSV (same filters, streamed)
GET /cp/export/google-ads.csv    won enquiries with a Google click id (?since=YYYY-MM-DD)
GET /cp/export/meta.csv          won enquiries with an e-mail address, Meta's offline events (?since=YYYY-MM-DD)
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ... import adexport, contract, outcomes
from ...contract import whole_number
from ...export import LIST_CSV_COLUMNS, list_csv_row
from ...http.cookies import services_of
from ...http.filters import filters_from
from ...http.render import render
from ...http.sessions import member_required, owner_required
from ...localtime import day_start, local_date
from ...settings import Settings
from ...store import dashboard as db
from ...store import utcnow
from ...store.dashboard import Cursor

PAGE_SIZE = 50
COUNT_CAP = 10_000


def _cursor_of(row: dict) -> str:
    return Cursor(row["created_at"], row["id"]).encode()


@member_required
async def enquiries(request: Request) -> Response:
    services = services_of(request)
    store = services.store
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
    erased = whole_number(request.query_params.get("erased"), 9)
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
            "currency": services.settings.currency,
            "back": "/cp/" + (f"?{request.url.query}" if request.url.query else ""),
            "rows": rows,
            "filters": f,
            "newer": newer,
            "older": older,
            "total": total,
            "count_cap": COUNT_CAP,
            "first_page": first_page,
            "export_query": f.query(),
            "erased": erased,
            "welcome": bool(request.query_params.get("welcome")),
            "retention": services.settings.journey_retention,
        },
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@owner_required
async def export_csv(request: Request) -> Response:
    services = services_of(request)
    f = filters_from(request)
    times = services.times

    async def lines() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(LIST_CSV_COLUMNS)
        async for row in db.iter_journeys(services.store, f.list_filter):
            writer.writerow(list_csv_row(row, times))
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    name = f"leadtrail-enquiries-{local_date(utcnow(), times.tz).isoformat()}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=_attachment(name))


async def _ad_export(request: Request, platform: str, to_csv: Callable[[list[dict], Settings], str]) -> Response:
    """The won enquiries submitted on or after ?since=YYYY-MM-DD (a local day) as `platform`'s file."""
    settings = services_of(request).settings
    raw = request.query_params.get("since", "")
    since = contract.day(raw)
    if raw and since is None:
        return Response(f"since: {contract.DAY_RULE}\n", 400, media_type="text/plain")
    start = day_start(since, settings.tz) if since else datetime(1970, 1, 1, tzinfo=UTC)
    journeys = await outcomes.won_journeys(services_of(request).store, start)
    name = f"leadtrail-{platform}-{local_date(utcnow(), settings.tz).isoformat()}.csv"
    return Response(to_csv(journeys, settings), media_type="text/csv; charset=utf-8", headers=_attachment(name))


@owner_required
async def export_google_ads(request: Request) -> Response:
    """Won enquiries with a Google click id, as Google Ads' conversion import CSV (?since=YYYY-MM-DD)."""
    return await _ad_export(
        request, "google-ads", lambda rows, s: adexport.google_ads_csv(rows, s.tz, s.timezone, s.currency)
    )


@owner_required
async def export_meta(request: Request) -> Response:
    """Won enquiries with an e-mail address, as Meta's offline-events CSV (?since=YYYY-MM-DD)."""
    return await _ad_export(request, "meta", lambda rows, s: adexport.meta_csv(rows, s.currency))
