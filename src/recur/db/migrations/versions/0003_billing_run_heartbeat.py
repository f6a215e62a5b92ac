"""billing runs beat a heart, so that a killed worker's run can be told from a live one

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("billing_runs") as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("billing_runs") as batch_op:
        batch_op.drop_column("heartbeat_at")
