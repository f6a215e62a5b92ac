"""Business-rule checks shared by the services; each failure names its field."""

from decimal import Decimal

from recur.domain.errors import InvalidInput
from recur.domain.money import minor_unit


def check_currency(currency: str, field: str = "currency") -> str:
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise InvalidInput("invalid_currency", f"{field} must be an ISO 4217 code such as EUR")
    minor_unit(currency)
    return currency


def check_billing_day(day: int | None, field: str = "billing_day") -> int | None:
    if day is not None and not 1 <= day <= 28:
        raise InvalidInput("invalid_billing_day", f"{field} must be between 1 and 28, or null")
    return day


# What a price column (6 places) holds on both databases: below 10^13 as NUMERIC(19, 6)
# on PostgreSQL, 2^63 millionths (about 9.2 × 10^12) on SQLite (db/money.py).
MAX_PRICE = Decimal(10**12)


def check_money(amount: Decimal, field: str, places: int = 6) -> Decimal:
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"invalid_{field}", f"{field} must be a non-negative amount")
    if amount >= MAX_PRICE:
        raise InvalidInput(f"invalid_{field}", f"{field} must be below {MAX_PRICE:,}")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(f"invalid_{field}", f"{field} may have at most {places} decimal places")
    return amount


def check_text(value: str, field: str, max_length: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"missing_{field}", f"{field} must not be empty")
    if len(value) > max_length:
        raise InvalidInput(f"invalid_{field}", f"{field} must be at most {max_length} characters")
    return value
