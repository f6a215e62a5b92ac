"""delivery options on the account, e-mail templates per document kind, statements

- `accounts` gains `billing_email`, `cc_emails` and `auto_send` (SPEC §17 puts them on
  the account resource); `account_delivery`'s rows move there and the table goes.
- `mail_templates`: the subject and body of each kind of e-mail (invoice, credit note,
  statement); no row means the default. The single template pair of `mail_settings`
  becomes the invoice's and the credit note's.
- `delivery_outbox` and `delivery_attempts` also carry statements of account: an
  account and a period instead of a document.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("status = 'queued'")
KINDS = "kind IN ('invoice', 'credit_note', 'statement')"
SUBJECT = "statement_from IS NOT NULL AND statement_to IS NOT NULL"
ONE_SUBJECT = f"(invoice_id IS NULL) = ({SUBJECT})"


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("billing_email", sa.String(length=320), nullable=True))
        batch.add_column(
            sa.Column("cc_emails", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch.add_column(
            sa.Column("auto_send", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    for column in ("billing_email", "cc_emails", "auto_send"):
        op.execute(
            f"UPDATE accounts SET {column} = (SELECT d.{column} FROM account_delivery d "
            "WHERE d.account_id = accounts.id) "
            "WHERE id IN (SELECT account_id FROM account_delivery)"
        )
    op.drop_table("account_delivery")

    op.create_table(
        "mail_templates",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_mail_templates_kind")),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_mail_templates")),
    )
    op.execute(
        "INSERT INTO mail_templates (kind, subject, body) "
        "SELECT k.kind, m.subject_template, m.body_template FROM mail_settings m "
        "CROSS JOIN (SELECT 'invoice' AS kind UNION ALL SELECT 'credit_note') k"
    )
    with op.batch_alter_table("mail_settings") as batch:
        batch.drop_column("subject_template")
        batch.drop_column("body_template")

    op.drop_index("ix_delivery_outbox_due", table_name="delivery_outbox")
    with op.batch_alter_table("delivery_outbox") as batch:
        batch.alter_column("invoice_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("statement_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("statement_to", sa.Date(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_delivery_outbox_account_id_accounts"), "accounts", ["account_id"], ["id"]
        )
        batch.create_check_constraint(op.f("ck_delivery_outbox_one_subject"), ONE_SUBJECT)
    op.create_index(
        "ix_delivery_outbox_due",
        "delivery_outbox",
        ["next_attempt_at"],
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )
    op.create_index(
        op.f("ix_delivery_outbox_account_id"), "delivery_outbox", ["account_id"], unique=False
    )
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.alter_column("invoice_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM delivery_attempts WHERE invoice_id IS NULL")
    op.execute("DELETE FROM delivery_outbox WHERE invoice_id IS NULL")
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.alter_column("invoice_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f("ix_delivery_outbox_account_id"), table_name="delivery_outbox")
    op.drop_index("ix_delivery_outbox_due", table_name="delivery_outbox")
    with op.batch_alter_table("delivery_outbox") as batch:
        batch.drop_constraint(op.f("ck_delivery_outbox_one_subject"), type_="check")
        batch.drop_constraint(op.f("fk_delivery_outbox_account_id_accounts"), type_="foreignkey")
        batch.drop_column("statement_to")
        batch.drop_column("statement_from")
        batch.drop_column("account_id")
        batch.alter_column("invoice_id", existing_type=sa.Integer(), nullable=False)
    op.create_index(
        "ix_delivery_outbox_due",
        "delivery_outbox",
        ["next_attempt_at"],
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )
    with op.batch_alter_table("mail_settings") as batch:
        batch.add_column(sa.Column("subject_template", sa.Text(), nullable=True))
        batch.add_column(sa.Column("body_template", sa.Text(), nullable=True))
    op.execute(
        "UPDATE mail_settings SET subject_template = t.subject, body_template = t.body "
        "FROM mail_templates t WHERE t.kind = 'invoice'"
    )
    op.drop_table("mail_templates")
    op.create_table(
        "account_delivery",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("billing_email", sa.String(length=320), nullable=True),
        sa.Column("cc_emails", sa.JSON(), nullable=False),
        sa.Column("auto_send", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_delivery_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_delivery")),
    )
    op.execute(
        "INSERT INTO account_delivery (account_id, billing_email, cc_emails, auto_send) "
        "SELECT id, billing_email, cc_emails, auto_send FROM accounts"
    )
    with op.batch_alter_table("accounts") as batch:
        for name in ("auto_send", "cc_emails", "billing_email"):
            batch.drop_column(name)
