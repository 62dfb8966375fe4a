"""The API's journey list and the ad-platform files export journeys without a timeline from
journeys.outline(); their visits and summary are exactly those of the full export."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from test_dashboard_helpers import hostile_journey, make_journey

from leadtrail.export import export_journey
from leadtrail.timestamps import iso

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def row_of(record, submitted_at: datetime, touches: list | None = None) -> dict:
    return {
        "id": 7,
        "email": record.email,
        "form": record.form,
        "consent": record.consent,
        "anon_id": record.anon_id,
        "created_at": iso(submitted_at),
        "updated_at": None,
        "events": record.events,
        "client_events": record.client_events,
        "touches": touches if touches is not None else record.touches,
    }


@pytest.mark.parametrize("seed", range(60))
def test_the_list_export_has_the_full_exports_visits_and_summary(seed):
    rng = random.Random(seed)
    at = NOW - timedelta(minutes=rng.randrange(0, 10_000))
    record = make_journey(rng, at)
    touches = (
        [{"ts": int((at - timedelta(days=10)).timestamp() * 1000), "page_path": "/?utm_source=news", "pages": 2}]
        if seed % 3 == 0
        else None
    )
    row = row_of(record, at, touches)
    full, listed = export_journey(row), export_journey(row, timeline=False)
    assert listed["visits"] == full["visits"] and listed["summary"] == full["summary"]
    assert "timeline" not in listed and "events" not in listed
    if touches:  # the remembered visit counts in both
        assert full["summary"]["first_touch"]["source"] == "news"
    assert {k: v for k, v in full.items() if k not in ("timeline", "events", "client_events", "touches")} == listed


def test_a_hostile_journey_lists_the_same_too():
    record = hostile_journey(NOW)
    row = row_of(record, NOW)
    full, listed = export_journey(row), export_journey(row, timeline=False)
    assert listed["visits"] == full["visits"] and listed["summary"] == full["summary"]
