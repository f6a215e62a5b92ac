"""The Billing Service's schedule: run billing as of today now, then every interval.

It runs as a thread inside `recur serve` and as the whole of `recur worker`. A
stop request is honoured between batches: the batch in hand is finished, so a
stopped run leaves only whole invoices and the next run carries on.
"""

import logging
import os
import threading
from collections.abc import Callable
from datetime import date

from recur.clock import Clock
from recur.db.audit import entered_by
from recur.db.session import Database
from recur.domain.audit import Door
from recur.domain.billing_runs import BillingRun
from recur.services import idempotency
from recur.services.billing_run import BATCH_SIZE, run_billing

log = logging.getLogger("recur.scheduler")

SCHEDULER_ACTOR = "scheduler"


class BillingSchedule:
    """Runs billing on a fixed interval until stopped."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        interval_seconds: float,
        batch_size: int = BATCH_SIZE,
        triggered_by: str = SCHEDULER_ACTOR,
    ) -> None:
        self.db, self.clock = db, clock
        self.interval = max(1.0, float(interval_seconds))
        self.batch_size = batch_size
        self.triggered_by = triggered_by
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the loop to stop after the batch in hand (safe from a signal handler)."""
        self._stop.set()

    def run_once(self, as_of: date | None = None) -> BillingRun:
        """One run as of `as_of` (default today)."""
        today = self.clock.today()
        with entered_by(Door.SCHEDULER):
            return run_billing(
                self.db,
                as_of or today,
                today,
                self.triggered_by,
                batch_size=self.batch_size,
                should_stop=self._stop.is_set,
            )

    def loop(self, on_run: Callable[[BillingRun], None] = lambda _run: None) -> None:
        """Run now, then every interval, until stopped; a failed run is logged, not fatal."""
        while not self._stop.is_set():
            try:
                on_run(self.run_once())
                idempotency.purge_expired(self.db)
            except Exception:  # e.g. the database is down: try again next interval
                log.exception("scheduled billing run failed")
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Run the loop in a daemon thread (inside the web server)."""
        self._thread = threading.Thread(target=self.loop, name="billing-schedule", daemon=True)
        self._thread.start()
        # The pid says which of several server processes runs it (server_processes.py).
        log.info(
            "billing schedule started",
            extra={"interval_seconds": self.interval, "pid": os.getpid()},
        )

    def shutdown(self, timeout: float = 30.0) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)
