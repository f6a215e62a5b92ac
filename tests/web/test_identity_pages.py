"""Seller and buyer identity in the back office: the seller's settings (admins only)
and the account form's address, tax id and treatment. A refused form changes nothing
and says why beside the field."""

import re

from fastapi.testclient import TestClient

from recur.db.session import Database
from recur.domain.identity import Address
from recur.services import accounts, seller
from tests.web.acme import ADMIN, Acme, account_form
from tests.web.conftest import sign_in


def _error(html: str, name: str) -> str:
    match = re.search(rf'id="{re.escape(name)}-error">([^<]*)<', html)
    assert match, f"no error next to {name}"
    return match.group(1)


def _seller_form(csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "legal_name": "Seller GmbH",
        "address.lines": "Hauptstraße 5\n2. OG",
        "address.postcode": "10115",
        "address.city": "Berlin",
        "address.region": "",
        "address.country": "de",
        "tax_id": "DE123456789",
        "registration": "HRB 12345",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "bank_details": "",
        "footer": "Thank you.",
        **changes,
    }


def test_an_admin_sets_the_seller_and_bad_values_change_nothing(
    app_client: TestClient, database: Database
) -> None:
    csrf = sign_in(app_client, ADMIN)
    assert app_client.post("/settings/seller", data=_seller_form(csrf)).status_code == 303
    before = seller.seller(database)
    assert before.address == Address(("Hauptstraße 5", "2. OG"), "10115", "Berlin", None, "DE")

    for name, value, words in [
        ("address.country", "XK", "ISO 3166-1 alpha-2 country code"),
        ("tax_id", "DE1234", "not in the format of a DE VAT number"),
        ("iban", "DE89370400440532013001", "not a valid IBAN"),
        ("legal_name", "", "must not be empty"),
        ("logo_url", "https://example.com/logo.png", "links and file paths are not fetched"),
    ]:
        refused = app_client.post("/settings/seller", data=_seller_form(csrf, **{name: value}))
        assert refused.status_code == 422
        assert words in _error(refused.text, name)

    assert seller.seller(database) == before
    assert "Hauptstraße 5" in app_client.get("/settings/seller").text
    logo = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
    saved = app_client.post("/settings/seller", data=_seller_form(csrf, logo_url=logo))
    assert saved.status_code == 303
    assert seller.seller(database).logo_url == logo


def test_an_operator_cannot_open_the_seller_settings(operator: tuple[TestClient, str]) -> None:
    client, csrf = operator
    assert client.get("/settings/seller").status_code == 403
    assert client.post("/settings/seller", data=_seller_form(csrf)).status_code == 403


def _account_form(csrf: str, **changes: str) -> dict[str, str]:
    """Acme's form with a French address and the reverse charge."""
    identity = {
        "billing_address.lines": "1 Rue de Rivoli",
        "billing_address.postcode": "75001",
        "billing_address.city": "Paris",
        "billing_address.country": "FR",
        "tax_id": "FR40303265045",
        "tax_treatment": "reverse_charge",
        "tax_exemption_reason": "",
    }
    return account_form(csrf, **(identity | changes))


def test_the_account_form_sets_identity_and_refuses_bad_values(
    operator: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, csrf = operator
    path = f"/accounts/{acme.account_id}/edit"
    assert client.post(path, data=_account_form(csrf)).status_code == 303
    before = accounts.get_account(database, acme.account_id)
    assert (before.tax_treatment, before.billing_address.city) == ("reverse_charge", "Paris")

    for name, changes, words in [
        ("billing_address.country", {"billing_address.country": "UK"}, "country code"),
        ("tax_id", {"tax_id": "FRIO3032650"}, "FR VAT number"),
        ("tax_exemption_reason", {"tax_treatment": "exempt"}, "required"),
        ("tax_id", {"tax_id": ""}, "required when tax treatment is reverse charge"),
        ("tax_treatment", {"tax_treatment": "zero"}, "must be one of"),
    ]:
        refused = client.post(path, data=_account_form(csrf, **changes))
        assert refused.status_code == 422
        assert words in _error(refused.text, name)

    assert accounts.get_account(database, acme.account_id) == before
    page = client.get(path).text
    assert "1 Rue de Rivoli" in page
    assert "FR40303265045" in page
