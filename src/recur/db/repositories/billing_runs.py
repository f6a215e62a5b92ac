"""Billing runs: their record, its counters and heartbeat, and the accounts a batch bills."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from recur.db.billing_store import TERMS_COLUMNS, account_terms
from recur.db.models import Account
from recur.db.models import BillingRun as RunRow
from recur.db.models import BillingRunError as ErrorRow
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.db.repositories.utc import as_utc, as_utc_or_none
from recur.domain.billing_runs import BillingRun, BillingRunError
from recur.domain.invoices import AccountTerms
from recur.domain.pages import Page

# Core, not the ORM: a batch reads the terms of hundreds of accounts.
_TERMS_OF = select(*TERMS_COLUMNS).where(Account.id.in_(bindparam("ids", expanding=True)))


def terms_of_accounts(session: Session, account_ids: Sequence[int]) -> list[AccountTerms]:
    """The terms of these accounts (a batch's, locked when it claimed them)."""
    rows = session.connection().execute(_TERMS_OF, {"ids": list(account_ids)})
    return [account_terms(row) for row in rows]


def start(session: Session, as_of: date, worker: str, triggered_by: str, now: datetime) -> int:
    """Record a run started `now`, running; its id."""
    run = RunRow(
        as_of=as_of,
        worker=worker,
        triggered_by=triggered_by,
        status="running",
        started_at=now,
        heartbeat_at=now,
        accounts_processed=0,
        invoices_issued=0,
        charges_issued=0,
        errors_count=0,
    )
    session.add(run)
    session.flush()
    return run.id


def close_silent(session: Session, now: datetime, silent_after: timedelta) -> None:
    """Runs still "running" whose heart has been silent `silent_after` are interrupted,
    ended at their last beat."""
    last_beat = func.coalesce(RunRow.heartbeat_at, RunRow.started_at)
    session.execute(
        update(RunRow)
        .where(RunRow.status == "running", last_beat < now - silent_after)
        .values(status="interrupted", finished_at=last_beat)
    )


def count_batch(
    session: Session, run_id: int, accounts: int, invoices: int, charges: int, now: datetime
) -> None:
    """Add a batch's figures to the run's, and beat its heart."""
    session.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(
            accounts_processed=RunRow.accounts_processed + accounts,
            invoices_issued=RunRow.invoices_issued + invoices,
            charges_issued=RunRow.charges_issued + charges,
            heartbeat_at=now,
        )
    )


def add_error(
    session: Session, run_id: int, account_id: int, code: str, message: str, now: datetime
) -> None:
    """Record an account the run could not bill, and count it."""
    session.add(
        ErrorRow(
            billing_run_id=run_id,
            account_id=account_id,
            code=code,
            message=message,
            occurred_at=now,
        )
    )
    session.execute(
        update(RunRow).where(RunRow.id == run_id).values(errors_count=RunRow.errors_count + 1)
    )


def beat(session: Session, run_id: int, now: datetime) -> None:
    """The heartbeat of a run that is still running."""
    session.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.status == "running")
        .values(heartbeat_at=now)
    )


def finish(session: Session, run_id: int, status: str, now: datetime) -> None:
    session.execute(
        update(RunRow).where(RunRow.id == run_id).values(status=status, finished_at=now)
    )


def by_id(session: Session, run_id: int) -> BillingRun | None:
    row = session.scalar(
        select(RunRow).where(RunRow.id == run_id).options(selectinload(RunRow.errors))
    )
    return None if row is None else _record(row)


SORTING = Sorting(
    {
        "id": SortField(RunRow.id),
        "as_of": SortField(RunRow.as_of),
        "started_at": SortField(RunRow.started_at),
        "invoices_issued": SortField(RunRow.invoices_issued),
        "errors_count": SortField(RunRow.errors_count),
    },
    default="-id",
    id=RunRow.id,
)


def page(session: Session, limit: int, cursor: str | None, sort: str | None) -> Page[BillingRun]:
    """One page of the runs in `sort` order (newest first by default), each with its errors."""
    query = select(RunRow).options(selectinload(RunRow.errors))
    return paginate(session, query, limit, cursor, _record, SORTING, sort)


def _record(row: RunRow) -> BillingRun:
    return BillingRun(
        id=row.id,
        as_of=row.as_of,
        worker=row.worker,
        triggered_by=row.triggered_by,
        status=row.status,
        started_at=as_utc(row.started_at),
        finished_at=as_utc_or_none(row.finished_at),
        heartbeat_at=as_utc_or_none(row.heartbeat_at),
        accounts_processed=row.accounts_processed,
        invoices_issued=row.invoices_issued,
        charges_issued=row.charges_issued,
        errors_count=row.errors_count,
        errors=tuple(
            BillingRunError(e.account_id, e.code, e.message, as_utc(e.occurred_at))
            for e in row.errors
        ),
    )
