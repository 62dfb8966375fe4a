"""Pure: how the dashboard writes things: channel colours (CSS classes), durations, truncated
text, counts; `Format` bundles them with the owner's local times for the templates (`fmt`)."""

from __future__ import annotations

import re

from ..channels import CHANNEL_GROUPS
from ..localtime import LocalTimes


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
    """`text` on one line (unprintable characters as spaces), cut to `limit` with an ellipsis."""
    text = "" if text is None else str(text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def number(n: float | int | None) -> str:
    """1,234 or 12.5; "–" when unknown."""
    if n is None:
        return "–"
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def count(n: int, one: str, many: str) -> str:
    """ "1 visit", "1,200 visits"."""
    return f"{n:,} {one if n == 1 else many}"


def percent(n: int, of: int) -> str:
    """n as a share of `of`: "12%", "<1%" for a small non-zero share."""
    share = 100 * n / (of or 1)
    return "<1%" if 0 < share < 1 else f"{share:.0f}%"


class Format(LocalTimes):
    """What the templates call `fmt`: times in the owner's zone (LocalTimes) and the helpers above."""

    channel_class = staticmethod(channel_class)
    duration = staticmethod(duration)
    truncate = staticmethod(truncate)
    number = staticmethod(number)
