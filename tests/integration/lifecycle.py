"""Helpers for the lifecycle tests (SPEC §10–§12), independent of the engine.

- pricing options that can be switched between (same period, type and billing day);
- the test's own oracle of what is in force on each day (`Timeline`): the start,
  the changes in order of effective date then creation, the end of service;
- the net billed quantity per option and day, read back from the stored items
  (recurring and adjustment items; an option is known by its unit price, which the
  tests keep distinct among the options a subscription can switch between);
- whole documents and gap-free INV / CN series.
"""

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from recur.db.models import Invoice
from recur.db.session import Database
from recur.domain.calendar import add_months, next_day_of_month
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.invoices import PendingInvoice
from recur.services.billing_run import run_billing
from recur.services.catalogue import PricingOptionSpec, ProductSpec, create_product
from recur.services.changes import ChangeSpec, SubscriptionChange, change_subscription

from .factories import ACTOR, invoices, money

D = Decimal
DAY = timedelta(days=1)
_serial = itertools.count(1)
_NUMBER = re.compile(r"^(INV|CN)-(\d{4})-(\d{6})$")
_SERIES = {"INV": "invoice", "CN": "credit"}


def option(
    db: Database,
    name: str,
    unit_price: str,
    *,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    billing_type: BillingType = BillingType.PREPAID,
    currency: str = "EUR",
    billing_day: int | None = None,
    anniversary_billing: bool = False,
    setup_fee: str = "0",
    taxable: bool = True,
) -> int:
    """A product `name` with one pricing option; returns the option's id."""
    spec = PricingOptionSpec(
        code="default",
        billing_period=cycle,
        billing_type=billing_type,
        unit_price=D(unit_price),
        currency=currency,
        setup_fee=D(setup_fee),
        billing_day=billing_day,
        anniversary_billing=anniversary_billing,
    )
    sku = f"LC-{next(_serial)}"
    product = create_product(db, ProductSpec(sku, name, [spec], taxable), ACTOR)
    return product.pricing_options[0].id


def bill(db: Database, as_of: date) -> tuple[int, int]:
    """A billing run as of `as_of` (asked that day): (documents, items) it issued."""
    billing_run = run_billing(db, as_of, today=as_of, triggered_by=ACTOR)
    assert billing_run.status == "completed"
    assert billing_run.errors_count == 0
    return billing_run.invoices_issued, billing_run.charges_issued


def change(
    db: Database,
    subscription_id: int,
    today: date,
    *,
    quantity: int | None = None,
    option_id: int | None = None,
    effective: str = "now",
) -> SubscriptionChange:
    spec = ChangeSpec(quantity=quantity, pricing_option_id=option_id, effective=effective)
    return change_subscription(db, subscription_id, spec, today, ACTOR)


Line = tuple[str, int, Decimal, date, date, Decimal]


def lines(invoice: Invoice) -> list[Line]:
    """(kind, quantity, unit price, first day, last day, amount) of each item."""
    return [
        (i.kind, i.quantity, D(i.unit_price), i.period_start, i.period_end, D(i.amount))
        for i in invoice.items
    ]


def header(invoice: Invoice) -> tuple[str, str, date, date, Decimal, Decimal, Decimal]:
    """(number, type, issue date, due date, subtotal, tax, total)."""
    return (
        invoice.number,
        invoice.type,
        invoice.issue_date,
        invoice.due_date,
        D(invoice.subtotal),
        D(invoice.tax),
        D(invoice.total),
    )


def new_documents(
    db: Database, before: list[Invoice], account_id: int | None = None
) -> list[Invoice]:
    known = {inv.id for inv in before}
    return [inv for inv in invoices(db, account_id) if inv.id not in known]


# --- the oracle ------------------------------------------------------------------


@dataclass
class Timeline:
    """What the test ordered for one subscription: the in-force oracle of SPEC §10."""

    start: date
    quantity: int
    option: int
    end: date | None = None  # end of service (exclusive)
    # (effective date, change id, quantity, option): ids grow with creation, so sorted
    # they are in the order of SPEC §10 (effective date, then creation).
    changes: list[tuple[date, int, int | None, int | None]] = field(default_factory=list)

    def add(self, made: SubscriptionChange) -> None:
        self.changes.append((made.effective_date, made.id, made.quantity, made.pricing_option_id))

    def withdraw(self, change_id: int) -> None:
        self.changes = [c for c in self.changes if c[1] != change_id]

    def in_force(self, day: date) -> tuple[int, int] | None:
        """(quantity, option) in force on `day`, None outside service."""
        if day < self.start or (self.end is not None and day >= self.end):
            return None
        quantity, option_id = self.quantity, self.option
        for effective, _, new_quantity, new_option in sorted(self.changes):
            if effective > day:
                break
            quantity = new_quantity if new_quantity is not None else quantity
            option_id = new_option if new_option is not None else option_id
        return quantity, option_id


def billed_per_day(
    db: Database, subscription_id: int, option_of_price: dict[Decimal, int]
) -> dict[date, dict[int, int]]:
    """Net billed quantity per day and option (zeros left out), from the stored items."""
    net: dict[date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for invoice in invoices(db):
        for item in invoice.items:
            if item.subscription_id != subscription_id or item.kind not in (
                "recurring",
                "adjustment",
            ):
                continue
            option_id = option_of_price[D(item.unit_price)]
            day = item.period_start
            while day <= item.period_end:
                net[day][option_id] += item.quantity
                day += DAY
    return {day: {o: q for o, q in per_option.items() if q} for day, per_option in net.items()}


def expected_per_day(timeline: Timeline, days: list[date]) -> dict[date, dict[int, int]]:
    expected = {}
    for day in days:
        now = timeline.in_force(day)
        expected[day] = {} if now is None else {now[1]: now[0]}
    return expected


def period_end_after(start: date, months: int, billing_day: int | None, day: date) -> date:
    """The end (exclusive) of the billing period that contains `day` (SPEC §2), worked out
    by the test: anchored month arithmetic from the start, or from the first billing day."""
    if billing_day is None or start.day == billing_day:
        anchor, first = start, None
    else:
        anchor = next_day_of_month(start, billing_day)
        first = anchor
    if first is not None and day < first:
        return first
    n = 1
    while add_months(anchor, n * months) <= day:
        n += 1
    return add_months(anchor, n * months)


# --- documents ---------------------------------------------------------------------


def assert_documents_whole(db: Database, tax_rate: dict[int, Decimal] | None = None) -> None:
    """Every document has items; subtotal is their sum, total = subtotal + tax; negative
    items only on credit notes, whose totals are negative and due on their issue date."""
    for invoice in invoices(db):
        assert invoice.items, f"{invoice.number} has no items"
        amounts = [D(i.amount) for i in invoice.items]
        assert D(invoice.subtotal) == sum(amounts, D(0)), invoice.number
        assert D(invoice.total) == D(invoice.subtotal) + D(invoice.tax), invoice.number
        if invoice.type == "credit":
            assert all(a < 0 for a in amounts), invoice.number
            assert all(i.kind == "adjustment" for i in invoice.items), invoice.number
            assert D(invoice.total) < 0, invoice.number
            assert invoice.due_date == invoice.issue_date, invoice.number
        else:
            assert invoice.type == "invoice", invoice.number
            assert all(a >= 0 for a in amounts), invoice.number
        if tax_rate is not None:
            taxable = sum((D(i.amount) for i in invoice.items if i.taxable), D(0))
            expected = money_signed(taxable * tax_rate[invoice.account_id] / 100, invoice.currency)
            assert D(invoice.tax) == expected, invoice.number
        for item in invoice.items:
            if item.kind == "adjustment":
                assert item.corrects_invoice_id is not None, invoice.number
    assert_series_gap_free(db)


def assert_series_gap_free(db: Database) -> None:
    """INV for invoices, CN for credit notes, each gap-free per year of issue."""
    serials: dict[tuple[str, int], list[int]] = defaultdict(list)
    for invoice in invoices(db):
        match = _NUMBER.match(invoice.number)
        assert match, invoice.number
        series, year, serial = match[1], int(match[2]), int(match[3])
        assert _SERIES[series] == invoice.type, invoice.number
        assert year == invoice.issue_date.year, invoice.number
        serials[series, year].append(serial)
    for (series, year), numbers in serials.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{series} {year}"


def money_signed(amount: Decimal, currency: str) -> Decimal:
    """SPEC §3: half up, and half away from zero for a negative amount."""
    return -money(-amount, currency) if amount < 0 else money(amount, currency)


Pending = tuple[date, str, date, list[Line], Decimal, Decimal, Decimal]


def pending_lines(pending: list[PendingInvoice]) -> list[Pending]:
    """(issue date, type, due date, lines, subtotal, tax, total) of each pending document."""
    return [
        (
            inv.issue_date,
            str(inv.type),
            inv.due_date,
            [
                (
                    str(c.kind),
                    c.quantity,
                    c.unit_price,
                    c.period_start,
                    c.period_last_day,
                    c.amount,
                )
                for c in inv.items
            ],
            inv.totals.subtotal,
            inv.totals.tax,
            inv.totals.total,
        )
        for inv in pending
    ]


def full_period(start: date, months: int, billing_day: int | None, day: date) -> tuple[date, date]:
    """The full billing period [begin, end) that holds `day` (SPEC §2): for a partial first
    period, the full one that ends on the first billing day."""
    anchor = start
    if billing_day is not None and start.day != billing_day:
        anchor = next_day_of_month(start, billing_day)
        if day < anchor:
            return add_months(anchor, -months), anchor
    n = 0
    while add_months(anchor, (n + 1) * months) <= day:
        n += 1
    return add_months(anchor, n * months), add_months(anchor, (n + 1) * months)


def assert_amounts(
    db: Database,
    subscription_id: int,
    start: date,
    months: int,
    billing_day: int | None,
    currency: str,
) -> None:
    """Each recurring and adjustment item of the subscription lies in one billing period
    and is worth quantity × unit price × its days / the full period's days (SPEC §3, §11)."""
    for invoice in invoices(db):
        for item in invoice.items:
            if item.subscription_id != subscription_id or item.kind == "setup":
                continue
            begin, end = full_period(start, months, billing_day, item.period_start)
            assert item.period_end < end, (item.kind, item.period_start, item.period_end)
            days = (item.period_end - item.period_start).days + 1
            exact = D(item.quantity) * D(item.unit_price) * days / (end - begin).days
            assert D(item.amount) == money_signed(exact, currency), (
                item.kind,
                item.quantity,
                item.period_start,
                item.period_end,
                item.amount,
            )
