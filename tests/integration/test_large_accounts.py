"""A reseller's biggest customers: accounts of 1, 30, 60 and 200 subscriptions, several
periods due, billed whole by a run and by a manual generation.

The issuing transaction writes its rows in a statement per table whatever their count,
and on PostgreSQL a large table goes by COPY while a small one goes with the COMMIT:
these sizes put invoices and items on either side of that switch (one consolidated
invoice of 600 items, three per-product invoices of 90), so a write that reached the
database before the row it refers to would fail here.
"""

from datetime import date
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.catalogue import InvoiceGrouping
from recur.services.billing_run import run_billing
from recur.services.invoicing import generate_for_account, pending_for_account

from .books import assert_books_balanced, stored_as_answered
from .factories import ACTOR, account, invoices, product, subscribe, subscription_row

START = date(2027, 1, 1)
TODAY = date(2027, 3, 15)  # Jan, Feb and Mar are due: three periods a subscription
PERIODS_DUE = 3
# A manual generation also bills what is pending but not yet due: April.
PERIODS_PENDING = 4
PRODUCTS = 3  # per_product grouping splits an account's items over this many invoices
SIZES = [1, 30, 60, 200]
GROUPINGS = [InvoiceGrouping.CONSOLIDATED, InvoiceGrouping.PER_PRODUCT]


def _large_account(db: Database, size: int, grouping: InvoiceGrouping) -> tuple[int, list[int]]:
    """An account of `size` monthly subscriptions at 10.00, quantities 1..size, spread
    over three products."""
    acct = account(db, grouping=grouping, tax_rate="20")
    options = [product(db, f"Product {p}", unit_price="10.00") for p in range(PRODUCTS)]
    subs = [subscribe(db, acct, options[n % PRODUCTS], START, quantity=n + 1) for n in range(size)]
    return acct, subs


def _expected_invoices(size: int, grouping: InvoiceGrouping) -> int:
    if grouping == InvoiceGrouping.CONSOLIDATED:
        return 1
    return min(size, PRODUCTS)


def _assert_fully_billed(
    db: Database, acct: int, subs: list[int], periods: int = PERIODS_DUE
) -> None:
    """Each subscription billed for `periods` months from START, at its quantity."""
    issued = invoices(db, acct)
    billed = [item for invoice in issued for item in invoice.items]
    assert len(billed) == periods * len(subs)
    quantities = {sub: n + 1 for n, sub in enumerate(subs)}
    for item in billed:
        assert Decimal(item.amount) == Decimal("10.00") * quantities[item.subscription_id]
    subtotal = sum((Decimal(invoice.subtotal) for invoice in issued), Decimal(0))
    assert subtotal == Decimal("10.00") * periods * sum(quantities.values())
    for sub in subs:
        assert subscription_row(db, sub).recurring_billed_until == date(2027, 1 + periods, 1)
    assert_books_balanced(db)


@pytest.mark.parametrize("grouping", GROUPINGS)
@pytest.mark.parametrize("size", SIZES)
def test_a_run_bills_a_large_account_whole(
    db: Database, size: int, grouping: InvoiceGrouping
) -> None:
    acct, subs = _large_account(db, size, grouping)
    run = run_billing(db, TODAY, TODAY, ACTOR)

    assert (run.errors_count, run.invoices_issued) == (0, _expected_invoices(size, grouping))
    assert run.charges_issued == PERIODS_DUE * size
    _assert_fully_billed(db, acct, subs)
    assert run_billing(db, TODAY, TODAY, ACTOR).charges_issued == 0


@pytest.mark.parametrize("grouping", GROUPINGS)
@pytest.mark.parametrize("size", SIZES)
def test_a_manual_generation_bills_a_large_account_as_previewed(
    db: Database, size: int, grouping: InvoiceGrouping
) -> None:
    acct, subs = _large_account(db, size, grouping)
    preview = pending_for_account(db, acct, TODAY)
    generated = generate_for_account(db, acct, subs, TODAY, ACTOR)

    stored = stored_as_answered(db, generated)
    assert [i.issue_date for i in stored] == [TODAY] * _expected_invoices(size, grouping)
    previewed = {
        (c.subscription_id, c.period_start, c.amount) for i in preview.invoices for c in i.items
    }
    assert {(c.subscription_id, c.period_start, c.amount) for i in stored for c in i.items} == (
        previewed
    )
    _assert_fully_billed(db, acct, subs, periods=PERIODS_PENDING)


def test_one_run_batch_bills_several_large_accounts(db: Database) -> None:
    accounts = [
        _large_account(db, size, grouping)
        for size, grouping in [
            (200, InvoiceGrouping.CONSOLIDATED),
            (60, InvoiceGrouping.PER_PRODUCT),
            (30, InvoiceGrouping.CONSOLIDATED),
            (1, InvoiceGrouping.PER_PRODUCT),
        ]
    ]
    run = run_billing(db, TODAY, TODAY, ACTOR, batch_size=len(accounts))

    assert (run.errors_count, run.accounts_processed) == (0, len(accounts))
    for acct, subs in accounts:
        _assert_fully_billed(db, acct, subs)
