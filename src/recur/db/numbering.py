"""Gap-free invoice numbers, INV-YYYY-NNNNNN, reserved in the issuing transaction.

The year's row is incremented with UPDATE … RETURNING: its row lock is held to
commit, so a rolled-back issue also rolls back its numbers and no gap appears.
"""

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recur.db.models import InvoiceSequence


def format_number(year: int, number: int) -> str:
    return f"INV-{year:04d}-{number:06d}"


def reserve_numbers(session: Session, year: int, count: int) -> list[str]:
    """The next `count` numbers of `year`, in order."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(InvoiceSequence)
        .values(year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    last = session.execute(
        update(InvoiceSequence)
        .where(InvoiceSequence.year == year)
        .values(last_number=InvoiceSequence.last_number + count)
        .returning(InvoiceSequence.last_number)
    ).scalar_one()
    return [format_number(year, n) for n in range(last - count + 1, last + 1)]
