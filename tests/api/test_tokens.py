"""API tokens: listed with their last use, revoked at once (issue 11, item 4)."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from recur.db.session import Database
from recur.domain.errors import NotFound
from recur.services import tokens
from recur.services.roles import Role
from recur.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, bearer, make_app


def _row(db: Database, name: str) -> tokens.TokenInfo:
    return next(t for t in tokens.list_tokens(db) if t.name == name)


def test_a_revoked_token_is_refused_on_its_very_next_request(
    app: FastAPI, client: TestClient, token_for: Callable[[Role], str]
) -> None:
    secret = token_for(Role.VIEWER)
    assert client.get("/api/v1/accounts", headers=bearer(secret)).status_code == 200
    db: Database = app.state.ctx.db
    tokens.revoke_token(db, _row(db, "viewer-test").id, actor="test")
    response = client.get("/api/v1/accounts", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/accounts").status_code == 200  # the others still work


def test_a_token_records_its_last_use_at_most_once_a_minute(
    app: FastAPI, client: TestClient, token_for: Callable[[Role], str]
) -> None:
    db: Database = app.state.ctx.db
    secret = token_for(Role.VIEWER)
    assert _row(db, "viewer-test").last_used_at is None
    client.get("/api/v1/accounts", headers=bearer(secret))
    first = _row(db, "viewer-test").last_used_at
    assert first is not None
    for _ in range(3):
        client.get("/api/v1/accounts", headers=bearer(secret))
    assert _row(db, "viewer-test").last_used_at == first  # no write per request


def test_revoking_an_unknown_token_says_so(app: FastAPI) -> None:
    with pytest.raises(NotFound):
        tokens.revoke_token(app.state.ctx.db, 999_999, actor="test")


def test_a_revoked_env_token_stays_revoked_after_a_restart(db_url: str) -> None:
    with TestClient(make_app(db_url), headers=bearer(ADMIN_TOKEN)) as client:
        db: Database = client.app.state.ctx.db  # type: ignore[attr-defined]
        tokens.revoke_token(db, _row(db, tokens.ENV_TOKEN_NAME).id, actor="test")
    with TestClient(make_app(db_url), headers=bearer(ADMIN_TOKEN)) as client:
        assert client.get("/api/v1/accounts").status_code == 401


def test_a_short_api_token_is_refused_at_start(sqlite_url: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(database_url=sqlite_url, api_token="x" * 31, secret_key="k")
    assert Settings(database_url=sqlite_url, api_token="0" * 32, secret_key="k").api_token
