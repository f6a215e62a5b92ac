"""Micro-benchmark of the pure engine: due charges and previews per second (no database).

.venv/bin/python bench/engine.py [--subscriptions 20000]
"""

import argparse
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from recur.domain.catalogue import BillingCycle, BillingType, InvoiceGrouping, PartialCharges
from recur.domain.charges import (
    BilledState,
    SubscriptionTerms,
    due_charges,
    next_planned_issue_date,
)
from recur.domain.invoices import AccountTerms, pending_invoices

AS_OF = date(2027, 3, 15)


def _terms(i: int, rng: random.Random) -> tuple[SubscriptionTerms, BilledState]:
    cycle = rng.choice([BillingCycle.MONTHLY] * 6 + [BillingCycle.QUARTERLY, BillingCycle.ANNUAL])
    start = date(2024, 1, 1) + timedelta(days=rng.randrange(800))
    terms = SubscriptionTerms(
        subscription_id=i,
        account_id=1,
        product_id=i % 7,
        product_name="Seat",
        taxable=True,
        currency="EUR",
        cycle=cycle,
        billing_type=rng.choice([BillingType.PREPAID, BillingType.POSTPAID]),
        unit_price=Decimal("12.50"),
        setup_fee=Decimal(0),
        quantity=rng.randrange(1, 50),
        start_date=start,
        billing_day=rng.choice([None, 1, 11, 28]),
        partial_charges=PartialCharges.ON_ORDER_DAY,
        end_date=None,
    )
    # Billed up to the period before AS_OF's month, as a steady-state subscription is.
    billed = BilledState()
    due = due_charges(terms, billed, AS_OF - timedelta(days=40))
    if due:
        billed = BilledState(due[-1].period_end if due[-1].kind == "recurring" else None)
    return terms, billed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(7)
    states = [_terms(i, rng) for i in range(args.subscriptions)]

    started = time.perf_counter()
    periods = 0
    for terms, billed in states:
        periods += len(due_charges(terms, billed, AS_OF))
        next_planned_issue_date(terms, billed)
    elapsed = time.perf_counter() - started
    print(f"due charges: {periods} periods in {elapsed:.2f} s = {periods / elapsed:,.0f} periods/s")

    account = AccountTerms(1, "EUR", Decimal(24), InvoiceGrouping.CONSOLIDATED, 30)
    sample = states[:1000]
    started = time.perf_counter()
    for _ in range(10):
        pending_invoices(account, sample, AS_OF)
    print(f"preview of 1,000 subscriptions: {(time.perf_counter() - started) / 10 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
