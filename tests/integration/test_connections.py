"""Pooled PostgreSQL connections: one the server dropped while idle is replaced unseen."""

import pytest
from sqlalchemy import text

from recur.db import session as db_session
from recur.db.session import Database


@pytest.mark.postgres
def test_a_connection_dropped_while_idle_is_replaced(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pg_db.read() as session:
        first = session.scalar(text("SELECT pg_backend_pid()"))
    other = Database(str(pg_db.engine.url.render_as_string(hide_password=False)))
    with other.engine.begin() as conn:  # as a server restart or an idle timeout would
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    other.dispose()

    monkeypatch.setattr(db_session, "PING_IF_IDLE_FOR", 0.0)
    with pg_db.read() as session:
        second = session.scalar(text("SELECT pg_backend_pid()"))
    assert second != first


@pytest.mark.postgres
def test_only_a_connection_that_sat_idle_is_pinged(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    monkeypatch.setattr(pg_db.engine.dialect, "do_ping", pings.append)
    for _ in range(3):  # in steady use: no round trip spent on pinging
        with pg_db.read() as session:
            session.execute(text("SELECT 1"))
    assert pings == []
    monkeypatch.setattr(db_session, "PING_IF_IDLE_FOR", 0.0)
    with pg_db.read() as session:
        session.execute(text("SELECT 1"))
    assert len(pings) == 1


@pytest.mark.postgres
def test_a_prepared_statement_is_planned_once_not_at_every_run(pg_db: Database) -> None:
    with pg_db.engine.connect() as conn:  # the setting outlives a rolled-back transaction
        conn.rollback()
        cursor = conn.connection.driver_connection.cursor()
        for ids in ([1], [1, 2], [3, 4, 5], [6], [7, 8], [9]):
            cursor.execute("SELECT id FROM accounts WHERE id = ANY(%s)", (ids,), prepare=True)
        plans = conn.exec_driver_sql(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'SELECT id FROM accounts%%'"
        ).one()
    assert tuple(plans) == (6, 0)
