"""Signing in and out of the back office, and what a visitor without a session sees."""

from fastapi.testclient import TestClient

from recur.app import create_app
from recur.settings import Settings
from tests.web.acme import OPERATOR, PASSWORD
from tests.web.conftest import TODAY, csrf_of, sign_in


def test_pages_ask_a_visitor_to_sign_in(app_client: TestClient) -> None:
    response = app_client.get("/accounts?q=acme")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/accounts%3Fq%3Dacme"


def test_sign_in_sets_a_signed_http_only_lax_cookie_and_returns_to_the_page(
    app_client: TestClient,
) -> None:
    token = csrf_of(app_client.get("/login").text)
    response = app_client.post(
        "/login",
        data={"email": OPERATOR, "password": PASSWORD, "csrf_token": token, "next": "/invoices"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/invoices"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert PASSWORD.lower() not in cookie
    assert app_client.get("/invoices").status_code == 200


def test_a_wrong_password_is_refused_in_words(app_client: TestClient) -> None:
    token = csrf_of(app_client.get("/login").text)
    response = app_client.post(
        "/login", data={"email": OPERATOR, "password": "wrong password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "do not match" in response.text
    assert app_client.get("/accounts").status_code == 303


def test_next_never_leaves_the_site(app_client: TestClient) -> None:
    token = csrf_of(app_client.get("/login").text)
    response = app_client.post(
        "/login",
        data={
            "email": OPERATOR,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/"  # the dashboard


def test_sign_out_ends_the_session(app_client: TestClient) -> None:
    token = sign_in(app_client, OPERATOR)
    response = app_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert app_client.get("/accounts").status_code == 303


def test_a_user_created_on_the_command_line_can_sign_in(app_client: TestClient) -> None:
    from typer.testing import CliRunner

    from recur.cli import app as cli
    from recur.cli.app import context

    settings = app_client.app.state.ctx.settings  # type: ignore[attr-defined]
    runner = CliRunner()
    context.cache_clear()
    result = runner.invoke(
        cli,
        ["user", "create", "New.Person@Example.com", "--role", "viewer"],
        input="s3cret-password\ns3cret-password\n",
        env={"RECUR_DATABASE_URL": settings.database_url},
    )
    context.cache_clear()
    assert result.exit_code == 0, result.output
    assert "created user new.person@example.com (viewer)" in result.output
    token = csrf_of(app_client.get("/login").text)
    response = app_client.post(
        "/login",
        data={
            "email": "new.person@example.com",
            "password": "s3cret-password",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303


def test_cookie_secure_marks_the_cookie_secure_where_tls_ends_before_the_server(
    sqlite_url: str, acme: object
) -> None:
    settings = Settings(
        database_url=sqlite_url,
        today=TODAY,
        scheduler="off",
        secret_key="test-secret",
        cookie_secure=True,
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:  # plain HTTP
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login", data={"email": OPERATOR, "password": PASSWORD, "csrf_token": token}
        )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-recur_session=")
    assert "secure" in cookie.lower()
