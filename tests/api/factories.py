"""Request bodies for the API tests: the SPEC §8 catalogue and account, and variations."""

from typing import Any

from fastapi.testclient import TestClient


def product_body(sku: str = "O365-E3", price: str = "12.50", **option: Any) -> dict[str, Any]:
    pricing = {
        "code": "monthly",
        "billing_period": "monthly",
        "billing_type": "prepaid",
        "unit_price": price,
        "currency": "EUR",
    }
    pricing.update(option)
    return {"sku": sku, "name": f"Product {sku}", "pricing_options": [pricing]}


def account_body(name: str = "Acme Ltd", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "email": "billing@acme.example",
        "currency": "EUR",
        "billing_day": 11,
        "tax_rate": "24",
        "payment_terms_days": 30,
    }
    body.update(changes)
    return body


def created(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1{path}", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def option_id(client: TestClient, sku: str = "O365-E3", **option: Any) -> int:
    return int(
        created(client, "/products", product_body(sku, **option))["pricing_options"][0]["id"]
    )


def subscription(
    client: TestClient, account_id: int, pricing_option_id: int, start: str, quantity: int = 1
) -> dict[str, Any]:
    body = {
        "account_id": account_id,
        "pricing_option_id": pricing_option_id,
        "quantity": quantity,
        "start_date": start,
    }
    return created(client, "/subscriptions", body)


def set_today(client: TestClient, day: str) -> None:
    response = client.put("/api/v1/test/clock", json={"today": day})
    assert response.status_code == 200, response.text
