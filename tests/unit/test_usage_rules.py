"""The rules of usage options, subscriptions and records (SPEC §13), one place for every door."""

from datetime import date
from decimal import Decimal

import pytest

from recur.domain.errors import InvalidInput, InvalidInputs
from recur.domain.usage import MeterSpec, UsageIn
from recur.services.meters import (
    check_changeable,
    check_meter,
    check_usage_option,
    check_usage_quantity,
    parse_meter_lines,
)
from recur.services.usage_input import read_quantity, read_record

VM = MeterSpec("vm.hours", "Virtual machines", "hours", Decimal("0.096"))


def option(**changes: object) -> tuple[MeterSpec, ...]:
    values: dict[str, object] = {
        "billing_period": "monthly",
        "billing_type": "usage",
        "unit_price": Decimal(0),
        "meters": [VM],
        "usage_delay_days": 3,
    }
    values.update(changes)
    return check_usage_option(**values)  # type: ignore[arg-type]


def test_a_usage_option_keeps_its_meters() -> None:
    assert option() == (VM,)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"billing_period": "one_time"}, "invalid_billing_period"),
        ({"unit_price": Decimal("0.01")}, "invalid_unit_price"),
        ({"meters": []}, "missing_meters"),
        ({"meters": [VM, VM]}, "duplicate_meter_code"),
        ({"meters": [MeterSpec("a", "A", "u", Decimal("0.0000001"))]}, "invalid_meter_unit_price"),
        ({"meters": [MeterSpec("a", "A", "u", Decimal("-1"))]}, "invalid_meter_unit_price"),
        ({"meters": [MeterSpec(" ", "A", "u", Decimal(1))]}, "missing_meter_code"),
        ({"usage_delay_days": 32}, "invalid_usage_delay_days"),
        ({"usage_delay_days": -1}, "invalid_usage_delay_days"),
        ({"billing_type": "postpaid"}, "meters_without_usage"),
        ({"billing_type": "prepaid", "meters": [], "usage_delay_days": 2}, "meters_without_usage"),
    ],
)
def test_usage_option_refusals(changes: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        option(**changes)
    assert refused.value.code == code


def test_other_options_have_no_meters() -> None:
    assert option(billing_type="prepaid", meters=[], usage_delay_days=0) == ()


def test_usage_subscriptions_have_quantity_one_and_no_changes() -> None:
    check_usage_quantity("usage", 1)
    check_usage_quantity("prepaid", 5)
    with pytest.raises(InvalidInput, match="quantity 1"):
        check_usage_quantity("usage", 2)
    check_changeable("prepaid", 7)
    with pytest.raises(InvalidInput, match="subscription 7 is billed by usage"):
        check_changeable("usage", 7)


def test_a_meter_s_problems_are_found_together() -> None:
    assert check_meter(MeterSpec(" vm.hours ", "VMs", "hours", Decimal("0.1"))).code == "vm.hours"
    with pytest.raises(InvalidInputs) as refused:
        check_meter(MeterSpec("vm.hours", " ", "", Decimal(-1)))
    assert [p.code for p in refused.value.problems] == [
        "missing_meter_name",
        "missing_meter_unit",
        "invalid_meter_unit_price",
    ]


def test_meters_as_typed_in_the_cli() -> None:
    typed = "vm.hours, Virtual machines, hours, 0.096\n\nstorage.gb, Storage, GB, 0.02\n"
    assert parse_meter_lines(typed) == [
        VM,
        MeterSpec("storage.gb", "Storage", "GB", Decimal("0.02")),
    ]
    with pytest.raises(InvalidInput, match="meter line 1"):
        parse_meter_lines("vm.hours, hours, 0.096")
    with pytest.raises(InvalidInput, match="meter_unit_price must have a point for decimals"):
        parse_meter_lines("vm.hours, VMs, hours, 0.09.6")


@pytest.mark.parametrize(
    ("sent", "read"),
    [("120.5", Decimal("120.5")), (300, Decimal(300)), (0.1, Decimal("0.1")), ("0", Decimal(0))],
)
def test_quantities_are_read_exactly(sent: object, read: Decimal) -> None:
    quantity = read_quantity(sent)
    assert quantity == read
    assert str(quantity) == str(read)


@pytest.mark.parametrize("sent", ["-1", -1, -0.5, "1e3", "abc", True, None, [], "1.1234567", 1e400])
def test_malformed_or_negative_quantities_are_refused(sent: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_quantity(sent)
    assert refused.value.code == "invalid_quantity"


def test_a_csv_row_and_a_json_record_read_alike() -> None:
    row = {
        "id": "r1",
        "subscription_id": "7",
        "meter": "vm.hours",
        "quantity": "1.5",
        "occurred_on": "2027-01-15",
    }
    json = {**row, "subscription_id": 7, "quantity": 1.5, "occurred_on": date(2027, 1, 15)}
    expected = UsageIn("r1", 7, "vm.hours", Decimal("1.5"), date(2027, 1, 15))
    assert read_record(row) == read_record(json) == expected
