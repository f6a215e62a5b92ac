"""the ledger's key per first day also serves its reads: one index fewer per item

`uq_billed_periods_once` was a partial unique index (adjustments and usage left out)
and the facts of a subscription were read through a second index,
`ix_billed_periods_subscription_end`. A column `repeat_key` (0 for days billed for
the first time, the item's own id for the kinds that may bill a first day again)
makes the key one full unique index, `(subscription_id, kind, period_start,
repeat_key)`, which also serves the reads: every billed item updates one index fewer.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPEATABLE = "kind IN ('adjustment', 'usage')"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("uq_billed_periods_once", table_name="billed_periods")
    op.drop_index("ix_billed_periods_subscription_end", table_name="billed_periods")
    with op.batch_alter_table("billed_periods", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("repeat_key", sa.Integer(), nullable=False, server_default="0"))
    op.execute(f"UPDATE billed_periods SET repeat_key = invoice_item_id WHERE {REPEATABLE}")
    with op.batch_alter_table("billed_periods", recreate="always" if sqlite else "auto") as batch:
        batch.create_check_constraint(
            op.f("ck_billed_periods_repeat_key"),
            f"CASE WHEN {REPEATABLE} THEN repeat_key = invoice_item_id ELSE repeat_key = 0 END",
        )
        batch.create_unique_constraint(
            "uq_billed_periods_once",
            ["subscription_id", "kind", "period_start", "repeat_key"],
        )


def downgrade() -> None:
    raise NotImplementedError("the ledger's keys are not put back; restore a backup instead")
