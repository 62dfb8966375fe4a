"""An enquiry's outcome: status (open, won, lost, spam) and value in CURRENCY. One validator for the
API's JSON body and the dashboard's form, and the store calls that set and read it."""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from .contract import AMOUNT_RULE, MAX_ID, MAX_VALUE_AMOUNT, STATUS_RULE, STATUSES
from .store.base import SqlStore, Transaction


class Outcome(NamedTuple):
    status: str
    value: float | None


class OutcomeError(ValueError):
    """What is wrong with an outcome, one detail per field ("value: must be ...")."""

    def __init__(self, details: list[str]) -> None:
        super().__init__("; ".join(details))
        self.details = details


def _amount(value: Any) -> float | None:
    """A finite number from 0 to MAX_VALUE_AMOUNT, rounded to cents, or None; ValueError else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError
    amount = float(value)
    if not math.isfinite(amount) or not 0 <= amount <= MAX_VALUE_AMOUNT:
        raise ValueError
    return round(amount, 2)


def parse_outcome(doc: Any) -> Outcome:
    """The API body {"status": ..., "value": number|null} -> Outcome, or OutcomeError naming each problem.
    Unknown keys are refused: a typo ("vaule") must not silently set nothing."""
    if not isinstance(doc, dict):
        raise OutcomeError(['body: must be a JSON object {"status": ..., "value": ...}'])
    problems = [f"{key}: is not a field of an outcome (status, value)" for key in doc if key not in ("status", "value")]
    status = doc.get("status")
    if status not in STATUSES:
        problems.append(f"status: {'is required; ' if status is None else ''}{STATUS_RULE}")
    try:
        value = _amount(doc.get("value"))
    except ValueError:
        problems.append(f"value: {AMOUNT_RULE}")
        value = None
    if problems:
        raise OutcomeError(problems)
    return Outcome(str(status), value)


AMOUNT_TEXT_RULE = "write an amount such as 1250, 1,250.50 or 1.250,50 (at most 2 decimals), or leave it empty"
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'_")
_DIGITS = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{3})+")


def amount_from_text(text: str | None) -> Decimal | None:
    """An amount as an owner types it -> Decimal (None when empty), or ValueError.

    Either separator may be the decimal one, so "1,250.50", "1.250,50", "1 250,50" and "1250.5" all
    read as 1250.50: the last separator is the decimal one when 1 or 2 digits follow it; otherwise
    separators group thousands ("1,250", "1.250.000"). Refused, never guessed: more than 2 decimals
    that are not a thousands group, one separator both grouping and marking decimals ("1.250.50"),
    signs, exponents, words."""
    raw = (text or "").translate(_SPACES)
    if not raw:
        return None
    whole, cents = raw, "0"
    last = max(raw.rfind("."), raw.rfind(","))
    if last >= 0 and 1 <= len(raw) - last - 1 <= 2:
        whole, cents = raw[:last], raw[last + 1 :]
        if not _DIGITS.fullmatch(cents) or raw[last] in whole:
            raise ValueError(text)
    if whole and not _DIGITS.fullmatch(whole):
        if not _GROUPED.fullmatch(whole) or ("." in whole and "," in whole):
            raise ValueError(text)
    digits = whole.replace(".", "").replace(",", "") or "0"
    return Decimal(f"{digits}.{cents}")


def parse_outcome_form(status: str | None, value: str | None) -> Outcome:
    """The dashboard's form fields (value as typed: "1200", "1,200.50", "1.200,50", or empty) -> Outcome."""
    try:
        typed = amount_from_text(value)
    except ValueError:
        problems = [f"value: {AMOUNT_TEXT_RULE}"]
        if status not in STATUSES:
            problems.insert(0, f"status: {STATUS_RULE}")
        raise OutcomeError(problems) from None
    return parse_outcome({"status": status, "value": None if typed is None else float(typed)})


def outcome_out(row: dict[str, Any]) -> dict[str, Any]:
    """A stored outcome as the API answers it (numeric values come back as Decimal on PostgreSQL)."""
    value = row.get("value")
    return {
        "id": int(row["id"]),
        "status": row["status"],
        "value": None if value is None else float(Decimal(str(value))),
        "currency": row.get("currency"),
    }


async def set_outcome(db: Transaction, journey_id: int, outcome: Outcome, currency: str) -> dict[str, Any] | None:
    """Sets the journey's status and value (in `currency`); its outcome as stored, or None when unknown
    (an id past what either database stores, from a URL's digits, included: no query for it)."""
    if not 0 < journey_id <= MAX_ID:
        return None
    changed = await db.execute(
        "journey_set_outcome", id=journey_id, status=outcome.status, value=outcome.value, currency=currency
    )
    if not changed:
        return None
    rows = await db.fetch("journey_outcome", id=journey_id)
    return outcome_out(rows[0]) if rows else None


async def won_journeys(store: SqlStore, since: datetime) -> list[dict[str, Any]]:
    """Every won journey submitted at or after `since`, as exported (without the timeline)."""
    from .export import export_journey

    rows = await store.fetch("won_journeys_since", since=since)
    return [export_journey(store.journey_out(row), timeline=False) for row in rows]
