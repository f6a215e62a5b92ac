"""`recur user …` and `recur token …`: cutting credentials off from the command line."""

from collections.abc import Callable

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from recur.cli import app as cli
from recur.cli.app import context
from recur.db.session import Database
from recur.domain.roles import Role
from recur.services import tokens
from recur.settings import get_settings
from tests.web.acme import ADMIN, OPERATOR, PASSWORD
from tests.web.conftest import csrf_of, sign_in

NEW_PASSWORD = "a much better passphrase"
Recur = Callable[..., Result]


@pytest.fixture
def recur(app_client: TestClient, sqlite_url: str) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        # Settings and context are cached per process: read this test's database URL.
        get_settings.cache_clear()
        context.cache_clear()
        try:
            return runner.invoke(
                cli, list(args), input=input, env={"RECUR_DATABASE_URL": sqlite_url}
            )
        finally:
            get_settings.cache_clear()
            context.cache_clear()

    return run


def _signs_in(client: TestClient, email: str, password: str) -> bool:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    return response.status_code == 303


def test_disable_and_enable_a_user(app_client: TestClient, recur: Recur) -> None:
    sign_in(app_client, OPERATOR)
    result = recur("user", "disable", OPERATOR)
    assert result.exit_code == 0, result.output
    assert app_client.get("/accounts").status_code == 303  # signed out
    assert not _signs_in(app_client, OPERATOR, PASSWORD)
    assert "disabled" in recur("user", "list").output.split(OPERATOR)[1].splitlines()[0]
    assert recur("user", "enable", OPERATOR).exit_code == 0
    assert _signs_in(app_client, OPERATOR, PASSWORD)
    missing = recur("user", "disable", "nobody@example.com")
    assert missing.exit_code == 3
    assert "no user has e-mail" in missing.output


def test_reset_and_change_a_password(app_client: TestClient, recur: Recur) -> None:
    sign_in(app_client, OPERATOR)
    result = recur("user", "reset-password", OPERATOR, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert app_client.get("/accounts").status_code == 303
    assert _signs_in(app_client, OPERATOR, NEW_PASSWORD)
    wrong = recur("user", "change-password", OPERATOR, "--current", "nope", "--password", "x" * 9)
    assert wrong.exit_code == 2
    assert "current password is not correct" in wrong.output
    changed = recur(
        "user", "change-password", OPERATOR, "--current", NEW_PASSWORD, "--password", PASSWORD
    )
    assert changed.exit_code == 0, changed.output
    assert app_client.get("/accounts").status_code == 303  # every session ended
    assert _signs_in(app_client, OPERATOR, PASSWORD)
    assert recur("user", "disable", ADMIN).exit_code == 4  # the last admin


def test_list_and_revoke_tokens(app_client: TestClient, sqlite_url: str, recur: Recur) -> None:
    db = Database(sqlite_url)
    principal, secret = tokens.create_token(db, Role.VIEWER, "reporting", "test")
    db.dispose()
    api = {"Authorization": f"Bearer {secret}"}
    assert "never" in recur("token", "list").output.split("reporting")[1].splitlines()[0]
    assert app_client.get("/api/v1/accounts", headers=api).status_code == 200
    line = recur("token", "list").output.split("reporting")[1].splitlines()[0]
    assert "never" not in line
    assert "UTC" in line
    assert "active" in line
    result = recur("token", "revoke", str(principal.token_id))
    assert result.exit_code == 0, result.output
    assert app_client.get("/api/v1/accounts", headers=api).status_code == 401
    assert "revoked" in recur("token", "list").output.split("reporting")[1].splitlines()[0]
    assert recur("token", "revoke", "999999").exit_code == 3
