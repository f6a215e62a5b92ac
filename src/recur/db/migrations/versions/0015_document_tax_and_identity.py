"""documents' tax per line and identity as issued; the seller's logo

- `invoice_items.tax_rate`: the rate applied to the line; existing lines get their
  invoice's rate when taxable, else 0 (what their invoice's tax was computed with).
- `invoices.tax_treatment` (existing documents: `standard`, the only treatment there
  was), `invoices.seller` and `invoices.buyer`: the identities as issued, JSON; NULL
  for existing documents (their PDF shows the current identities).
- `seller_settings.logo_url`: a data: URL.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 19:30:00
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from recur.db.money import Money

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Rate = Money(2, precision=5)


def _percentage(name: str) -> sa.ColumnElement[bool]:
    rate: sa.ColumnClause[Decimal] = sa.column(name, Rate)
    return sa.and_(rate >= sa.literal(0, Rate), rate <= sa.literal(100, Rate))


def upgrade() -> None:
    with op.batch_alter_table("invoice_items") as batch:
        batch.add_column(sa.Column("tax_rate", Rate, nullable=True))
    op.execute(
        "UPDATE invoice_items SET tax_rate = CASE WHEN taxable THEN "
        "(SELECT invoices.tax_rate FROM invoices WHERE invoices.id = invoice_items.invoice_id) "
        "ELSE 0 END"
    )
    with op.batch_alter_table("invoice_items") as batch:
        batch.alter_column("tax_rate", existing_type=Rate, nullable=False)
        batch.create_check_constraint(op.f("ck_invoice_items_tax_rate"), _percentage("tax_rate"))
        batch.create_check_constraint(
            op.f("ck_invoice_items_untaxed_rate"), "taxable OR tax_rate = 0"
        )
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(
            sa.Column(
                "tax_treatment", sa.String(length=20), server_default="standard", nullable=False
            )
        )
        batch.add_column(sa.Column("seller", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("buyer", sa.JSON(none_as_null=True), nullable=True))
        batch.create_check_constraint(
            op.f("ck_invoices_tax_treatment"),
            "tax_treatment IN ('standard', 'exempt', 'reverse_charge')",
        )
    with op.batch_alter_table("seller_settings") as batch:
        batch.add_column(sa.Column("logo_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seller_settings") as batch:
        batch.drop_column("logo_url")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_constraint(op.f("ck_invoices_tax_treatment"), type_="check")
        for name in ("buyer", "seller", "tax_treatment"):
            batch.drop_column(name)
    with op.batch_alter_table("invoice_items") as batch:
        batch.drop_constraint(op.f("ck_invoice_items_untaxed_rate"), type_="check")
        batch.drop_constraint(op.f("ck_invoice_items_tax_rate"), type_="check")
        batch.drop_column("tax_rate")
