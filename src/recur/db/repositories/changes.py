"""A subscription's changes (SPEC §10), as records of what they set from their date."""

from datetime import date, datetime

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from recur.db.models import SubscriptionChange as _Row
from recur.db.repositories.utc import as_utc
from recur.domain.subscriptions import SubscriptionChange, withdrawable


def _record(row: _Row, today: date) -> SubscriptionChange:
    return SubscriptionChange(
        id=row.id,
        subscription_id=row.subscription_id,
        effective_date=row.effective_date,
        quantity=row.quantity,
        pricing_option_id=row.pricing_option_id,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
        withdrawable=withdrawable(row.effective_date, today),
    )


def of_subscription(
    session: Session, subscription_id: int, today: date
) -> list[SubscriptionChange]:
    """The subscription's changes in the order they apply, as of `today`."""
    rows = session.scalars(
        select(_Row)
        .where(_Row.subscription_id == subscription_id)
        .order_by(_Row.effective_date, _Row.id)
    )
    return [_record(row, today) for row in rows]


def get(
    session: Session, subscription_id: int, change_id: int, today: date
) -> SubscriptionChange | None:
    """The subscription's change `change_id` as of `today`; None if it has no such change."""
    row = session.get(_Row, change_id)
    if row is None or row.subscription_id != subscription_id:
        return None
    return _record(row, today)


def add(
    session: Session,
    subscription_id: int,
    effective_date: date,
    quantity: int | None,
    pricing_option_id: int | None,
    created_at: datetime,
    created_by: str,
    today: date,
) -> SubscriptionChange:
    """Record a change, as of `today`."""
    row = _Row(
        subscription_id=subscription_id,
        effective_date=effective_date,
        quantity=quantity,
        pricing_option_id=pricing_option_id,
        created_at=created_at,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return _record(row, today)


def delete(session: Session, change_id: int) -> None:
    session.execute(sql_delete(_Row).where(_Row.id == change_id))
