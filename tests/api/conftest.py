"""An API client over a fresh app on each backend, with an admin token and a test clock."""

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from recur.app import create_app
from recur.db.session import Database
from recur.domain.roles import Role
from recur.services.tokens import create_token
from recur.settings import Settings

ADMIN_TOKEN = "test-token-of-the-api-suite-0123456789"  # 32+ characters, as required
START = date(2027, 1, 11)


def make_app(db_url: str, **overrides: Any) -> FastAPI:
    values: dict[str, Any] = {
        "database_url": db_url,
        "api_token": ADMIN_TOKEN,
        "test_clock": True,
        "today": START,
        "scheduler": "off",
    }
    values.update(overrides)
    return create_app(Settings(**values))


@pytest.fixture
def app(db_url: str) -> FastAPI:
    return make_app(db_url)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as test_client:
        yield test_client


@pytest.fixture
def token_for(app: FastAPI) -> Callable[[Role], str]:
    """A fresh token of the given role."""

    def make(role: Role) -> str:
        db: Database = app.state.ctx.db
        return create_token(db, role, f"{role}-test", "test")[1]

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
