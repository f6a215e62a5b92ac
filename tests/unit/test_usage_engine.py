"""The engine's usage items (SPEC §13), on the records of §15, without a database."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import islice

from hypothesis import given, settings
from hypothesis import strategies as st

from recur.domain.catalogue import BillingType, ChargeKind
from recur.domain.charges import BilledState, SubscriptionTerms, next_planned_issue_date
from recur.domain.invoices import due_invoices, pending_invoices
from recur.domain.periods import PeriodSchedule
from recur.domain.usage import Meter
from recur.domain.usage_billing import UnbilledUsage, usage_owed
from tests.unit.factories import account, terms

VM = Meter(1, 1, "vm.hours", "Virtual machines", "hours", Decimal("0.096"))
STORAGE = Meter(2, 1, "storage.gb", "Storage", "GB", Decimal("0.02"))
NOTHING = BilledState()


def azure(*records: UnbilledUsage, end_date: date | None = None) -> SubscriptionTerms:
    """U1 of §15: monthly usage from 2027-01-11, meters vm.hours and storage.gb, 3 days' delay."""
    return terms(
        product_name="Azure plan",
        billing_type=BillingType.USAGE,
        unit_price="0",
        meters=(VM, STORAGE),
        usage_delay_days=3,
        usage=records,
        end_date=end_date,
    )


def record(
    rid: str, meter: Meter, quantity: str, occurred: date, received: date | None = None
) -> UnbilledUsage:
    return UnbilledUsage(rid, meter.code, Decimal(quantity), occurred, received or occurred)


R1 = record("r1", VM, "120.5", date(2027, 1, 15))
R2 = record("r2", VM, "300", date(2027, 1, 31))
R3 = record("r3", STORAGE, "512", date(2027, 2, 1))
R4 = record("r4", VM, "10", date(2027, 2, 5), received=date(2027, 2, 20))
R5 = record("r5", VM, "50", date(2027, 2, 20))


def test_the_pending_invoice_of_section_15_as_of_1_february() -> None:
    (invoice,) = pending_invoices(account(), [(azure(R1, R2, R3), NOTHING)], date(2027, 2, 1))
    assert invoice.issue_date == date(2027, 2, 14)
    assert [(c.kind, c.usage and c.usage.meter.code, c.amount) for c in invoice.items] == [
        (ChargeKind.USAGE, "vm.hours", Decimal("40.37")),
        (ChargeKind.USAGE, "storage.gb", Decimal("10.24")),
    ]
    vm = invoice.items[0]
    assert (vm.period_start, vm.period_end) == (date(2027, 1, 11), date(2027, 2, 11))
    assert vm.usage is not None
    assert vm.usage.quantity == Decimal("420.5")
    assert vm.explanation == "420.5 hours × 0.096, 2 records (11 Jan – 10 Feb 2027)"
    totals = invoice.totals
    assert (totals.subtotal, totals.tax, totals.total) == (
        Decimal("50.61"),
        Decimal("12.15"),
        Decimal("62.76"),
    )


def test_nothing_is_due_before_the_period_end_plus_the_delay() -> None:
    subscription = azure(R1, R2, R3)
    assert due_invoices(account(), [(subscription, NOTHING)], date(2027, 2, 13)) == []
    assert next_planned_issue_date(subscription, NOTHING) == date(2027, 2, 14)
    assert next_planned_issue_date(azure(), NOTHING) is None  # no records, nothing to bill


def test_a_late_record_goes_with_the_next_period_and_keeps_its_own() -> None:
    """§15 as of 2027-02-20, after the run of 2027-02-14 billed r1–r3."""
    (invoice,) = pending_invoices(account(), [(azure(R4, R5), NOTHING)], date(2027, 2, 20))
    assert invoice.issue_date == date(2027, 3, 14)
    assert [(c.period_start, c.usage and c.usage.quantity, c.amount) for c in invoice.items] == [
        (date(2027, 1, 11), Decimal("10"), Decimal("0.96")),
        (date(2027, 2, 11), Decimal("50"), Decimal("4.80")),
    ]
    totals = invoice.totals
    assert (totals.subtotal, totals.tax, totals.total) == (
        Decimal("5.76"),
        Decimal("1.38"),
        Decimal("7.14"),
    )


def test_billed_records_leave_the_terms() -> None:
    subscription = azure(R1, R2, R3, R5)
    (invoice,) = due_invoices(account(), [(subscription, NOTHING)], date(2027, 2, 14))
    billed = [rid for c in invoice.items if c.usage for rid in c.usage.record_ids]
    assert sorted(billed) == ["r1", "r2", "r3"]
    rest = subscription.without_records(billed)
    assert rest.usage == (R5,)
    assert next_planned_issue_date(rest, NOTHING.after(invoice.items)) == date(2027, 3, 14)


def test_a_period_clipped_by_the_end_of_service_is_planned_on_its_end() -> None:
    ended = azure(R1, end_date=date(2027, 1, 20))
    assert next_planned_issue_date(ended, NOTHING) == date(2027, 1, 23)


def test_a_record_late_after_the_end_of_service_goes_out_on_its_arrival() -> None:
    late = record("late", VM, "1", date(2027, 1, 15), received=date(2027, 3, 2))
    ended = azure(late, end_date=date(2027, 1, 20))
    assert next_planned_issue_date(ended, NOTHING) == date(2027, 3, 2)


def test_a_tiny_quantity_is_summed_and_rounded_once() -> None:
    tiny = [record(f"t{i}", STORAGE, "0.000001", date(2027, 1, 12)) for i in range(3)]
    (invoice,) = pending_invoices(account(), [(azure(*tiny), NOTHING)], date(2027, 1, 12))
    (item,) = invoice.items
    assert item.usage is not None
    assert item.usage.quantity == Decimal("0.000003")
    assert item.amount == Decimal("0.00")
    assert item.explanation.startswith("0.000003 GB × 0.02, 3 records")


SCHEDULE = PeriodSchedule(date(2027, 1, 11), 1, None, None)


@settings(max_examples=200, deadline=None)
@given(
    occurred=st.dates(date(2027, 1, 11), date(2028, 12, 31)),
    lateness=st.integers(0, 120),
    delay=st.integers(0, 31),
)
def test_a_record_is_planned_on_the_first_period_date_on_or_after_both_its_own_and_its_arrival(
    occurred: date, lateness: int, delay: int
) -> None:
    received = occurred + timedelta(days=lateness)
    (owed,) = usage_owed(SCHEDULE, delay, [VM], [record("x", VM, "1", occurred, received)])
    assert owed.period.start <= occurred < owed.period.end
    periods = islice(SCHEDULE.periods(owed.period.start), 12)
    candidates = [d for d in (p.end + timedelta(days=delay) for p in periods) if d >= received]
    assert owed.planned == candidates[0]
