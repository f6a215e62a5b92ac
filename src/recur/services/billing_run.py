"""The Billing Service's run: issue every charge due by a date, exactly once (SPEC §6).

Accounts are claimed in batches with FOR UPDATE SKIP LOCKED, so several workers
share one as-of date without waiting on each other, and a manual generation
holding an account is skipped and picked up once it commits. A batch is one
transaction; if it fails, its accounts are retried one by one so that one bad
account is recorded and the others are issued.
"""

import gc
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from recur.db.audit import action, record
from recur.db.billing_store import (
    claim_due_accounts,
    due_account_ids,
    issue_invoices,
    subscription_states,
)
from recur.db.repositories import billing_runs
from recur.db.session import Database
from recur.domain.billing_runs import BillingRun
from recur.domain.catalogue import InvoiceSource
from recur.domain.errors import DomainError, InvalidInput, NotFound
from recur.domain.invoices import (
    AccountTerms,
    InvoiceTotals,
    PendingInvoice,
    SubscriptionState,
    due_invoices,
    totals_by_currency,
)
from recur.domain.pages import Page
from recur.services.run_heartbeat import SILENT_AFTER, beating
from recur.services.validation import check_day

log = logging.getLogger("recur.billing")

BATCH_SIZE = 250  # accounts per transaction: fewer round trips, locks held a fraction of a second


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def check_run_date(as_of: date, today: date) -> None:
    """A run's date is in the calendar and not after today (a run and its dry run)."""
    check_day(as_of, "as_of")
    if as_of > today:
        raise InvalidInput(
            "as_of_in_future", f"as_of {as_of.isoformat()} is after today ({today.isoformat()})"
        )


@action
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
    check_run_date(as_of, today)
    _settle_long_lived_objects()
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


def _settle_long_lived_objects() -> None:
    """Collect garbage, then leave what survives (modules, mappers, the pool) out of
    later collections: a run makes hundreds of thousands of short-lived objects, and
    each of the collections they trigger would otherwise walk all the long-lived ones
    again (bench/billing_run.py: about 4 % of a run)."""
    gc.collect()
    gc.freeze()


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
    def refused(account_id: int, error: Exception) -> None:
        _record_failure_in(session, run_id, account_id, error, failed)

    drafts, states = _plan_batch(session, account_ids, as_of, refused)
    by_sub = {
        terms.subscription_id: (terms, billed) for subs in states.values() for terms, billed in subs
    }
    charges = sum(len(d.items) for d in drafts)
    billing_runs.count_batch(
        session, run_id, len(account_ids), len(drafts), charges, datetime.now(UTC)
    )
    # Its writes go with the COMMIT, numbers last (db/final_writes.py).
    issue_invoices(session, drafts, by_sub, InvoiceSource.AUTOMATIC, billing_run_id=run_id)


def _plan_batch(
    session: Session,
    account_ids: Sequence[int],
    as_of: date,
    refused: Callable[[int, Exception], None],
) -> tuple[list[PendingInvoice], dict[int, list[SubscriptionState]]]:
    """The documents a run issues for these accounts, with the engine inputs behind them;
    an account whose planning fails is handed to `refused` (the others go on)."""
    states = subscription_states(session, account_ids, due_by=as_of)
    drafts: list[PendingInvoice] = []
    for account in billing_runs.terms_of_accounts(session, account_ids):
        try:
            drafts.extend(plan_account(account, states.get(account.account_id, []), as_of))
        except Exception as error:  # an engine failure is this account's alone
            refused(account.account_id, error)
    return drafts, states


@dataclass(frozen=True)
class RunPreview:
    """A dry run: what a billing run as of `as_of` would issue now, and the accounts it
    would fail on (with why)."""

    as_of: date
    accounts: int
    documents: list[PendingInvoice]
    failures: list[tuple[int, str]]

    @property
    def totals(self) -> dict[str, InvoiceTotals]:
        return totals_by_currency(self.documents)


def preview_run(db: Database, as_of: date, today: date, batch_size: int = BATCH_SIZE) -> RunPreview:
    """What `run_billing(as_of)` would issue, planned by the same code, batch by batch,
    nothing written and nothing locked."""
    check_run_date(as_of, today)
    documents: list[PendingInvoice] = []
    failures: list[tuple[int, str]] = []
    accounts = 0
    after: int | None = None
    while True:
        with db.read() as session:
            ids = due_account_ids(session, as_of, batch_size, after)
            if not ids:
                break
            drafts, _ = _plan_batch(
                session, ids, as_of, lambda account, error: failures.append((account, str(error)))
            )
        documents.extend(drafts)
        accounts += len(ids)
        after = ids[-1]
    return RunPreview(as_of, accounts, documents, failures)


def plan_account(
    account: AccountTerms, states: list[SubscriptionState], as_of: date
) -> list[PendingInvoice]:
    """The invoices a run issues for one account (a seam for tests to inject failures)."""
    return due_invoices(account, states, as_of)


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
    billing_runs.add_error(session, run_id, account_id, code, str(error)[:2000], datetime.now(UTC))


def _start_run(db: Database, as_of: date, triggered_by: str) -> int:
    def work(session: Session) -> int:
        now = datetime.now(UTC)
        # Runs whose worker was killed or cut off stay "running" with a silent heart
        # (services/run_heartbeat.py): they are marked interrupted, ended at their last
        # beat. Their whole batches stand; this run bills whatever they left.
        billing_runs.close_silent(session, now, SILENT_AFTER)
        return billing_runs.start(session, as_of, worker_name(), triggered_by, now)

    return db.run(work)


def _finish_run(db: Database, run_id: int, status: str) -> BillingRun:
    """End the run with its one audit event: what it issued, for whom it ran."""

    def work(session: Session) -> BillingRun:
        billing_runs.finish(session, run_id, status, datetime.now(UTC))
        run = billing_runs.by_id(session, run_id)
        assert run is not None  # started by this run, never deleted
        record(
            session,
            run.triggered_by,
            "billing_run.finished",
            "billing_run",
            run_id,
            as_of=run.as_of.isoformat(),
            status=status,
            invoices=run.invoices_issued,
            errors=run.errors_count,
        )
        return run

    return db.run(work)


def get_billing_run(db: Database, run_id: int) -> BillingRun:
    with db.read() as session:
        run = billing_runs.by_id(session, run_id)
    if run is None:
        raise NotFound("billing_run_not_found", f"billing run {run_id} does not exist")
    return run


def list_billing_runs(
    db: Database, limit: int = 50, cursor: str | None = None, sort: str | None = None
) -> Page[BillingRun]:
    with db.read() as session:
        return billing_runs.page(session, limit, cursor, sort)
