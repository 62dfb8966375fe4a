"""Pure: the geometry of one journey's picture, the vertical timeline (strip.py has the one-line strip).

Everything is computed here from an export.export_journey() result and the owner's LocalTimes:
rows, their y positions, bar lengths, gaps, the text each shape carries (already truncated).
The template (templates/cp/charts/journey_picture.svg, drawn by charts.draw) only places shapes
at these positions with fixed offsets.

The timeline is a list of `Segment`s, one per visit, each with the `Gap` before it, its head and
its rows; the enquiry ends it. A segment owns its vertical space, so a visit can get its own time
scale or a different break (days apart for a remembered visit) without touching the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ..localtime import UTC_TIMES, LocalTimes, parse_time
from .text import channel_class, count, duration, truncate

# Events the picture folds into others (engagement is the bar length of its page view).
QUIET_EVENTS = frozenset({"page_engagement"})
BADGE_TIP = (
    "Only the browser's buffer saw this event: it never reached the server (an ad or tracking blocker, most likely)"
)


@dataclass(frozen=True)
class Layout:
    """Fixed measures of one width of the timeline."""

    width: int
    spine: int  # x of the vertical line
    bar_x: int  # where bars and labels start
    bar_max: int  # the longest time on page gets this bar length
    times: bool  # a clock column left of the spine
    two_line: bool  # page path under the bar (narrow screens) instead of after it
    path_chars: int
    head_chars: int
    sub_chars: int
    event_chars: int
    badge_x: int


WIDE = Layout(680, 84, 108, 160, True, False, 32, 70, 90, 44, 586)
COMPACT = Layout(360, 14, 32, 136, False, True, 40, 36, 50, 26, 266)

# Vertical measures of the timeline (px).
TOP = 14
GAP_HEIGHT = 38  # the dashed break between two visits
HEAD_HEIGHT = 44  # a visit's head (channel, source, when, landing page)
LANE_OFFSET = 20  # the visit's coloured spine starts this far below its head's top
PAGE_ROW = 26
PAGE_ROW_TWO_LINE = 42
EVENT_ROW = 24
MORE_HEIGHT = 26
LATER_HEIGHT = 18  # "2 h later" before the enquiry
ENQUIRY_HEIGHT = 34
MIN_BAR = 6
LATER_THAN_MS = 60_000  # a shorter wait before the enquiry is not written
REMEMBERED_HEIGHT = 22  # the line under a remembered visit's head (it has no rows)
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Gap:
    """The dashed break before a visit, `y` its top, with the time since the previous visit ended;
    `days` when that is a day or more (drawn broken: the picture's height never follows time)."""

    y: int
    ms: float
    label: str
    days: bool = False


@dataclass(frozen=True)
class VisitHead:
    y: int
    number: int
    head: str  # truncated to the layout
    sub: str
    title: str  # the whole of both
    clock: str


@dataclass(frozen=True)
class PageRow:
    """A page view: a bar as long as the time on the page (square-root scale)."""

    y: int
    bar: int
    label: str
    dwell: str  # "4 min" after the bar, "" when unknown
    after: str  # what a two-line layout writes after the bar (dwell and clock)
    tip: str
    clock: str
    client_only: bool
    kind: str = "page"


@dataclass(frozen=True)
class EventRow:
    """Any other event: a diamond and its name with the detail that says most."""

    y: int
    label: str
    tip: str
    clock: str
    client_only: bool
    kind: str = "event"


Row = PageRow | EventRow


@dataclass(frozen=True)
class Segment:
    """One visit: the break before it, its head, its rows, its coloured lane of the spine."""

    index: int
    css: str
    gap: Gap | None
    head: VisitHead
    rows: tuple[Row, ...]
    lane_top: int
    lane_bottom: int
    remembered: Note | None = None  # a visit only the browser remembered: its page count, no rows


@dataclass(frozen=True)
class Note:
    y: int
    text: str


@dataclass(frozen=True)
class Enquiry:
    y: int
    later: Note | None  # the wait since the last visit, when over a minute
    label: str
    title: str
    clock: str
    star: str  # the path of its mark on the spine


@dataclass(frozen=True)
class Timeline:
    """The vertical picture of a journey, ready to draw."""

    chart_id: str
    layout: Layout
    height: int
    segments: tuple[Segment, ...]
    more: Note | None  # events past max_rows
    enquiry: Enquiry
    label: str
    description: str
    css: str


def describe_event(event: dict) -> str:
    """The parameter that says most about a custom event ("href: /pricing"), or the first two."""
    raw = event.get("params")
    params: dict = raw if isinstance(raw, dict) else {}
    for key in ("href", "label", "item", "form", "value"):
        if key in params and params[key] not in (None, ""):
            return f"{key}: {params[key]}"
    shown = [f"{k}: {v}" for k, v in params.items() if k not in ("event_id", "client_ts", "title", "referrer")]
    return ", ".join(shown[:2])


def visit_label(visit: dict, times: LocalTimes) -> tuple[str, str]:
    """("Organic Search · google · spring", "27 Nov 2026, 10:02 UTC · landed on /pricing")"""
    channel = visit.get("channel") or "Unassigned"
    source = visit.get("source")
    raw_utm = visit.get("utm")
    utm: dict = raw_utm if isinstance(raw_utm, dict) else {}
    head = channel if not source or source in ("(direct)",) else f"{channel} · {source}"
    if utm.get("campaign"):
        head += f" · {utm['campaign']}"
    when = parse_time(visit.get("started_at"))
    sub = [times.moment(when)] if when else []
    if visit.get("landing_page"):
        sub.append(f"landed on {visit['landing_page']}")
    return head, " · ".join(sub)


def bar_length(ms: float | None, scale: float, bar_max: int) -> int:
    """A square-root scale keeps a 5-second glance visible beside a 20-minute read."""
    if not ms:
        return MIN_BAR
    return max(MIN_BAR, round(bar_max * math.sqrt(max(ms, 0)) / (scale or 1)))


def bar_scale(rows: list[dict]) -> float:
    """sqrt of the longest time on page; a minute at least fills the scale, so a journey of quick
    glances does not draw long bars."""
    longest = max((e.get("time_on_page_ms") or 0 for e in rows), default=0) or 1
    return math.sqrt(max(longest, 60_000))


def page_row(event: dict, y: int, lay: Layout, scale: float, times: LocalTimes) -> PageRow:
    path = event.get("page_path") or ""
    raw = event.get("params")
    params: dict = raw if isinstance(raw, dict) else {}
    client_only = event.get("source") == "client"
    ms = event.get("time_on_page_ms")
    title = params.get("title")
    tip = (
        f"{path}"
        + (f" — “{title}”" if title else "")
        + f" · {duration(ms)} on page"
        + (" · seen only by the browser" if client_only else "")
    )
    dwell = duration(ms, short=True) if ms else ""
    clock = times.clock(event.get("at"))
    return PageRow(
        y=y,
        bar=bar_length(ms, scale, lay.bar_max),
        label=truncate(path.split("#", 1)[0], lay.path_chars) or "(no page)",
        dwell=dwell,
        after=" · ".join(part for part in (dwell, clock) if part),
        tip=truncate(tip, 400),
        clock=clock,
        client_only=client_only,
    )


def event_row(event: dict, y: int, lay: Layout, times: LocalTimes) -> EventRow:
    name = event.get("event_name") or "(unnamed)"
    described = describe_event(event)
    detail = truncate(described, lay.event_chars)
    label = truncate(name, 32 if not lay.two_line else 22) + (f" — {detail}" if detail and not lay.two_line else "")
    tip = f"{name} on {event.get('page_path') or ''}" + (f" ({described})" if detail else "")
    return EventRow(y, label, truncate(tip, 400), times.clock(event.get("at")), event.get("source") == "client")


def row_height(row: Row, lay: Layout) -> int:
    if isinstance(row, PageRow):
        return PAGE_ROW_TWO_LINE if lay.two_line else PAGE_ROW
    return EVENT_ROW


def timeline(
    journey: dict,
    chart_id: str = "journey-picture",
    max_rows: int = 240,
    compact: bool = False,
    times: LocalTimes = UTC_TIMES,
) -> Timeline:
    """The geometry of the vertical timeline of one journey (an export.export_journey() result):
    the first `max_rows` events (engagement folded into page views), visit by visit."""
    lay = COMPACT if compact else WIDE
    visits = journey.get("visits") or []
    events = [e for e in journey.get("timeline") or [] if e.get("event_name") not in QUIET_EVENTS]
    summary = journey.get("summary") or {}
    shown = events[:max_rows]
    scale = bar_scale(shown)
    by_visit: dict[int, list[dict]] = {}
    for event in shown:
        by_visit.setdefault(int(event.get("visit") or 0), []).append(event)

    y = TOP
    segments: list[Segment] = []
    previous_end: datetime | None = None
    for index, visit in enumerate(visits):
        in_visit = by_visit.get(index, [])
        if index >= 1 and not in_visit and index > max(by_visit, default=0) and not visit.get("remembered"):
            break  # the rows ran out (max_rows) before this visit
        started = parse_time(visit.get("started_at"))
        gap = None
        if previous_end is not None and started is not None:
            ms = (started - previous_end).total_seconds() * 1000
            gap = Gap(y, ms, f"{duration(ms, short=True)} later", ms >= DAY_MS)
            y += GAP_HEIGHT
        head, sub = visit_label(visit, times)
        visit_head = VisitHead(
            y=y,
            number=index + 1,
            head=truncate(f"Visit {index + 1} · {head}", lay.head_chars),
            sub=truncate(sub, lay.sub_chars),
            title=f"Visit {index + 1}: {head}. {sub}",
            clock=times.clock(visit.get("started_at")),
        )
        lane_top = y + LANE_OFFSET
        y += HEAD_HEIGHT
        remembered = None
        if visit.get("remembered"):
            pages = visit.get("page_views") or 1
            remembered = Note(y, f"{count(pages, 'page', 'pages')}, remembered by the visitor's browser")
            y += REMEMBERED_HEIGHT
        rows: list[Row] = []
        for event in in_visit:
            row: Row = (
                page_row(event, y, lay, scale, times)
                if event.get("event_name") == "page_view"
                else event_row(event, y, lay, times)
            )
            rows.append(row)
            y += row_height(row, lay)
        segments.append(
            Segment(
                index, channel_class(visit.get("channel")), gap, visit_head, tuple(rows), lane_top, y - 4, remembered
            )
        )
        previous_end = parse_time(visit.get("ended_at")) or started

    more = None
    if len(events) > len(shown):
        more = Note(y, f"… and {len(events) - len(shown)} more events (see the table below)")
        y += MORE_HEIGHT
    submitted = summary.get("submitted_at")
    later = None
    if previous_end is not None and (submitted_at := parse_time(submitted)) is not None:
        wait = (submitted_at - previous_end).total_seconds() * 1000
        if wait > LATER_THAN_MS:
            later = Note(y, f"{duration(wait, short=True)} later")
            y += LATER_HEIGHT
    form = journey.get("form")
    label = "Enquiry sent" + (f" · {truncate(form, 40 if not compact else 12)} form" if form else "")
    if not lay.times:
        label += f" · {times.clock(submitted)}"
    title = f"{label}, {times.moment(submitted)}"
    enquiry = Enquiry(y, later, label, title, times.clock(submitted), star(lay.spine, y + 10, 11, 5))
    y += ENQUIRY_HEIGHT
    return Timeline(
        chart_id=chart_id,
        layout=lay,
        height=y,
        segments=tuple(segments),
        more=more,
        enquiry=enquiry,
        label="The journey as a timeline",
        description=f"{len(visits)} visit(s), {summary.get('page_views', 0)} page view(s) before the enquiry",
        css="journey-picture compact" if compact else "journey-picture",
    )


def star(cx: float, cy: float, outer: float, inner: float) -> str:
    """The path of a five-pointed star (the enquiry's mark)."""
    points = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        angle = math.pi / 5 * i - math.pi / 2
        points.append(f"{cx + r * math.cos(angle):.1f} {cy + r * math.sin(angle):.1f}")
    return "M" + " L".join(points) + " Z"
