"""A stored journey as users see it: the stored row plus its reconstruction (timeline, visits,
summary). Shared by `leadtrail export` and the dashboard's JSON download."""

from __future__ import annotations

from datetime import UTC

from .journeys import outline, reconstruct
from .localtime import UTC_TIMES, LocalTimes
from .timestamps import iso, parse

ROW_FIELDS = ("id", "email", "anon_id", "form", "consent", "created_at", "updated_at", "history_removed_at")
# The lead desk's fields (0.2), with what a row read before they existed means.
OUTCOME_DEFAULTS: dict[str, object] = {
    "status": "open",
    "value": None,
    "currency": None,
    "spam_score": 0,
    "spam_reasons": [],
}


def export_journey(row: dict, timeline: bool = True) -> dict:
    """`row` as the store returns it (JSON decoded, ISO timestamps); without the timeline and the
    raw events when `timeline` is false (the API's list)."""
    submitted_at = parse(row["updated_at"] or row["created_at"])
    if submitted_at is None:
        raise ValueError(f"journey {row.get('id')}: no readable created_at")
    # The list (no timeline) needs only the visits and the summary: outline() gives the same at
    # about half of reconstruct()'s CPU (no per-event times on page or ISO times).
    rebuild = reconstruct if timeline else outline
    rebuilt = rebuild(row["events"], row["client_events"], submitted_at, touches=row.get("touches") or [])
    out = {
        **{key: row.get(key) for key in ROW_FIELDS},
        "submitted_at": iso(submitted_at),
        **{key: row.get(key, default) for key, default in OUTCOME_DEFAULTS.items()},
        "summary": rebuilt["summary"],
        "visits": rebuilt["visits"],
    }
    if timeline:
        out.update(
            timeline=rebuilt["timeline"],
            events=row["events"],
            client_events=row["client_events"],
            touches=row.get("touches") or [],
        )
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (= + - @, and tab/CR that some strip first)
    is prefixed with a quote, so it shows as text (OWASP: CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# The enquiry list as CSV (the dashboard's export). submitted_at is UTC (machine-readable, as
# ever); submitted_at_local, added last, is the same instant in the owner's TIMEZONE with its offset.
LIST_CSV_COLUMNS = [
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


def list_csv_row(row: dict, times: LocalTimes = UTC_TIMES) -> list[object]:
    """One row of the enquiry list (store/dashboard.py's list columns) as LIST_CSV_COLUMNS."""
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
