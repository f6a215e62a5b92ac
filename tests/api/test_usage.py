"""Usage through the API (SPEC §13, §16): usage options, batches, a subscription's records."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.factories import (
    account_body,
    created,
    option_id,
    product_body,
    set_today,
    subscription,
)

METERS = [
    {"code": "vm.hours", "name": "Virtual machines", "unit": "hours", "unit_price": "0.096"},
    {"code": "storage.gb", "name": "Storage", "unit": "GB", "unit_price": "0.02"},
]


def azure(client: TestClient, **option: Any) -> int:
    fields: dict[str, Any] = {
        "billing_type": "usage",
        "price": "0",
        "meters": METERS,
        "usage_delay_days": 3,
    }
    fields.update(option)
    return option_id(client, "AZURE", **fields)


def u1(client: TestClient) -> int:
    account = created(client, "/accounts", account_body())
    return int(subscription(client, account["id"], azure(client), "2027-01-11")["id"])


def rec(record_id: str, sub: int, meter: str, quantity: Any, day: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "subscription_id": sub,
        "meter": meter,
        "quantity": quantity,
        "occurred_on": day,
    }


def test_a_usage_option_shows_its_meters_and_delay(client: TestClient) -> None:
    option = created(
        client,
        "/products",
        {
            "sku": "AZURE",
            "name": "Azure plan",
            "pricing_options": [
                {
                    "code": "usage",
                    "billing_period": "monthly",
                    "billing_type": "usage",
                    "unit_price": "0",
                    "currency": "EUR",
                    "meters": METERS,
                    "usage_delay_days": 3,
                }
            ],
        },
    )["pricing_options"][0]
    assert option["billing_type"] == "usage"
    assert option["usage_delay_days"] == 3
    # In the order they were given, which is the order of a document's usage items.
    assert [(m["code"], m["unit"], m["unit_price"]) for m in option["meters"]] == [
        ("vm.hours", "hours", "0.096"),
        ("storage.gb", "GB", "0.02"),
    ]


@pytest.mark.parametrize(
    ("option", "code"),
    [
        ({"billing_period": "one_time"}, "invalid_billing_period"),
        ({"price": "1.00"}, "invalid_unit_price"),
        ({"meters": []}, "missing_meters"),
        ({"meters": [METERS[0], METERS[0]]}, "duplicate_meter_code"),
        ({"meters": [{**METERS[0], "unit_price": "0.0000001"}]}, None),
        ({"usage_delay_days": 32}, None),
        ({"billing_type": "prepaid", "price": "1.00"}, "meters_without_usage"),
    ],
)
def test_usage_option_refusals(
    client: TestClient, option: dict[str, Any], code: str | None
) -> None:
    fields: dict[str, Any] = {"billing_type": "usage", "price": "0", "meters": METERS}
    fields.update(option)
    response = client.post("/api/v1/products", json=product_body("AZURE", **fields))
    assert response.status_code == 422, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code


def test_a_usage_subscription_has_quantity_one_and_no_changes(client: TestClient) -> None:
    account = created(client, "/accounts", account_body())
    body = {
        "account_id": account["id"],
        "pricing_option_id": azure(client),
        "quantity": 2,
        "start_date": "2027-01-11",
    }
    response = client.post("/api/v1/subscriptions", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_quantity"
    sub = created(client, "/subscriptions", {**body, "quantity": 1})
    change = client.post(f"/api/v1/subscriptions/{sub['id']}/changes", json={"quantity": 3})
    assert change.status_code == 422
    assert change.json()["error"]["code"] == "unchangeable_subscription"


def test_the_worked_example_records_duplicates_and_refusals(client: TestClient) -> None:
    """SPEC §15's records through the API."""
    sub = u1(client)
    set_today(client, "2027-01-31")
    first = [
        rec("r1", sub, "vm.hours", "120.5", "2027-01-15"),
        rec("r2", sub, "vm.hours", "300", "2027-01-31"),
    ]
    response = client.post("/api/v1/usage", json={"records": first})
    assert response.status_code == 201, response.text
    assert response.json() == {"accepted": 2, "duplicates": 0}
    set_today(client, "2027-02-01")
    again = [first[1], rec("r3", sub, "storage.gb", 512, "2027-02-01")]
    assert client.post("/api/v1/usage", json={"records": again}).json() == {
        "accepted": 1,
        "duplicates": 1,
    }
    set_today(client, "2027-02-20")
    late = [
        rec("r4", sub, "vm.hours", "10", "2027-02-05"),
        rec("r5", sub, "vm.hours", "50", "2027-02-20"),
    ]
    assert client.post("/api/v1/usage", json={"records": late}).status_code == 201
    changed = client.post(
        "/api/v1/usage", json={"records": [rec("r5", sub, "vm.hours", "51", "2027-02-20")]}
    )
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "usage_id_taken"
    assert "records[0] (id 'r5')" in changed.json()["error"]["message"]
    gpu = client.post("/api/v1/usage", json={"records": [rec("r6", sub, "gpu", "1", "2027-02-20")]})
    assert gpu.status_code == 422
    assert gpu.json()["error"]["code"] == "unknown_meter"
    unknown = client.post(
        "/api/v1/usage", json={"records": [rec("r7", 9999, "gpu", "1", "2027-02-20")]}
    )
    assert unknown.status_code == 404

    listed = client.get(f"/api/v1/subscriptions/{sub}/usage", params={"limit": 2}).json()
    assert listed["total"] == 5
    assert [
        (r["id"], r["quantity"], r["received_on"], r["invoice_id"]) for r in listed["data"]
    ] == [
        ("r1", "120.5", "2027-01-31", None),
        ("r2", "300", "2027-01-31", None),
    ]
    rest = client.get(
        f"/api/v1/subscriptions/{sub}/usage", params={"limit": 2, "cursor": listed["next_cursor"]}
    ).json()
    assert [r["id"] for r in rest["data"]] == ["r3", "r4"]
    window = client.get(
        f"/api/v1/subscriptions/{sub}/usage", params={"from": "2027-02-01", "to": "2027-02-05"}
    ).json()
    assert [(r["id"], r["meter"], r["unit"]) for r in window["data"]] == [
        ("r3", "storage.gb", "GB"),
        ("r4", "vm.hours", "hours"),
    ]
    assert client.get("/api/v1/subscriptions/9999/usage").status_code == 404


def test_a_batch_honours_an_idempotency_key(client: TestClient) -> None:
    sub = u1(client)
    set_today(client, "2027-01-20")
    body = {"records": [rec("r1", sub, "vm.hours", "1", "2027-01-15")]}
    headers = {"Idempotency-Key": "batch-1"}
    first = client.post("/api/v1/usage", json=body, headers=headers)
    replay = client.post("/api/v1/usage", json=body, headers=headers)
    assert first.json() == replay.json() == {"accepted": 1, "duplicates": 0}
    assert replay.headers.get("Idempotent-Replayed") == "true"


def test_a_batch_of_ten_thousand_records_passes_the_body_limit(client: TestClient) -> None:
    sub = u1(client)
    set_today(client, "2027-02-01")
    records = [
        rec(f"record-{i:06}-" + "x" * 60, sub, "vm.hours", "1.5", "2027-01-15")
        for i in range(10_000)
    ]
    response = client.post("/api/v1/usage", json={"records": records})
    assert response.status_code == 201, response.text[:300]
    assert response.json() == {"accepted": 10_000, "duplicates": 0}
    too_many = client.post("/api/v1/usage", json={"records": [*records, records[0]]})
    assert too_many.status_code == 422


def test_the_usage_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    post = paths["/api/v1/usage"]["post"]
    assert {"201", "404", "409", "422"} <= set(post["responses"])
    assert "/api/v1/subscriptions/{subscription_id}/usage" in paths
