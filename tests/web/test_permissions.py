"""CSRF tokens on every form and roles checked on the server for every write."""

import pytest
from fastapi.testclient import TestClient

from tests.web.acme import Acme
from tests.web.test_input import product_form


def test_a_post_without_its_csrf_token_is_refused(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, _ = operator
    response = client.post(
        f"/accounts/{acme.account_id}/generate",
        data={"selected": str(acme.s1), "action": "generate", "idempotency_key": "k"},
    )
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert "1 in all" in client.get("/invoices").text  # only the run's


def test_a_post_with_another_sessions_token_is_refused(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, _ = operator
    response = client.post("/billing-runs", data={"csrf_token": "forged-token"})
    assert response.status_code == 403


def test_the_sign_in_form_needs_its_token_too(app_client: TestClient) -> None:
    response = app_client.post("/login", data={"email": "a@b.c", "password": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/accounts/{account}/generate", {"selected": "{s1}", "action": "generate"}),
        ("/subscriptions/{s2}/generate", {}),
        ("/subscriptions/{s2}/cancel", {"at": "now"}),
        ("/subscriptions/{s2}/cancel", {"at": "now", "action": "confirm"}),
        ("/subscriptions/{s1}/change", {"quantity": "12", "effective": "now"}),
        ("/subscriptions/{s1}/changes/1/withdraw", {}),
        ("/invoices/1/pay", {}),
        ("/billing-runs", {}),
        ("/accounts", {"name": "X", "email": "x@example.com", "currency": "EUR"}),
        ("/accounts/{account}/edit", {"name": "Renamed"}),
        ("/subscriptions", {"account_id": "{account}"}),
        ("/products", {"sku": "X"}),
        ("/users", {"email": "x@example.com", "role": "admin", "password": "12345678"}),
    ],
)
def test_a_viewer_may_not_write(
    viewer: tuple[TestClient, str], acme: Acme, path: str, data: dict[str, str]
) -> None:
    client, token = viewer
    ids = {"account": acme.account_id, "s1": acme.s1, "s2": acme.s2}
    form = {k: v.format(**ids) for k, v in data.items()} | {"csrf_token": token}
    response = client.post(path.format(**ids), data=form)
    assert response.status_code == 403
    assert "may not do this" in response.text


def test_a_viewer_sees_no_write_buttons(viewer: tuple[TestClient, str], acme: Acme) -> None:
    client, _ = viewer
    pending = client.get(f"/accounts/{acme.account_id}/pending").text
    assert "€79.60" in pending
    assert "Generate Invoices" not in pending
    assert "generate-dialog" not in pending
    assert "Mark as paid" not in client.get("/invoices/1").text
    assert "Run now" not in client.get("/billing-runs").text
    assert "New account" not in client.get("/accounts").text
    assert client.get(f"/subscriptions/{acme.s2}/generate").status_code == 403


def test_an_operator_may_not_manage_products_or_users(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    assert client.get("/products/new").status_code == 403
    assert client.get("/users").status_code == 403
    response = client.post("/products", data={"csrf_token": token, "sku": "X", "name": "X"})
    assert response.status_code == 403


def test_an_admin_adds_a_product_and_a_user(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    response = client.post(
        "/products",
        data=product_form(
            token,
            sku="M365-BP",
            name="Microsoft 365 Business Premium",
            taxable="on",
            code="annual",
            billing_period="annual",
            unit_price="264.00",
            auto_renew="on",
        ),
    )
    assert response.status_code == 303
    assert "Microsoft 365 Business Premium" in client.get("/products").text
    response = client.post(
        "/users",
        data={
            "csrf_token": token,
            "email": "ops2@example.com",
            "role": "operator",
            "password": "x",
        },
    )
    assert response.status_code == 422
    assert "at least 8 characters" in response.text
