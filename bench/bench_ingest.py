"""Micro benchmark of the /api/track input layer: per-event cost of parse_track_body.

Prints figures; asserts nothing. Run: PYTHONPATH=src python bench/bench_ingest.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from leadtrail.bots import _matches, is_bot  # noqa: E402
from leadtrail.cleaning import clean_page_path  # noqa: E402
from leadtrail.ingest import parse_track_body  # noqa: E402

# What the tracker sends for an ordinary page view, first view of a visit and a later one.
FIRST_VIEW = {
    "event_name": "page_view", "page_path": "/services/boiler-repair?utm_source=google&utm_medium=cpc&gclid=Cj0KCQiA",
    "params": {"title": "Boiler repair | Acme Heating", "referrer": "https://www.google.com/"},
    "event_id": "3f9c1e7a-5b2d-4c8e-9a1f-6d0b2e4c7a91", "ts": 1764200000000,
}
LATER_VIEW = {
    "event_name": "page_view", "page_path": "/about",
    "params": {"title": "About us - Acme Heating"},
    "event_id": "0b7d2c4e-1a3f-4e5d-8c9b-7f6e5d4c3b2a", "ts": 1764200004000,
}
ENGAGEMENT = {"event_name": "page_engagement", "page_path": "/about", "params": {"engaged_ms": 5400},
              "event_id": "7c1d", "ts": 1764200009400}
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.0.0 Safari/537.36")


def per_call(fn, arg, seconds: float = 0.5) -> float:
    """Best-of-5 mean seconds per call of fn(arg)."""
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.05:
        fn(arg)
        n += 1
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n * int(seconds / 0.05) // 5 or 1):
            fn(arg)
        best = min(best, (time.perf_counter() - start) / (n * int(seconds / 0.05) // 5 or 1))
    return best


def main() -> None:
    cases = [
        ("single page_view, later in a visit", orjson.dumps(LATER_VIEW), 1),
        ("single page_view, first of a visit (UTM, referrer)", orjson.dumps(FIRST_VIEW), 1),
        ("single page_engagement", orjson.dumps(ENGAGEMENT), 1),
    ]
    batch = [dict(LATER_VIEW, event_id=f"id-{i}", page_path=f"/page/{i}") for i in range(49)] + [FIRST_VIEW]
    cases.append(("batch of 50 events", orjson.dumps({"events": batch}), 50))
    print(f"python {sys.version.split()[0]}, orjson {orjson.__version__}")
    for label, body, events in cases:
        parse_track_body(body)
        t = per_call(parse_track_body, body)
        print(f"parse_track_body  {label:52s} {len(body):6d} B  {t * 1e6 / events:7.2f} us/event"
              f"  ({events / t:,.0f} events/s)")
    raw = orjson.dumps(FIRST_VIEW)
    t = per_call(orjson.loads, raw)
    print(f"  for scale: orjson.loads of the first page_view alone            {t * 1e6:7.2f} us")
    t = per_call(clean_page_path, FIRST_VIEW["page_path"])
    print(f"  clean_page_path with a query                                      {t * 1e6:7.2f} us")
    t = per_call(clean_page_path, "/about")
    print(f"  clean_page_path, plain path                                       {t * 1e6:7.2f} us")
    is_bot(CHROME)
    t = per_call(is_bot, CHROME)
    print(f"is_bot, cached browser UA                                           {t * 1e6:7.2f} us")
    t = per_call(_matches.__wrapped__, CHROME, 0.2)
    print(f"is_bot, uncached browser UA (first sighting)                        {t * 1e6:7.2f} us")


if __name__ == "__main__":
    main()
