"""API tokens: listed with their last use, revoked at once (issue 11, item 4)."""

import time
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from recur.db.session import Database
from recur.domain.errors import NotFound
from recur.domain.roles import Role
from recur.domain.users import ApiToken
from recur.services import tokens
from recur.services.tokens import create_token
from recur.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, bearer, make_app


def until(condition: Callable[[], bool], failure: str) -> None:
    """Wait up to two seconds for `condition`, in steps of 5 ms."""
    deadline = time.monotonic() + 2
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.005)


def _row(db: Database, name: str) -> ApiToken:
    return next(t for t in tokens.list_tokens(db) if t.name == name)


def test_a_revoked_token_is_refused_on_its_very_next_request(
    app: FastAPI, client: TestClient, token_for: Callable[[Role], str]
) -> None:
    secret = token_for(Role.VIEWER)
    assert client.get("/api/v1/accounts", headers=bearer(secret)).status_code == 200
    db: Database = app.state.ctx.db
    # Revoked in this server process (as the back office does): forgotten at once.
    tokens.revoke_token(db, _row(db, "viewer-test").id, "test", app.state.ctx.tokens)
    response = client.get("/api/v1/accounts", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/accounts").status_code == 200  # the others still work


def test_a_token_revoked_by_another_process_is_refused_as_soon_as_it_is_heard(
    postgres_url: str,
) -> None:
    """PostgreSQL: a server process keeps the live tokens it has seen, and forgets them
    when a revocation anywhere (here `recur token revoke`'s way: another connection,
    no cache) NOTIFYs it; the token is refused within milliseconds, never served on."""
    app = make_app(postgres_url)
    with TestClient(app) as client:
        cache: tokens.TokenCache = app.state.ctx.tokens
        secret = create_token(app.state.ctx.db, Role.VIEWER, "viewer-test", "test")[1]
        until(lambda: cache.listening, "the server never listened for revocations")
        assert client.get("/api/v1/accounts", headers=bearer(secret)).status_code == 200
        assert cache.live  # served from memory from now on

        elsewhere = Database(postgres_url)
        tokens.revoke_token(elsewhere, _row(elsewhere, "viewer-test").id, actor="cli")
        elsewhere.dispose()

        def refused() -> bool:
            return client.get("/api/v1/accounts", headers=bearer(secret)).status_code == 401

        until(refused, "the revocation was never heard")
        assert client.get("/api/v1/accounts", headers=bearer(secret)).status_code == 401
        assert client.get("/api/v1/accounts", headers=bearer(ADMIN_TOKEN)).status_code == 200


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
