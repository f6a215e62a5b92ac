"""SPEC §8, driven entirely through the API with the test clock."""

from typing import Any

from fastapi.testclient import TestClient

from tests.api.factories import account_body, created, product_body, set_today


def summary(invoice: dict[str, Any]) -> tuple[Any, ...]:
    items = [
        (i["subscription_id"], i["kind"], i["period_start"], i["period_end"], i["amount"])
        for i in invoice["items"]
    ]
    return (invoice["issue_date"], invoice["subtotal"], invoice["tax"], invoice["total"], items)


def test_acme_worked_example(client: TestClient) -> None:
    set_today(client, "2027-01-11")
    o365 = created(client, "/products", product_body("O365-E3", "12.50"))
    backup = created(client, "/products", product_body("BACKUP-1TB", "20.00", setup_fee="50.00"))
    azure = created(
        client, "/products", product_body("AZURE-USAGE", "100.00", billing_type="postpaid")
    )
    acme = created(client, "/accounts", account_body("Acme Ltd"))
    assert acme["tax_rate"] == "24.00"

    def order(product: dict[str, Any], quantity: int, start: str) -> int:
        body = {
            "account_id": acme["id"],
            "pricing_option_id": product["pricing_options"][0]["id"],
            "quantity": quantity,
            "start_date": start,
        }
        return int(created(client, "/subscriptions", body)["id"])

    s1 = order(o365, 10, "2027-01-11")
    s3 = order(azure, 1, "2027-01-11")
    run = created(client, "/billing-runs", {"as_of": "2027-01-11"})
    assert run["invoices_issued"] == 1  # S1's January invoice, issued on 11 Jan
    s2 = order(backup, 1, "2027-01-20")

    set_today(client, "2027-01-15")
    pending = client.get(f"/api/v1/accounts/{acme['id']}/pending-invoices").json()
    assert pending["as_of"] == "2027-01-15"
    assert [summary(p) for p in pending["data"]] == [
        (
            "2027-01-20",
            "64.19",
            "15.41",
            "79.60",
            [
                (s2, "setup", "2027-01-20", "2027-01-20", "50.00"),
                (s2, "recurring", "2027-01-20", "2027-02-10", "14.19"),
            ],
        ),
        (
            "2027-02-11",
            "225.00",
            "54.00",
            "279.00",
            [
                (s1, "recurring", "2027-02-11", "2027-03-10", "125.00"),
                (s3, "recurring", "2027-01-11", "2027-02-10", "100.00"),
            ],
        ),
    ]
    partial = pending["data"][0]["items"][1]
    assert partial["proration"] == "0.709677"  # 22/31
    assert partial["unit_price"] == "20.00"
    assert sorted(s["id"] for s in pending["subscriptions"]) == sorted([s1, s2, s3])

    generated = client.post(
        f"/api/v1/accounts/{acme['id']}/invoices/generate",
        json={"subscription_ids": [s1, s3]},
        headers={"Idempotency-Key": "acme-2027-01-15"},
    )
    assert generated.status_code == 201, generated.text
    [invoice] = generated.json()["invoices"]
    assert (invoice["issue_date"], invoice["due_date"]) == ("2027-01-15", "2027-02-14")
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("225.00", "54.00", "279.00")
    assert (invoice["source"], invoice["generated_by"]) == ("manual", "token:env")
    assert invoice["number"] == "INV-2027-000002"
    assert client.get(f"/api/v1/invoices/{invoice['id']}").json() == invoice

    pending = client.get(f"/api/v1/accounts/{acme['id']}/pending-invoices").json()
    assert [summary(p)[:4] for p in pending["data"]] == [
        ("2027-01-20", "64.19", "15.41", "79.60"),
        ("2027-03-11", "225.00", "54.00", "279.00"),
    ]
    assert [(i["subscription_id"], i["period_start"]) for i in pending["data"][1]["items"]] == [
        (s1, "2027-03-11"),
        (s3, "2027-02-11"),
    ]

    set_today(client, "2027-01-20")
    run = created(client, "/billing-runs", {})
    assert (run["as_of"], run["invoices_issued"]) == ("2027-01-20", 1)
    set_today(client, "2027-02-11")
    run = created(client, "/billing-runs", {"as_of": "2027-02-11"})
    assert run["invoices_issued"] == 1
    issued = client.get(
        "/api/v1/invoices", params={"account_id": acme["id"], "source": "automatic"}
    ).json()["data"]
    assert [summary(i)[:4] for i in issued] == [
        ("2027-02-11", "20.00", "4.80", "24.80"),
        ("2027-01-20", "64.19", "15.41", "79.60"),
        ("2027-01-11", "125.00", "30.00", "155.00"),
    ]
    s1_pending = client.get(f"/api/v1/subscriptions/{s1}/pending-invoices").json()
    assert [p["issue_date"] for p in s1_pending["data"]] == ["2027-03-11"]
