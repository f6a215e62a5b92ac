"""Seller and buyer identity through the API (SPEC §17): every bad value is refused
with its own code and changes nothing."""

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from recur.domain.roles import Role
from tests.api.conftest import bearer
from tests.api.factories import account_body, created

API = "/api/v1"
ADDRESS = {
    "lines": ["Hauptstraße 5", "2. OG"],
    "postcode": "10115",
    "city": "Berlin",
    "region": None,
    "country": "DE",
}
NO_ADDRESS = {"lines": [], "postcode": None, "city": None, "region": None, "country": None}


def _seller(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "legal_name": "Seller GmbH",
        "address": ADDRESS,
        "tax_id": "DE 123 456 789",
        "registration": "HRB 12345, Amtsgericht Berlin",
        "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "COBADEFFXXX",
        "bank_details": None,
        "footer": "Thank you for your business.",
        "logo_url": None,
    }
    return {**body, **changes}


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


def test_an_admin_sets_the_seller_and_everyone_reads_it(
    client: TestClient, token_for: Callable[[Role], str]
) -> None:
    assert client.get(f"{API}/seller").json()["legal_name"] == ""

    saved = client.put(f"{API}/seller", json=_seller())

    assert saved.status_code == 200, saved.text
    expected = _seller(tax_id="DE123456789", iban="DE89370400440532013000")
    assert saved.json() == expected
    operator = bearer(token_for(Role.OPERATOR))
    assert client.get(f"{API}/seller", headers=operator).json() == expected
    assert client.put(f"{API}/seller", json=_seller(), headers=operator).status_code == 403


def test_bad_seller_settings_are_refused_and_change_nothing(client: TestClient) -> None:
    client.put(f"{API}/seller", json=_seller())
    before = client.get(f"{API}/seller").json()

    for body, code in [
        (_seller(legal_name="  "), "missing_legal_name"),
        (_seller(legal_name="Seller\u202eGmbH"), "invalid_legal_name"),
        (_seller(address={**ADDRESS, "country": "XX"}), "invalid_address.country"),
        (_seller(address={**ADDRESS, "country": "EU"}), "invalid_address.country"),
        (_seller(address={**ADDRESS, "city": None}), "incomplete_address"),
        (_seller(address={**ADDRESS, "lines": ["a\x00b"]}), "invalid_address.lines"),
        (_seller(tax_id="DE12345678"), "invalid_tax_id"),
        (_seller(tax_id="FRIO123456789"), "invalid_tax_id"),
        (_seller(iban="DE89 3704 0044 0532 0130 01"), "invalid_iban"),
        (_seller(bic="COBA"), "invalid_bic"),
        (_seller(footer="x\x07"), "invalid_footer"),
        (_seller(logo_url="https://example.com/logo.png"), "invalid_logo_url"),
        (_seller(logo_url="/srv/recur/logo.png"), "invalid_logo_url"),
    ]:
        _refused(client.put(f"{API}/seller", json=body), code)
    assert client.put(f"{API}/seller", json=_seller(footer="x" * 1001)).status_code == 422
    assert (
        client.put(f"{API}/seller", json=_seller(address={**ADDRESS, "lines": ["a"] * 5}))
    ).status_code == 422

    assert client.get(f"{API}/seller").json() == before


def test_an_account_carries_its_address_tax_id_and_treatment(client: TestClient) -> None:
    body = account_body() | {
        "billing_address": {**ADDRESS, "country": "fr", "city": "Paris"},
        "tax_id": "FR40303265045",
        "tax_treatment": "reverse_charge",
    }
    acme = created(client, "/accounts", body)

    assert acme["billing_address"] == {**ADDRESS, "country": "FR", "city": "Paris"}
    assert (acme["tax_id"], acme["tax_treatment"]) == ("FR40303265045", "reverse_charge")
    assert acme["tax_exemption_reason"] is None
    path = f"{API}/accounts/{acme['id']}"
    reason = "Exempt under art. 132(1)(i) Directive 2006/112/EC"
    exempt = client.patch(path, json={"tax_treatment": "exempt", "tax_exemption_reason": reason})
    assert exempt.json()["tax_exemption_reason"] == reason
    # Leaving exempt drops the reason; a null address clears it.
    back = client.patch(path, json={"tax_treatment": "standard", "billing_address": None})
    assert back.json()["tax_exemption_reason"] is None
    assert back.json()["billing_address"] == NO_ADDRESS
    plain = created(client, "/accounts", account_body(name="Plain"))
    assert (plain["billing_address"], plain["tax_treatment"]) == (NO_ADDRESS, "standard")


def test_bad_account_identity_is_refused_and_changes_nothing(client: TestClient) -> None:
    acme = created(client, "/accounts", account_body())
    path = f"{API}/accounts/{acme['id']}"

    for change, code in [
        ({"billing_address": {**ADDRESS, "country": "ZZ"}}, "invalid_billing_address.country"),
        ({"billing_address": {"lines": ["Somewhere"]}}, "incomplete_billing_address"),
        ({"tax_id": "NL123456789B0"}, "invalid_tax_id"),
        ({"tax_id": "\u200b"}, "invalid_tax_id"),
        ({"tax_treatment": "exempt"}, "missing_tax_exemption_reason"),
        ({"tax_treatment": "reverse_charge"}, "missing_tax_id"),
        ({"tax_exemption_reason": "because"}, "invalid_tax_exemption_reason"),
        ({"tax_treatment": None}, "null_field"),
    ]:
        _refused(client.patch(path, json=change), code)
    assert client.patch(path, json={"tax_treatment": "zero"}).status_code == 422
    _refused(
        client.post(f"{API}/accounts", json=account_body(tax_treatment="exempt")),
        "missing_tax_exemption_reason",
    )

    assert client.get(path).json() == acme
    assert client.get(f"{API}/accounts").json()["data"] == [acme]
