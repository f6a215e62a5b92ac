"""Which invoices a document corrects: the invoices its adjustment items name (SPEC §11)."""

from recur.db.repositories import invoices as stored
from recur.db.session import Database
from recur.domain.issued import IssuedInvoice


def corrected_invoices(db: Database, invoice: IssuedInvoice) -> dict[int, str]:
    """The number of each invoice that `invoice`'s items correct, by id."""
    named = corrected_ids(invoice)
    if not named:
        return {}
    with db.read() as session:
        return stored.numbers(session, named)


def corrected_ids(invoice: IssuedInvoice) -> list[int]:
    """The ids of the invoices `invoice`'s items correct, in order."""
    return sorted({i.corrects_invoice_id for i in invoice.items if i.corrects_invoice_id})
