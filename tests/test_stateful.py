"""A stateful test of track, promote, prune and erase: after every step the database holds exactly
what a simple model says (nothing acknowledged lost, nothing doubled, erasure complete)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from support import EPOCH, app_client, run_store

VISITORS = ["v0", "v1", "v2"]
EMAILS = ["ann@example.com", "bob@example.com"]
PATHS = ["/", "/services", "/about", "/book?utm_source=news&utm_medium=email"]


class TrackPromoteEraseMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.url = f"sqlite:///{Path(self.tmp.name) / 'state.db'}"
        self.cm = app_client(self.url)
        self.client = self.cm.__enter__()
        self.cookies: dict[str, str] = {}
        self.sent: dict[str, set[str]] = {v: set() for v in VISITORS}  # acknowledged event ids
        self.journeys: dict[str, set[str]] = {e: set() for e in EMAILS}  # email -> visitors promoted
        self.erased_visitors: set[str] = set()
        self.counter = 0

    def teardown(self):
        if hasattr(self, "cm"):
            self.cm.__exit__(None, None, None)
            self.tmp.cleanup()

    def _post(self, visitor: str, path: str, body: dict):
        headers = {"Cookie": f"anon_id={self.cookies[visitor]}"} if visitor in self.cookies else {}
        self.client.cookies.clear()
        r = self.client.post(path, json=body, headers=headers)
        if "set-cookie" in r.headers:
            self.cookies[visitor] = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        return r

    @rule(
        visitor=st.sampled_from(VISITORS),
        paths=st.lists(st.sampled_from(PATHS), min_size=1, max_size=4),
        resend=st.booleans(),
    )
    def track(self, visitor, paths, resend):
        events = []
        for path in paths:
            self.counter += 1
            events.append({"event_name": "page_view", "page_path": path, "event_id": f"e{self.counter}"})
        if resend and self.sent[visitor]:
            events.append({"event_name": "page_view", "page_path": "/", "event_id": sorted(self.sent[visitor])[0]})
        r = self._post(visitor, "/api/track", {"events": events})
        assert r.status_code == 204, r.text
        self.sent[visitor] |= {e["event_id"] for e in events}
        self.erased_visitors.discard(visitor)

    @precondition(lambda self: self.cookies)
    @rule(data=st.data(), email=st.sampled_from(EMAILS))
    def promote(self, data, email):
        visitor = data.draw(st.sampled_from(sorted(self.cookies)))
        r = self._post(visitor, "/api/track/promote", {"email": email.upper()})
        expected = 200 if visitor in self.journeys[email] else 201
        assert r.status_code == expected, r.text
        assert r.json()["server_events"] == len(self.sent[visitor])
        self.journeys[email].add(visitor)

    @rule(email=st.sampled_from(EMAILS))
    def erase(self, email):
        count = run_store(self.url, lambda store: store.erase_email(email))
        assert count == len(self.journeys[email])
        for visitor in self.journeys[email]:
            self.sent[visitor] = set()
            self.erased_visitors.add(visitor)
        self.journeys[email] = set()

    @rule()
    def prune(self):
        from support import make_settings

        from leadtrail.lifecycle import prune

        result = run_store(self.url, lambda store: prune(store, make_settings(self.url)))
        assert result.events == 0 and result.journeys == 0  # nothing is older than the TTL here

    @invariant()
    def database_matches_the_model(self):
        if not hasattr(self, "client"):
            return

        async def look(store):
            stored = {}
            for visitor, cookie in self.cookies.items():
                events = await store.snapshot_events(cookie.split(".")[0], since=EPOCH)
                stored[visitor] = [e["params"]["event_id"] for e in events]
            journeys = {email: await store.journeys_by_email(email, EPOCH) for email in EMAILS}
            return stored, journeys

        stored, journeys = run_store(self.url, look)
        for visitor, ids in stored.items():
            assert len(ids) == len(set(ids)), "an event was stored twice"
            assert set(ids) == self.sent[visitor], "an acknowledged event is missing or an erased one remains"
        for email in EMAILS:
            assert len(journeys[email]) == len(self.journeys[email])


TrackPromoteEraseMachine.TestCase.settings = settings(
    max_examples=15, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck)
)
test_track_promote_erase = TrackPromoteEraseMachine.TestCase
