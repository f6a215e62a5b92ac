"""End-to-end service cases on both databases: what the pure unit tests cannot show.

Amounts stored and read back in each currency's minor unit, grouping into
several invoices, cancellation rewriting the schedule, term ends, and numbering
across a new year. Every figure below is worked out by hand from the SPEC.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    CancelAt,
    InvoiceGrouping,
    SubscriptionStatus,
)
from recur.services.billing_run import run_billing
from recur.services.invoicing import (
    generate_for_account,
    get_invoice,
    pending_for_account,
    pending_for_subscription,
)
from recur.services.subscriptions import cancel_subscription

from .books import assert_books_balanced
from .factories import ACTOR, account, invoices, ledger, product, subscribe, subscription_row

D = Decimal


def bill(db: Database, as_of: date) -> None:
    run = run_billing(db, as_of, today=as_of, triggered_by=ACTOR)
    assert run.errors_count == 0


def lines(invoice_id: int, db: Database) -> list[tuple[str, date, date, D, D]]:
    """(kind, first day, last day, unit price, amount) of each stored item, read back."""
    stored = get_invoice(db, invoice_id)
    return [
        (i.kind, i.period_start, i.period_end, D(i.unit_price), D(i.amount)) for i in stored.items
    ]


def test_jpy_amounts_have_no_minor_unit(db: Database) -> None:
    acct = account(db, currency="JPY", billing_day=1, tax_rate="10")
    seats = product(db, "Seats", unit_price="1000", currency="JPY")
    subscribe(db, acct, seats, date(2027, 1, 20), quantity=3)

    bill(db, date(2027, 1, 20))
    bill(db, date(2027, 2, 1))

    first, second = invoices(db, acct)
    # [20 Jan, 1 Feb) is 12 of the 31 days of January: 3 × 1000 × 12/31 = 1161.29… → 1161.
    assert lines(first.id, db) == [
        ("recurring", date(2027, 1, 20), date(2027, 1, 31), D("1000"), D("1161"))
    ]
    assert (first.subtotal, first.tax, first.total) == (D("1161"), D("116"), D("1277"))
    assert first.currency == "JPY"
    assert (second.subtotal, second.tax, second.total) == (D("3000"), D("300"), D("3300"))
    assert_books_balanced(db)


def test_jpy_tax_rounds_half_up(db: Database) -> None:
    acct = account(db, currency="JPY", tax_rate="10")
    plan = product(db, "Plan", unit_price="1165", currency="JPY")
    subscribe(db, acct, plan, date(2027, 3, 1))

    bill(db, date(2027, 3, 1))

    (invoice,) = invoices(db, acct)
    # 1165 × 10 % = 116.5 → 117 half up (half-even would give 116).
    assert (invoice.subtotal, invoice.tax, invoice.total) == (D("1165"), D("117"), D("1282"))


def test_kwd_amounts_have_three_places(db: Database) -> None:
    acct = account(db, currency="KWD", billing_day=1, tax_rate="5")
    hosting = product(db, "Hosting", unit_price="12.345", currency="KWD")
    onboarding = product(
        db,
        "Onboarding",
        cycle=BillingCycle.ONE_TIME,
        unit_price="1.2345",
        currency="KWD",
        taxable=False,
    )
    subscribe(db, acct, hosting, date(2027, 2, 10))
    subscribe(db, acct, onboarding, date(2027, 2, 10))

    bill(db, date(2027, 2, 10))

    (invoice,) = invoices(db, acct)
    stored = sorted(lines(invoice.id, db))
    # one-time 1.2345 → 1.235 (half up); [10 Feb, 1 Mar) = 19/28 × 12.345 = 8.37696… → 8.377.
    assert stored == [
        ("one_time", date(2027, 2, 10), date(2027, 2, 10), D("1.2345"), D("1.235")),
        ("recurring", date(2027, 2, 10), date(2027, 2, 28), D("12.345"), D("8.377")),
    ]
    # tax only on the hosting line: 8.377 × 5 % = 0.41885 → 0.419
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        D("9.612"),
        D("0.419"),
        D("10.031"),
    )
    assert invoice.due_date == date(2027, 3, 12)


def test_per_product_grouping_issues_one_invoice_per_product(db: Database) -> None:
    acct = account(db, grouping=InvoiceGrouping.PER_PRODUCT, tax_rate="24")
    backup = product(db, "Backup", unit_price="10.00")
    office = product(db, "Office", unit_price="20.00")
    b1 = subscribe(db, acct, backup, date(2027, 1, 1))
    b2 = subscribe(db, acct, backup, date(2027, 1, 1), quantity=2)
    o1 = subscribe(db, acct, office, date(2027, 1, 1))
    bill(db, date(2027, 1, 1))
    assert len(invoices(db, acct)) == 2

    issued = generate_for_account(db, acct, [b1, b2, o1], date(2027, 1, 15), ACTOR).invoices

    # February: backup 10.00 + 2 × 10.00 on one invoice, office 20.00 on another.
    by_subs = {tuple(sorted({i.subscription_id for i in inv.items})): inv for inv in issued}
    assert set(by_subs) == {(b1, b2), (o1,)}
    assert (by_subs[(b1, b2)].subtotal, by_subs[(b1, b2)].total) == (D("30.00"), D("37.20"))
    assert (by_subs[(o1,)].subtotal, by_subs[(o1,)].total) == (D("20.00"), D("24.80"))
    for invoice in issued:
        assert invoice.issue_date == date(2027, 1, 15)
        assert {i.period_start for i in invoice.items} == {date(2027, 2, 1)}
    assert_books_balanced(db)


def test_per_subscription_grouping_issues_one_invoice_per_subscription(db: Database) -> None:
    acct = account(db, grouping=InvoiceGrouping.PER_SUBSCRIPTION)
    plan = product(db, "Plan", unit_price="10.00")
    subs = [subscribe(db, acct, plan, date(2027, 1, 1)) for _ in range(3)]

    bill(db, date(2027, 1, 1))
    automatic = invoices(db, acct)
    issued = generate_for_account(db, acct, subs[:2], date(2027, 1, 5), ACTOR).invoices

    assert sorted(inv.items[0].subscription_id for inv in automatic) == subs
    assert all(len(inv.items) == 1 for inv in automatic)
    assert sorted(inv.items[0].subscription_id for inv in issued) == subs[:2]
    assert all(len(inv.items) == 1 and inv.total == D("10.00") for inv in issued)


def test_tax_only_on_taxable_products_and_rounded_once(db: Database) -> None:
    acct = account(db, tax_rate="24")
    cheap_a = product(db, "SMS bundle", unit_price="0.03")
    cheap_b = product(db, "MMS bundle", unit_price="0.03")
    support = product(db, "Support", unit_price="100.00", taxable=False)
    for option in (cheap_a, cheap_b, support):
        subscribe(db, acct, option, date(2027, 1, 1))

    bill(db, date(2027, 1, 1))

    (invoice,) = invoices(db, acct)
    # Taxable 0.06 × 24 % = 0.0144 → 0.01 (per line it would be 0.01 + 0.01).
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        D("100.06"),
        D("0.01"),
        D("100.07"),
    )


def test_cancel_now_bills_the_last_days_and_stops(db: Database) -> None:
    acct = account(db)
    usage = product(db, "Usage", billing_type=BillingType.POSTPAID, unit_price="31.00")
    sub = subscribe(db, acct, usage, date(2027, 1, 10))
    bill(db, date(2027, 3, 10))  # [10 Jan, 10 Feb) and [10 Feb, 10 Mar)
    (before,) = pending_for_subscription(db, sub, date(2027, 3, 20))
    assert before.issue_date == date(2027, 4, 10)
    assert [(c.period_start, c.period_end, c.amount) for c in before.items] == [
        (date(2027, 3, 10), date(2027, 4, 10), D("31.00"))
    ]

    cancelled = cancel_subscription(db, sub, CancelAt.NOW, date(2027, 3, 20), ACTOR)

    assert cancelled.end_date == date(2027, 3, 20)
    assert cancelled.status == SubscriptionStatus.CANCELLED
    (after,) = pending_for_subscription(db, sub, date(2027, 3, 20))
    # [10 Mar, 20 Mar) is 10 of the 31 days of [10 Mar, 10 Apr), due on its end.
    assert after.issue_date == date(2027, 3, 20)
    assert [(c.period_start, c.period_end, c.amount) for c in after.items] == [
        (date(2027, 3, 10), date(2027, 3, 20), D("10.00"))
    ]
    bill(db, date(2027, 3, 20))
    bill(db, date(2027, 6, 1))
    assert [(r.period_start, r.period_end) for r in ledger(db)] == [
        (date(2027, 1, 10), date(2027, 2, 10)),
        (date(2027, 2, 10), date(2027, 3, 10)),
        (date(2027, 3, 10), date(2027, 3, 20)),
    ]
    assert pending_for_subscription(db, sub, date(2027, 6, 1)) == []


def test_cancel_at_end_of_period_keeps_the_paid_period(db: Database) -> None:
    acct = account(db, billing_day=1)
    plan = product(db, "Plan", unit_price="30.00")
    sub = subscribe(db, acct, plan, date(2027, 1, 1))
    bill(db, date(2027, 2, 1))
    (before,) = pending_for_subscription(db, sub, date(2027, 2, 14))
    assert before.issue_date == date(2027, 3, 1)

    cancelled = cancel_subscription(db, sub, CancelAt.END_OF_PERIOD, date(2027, 2, 14), ACTOR)

    assert cancelled.end_date == date(2027, 3, 1)
    assert pending_for_subscription(db, sub, date(2027, 2, 14)) == []
    bill(db, date(2027, 4, 1))
    assert [r.period_start for r in ledger(db)] == [date(2027, 1, 1), date(2027, 2, 1)]


def test_cancelling_before_start_bills_nothing(db: Database) -> None:
    acct = account(db)
    plan = product(db, "Backup", unit_price="20.00", setup_fee="50.00")
    sub = subscribe(db, acct, plan, date(2027, 3, 1))
    assert pending_for_subscription(db, sub, date(2027, 2, 1)) != []

    cancelled = cancel_subscription(db, sub, CancelAt.END_OF_PERIOD, date(2027, 2, 1), ACTOR)

    assert cancelled.end_date == date(2027, 3, 1)
    assert pending_for_subscription(db, sub, date(2027, 2, 1)) == []
    assert pending_for_account(db, acct, date(2027, 3, 1)).invoices == []
    bill(db, date(2027, 6, 1))
    assert invoices(db) == []


def test_a_term_without_renewal_stops_billing_at_its_end(db: Database) -> None:
    acct = account(db, billing_day=1)
    usage = product(
        db,
        "Usage",
        billing_type=BillingType.POSTPAID,
        unit_price="31.00",
        term_months=12,
        auto_renew=False,
    )
    sub = subscribe(db, acct, usage, date(2027, 1, 15))
    assert subscription_row(db, sub).end_date == date(2028, 1, 15)

    bill(db, date(2028, 6, 1))  # a service that was down catches up in one run

    (invoice,) = invoices(db, acct)
    periods = [(i.period_start, i.period_end, D(i.amount)) for i in invoice.items]
    # [15 Jan, 1 Feb) = 17/31 of January; 11 full months; [1 Jan 2028, 15 Jan) = 14/31.
    assert periods[0] == (date(2027, 1, 15), date(2027, 1, 31), D("17.00"))
    assert periods[-1] == (date(2028, 1, 1), date(2028, 1, 14), D("14.00"))
    assert len(periods) == 13
    assert invoice.subtotal == D("372.00")
    assert pending_for_subscription(db, sub, date(2028, 6, 1)) == []


def test_a_quarterly_term_without_renewal(db: Database) -> None:
    acct = account(db)
    plan = product(
        db,
        "Plan",
        cycle=BillingCycle.QUARTERLY,
        unit_price="90.00",
        term_months=6,
        auto_renew=False,
    )
    subscribe(db, acct, plan, date(2027, 1, 15))
    for as_of in (date(2027, 1, 15), date(2027, 4, 15), date(2027, 7, 15), date(2027, 10, 15)):
        bill(db, as_of)

    assert [(r.period_start, r.period_end) for r in ledger(db)] == [
        (date(2027, 1, 15), date(2027, 4, 15)),
        (date(2027, 4, 15), date(2027, 7, 15)),
    ]
    assert [inv.issue_date for inv in invoices(db)] == [date(2027, 1, 15), date(2027, 4, 15)]


def test_numbering_restarts_each_year(db: Database) -> None:
    first = account(db, "First")
    second = account(db, "Second")
    plan = product(db, "Plan", unit_price="10.00")
    subscribe(db, first, plan, date(2027, 12, 31))
    subscribe(db, second, plan, date(2027, 12, 31))
    subscribe(db, first, plan, date(2028, 1, 1))

    bill(db, date(2027, 12, 31))
    bill(db, date(2028, 1, 1))

    issued = [(inv.number, inv.issue_date, inv.due_date) for inv in invoices(db)]
    assert sorted(issued) == [
        ("INV-2027-000001", date(2027, 12, 31), date(2028, 1, 30)),
        ("INV-2027-000002", date(2027, 12, 31), date(2028, 1, 30)),
        ("INV-2028-000001", date(2028, 1, 1), date(2028, 1, 31)),
    ]


@pytest.mark.parametrize("days", [0, 45])
def test_due_date_follows_payment_terms(db: Database, days: int) -> None:
    acct = account(db, payment_terms_days=days)
    subscribe(db, acct, product(db, "Plan"), date(2027, 5, 5))
    bill(db, date(2027, 5, 5))
    (invoice,) = invoices(db)
    assert invoice.due_date == date(2027, 5, 5) + timedelta(days=days)
