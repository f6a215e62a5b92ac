"""usage: meters, usage records and the usage billing type (SPEC §13)

- `pricing_options.usage_delay_days` (0–31, default 0) and billing type `usage`.
- `meters`: a usage option's meters, codes unique per option, prices with 6 places.
- `usage_records`: keyed by the sender's own id, so the database keeps each record
  once; `invoice_item_id` names the item that billed it (null until billed).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recur.db.money import Money

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BILLING_TYPES = "billing_type IN ('prepaid', 'postpaid', 'usage')"
OLD_BILLING_TYPES = "billing_type IN ('prepaid', 'postpaid')"
UNBILLED = sa.text("invoice_item_id IS NULL")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("pricing_options", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(
            sa.Column("usage_delay_days", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_check_constraint(
            op.f("ck_pricing_options_usage_delay_days"), "usage_delay_days BETWEEN 0 AND 31"
        )
        batch.drop_constraint(op.f("ck_pricing_options_billing_type"), type_="check")
        batch.create_check_constraint(op.f("ck_pricing_options_billing_type"), BILLING_TYPES)
    with op.batch_alter_table("pricing_options") as batch:
        batch.alter_column("usage_delay_days", server_default=None)
    op.create_table(
        "meters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pricing_option_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("unit_price", Money(6), nullable=False),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_meters_unit_price")),
        sa.ForeignKeyConstraint(
            ["pricing_option_id"],
            ["pricing_options.id"],
            name=op.f("fk_meters_pricing_option_id_pricing_options"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meters")),
        sa.UniqueConstraint("pricing_option_id", "code", name=op.f("uq_meters_pricing_option_id")),
    )
    op.create_table(
        "usage_records",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("quantity", Money(6), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("invoice_item_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_usage_records_quantity")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_usage_records_subscription_id_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_usage_records_meter_id_meters")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_item_id"],
            ["invoice_items.id"],
            name=op.f("fk_usage_records_invoice_item_id_invoice_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
    )
    op.create_index(
        "ix_usage_records_subscription_occurred",
        "usage_records",
        ["subscription_id", "occurred_on"],
    )
    op.create_index(
        "ix_usage_records_unbilled",
        "usage_records",
        ["subscription_id", "received_on"],
        postgresql_where=UNBILLED,
        sqlite_where=UNBILLED,
    )


def downgrade() -> None:
    op.drop_table("usage_records")
    op.drop_table("meters")
    with op.batch_alter_table("pricing_options", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_pricing_options_billing_type"), type_="check")
        batch.create_check_constraint(op.f("ck_pricing_options_billing_type"), OLD_BILLING_TYPES)
        batch.drop_constraint(op.f("ck_pricing_options_usage_delay_days"), type_="check")
        batch.drop_column("usage_delay_days")
