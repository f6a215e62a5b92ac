"""Health, readiness and the test clock."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from recur.db.models import BillingRun
from recur.db.session import Database
from tests.api.conftest import ADMIN_TOKEN, START, bearer, make_app
from tests.api.factories import set_today


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


def test_not_ready_without_migrations(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
        assert (response.status_code, response.json()) == (503, {"status": "migrations_pending"})


def test_not_ready_without_a_database() -> None:
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:9/recur?connect_timeout=1")
    with TestClient(app) as client:
        response = client.get("/readyz")
        assert (response.status_code, response.json()["status"]) == (503, "database_unavailable")


def test_test_clock(client: TestClient) -> None:
    assert client.get("/api/v1/test/clock").json() == {"today": "2027-01-11"}
    set_today(client, "2027-03-01")
    set_today(client, "2027-02-01")  # the last PUT wins
    assert client.get("/api/v1/test/clock").json() == {"today": "2027-02-01"}
    response = client.put("/api/v1/test/clock", json={"today": "tomorrow"})
    assert response.status_code == 422


def test_no_test_clock_by_default(sqlite_url: str) -> None:
    app = make_app(sqlite_url, test_clock=False)
    with TestClient(app, headers=bearer(ADMIN_TOKEN)) as client:
        assert client.get("/api/v1/test/clock").status_code == 404
        response = client.put("/api/v1/test/clock", json={"today": "2027-02-01"})
        assert response.status_code in (404, 405)
        assert "error" in response.json()


def test_a_run_whose_process_died_is_interrupted_in_the_api(client: TestClient) -> None:
    now = datetime.now(UTC)
    db: Database = client.app.state.ctx.db  # type: ignore[attr-defined]
    with db.transaction() as session:
        run = BillingRun(
            as_of=START,
            worker="gone:1",
            triggered_by="worker",
            status="running",
            started_at=now - timedelta(minutes=5),
            heartbeat_at=now - timedelta(minutes=2),
        )
        session.add(run)

    assert client.get(f"/api/v1/billing-runs/{run.id}").json()["status"] == "interrupted"
    listed = client.get("/api/v1/billing-runs").json()["data"]
    assert [r["status"] for r in listed if r["id"] == run.id] == ["interrupted"]
