"""the audit trail's door, and indexes for its lists

- `audit_events.door`: where the change came in (`api`, `web`, `cli`, `scheduler`).
  Existing events get the door their actor implies: API tokens the API, users and
  sign-in clients the back office, the scheduler itself, anything else the CLI.
- Indexes for a subject's activity, an actor's events and the log by date.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("door", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE audit_events SET door = CASE"
        " WHEN actor LIKE 'token:%' THEN 'api'"
        " WHEN actor LIKE 'user:%' OR actor LIKE 'client:%' THEN 'web'"
        " WHEN actor = 'scheduler' THEN 'scheduler'"
        " ELSE 'cli' END"
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("door", existing_type=sa.String(length=16), nullable=False)
        batch.create_check_constraint(
            op.f("ck_audit_events_door"), "door IN ('api', 'web', 'cli', 'scheduler')"
        )
    op.create_index(
        "ix_audit_events_subject", "audit_events", ["subject_type", "subject_id", "occurred_at"]
    )
    op.create_index("ix_audit_events_actor", "audit_events", ["actor", "occurred_at"])
    op.create_index("ix_audit_events_occurred_at", "audit_events", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_occurred_at", table_name="audit_events")
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint("ck_audit_events_door", type_="check")
        batch.drop_column("door")
