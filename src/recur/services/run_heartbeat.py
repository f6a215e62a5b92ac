"""A billing run's heartbeat, and how a run whose heart stopped is shown.

A run writes `heartbeat_at` from a thread of its own every HEARTBEAT_EVERY, whatever
its batches do, and each batch writes it too. A run still marked running whose last
beat is older than SILENT_AFTER lost its process (killed) or its database (cut off,
it could not even record its failure): it is shown as interrupted at once, and the
next run records it so (services/billing_run.py). SILENT_AFTER allows a few missed
beats: on PostgreSQL a beat waits while the run's batch holds its row (its last
writes), and on SQLite, a single writer, while a batch holds the write lock.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from recur.db.repositories import billing_runs
from recur.db.session import Database
from recur.domain.billing_runs import BillingRun

log = logging.getLogger("recur.billing")

HEARTBEAT_EVERY = timedelta(seconds=15)
SILENT_AFTER = 4 * HEARTBEAT_EVERY


def shown_status(run: BillingRun, now: datetime) -> str:
    """The run's status as it stands at `now`: "interrupted" if its heart stopped."""
    if run.status == "running" and last_beat(run) < now - SILENT_AFTER:
        return "interrupted"
    return run.status


def last_beat(run: BillingRun) -> datetime:
    return run.heartbeat_at or run.started_at


@contextmanager
def beating(db: Database, run_id: int) -> Iterator[None]:
    """Beat run `run_id`'s heart from a thread while the block runs."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat, args=(db, run_id, stop), name=f"billing-run-{run_id}-heart", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        # A beat waiting on an unreachable database must not hold the run's end.
        thread.join(timeout=HEARTBEAT_EVERY.total_seconds())


def _beat(db: Database, run_id: int, stop: threading.Event) -> None:
    def work(session: Session) -> None:
        billing_runs.beat(session, run_id, datetime.now(UTC))

    while not stop.wait(HEARTBEAT_EVERY.total_seconds()):
        try:
            db.run(work)
        except Exception as error:  # the database is away: the silence will tell
            log.warning(
                "billing run heartbeat failed", extra={"run_id": run_id, "error": str(error)}
            )
