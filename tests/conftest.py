"""Databases for the tests: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from `make test` (scripts/with-postgres.sh), which starts a
throwaway server and sets RECUR_TEST_POSTGRES_URL. Each test gets an empty,
migrated database: a copy of a migrated SQLite file, or a truncated PostgreSQL one.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from recur.db.migrate import alembic_config, recreate_postgres_database, upgrade
from recur.db.models import Base
from recur.db.session import Database

POSTGRES_ENV = "RECUR_TEST_POSTGRES_URL"

# Test apps (and e2e servers, which inherit the environment) do not compute the
# dashboard figures at start; the tests that want it say so.
os.environ["RECUR_WARM_FIGURES"] = "off"

# A real SMTP server for the delivery tests (`mail_server`).
pytest_plugins = ["tests.smtp"]


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.fail(f"{POSTGRES_ENV} is not set: run the suite with `make test`", pytrace=False)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "recur.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_session_url() -> str:
    """A migrated database of this test process's own (one per xdist worker)."""
    name = f"recur_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    return recreate_postgres_database(_postgres_base_url(), name)


def database_at(backend: str, revision: str, tmp_path: Path, name: str) -> str:
    """A database of its own migrated only up to `revision`, on `backend` ("sqlite" or
    "postgres"; `name` is the PostgreSQL one's): where a migration's test writes the
    rows the migration after it must carry."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
        command.upgrade(alembic_config(url), revision)
        return url
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return recreate_postgres_database(_postgres_base_url(), f"{name}_{worker}", revision=revision)


def truncate_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture
def postgres_url(postgres_session_url: str) -> str:
    truncate_postgres(postgres_session_url)
    return postgres_session_url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "recur.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty, migrated database on each backend in turn."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    yield database
    database.dispose()
