"""One enquiry: its page (summary, the path as a picture, the events), its JSON, every journey of
its address (right of access), erasure, and its outcome (status and value).

  GET  /cp/journeys/{id}               the page
  GET  /cp/journeys/{id}.json          that journey as `leadtrail export` shows it (download)
  GET  /cp/journeys/{id}/person.json   every journey of that address
  GET  /cp/journeys/{id}/erase         confirm; POST erases every journey of that address
  POST /cp/journeys/{id}/outcome       status (open, won, lost, spam) and value, from the list or the page
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ... import charts, outcomes
from ...describe import event_details, event_label
from ...export import export_journey
from ...http.cookies import services_of
from ...http.forms import back_to, read_form
from ...http.render import message, not_found, render
from ...http.sessions import member_required, owner_required
from ...lifecycle import visible_journeys_since
from ...store import dashboard as db
from ...store import utcnow

EVENT_TABLE_LIMIT = 1000


def _since(request: Request) -> datetime:
    return visible_journeys_since(services_of(request).settings, utcnow())


async def _journey(request: Request) -> dict | None:
    journey_id = request.path_params["journey_id"]
    row = await db.get_journey(services_of(request).store, journey_id, _since(request))
    return export_journey(row) if row is not None else None


@member_required
async def journey_page(request: Request) -> Response:
    journey = await _journey(request)
    if journey is None:
        return not_found(request, "enquiry")
    timeline = journey["timeline"]
    events = [
        {**e, "label": event_label(e["event_name"]), "details": event_details(e["event_name"], e.get("params"))}
        for e in timeline[:EVENT_TABLE_LIMIT]
    ]
    services = services_of(request)
    times = services.times
    return render(
        request,
        "cp/journey.html",
        {
            "section": "enquiries",
            "currency": services.settings.currency,
            "j": journey,
            "summary": journey["summary"],
            "visits": journey["visits"],
            "events": events,
            "more_events": max(0, len(timeline) - EVENT_TABLE_LIMIT),
            "sources": Counter(e["source"] for e in timeline),
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


@owner_required
async def set_outcome(request: Request) -> Response:
    """One click from the list or the journey page: status (and value) of an enquiry."""
    services = services_of(request)
    journey_id = request.path_params["journey_id"]
    form = await read_form(request)
    back = back_to(form, f"/cp/journeys/{journey_id}")
    try:
        outcome = outcomes.parse_outcome_form(form.get("status"), form.get("value"))
    except outcomes.OutcomeError as exc:
        return message(request, "Not saved", "Nothing was changed: " + "; ".join(exc.details) + ".", 400, back)
    async with services.store.transaction() as tx:
        stored = await outcomes.set_outcome(tx, journey_id, outcome, services.settings.currency)
    if stored is None:
        return not_found(request, "enquiry")
    return RedirectResponse(back, status_code=303)
