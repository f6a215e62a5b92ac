"""subscription lifecycle: changes, the ledger's facts, adjustments and credit notes

- `subscription_changes`: quantity and plan changes from an effective date (SPEC §10).
- `pricing_options.anniversary_billing` (SPEC §12).
- The ledger (`billed_periods`) keeps the facts of each item: its days, pricing option,
  quantity, invoice and billing period. Existing rows are facts of their own item: the
  subscription's option (no change existed before this revision) and the item's
  quantity. Adjustments are not unique per first day: `subscription_billings` keeps
  every billing of a subscription exactly once, (subscription, n) for its n-th issuing
  transaction, and the existing history counts as the first.
- Items: `explanation` (existing items get their arithmetic in words as then printed:
  quantity × unit price, with the proration), `corrects_invoice_id`, signed quantities
  (an adjustment's quantity is negative for a credit), kind `adjustment`.
- Numbers come in series: `INV` (invoices, all existing numbers) and `CN` (credit notes).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('recurring', 'setup', 'one_time', 'adjustment')"
OLD_KINDS = "kind IN ('recurring', 'setup', 'one_time', 'credit')"
NOT_ADJUSTMENT = sa.text("kind <> 'adjustment'")
Recreate = Literal["auto", "always"]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    recreate: Recreate = "always" if sqlite else "auto"
    with op.batch_alter_table("pricing_options", recreate=recreate) as batch:
        batch.add_column(
            sa.Column(
                "anniversary_billing", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.create_check_constraint(
            op.f("ck_pricing_options_anniversary_billing"),
            "NOT anniversary_billing OR billing_day IS NULL",
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("reconcile_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("billing_seq", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "subscription_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("pricing_option_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "quantity IS NULL OR quantity >= 1", name=op.f("ck_subscription_changes_quantity")
        ),
        sa.CheckConstraint(
            "quantity IS NOT NULL OR pricing_option_id IS NOT NULL",
            name=op.f("ck_subscription_changes_changes_something"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_changes_subscription_id_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["pricing_option_id"],
            ["pricing_options.id"],
            name=op.f("fk_subscription_changes_pricing_option_id_pricing_options"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_changes")),
    )
    op.create_index(
        "ix_subscription_changes_order",
        "subscription_changes",
        ["subscription_id", "effective_date", "id"],
    )
    op.create_table(
        "subscription_billings",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_billings_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", "seq", name=op.f("pk_subscription_billings")),
    )
    _items(recreate)
    _ledger(recreate)
    _series(recreate)


def _items(recreate: Recreate) -> None:
    with op.batch_alter_table("invoice_items", recreate=recreate) as batch:
        batch.add_column(sa.Column("explanation", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("corrects_invoice_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_invoice_items_corrects_invoice_id_invoices"),
            "invoices",
            ["corrects_invoice_id"],
            ["id"],
        )
        batch.drop_constraint(op.f("ck_invoice_items_quantity"), type_="check")
        batch.create_check_constraint(op.f("ck_invoice_items_quantity"), "quantity <> 0")
        batch.drop_constraint(op.f("ck_invoice_items_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_invoice_items_kind"), KINDS)
    op.execute(
        "UPDATE invoice_items SET explanation = CAST(quantity AS text) || ' × ' ||"
        " CAST(unit_price AS text) || CASE WHEN proration = 1 THEN '' ELSE ' × ' ||"
        " CAST(proration AS text) END"
    )


def _ledger(recreate: Recreate) -> None:
    with op.batch_alter_table("billed_periods", recreate=recreate) as batch:
        for name, type_ in (
            ("billing_period_start", sa.Date()),
            ("pricing_option_id", sa.Integer()),
            ("quantity", sa.Integer()),
            ("invoice_id", sa.Integer()),
            ("billing_seq", sa.Integer()),
        ):
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.execute(
        "UPDATE billed_periods SET billing_period_start = period_start, billing_seq = 1,"
        " pricing_option_id = (SELECT s.pricing_option_id FROM subscriptions s"
        "  WHERE s.id = billed_periods.subscription_id),"
        " quantity = (SELECT i.quantity FROM invoice_items i"
        "  WHERE i.id = billed_periods.invoice_item_id),"
        " invoice_id = (SELECT i.invoice_id FROM invoice_items i"
        "  WHERE i.id = billed_periods.invoice_item_id)"
    )
    op.execute(
        "INSERT INTO subscription_billings (subscription_id, seq)"
        " SELECT DISTINCT subscription_id, 1 FROM billed_periods"
    )
    op.execute(
        "UPDATE subscriptions SET billing_seq = 1 WHERE EXISTS"
        " (SELECT 1 FROM billed_periods b WHERE b.subscription_id = subscriptions.id)"
    )
    with op.batch_alter_table("billed_periods", recreate=recreate) as batch:
        for name in ("billing_period_start", "pricing_option_id", "quantity", "invoice_id"):
            batch.alter_column(name, nullable=False)
        batch.alter_column("billing_seq", nullable=False)
        batch.drop_constraint("uq_billed_periods_once", type_="unique")
        batch.drop_constraint(op.f("ck_billed_periods_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_billed_periods_kind"), KINDS)
        batch.create_check_constraint(op.f("ck_billed_periods_quantity"), "quantity <> 0")
        batch.create_foreign_key(
            op.f("fk_billed_periods_pricing_option_id_pricing_options"),
            "pricing_options",
            ["pricing_option_id"],
            ["id"],
        )
        batch.create_foreign_key(
            op.f("fk_billed_periods_invoice_id_invoices"), "invoices", ["invoice_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_billed_periods_billing",
            "subscription_billings",
            ["subscription_id", "billing_seq"],
            ["subscription_id", "seq"],
        )
    op.create_index(
        "uq_billed_periods_once",
        "billed_periods",
        ["subscription_id", "kind", "period_start"],
        unique=True,
        postgresql_where=NOT_ADJUSTMENT,
        sqlite_where=NOT_ADJUSTMENT,
    )
    op.create_index(
        "ix_billed_periods_subscription_end", "billed_periods", ["subscription_id", "period_end"]
    )


def _series(recreate: Recreate) -> None:
    with op.batch_alter_table("invoice_sequences", recreate=recreate) as batch:
        batch.add_column(
            sa.Column("series", sa.String(length=3), nullable=False, server_default="INV")
        )
        batch.drop_constraint(op.f("pk_invoice_sequences"), type_="primary")
        batch.create_primary_key(op.f("pk_invoice_sequences"), ["series", "year"])
        batch.create_check_constraint(
            op.f("ck_invoice_sequences_series"), "series IN ('INV', 'CN')"
        )
    with op.batch_alter_table("invoice_sequences") as batch:
        batch.alter_column("series", server_default=None)


def downgrade() -> None:
    raise NotImplementedError(
        "0007 cannot be undone: credit notes, adjustments and changes have no earlier form"
    )
