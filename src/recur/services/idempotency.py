"""Idempotency keys for any state-changing request: a retry gets the first answer.

A request first reserves its (scope, key); the answer is stored when it is
known. A concurrent duplicate waits for that answer instead of doing the work
again; a reservation left behind by a crashed process is taken over once stale.
Manual generation does not come here: it keeps its key and answer in the
issuing transaction itself (services.invoicing).
"""

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from recur.db.repositories import idempotency as store
from recur.db.session import Database
from recur.domain.errors import Conflict, InvalidInput
from recur.domain.idempotency import StoredResponse
from recur.services.validation import check_idempotency_key


class _Busy:
    """Another request holds the key and has not answered yet."""


_BUSY = _Busy()


def reserve(
    db: Database,
    scope: str,
    key: str,
    fingerprint: str,
    wait_seconds: float = 15.0,
    stale_after: timedelta = timedelta(minutes=2),
) -> StoredResponse | None:
    """Reserve the key for this request (None), or the stored answer of the first one.

    Raises InvalidInput if the key was used with a different request, Conflict if
    the first request is still running after `wait_seconds`.
    """
    check_idempotency_key(key)
    deadline = time.monotonic() + wait_seconds
    while True:
        outcome = _attempt(db, scope, key, fingerprint, stale_after)
        if not isinstance(outcome, _Busy):
            return outcome
        if time.monotonic() >= deadline:
            raise Conflict(
                "idempotency_key_in_progress",
                "a request with this Idempotency-Key is still being processed; retry later",
            )
        time.sleep(0.05)


def _attempt(
    db: Database, scope: str, key: str, fingerprint: str, stale_after: timedelta
) -> StoredResponse | _Busy | None:
    def work(session: Session) -> StoredResponse | _Busy | None:
        now = datetime.now(UTC)
        kept = store.lock_key(session, scope, key)
        if kept is None:
            # A concurrent request may have reserved it first: then it is busy.
            return None if store.reserve_key(session, scope, key, fingerprint, now) else _BUSY
        if kept.fingerprint != fingerprint:
            raise InvalidInput(
                "idempotency_key_reused", "this Idempotency-Key was used with a different request"
            )
        if kept.answer is not None:
            return kept.answer
        if now - kept.created_at > stale_after:  # its request died without answering: take it over
            store.take_over(session, scope, key, now)
            return None
        return _BUSY

    return db.run(work)


def complete(db: Database, scope: str, key: str, response: StoredResponse) -> None:
    """Store the answer that every retry with this key will get."""
    db.run(lambda session: store.store_answer(session, scope, key, response))


def release(db: Database, scope: str, key: str) -> None:
    """Forget a reservation whose request failed unexpectedly, so a retry can run."""
    db.run(lambda session: store.forget_key(session, scope, key))


KEPT_FOR = timedelta(days=7)  # at least the 24 hours clients may retry within


def purge_expired(db: Database, now: datetime | None = None) -> int:
    """Forget keys older than KEPT_FOR; returns how many went."""
    cutoff = (now or datetime.now(UTC)) - KEPT_FOR
    return db.run(lambda session: store.forget_keys_before(session, cutoff))
