"""SPEC §3: amounts are Decimal, rounded half up to the currency's ISO 4217 minor unit."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recur.domain.errors import InvalidInput
from recur.domain.money import minor_unit, prorated_amount, round_money, to_money


@pytest.mark.parametrize(("currency", "places"), [("EUR", 2), ("JPY", 0), ("KWD", 3)])
def test_minor_units_come_from_iso_4217(currency: str, places: int) -> None:
    assert minor_unit(currency) == places


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "EUR", "0.13"),  # an exact tie goes up
        ("0.124", "EUR", "0.12"),
        ("0.135", "EUR", "0.14"),  # half up, not half even
        ("2.5", "JPY", "3"),
        ("3.5", "JPY", "4"),
        ("2.4999", "JPY", "2"),
        ("0.0005", "KWD", "0.001"),
        ("0.0004", "KWD", "0.000"),
        ("1", "EUR", "1.00"),  # always shown with the currency's places
        ("1", "KWD", "1.000"),
        ("0", "EUR", "0.00"),
        ("125.00", "JPY", "125"),
    ],
)
def test_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert str(round_money(Decimal(amount), currency)) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [("-0.125", "EUR", "-0.13"), ("-2.5", "JPY", "-3"), ("-0.0005", "KWD", "-0.001")],
)
def test_negative_ties_round_away_from_zero(amount: str, currency: str, expected: str) -> None:
    assert str(round_money(Decimal(amount), currency)) == expected


def test_an_exact_ratio_is_rounded_once() -> None:
    # 20.00 × 22/31 = 14.193548… → 14.19 (SPEC §2 example)
    assert str(round_money(Fraction(440, 31), "EUR")) == "14.19"
    # 0.015 × 1/3 is 0.005 exactly: a tie, so up to 0.01.
    assert str(round_money(Fraction(Decimal("0.015")) / 3, "EUR")) == "0.01"


def test_a_prorated_amount_is_rounded_once_from_the_exact_ratio() -> None:
    # 20.00 × 1 × 22/31 = 14.193548… → 14.19 (SPEC §2 example)
    assert str(prorated_amount(Decimal("20.00"), 1, 22, 31, "EUR")) == "14.19"
    assert str(prorated_amount(Decimal("12.50"), 10, 1, 1, "EUR")) == "125.00"
    # 0.015 × 1 × 1/3 = 0.005 exactly: a tie, so up to 0.01.
    assert str(prorated_amount(Decimal("0.015"), 1, 1, 3, "EUR")) == "0.01"
    # 0.0125 × 3 × 1/1 = 0.0375 → KWD 0.038, JPY 0
    assert str(prorated_amount(Decimal("0.0125"), 3, 1, 1, "KWD")) == "0.038"
    assert str(prorated_amount(Decimal("0.0125"), 3, 1, 1, "JPY")) == "0"


@given(
    price=st.decimals(min_value=0, max_value=10**6, places=6),
    quantity=st.integers(1, 10_000),
    full_days=st.integers(1, 366),
    data=st.data(),
)
def test_a_prorated_amount_equals_exact_rational_rounding(
    price: Decimal, quantity: int, full_days: int, data: st.DataObject
) -> None:
    days = data.draw(st.integers(1, full_days))
    exact = Fraction(price) * quantity * Fraction(days, full_days)
    for currency in ("EUR", "JPY", "KWD"):
        assert prorated_amount(price, quantity, days, full_days, currency) == round_money(
            exact, currency
        )


def test_to_money_shows_an_exact_amount_with_the_currency_places() -> None:
    assert str(to_money(Decimal("225"), "EUR")) == "225.00"
    assert str(to_money(Decimal("1000"), "JPY")) == "1000"
    assert str(to_money(Decimal("1.2"), "KWD")) == "1.200"


@pytest.mark.parametrize("currency", ["ABC", "EURO", ""])
def test_an_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        round_money(Decimal("1"), currency)
    assert raised.value.code == "unknown_currency"
