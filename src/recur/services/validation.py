"""Every input rule, in the one place every door uses (docs/input.md).

The API's schemas take their bounds from the constants here, the back office's
forms and the CLI read what people type with `parse_amount` and
`parse_whole_number`, and the services check what they are given with the
`check_*` functions. So a value refused by one door is refused by every door,
with the same code and message. Each failure names its field.
"""

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum

from recur.domain.errors import InvalidInput
from recur.domain.money import is_billing_currency, minor_unit

MAX_ID = 2**31 - 1  # ids are 32-bit keys on every backend
# The calendar arithmetic's range: every date a period or a preview can reach stays
# far inside what Python and both databases hold.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
LAST_BILLING_DAY = 28  # a day every month has
MAX_QUANTITY = MAX_ID  # the column's 32-bit INTEGER
MAX_TERM_MONTHS = 1200
MAX_PAYMENT_TERMS_DAYS = 365
PRICE_PLACES = 6
TAX_RATE_PLACES = 2
MAX_TAX_RATE = 100
MAX_KEY_LENGTH = 200  # the idempotency_keys.key column
CODE_LENGTH = 64
REFERENCE_LENGTH = 200  # a payment's or refund's reference
MAX_ALLOCATIONS = 1000  # invoices one payment may settle
NAME_LENGTH = 200
EMAIL_LENGTH = 320
MAX_CC = 10  # an account's CC addresses

# --- numbers as people type them ----------------------------------------------------------

# Digits and at most one decimal point: the only way to write an amount, so that
# "12,50" (a decimal comma) and "1.250,00" (grouped thousands) are never guessed at.
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?")
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL_COMMA = re.compile(r"[0-9]+,[0-9]+")
_GROUPED = re.compile(r"[0-9]+([,.'’_ \u00a0\u2009\u202f][0-9]+)+")
_MAX_LENGTH = 40  # more digits than any field holds; Python refuses int() of very long texts


def parse_amount(raw: str, field: str, places: int) -> Decimal:
    """An amount typed as digits with at most one decimal point and `places` decimals."""
    text = _typed(raw, field)
    if not _AMOUNT.fullmatch(text):
        raise InvalidInput(f"invalid_{field}", f"{field} {_how_to_write_amount(text)}")
    return _check_places(Decimal(text), field, places)


def parse_whole_number(raw: str, field: str) -> int:
    """A whole number typed as digits only: no sign, no separators."""
    text = _typed(raw, field)
    if not _WHOLE.fullmatch(text):
        raise InvalidInput(f"invalid_{field}", f"{field} {_how_to_write_whole(text)}")
    return int(text)


def _typed(raw: str, field: str) -> str:
    text = raw.strip()
    if not text:
        raise InvalidInput(f"missing_{field}", f"{field} must not be empty")
    if len(text) > _MAX_LENGTH:
        raise InvalidInput(f"invalid_{field}", f"{field} has too many digits")
    return text


def _how_to_write_amount(text: str) -> str:
    """Why a typed amount was refused, and how to type it."""
    if _DECIMAL_COMMA.fullmatch(text) and len(text.partition(",")[2]) != 3:
        return f"must use a point for decimals: write {text.replace(',', '.')}, not {text}"
    if _GROUPED.fullmatch(text):
        # "1,250" may be 1.25 or 1250: the message says how to write either.
        return "must have a point for decimals and no thousands separators, as in 1250.00"
    if text[:1] in "+-":
        return "must be written without a sign, as in 12.50"
    return "must be written with digits and at most one decimal point, as in 12.50"


def _how_to_write_whole(text: str) -> str:
    """Why a typed whole number was refused, and how to type it."""
    groups = re.split(r"[^0-9]", text)
    if _GROUPED.fullmatch(text) and all(len(group) == 3 for group in groups[1:]):
        return "must be written without thousands separators, as in 1250"
    if text[:1] in "+-":
        return "must be written without a sign, as in 12"
    return "must be a whole number written with digits only, as in 12"


def _check_places(amount: Decimal, field: str, places: int) -> Decimal:
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(f"invalid_{field}", f"{field} may have at most {places} decimal places")
    return amount


def id_named_by(text: str) -> int | None:
    """The id a text names (a link's filter, a reference typed at the terminal), if any."""
    text = text.strip()
    if not _WHOLE.fullmatch(text) or len(text) > _MAX_LENGTH:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


# --- values the services are given --------------------------------------------------------

# What a price column (6 places) holds on both databases: below 10^13 as NUMERIC(19, 6)
# on PostgreSQL, 2^63 millionths (about 9.2 × 10^12) on SQLite (db/money.py).
MAX_PRICE = Decimal(10**12)


def check_money(amount: Decimal, field: str, places: int = PRICE_PLACES) -> Decimal:
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"invalid_{field}", f"{field} must be a non-negative amount")
    if amount >= MAX_PRICE:
        raise InvalidInput(f"invalid_{field}", f"{field} must be below {MAX_PRICE:,}")
    return _check_places(amount, field, places)


def check_payment_amount(amount: Decimal, currency: str, field: str = "amount") -> Decimal:
    """A payment, allocation or refund: above zero, in the currency's minor unit."""
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(f"invalid_{field}", f"{field} must be an amount above zero")
    if amount >= MAX_PRICE:
        raise InvalidInput(f"invalid_{field}", f"{field} must be below {MAX_PRICE:,}")
    return _check_places(amount, field, minor_unit(currency))


def check_tax_rate(rate: Decimal, field: str = "tax_rate") -> Decimal:
    exponent = rate.as_tuple().exponent
    if (
        not rate.is_finite()
        or not 0 <= rate <= MAX_TAX_RATE
        or (isinstance(exponent, int) and -exponent > TAX_RATE_PLACES)
    ):
        raise InvalidInput(
            f"invalid_{field}",
            f"{field} must be a percentage from 0 to {MAX_TAX_RATE} "
            f"with at most {TAX_RATE_PLACES} decimals",
        )
    return rate


def check_whole_number(value: int, field: str, low: int, high: int) -> int:
    # bool is an int in Python, never a number a person meant.
    if isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(
            f"invalid_{field}", f"{field} must be a whole number from {low:,} to {high:,}"
        )
    return value


def check_quantity(quantity: int, field: str = "quantity") -> int:
    return check_whole_number(quantity, field, 1, MAX_QUANTITY)


def check_payment_terms(days: int, field: str = "payment_terms_days") -> int:
    return check_whole_number(days, field, 0, MAX_PAYMENT_TERMS_DAYS)


def check_billing_day(day: int | None, field: str = "billing_day") -> int | None:
    if day is not None and (isinstance(day, bool) or not 1 <= day <= LAST_BILLING_DAY):
        raise InvalidInput(
            f"invalid_{field}", f"{field} must be between 1 and {LAST_BILLING_DAY}, or null"
        )
    return day


def check_choice(value: object, choices: type[StrEnum], field: str) -> str:
    """One of an enumeration's values, as stored."""
    if value not in set(choices):
        allowed = ", ".join(choice.value for choice in choices)
        raise InvalidInput(f"invalid_{field}", f"{field} must be one of {allowed}")
    return str(value)


def check_day(day: date, field: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            f"invalid_{field}",
            f"{field} must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}",
        )
    return day


def check_currency(currency: str, field: str = "currency") -> str:
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput(f"invalid_{field}", f"{field} must be an ISO 4217 code such as EUR")
    if not is_billing_currency(currency):
        raise InvalidInput(
            "unknown_currency", f"{currency!r} is not a currency in use (ISO 4217), such as EUR"
        )
    return currency


# Printable ASCII, not only spaces: what an HTTP header and a form field carry unchanged.
_IDEMPOTENCY_KEY = re.compile(rf"(?=.*[\x21-\x7e])[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")


def check_idempotency_key(key: str) -> str:
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput(
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable ASCII characters, such as a UUID",
        )
    return key


# --- texts --------------------------------------------------------------------------------

# Characters that reorder the text around them: shown to an operator they can make a
# name read as another (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern).
_BLANK_GRAPHICS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Categories that draw nothing alone: separators, format and control characters,
# combining marks, surrogates, private-use and unassigned code points.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})


def check_text(value: str, field: str, max_length: int) -> str:
    """A name, code or e-mail as stored: trimmed, visible, free of control characters."""
    value = value.strip()
    if not value:
        raise InvalidInput(f"missing_{field}", f"{field} must not be empty")
    if len(value) > max_length:
        raise InvalidInput(f"invalid_{field}", f"{field} must be at most {max_length} characters")
    if value.isascii() and value.isprintable():
        # Trimmed, non-empty printable ASCII: visible, and no control or text-direction
        # character (the rule below, without a Unicode lookup per character: a batch of
        # usage records checks 20,000 ids and meters).
        return value
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in BIDI_CONTROLS:
            raise InvalidInput(
                f"invalid_{field}",
                f"{field} must not contain control or text-direction characters "
                f"(it contains U+{ord(char):04X})",
            )
    if all(_invisible(char) for char in value):
        raise InvalidInput(f"invalid_{field}", f"{field} must contain a visible character")
    return value


def searched(text: str) -> str:
    """A search text as a query may use it: trimmed, without the NUL no database stores."""
    return text.replace("\x00", "").strip()


def _invisible(char: str) -> bool:
    return char in _BLANK_GRAPHICS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


# An address as a mail header carries it: one @, a dotted domain, nothing that would
# split a header (spaces, commas, angle brackets, quotes).
_EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"'.]+(\.[^@\s,;<>\"'.]+)+")


def check_email(value: str, field: str) -> str:
    email = check_text(value, field, EMAIL_LENGTH)
    if not _EMAIL.fullmatch(email):
        raise InvalidInput(
            f"invalid_{field}", f"{field} must be an e-mail address like name@example.com"
        )
    return email


def check_cc_emails(values: Sequence[str]) -> tuple[str, ...]:
    """Each address checked, at most MAX_CC, duplicates dropped (first kept)."""
    if len(values) > MAX_CC:
        raise InvalidInput("invalid_cc_emails", f"cc_emails must hold at most {MAX_CC} addresses")
    return tuple(dict.fromkeys(check_email(address, "cc_emails") for address in values))


def check_flag(value: object, field: str) -> bool:
    """A yes/no field: a bool, never a 1 or a "yes" a door let through."""
    if not isinstance(value, bool):
        raise InvalidInput(f"invalid_{field}", f"{field} must be true or false")
    return value
