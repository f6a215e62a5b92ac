"""Money is stored exactly on both databases: SQL sums, large prices, invoice tax rates."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from recur.db.models import Invoice, InvoiceItem, PricingOption
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle
from recur.domain.errors import InvalidInput
from recur.services import accounts, invoicing
from tests.integration.factories import account, product, subscribe

TODAY = date(2027, 1, 11)


def test_the_sql_sum_of_stored_amounts_is_exact(db: Database) -> None:
    for price in ("100.06", "0.01"):
        product(db, unit_price=price)

    with db.read() as session:
        total = session.scalar(select(func.sum(PricingOption.unit_price)))
        # Compared by the database itself: with binary reals, 100.06 + 0.01 != 100.07.
        equal = session.scalar(select(func.sum(PricingOption.unit_price) == Decimal("100.07")))
    assert total == Decimal("100.07")
    assert equal


def test_an_open_balance_sums_invoices_exactly(db: Database) -> None:
    acme = account(db)
    for price in ("100.06", "0.01"):
        sub = subscribe(db, acme, product(db, unit_price=price, cycle=BillingCycle.ONE_TIME), TODAY)
        invoicing.generate_for_account(db, acme, [sub], TODAY, "t")

    assert invoicing.open_balance(db, acme) == Decimal("100.07")
    with db.read() as session:
        assert session.scalar(select(func.sum(Invoice.total) == Decimal("100.07")))


def test_a_price_beyond_a_billion_with_six_places_round_trips(db: Database) -> None:
    price = Decimal("12345678901.123456")
    option = product(db, unit_price=price, setup_fee=Decimal("9999999999.999999"))

    with db.read() as session:
        stored = session.execute(
            select(PricingOption.unit_price, PricingOption.setup_fee).where(
                PricingOption.id == option
            )
        ).one()
        highest = session.scalar(select(func.max(PricingOption.unit_price)))
    assert tuple(stored) == (price, Decimal("9999999999.999999"))
    assert highest == price


def test_an_invoice_of_a_large_quantity_times_a_price_is_exact(db: Database) -> None:
    acme = account(db, tax_rate="24")
    option = product(db, unit_price="123456.123456")
    sub = subscribe(db, acme, option, TODAY, quantity=1_000_000)

    (issued,) = invoicing.generate_for_account(db, acme, [sub], TODAY, "t").invoices

    amount = Decimal("123456123456.00")  # 1,000,000 × 123,456.123456 a month, in cents
    stored = invoicing.get_invoice(db, issued.id)
    assert [(i.unit_price, i.amount) for i in stored.items] == [
        (Decimal("123456.123456"), amount),
        (Decimal("123456.123456"), amount),  # the current month and the next, prepaid
    ]
    subtotal, tax = Decimal("246912246912.00"), Decimal("59258939258.88")  # tax: 24 %
    assert (stored.subtotal, stored.tax, stored.total) == (subtotal, tax, subtotal + tax)
    with db.read() as session:
        assert session.scalar(select(func.sum(InvoiceItem.amount))) == subtotal


def test_amounts_beyond_what_the_columns_hold_are_refused(db: Database) -> None:
    acme = account(db)
    option = product(db, unit_price="999999999999.999999")
    with pytest.raises(InvalidInput) as refused:
        subscribe(db, acme, option, TODAY, quantity=1000)
    assert refused.value.code == "invalid_quantity"

    # Each month fits (6 × 10^13), the invoice of two does not: refused, nothing written.
    sub = subscribe(db, acme, product(db, unit_price="600000000000"), TODAY, quantity=100)
    with pytest.raises(InvalidInput) as too_large:
        invoicing.generate_for_account(db, acme, [sub], TODAY, "t")
    assert too_large.value.code == "amount_too_large"
    assert invoicing.list_invoices(db, invoicing.InvoiceFilter(), 10).items == []


def test_an_invoice_keeps_the_tax_rate_it_was_issued_with(db: Database) -> None:
    acme = account(db, tax_rate="24")
    sub = subscribe(db, acme, product(db, unit_price="100.00"), TODAY)
    (issued,) = invoicing.generate_for_account(db, acme, [sub], TODAY, "t").invoices
    assert issued.tax_rate == Decimal(24)

    accounts.update_account(db, acme, {"tax_rate": Decimal("10.5")}, "t")

    stored = invoicing.get_invoice(db, issued.id)
    assert stored.tax_rate == Decimal(24)
    assert stored.tax == Decimal("48.00")  # two months of 100.00, prepaid
    assert accounts.get_account(db, acme).tax_rate == Decimal("10.5")
