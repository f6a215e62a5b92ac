"""Money: Decimal amounts rounded half up to the currency's ISO 4217 minor unit."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_precision, list_currencies

from recur.domain.errors import InvalidInput

# What an amount column (4 places) holds on both databases, with room to spare: below
# 10^15 as NUMERIC(19, 4) on PostgreSQL, 2^63 ten-thousandths (about 9.2 × 10^14) on
# SQLite. An invoice whose line or total reaches it is refused, never written.
MAX_AMOUNT = Decimal(10**14)


def check_amounts(*amounts: Decimal) -> None:
    if any(abs(amount) >= MAX_AMOUNT for amount in amounts):
        raise InvalidInput(
            "amount_too_large", f"an invoice's amounts must stay below {MAX_AMOUNT:,}"
        )


@cache
def minor_unit(currency: str) -> int:
    """Number of decimal places of the currency, from Babel's ISO 4217 data."""
    if currency not in list_currencies():
        raise InvalidInput("unknown_currency", f"{currency!r} is not an ISO 4217 currency code")
    return int(get_currency_precision(currency))


@cache
def billing_currencies() -> frozenset[str]:
    """The currencies in use: legal tender of some territory with no end date in Babel's
    ISO 4217 data. Withdrawn currencies (DEM) and the codes that are not money to bill
    in (XXX no currency, XTS testing, XAU gold, XDR drawing rights, funds codes) are not."""
    return frozenset(
        code
        for history in get_global("territory_currencies").values()
        for code, _start, end, tender in history
        if end is None and tender
    )


def is_billing_currency(currency: str) -> bool:
    return currency in billing_currencies()


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def round_money(amount: Decimal | Fraction, currency: str) -> Decimal:
    """Round an exact amount half up (away from zero) to the currency's minor unit.

    Works on the exact rational value, so a proration like 22/31 is rounded once,
    never first to some working precision and then again to cents.
    """
    return round_half_up(amount, minor_unit(currency))


def round_half_up(amount: Decimal | Fraction, places: int) -> Decimal:
    """The exact value rounded half up (away from zero) to `places` decimals."""
    exact = Fraction(amount)
    return round_ratio(exact.numerator, exact.denominator, places)


def round_ratio(numerator: int, denominator: int, places: int) -> Decimal:
    """numerator / denominator (> 0) rounded half up (away from zero) to `places`
    decimals, in integers: the one rounding every amount goes through."""
    scaled = numerator * 10**places
    units = (2 * abs(scaled) + denominator) // (2 * denominator)
    return Decimal(-units if scaled < 0 else units).scaleb(-places)


def to_money(amount: Decimal, currency: str) -> Decimal:
    """An amount that is already exact, shown with the currency's number of places."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def prorated_amount(
    unit_price: Decimal, quantity: int, days: int, full_days: int, currency: str
) -> Decimal:
    """unit_price × quantity × days / full_days, rounded half up once, exactly.

    Integer arithmetic on the price's exact ratio: the hot path of every billing
    run and preview, so no Fraction objects.
    """
    price_num, price_den = unit_price.as_integer_ratio()
    return round_ratio(price_num * quantity * days, price_den * full_days, minor_unit(currency))


def to_price(price: Decimal, currency: str) -> Decimal:
    """A unit price shown with at least the currency's places, and its own finer ones."""
    places = max(minor_unit(currency), -int(price.normalize().as_tuple().exponent))
    return price.quantize(Decimal(1).scaleb(-places))
