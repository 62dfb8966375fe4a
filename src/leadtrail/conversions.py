"""Conversion figures: the anonymous daily totals (visits, views) against the enquiries.

Pure. `insights_document` builds exactly the JSON of `GET /api/v1/insights` (docs/contract.md)
from rows the store gives (totals.load_insights reads them):
- visit rows: {"day", "channel", "source" ('' = none), "visits"} from totals_visits;
- landing rows: {"page_path", "visits"}; view rows: {"page_path", "views"};
- enquiries credited to the model's touch (the query picks first or last): by channel
  {"channel", "source", "n", "won", "value"}, by landing page {"page_path", "n", "won", "value"},
  and per day {"day", "n"}; spam already left out by the queries;
- page rows: {"page_path", "enquirers"}: enquirers (spam left out) who saw the page.
Enquiries without any touch (no events at all) count in `days` only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

MODELS = ("last_touch", "first_touch")
DEFAULT_MODEL = "last_touch"


def rate(numerator: int, denominator: int) -> float | None:
    """A fraction, or None when the denominator is 0."""
    return numerator / denominator if denominator else None


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, Decimal):
        value = float(value)
    return round(float(value), 2)


def days_between(first: date, last: date) -> list[str]:
    """Every day first..last (both included) as 'YYYY-MM-DD'."""
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


class _Tally:
    __slots__ = ("visits", "enquiries", "won", "value")

    def __init__(self) -> None:
        self.visits, self.enquiries, self.won, self.value = 0, 0, 0, 0.0

    def add_enquiries(self, row: dict) -> None:
        self.enquiries += int(row["n"])
        self.won += int(row["won"] or 0)
        self.value += _number(row["value"])

    def out(self) -> dict:
        return {
            "visits": self.visits,
            "enquiries": self.enquiries,
            "conversion_rate": rate(self.enquiries, self.visits),
            "won": self.won,
            "value": round(self.value, 2),
        }


def _order(tallies: dict) -> list:
    return sorted(tallies, key=lambda k: (-tallies[k].visits, -tallies[k].enquiries, str(k)))


def insights_document(
    visit_rows: Iterable[dict],
    landing_rows: Iterable[dict],
    view_rows: Iterable[dict],
    channel_enquiries: Iterable[dict],
    landing_enquiries: Iterable[dict],
    day_enquiries: Iterable[dict],
    page_rows: Iterable[dict],
    days: list[str],
) -> dict:
    """The insights document for the days `days` (every day of the range, in order); the
    enquiry rows are already credited to the model's touch."""
    channels: dict[str, _Tally] = defaultdict(_Tally)
    pairs: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    landings: dict[str, _Tally] = defaultdict(_Tally)
    per_day = {d: [0, 0] for d in days}

    for row in visit_rows:
        n = int(row["visits"])
        channels[row["channel"]].visits += n
        if row["source"]:
            pairs[(row["channel"], row["source"])].visits += n
        if row["day"] in per_day:
            per_day[row["day"]][0] += n
    for row in landing_rows:
        landings[row["page_path"]].visits += int(row["visits"])
    for row in channel_enquiries:
        if row["channel"] is not None:
            channels[row["channel"]].add_enquiries(row)
            if row["source"]:
                pairs[(row["channel"], row["source"])].add_enquiries(row)
    for row in landing_enquiries:
        if row["page_path"] is not None:
            landings[row["page_path"]].add_enquiries(row)
    for row in day_enquiries:
        if str(row["day"]) in per_day:
            per_day[str(row["day"])][1] += int(row["n"])

    by_channel: dict[str, list[str]] = defaultdict(list)
    for channel, source in _order(pairs):
        by_channel[channel].append(source)
    channel_rows = []
    for channel in _order(channels):
        channel_rows.append({"channel": channel, "source": None, **channels[channel].out()})
        for source in by_channel.get(channel, ()):
            channel_rows.append({"channel": channel, "source": source, **pairs[(channel, source)].out()})

    views: dict[str, int] = defaultdict(int)
    enquirers: dict[str, int] = defaultdict(int)
    for row in view_rows:
        views[row["page_path"]] += int(row["views"])
    for row in page_rows:
        enquirers[row["page_path"]] += int(row["enquirers"])
    pages = sorted(set(views) | set(enquirers), key=lambda p: (-views.get(p, 0), -enquirers.get(p, 0), p))

    return {
        "channels": channel_rows,
        "landing_pages": [
            {
                "page_path": path,
                "visits": landings[path].visits,
                "enquiries": landings[path].enquiries,
                "conversion_rate": rate(landings[path].enquiries, landings[path].visits),
                "won": landings[path].won,
                "value": round(landings[path].value, 2),
            }
            for path in _order(landings)
        ],
        "pages": [
            {
                "page_path": path,
                "views": views.get(path, 0),
                "enquirers": enquirers.get(path, 0),
                "assist_rate": rate(enquirers.get(path, 0), views.get(path, 0)),
            }
            for path in pages
        ],
        "days": [{"date": d, "visits": per_day[d][0], "enquiries": per_day[d][1]} for d in days],
    }
