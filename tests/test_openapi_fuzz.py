"""Schema fuzzing of the JSON API (schemathesis strategies from the app's own OpenAPI document):
no 5xx, answers conform to the document, and nothing is stored for rejected input."""

from __future__ import annotations

import sqlite3

import pytest
import schemathesis
from browser import CHROME_UA
from hypothesis import HealthCheck, given, settings

from leadtrail.openapi import DOCUMENT

SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {
    f"{op.method.upper()} {op.path}": op
    for op in (result.ok() for result in SCHEMA.get_all_operations())
    if op.method.upper() == "POST"
}


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
