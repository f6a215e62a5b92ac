"""the ledger's exactly-once keys without a table and three foreign keys per row

Revision 0007 kept every billing of a subscription as a row of
`subscription_billings` (subscription, n), which each ledger fact referred to, and
gave the facts foreign keys to their pricing option and invoice too: every billed
item paid five foreign-key checks and every billed subscription one more row. The
same guarantee now rests on a unique index of the ledger itself: each issuing
transaction marks the first fact it writes for a subscription `first_of_billing`,
and (subscription, billing_seq) is unique among those. The invoice of a fact is its
item's (no copy of it is kept), the item id is the fact's key, and the pricing
option, a catalogue row never deleted, is not checked per row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('recurring', 'setup', 'one_time', 'adjustment')"
COLUMNS = (
    "invoice_item_id, subscription_id, kind, period_start, period_end,"
    " billing_period_start, pricing_option_id, quantity, billing_seq"
)


def upgrade() -> None:
    # Kept aside while the table is made anew under the same constraint names.
    op.execute(f"CREATE TEMPORARY TABLE ledger_kept AS SELECT {COLUMNS} FROM billed_periods")
    op.drop_table("billed_periods")
    op.drop_table("subscription_billings")
    op.create_table(
        "billed_periods",
        sa.Column("invoice_item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("billing_period_start", sa.Date(), nullable=False),
        sa.Column("pricing_option_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("billing_seq", sa.Integer(), nullable=False),
        sa.Column("first_of_billing", sa.Boolean(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_billed_periods_kind")),
        sa.CheckConstraint("period_end > period_start", name=op.f("ck_billed_periods_period")),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_billed_periods_quantity")),
        sa.CheckConstraint("billing_seq >= 1", name=op.f("ck_billed_periods_billing_seq")),
        sa.ForeignKeyConstraint(
            ["invoice_item_id"],
            ["invoice_items.id"],
            name=op.f("fk_billed_periods_invoice_item_id_invoice_items"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_billed_periods_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("invoice_item_id", name=op.f("pk_billed_periods")),
    )
    # The first fact (lowest item id) of each billing carries its key.
    op.execute(
        f"INSERT INTO billed_periods ({COLUMNS}, first_of_billing)"
        f" SELECT {COLUMNS}, invoice_item_id = min(invoice_item_id)"
        " OVER (PARTITION BY subscription_id, billing_seq) FROM ledger_kept"
    )
    op.execute("DROP TABLE ledger_kept")
    not_adjustment = sa.text("kind <> 'adjustment'")
    op.create_index(
        "uq_billed_periods_once",
        "billed_periods",
        ["subscription_id", "kind", "period_start"],
        unique=True,
        postgresql_where=not_adjustment,
        sqlite_where=not_adjustment,
    )
    first = sa.text("first_of_billing")
    op.create_index(
        "uq_billed_periods_billing",
        "billed_periods",
        ["subscription_id", "billing_seq"],
        unique=True,
        postgresql_where=first,
        sqlite_where=first,
    )
    op.create_index(
        "ix_billed_periods_subscription_end", "billed_periods", ["subscription_id", "period_end"]
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger's keys are not put back; restore a backup instead")
