"""Which invoices a document corrects: the invoices its adjustment items name (SPEC §11)."""

from recur.db.repositories import invoices as stored
from recur.db.session import Database
from recur.domain.issued import IssuedInvoice


def corrected_invoices(db: Database, invoice: IssuedInvoice) -> dict[int, str]:
    """The number of each invoice that `invoice`'s items correct, by id."""
    ids = {item.corrects_invoice_id for item in invoice.items}
    named = sorted(i for i in ids if i is not None)
    if not named:
        return {}
    with db.read() as session:
        return stored.numbers(session, named)
