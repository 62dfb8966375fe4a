"""Schema fuzzing of the JSON API (schemathesis strategies from the app's own OpenAPI document, which
openapi.py assembles from contract.py): no 5xx, answers conform to the document, and the document
and the validators agree in both directions: a body the document accepts is answered 2xx and
stored (positive mode), a body it rejects is a 4xx that stores nothing (negative mode). The same
two modes run over /api/v1/ with a bearer token."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest
import schemathesis
from browser import CHROME_UA
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode, checks

from leadtrail.openapi import DOCUMENT

SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
ALL_OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in SCHEMA.get_all_operations())}
OPERATIONS = {name: op for name, op in ALL_OPERATIONS.items() if name.startswith("POST /api/track")}
API = sorted(name for name in ALL_OPERATIONS if " /api/v1/" in name)
# Ingest operations: a 2xx adds rows (journeys for a promote, events for a track with events).
INGEST = ("POST /api/track", "POST /api/track/promote")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, request):
    """One live server on SQLite for every fuzzing example (no rate limit, no random prune)."""
    import conftest

    # The function-scoped fixture's generator, driven by hand so one server serves the whole module.
    factory = conftest.start_server.__wrapped__(tmp_path_factory, request)
    start = next(factory)
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    server = start(f"sqlite:///{db}", env={"LEADTRAIL_RATE_LIMIT": "0", "LEADTRAIL_PRUNE_PROBABILITY": "0"})
    server.db_path = db
    server.token = _make_token(db, conftest.TEST_SECRET_KEY)
    yield server
    next(factory, None)


def _make_token(db, secret: str) -> str:
    from click.testing import CliRunner

    from leadtrail.cli import main

    env = {"LEADTRAIL_SECRET_KEY": secret, "LEADTRAIL_DATABASE_URL": f"sqlite:///{db}"}
    result = CliRunner().invoke(main, ["token", "create", "fuzz"], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _sends_nothing(value) -> bool:
    return isinstance(value, list) and all(_sends_nothing(item) for item in value)


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


def _journeys(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("select id, status, value from submission_journeys order by id").fetchall()


def _seed_journeys(server, count: int = 3) -> None:
    """A few journeys, so that generated ids (small ones first) find one."""
    import httpx

    for i in range(count):
        r = httpx.post(
            server.url + "/api/track/promote",
            json={"email": f"seed{i}@example.com"},
            headers={"User-Agent": CHROME_UA},
            cookies={},
        )
        assert r.status_code in (200, 201), r.text


def _auth(case, token: str) -> dict[str, str]:
    """A browser UA, and the real token in place of the generated one, unless the generated
    Authorization header is the part negative mode made invalid (then it is sent as generated: 401)."""
    modes = {location.value: info.mode for location, info in (case.meta.components if case.meta else {}).items()}
    if modes.get("header") is GenerationMode.NEGATIVE:
        return {"User-Agent": CHROME_UA}
    return {"User-Agent": CHROME_UA, "Authorization": f"Bearer {token}"}


def _cross_field(operation: str, case, response) -> bool:
    """The rules a JSON Schema of single parameters cannot state, each refused with a 400 that names it:
    an opaque cursor that is not one the server made, a from after to, a range over ten years."""
    if response.status_code != 400:
        return False
    details = response.json()["details"]
    query = case.query or {}
    if operation == "GET /api/v1/journeys" and "cursor" in query:
        return details == ["cursor: use next_cursor from the previous page as it is"]
    if operation == "GET /api/v1/insights" and "from" in query:
        # to defaults to today in TIMEZONE: a day either side of today in UTC.
        first, today = date.fromisoformat(query["from"]), datetime.now(UTC).date()
        lasts = [date.fromisoformat(query["to"])] if "to" in query else [today + timedelta(days=d) for d in (-1, 0, 1)]
        broken = any(first > last or (last - first).days > 3660 for last in lasts)
        return broken and len(details) == 1 and details[0].startswith("from: ")
    return False


@pytest.mark.parametrize("operation", API)
def test_every_api_request_the_document_accepts_is_answered(operation, fuzz_server):
    """Positive mode on /api/v1/: a valid request is 200 (404 only for a journey id not stored, 400 only
    for a rule between parameters the schema cannot state), conforms to the document, and an outcome
    set is stored."""
    op = ALL_OPERATIONS[operation]
    if not _journeys(fuzz_server.db_path):
        _seed_journeys(fuzz_server)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy(GenerationMode.POSITIVE))
    def check(case):
        stored = {row[0] for row in _journeys(fuzz_server.db_path)}
        response = case.call(base_url=fuzz_server.url, headers=_auth(case, fuzz_server.token))
        journey_id = (case.path_parameters or {}).get("id")
        if response.status_code == 404 and journey_id is not None:
            assert journey_id not in stored, (case.path_parameters, response.text)
        elif not _cross_field(operation, case, response):
            assert response.status_code == 200, (case.path_parameters, case.query, case.body, response.text)
        # Acceptance is asserted above, with its documented exceptions; the rest of the checks apply.
        case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])
        if operation.endswith("/outcome") and response.status_code == 200:
            row = next(r for r in _journeys(fuzz_server.db_path) if r[0] == journey_id)
            value = case.body.get("value")
            assert row[1] == case.body["status"], (row, case.body)
            assert (row[2] is None) == (value is None) and (value is None or abs(row[2] - round(value, 2)) < 1e-6)

    check()


@pytest.mark.parametrize("operation", API)
def test_every_api_request_the_document_rejects_is_a_4xx_that_changes_nothing(operation, fuzz_server):
    """Negative mode on /api/v1/: a request the document rejects is answered 4xx and changes no journey."""
    op = ALL_OPERATIONS[operation]
    if not _journeys(fuzz_server.db_path):
        _seed_journeys(fuzz_server)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy(GenerationMode.NEGATIVE))
    def check(case):
        # A parameter whose negative value is an empty list (or a list of empty lists) is sent as
        # nothing at all: that request is the valid one, not a negative case.
        assume(not any(_sends_nothing(value) for value in (case.query or {}).values()))
        before = _journeys(fuzz_server.db_path)
        response = case.call(base_url=fuzz_server.url, headers=_auth(case, fuzz_server.token))
        assert 400 <= response.status_code < 500, (
            case.path_parameters,
            case.query,
            case.body,
            case.media_type,
            response.status_code,
            response.text,
        )
        assert _journeys(fuzz_server.db_path) == before

    check()
