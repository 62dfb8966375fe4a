"""ingest.py: raw /api/track bodies and promote client buffers -> cleaned events, or IngestError."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadtrail.ingest import (
    MAX_DETAILS,
    MAX_TRACK_BODY,
    TS_MAX,
    TS_MIN,
    CleanEvent,
    IngestError,
    load_json,
    parse_client_events,
    parse_track_body,
    validate_event,
)


def body(obj) -> bytes:
    return json.dumps(obj).encode()


def ev(**fields) -> dict:
    return {"event_name": "page_view", **fields}


# --- accepted input ---------------------------------------------------------------------------
def test_single_event_is_cleaned_into_the_stored_shape():
    """A lone event becomes one CleanEvent whose params carry event_id and client_ts."""
    [event] = parse_track_body(
        body(
            {
                "event_name": "page_view",
                "page_path": "/pricing?utm_source=news&email=a@b.com#top",
                "params": {"title": "Prices for jo@example.com", "referrer": "https://www.google.com/search?q=x"},
                "event_id": "e1",
                "ts": 1764200000000,
            }
        )
    )
    assert event == CleanEvent(
        "page_view",
        "/pricing?utm_source=news",
        {
            "title": "Prices for [email]",
            "referrer": "https://www.google.com",
            "event_id": "e1",
            "client_ts": 1764200000000,
        },
    )


def test_minimal_event_and_nulls_mean_not_sent():
    """Only event_name is required; null page_path, params, event_id and ts count as absent."""
    assert parse_track_body(b'{"event_name":"cta_click"}') == [CleanEvent("cta_click", None, {})]
    nulls = body(ev(page_path=None, params=None, event_id=None, ts=None))
    assert parse_track_body(nulls) == [CleanEvent("page_view", None, {})]


def test_batch_keeps_order_and_dedupes_event_ids_within_the_batch():
    """A batch is returned in order and an event_id seen earlier in the same batch is stored once."""
    sent = [
        ev(event_id="a", page_path="/1"),
        ev(event_id="b", page_path="/2"),
        ev(event_id="a", page_path="/3"),
        ev(page_path="/4"),
        ev(page_path="/4"),
    ]
    events = parse_track_body(body({"events": sent}))
    assert [(e.page_path, e.params.get("event_id")) for e in events] == [
        ("/1", "a"),
        ("/2", "b"),
        ("/4", None),
        ("/4", None),
    ]


def test_unknown_keys_are_ignored():
    """Unknown keys on an event or on the batch wrapper are ignored, for forward compatibility."""
    assert parse_track_body(body(ev(future={"x": [1, 2]}, v=2))) == [CleanEvent("page_view", None, {})]
    assert len(parse_track_body(body({"events": [ev()], "sent_at": 1}))) == 1


def test_reserved_param_names_are_replaced_by_the_events_own():
    """Client params named event_id or client_ts are dropped; the event's own values take those keys."""
    [event] = parse_track_body(body(ev(params={"event_id": "forged", "client_ts": 1, "x": 1})))
    assert event.params == {"x": 1}
    [event] = parse_track_body(body(ev(params={"event_id": "forged"}, event_id="real", ts=TS_MIN)))
    assert event.params == {"event_id": "real", "client_ts": TS_MIN}


@pytest.mark.parametrize(
    "ts,stored", [(TS_MIN, TS_MIN), (TS_MAX, TS_MAX), (1764200000000.0, 1764200000000), (1.7642e12, 1764200000000)]
)
def test_ts_accepts_integers_and_integral_floats_in_range(ts, stored):
    """ts is an integer in the years 2000-2100; a float without fraction is that integer."""
    [event] = parse_track_body(body(ev(ts=ts)))
    assert event.params["client_ts"] == stored and type(event.params["client_ts"]) is int


@pytest.mark.parametrize("ts", [TS_MIN - 1, TS_MAX + 1, -1, 0, 1764200000, 10**30, 1e300])
def test_ts_from_a_clock_gone_wrong_is_ignored_and_the_event_kept(ts):
    """A visitor's clock reset to 1970 or far ahead (or seconds for ms) must not lose the event:
    it is stored without a client time."""
    [event] = parse_track_body(body(ev(ts=ts)))
    assert event.params == {}


def test_param_value_types_and_limits_that_pass():
    """Strings up to 1000 characters, 64-bit integers, finite floats, booleans and null are all kept."""
    params = {"s": "x" * 1000, "i": 2**63 - 1, "n": -(2**63), "f": 1.5, "t": True, "z": None, "k" * 64: 0}
    assert parse_track_body(body(ev(params=params)))[0].params == params
    assert len(parse_track_body(body(ev(params={f"k{i}": i for i in range(50)})))[0].params) == 50


def test_numbers_beyond_64_bit_integers_are_kept_as_floats():
    """Any finite JSON number is a number: integers past 64 bits (which orjson gives as ints up to
    2**64 - 1 and as floats beyond) are all kept as the nearest float, so that both databases and
    the OpenAPI document (`number`, up to the largest double) agree with what is accepted."""
    raw = b'{"event_name": "x", "params": {"a": 9223372036854775808, "b": 18446744073709551616, "c": -9223372036854775809, "d": 1e20, "e": -2.19e104, "i": 9223372036854775807}}'
    [event] = parse_track_body(raw)
    assert event.params == {"a": 2.0**63, "b": 2.0**64, "c": -(2.0**63), "d": 1e20, "e": -2.19e104, "i": 2**63 - 1}
    assert [type(event.params[k]) for k in "abcdei"] == [float] * 5 + [int]
    [client], dropped = parse_client_events([{"event_name": "x", "params": {"a": 2**64 - 1}}])
    assert client["params"] == {"a": float(2**64 - 1)} and dropped == 0
    with pytest.raises(IngestError):
        parse_track_body(b'{"event_name": "x", "params": {"a": 1' + b"0" * 400 + b"}}")


def test_byte_order_mark_str_and_whitespace_are_tolerated():
    """A UTF-8 BOM, surrounding whitespace or a str body parse like the plain bytes."""
    expected = [CleanEvent("x", None, {})]
    assert parse_track_body(b'\xef\xbb\xbf{"event_name":"x"}') == expected
    assert parse_track_body(b' \n{"event_name":"x"}\n ') == expected
    assert parse_track_body('{"event_name":"x"}') == expected


def test_colons_in_strings_and_escaped_colons_are_not_mistaken_for_duplicate_keys():
    """Keys and values holding ":" (raw or as \\u003a) parse normally; only real repeats are refused."""
    ok = (
        b'{"event_name":"a:b","page_path":"/x:y","params":{"k:1":"v:2","k\\u003a2":"\\u003a",'
        b'"referrer":"https://x.com/","t":"\\u003cb\\u003e"},"event_id":"i:d"}'
    )
    [event] = parse_track_body(ok)
    assert event.params["k:2"] == ":" and event.params["t"] == "<b>" and event.params["event_id"] == "i:d"
    with pytest.raises(IngestError) as err:
        parse_track_body(b'{"event_name":"a","params":{"k\\u003a":1,"k:":2,"url":"https://x"}}')
    assert err.value.details == ["body: duplicate key 'k:' in a JSON object"]


# --- refused input ----------------------------------------------------------------------------
NAME_RULE = "must be 1-64 characters of letters, digits, _ . : -"
BAD = [
    # (id, body, status, one expected detail)
    ("not-json", b"{nope", 400, "body: is not valid JSON"),
    ("empty", b"", 400, "body: is not valid JSON"),
    ("whitespace", b"  ", 400, "body: is not valid JSON"),
    ("invalid-utf8", b'{"event_name": "\xff\xfe"}', 400, "body: must be UTF-8"),
    ("lone-surrogate-escape", b'{"event_name": "x", "params": {"a": "\\ud800"}}', 400, "body: is not valid JSON"),
    ("nan", b'{"event_name": "x", "params": {"a": NaN}}', 400, "body: is not valid JSON"),
    ("infinity", b'{"event_name": "x", "params": {"a": Infinity}}', 400, "body: is not valid JSON"),
    ("overflow-to-infinity", b'{"event_name": "x", "params": {"a": 1e400}}', 400, "body: is not valid JSON"),
    ("trailing-garbage", b'{"event_name": "x"} x', 400, "body: is not valid JSON"),
    ("too-deep", b"[" * 2000 + b"]" * 2000, 400, "body: is not valid JSON"),
    ("array", b"[]", 400, 'body: must be a JSON object: an event or {"events": [...]}'),
    ("string", b'"page_view"', 400, 'body: must be a JSON object: an event or {"events": [...]}'),
    ("null", b"null", 400, 'body: must be a JSON object: an event or {"events": [...]}'),
    (
        "duplicate-key",
        b'{"event_name": "x", "event_name": "y"}',
        400,
        "body: duplicate key 'event_name' in a JSON object",
    ),
    (
        "duplicate-param",
        b'{"event_name": "x", "params": {"a": 1, "a": 2}}',
        400,
        "body: duplicate key 'a' in a JSON object",
    ),
    (
        "duplicate-in-unknown",
        b'{"event_name": "x", "z": {"q": 1, "q": 1}}',
        400,
        "body: duplicate key 'q' in a JSON object",
    ),
    (
        "duplicate-after-5000-keys",
        b'{"event_name": "x", "z": {' + b",".join(b'"k%d": 0' % i for i in range(5000)) + b', "k0": 1}}',
        400,
        "body: duplicate key 'k0' in a JSON object",
    ),
    (
        "too-large",
        b'{"event_name":"x","params":{"a":"' + b"a" * MAX_TRACK_BODY + b'"}}',
        413,
        f"body: at most {MAX_TRACK_BODY} bytes",
    ),
    ("no-name", body({"page_path": "/"}), 400, f"event_name: is required; {NAME_RULE}"),
    ("empty-name", body(ev(event_name="")), 400, f"event_name: {NAME_RULE}"),
    ("name-with-space", body(ev(event_name="page view")), 400, f"event_name: {NAME_RULE}"),
    ("name-markup", body(ev(event_name="<script>")), 400, f"event_name: {NAME_RULE}"),
    ("name-65", body(ev(event_name="a" * 65)), 400, f"event_name: {NAME_RULE}"),
    ("name-number", body(ev(event_name=5)), 400, f"event_name: {NAME_RULE}"),
    ("name-unicode", body(ev(event_name="café")), 400, f"event_name: {NAME_RULE}"),
    ("path-no-slash", body(ev(page_path="http://evil")), 400, "page_path: must be null or a string"),
    ("path-empty", body(ev(page_path="")), 400, "page_path: must be null or a string"),
    ("path-2049", body(ev(page_path="/" + "a" * 2048)), 400, "page_path: must be null or a string of at most 2048"),
    ("path-number", body(ev(page_path=7)), 400, "page_path: must be null or a string"),
    ("path-nul", body(ev(page_path="/a\x00b")), 400, "page_path: must be null or a string"),
    ("params-array", body(ev(params=[1])), 400, "params: must be a flat JSON object of at most 50 keys"),
    ("params-string", body(ev(params="x")), 400, "params: must be a flat JSON object of at most 50 keys"),
    (
        "params-51",
        body(ev(params={f"k{i}": i for i in range(51)})),
        400,
        "params: must be a flat JSON object of at most 50 keys (got 51)",
    ),
    (
        "param-nested-object",
        body(ev(params={"a": {"b": 1}})),
        400,
        "params.a: must be a string (at most 1000 characters",
    ),
    ("param-nested-array", body(ev(params={"a": [1]})), 400, "params.a: must be a string (at most 1000 characters"),
    ("param-1001", body(ev(params={"a": "b" * 1001})), 400, "params.a: must be a string (at most 1000 characters"),
    ("param-nul", body(ev(params={"a": "x\x00"})), 400, "params.a: must be a string (at most 1000 characters"),
    ("param-key-empty", body(ev(params={"": 1})), 400, "params: key '' must be 1-64 characters without NUL"),
    ("param-key-65", body(ev(params={"k" * 65: 1})), 400, "must be 1-64 characters without NUL"),
    ("param-key-nul", body(ev(params={"a\x00": 1})), 400, "params: key 'a\\x00' must be 1-64 characters without NUL"),
    ("event-id-empty", body(ev(event_id="")), 400, "event_id: must be a string of 1-64 characters without NUL"),
    ("event-id-65", body(ev(event_id="e" * 65)), 400, "event_id: must be a string of 1-64 characters without NUL"),
    ("event-id-number", body(ev(event_id=1)), 400, "event_id: must be a string of 1-64 characters without NUL"),
    ("ts-string", body(ev(ts="yesterday")), 400, "ts: must be an integer number of milliseconds"),
    ("ts-bool", body(ev(ts=True)), 400, "ts: must be an integer number of milliseconds"),
    ("ts-fraction", body(ev(ts=1764200000000.5)), 400, "ts: must be an integer number of milliseconds"),
    ("events-not-array", body({"events": {"event_name": "x"}}), 400, "events: must be an array of 1-50 events"),
    ("events-empty", body({"events": []}), 400, "events: must be an array of 1-50 events (got 0)"),
    ("events-51", body({"events": [ev()] * 51}), 400, "events: must be an array of 1-50 events (got 51)"),
    (
        "events-and-event",
        body({"events": [ev()], "event_name": "x"}),
        400,
        'body: is either one event or {"events": [...]}, not both',
    ),
    ("batch-item-not-object", body({"events": [ev(), "x"]}), 400, "events[1]: must be a JSON object"),
    ("one-bad-in-batch", body({"events": [ev(), ev(event_name="")]}), 400, f"events[1].event_name: {NAME_RULE}"),
    ("bad-ts-third-in-batch", body({"events": [ev(), ev(), ev(ts="x")]}), 400, "events[2].ts: must be an integer"),
]


@pytest.mark.parametrize("raw,status,detail", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_is_refused_with_status_and_detail(raw, status, detail):
    """Each kind of bad body raises IngestError with its status and a detail naming the problem."""
    with pytest.raises(IngestError) as err:
        parse_track_body(raw)
    assert err.value.status == status
    assert err.value.message
    assert any(d.startswith(detail) or detail in d for d in err.value.details), err.value.details


def test_every_problem_of_every_event_is_named():
    """Problems in several fields and several events are all listed, each with its location."""
    with pytest.raises(IngestError) as err:
        parse_track_body(body({"events": [ev(page_path="x", ts="y"), ev(), ev(event_name="", params={"a": []})]}))
    assert [d.split(":")[0] for d in err.value.details] == [
        "events[0].page_path",
        "events[0].ts",
        "events[2].event_name",
        "events[2].params.a",
    ]


def test_details_are_capped():
    """A body with very many problems lists MAX_DETAILS of them and says how many more there are."""
    with pytest.raises(IngestError) as err:
        parse_track_body(body({"events": [ev(event_name="", ts="x")] * 50}))
    assert len(err.value.details) == MAX_DETAILS + 1
    assert err.value.details[-1] == f"... and {100 - MAX_DETAILS} more problems"


def test_validate_event_prefixes_details_with_where():
    """validate_event names problems under the caller's location."""
    with pytest.raises(IngestError) as err:
        validate_event({"event_name": "!"}, "client_events[4]")
    assert err.value.details == [f"client_events[4].event_name: {NAME_RULE}"]
    with pytest.raises(IngestError) as err:
        validate_event(None, "client_events[4]")
    assert err.value.details == ["client_events[4]: must be a JSON object"]


def test_load_json_refuses_duplicates_anywhere():
    """load_json (for other endpoints) parses strictly and refuses a duplicate key at any depth."""
    assert load_json(b'{"a":{"b":"c:d"}}') == {"a": {"b": "c:d"}}
    with pytest.raises(IngestError):
        load_json(b'{"a":[{"b":1,"b":2}]}')


# --- promote's client events ------------------------------------------------------------------
def test_client_events_keep_the_valid_and_count_the_dropped():
    """Valid buffer items are cleaned into the client-event shape; invalid ones are dropped and counted."""
    items = [
        {
            "event_name": "page_view",
            "page_path": "/a?utm_source=x&q=1",
            "params": {"title": "A"},
            "event_id": "1",
            "ts": 1764200000000,
        },
        {"event_name": "page_view", "page_path": "no-slash"},
        "garbage",
        {"event_name": "cta", "params": {"event_id": "forged", "href": "mailto:a@b.co"}},
        {"event_name": "page_view", "event_id": "1", "page_path": "/again"},
        {"event_name": "x", "ts": "later"},
    ]
    events, dropped = parse_client_events(items)
    assert dropped == 3
    assert events == [
        {
            "event_name": "page_view",
            "page_path": "/a?utm_source=x",
            "params": {"title": "A"},
            "event_id": "1",
            "ts": 1764200000000,
        },
        {"event_name": "cta", "page_path": None, "params": {"href": "mailto:"}, "event_id": None, "ts": None},
    ]


@pytest.mark.parametrize(
    "items,detail",
    [
        ({"event_name": "x"}, "client_events: must be an array of events"),
        ([{"event_name": "x"}] * 501, "client_events: at most 500 events, got 501"),
    ],
)
def test_client_events_container_errors(items, detail):
    """A buffer that is not an array, or holds more than 500 items, is a 400."""
    with pytest.raises(IngestError) as err:
        parse_client_events(items)
    assert err.value.status == 400 and err.value.details == [detail]


def test_client_events_empty_and_limit():
    """An empty buffer is fine and exactly 500 items are accepted."""
    assert parse_client_events([]) == ([], 0)
    events, dropped = parse_client_events([{"event_name": "x", "event_id": str(i)} for i in range(500)])
    assert len(events) == 500 and dropped == 0


# --- properties -------------------------------------------------------------------------------
def outcome(raw: bytes):
    """parse_track_body's result, or the IngestError it raised; any other exception propagates."""
    try:
        return parse_track_body(raw)
    except IngestError as exc:
        assert exc.status in (400, 413) and exc.details and all(isinstance(d, str) for d in exc.details)
        return exc


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_but_ingest_error(raw):
    """Random bytes either parse or raise IngestError, never another exception."""
    outcome(raw)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["/", "/x?utm_source=a@b.com", "page_view", ":", "e1"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.sampled_from(["page_view", "/", "/a#b", "e1", TS_MIN, TS_MAX, 1.5e12]),
    st.dictionaries(st.sampled_from(["title", "referrer", "href", "event_id", "k:"]), json_scalars),
)
events_ish = st.dictionaries(
    st.sampled_from(["event_name", "page_path", "params", "event_id", "ts", "extra"]), field_values, max_size=6
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, events_ish, st.builds(lambda es: {"events": es}, st.lists(events_ish, max_size=5))))
def test_json_shaped_input_never_raises_anything_but_ingest_error(doc):
    """Any JSON document either yields well-formed clean events or raises IngestError, nothing else."""
    result = outcome(json.dumps(doc).encode())
    if isinstance(result, list):
        assert 1 <= len(result) <= 50
        for event in result:
            assert isinstance(event, CleanEvent) and isinstance(event.params, dict)
            assert event.page_path is None or event.page_path.startswith("/")
            assert parse_track_body(orjson.dumps({"event_name": event.event_name, "page_path": event.page_path}))


def raw_object(pairs: list) -> bytes:
    """A JSON object written by hand, so that keys may repeat."""
    return b"{" + b",".join(orjson.dumps(k) + b":" + v for k, v in pairs) + b"}"


keys = st.sampled_from(["a", "b", "a:", "k", ":"])
scalar_json = st.sampled_from([b"1", b'"x"', b'"a:b"', b'"\\u003a"', b"null", b'"https://x.com"'])
nested_json = st.lists(st.tuples(keys, scalar_json), max_size=4).map(raw_object)


@settings(max_examples=300)
@given(params=st.lists(st.tuples(keys, st.one_of(scalar_json, nested_json)), max_size=5), escaped=st.booleans())
def test_duplicate_keys_are_refused_exactly_when_present(params, escaped):
    """A body is refused for a duplicate key exactly when the standard library sees one; colons never fool it."""
    inner = raw_object(params)
    if escaped:
        inner = inner.replace(b'"a:"', b'"a\\u003a"')
    raw = raw_object([("event_name", b'"x"'), ("future", inner)])
    duplicates = []

    def hook(pairs):
        keys_seen = [k for k, _ in pairs]
        duplicates.extend(k for k in set(keys_seen) if keys_seen.count(k) > 1)
        return dict(pairs)

    json.loads(raw, object_pairs_hook=hook)
    result = outcome(raw)
    if duplicates:
        assert isinstance(result, IngestError) and "duplicate key" in result.details[0]
    else:
        assert result == [CleanEvent("x", None, {})]
