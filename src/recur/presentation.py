"""How money, dates and periods read for people (CLI, back office, PDF)."""

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency

from recur.domain.money import to_money, to_price

LOCALE = "en"


def money(amount: Decimal, currency: str, locale: str = LOCALE) -> str:
    return str(format_currency(to_money(amount, currency), currency, locale=locale))


def price(amount: Decimal, currency: str, locale: str = LOCALE) -> str:
    """A unit price keeps its own finer places (0.0125 stays 0.0125)."""
    value = to_price(amount, currency)
    places = max(0, -int(value.as_tuple().exponent))
    pattern = "¤#,##0." + "0" * places if places else "¤#,##0"
    return str(
        format_currency(value, currency, format=pattern, locale=locale, currency_digits=False)
    )


def day(value: date, locale: str = LOCALE) -> str:
    return str(format_date(value, "d MMM y", locale=locale))


def period(start: date, last_day: date, locale: str = LOCALE) -> str:
    """An inclusive period, as invoices show it: 11 Jan 2027 – 10 Feb 2027."""
    if start == last_day:
        return day(start, locale)
    return f"{day(start, locale)} – {day(last_day, locale)}"
