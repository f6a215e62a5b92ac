"""Every route's happy path, its error statuses in the one error shape, pages and filters."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recur.domain.roles import Role
from tests.api.conftest import bearer
from tests.api.factories import (
    account_body,
    created,
    option_id,
    product_body,
    set_today,
    subscription,
)

API = "/api/v1"


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    return str(body["error"]["code"])


def test_products(client: TestClient) -> None:
    body = product_body("SEAT", "0.0125", setup_fee="5", term_months=12, billing_day=3)
    product = created(client, "/products", body)
    [option] = product["pricing_options"]
    assert option["unit_price"] == "0.0125"
    assert option["setup_fee"] == "5.00"
    assert (option["term_months"], option["billing_day"], option["active"]) == (12, 3, True)
    assert client.get(f"{API}/products/{product['id']}").json() == product
    listed = client.get(f"{API}/products").json()
    assert (listed["total"], listed["next_cursor"]) == (1, None)
    assert listed["data"] == [product]
    assert error_of(client.post(f"{API}/products", json=body), 409) == "sku_taken"
    assert error_of(client.get(f"{API}/products/999"), 404) == "product_not_found"
    bad = product_body("X", "1", term_months=5, billing_period="quarterly")
    assert error_of(client.post(f"{API}/products", json=bad), 422) == "invalid_term_months"
    bad = product_body("Y", "1", currency="XXY")
    assert error_of(client.post(f"{API}/products", json=bad), 422) == "unknown_currency"
    bad = product_body("Z", "-1")
    assert error_of(client.post(f"{API}/products", json=bad), 422) == "invalid_request"


def test_accounts(client: TestClient) -> None:
    acme = created(client, "/accounts", account_body("Acme Ltd", tax_rate="7.5"))
    assert acme["tax_rate"] == "7.50"
    assert (acme["partial_charges"], acme["invoice_grouping"]) == ("on_order_day", "consolidated")
    assert client.get(f"{API}/accounts/{acme['id']}").json() == acme
    patched = client.patch(
        f"{API}/accounts/{acme['id']}", json={"billing_day": None, "payment_terms_days": 14}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["billing_day"], patched.json()["payment_terms_days"]) == (None, 14)
    response = client.patch(f"{API}/accounts/{acme['id']}", json={"name": None})
    assert error_of(response, 422) == "null_field"
    response = client.patch(f"{API}/accounts/{acme['id']}", json={"colour": "red"})
    assert error_of(response, 422) == "invalid_request"
    assert error_of(client.patch(f"{API}/accounts/999", json={"name": "x"}), 404) == (
        "account_not_found"
    )
    assert error_of(client.get(f"{API}/accounts/999"), 404) == "account_not_found"
    assert error_of(client.get(f"{API}/accounts/0"), 422) == "invalid_request"
    assert error_of(client.get(f"{API}/accounts/abc"), 422) == "invalid_request"
    bad = account_body(email="nobody")
    assert error_of(client.post(f"{API}/accounts", json=bad), 422) == "invalid_request"
    bad = account_body(billing_day=29)
    assert error_of(client.post(f"{API}/accounts", json=bad), 422) == "invalid_request"
    assert error_of(client.post(f"{API}/accounts", content=b"{not json"), 422) == "invalid_request"

    # the currency of an account with subscriptions is locked
    subscription(client, acme["id"], option_id(client), "2027-01-11")
    response = client.patch(f"{API}/accounts/{acme['id']}", json={"currency": "USD"})
    assert error_of(response, 409) == "currency_locked"


def test_account_search_and_pages(client: TestClient) -> None:
    for n in range(7):
        created(client, "/accounts", account_body(f"Customer {n}"))
    created(client, "/accounts", account_body("Other"))
    first = client.get(f"{API}/accounts", params={"limit": 3, "search": "customer"}).json()
    assert (first["total"], len(first["data"])) == (7, 3)
    seen = [a["name"] for a in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(
            f"{API}/accounts", params={"limit": 3, "search": "customer", "cursor": cursor}
        ).json()
        seen += [a["name"] for a in page["data"]]
        cursor = page["next_cursor"]
    assert seen == [f"Customer {n}" for n in range(7)]
    assert error_of(client.get(f"{API}/accounts", params={"limit": 0}), 422) == "invalid_request"
    assert error_of(client.get(f"{API}/accounts", params={"limit": 101}), 422) == "invalid_request"
    response = client.get(f"{API}/accounts", params={"cursor": "garbage!"})
    assert error_of(response, 422) == "invalid_cursor"


def test_subscriptions(client: TestClient) -> None:
    acme = created(client, "/accounts", account_body())
    other = created(client, "/accounts", account_body("Other", billing_day=None))
    usd = created(client, "/accounts", account_body("Dollar", currency="USD"))
    option = option_id(client)
    sub = subscription(client, acme["id"], option, "2027-01-11", quantity=3)
    assert (sub["status"], sub["term_end"], sub["end_date"]) == ("active", "2027-02-11", None)
    assert sub["auto_renew"] is True
    subscription(client, other["id"], option, "2027-01-05")
    assert client.get(f"{API}/subscriptions/{sub['id']}").json() == sub
    mine = client.get(f"{API}/subscriptions", params={"account_id": acme["id"]}).json()
    assert [s["id"] for s in mine["data"]] == [sub["id"]]
    assert client.get(f"{API}/subscriptions", params={"status": "active"}).json()["total"] == 2

    cancelled = client.post(f"{API}/subscriptions/{sub['id']}/cancel", json={"at": "end_of_period"})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["end_date"]) == ("cancelled", "2027-02-11")
    assert client.get(f"{API}/subscriptions", params={"status": "cancelled"}).json()["total"] == 1
    response = client.post(f"{API}/subscriptions/{sub['id']}/cancel", json={"at": "now"})
    assert error_of(response, 409) == "already_cancelled"
    response = client.post(f"{API}/subscriptions/{sub['id']}/cancel", json={"at": "later"})
    assert error_of(response, 422) == "invalid_request"
    response = client.post(f"{API}/subscriptions/999/cancel", json={"at": "now"})
    assert error_of(response, 404) == "subscription_not_found"
    assert error_of(client.get(f"{API}/subscriptions/999"), 404) == "subscription_not_found"

    def order(**changes: Any) -> Any:
        body = {"account_id": acme["id"], "pricing_option_id": option, "quantity": 1}
        body |= {"start_date": "2027-01-11", **changes}
        return client.post(f"{API}/subscriptions", json=body)

    assert error_of(order(account_id=999), 404) == "account_not_found"
    assert error_of(order(pricing_option_id=999), 404) == "pricing_option_not_found"
    assert error_of(order(account_id=usd["id"]), 422) == "currency_mismatch"
    assert error_of(order(quantity=0), 422) == "invalid_request"
    assert error_of(order(start_date="2027-02-30"), 422) == "invalid_request"
    client.patch(f"{API}/accounts/{other['id']}", json={"status": "closed"})
    assert error_of(order(account_id=other["id"]), 409) == "account_closed"


@pytest.fixture
def billed(client: TestClient) -> dict[str, Any]:
    """Two accounts with invoices from a run, a manual generation and a paid one."""
    acme = created(client, "/accounts", account_body("Acme Ltd"))
    beta = created(client, "/accounts", account_body("Beta", billing_day=None))
    option = option_id(client)
    s1 = subscription(client, acme["id"], option, "2027-01-11")
    s2 = subscription(client, beta["id"], option, "2027-01-11")
    run = created(client, "/billing-runs", {"as_of": "2027-01-11"})
    assert run["invoices_issued"] == 2
    set_today(client, "2027-01-20")
    manual = created(client, f"/subscriptions/{s1['id']}/invoices/generate", {})["invoices"]
    paid = client.post(f"{API}/invoices/{manual[0]['id']}/pay")
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert paid.json()["paid_at"]
    return {"acme": acme, "beta": beta, "s1": s1, "s2": s2, "run": run, "manual": manual}


def test_invoices_and_filters(client: TestClient, billed: dict[str, Any]) -> None:
    everything = client.get(f"{API}/invoices").json()
    assert everything["total"] == 3
    assert [i["issue_date"] for i in everything["data"]] == [
        "2027-01-20",
        "2027-01-11",
        "2027-01-11",
    ]

    def numbers(**params: Any) -> list[str]:
        response = client.get(f"{API}/invoices", params=params)
        assert response.status_code == 200, response.text
        return [i["number"] for i in response.json()["data"]]

    manual_number = billed["manual"][0]["number"]
    assert numbers(source="manual") == [manual_number]
    assert len(numbers(source="automatic")) == 2
    assert numbers(status="paid") == [manual_number]
    assert len(numbers(status="unpaid")) == 2
    assert len(numbers(account_id=billed["acme"]["id"])) == 2
    assert numbers(issued_from="2027-01-20") == [manual_number]
    assert len(numbers(issued_to="2027-01-11")) == 2
    assert len(numbers(issued_from="2027-01-11", issued_to="2027-01-20")) == 3
    assert numbers(issued_from="2027-01-12", issued_to="2027-01-19") == []
    assert numbers(number=manual_number) == [manual_number]
    page = client.get(f"{API}/invoices", params={"limit": 2}).json()
    assert (len(page["data"]), page["total"]) == (2, 3)
    rest = client.get(f"{API}/invoices", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert (len(rest["data"]), rest["next_cursor"]) == (1, None)
    assert error_of(client.get(f"{API}/invoices", params={"status": "lost"}), 422) == (
        "invalid_request"
    )
    assert error_of(client.get(f"{API}/invoices/999"), 404) == "invoice_not_found"
    assert error_of(client.post(f"{API}/invoices/999/pay"), 404) == "invoice_not_found"
    response = client.post(f"{API}/invoices/{billed['manual'][0]['id']}/pay")
    assert error_of(response, 409) == "invoice_not_unpaid"


def test_invoice_pdf(client: TestClient, billed: dict[str, Any]) -> None:
    response = client.get(f"{API}/invoices/{billed['manual'][0]['id']}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert error_of(client.get(f"{API}/invoices/999/pdf"), 404) == "invoice_not_found"


def test_generation_refusals(client: TestClient, billed: dict[str, Any]) -> None:
    acme, s1, s2 = billed["acme"], billed["s1"], billed["s2"]
    generate = f"{API}/accounts/{acme['id']}/invoices/generate"
    assert error_of(client.post(generate, json={"subscription_ids": []}), 422) == "empty_selection"
    response = client.post(generate, json={"subscription_ids": [s1["id"], s2["id"]]})
    assert error_of(response, 422) == "subscription_of_another_account"
    response = client.post(generate, json={"subscription_ids": [s1["id"], 999]})
    assert error_of(response, 404) == "subscription_not_found"
    assert error_of(client.post(generate, json={}), 422) == "invalid_request"
    response = client.post(f"{API}/accounts/999/invoices/generate", json={"subscription_ids": [1]})
    assert error_of(response, 404) == "account_not_found"
    response = client.post(f"{API}/subscriptions/999/invoices/generate")
    assert error_of(response, 404) == "subscription_not_found"
    # cancelled now, after days past its end were invoiced: a credit note is pending
    # (SPEC §11), and once it is issued nothing is
    client.post(f"{API}/subscriptions/{s1['id']}/cancel", json={"at": "now"})
    response = client.post(generate, json={"subscription_ids": [s1["id"]]})
    assert response.status_code == 201, response.text
    (credit,) = response.json()["invoices"]
    assert (credit["type"], credit["number"]) == ("credit", "CN-2027-000001")
    assert Decimal(credit["total"]) < 0
    response = client.post(generate, json={"subscription_ids": [s1["id"]]})
    assert error_of(response, 409) == "nothing_pending"
    # nothing issued by any refusal: the three invoices before, and the credit note
    assert client.get(f"{API}/invoices").json()["total"] == 4


def test_pending_views(client: TestClient, billed: dict[str, Any]) -> None:
    s2 = billed["s2"]
    response = client.get(f"{API}/subscriptions/{s2['id']}/pending-invoices")
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2027-01-20"
    assert [p["issue_date"] for p in body["data"]] == ["2027-02-11"]
    later = client.get(
        f"{API}/subscriptions/{s2['id']}/pending-invoices", params={"as_of": "2027-03-15"}
    ).json()
    assert [p["issue_date"] for p in later["data"]] == ["2027-03-15", "2027-04-11"]
    response = client.get(f"{API}/subscriptions/999/pending-invoices")
    assert error_of(response, 404) == "subscription_not_found"
    response = client.get(f"{API}/accounts/999/pending-invoices")
    assert error_of(response, 404) == "account_not_found"
    response = client.get(f"{API}/accounts/1/pending-invoices", params={"as_of": "someday"})
    assert error_of(response, 422) == "invalid_request"


def test_billing_runs(client: TestClient, billed: dict[str, Any]) -> None:
    run = billed["run"]
    assert (run["status"], run["triggered_by"], run["errors"]) == ("completed", "token:env", [])
    assert run["worker"]
    assert client.get(f"{API}/billing-runs/{run['id']}").json() == run
    again = created(client, "/billing-runs", {"as_of": "2027-01-11"})
    assert again["invoices_issued"] == 0  # idempotent per date
    listed = client.get(f"{API}/billing-runs").json()
    assert [r["id"] for r in listed["data"]] == [again["id"], run["id"]]
    response = client.post(f"{API}/billing-runs", json={"as_of": "2027-01-21"})
    assert error_of(response, 422) == "as_of_in_future"
    assert error_of(client.get(f"{API}/billing-runs/999"), 404) == "billing_run_not_found"
    no_body = client.post(f"{API}/billing-runs")
    assert no_body.status_code == 201
    assert no_body.json()["as_of"] == "2027-01-20"


def test_authentication(client: TestClient) -> None:
    anonymous = {"Authorization": ""}
    response = client.get(f"{API}/accounts", headers=anonymous)
    assert error_of(response, 401) == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    response = client.get(f"{API}/accounts", headers={"Authorization": "Bearer wrong"})
    assert error_of(response, 401) == "invalid_token"
    response = client.get(f"{API}/accounts", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert error_of(response, 401) == "unauthorized"
    response = client.post(f"{API}/accounts", json=account_body(), headers=anonymous)
    assert error_of(response, 401) == "unauthorized"
    for open_path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert client.get(open_path, headers=anonymous).status_code == 200, open_path


def test_roles(client: TestClient, token_for: Callable[[Role], str]) -> None:
    viewer, operator = bearer(token_for(Role.VIEWER)), bearer(token_for(Role.OPERATOR))
    assert client.get(f"{API}/accounts", headers=viewer).status_code == 200
    response = client.post(f"{API}/accounts", json=account_body(), headers=viewer)
    assert error_of(response, 403) == "forbidden"
    assert error_of(
        client.put(f"{API}/test/clock", json={"today": "2027-02-01"}, headers=viewer), 403
    )
    response = client.post(f"{API}/products", json=product_body(), headers=operator)
    assert error_of(response, 403) == "forbidden"
    response = client.post(f"{API}/accounts", json=account_body(), headers=operator)
    assert response.status_code == 201
    assert client.post(f"{API}/billing-runs", headers=operator).json()["triggered_by"] == (
        "token:operator-test"
    )


def test_unknown_routes_answer_in_the_error_shape(client: TestClient) -> None:
    assert error_of(client.get(f"{API}/nowhere"), 404) == "not_found"
    assert error_of(client.delete(f"{API}/accounts"), 405) == "method_not_allowed"
