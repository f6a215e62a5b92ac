"""The rules of usage pricing options and subscriptions (SPEC §13), in the one place
every door uses: the API's bodies, the back office's product form and the services.
"""

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.errors import InvalidInput, refuse_all
from recur.domain.usage import MeterSpec
from recur.services.validation import (
    CODE_LENGTH,
    NAME_LENGTH,
    PRICE_PLACES,
    check_money,
    check_text,
    check_whole_number,
    parse_amount,
)

MAX_USAGE_DELAY_DAYS = 31
MAX_METERS = 50
UNIT_LENGTH = 64


def check_usage_option(
    billing_period: str,
    billing_type: str,
    unit_price: Decimal,
    meters: Sequence[MeterSpec],
    usage_delay_days: int,
) -> tuple[MeterSpec, ...]:
    """A pricing option's meters and delay, checked: a usage option bills only by its
    meters, so it has at least one, a recurring period and no unit price of its own;
    any other option has neither meters nor a delay."""
    delay = check_whole_number(usage_delay_days, "usage_delay_days", 0, MAX_USAGE_DELAY_DAYS)
    if billing_type != BillingType.USAGE:
        if meters or delay:
            raise InvalidInput(
                "meters_without_usage",
                'meters and usage_delay_days belong to options of billing_type "usage"',
            )
        return ()
    if billing_period == BillingCycle.ONE_TIME:
        raise InvalidInput(
            "invalid_billing_period", "a usage option needs a recurring billing_period"
        )
    if unit_price != 0:
        raise InvalidInput(
            "invalid_unit_price", "a usage option's unit_price must be 0: its meters are priced"
        )
    if not meters:
        raise InvalidInput("missing_meters", "a usage option needs at least one meter")
    if len(meters) > MAX_METERS:
        raise InvalidInput("invalid_meters", f"a usage option has at most {MAX_METERS} meters")
    checked = tuple(check_meter(meter) for meter in meters)
    check_meter_codes([meter.code for meter in checked])
    return checked


def check_meter(meter: MeterSpec) -> MeterSpec:
    """One meter checked, every field's problem found together (the back office shows
    each next to its own field)."""
    problems: list[InvalidInput] = []
    texts: dict[str, str] = {}
    for name, limit in (("code", CODE_LENGTH), ("name", NAME_LENGTH), ("unit", UNIT_LENGTH)):
        try:
            texts[name] = check_text(getattr(meter, name), f"meter_{name}", limit)
        except InvalidInput as problem:
            problems.append(problem)
    price = meter.unit_price
    try:
        price = check_money(price, "meter_unit_price")
    except InvalidInput as problem:
        problems.append(problem)
    refuse_all(problems)
    return replace(meter, unit_price=price, **texts)


def check_meter_codes(codes: Sequence[str]) -> None:
    """Meter codes are unique within their option."""
    if len(set(codes)) != len(codes):
        raise InvalidInput("duplicate_meter_code", "meter codes must be unique per option")


def parse_meter_lines(text: str) -> list[MeterSpec]:
    """Meters as typed in the back office: one a line, `code, name, unit, unit price`."""
    meters = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 4:
            raise InvalidInput(
                "invalid_meters",
                f"meter line {number} must read code, name, unit, unit price "
                "(as in vm.hours, Virtual machines, hours, 0.096)",
            )
        code, name, unit, price = parts
        meters.append(
            MeterSpec(code, name, unit, parse_amount(price, "meter_unit_price", PRICE_PLACES))
        )
    return meters


def check_usage_quantity(billing_type: str, quantity: int) -> None:
    """A usage subscription has quantity 1: its meters count what it uses."""
    if billing_type == BillingType.USAGE and quantity != 1:
        raise InvalidInput(
            "invalid_quantity", "a usage subscription has quantity 1: its meters count the usage"
        )


def check_changeable(billing_type: str, subscription_id: int) -> None:
    """A usage subscription has no changes (SPEC §13)."""
    if billing_type == BillingType.USAGE:
        raise InvalidInput(
            "unchangeable_subscription",
            f"subscription {subscription_id} is billed by usage: it cannot change",
        )
