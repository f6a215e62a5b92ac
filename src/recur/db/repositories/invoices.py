"""Stored invoices and credit notes: reading them, and what a manual
generation reads and keeps besides the documents (which db/billing_store.py writes)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from recur.db.audit import event_row
from recur.db.billing_store import (
    TERMS_COLUMNS,
    account_terms,
    history_for,
    states_by_id_queries,
    states_of,
)
from recur.db.final_writes import writes_of
from recur.db.models import Account, AuditEvent, IdempotencyKey, Subscription
from recur.db.models import Invoice as InvoiceRow
from recur.db.models import InvoiceItem as ItemRow
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.db.repositories.utc import as_utc, as_utc_or_none
from recur.db.rows import fetch_rows
from recur.domain.accounts import AccountRef
from recur.domain.catalogue import InvoiceSource, InvoiceStatus, InvoiceType
from recur.domain.identity import buyer_of_record, seller_of_record
from recur.domain.invoices import AccountTerms, SubscriptionState
from recur.domain.issued import Invoice, InvoiceFilter, IssuedItem
from recur.domain.pages import Page

_SortAccount = aliased(Account, name="sort_account")
SORTING = Sorting(
    {
        "number": SortField(InvoiceRow.number),
        "type": SortField(InvoiceRow.type),
        "account": SortField(
            _SortAccount.name, join=(_SortAccount, _SortAccount.id == InvoiceRow.account_id)
        ),
        "issue_date": SortField(InvoiceRow.issue_date),
        "due_date": SortField(InvoiceRow.due_date),
        "total": SortField(InvoiceRow.total),
        "status": SortField(InvoiceRow.status),
        "source": SortField(InvoiceRow.source),
        "id": SortField(InvoiceRow.id),
    },
    default="-issue_date",  # newest first (index ix_invoices_issue_date_id)
    id=InvoiceRow.id,
)


def page(
    session: Session,
    where: InvoiceFilter,
    limit: int,
    cursor: str | None,
    with_items: bool,
    sort: str | None = None,
) -> Page[Invoice]:
    """One page of the invoices `where` selects, in `sort` order, each with its account;
    without `with_items`, with none of their items (an invoice of a 1,000-subscription
    account has 1,000): a table of invoices shows none."""
    query = _filtered(where).options(selectinload(InvoiceRow.account))
    if with_items:
        query = query.options(selectinload(InvoiceRow.items))
    record = _record if with_items else _record_without_items
    return paginate(session, query, limit, cursor, record, SORTING, sort)


def _filtered(where: InvoiceFilter) -> Select[tuple[InvoiceRow]]:
    """The invoices `where` selects; its dates and number already checked
    (services/invoicing.py)."""
    query = select(InvoiceRow)
    if where.account_id is not None:
        query = query.where(InvoiceRow.account_id == where.account_id)
    if where.status is not None:
        query = query.where(InvoiceRow.status == InvoiceStatus(where.status).value)
    if where.source is not None:
        query = query.where(InvoiceRow.source == InvoiceSource(where.source).value)
    if where.type is not None:
        query = query.where(InvoiceRow.type == InvoiceType(where.type).value)
    if where.issued_from is not None:
        query = query.where(InvoiceRow.issue_date >= where.issued_from)
    if where.issued_to is not None:
        query = query.where(InvoiceRow.issue_date <= where.issued_to)
    if where.number:
        query = query.where(InvoiceRow.number.icontains(where.number, autoescape=True))
    return query


def by_id(session: Session, invoice_id: int) -> Invoice | None:
    return _one(session, select(InvoiceRow).where(InvoiceRow.id == invoice_id))


def by_number(session: Session, number: str) -> Invoice | None:
    return _one(session, select(InvoiceRow).where(InvoiceRow.number == number))


def _one(session: Session, query: Select[tuple[InvoiceRow]]) -> Invoice | None:
    """The invoice `query` selects, with its account and items."""
    row = session.scalar(
        query.options(selectinload(InvoiceRow.items), selectinload(InvoiceRow.account))
    )
    return None if row is None else _record(row)


def numbers(session: Session, invoice_ids: Sequence[int]) -> dict[int, str]:
    """The number of each of these invoices, by id, in id order."""
    rows = session.execute(
        select(InvoiceRow.id, InvoiceRow.number)
        .where(InvoiceRow.id.in_(invoice_ids))
        .order_by(InvoiceRow.id)
    )
    return dict(rows.tuples().all())


def numbers_and_dates(session: Session, invoice_ids: Sequence[int]) -> list[tuple[str, date]]:
    """The number and issue date of each of these invoices, in id order."""
    rows = session.execute(
        select(InvoiceRow.number, InvoiceRow.issue_date)
        .where(InvoiceRow.id.in_(invoice_ids))
        .order_by(InvoiceRow.id)
    )
    return list(rows.tuples().all())


def open_balance(session: Session, account_id: int) -> Decimal:
    """What the account owes: what is still open of its documents (credit notes less)."""
    total, paid = session.execute(
        select(func.sum(InvoiceRow.total), func.sum(InvoiceRow.amount_paid)).where(
            InvoiceRow.account_id == account_id, InvoiceRow.status.in_(OPEN_STATUSES)
        )
    ).one()
    return Decimal(total or 0) - Decimal(paid or 0)


# The statuses of documents with something still open.
OPEN_STATUSES = (InvoiceStatus.UNPAID.value, InvoiceStatus.PARTIALLY_PAID.value)


def terms_of_subscription_account(session: Session, subscription_id: int) -> AccountTerms | None:
    """The terms of the account a subscription belongs to (None: no such subscription)."""
    row = session.execute(
        select(*TERMS_COLUMNS)
        .join(Subscription, Subscription.account_id == Account.id)
        .where(Subscription.id == subscription_id)
    ).one_or_none()
    return None if row is None else account_terms(row)


# Manual generation --------------------------------------------------------------------

# Every manual generation shares one key space (services/invoicing.py).
GENERATION_SCOPE = "generate"


@dataclass(frozen=True)
class KeptAnswer:
    """The answer kept with an idempotency key: its request's fingerprint and record."""

    fingerprint: str
    answer: dict[str, Any]


@dataclass(frozen=True)
class GenerationInputs:
    """What a manual generation reads under the account's lock: the account's terms,
    and either the key's first answer or the selection's engine inputs (by id, those
    that exist, whatever their account)."""

    terms: AccountTerms
    first_answer: KeptAnswer | None
    states: dict[int, SubscriptionState]


# The account's lock (taken first, as by every writer: see db/billing_store.py), its
# terms and the key's first answer if it has one, in one round trip.
_LOCK_WITH_FIRST_ANSWER = (
    select(*TERMS_COLUMNS, IdempotencyKey.fingerprint, IdempotencyKey.result)
    .select_from(Account)
    .outerjoin(
        IdempotencyKey,
        and_(IdempotencyKey.scope == GENERATION_SCOPE, IdempotencyKey.key == bindparam("key")),
    )
    .where(Account.id == bindparam("account_id"))
    .with_for_update(of=Account)
)
_KEEP_ANSWER = insert(IdempotencyKey)
_TERMS_OF_ACCOUNT = select(*TERMS_COLUMNS).where(Account.id == bindparam("account_id"))


def lock_for_generation(
    session: Session, account_id: int, key: str | None, selection: Sequence[int]
) -> GenerationInputs | None:
    """Lock the account and read a generation's inputs, in one round trip (None: no
    such account). The selection's states are read only without a first answer."""
    lock = (_LOCK_WITH_FIRST_ANSWER, {"account_id": account_id, "key": key})
    locked, rows, changes = fetch_rows(session, lock, *states_by_id_queries(session, selection))
    if not locked:
        return None
    account = locked[0]
    terms = account_terms(account)
    if account.fingerprint is not None:
        return GenerationInputs(terms, KeptAnswer(account.fingerprint, account.result), {})
    return GenerationInputs(terms, None, states_of(rows, changes, history_for(session, rows)))


def generation_preview_inputs(
    session: Session, account_id: int, selection: Sequence[int]
) -> tuple[AccountTerms, dict[int, SubscriptionState]] | None:
    """What `lock_for_generation` reads for a generation, without the lock: its preview
    (None: no such account)."""
    found, rows, changes = fetch_rows(
        session,
        (_TERMS_OF_ACCOUNT, {"account_id": account_id}),
        *states_by_id_queries(session, selection),
    )
    if not found:
        return None
    return account_terms(found[0]), states_of(rows, changes, history_for(session, rows))


def keep_generation(
    session: Session,
    actor: str,
    account_id: int,
    invoice_ids: list[int],
    kept: tuple[str, KeptAnswer] | None,
) -> None:
    """A generation's audit event and, with its key, its answer: final writes, sent
    with the issue's own (db/final_writes.py)."""
    writes = writes_of(session)
    event = event_row(
        session, actor, "invoices.generated", "account", account_id, invoices=invoice_ids
    )
    writes.insert(AuditEvent, [event])
    if kept is not None:
        writes.insert(IdempotencyKey, [_key_row(*kept)])


def keep_answer(session: Session, key: str, kept: KeptAnswer) -> None:
    """Keep `kept` as the key's first answer (refused with `is_taken` if it has one)."""
    session.connection().execute(_KEEP_ANSWER, _key_row(key, kept))


def is_taken(error: Exception) -> bool:
    """Whether `error` is a unique key's refusal: another transaction wrote it first."""
    return isinstance(error, IntegrityError)


def _key_row(key: str, kept: KeptAnswer) -> dict[str, object]:
    return {
        "scope": GENERATION_SCOPE,
        "key": key,
        "fingerprint": kept.fingerprint,
        "result": kept.answer,
        "created_at": datetime.now(UTC),
    }


# Records ------------------------------------------------------------------------------


def _record(row: InvoiceRow) -> Invoice:
    return _invoice(row, tuple(_item(item) for item in row.items))


def _record_without_items(row: InvoiceRow) -> Invoice:
    return _invoice(row, ())


def _invoice(row: InvoiceRow, items: tuple[IssuedItem, ...]) -> Invoice:
    return Invoice(
        id=row.id,
        number=row.number,
        account_id=row.account_id,
        issue_date=row.issue_date,
        due_date=row.due_date,
        currency=row.currency,
        source=row.source,
        generated_by=row.generated_by,
        billing_run_id=row.billing_run_id,
        subtotal=row.subtotal,
        tax=row.tax,
        total=row.total,
        tax_rate=row.tax_rate,
        items=items,
        type=row.type,
        status=row.status,
        paid_at=as_utc_or_none(row.paid_at),
        amount_paid=row.amount_paid,
        tax_treatment=row.tax_treatment,
        seller=None if row.seller is None else seller_of_record(row.seller),
        buyer=None if row.buyer is None else buyer_of_record(row.buyer),
        account=AccountRef(row.account.id, row.account.name),
        created_at=as_utc(row.created_at),
    )


def _item(row: ItemRow) -> IssuedItem:
    return IssuedItem(
        subscription_id=row.subscription_id,
        kind=row.kind,
        description=row.description,
        period_start=row.period_start,
        period_end=row.period_end,
        quantity=row.quantity,
        unit_price=row.unit_price,
        proration=row.proration,
        amount=row.amount,
        taxable=row.taxable,
        tax_rate=row.tax_rate,
        explanation=row.explanation,
        corrects_invoice_id=row.corrects_invoice_id,
        meter=row.meter,
        usage_quantity=row.usage_quantity,
    )
