"""The input rules every door uses (services.validation): typed numbers, texts, codes, bounds."""

from datetime import date
from decimal import Decimal

import pytest

from recur.domain.catalogue import AccountStatus
from recur.domain.errors import InvalidInput
from recur.services.validation import (
    MAX_ID,
    check_choice,
    check_currency,
    check_day,
    check_idempotency_key,
    check_quantity,
    check_text,
    id_named_by,
    parse_amount,
    parse_whole_number,
)


def refusal(action: object, *args: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        action(*args)  # type: ignore[operator]
    return raised.value


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("12.50", "12.50"), ("0", "0"), (" 12.5 ", "12.5"), ("007.10", "7.10"), ("0.000001", "1E-6")],
)
def test_an_amount_is_digits_and_at_most_one_decimal_point(typed: str, amount: str) -> None:
    assert parse_amount(typed, "unit_price", 6) == Decimal(amount)


@pytest.mark.parametrize(("typed", "written"), [("12,50", "12.50"), ("0,5", "0.5")])
def test_a_decimal_comma_is_refused_with_how_to_type_it(typed: str, written: str) -> None:
    error = refusal(parse_amount, typed, "unit_price", 6)
    assert error.code == "invalid_unit_price"
    assert f"write {written}, not {typed}" in error.message


@pytest.mark.parametrize(
    "typed", ["1,250", "1,250.00", "1.250,00", "1 250", "1'250", "1\u202f250,00", "12,500,000"]
)
def test_thousands_separators_are_refused_never_guessed(typed: str) -> None:
    error = refusal(parse_amount, typed, "unit_price", 6)
    assert error.code == "invalid_unit_price"
    assert "a point for decimals and no thousands separators" in error.message


def test_more_decimals_than_the_field_allows_are_refused() -> None:
    assert refusal(parse_amount, "12.5000001", "unit_price", 6).message == (
        "unit_price may have at most 6 decimal places"
    )
    assert refusal(parse_amount, "24.125", "tax_rate", 2).code == "invalid_tax_rate"
    assert parse_amount("24.12", "tax_rate", 2) == Decimal("24.12")


SPECIALS = ["1e3", "1E-2", "NaN", "nan", "Infinity", "-inf", "-5", "+5", "--1", "0x10"]
INNER_SPACES_AND_SYMBOLS = ["12. 50", "1 2", "12.", ".5", "12.50€", "€12.50", "1_000", "\x00"]
NOT_ASCII_DIGITS = ["٥", "１２"]


@pytest.mark.parametrize("typed", [*SPECIALS, *INNER_SPACES_AND_SYMBOLS, *NOT_ASCII_DIGITS])
def test_exponents_specials_signs_and_inner_spaces_are_refused(typed: str) -> None:
    error = refusal(parse_amount, typed, "setup_fee", 6)
    assert error.code == "invalid_setup_fee"
    assert "setup_fee" in error.message


def test_an_empty_amount_is_missing() -> None:
    assert refusal(parse_amount, "  ", "unit_price", 6).code == "missing_unit_price"


def test_a_whole_number_is_digits_only() -> None:
    assert parse_whole_number(" 5 ", "quantity") == 5
    for typed in ("1,000", "1 000", "1.000"):
        assert "without thousands separators" in refusal(parse_whole_number, typed, "q").message
    for typed in ("+5", "-1"):
        assert "without a sign" in refusal(parse_whole_number, typed, "q").message
    for typed in ("1.5", "12,5", "true", "٥", "1e3", "9" * 100):
        assert refusal(parse_whole_number, typed, "quantity").code == "invalid_quantity"


def test_quantities_are_whole_numbers_in_range_never_booleans() -> None:
    assert check_quantity(MAX_ID) == MAX_ID  # the column's 32-bit INTEGER, no lower cap
    for quantity in (0, MAX_ID + 1, True):
        assert refusal(check_quantity, quantity).code == "invalid_quantity"


def test_an_id_beyond_the_32_bit_keys_names_nothing() -> None:
    assert id_named_by(" 42 ") == 42
    assert id_named_by(str(MAX_ID)) == MAX_ID
    for text in (str(MAX_ID + 1), "9" * 50, "0", "-1", "²", "1.0", ""):
        assert id_named_by(text) is None


@pytest.mark.parametrize(
    "name",
    ["\u200b", " \u200b\u200c ", "\u2800", "\u3164", "\u0301", "\ufeff"],
    ids=["zero width space", "zero widths", "braille blank", "hangul filler", "mark", "bom"],
)
def test_a_name_must_show_something(name: str) -> None:
    error = refusal(check_text, name, "name", 200)
    assert error.code == "invalid_name"
    assert error.message == "name must contain a visible character"


@pytest.mark.parametrize(
    "name",
    ["Acme\u202eLtd", "Acme\u2066Ltd\u2069", "Acme\x1b[2J", "Ac\x00me", "Acme\nLtd", "\ud800x"],
    ids=["override", "isolate", "escape", "nul", "newline", "surrogate"],
)
def test_control_and_text_direction_characters_are_refused(name: str) -> None:
    error = refusal(check_text, name, "name", 200)
    assert error.code == "invalid_name"
    assert "control or text-direction" in error.message


def test_ordinary_names_pass_trimmed() -> None:
    assert (
        check_text("  Müller & Søn, 日本 👩\u200d💻 ", "name", 200)
        == "Müller & Søn, 日本 👩\u200d💻"
    )


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XBA", "XSU"])
def test_codes_that_are_not_money_to_bill_in_are_refused(code: str) -> None:
    assert refusal(check_currency, code).code == "unknown_currency"


def test_currencies_in_use_pass_and_withdrawn_ones_do_not() -> None:
    for code in ("EUR", "USD", "JPY", "KWD", "XOF", "CHF"):
        assert check_currency(code) == code
    assert refusal(check_currency, "DEM").code == "unknown_currency"
    for code in ("eur", "EURO", "€", "ÄÖÜ"):
        assert refusal(check_currency, code).code == "invalid_currency"


def test_idempotency_keys_are_bounded_printable_ascii() -> None:
    key = "7f1c2a9e-3b1d-4c55-9a0e-2f6a9c1d8b7e"
    assert check_idempotency_key(key) == key
    assert check_idempotency_key("k" * 200) == "k" * 200
    assert check_idempotency_key("acct-1 [3, 4]") == "acct-1 [3, 4]"
    for bad in ("", "   ", "k" * 201, "k" * 100_000, "clé", "k\x00", "k\tk", "k\x7f"):
        assert refusal(check_idempotency_key, bad).code == "invalid_idempotency_key"


def test_dates_stay_in_the_calendar_bounds() -> None:
    assert check_day(date(1970, 1, 1), "start_date") == date(1970, 1, 1)
    assert check_day(date(2199, 12, 31), "start_date") == date(2199, 12, 31)
    for day in (date(1, 1, 1), date(1969, 12, 31), date(2200, 1, 1), date(9999, 12, 31)):
        error = refusal(check_day, day, "start_date")
        assert error.message == "start_date must be between 1970-01-01 and 2199-12-31"


def test_a_choice_is_one_of_its_values() -> None:
    assert check_choice("closed", AccountStatus, "status") == "closed"
    assert check_choice(AccountStatus.ACTIVE, AccountStatus, "status") == "active"
    error = refusal(check_choice, "bogus", AccountStatus, "status")
    assert (error.code, error.message) == ("invalid_status", "status must be one of active, closed")
