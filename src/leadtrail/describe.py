"""Pure: events in the owner's words ("Read for 5 s", "Clicked a link to example.com"), for the
dashboard's event table and the e-mail; never Python words (None, True) or developer names."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

LABELS = {
    "page_view": "Viewed a page",
    "page_engagement": "Read the page",
    "outbound_click": "Clicked a link to another site",
    "file_download": "Downloaded a file",
    "generate_lead": "Sent the form",
    "form_submit": "Sent a form",
    "scroll": "Scrolled",
    "click": "Clicked",
}
HIDDEN = frozenset(("event_id", "client_ts", "engaged_ms", "href", "referrer", "title", "package_name"))


def event_label(name: str) -> str:
    """A known event's name as a short phrase; a site's own event name as it is, made readable."""
    if name in LABELS:
        return LABELS[name]
    words = name.replace("_", " ").replace(".", " ").replace(":", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def duration(ms: float) -> str:
    seconds = round(ms / 1000)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if seconds and minutes < 10 else f"{minutes} min"


def value_text(value: Any) -> str | None:
    """A param value as shown: nothing for null or empty, yes/no for booleans."""
    if value is None or value == "":
        return None
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _host(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    host = urlsplit(url).hostname
    return host or url


def event_details(name: str, params: Any) -> str:
    """What the event adds to its label, in plain words; empty when there is nothing to say."""
    if not isinstance(params, dict):
        return ""
    parts: list[str] = []
    title = value_text(params.get("title"))
    if title:
        parts.append(f"“{title}”")
    referrer = _host(params.get("referrer"))
    if referrer and name == "page_view":
        parts.append(f"came from {referrer}")
    engaged = params.get("engaged_ms")
    if isinstance(engaged, int | float) and not isinstance(engaged, bool) and engaged >= 0:
        parts.append(f"read for {duration(engaged)}")
    href = params.get("href")
    if isinstance(href, str) and href:
        parts.append(f"to {_host(href) or href}" if name == "outbound_click" else href)
    for key, value in params.items():
        if key in HIDDEN:
            continue
        text = value_text(value)
        if text is not None:
            parts.append(f"{key.replace('_', ' ')}: {text}")
    return "; ".join(parts)
