"""Migration 0015 on documents issued before it: each line gets the rate its invoice's
tax was computed with (0 for an untaxed line), documents the `standard` treatment
they were issued under and no snapshots, so their breakdown is their tax. Both
databases."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from recur.db.migrate import alembic_config
from recur.db.money import Money
from recur.db.session import Database
from recur.domain.invoices import TaxLine
from recur.services import documents, invoicing
from tests.conftest import database_at

Rate, Amount, Price, Proration = Money(2, precision=5), Money(4), Money(6), Money(6, precision=9)


def _table(name: str, *columns: str, **typed: sa.types.TypeEngine[Decimal]) -> sa.TableClause:
    return sa.table(
        name, *(sa.column(c) for c in columns), *(sa.column(c, t) for c, t in typed.items())
    )


ACCOUNTS = _table(
    "accounts", "id", "name", "email", "currency", "billing_day", "partial_charges",
    "invoice_grouping", "payment_terms_days", "status", tax_rate=Rate,
)  # fmt: skip
PRODUCTS = _table("products", "id", "sku", "name", "taxable")
OPTIONS = _table(
    "pricing_options", "id", "product_id", "code", "billing_period", "billing_type", "currency",
    "term_months", "auto_renew", "active", "anniversary_billing", "usage_delay_days",
    unit_price=Price, setup_fee=Price,
)  # fmt: skip
SUBSCRIPTIONS = _table(
    "subscriptions", "id", "account_id", "pricing_option_id", "quantity", "start_date",
    "status", "auto_renew", "term_months", "setup_billed", "one_time_billed",
)  # fmt: skip
INVOICES = _table(
    "invoices", "id", "number", "account_id", "issue_date", "due_date", "currency", "type",
    "status", "source", subtotal=Amount, tax=Amount, total=Amount, tax_rate=Rate,
)  # fmt: skip
ITEMS = _table(
    "invoice_items", "id", "invoice_id", "position", "subscription_id", "kind", "description",
    "period_start", "period_end", "quantity", "taxable", "explanation",
    unit_price=Price, proration=Proration, amount=Amount,
)  # fmt: skip
JAN, END = date(2027, 1, 1), date(2027, 1, 31)


@pytest.fixture(params=["sqlite", "postgres"])
def url_at_0014(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = database_at(request.param, "0014", tmp_path, "recur_0015")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            ACCOUNTS.insert(),
            {
                "id": 1, "name": "Acme", "email": "ap@acme.test", "currency": "EUR",
                "billing_day": 1, "partial_charges": "on_order_day",
                "invoice_grouping": "consolidated", "payment_terms_days": 30,
                "status": "active", "tax_rate": Decimal(24),
            },
        )  # fmt: skip
        for n, taxable in ((1, True), (2, False)):
            connection.execute(
                PRODUCTS.insert(), {"id": n, "sku": f"P{n}", "name": f"P{n}", "taxable": taxable}
            )
            connection.execute(
                OPTIONS.insert(),
                {
                    "id": n, "product_id": n, "code": "m", "billing_period": "monthly",
                    "billing_type": "prepaid", "currency": "EUR", "term_months": 0,
                    "auto_renew": True, "active": True, "unit_price": Decimal(10),
                    "setup_fee": Decimal(0),
                    "anniversary_billing": False,
                    "usage_delay_days": 0,
                },
            )  # fmt: skip
            connection.execute(
                SUBSCRIPTIONS.insert(),
                {
                    "id": n, "account_id": 1, "pricing_option_id": n, "quantity": 1,
                    "start_date": JAN, "status": "active", "auto_renew": True,
                    "term_months": 0, "setup_billed": False, "one_time_billed": False,
                },
            )  # fmt: skip
        connection.execute(
            INVOICES.insert(),
            {
                "id": 1, "number": "INV-2027-000001", "account_id": 1, "issue_date": JAN,
                "due_date": END, "currency": "EUR", "type": "invoice", "status": "unpaid",
                "source": "manual", "subtotal": Decimal("130.00"), "tax": Decimal("24.00"),
                "total": Decimal("154.00"), "tax_rate": Decimal(24),
            },
        )  # fmt: skip
        for n, (taxable, amount) in enumerate(((True, "100.00"), (False, "30.00")), 1):
            connection.execute(
                ITEMS.insert(),
                {
                    "id": n, "invoice_id": 1, "position": n, "subscription_id": n,
                    "kind": "recurring", "description": f"P{n}", "period_start": JAN,
                    "period_end": END, "quantity": 1, "taxable": taxable, "explanation": "",
                    "unit_price": Decimal(amount), "proration": Decimal(1),
                    "amount": Decimal(amount),
                },
            )  # fmt: skip
    engine.dispose()
    return url


def test_migration_0015_gives_old_lines_their_invoice_rate(url_at_0014: str) -> None:
    command.upgrade(alembic_config(url_at_0014), "head")

    db = Database(url_at_0014)
    try:
        invoice = invoicing.get_invoice(db, 1)
        assert [item.tax_rate for item in invoice.items] == [Decimal(24), Decimal(0)]
        assert invoice.tax_treatment == "standard"
        assert (invoice.seller, invoice.buyer) == (None, None)
        assert invoice.tax_breakdown == (
            TaxLine(Decimal(24), Decimal("100.00"), Decimal("24.00")),
            TaxLine(Decimal(0), Decimal("30.00"), Decimal("0.00")),
        )
        # Without snapshots its PDF names the account as it is now.
        with db.read() as session:
            printed = documents.printed(session, invoice, "Fallback Seller")
        assert (printed.seller.legal_name, printed.buyer.name) == ("Fallback Seller", "Acme")
    finally:
        db.dispose()
