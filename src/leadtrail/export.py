"""A stored journey as users see it: the stored row plus its reconstruction (timeline, visits,
summary). Shared by `leadtrail export` and the dashboard's JSON download."""

from __future__ import annotations

from datetime import datetime

from .journeys import reconstruct

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
    submitted_at = datetime.fromisoformat(row["updated_at"] or row["created_at"])
    rebuilt = reconstruct(row["events"], row["client_events"], submitted_at, touches=row.get("touches") or [])
    out = {
        **{key: row.get(key) for key in ROW_FIELDS},
        "submitted_at": submitted_at.isoformat(),
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
