"""Customer accounts: reading, locking and writing them, and what the lists show of them."""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from recur.db import billing_store
from recur.db.models import Account as AccountRow
from recur.db.models import Invoice, Subscription
from recur.db.repositories.identity import address_of, with_address_columns
from recur.db.repositories.invoices import OPEN_STATUSES
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.db.repositories.utc import as_utc
from recur.domain.accounts import Account, AccountSummary
from recur.domain.catalogue import AccountStatus, SubscriptionStatus
from recur.domain.pages import Page


def _record(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        email=row.email,
        currency=row.currency,
        billing_day=row.billing_day,
        partial_charges=row.partial_charges,
        invoice_grouping=row.invoice_grouping,
        payment_terms_days=row.payment_terms_days,
        tax_rate=row.tax_rate,
        status=row.status,
        created_at=as_utc(row.created_at),
        billing_address=address_of(row),
        tax_id=row.tax_id,
        tax_treatment=row.tax_treatment,
        tax_exemption_reason=row.tax_exemption_reason,
        billing_email=row.billing_email,
        cc_emails=tuple(row.cc_emails),
        auto_send=row.auto_send,
    )


def get_account(session: Session, account_id: int) -> Account | None:
    row = session.get(AccountRow, account_id)
    return None if row is None else _record(row)


def lock_account(session: Session, account_id: int) -> Account | None:
    """The account, its row lock held until the transaction ends: the first lock of
    every writer (db/billing_store.py's protocol), so no two writers of an account
    interleave."""
    row = billing_store.lock_account(session, account_id)
    return None if row is None else _record(row)


def add_account(session: Session, values: Mapping[str, Any]) -> Account:
    """A new active account from validated column values."""
    row = AccountRow(
        **with_address_columns(values, "billing_address"), status=AccountStatus.ACTIVE.value
    )
    session.add(row)
    session.flush()
    return _record(row)


def update_account(session: Session, account_id: int, changes: Mapping[str, Any]) -> Account:
    """Write validated column values (lock the account first)."""
    row = session.get_one(AccountRow, account_id)
    for key, value in with_address_columns(changes, "billing_address").items():
        setattr(row, key, value)
    session.flush()
    return _record(row)


SORTING = Sorting(
    {
        "name": SortField(AccountRow.name),
        "email": SortField(AccountRow.email),
        "currency": SortField(AccountRow.currency),
        "billing_day": SortField(AccountRow.billing_day, nullable=True),
        "status": SortField(AccountRow.status),
        "id": SortField(AccountRow.id),
    },
    default="name",
    id=AccountRow.id,
)


def list_accounts(
    session: Session, search: str | None, limit: int, cursor: str | None, sort: str | None
) -> Page[Account]:
    """Accounts in `sort` order (by name by default); with `search`, those whose name
    or e-mail contains it (case-insensitive, `%` and `_` taken literally)."""
    query = select(AccountRow)
    if search:
        query = query.where(
            or_(
                AccountRow.name.icontains(search, autoescape=True),
                AccountRow.email.icontains(search, autoescape=True),
            )
        )
    return paginate(session, query, limit, cursor, _record, SORTING, sort)


def accounts_named(session: Session, name: str, limit: int) -> list[Account]:
    """Up to `limit` accounts named `name`, case-insensitively."""
    # The name is matched as it is: its % and _ are not wildcards.
    literal = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(AccountRow).where(AccountRow.name.ilike(literal, escape="\\")).limit(limit)
    return [_record(row) for row in session.scalars(query)]


def account_names(session: Session) -> list[str]:
    """Every account's name (for suggesting the nearest to a name that matches none)."""
    return list(session.scalars(select(AccountRow.name)))


def subscription_counts(session: Session, account_id: int) -> tuple[int, int]:
    """(subscriptions, those ever invoiced) of an account: one aggregate query."""
    invoiced = or_(
        Subscription.recurring_billed_until.is_not(None),
        Subscription.setup_billed,
        Subscription.one_time_billed,
    )
    total, billed = session.execute(
        select(func.count(), func.count(case((invoiced, 1)))).where(
            Subscription.account_id == account_id
        )
    ).one()
    return int(total), int(billed)


def set_next_charge_dates(session: Session, next_dates: Mapping[int, date | None]) -> None:
    """Write each subscription's (by id) planned next charge date, in one batch."""
    if next_dates:
        session.execute(
            update(Subscription),
            [{"id": sub_id, "next_charge_date": day} for sub_id, day in next_dates.items()],
        )


def account_summaries(session: Session, account_ids: Sequence[int]) -> dict[int, AccountSummary]:
    """Open balance and next invoice date of a page of accounts: two grouped queries, not 2×N."""
    if not account_ids:
        return {}
    balances: dict[int, Decimal] = {
        account_id: Decimal(total or 0) - Decimal(paid or 0)
        for account_id, total, paid in session.execute(
            select(Invoice.account_id, func.sum(Invoice.total), func.sum(Invoice.amount_paid))
            .where(Invoice.account_id.in_(account_ids), Invoice.status.in_(OPEN_STATUSES))
            .group_by(Invoice.account_id)
        ).tuples()
    }
    next_dates: dict[int, date | None] = dict(
        session.execute(
            select(Subscription.account_id, func.min(Subscription.next_charge_date))
            .where(
                Subscription.account_id.in_(account_ids),
                Subscription.status != SubscriptionStatus.SUSPENDED,
            )
            .group_by(Subscription.account_id)
        )
        .tuples()
        .all()
    )
    return {
        account_id: AccountSummary(
            Decimal(balances.get(account_id) or 0), next_dates.get(account_id)
        )
        for account_id in account_ids
    }


def account_counts(session: Session, account_id: int) -> tuple[int, int]:
    """(invoices issued, subscriptions) of an account: two counts on indexed columns."""
    invoices = session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.account_id == account_id)
    )
    subs = session.scalar(
        select(func.count()).select_from(Subscription).where(Subscription.account_id == account_id)
    )
    return int(invoices or 0), int(subs or 0)
