"""Subscriptions: read as records with their account and pricing option, locked, written.

Each write is sent at once: the engine's inputs (db/billing_store.py) are read with
statements that must see it.
"""

from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, select, update
from sqlalchemy.orm import Session, aliased, joinedload

from recur.db import models
from recur.db.billing_store import lock_account
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.db.repositories.products import option_record
from recur.db.repositories.utc import as_utc
from recur.domain.accounts import Account, AccountRef
from recur.domain.catalogue import SubscriptionStatus
from recur.domain.pages import Page
from recur.domain.products import PricingOption
from recur.domain.subscriptions import SWITCH_KEEPS, Subscription, SubscriptionFilter

_T = TypeVar("_T", bound=tuple[Any, ...])
_Row = models.Subscription


def _record(row: _Row) -> Subscription:
    """The record of a row whose account, pricing option and product are loaded."""
    return Subscription(
        id=row.id,
        account=AccountRef(row.account.id, row.account.name),
        pricing_option=option_record(row.pricing_option),
        quantity=row.quantity,
        start_date=row.start_date,
        status=row.status,
        auto_renew=row.auto_renew,
        term_months=row.term_months,
        end_date=row.end_date,
        next_charge_date=row.next_charge_date,
        reconcile_from=row.reconcile_from,
        created_at=as_utc(row.created_at),
        billed_until=row.recurring_billed_until,
    )


def _with_details(query: Select[tuple[_Row]]) -> Select[tuple[_Row]]:
    """Each subscription with its account, pricing option and product, in the same query."""
    return query.options(
        joinedload(_Row.account),
        joinedload(_Row.pricing_option).joinedload(models.PricingOption.product),
    )


def account_of(session: Session, subscription_id: int) -> int | None:
    """The subscription's account; None if there is no such subscription."""
    return session.scalar(select(_Row.account_id).where(_Row.id == subscription_id))


def locked(session: Session, subscription_id: int) -> Subscription | None:
    """The subscription as it is now, its account's lock taken first (as by every
    writer, so that the order of locks never deadlocks); None if there is none."""
    account_id = account_of(session, subscription_id)
    if account_id is None:
        return None
    lock_account(session, account_id)
    row = session.scalars(
        _with_details(select(_Row).where(_Row.id == subscription_id)).execution_options(
            populate_existing=True
        )
    ).one()
    return _record(row)


def get(session: Session, subscription_id: int) -> Subscription | None:
    row = session.scalar(_with_details(select(_Row).where(_Row.id == subscription_id)))
    return None if row is None else _record(row)


def of_account(session: Session, account_id: int, ids: list[int]) -> list[Subscription]:
    """The account's subscriptions among `ids`, in id order (the account's are read and
    picked from: `ids` may be too many for an IN list)."""
    wanted = set(ids)
    query = _with_details(select(_Row).where(_Row.account_id == account_id)).order_by(_Row.id)
    return [_record(row) for row in session.scalars(query) if row.id in wanted]


_SortAccount = aliased(models.Account, name="sort_account")
SORTING = Sorting(
    {
        "id": SortField(_Row.id),
        "account": SortField(
            _SortAccount.name, join=(_SortAccount, _SortAccount.id == _Row.account_id)
        ),
        "quantity": SortField(_Row.quantity),
        "start_date": SortField(_Row.start_date),
        "status": SortField(_Row.status),
        "next_charge_date": SortField(_Row.next_charge_date, nullable=True),
        "end_date": SortField(_Row.end_date, nullable=True),
    },
    default="id",
    id=_Row.id,
)


def page(
    session: Session,
    where: SubscriptionFilter,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[Subscription]:
    query = _filtered(_with_details(select(_Row)), where)
    return paginate(session, query, limit, cursor, _record, SORTING, sort)


def table_page(
    session: Session, where: SubscriptionFilter, limit: int, cursor: str | None, sort: str | None
) -> Page[Subscription]:
    """`page`, cheaper for a table: the page's ids are found on `subscriptions` alone,
    then only those rows are loaded with their account, pricing option and product."""
    ids = paginate(session, _filtered(select(_Row.id), where), limit, cursor, int, SORTING, sort)
    rows = session.scalars(_with_details(select(_Row)).where(_Row.id.in_(ids.items)))
    by_id = {row.id: row for row in rows}
    records = [_record(by_id[i]) for i in ids.items]
    return Page(records, ids.total, ids.next_cursor, ids.prev_cursor, ids.sort)


def _filtered(query: Select[_T], where: SubscriptionFilter) -> Select[_T]:
    if where.account_id is not None:
        query = query.where(_Row.account_id == where.account_id)
    if where.status is not None:
        query = query.where(_has_status(SubscriptionStatus(where.status), where.today))
    if where.product_id is not None:
        query = query.join(models.PricingOption).where(
            models.PricingOption.product_id == where.product_id
        )
    return query


def _has_status(status: SubscriptionStatus, today: date | None) -> ColumnElement[bool]:
    """SQL for `services.subscriptions.effective_status(sub, today) == status`."""
    if status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRED):
        return _Row.status == status.value
    if today is None:
        raise ValueError("filtering on active or expired needs today's date")
    ended = and_(_Row.end_date.is_not(None), _Row.end_date <= today)
    is_active = _Row.status == SubscriptionStatus.ACTIVE.value
    return (
        and_(is_active, ended) if status is SubscriptionStatus.EXPIRED else and_(is_active, ~ended)
    )


def pricing_option(session: Session, option_id: int) -> PricingOption | None:
    """The pricing option with its product."""
    row = session.get(
        models.PricingOption, option_id, options=[joinedload(models.PricingOption.product)]
    )
    return None if row is None else option_record(row)


def switch_options(session: Session, option_id: int) -> list[PricingOption]:
    """Every option a subscription on `option_id` may switch to (that one too), with
    their products, by product: those that keep SWITCH_KEEPS of it."""
    option, own = models.PricingOption, aliased(models.PricingOption)
    # IS NOT DISTINCT FROM: an option without a billing day matches those without one.
    kept = [getattr(option, name).is_not_distinct_from(getattr(own, name)) for name in SWITCH_KEEPS]
    rows = session.scalars(
        select(option)
        .join(own, and_(own.id == option_id, *kept))
        .options(joinedload(option.product))
        .order_by(option.product_id, option.id)
    )
    return [option_record(row) for row in rows]


def add(
    session: Session,
    account: Account,
    option: PricingOption,
    quantity: int,
    start_date: date,
    auto_renew: bool,
    end_date: date | None,
) -> Subscription:
    """A new active subscription, on the option's term; nothing of it billed or scheduled."""
    row = _Row(
        account_id=account.id,
        pricing_option_id=option.id,
        quantity=quantity,
        start_date=start_date,
        auto_renew=auto_renew,
        term_months=option.term_months,
        status=SubscriptionStatus.ACTIVE.value,
        end_date=end_date,
    )
    session.add(row)
    session.flush()  # its id and created_at come back with the INSERT
    return Subscription(
        id=row.id,
        account=account.ref,
        pricing_option=option,
        quantity=quantity,
        start_date=start_date,
        status=row.status,
        auto_renew=auto_renew,
        term_months=row.term_months,
        end_date=end_date,
        next_charge_date=None,
        reconcile_from=None,
        created_at=as_utc(row.created_at),
    )


def end_service(session: Session, subscription_id: int, end_date: date) -> None:
    """Cancel the subscription: service ends on `end_date`."""
    _update(session, subscription_id, end_date=end_date, status=SubscriptionStatus.CANCELLED.value)


def correct_from(session: Session, subscription_id: int, start: date) -> None:
    """Have the engine read the billed periods from the one starting on `start`, for
    corrections (the ledger's facts before it are not read: db/billing_store.py)."""
    _update(session, subscription_id, reconcile_from=start)


def schedule(
    session: Session,
    subscription_id: int,
    reconcile_from: date | None,
    next_charge_date: date | None,
) -> None:
    """Store what the engine said of the subscription."""
    _update(
        session, subscription_id, reconcile_from=reconcile_from, next_charge_date=next_charge_date
    )


def _update(session: Session, subscription_id: int, **values: object) -> None:
    session.execute(update(_Row).where(_Row.id == subscription_id).values(**values))
