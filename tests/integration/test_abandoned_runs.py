"""A run whose worker was killed does not read as running for ever."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from recur.db.models import BillingRun
from recur.db.session import Database
from recur.services import billing_run

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
        silent = _run(now - timedelta(hours=2), now - timedelta(minutes=11))
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
    assert abs(ended.replace(tzinfo=UTC) - (now - timedelta(minutes=11))) < timedelta(seconds=1)
    assert status[run.id] == "completed"
