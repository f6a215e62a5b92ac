"""Which invoices a document corrects: the invoices its adjustment items name (SPEC §11)."""

from collections.abc import Sequence
from typing import Protocol

from recur.db.repositories.corrections import invoice_numbers
from recur.db.session import Database


class _Item(Protocol):
    @property
    def corrects_invoice_id(self) -> int | None: ...


class _Document(Protocol):
    @property
    def items(self) -> Sequence[_Item]: ...


def corrected_invoices(db: Database, invoice: _Document) -> dict[int, str]:
    """The number of each invoice that `invoice`'s items correct, by id (its items loaded)."""
    ids = {i for item in invoice.items if (i := item.corrects_invoice_id) is not None}
    if not ids:
        return {}
    with db.read() as session:
        return invoice_numbers(session, ids)
