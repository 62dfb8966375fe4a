"""Won enquiries handed back to the ad platforms as the files their upload pages take.

Google Ads: its conversion import CSV (conversions from clicks). Columns as Google's
click-conversion template names them: a `Parameters:TimeZone=` line (the owner's TIMEZONE), then
`Google Click ID`, `GBRAID`, `WBRAID`, `Conversion Name`, `Conversion Time` (yyyy-MM-dd HH:mm:ss
in that zone), `Conversion Value`, `Conversion Currency`, and, when asked for, `Email`: the
SHA-256 of the normalised address, as enhanced conversions for leads take it. One click id per row
(Google refuses a gbraid or wbraid beside a gclid): the latest click of the journey before the
enquiry, since that is the click Google credits.

Meta: an offline-events file for a dataset (Events Manager's upload, or a Conversions API file
upload), one `Purchase` per won enquiry with an e-mail address. Columns as Meta's offline-event
files and Conversions API parameters name them: `email` (SHA-256 hex of the address trimmed and
lower-cased, Meta's `em` normalisation), `event_name`, `event_time` (Unix seconds, UTC),
`value`, `currency`, `order_id` and `event_id` (both the journey id, for Meta's deduplication of
a re-upload) and `action_source` (`physical_store`, what Meta asks of offline events).

No plain e-mail address is ever written.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from . import timestamps
from .export import csv_cell

CLICK_COLUMNS = ("Google Click ID", "GBRAID", "WBRAID")
COLUMNS = (*CLICK_COLUMNS, "Conversion Name", "Conversion Time", "Conversion Value", "Conversion Currency")
CLICK_IDS = ("gclid", "gbraid", "wbraid")
DEFAULT_CONVERSION_NAME = "Won enquiry"

META_COLUMNS = ("email", "event_name", "event_time", "value", "currency", "order_id", "event_id", "action_source")
META_EVENT_NAME = "Purchase"  # Meta's standard event for a completed sale; the form itself is the Lead
META_ACTION_SOURCE = "physical_store"


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalised_email_hash(email: str) -> str:
    """SHA-256 (hex) of the address trimmed and lower-cased, with the dots of a Gmail local part
    removed, as Google's enhanced conversions normalise it."""
    address = email.strip().lower()
    local, _, domain = address.partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
    return _sha256_hex(f"{local}@{domain}")


def meta_email_hash(email: str) -> str:
    """SHA-256 (hex) of the address trimmed and lower-cased: Meta's `em` normalisation (Gmail
    dots are kept, unlike Google's)."""
    return _sha256_hex(email.strip().lower())


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


def _value_and_currency(journey: dict[str, Any], currency: str) -> list[object]:
    """[value with two decimals, its currency], or two empty cells when the enquiry has no value."""
    value = journey.get("value")
    if value is None:
        return ["", ""]
    return [f"{float(value):.2f}", journey.get("currency") or currency]


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
    at = timestamps.instant(journey["submitted_at"]).astimezone(tz)
    row: list[object] = [click_id if kind == k else "" for k in CLICK_IDS]
    row += [name, at.strftime("%Y-%m-%d %H:%M:%S"), *_value_and_currency(journey, currency)]
    if with_email:
        row.append(normalised_email_hash(journey["email"]))
    return [csv_cell(cell) for cell in row]


def meta_row(journey: dict[str, Any], currency: str) -> list[object] | None:
    """One row of Meta's offline-events file, or None unless the journey is won and has an address."""
    email = journey.get("email") or ""
    at_us = timestamps.epoch_us(journey.get("submitted_at"))
    if journey.get("status") != "won" or not email.strip() or at_us is None:
        return None
    event_id = str(journey["id"])
    row: list[object] = [meta_email_hash(email), META_EVENT_NAME, str(at_us // 1_000_000)]
    row += [*_value_and_currency(journey, currency), event_id, event_id, META_ACTION_SOURCE]
    return [csv_cell(cell) for cell in row]


def _csv_text(header: Iterable[str], rows: Iterable[list[object] | None], preamble: str = "") -> str:
    buffer = io.StringIO()
    buffer.write(preamble)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(row for row in rows if row is not None)
    return buffer.getvalue()


def google_ads_csv(
    journeys: Iterable[dict[str, Any]],
    tz: tzinfo,
    zone_name: str,
    currency: str,
    name: str = DEFAULT_CONVERSION_NAME,
    with_email: bool = False,
) -> str:
    rows = (conversion_row(journey, tz, currency, name, with_email) for journey in journeys)
    return _csv_text([*COLUMNS, "Email"] if with_email else COLUMNS, rows, f"Parameters:TimeZone={zone_name}\r\n")


def meta_csv(journeys: Iterable[dict[str, Any]], currency: str) -> str:
    """Meta's offline-events CSV of the won enquiries with an e-mail address."""
    return _csv_text(META_COLUMNS, (meta_row(journey, currency) for journey in journeys))
