"""indexes for the back office's lists

The invoice list's order (issue date, then id, newest first) as one index, so a
page is an index scan instead of a sort of every invoice; and, on PostgreSQL,
trigram (pg_trgm) GIN indexes for the substring searches: accounts by name or
e-mail, invoices by number (ILIKE '%…%' cannot use a B-tree). pg_trgm ships with
PostgreSQL and is a trusted extension (13+): the database owner may create it.
Where it cannot be created, the trigram indexes are left out with a warning, and
those searches scan their table as before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# (index, table, column)
TRIGRAM = [
    ("ix_accounts_name_trgm", "accounts", "name"),
    ("ix_accounts_email_trgm", "accounts", "email"),
    ("ix_invoices_number_trgm", "invoices", "number"),
]


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_issue_date_id", ["issue_date", "id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError as error:
        log.warning(
            "pg_trgm is not available (%s): account and invoice-number searches stay sequential scans",
            str(error.orig).strip(),
        )
        return
    for name, table, column in TRIGRAM:
        op.create_index(
            name,
            table,
            [column],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, table, _ in reversed(TRIGRAM):
            op.drop_index(name, table_name=table, if_exists=True)
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_issue_date_id")
