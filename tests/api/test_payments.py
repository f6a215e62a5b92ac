"""The API of payments and receivables (SPEC §18): bodies, Idempotency-Key, refusals."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.factories import account_body, created, option_id, set_today, subscription
from tests.api.test_resources import API, error_of
from tests.integration.factories import account
from tests.integration.test_payments import credit_note, issue


@pytest.fixture
def invoice(client: TestClient) -> dict[str, Any]:
    """A one-time 100.00 at 24 % tax, issued 2027-01-11, due 2027-02-10: 124.00."""
    acme = created(client, "/accounts", account_body())
    option = option_id(client, "SETUP", price="100.00", billing_period="one_time")
    sub = subscription(client, acme["id"], option, "2027-01-11")
    [issued] = created(client, f"/subscriptions/{sub['id']}/invoices/generate", {})["invoices"]
    assert (issued["total"], issued["amount_due"], issued["status"]) == (
        "124.00",
        "124.00",
        "unpaid",
    )
    return issued


def payment_body(invoice: dict[str, Any], amount: str, allocated: str) -> dict[str, Any]:
    return {
        "account_id": invoice["account_id"],
        "amount": amount,
        "currency": "EUR",
        "received_on": "2027-01-11",
        "method": "bank_transfer",
        "reference": "SEPA 42",
        "allocations": [{"invoice_id": invoice["id"], "amount": allocated}],
    }


def test_record_list_and_undo_a_payment(client: TestClient, invoice: dict[str, Any]) -> None:
    key = {"Idempotency-Key": "pay-1"}
    body = payment_body(invoice, "150.00", "100.00")
    first = client.post(f"{API}/payments", json=body, headers=key)
    again = client.post(f"{API}/payments", json=body, headers=key)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    payment = first.json()
    assert (payment["amount"], payment["unallocated"]) == ("150.00", "50.00")
    assert (
        client.get(f"{API}/payments", params={"account_id": invoice["account_id"]}).json()["total"]
        == 1
    )

    shown = client.get(f"{API}/invoices/{invoice['id']}").json()
    assert (shown["status"], shown["amount_paid"], shown["amount_due"]) == (
        "partially_paid",
        "100.00",
        "24.00",
    )
    assert shown["overdue"] is False
    assert shown["amount_remaining"] is None
    balance = client.get(f"{API}/accounts/{invoice['account_id']}/balance").json()
    assert balance == [
        {"currency": "EUR", "invoiced_due": "24.00", "credits": "50.00", "balance": "-26.00"}
    ]

    assert client.delete(f"{API}/payments/{payment['id']}").status_code == 204
    assert client.get(f"{API}/invoices/{invoice['id']}").json()["amount_due"] == "124.00"
    assert error_of(client.delete(f"{API}/payments/{payment['id']}"), 409) == "payment_undone"
    assert error_of(client.delete(f"{API}/payments/999"), 404) == "payment_not_found"


def test_bad_payments_are_refused_with_nothing_changed(
    client: TestClient, invoice: dict[str, Any]
) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"amount": 10}, 422, "invalid_request"),
        ({"amount": "10.001"}, 422, "invalid_amount"),
        ({"amount": "0"}, 422, "invalid_amount"),
        ({"method": "cheque"}, 422, "invalid_request"),
        ({"received_on": "2027-01-12"}, 422, "invalid_received_on"),
        (
            {"allocations": [{"invoice_id": invoice["id"], "amount": "124.01"}]},
            409,
            "over_allocated",
        ),
        ({"amount": "50.00"}, 409, "over_allocated"),
        ({"allocations": [{"invoice_id": 999, "amount": "1.00"}]}, 404, "invoice_not_found"),
    ]
    for change, status, code in cases:
        body = payment_body(invoice, "124.01", "60.00") | change
        assert error_of(client.post(f"{API}/payments", json=body), status) == code, change
    assert client.get(f"{API}/payments").json()["total"] == 0
    assert client.get(f"{API}/invoices/{invoice['id']}").json()["amount_paid"] == "0.00"


def test_overdue_by_the_clock_and_aging(client: TestClient, invoice: dict[str, Any]) -> None:
    set_today(client, "2027-02-11")
    shown = client.get(f"{API}/invoices/{invoice['id']}").json()
    assert shown["overdue"] is True
    listed = client.get(f"{API}/invoices", params={"status": "unpaid"}).json()["data"]
    assert [i["overdue"] for i in listed] == [True]

    report = client.get(f"{API}/reports/aging").json()
    assert report["as_of"] == "2027-02-11"
    [book] = report["overall"]
    assert (book["currency"], book["current"], book["1_30"], book["total"]) == (
        "EUR",
        "0.00",
        "124.00",
        "124.00",
    )
    csv = client.get(f"{API}/reports/aging", params={"format": "csv", "as_of": "2027-02-10"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[-1] == "2027-02-10,,,EUR,124.00,0.00,0.00,0.00,0.00,124.00"


def test_pay_in_full_and_void(client: TestClient, invoice: dict[str, Any]) -> None:
    voided = client.post(f"{API}/invoices/{invoice['id']}/void", headers={"Idempotency-Key": "v"})
    assert voided.status_code == 200, voided.text
    note = voided.json()["credit_note"]
    assert voided.json()["invoice"]["status"] == "void"
    assert (note["number"], note["total"], note["amount_remaining"]) == (
        "CN-2027-000001",
        "-124.00",
        "0.00",
    )
    again = client.post(f"{API}/invoices/{invoice['id']}/void", headers={"Idempotency-Key": "v"})
    assert again.json() == voided.json()
    assert error_of(client.post(f"{API}/invoices/{invoice['id']}/void"), 409) == "invoice_void"
    assert error_of(client.post(f"{API}/invoices/{invoice['id']}/pay"), 409) == (
        "invoice_not_unpaid"
    )
    refused = client.post(
        f"{API}/credit-notes/{note['id']}/refund",
        json={"amount": "1.00", "refunded_on": "2027-01-11"},
    )
    assert error_of(refused, 409) == "over_allocated"


def test_a_credit_notes_application_and_refund_are_listed_and_undone(
    client: TestClient, app: FastAPI
) -> None:
    db = app.state.ctx.db
    acme = account(db)
    note = credit_note(db, acme)  # -52.00
    invoice = {"id": issue(db, acme, "124.00").id}
    path = f"{API}/credit-notes/{note.id}"
    assert client.post(
        f"{path}/apply", json={"invoice_id": invoice["id"], "amount": "20.00"}
    ).is_success
    refund = {"amount": "12.00", "refunded_on": "2027-01-11", "reference": "R-1"}
    assert client.post(f"{path}/refund", json=refund).is_success
    uses = client.get(f"{path}/uses").json()
    [application], [refunded] = uses["applications"], uses["refunds"]
    assert (application["invoice_id"], application["amount"]) == (invoice["id"], "20.00")
    assert (refunded["amount"], refunded["reference"]) == ("12.00", "R-1")

    assert client.delete(f"{API}/credit-applications/{application['id']}").status_code == 204
    assert client.get(f"{API}/invoices/{invoice['id']}").json()["amount_due"] == "124.00"
    assert client.delete(f"{API}/refunds/{refunded['id']}").status_code == 204
    assert client.get(f"{API}/invoices/{note.id}").json()["amount_remaining"] == "52.00"
    assert client.get(f"{path}/uses").json() == {"applications": [], "refunds": []}

    assert error_of(client.delete(f"{API}/credit-applications/{application['id']}"), 404) == (
        "credit_application_not_found"
    )
    assert error_of(client.delete(f"{API}/refunds/{refunded['id']}"), 404) == "refund_not_found"
    assert error_of(client.get(f"{API}/credit-notes/{invoice['id']}/uses"), 409) == (
        "not_a_credit_note"
    )
