"""The product form's pricing option rows: read together, every row's errors found at once.

Rows are plain fields named `options-<row>-<field>`, with their count in `option_rows`;
a row's meters are fields `options-<row>-meters-<meter>-<field>`, with their count in
`options-<row>-meter_rows`. Rows and meters are added and removed by a round trip to the
server (a submit button), so the form works without JavaScript. Each meter is checked by
the meters' own rule (`meters.check_meter`) and each row that reads by the catalogue's
(`catalogue.check_pricing_option`), the ones the API and the CLI go through, so that the
form can name every row's problem in one answer instead of the first one only.
"""

import re
from collections.abc import Iterable
from decimal import Decimal

from starlette.datastructures import FormData

from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.errors import DomainError, InvalidInput, InvalidInputs
from recur.domain.usage import MeterSpec
from recur.services import catalogue, meters
from recur.services.catalogue import PricingOptionSpec
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
    "usage_delay_days",
)
METER_FIELDS = ("code", "name", "unit", "unit_price")
ROW_COUNT = "option_rows"
METER_COUNT = "meter_rows"  # a row's field
# Where a row's errors about its meters as a whole go (none, too many, not a usage option).
METERS = "meters"
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


def meter_key(row: int, meter: int, name: str) -> str:
    return key(row, f"meters-{meter}-{name}")


def plain(message: str) -> str:
    """A rule's message with its field names in words: "billing_type" → "billing type"."""
    return _IDENTIFIER.sub(lambda match: match.group(0).replace("_", " "), message)


def row_count(form: Form) -> int:
    return _count(form.text(ROW_COUNT), 1, catalogue.MAX_PRICING_OPTIONS)


def meter_count(form: Form, row: int) -> int:
    return _count(form.text(key(row, METER_COUNT)), 0, meters.MAX_METERS)


def meter_counts(form: Form) -> list[int]:
    """How many meter rows each option row shows."""
    return [meter_count(form, row) for row in range(row_count(form))]


def _count(raw: str, default: int, most: int) -> int:
    try:
        count = parse_whole_number(raw, "count")
    except InvalidInput:
        return default
    return min(max(count, 0), most)


def new_rows(count: int, currency: str = "EUR") -> dict[str, str]:
    """The fields of `count` new rows, in a given currency."""
    values = {ROW_COUNT: str(count)}
    for row in range(count):
        values |= {key(row, name): value for name, value in NEW_ROW.items()}
        values[key(row, "currency")] = currency
    return values


def rearranged(form: Form) -> dict[str, str] | None:
    """The form's values again with an option row or a meter added or removed, when a
    button asked for it (None when the form is to be saved)."""
    count = row_count(form)
    rows = [_row_fields(form.data, row) for row in range(count)]
    removed_row, added_meter = form.text("remove_row"), form.text("add_meter")
    row_text, _, meter_text = form.text("remove_meter").partition("-")
    if form.text("action") == "add_row":
        if count < catalogue.MAX_PRICING_OPTIONS:
            currency = (rows[-1].get("currency") if rows else None) or "EUR"
            rows.append(NEW_ROW | {"code": "", "currency": currency})
    elif removed_row.isdigit() and int(removed_row) < count:
        del rows[int(removed_row)]
    elif added_meter.isdigit() and int(added_meter) < count:
        rows[int(added_meter)] = _meters_resized(rows[int(added_meter)], None)
    elif row_text.isdigit() and meter_text.isdigit() and int(row_text) < count:
        rows[int(row_text)] = _meters_resized(rows[int(row_text)], int(meter_text))
    else:
        return None
    values = {
        name: value
        for name, value in form.data.items()
        if isinstance(value, str) and not name.startswith("options-")
    }
    for row, fields in enumerate(rows):
        values |= {key(row, name): value for name, value in fields.items() if value}
    values[ROW_COUNT] = str(len(rows))
    return values


def _row_fields(data: FormData, row: int) -> dict[str, str]:
    """Row `row`'s fields, named without their row."""
    prefix = key(row, "")
    return {
        name.removeprefix(prefix): value
        for name, value in data.items()
        if isinstance(value, str) and name.startswith(prefix)
    }


def _meters_resized(fields: dict[str, str], removed: int | None) -> dict[str, str]:
    """A row's fields with meter `removed` taken out or, if None, a meter added."""
    count = _count(fields.get(METER_COUNT, "").strip(), 0, meters.MAX_METERS)
    meter_rows = [
        {name: fields.pop(f"meters-{meter}-{name}", "") for name in METER_FIELDS}
        for meter in range(count)
    ]
    if removed is not None and removed < count:
        del meter_rows[removed]
    if removed is None and count < meters.MAX_METERS:
        meter_rows.append(dict.fromkeys(METER_FIELDS, ""))
    for meter, values in enumerate(meter_rows):
        fields |= {f"meters-{meter}-{name}": value for name, value in values.items()}
    fields[METER_COUNT] = str(len(meter_rows))
    return fields


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
    meter_specs = _meters(form, row)
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
        meters=meter_specs,
        usage_delay_days=delay or 0,
    )
    try:
        return spec, catalogue.check_pricing_option(spec).code
    except DomainError as error:
        row_error(form, row, error)
        return None


def row_error(form: Form, row: int, error: DomainError) -> None:
    """A rule's refusal next to the row's field it concerns (about its meters as a whole:
    above its meters), or at the top of the row."""
    if error.code == "meters_without_usage":
        form.errors[key(row, METERS)] = (
            "Meters and a usage delay are for a billing type of Usage: choose Usage, or clear them."
        )
        return
    name = field_of(error.code)
    if name.startswith("meter"):
        name = METERS
    known = name in OPTION_FIELDS or name == METERS
    form.errors[key(row, name if known else "_row")] = plain(words(error, name))


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
    """The row's meters, each checked by the meters' rule with every field's problem next
    to that field; a meter row left wholly empty is no meter."""
    read: list[MeterSpec] = []
    codes: list[str] = []
    for meter in range(meter_count(form, row)):
        code, name, unit, price = (
            form.text(meter_key(row, meter, field)) for field in METER_FIELDS
        )
        if not (code or name or unit or price):
            continue
        problems: list[DomainError] = []
        try:
            unit_price = parse_amount(price, "meter_unit_price", PRICE_PLACES)
        except InvalidInput as error:
            problems.append(error)
            unit_price = Decimal(0)  # a valid price, so that the rest is still checked
        try:
            read.append(meters.check_meter(MeterSpec(code, name, unit, unit_price)))
        except InvalidInputs as error:
            problems.extend(error.problems)
        except DomainError as error:
            problems.append(error)
        try:
            meters.check_meter_codes([*codes, code])
        except DomainError as error:
            problems.append(error)
        codes.append(code)
        for problem in problems:
            _meter_error(form, row, meter, problem)
    return tuple(read)


def _meter_error(form: Form, row: int, meter: int, error: DomainError) -> None:
    """A meter's problem next to its field: "meter_unit_price" is the Unit price column."""
    name = "code" if error.code == "duplicate_meter_code" else field_of(error.code)
    field = name.removeprefix("meter_")
    form.errors.setdefault(meter_key(row, meter, field), plain(words(error, name)))
