"""The failed sign-ins counted per key (services/sign_in.py holds the rules)."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recur.db.models import SignInFailure
from recur.db.repositories.inserts import insert_missing
from recur.db.repositories.utc import as_utc, as_utc_or_none
from recur.domain.users import FailedSignIns


def _record(row: SignInFailure) -> FailedSignIns:
    blocked = as_utc_or_none(row.blocked_until)
    return FailedSignIns(row.key, row.failures, as_utc(row.last_failure_at), blocked)


def blocked_until(session: Session, keys: list[str], now: datetime) -> list[datetime]:
    """Until when each of these keys that must still wait at `now` waits."""
    moments = session.scalars(
        select(SignInFailure.blocked_until).where(
            SignInFailure.key.in_(keys), SignInFailure.blocked_until > now
        )
    )
    return [as_utc(moment) for moment in moments if moment is not None]


def lock_failures(session: Session, keys: list[str], now: datetime) -> list[FailedSignIns]:
    """The count of each key (a new key counts none, failed at `now`), each locked
    until the transaction ends; in the order given, which must be the same in every
    transaction, so that two cannot deadlock."""
    insert_missing(
        session,
        SignInFailure,
        [{"key": key, "failures": 0, "last_failure_at": now} for key in keys],
    )
    locked = []
    for key in keys:
        row = session.get(SignInFailure, key, with_for_update=True, populate_existing=True)
        assert row is not None  # inserted above, or already there
        locked.append(_record(row))
    return locked


def save_failures(session: Session, counted: FailedSignIns) -> None:
    """Store a count locked by `lock_failures` in this transaction."""
    row = session.get(SignInFailure, counted.key)  # in the identity map: no query
    assert row is not None, "locked by lock_failures"
    row.failures = counted.failures
    row.last_failure_at = counted.last_failure_at
    row.blocked_until = counted.blocked_until


def forget_failures_before(session: Session, moment: datetime) -> None:
    session.execute(delete(SignInFailure).where(SignInFailure.last_failure_at < moment))


def forget_failures_of(session: Session, key: str) -> None:
    session.execute(delete(SignInFailure).where(SignInFailure.key == key))
