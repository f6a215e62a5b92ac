"""Idempotency keys: a request's (scope, key), its fingerprint and its stored answer."""

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from recur.db.models import IdempotencyKey
from recur.db.repositories.inserts import insert_missing
from recur.db.repositories.utc import as_utc
from recur.domain.idempotency import KeptRequest, StoredResponse

# What the result column holds until the first request has answered.
_PENDING: dict[str, object] = {"pending": True}


def _record(row: IdempotencyKey) -> KeptRequest:
    result = row.result
    answer = (
        StoredResponse(int(result["status"]), result["body"])  # type: ignore[call-overload]
        if "status" in result
        else None
    )
    return KeptRequest(row.fingerprint, answer, as_utc(row.created_at))


def lock_key(session: Session, scope: str, key: str) -> KeptRequest | None:
    """The key's request, locked until the transaction ends; None if it is not reserved."""
    row = session.get(IdempotencyKey, (scope, key), with_for_update=True)
    return None if row is None else _record(row)


def reserve_key(session: Session, scope: str, key: str, fingerprint: str, now: datetime) -> bool:
    """Reserve a new key for a request, its answer pending; False if another
    transaction reserved it first."""
    row = {
        "scope": scope,
        "key": key,
        "fingerprint": fingerprint,
        "result": _PENDING,
        "created_at": now,
    }
    return insert_missing(session, IdempotencyKey, [row]) == 1


def take_over(session: Session, scope: str, key: str, now: datetime) -> None:
    """Restart the reservation of a key locked by `lock_key`, for a new request."""
    row = session.get(IdempotencyKey, (scope, key))  # in the identity map: no query
    assert row is not None, "locked by lock_key"
    row.created_at = now


def store_answer(session: Session, scope: str, key: str, response: StoredResponse) -> None:
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(result={"status": response.status, "body": response.body})
    )


def forget_key(session: Session, scope: str, key: str) -> None:
    session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )


def forget_keys_before(session: Session, moment: datetime) -> int:
    """Forget the keys reserved before `moment`; how many went."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < moment))
    return int(result.rowcount)  # type: ignore[attr-defined]
