"""Idempotency-Key: a retry gets the first answer; concurrent duplicates issue one invoice."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN_TOKEN, bearer, make_app
from tests.api.factories import account_body, created, option_id, set_today, subscription

API = "/api/v1"


def acme_with_subscription(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    acme = created(client, "/accounts", account_body())
    sub = subscription(client, acme["id"], option_id(client), "2027-01-11")
    set_today(client, "2027-01-15")
    return acme, sub


def invoice_count(client: TestClient) -> int:
    return int(client.get(f"{API}/invoices").json()["total"])


def test_generate_retry_returns_the_first_answer(client: TestClient) -> None:
    acme, sub = acme_with_subscription(client)
    path = f"{API}/accounts/{acme['id']}/invoices/generate"
    key = {"Idempotency-Key": "gen-1"}
    first = client.post(path, json={"subscription_ids": [sub["id"]]}, headers=key)
    retry = client.post(path, json={"subscription_ids": [sub["id"]]}, headers=key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert invoice_count(client) == 1
    # answered without reading the invoice back, yet exactly what is stored
    [issued] = first.json()["invoices"]
    assert client.get(f"{API}/invoices/{issued['id']}").json() == issued
    # the first answer stands even once the invoice has changed since
    assert client.post(f"{API}/invoices/{issued['id']}/pay").status_code == 200
    late = client.post(path, json={"subscription_ids": [sub["id"]]}, headers=key)
    assert late.json() == first.json()
    other = client.post(path, json={"subscription_ids": [sub["id"], 5]}, headers=key)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    # the same selection without a key is a new request: nothing is pending any more...
    again = client.post(path, json={"subscription_ids": [sub["id"]]})
    assert again.status_code == 201  # ...but the next period is (pending always looks ahead)
    assert invoice_count(client) == 2


def test_any_post_is_idempotent(client: TestClient) -> None:
    key = {"Idempotency-Key": "acct-1"}
    first = client.post(f"{API}/accounts", json=account_body("Once"), headers=key)
    retry = client.post(f"{API}/accounts", json=account_body("Once"), headers=key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert client.get(f"{API}/accounts").json()["total"] == 1
    # an error answer is the first answer too
    bad = {"Idempotency-Key": "bad-1"}
    refused = client.post(f"{API}/invoices/999/pay", headers=bad)
    again = client.post(f"{API}/invoices/999/pay", headers=bad)
    assert refused.status_code == again.status_code == 404
    assert refused.json() == again.json()
    response = client.post(f"{API}/accounts", json=account_body("Twice"), headers=key)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    response = client.post(f"{API}/accounts", json=account_body(), headers={"Idempotency-Key": " "})
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


def test_keys_belong_to_their_token_and_path(client: TestClient) -> None:
    key = {"Idempotency-Key": "shared"}
    a = client.post(f"{API}/accounts", json=account_body("A"), headers=key)
    b = client.post(f"{API}/billing-runs", json={}, headers=key)
    assert (a.status_code, b.status_code) == (201, 201)


def test_concurrent_identical_requests_issue_one_invoice(postgres_url: str) -> None:
    app = make_app(postgres_url, server_threads=8)  # eight requests in flight at once
    with TestClient(app, headers=bearer(ADMIN_TOKEN)) as client:
        acme, sub = acme_with_subscription(client)
        path = f"{API}/accounts/{acme['id']}/invoices/generate"

        def generate(_: int) -> tuple[int, Any]:
            response = client.post(
                path, json={"subscription_ids": [sub["id"]]}, headers={"Idempotency-Key": "race"}
            )
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(generate, range(16)))
        assert {status for status, _ in answers} == {201}
        assert all(body == answers[0][1] for _, body in answers)
        assert invoice_count(client) == 1
        assert client.get(f"{API}/invoices").json()["data"][0]["number"] == "INV-2027-000001"


def test_concurrent_requests_without_key_never_bill_a_period_twice(postgres_url: str) -> None:
    app = make_app(postgres_url, server_threads=8)  # eight requests in flight at once
    with TestClient(app, headers=bearer(ADMIN_TOKEN)) as client:
        _acme, sub = acme_with_subscription(client)
        path = f"{API}/subscriptions/{sub['id']}/invoices/generate"
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: client.post(path).status_code, range(8)))
        assert set(statuses) <= {201, 409}
        invoices = client.get(f"{API}/invoices", params={"limit": 100}).json()["data"]
        periods = [i["period_start"] for inv in invoices for i in inv["items"]]
        assert len(periods) == len(set(periods))
        assert len(invoices) == statuses.count(201)
