"""journeys.reconstruct: merge, clock correction, visits, attribution, time on page, summary."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from leadtrail import journeys
from leadtrail.journeys import VISIT_GAP, list_summary, reconstruct

T0 = datetime(2026, 11, 27, 2, 25, 44, 123456, tzinfo=UTC)
SUBMITTED = T0 + timedelta(hours=3)


def ms(dt: datetime) -> int:
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def server(eid, name="page_view", path="/", at=T0, row_id=None, **params):
    if eid is not None:
        params["event_id"] = eid
    return {
        "id": row_id or abs(hash((eid, at))) % 10**9,
        "event_name": name,
        "page_path": path,
        "params": params,
        "created_at": at.isoformat(timespec="microseconds"),
    }


def client(eid, name="page_view", path="/", ts=None, **params):
    return {"event_name": name, "page_path": path, "params": params, "event_id": eid, "ts": ts}


def flattened(journey: dict) -> dict:
    """The oracle for list_summary: reconstruct()'s summary flattened into the list's columns."""
    summary = journey["summary"]
    first = summary["first_touch"] or {}
    return {
        "first_channel": first.get("channel"),
        "first_source": first.get("source"),
        "landing_page": first.get("landing_page"),
        "visits": summary["visits"],
        "page_views": summary["page_views"],
        "time_to_enquiry_ms": summary["time_to_enquiry_ms"],
    }


def by_id(journey):
    return {e["event_id"]: e for e in journey["timeline"]}


def at(event):
    return datetime.fromisoformat(event["at"])


# ---------------------------------------------------------------- merge and provenance


def test_event_seen_by_both_paths_appears_once_marked_both():
    """An event_id present server-side (params.event_id) and in the client buffer is one 'both' event."""
    journey = reconstruct([server("a")], [client("a", ts=ms(T0))], SUBMITTED)
    assert [(e["event_id"], e["source"]) for e in journey["timeline"]] == [("a", "both")]


def test_server_only_and_client_only_events_keep_their_source():
    """Events seen by one path only are marked 'server' or 'client' and counted in client_only_events."""
    journey = reconstruct([server("s", at=T0)], [client("c", ts=ms(T0) + 1000)], SUBMITTED)
    assert {k: e["source"] for k, e in by_id(journey).items()} == {"s": "server", "c": "client"}
    assert journey["summary"]["client_only_events"] == 1


def test_both_event_uses_server_time_and_server_params():
    """A 'both' event is placed at the server's created_at and carries what the server stored."""
    journey = reconstruct([server("a", at=T0, title="Home")], [client("a", ts=ms(T0) - 999_000, title="x")], SUBMITTED)
    event = journey["timeline"][0]
    assert at(event) == T0 and event["params"]["title"] == "Home"


def test_duplicate_client_buffer_entries_collapse_to_one_event():
    """The same event_id buffered twice by the browser is still one event."""
    journey = reconstruct([], [client("a", ts=ms(T0)), client("a", ts=ms(T0))], SUBMITTED)
    assert len(journey["timeline"]) == 1


def test_event_without_id_matches_same_name_and_path_within_five_seconds():
    """A client event without event_id merges with a server event of the same name and path 5 s away."""
    whole_ms = T0.replace(microsecond=123_000)  # so that 5,000 ms is exactly the window
    journey = reconstruct(
        [server(None, "cta", "/book", at=whole_ms)], [client(None, "cta", "/book", ts=ms(whole_ms) + 5000)], SUBMITTED
    )
    assert [e["source"] for e in journey["timeline"]] == ["both"]


def test_event_without_id_beyond_five_seconds_stays_separate():
    """Same name and path but 5.001 s apart are two events, neither lost."""
    whole_ms = T0.replace(microsecond=123_000)
    journey = reconstruct(
        [server(None, "cta", "/book", at=whole_ms)], [client(None, "cta", "/book", ts=ms(whole_ms) + 5001)], SUBMITTED
    )
    assert sorted(e["source"] for e in journey["timeline"]) == ["client", "server"]


def test_fallback_match_takes_the_client_id_when_server_has_none():
    """A server event stored without event_id that fallback-matches a client event gets the client's id."""
    journey = reconstruct(
        [server(None, "cta", "/book", at=T0)], [client("c1", "cta", "/book", ts=ms(T0) + 100)], SUBMITTED
    )
    assert [(e["event_id"], e["source"]) for e in journey["timeline"]] == [("c1", "both")]


def test_two_different_ids_never_fallback_match():
    """Events that both carry (different) event_ids are different events even when identical otherwise."""
    journey = reconstruct([server("s", "cta", "/book", at=T0)], [client("c", "cta", "/book", ts=ms(T0))], SUBMITTED)
    assert len(journey["timeline"]) == 2


def test_different_name_does_not_fallback_match():
    """Id-less events with different names within 5 s are not merged."""
    journey = reconstruct([server(None, "cta", "/book", at=T0)], [client(None, "other", "/book", ts=ms(T0))], SUBMITTED)
    assert len(journey["timeline"]) == 2


# ---------------------------------------------------------------- time


def test_client_clock_offset_moves_client_only_events_onto_server_time():
    """A browser clock 1 h slow is corrected by the median offset of events both paths saw."""
    slow = 3_600_000
    servers = [server("a", at=T0), server("b", at=T0 + timedelta(seconds=60))]
    clients = [
        client("a", ts=ms(T0) - slow),
        client("b", ts=ms(T0) + 60_000 - slow),
        client("c", "cta", ts=ms(T0) + 90_000 - slow),
    ]
    event = by_id(reconstruct(servers, clients, SUBMITTED))["c"]
    assert abs(at(event) - (T0 + timedelta(seconds=90))) < timedelta(milliseconds=2)


def test_offset_uses_the_median_so_one_outlier_does_not_move_it():
    """One wild client ts among matched events does not shift the correction."""
    servers = [server(k, at=T0 + timedelta(seconds=i)) for i, k in enumerate("abc")]
    clients = [
        client("a", ts=ms(T0)),
        client("b", ts=ms(T0) + 1000 - 10**9),
        client("c", ts=ms(T0) + 2000),
        client("d", "cta", ts=ms(T0) + 5000),
    ]
    assert abs(at(by_id(reconstruct(servers, clients, SUBMITTED))["d"]) - (T0 + timedelta(seconds=5))) < timedelta(
        milliseconds=2
    )


def test_without_matched_events_client_ts_is_used_as_is():
    """With nothing seen by both paths, a client event's time is its own ts."""
    journey = reconstruct([], [client("c", ts=ms(T0))], SUBMITTED)
    assert abs(at(journey["timeline"][0]) - T0) < timedelta(milliseconds=1)


def test_client_event_without_ts_follows_its_buffer_predecessor():
    """A client event with no ts is placed right after the event before it in the buffer."""
    servers = [server("a", at=T0), server("z", at=T0 + timedelta(seconds=30))]
    clients = [client("a", ts=ms(T0)), client("n", "cta", ts=None), client("z", ts=ms(T0) + 30_000)]
    assert [e["event_id"] for e in reconstruct(servers, clients, SUBMITTED)["timeline"]] == ["a", "n", "z"]


def test_leading_client_event_without_ts_goes_before_its_successor():
    """A client event with no ts and no predecessor is placed right before the next buffered event."""
    servers = [server("a", at=T0), server("z", at=T0 + timedelta(seconds=30))]
    clients = [client("n", "cta", ts=None), client("z", ts=ms(T0) + 30_000)]
    assert [e["event_id"] for e in reconstruct(servers, clients, SUBMITTED)["timeline"]] == ["a", "n", "z"]


def test_absurd_client_ts_is_treated_as_missing():
    """Negative, year-9999, NaN, boolean or text ts values are ignored rather than trusted or raised on."""
    for bad in (-5, 253_402_300_799_000, float("nan"), float("inf"), True, "1700000000000", 10**30):
        journey = reconstruct([server("a", at=T0)], [client("a", ts=ms(T0)), client("b", "cta", ts=bad)], SUBMITTED)
        assert [e["event_id"] for e in journey["timeline"]] == ["a", "b"], bad
        assert journey["timeline"][1]["at"] == journey["timeline"][0]["at"]


def test_at_is_iso_utc_with_microseconds():
    """Times are ISO 8601 in UTC with microseconds, the storage format."""
    journey = reconstruct([server("a", at=T0)], [], SUBMITTED)
    assert journey["timeline"][0]["at"] == "2026-11-27T02:25:44.123456+00:00"
    assert journey["summary"]["submitted_at"] == "2026-11-27T05:25:44.123456+00:00"


# ---------------------------------------------------------------- visits


def _gap_journey(gap: timedelta):
    return reconstruct([server("a", at=T0), server("b", at=T0 + gap)], [], SUBMITTED)


def test_gap_of_exactly_thirty_minutes_stays_in_one_visit():
    """Exactly VISIT_GAP of inactivity does not start a new visit."""
    assert _gap_journey(VISIT_GAP)["summary"]["visits"] == 1


def test_gap_of_thirty_minutes_and_one_ms_starts_a_new_visit():
    """VISIT_GAP plus one millisecond of inactivity starts a new visit."""
    journey = _gap_journey(VISIT_GAP + timedelta(milliseconds=1))
    assert journey["summary"]["visits"] == 2
    assert [e["visit"] for e in journey["timeline"]] == [0, 1]


def test_visits_split_after_thirty_minutes_of_inactivity():
    """GA's rule, in literal durations: 30 minutes apart is one visit, 30 minutes and 1 ms is two."""
    assert _gap_journey(timedelta(minutes=30))["summary"]["visits"] == 1
    assert _gap_journey(timedelta(minutes=30, milliseconds=1))["summary"]["visits"] == 2


# ---------------------------------------------------------------- attribution


def test_visit_attribution_from_landing_query_and_referrer():
    """Landing page drops the query; UTM values, click ids and the referrer host drive the channel."""
    path = "/offer?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=photographer&gclid=XYZ"
    journey = reconstruct(
        [
            server("a", path=path, at=T0, referrer="https://www.google.com"),
            server("b", path="/book", at=T0 + timedelta(seconds=40)),
        ],
        [],
        SUBMITTED,
    )
    visit = journey["visits"][0]
    assert visit["landing_page"] == "/offer"
    assert visit["referrer"] == "google.com"
    assert visit["utm"] == {"source": "google", "medium": "cpc", "campaign": "spring", "term": "photographer"}
    assert visit["click_ids"] == {"gclid": "XYZ"}
    assert (visit["channel"], visit["source"]) == ("Paid Search", "google")
    assert (visit["page_views"], visit["events"]) == (2, 2)


def test_missing_referrer_is_direct():
    """A visit whose landing page_view has no referrer and no UTM is Direct / (direct)."""
    visit = reconstruct([server("a", path="/", at=T0)], [], SUBMITTED)["visits"][0]
    assert (visit["channel"], visit["source"], visit["referrer"]) == ("Direct", "(direct)", None)


def test_organic_search_referrer_and_ai_assistant_referrer():
    """Referrer origins become hosts without www. and are classified (search, AI assistant)."""
    journey = reconstruct(
        [
            server("a", at=T0, referrer="https://www.bing.com"),
            server("b", at=T0 + timedelta(hours=1), referrer="https://chatgpt.com"),
        ],
        [],
        SUBMITTED,
    )
    assert [(v["referrer"], v["channel"]) for v in journey["visits"]] == [
        ("bing.com", "Organic Search"),
        ("chatgpt.com", "AI Assistants"),
    ]


def test_site_hosts_turn_self_referrals_into_direct():
    """A visit whose landing referrer is the site itself (given as site_hosts) has no referrer: Direct."""
    events = [server("a", path="/services", at=T0, referrer="https://www.lumen.example")]
    assert reconstruct(events, [], SUBMITTED)["visits"][0]["channel"] == "Referral"
    visit = reconstruct(events, [], SUBMITTED, site_hosts=["https://lumen.example"])["visits"][0]
    assert (visit["referrer"], visit["channel"]) == (None, "Direct")


def test_ref_query_names_the_source_when_there_is_no_referrer_or_utm_source():
    """A Plausible-style ?ref= tag names the source of a visit without referrer or utm_source."""
    journey = reconstruct(
        [
            server("a", path="/?ref=twitter", at=T0),
            server("b", path="/?ref=weekly-news", at=T0 + timedelta(hours=1)),
            server("c", path="/?ref=x", at=T0 + timedelta(hours=2), referrer="https://blog.example"),
        ],
        [],
        SUBMITTED,
    )
    assert [(v["channel"], v["source"]) for v in journey["visits"]] == [
        ("Organic Social", "twitter"),
        ("Unassigned", "weekly-news"),
        ("Referral", "blog.example"),
    ]


def test_junk_referrer_and_params_do_not_raise():
    """Non-string referrers, nested values and odd query strings in params are tolerated."""
    junk = [
        server("a", at=T0, referrer=12),
        server("b", "page_engagement", at=T0, engaged_ms="lots"),
        server("c", "page_view", path="/x?utm_source=&%%&&=", at=T0, referrer=["no"]),
    ]
    journey = reconstruct(junk, [client("d", params_note=None, ts="x"), "not an event", None], SUBMITTED)
    assert len(journey["timeline"]) == 4


# ---------------------------------------------------------------- time on page


def test_time_on_page_comes_from_page_engagement():
    """A page_engagement event naming the page gives that page_view's time_on_page_ms."""
    journey = reconstruct(
        [
            server("a", "page_view", "/", at=T0),
            server("e", "page_engagement", "/", at=T0 + timedelta(seconds=50), engaged_ms=12_345),
            server("b", "page_view", "/about", at=T0 + timedelta(seconds=51)),
        ],
        [],
        SUBMITTED,
    )
    assert by_id(journey)["a"]["time_on_page_ms"] == 12_345


def test_time_on_page_sums_engagement_reports_of_one_page_view():
    """Several page_engagement reports for one page view (hidden, shown, hidden) add up."""
    journey = reconstruct(
        [
            server("a", "page_view", "/", at=T0),
            server("e1", "page_engagement", "/", at=T0 + timedelta(seconds=5), engaged_ms=1000),
            server("e2", "page_engagement", "/", at=T0 + timedelta(seconds=9), engaged_ms=2000),
        ],
        [],
        SUBMITTED,
    )
    assert by_id(journey)["a"]["time_on_page_ms"] == 3000


def test_time_on_page_falls_back_to_next_event_and_is_none_on_last_page():
    """Without engagement, time on page is the time to the next event of the visit; the last page has None."""
    journey = reconstruct(
        [
            server("a", "page_view", "/", at=T0),
            server("b", "page_view", "/about", at=T0 + timedelta(seconds=42)),
            server("c", "page_view", "/later", at=T0 + timedelta(hours=2)),
        ],
        [],
        SUBMITTED,
    )
    events = by_id(journey)
    assert events["a"]["time_on_page_ms"] == 42_000
    assert events["b"]["time_on_page_ms"] is None  # next event is in another visit
    assert events["c"]["time_on_page_ms"] is None


def test_non_page_view_events_have_no_time_on_page():
    """Only page_view events carry a time_on_page_ms."""
    journey = reconstruct([server("a", "cta", "/", at=T0), server("b", at=T0 + timedelta(seconds=1))], [], SUBMITTED)
    assert by_id(journey)["a"]["time_on_page_ms"] is None


# ---------------------------------------------------------------- summary


def test_summary_first_and_last_touch_and_time_to_enquiry():
    """first_touch is the first visit, last_touch the last non-direct visit, time to enquiry from the first event."""
    journey = reconstruct(
        [
            server("a", path="/?utm_source=newsletter&utm_medium=email", at=T0),
            server("b", path="/p", at=T0 + timedelta(hours=1), referrer="https://www.google.com"),
            server("c", path="/book", at=T0 + timedelta(hours=2)),
        ],
        [client("x", "cta", "/book", ts=ms(T0) + 7_300_000)],
        SUBMITTED,
    )
    summary = journey["summary"]
    assert summary["first_touch"] == {
        "channel": "Email",
        "source": "newsletter",
        "landing_page": "/",
        "at": "2026-11-27T02:25:44.123456+00:00",
    }
    assert (summary["last_touch"]["channel"], summary["last_touch"]["landing_page"]) == ("Organic Search", "/p")
    assert (summary["visits"], summary["page_views"], summary["client_only_events"]) == (3, 3, 1)
    assert summary["first_seen_at"] == "2026-11-27T02:25:44.123456+00:00"
    assert summary["time_to_enquiry_ms"] == 3 * 3_600_000


def test_last_touch_is_the_last_visit_when_every_visit_is_direct():
    """With only direct visits, last_touch is the last visit."""
    journey = reconstruct(
        [server("a", path="/", at=T0), server("b", path="/b", at=T0 + timedelta(hours=1))], [], SUBMITTED
    )
    assert journey["summary"]["last_touch"]["landing_page"] == "/b"


def test_empty_journey():
    """No events at all gives an empty timeline, no visits and null touches, without raising."""
    journey = reconstruct([], [], SUBMITTED)
    assert journey["timeline"] == [] and journey["visits"] == []
    assert journey["summary"]["first_touch"] is None and journey["summary"]["time_to_enquiry_ms"] is None


def test_list_summary_gives_the_list_columns():
    """list_summary returns the dashboard list's flat columns, and zeros and nulls for no events."""
    assert list_summary([server("a", path="/?utm_source=fb&utm_medium=paid", at=T0)], [], SUBMITTED) == {
        "first_channel": "Paid Social",
        "first_source": "fb",
        "landing_page": "/",
        "visits": 1,
        "page_views": 1,
        "time_to_enquiry_ms": 3 * 3_600_000,
    }
    assert list_summary([], [], SUBMITTED) == {
        "first_channel": None,
        "first_source": None,
        "landing_page": None,
        "visits": 0,
        "page_views": 0,
        "time_to_enquiry_ms": None,
    }


def test_2500_events_reconstruct_well_under_50_ms():
    """A journey of 2,500 events (half seen by both paths) reconstructs in under 50 ms."""
    servers = [
        server(
            f"e{i}",
            "page_view" if i % 3 == 0 else "scroll",
            f"/p{i % 40}",
            at=T0 + timedelta(seconds=i * 7),
            referrer="https://www.google.com",
        )
        for i in range(1700)
    ]
    clients = [client(f"e{i}", ts=ms(T0) + i * 7000 - 2500) for i in range(900, 2500)]
    best = min(_timed(servers, clients) for _ in range(7))
    assert best < 0.05, f"{best * 1000:.1f} ms"


def _timed(servers, clients):
    # CPU time of this thread: a busy CI machine descheduling us must not fail the test.
    start = time.thread_time()
    journey = reconstruct(servers, clients, SUBMITTED)
    elapsed = time.thread_time() - start
    assert len(journey["timeline"]) == 2500
    return elapsed


# ---------------------------------------------------------------- properties


@st.composite
def journeys_with_ids(draw):
    """Uniquely identified events, each seen by the server, the client or both, with a skewed client
    clock and some missing client ts; returns (server_events, client_events, expected sources)."""
    count = draw(st.integers(0, 40))
    skew = draw(st.integers(-(10**7), 10**7))
    servers, clients, expected = [], [], {}
    moment = T0
    for i in range(count):
        moment += timedelta(milliseconds=draw(st.integers(0, 3 * 3_600_000)))
        source = draw(st.sampled_from(["server", "client", "both"]))
        name = draw(st.sampled_from(["page_view", "page_engagement", "cta"]))
        path = draw(st.sampled_from(["/", "/about", "/book?utm_source=x", None]))
        eid = f"id{i}"
        expected[eid] = source
        if source != "client":
            servers.append(server(eid, name, path, at=moment, row_id=i + 1, engaged_ms=draw(st.integers(-5, 10**6))))
        if source != "server":
            ts = None if draw(st.booleans()) and i % 4 == 0 else ms(moment) + skew
            clients.append(client(eid, name, path, ts=ts))
    clients = draw(st.permutations(clients)) if draw(st.booleans()) else clients
    return servers, clients, expected


@settings(deadline=None)  # speed has its own test; a busy CI box must not flake these
@given(journeys_with_ids())
def test_merge_never_loses_or_duplicates_and_marks_sources(case):
    """Every input event_id appears exactly once, with the right source, and nothing else appears."""
    servers, clients, expected = case
    timeline = reconstruct(servers, clients, SUBMITTED)["timeline"]
    assert len(timeline) == len(expected)
    assert {e["event_id"]: e["source"] for e in timeline} == expected


@settings(deadline=None)  # speed has its own test; a busy CI box must not flake these
@given(journeys_with_ids())
def test_timeline_is_sorted_and_visits_split_exactly_at_the_gap(case):
    """The timeline is in time order, visit numbers start at 0, and rise by one exactly where a gap exceeds 30 min."""
    servers, clients, _ = case
    journey = reconstruct(servers, clients, SUBMITTED)
    timeline = journey["timeline"]
    placed = [e for e in timeline if e["at"] is not None]
    assert timeline[: len(placed)] == placed  # events no clock could place come last
    times = [at(e) for e in placed]
    assert times == sorted(times)
    for previous, current, t0, t1 in zip(placed, placed[1:], times, times[1:], strict=False):
        assert current["visit"] == previous["visit"] + (1 if t1 - t0 > VISIT_GAP else 0)
    if timeline:
        assert timeline[0]["visit"] == 0
        assert len(journey["visits"]) == timeline[-1]["visit"] + 1 == journey["summary"]["visits"]
        assert sum(v["events"] for v in journey["visits"]) == len(timeline)


@settings(deadline=None)  # speed has its own test; a busy CI box must not flake these
@given(st.lists(st.sampled_from([0, 1, 60_000, 1_799_999, 1_800_000, 1_800_001, 7_200_000]), max_size=30))
def test_visits_split_at_gaps_longer_than_thirty_minutes(gaps_ms):
    """Server events separated by the given gaps split into 1 + (number of gaps > 30 min) visits."""
    moment, servers = T0, [server("e0", at=T0)]
    for i, gap in enumerate(gaps_ms, 1):
        moment += timedelta(milliseconds=gap)
        servers.append(server(f"e{i}", at=moment))
    journey = reconstruct(servers, [], SUBMITTED)
    assert journey["summary"]["visits"] == 1 + sum(1 for g in gaps_ms if g > 1_800_000)


_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
_junk_event = st.dictionaries(
    st.sampled_from(["event_name", "page_path", "params", "event_id", "ts", "created_at", "id"]),
    st.one_of(
        _scalar,
        st.dictionaries(st.sampled_from(["event_id", "referrer", "engaged_ms", "x"]), _scalar),
        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(_junk_event, _scalar), max_size=15),
    st.lists(st.one_of(_junk_event, _scalar), max_size=15),
    st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)), st.datetimes()),
)
def test_hostile_input_never_raises(servers, clients, submitted):
    """Arbitrary scalars and odd shapes in events and params never make reconstruct raise."""
    journey = reconstruct(servers, clients, submitted)
    assert set(journey) == {"timeline", "visits", "summary"}


@settings(deadline=None)
@given(journeys_with_ids())
def test_list_summary_is_the_summary_of_the_full_reconstruction(case):
    """The promote's shortcut (no timeline) stores exactly what the full reconstruction would."""
    servers, clients, _ = case
    assert list_summary(servers, clients, SUBMITTED) == flattened(reconstruct(servers, clients, SUBMITTED))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(_junk_event, _scalar), max_size=15),
    st.lists(st.one_of(_junk_event, _scalar), max_size=15),
    st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)), st.datetimes()),
)
def test_list_summary_agrees_on_hostile_input(servers, clients, submitted):
    """Junk in, the same summary out of both paths, and neither raises."""
    assert list_summary(servers, clients, submitted) == flattened(reconstruct(servers, clients, submitted))


def test_the_public_match_window_is_the_one_matching_uses():
    """Id-less events exactly MATCH_WINDOW apart are one event; a millisecond more, two."""
    at = T0.replace(microsecond=123_000)
    window_ms = journeys.MATCH_WINDOW // timedelta(milliseconds=1)
    for apart, sources in ((window_ms, ["both"]), (window_ms + 1, ["client", "server"])):
        journey = reconstruct(
            [server(None, "cta", "/book", at=at)], [client(None, "cta", "/book", ts=ms(at) + apart)], SUBMITTED
        )
        assert sorted(e["source"] for e in journey["timeline"]) == sources


def test_clicks_on_a_page_do_not_end_its_time_on_page():
    """The time on a page runs to the next page_view, not to a click or custom event on that page."""
    journey = reconstruct(
        [
            server("a", at=T0),
            server("k", name="cta_click", at=T0 + timedelta(seconds=5)),
            server("b", path="/next", at=T0 + timedelta(seconds=40)),
        ],
        [],
        SUBMITTED,
    )
    assert by_id(journey)["a"]["time_on_page_ms"] == 40_000


def test_last_page_of_the_enquiring_visit_runs_until_the_submission():
    """The page the visitor enquired from counts until the submission when it came within the visit."""
    submitted = T0 + timedelta(minutes=3)
    journey = reconstruct([server("a", at=T0), server("b", path="/book", at=T0 + timedelta(minutes=1))], [], submitted)
    assert by_id(journey)["b"]["time_on_page_ms"] == 120_000
    late = reconstruct([server("a", at=T0)], [], T0 + timedelta(hours=2))
    assert by_id(late)["a"]["time_on_page_ms"] is None  # the enquiry came in a later visit


def test_a_client_only_event_is_never_placed_after_the_submission():
    """The browser sent its buffer with the promote, so no client-only event can come later than it."""
    submitted = T0 + timedelta(minutes=1)
    journey = reconstruct(
        [server("a", at=T0)],
        [client("a", ts=ms(T0) - 600_000), client("x", path="/late", ts=ms(T0) + 50_000)],
        submitted,
    )
    assert at(by_id(journey)["x"]) == submitted


# -- visits the browser remembered (touches) -----------------------------------------------------

_touch = st.fixed_dictionaries(
    {
        "ts": st.integers(int((SUBMITTED - timedelta(days=120)).timestamp() * 1000), int(SUBMITTED.timestamp() * 1000)),
        "page_path": st.sampled_from(["/", "/?utm_source=newsletter&utm_medium=email", "/?gclid=abc", "/prices"]),
        "referrer": st.sampled_from([None, "https://www.google.com", "https://news.example"]),
        "pages": st.integers(1, 20),
    }
)


def test_a_remembered_visit_ten_days_ago_is_the_first_touch():
    """A newsletter visit the browser remembers from ten days ago comes first: channel Email, source
    newsletter; time to enquiry and visits count it, and the buffered visit follows it."""
    ten_days = SUBMITTED - timedelta(days=10)
    touches = [
        {
            "ts": int(ten_days.timestamp() * 1000),
            "page_path": "/?utm_source=newsletter&utm_medium=email",
            "referrer": None,
            "pages": 3,
        }
    ]
    servers = [server("a", path="/", at=SUBMITTED - timedelta(minutes=5))]
    journey = reconstruct(servers, [], SUBMITTED, touches=touches)
    first, second = journey["visits"]
    assert first["remembered"] and first["channel"] == "Email" and first["source"] == "newsletter"
    assert first["page_views"] == 3 and second["index"] == 1 and journey["timeline"][0]["visit"] == 1
    summary = journey["summary"]
    assert summary["first_touch"]["channel"] == "Email" and summary["visits"] == 2 and summary["page_views"] == 4
    assert summary["time_to_enquiry_ms"] == 10 * 86_400_000
    assert summary["last_touch"]["channel"] == "Email"  # the buffered visit was Direct


def test_a_remembered_visit_the_buffer_also_holds_is_not_counted_twice():
    """A touch that starts within the buffered visit (the same visit, remembered) adds nothing."""
    at = SUBMITTED - timedelta(minutes=5)
    touches = [{"ts": int(at.timestamp() * 1000), "page_path": "/", "referrer": None, "pages": 1}]
    journey = reconstruct([server("a", path="/", at=at)], [], SUBMITTED, touches=touches)
    assert len(journey["visits"]) == 1 and "remembered" not in journey["visits"][0]


@settings(deadline=None)
@given(journeys_with_ids(), st.lists(_touch, max_size=12))
def test_list_summary_with_remembered_visits_is_the_full_reconstructions(case, touches):
    """With remembered visits too, the promote's shortcut stores exactly the full reconstruction's summary."""
    servers, clients, _ = case
    expected = flattened(reconstruct(servers, clients, SUBMITTED, touches=touches))
    assert list_summary(servers, clients, SUBMITTED, touches) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_junk_event, _scalar), max_size=8), st.lists(st.one_of(_junk_event, _scalar), max_size=8))
def test_junk_touches_never_raise(servers, touches):
    """Arbitrary shapes in the remembered visits are skipped, never raised on."""
    journey = reconstruct(servers, [], SUBMITTED, touches=touches)
    assert list_summary(servers, [], SUBMITTED, touches) == flattened(journey)


# -- browser clocks (issue 12, findings 6 and 14) --------------------------------------------------


def test_a_resent_event_keeps_the_time_the_browser_recorded_it():
    """Events held back by a blocked send and re-sent later get the browser's time on the server's
    clock (offset from the sends that were not delayed), not their late arrival; so they stay in
    their visit."""
    start = SUBMITTED - timedelta(hours=1)
    ms = lambda at: int(at.timestamp() * 1000)  # noqa: E731
    skew = timedelta(minutes=7)  # the browser's clock is 7 minutes behind
    a = server("a", path="/", at=start, client_ts=ms(start - skew))
    # Recorded 20 s after a, blocked, re-sent 45 minutes later (past the 30-minute visit gap).
    late_at = start + timedelta(minutes=45)
    b = server("b", path="/prices", at=late_at, client_ts=ms(start + timedelta(seconds=20) - skew))
    c = server(
        "c", path="/book", at=late_at + timedelta(seconds=1), client_ts=ms(late_at + timedelta(seconds=1) - skew)
    )
    journey = reconstruct([a, b, c], [], SUBMITTED)
    times = {e["page_path"]: e["at"] for e in journey["timeline"]}
    assert times["/prices"] == (start + timedelta(seconds=20)).isoformat(timespec="microseconds")
    assert [e["visit"] for e in journey["timeline"]] == [0, 0, 1]


def test_a_client_clock_from_2001_never_stretches_the_journey():
    """A browser-only event stamped 2001 gets no time (placed by the buffer's order) instead of
    making the time to enquiry 9,468 days."""
    old = {"event_name": "page_view", "page_path": "/old", "params": {}, "event_id": "x", "ts": 978307200000}
    journey = reconstruct([server("a", path="/", at=SUBMITTED - timedelta(minutes=5))], [old], SUBMITTED)
    assert journey["summary"]["time_to_enquiry_ms"] <= 5 * 60_000
    assert (
        list_summary([server("a", path="/", at=SUBMITTED - timedelta(minutes=5))], [old], SUBMITTED)[
            "time_to_enquiry_ms"
        ]
        <= 5 * 60_000
    )


@settings(deadline=None)
@given(journeys_with_ids(), st.lists(_touch, max_size=12))
def test_remembered_visits_come_first_and_count_once(case, touches):
    """Remembered visits are a prefix of `visits` in time order, all before the buffered ones begin
    (less the 30-minute visit gap); the first touch is the earliest known; visits and page views
    add up; they never shorten the time to enquiry and the timeline points at buffered visits only."""
    servers, clients, _ = case
    journey = reconstruct(servers, clients, SUBMITTED, touches=touches)
    plain = reconstruct(servers, clients, SUBMITTED)
    visits, summary = journey["visits"], journey["summary"]
    remembered = [v for v in visits if v.get("remembered")]
    assert visits[: len(remembered)] == remembered and [v["index"] for v in visits] == list(range(len(visits)))
    assert len(visits) == len(plain["visits"]) + len(remembered) == summary["visits"]
    assert summary["page_views"] == sum(v["page_views"] for v in visits)
    starts = [datetime.fromisoformat(v["started_at"]) for v in remembered]
    assert starts == sorted(starts) and all(start <= SUBMITTED for start in starts)
    if plain["summary"]["first_seen_at"] is not None:
        first_buffered = datetime.fromisoformat(plain["summary"]["first_seen_at"])
        assert all(start <= first_buffered - VISIT_GAP for start in starts)
    if remembered:
        assert summary["first_seen_at"] == remembered[0]["started_at"] == summary["first_touch"]["at"]
        assert summary["first_touch"]["channel"] == remembered[0]["channel"]
    if plain["summary"]["time_to_enquiry_ms"] is not None:
        assert summary["time_to_enquiry_ms"] >= plain["summary"]["time_to_enquiry_ms"]
    assert all(e["visit"] >= len(remembered) for e in journey["timeline"])
    assert [e["event_id"] for e in journey["timeline"]] == [e["event_id"] for e in plain["timeline"]]


def test_a_remembered_visit_is_moved_by_the_browser_clock_offset():
    """A browser clock an hour slow (seen on events both paths hold) moves its remembered visits an hour on."""
    slow = 3_600_000
    servers = [server("a", at=T0), server("b", at=T0 + timedelta(seconds=60))]
    clients = [client("a", ts=ms(T0) - slow), client("b", ts=ms(T0) + 60_000 - slow)]
    week_ago = T0 - timedelta(days=7)
    touches = [{"ts": ms(week_ago) - slow, "page_path": "/?gclid=x", "referrer": None, "pages": 2}]
    first = reconstruct(servers, clients, SUBMITTED, touches=touches)["visits"][0]
    assert first["remembered"] and first["channel"] == "Paid Search"
    assert abs(datetime.fromisoformat(first["started_at"]) - week_ago) < timedelta(milliseconds=2)


def test_remembered_visits_are_sorted_and_never_after_the_enquiry():
    """Touches out of order come out oldest first; one the browser clock put after the submission
    (and no buffered event to correct it) is placed at the submission."""
    touches = [
        {"ts": ms(SUBMITTED + timedelta(days=2)), "page_path": "/late", "referrer": None, "pages": 1},
        {"ts": ms(SUBMITTED - timedelta(days=3)), "page_path": "/", "referrer": "https://www.bing.com", "pages": 1},
    ]
    journey = reconstruct([], [], SUBMITTED, touches=touches)
    first, last = journey["visits"]
    assert (first["channel"], last["landing_page"]) == ("Organic Search", "/late")
    assert datetime.fromisoformat(last["started_at"]) == SUBMITTED
    assert journey["summary"]["time_to_enquiry_ms"] == 3 * 86_400_000
    assert list_summary([], [], SUBMITTED, touches) == flattened(journey)
