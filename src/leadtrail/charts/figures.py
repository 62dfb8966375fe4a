"""Pure: the geometry of the insights charts (stacked bars over time, horizontal bar lists,
histograms, visits with enquiries per day). Each function returns what to draw where; the
templates in templates/cp/charts/ draw it (charts.draw)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .text import channel_class, count, number, percent, truncate

NARROW = 500  # a chart narrower than this gets the "compact" class (phone layout)


@dataclass(frozen=True)
class Tick:
    """A horizontal grid line (or the axis itself) at `y` and its value's label."""

    y: float
    label: str
    axis: bool


@dataclass(frozen=True)
class AxisLabel:
    x: float
    text: str


@dataclass(frozen=True)
class Segment:
    """One series' part of a stacked bar."""

    y: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class StackedBar:
    x: float
    width: float
    title: str
    segments: tuple[Segment, ...]
    label: AxisLabel | None  # not every bar gets its x label when they are many


@dataclass(frozen=True)
class StackedBars:
    width: int
    height: int
    left: int
    bottom: int
    ticks: tuple[Tick, ...]
    bars: tuple[StackedBar, ...]
    description: str


def nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum at or above value, and its tick step (4-6 ticks). Every axis here
    counts things, so the step is never below 1 (2 enquiries: 0, 1, 2, not 0, 0.5, ... 2)."""
    if value <= 0:
        return 4, 1
    if value <= 5:
        return math.ceil(value), 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        tick = step * exponent
        if value / tick <= 5:
            top = math.ceil(value / tick) * tick
            return top, tick
    return value, value / 5


def _ticks(top: float, tick: float, bottom: int, plot_h: int) -> tuple[Tick, ...]:
    """Grid lines at each multiple of `tick` up to `top` (the first one is the axis)."""
    values = [tick * i for i in range(int(round(top / tick)) + 1)]
    return tuple(Tick(bottom - plot_h * value / top, number(value), i == 0) for i, value in enumerate(values))


def _label_every(n: int, width: int) -> int:
    """Every how many bars an x label fits (about one per 90 px, at least 4 across)."""
    return max(1, math.ceil(n / max(4, width // 90)))


def stacked_bars(
    buckets: Sequence[tuple[str, str, dict[str, int]]], series: Sequence[str], width: int = 1100, height: int = 280
) -> StackedBars:
    """Vertical stacked bars: buckets = (short x label, long label, {series: count}); series in
    stacking order (bottom first). `width` is the viewBox width: about the width it is shown at,
    so text stays near its nominal size."""
    left, bottom, top = 44, height - 36, 12
    plot_w, plot_h = width - left - 8, bottom - top
    totals = [sum(values.values()) for _, _, values in buckets]
    y_max, tick = nice_max(max(totals, default=0))
    n = max(1, len(buckets))
    slot = plot_w / n
    bar_w = max(1.5, slot * 0.72)
    every = _label_every(n, width)
    bars = []
    for i, (short, long, values) in enumerate(buckets):
        x = left + slot * i + (slot - bar_w) / 2
        y = float(bottom)
        segments = []
        for name in series:
            value = values.get(name, 0)
            if not value:
                continue
            h = plot_h * value / y_max
            y -= h
            segments.append(Segment(y, max(h, 0.5), f"seg {channel_class(name)}", f"{long} · {name}: {value}"))
        total = totals[i]
        title = f"{long}: {total} enquir{'y' if total == 1 else 'ies'}"
        label = AxisLabel(x + bar_w / 2, short) if i % every == 0 else None
        bars.append(StackedBar(x, bar_w, title, tuple(segments), label))
    return StackedBars(
        width,
        height,
        left,
        bottom,
        _ticks(y_max, tick, bottom, plot_h),
        tuple(bars),
        f"{sum(totals)} enquiries in {len(buckets)} periods",
    )


@dataclass(frozen=True)
class ListRow:
    y: float
    label: str  # truncated to the label column
    title: str
    bar: float  # length
    value: str


@dataclass(frozen=True)
class BarList:
    width: int
    height: int
    label_x: int  # labels end here (right-aligned)
    bar_left: int
    rows: tuple[ListRow, ...]


BAR_ROW = 30


def bar_list(
    items: Sequence[tuple[str, float, str]], label_width: int = 260, width: int = 540, value_width: int = 120
) -> BarList:
    """Horizontal bars, one row per item: (label, value, value text)."""
    bar_left, bar_right = label_width + 12, width - value_width
    top_value = max((value for _, value, _ in items), default=0) or 1
    rows = tuple(
        ListRow(
            y=i * BAR_ROW + 4,
            label=truncate(name, int(label_width // 7.6)),
            title=f"{name}: {text}",
            bar=max(2.0, (bar_right - bar_left) * value / top_value),
            value=text,
        )
        for i, (name, value, text) in enumerate(items)
    )
    return BarList(width, max(BAR_ROW, BAR_ROW * len(items)) + 4, label_width, bar_left, rows)


@dataclass(frozen=True)
class Column:
    x: float
    width: float
    height: float
    name: str
    value: str  # the count, written above the bar
    share: str  # its share of all, written under the name
    title: str


@dataclass(frozen=True)
class Histogram:
    width: int
    height: int
    left: int
    bottom: int
    columns: tuple[Column, ...]


def histogram(buckets: Sequence[tuple[str, int]], width: int = 540) -> Histogram:
    """Vertical bars with a label under each and the count above."""
    height, left, bottom, top = 210, 8, 170, 22
    plot_h = bottom - top
    top_value = max((n for _, n in buckets), default=0) or 1
    total = sum(n for _, n in buckets) or 1
    slot = (width - 2 * left) / max(1, len(buckets))
    bar_w = slot * 0.66
    columns = []
    for i, (name, n) in enumerate(buckets):
        share = percent(n, total)
        x = left + slot * i + (slot - bar_w) / 2
        columns.append(Column(x, bar_w, plot_h * n / top_value, name, f"{n:,}", share, f"{name}: {n} ({share})"))
    return Histogram(width, height, left, bottom, tuple(columns))


@dataclass(frozen=True)
class Day:
    x: float
    width: float
    height: float  # the visits bar
    cx: float  # the enquiries dot
    cy: float
    title: str
    label: AxisLabel | None


@dataclass(frozen=True)
class VisitsAndEnquiries:
    width: int
    height: int
    left: int
    right: int  # the right axis (enquiries) starts at width - right
    bottom: int
    visit_ticks: tuple[Tick, ...]
    enquiry_ticks: tuple[Tick, ...]
    days: tuple[Day, ...]
    dot: float  # the dots' radius
    line: str  # the polyline's points, "" for fewer than two days
    description: str


def visits_and_enquiries(
    days: Sequence[tuple[str, str, int, int]], width: int = 1100, height: int = 260
) -> VisitsAndEnquiries:
    """Per day (short x label, long label, visits, enquiries): visits as bars on the left axis,
    enquiries as a line with dots on their own right axis (a few enquiries against thousands of
    visits would otherwise lie flat on the floor)."""
    left, right, bottom, top = 48, 44, height - 34, 12
    plot_w, plot_h = width - left - right, bottom - top
    v_max, v_tick = nice_max(max((v for _, _, v, _ in days), default=0))
    e_max, e_tick = nice_max(max((e for _, _, _, e in days), default=0))
    n = max(1, len(days))
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.7)
    every = _label_every(n, width)
    placed = []
    for i, (short, long, visits, enquiries) in enumerate(days):
        x = left + slot * i + (slot - bar_w) / 2
        cx, cy = x + bar_w / 2, bottom - plot_h * enquiries / e_max
        title = f"{long}: {count(visits, 'visit', 'visits')}, {count(enquiries, 'enquiry', 'enquiries')}"
        label = AxisLabel(cx, short) if i % every == 0 else None
        placed.append(Day(x, bar_w, plot_h * visits / v_max, cx, cy, title, label))
    points = " ".join(f"{d.cx:.1f},{d.cy:.1f}" for d in placed) if len(placed) > 1 else ""
    return VisitsAndEnquiries(
        width=width,
        height=height,
        left=left,
        right=right,
        bottom=bottom,
        visit_ticks=_ticks(v_max, v_tick, bottom, plot_h),
        enquiry_ticks=_ticks(e_max, e_tick, bottom, plot_h),
        days=tuple(placed),
        dot=2.5 if n <= 120 else 1.5,
        line=points,
        description=(
            f"{sum(d[2] for d in days):,} visits and {sum(d[3] for d in days):,} enquiries in {len(days)} days"
        ),
    )
