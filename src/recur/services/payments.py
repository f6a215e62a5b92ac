"""Payments, credit notes applied or refunded, and voids (SPEC §18).

Every use case locks the documents it settles (in id order), checks the whole request
against them, and only then writes: a refused request changes nothing. Each writes
one audit event. A document's status follows from what settled it
(domain.receivables.payment_status).
"""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from recur.db import billing_store
from recur.db.audit import action, record
from recur.db.repositories import invoices as stored
from recur.db.repositories import receivables as books
from recur.db.session import Database
from recur.domain import receivables as r
from recur.domain.catalogue import InvoiceSource, InvoiceStatus, InvoiceType, PaymentMethod
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.issued import Invoice, IssuedInvoice
from recur.domain.money import to_money
from recur.domain.pages import Page
from recur.services.validation import (
    MAX_ALLOCATIONS,
    REFERENCE_LENGTH,
    check_choice,
    check_currency,
    check_day,
    check_payment_amount,
    check_text,
)

# --- the one validation every door uses ------------------------------------------------


def check_reference(reference: str) -> str:
    """A bank reference, cheque number or note: optional, one visible line."""
    return check_text(reference, "reference", REFERENCE_LENGTH) if reference.strip() else ""


def check_received_on(day: date, today: date, field: str) -> date:
    check_day(day, field)
    if day > today:
        raise InvalidInput(f"invalid_{field}", f"{field} must not be after today ({today})")
    return day


def check_payment(spec: r.PaymentSpec, today: date) -> r.PaymentSpec:
    currency = check_currency(spec.currency)
    if len(spec.allocations) > MAX_ALLOCATIONS:
        raise InvalidInput(
            "invalid_allocations", f"a payment may settle at most {MAX_ALLOCATIONS} invoices"
        )
    return replace(
        spec,
        amount=check_payment_amount(spec.amount, currency),
        received_on=check_received_on(spec.received_on, today, "received_on"),
        method=check_choice(spec.method, PaymentMethod, "method"),
        reference=check_reference(spec.reference),
        allocations=tuple(
            replace(a, amount=check_payment_amount(a.amount, currency, "allocation_amount"))
            for a in spec.allocations
        ),
    )


# --- payments ------------------------------------------------------------------------------


@action
def record_payment(db: Database, spec: r.PaymentSpec, actor: str, today: date) -> r.Payment:
    """Record money received and settle the invoices it names; the rest stays on the
    account as credit."""
    checked = check_payment(spec, today)

    def work(session: Session) -> r.Payment:
        return _record(session, checked, actor)

    return db.run(work)


def _record(session: Session, spec: r.PaymentSpec, actor: str) -> r.Payment:
    if books.account_currency(session, spec.account_id) is None:
        raise NotFound("account_not_found", f"account {spec.account_id} does not exist")
    documents = _locked(session, [a.invoice_id for a in spec.allocations])
    for document in documents.values():
        _check_same_books(document, spec.account_id, spec.currency)
    r.checked_allocations(spec.amount, spec.allocations, documents)
    now = datetime.now(UTC)
    payment_id = books.add_payment(session, spec, actor, now)
    books.add_allocations(session, spec.allocations, now, payment_id=payment_id)
    for allocation in spec.allocations:
        _settle(session, documents[allocation.invoice_id], allocation.amount, now)
    record(
        session,
        actor,
        "payment.recorded",
        "payment",
        payment_id,
        account_id=spec.account_id,
        amount=str(spec.amount),
        currency=spec.currency,
        allocations={str(a.invoice_id): str(a.amount) for a in spec.allocations},
    )
    payment = books.lock_payment(session, payment_id)
    assert payment is not None
    return payment


@action
def pay_in_full(db: Database, invoice_id: int, actor: str, today: date) -> Invoice:
    """A payment of the invoice's whole amount due, received today (the old *Mark as
    paid*, `POST /invoices/{id}/pay`)."""

    def work(session: Session) -> None:
        document = _locked(session, [invoice_id])[invoice_id]
        if document.type != InvoiceType.INVOICE or document.amount_due == 0:
            raise Conflict("invoice_not_unpaid", f"invoice {document.number} is {document.status}")
        due = r.AllocationSpec(invoice_id, document.amount_due)
        spec = r.PaymentSpec(
            document.account_id,
            document.amount_due,
            document.currency,
            today,
            PaymentMethod.OTHER.value,
            "",
            (due,),
        )
        _record(session, spec, actor)

    db.run(work)
    return _invoice(db, invoice_id)


@action
def undo_payment(db: Database, payment_id: int, actor: str) -> None:
    """Take a payment back: the invoices it settled are open again by as much."""

    def work(session: Session) -> None:
        payment = books.lock_payment(session, payment_id)
        if payment is None:
            raise NotFound("payment_not_found", f"payment {payment_id} does not exist")
        if payment.undone_at is not None:
            raise Conflict("payment_undone", f"payment {payment_id} was already undone")
        documents = _locked(session, [a.invoice_id for a in payment.allocations])
        now = datetime.now(UTC)
        for allocation in payment.allocations:
            _settle(session, documents[allocation.invoice_id], -allocation.amount, now)
        books.undo_payment(session, payment_id, now)
        record(
            session,
            actor,
            "payment.undone",
            "payment",
            payment_id,
            amount=str(payment.amount),
            allocations={str(a.invoice_id): str(a.amount) for a in payment.allocations},
        )

    db.run(work)


def list_payments(
    db: Database,
    account_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    sort: str | None = None,
) -> Page[r.Payment]:
    with db.read() as session:
        return books.payments_page(session, account_id, limit, cursor, sort)


def settlements(db: Database, document_id: int) -> tuple[list[r.Allocation], list[r.Refund]]:
    """What settled an invoice, or where a credit note went (applied, refunded)."""
    with db.read() as session:
        return books.allocations_of(session, document_id), books.refunds_of(session, document_id)


def credit_note_uses(
    db: Database, credit_note_id: int
) -> tuple[Invoice, list[r.Allocation], list[r.Refund]]:
    """The credit note, the invoices it was applied to and its refunds, oldest first."""
    with db.read() as session:
        note = stored.by_id(session, credit_note_id)
        if note is None:
            raise NotFound("invoice_not_found", f"invoice {credit_note_id} does not exist")
        if note.type != InvoiceType.CREDIT:
            raise Conflict("not_a_credit_note", f"{note.number} is not a credit note")
        allocations = books.allocations_of(session, credit_note_id)
        refunds = books.refunds_of(session, credit_note_id)
    return note, [a for a in allocations if a.credit_note_id == credit_note_id], refunds


# --- credit notes ----------------------------------------------------------------------------


@action
def apply_credit_note(
    db: Database, credit_note_id: int, invoice_id: int, amount: Decimal, actor: str
) -> Invoice:
    """Settle an open invoice of the same account and currency with part of a credit
    note; answers the credit note."""

    def work(session: Session) -> None:
        documents = _locked(session, [credit_note_id, invoice_id])
        note = _credit_note(documents[credit_note_id])
        applied = check_payment_amount(amount, note.currency)
        if invoice_id == credit_note_id:
            raise Conflict("invoice_not_open", f"{note.number} is not an open invoice")
        _check_same_books(documents[invoice_id], note.account_id, note.currency)
        _check_remaining(note, applied)
        allocation = r.AllocationSpec(invoice_id, applied)
        r.checked_allocations(applied, [allocation], documents)
        now = datetime.now(UTC)
        books.add_allocations(session, [allocation], now, credit_note_id=credit_note_id)
        _settle(session, documents[invoice_id], applied, now)
        _settle(session, note, -applied, now)
        record(
            session,
            actor,
            "credit_note.applied",
            "invoice",
            credit_note_id,
            invoice_id=invoice_id,
            amount=str(applied),
        )

    db.run(work)
    return _invoice(db, credit_note_id)


@action
def refund_credit_note(
    db: Database, credit_note_id: int, spec: r.RefundSpec, actor: str, today: date
) -> Invoice:
    """Record part of a credit note paid back to the customer; answers the credit note."""
    check_received_on(spec.refunded_on, today, "refunded_on")
    reference = check_reference(spec.reference)

    def work(session: Session) -> None:
        note = _credit_note(_locked(session, [credit_note_id])[credit_note_id])
        refunded = check_payment_amount(spec.amount, note.currency)
        _check_remaining(note, refunded)
        now = datetime.now(UTC)
        books.add_refund(session, credit_note_id, replace(spec, reference=reference), actor, now)
        _settle(session, note, -refunded, now)
        record(
            session, actor, "credit_note.refunded", "invoice", credit_note_id, amount=str(refunded)
        )

    db.run(work)
    return _invoice(db, credit_note_id)


@action
def undo_credit_application(db: Database, allocation_id: int, actor: str) -> Invoice:
    """Take back a credit note's application: the invoice is open again by as much and
    the credit note has it left; answers the credit note. A void's is refused."""

    def work(session: Session) -> int:
        found = books.credit_application(session, allocation_id)
        if found is None:
            raise NotFound(
                "credit_application_not_found",
                f"credit note application {allocation_id} does not exist",
            )
        note_id, invoice_id, amount = found
        documents = _locked(session, [note_id, invoice_id])
        # Read again under the documents' locks, which any other undo of it takes first.
        if books.credit_application(session, allocation_id) is None:
            raise NotFound(
                "credit_application_not_found",
                f"credit note application {allocation_id} does not exist",
            )
        invoice = documents[invoice_id]
        if invoice.status == InvoiceStatus.VOID:
            raise Conflict(
                "invoice_void", f"{invoice.number} is void: its credit note stays applied"
            )
        now = datetime.now(UTC)
        books.delete_allocation(session, allocation_id)
        _settle(session, invoice, -amount, now)
        _settle(session, documents[note_id], amount, now)
        record(
            session,
            actor,
            "credit_note.application_undone",
            "invoice",
            note_id,
            invoice_id=invoice_id,
            amount=str(amount),
        )
        return note_id

    return _invoice(db, db.run(work))


@action
def undo_refund(db: Database, refund_id: int, actor: str) -> Invoice:
    """Take back a refund recorded in error: the credit note has it left again; answers
    the credit note."""

    def work(session: Session) -> int:
        found = books.refund(session, refund_id)
        if found is None:
            raise NotFound("refund_not_found", f"refund {refund_id} does not exist")
        note_id, amount = found
        note = _locked(session, [note_id])[note_id]
        if books.refund(session, refund_id) is None:  # undone while we waited for the lock
            raise NotFound("refund_not_found", f"refund {refund_id} does not exist")
        books.delete_refund(session, refund_id)
        _settle(session, note, amount, datetime.now(UTC))
        record(session, actor, "credit_note.refund_undone", "invoice", note_id, amount=str(amount))
        return note_id

    return _invoice(db, db.run(work))


# --- voids ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voided:
    invoice: Invoice  # now void
    credit_note: Invoice  # its full amount, applied to it


@action
def void_invoice(db: Database, invoice_id: int, actor: str, today: date) -> Voided:
    """Cancel an invoice issued in error: a credit note for its full amount, applied to
    it, and the invoice `void`. Nothing is deleted; a partly paid invoice is refused
    (undo its payments first)."""

    def work(session: Session) -> billing_store.Issuing:
        document = _locked(session, [invoice_id])[invoice_id]
        if document.type != InvoiceType.INVOICE:
            raise Conflict("not_an_invoice", f"{document.number} is a credit note")
        if document.status == InvoiceStatus.VOID:
            raise Conflict("invoice_void", f"{document.number} is already void")
        if document.amount_paid != 0:
            raise Conflict(
                "invoice_partly_paid",
                f"{document.number} is {document.status}: undo its payments before voiding it",
            )
        invoice = stored.by_id(session, invoice_id)
        assert invoice is not None
        issuing = billing_store.issue_credit_note(session, _void_note(invoice, today, actor))
        [note] = issuing.invoices
        now = datetime.now(UTC)
        if invoice.total != 0:
            allocation = r.AllocationSpec(invoice_id, invoice.total)
            books.add_allocations(session, [allocation], now, credit_note_id=note.id)
        books.settle(session, document, invoice.total, InvoiceStatus.VOID, now)
        books.settle(
            session, _open(note), note.total, r.payment_status(note.total, note.total), now
        )
        record(session, actor, "invoice.voided", "invoice", invoice_id, credit_note_id=note.id)
        return issuing

    issuing = db.run(work)
    [note] = issuing.numbered()
    return Voided(_invoice(db, invoice_id), _invoice(db, note.id))


def _void_note(invoice: Invoice, today: date, actor: str) -> IssuedInvoice:
    """The credit note that cancels `invoice`: its items and amounts negated, dated today."""
    items = tuple(
        replace(item, quantity=-item.quantity, amount=-item.amount, corrects_invoice_id=invoice.id)
        for item in invoice.items
    )
    return IssuedInvoice(
        id=0,  # given when written
        number="",
        account_id=invoice.account_id,
        issue_date=today,
        due_date=today,  # a credit note is due when issued (SPEC §11)
        currency=invoice.currency,
        source=InvoiceSource.MANUAL.value,
        generated_by=actor,
        billing_run_id=None,
        subtotal=-invoice.subtotal,
        tax=-invoice.tax,
        total=-invoice.total,
        tax_rate=invoice.tax_rate,
        items=items,  # each at its invoice line's rate: the tax it cancels
        type=InvoiceType.CREDIT.value,
        tax_treatment=invoice.tax_treatment,
    )


# --- shared steps -------------------------------------------------------------------------------


def _locked(session: Session, document_ids: list[int]) -> dict[int, r.OpenDocument]:
    documents = books.lock_documents(session, document_ids)
    missing = sorted(set(document_ids) - documents.keys())
    if missing:
        raise NotFound("invoice_not_found", f"invoice {missing[0]} does not exist")
    return documents


def _check_same_books(document: r.OpenDocument, account_id: int, currency: str) -> None:
    if document.account_id != account_id:
        raise Conflict(
            "invoice_of_another_account",
            f"{document.number} belongs to another account: nothing was recorded",
        )
    if document.currency != currency:
        raise Conflict(
            "currency_mismatch",
            f"{document.number} is in {document.currency}, not {currency}: nothing was recorded",
        )


def _credit_note(document: r.OpenDocument) -> r.OpenDocument:
    if document.type != InvoiceType.CREDIT:
        raise Conflict("not_a_credit_note", f"{document.number} is not a credit note")
    return document


def _check_remaining(note: r.OpenDocument, amount: Decimal) -> None:
    remaining = to_money(-note.amount_due, note.currency)
    if amount > remaining:
        raise Conflict(
            "over_allocated",
            f"{amount} exceeds the {remaining} left on {note.number}: nothing was recorded",
        )


def _settle(session: Session, document: r.OpenDocument, amount: Decimal, now: datetime) -> None:
    """Settle `amount` more of a document (signed as its total: a credit note's use is
    negative)."""
    paid = document.amount_paid + amount
    books.settle(session, document, paid, r.payment_status(document.total, paid), now)


def _open(note: IssuedInvoice) -> r.OpenDocument:
    return r.OpenDocument(
        note.id,
        note.number,
        note.account_id,
        note.currency,
        note.type,
        note.status,
        note.total,
        note.amount_paid,
    )


def _invoice(db: Database, invoice_id: int) -> Invoice:
    with db.read() as session:
        invoice = stored.by_id(session, invoice_id)
    assert invoice is not None
    return invoice
