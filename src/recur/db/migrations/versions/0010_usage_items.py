"""usage items: an item's meter and the exact quantity of its records (SPEC §13)

- `invoice_items.meter` and `invoice_items.usage_quantity` (a usage item's `quantity`
  is 1), both set exactly on usage items; kind `usage` for items and ledger facts.
- The ledger's key per first day leaves usage out as it leaves adjustments: one
  period's records may go out in several items (late records, a manual generation
  before the period ends); each record is billed once by its link to its item.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recur.db.money import Money

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('recurring', 'setup', 'one_time', 'adjustment', 'usage')"
USAGE = "(kind = 'usage') = (meter IS NOT NULL AND usage_quantity IS NOT NULL)"
NEW_DAYS = sa.text("kind NOT IN ('adjustment', 'usage')")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("invoice_items", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("meter", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("usage_quantity", Money(6), nullable=True))
        batch.drop_constraint(op.f("ck_invoice_items_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_invoice_items_kind"), KINDS)
        batch.create_check_constraint(op.f("ck_invoice_items_usage"), USAGE)
    op.drop_index("uq_billed_periods_once", table_name="billed_periods")
    with op.batch_alter_table("billed_periods", recreate="always" if sqlite else "auto") as batch:
        batch.drop_constraint(op.f("ck_billed_periods_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_billed_periods_kind"), KINDS)
    op.create_index(
        "uq_billed_periods_once",
        "billed_periods",
        ["subscription_id", "kind", "period_start"],
        unique=True,
        postgresql_where=NEW_DAYS,
        sqlite_where=NEW_DAYS,
    )


def downgrade() -> None:
    raise NotImplementedError("usage items have no earlier form; restore a backup instead")
