"""Forecast jobs and their documents (SPEC §19)."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from recur.db.models import ForecastDocument
from recur.db.models import ForecastJob as JobRow
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.db.repositories.utc import as_utc, as_utc_or_none
from recur.domain.forecast_jobs import ForecastJob
from recur.domain.issued import IssuedInvoice, from_record, to_record
from recur.domain.pages import Page


def start(session: Session, as_of: date, months: int, requested_by: str, now: datetime) -> int:
    row = JobRow(
        as_of=as_of,
        months=months,
        requested_by=requested_by,
        status="running",
        started_at=now,
        documents=0,
    )
    session.add(row)
    session.flush()
    return row.id


def add_documents(
    session: Session, job_id: int, first: int, documents: Sequence[IssuedInvoice]
) -> None:
    """Write `documents` at positions from `first` on."""
    if not documents:
        return
    rows: list[dict[str, Any]] = [
        {
            "job_id": job_id,
            "position": first + n,
            "account_id": doc.account_id,
            "issue_date": doc.issue_date,
            "type": doc.type,
            "currency": doc.currency,
            "subtotal": doc.subtotal,
            "tax": doc.tax,
            "total": doc.total,
            "record": to_record(doc),
        }
        for n, doc in enumerate(documents)
    ]
    session.execute(insert(ForecastDocument), rows)


def finish(
    session: Session, job_id: int, status: str, documents: int, now: datetime, error: str | None
) -> None:
    session.execute(
        update(JobRow)
        .where(JobRow.id == job_id)
        .values(status=status, documents=documents, finished_at=now, error=error)
    )


def by_id(session: Session, job_id: int) -> ForecastJob | None:
    row = session.get(JobRow, job_id)
    if row is None:
        return None
    return ForecastJob(
        row.id,
        row.as_of,
        row.months,
        row.requested_by,
        row.status,
        as_utc(row.started_at),
        as_utc_or_none(row.finished_at),
        row.documents,
        row.error,
    )


def documents(session: Session, job_id: int, after: int, limit: int) -> list[IssuedInvoice]:
    """Up to `limit` documents after position `after`, in issue order (numbers empty)."""
    rows = session.scalars(
        select(ForecastDocument.record)
        .where(ForecastDocument.job_id == job_id, ForecastDocument.position > after)
        .order_by(ForecastDocument.position)
        .limit(limit)
    )
    return [from_record(dict(record)) for record in rows]


# A job's documents page in issue order only; `position` is unique within a job.
_SORTING = Sorting(
    {"position": SortField(ForecastDocument.position)}, "position", ForecastDocument.position
)


def page(session: Session, job_id: int, limit: int, cursor: str | None) -> Page[IssuedInvoice]:
    query = select(ForecastDocument.record).where(ForecastDocument.job_id == job_id)
    return paginate(session, query, limit, cursor, _document, _SORTING)


def _document(record: dict[str, Any]) -> IssuedInvoice:
    return from_record(dict(record))


def totals_per_day(session: Session, job_id: int) -> list[tuple[str, date, Decimal]]:
    """(currency, issue date, sum of totals) of the job's documents."""
    rows = session.execute(
        select(
            ForecastDocument.currency, ForecastDocument.issue_date, func.sum(ForecastDocument.total)
        )
        .where(ForecastDocument.job_id == job_id)
        .group_by(ForecastDocument.currency, ForecastDocument.issue_date)
    ).all()
    return [(currency, day, Decimal(total)) for currency, day, total in rows]
