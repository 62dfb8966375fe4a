"""Micro benchmark of the /api/track input layer: per-event cost of parse_track_body.

Prints figures; asserts nothing. Run: PYTHONPATH=src python bench/bench_ingest.py
"""

from __future__ import annotations

import os
import sys
import timeit
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from leadtrail.bots import _matches, is_bot
from leadtrail.cleaning import clean_page_path
from leadtrail.ingest import parse_track_body

# What the tracker sends for an ordinary page view, first view of a visit and a later one.
FIRST_VIEW = {
    "event_name": "page_view",
    "page_path": "/services/boiler-repair?utm_source=google&utm_medium=cpc&gclid=Cj0KCQiA",
    "params": {"title": "Boiler repair | Acme Heating", "referrer": "https://www.google.com/"},
    "event_id": "3f9c1e7a-5b2d-4c8e-9a1f-6d0b2e4c7a91",
    "ts": 1764200000000,
}
LATER_VIEW = {
    "event_name": "page_view",
    "page_path": "/about",
    "params": {"title": "About us - Acme Heating"},
    "event_id": "0b7d2c4e-1a3f-4e5d-8c9b-7f6e5d4c3b2a",
    "ts": 1764200004000,
}
ENGAGEMENT = {
    "event_name": "page_engagement",
    "page_path": "/about",
    "params": {"engaged_ms": 5400},
    "event_id": "7c1d",
    "ts": 1764200009400,
}
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def per_call(fn, arg, budget: float = 0.4) -> float:
    """Seconds per call of fn(arg): the minimum over many short runs, which filters out
    interference from other processes better than a mean does."""
    number = 1
    while True:
        elapsed = timeit.timeit(lambda: fn(arg), number=number)
        if elapsed > 0.002:
            break
        number *= 2
    repeat = max(5, int(budget / elapsed))
    return min(timeit.repeat(lambda: fn(arg), number=number, repeat=repeat)) / number


def main() -> None:
    cases = [
        ("single page_view, later in a visit", orjson.dumps(LATER_VIEW), 1),
        ("single page_view, first of a visit (UTM, referrer)", orjson.dumps(FIRST_VIEW), 1),
        ("single page_engagement", orjson.dumps(ENGAGEMENT), 1),
    ]
    batch = [dict(LATER_VIEW, event_id=f"id-{i}", page_path=f"/page/{i}") for i in range(49)] + [FIRST_VIEW]
    cases.append(("batch of 50 events", orjson.dumps({"events": batch}), 50))
    print(
        f"python {sys.version.split()[0]}, orjson {orjson.__version__}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (minimum of many runs)"
    )
    for label, body, events in cases:
        parse_track_body(body)
        t = per_call(parse_track_body, body)
        print(
            f"parse_track_body  {label:52s} {len(body):6d} B  {t * 1e6 / events:7.2f} us/event"
            f"  ({events / t:,.0f} events/s)"
        )
    raw = orjson.dumps(FIRST_VIEW)
    t = per_call(orjson.loads, raw)
    print(f"  for scale: orjson.loads of the first page_view alone {t * 1e6:24.2f} us")
    for label, path in [("plain", "/about"), ("with a query", FIRST_VIEW["page_path"])]:
        t = per_call(clean_page_path, path)
        print(f"  clean_page_path, {label:40s} {t * 1e6:17.2f} us")
    is_bot(CHROME)
    t = per_call(is_bot, CHROME)
    print(f"is_bot, cached browser UA {t * 1e6:50.2f} us")
    t = per_call(_matches.__wrapped__, CHROME, 0.2)
    print(f"is_bot, uncached browser UA (first sighting of a UA) {t * 1e6:23.2f} us")
    print("hostile input (linear by design; cost bounded by the 64 KiB body cap):")
    for label, path in HOSTILE_PATHS:
        t = per_call(clean_page_path, path, 0.2)
        print(f"  clean_page_path, {label:52s} {t * 1e6:8.0f} us")
    body = hostile_batch()
    t = per_call(parse_track_body, body, 1.0)
    print(f"  parse_track_body, 50 events full of near-addresses, {len(body)} B {t * 1e3:9.1f} ms")


HOSTILE_PATHS = [
    ("2,048 chars: 1,023 x 'a@'", "/" + "a@" * 1023),
    ("2,048 chars: 511 x 'a%40'", "/" + "a%40" * 511),
    ("2,048 chars: one 2,046-char run then '@'", "/" + "a" * 2046 + "@"),
    ("2,048 chars: 64 runs of 31 chars", "/" + ("a" * 31 + "/") * 63),
    ("2,048 chars: 511 x 'a@b.'", "/" + "a@b." * 511),
]


def hostile_batch() -> bytes:
    """The most separator-dense batch that fits in the body cap."""
    event = {"event_name": "x", "page_path": "/" + "a@" * 200, "params": {f"k{i}": "a@b.c " * 2 for i in range(40)}}
    body = orjson.dumps({"events": [event] * 50})
    while len(body) > 64 * 1024:
        event["params"].popitem()
        body = orjson.dumps({"events": [event] * 50})
    return body


if __name__ == "__main__":
    main()
