"""Pure: the geometry of a journey's strip, a one-line overview that places each visit in real
time between the first visit and the enquiry (drawn by templates/cp/charts/journey_strip.svg).
`TimeScale` maps instants to x; a broken scale (days apart for remembered visits) replaces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..localtime import UTC_TIMES, LocalTimes, parse_time
from .journey import star, visit_label
from .text import channel_class, duration


@dataclass(frozen=True)
class TimeScale:
    """Instants between `start` and `end` onto x between `left` and `right` (clamped)."""

    start: datetime
    end: datetime
    left: float
    right: float

    def x(self, at: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        share = (at - self.start).total_seconds() / span
        return self.left + (self.right - self.left) * max(0.0, min(1.0, share))


@dataclass(frozen=True)
class StripVisit:
    x: float
    width: float
    number: str
    title: str
    css: str
    numbered: bool  # wide enough to carry its number


@dataclass(frozen=True)
class Strip:
    chart_id: str
    width: int
    height: int
    left: int
    right: int
    visits: tuple[StripVisit, ...]
    enquiry_title: str
    enquiry_star: str
    first_label: str
    enquiry_label: str
    label: str
    css: str
    empty: bool  # no usable span: the axis alone


STRIP_HEIGHT = 58
STRIP_MIN_VISIT = 8


def strip(
    journey: dict, chart_id: str = "journey-strip", compact: bool = False, times: LocalTimes = UTC_TIMES
) -> Strip:
    """A one-line overview: each visit placed in real time between first visit and enquiry."""
    width, left = (360, 8) if compact else (680, 10)
    right = width - 20
    visits = journey.get("visits") or []
    summary = journey.get("summary") or {}
    start = parse_time(summary.get("first_seen_at"))
    end = parse_time(summary.get("submitted_at"))
    if start is None or end is None or end <= start:
        nothing = dict(enquiry_title="", enquiry_star="", first_label="", enquiry_label="")
        return Strip(
            chart_id,
            width,
            STRIP_HEIGHT,
            left,
            right,
            (),
            **nothing,
            label="Visits over time",
            css="journey-strip",
            empty=True,
        )
    scale = TimeScale(start, end, left, right)
    placed = []
    for visit in visits:
        s = parse_time(visit.get("started_at")) or start
        e = parse_time(visit.get("ended_at")) or s
        x0, x1 = scale.x(s), scale.x(e)
        w = max(STRIP_MIN_VISIT, x1 - x0)
        x0 = min(x0, right - w)
        head, sub = visit_label(visit, times)
        number = str(visit.get("index", 0) + 1)
        placed.append(
            StripVisit(x0, w, number, f"Visit {number}: {head}. {sub}", channel_class(visit.get("channel")), w >= 16)
        )
    first = f"first visit {times.clock(start)}" if compact else f"first visit {times.day(start)}, {times.clock(start)}"
    end_day = times.day(end) if times.day(end) != times.day(start) else ""
    span_ms = (end - start).total_seconds() * 1000
    return Strip(
        chart_id=chart_id,
        width=width,
        height=STRIP_HEIGHT,
        left=left,
        right=right,
        visits=tuple(placed),
        enquiry_title=f"Enquiry, {times.moment(end)}",
        enquiry_star=star(right + 8, 24, 9, 4),
        first_label=first,
        enquiry_label=f"enquiry {end_day} {times.clock(end)}".replace("  ", " "),
        label=f"{len(visits)} visit(s) over {duration(span_ms, short=True)} before the enquiry",
        css="journey-strip compact" if compact else "journey-strip",
        empty=False,
    )
