"""The OpenAPI document and the validators agree at every limit the document states: a body exactly
at a limit it documents is answered 2xx, one step past it 4xx with nothing stored. The limits are
read from the served document (assembled from contract.py), never retyped here, so a validator
that is stricter or looser than the document fails a test. Random bodies in both directions are in
tests/test_openapi_fuzz.py."""

from __future__ import annotations

import json
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
