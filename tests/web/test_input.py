"""The back office reads what people type by the rules every door uses, on both databases:
money never misread, the API's bounds, ids beyond the keys as 404 pages, never a 500."""

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from recur.app import create_app
from recur.db.models import PricingOption, Product, Subscription
from recur.db.session import Database
from recur.settings import Settings
from tests.web.acme import Acme, account_form
from tests.web.conftest import TODAY

TOO_FAR = 2**31  # one past the largest 32-bit key
GROUPED = "Unit price must have a point for decimals and no thousands separators, as in 1250.00."


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def app_client(db_url: str, acme: Acme) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, today=TODAY, scheduler="off", secret_key="test-secret")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def product_form(token: str, **fields: str) -> dict[str, str]:
    """The new product form with one pricing option row; option fields go to that row."""
    values = {
        "sku": "SEAT",
        "name": "Seat",
        "code": "monthly",
        "billing_period": "monthly",
        "billing_type": "prepaid",
        "currency": "EUR",
        "unit_price": "12.50",
        "setup_fee": "0",
        **fields,
    }
    product = {"sku", "name", "taxable"}
    rows = {row(k): v for k, v in values.items() if k not in product}
    return {"csrf_token": token, "option_rows": "1", **rows} | {
        k: v for k, v in values.items() if k in product
    }


def row(name: str, index: int = 0) -> str:
    """A field of the product form's pricing option row `index`."""
    return f"options-{index}-{name}"


def meter(name: str, number: int = 0, index: int = 0) -> str:
    """A field of meter `number` of pricing option row `index`."""
    return row(f"meters-{number}-{name}", index)


def meter_fields(*meters: tuple[str, str, str, str], index: int = 0) -> dict[str, str]:
    """The meter rows of pricing option row `index`: (code, name, unit, price) each."""
    fields = {row("meter_rows", index): str(len(meters))}
    for number, values in enumerate(meters):
        names = ("code", "name", "unit", "unit_price")
        fields |= {
            meter(name, number, index): value for name, value in zip(names, values, strict=True)
        }
    return fields


def field_error(html: str, name: str) -> str:
    match = re.search(rf'id="{name}-error">([^<]*)<', html)
    assert match, f"no error next to {name}"
    return match.group(1)


def prices(database: Database) -> list[Decimal]:
    with database.read() as session:
        query = select(PricingOption.unit_price).join(Product).where(Product.sku == "SEAT")
        return [Decimal(price) for price in session.scalars(query)]


def test_a_decimal_comma_is_never_read_as_thousands(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    response = client.post("/products", data=product_form(token, unit_price="12,50"))
    assert response.status_code == 422
    assert field_error(response.text, row("unit_price")) == (
        "Unit price must use a point for decimals: write 12.50, not 12,50."
    )
    assert prices(database) == []  # never stored as 1,250.00


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("1,250.00", GROUPED),
        ("1.250,00", GROUPED),
        ("1 250", GROUPED),
        ("12.5000001", "Unit price may have at most 6 decimal places."),
        (
            "1e3",
            "Unit price must be written with digits and at most one decimal point, as in 12.50.",
        ),
    ],
)
def test_grouped_thousands_and_extra_decimals_are_refused(
    admin: tuple[TestClient, str], database: Database, typed: str, words: str
) -> None:
    client, token = admin
    response = client.post("/products", data=product_form(token, unit_price=typed))
    assert response.status_code == 422
    assert field_error(response.text, row("unit_price")) == words
    assert prices(database) == []


def test_an_amount_typed_with_a_point_is_stored_as_typed(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    response = client.post("/products", data=product_form(token, unit_price=" 1250.50 "))
    assert response.status_code == 303, response.text
    assert prices(database) == [Decimal("1250.50")]


def test_the_back_office_has_the_api_bounds(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    response = client.post("/products", data=product_form(token, term_months=str(10**12)))
    assert response.status_code == 422
    assert field_error(response.text, row("term_months")).startswith(
        "Term months must be a positive multiple of the billing period (1), at most 1200"
    )
    response = client.post("/products", data=product_form(token, currency="XXX"))
    assert response.status_code == 422
    assert "not a currency in use" in field_error(response.text, row("currency"))
    response = client.post("/products", data=product_form(token, name="\u200b"))
    assert field_error(response.text, "name") == "Name must contain a visible character."
    assert prices(database) == []


@pytest.mark.parametrize("start", ["0001-01-01", "9999-12-31"])
def test_start_dates_outside_the_calendar_are_refused(
    operator: tuple[TestClient, str], acme: Acme, database: Database, start: str
) -> None:
    client, token = operator
    option = re.search(
        r'<option value="(\d+)" >Office 365 E3', client.get("/subscriptions/new").text
    )
    assert option
    response = client.post(
        "/subscriptions",
        data={"csrf_token": token, "account_id": str(acme.account_id),
              "pricing_option_id": option.group(1), "quantity": "1", "start_date": start},
    )  # fmt: skip
    assert response.status_code == 422
    assert field_error(response.text, "start_date") == (
        "Start date must be between 1970-01-01 and 2199-12-31."
    )
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 3
    assert client.get(f"/accounts/{acme.account_id}/pending").status_code == 200


def test_a_huge_idempotency_key_is_refused_in_words(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    response = client.post(
        f"/accounts/{acme.account_id}/generate",
        data={"csrf_token": token, "idempotency_key": "k" * 100_000,
              "selected": str(acme.s1), "action": "generate"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Idempotency-Key must be 1–200 printable ASCII characters" in response.text
    response = client.post(
        f"/subscriptions/{acme.s1}/generate",
        data={"csrf_token": token, "idempotency_key": "k" * 100_000},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        f"/accounts/{TOO_FAR}",
        f"/accounts/{TOO_FAR}/pending",
        f"/accounts/{TOO_FAR}/subscriptions",
        f"/subscriptions/{TOO_FAR}",
        f"/invoices/{TOO_FAR}",
        f"/invoices/{2**64}",
        "/accounts/0",
    ],
)
def test_ids_beyond_the_keys_are_pages_that_do_not_exist(
    viewer: tuple[TestClient, str], path: str
) -> None:
    client, _ = viewer
    response = client.get(path)
    assert response.status_code == 404
    assert "There is no such page" in response.text


def test_ids_beyond_the_keys_in_forms_and_links_are_refused_or_ignored(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    response = client.post(
        "/subscriptions",
        data={"csrf_token": token, "account_id": str(TOO_FAR), "pricing_option_id": str(2**70),
              "quantity": "1", "start_date": "2027-01-15"},
    )  # fmt: skip
    assert response.status_code == 422
    assert field_error(response.text, "account_id") == "Choose one of the options."
    assert field_error(response.text, "pricing_option_id") == "Choose one of the options."
    response = client.post(
        f"/accounts/{acme.account_id}/generate",
        data={"csrf_token": token, "idempotency_key": "k1",
              "selected": [str(TOO_FAR), str(2**64)], "action": "generate"},
    )  # fmt: skip
    assert response.status_code == 422  # nothing selected that could exist
    for link in (
        f"/invoices?account_id={TOO_FAR}",
        f"/subscriptions?account_id={TOO_FAR}&product_id={2**64}",
        f"/accounts/{acme.account_id}/pending?generated={TOO_FAR}",
    ):
        assert client.get(link).status_code == 200, link


def test_a_quantity_is_a_whole_number_as_typed(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    option = re.search(
        r'<option value="(\d+)" >Office 365 E3', client.get("/subscriptions/new").text
    )
    assert option
    for typed, words in (
        ("1,000", "Quantity must be written without thousands separators, as in 1250."),
        ("2.5", "Quantity must be a whole number written with digits only, as in 12."),
        ("2147483648", "Quantity must be a whole number from 1 to 2,147,483,647."),
    ):
        response = client.post(
            "/subscriptions",
            data={"csrf_token": token, "account_id": str(acme.account_id),
                  "pricing_option_id": option.group(1), "quantity": typed,
                  "start_date": "2027-01-15"},
        )  # fmt: skip
        assert response.status_code == 422
        assert field_error(response.text, "quantity") == words


def test_a_tampered_choice_is_refused_next_to_its_field(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    response = client.post(
        f"/accounts/{acme.account_id}/edit",
        data=account_form(token, status="deleted"),
    )
    assert response.status_code == 422
    assert field_error(response.text, "status") == "Status must be one of active, closed."
