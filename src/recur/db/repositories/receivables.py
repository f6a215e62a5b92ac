"""Payments, allocations and refunds, and what accounts owe (SPEC §18).

A document's `amount_paid` is the sum of its allocations (and, for a credit note,
of what was applied or refunded of it): it is written with them, under the row
locks `lock_documents` takes, so the database's check keeps it within the total.
"""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session, selectinload

from recur.db.models import Account, Allocation, Invoice, Payment, Refund
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.db.repositories.utc import as_utc, as_utc_or_none
from recur.domain import receivables as r
from recur.domain.catalogue import InvoiceStatus, InvoiceType
from recur.domain.pages import Page

_OPEN = (InvoiceStatus.UNPAID.value, InvoiceStatus.PARTIALLY_PAID.value)


def account_currency(session: Session, account_id: int) -> str | None:
    """The account's currency (None: no such account)."""
    return session.scalar(select(Account.currency).where(Account.id == account_id))


def lock_documents(session: Session, document_ids: Sequence[int]) -> dict[int, r.OpenDocument]:
    """These documents (those that exist), by id, their rows locked until the transaction
    ends; locked in id order, as every payment locks them, so two never deadlock."""
    rows = session.execute(
        select(
            Invoice.id,
            Invoice.number,
            Invoice.account_id,
            Invoice.currency,
            Invoice.type,
            Invoice.status,
            Invoice.total,
            Invoice.amount_paid,
        )
        .where(Invoice.id.in_(sorted(set(document_ids))))
        .order_by(Invoice.id)
        .with_for_update()
    )
    return {row.id: r.OpenDocument(*row) for row in rows}


def settle(
    session: Session,
    document: r.OpenDocument,
    amount_paid: Decimal,
    status: InvoiceStatus,
    now: datetime,
) -> None:
    """Write what settled a (locked) document and the status that follows; `paid_at` is
    when it became paid (cleared when it no longer is)."""
    paid_at = (
        None
        if status != InvoiceStatus.PAID
        else Invoice.paid_at
        if document.status == InvoiceStatus.PAID
        else now
    )
    session.execute(
        update(Invoice)
        .where(Invoice.id == document.id)
        .values(amount_paid=amount_paid, status=status.value, paid_at=paid_at)
    )


def add_payment(session: Session, spec: r.PaymentSpec, actor: str, now: datetime) -> int:
    return int(
        session.execute(
            insert(Payment)
            .values(
                account_id=spec.account_id,
                amount=spec.amount,
                currency=spec.currency,
                received_on=spec.received_on,
                method=spec.method,
                reference=spec.reference,
                created_by=actor,
                created_at=now,
            )
            .returning(Payment.id)
        ).scalar_one()
    )


def add_allocations(
    session: Session,
    allocations: Sequence[r.AllocationSpec],
    now: datetime,
    *,
    payment_id: int | None = None,
    credit_note_id: int | None = None,
) -> None:
    if allocations:
        session.execute(
            insert(Allocation),
            [
                {
                    "invoice_id": a.invoice_id,
                    "amount": a.amount,
                    "payment_id": payment_id,
                    "credit_note_id": credit_note_id,
                    "created_at": now,
                }
                for a in allocations
            ],
        )


def lock_payment(session: Session, payment_id: int) -> r.Payment | None:
    """The payment with its allocations, its row locked (None: no such payment)."""
    row = session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .options(selectinload(Payment.allocations))
        .with_for_update(of=Payment)
    )
    return None if row is None else _payment(row)


def undo_payment(session: Session, payment_id: int, now: datetime) -> None:
    """Forget the payment's allocations; the payment stays, marked undone."""
    session.execute(delete(Allocation).where(Allocation.payment_id == payment_id))
    session.execute(update(Payment).where(Payment.id == payment_id).values(undone_at=now))


PAYMENT_SORTING = Sorting(
    {
        "received_on": SortField(Payment.received_on),
        "amount": SortField(Payment.amount),
        "id": SortField(Payment.id),
    },
    default="-received_on",
    id=Payment.id,
)


def payments_page(
    session: Session, account_id: int | None, limit: int, cursor: str | None, sort: str | None
) -> Page[r.Payment]:
    """Payments in `sort` order (newest first by default), each with its allocations."""
    query = select(Payment).options(selectinload(Payment.allocations))
    if account_id is not None:
        query = query.where(Payment.account_id == account_id)
    return paginate(session, query, limit, cursor, _payment, PAYMENT_SORTING, sort)


def add_refund(
    session: Session, credit_note_id: int, spec: r.RefundSpec, actor: str, now: datetime
) -> None:
    session.execute(
        insert(Refund).values(
            credit_note_id=credit_note_id,
            amount=spec.amount,
            refunded_on=spec.refunded_on,
            reference=spec.reference,
            created_by=actor,
            created_at=now,
        )
    )


def credit_application(session: Session, allocation_id: int) -> tuple[int, int, Decimal] | None:
    """(credit note id, invoice id, amount) of a credit note's application (None: no
    such allocation, or one of a payment)."""
    row = session.execute(
        select(Allocation.credit_note_id, Allocation.invoice_id, Allocation.amount).where(
            Allocation.id == allocation_id, Allocation.credit_note_id.is_not(None)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def delete_allocation(session: Session, allocation_id: int) -> None:
    session.execute(delete(Allocation).where(Allocation.id == allocation_id))


def refund(session: Session, refund_id: int) -> tuple[int, Decimal] | None:
    """(credit note id, amount) of a refund (None: no such refund)."""
    row = session.execute(
        select(Refund.credit_note_id, Refund.amount).where(Refund.id == refund_id)
    ).first()
    return None if row is None else (row[0], row[1])


def delete_refund(session: Session, refund_id: int) -> None:
    session.execute(delete(Refund).where(Refund.id == refund_id))


def allocations_of(session: Session, document_id: int) -> list[r.Allocation]:
    """What settled an invoice, or what a credit note was applied to, oldest first."""
    rows = session.scalars(
        select(Allocation)
        .where((Allocation.invoice_id == document_id) | (Allocation.credit_note_id == document_id))
        .options(
            selectinload(Allocation.payment),
            selectinload(Allocation.invoice),
            selectinload(Allocation.credit_note),
        )
        .order_by(Allocation.id)
    )
    return [_allocation(row) for row in rows]


def refunds_of(session: Session, credit_note_id: int) -> list[r.Refund]:
    rows = session.scalars(
        select(Refund).where(Refund.credit_note_id == credit_note_id).order_by(Refund.id)
    )
    return [
        r.Refund(
            row.id,
            row.credit_note_id,
            row.amount,
            row.refunded_on,
            row.reference,
            as_utc(row.created_at),
        )
        for row in rows
    ]


# --- what accounts owe -------------------------------------------------------------------


def balances(session: Session, account_id: int) -> list[r.Balance]:
    """The account's balance per currency: two grouped sums and the payments' rests."""
    live = Invoice.status != InvoiceStatus.VOID.value
    # SUM keeps the column's exact type on both databases (db/money.py): the open
    # amount is summed as totals less amounts paid, each summed on its own.
    documents = session.execute(
        select(
            Invoice.currency, Invoice.type, func.sum(Invoice.total), func.sum(Invoice.amount_paid)
        )
        .where(Invoice.account_id == account_id, live)
        .group_by(Invoice.currency, Invoice.type)
    )
    due: dict[str, Decimal] = {}
    credits: dict[str, Decimal] = {}
    for currency, kind, total, paid in documents:
        open_amount = Decimal(total or 0) - Decimal(paid or 0)
        if kind == InvoiceType.CREDIT:
            credits[currency] = credits.get(currency, Decimal(0)) - open_amount
        else:
            due[currency] = due.get(currency, Decimal(0)) + open_amount
    allocated = (
        select(Allocation.payment_id, func.sum(Allocation.amount).label("allocated"))
        .group_by(Allocation.payment_id)
        .subquery()
    )
    rests = session.execute(
        select(Payment.currency, func.sum(Payment.amount), func.sum(allocated.c.allocated))
        .outerjoin(allocated, allocated.c.payment_id == Payment.id)
        .where(Payment.account_id == account_id, Payment.undone_at.is_(None))
        .group_by(Payment.currency)
    )
    for currency, received, spent in rests:
        rest = Decimal(received or 0) - Decimal(spent or 0)
        credits[currency] = credits.get(currency, Decimal(0)) + rest
    return [
        r.Balance(c, due.get(c, Decimal(0)), credits.get(c, Decimal(0)))
        for c in sorted(due.keys() | credits.keys())
    ]


def aging_sums(
    session: Session, as_of: date, account_id: int | None
) -> list[tuple[int, str, str, str, Decimal]]:
    """(account id, name, currency, bucket, amount due) of open invoices issued by
    `as_of`, grouped by the bucket their due date falls in on `as_of`."""
    bucket = case(
        *(
            (Invoice.due_date >= earliest, literal(name))
            for name, earliest in r.bucket_starts(as_of)
        ),
        else_=literal(r.BUCKET_NAMES[-1]),
    )
    where = [
        Invoice.type == InvoiceType.INVOICE.value,
        Invoice.status.in_(_OPEN),
        Invoice.issue_date <= as_of,
    ]
    if account_id is not None:
        where.append(Invoice.account_id == account_id)
    # Grouped on the subquery's column: PostgreSQL would not see two copies of the
    # bucket's expression (each with its own parameters) as the same.
    due = (
        select(
            Invoice.account_id,
            Invoice.currency,
            Invoice.total,
            Invoice.amount_paid,
            bucket.label("bucket"),
        )
        .where(*where)
        .subquery()
    )
    query = (
        select(
            due.c.account_id,
            Account.name,
            due.c.currency,
            due.c.bucket,
            func.sum(due.c.total),
            func.sum(due.c.amount_paid),
        )
        .join(Account, Account.id == due.c.account_id)
        .group_by(due.c.account_id, Account.name, due.c.currency, due.c.bucket)
    )
    return [
        (row[0], row[1], row[2], row[3], Decimal(row[4] or 0) - Decimal(row[5] or 0))
        for row in session.execute(query)
    ]


# Records -----------------------------------------------------------------------------


def _payment(row: Payment) -> r.Payment:
    return r.Payment(
        id=row.id,
        account_id=row.account_id,
        amount=row.amount,
        currency=row.currency,
        received_on=row.received_on,
        method=row.method,
        reference=row.reference,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        undone_at=as_utc_or_none(row.undone_at),
        allocations=tuple(r.AllocationSpec(a.invoice_id, a.amount) for a in row.allocations),
    )


def _allocation(row: Allocation) -> r.Allocation:
    payment, note = row.payment, row.credit_note
    return r.Allocation(
        id=row.id,
        invoice_id=row.invoice_id,
        invoice_number=row.invoice.number,
        amount=row.amount,
        payment_id=row.payment_id,
        credit_note_id=row.credit_note_id,
        credit_note_number=None if note is None else note.number,
        received_on=None if payment is None else payment.received_on,
        method=None if payment is None else payment.method,
        reference="" if payment is None else payment.reference,
        created_at=as_utc(row.created_at),
    )


def overdue_total(session: Session, currency: str, today: date) -> Decimal:
    """What open invoices of `currency` issued by `as_of` still owe past their due date
    on `today` (the aging report's buckets after `current`, in one statement)."""
    row = session.execute(
        select(func.sum(Invoice.total), func.sum(Invoice.amount_paid)).where(
            Invoice.type == InvoiceType.INVOICE.value,
            Invoice.status.in_(_OPEN),
            Invoice.issue_date <= today,
            Invoice.due_date < today,
            Invoice.currency == currency,
        )
    ).one()
    return Decimal(row[0] or 0) - Decimal(row[1] or 0)
