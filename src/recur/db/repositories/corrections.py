"""The invoices that credit notes and adjustments correct (SPEC §11)."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from recur.db.models import Invoice


def invoice_numbers(session: Session, invoice_ids: Collection[int]) -> dict[int, str]:
    """The number of each of `invoice_ids` that exists, by id (in id order)."""
    rows = session.execute(
        select(Invoice.id, Invoice.number).where(Invoice.id.in_(invoice_ids)).order_by(Invoice.id)
    )
    return dict(rows.tuples().all())
