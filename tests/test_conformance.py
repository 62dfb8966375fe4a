"""The OpenAPI document and the validators agree at every limit the document states: a body exactly
at a limit it documents is answered 2xx, one step past it 4xx with nothing stored. The limits are
read from the served document (assembled from contract.py), never retyped here, so a validator
that is stricter or looser than the document fails a test. Random bodies in both directions are in
tests/test_openapi_fuzz.py."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from support import app_client, row_counts

from leadtrail.openapi import DOCUMENT

SCHEMAS = DOCUMENT["components"]["schemas"]
EVENT = SCHEMAS["Event"]["properties"]
PROMOTE = SCHEMAS["PromoteBody"]["properties"]
BATCH = SCHEMAS["TrackBody"]["anyOf"][1]["properties"]["events"]


def _event(**fields: Any) -> dict:
    return {"event_name": "page_view", "page_path": "/", **fields}


def _email(length: int) -> str:
    """An address of exactly `length` characters: the longest local part, then a long domain."""
    return "a" * 64 + "@" + "b" * (length - 64 - 1 - 4) + ".com"


# (name, the documented limit, a body of a given size at that limit, route, stored table index)
Builder = Callable[[int], dict]
CASES: list[tuple[str, int, Builder, str, int]] = [
    ("batch size", BATCH["maxItems"], lambda n: {"events": [_event(event_id=f"b{i}") for i in range(n)]}, "track", 0),
    (
        "params count",
        EVENT["params"]["maxProperties"],
        lambda n: _event(params={f"k{i}": i for i in range(n)}),
        "track",
        0,
    ),
    ("params key", EVENT["params"]["propertyNames"]["maxLength"], lambda n: _event(params={"k" * n: 1}), "track", 0),
    (
        "params value",
        EVENT["params"]["additionalProperties"]["anyOf"][0]["maxLength"],
        lambda n: _event(params={"note": "x" * n}),
        "track",
        0,
    ),
    ("event_id", EVENT["event_id"]["maxLength"], lambda n: _event(event_id="e" * n), "track", 0),
    ("page_path", EVENT["page_path"]["maxLength"], lambda n: _event(page_path="/" + "p" * (n - 1)), "track", 0),
    ("event_name", 64, lambda n: {"event_name": "n" * n}, "track", 0),
    ("form", PROMOTE["form"]["maxLength"], lambda n: {"email": "jo@example.com", "form": "f" * n}, "promote", 1),
    (
        "client_events count",
        PROMOTE["client_events"]["maxItems"],
        lambda n: {"email": "jo@example.com", "client_events": [_event()] * n},
        "promote",
        1,
    ),
    (
        "touches count",
        PROMOTE["touches"]["maxItems"],
        lambda n: {
            "email": "jo@example.com",
            "touches": [{"ts": 1764900000000 + i, "page_path": "/"} for i in range(n)],
        },
        "promote",
        1,
    ),
    ("email length", PROMOTE["email"]["maxLength"], lambda n: {"email": _email(n)}, "promote", 1),
]
ROUTES = {"track": "/api/track", "promote": "/api/track/promote"}


def test_the_event_name_limit_is_the_documented_pattern():
    """The 64 used above for event names is the one the document's pattern states."""
    assert EVENT["event_name"]["pattern"].endswith("{1,64}$")


@pytest.mark.parametrize("name,limit,build,route,table", CASES, ids=[c[0] for c in CASES])
def test_at_the_documented_limit_accepted_one_past_refused(database_url, name, limit, build, route, table):
    """A body at the documented limit is 2xx and stored; one past it is 400 and stores nothing."""
    with app_client(database_url) as client:
        before = row_counts(database_url)
        client.cookies.clear()
        at = client.post(ROUTES[route], content=json.dumps(build(limit)), headers={"Content-Type": "application/json"})
        assert at.status_code in (200, 201, 204), (name, at.text)
        middle = row_counts(database_url)
        assert middle[table] > before[table], name
        client.cookies.clear()
        past = client.post(
            ROUTES[route], content=json.dumps(build(limit + 1)), headers={"Content-Type": "application/json"}
        )
        assert past.status_code == 400, (name, past.status_code, past.text)
        assert row_counts(database_url) == middle, name


# --- /api/v1/: each documented bound and enum, at it and just past it -------------------------
def _query_schema(path: str, name: str) -> dict:
    parameters = DOCUMENT["paths"][path]["get"]["parameters"]
    return next(p["schema"] for p in parameters if p["name"] == name)


OUTCOME = SCHEMAS["OutcomeBody"]["properties"]
LIMIT = _query_schema("/api/v1/journeys", "limit")
# (name, query or body accepted, the same just outside the document)
API_CASES: list[tuple[str, str, dict, dict]] = [
    ("limit at maximum", "/api/v1/journeys", {"limit": LIMIT["maximum"]}, {"limit": LIMIT["maximum"] + 1}),
    ("limit at minimum", "/api/v1/journeys", {"limit": LIMIT["minimum"]}, {"limit": LIMIT["minimum"] - 1}),
    *[
        (f"status {s}", "/api/v1/journeys", {"status": s}, {"status": s.upper()})
        for s in _query_schema("/api/v1/journeys", "status")["enum"]
    ],
    *[
        (f"model {m}", "/api/v1/insights", {"model": m}, {"model": m + "s"})
        for m in _query_schema("/api/v1/insights", "model")["enum"]
    ],
    (
        "outcome value at maximum",
        "outcome",
        {"value": OUTCOME["value"]["maximum"]},
        {"value": OUTCOME["value"]["maximum"] * 1.01},
    ),
    (
        "outcome value at minimum",
        "outcome",
        {"value": OUTCOME["value"]["minimum"]},
        {"value": OUTCOME["value"]["minimum"] - 0.01},
    ),
    (
        "insights first day",
        "/api/v1/insights",
        {"from": "2000-01-01", "to": "2000-01-31"},
        {"from": "1999-12-31", "to": "2000-01-31"},
    ),
    (
        "insights last day",
        "/api/v1/insights",
        {"from": "2099-12-01", "to": "2099-12-31"},
        {"from": "2099-12-01", "to": "2100-01-01"},
    ),
    *[(f"outcome status {s}", "outcome", {"status": s}, {"status": s + "x"}) for s in OUTCOME["status"]["enum"]],
]


def _token(database_url: str) -> str:
    from datetime import UTC, datetime

    from support import run_store

    from leadtrail.tokens import create_token

    return run_store(database_url, lambda store: create_token(store, "conformance", datetime.now(UTC)))


@pytest.mark.parametrize("name,route,accepted,refused", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_v1_at_each_documented_bound_accepted_past_it_refused(database_url, name, route, accepted, refused):
    """/api/v1/: a query or outcome at a documented bound (or each enum member) is 200 (an outcome stored);
    just outside it is 400 and changes nothing."""
    token = _token(database_url)
    auth = {"Authorization": f"Bearer {token}"}
    with app_client(database_url) as client:
        if route != "outcome":
            assert client.get(route, params=accepted, headers=auth).status_code == 200, name
            past = client.get(route, params=refused, headers=auth)
            assert past.status_code == 400 and past.json()["details"], (name, past.text)
            return
        promoted = client.post("/api/track/promote", json={"email": "jo@example.com"})
        journey = promoted.json()["journey_id"]
        at = client.post(f"/api/v1/journeys/{journey}/outcome", json={"status": "won", **accepted}, headers=auth)
        assert at.status_code == 200, (name, at.text)
        assert {k: at.json()[k] for k in accepted} == accepted, name
        before = client.get(f"/api/v1/journeys/{journey}", headers=auth).json()
        past = client.post(f"/api/v1/journeys/{journey}/outcome", json={"status": "won", **refused}, headers=auth)
        assert past.status_code == 400 and past.json()["details"], (name, past.text)
        assert client.get(f"/api/v1/journeys/{journey}", headers=auth).json() == before, name


def test_the_insights_days_above_are_the_documented_ones():
    """The first and last days used above are inside the document's day pattern, their neighbours outside."""
    pattern = re.compile(_query_schema("/api/v1/insights", "from")["pattern"])
    assert pattern.search("2000-01-01") and pattern.search("2099-12-31")
    assert not pattern.search("1999-12-31") and not pattern.search("2100-01-01")
