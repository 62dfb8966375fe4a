"""Pure: server-rendered SVG for the dashboard. The journey as a picture, and the insights charts.

Every piece of text that reaches the SVG goes through `escape` (page paths, titles and params are
whatever a browser sent); nothing here emits script, event handlers, links or style attributes,
so the output is inert under the dashboard's CSP. Colours come from CSS classes (`ch-*` per
channel), not inline styles; geometry uses SVG presentation attributes.

The journey picture is vertical: one lane per visit (its channel, source and landing page), a
row per page viewed with a bar as long as the time spent on the page, custom events as diamonds,
dashed breaks with the time between visits, and the enquiry at the end. Events only the browser
buffer saw (`source == "client"`: a blocker stopped them reaching the server) carry a badge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from .channels import CHANNEL_GROUPS
from .localtime import UTC_TIMES, LocalTimes, parse_time

# Events the picture folds into others (engagement is the bar length of its page view).
QUIET_EVENTS = frozenset({"page_engagement"})


# -- formatting (also used by the templates) ---------------------------------------------------


def channel_class(channel: str | None) -> str:
    """The CSS class that colours a channel: ch-organic-search, ..., ch-other."""
    if channel in CHANNEL_GROUPS:
        return "ch-" + re.sub(r"[^a-z0-9]+", "-", channel.lower()).strip("-")
    return "ch-other"


def duration(ms: float | int | None, short: bool = False) -> str:
    """1 h 20 min, 4 min 5 s, 12 s, 3 days; "–" when unknown."""
    if ms is None:
        return "–"
    seconds = max(0, int(round(ms / 1000)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" if short or s == 0 or minutes >= 10 else f"{minutes} min {s} s"
    hours, m = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" if short or m == 0 else f"{hours} h {m} min"
    days, h = divmod(hours, 24)
    return f"{days} days" if short or h == 0 else f"{days} days {h} h"


def truncate(text: object, limit: int) -> str:
    text = "" if text is None else str(text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def number(n: float | int | None) -> str:
    if n is None:
        return "–"
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


class Format(LocalTimes):
    """What the templates call `fmt`: times in the owner's zone (LocalTimes) and the helpers above."""

    channel_class = staticmethod(channel_class)
    duration = staticmethod(duration)
    truncate = staticmethod(truncate)
    number = staticmethod(number)


# -- SVG building blocks -------------------------------------------------------------------------


def _attrs(**attrs: object) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.1f}".rstrip("0").rstrip(".")
        parts.append(f'{name}="{escape(value)}"')
    return " ".join(parts)


def _el(tag: str, content: str | None = None, **attrs: object) -> str:
    a = _attrs(**attrs)
    if content is None:
        return f"<{tag} {a}/>"
    return f"<{tag} {a}>{content}</{tag}>"


def _text(x: float, y: float, text: object, cls: str = "", **attrs: object) -> str:
    return _el("text", str(escape(text)), x=float(x), y=float(y), class_=cls or None, **attrs)


def _title(text: object) -> str:
    return f"<title>{escape(text)}</title>"


def _svg(
    chart_id: str, width: int, height: int, label: str, body: Iterable[str], cls: str, description: str = ""
) -> Markup:
    desc = f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>' if description else ""
    labelled = f"{chart_id}-title" + (f" {chart_id}-desc" if description else "")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(cls)}" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{escape(labelled)}" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="{escape(chart_id)}-title">{escape(label)}</title>{desc}'
    )
    return Markup(head + "".join(body) + "</svg>")


# -- the journey picture ----------------------------------------------------------------------------


def _describe_event(event: dict) -> str:
    raw = event.get("params")
    params: dict = raw if isinstance(raw, dict) else {}
    for key in ("href", "label", "item", "form", "value"):
        if key in params and params[key] not in (None, ""):
            return f"{key}: {params[key]}"
    shown = [f"{k}: {v}" for k, v in params.items() if k not in ("event_id", "client_ts", "title", "referrer")]
    return ", ".join(shown[:2])


def _visit_label(visit: dict, times: LocalTimes) -> tuple[str, str]:
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


@dataclass(frozen=True)
class _Layout:
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


WIDE = _Layout(680, 84, 108, 160, True, False, 32, 70, 90, 44, 586)
COMPACT = _Layout(360, 14, 32, 136, False, True, 40, 36, 50, 26, 266)


def journey_picture(
    journey: dict,
    chart_id: str = "journey-picture",
    max_rows: int = 240,
    compact: bool = False,
    times: LocalTimes = UTC_TIMES,
) -> Markup:
    """The vertical timeline of one journey (an export.export_journey() result). `compact` lays
    it out for a phone's width (the page shows one or the other by CSS). Times are written in
    the zone of `times`."""
    lay = COMPACT if compact else WIDE
    spine, bar_x = lay.spine, lay.bar_x
    visits = journey.get("visits") or []
    timeline = [e for e in journey.get("timeline") or [] if e.get("event_name") not in QUIET_EVENTS]
    summary = journey.get("summary") or {}
    shown = timeline[:max_rows]
    longest = max((e.get("time_on_page_ms") or 0 for e in shown), default=0) or 1
    # A square-root scale keeps a 5-second glance visible beside a 20-minute read; a minute at
    # least fills the scale, so a journey of quick glances does not draw long bars.
    scale = math.sqrt(max(longest, 60_000))

    body: list[str] = []
    y = 14
    by_visit: dict[int, list[dict]] = {}
    for event in shown:
        by_visit.setdefault(int(event.get("visit") or 0), []).append(event)
    previous_end = None
    for index, visit in enumerate(visits):
        events = by_visit.get(index, [])
        if index >= 1 and not events and index > max(by_visit, default=0):
            break
        started = parse_time(visit.get("started_at"))
        if previous_end is not None and started is not None:
            gap = (started - previous_end).total_seconds() * 1000
            body.append(_el("line", x1=spine, y1=y - 6, x2=spine, y2=y + 30, class_="spine gap"))
            body.append(_text(bar_x, y + 17, f"{duration(gap, short=True)} later", "gap-label"))
            y += 38
        head, sub = _visit_label(visit, times)
        ch = channel_class(visit.get("channel"))
        body.append(
            _el(
                "g",
                "".join(
                    [
                        _title(f"Visit {index + 1}: {head}. {sub}"),
                        _el("circle", cx=spine, cy=y + 8, r=9, class_=f"visit-node {ch}"),
                        _text(spine, y + 12, index + 1, "visit-number", text_anchor="middle"),
                        _text(bar_x, y + 8, truncate(f"Visit {index + 1} · {head}", lay.head_chars), "visit-head"),
                        _text(bar_x, y + 26, truncate(sub, lay.sub_chars), "visit-sub"),
                        _text(spine - 16, y + 12, times.clock(visit.get("started_at")), "time-label", text_anchor="end")
                        if lay.times
                        else "",
                    ]
                ),
                class_="visit",
            )
        )
        lane_top = y + 20
        y += 44
        for event in events:
            y = _event_row(body, event, y, lay, scale, times)
        body.insert(0, _el("line", x1=spine, y1=lane_top, x2=spine, y2=y - 4, class_=f"spine {ch}"))
        previous_end = parse_time(visit.get("ended_at")) or started
    if len(timeline) > len(shown):
        more = len(timeline) - len(shown)
        body.append(_text(bar_x, y + 10, f"… and {more} more events (see the table below)", "more-label"))
        y += 26
    # The enquiry itself.
    submitted = summary.get("submitted_at")
    if previous_end is not None and (sub_at := parse_time(submitted)) is not None:
        gap = (sub_at - previous_end).total_seconds() * 1000
        if gap > 60_000:
            body.append(_text(bar_x, y + 8, f"{duration(gap, short=True)} later", "gap-label"))
            y += 18
    form = journey.get("form")
    label = "Enquiry sent" + (f" · {truncate(form, 40 if not compact else 12)} form" if form else "")
    if not lay.times:
        label += f" · {times.clock(submitted)}"
    body.append(
        _el(
            "g",
            "".join(
                [
                    _title(f"{label}, {times.moment(submitted)}"),
                    _el("path", d=_star(spine, y + 10, 11, 5), class_="enquiry-node"),
                    _text(bar_x, y + 15, label, "enquiry-label"),
                    _text(spine - 16, y + 15, times.clock(submitted), "time-label", text_anchor="end")
                    if lay.times
                    else "",
                ]
            ),
            class_="enquiry",
        )
    )
    y += 34
    return _svg(
        chart_id,
        lay.width,
        y,
        "The journey as a timeline",
        body,
        "journey-picture compact" if compact else "journey-picture",
        f"{len(visits)} visit(s), {summary.get('page_views', 0)} page view(s) before the enquiry",
    )


def _event_row(body: list[str], event: dict, y: int, lay: _Layout, scale: float, times: LocalTimes) -> int:
    spine, bar_x = lay.spine, lay.bar_x
    client_only = event.get("source") == "client"
    name = event.get("event_name") or "(unnamed)"
    path = event.get("page_path") or ""
    raw = event.get("params")
    params: dict = raw if isinstance(raw, dict) else {}
    badge = ""
    if client_only:
        badge = _el(
            "g",
            _el("rect", x=lay.badge_x, y=y - 3, width=90, height=18, rx=9, class_="badge-client")
            + _text(lay.badge_x + 45, y + 10, "browser only", "badge-text", text_anchor="middle")
            + _title(
                "Only the browser's buffer saw this event: it never reached the server "
                "(an ad or tracking blocker, most likely)"
            ),
            class_="client-badge",
        )
    cls = "row client" if client_only else "row"
    clock_label = (
        _text(spine - 16, y + 10, times.clock(event.get("at")), "time-label", text_anchor="end") if lay.times else ""
    )
    if name == "page_view":
        ms = event.get("time_on_page_ms")
        length = 6 if not ms else max(6, round(lay.bar_max * math.sqrt(max(ms, 0)) / (scale or 1)))
        label = truncate(path.split("#", 1)[0], lay.path_chars) or "(no page)"
        title = params.get("title")
        tip = (
            f"{path}"
            + (f" — “{title}”" if title else "")
            + f" · {duration(ms)} on page"
            + (" · seen only by the browser" if client_only else "")
        )
        dwell = duration(ms, short=True) if ms else ""
        if lay.two_line:
            after = " · ".join(part for part in (dwell, times.clock(event.get("at"))) if part)
            texts = _text(bar_x + length + 8, y + 10, after, "dwell-label") + _text(bar_x, y + 30, label, "page-label")
        else:
            texts = _el(
                "text",
                f'<tspan class="page-label">{escape(label)}</tspan>'
                + (f'<tspan class="dwell-label" dx="8">{escape(dwell)}</tspan>' if dwell else ""),
                x=bar_x + length + 8,
                y=y + 10,
            )
        body.append(
            _el(
                "g",
                "".join(
                    [
                        _title(truncate(tip, 400)),
                        _el("circle", cx=spine, cy=y + 6, r=4, class_="page-node"),
                        clock_label,
                        _el("rect", x=bar_x, y=y - 2, width=length, height=16, rx=3, class_="bar"),
                        texts,
                        badge,
                    ]
                ),
                class_=cls,
            )
        )
        return y + (42 if lay.two_line else 26)
    detail = truncate(_describe_event(event), lay.event_chars)
    label = truncate(name, 32 if not lay.two_line else 22) + (f" — {detail}" if detail and not lay.two_line else "")
    tip = f"{name} on {path}" + (f" ({_describe_event(event)})" if detail else "")
    body.append(
        _el(
            "g",
            "".join(
                [
                    _title(truncate(tip, 400)),
                    _el("path", d=f"M{spine} {y + 1} l6 6 l-6 6 l-6 -6 z", class_="event-node"),
                    clock_label,
                    _text(bar_x, y + 11, label, "event-label"),
                    badge,
                ]
            ),
            class_=cls + " custom",
        )
    )
    return y + 24


def _star(cx: float, cy: float, outer: float, inner: float) -> str:
    points = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        angle = math.pi / 5 * i - math.pi / 2
        points.append(f"{cx + r * math.cos(angle):.1f} {cy + r * math.sin(angle):.1f}")
    return "M" + " L".join(points) + " Z"


def journey_strip(
    journey: dict, chart_id: str = "journey-strip", compact: bool = False, times: LocalTimes = UTC_TIMES
) -> Markup:
    """A one-line overview: each visit placed in real time between first visit and enquiry."""
    width, height, left = (360, 58, 8) if compact else (680, 58, 10)
    right = width - 20
    visits = journey.get("visits") or []
    summary = journey.get("summary") or {}
    start = parse_time(summary.get("first_seen_at"))
    end = parse_time(summary.get("submitted_at"))
    body: list[str] = [_el("line", x1=left, y1=24, x2=right, y2=24, class_="strip-axis")]
    if start is None or end is None or end <= start:
        return _svg(chart_id, width, height, "Visits over time", body, "journey-strip")
    span = (end - start).total_seconds()
    min_w = 8

    def x_of(at: datetime) -> float:
        return left + (right - left) * max(0.0, min(1.0, (at - start).total_seconds() / span))

    for visit in visits:
        s = parse_time(visit.get("started_at")) or start
        e = parse_time(visit.get("ended_at")) or s
        x0, x1 = x_of(s), x_of(e)
        w = max(min_w, x1 - x0)
        x0 = min(x0, right - w)
        head, sub = _visit_label(visit, times)
        number = str(visit.get("index", 0) + 1)
        body.append(
            _el(
                "g",
                _title(f"Visit {number}: {head}. {sub}")
                + _el(
                    "rect",
                    x=x0,
                    y=14,
                    width=w,
                    height=20,
                    rx=4,
                    class_=f"strip-visit {channel_class(visit.get('channel'))}",
                )
                + (_text(x0 + w / 2, 28, number, "strip-number", text_anchor="middle") if w >= 16 else ""),
                class_="visit",
            )
        )
    body.append(
        _el(
            "g",
            _title(f"Enquiry, {times.moment(end)}") + _el("path", d=_star(right + 8, 24, 9, 4), class_="enquiry-node"),
        )
    )
    body.append(
        _text(
            left,
            52,
            f"first visit {times.clock(start)}" if compact else f"first visit {times.day(start)}, {times.clock(start)}",
            "strip-time",
        )
    )
    body.append(
        _text(
            right + 8,
            52,
            f"enquiry {times.day(end) if times.day(end) != times.day(start) else ''} {times.clock(end)}".replace(
                "  ", " "
            ),
            "strip-time",
            text_anchor="end",
        )
    )
    return _svg(
        chart_id,
        width,
        height,
        f"{len(visits)} visit(s) over {duration(span * 1000, short=True)} before the enquiry",
        body,
        "journey-strip compact" if compact else "journey-strip",
    )


# -- insights charts ----------------------------------------------------------------------------------


def responsive(wide: Markup, narrow: Markup) -> Markup:
    """Both layouts of a chart; the CSS shows the wide one on wide screens, the other on phones."""
    return (
        Markup('<div class="wide-only">') + wide + Markup('</div><div class="narrow-only">') + narrow + Markup("</div>")
    )


def _nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum at or above value, and its tick step (4-6 ticks)."""
    if value <= 0:
        return 4, 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        tick = step * exponent
        if value / tick <= 5:
            top = math.ceil(value / tick) * tick
            return top, tick
    return value, value / 5


def stacked_bars(
    chart_id: str,
    label: str,
    buckets: Sequence[tuple[str, str, dict[str, int]]],
    series: Sequence[str],
    width: int = 1100,
    height: int = 280,
) -> Markup:
    """Vertical stacked bars: buckets = (short x label, long label, {series: count}); series in
    stacking order (bottom first). `width` is the viewBox width: about the width it is shown at,
    so text stays near its nominal size."""
    left, bottom, top = 44, height - 36, 12
    plot_w, plot_h = width - left - 8, bottom - top
    totals = [sum(values.values()) for _, _, values in buckets]
    y_max, tick = _nice_max(max(totals, default=0))
    body: list[str] = []
    steps = int(round(y_max / tick))
    for i in range(steps + 1):
        value = tick * i
        y = bottom - plot_h * value / y_max
        body.append(_el("line", x1=left, y1=y, x2=width - 8, y2=y, class_="grid" if i else "axis"))
        body.append(_text(left - 6, y + 4, number(value), "axis-label", text_anchor="end"))
    n = max(1, len(buckets))
    slot = plot_w / n
    bar_w = max(1.5, slot * 0.72)
    label_every = max(1, math.ceil(n / max(4, width // 90)))
    for i, (short, long, values) in enumerate(buckets):
        x = left + slot * i + (slot - bar_w) / 2
        y = float(bottom)
        parts = []
        for name in series:
            count = values.get(name, 0)
            if not count:
                continue
            h = plot_h * count / y_max
            y -= h
            parts.append(
                _el(
                    "rect",
                    _title(f"{long} · {name}: {count}"),
                    x=x,
                    y=y,
                    width=bar_w,
                    height=max(h, 0.5),
                    class_=f"seg {channel_class(name)}",
                )
            )
        total = totals[i]
        parts.insert(0, _title(f"{long}: {total} enquir{'y' if total == 1 else 'ies'}"))
        body.append(_el("g", "".join(parts), class_="bucket"))
        if i % label_every == 0:
            body.append(_text(x + bar_w / 2, bottom + 16, short, "axis-label", text_anchor="middle"))
    return _svg(
        chart_id,
        width,
        height,
        label,
        body,
        "stacked-bars" + (" compact" if width < 500 else ""),
        f"{sum(totals)} enquiries in {len(buckets)} periods",
    )


def bar_list(
    chart_id: str,
    label: str,
    items: Sequence[tuple[str, float, str]],
    css: str = "bar-fill",
    label_width: int = 260,
    width: int = 540,
    value_width: int = 120,
) -> Markup:
    """Horizontal bars, one row per item: (label, value, value text)."""
    row = 30
    bar_left, bar_right = label_width + 12, width - value_width
    height = max(row, row * len(items)) + 4
    top_value = max((value for _, value, _ in items), default=0) or 1
    body: list[str] = []
    for i, (name, value, text) in enumerate(items):
        y = i * row + 4
        w = max(2.0, (bar_right - bar_left) * value / top_value)
        body.append(
            _el(
                "g",
                "".join(
                    [
                        _title(f"{name}: {text}"),
                        _text(
                            label_width, y + 15, truncate(name, int(label_width // 7.6)), "bar-label", text_anchor="end"
                        ),
                        _el("rect", x=bar_left, y=y + 2, width=w, height=18, rx=3, class_=css),
                        _text(bar_left + w + 6, y + 15, text, "bar-value"),
                    ]
                ),
                class_="bar-row",
            )
        )
    return _svg(chart_id, width, height, label, body, "bar-list" + (" compact" if width < 500 else ""))


def histogram(
    chart_id: str, label: str, buckets: Sequence[tuple[str, int]], css: str = "bar-fill", width: int = 540
) -> Markup:
    """Vertical bars with a label under each and the count above."""
    height, left, bottom, top = 210, 8, 170, 22
    plot_h = bottom - top
    top_value = max((n for _, n in buckets), default=0) or 1
    total = sum(n for _, n in buckets) or 1
    n = max(1, len(buckets))
    slot = (width - 2 * left) / n
    bar_w = slot * 0.66
    body: list[str] = [_el("line", x1=left, y1=bottom, x2=width - left, y2=bottom, class_="axis")]
    for i, (name, count) in enumerate(buckets):
        x = left + slot * i + (slot - bar_w) / 2
        h = plot_h * count / top_value
        share = 100 * count / total
        share_text = "<1%" if 0 < share < 1 else f"{share:.0f}%"
        body.append(
            _el(
                "g",
                "".join(
                    [
                        _title(f"{name}: {count} ({share_text})"),
                        _el("rect", x=x, y=bottom - h, width=bar_w, height=max(h, 1), rx=3, class_=css),
                        _text(x + bar_w / 2, bottom - h - 6, f"{count:,}", "bar-value", text_anchor="middle"),
                        _text(x + bar_w / 2, bottom + 18, name, "axis-label", text_anchor="middle"),
                        _text(x + bar_w / 2, bottom + 34, share_text, "axis-label muted", text_anchor="middle"),
                    ]
                ),
                class_="bucket",
            )
        )
    return _svg(chart_id, width, height, label, body, "histogram" + (" compact" if width < 500 else ""))


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def visits_and_enquiries(
    chart_id: str,
    label: str,
    days: Sequence[tuple[str, str, int, int]],
    width: int = 1100,
    height: int = 260,
) -> Markup:
    """Per day (short x label, long label, visits, enquiries): visits as bars on the left axis,
    enquiries as a line with dots on their own right axis (a few enquiries against thousands of
    visits would otherwise lie flat on the floor)."""
    left, right, bottom, top = 48, 44, height - 34, 12
    plot_w, plot_h = width - left - right, bottom - top
    v_max, v_tick = _nice_max(max((v for _, _, v, _ in days), default=0))
    e_max, e_tick = _nice_max(max((e for _, _, _, e in days), default=0))
    body: list[str] = []
    for i in range(int(round(v_max / v_tick)) + 1):
        y = bottom - plot_h * v_tick * i / v_max
        body.append(_el("line", x1=left, y1=y, x2=width - right, y2=y, class_="grid" if i else "axis"))
        body.append(_text(left - 6, y + 4, number(v_tick * i), "axis-label", text_anchor="end"))
    for i in range(int(round(e_max / e_tick)) + 1):
        y = bottom - plot_h * e_tick * i / e_max
        body.append(_text(width - right + 6, y + 4, number(e_tick * i), "axis-label enquiries-axis"))
    n = max(1, len(days))
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.7)
    label_every = max(1, math.ceil(n / max(4, width // 90)))
    points = []
    for i, (short, long, visits, enquiries) in enumerate(days):
        x = left + slot * i + (slot - bar_w) / 2
        h = plot_h * visits / v_max
        cx, cy = x + bar_w / 2, bottom - plot_h * enquiries / e_max
        points.append(f"{cx:.1f},{cy:.1f}")
        body.append(
            _el(
                "g",
                _title(f"{long}: {_count(visits, 'visit', 'visits')}, {_count(enquiries, 'enquiry', 'enquiries')}")
                + _el("rect", x=x, y=bottom - h, width=bar_w, height=max(h, 0.5), class_="bar-fill visits")
                + _el("circle", cx=cx, cy=cy, r=2.5 if n <= 120 else 1.5, class_="enquiries-dot"),
                class_="bucket",
            )
        )
        if i % label_every == 0:
            body.append(_text(cx, bottom + 16, short, "axis-label", text_anchor="middle"))
    if len(points) > 1:
        body.append(_el("polyline", points=" ".join(points), class_="enquiries-line"))
    return _svg(
        chart_id,
        width,
        height,
        label,
        body,
        "visits-enquiries" + (" compact" if width < 500 else ""),
        f"{sum(d[2] for d in days):,} visits and {sum(d[3] for d in days):,} enquiries in {len(days)} days",
    )
