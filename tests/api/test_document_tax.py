"""Tax and identity of documents through the API (SPEC §17): items carry `taxable` and
`tax_rate`, documents their `tax_treatment`, `tax_breakdown` and the seller and buyer
as issued, all money and rates as strings; the preview shows the same breakdown."""

from typing import Any

from fastapi.testclient import TestClient

from tests.api.factories import account_body, created, option_id, set_today, subscription

API = "/api/v1"
SELLER = {
    "legal_name": "Seller GmbH",
    "address": {
        "lines": ["Hauptstraße 5"],
        "postcode": "10115",
        "city": "Berlin",
        "region": None,
        "country": "DE",
    },
    "tax_id": "DE123456789",
    "registration": "HRB 12345",
    "iban": None,
    "bic": None,
    "bank_details": "Pay to account 1234",
    "footer": None,
}


def _tax(document: dict[str, Any]) -> tuple[Any, ...]:
    items = [(i["taxable"], i["tax_rate"], i["amount"]) for i in document["items"]]
    return (
        document["tax_treatment"],
        document["tax_breakdown"],
        items,
        document["subtotal"],
        document["tax"],
        document["total"],
    )


def test_documents_show_their_tax_and_who_they_name(client: TestClient) -> None:
    set_today(client, "2027-01-11")
    assert client.put(f"{API}/seller", json=SELLER).status_code == 200
    seats = option_id(client, "SEATS", price="100.00")
    voucher = created(client, "/products", {**_voucher(), "taxable": False})
    account = created(client, "/accounts", account_body("Acme Ltd"))
    subs = [
        subscription(client, account["id"], option, "2027-01-11")["id"]
        for option in (seats, voucher["pricing_options"][0]["id"])
    ]

    [pending, _] = client.get(f"{API}/accounts/{account['id']}/pending-invoices").json()["data"]
    expected = (
        "standard",
        [
            {"rate": "24.00", "base": "100.00", "tax": "24.00"},
            {"rate": "0.00", "base": "30.00", "tax": "0.00"},
        ],
        [(True, "24.00", "100.00"), (False, "0.00", "30.00")],
        "130.00",
        "24.00",
        "154.00",
    )
    assert _tax(pending) == expected
    assert created(client, "/billing-runs", {"as_of": "2027-01-11"})["invoices_issued"] == 1
    [listed] = client.get(f"{API}/invoices").json()["data"]
    invoice = client.get(f"{API}/invoices/{listed['id']}").json()
    assert _tax(invoice) == expected
    assert invoice["seller"] == SELLER
    assert invoice["buyer"] == {
        "name": "Acme Ltd",
        "address": {"lines": [], "postcode": None, "city": None, "region": None, "country": None},
        "tax_id": None,
        "tax_exemption_reason": None,
    }

    # Reverse charge from now on: no tax on what is issued next, and its preview says so.
    changed = client.patch(
        f"{API}/accounts/{account['id']}",
        json={"tax_treatment": "reverse_charge", "tax_id": "FR40303265045"},
    )
    assert changed.status_code == 200, changed.text
    [pending] = client.get(f"{API}/accounts/{account['id']}/pending-invoices").json()["data"]
    untaxed = (
        "reverse_charge",
        [{"rate": "0.00", "base": "130.00", "tax": "0.00"}],
        [(True, "0.00", "100.00"), (False, "0.00", "30.00")],
        "130.00",
        "0.00",
        "130.00",
    )
    assert _tax(pending) == untaxed
    generated = client.post(
        f"{API}/accounts/{account['id']}/invoices/generate", json={"subscription_ids": subs}
    )
    assert generated.status_code == 201, generated.text
    [february] = generated.json()["invoices"]
    assert _tax(february) == untaxed
    assert february["buyer"]["tax_id"] == "FR40303265045"
    # The first invoice keeps its own treatment, tax and buyer.
    assert client.get(f"{API}/invoices/{invoice['id']}").json() == invoice


def _voucher() -> dict[str, Any]:
    option = {
        "code": "monthly",
        "billing_period": "monthly",
        "billing_type": "prepaid",
        "unit_price": "30.00",
        "currency": "EUR",
    }
    return {"sku": "VOUCHER", "name": "Training voucher", "pricing_options": [option]}
