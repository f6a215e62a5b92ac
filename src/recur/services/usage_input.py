"""A usage record as sent, read and checked in itself (SPEC §13): the one reading
of every door's records (the API's JSON, the CSV files of the back office and CLI)."""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from recur.domain.errors import InvalidInput
from recur.domain.usage import UsageIn
from recur.services.validation import (
    CODE_LENGTH,
    PRICE_PLACES,
    check_day,
    check_money,
    check_text,
    id_named_by,
    parse_amount,
)

MAX_BATCH = 10_000  # records per batch of the API (SPEC §13)
RECORD_ID_LENGTH = 100  # the usage_records.id column
QUANTITY_PLACES = PRICE_PLACES
FIELDS = ("id", "subscription_id", "meter", "quantity", "occurred_on")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def read_record(raw: Mapping[str, object]) -> UsageIn:
    """The record `raw` sends: strings (a CSV row) or JSON values alike."""
    return UsageIn(
        id=check_text(_text(raw, "id"), "id", RECORD_ID_LENGTH),
        subscription_id=_subscription_id(raw),
        meter=check_text(_text(raw, "meter"), "meter", CODE_LENGTH),
        quantity=read_quantity(_given(raw, "quantity")),
        occurred_on=_day(raw),
    )


def record_id(raw: Mapping[str, object]) -> str:
    """The id a record was sent with, as far as it can be told (for error messages)."""
    value = raw.get("id")
    return value if isinstance(value, str) else ""


def read_quantity(value: object) -> Decimal:
    """A quantity: a decimal string such as "120.5" read exactly, or a JSON number
    (its shortest decimal form, as the sender wrote it); at least 0, up to 6 places."""
    if isinstance(value, str):
        quantity = parse_amount(value, "quantity", QUANTITY_PLACES)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # A float's repr is the shortest decimal that reads back as it: what was sent.
        quantity = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        raise InvalidInput(
            "invalid_quantity", 'quantity must be a decimal string such as "120.5", or a number'
        )
    return check_money(quantity, "quantity", QUANTITY_PLACES)


def _given(raw: Mapping[str, object], field: str) -> object:
    value = raw.get(field)
    if value is None or value == "":
        raise InvalidInput(f"missing_{field}", f"{field} must be given")
    return value


def _text(raw: Mapping[str, object], field: str) -> str:
    value = _given(raw, field)
    if not isinstance(value, str):
        raise InvalidInput(f"invalid_{field}", f"{field} must be a string")
    return value


def _subscription_id(raw: Mapping[str, object]) -> int:
    value = _given(raw, "subscription_id")
    if isinstance(value, int) and not isinstance(value, bool):
        number = id_named_by(str(value))
    else:
        number = id_named_by(value) if isinstance(value, str) else None
    if number is None:
        raise InvalidInput(
            "invalid_subscription_id", "subscription_id must be a subscription's id, as in 12"
        )
    return number


def _day(raw: Mapping[str, object]) -> date:
    value = _given(raw, "occurred_on")
    if isinstance(value, date):
        return check_day(value, "occurred_on")
    text = value.strip() if isinstance(value, str) else ""
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        return check_day(date.fromisoformat(text), "occurred_on")
    except ValueError:
        raise InvalidInput(
            "invalid_occurred_on", "occurred_on must be a date written YYYY-MM-DD"
        ) from None
