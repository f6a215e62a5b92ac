"""A document as printed (its PDF): who it names, what it corrects, and the PDF itself
(SPEC §17, Directive 2006/112/EC art. 226)."""

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from recur.db.repositories import accounts as stored_accounts
from recur.db.repositories import identity as stored_identity
from recur.db.repositories import invoices as stored
from recur.db.session import Database
from recur.domain.identity import NO_SELLER, Buyer, Seller
from recur.domain.issued import Invoice
from recur.services.corrections import corrected_ids


@dataclass(frozen=True)
class PrintedDocument:
    """An invoice or credit note with what its PDF names beside its own figures."""

    invoice: Invoice
    seller: Seller  # as when issued; a document issued before snapshots: the current one
    buyer: Buyer  # likewise
    logo_url: str | None  # the current seller's: a logo is not kept per document
    email: str  # the account's billing e-mail today
    corrects: list[tuple[str, date]]  # number and issue date of the invoices it corrects


def printed(session: Session, invoice: Invoice, seller_name: str) -> PrintedDocument:
    """What the PDF of `invoice` shows, read in `session`; `seller_name` (the
    RECUR_SELLER_NAME setting) names the seller until an admin saves its settings."""
    current = stored_identity.seller(session) or NO_SELLER
    seller = invoice.seller or current
    if not seller.legal_name:
        seller = replace(seller, legal_name=seller_name)
    account = stored_accounts.get_account(session, invoice.account.id)
    assert account is not None  # an invoice's account is never deleted
    buyer = invoice.buyer or Buyer(
        account.name, account.billing_address, account.tax_id, account.tax_exemption_reason
    )
    named = corrected_ids(invoice)
    return PrintedDocument(
        invoice,
        seller,
        buyer,
        current.logo_url,
        account.email,
        stored.numbers_and_dates(session, named) if named else [],
    )


def document_pdf(db: Database, invoice: Invoice, seller_name: str) -> bytes:
    """The PDF of `invoice` (read, then rendered outside the transaction)."""
    with db.read() as session:
        document = printed(session, invoice, seller_name)
    return render(document)


def render(document: PrintedDocument) -> bytes:
    from recur.pdf import render_invoice_pdf  # loading WeasyPrint takes a while

    return render_invoice_pdf(document)
