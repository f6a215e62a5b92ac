"""What every exchange obeys: security headers, body size, authentication before the
body, a true Allow header, bounded previews and /docs without internet."""

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from recur.domain.invoices import PREVIEW_CHARGE_LIMIT
from recur.domain.roles import Role
from tests.api.conftest import ADMIN_TOKEN, START, bearer, make_app
from tests.api.factories import account_body, created, option_id, subscription
from tests.api.test_resources import error_of

API = "/api/v1"
SMALL_LIMIT = 4096  # RECUR_MAX_BODY_BYTES for these tests


@pytest.fixture
def limited(db_url: str) -> Iterator[TestClient]:
    """A client with its admin token, on an app whose body limit is SMALL_LIMIT."""
    app = make_app(db_url, max_body_bytes=SMALL_LIMIT)
    with TestClient(app, headers=bearer(ADMIN_TOKEN)) as test_client:
        yield test_client


def assert_guarded(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


def test_every_kind_of_answer_carries_the_security_headers(client: TestClient) -> None:
    account = created(client, "/accounts", account_body())
    assert_guarded(client.get(f"{API}/accounts/{account['id']}"))  # an API answer
    assert_guarded(client.get("/login"))  # a back-office page
    assert_guarded(client.get("/accounts"))  # its redirect to sign in
    assert_guarded(client.get("/static/app.css"))  # a static file
    assert_guarded(client.get(f"{API}/accounts/999"))  # an error
    assert_guarded(client.post(f"{API}/accounts", json={}))  # a validation error
    assert_guarded(client.get("/healthz"))


def test_a_body_over_the_limit_is_refused_before_it_is_read(limited: TestClient) -> None:
    oversized = b"{" + b" " * SMALL_LIMIT + b"}"
    declared = limited.post(f"{API}/accounts", content=oversized)
    assert error_of(declared, 413) == "body_too_large"
    assert str(SMALL_LIMIT) in declared.json()["error"]["message"]
    assert_guarded(declared)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b"{"
        for _ in range(SMALL_LIMIT // 512 + 1):
            yield b" " * 512
        yield b"}"

    streamed = limited.post(f"{API}/accounts", content=chunks())
    assert "content-length" not in streamed.request.headers
    assert error_of(streamed, 413) == "body_too_large"
    # The back office's forms too, and a body under the limit still works.
    assert limited.post("/login", content=oversized).status_code == 413
    assert limited.post(f"{API}/accounts", json=account_body()).status_code == 201


def test_a_malformed_body_without_a_valid_token_is_unauthorized(
    client: TestClient, token_for: Callable[[Role], str]
) -> None:
    json = {"Content-Type": "application/json"}
    for body in (b"{not json", b"\xff\xfe", b'{"name": 1}'):
        response = client.post(
            f"{API}/accounts", content=body, headers={**json, "Authorization": ""}
        )
        assert error_of(response, 401) == "unauthorized", body
        wrong = {**json, "Authorization": "Bearer wrong"}
        response = client.post(f"{API}/accounts", content=body, headers=wrong)
        assert error_of(response, 401) == "invalid_token", body
    viewer = {**json, **bearer(token_for(Role.VIEWER))}
    response = client.post(f"{API}/accounts", content=b"{not json", headers=viewer)
    assert error_of(response, 403) == "forbidden"
    # With a token that may write, the body's fault is told.
    response = client.post(f"{API}/accounts", content=b"{not json", headers=json)
    assert error_of(response, 422) == "invalid_request"


def test_405_names_every_method_of_the_path(client: TestClient) -> None:
    account = created(client, "/accounts", account_body())
    response = client.delete(f"{API}/accounts/{account['id']}")
    assert error_of(response, 405) == "method_not_allowed"
    assert response.headers["allow"] == "GET, PATCH"
    assert client.put(f"{API}/accounts").headers["allow"] == "GET, POST"
    assert client.delete("/accounts/1/edit").headers["allow"] == "GET, POST"


def test_a_preview_beyond_the_horizon_is_refused_with_the_limit(client: TestClient) -> None:
    account = created(client, "/accounts", account_body())
    subscription(client, account["id"], option_id(client), "1970-01-01")
    last = date(START.year + 5, START.month, START.day).isoformat()
    ok = client.get(f"{API}/accounts/{account['id']}/pending-invoices", params={"as_of": last})
    assert ok.status_code == 200, ok.text
    beyond = client.get(
        f"{API}/accounts/{account['id']}/pending-invoices", params={"as_of": "2199-12-31"}
    )
    assert error_of(beyond, 422) == "as_of_too_far"
    assert (
        f"at most 5 years ahead: as_of must be on or before {last}"
        in (beyond.json()["error"]["message"])
    )
    sub_beyond = client.get(f"{API}/subscriptions/1/pending-invoices?as_of=2199-12-31")
    assert error_of(sub_beyond, 422) == "as_of_too_far"


def test_a_preview_of_too_many_charges_is_refused(app: FastAPI, client: TestClient) -> None:
    account = created(client, "/accounts", account_body())
    option = option_id(client)
    monthly_since_1970 = (START.year - 1970) * 12 + START.month
    for _ in range(PREVIEW_CHARGE_LIMIT // monthly_since_1970 + 1):
        subscription(client, account["id"], option, "1970-01-01")
    response = client.get(f"{API}/accounts/{account['id']}/pending-invoices")
    assert error_of(response, 422) == "preview_too_large"
    assert f"more than {PREVIEW_CHARGE_LIMIT:,} charges" in response.json()["error"]["message"]


def test_docs_load_only_files_this_server_serves(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "<script>" not in page.text  # none inline: the CSP would refuse it
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) >= 3
    for asset in assets:
        assert asset.startswith("/"), asset  # same origin, no CDN
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 100, asset
    assert client.get("/redoc").status_code == 404  # its CDN page is not offered
