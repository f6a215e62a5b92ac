"""Gap-free invoice numbers, INV-YYYY-NNNNNN, taken in the issuing transaction.

The year's row is incremented with UPDATE … RETURNING: its row lock is held to
commit, so a rolled-back issue also rolls back its numbers and no gap appears.
Every issuer of the year queues on that row, so numbering is the issuing
transaction's last statement (see billing_store.issue_invoices): on PostgreSQL
one statement takes the numbers and writes them onto the invoices, and the lock
is held for that statement and the commit only.
"""

from collections.abc import Sequence

from sqlalchemy import text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recur.db import bulk
from recur.db.models import Invoice, InvoiceSequence

PREFIX = "INV-"
DIGITS = 6  # at least; a year's ten-millionth invoice gets a seventh


def format_number(year: int, number: int) -> str:
    return f"{PREFIX}{year:04d}-{number:0{DIGITS}d}"


# format_number in SQL (lpad alone would cut a seventh digit off).
_SQL_NUMBER = (
    f"'{PREFIX}' || lpad(CAST(:year AS text), 4, '0') || '-' || "
    f"lpad(CAST(n AS text), greatest({DIGITS}, length(CAST(n AS text))), '0')"
)

# Take `count` numbers of :year and write them onto the invoices :ids, in order.
_NUMBER_INVOICES = text(
    "WITH taken AS ("
    " UPDATE invoice_sequences SET last_number = last_number + :count"
    " WHERE year = :year RETURNING last_number"
    "), numbered AS ("
    " SELECT i.id, taken.last_number - :count + i.ord AS n"
    " FROM taken, unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS i(id, ord)"
    ") "
    f"UPDATE invoices SET number = {_SQL_NUMBER} FROM numbered"
    " WHERE invoices.id = numbered.id RETURNING invoices.id, invoices.number"
)


def number_invoices(session: Session, year: int, invoice_ids: Sequence[int]) -> list[str]:
    """Give the invoices `invoice_ids` the next numbers of `year`, in that order."""
    if not invoice_ids:
        return []
    if session.get_bind().dialect.name != "postgresql":
        numbers = _reserve_numbers(session, year, len(invoice_ids))
        bulk.update_by_id(
            session,
            Invoice,
            [{"id": i, "number": n} for i, n in zip(invoice_ids, numbers, strict=True)],
        )
        return numbers
    params = {"year": year, "count": len(invoice_ids), "ids": list(invoice_ids)}
    rows = session.execute(_NUMBER_INVOICES, params).all()
    if not rows:  # the year's first invoice: its row does not exist yet
        _create_year(session, year)
        rows = session.execute(_NUMBER_INVOICES, params).all()
    by_id: dict[int, str] = {row.id: row.number for row in rows}
    return [by_id[i] for i in invoice_ids]


def _reserve_numbers(session: Session, year: int, count: int) -> list[str]:
    """The next `count` numbers of `year`, in order."""
    _create_year(session, year)
    last = session.execute(
        update(InvoiceSequence)
        .where(InvoiceSequence.year == year)
        .values(last_number=InvoiceSequence.last_number + count)
        .returning(InvoiceSequence.last_number)
    ).scalar_one()
    return [format_number(year, n) for n in range(last - count + 1, last + 1)]


def _create_year(session: Session, year: int) -> None:
    # Only when the row is missing: ON CONFLICT would wait for every open issuer
    # holding the existing row.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(InvoiceSequence)
        .values(year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
