"""The API's strict types and the rules it shares with every door (services.validation)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.factories import account_body, created, option_id, product_body

API = "/api/v1"
GROUPED = "unit_price must have a point for decimals and no thousands separators, as in 1250.00"


def refused(response: Any) -> tuple[str, str]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    return error["code"], error["message"]


def test_money_is_a_json_string(client: TestClient) -> None:
    for price in (0.1, 12, 12.5, True, None, ["1"]):
        code, message = refused(client.post(f"{API}/products", json=product_body(price=price)))
        assert code == "invalid_request"
        assert 'unit_price must be a JSON string such as "12.50"' in message
    assert created(client, "/products", product_body(price="0.10"))["pricing_options"][0][
        "unit_price"
    ] == ("0.10")


@pytest.mark.parametrize(
    ("price", "words"),
    [
        ("12,50", "unit_price must use a point for decimals: write 12.50, not 12,50"),
        ("1,250.00", GROUPED),
        ("1.250,00", GROUPED),
        ("1e3", "unit_price must be written with digits and at most one decimal point"),
        ("NaN", "unit_price must be written with digits and at most one decimal point"),
        ("-1", "unit_price must be written without a sign, as in 12.50"),
        ("0.0000001", "unit_price may have at most 6 decimal places"),
    ],
)
def test_money_strings_are_read_as_the_back_office_reads_them(
    client: TestClient, price: str, words: str
) -> None:
    _, message = refused(client.post(f"{API}/products", json=product_body(price=price)))
    assert words in message
    assert client.get(f"{API}/products").json()["total"] == 0


def test_a_tax_rate_has_two_decimals_at_most(client: TestClient) -> None:
    _, message = refused(client.post(f"{API}/accounts", json=account_body(tax_rate="7.125")))
    assert "tax_rate may have at most 2 decimal places" in message
    _, message = refused(client.post(f"{API}/accounts", json=account_body(tax_rate=24)))
    assert 'tax_rate must be a JSON string such as "12.50"' in message


@pytest.mark.parametrize("quantity", [True, 1.0, 2.5, "5", None])
def test_a_quantity_is_a_json_integer(client: TestClient, quantity: Any) -> None:
    account = created(client, "/accounts", account_body())["id"]
    body = {
        "account_id": account,
        "pricing_option_id": option_id(client),
        "quantity": quantity,
        "start_date": "2027-01-11",
    }
    code, message = refused(client.post(f"{API}/subscriptions", json=body))
    assert (code, message.split(":")[0]) == ("invalid_request", "body.quantity")
    assert client.get(f"{API}/subscriptions").json()["total"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("billing_day", True), ("payment_terms_days", 30.0), ("billing_day", "1")],
)
def test_whole_numbers_are_json_integers(client: TestClient, field: str, value: Any) -> None:
    code, _ = refused(client.post(f"{API}/accounts", json=account_body(**{field: value})))
    assert code == "invalid_request"


def test_flags_are_json_booleans(client: TestClient) -> None:
    code, _ = refused(client.post(f"{API}/products", json=product_body(auto_renew="yes")))
    assert code == "invalid_request"


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("\u200b", "invalid_name", "name must contain a visible character"),
        ("Acme \u202eLtd", "invalid_name", "must not contain control or text-direction"),
        ("Acme \u2067Ltd\u2069", "invalid_name", "must not contain control or text-direction"),
        ("Acme\x1b[2J", "invalid_name", "must not contain control or text-direction"),
    ],
)
def test_names_are_visible_and_free_of_control_characters(
    client: TestClient, name: str, code: str, words: str
) -> None:
    assert refused(client.post(f"{API}/accounts", json=account_body(name)))[0] == code
    assert words in refused(client.post(f"{API}/accounts", json=account_body(name)))[1]
    acme = created(client, "/accounts", account_body())
    patched = client.patch(f"{API}/accounts/{acme['id']}", json={"name": name})
    assert refused(patched)[0] == code
    product = product_body()
    product["name"] = name
    assert refused(client.post(f"{API}/products", json=product))[0] == code


@pytest.mark.parametrize("currency", ["XXX", "XTS", "XAU", "DEM"])
def test_currencies_are_ones_in_use(client: TestClient, currency: str) -> None:
    code, _ = refused(client.post(f"{API}/accounts", json=account_body(currency=currency)))
    assert code == "unknown_currency"
    code, _ = refused(client.post(f"{API}/products", json=product_body(currency=currency)))
    assert code == "unknown_currency"


def test_dates_and_keys_have_the_back_office_bounds(client: TestClient) -> None:
    account = created(client, "/accounts", account_body())["id"]
    body = {"account_id": account, "pricing_option_id": option_id(client), "quantity": 1}
    for start in ("0001-01-01", "9999-12-31"):
        _, message = refused(client.post(f"{API}/subscriptions", json=body | {"start_date": start}))
        assert "start_date must be between 1970-01-01 and 2199-12-31" in message
    key = {"Idempotency-Key": "clé".encode()}
    code, message = refused(client.post(f"{API}/accounts", json=account_body(), headers=key))
    assert code == "invalid_idempotency_key"
    assert "1–200 printable ASCII characters" in message
