"""Hostile input against every route added in leadtrail 0.2, on both databases, as an outside
tester would send it: the /api/v1/ journeys list (since, status, limit, cursor), one journey, its
outcome, insights (from, to, model); the receipt page, its removal button and the tracker's
receipt lookup; the Google Ads and Meta files (?since=); the dashboard's outcome form (the spam
list's move-back included), list and insights filters; invites (made and accepted); the promote's
touches and honeypot.

Each parameter or field gets: empty, 100 KB (8 KB in a URL: httpx refuses a URL over 64 KiB and
servers cut a request line long before), NUL and control characters, invalid UTF-8 and lone
surrogates as percent-encodings (%ff, %ed%a0%80), repeated parameters, arrays and objects where
a scalar belongs, 1e309, NaN, Infinity, -0, 0x10, full-width and superscript digits, 2**64,
10**400 and 5,000-digit numbers, impossible or far days (2026-02-30, +002026-01-01, 0000-01-01,
99999-01-01, 9999-12-31 in a zone 14 hours from UTC), tampered cursors, receipts and tokens, Bearer
header variants, methods a route does not take, wrong Content-Types, bodies that are not JSON,
JSON with duplicate keys or nested 5,000 deep. Hypothesis adds a bounded number of generated
bodies, queries and form fields.

What every case asserts: never a 5xx (the TestClient raises the server's exception, so an
unhandled one fails here with its traceback); a refusal is a 4xx that says why (a JSON problem
{"error", "details"} under /api/, a page or line of text elsewhere); and a refused request changed
nothing: the rows of journeys, events, accounts, sessions, invites, tokens, e-mails and setup
tokens are the same before and after it (login attempts are left out: guesses at invite links
are counted on purpose; so are the clock columns a request may touch: a session's seen_at, a
token's last use).

The failing cases that were bugs are marked "was a 500" where they are listed.
"""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from support import app_client, run_store
from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD, csrf_from, login, save, simple_journey

from leadtrail import contract, outcomes, tokens
from leadtrail.accounts import team
from leadtrail.accounts.users import create_user, find_owner
from leadtrail.routes.api_v1 import encode_cursor

NOW = datetime.now(UTC)
# 14 hours east of UTC: a far day's local midnight falls outside what datetime holds here first.
TIMEZONE = "Pacific/Kiritimati"
LONG = "x" * 100_000
LONG_URL = "x" * 8_000
HUGE = "9" * 5_000  # more digits than int() reads (4,300)

# Values for a text parameter or field, as they are typed (quoted when sent in a URL).
TEXTS = [
    "",
    " ",
    LONG_URL,
    "\x00",
    "\x01\x1f\x7f",
    "a\x00b",
    "1e309",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "0x10",
    "１２",  # full-width digits
    "²",  # a digit to str.isdigit(), not to int()
    "٣",  # Arabic-Indic three
    str(2**64),
    str(10**400),
    HUGE,
    "-1",
    "+1",
    "1_0",
    "2026-02-30",
    "+002026-01-01",
    "99999-01-01",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2026-13-01",
    "2026-1-1",
    "20260101",
    "2026-W01-1",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "<script>alert(1)</script>",
    "' or 1=1 --",
    "%",
    "_",
]
JSON = {"Content-Type": "application/json"}
# Sent as they are: percent-encodings a browser or a fuzzer may put in a URL.
RAW_ENCODED = ["%ff", "%ed%a0%80", "%c0%af", "%00", "%0d%0a", "%25", "%2e%2e%2f", "%C2%B2"]


def _q(value: str) -> str:
    return quote(value, safe="")


def query_values() -> list[tuple[str, str]]:
    """(id, encoded value) of every hostile query value."""
    cases = [(f"text{i}", _q(v)) for i, v in enumerate(TEXTS)]
    return cases + [(f"raw{i}", v) for i, v in enumerate(RAW_ENCODED)]


QUERY_VALUES = query_values()


# -- the site: one app and database per module and database kind ------------------------------------


class Tables:
    """The rows a refused request must leave alone, read with a connection of the test's own."""

    TABLES = {
        "submission_journeys": (),
        "session_events": (),
        "cp_owners": (),
        "cp_sessions": ("seen_at", "expires_at"),
        "cp_invites": (),
        "api_tokens": ("last_used_at",),
        "email_outbox": (),
        "cp_setup_tokens": (),
    }

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.sqlite = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False)
            self.sqlite.row_factory = sqlite3.Row
        else:
            import asyncpg

            self.loop = asyncio.new_event_loop()
            self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
            self.thread.start()
            self.pg = self._run(asyncpg.connect(url))

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def _rows(self, table: str) -> list[dict[str, Any]]:
        if self.url.startswith("sqlite"):
            return [dict(row) for row in self.sqlite.execute(f"select * from {table}")]
        return [dict(row) for row in self._run(self.pg.fetch(f"select * from {table}"))]

    def snapshot(self) -> dict[str, list[str]]:
        out = {}
        for table, volatile in self.TABLES.items():
            rows = [{k: v for k, v in row.items() if k not in volatile} for row in self._rows(table)]
            out[table] = sorted(repr(sorted(row.items())) for row in rows)
        return out

    def close(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite.close()
        else:
            self._run(self.pg.close())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


class Site:
    """The app (TestClient signed in as the owner), what it holds, and the tables to compare."""

    def __init__(self, client: TestClient, tables: Tables, **known: Any) -> None:
        self.client = client
        self.tables = tables
        self.token: str = known["token"]
        self.journey: int = known["journey"]
        self.spam_journey: int = known["spam_journey"]
        self.receipt: str = known["receipt"]
        self.invite: str = known["invite"]
        self.csrf = csrf_from(client.get(f"/cp/journeys/{self.journey}").text)

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def send(self, method: str, url: str, client: Any = None, **kwargs: Any):
        """The request, checked: no 5xx; a 4xx says why and changed nothing."""
        before = self.tables.snapshot()
        r = (client or self.client).request(method, url, **kwargs)
        assert r.status_code < 500, f"{method} {url[:200]}: {r.status_code} {r.text[:300]}"
        if 400 <= r.status_code < 500:
            explained(url, r)
            after = self.tables.snapshot()
            changed = [t for t in before if before[t] != after[t]]
            assert not changed, f"{method} {url[:200]} was refused ({r.status_code}) but changed {changed}"
        return r


def explained(url: str, r) -> None:
    """A refusal says why: a JSON problem from the API (and from any route answering JSON), some
    words elsewhere (the receipt's pages are HTML under /api/track/)."""
    if url.startswith("/api/v1/") or r.headers.get("content-type", "").startswith("application/json"):
        assert r.headers["content-type"].startswith("application/json"), r.text[:200]
        problem = r.json()
        assert isinstance(problem["error"], str) and problem["error"], problem
        assert isinstance(problem["details"], list), problem
    else:
        assert re.search(r"[A-Za-z]{3,} [A-Za-z]{2,}", r.text), (
            f"{url[:100]}: {r.status_code} says nothing: {r.text[:200]}"
        )


def _databases() -> list:
    from conftest import _skip_postgres, _skip_sqlite

    return [pytest.param("sqlite", marks=_skip_sqlite), pytest.param("postgres", marks=_skip_postgres)]


@pytest.fixture(scope="module", params=_databases())
def site(request, tmp_path_factory) -> Iterator[Site]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile')}/leadtrail.db"
        drop = None
    else:
        pg_server = request.getfixturevalue("pg_server")
        pg_server.start()
        name = f"t_{uuid.uuid4().hex}"
        url = pg_server.create_database(name)
        drop = (pg_server, name)

    async def seed(store):
        await create_user(store, OWNER_EMAIL, OWNER_PASSWORD)
        journey = await save(store, simple_journey("a@example.com", NOW - timedelta(hours=2)))
        spam = await save(store, simple_journey("b@example.com", NOW - timedelta(hours=1)))
        async with store.transaction() as tx:
            await outcomes.set_outcome(tx, spam, outcomes.Outcome("spam", None), "USD")
        token = await tokens.create_token(store, "hostile", NOW)
        owner = await find_owner(store, OWNER_EMAIL)
        invite = await team.create_invite(store, owner, "new.member@example.com", "viewer")
        return journey, spam, token, invite.token

    journey, spam, token, invite = run_store(url, seed)
    tables = Tables(url)
    try:
        with app_client(url, timezone=TIMEZONE) as client:
            client.post("/api/track", json={"event_name": "page_view", "page_path": "/prices", "params": {}})
            answer = client.post("/api/track/promote", json={"email": "jo@example.com", "form": "booking"})
            assert answer.status_code == 201, answer.text
            assert login(client).status_code == 303
            yield Site(
                client,
                tables,
                token=token,
                journey=journey,
                spam_journey=spam,
                receipt=answer.json()["receipt_url"],
                invite=invite,
            )
    finally:
        tables.close()
        if drop:
            drop[0].drop_database(drop[1])


class Guest:
    """Another browser on the same app: the site's client with a cookie jar of its own for each
    request (no session). A second TestClient would run its requests on an event loop of its own,
    where the PostgreSQL pool, made on the app's loop, cannot be used."""

    def __init__(self, site: Site) -> None:
        self.client = site.client
        self.cookies = type(site.client.cookies)()  # the TestClient's own kind of jar

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        saved = self.client.cookies
        self.client.cookies = self.cookies
        try:
            return self.client.request(method, url, **kwargs)
        finally:
            self.cookies = self.client.cookies
            self.client.cookies = saved

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)


def guest(site: Site) -> Guest:
    return Guest(site)


# -- /api/v1/journeys: since, status, limit, cursor --------------------------------------------------


@pytest.mark.parametrize("name", ["since", "status", "limit", "cursor"])
@pytest.mark.parametrize("value", [v for _, v in QUERY_VALUES], ids=[i for i, _ in QUERY_VALUES])
def test_journeys_list_parameters(site, name, value):
    """Every hostile value of every parameter, alone and repeated: 200, or a 400 naming it.
    Was a 500: limit=² (str.isdigit, then int() refused it) and a 5,000-digit limit."""
    for url in (f"/api/v1/journeys?{name}={value}", f"/api/v1/journeys?{name}=1&{name}={value}"):
        r = site.send("GET", url, headers=site.bearer())
        assert r.status_code in (200, 400), r.text
        if r.status_code == 400:
            assert r.json()["details"][0].startswith(f"{name}:"), r.text


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/journeys?limit=0",
        "/api/v1/journeys?limit=101",
        "/api/v1/journeys?limit=１２",
        "/api/v1/journeys?limit=%C2%B2",  # was a 500
        f"/api/v1/journeys?limit={HUGE}",  # was a 500
        "/api/v1/journeys?limit=1e1",
        "/api/v1/journeys?limit=%2B5",
        "/api/v1/journeys?limit=-0",
        "/api/v1/journeys?status=WON",
        "/api/v1/journeys?status=won%00",
        "/api/v1/journeys?since=2026-02-30",
        "/api/v1/journeys?since=%2B002026-01-01",
        "/api/v1/journeys?since=0001-01-01T00:00:00%2B14:00",
        "/api/v1/journeys?since[]=2026-01-01",
        "/api/v1/journeys?status[0]=won",
        "/api/v1/journeys?limit[a]=1",
        "/api/v1/journeys?extra=1",
    ],
)
def test_journeys_list_refusals(site, url):
    """What the contract refuses is a 400 whose first detail names the parameter."""
    r = site.send("GET", url, headers=site.bearer())
    assert r.status_code == 400, r.text
    name = re.match(r"/api/v1/journeys\?([a-z]+)", url).group(1)  # type: ignore[union-attr]
    assert r.json()["details"][0].startswith(name), r.text


def _b64(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!",
        "",
        "=",
        "a",
        _b64(b"\xff\xfe\xfd"),
        _b64(b"no bar here"),
        _b64(b"2026-01-01T00:00:00|"),
        _b64(b"2026-01-01T00:00:00|-5"),
        _b64(b"2026-01-01T00:00:00|0"),
        _b64(b"2026-01-01T00:00:00|+5"),
        _b64(b"2026-01-01T00:00:00| 5"),
        _b64(b"2026-01-01T00:00:00|1_0"),
        _b64("2026-01-01T00:00:00|１２".encode()),
        _b64("2026-01-01T00:00:00|²".encode()),
        _b64(b"2026-01-01T00:00:00|" + str(2**64).encode()),  # was a 500 (int64 overflow in the query)
        _b64(b"2026-01-01T00:00:00|" + str(10**30).encode()),  # was a 500
        _b64(b"2026-01-01T00:00:00|" + HUGE.encode()),
        _b64(b"0000-01-01|5"),
        _b64(b"2026-02-30T00:00:00|5"),
        _b64(b"0001-01-01T00:00:00+14:00|5"),
        _b64(b"9999-12-31T23:59:59-14:00|5"),
        _b64(b"2026-01-01T00:00:00\x00|5"),
        _b64(LONG.encode())[:8000],
        "%ff",
    ],
)
def test_tampered_cursors_are_400(site, cursor):
    """A cursor that is not one the API gave is a 400 naming `cursor`, never a 500."""
    r = site.send("GET", f"/api/v1/journeys?cursor={cursor}", headers=site.bearer())
    assert r.status_code == 400, r.text
    assert r.json()["details"][0].startswith("cursor:")


def test_a_cursor_of_another_listing_or_journey_pages_from_there(site):
    """A well-formed cursor naming another journey, a negative-free far future or a far past is a
    place in the list, not an error: 200 with the journeys older than it."""
    for at, journey_id in (
        (NOW.isoformat(), site.journey),
        ((NOW - timedelta(days=3)).isoformat(), site.spam_journey),
        ("9999-12-31T00:00:00+00:00", contract.MAX_ID),
        ("2000-01-01T00:00:00+00:00", 1),
    ):
        r = site.send(
            "GET", f"/api/v1/journeys?status=open&cursor={encode_cursor(at, journey_id)}", headers=site.bearer()
        )
        assert r.status_code == 200, r.text


@given(
    st.dictionaries(
        st.sampled_from(["since", "status", "limit", "cursor", "from", "model", "Since", "limit[]"]),
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
        max_size=4,
    )
)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_generated_journeys_queries(site, params):
    """Generated queries: 200, or a 400 whose details name parameters of the query."""
    query = "&".join(f"{_q(k)}={_q(v)}" for k, v in params.items())
    r = site.send("GET", f"/api/v1/journeys?{query}", headers=site.bearer())
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert all(detail.split(":")[0] in params for detail in r.json()["details"]), r.text


# -- /api/v1/journeys/{id} and its outcome -----------------------------------------------------------


ID_PATHS = [
    "0",
    "-1",
    "-0",
    "00",
    "0x10",
    "1e3",
    "%C2%B2",  # was a 500 ('²'.isdigit(), int('²') a ValueError)
    "%EF%BC%91",  # full-width 1
    str(2**64),
    str(10**400),
    HUGE,  # was a 500 (int() of 5,000 digits)
    "%00",
    "%ff",
    "%ed%a0%80",
    "1%00",
    "1.0",
    "+1",
    LONG_URL,
]


@pytest.mark.parametrize("raw", ID_PATHS, ids=range(len(ID_PATHS)))
def test_journey_ids_that_are_no_journey_are_404(site, raw):
    """GET /api/v1/journeys/{id} and POST its outcome with an id that names no journey: 404 JSON."""
    r = site.send("GET", f"/api/v1/journeys/{raw}", headers=site.bearer())
    assert r.status_code == 404, r.text
    r = site.send("POST", f"/api/v1/journeys/{raw}/outcome", headers=site.bearer(), json={"status": "won"})
    assert r.status_code == 404, r.text


OUTCOME_BODIES: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("space", b" "),
    ("not json", b"status=won"),
    ("null", b"null"),
    ("array", b'["won"]'),
    ("string", b'"won"'),
    ("number", b"1"),
    ("empty object", b"{}"),
    ("1e309", b'{"status": "won", "value": 1e309}'),
    ("-1e309", b'{"status": "won", "value": -1e309}'),
    ("NaN", b'{"status": "won", "value": NaN}'),
    ("Infinity", b'{"status": "won", "value": Infinity}'),
    ("2**64", b'{"status": "won", "value": 18446744073709551616}'),
    ("10**400", b'{"status": "won", "value": 1' + b"0" * 400 + b"}"),
    ("0x10", b'{"status": "won", "value": 0x10}'),
    ("string value", b'{"status": "won", "value": "12"}'),
    ("full-width value", '{"status": "won", "value": "１２"}'.encode()),
    ("negative", b'{"status": "won", "value": -0.01}'),
    ("too much", b'{"status": "won", "value": 1000000000000.01}'),
    ("bool value", b'{"status": "won", "value": true}'),
    ("object value", b'{"status": "won", "value": {"amount": 1}}'),
    ("array value", b'{"status": "won", "value": [1]}'),
    ("object status", b'{"status": {"won": true}}'),
    ("array status", b'{"status": ["won"]}'),
    ("upper status", b'{"status": "WON"}'),
    ("NUL status", b'{"status": "won\\u0000"}'),
    ("raw NUL", b'{"status": "won\x00"}'),
    ("lone surrogate", b'{"status": "\\ud800"}'),
    ("surrogate key", b'{"\\udfff": 1, "status": "won"}'),
    ("invalid UTF-8", b'{"status": "\xff\xfe"}'),
    ("CESU surrogate", b'{"status": "\xed\xa0\x80"}'),
    ("duplicate keys", b'{"status": "won", "status": "lost"}'),
    ("duplicate value", b'{"status": "won", "value": 1, "value": 2}'),
    ("unknown key", b'{"status": "won", "vaule": 10}'),
    ("long key", b'{"status": "won", "' + b"k" * 10_000 + b'": 1}'),
    ("deep", b'{"status": "won", "value": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("deep objects", b'{"a":' * 3000 + b"1" + b"}" * 3000),
    ("trailing garbage", b'{"status": "won"} x'),
    ("two documents", b'{"status": "won"}{"status": "lost"}'),
    ("comment", b'{"status": "won" /* hi */}'),
    ("single quotes", b"{'status': 'won'}"),
    ("too large", b'{"status": "won", "pad": "' + LONG.encode() + b'"}'),
]


@pytest.mark.parametrize("body", [b for _, b in OUTCOME_BODIES], ids=[n for n, _ in OUTCOME_BODIES])
def test_bad_outcome_bodies_are_refused(site, body):
    """Each bad body is a 400 (413 when too large), and the journey keeps its status and value."""
    r = site.send(
        "POST",
        f"/api/v1/journeys/{site.journey}/outcome",
        headers={**site.bearer(), "Content-Type": "application/json"},
        content=body,
    )
    assert r.status_code in (400, 413), r.text


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "application/json-patch+json",
        "text/json",
        "application/json\x7f",
    ],
)
def test_outcomes_in_another_content_type_are_415(site, content_type):
    """An outcome sent as anything but application/json: 415 JSON, nothing changed."""
    headers = {**site.bearer(), "Content-Type": content_type}
    r = site.send("POST", f"/api/v1/journeys/{site.journey}/outcome", headers=headers, content=b'{"status": "won"}')
    assert r.status_code == 415, r.text


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )
    | st.fixed_dictionaries(
        {"status": st.sampled_from([*contract.STATUSES, "", "Won", "closed"]) | st.integers()},
        optional={"value": st.none() | st.floats() | st.integers() | st.text(max_size=8), "note": st.text(max_size=8)},
    )
)
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_generated_outcome_bodies(site, doc):
    """Generated JSON: a 400 that changes nothing, or, for exactly the bodies parse_outcome takes, a
    200 with the status and value sent."""
    try:
        body = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return
    headers = {**site.bearer(), "Content-Type": "application/json"}
    r = site.send("POST", f"/api/v1/journeys/{site.journey}/outcome", headers=headers, content=body)
    try:
        expected = outcomes.parse_outcome(orjson.loads(body))
    except outcomes.OutcomeError:
        assert r.status_code == 400, r.text
        return
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["value"]) == tuple(expected)


# -- Bearer tokens -----------------------------------------------------------------------------------


def _headers_for(site: Site) -> list[tuple[str, bytes | None]]:
    t = site.token
    return [
        ("none", None),
        ("empty", b""),
        ("scheme only", b"Bearer"),
        ("scheme and space", b"Bearer "),
        ("no space", f"Bearer{t}".encode()),
        ("two tokens", f"Bearer {t} {t}".encode()),
        ("two tokens, comma", f"Bearer {t}, Bearer {t}".encode()),
        ("upper-cased token", f"Bearer {t.upper()}".encode()),
        ("lower-cased token", f"Bearer {t.lower()}".encode()),
        ("wrong prefix", f"Bearer xx_{t[3:]}".encode()),
        ("no prefix", f"Bearer {t[3:]}".encode()),
        ("short", f"Bearer {t[:-1]}".encode()),
        ("long", f"Bearer {t}a".encode()),
        ("100 KB", ("Bearer lt_" + LONG).encode()),
        ("NUL", f"Bearer {t}\x00".encode()),
        ("latin-1", b"Bearer lt_\xe9" + b"a" * 42),
        ("UTF-8", "Bearer lt_é".encode() + b"a" * 41),
        ("Basic", b"Basic " + base64.b64encode(f"x:{t}".encode())),
        ("Token scheme", f"Token {t}".encode()),
        ("quoted", f'Bearer "{t}"'.encode()),
        ("query-style", f"access_token={t}".encode()),
        ("bare token", t.encode()),
        ("revoked-looking", b"Bearer lt_" + b"A" * 43),
    ]


def test_authorization_header_variants(site):
    """Every variant but the token itself is a 401 JSON error with WWW-Authenticate; the scheme's
    case and extra spaces around the token are tolerated (RFC 9110: the scheme is case-insensitive)."""
    for name, value in _headers_for(site):
        headers = {} if value is None else {"Authorization": value}
        for method, url in (
            ("GET", "/api/v1/journeys"),
            ("GET", "/api/v1/insights"),
            ("POST", f"/api/v1/journeys/{site.journey}/outcome"),
        ):
            r = site.send(method, url, client=guest(site), headers=headers, json={"status": "lost"})
            assert r.status_code == 401, (name, r.text)
            assert "Bearer" in r.headers["www-authenticate"], name
    for value in (f"bearer {site.token}", f"BEARER {site.token}", f"Bearer  {site.token} ", f"Bearer\t{site.token}"):
        r = site.send("GET", "/api/v1/journeys?limit=1", client=guest(site), headers={"Authorization": value})
        assert r.status_code in (200, 401), value


# -- /api/v1/insights: from, to, model ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["from", "to", "model"])
@pytest.mark.parametrize("value", [v for _, v in QUERY_VALUES], ids=[i for i, _ in QUERY_VALUES])
def test_insights_parameters(site, name, value):
    """Every hostile value, alone and repeated: 200, or a 400 naming the parameter."""
    for url in (f"/api/v1/insights?{name}={value}", f"/api/v1/insights?{name}=2026-01-01&{name}={value}"):
        r = site.send("GET", url, headers=site.bearer())
        assert r.status_code in (200, 400), r.text
        if r.status_code == 400:
            assert r.json()["details"][0].startswith(f"{name}:"), r.text


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-02-30",
        "from=%2B002026-01-01",
        "from=99999-01-01",
        "from=0000-01-01",
        "from=0001-01-01",
        "to=9999-12-31",
        "from=1999-12-31",
        "to=2100-01-01",
        "from=２０２６-01-01",
        "from=2026-01-01T00:00:00",
        "from=2026-01-01%00",
        "from=2026-06-01&to=2026-05-01",
        "from=2000-01-01&to=2099-12-31",
        "model=LAST_TOUCH",
        "model=linear",
        "model[]=last_touch",
    ],
)
def test_insights_refusals(site, query):
    """Days outside 2000-2099, impossible or badly written days, a reversed or over-ten-year range and an
    unknown model are each a 400 naming the parameter."""
    r = site.send("GET", f"/api/v1/insights?{query}", headers=site.bearer())
    assert r.status_code == 400, r.text
    assert r.json()["details"][0].split(":")[0] in ("from", "to", "model", "model[]"), r.text


# -- methods a route does not take --------------------------------------------------------------------


def _routes(site: Site) -> list[tuple[str, list[str]]]:
    j = site.journey
    return [
        ("/api/v1/journeys", ["GET"]),
        (f"/api/v1/journeys/{j}", ["GET"]),
        (f"/api/v1/journeys/{j}/outcome", ["POST"]),
        ("/api/v1/insights", ["GET"]),
        ("/api/track/receipt/latest", ["GET"]),
        ("/api/track/receipt.css", ["GET", "HEAD"]),
        ("/api/track/receipt", ["POST", "OPTIONS"]),
        (site.receipt, ["GET", "HEAD", "POST"]),
        ("/cp/export/google-ads.csv", ["GET"]),
        ("/cp/export/meta.csv", ["GET"]),
        (f"/cp/journeys/{j}/outcome", ["POST"]),
        (f"/cp/invite/{site.invite}", ["GET", "HEAD", "POST"]),
        ("/cp/account/invites", ["POST"]),
        ("/cp/insights", ["GET", "HEAD"]),
    ]


def test_methods_a_route_does_not_take_are_405(site):
    """PUT, PATCH, DELETE and the rest on each 0.2 route: 405 (a JSON problem under /api/), nothing
    changed; under /cp/ the catch-all may answer a GET-only path's POST with its 404 page."""
    for url, allowed in _routes(site):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"):
            if method in allowed or (method == "OPTIONS" and url.startswith("/cp/")):
                continue
            r = site.send(method, url, headers=site.bearer(), content=b'{"status": "won"}')
            if url.startswith("/api/track/receipt/"):  # POST .../latest is a receipt that does not exist
                assert r.status_code in (404, 405), (method, url, r.status_code)
            elif url.startswith("/api/"):
                allowed_answers = (401, 405) if method == "OPTIONS" else (405,)
                assert r.status_code in allowed_answers, (method, url, r.text)
            else:
                assert r.status_code in (403, 404, 405), (method, url, r.status_code)


# -- the receipt --------------------------------------------------------------------------------------


RECEIPT_TOKENS = [
    "",
    "nonsense",
    "1",
    "1.",
    ".0123456789abcdef0123456789abcdef",
    "0.0123456789abcdef0123456789abcdef",
    "-1.0123456789abcdef0123456789abcdef",
    "%C2%B2.0123456789abcdef0123456789abcdef",  # was a 500 ('²'.isdigit(), int('²'))
    "1.%C2%B2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "1." + "%C3%A9" * 32,  # was a 500 (hmac.compare_digest of non-ASCII text)
    "1." + "%EF%BD%81" * 32,  # full-width a's: was a 500
    "1.ABCDEF0123456789ABCDEF0123456789",
    "1.0123456789abcdef0123456789abcdeg",
    f"{2**64}.0123456789abcdef0123456789abcdef",
    f"{HUGE}.0123456789abcdef0123456789abcdef",
    "1%00.0123456789abcdef0123456789abcdef",
    "%ff.%ed%a0%80",
    LONG_URL,
    "latest.css",
]


@pytest.mark.parametrize("token", RECEIPT_TOKENS, ids=range(len(RECEIPT_TOKENS)))
def test_unknown_and_tampered_receipts_are_404(site, token):
    """GET and POST (the removal button) of a receipt that is not one: a 404 page, nothing removed."""
    for method in ("GET", "POST"):
        r = site.send(method, f"/api/track/receipt/{token}", client=guest(site), data={"token": "0" * 32})
        if token:
            assert r.status_code == 404, (method, r.status_code)
        else:  # /api/track/receipt/: the tracker's lookup (POST, after a redirect to its path), else no route
            assert r.status_code in (200, 404, 405), (method, r.status_code)
        assert "<script" not in r.text


def test_receipt_signatures_in_other_cases_or_of_other_journeys_are_404(site):
    journey_id, sig = site.receipt.rsplit("/", 1)[1].split(".")
    for token in (
        f"{journey_id}.{sig.upper()}",
        f"{int(journey_id) + 1}.{sig}",
        f"0{journey_id}.{sig}",
        f"{site.journey}.{sig}",
        f"{journey_id}.{sig[:-1]}",
        f"{journey_id}.{sig}0",
        f"{journey_id}..{sig}",
    ):
        r = site.send("GET", f"/api/track/receipt/{token}", client=guest(site))
        assert r.status_code == 404, token


REMOVAL_FORMS: list[tuple[str, dict[str, Any]]] = [
    ("no token", {"data": {}}),
    ("empty token", {"data": {"token": ""}}),
    ("wrong token", {"data": {"token": "0" * 32}}),
    ("upper-case", {"data": {"token": "A" * 32}}),
    ("non-ASCII token", {"data": {"token": "é" * 32}}),  # was a 500 (hmac.compare_digest)
    ("full-width token", {"data": {"token": "ａ" * 32}}),  # was a 500
    ("NUL token", {"data": {"token": "\x00" * 32}}),
    ("long token", {"data": {"token": LONG}}),
    (
        "%ff",
        {"content": b"token=%ff%fe", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ),  # was a 500
    ("%ed%a0%80", {"content": b"token=%ed%a0%80", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("raw bytes", {"content": b"token=\xff\xfe", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    (
        "multipart bytes",  # was a 500
        {
            "content": b'--x\r\nContent-Disposition: form-data; name="token"\r\n\r\n\xff\xfe\r\n--x--\r\n',
            "headers": {"Content-Type": "multipart/form-data; boundary=x"},
        },
    ),
    ("multipart file", {"files": {"token": ("t.txt", b"0" * 32)}}),
    ("broken multipart", {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=x"}}),
    ("multipart without boundary", {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data"}}),
    (
        "many fields",
        {
            "content": b"&".join(b"f%d=1" % i for i in range(200)),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
    ),
    (
        "100 KB",
        {"content": b"token=" + LONG.encode(), "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ),
    ("JSON", {"json": {"token": "0" * 32}}),
    (
        "repeated",
        {"content": b"token=a&token=" + b"0" * 32, "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ),
]


@pytest.mark.parametrize("form", [f for _, f in REMOVAL_FORMS], ids=[n for n, _ in REMOVAL_FORMS])
def test_removal_without_the_pages_token_changes_nothing(site, form):
    """The removal button posted without the receipt page's own token, however it is malformed:
    4xx (403 for a token that is not the page's), the history stays."""
    r = site.send("POST", site.receipt, client=guest(site), **form)
    assert 400 <= r.status_code < 500, r.status_code


def test_removal_from_another_site_changes_nothing(site):
    token = re.search(r'name="token" value="([0-9a-f]+)"', guest(site).get(site.receipt).text).group(1)  # type: ignore[union-attr]
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://testserver.evil.example"},
    ):
        r = site.send("POST", site.receipt, client=guest(site), data={"token": token}, headers=headers)
        assert r.status_code == 403, headers


@pytest.mark.parametrize(
    "cookie",
    [
        b"anon_id=",
        b"anon_id=\x00",
        b"anon_id=\xe9",
        b"anon_id=" + b"x" * 5000,
        b"anon_id=a.b",
        b"anon_id=%ff",
        b"anon_id=a; anon_id=b",
        b"anon_id",
        b"=;=;;",
        b'anon_id="quoted"',
    ],
)
def test_receipt_lookups_with_junk_cookies(site, cookie):
    """The thank-you link and the tracker's lookup with a cookie that is no signed visitor: a 404
    page and {"receipt_url": null}, never an error."""
    latest = site.send("GET", "/api/track/receipt/latest", client=guest(site), headers={"Cookie": cookie})  # type: ignore[dict-item]
    assert latest.status_code == 404
    lookup = site.send("POST", "/api/track/receipt", client=guest(site), headers={"Cookie": cookie})  # type: ignore[dict-item]
    assert lookup.status_code == 200 and lookup.json() == {"receipt_url": None}


def test_receipt_lookup_from_a_foreign_origin_is_403(site):
    for origin in ("https://evil.example", "null", "http://testserver.evil.example"):
        r = site.send("POST", "/api/track/receipt", client=guest(site), headers={"Origin": origin})
        assert r.status_code == 403, origin


@given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=60))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_generated_receipt_paths(site, token):
    """Generated receipt paths: a 404 page unless the text is the receipt's own."""
    r = site.send("GET", f"/api/track/receipt/{_q(token)}", client=guest(site))
    assert r.status_code in (200, 404, 405) if token in ("", "latest") else r.status_code == 404


# -- ad-platform files: ?since= ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/cp/export/google-ads.csv", "/cp/export/meta.csv"])
@pytest.mark.parametrize("value", [v for _, v in QUERY_VALUES], ids=[i for i, _ in QUERY_VALUES])
def test_ad_exports_since(site, path, value):
    """Every hostile ?since=, alone and repeated: the file (200), or a 400 that says to use a day."""
    for url in (f"{path}?since={value}", f"{path}?since=2026-01-01&since={value}"):
        r = site.send("GET", url)
        assert r.status_code in (200, 400), r.text[:200]
        if r.status_code == 400:
            assert "since" in r.text


# -- the dashboard: outcome form (and the spam list's move-back), filters, invites ------------------------


VALUES_TYPED = [
    *TEXTS,
    "1,250.50.1",
    "1.250.50",
    "1e5",
    "-5",
    "5-",
    "12,3456",
    "1,2,3",
    "$100",
    "100 USD",
    "１２",
    "12\x00",
    "1" * 14,
    "9" * 13 + ".99",
]


@pytest.mark.parametrize("which", ["journey", "spam_journey"])
def test_outcome_form_refusals(site, which):
    """The dashboard's outcome form (the list, the journey page, the spam list's move back) with each bad
    status or value: 400 'Nothing was changed', nothing changed; an id no journey has: 404."""
    journey_id = getattr(site, which)
    url = f"/cp/journeys/{journey_id}/outcome"
    for status in ("", "\x00", "WON", "won\x00", " won", "closed", LONG[:10_000]):
        r = site.send("POST", url, data={"csrf_token": site.csrf, "status": status, "value": ""})
        assert r.status_code == 400 and "Nothing was changed" in r.text, (status[:20], r.status_code)
    for value in VALUES_TYPED:
        for status in ("won", "open"):
            form = {"csrf_token": site.csrf, "status": status, "value": value, "back": "/cp/?list=spam\r\nX: y"}
            try:
                outcomes.parse_outcome_form(status, value)
            except outcomes.OutcomeError:
                r = site.send("POST", url, data=form, follow_redirects=False)
                assert r.status_code == 400 and "Nothing was changed" in r.text, (value[:20], r.status_code)
    for path_id in ("0", str(2**63), str(2**64), "9" * 30, "99999999999999999999"):  # the long ones were a 500
        r = site.send("POST", f"/cp/journeys/{path_id}/outcome", data={"csrf_token": site.csrf, "status": "won"})
        assert r.status_code == 404, (path_id, r.status_code)


@pytest.mark.parametrize(
    "form",
    [
        {"content": b"csrf_token=%ff&status=won", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"content": b"status=won", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"json": {"status": "won"}},
        {"content": b"x" * 20_000, "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
    ],
)
def test_outcome_forms_without_a_csrf_token_are_refused(site, form):
    r = site.send("POST", f"/cp/journeys/{site.journey}/outcome", **form)
    assert r.status_code in (400, 403, 413), r.status_code


@given(
    st.one_of(st.sampled_from(contract.STATUSES), st.text(max_size=10)),
    st.one_of(st.text(st.sampled_from("0123456789.,  -'_e"), max_size=20), st.text(max_size=20)),
)
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_generated_outcome_forms(site, status, value):
    """Generated status and value fields: 303 for exactly what parse_outcome_form takes, else a 400
    that changes nothing."""
    form = {"csrf_token": site.csrf, "status": status, "value": value}
    r = site.send("POST", f"/cp/journeys/{site.journey}/outcome", data=form, follow_redirects=False)
    try:
        outcomes.parse_outcome_form(status, value)
    except outcomes.OutcomeError:
        assert r.status_code == 400, r.status_code
        return
    assert r.status_code == 303, r.text[:300]


FILTERS = {  # parameter -> the pages that read it
    "q": ("/cp/", "/cp/?list=spam&", "/cp/export.csv"),
    "from": ("/cp/", "/cp/insights", "/cp/export.csv"),
    "to": ("/cp/?list=spam&", "/cp/insights", "/cp/export.csv"),
    "list": ("/cp/", "/cp/export.csv"),
    "before": ("/cp/", "/cp/?list=spam&"),
    "after": ("/cp/",),
    "erased": ("/cp/",),
    "welcome": ("/cp/",),
    "model": ("/cp/insights",),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_list_and_insights_filters(site, name):
    """The enquiry list, the spam list, its CSV and Insights with each hostile filter value: the page.
    Was a 500: /cp/insights?from=9999-12-31 (its local day overflowed 14 hours east of UTC),
    /cp/?erased=<5,000 digits>, and /cp/?before=².1 (int('²'))."""
    extra = ["².1", "1.²", "-1.5", f"{HUGE}.1", f"1.{HUGE}", "1.99999999999999999999", "١.١"]
    for _, value in [*QUERY_VALUES, *((str(i), _q(v)) for i, v in enumerate(extra))]:
        for path in FILTERS[name]:
            joiner = "" if path.endswith("&") else "?"
            for url in (f"{path}{joiner}{name}={value}", f"{path}{joiner}{name}=1&{name}={value}"):
                r = site.send("GET", url)
                assert r.status_code == 200, (url[:120], r.status_code)


def test_far_days_in_the_dashboard_filters_mean_the_span_of_accepted_times(site):
    """A far day in a filter is read as the nearest day of 2000-2099 (no journey is outside it)."""
    for query in ("from=0001-01-01&to=9999-12-31", "from=9999-12-31", "to=0001-01-01"):
        r = site.send("GET", f"/cp/insights?{query}")
        assert r.status_code == 200 and ("2000-01-01" in r.text or "2099-12-31" in r.text), query


INVITES = [
    ("", "viewer"),
    (" ", "viewer"),
    ("\x00", "viewer"),
    ("a@b\x00.example", "viewer"),
    ("not an address", "viewer"),
    ("a@b", "viewer"),
    (LONG, "viewer"),
    ("a@example.com\r\nBcc: x@example.com", "viewer"),
    ("<script>@example.com", "viewer"),
    ("ok@example.com", ""),
    ("ok@example.com", "admin"),
    ("ok@example.com", "viewer\x00"),
    ("ok@example.com", "owner "),
    ("ok@example.com", LONG[:5000]),
]


def test_invite_forms_that_are_refused_change_nothing(site):
    """A new invite with a bad address or role: 400 saying why (413 past the form's size), nothing made."""
    for email, role in INVITES:
        r = site.send("POST", "/cp/account/invites", data={"csrf_token": site.csrf, "email": email, "role": role})
        assert r.status_code in (400, 413), (email[:30], role[:30], r.status_code)
    repeated = {"csrf_token": site.csrf, "email": ["a@example.com", "b@example.com"], "role": "viewer"}
    r = site.send("POST", "/cp/account/invites", data=repeated, follow_redirects=False)
    assert r.status_code in (303, 400)
    for path_id in ("0", str(2**64), "9" * 30):
        r = site.send(
            "POST", f"/cp/account/invites/{path_id}/revoke", data={"csrf_token": site.csrf}, follow_redirects=False
        )
        assert r.status_code == 303 and "withdrawn=0" in r.headers["location"], path_id
        r = site.send("GET", f"/cp/account/team/{path_id}/remove")
        assert r.status_code == 404, path_id
        r = site.send("POST", f"/cp/account/team/{path_id}/remove", data={"csrf_token": site.csrf})
        assert r.status_code == 404, path_id


def test_accepting_an_invite_with_a_refused_password_changes_nothing(site):
    """The invite's own page, then its form with passwords that are refused, however they are sent:
    400 (413 past the form's size, 403 without the page's token), no account made, the link still works.
    Run before the guessing test below: guesses are throttled per client address."""
    browser = guest(site)
    url = f"/cp/invite/{site.invite}"
    page = site.send("GET", url, client=browser)
    assert page.status_code == 200, page.text[:300]
    token = csrf_from(page.text)
    for password, confirm in (
        ("", ""),
        ("short", "short"),
        ("\x00" * 3, "\x00" * 3),
        ("x" * 1025, "x" * 1025),
        ("long enough password", "long enough passw0rd"),
        ("long enough\x00password", "long enough password"),
        ("é" * 20, "e" * 20),
    ):
        r = site.send(
            "POST", url, client=browser, data={"csrf_token": token, "password": password, "password_confirm": confirm}
        )
        assert r.status_code == 400, (password[:20], r.status_code)
    for form in (
        {
            "content": b"csrf_token="
            + token.encode()
            + b"&password=%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff&password_confirm=%ed%a0%80",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
        {"json": {"csrf_token": token, "password": "long enough password", "password_confirm": "long enough password"}},
        {"data": {"password": "long enough password", "password_confirm": "long enough password"}},
        {
            "data": {
                "csrf_token": token[:-1] + "x",
                "password": "long enough password",
                "password_confirm": "long enough password",
            }
        },
        {"content": b"password=" + LONG.encode(), "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ):
        r = site.send("POST", url, client=browser, **form)
        assert r.status_code in (400, 403, 413), r.status_code
    assert site.send("GET", url, client=browser).status_code == 200, "the link still works"


INVITE_TOKENS = [
    "x",
    "A" * 42,
    "A" * 43,
    "A" * 44,
    "%00" * 43,
    "%ff" * 43,
    "%ed%a0%80",
    "%EF%BC%A1" * 43,
    LONG_URL,
]


def test_invite_links_that_are_no_invite(site):
    """Unknown or altered invite links (GET and POST): 404, or 429 once the guesses are throttled."""
    altered = site.invite[:-1] + ("A" if site.invite[-1] != "A" else "B")
    for token in [*INVITE_TOKENS, altered, site.invite.lower(), site.invite.upper()]:
        if token == site.invite:
            continue
        for method in ("GET", "POST"):
            r = site.send(method, f"/cp/invite/{token}", client=guest(site), data={"password": "x"})
            # 403 for a POST without the page's form token; 429 once this client's guesses are throttled
            assert r.status_code in ((403, 404, 429) if method == "POST" else (404, 429)), (token[:20], r.status_code)


# -- the promote's 0.2 fields: touches and honeypot ----------------------------------------------------


TOUCH = {"ts": 1764000000000, "page_path": "/?utm_source=newsletter", "pages": 1}
PROMOTE_REFUSALS: list[tuple[str, bytes]] = [
    ("touches object", orjson.dumps({"touches": {"ts": 1}})),
    ("touches string", orjson.dumps({"touches": "[]"})),
    ("touches number", orjson.dumps({"touches": 1})),
    ("21 touches", orjson.dumps({"touches": [TOUCH] * 21})),
    ("honeypot string", orjson.dumps({"honeypot": "yes"})),
    ("honeypot number", orjson.dumps({"honeypot": 1})),
    ("honeypot object", orjson.dumps({"honeypot": {}})),
    ("ts 1e309", b'{"touches": [{"ts": 1e309, "page_path": "/", "pages": 1}]}'),
    ("ts 10**400", b'{"touches": [{"ts": 1' + b"0" * 400 + b', "page_path": "/", "pages": 1}]}'),
    ("lone surrogate", b'{"touches": [{"ts": 1764000000000, "page_path": "/\\ud800", "pages": 1}]}'),
    ("duplicate key", b'{"touches": [{"ts": 1764000000000, "ts": 1, "page_path": "/", "pages": 1}]}'),
    ("NaN", b'{"touches": [{"ts": NaN, "page_path": "/", "pages": 1}]}'),
]


@pytest.mark.parametrize("fields", [b for _, b in PROMOTE_REFUSALS], ids=[n for n, _ in PROMOTE_REFUSALS])
def test_promotes_with_bad_touches_or_honeypot_are_400(site, fields):
    """touches that is not an array of at most 20, a honeypot that is not a boolean, or a body that is
    not strict JSON: a 400 naming the field, and no journey."""
    body = b'{"email": "hostile@example.com", ' + fields[1:]
    r = site.send("POST", "/api/track/promote", client=guest(site), content=body, headers=JSON)
    assert r.status_code == 400, r.text


BAD_TOUCHES = [
    [TOUCH],
    {**TOUCH, "ts": 2**64},
    {**TOUCH, "ts": -0.0},
    {**TOUCH, "ts": 1764000000000.5},
    {**TOUCH, "ts": "1764000000000"},
    {**TOUCH, "ts": 0},
    {**TOUCH, "ts": 4102444800001},  # 2100-01-01T00:00:00.001Z
    {**TOUCH, "pages": 0},
    {**TOUCH, "pages": 2**64},
    {**TOUCH, "pages": True},
    {**TOUCH, "page_path": "/\x00"},
    {**TOUCH, "page_path": "/" + LONG},
    {**TOUCH, "page_path": "relative"},
    {**TOUCH, "page_path": None},
    {**TOUCH, "referrer": {"a": 1}},
    {**TOUCH, "referrer": "https://" + "a" * 100_000},
    {**TOUCH, "referrer": "https://a\x00.example/"},
    None,
    "visit",
]


@pytest.mark.parametrize("touch", BAD_TOUCHES, ids=range(len(BAD_TOUCHES)))
def test_a_bad_remembered_visit_is_dropped_on_its_own(site, touch):
    """One bad entry among good ones: the promote succeeds, the entry counted in touches_dropped."""
    body = {"email": f"touch-{uuid.uuid4().hex[:8]}@example.com", "touches": [TOUCH, touch]}
    r = site.send("POST", "/api/track/promote", client=guest(site), json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["touches"], r.json()["touches_dropped"]) == (1, 1), r.text
