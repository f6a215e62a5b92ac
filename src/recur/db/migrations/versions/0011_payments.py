"""payments and receivables: allocations settle invoices (SPEC §18)

- `invoices.amount_paid`: the sum of a document's allocations, signed as its total and
  never beyond it; status `partially_paid` (the column widened for it). An invoice paid before this revision was
  paid in full: its amount_paid is its total.
- `payments`, `allocations` (a payment's, or a credit note's applied, on one invoice)
  and `refunds` (a credit note paid back).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recur.db.money import Money

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "status IN ('unpaid', 'partially_paid', 'paid', 'void')"
METHODS = "method IN ('bank_transfer', 'card', 'direct_debit', 'cash', 'other')"
PAID_WITHIN_TOTAL = (
    "(total >= 0 AND amount_paid >= 0 AND amount_paid <= total)"
    " OR (total < 0 AND amount_paid <= 0 AND amount_paid >= total)"
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("invoices", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("amount_paid", Money(4), server_default="0", nullable=False))
        batch.alter_column("status", existing_type=sa.String(length=10), type_=sa.String(length=20))
        batch.drop_constraint(op.f("ck_invoices_status"), type_="check")
        batch.create_check_constraint(op.f("ck_invoices_status"), STATUSES)
    op.execute("UPDATE invoices SET amount_paid = total WHERE status = 'paid'")
    with op.batch_alter_table("invoices", recreate="always" if sqlite else "auto") as batch:
        batch.create_check_constraint(op.f("ck_invoices_amount_paid"), PAID_WITHIN_TOTAL)
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount")),
        sa.CheckConstraint(METHODS, name=op.f("ck_payments_method")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_payments_currency")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_payments_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_account_id"), "payments", ["account_id"])
    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(4), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("credit_note_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_allocations_amount")),
        sa.CheckConstraint(
            "(payment_id IS NULL) <> (credit_note_id IS NULL)", name=op.f("ck_allocations_source")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_allocations_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_allocations_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["invoices.id"],
            name=op.f("fk_allocations_credit_note_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
    )
    for column in ("invoice_id", "payment_id", "credit_note_id"):
        op.create_index(op.f(f"ix_allocations_{column}"), "allocations", [column])
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_note_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(4), nullable=False),
        sa.Column("refunded_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount")),
        sa.ForeignKeyConstraint(
            ["credit_note_id"], ["invoices.id"], name=op.f("fk_refunds_credit_note_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_credit_note_id"), "refunds", ["credit_note_id"])


def downgrade() -> None:
    raise NotImplementedError("payments have no earlier form; restore a backup instead")
