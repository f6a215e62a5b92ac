"""A reseller's biggest customers through the lifecycle and usage paths: accounts of 1,
30, 60 and 200 subscriptions whose adjustments, credits and usage items are issued in
one transaction.

On PostgreSQL a large table goes by COPY and a small one with the COMMIT
(db/final_writes.py); these sizes put the items, the ledger's facts (with their
billing and repeat keys) and the usage records' links on either side of that switch.
"""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from recur.db.models import BilledPeriod, UsageRecord
from recur.db.session import Database
from recur.domain.catalogue import CancelAt, InvoiceType
from recur.services import usage
from recur.services.billing_run import run_billing
from recur.services.changes import ChangeSpec, change_subscription
from recur.services.subscriptions import cancel_subscription

from .books import assert_books_balanced
from .factories import ACTOR, account, invoices, product, subscribe
from .usage import azure_option, rec

SIZES = [1, 30, 60, 200]
D = Decimal


def _facts(db: Database, kind: str) -> list[BilledPeriod]:
    with db.read() as session:
        return list(session.scalars(select(BilledPeriod).where(BilledPeriod.kind == kind)))


@pytest.mark.parametrize("size", SIZES)
def test_the_adjustments_and_credits_of_a_large_account_are_issued_whole(
    db: Database, size: int
) -> None:
    """SPEC §14's S1, `size` times on one account: +5 seats on 11 March, cancelled on 20."""
    acct = account(db, billing_day=1, tax_rate="20")
    e3 = product(db, "Microsoft 365 E3", unit_price="30.00")
    subs = [subscribe(db, acct, e3, date(2027, 3, 1), quantity=10) for _ in range(size)]
    run_billing(db, date(2027, 3, 1), date(2027, 3, 1), ACTOR)

    for sub in subs:
        change_subscription(db, sub, ChangeSpec(quantity=15), date(2027, 3, 11), ACTOR)
    added = run_billing(db, date(2027, 3, 11), date(2027, 3, 11), ACTOR)
    assert (added.errors_count, added.invoices_issued, added.charges_issued) == (0, 1, size)

    for sub in subs:
        cancel_subscription(db, sub, CancelAt.NOW, date(2027, 3, 20), ACTOR)
    credited = run_billing(db, date(2027, 3, 20), date(2027, 3, 20), ACTOR)
    assert (credited.errors_count, credited.invoices_issued, credited.charges_issued) == (
        0,
        1,
        size,
    )

    _, plus, credit = invoices(db, acct)
    assert [i.amount for i in plus.items] == [D("101.61")] * size  # +5 × 30.00 × 21/31
    assert (credit.type, [i.amount for i in credit.items]) == (
        InvoiceType.CREDIT,
        [D("-174.19")] * size,  # −15 × 30.00 × 12/31
    )
    assert {i.corrects_invoice_id for i in credit.items} == {invoices(db, acct)[0].id}
    facts = _facts(db, "adjustment")
    assert len(facts) == 2 * size
    assert all(f.repeat_key == f.invoice_item_id for f in facts)
    assert sum(f.first_of_billing for f in facts) == 2 * size  # one billing key each time
    assert run_billing(db, date(2027, 3, 20), date(2027, 3, 20), ACTOR).charges_issued == 0
    assert_books_balanced(db)


@pytest.mark.parametrize("size", SIZES)
def test_the_usage_of_a_large_account_is_billed_whole(db: Database, size: int) -> None:
    """SPEC §15's U1, `size` times on one account: one invoice, two usage items each."""
    acct = account(db, billing_day=11, tax_rate="24")
    azure = azure_option(db)
    subs = [subscribe(db, acct, azure, date(2027, 1, 11)) for _ in range(size)]
    records = [
        record
        for n, sub in enumerate(subs)
        for record in (
            rec(f"vm-{n}", sub, "vm.hours", "420.5", "2027-01-15"),
            rec(f"gb-{n}", sub, "storage.gb", "512", "2027-02-01"),
        )
    ]
    assert usage.ingest(db, records, date(2027, 2, 1), ACTOR).accepted == 2 * size

    run = run_billing(db, date(2027, 2, 14), date(2027, 2, 14), ACTOR)
    assert (run.errors_count, run.invoices_issued, run.charges_issued) == (0, 1, 2 * size)
    (invoice,) = invoices(db, acct)
    assert sorted((i.meter, i.usage_quantity, i.amount) for i in invoice.items) == sorted(
        [("vm.hours", D("420.5"), D("40.37")), ("storage.gb", D("512"), D("10.24"))] * size
    )
    with db.read() as session:
        links = dict(session.execute(select(UsageRecord.id, UsageRecord.invoice_item_id)).all())
    item_ids = {i.id for i in invoice.items}
    assert len(links) == 2 * size
    assert set(links.values()) == item_ids  # each record on an item, each item one record
    assert run_billing(db, date(2027, 2, 14), date(2027, 2, 14), ACTOR).charges_issued == 0
    assert_books_balanced(db)
