"""The Insights page's sample of the newest journeys, read from journey_facts.sample (each
journey's part, insights.journey_sample) instead of every journey's events: the same figures as
rebuilding the journeys from their events, on SQLite and PostgreSQL, and a part that is missing
or older than the journey's last write is rebuilt from the events, never shown."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from support import run_store
from test_dashboard_helpers import make_journey, seed_journeys

from leadtrail import insights, totals
from leadtrail.export import export_journey
from leadtrail.routes.dashboard.insights import _sample_analysis
from leadtrail.store import JourneyRecord, dumps, iso
from leadtrail.store import dashboard as db

NOW = datetime.now(UTC)
SINCE, UNTIL = NOW - timedelta(days=30), NOW + timedelta(minutes=1)


def reference_analysis(rows: list[dict]) -> dict:
    """The page's sample figures as they were computed before journey_facts.sample: each row
    rebuilt by export_journey, counted in one loop."""
    pages: Counter = Counter()
    channel_paths: Counter = Counter()
    landing_paths: Counter = Counter()
    hidden = hidden_events = 0
    for row in rows:
        journey = export_journey(row)
        viewed = [
            (e.get("page_path") or "").split("#", 1)[0].split("?", 1)[0]
            for e in journey["timeline"]
            if e.get("event_name") == "page_view" and e.get("page_path")
        ]
        pages.update(set(viewed) - set(viewed[-1:]))
        visits = journey["visits"]
        if visits:
            channel_paths[
                tuple(v.get("channel") or "Unassigned" for v in visits[:4]) + (("…",) if len(visits) > 4 else ())
            ] += 1
            landing_paths[
                tuple(v.get("landing_page") or "(unknown)" for v in visits[:3]) + (("…",) if len(visits) > 3 else ())
            ] += 1
        client_only = journey["summary"].get("client_only_events") or 0
        if client_only:
            hidden += 1
            hidden_events += client_only
    return {
        "n": len(rows),
        "pages": pages,  # every page's count: which of equal counts make the top 12 was never fixed
        "channel_paths": channel_paths.most_common(8),
        "landing_paths": landing_paths.most_common(8),
        "hidden": hidden,
        "hidden_events": hidden_events,
    }


def same_figures(analysis: dict, expected: dict) -> bool:
    """The same figures; among pages of equal counts either may make the top 12 (the old set
    order left that to the process's string hashing)."""
    top = expected["pages"].most_common(12)
    pages = analysis["pages"]
    return (
        {k: v for k, v in analysis.items() if k != "pages"} == {k: v for k, v in expected.items() if k != "pages"}
        and [n for _, n in pages] == [n for _, n in top]
        and all(expected["pages"][page] == n for page, n in pages)
    )


def rows_of(rng: random.Random, count: int) -> list[dict]:
    rows = []
    for i in range(count):
        at = NOW - timedelta(hours=i)
        record = make_journey(rng, at)
        later = at + timedelta(minutes=rng.choice([0, 0, 7]))  # some refreshed by a second promote
        rows.append(
            {
                "id": i,
                "email": record.email,
                "anon_id": None,
                "form": record.form,
                "consent": None,
                "created_at": iso(at),
                "updated_at": iso(later),
                "events": record.events,
                "client_events": record.client_events,
            }
        )
    return rows


def test_the_kept_parts_add_up_to_the_figures_rebuilt_from_the_events():
    rows = rows_of(random.Random(11), 60)
    parts = [insights.sample_of_row(row) for row in rows]
    # JSON round trip: what journey_facts.sample gives back.
    from_json = [__import__("orjson").loads(dumps(p)) for p in parts]
    expected = reference_analysis(rows)
    assert same_figures(insights.analyse_samples(from_json), expected)
    assert same_figures(insights.analyse_sample(rows), expected)
    assert expected["pages"] and expected["channel_paths"] and expected["hidden"]


def test_a_missing_or_out_of_date_part_is_rebuilt_and_a_deleted_journey_left_out():
    t = NOW
    rows = [
        {"id": 1, "written": t, "computed_at": t, "sample": {"kept": 1}},
        {"id": 2, "written": t, "computed_at": t - timedelta(microseconds=1), "sample": {"kept": 2}},
        {"id": 3, "written": t, "computed_at": None, "sample": None},
        {"id": 4, "written": t, "computed_at": t + timedelta(seconds=1), "sample": None},
        {"id": 5, "written": t, "computed_at": None, "sample": None},  # deleted before it was read
    ]
    assert insights.stale_samples(rows) == [2, 3, 4, 5]
    rebuilt = {2: {"new": 2}, 3: {"new": 3}, 4: {"new": 4}}
    assert insights.sample_parts(rows, rebuilt) == [{"kept": 1}, {"new": 2}, {"new": 3}, {"new": 4}]


def test_the_page_reads_current_parts_and_rebuilds_the_rest(database_url):
    """On both databases: before any facts the sample is rebuilt from the events; after the facts
    refresh the same figures come from journey_facts.sample (a part planted there shows, so it is
    read); once the journey is written again its older part is ignored; a part missing (an upgrade,
    a removed history) is picked up by the refresh."""
    rng = random.Random(4)

    async def work(store):
        await seed_journeys(store, 25, now=NOW, seed=3, spread=timedelta(days=5))
        # One journey refreshed by a second promote (updated_at after created_at), with remembered visits.
        record = make_journey(rng, NOW - timedelta(hours=2))
        record = JourneyRecord(
            "again@example.com",
            "anon-again",
            record.events,
            record.client_events,
            record.form,
            record.consent,
            record.summary,
            touches=[
                {
                    "ts": int((NOW - timedelta(days=3)).timestamp() * 1000),
                    "page_path": "/?gclid=x",
                    "referrer": None,
                    "pages": 2,
                }
            ],
        )
        again, _ = await store.save_journey(record, NOW - timedelta(hours=2), timedelta(0))
        await store.save_journey(record, NOW - timedelta(hours=1), timedelta(hours=1))
        facts = await db.insights_sample_facts(store, SINCE, UNTIL, insights.SAMPLE)
        journeys = await db.insights_sample_rows(store, [r["id"] for r in facts])
        by_id = {j["id"]: j for j in journeys}
        expected = reference_analysis([by_id[r["id"]] for r in facts])
        before = await _sample_analysis(store, SINCE, UNTIL)

        assert await totals.refresh_all_facts(store) == 26
        kept = await db.insights_sample_facts(store, SINCE, UNTIL, insights.SAMPLE)
        assert insights.stale_samples(kept) == []
        after = await _sample_analysis(store, SINCE, UNTIL)

        # A part planted for the newest journey: shown while computed at its last write...
        newest = kept[0]
        planted = {"pages": ["/planted"], "channels": ["Email"], "landings": ["/planted"], "client_only": 0}

        async def plant(computed_at):
            row = [newest["id"], iso(computed_at), None, None, None, None, None, None, "[]", dumps(planted)]
            async with store.transaction() as tx:
                await tx.execute("facts_upsert", rows=dumps([row]))
            return await _sample_analysis(store, SINCE, UNTIL)

        shown = await plant(newest["written"])
        # ...not once the journey was written after it (its events are read instead).
        ignored = await plant(newest["written"] - timedelta(seconds=1))

        async with store.transaction() as tx:
            await tx.execute("receipt_forget_facts", id=again, empty=dumps([]))
        forgot = await db.insights_sample_facts(store, SINCE, UNTIL, insights.SAMPLE)
        forgotten_stale = insights.stale_samples(forgot)
        assert await totals.refresh_facts(store) == 1  # facts_stale picks the missing part up
        final = await db.insights_sample_facts(store, SINCE, UNTIL, insights.SAMPLE)
        return expected, before, after, shown, ignored, again, forgotten_stale, final

    expected, before, after, shown, ignored, again, forgotten_stale, final = run_store(database_url, work)
    assert expected["n"] == 26
    assert same_figures(before, expected)
    assert same_figures(after, expected)
    assert dict(shown["pages"])["/planted"] == 1 and shown["n"] == 26
    assert same_figures(ignored, expected)
    assert forgotten_stale == [again]  # the newest journey: the one planted above
    assert insights.stale_samples(final) == []
