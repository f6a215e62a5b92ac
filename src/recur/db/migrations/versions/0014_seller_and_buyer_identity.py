"""seller and buyer identity: the seller's settings, accounts' address and tax status

- `seller_settings`: the installation's legal name, address, tax id, registration,
  bank details and footer (one row, admins only).
- `accounts`: a structured billing address, a VAT or tax id, and the tax treatment
  (`standard`, `exempt` with its reason, `reverse_charge`); existing accounts are
  `standard` with no address.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _address() -> list[sa.Column[object]]:
    return [
        sa.Column("address_lines", sa.JSON(), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("tax_id", sa.String(length=40), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "seller_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        *_address(),
        sa.Column("registration", sa.String(length=200), nullable=True),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("bank_details", sa.String(length=1000), nullable=True),
        sa.Column("footer", sa.String(length=1000), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_seller_settings_single")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_settings")),
    )
    with op.batch_alter_table("accounts") as batch:
        for column in _address():
            batch.add_column(column)
        batch.add_column(
            sa.Column(
                "tax_treatment", sa.String(length=20), server_default="standard", nullable=False
            )
        )
        batch.add_column(sa.Column("tax_exemption_reason", sa.String(length=500), nullable=True))
        batch.create_check_constraint(
            op.f("ck_accounts_tax_treatment"),
            "tax_treatment IN ('standard', 'exempt', 'reverse_charge')",
        )
        batch.create_check_constraint(
            op.f("ck_accounts_tax_exemption_reason"),
            "(tax_treatment = 'exempt') = (tax_exemption_reason IS NOT NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint("ck_accounts_tax_exemption_reason", type_="check")
        batch.drop_constraint("ck_accounts_tax_treatment", type_="check")
        for name in ("tax_exemption_reason", "tax_treatment", "tax_id", "country", "region"):
            batch.drop_column(name)
        for name in ("city", "postcode", "address_lines"):
            batch.drop_column(name)
    op.drop_table("seller_settings")
