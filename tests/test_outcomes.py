"""The outcome validator shared by the dashboard and the API: statuses, values (a finite number from
0, cents kept, or empty) and amounts as owners type them in either number style; anything else is
refused with one detail per field, never guessed; and the store call sets exactly what it was given."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import run_store

from leadtrail import outcomes
from leadtrail.contract import MAX_VALUE_AMOUNT, STATUSES

cents = st.integers(0, 10**13)  # up to 100 billion, in cents


def styles(amount_cents: int) -> list[str]:
    """The ways an owner may type one amount: plain, English, continental, spaced, Swiss."""
    units, rest = divmod(amount_cents, 100)
    grouped = f"{units:,}"
    return [
        f"{units}.{rest:02d}",
        f"{grouped}.{rest:02d}",
        f"{grouped.replace(',', '.')},{rest:02d}",
        f"{grouped.replace(',', ' ')},{rest:02d}",
        grouped.replace(",", "\u202f") + f".{rest:02d}",
        grouped.replace(",", "'") + f".{rest:02d}",
        f"  {units},{rest:02d} ",
    ]


@given(cents)
def test_every_typing_style_of_an_amount_reads_back_exactly(amount_cents):
    """Plain, 1,250.50, 1.250,50, 1 250,50 and 1'250.50 styles of one amount all read as that amount."""
    for text in styles(amount_cents):
        assert outcomes.amount_from_text(text) == Decimal(amount_cents) / 100, text


@given(st.integers(0, 10**12))
def test_whole_amounts_with_thousands_groups_read_as_whole(units):
    """1,250 and 1.250 and 1.250.000 are thousands, never 1.25: a group of three digits groups."""
    assert outcomes.amount_from_text(str(units)) == units
    assert outcomes.amount_from_text(f"{units:,}") == units
    assert outcomes.amount_from_text(f"{units:,}".replace(",", ".")) == units


@pytest.mark.parametrize(
    "text", ["-5", "1e3", "lots", "1.250.50", "1,250,50", "1,25,000", "1.2.3", "12.3456", "1.", "nan", "inf", "+5"]
)
def test_amounts_that_cannot_be_read_one_way_are_refused(text):
    """Signs, exponents, words, a separator both grouping and marking decimals, stray separators."""
    with pytest.raises(ValueError):
        outcomes.amount_from_text(text)


def test_an_empty_amount_is_no_value():
    """An empty or blank value field means no value (null), not zero."""
    assert outcomes.amount_from_text("") is None and outcomes.amount_from_text("  ") is None
    assert outcomes.parse_outcome_form("won", "") == outcomes.Outcome("won", None)


@given(st.sampled_from(STATUSES), st.none() | st.floats(0, MAX_VALUE_AMOUNT) | st.integers(0, 10**12))
def test_valid_outcomes_are_accepted_with_values_to_the_cent(status, value):
    """Any status with a finite value from 0 to the cap (or null) is accepted, rounded to cents."""
    outcome = outcomes.parse_outcome({"status": status, "value": value})
    assert outcome.status == status
    if value is None:
        assert outcome.value is None
    else:
        assert outcome.value == round(float(value), 2) and 0 <= outcome.value <= MAX_VALUE_AMOUNT


bad_values = (
    st.floats(max_value=-0.01)
    | st.floats(min_value=MAX_VALUE_AMOUNT * 1.0001)
    | st.sampled_from([math.nan, math.inf, -math.inf, True, False, "12", [], {}])
)


@given(st.sampled_from(STATUSES), bad_values)
def test_negative_non_finite_and_non_numeric_values_are_refused(status, value):
    """A negative, huge, NaN, infinite, boolean or non-number value: refused, naming the value field."""
    with pytest.raises(outcomes.OutcomeError) as refused:
        outcomes.parse_outcome({"status": status, "value": value})
    assert [d.split(":")[0] for d in refused.value.details] == ["value"]


@given(st.text(max_size=12).filter(lambda s: s not in STATUSES) | st.none() | st.integers())
def test_unknown_statuses_are_refused(status):
    """Anything but open, won, lost, spam (case matters, null too) is refused, naming the status field."""
    with pytest.raises(outcomes.OutcomeError) as refused:
        outcomes.parse_outcome({"status": status, "value": None})
    assert refused.value.details[0].startswith("status: ")


def test_every_problem_is_named_and_unknown_fields_are_refused():
    """A bad status, a bad value and a misspelt key are each named; a non-object body is refused."""
    with pytest.raises(outcomes.OutcomeError) as refused:
        outcomes.parse_outcome({"status": "sold", "value": -1, "vaule": 5})
    assert sorted(d.split(":")[0] for d in refused.value.details) == ["status", "value", "vaule"]
    with pytest.raises(outcomes.OutcomeError):
        outcomes.parse_outcome(["won"])
    with pytest.raises(outcomes.OutcomeError) as refused:
        outcomes.parse_outcome_form("sold", "lots")
    assert [d.split(":")[0] for d in refused.value.details] == ["status", "value"]
    assert "1,250.50" in refused.value.details[1]


def test_the_form_and_the_api_agree(database_url):
    """The same outcome typed in the form or sent as JSON is stored the same, in the given currency."""
    from datetime import UTC, datetime

    from test_dashboard_helpers import save, simple_journey

    now = datetime.now(UTC)

    async def work(store):
        journey_id = await save(store, simple_journey("agree@example.com", now), now)
        stored = []
        for outcome in (
            outcomes.parse_outcome_form("won", "1.250,5"),
            outcomes.parse_outcome({"status": "won", "value": 1250.5}),
        ):
            async with store.transaction() as tx:
                stored.append(await outcomes.set_outcome(tx, journey_id, outcome, "EUR"))
        async with store.transaction() as tx:
            missing = await outcomes.set_outcome(tx, journey_id + 1000, outcomes.Outcome("won", 1.0), "EUR")
        return journey_id, stored, missing

    journey_id, stored, missing = run_store(database_url, work)
    expected = {"id": journey_id, "status": "won", "value": 1250.5, "currency": "EUR"}
    assert stored == [expected, expected] and missing is None
