"""A stored journey as users see it: the stored row plus its reconstruction (timeline, visits,
summary). Shared by `leadtrail export` and the dashboard's JSON download."""

from __future__ import annotations

from datetime import datetime

from .journeys import reconstruct

ROW_FIELDS = ("id", "email", "anon_id", "form", "consent", "created_at", "updated_at")


def export_journey(row: dict) -> dict:
    """`row` as the store returns it (JSON decoded, ISO timestamps)."""
    submitted_at = datetime.fromisoformat(row["updated_at"] or row["created_at"])
    rebuilt = reconstruct(row["events"], row["client_events"], submitted_at)
    return {
        **{key: row.get(key) for key in ROW_FIELDS},
        "summary": rebuilt["summary"],
        "visits": rebuilt["visits"],
        "timeline": rebuilt["timeline"],
        "events": row["events"],
        "client_events": row["client_events"],
    }
