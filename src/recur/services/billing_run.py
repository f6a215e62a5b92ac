"""The Billing Service's run: issue every charge due by a date, exactly once (SPEC §6).

Accounts are claimed in batches with FOR UPDATE SKIP LOCKED, so several workers
share one as-of date without waiting on each other, and a manual generation
holding an account is skipped and picked up once it commits. A batch is one
transaction; if it fails, its accounts are retried one by one so that one bad
account is recorded and the others are issued.
"""

import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from recur.db.billing_store import (
    account_terms,
    claim_due_accounts,
    issue_invoices,
    subscription_states,
)
from recur.db.models import Account, BillingRun, BillingRunError
from recur.db.repositories.pages import paginate
from recur.db.session import Database
from recur.domain.catalogue import InvoiceSource
from recur.domain.errors import DomainError, InvalidInput, NotFound
from recur.domain.invoices import PendingInvoice, SubscriptionState, due_invoices
from recur.domain.pages import Page
from recur.services.run_heartbeat import SILENT_AFTER, beating
from recur.services.validation import check_day

log = logging.getLogger("recur.billing")

BATCH_SIZE = 250  # accounts per transaction: fewer round trips, locks held a fraction of a second


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_billing(
    db: Database,
    as_of: date,
    today: date,
    triggered_by: str,
    batch_size: int = BATCH_SIZE,
    should_stop: Callable[[], bool] = lambda: False,
) -> BillingRun:
    """Issue every pending charge planned on or before `as_of`, dated `as_of`.

    Idempotent: a second run for the same date finds nothing due. `should_stop`
    is checked between batches (a worker's SIGTERM finishes the batch in hand).
    """
    check_day(as_of, "as_of")
    if as_of > today:
        raise InvalidInput(
            "as_of_in_future", f"as_of {as_of.isoformat()} is after today ({today.isoformat()})"
        )
    run_id = _start_run(db, as_of, triggered_by)
    failed: set[int] = set()
    claims: Counter[int] = Counter()
    twice: set[int] = set()
    # Batches sweep the accounts in id order from `after`, so that no claim rescans
    # the accounts already billed; an empty sweep starts again from the first.
    after: int | None = None
    interrupted = False
    try:
        with beating(db, run_id):
            while True:
                if should_stop():
                    interrupted = True
                    break
                # An account comes back only if something became due while we ran
                # (say, a back-dated order); twice is enough, never loop on one.
                skip = failed | twice
                claimed = _bill_batch(db, run_id, as_of, batch_size, skip, failed, after=after)
                if not claimed and after is not None:
                    after = None  # the end of this sweep: look again from the first account
                    continue
                if not claimed:
                    # SKIP LOCKED passed over accounts others hold (a manual generation, another
                    # worker): wait for them; once released, whatever is still due is billed.
                    claimed = _bill_batch(db, run_id, as_of, batch_size, skip, failed, wait=True)
                if not claimed:
                    break
                claims.update(claimed)
                twice.update(a for a in claimed if claims[a] >= 2)
                after = max(claimed)
    except BaseException:
        _finish_run(db, run_id, "failed")
        raise
    run = _finish_run(db, run_id, "interrupted" if interrupted else "completed")
    log.info(
        "billing run finished",
        extra={
            "run_id": run.id,
            "as_of": as_of.isoformat(),
            "status": run.status,
            "accounts": run.accounts_processed,
            "invoices": run.invoices_issued,
            "charges": run.charges_issued,
            "errors": run.errors_count,
        },
    )
    return run


def _bill_batch(
    db: Database,
    run_id: int,
    as_of: date,
    batch_size: int,
    skip: set[int],
    failed: set[int],
    wait: bool = False,
    after: int | None = None,
) -> list[int]:
    """Claim and bill one batch (of accounts after `after`); returns the claimed account
    ids (empty: none left)."""
    claimed: list[int] = []

    def work(session: Session) -> None:
        claimed[:] = claim_due_accounts(
            session, as_of, batch_size, skip=skip, wait=wait, after=after
        )
        if claimed:
            _issue_due(session, run_id, claimed, as_of, failed)

    try:
        db.run(work)
    except Exception:  # a database failure in the batch: isolate the account that causes it
        log.warning("batch failed, billing its accounts one by one", extra={"run_id": run_id})
        for account_id in claimed:
            _bill_one(db, run_id, account_id, as_of, failed)
    return claimed


def _bill_one(db: Database, run_id: int, account_id: int, as_of: date, failed: set[int]) -> None:
    try:
        db.run(lambda session: _issue_due(session, run_id, [account_id], as_of, failed))
    except Exception as error:
        _record_failure(db, run_id, account_id, error, failed)


def _issue_due(
    session: Session, run_id: int, account_ids: Sequence[int], as_of: date, failed: set[int]
) -> None:
    states = subscription_states(session, account_ids, due_by=as_of)
    accounts = session.scalars(select(Account).where(Account.id.in_(account_ids)))
    drafts: list[PendingInvoice] = []
    for account in accounts:
        try:
            drafts.extend(plan_account(account, states.get(account.id, []), as_of))
        except Exception as error:  # an engine failure is this account's alone
            _record_failure_in(session, run_id, account.id, error, failed)
    by_sub = {
        terms.subscription_id: (terms, billed) for subs in states.values() for terms, billed in subs
    }
    session.execute(
        update(BillingRun)
        .where(BillingRun.id == run_id)
        .values(
            accounts_processed=BillingRun.accounts_processed + len(account_ids),
            invoices_issued=BillingRun.invoices_issued + len(drafts),
            charges_issued=BillingRun.charges_issued + sum(len(d.items) for d in drafts),
            heartbeat_at=datetime.now(UTC),
        )
    )
    # Its writes go with the COMMIT, numbers last (db/final_writes.py).
    issue_invoices(session, drafts, by_sub, InvoiceSource.AUTOMATIC, billing_run_id=run_id)


def plan_account(
    account: Account, states: list[SubscriptionState], as_of: date
) -> list[PendingInvoice]:
    """The invoices a run issues for one account (a seam for tests to inject failures)."""
    return due_invoices(account_terms(account), states, as_of)


def _record_failure(
    db: Database, run_id: int, account_id: int, error: Exception, failed: set[int]
) -> None:
    db.run(lambda session: _record_failure_in(session, run_id, account_id, error, failed))


def _record_failure_in(
    session: Session, run_id: int, account_id: int, error: Exception, failed: set[int]
) -> None:
    failed.add(account_id)
    code = error.code if isinstance(error, DomainError) else type(error).__name__
    log.error(
        "billing failed for an account",
        extra={"run_id": run_id, "account_id": account_id, "error": str(error)},
    )
    session.add(
        BillingRunError(
            billing_run_id=run_id,
            account_id=account_id,
            code=code,
            message=str(error)[:2000],
            occurred_at=datetime.now(UTC),
        )
    )
    session.execute(
        update(BillingRun)
        .where(BillingRun.id == run_id)
        .values(errors_count=BillingRun.errors_count + 1)
    )


def _start_run(db: Database, as_of: date, triggered_by: str) -> int:
    def work(session: Session) -> int:
        now = datetime.now(UTC)
        _close_abandoned_runs(session, now)
        run = BillingRun(
            as_of=as_of,
            worker=worker_name(),
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

    return db.run(work)


def _close_abandoned_runs(session: Session, now: datetime) -> None:
    """Runs whose worker was killed or cut off stay "running" with a silent heart
    (services/run_heartbeat.py): mark them interrupted, ended at their last beat. Their
    whole batches stand; this run bills whatever they left."""
    last_beat = func.coalesce(BillingRun.heartbeat_at, BillingRun.started_at)
    session.execute(
        update(BillingRun)
        .where(BillingRun.status == "running", last_beat < now - SILENT_AFTER)
        .values(status="interrupted", finished_at=last_beat)
    )


def _finish_run(db: Database, run_id: int, status: str) -> BillingRun:
    def work(session: Session) -> None:
        session.execute(
            update(BillingRun)
            .where(BillingRun.id == run_id)
            .values(status=status, finished_at=datetime.now(UTC))
        )

    db.run(work)
    return get_billing_run(db, run_id)


def get_billing_run(db: Database, run_id: int) -> BillingRun:
    with db.read() as session:
        run = session.scalar(
            select(BillingRun)
            .where(BillingRun.id == run_id)
            .options(selectinload(BillingRun.errors))
        )
        if run is None:
            raise NotFound("billing_run_not_found", f"billing run {run_id} does not exist")
        return run


def list_billing_runs(db: Database, limit: int = 50, cursor: str | None = None) -> Page[BillingRun]:
    query = (
        select(BillingRun).options(selectinload(BillingRun.errors)).order_by(BillingRun.id.desc())
    )
    with db.read() as session:
        return paginate(session, query, limit, cursor, _as_row)


def _as_row(row: Any) -> Any:  # temporary: the repository refactor replaces it
    return row
