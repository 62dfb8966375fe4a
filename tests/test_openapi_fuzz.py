"""Schema fuzzing of the JSON API (schemathesis strategies from the app's own OpenAPI document, which
openapi.py assembles from contract.py): no 5xx, answers conform to the document, and the document
and the validators agree in both directions: a body the document accepts is answered 2xx and
stored (positive mode), a body it rejects is a 4xx that stores nothing (negative mode)."""

from __future__ import annotations

import sqlite3

import pytest
import schemathesis
from browser import CHROME_UA
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from leadtrail.openapi import DOCUMENT

SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {
    f"{op.method.upper()} {op.path}": op
    for op in (result.ok() for result in SCHEMA.get_all_operations())
    if op.method.upper() == "POST" and op.path.startswith("/api/track")
}
# Ingest operations: a 2xx adds rows (journeys for a promote, events for a track with events).
INGEST = ("POST /api/track", "POST /api/track/promote")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    """One live server on SQLite for every fuzzing example (no rate limit, no random prune)."""
    import conftest

    factory = conftest.start_server.__wrapped__(tmp_path_factory)
    start = next(factory)
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    server = start(f"sqlite:///{db}", env={"LEADTRAIL_RATE_LIMIT": "0", "LEADTRAIL_PRUNE_PROBABILITY": "0"})
    server.db_path = db
    yield server
    next(factory, None)


def _counts(path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        return (
            conn.execute("select count(*) from session_events").fetchone()[0],
            conn.execute("select count(*) from submission_journeys").fetchone()[0],
        )


def test_the_document_is_served_as_written(fuzz_server):
    """GET /openapi.json serves the document the fuzzing is generated from."""
    import json
    import urllib.request

    with urllib.request.urlopen(fuzz_server.url + "/openapi.json") as r:
        assert json.load(r) == json.loads(json.dumps(DOCUMENT))


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_api_never_errors_and_rejects_without_storing(operation, fuzz_server):
    """Every generated request gets a documented answer, never a 5xx, and a rejected one changes no rows."""
    op = OPERATIONS[operation]

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy())
    def check(case):
        before = _counts(fuzz_server.db_path)
        response = case.call(base_url=fuzz_server.url, headers={"User-Agent": CHROME_UA})
        assert response.status_code < 500, response.text
        case.validate_response(response)
        if response.status_code >= 400:
            assert _counts(fuzz_server.db_path) == before

    check()


def _stored_rows(operation: str, body) -> int:
    """Rows a 2xx must add at least: one journey per promote; for a track, one event unless every
    event of the body carries an event_id (then it may repeat one an earlier example stored)."""
    if operation.endswith("/promote"):
        return 1
    events = body["events"] if "events" in body else [body]
    return 0 if all(e.get("event_id") is not None for e in events) else 1


@pytest.mark.parametrize("operation", INGEST)
def test_every_body_the_document_accepts_is_answered_2xx_and_stored(operation, fuzz_server):
    """Positive mode: each request valid under the document is answered 2xx and its rows are committed."""
    op = OPERATIONS[operation]

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy(GenerationMode.POSITIVE))
    def check(case):
        before = _counts(fuzz_server.db_path)
        response = case.call(base_url=fuzz_server.url, headers={"User-Agent": CHROME_UA})
        assert 200 <= response.status_code < 300, (case.body, response.text)
        case.validate_response(response)
        added = sum(_counts(fuzz_server.db_path)) - sum(before)
        assert added >= _stored_rows(operation, case.body), case.body

    check()


@pytest.mark.parametrize("operation", INGEST)
def test_every_body_the_document_rejects_is_a_4xx_that_stores_nothing(operation, fuzz_server):
    """Negative mode: each request the document rejects is answered 4xx, documented, and changes no rows."""
    op = OPERATIONS[operation]

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy(GenerationMode.NEGATIVE))
    def check(case):
        before = _counts(fuzz_server.db_path)
        response = case.call(base_url=fuzz_server.url, headers={"User-Agent": CHROME_UA})
        assert 400 <= response.status_code < 500, (case.body, case.media_type, response.status_code, response.text)
        assert _counts(fuzz_server.db_path) == before

    check()
