"""How money, dates and periods read to people (Babel, locale en): pages, PDFs and the CLI.

Babel takes tens of microseconds per call, and a page of 1,000 pending items makes
thousands of calls with few distinct values, so the formatters are memoised: keyed
by the exact text of the value (str of a Decimal keeps its sign and exponent), the
output is the same as without the cache.
"""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Protocol

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from recur.domain.catalogue import InvoiceType
from recur.domain.money import minor_unit, to_money, to_price
from recur.domain.usage import quantity_text

LOCALE = "en"
ONE_DAY = timedelta(days=1)
CACHED = 8192  # distinct values kept per formatter
# Babel writes a currency without a symbol as its code glued to the amount (KWD87.120);
# people read the code and the amount as two words: KWD 87.120 (and -KWD 87.120).
_CODE_GLUED = re.compile(r"^(-?[A-Z]{3})(?=\d)")


def money(amount: Decimal | int | None, currency: str) -> str:
    """An amount with the currency's ISO 4217 places: €1,234.50, ¥1,235, KWD 1.250."""
    if amount is None:
        return ""
    if not isinstance(amount, Decimal | int):  # e.g. a float: its str is not its exact value
        return _money_of(Decimal(amount), currency)
    return _money(str(amount), currency)


def _money_of(value: Decimal, currency: str) -> str:
    return _spaced(format_currency(to_money(value, currency), currency, locale=LOCALE))


def _spaced(formatted: str) -> str:
    """A currency code apart from its amount: KWD 87.120, while €87.12 stays as it is."""
    return _CODE_GLUED.sub(r"\1 ", formatted)


@lru_cache(maxsize=CACHED)
def _money(amount: str, currency: str) -> str:
    return _money_of(Decimal(amount), currency)


def price(amount: Decimal | None, currency: str) -> str:
    """A unit price: at least the currency's places, and its own finer ones (€0.0125)."""
    if amount is None:
        return ""
    return _price(str(amount), currency)


@lru_cache(maxsize=CACHED)
def _price(amount: str, currency: str) -> str:
    value = to_price(Decimal(amount), currency)
    places = max(-int(value.as_tuple().exponent), minor_unit(currency))
    pattern = "¤#,##0" + ("." + "0" * places if places else "")
    return _spaced(
        format_currency(value, currency, format=pattern, locale=LOCALE, currency_digits=False)
    )


def day(value: date | None) -> str:
    """11 Jan 2027."""
    if value is None:
        return ""
    return _day(value)


@lru_cache(maxsize=CACHED, typed=True)
def _day(value: date) -> str:
    return str(format_date(value, format="d MMM yyyy", locale=LOCALE))


def timestamp(value: datetime | None) -> str:
    """A moment in UTC (how the database keeps them): 15 Jan 2027, 09:30 UTC."""
    if value is None:
        return ""
    utc = value.astimezone(UTC) if value.tzinfo else value
    return f"{format_datetime(utc, format='d MMM yyyy, HH:mm', locale=LOCALE)} UTC"


def period(first: date, last: date) -> str:
    """An inclusive period: 11 Jan 2027 – 10 Feb 2027 (one date when it is a single day)."""
    if first >= last:
        return day(first)
    return f"{day(first)} – {day(last)}"


def last_day(end_exclusive: date | None) -> str:
    """The last day of a half-open period [start, end): what "billed through" means."""
    return "" if end_exclusive is None else day(end_exclusive - ONE_DAY)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """A count and its noun: 1 month, 2 months (`nouns` for irregular plurals)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def charge_period(start: date, end_exclusive: date) -> str:
    """A half-open engine period shown inclusive."""
    return period(start, end_exclusive - ONE_DAY)


def ratio(value: Fraction | Decimal) -> str:
    """A proration factor to 6 decimals, for reading only (1 reads as 1)."""
    if value == 1:
        return "1"
    if isinstance(value, Fraction):
        return _ratio(value.numerator, value.denominator)
    return _decimal_ratio(str(value))


@lru_cache(maxsize=CACHED)
def _ratio(numerator: int, denominator: int) -> str:
    exact = Decimal(numerator) / Decimal(denominator)
    return str(format_decimal(exact, format="0.000000", locale=LOCALE))


@lru_cache(maxsize=CACHED)
def _decimal_ratio(value: str) -> str:
    return str(format_decimal(Decimal(value), format="0.000000", locale=LOCALE))


def percent(value: Decimal) -> str:
    return f"{format_decimal(value, format='0.##', locale=LOCALE)} %"


class _Billed(Protocol):
    @property
    def quantity(self) -> int: ...
    @property
    def usage_quantity(self) -> Decimal | None: ...


def item_quantity(item: _Billed) -> str:
    """An item's quantity: units, or the exact sum of a usage item's records."""
    if item.usage_quantity is None:
        return str(item.quantity)
    return quantity_text(item.usage_quantity)


def label(value: str) -> str:
    """An enum value as words: per_product → Per product."""
    return value.replace("_", " ").capitalize()


def document_type(value: str) -> str:
    """An invoice's type as its title says it: Invoice or Credit note."""
    return "Credit note" if value == InvoiceType.CREDIT else "Invoice"
