"""The delivery worker: sends the outbox's e-mails (services/delivery.py).

A thread beside the billing schedule, in `recur serve`'s scheduler process and in
`recur worker`. It sends what is due, then looks again after an interval; several
workers on one PostgreSQL database share the outbox (SKIP LOCKED).
"""

import logging
import threading
from collections.abc import Callable

from recur.db.audit import entered_by
from recur.db.session import Database
from recur.domain.audit import Door
from recur.domain.delivery import Delivered
from recur.services.delivery import deliver_due
from recur.settings import Settings

log = logging.getLogger("recur.delivery")


class DeliveryWorker:
    def __init__(self, db: Database, env: Settings) -> None:
        self.db, self.env = db, env
        self.interval = env.delivery_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def loop(self, on_pass: Callable[[Delivered], None] = lambda _done: None) -> None:
        """Send what is due until the outbox has nothing due, wait, again; until stopped."""
        while not self._stop.is_set():
            try:
                with entered_by(Door.SCHEDULER):
                    done = deliver_due(self.db, self.env)
                on_pass(done)
                if done.sent + done.failed:
                    continue  # perhaps more is due: look again at once
            except Exception:  # e.g. the database is down: try again after the interval
                log.exception("delivery pass failed")
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop, name="delivery-worker", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
