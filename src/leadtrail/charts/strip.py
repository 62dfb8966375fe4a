"""Pure: the geometry of a journey's strip, a one-line overview that places each visit in real
time between the first visit and the enquiry (drawn by templates/cp/charts/journey_strip.svg).
`TimeScale` maps instants to x; `BrokenScale` replaces it when visits are days apart (a visit the
browser remembered): each long wait gets a fixed width, labelled with the time it leaves out."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

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
class BrokenScale:
    """A time scale with breaks: `anchors` are (instant, x) pairs in increasing order, joined by
    straight pieces. Each gap between visits longer than BREAK_AFTER gets a fixed width, so a visit
    the browser remembered from ten days ago does not squash today's visits into the last pixels."""

    anchors: tuple[tuple[datetime, float], ...]

    def x(self, at: datetime) -> float:
        times = [t for t, _ in self.anchors]
        i = bisect_right(times, at)
        if i == 0:
            return self.anchors[0][1]
        if i == len(self.anchors):
            return self.anchors[-1][1]
        (t0, x0), (t1, x1) = self.anchors[i - 1], self.anchors[i]
        span = (t1 - t0).total_seconds()
        return x0 + (x1 - x0) * ((at - t0).total_seconds() / span if span else 0.0)


@dataclass(frozen=True)
class StripBreak:
    """Where the axis is broken: the middle of the break and the time it leaves out ("10 days")."""

    x: float
    label: str


BREAK_AFTER = timedelta(hours=12)  # a longer wait between visits is drawn as a break
BREAK_WIDTH = 36  # px of one break (less when many share the axis)


def broken_scale(
    start: datetime, end: datetime, left: float, right: float, spans: list[tuple[datetime, datetime]]
) -> tuple[TimeScale | BrokenScale, tuple[StripBreak, ...]]:
    """The scale for visits spanning `spans` between `start` and `end`: a plain TimeScale when no
    wait between them exceeds BREAK_AFTER; otherwise each such wait gets a fixed width and the
    rest of the axis is shared in proportion to time."""
    keys = sorted({start, end, *(min(max(t, start), end) for span in spans for t in span)})
    pieces = list(zip(keys, keys[1:], strict=False))
    inside = [any(s <= a and b <= e for s, e in spans) for a, b in pieces]
    long = [b - a > BREAK_AFTER and not covered for (a, b), covered in zip(pieces, inside, strict=True)]
    if not any(long):
        return TimeScale(start, end, left, right), ()
    width = right - left
    breaks = sum(long)
    short = [(b - a).total_seconds() for (a, b), is_long in zip(pieces, long, strict=True) if not is_long]
    each = min(BREAK_WIDTH, width * 0.5 / breaks) if short else width / breaks
    rest, total = width - each * breaks, sum(short)
    x = left
    anchors, marks = [(keys[0], x)], []
    for (a, b), is_long in zip(pieces, long, strict=True):
        if is_long:
            marks.append(StripBreak(x + each / 2, duration((b - a).total_seconds() * 1000, short=True)))
            x += each
        else:
            x += rest * (b - a).total_seconds() / total if total else rest / len(short)
        anchors.append((b, x))
    return BrokenScale(tuple(anchors)), tuple(marks)


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
    breaks: tuple[StripBreak, ...] = ()  # where long waits are left out of the axis


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
        return Strip(
            chart_id,
            width,
            STRIP_HEIGHT,
            left,
            right,
            (),
            enquiry_title="",
            enquiry_star="",
            first_label="",
            enquiry_label="",
            label="Visits over time",
            css="journey-strip",
            empty=True,
        )
    spans = []
    for visit in visits:
        s = parse_time(visit.get("started_at")) or start
        spans.append((s, max(s, parse_time(visit.get("ended_at")) or s)))
    scale, breaks = broken_scale(start, end, left, right, spans)
    placed = []
    for visit, (s, e) in zip(visits, spans, strict=True):
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
        breaks=breaks,
    )
