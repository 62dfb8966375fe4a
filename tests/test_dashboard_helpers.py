"""Helpers the dashboard tests (and bench/bench_dashboard.py) share: realistic journeys, owners,
logging in through the real forms. No tests here.

`make_journey(rng, submitted_at)` builds what a promote stores for one enquirer of a small
photography business: one to four visits over the last day from search, ads, social, e-mail, AI
assistants or direct, page views with engagement, custom events, and, for a share of visitors
with a blocker, events only the browser buffer holds.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from leadtrail.journeys import list_summary
from leadtrail.store import JourneyRecord, iso

OWNER_EMAIL = "owner@studio.example"
OWNER_PASSWORD = "correct horse battery staple"

PAGES = [
    ("/", "Lumen Studio | Wedding & portrait photography"),
    ("/services", "Services | Lumen Studio"),
    ("/services/weddings", "Wedding photography | Lumen Studio"),
    ("/services/portraits", "Portrait sessions | Lumen Studio"),
    ("/pricing", "Prices and packages | Lumen Studio"),
    ("/gallery", "Gallery | Lumen Studio"),
    ("/about", "About Mira | Lumen Studio"),
    ("/blog/choosing-a-wedding-photographer", "How to choose a wedding photographer"),
    ("/blog/what-to-wear-for-portraits", "What to wear for a portrait session"),
    ("/faq", "Questions and answers | Lumen Studio"),
]
BOOKING = ("/booking", "Book a session | Lumen Studio")

# (weight, landing query, referrer)
ARRIVALS = [
    (30, "", "https://www.google.com/"),
    (12, "?utm_source=google&utm_medium=cpc&utm_campaign=weddings-2026&gclid=Cj0KCQiA{n}", "https://www.google.com/"),
    (10, "", "https://l.instagram.com/"),
    (6, "?utm_source=facebook&utm_medium=paid_social&utm_campaign=spring", "https://m.facebook.com/"),
    (6, "?utm_source=newsletter&utm_medium=email&utm_campaign=november", None),
    (5, "", "https://chatgpt.com/"),
    (5, "", "https://www.bing.com/"),
    (6, "", "https://www.weddingvenues.example/suppliers"),
    (20, "", None),
]
FIRST_NAMES = [
    "anna",
    "ben",
    "chloe",
    "dev",
    "ella",
    "finn",
    "grace",
    "harry",
    "isla",
    "jack",
    "kate",
    "leo",
    "maya",
    "noah",
    "olivia",
    "priya",
    "quinn",
    "ruby",
    "sam",
    "tom",
]
DOMAINS = ["gmail.com", "outlook.com", "icloud.com", "yahoo.co.uk", "proton.me", "hey.com"]
FORMS = ["booking", "booking", "booking", "contact"]


def _pick(rng: random.Random, weighted: list) -> Any:
    return rng.choices(weighted, weights=[w[0] for w in weighted])[0]


def make_journey(rng: random.Random, submitted_at: datetime, email: str | None = None) -> JourneyRecord:
    """One enquiry as promote would store it (snapshot, client buffer, list summary)."""
    email = email or f"{rng.choice(FIRST_NAMES)}.{rng.randrange(1, 10**6)}@{rng.choice(DOMAINS)}"
    n_visits = rng.choices([1, 2, 3, 4], weights=[55, 28, 12, 5])[0]
    blocked = rng.random() < 0.15  # a blocker hid every request of this visitor...
    partly_blocked = rng.random() < 0.1  # ...or only some
    # Visits are laid out forwards from t=0 (ms), then shifted so the last one ends a few seconds
    # before the submission; gaps between visits from 40 minutes to most of a day.
    planned: list[tuple[str, str, int, dict[str, Any], bool]] = []  # (name, path, t_ms, params, hidden)
    t = 0
    for v in range(n_visits):
        last = v == n_visits - 1
        hidden = blocked or (partly_blocked and v % 2 == 1)
        _, query, referrer = _pick(rng, ARRIVALS) if v == 0 or rng.random() < 0.6 else (0, "", None)
        query = query.replace("{n}", str(rng.randrange(10**6)))
        pages = rng.sample(PAGES, rng.randint(1, 5))
        if last:
            pages.append(BOOKING)
        for i, (path, title) in enumerate(pages):
            params: dict[str, Any] = {"title": title}
            if i == 0 and referrer:
                params["referrer"] = referrer
            planned.append(("page_view", path + (query if i == 0 else ""), t, params, hidden))
            engaged = rng.randint(4_000, 240_000)
            if rng.random() < 0.25:
                planned.append(
                    (
                        rng.choice(["gallery_open", "price_toggle", "faq_expand"]),
                        path,
                        t + engaged // 2,
                        {"item": rng.choice(["spring", "classic", "full-day"])},
                        hidden,
                    )
                )
            if rng.random() < 0.08:
                planned.append(
                    (
                        "outbound_click",
                        path,
                        t + engaged - 500,
                        {"href": "https://www.instagram.com/lumenstudio"},
                        hidden,
                    )
                )
            planned.append(("page_engagement", path, t + engaged, {"engaged_ms": engaged}, hidden))
            t += engaged + rng.randint(300, 3000)
        if last:
            planned.append(("form_start", BOOKING[0], t, {"form": "booking"}, hidden))
        else:
            t += rng.randint(40 * 60_000, 20 * 3600_000 // (n_visits - 1))
    origin = submitted_at - timedelta(milliseconds=t + rng.randint(2_000, 20_000))
    server: list[dict] = []
    client: list[dict] = []
    server_id = rng.randrange(10**6, 10**9)
    for name, path, at_ms, params, hidden in planned:
        at = origin + timedelta(milliseconds=at_ms)
        event_id = uuid.UUID(int=rng.getrandbits(128)).hex
        ts = int(at.timestamp() * 1000)
        client.append({"event_name": name, "page_path": path, "params": dict(params), "event_id": event_id, "ts": ts})
        if not hidden:
            server_id += 1
            server.append(
                {
                    "id": server_id,
                    "event_name": name,
                    "page_path": path,
                    "params": {**params, "event_id": event_id, "client_ts": ts},
                    "created_at": iso(at + timedelta(milliseconds=rng.randint(20, 400))),
                }
            )
    form = rng.choice(FORMS)
    consent = rng.random() < 0.7 if rng.random() < 0.8 else None
    summary = list_summary(server, client, submitted_at)
    return JourneyRecord(
        email=email,
        anon_id=None if blocked else uuid.UUID(int=rng.getrandbits(128)).hex[:22],
        events=server,
        client_events=client,
        form=form,
        consent=consent,
        summary=summary,
    )


def hostile_journey(submitted_at: datetime, email: str = "mallory@evil.example") -> JourneyRecord:
    """A journey whose every text field carries script and markup payloads."""
    script = "<script>window.__pwned=1</script>"
    img = '"><img src=x onerror="window.__pwned=1">'
    svg = "</text></svg><svg onload=window.__pwned=1>"
    at = submitted_at - timedelta(minutes=5)
    events = [
        {
            "id": 1,
            "event_name": "page_view",
            "page_path": f"/{script}?utm_source={img}&utm_medium=cpc",
            "params": {"title": script + img, "referrer": f"https://{img}.example/", "event_id": "h1"},
            "created_at": iso(at),
        },
        {
            "id": 2,
            "event_name": "x-" + "onerror",
            "page_path": f"/a{svg}",
            "params": {"label": svg, "event_id": "h2", "javascript:alert(1)": "javascript:alert(1)"},
            "created_at": iso(at + timedelta(seconds=30)),
        },
        {
            "id": 3,
            "event_name": "page_engagement",
            "page_path": f"/{script}",
            "params": {"engaged_ms": 25000, "event_id": "h3"},
            "created_at": iso(at + timedelta(seconds=40)),
        },
    ]
    client = [
        {
            "event_name": "page_view",
            "page_path": f"/hidden{img}",
            "params": {"title": svg},
            "event_id": "h4",
            "ts": int((at + timedelta(seconds=60)).timestamp() * 1000),
        }
    ]
    summary = list_summary(events, client, submitted_at)
    return JourneyRecord(
        email=email, anon_id="hostile", events=events, client_events=client, form=script, consent=True, summary=summary
    )


async def seed_journeys(
    store, count: int, now: datetime | None = None, seed: int = 7, spread: timedelta = timedelta(days=60)
) -> list[int]:
    """`count` realistic journeys spread over `spread` before now (newest last); their ids."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    ids = []
    for i in range(count):
        at = now - spread + spread * (i + 1) / (count + 1)
        record = make_journey(rng, at)
        journey_id, _ = await store.save_journey(record, at, timedelta(0))
        ids.append(journey_id)
    return ids


async def save(store, record: JourneyRecord, at: datetime | None = None) -> int:
    journey_id, _ = await store.save_journey(record, at or datetime.now(UTC), timedelta(0))
    return journey_id


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def login(client, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD, **extra):
    """Logs a TestClient in through the real form; returns the POST response (not followed)."""
    page = client.get("/cp/login")
    return client.post(
        "/cp/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text), **extra},
        follow_redirects=False,
    )


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td data-label="E-mail" class="email"><a href="/cp/journeys/(\d+)"', html)]


def simple_journey(email: str, at: datetime, landing: str = "/", form: str | None = "booking") -> JourneyRecord:
    events = [
        {
            "id": 1,
            "event_name": "page_view",
            "page_path": landing,
            "params": {"title": "Home", "referrer": "https://www.google.com/", "event_id": "p1"},
            "created_at": iso(at - timedelta(minutes=3)),
        },
        {
            "id": 2,
            "event_name": "page_view",
            "page_path": "/booking",
            "params": {"title": "Book", "event_id": "p2"},
            "created_at": iso(at - timedelta(minutes=1)),
        },
    ]
    client = [
        {
            "event_name": "cta_click",
            "page_path": "/booking",
            "params": {"label": "Book now"},
            "event_id": "c1",
            "ts": int((at - timedelta(seconds=30)).timestamp() * 1000),
        }
    ]
    summary = list_summary(events, client, at)
    return JourneyRecord(email, None, events, client, form, True, summary)
