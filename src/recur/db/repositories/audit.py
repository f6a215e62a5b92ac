"""The audit trail's reads: pages of events, newest first, as domain records."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from recur.db.models import AuditEvent as EventRow
from recur.db.models import Invoice, Payment, Subscription
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.db.repositories.utc import as_utc
from recur.domain.audit import AuditEvent, AuditFilter, Door
from recur.domain.pages import Page

# An account's own documents: their events are part of its activity.
_OWNED_BY_ACCOUNT: tuple[tuple[str, Any], ...] = (
    ("subscription", Subscription),
    ("invoice", Invoice),
    ("payment", Payment),
)


# Newest first; ids grow with time, and the id is the index every filter ends on.
_SORTING = Sorting({"id": SortField(EventRow.id)}, "-id", EventRow.id)


def page(session: Session, where: AuditFilter, limit: int, cursor: str | None) -> Page[AuditEvent]:
    return paginate(session, _filtered(where), limit, cursor, _record, _SORTING)


def _filtered(where: AuditFilter) -> Select[tuple[EventRow]]:
    query = select(EventRow)
    if where.subject_type is not None:
        query = query.where(_subject(where))
    elif where.subject_id is not None:
        query = query.where(EventRow.subject_id == where.subject_id)
    if where.actor is not None:
        query = query.where(EventRow.actor == where.actor)
    if where.action is not None:
        query = query.where(EventRow.action == where.action)
    if where.occurred_from is not None:
        query = query.where(EventRow.occurred_at >= _midnight(where.occurred_from))
    if where.occurred_to is not None:
        query = query.where(EventRow.occurred_at < _midnight(where.occurred_to + timedelta(1)))
    return query


def _subject(where: AuditFilter) -> ColumnElement[bool]:
    own = EventRow.subject_type == where.subject_type
    if where.subject_id is not None:
        own = and_(own, EventRow.subject_id == where.subject_id)
    if not (where.with_account_documents and where.subject_type == "account"):
        return own
    return or_(
        own,
        *(
            and_(
                EventRow.subject_type == kind,
                EventRow.subject_id.in_(
                    select(model.id).where(model.account_id == where.subject_id)
                ),
            )
            for kind, model in _OWNED_BY_ACCOUNT
        ),
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _record(row: EventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        occurred_at=as_utc(row.occurred_at),
        actor=row.actor,
        door=Door(row.door),
        action=row.action,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        detail=row.detail,
    )
