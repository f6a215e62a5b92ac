"""Set-up for integration tests: catalogue, accounts and subscriptions made through
the services (so every row is what a real request would write), and readers of
what was issued.

Defaults describe a monthly prepaid product at 10.00 EUR and a consolidated EUR
account, anniversary-billed, taxed at 0 %. Tests override only what their
scenario is about.
"""

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, select, text
from sqlalchemy.orm import selectinload

from recur.db.models import Base, BilledPeriod, Invoice, InvoiceItem, PricingOption, Subscription
from recur.db.session import Database, is_sqlite
from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    InvoiceGrouping,
    PartialCharges,
)
from recur.services.accounts import AccountSpec, create_account
from recur.services.catalogue import PricingOptionSpec, ProductSpec, create_product
from recur.services.subscriptions import SubscriptionSpec, create_subscription

ACTOR = "tests"
_serial = itertools.count(1)

# ISO 4217 minor units, written out here on purpose: the tests check the
# engine's rounding against the standard, not against the engine's own table.
MINOR_UNITS = {"EUR": 2, "JPY": 0, "KWD": 3}


def money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit (the test's own arithmetic)."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), rounding=ROUND_HALF_UP)


def product(
    db: Database,
    name: str = "Office 365 E3",
    *,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    billing_type: BillingType = BillingType.PREPAID,
    unit_price: str | Decimal = "10.00",
    currency: str = "EUR",
    setup_fee: str | Decimal = "0",
    taxable: bool = True,
    term_months: int | None = None,
    auto_renew: bool = True,
    billing_day: int | None = None,
) -> int:
    """A product with a single pricing option; returns the option's id."""
    created = create_product(
        db,
        ProductSpec(
            sku=f"SKU-{next(_serial)}",
            name=name,
            taxable=taxable,
            pricing_options=[
                PricingOptionSpec(
                    code="default",
                    billing_period=cycle,
                    billing_type=billing_type,
                    unit_price=Decimal(unit_price),
                    currency=currency,
                    setup_fee=Decimal(setup_fee),
                    term_months=term_months,
                    auto_renew=auto_renew,
                    billing_day=billing_day,
                )
            ],
        ),
        ACTOR,
    )
    return created.pricing_options[0].id


def account(
    db: Database,
    name: str = "Acme Ltd",
    *,
    currency: str = "EUR",
    billing_day: int | None = None,
    partial_charges: PartialCharges = PartialCharges.ON_ORDER_DAY,
    grouping: InvoiceGrouping = InvoiceGrouping.CONSOLIDATED,
    tax_rate: str | Decimal = "0",
    payment_terms_days: int = 30,
) -> int:
    created = create_account(
        db,
        AccountSpec(
            name=name,
            email=f"billing{next(_serial)}@example.com",
            currency=currency,
            billing_day=billing_day,
            partial_charges=partial_charges,
            invoice_grouping=grouping,
            payment_terms_days=payment_terms_days,
            tax_rate=Decimal(tax_rate),
        ),
        ACTOR,
    )
    return created.id


def subscribe(
    db: Database,
    account_id: int,
    option_id: int,
    start: date,
    quantity: int = 1,
    auto_renew: bool | None = None,
) -> int:
    created = create_subscription(
        db, SubscriptionSpec(account_id, option_id, quantity, start, auto_renew), ACTOR
    )
    return created.id


def wipe(db: Database) -> None:
    """Empty every table, for tests (Hypothesis) that need a fresh state per example."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if is_sqlite(db.engine):
            for table in tables:
                conn.execute(delete(table))
        else:
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@dataclass(frozen=True)
class LedgerRow:
    subscription_id: int
    kind: str
    period_start: date
    period_end: date  # exclusive
    invoice_item_id: int


def ledger(db: Database) -> list[LedgerRow]:
    with db.transaction() as session:
        rows = session.scalars(
            select(BilledPeriod).order_by(
                BilledPeriod.subscription_id, BilledPeriod.kind, BilledPeriod.period_start
            )
        )
        return [
            LedgerRow(r.subscription_id, r.kind, r.period_start, r.period_end, r.invoice_item_id)
            for r in rows
        ]


def invoices(db: Database, account_id: int | None = None) -> list[Invoice]:
    """Every invoice with its items, in order of issue."""
    query = select(Invoice).options(selectinload(Invoice.items)).order_by(Invoice.id)
    if account_id is not None:
        query = query.where(Invoice.account_id == account_id)
    with db.transaction() as session:
        return list(session.scalars(query))


def items(db: Database) -> list[InvoiceItem]:
    with db.transaction() as session:
        return list(session.scalars(select(InvoiceItem).order_by(InvoiceItem.id)))


def subscription_row(db: Database, subscription_id: int) -> Subscription:
    with db.transaction() as session:
        return session.get_one(Subscription, subscription_id)


def option_row(db: Database, option_id: int) -> PricingOption:
    with db.transaction() as session:
        return session.get_one(PricingOption, option_id)


def item_key(
    item: InvoiceItem,
) -> tuple[int, str, str, date, date, int, Decimal, Decimal]:
    """An issued item as the preview shows it (period_end inclusive)."""
    return (
        item.subscription_id,
        item.kind,
        item.description,
        item.period_start,
        item.period_end,
        item.quantity,
        Decimal(item.unit_price),
        Decimal(item.amount),
    )
