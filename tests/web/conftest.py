"""A back office on a fresh SQLite database, seeded with the SPEC §8 example."""

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from recur.app import create_app
from recur.db.session import Database
from recur.services import users
from recur.settings import Settings
from tests.web.acme import (
    ADMIN,
    FAST_HASHER,
    OPERATOR,
    PASSWORD,
    VIEWER,
    Acme,
    seed_acme,
    seed_users,
)

TODAY = date(2027, 1, 15)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", FAST_HASHER)


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    db = Database(sqlite_url)
    yield db
    db.dispose()


@pytest.fixture
def acme(database: Database) -> Acme:
    seeded = seed_acme(database)
    seed_users(database)
    return seeded


@pytest.fixture
def app_client(sqlite_url: str, acme: Acme) -> Iterator[TestClient]:
    settings = Settings(
        database_url=sqlite_url, today=TODAY, scheduler="off", secret_key="test-secret"
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, email: str) -> str:
    """Sign in as `email`; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/accounts").text)


@pytest.fixture
def operator(app_client: TestClient) -> tuple[TestClient, str]:
    return app_client, sign_in(app_client, OPERATOR)


@pytest.fixture
def viewer(app_client: TestClient) -> tuple[TestClient, str]:
    return app_client, sign_in(app_client, VIEWER)


@pytest.fixture
def admin(app_client: TestClient) -> tuple[TestClient, str]:
    return app_client, sign_in(app_client, ADMIN)
