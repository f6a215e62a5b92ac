"""Sessions and credentials that can be cut off: sign-out, disabled users, passwords,
sign-in throttling and the session cookie's flags (issue 11, item 4)."""

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from recur.app import create_app
from recur.db.models import AuditEvent
from recur.db.session import Database
from recur.domain.roles import Role
from recur.services import tokens, users
from recur.settings import Settings
from tests.web.acme import ADMIN, OPERATOR, PASSWORD
from tests.web.conftest import TODAY, csrf_of, sign_in

NEW_PASSWORD = "a much better passphrase"


def _client(url: str, base_url: str = "http://testserver", **settings: object) -> TestClient:
    values = {"database_url": url, "today": TODAY, "scheduler": "off", "secret_key": "test-secret"}
    app = create_app(Settings(**(values | settings)))  # type: ignore[arg-type]
    return TestClient(app, base_url=base_url, follow_redirects=False)


@pytest.fixture
def second_client(sqlite_url: str, app_client: TestClient) -> Iterator[TestClient]:
    """Another browser on the same server (database)."""
    with _client(sqlite_url) as client:
        yield client


def _post_login(client: TestClient, email: str, password: str) -> int:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    return response.status_code


def _user_id(url: str, email: str) -> int:
    db = Database(url)
    user_id = users.user_by_email(db, email).id
    db.dispose()
    return user_id


def _actions(url: str) -> list[str]:
    db = Database(url)
    with db.read() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    db.dispose()
    return actions


def test_a_cookie_saved_before_sign_out_is_refused_after_it(
    app_client: TestClient, sqlite_url: str
) -> None:
    token = sign_in(app_client, ADMIN)
    saved = dict(app_client.cookies)
    assert app_client.post("/logout", data={"csrf_token": token}).status_code == 303
    app_client.cookies.clear()
    app_client.cookies.update(saved)  # the attacker replays the cookie
    assert app_client.get("/accounts").status_code == 303
    response = app_client.post(
        "/users",
        data={
            "csrf_token": token,
            "email": "evil@example.com",
            "role": "admin",
            "password": "x" * 12,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"
    assert "user.signed_out" in _actions(sqlite_url)
    db = Database(sqlite_url)
    assert "evil@example.com" not in {u.email for u in users.list_users(db)}
    db.dispose()


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(
    admin: tuple[TestClient, str], second_client: TestClient, sqlite_url: str
) -> None:
    client, token = admin
    sign_in(second_client, OPERATOR)
    assert second_client.get("/accounts").status_code == 200
    operator_id = _user_id(sqlite_url, OPERATOR)
    response = client.post(f"/users/{operator_id}/disable", data={"csrf_token": token})
    assert response.status_code == 303
    assert "is disabled" in client.get("/users").text
    assert second_client.get("/accounts").status_code == 303  # the live session ended
    assert _post_login(second_client, OPERATOR, PASSWORD) == 403
    assert (
        "This user is disabled"
        in second_client.post(
            "/login",
            data={
                "email": OPERATOR,
                "password": PASSWORD,
                "csrf_token": csrf_of(second_client.get("/login").text),
            },
        ).text
    )
    client.post(f"/users/{operator_id}/enable", data={"csrf_token": token})
    assert _post_login(second_client, OPERATOR, PASSWORD) == 303
    assert {"user.disabled", "user.enabled"} <= set(_actions(sqlite_url))


def test_the_last_enabled_admin_cannot_be_disabled(
    admin: tuple[TestClient, str], sqlite_url: str
) -> None:
    client, token = admin
    admin_id = _user_id(sqlite_url, ADMIN)
    response = client.post(f"/users/{admin_id}/disable", data={"csrf_token": token})
    assert response.status_code == 409
    assert "last enabled administrator" in response.text


def test_a_user_changes_their_password_and_their_other_sessions_end(
    app_client: TestClient, second_client: TestClient, sqlite_url: str
) -> None:
    token = sign_in(app_client, OPERATOR)
    sign_in(second_client, OPERATOR)
    wrong = app_client.post(
        "/password",
        data={"csrf_token": token, "current_password": "nope", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert "current password is not correct" in wrong.text
    short = app_client.post(
        "/password", data={"csrf_token": token, "current_password": PASSWORD, "new_password": "x"}
    )
    assert short.status_code == 422
    assert "at least 8 characters" in short.text
    response = app_client.post(
        "/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert app_client.get("/accounts").status_code == 200  # this session goes on
    assert second_client.get("/accounts").status_code == 303  # the other one ended
    assert _post_login(second_client, OPERATOR, PASSWORD) == 401
    assert _post_login(second_client, OPERATOR, NEW_PASSWORD) == 303
    assert "user.password_changed" in _actions(sqlite_url)


def test_an_admin_resets_a_password_and_ends_that_users_sessions(
    admin: tuple[TestClient, str], second_client: TestClient, sqlite_url: str
) -> None:
    client, token = admin
    sign_in(second_client, OPERATOR)
    operator_id = _user_id(sqlite_url, OPERATOR)
    assert "Reset the password" in client.get(f"/users/{operator_id}/password").text
    short = client.post(
        f"/users/{operator_id}/password", data={"csrf_token": token, "password": "x"}
    )
    assert short.status_code == 422
    response = client.post(
        f"/users/{operator_id}/password", data={"csrf_token": token, "password": NEW_PASSWORD}
    )
    assert response.status_code == 303
    assert second_client.get("/accounts").status_code == 303
    assert _post_login(second_client, OPERATOR, NEW_PASSWORD) == 303
    assert "user.password_reset" in _actions(sqlite_url)


def test_an_operator_may_not_reset_passwords_or_disable_users(
    operator: tuple[TestClient, str],
) -> None:
    client, token = operator
    assert client.post("/users/1/disable", data={"csrf_token": token}).status_code == 403
    response = client.post("/users/1/password", data={"csrf_token": token, "password": "x" * 9})
    assert response.status_code == 403
    assert client.get("/tokens").status_code == 403
    assert client.post("/tokens/1/revoke", data={"csrf_token": token}).status_code == 403


def test_sign_in_is_throttled_with_backoff_and_succeeds_after_it(
    sqlite_url: str, acme: object
) -> None:
    with _client(sqlite_url, sign_in_first_wait=0.5) as client:
        for _ in range(5):  # five mistakes are let through
            assert _post_login(client, OPERATOR, "wrong password") == 401
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login", data={"email": OPERATOR, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 429  # even the right password must wait
        assert response.headers["retry-after"] == "1"
        assert "Too many failed sign-ins" in response.text
        assert _post_login(client, ADMIN, PASSWORD) == 303  # another account is not held up
        time.sleep(0.6)
        assert _post_login(client, OPERATOR, "wrong again") == 401
        assert _post_login(client, OPERATOR, PASSWORD) == 429  # now 1 s: it doubled
        time.sleep(1.1)
        assert _post_login(client, OPERATOR, PASSWORD) == 303
        # The success cleared the account's count: one mistake is let through again.
        assert _post_login(client, OPERATOR, "wrong password") == 401
        assert _post_login(client, OPERATOR, PASSWORD) == 303


def test_sign_in_is_throttled_per_client_address(sqlite_url: str, acme: object) -> None:
    with _client(sqlite_url, sign_in_first_wait=60) as client:
        for n in range(20):  # twenty mistakes from one address, on as many accounts
            assert _post_login(client, f"guess{n}@example.com", "wrong password") == 401
        assert _post_login(client, OPERATOR, PASSWORD) == 429


def _sign_in_cookie(client: TestClient) -> str:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"email": OPERATOR, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert client.get("/accounts").status_code == 200
    return response.headers["set-cookie"]


def test_over_https_the_cookie_is_secure_and_host_prefixed(sqlite_url: str, acme: object) -> None:
    with _client(sqlite_url, base_url="https://testserver") as client:
        cookie = _sign_in_cookie(client)
    assert cookie.startswith("__Host-recur_session=")
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(flags)
    assert not any(flag.startswith("domain") for flag in flags)


def test_over_plain_http_the_cookie_is_not_secure(app_client: TestClient) -> None:
    cookie = _sign_in_cookie(app_client)
    assert cookie.startswith("recur_session=")
    assert "secure" not in cookie.lower()


def test_an_admin_sees_when_tokens_were_last_used_and_revokes_one(
    admin: tuple[TestClient, str], sqlite_url: str
) -> None:
    client, token = admin
    db = Database(sqlite_url)
    principal, secret = tokens.create_token(db, Role.OPERATOR, "billing-bot", "test")
    db.dispose()
    row = client.get("/tokens").text.split("billing-bot")[1].split("</tr>")[0]
    assert "Never" in row
    api = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/accounts", headers=api).status_code == 200
    row = client.get("/tokens").text.split("billing-bot")[1].split("</tr>")[0]
    assert "Never" not in row
    assert " UTC" in row  # the time of last use
    response = client.post(f"/tokens/{principal.token_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/api/v1/accounts", headers=api).status_code == 401
    assert "badge-revoked" in client.get("/tokens").text
    assert "api_token.revoked" in _actions(sqlite_url)


def test_signing_in_again_ends_the_session_the_cookie_held(app_client: TestClient) -> None:
    sign_in(app_client, OPERATOR)
    before = dict(app_client.cookies)
    sign_in(app_client, ADMIN)
    app_client.cookies.clear()
    app_client.cookies.update(before)
    assert app_client.get("/accounts").status_code == 303
