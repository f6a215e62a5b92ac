"""Catalogue management through the API (issue 15): PATCH a product, add pricing options,
archive and unarchive them, and prices that never change once used; each bad request
changes nothing. On SQLite and PostgreSQL."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recur.domain.roles import Role
from tests.api.conftest import bearer
from tests.api.factories import account_body, created, product_body, subscription
from tests.api.test_resources import API, error_of


def _product(client: TestClient) -> dict[str, Any]:
    return created(client, "/products", product_body("SEATS", "10.00"))


def _option(code: str, price: str = "20.00", **fields: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "billing_period": "monthly",
        "billing_type": "prepaid",
        "unit_price": price,
        "currency": "EUR",
    }
    return body | fields


def _get(client: TestClient, product_id: int) -> dict[str, Any]:
    result: dict[str, Any] = client.get(f"{API}/products/{product_id}").json()
    return result


def test_a_product_is_renamed_and_made_untaxable(client: TestClient) -> None:
    product = _product(client)
    path = f"{API}/products/{product['id']}"
    response = client.patch(path, json={"name": "Seats 2027", "taxable": False})
    assert response.status_code == 200, response.text
    assert response.json() == product | {"name": "Seats 2027", "taxable": False}
    assert _get(client, product["id"]) == response.json()
    assert client.patch(path, json={"taxable": True}).json()["name"] == "Seats 2027"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "nothing_to_change"),
        ({"name": None}, "null_field"),
        ({"name": ""}, "invalid_request"),
        ({"name": "\u200b"}, "invalid_name"),
        ({"taxable": "no"}, "invalid_request"),
        ({"sku": "OTHER"}, "invalid_request"),  # the SKU is the product's key
    ],
)
def test_a_bad_product_edit_changes_nothing(
    client: TestClient, body: dict[str, Any], code: str
) -> None:
    product = _product(client)
    response = client.patch(f"{API}/products/{product['id']}", json=body)
    assert error_of(response, 422) == code
    assert _get(client, product["id"]) == product


def test_a_null_edit_names_the_fields_sent_null(client: TestClient) -> None:
    # As an account's edit does: every PATCH reads its body through schemas.Patch.
    product = _product(client)
    response = client.patch(f"{API}/products/{product['id']}", json={"name": None})
    assert error_of(response, 422) == "null_field"
    assert response.json()["error"]["message"] == "name cannot be null"
    option = product["pricing_options"][0]["id"]
    path = f"{API}/products/{product['id']}/pricing-options/{option}"
    response = client.patch(path, json={"setup_fee": None, "unit_price": None})
    assert response.json()["error"]["message"] == "setup_fee, unit_price cannot be null"


def test_options_are_added_to_a_product(client: TestClient) -> None:
    product = _product(client)
    meters = [{"code": "gb", "name": "Storage", "unit": "GB", "unit_price": "0.02"}]
    body = {
        "pricing_options": [
            _option("annual", "100.00", billing_period="annual"),
            _option("usage", "0", billing_type="usage", meters=meters),
        ]
    }
    response = client.post(f"{API}/products/{product['id']}/pricing-options", json=body)
    assert response.status_code == 201, response.text
    options = response.json()["pricing_options"]
    assert options[0] == product["pricing_options"][0]
    assert [(o["code"], o["unit_price"], o["active"]) for o in options] == [
        ("monthly", "10.00", True),
        ("annual", "100.00", True),
        ("usage", "0.00", True),
    ]
    assert options[2]["meters"][0]["unit_price"] == "0.02"
    assert _get(client, product["id"]) == response.json()


@pytest.mark.parametrize(
    ("options", "status", "code"),
    [
        ([_option("monthly")], 422, "duplicate_pricing_code"),
        ([_option("a"), _option("a")], 422, "duplicate_pricing_code"),
        (
            [_option("a"), _option("b", billing_period="quarterly", term_months=5)],
            422,
            "invalid_term_months",
        ),
        ([_option("a", 20.0)], 422, "invalid_request"),  # a JSON float is no price
        ([], 422, "invalid_request"),
    ],
)
def test_a_bad_addition_adds_nothing(
    client: TestClient, options: list[dict[str, Any]], status: int, code: str
) -> None:
    product = _product(client)
    path = f"{API}/products/{product['id']}/pricing-options"
    assert error_of(client.post(path, json={"pricing_options": options}), status) == code
    assert _get(client, product["id"]) == product
    missing = client.post(
        f"{API}/products/999/pricing-options", json={"pricing_options": [_option("x")]}
    )
    assert error_of(missing, 404) == "product_not_found"


def test_archived_options_take_no_new_subscriptions(client: TestClient) -> None:
    product = _product(client)
    option = product["pricing_options"][0]["id"]
    account = created(client, "/accounts", account_body())["id"]
    kept = subscription(client, account, option, "2027-01-11")
    base = f"{API}/products/{product['id']}/pricing-options/{option}"

    archived = client.post(f"{base}/archive")
    assert archived.status_code == 200, archived.text
    assert archived.json()["active"] is False
    assert _get(client, product["id"])["pricing_options"][0]["active"] is False
    body = {"account_id": account, "pricing_option_id": option, "quantity": 1}
    refused = client.post(f"{API}/subscriptions", json=body | {"start_date": "2027-01-11"})
    assert error_of(refused, 409) == "pricing_option_inactive"
    assert "archived" in refused.json()["error"]["message"]
    # The subscription already on it is untouched, and its pending invoices stay.
    assert client.get(f"{API}/subscriptions/{kept['id']}").json()["status"] == "active"
    assert client.get(f"{API}/subscriptions/{kept['id']}/pending-invoices").json()["data"]

    assert client.post(f"{base}/unarchive").json()["active"] is True
    assert subscription(client, account, option, "2027-01-11")["pricing_option_id"] == option


def test_an_option_of_another_product_is_not_found(client: TestClient) -> None:
    first, second = _product(client), created(client, "/products", product_body("OTHER"))
    option = first["pricing_options"][0]["id"]
    response = client.post(f"{API}/products/{second['id']}/pricing-options/{option}/archive")
    assert error_of(response, 404) == "pricing_option_not_found"
    assert _get(client, first["id"]) == first


def test_prices_of_an_option_in_use_are_refused_and_unused_ones_corrected(
    client: TestClient,
) -> None:
    product = _product(client)
    option = product["pricing_options"][0]["id"]
    path = f"{API}/products/{product['id']}/pricing-options/{option}"
    corrected = client.patch(path, json={"unit_price": "11.00", "setup_fee": "5"})
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["unit_price"], corrected.json()["setup_fee"]) == ("11.00", "5.00")

    account = created(client, "/accounts", account_body())["id"]
    subscription(client, account, option, "2027-01-11")
    refused = client.patch(path, json={"unit_price": "12.00"})
    assert error_of(refused, 409) == "pricing_option_in_use"
    assert "Archive it" in refused.json()["error"]["message"]
    assert _get(client, product["id"])["pricing_options"][0]["unit_price"] == "11.00"
    assert error_of(client.patch(path, json={}), 422) == "nothing_to_change"
    assert error_of(client.patch(path, json={"unit_price": 12.5}), 422) == "invalid_request"


def test_only_an_admin_manages_the_catalogue(
    client: TestClient, token_for: Callable[[Role], str]
) -> None:
    product = _product(client)
    option = product["pricing_options"][0]["id"]
    operator = bearer(token_for(Role.OPERATOR))
    base = f"{API}/products/{product['id']}"
    for response in (
        client.patch(base, json={"name": "X"}, headers=operator),
        client.post(
            f"{base}/pricing-options", json={"pricing_options": [_option("x")]}, headers=operator
        ),
        client.post(f"{base}/pricing-options/{option}/archive", headers=operator),
        client.patch(
            f"{base}/pricing-options/{option}", json={"unit_price": "1"}, headers=operator
        ),
    ):
        assert error_of(response, 403)
    assert _get(client, product["id"]) == product
