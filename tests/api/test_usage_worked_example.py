"""SPEC §15, step by step and to the cent, entirely through the API with the test clock."""

from typing import Any

from fastapi.testclient import TestClient

from tests.api.factories import account_body, created, set_today, subscription

METERS = [
    {"code": "vm.hours", "name": "Virtual machines", "unit": "hours", "unit_price": "0.096"},
    {"code": "storage.gb", "name": "Storage", "unit": "GB", "unit_price": "0.02"},
]


def rec(record_id: str, sub: int, meter: str, quantity: Any, day: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "subscription_id": sub,
        "meter": meter,
        "quantity": quantity,
        "occurred_on": day,
    }


def post_usage(client: TestClient, *records: dict[str, Any]) -> Any:
    return client.post("/api/v1/usage", json={"records": list(records)})


def summary(invoice: dict[str, Any]) -> tuple[Any, ...]:
    items = [
        (
            i["subscription_id"],
            i["kind"],
            i["meter"],
            i["period_start"],
            i["period_end"],
            i["quantity"],
            i["amount"],
        )
        for i in invoice["items"]
    ]
    return (invoice["issue_date"], invoice["subtotal"], invoice["tax"], invoice["total"], items)


def test_usage_worked_example(client: TestClient) -> None:
    set_today(client, "2027-01-11")
    acme = created(client, "/accounts", account_body("Acme Ltd"))
    azure = created(
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
    )
    u1 = int(
        subscription(client, acme["id"], azure["pricing_options"][0]["id"], "2027-01-11")["id"]
    )

    # r1, r2, r3, each received the day it occurred; r2 sent again on 1 Feb.
    for today, record in [
        ("2027-01-15", rec("r1", u1, "vm.hours", "120.5", "2027-01-15")),
        ("2027-01-31", rec("r2", u1, "vm.hours", "300", "2027-01-31")),
        ("2027-02-01", rec("r3", u1, "storage.gb", "512", "2027-02-01")),
    ]:
        set_today(client, today)
        response = post_usage(client, record)
        assert response.status_code == 201, response.text
        assert response.json() == {"accepted": 1, "duplicates": 0}
    again = post_usage(client, rec("r2", u1, "vm.hours", "300", "2027-01-31"))
    assert (again.status_code, again.json()) == (201, {"accepted": 0, "duplicates": 1})

    february = (
        "2027-02-14",
        "50.61",
        "12.15",
        "62.76",
        [
            (u1, "usage", "vm.hours", "2027-01-11", "2027-02-10", "420.5", "40.37"),
            (u1, "usage", "storage.gb", "2027-01-11", "2027-02-10", "512", "10.24"),
        ],
    )
    pending = client.get(f"/api/v1/accounts/{acme['id']}/pending-invoices").json()
    assert pending["as_of"] == "2027-02-01"
    assert [summary(p) for p in pending["data"]] == [february]
    assert [i["unit_price"] for i in pending["data"][0]["items"]] == ["0.096", "0.02"]
    assert (
        client.get(
            f"/api/v1/subscriptions/{u1}/pending-invoices", params={"as_of": "2027-02-01"}
        ).json()["data"]
        == pending["data"]
    )

    set_today(client, "2027-02-13")
    assert created(client, "/billing-runs", {})["invoices_issued"] == 0
    set_today(client, "2027-02-14")
    run = created(client, "/billing-runs", {"as_of": "2027-02-14"})
    assert (run["as_of"], run["invoices_issued"], run["charges_issued"]) == ("2027-02-14", 1, 2)
    (issued,) = client.get("/api/v1/invoices", params={"account_id": acme["id"]}).json()["data"]
    assert summary(issued) == february
    assert (issued["number"], issued["due_date"], issued["source"]) == (
        "INV-2027-000001",
        "2027-03-16",
        "automatic",
    )
    # The preview showed exactly what was issued (SPEC §5's invariant).
    shown = {k: v for k, v in pending["data"][0].items() if k in ("subtotal", "tax", "total")}
    assert shown == {k: issued[k] for k in shown}
    assert pending["data"][0]["items"] == issued["items"]

    listed = client.get(f"/api/v1/subscriptions/{u1}/usage").json()
    assert [
        (r["id"], r["quantity"], r["received_on"], r["invoice_id"]) for r in listed["data"]
    ] == [
        ("r1", "120.5", "2027-01-15", issued["id"]),
        ("r2", "300", "2027-01-31", issued["id"]),
        ("r3", "512", "2027-02-01", issued["id"]),
    ]

    set_today(client, "2027-02-20")
    late = post_usage(
        client,
        rec("r4", u1, "vm.hours", "10", "2027-02-05"),
        rec("r5", u1, "vm.hours", "50", "2027-02-20"),
    )
    assert (late.status_code, late.json()) == (201, {"accepted": 2, "duplicates": 0})
    pending = client.get(
        f"/api/v1/accounts/{acme['id']}/pending-invoices", params={"as_of": "2027-02-20"}
    ).json()
    assert [summary(p) for p in pending["data"]] == [
        (
            "2027-03-14",
            "5.76",
            "1.38",
            "7.14",
            [
                (u1, "usage", "vm.hours", "2027-01-11", "2027-02-10", "10", "0.96"),
                (u1, "usage", "vm.hours", "2027-02-11", "2027-03-10", "50", "4.80"),
            ],
        )
    ]

    changed = post_usage(client, rec("r5", u1, "vm.hours", "51", "2027-02-20"))
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "usage_id_taken"
    gpu = post_usage(client, rec("r6", u1, "gpu", "1", "2027-02-20"))
    assert gpu.status_code == 422
    assert gpu.json()["error"]["code"] == "unknown_meter"

    listed = client.get(
        f"/api/v1/subscriptions/{u1}/usage", params={"from": "2027-02-05", "to": "2027-02-20"}
    ).json()
    assert [
        (r["id"], r["quantity"], r["received_on"], r["invoice_id"]) for r in listed["data"]
    ] == [
        ("r4", "10", "2027-02-20", None),
        ("r5", "50", "2027-02-20", None),
    ]
    assert client.get(f"/api/v1/subscriptions/{u1}/usage").json()["total"] == 5
