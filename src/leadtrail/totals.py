"""Anonymous daily totals: every visitor's visits and page views, counted per local day, kept
after the 24-hour buffer is gone, holding nothing per visitor.

A roll-up step counts one stretch of the buffer, [through, now - SETTLE) (at most MAX_STEP):
- visits: the database finds the events that start a visit with a window function (an event more
  than 30 minutes after the visitor's previous one, journeys' rule and order; for a visitor's first
  event of the stretch, their last event in the 30 minutes before it is looked up), and each new
  visit is described by journeys.server_visits exactly as a journey's visit is (channel and source
  from its landing page view); counted on the local day it started, by (channel, source) and by
  landing page;
- page views: grouped by local day and page (path without query or fragment) in SQL.
Then, in one transaction, it moves the watermark `totals_rollup.through` by compare-and-set and
adds the counts. A worker that lost the race (another process moved the watermark first) rolls
its transaction back and counts nothing; a crash before the commit leaves the watermark where it
was, so the stretch is counted by the next roll-up. Prune deletes only events older than
`through - VISIT_GAP` (prune_before), so nothing uncounted, nor the look-back the next stretch
needs, is ever deleted. A visit not started by a page view is described from its events up to the
stretch's end.

SETTLE covers a batch committed after its events' created_at (the PostgreSQL write deadline is
under 2 s, a SQLite lock wait at most busy_timeout = 5 s) and clock skew between hosts sharing one
PostgreSQL; every ROLLUP_INTERVAL seconds, so a visit counts within SETTLE + ROLLUP_INTERVAL.

journey_facts: per enquiry, the first and last touch and the pages seen, from reconstruct(),
refreshed in the same periodic task, so insights never read events; and (sample) the Insights
page's part of the journey in its sample of the newest enquiries (insights.journey_sample).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import orjson

from . import conversions, insights, journeys, timestamps
from .localtime import day_range, local_date, offset_segments
from .settings import Settings
from .store import SqlStore, StoreUnavailable, dumps, iso, utcnow

log = logging.getLogger("leadtrail.totals")

SETTLE = timedelta(seconds=20)
ROLLUP_INTERVAL = 10.0  # seconds
MAX_STEP = timedelta(minutes=5)  # the longest stretch one roll-up step counts (catching up)
COUNT_CHUNK = 100  # new visits described between two yields to the event loop
FACTS_BATCH = 200  # journeys whose facts one step refreshes at most
FACTS_FULL_EVERY = 30  # runs (5 minutes) between looks for journeys changed since their facts


@dataclass
class Counts:
    """One roll-up's additions: (day, channel, source), (day, landing page), (day, page) -> n."""

    visits: Counter = field(default_factory=Counter)
    landings: Counter = field(default_factory=Counter)
    views: Counter = field(default_factory=Counter)


def base_path(path: object) -> str | None:
    return path.split("#", 1)[0].split("?", 1)[0] if isinstance(path, str) else None


def _day(at: datetime, tz: tzinfo) -> str:
    return local_date(at, tz).isoformat()


def visit_starts(candidates: list[dict], previous: dict[str, Any]) -> list[dict]:
    """Pure: the candidates (totals_visit_starts) that start a visit. A candidate with `prev`
    follows a gap of more than VISIT_GAP inside the stretch: it does. One without (the visitor's
    first event of the stretch) does unless `previous` holds their last event within VISIT_GAP
    before it (then the visit began earlier and was counted then)."""
    starts = []
    for row in candidates:
        earlier = previous.get(row["anon_id"]) if row["prev"] is None else None
        if earlier is None or timestamps.instant(row["created_at"]) - timestamps.instant(earlier) > journeys.VISIT_GAP:
            starts.append(row)
    return starts


def count_visit(counts: Counts, events: list[dict], tz: tzinfo) -> None:
    """Pure: counts the visit that `events` (journeys' server events, oldest first) begin with,
    described by journeys.server_visits exactly as a journey's visit is."""
    for e in events:
        if isinstance(e.get("params"), (str, bytes)):
            e["params"] = orjson.loads(e["params"])
    visits = journeys.server_visits(events)
    if not visits or visits[0]["started_at"] is None:
        return
    visit = visits[0]
    day = _day(timestamps.instant(visit["started_at"]), tz)
    counts.visits[(day, visit["channel"], visit["source"] or "")] += 1
    if visit["landing_page"] is not None:
        counts.landings[(day, visit["landing_page"])] += 1


class _LostRace(Exception):
    """Another roll-up moved the watermark first; this one's transaction is rolled back."""


async def _read_through(store: SqlStore) -> datetime | None:
    value = await store.fetchval("totals_rollup_get")
    return None if value is None else store.decode_time(value)


async def _count(store: SqlStore, start: datetime, until: datetime, tz: tzinfo, look_back: bool) -> Counts:
    """The counts of [start, until). The database finds the visit starts (a window function over
    the stretch) and groups the page views; Python describes only the new visits."""
    counts = Counts()
    candidates = await store.fetch("totals_visit_starts", since=start, until=until)
    previous: dict[str, Any] = {}
    firsts = [row["anon_id"] for row in candidates if row["prev"] is None]
    if firsts and look_back:
        for row in await store.fetch(
            "totals_previous_events", ids=dumps(firsts), since=start - journeys.VISIT_GAP, until=start
        ):
            previous[row["anon_id"]] = row["last"]
    for i, row in enumerate(visit_starts(candidates, previous)):
        events = [row]
        if row["event_name"] != "page_view":
            # Rare (a tab left open past 30 minutes): journeys looks further for the landing page.
            events = await store.fetch(
                "totals_visit_events", anon_id=row["anon_id"], since=row["created_at"], until=until
            )
        count_visit(counts, events, tz)
        if i % COUNT_CHUNK == COUNT_CHUNK - 1:
            await asyncio.sleep(0)  # requests get the event loop between chunks
    for segment in offset_segments(start, until, tz):
        for row in await store.fetch(
            "totals_window_views", since=segment.since, until=segment.until, shift=segment.offset_seconds
        ):
            counts.views[(str(row["day"]), row["page_path"])] += int(row["n"])
    return counts


async def roll_up_step(store: SqlStore, tz: tzinfo, now: datetime | None = None) -> tuple[int, bool]:
    """Counts one stretch (at most MAX_STEP long). Returns (visits counted, caught up); (0, False)
    when another roll-up counted that stretch first."""
    due = (now or utcnow()) - SETTLE
    through = await _read_through(store)
    start = through
    if start is None:
        first = await store.fetchval("totals_first_event")
        start = due if first is None else min(store.decode_time(first), due)
    if start >= due and through is not None:
        return 0, True
    until = min(due, start + MAX_STEP)
    counts = await _count(store, start, until, tz, look_back=through is not None)
    try:
        async with store.transaction() as tx:
            if through is None:
                moved = await tx.execute("totals_rollup_start", through=until)
            else:
                moved = await tx.execute("totals_rollup_advance", through=until, old=through)
            if moved != 1:
                raise _LostRace
            for query, counter in (
                ("totals_add_visits", counts.visits),
                ("totals_add_landings", counts.landings),
                ("totals_add_views", counts.views),
            ):
                if counter:
                    await tx.execute(query, rows=dumps([[*key, n] for key, n in counter.items()]))
    except _LostRace:
        return 0, False
    return sum(counts.visits.values()), until >= due


async def roll_up(store: SqlStore, tz: tzinfo, now: datetime | None = None, max_steps: int = 100_000) -> int:
    """Counts the buffer up to now - SETTLE (or until another worker has). Returns visits counted."""
    total = 0
    for _ in range(max_steps):
        counted, caught_up = await roll_up_step(store, tz, now)
        total += counted
        if caught_up:
            break
    return total


async def prune_before(store: SqlStore, cutoff: datetime) -> datetime | None:
    """The prune's cut-off for buffered events: `cutoff`, but never past what the totals have
    counted, less the look-back the next roll-up needs (None: nothing may be deleted yet)."""
    through = await _read_through(store)
    if through is None:
        return None
    return min(cutoff, through - journeys.VISIT_GAP)


# -- journey facts ----------------------------------------------------------------------------------


def journey_facts(events: Any, client_events: Any, submitted_at: Any, touches: Any = ()) -> dict:
    """Pure: first and last touch (remembered visits included) and the distinct pages seen
    (viewed), from journeys.outline() (reconstruct()'s visits and summary, and its page views)."""
    return facts_of(journeys.outline(_list(events), _list(client_events), submitted_at, touches=_list(touches)))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def facts_of(outlined: dict) -> dict:
    """Pure: journey_facts from a journey's outline() (or reconstruct())."""
    summary = outlined["summary"]
    first, last = summary["first_touch"] or {}, summary["last_touch"] or {}
    pages = sorted(
        {
            p
            for e in outlined["timeline"]
            if e["event_name"] == "page_view" and (p := base_path(e["page_path"])) is not None
        }
    )
    return {
        "first_channel": first.get("channel"),
        "first_source": first.get("source"),
        "first_landing": first.get("landing_page"),
        "last_channel": last.get("channel"),
        "last_source": last.get("source"),
        "last_landing": last.get("landing_page"),
        "pages": pages,
    }


def facts_row(
    events: Any,
    client_events: Any,
    touches: Any,
    created_at: datetime,
    written_at: datetime,
    outlined: dict | None = None,
) -> list:
    """Pure: facts_upsert's row of one journey (without its id), stamped `written_at` (its last
    write, updated_at, or its creation): the facts as of its creation with its remembered visits,
    and the Insights page's sample part as the page has always rebuilt it (as of its last write,
    without the remembered visits: insights.journey_sample). `outlined`: outline() at
    `written_at` with the touches when the caller has it (the promote), so a new journey without
    remembered visits needs no rebuild at all. The periodic refresh and the promote both use it."""
    events, client_events, touches = _list(events), _list(client_events), _list(touches)
    if outlined is None:
        outlined = journeys.outline(events, client_events, written_at, touches=touches)
    same = written_at == created_at
    at_creation = outlined if same else journeys.outline(events, client_events, created_at, touches=touches)
    sample_of = outlined if not touches else journeys.outline(events, client_events, written_at)
    facts = facts_of(at_creation)
    return [
        iso(written_at),
        *(facts[k] for k in ("first_channel", "first_source", "first_landing")),
        *(facts[k] for k in ("last_channel", "last_source", "last_landing")),
        dumps(facts["pages"]),
        dumps(insights.journey_sample(sample_of)),
    ]


def _facts_rows(store: SqlStore, rows: list[dict]) -> list[list]:
    out = []
    for row in rows:
        created = store.decode_time(row["created_at"])
        written = store.decode_time(row["updated_at"]) if row["updated_at"] is not None else created
        touches = store.decode_json(row["touches"]) if "touches" in row else []
        events, client_events = store.decode_json(row["events"]), store.decode_json(row["client_events"])
        out.append([row["id"], *facts_row(events, client_events, touches, created, written)])
    return out


async def refresh_facts(store: SqlStore, limit: int = FACTS_BATCH, query: str = "facts_stale") -> int:
    """Computes facts of journeys that have none or changed since (facts_stale: reads every
    journey's id and time; facts_new: only journeys newer than every one with facts, a primary key
    range); returns how many."""
    rows = await store.fetch(query, limit=limit)
    if not rows:
        return 0
    # Off the event loop: a backfill of many journeys (an upgrade) must not stall requests.
    out = await asyncio.to_thread(_facts_rows, store, rows)
    async with store.transaction() as tx:
        await tx.execute("facts_upsert", rows=dumps(out))
    return len(rows)


async def refresh_all_facts(store: SqlStore, query: str = "facts_stale") -> int:
    total = 0
    while (done := await refresh_facts(store, query=query)) > 0:
        total += done
        if done < FACTS_BATCH:
            break
    return total


# -- the insights read -------------------------------------------------------------------------------


def enquiry_groups(rows: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """Pure: conv_enquiry_groups' rows as conversions.insights_document takes them: enquiries by
    (channel, source), by landing page (page_path) and the enquirers of each page (page_path,
    enquirers)."""
    by_channel, by_landing, pages = [], [], []
    for row in rows:
        if row["kind"] == "channel":
            by_channel.append({"channel": row["key"], "source": row["source"], **_outcomes(row)})
        elif row["kind"] == "landing":
            by_landing.append({"page_path": row["key"], **_outcomes(row)})
        else:
            pages.append({"page_path": row["key"], "enquirers": row["n"]})
    return by_channel, by_landing, pages


def _outcomes(row: dict) -> dict:
    return {"n": row["n"], "won": row["won"], "value": row["value"]}


async def load_insights(
    store: SqlStore, first: date, last: date, tz: tzinfo, model: str = conversions.DEFAULT_MODEL, now=None
) -> dict:
    """GET /api/v1/insights' document for local days first..last (both included): the facts of
    new journeys are brought up to date first (bounded), then grouped queries feed
    conversions.insights_document; the model picks which touch the enquiry queries credit.
    Raises ValueError for an unknown model."""
    if model not in conversions.MODELS:
        raise ValueError(f"model must be one of {', '.join(conversions.MODELS)}")
    await refresh_facts(store, query="facts_new")
    since, until = day_range(first, last, tz)
    days = {"first": first.isoformat(), "last": last.isoformat()}
    span = {"since": since, "until": until}
    credit = {**span, "first": model == "first_touch"}
    segments = offset_segments(since, until, tz, now or utcnow())
    # Independent reads, run at once (SQLite's reader threads, PostgreSQL's pool).
    results = await asyncio.gather(
        store.fetch("conv_totals_visits", **days),
        store.fetch("conv_totals_landings", **days),
        store.fetch("conv_totals_views", **days),
        store.fetch("conv_enquiry_groups", **credit),
        *(store.fetch("conv_enquiries_by_day", since=s.since, until=s.until, shift=s.offset_seconds) for s in segments),
    )
    visits, landings, views = results[:3]
    by_channel, by_landing, pages = enquiry_groups(results[3])
    per_day = [row for rows in results[4:] for row in rows]
    return conversions.insights_document(
        visits, landings, views, by_channel, by_landing, per_day, pages, conversions.days_between(first, last)
    )


class Totals:
    """The periodic roll-up (and facts refresh) of one server process."""

    def __init__(self, store: SqlStore, settings: Settings) -> None:
        self.store = store
        self.tz = settings.tz
        self._task: asyncio.Task | None = None
        self.rolled_visits = 0  # for /metrics and tests
        self._runs = 0

    async def run_once(self) -> None:
        try:
            self.rolled_visits += await roll_up(self.store, self.tz)
            # New journeys every run; a journey refreshed or changed since its facts (a scan of
            # every journey's id and time) every FACTS_FULL_EVERY runs.
            full = self._runs % FACTS_FULL_EVERY == 0
            self._runs += 1
            await refresh_all_facts(self.store, "facts_stale" if full else "facts_new")
        except StoreUnavailable as exc:
            log.warning("totals roll-up skipped: %s", exc)
        except Exception:
            log.exception("totals roll-up failed")

    def start_periodic(self) -> None:
        self._task = asyncio.create_task(self._every_interval())

    async def _every_interval(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(ROLLUP_INTERVAL)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
