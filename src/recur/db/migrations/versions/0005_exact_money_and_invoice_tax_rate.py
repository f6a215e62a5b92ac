"""money exact on SQLite too (scaled integers); invoices keep the tax rate they were issued with

On PostgreSQL the money columns stay NUMERIC: only the invoice total's CHECK becomes
exact and invoices gain `tax_rate`. On SQLite every money column becomes an INTEGER
of the value × 10^places (see db/money.py): each stored binary real is read back as
the shortest decimal that prints it (its repr), rounded half up to the column's
places, which is the value that was written, since none had more than 15 digits.

Invoices issued before this revision get their account's current tax rate: the rate
they were issued with was not recorded, and the current one is the best available.
Generations' stored answers (idempotency records) get the same rate, so that a retry
answers as a new generation does.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:00:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

from recur.db.money import Money

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table's money columns: (places, precision).
MONEY: dict[str, dict[str, tuple[int, int]]] = {
    "accounts": {"tax_rate": (2, 5)},
    "pricing_options": {"unit_price": (6, 19), "setup_fee": (6, 19)},
    "invoices": {"subtotal": (4, 19), "tax": (4, 19), "total": (4, 19)},
    "invoice_items": {"unit_price": (6, 19), "proration": (6, 9), "amount": (4, 19)},
}
Rate = Money(2, precision=5)

OLD_TOTAL = "round(total - subtotal - tax, 4) = 0"
NEW_TOTAL = "total = subtotal + tax"
OLD_TAX_RATE = "tax_rate >= 0 AND tax_rate <= 100"
GENERATIONS = "generate"  # services/invoicing.py's idempotency scope


def percentage(name: str) -> sa.ColumnElement[bool]:
    """As models.percentage: the bounds in the column's storage (scaled on SQLite)."""
    rate: sa.ColumnClause[Decimal] = sa.column(name, Rate)
    return sa.and_(rate >= sa.literal(0, Rate), rate <= sa.literal(100, Rate))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _rescale(up=True)
    op.add_column("invoices", sa.Column("tax_rate", Rate, nullable=True))
    op.execute(
        "UPDATE invoices SET tax_rate = "
        "(SELECT accounts.tax_rate FROM accounts WHERE accounts.id = invoices.account_id)"
    )
    _record_rates_in_answers()
    for table in MONEY if sqlite else ("accounts", "invoices"):
        # SQLite alters a column by copying its table: one copy with all its changes.
        with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch:
            if sqlite:
                for name, (places, precision) in MONEY[table].items():
                    batch.alter_column(
                        name, type_=Money(places, precision), existing_nullable=False
                    )
            if table == "accounts":
                _replace_check(batch, "ck_accounts_tax_rate", percentage("tax_rate"))
            if table == "invoices":
                batch.alter_column("tax_rate", existing_type=Rate, nullable=False)
                _replace_check(batch, "ck_invoices_total", sa.text(NEW_TOTAL))
                batch.create_check_constraint(op.f("ck_invoices_tax_rate"), percentage("tax_rate"))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("invoices") as batch:
        batch.drop_constraint(op.f("ck_invoices_tax_rate"), type_="check")
        _replace_check(batch, "ck_invoices_total", sa.text(OLD_TOTAL))
        batch.drop_column("tax_rate")
    with _unchecked(sqlite):  # the scaled values break the old bounds until rescaled
        for table in MONEY if sqlite else ("accounts",):
            with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch:
                if sqlite:
                    for name, (places, precision) in MONEY[table].items():
                        batch.alter_column(
                            name, type_=sa.Numeric(precision, places), existing_nullable=False
                        )
                if table == "accounts":
                    _replace_check(batch, "ck_accounts_tax_rate", sa.text(OLD_TAX_RATE))
    if sqlite:
        _rescale(up=False)


def _replace_check(
    batch: BatchOperations, name: str, condition: sa.ColumnElement[bool] | sa.TextClause
) -> None:
    batch.drop_constraint(op.f(name), type_="check")
    batch.create_check_constraint(op.f(name), condition)


@contextmanager
def _unchecked(sqlite: bool) -> Iterator[None]:
    """SQLite: CHECKs off while values are rewritten between two scales."""
    if sqlite:
        op.execute("PRAGMA ignore_check_constraints = ON")
    yield
    if sqlite:
        op.execute("PRAGMA ignore_check_constraints = OFF")


def _rescale(up: bool) -> None:
    """SQLite: rewrite each stored value in place, as its scaled integer (`up`) or back
    as a real; the tables' copies keep the values as they are."""
    bind = op.get_bind()
    with _unchecked(sqlite=True):
        for table, columns in MONEY.items():
            names = list(columns)
            rows = bind.exec_driver_sql(f"SELECT rowid, {', '.join(names)} FROM {table}").all()
            if not rows:
                continue
            values = [
                {
                    "rowid": row[0],
                    **{
                        name: _scaled(value, columns[name][0])
                        if up
                        else _unscaled(value, columns[name][0])
                        for name, value in zip(names, row[1:], strict=True)
                    },
                }
                for row in rows
            ]
            assignments = ", ".join(f"{name} = :{name}" for name in names)
            bind.execute(sa.text(f"UPDATE {table} SET {assignments} WHERE rowid = :rowid"), values)


def _scaled(value: float | int, places: int) -> int:
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return int(exact.scaleb(places).to_integral_value(ROUND_HALF_UP))


def _unscaled(value: int, places: int) -> float:
    return float(Decimal(value).scaleb(-places))


def _record_rates_in_answers() -> None:
    bind = op.get_bind()
    invoices = sa.table("invoices", sa.column("id"), sa.column("tax_rate", Rate))
    rates = dict(bind.execute(sa.select(invoices.c.id, invoices.c.tax_rate)).tuples().all())
    keys = sa.table(
        "idempotency_keys", sa.column("scope"), sa.column("key"), sa.column("result", sa.JSON)
    )
    answers = bind.execute(
        sa.select(keys.c.key, keys.c.result).where(keys.c.scope == GENERATIONS)
    ).all()
    for key, answer in answers:
        if "invoices" not in answer:
            continue  # a refusal
        for invoice in answer["invoices"]:
            invoice["tax_rate"] = str(rates[invoice["id"]])
        bind.execute(
            keys.update()
            .where(keys.c.scope == GENERATIONS, keys.c.key == key)
            .values(result=answer)
        )
