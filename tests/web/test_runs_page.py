"""Billing › Billing runs shows a run whose process died as interrupted."""

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from recur.db.models import BillingRun
from recur.db.session import Database


def test_a_run_whose_process_died_is_shown_interrupted(
    database: Database, viewer: tuple[TestClient, str]
) -> None:
    now = datetime.now(UTC)
    with database.transaction() as session:
        session.add(
            BillingRun(
                as_of=date(2027, 1, 15),
                worker="gone:1",
                triggered_by="worker",
                status="running",
                started_at=now - timedelta(minutes=5),
                heartbeat_at=now - timedelta(minutes=2),
            )
        )

    client, _ = viewer
    page = client.get("/billing-runs").text
    assert '<span class="badge badge-interrupted">Interrupted</span>' in page
    assert "badge-running" not in page
