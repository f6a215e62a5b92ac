"""The API's money: prices the columns hold, exactly; invoices with their own tax rate."""

from fastapi.testclient import TestClient

from tests.api.factories import account_body, created, option_id, product_body, subscription

API = "/api/v1"


def test_an_invoice_reports_the_tax_rate_it_was_issued_with(client: TestClient) -> None:
    acme = created(client, "/accounts", account_body(tax_rate="24"))
    sub = subscription(client, acme["id"], option_id(client, price="100.00"), "2027-01-11")
    generated = client.post(
        f"{API}/accounts/{acme['id']}/invoices/generate", json={"subscription_ids": [sub["id"]]}
    )
    assert generated.status_code == 201, generated.text
    [invoice] = generated.json()["invoices"]
    assert invoice["tax_rate"] == "24.00"

    patched = client.patch(f"{API}/accounts/{acme['id']}", json={"tax_rate": "10"})
    assert patched.status_code == 200, patched.text

    stored = client.get(f"{API}/invoices/{invoice['id']}").json()
    assert (stored["tax_rate"], stored["tax"]) == ("24.00", invoice["tax"])


def test_a_price_beyond_a_billion_and_a_large_quantity_are_accepted_exactly(
    client: TestClient,
) -> None:
    option = option_id(client, price="12345678901.123456")
    product = client.get(f"{API}/products").json()["data"][0]
    assert product["pricing_options"][0]["unit_price"] == "12345678901.123456"

    acme = created(client, "/accounts", account_body())
    sub = subscription(client, acme["id"], option, "2027-01-11", quantity=5000)
    assert sub["quantity"] == 5000
    too_large = client.post(f"{API}/products", json=product_body("HUGE", "1000000000000"))
    assert too_large.status_code == 422
