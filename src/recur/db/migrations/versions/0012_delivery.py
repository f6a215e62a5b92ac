"""delivery by e-mail: accounts' delivery options, SMTP settings, the outbox and its log

- `account_delivery`: an account's billing e-mail, CC addresses and automatic sending.
- `mail_settings`: the SMTP server and the e-mail templates (one row, admins only).
- `delivery_outbox`: e-mails to send, written with the documents they carry.
- `delivery_attempts`: each document's delivery log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 17:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("status = 'queued'")


def upgrade() -> None:
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
    op.create_table(
        "mail_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=10), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=True),
        sa.Column("password", sa.String(length=500), nullable=True),
        sa.Column("subject_template", sa.Text(), nullable=False),
        sa.Column("body_template", sa.Text(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_mail_settings_single")),
        sa.CheckConstraint(
            "security IN ('none', 'starttls', 'tls')", name=op.f("ck_mail_settings_security")
        ),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name=op.f("ck_mail_settings_port")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_settings")),
    )
    op.create_table(
        "delivery_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'sent')", name=op.f("ck_delivery_outbox_status")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_delivery_outbox_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_outbox")),
    )
    op.create_index(
        "ix_delivery_outbox_due",
        "delivery_outbox",
        ["next_attempt_at"],
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )
    op.create_index(
        op.f("ix_delivery_outbox_invoice_id"), "delivery_outbox", ["invoice_id"], unique=False
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('queued', 'sent', 'failed')", name=op.f("ck_delivery_attempts_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["delivery_outbox.id"],
            name=op.f("fk_delivery_attempts_outbox_id_delivery_outbox"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_delivery_attempts_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(
        op.f("ix_delivery_attempts_invoice_id"), "delivery_attempts", ["invoice_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_index("ix_delivery_outbox_due", table_name="delivery_outbox")
    op.drop_table("delivery_outbox")
    op.drop_table("mail_settings")
    op.drop_table("account_delivery")
