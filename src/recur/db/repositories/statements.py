"""What a statement of account lists: an account's documents, payments, refunds and
credit notes applied, up to a day (domain/statement.py)."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from recur.db.models import Allocation, Invoice, Payment, Refund
from recur.db.repositories.utc import as_utc
from recur.domain.catalogue import InvoiceType
from recur.domain.statement import EntryKind, StatementEntry


def entries(session: Session, account_id: int, until: date) -> list[StatementEntry]:
    return [
        *_documents(session, account_id, until),
        *_payments(session, account_id, until),
        *_refunds(session, account_id, until),
        *_applications(session, account_id, until),
    ]


def _documents(session: Session, account_id: int, until: date) -> list[StatementEntry]:
    rows = session.execute(
        select(Invoice.issue_date, Invoice.type, Invoice.currency, Invoice.number, Invoice.total)
        .where(Invoice.account_id == account_id, Invoice.issue_date <= until)
        .order_by(Invoice.id)
    )
    return [
        StatementEntry(
            day,
            EntryKind.CREDIT_NOTE if kind == InvoiceType.CREDIT else EntryKind.INVOICE,
            currency,
            number,
            "Credit note" if kind == InvoiceType.CREDIT else "Invoice",
            Decimal(total),
        )
        for day, kind, currency, number, total in rows
    ]


def _payments(session: Session, account_id: int, until: date) -> list[StatementEntry]:
    rows = session.execute(
        select(Payment.id, Payment.received_on, Payment.currency, Payment.reference)
        .add_columns(Payment.method, Payment.amount)
        .where(
            Payment.account_id == account_id,
            Payment.received_on <= until,
            Payment.undone_at.is_(None),
        )
        .order_by(Payment.id)
    )
    return [
        StatementEntry(
            day,
            EntryKind.PAYMENT,
            currency,
            reference or f"payment #{payment_id}",
            f"Payment ({method.replace('_', ' ')})",
            -Decimal(amount),
            order=1,
        )
        for payment_id, day, currency, reference, method, amount in rows
    ]


def _refunds(session: Session, account_id: int, until: date) -> list[StatementEntry]:
    rows = session.execute(
        select(Refund.refunded_on, Invoice.currency, Invoice.number, Refund.reference)
        .add_columns(Refund.amount)
        .join(Invoice, Invoice.id == Refund.credit_note_id)
        .where(Invoice.account_id == account_id, Refund.refunded_on <= until)
        .order_by(Refund.id)
    )
    return [
        StatementEntry(
            day,
            EntryKind.REFUND,
            currency,
            reference or number,
            f"Refund of credit note {number}",
            Decimal(amount),
            order=1,
        )
        for day, currency, number, reference, amount in rows
    ]


def _applications(session: Session, account_id: int, until: date) -> list[StatementEntry]:
    """Credit notes applied to invoices: dated the day (UTC) they were applied."""
    note = aliased(Invoice)
    rows = session.execute(
        select(Allocation.created_at, note.currency, note.number, Invoice.number)
        .add_columns(Allocation.amount)
        .join(note, note.id == Allocation.credit_note_id)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(note.account_id == account_id)
        .order_by(Allocation.id)
    )
    found = [
        StatementEntry(
            as_utc(at).date(),
            EntryKind.CREDIT_APPLIED,
            currency,
            note_number,
            f"Applied to {invoice_number}",
            None,
            order=2,
            applied=Decimal(amount),
        )
        for at, currency, note_number, invoice_number, amount in rows
    ]
    return [entry for entry in found if entry.day <= until]
