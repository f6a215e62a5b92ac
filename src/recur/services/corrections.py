"""Which invoices a document corrects: the invoices its adjustment items name (SPEC §11)."""

from sqlalchemy import select

from recur.db.models import Invoice
from recur.db.session import Database


def corrected_invoices(db: Database, invoice: Invoice) -> dict[int, str]:
    """The number of each invoice that `invoice`'s items correct, by id (its items loaded)."""
    ids = {item.corrects_invoice_id for item in invoice.items}
    ids.discard(None)
    if not ids:
        return {}
    with db.read() as session:
        rows = session.execute(
            select(Invoice.id, Invoice.number).where(Invoice.id.in_(ids)).order_by(Invoice.id)
        )
        return dict(rows.tuples().all())
