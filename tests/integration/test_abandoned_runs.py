"""A run whose worker was killed, or lost its database, does not read as running."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from recur.db.models import BillingRun
from recur.db.session import Database
from recur.services import billing_run, run_heartbeat
from recur.services.run_heartbeat import beating, shown_status

TODAY = date(2027, 1, 15)


def _run(started: datetime, heartbeat: datetime | None) -> BillingRun:
    return BillingRun(
        as_of=TODAY,
        worker="gone:1",
        triggered_by="worker",
        status="running",
        started_at=started,
        heartbeat_at=heartbeat,
        accounts_processed=3,
        invoices_issued=3,
        charges_issued=3,
        errors_count=0,
    )


def test_the_next_run_closes_runs_whose_heart_stopped_and_spares_live_ones(db: Database) -> None:
    now = datetime.now(UTC)
    with db.transaction() as session:
        silent = _run(now - timedelta(hours=2), now - timedelta(minutes=2))
        never_beat = _run(now - timedelta(minutes=30), None)
        live = _run(now - timedelta(hours=3), now - timedelta(seconds=5))
        session.add_all([silent, never_beat, live])
    ids = silent.id, never_beat.id, live.id

    run = billing_run.run_billing(db, TODAY, TODAY, "test")

    with db.read() as session:
        status = dict(session.execute(select(BillingRun.id, BillingRun.status)).tuples().all())
        ended = session.get_one(BillingRun, ids[0]).finished_at
    assert [status[i] for i in ids] == ["interrupted", "interrupted", "running"]
    assert ended is not None
    assert abs(ended.replace(tzinfo=UTC) - (now - timedelta(minutes=2))) < timedelta(seconds=1)
    assert status[run.id] == "completed"


def dead_run(db: Database, silent_for: timedelta) -> int:
    """A run left "running" by a process that stopped beating `silent_for` ago."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        run = _run(now - timedelta(hours=1), now - silent_for)
        session.add(run)
    return run.id


def test_a_run_whose_heart_stopped_a_minute_ago_is_shown_interrupted(db: Database) -> None:
    dead, live = dead_run(db, timedelta(seconds=70)), dead_run(db, timedelta(seconds=20))
    now = datetime.now(UTC)

    shown = {run.id: shown_status(run, now) for run in billing_run.list_billing_runs(db).items}
    assert shown == {dead: "interrupted", live: "running"}
    assert billing_run.get_billing_run(db, dead).status == "running"  # derived, not written


def test_a_live_run_keeps_beating_between_its_batches(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_heartbeat, "HEARTBEAT_EVERY", timedelta(seconds=0.05))
    run_id = dead_run(db, timedelta(minutes=5))  # as if its batch had lasted five minutes

    with beating(db, run_id):
        time.sleep(0.5)

    run = billing_run.get_billing_run(db, run_id)
    assert datetime.now(UTC) - run_heartbeat.last_beat(run) < timedelta(seconds=5)
    assert shown_status(run, datetime.now(UTC)) == "running"
