"""Idempotency keys for any state-changing request: a retry gets the first answer.

A request first reserves its (scope, key); the answer is stored when it is
known. A concurrent duplicate waits for that answer instead of doing the work
again; a reservation left behind by a crashed process is taken over once stale.
Manual generation does not come here: it keeps its key and answer in the
issuing transaction itself (services.invoicing).
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recur.db.models import IdempotencyKey
from recur.db.session import Database
from recur.domain.errors import Conflict, InvalidInput
from recur.services.validation import check_idempotency_key

_PENDING: dict[str, object] = {"pending": True}


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


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
        row = session.get(IdempotencyKey, (scope, key), with_for_update=True)
        if row is None:
            session.add(
                IdempotencyKey(
                    scope=scope, key=key, fingerprint=fingerprint, result=_PENDING, created_at=now
                )
            )
            session.flush()
            return None
        if row.fingerprint != fingerprint:
            raise InvalidInput(
                "idempotency_key_reused", "this Idempotency-Key was used with a different request"
            )
        if "status" in row.result:
            return StoredResponse(int(row.result["status"]), row.result["body"])  # type: ignore[call-overload]
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        if now - created > stale_after:  # its request died without answering: take it over
            row.created_at = now
            return None
        return _BUSY

    try:
        return db.run(work)
    except IntegrityError:  # a concurrent request inserted the key first
        return _BUSY


def complete(db: Database, scope: str, key: str, response: StoredResponse) -> None:
    """Store the answer that every retry with this key will get."""

    def work(session: Session) -> None:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            .values(result={"status": response.status, "body": response.body})
        )

    db.run(work)


def release(db: Database, scope: str, key: str) -> None:
    """Forget a reservation whose request failed unexpectedly, so a retry can run."""

    def work(session: Session) -> None:
        session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        )

    db.run(work)


KEPT_FOR = timedelta(days=7)  # at least the 24 hours clients may retry within


def purge_expired(db: Database, now: datetime | None = None) -> int:
    """Forget keys older than KEPT_FOR; returns how many went."""
    cutoff = (now or datetime.now(UTC)) - KEPT_FOR

    def work(session: Session) -> int:
        result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]

    return db.run(work)
