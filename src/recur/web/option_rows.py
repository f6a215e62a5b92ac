"""The product form's pricing option rows: read together, every row's errors found at once.

Rows are plain fields named `options-<row>-<field>`, with their count in `option_rows`:
rows are added and removed by a round trip to the server (a submit button), so the form
works without JavaScript. Each row that reads is checked by the catalogue's own rule
(`catalogue.check_pricing_option`), the one the API and the CLI go through, so that the
form can name every row's problem in one answer instead of the first one only.
"""

import re
from collections.abc import Iterable
from decimal import Decimal

from starlette.datastructures import FormData

from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.errors import DomainError, InvalidInput
from recur.domain.usage import MeterSpec
from recur.services import catalogue
from recur.services.catalogue import PricingOptionSpec
from recur.services.meters import parse_meter_lines
from recur.services.validation import PRICE_PLACES, parse_amount, parse_whole_number
from recur.web.forms import Form, field_of, words

OPTION_FIELDS = (
    "code",
    "currency",
    "billing_period",
    "billing_type",
    "unit_price",
    "setup_fee",
    "term_months",
    "billing_day",
    "auto_renew",
    "anniversary_billing",
    "meters",
    "usage_delay_days",
)
ROW_COUNT = "option_rows"
# A new row: what most options are, so that a monthly prepaid option is one price away.
NEW_ROW = {
    "code": "monthly",
    "billing_period": "monthly",
    "billing_type": "prepaid",
    "currency": "EUR",
    "setup_fee": "0",
    "auto_renew": "on",
}
_IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def key(row: int, name: str) -> str:
    return f"options-{row}-{name}"


def plain(message: str) -> str:
    """A rule's message with its field names in words: "billing_type" → "billing type"."""
    return _IDENTIFIER.sub(lambda match: match.group(0).replace("_", " "), message)


def row_count(form: Form) -> int:
    try:
        count = parse_whole_number(form.text(ROW_COUNT), ROW_COUNT)
    except InvalidInput:
        return 1
    return min(max(count, 0), catalogue.MAX_PRICING_OPTIONS)


def new_rows(count: int, currency: str = "EUR") -> dict[str, str]:
    """The fields of `count` new rows, in a given currency."""
    values = {ROW_COUNT: str(count)}
    for row in range(count):
        values |= {key(row, name): value for name, value in NEW_ROW.items()}
        values[key(row, "currency")] = currency
    return values


def resized(data: FormData, count: int, removed: int | None) -> dict[str, str]:
    """The form's values again, with row `removed` taken out or, if None, a row added."""
    values = {name: value for name, value in data.items() if isinstance(value, str)}
    kept = [row for row in range(count) if row != removed]
    rows = [{name: values.pop(key(row, name), "") for name in OPTION_FIELDS} for row in kept]
    if removed is None and count < catalogue.MAX_PRICING_OPTIONS:
        last = rows[-1] if rows else {}
        rows.append(NEW_ROW | {"code": "", "currency": last.get("currency") or "EUR"})
    for row, fields in enumerate(rows):
        values |= {key(row, name): value for name, value in fields.items() if value}
    values[ROW_COUNT] = str(len(rows))
    return values


def read_rows(form: Form, taken: Iterable[str] = ()) -> list[PricingOptionSpec]:
    """Every row's option; the errors of all of them in `form.errors`, keyed by field.
    Codes are unique among the rows and the product's `taken` ones."""
    codes = list(taken)
    specs = []
    for row in range(row_count(form)):
        read = _read_row(form, row)
        if read is None:
            continue
        spec, code = read
        try:
            catalogue.check_new_codes([code], codes)
        except DomainError as error:
            row_error(form, row, error)
        codes.append(code)
        specs.append(spec)
    if not row_count(form):
        form.errors["_form"] = "Add at least one pricing option."
    return specs if form.ok else []


def _read_row(form: Form, row: int) -> tuple[PricingOptionSpec, str] | None:
    """The row's option and its code as the catalogue keeps it, or None (errors noted)."""
    errors_before = len(form.errors)
    code = _required(form, row, "code")
    currency = _required(form, row, "currency").upper()
    period, kind = _text(form, row, "billing_period"), _text(form, row, "billing_type")
    if period not in set(BillingCycle):
        form.errors[key(row, "billing_period")] = "Choose a billing period."
    if kind not in set(BillingType):
        form.errors[key(row, "billing_type")] = "Choose prepaid, postpaid or usage."
    unit_price = _amount(form, row, "unit_price", None)
    setup_fee = _amount(form, row, "setup_fee", Decimal(0))
    term = _whole(form, row, "term_months")
    billing_day = _whole(form, row, "billing_day")
    delay = _whole(form, row, "usage_delay_days")
    meters = _meters(form, row)
    if len(form.errors) > errors_before or unit_price is None or setup_fee is None:
        return None
    spec = PricingOptionSpec(
        code=code,
        billing_period=BillingCycle(period),
        billing_type=BillingType(kind),
        unit_price=unit_price,
        currency=currency,
        setup_fee=setup_fee,
        term_months=term,
        auto_renew=form.flag(key(row, "auto_renew")),
        billing_day=billing_day,
        anniversary_billing=form.flag(key(row, "anniversary_billing")),
        meters=meters,
        usage_delay_days=delay or 0,
    )
    try:
        return spec, catalogue.check_pricing_option(spec).code
    except DomainError as error:
        row_error(form, row, error)
        return None


def row_error(form: Form, row: int, error: DomainError) -> None:
    """A rule's refusal next to the row's field it concerns (meters' own fields are the
    meters box), or at the top of the row."""
    if error.code == "meters_without_usage":
        form.errors[key(row, "meters")] = (
            "Meters and a usage delay are for a billing type of Usage: choose Usage, or clear them."
        )
        return
    name = field_of(error.code)
    if name.startswith("meter"):
        name = "meters"
    form.errors[key(row, name if name in OPTION_FIELDS else "_row")] = plain(words(error, name))


def _text(form: Form, row: int, name: str) -> str:
    return form.text(key(row, name))


def _required(form: Form, row: int, name: str) -> str:
    value = _text(form, row, name)
    if not value:
        form.errors[key(row, name)] = "This field is required."
    return value


def _amount(form: Form, row: int, name: str, default: Decimal | None) -> Decimal | None:
    raw = _text(form, row, name)
    if default is not None and not raw:
        return default
    try:
        return parse_amount(raw, name, PRICE_PLACES)
    except InvalidInput as error:
        form.errors[key(row, name)] = plain(words(error, name))
        return None


def _whole(form: Form, row: int, name: str) -> int | None:
    raw = _text(form, row, name)
    if not raw:
        return None
    try:
        return parse_whole_number(raw, name)
    except InvalidInput as error:
        form.errors[key(row, name)] = plain(words(error, name))
        return None


def _meters(form: Form, row: int) -> tuple[MeterSpec, ...]:
    try:
        return tuple(parse_meter_lines(_text(form, row, "meters")))
    except DomainError as error:
        form.errors[key(row, "meters")] = plain(words(error, "meters"))
        return ()
