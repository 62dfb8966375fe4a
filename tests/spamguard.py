"""The spam guard over the browser suites: no human-like flow in a real browser may be filed as spam.

conftest.start_server calls `check` when a browser test ends, for every server the test started:
each journey its promotes filed must score below SPAM_THRESHOLD. Tests that file spam on
purpose say so with `@pytest.mark.spam_expected` and are not checked. LEADTRAIL_SPAM_REPORT=<file>
appends every journey's score and reasons there (test id, journey id, score, reasons), to see the
margins of the human-like flows.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from support import run_store

THRESHOLD = 70  # the default SPAM_THRESHOLD, which the live servers of the suite run with
FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def scored_journeys(database_url: str) -> list[dict]:
    """(id, status, spam_score, spam_reasons) of every journey, newest first."""

    async def work(store):
        rows = await store.fetch(
            "api_journeys_page",
            since=EPOCH,
            any_status=True,
            status="open",
            cursor_at=FAR_FUTURE,
            cursor_id=2**62,
            limit=10_000,
        )
        return [{k: store.journey_out(row)[k] for k in ("id", "status", "spam_score", "spam_reasons")} for row in rows]

    return run_store(database_url, work)


def check(test_id: str, database_url: str) -> list[str]:
    """Problems (empty when none): each journey filed as spam or scored at the threshold."""
    journeys = scored_journeys(database_url)
    report = os.environ.get("LEADTRAIL_SPAM_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as out:
            for j in journeys:
                out.write(json.dumps({"test": test_id, **j}) + "\n")
    return [
        f"journey {j['id']} scored {j['spam_score']} ({'; '.join(j['spam_reasons'] or [])}): "
        "a human-like browser flow filed as spam (a test that files spam on purpose: @pytest.mark.spam_expected)"
        for j in journeys
        if j["status"] == "spam" or (j["spam_score"] or 0) >= THRESHOLD
    ]
