"""Forecasts (SPEC §19): every document the engine would issue over the next months if
nothing changed and every run happened on time, for an account or the whole book.

The same inputs as the preview and the billing run, played forward in memory
(domain/forecast.py); the whole book's is a background job whose documents are
kept in the database and read when ready.
"""

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from recur.db import audit
from recur.db.billing_store import history_for, preview_inputs, preview_queries, subscription_states
from recur.db.repositories import billing_runs, forecasts, metrics
from recur.db.rows import fetch_rows
from recur.db.session import Database
from recur.domain.calendar import add_months
from recur.domain.catalogue import InvoiceSource
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.forecast import forecast_invoices
from recur.domain.forecast_jobs import ForecastJob
from recur.domain.invoices import PendingInvoice
from recur.domain.issued import IssuedInvoice, issued_invoice
from recur.domain.metrics import MonthFigure, month_totals
from recur.domain.pages import Page
from recur.services.offload import Offload, database_url, opened

log = logging.getLogger("recur.forecast")

MAX_MONTHS = 24
BATCH = 250  # accounts read at a time, as a billing run claims them
DOCUMENTS_PAGE = 500  # documents of a job read at a time


def check_months(months: int) -> None:
    """A forecast looks 1 to MAX_MONTHS months ahead (every door)."""
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput("months_out_of_range", f"months must be from 1 to {MAX_MONTHS}")


def horizon(today: date, months: int) -> date:
    """The first day after a forecast of `months` months from `today`."""
    return add_months(today, months)


def account_forecast(
    db: Database, account_id: int, today: date, months: int = 12
) -> list[PendingInvoice]:
    """The account's documents from today for `months` months, in issue order."""
    check_months(months)
    with db.read() as session:
        fetched = fetch_rows(session, *preview_queries(account_id))
        inputs = preview_inputs(fetched, history_for(session, fetched[1]))
    if inputs is None:
        raise NotFound("account_not_found", f"account {account_id} does not exist")
    terms, owing = inputs
    return forecast_invoices(terms, [state for state, _ in owing], today, horizon(today, months))


def book_documents(
    session: Session, today: date, until: date, currency: str | None = None
) -> Iterator[PendingInvoice]:
    """Every account's forecast documents issued before `until` (of one currency), by
    account, read BATCH accounts at a time. Only the subscriptions whose next charge
    falls before `until` are read: the engine issues nothing for the others by then."""
    due_by = until - timedelta(days=1)
    ids = metrics.account_ids(session, due_by, currency)
    for first in range(0, len(ids), BATCH):
        batch = ids[first : first + BATCH]
        states = subscription_states(session, batch, due_by=due_by)
        for account in billing_runs.terms_of_accounts(session, batch):
            owing = states.get(account.account_id)
            if owing:
                yield from forecast_invoices(account, owing, today, until)


@audit.action
def start_book_forecast(db: Database, today: date, months: int, actor: str) -> ForecastJob:
    """Record a whole-book forecast job and compute it in a child process (off the
    server's interpreter, services/offload.py); the job is `running` until its
    documents are all written."""
    check_months(months)

    def work(session: Session) -> int:
        job_id = forecasts.start(session, today, months, actor, datetime.now(UTC))
        audit.record(session, actor, "forecast.started", "forecast_job", job_id, months=months)
        return job_id

    job_id = db.run(work)
    _children.submit(book_forecast_in_child, (database_url(db), job_id), _lost)
    return get_job(db, job_id)


# One job at a time: each keeps a core busy for minutes on a large book.
_children = Offload("book forecast")


def book_forecast_in_child(url: str, job_id: int) -> None:
    """`run_book_forecast`, in a child process."""
    with opened(url) as db:
        run_book_forecast(db, job_id)


def _lost(error: BaseException) -> None:
    # Only if the child could not run the job at all (it records its own failures on
    # the job): the job is left `running`, as when the server stops mid-job.
    log.error("forecast job not run", extra={"error": str(error)})


def run_book_forecast(db: Database, job_id: int) -> None:
    """Compute the job's documents and write them, then mark it done (or failed)."""
    job = get_job(db, job_id)
    written = 0
    try:
        with db.read() as session:
            until = horizon(job.as_of, job.months)
            pending: list[PendingInvoice] = []
            for document in book_documents(session, job.as_of, until):
                pending.append(document)
                if len(pending) >= DOCUMENTS_PAGE:
                    written += _write(db, job_id, written, pending)
            written += _write(db, job_id, written, pending)
        _finish(db, job_id, "done", written, None)
    except Exception as error:  # recorded on the job: whoever asked reads it there
        log.exception("forecast job failed", extra={"job_id": job_id})
        _finish(db, job_id, "failed", written, str(error)[:2000])


def _write(db: Database, job_id: int, first: int, pending: list[PendingInvoice]) -> int:
    batch = list(pending)
    pending.clear()
    db.run(lambda session: forecasts.add_documents(session, job_id, first, list(as_issued(batch))))
    return len(batch)


def _finish(db: Database, job_id: int, status: str, written: int, error: str | None) -> None:
    now = datetime.now(UTC)
    db.run(lambda session: forecasts.finish(session, job_id, status, written, now, error))


def get_job(db: Database, job_id: int) -> ForecastJob:
    with db.read() as session:
        job = forecasts.by_id(session, job_id)
    if job is None:
        raise NotFound("forecast_job_not_found", f"forecast job {job_id} does not exist")
    return job


def job_documents(db: Database, job_id: int) -> Iterator[IssuedInvoice]:
    """A finished job's documents in issue order, read a page at a time."""
    after = -1
    while True:
        with db.read() as session:
            page = forecasts.documents(session, job_id, after, DOCUMENTS_PAGE)
        yield from page
        if len(page) < DOCUMENTS_PAGE:
            return
        after += len(page)


def job_month_totals(db: Database, job_id: int) -> dict[str, list[MonthFigure]]:
    """Per currency, a finished job's totals per month, months in order."""
    _done(db, job_id)
    with db.read() as session:
        per_day = forecasts.totals_per_day(session, job_id)
    days: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for currency, day, total in per_day:
        days[currency].append((day, total))
    return {currency: month_totals(days[currency], currency) for currency in sorted(days)}


def _done(db: Database, job_id: int) -> ForecastJob:
    job = get_job(db, job_id)
    if job.status != "done":
        raise Conflict(
            "forecast_not_ready",
            f"forecast job {job_id} is {job.status}: its documents are read once it is done",
        )
    return job


def job_page(
    db: Database, job_id: int, limit: int = 50, cursor: str | None = None
) -> Page[IssuedInvoice]:
    """A page of a finished job's documents, in issue order."""
    _done(db, job_id)
    with db.read() as session:
        return forecasts.page(session, job_id, limit, cursor)


def finished_documents(db: Database, job_id: int) -> Iterator[IssuedInvoice]:
    """A finished job's documents, all of them, for an export (refused at once, before
    any is read, when the job is not done)."""
    _done(db, job_id)
    return job_documents(db, job_id)


def as_issued(documents: Sequence[PendingInvoice]) -> Iterator[IssuedInvoice]:
    """Forecast documents as documents of a job hold them (no number yet)."""
    return (issued_invoice(0, "", d, InvoiceSource.AUTOMATIC) for d in documents)
