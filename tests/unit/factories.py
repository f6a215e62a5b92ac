"""Set-up for unit tests: subscriptions and accounts with sensible defaults.

Defaults describe a plain monthly prepaid subscription of one unit at 10.00 EUR,
anniversary-billed from 2027-01-11, on a consolidated account taxed at 24 %.
Tests override only what their scenario is about.
"""

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    ChargeKind,
    InvoiceGrouping,
    PartialCharges,
)
from recur.domain.charges import BilledState, Charge, SubscriptionTerms
from recur.domain.invoices import AccountTerms

_DEFAULT_TERMS = SubscriptionTerms(
    subscription_id=1,
    account_id=1,
    product_id=1,
    product_name="Office 365 E3",
    taxable=True,
    currency="EUR",
    cycle=BillingCycle.MONTHLY,
    billing_type=BillingType.PREPAID,
    unit_price=Decimal("10.00"),
    setup_fee=Decimal("0"),
    quantity=1,
    start_date=date(2027, 1, 11),
    billing_day=None,
    partial_charges=PartialCharges.ON_ORDER_DAY,
    end_date=None,
)

_DEFAULT_ACCOUNT = AccountTerms(
    account_id=1,
    currency="EUR",
    tax_rate=Decimal("24"),
    grouping=InvoiceGrouping.CONSOLIDATED,
    payment_terms_days=30,
)


def terms(**overrides: Any) -> SubscriptionTerms:
    """A subscription's terms; money given as strings becomes Decimal."""
    for field in ("unit_price", "setup_fee"):
        if isinstance(overrides.get(field), str):
            overrides[field] = Decimal(overrides[field])
    return replace(_DEFAULT_TERMS, **overrides)


def account(**overrides: Any) -> AccountTerms:
    """An account's invoicing options; a tax rate given as a string becomes Decimal."""
    if isinstance(overrides.get("tax_rate"), str):
        overrides["tax_rate"] = Decimal(overrides["tax_rate"])
    return replace(_DEFAULT_ACCOUNT, **overrides)


def billed_through(recurring_until: date | None = None, *once: ChargeKind) -> BilledState:
    """The ledger of a subscription billed up to `recurring_until` (exclusive)."""
    return BilledState(recurring_until=recurring_until, once=frozenset(once))


def after_billing(billed: BilledState, issued: Iterable[Charge]) -> BilledState:
    """The ledger once `issued` is invoiced, as the services record it."""
    return billed.after(issued)


def periods_of(charges: Iterable[Charge]) -> list[tuple[date, date]]:
    """The [start, end) of each charge, to compare with the spec's periods."""
    return [(c.period_start, c.period_end) for c in charges]
