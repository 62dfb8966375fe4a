"""Pure: the digest (NOTIFY_DIGEST=daily|weekly). Its periods are the owner's days (TIMEZONE):
a day, or a week from Monday to Sunday. Each is sent once, from SEND_HOUR local time on the day
after it ends, to NOTIFY_EMAILS: enquiries, by channel (last touch, as the insights), won and
their value in CURRENCY, each against the period before; spam left out (and counted apart).

The figures come from the insights queries (totals.load_insights: channels with visits,
enquiries, won and value) and one count of the period's enquiries by outcome (digest_outcomes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from ..localtime import local_date
from . import mail

KINDS = ("daily", "weekly")
SEND_HOUR = 7  # local time on the first day after the period: the start of the owner's day
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    kind: str  # daily | weekly
    first: date
    last: date  # both included

    @property
    def key(self) -> str:
        """The outbox key: one row, so one e-mail, per period however many workers see it end."""
        return f"digest:{self.kind}:{self.first.isoformat()}"

    def previous(self) -> Period:
        span = self.last - self.first + _DAY
        return Period(self.kind, self.first - span, self.last - span)

    @property
    def label(self) -> str:
        """Thu 4 Dec 2026; Mon 1 – Sun 7 Dec 2026; Mon 29 Dec 2025 – Sun 4 Jan 2026."""
        if self.first == self.last:
            return self.first.strftime("%a %-d %b %Y")
        if self.first.year != self.last.year:
            start = self.first.strftime("%a %-d %b %Y")
        elif self.first.month != self.last.month:
            start = self.first.strftime("%a %-d %b")
        else:
            start = self.first.strftime("%a %-d")
        return f"{start} – {self.last.strftime('%a %-d %b %Y')}"

    @property
    def before(self) -> str:
        return "the day before" if self.kind == "daily" else "the week before"


def period_of(key: str) -> Period:
    """The period an outbox key names (digest:<kind>:<first day>). Raises ValueError otherwise."""
    prefix, kind, first = key.split(":")
    if prefix != "digest" or kind not in KINDS:
        raise ValueError(f"not a digest key: {key!r}")
    start = date.fromisoformat(first)
    return Period(kind, start, start + (_DAY * 6 if kind == "weekly" else timedelta(0)))


def due_period(kind: str, now: datetime, tz: tzinfo) -> Period | None:
    """The latest period whose digest may go out at `now`: it has ended and the local clock has
    passed SEND_HOUR on a day after it (None when NOTIFY_DIGEST is off)."""
    if kind not in KINDS:
        return None
    local = now.astimezone(tz)
    today = local_date(now, tz)
    sendable = today if local.hour >= SEND_HOUR else today - _DAY  # the last day whose SEND_HOUR has passed
    if kind == "daily":
        last = sendable - _DAY
        return Period(kind, last, last)
    # Weekly: the last Monday-Sunday week that ended before `sendable`.
    last = sendable - timedelta(days=sendable.weekday() + 1)
    return Period(kind, last - 6 * _DAY, last)


# -- the e-mail -------------------------------------------------------------------------------------


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    return float(value) if isinstance(value, Decimal | int | float) else 0.0


def money(currency: str, value: float) -> str:
    return f"{currency} {value:,.2f}"


def change(now: float, before: float, is_money: str | None = None) -> dict[str, Any]:
    """How a figure moved: a short phrase and its direction (up, down, same)."""
    if round(now, 2) == round(before, 2):
        return {"direction": "same", "text": "no change"}
    direction = "up" if now > before else "down"
    amount = abs(now - before)
    shown = money(is_money, amount) if is_money else f"{amount:,.0f}"
    return {"direction": direction, "text": f"{'+' if direction == 'up' else '−'}{shown}"}


def _channels(insights: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["channel"]: row for row in insights.get("channels", ()) if row.get("source") is None}


def digest_view(
    period: Period,
    outcomes: dict[str, Any],
    previous_outcomes: dict[str, Any],
    insights: dict[str, Any],
    previous_insights: dict[str, Any],
    currency: str,
    link: str | None,
) -> dict[str, Any]:
    """What the templates show: `outcomes` as digest_outcomes gives them (enquiries, won, value,
    spam), `insights` as GET /api/v1/insights' document for the period's days."""
    enquiries, before = int(outcomes.get("enquiries") or 0), int(previous_outcomes.get("enquiries") or 0)
    won, won_before = int(outcomes.get("won") or 0), int(previous_outcomes.get("won") or 0)
    value, value_before = _number(outcomes.get("value")), _number(previous_outcomes.get("value"))
    visits = sum(int(d.get("visits") or 0) for d in insights.get("days", ()))
    visits_before = sum(int(d.get("visits") or 0) for d in previous_insights.get("days", ()))
    now_rows, before_rows = _channels(insights), _channels(previous_insights)

    def count(rows: dict[str, dict[str, Any]], name: str) -> int:
        return int(rows.get(name, {}).get("enquiries") or 0)

    names = [c for c in {**before_rows, **now_rows} if count(now_rows, c) or count(before_rows, c)]
    names.sort(key=lambda c: (-count(now_rows, c), -count(before_rows, c), c))
    channels: list[dict[str, Any]] = []
    for name in names:
        row, old = now_rows.get(name, {}), before_rows.get(name, {})
        n, m = int(row.get("enquiries") or 0), int(old.get("enquiries") or 0)
        channels.append(
            {
                "channel": name,
                "enquiries": n,
                "before": m,
                "change": change(n, m),
                "won": int(row.get("won") or 0),
                "value": money(currency, _number(row.get("value"))) if row.get("won") else "–",
                "visits": int(row.get("visits") or 0),
            }
        )
    untracked = enquiries - sum(int(c["enquiries"]) for c in channels)
    return {
        "period": period.label,
        "kind": period.kind,
        "heading": period.label,
        "before": period.before,
        "enquiries": enquiries,
        "enquiries_before": before,
        "enquiries_change": change(enquiries, before),
        "won": won,
        "won_before": won_before,
        "won_change": change(won, won_before),
        "value": money(currency, value),
        "value_before": money(currency, value_before),
        "value_change": change(value, value_before, currency),
        "visits": visits,
        "visits_before": visits_before,
        "visits_change": change(visits, visits_before),
        "conversion": f"{100 * enquiries / visits:.1f}%" if visits else None,
        "channels": channels,
        "untracked": max(0, untracked),
        "spam": int(outcomes.get("spam") or 0),
        "currency": currency,
        "link": link,
    }


def subject(view: dict[str, Any]) -> str:
    n = view["enquiries"]
    what = f"{n} enquir{'y' if n == 1 else 'ies'}"
    return f"leadtrail {view['kind']}: {what}, {view['period']} ({view['enquiries_before']} {view['before']})"


def digest_message(view: dict[str, Any], sender: str, recipients: tuple[str, ...], now: datetime) -> EmailMessage:
    preview = f"{view['enquiries']} enquiries, {view['won']} won ({view['value']}), {view['visits']} visits"
    text, html = mail.render("digest", {**view, "preview": preview})
    return mail.assemble(subject(view), text, html, sender, recipients, now)
