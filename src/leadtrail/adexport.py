"""Won enquiries handed back to Google Ads: its conversion import CSV (conversions from clicks).

Columns as Google's click-conversion template names them: a `Parameters:TimeZone=` line (the
owner's TIMEZONE), then `Google Click ID`, `GBRAID`, `WBRAID`, `Conversion Name`,
`Conversion Time` (yyyy-MM-dd HH:mm:ss in that zone), `Conversion Value`, `Conversion Currency`,
and, when asked for, `Email`: the SHA-256 of the normalised address, as enhanced conversions for
leads take it. One click id per row (Google refuses a gbraid or wbraid beside a gclid): the
latest click of the journey before the enquiry, since that is the click Google credits.
No plain e-mail address is ever written.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from .export import csv_cell

CLICK_COLUMNS = ("Google Click ID", "GBRAID", "WBRAID")
COLUMNS = (*CLICK_COLUMNS, "Conversion Name", "Conversion Time", "Conversion Value", "Conversion Currency")
CLICK_IDS = ("gclid", "gbraid", "wbraid")
DEFAULT_CONVERSION_NAME = "Won enquiry"


def normalised_email_hash(email: str) -> str:
    """SHA-256 (hex) of the address trimmed and lower-cased, with the dots of a Gmail local part
    removed, as Google's enhanced conversions normalise it."""
    address = email.strip().lower()
    local, _, domain = address.partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
    return hashlib.sha256(f"{local}@{domain}".encode()).hexdigest()


def latest_click(visits: Iterable[dict[str, Any]]) -> tuple[str, str] | None:
    """(kind, id) of the last visit's Google click id (gclid before gbraid before wbraid), or None."""
    found = None
    for visit in visits:
        ids = visit.get("click_ids") or {}
        for kind in CLICK_IDS:
            value = ids.get(kind)
            if isinstance(value, str) and value:
                found = (kind, value)
                break
    return found


def conversion_row(
    journey: dict[str, Any], tz: tzinfo, currency: str, name: str, with_email: bool
) -> list[object] | None:
    """One CSV row for an exported journey (export.export_journey), or None without a Google click."""
    if journey.get("status") != "won":
        return None
    click = latest_click(journey.get("visits") or [])
    if click is None:
        return None
    kind, click_id = click
    at = datetime.fromisoformat(journey["submitted_at"]).astimezone(tz)
    value = journey.get("value")
    row: list[object] = [click_id if kind == k else "" for k in CLICK_IDS]
    row += [name, at.strftime("%Y-%m-%d %H:%M:%S"), "" if value is None else f"{float(value):.2f}"]
    row.append(journey.get("currency") or currency if value is not None else "")
    if with_email:
        row.append(normalised_email_hash(journey["email"]))
    return [csv_cell(cell) for cell in row]


def google_ads_csv(
    journeys: Iterable[dict[str, Any]],
    tz: tzinfo,
    zone_name: str,
    currency: str,
    name: str = DEFAULT_CONVERSION_NAME,
    with_email: bool = False,
) -> str:
    buffer = io.StringIO()
    buffer.write(f"Parameters:TimeZone={zone_name}\r\n")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*COLUMNS, "Email"] if with_email else COLUMNS)
    for journey in journeys:
        row = conversion_row(journey, tz, currency, name, with_email)
        if row is not None:
            writer.writerow(row)
    return buffer.getvalue()
