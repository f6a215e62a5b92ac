"""Migration 0005 on data written before it: SQLite's reals become exact scaled
integers, and invoices get their account's tax rate (also in stored answers)."""

from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

from recur.db.migrate import alembic_config
from recur.db.models import Account, IdempotencyKey, Invoice, InvoiceItem, PricingOption
from recur.db.session import Database
from tests.conftest import database_at

# Rows as revision 0004 stored them (NUMERIC columns; on SQLite, binary reals).
ROWS_AT_0004 = [
    "INSERT INTO accounts (id, name, email, currency, billing_day, partial_charges, "
    "invoice_grouping, payment_terms_days, tax_rate, status) VALUES "
    "(1, 'Acme', 'ap@acme.test', 'EUR', 1, 'on_order_day', 'consolidated', 30, 24, 'active')",
    "INSERT INTO products (id, sku, name, taxable) VALUES (1, 'O365', 'Office', true)",
    "INSERT INTO pricing_options (id, product_id, code, billing_period, billing_type, "
    "unit_price, setup_fee, currency, term_months, auto_renew, active) VALUES "
    "(1, 1, 'm', 'monthly', 'prepaid', 0.0125, 999999999.999999, 'EUR', 0, true, true)",
    "INSERT INTO subscriptions (id, account_id, pricing_option_id, quantity, start_date, "
    "status, auto_renew, term_months, setup_billed, one_time_billed) VALUES "
    "(1, 1, 1, 1, '2027-01-01', 'active', true, 0, false, false)",
    *(
        "INSERT INTO invoices (id, number, account_id, issue_date, due_date, currency, type, "
        f"status, source, subtotal, tax, total) VALUES ({i}, 'INV-{i}', 1, '2027-01-01', "
        f"'2027-01-31', 'EUR', 'invoice', 'unpaid', 'manual', {amount}, 0, {amount})"
        for i, amount in ((1, "100.06"), (2, "0.01"))
    ),
    *(
        "INSERT INTO invoice_items (id, invoice_id, position, subscription_id, kind, "
        "description, period_start, period_end, quantity, unit_price, proration, amount, "
        f"taxable) VALUES ({i}, {i}, 1, 1, 'recurring', 'Office', '2027-01-01', '2027-01-31', "
        f"1, {amount}, 0.709677, {amount}, true)"
        for i, amount in ((1, "100.06"), (2, "0.01"))
    ),
    "INSERT INTO idempotency_keys (scope, key, fingerprint, result, created_at) VALUES "
    """('generate', 'k1', 'f', '{"invoices": [{"id": 1, "total": "100.06"}]}', '2027-01-01'),"""
    """('generate', 'k2', 'f', '{"refused": {"code": "x"}}', '2027-01-01')""",
]


@pytest.fixture(params=["sqlite", "postgres"])
def url_at_0004(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = database_at(request.param, "0004", tmp_path, "recur_0005")
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in ROWS_AT_0004:
            connection.execute(text(statement))
    engine.dispose()
    return url


def test_migration_0005_keeps_every_value_and_makes_sums_exact(url_at_0004: str) -> None:
    command.upgrade(alembic_config(url_at_0004), "head")

    db = Database(url_at_0004)
    with db.read() as session:
        assert session.scalar(select(func.sum(Invoice.total) == Decimal("100.07")))
        assert session.scalar(select(func.sum(InvoiceItem.amount))) == Decimal("100.07")
        assert session.execute(select(PricingOption.unit_price, PricingOption.setup_fee)).one() == (
            Decimal("0.0125"),
            Decimal("999999999.999999"),
        )
        assert set(session.scalars(select(InvoiceItem.proration))) == {Decimal("0.709677")}
        assert session.scalar(select(Account.tax_rate)) == Decimal(24)
        # Issued before rates were recorded: the account's rate, the best available.
        assert set(session.scalars(select(Invoice.tax_rate))) == {Decimal(24)}
        answers = dict(session.execute(select(IdempotencyKey.key, IdempotencyKey.result)).all())
    assert answers["k1"]["invoices"] == [{"id": 1, "total": "100.06", "tax_rate": "24.00"}]
    assert answers["k2"] == {"refused": {"code": "x"}}

    # The CHECKs hold the rate's bounds in the new storage.
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(text("UPDATE accounts SET billing_day = 29"))
    with db.transaction() as session:
        session.get_one(Account, 1).tax_rate = Decimal(100)
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.get_one(Account, 1).tax_rate = Decimal("100.01")
    db.dispose()
