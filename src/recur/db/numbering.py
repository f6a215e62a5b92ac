"""Gap-free document numbers, INV-YYYY-NNNNNN for invoices and CN-YYYY-NNNNNN for
credit notes, a series each per calendar year, taken in the issuing transaction.

The year's row is incremented in the issuing transaction: its row lock is held to
commit, so a rolled-back issue also rolls back its numbers and no gap appears.
Every issuer of the year queues on that row, so numbering is the issuing
transaction's last statement (see billing_store.issue_invoices): on PostgreSQL
one statement takes the numbers and writes them onto the invoices, sent in the
same round trip as the COMMIT (db/final_writes.py).
"""

from collections.abc import Callable, Sequence

from sqlalchemy import text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recur.db.final_writes import FinalWrites
from recur.db.models import Invoice, InvoiceSequence
from recur.domain.catalogue import InvoiceType

# Each document type's series.
SERIES = {InvoiceType.INVOICE: "INV", InvoiceType.CREDIT: "CN"}
DIGITS = 6  # at least; a year's millionth invoice gets a seventh


def format_number(series: str, year: int, number: int) -> str:
    return f"{series}-{year:04d}-{number:0{DIGITS}d}"


# format_number in SQL (lpad alone would cut a seventh digit off).
_SQL_NUMBER = (
    "CAST(:series AS text) || '-' || lpad(CAST(:year AS text), 4, '0') || '-' || "
    f"lpad(CAST(n AS text), greatest({DIGITS}, length(CAST(n AS text))), '0')"
)

# Take `count` numbers of :year (creating its row with the first) and write them onto
# the invoices :ids, in order. An upsert rather than UPDATE then INSERT-if-missing:
# the statement goes with the COMMIT (db/final_writes.py), before its rows are seen.
_NUMBER_INVOICES = text(
    "WITH taken AS ("
    " INSERT INTO invoice_sequences (series, year, last_number) VALUES (:series, :year, :count)"
    " ON CONFLICT (series, year) DO UPDATE"
    " SET last_number = invoice_sequences.last_number + EXCLUDED.last_number"
    " RETURNING last_number"
    "), numbered AS ("
    " SELECT i.id, taken.last_number - :count + i.ord AS n"
    " FROM taken, unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS i(id, ord)"
    ") "
    f"UPDATE invoices SET number = {_SQL_NUMBER} FROM numbered"
    " WHERE invoices.id = numbered.id RETURNING invoices.id, invoices.number"
)


def number_invoices(
    writes: FinalWrites, series: str, year: int, invoice_ids: Sequence[int]
) -> Callable[[], list[str]]:
    """Give the documents `invoice_ids` the next numbers of `series` in `year`, in that
    order, as the transaction's final write; the returned function gives the numbers
    once written."""
    if not writes.postgres:
        taken = _reserve_numbers(writes.session, series, year, len(invoice_ids))
        writes.update(
            Invoice, [{"id": i, "number": n} for i, n in zip(invoice_ids, taken, strict=True)]
        )
        return lambda: taken
    params = {"series": series, "year": year, "count": len(invoice_ids), "ids": list(invoice_ids)}
    rows = writes.execute(_NUMBER_INVOICES, params)

    def numbers() -> list[str]:
        by_id: dict[int, str] = dict(rows())
        return [by_id[i] for i in invoice_ids]

    return numbers


def _reserve_numbers(session: Session, series: str, year: int, count: int) -> list[str]:
    """The next `count` numbers of the series in `year`, in order (SQLite: the writer
    holds the database)."""
    last = session.execute(
        sqlite_insert(InvoiceSequence)
        .values(series=series, year=year, last_number=count)
        .on_conflict_do_update(
            index_elements=["series", "year"],
            set_={"last_number": InvoiceSequence.last_number + count},
        )
        .returning(InvoiceSequence.last_number)
    ).scalar_one()
    return [format_number(series, year, n) for n in range(last - count + 1, last + 1)]
