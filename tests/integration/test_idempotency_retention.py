"""Idempotency keys are kept at least 24 hours, then purged by the schedule."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from recur.db.models import IdempotencyKey
from recur.db.session import Database
from recur.services import idempotency


def test_keys_older_than_the_retention_are_purged_and_recent_ones_kept(db: Database) -> None:
    now = datetime(2027, 1, 15, 12, tzinfo=UTC)
    ages = {"old": timedelta(days=8), "day-old": timedelta(hours=25), "fresh": timedelta(minutes=1)}
    with db.transaction() as session:
        for key, age in ages.items():
            session.add(
                IdempotencyKey(scope="s", key=key, fingerprint="f", result={}, created_at=now - age)
            )
    assert idempotency.purge_expired(db, now) == 1
    with db.transaction() as session:
        assert set(session.scalars(select(IdempotencyKey.key))) == {"day-old", "fresh"}
