"""drop ix_invoices_issue_date: ix_invoices_issue_date_id (issue_date, id) serves every
query it served, and each issued invoice paid for updating both

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_invoices_issue_date", table_name="invoices")


def downgrade() -> None:
    op.create_index("ix_invoices_issue_date", "invoices", ["issue_date"])
