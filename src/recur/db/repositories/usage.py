"""Meters and usage records (SPEC §13)."""

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload
from sqlalchemy.types import TypeEngine

from recur.db.driver import insert_new_rows, is_postgres
from recur.db.models import Account, Meter, PricingOption, Subscription, UsageRecord
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.domain.pages import Page
from recur.domain.usage import Meter as MeterRecord
from recur.domain.usage import UsageIn, UsageTerms
from recur.domain.usage import UsageRecord as UsageRecordOut

# Ids per statement when looking records up in SQLite: far below its limit on bound
# parameters (32,766). PostgreSQL takes them all as one array.
_CHUNK = 5_000


def meters_of(
    session: Session, pricing_option_ids: Collection[int]
) -> dict[int, list[MeterRecord]]:
    """Each option's meters, in the order they were given; options without meters are absent."""
    found: dict[int, list[MeterRecord]] = {}
    rows = session.scalars(
        select(Meter)
        .where(Meter.pricing_option_id.in_(pricing_option_ids))
        .order_by(Meter.pricing_option_id, Meter.id)
    )
    for row in rows:
        found.setdefault(row.pricing_option_id, []).append(meter_record(row))
    return found


def meter_record(row: Meter) -> MeterRecord:
    return MeterRecord(row.id, row.pricing_option_id, row.code, row.name, row.unit, row.unit_price)


def usage_terms(session: Session, subscription_ids: Collection[int]) -> dict[int, UsageTerms]:
    """What the records of these subscriptions are checked against, in one query;
    unknown subscriptions are absent."""
    terms: dict[int, UsageTerms] = {}
    query = (
        select(
            Subscription.id, Subscription.start_date, Subscription.end_date, Meter.code, Meter.id
        )
        .join(PricingOption, PricingOption.id == Subscription.pricing_option_id)
        .outerjoin(Meter, Meter.pricing_option_id == PricingOption.id)
    )
    for among in _among(session, Subscription.id, subscription_ids, BigInteger()):
        for sub_id, start, end, code, meter_id in session.execute(query.where(among)):
            found = terms.setdefault(sub_id, UsageTerms(sub_id, start, end, {}))
            if code is not None:
                found.meter_ids[code] = meter_id
    return terms


def share_accounts_of(session: Session, subscription_ids: Collection[int]) -> None:
    """Take a shared lock on these subscriptions' accounts, in account order. A writer
    that bills them (a run, a generation, a cancellation) locks them for update first
    (db/billing_store.py), so it never interleaves with a batch: it sees the batch's
    records whole or not at all, and the next dates it writes account for them. Batches
    share the lock, so they never wait for each other."""
    # PostgreSQL: one statement, the accounts locked in id order. (SQLite takes no row
    # locks: its single writer already keeps billers and batches apart.)
    for among in _among(session, Subscription.id, subscription_ids, BigInteger()):
        owners = select(Subscription.account_id).where(among)
        session.execute(
            select(Account.id)
            .where(Account.id.in_(owners))
            .order_by(Account.id)
            .with_for_update(read=True)
        )


_BRING_FORWARD = (
    update(Subscription)
    .where(Subscription.id == bindparam("subscription_id"))
    .values(
        next_charge_date=case(
            (
                or_(
                    Subscription.next_charge_date.is_(None),
                    Subscription.next_charge_date > bindparam("planned"),
                ),
                bindparam("planned"),
            ),
            else_=Subscription.next_charge_date,
        )
    )
)


def bring_forward(session: Session, planned: dict[int, date]) -> None:
    """Move each subscription's next charge date to `planned` if that is earlier (or it
    had none). Decided by each row's current value, so that two batches bringing the
    same subscription forward at once keep the earlier date."""
    if planned:
        # Core's executemany: no ORM object of these rows is in the session to refresh.
        session.connection().execute(
            _BRING_FORWARD,
            [{"subscription_id": sub_id, "planned": day} for sub_id, day in planned.items()],
        )


def stored(session: Session, record_ids: Collection[str]) -> dict[str, UsageIn]:
    """The stored content of those of `record_ids` that are taken."""
    query = select(
        UsageRecord.id,
        UsageRecord.subscription_id,
        Meter.code,
        UsageRecord.quantity,
        UsageRecord.occurred_on,
    ).join(Meter, Meter.id == UsageRecord.meter_id)
    found = {}
    for among in _among(session, UsageRecord.id, record_ids, String()):
        for row in session.execute(query.where(among)):
            found[row[0]] = UsageIn(*row)
    return found


def add_records(
    session: Session, records: Sequence[tuple[UsageIn, int]], received_on: date
) -> set[str]:
    """Store each (record, meter id) whose id is free, in one statement; the ids stored.
    An id taken meanwhile by another transaction is skipped (see driver.insert_new_rows)."""
    return insert_new_rows(
        session,
        UsageRecord,
        [
            {
                "id": record.id,
                "subscription_id": record.subscription_id,
                "meter_id": meter_id,
                "quantity": record.quantity,
                "occurred_on": record.occurred_on,
                "received_on": received_on,
            }
            for record, meter_id in records
        ],
    )


_SORTING = Sorting(
    {"occurred_on": SortField(UsageRecord.occurred_on)}, default="occurred_on", id=UsageRecord.id
)


def records_page(
    session: Session,
    subscription_id: int,
    occurred_from: date | None,
    occurred_to: date | None,
    limit: int,
    cursor: str | None,
) -> Page[UsageRecordOut]:
    """A subscription's records by the day they occurred (both bounds included)."""
    query = (
        select(UsageRecord)
        .where(UsageRecord.subscription_id == subscription_id)
        .options(joinedload(UsageRecord.meter), joinedload(UsageRecord.invoice_item))
    )
    if occurred_from is not None:
        query = query.where(UsageRecord.occurred_on >= occurred_from)
    if occurred_to is not None:
        query = query.where(UsageRecord.occurred_on <= occurred_to)
    return paginate(session, query, limit, cursor, _record, _SORTING)


def newest_records(
    session: Session, subscription_id: int, since: date, limit: int
) -> list[UsageRecordOut]:
    """A subscription's newest records (by the day they occurred) from `since` on."""
    query = (
        select(UsageRecord)
        .where(UsageRecord.subscription_id == subscription_id, UsageRecord.occurred_on >= since)
        .options(joinedload(UsageRecord.meter), joinedload(UsageRecord.invoice_item))
        .order_by(UsageRecord.occurred_on.desc(), UsageRecord.id.desc())
        .limit(limit)
    )
    return [_record(row) for row in session.scalars(query)]


def _record(row: UsageRecord) -> UsageRecordOut:
    return UsageRecordOut(
        id=row.id,
        subscription_id=row.subscription_id,
        meter=row.meter.code,
        unit=row.meter.unit,
        quantity=row.quantity,
        occurred_on=row.occurred_on,
        received_on=row.received_on,
        invoice_id=None if row.invoice_item is None else row.invoice_item.invoice_id,
    )


def daily_totals(
    session: Session, subscription_id: int, since: date
) -> list[tuple[MeterRecord, date, Decimal, int]]:
    """Per meter and day from `since` on: (meter, day, sum of quantities, records)."""
    query: Select[tuple[Meter, date, Decimal, int]] = (
        select(
            Meter,
            UsageRecord.occurred_on,
            func.sum(UsageRecord.quantity),
            func.count(),
        )
        .join(Meter, Meter.id == UsageRecord.meter_id)
        .where(UsageRecord.subscription_id == subscription_id, UsageRecord.occurred_on >= since)
        .group_by(Meter.id, UsageRecord.occurred_on)
        .order_by(UsageRecord.occurred_on)
    )
    return [
        (meter_record(meter), day, total, count)
        for meter, day, total, count in session.execute(query)
    ]


_Id = TypeVar("_Id", int, str)


def _among(
    session: Session,
    column: InstrumentedAttribute[_Id],
    values: Collection[_Id],
    element: TypeEngine[_Id],
) -> list[ColumnElement[bool]]:
    """Conditions that together select the rows whose `column` is in `values`, in
    ascending order of values: on PostgreSQL one `= ANY(array)` (a statement of ten
    thousand placeholders costs more to build and parse than to run), in SQLite an
    `IN` per chunk."""
    ordered = sorted(values)
    if not ordered:
        return []
    if is_postgres(session):
        return [column == any_(bindparam(None, ordered, type_=ARRAY(element)))]
    return [column.in_(ordered[i : i + _CHUNK]) for i in range(0, len(ordered), _CHUNK)]
