"""The back office's catalogue (issue 15): a product form of several pricing options with
every error at once, editing a product, adding options and archiving them. A refused
form changes nothing and keeps what was typed. On SQLite and PostgreSQL."""

import html
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from recur.app import create_app
from recur.db.session import Database
from recur.domain.products import Product
from recur.services import catalogue
from recur.settings import Settings
from tests.web.acme import Acme
from tests.web.conftest import TODAY
from tests.web.test_input import field_error, meter, meter_fields, product_form, row


@pytest.fixture
def app_client(db_url: str, acme: Acme) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, today=TODAY, scheduler="off", secret_key="test-secret")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


def _products(database: Database) -> list[Product]:
    return catalogue.list_products(database, limit=100).items


def _seats(database: Database) -> Product:
    return next(p for p in _products(database) if p.sku == "SEAT")


def _two_rows(token: str, **fields: str) -> dict[str, str]:
    """The new product form with two rows: monthly at 12.50 and annual at 120.00."""
    second = {
        row("code", 1): "annual",
        row("billing_period", 1): "annual",
        row("billing_type", 1): "prepaid",
        row("currency", 1): "EUR",
        row("unit_price", 1): "120.00",
    }
    return product_form(token) | second | {"option_rows": "2"} | fields


def test_a_product_is_created_with_several_options(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    usage = {
        row("code", 2): "usage",
        row("billing_period", 2): "monthly",
        row("billing_type", 2): "usage",
        row("currency", 2): "EUR",
        row("unit_price", 2): "0",
    } | meter_fields(("vm.hours", "Virtual machines", "hours", "0.096"), index=2)
    response = client.post("/products", data=_two_rows(token) | usage | {"option_rows": "3"})
    assert response.status_code == 303, response.text
    options = _seats(database).pricing_options
    assert [(o.code, o.billing_period, o.unit_price) for o in options] == [
        ("monthly", "monthly", Decimal("12.50")),
        ("annual", "annual", Decimal("120.00")),
        ("usage", "monthly", 0),
    ]
    assert [m.code for m in options[2].meters] == ["vm.hours"]


def test_rows_are_added_and_removed_by_a_round_trip_keeping_what_was_typed(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    added = client.post("/products", data=_two_rows(token, action="add_row"))
    assert added.status_code == 200
    assert 'name="option_rows" value="3"' in added.text
    assert f'name="{row("unit_price", 1)}" type="text" value="120.00"' in added.text
    assert f'name="{row("code", 2)}"' in added.text
    assert "SEAT" not in {p.sku for p in _products(database)}

    removed = client.post("/products", data=_two_rows(token, remove_row="0"))
    assert 'name="option_rows" value="1"' in removed.text
    # The annual row is now the first one.
    assert f'name="{row("code", 0)}" type="text" value="annual"' in removed.text
    assert "SEAT" not in {p.sku for p in _products(database)}


def test_every_error_of_every_row_is_shown_at_once_in_words(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    form = _two_rows(
        token,
        sku="",
        **{
            row("unit_price", 0): "12,50",
            row("currency", 1): "XXX",
            row("billing_day", 1): "5",
            row("anniversary_billing", 1): "on",
        },
    )
    third = {
        row("code", 2): "monthly",
        row("billing_period", 2): "monthly",
        row("billing_type", 2): "prepaid",
        row("currency", 2): "EUR",
        row("unit_price", 2): "1.00",
        "option_rows": "3",
    } | meter_fields(("gb", "Storage", "GB", "0.02"), index=2)
    response = client.post("/products", data=form | third)
    assert response.status_code == 422
    page = response.text
    assert field_error(page, "sku") == "This field is required."
    assert field_error(page, row("unit_price", 0)) == (
        "Unit price must use a point for decimals: write 12.50, not 12,50."
    )
    assert "not a currency in use" in field_error(page, row("currency", 1))
    assert field_error(page, row("meters", 2)).startswith("Meters and a usage delay are for")
    # No column names in what the operator reads.
    assert not re.findall(r'class="field-error"[^>]*>[^<]*\b[a-z]+_[a-z]+', page)
    assert 'value="12,50"' in page  # kept as typed
    assert "SEAT" not in {p.sku for p in _products(database)}


def _usage(token: str, *meters: tuple[str, str, str, str]) -> dict[str, str]:
    """The new product form with one usage option and its meters."""
    return product_form(token, billing_type="usage", unit_price="0") | meter_fields(*meters)


def test_a_usage_product_with_two_meters_is_created_through_the_form(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    form = _usage(
        token,
        ("vm.hours", "Virtual machines", "hours", "0.096"),
        ("storage.gb", "Storage", "GB", "0.02"),
    )
    page = client.get("/products/new").text
    assert "Add meter" in page
    assert "For a billing type of <em>Usage</em> only" in page
    response = client.post("/products", data=form)
    assert response.status_code == 303, response.text
    (option,) = _seats(database).pricing_options
    assert [(m.code, m.name, m.unit, m.unit_price) for m in option.meters] == [
        ("vm.hours", "Virtual machines", "hours", Decimal("0.096")),
        ("storage.gb", "Storage", "GB", Decimal("0.02")),
    ]


def test_meters_are_added_and_removed_by_a_round_trip_keeping_what_was_typed(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    form = _two_rows(token) | meter_fields(
        ("vm.hours", "Virtual machines", "hours", "0,096"),
        ("storage.gb", "Storage", "GB", "0.02"),
        index=1,
    )
    added = client.post("/products", data=form | {"add_meter": "1"})
    assert added.status_code == 200
    page = added.text
    assert f'name="{row("meter_rows", 1)}" value="3"' in page
    assert f'name="{meter("unit_price", 0, 1)}" type="text" value="0,096"' in page
    assert f'name="{meter("code", 2, 1)}" type="text" value=""' in page
    assert f'name="{row("unit_price", 1)}" type="text" value="120.00"' in page
    assert row("meter_rows", 0) not in page  # the other row has no meters

    removed = client.post("/products", data=form | {"remove_meter": "1-0"})
    page = removed.text
    assert f'name="{row("meter_rows", 1)}" value="1"' in page
    assert f'name="{meter("code", 0, 1)}" type="text" value="storage.gb"' in page
    assert f'name="{meter("unit_price", 0, 1)}" type="text" value="0.02"' in page
    assert f'name="{row("code", 1)}" type="text" value="annual"' in page
    assert "SEAT" not in {p.sku for p in _products(database)}

    # Meters move with their option row when a row before it is removed.
    moved = client.post("/products", data=form | {"remove_row": "0"}).text
    assert f'name="{meter("code", 1, 0)}" type="text" value="storage.gb"' in moved


def test_every_meter_error_is_shown_at_once_next_to_its_field(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    form = _usage(
        token,
        ("vm.hours", "Virtual machines", "hours", "0.096"),
        ("vm.hours", "", "hours", "0.09.6"),
        ("", "", "", ""),  # an empty meter row is no meter
        ("gb", "Storage", "GB", "-1"),
    )
    response = client.post("/products", data=form | {row("code"): ""})
    assert response.status_code == 422
    page = response.text
    assert field_error(page, row("code")) == "This field is required."
    assert field_error(page, meter("code", 1)) == "Meter codes must be unique per option."
    assert field_error(page, meter("name", 1)) == "Meter name must not be empty."
    assert "point for decimals" in field_error(page, meter("unit_price", 1))
    assert field_error(page, meter("unit_price", 3)).startswith("Meter unit price")
    for name in (meter("code", 1), meter("name", 1), meter("unit_price", 1)):
        assert f'aria-describedby="{name}-error"' in page
    assert f"{meter('code', 0)}-error" not in page
    assert 'value="0.09.6"' in page  # kept as typed
    assert not re.findall(r'class="field-error"[^>]*>[^<]*\b[a-z]+_[a-z]+', page)
    assert "SEAT" not in {p.sku for p in _products(database)}


def test_two_rows_with_one_code_are_refused(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    response = client.post("/products", data=_two_rows(token, **{row("code", 1): "monthly"}))
    assert response.status_code == 422
    assert html.unescape(field_error(response.text, row("code", 1))) == (
        "Pricing option codes must be unique per product: 'monthly' is used twice."
    )
    assert "SEAT" not in {p.sku for p in _products(database)}


def test_a_product_is_renamed_and_made_untaxable(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    assert client.post("/products", data=product_form(token, taxable="on")).status_code == 303
    seats = _seats(database)
    page = client.get(f"/products/{seats.id}/edit")
    assert "Invoices already issued keep the tax" in page.text

    refused = client.post(f"/products/{seats.id}", data={"csrf_token": token, "name": " "})
    assert refused.status_code == 422
    assert field_error(refused.text, "name") == "This field is required."
    assert _seats(database) == seats

    saved = client.post(f"/products/{seats.id}", data={"csrf_token": token, "name": "Seats+"})
    assert saved.status_code == 303
    assert (_seats(database).name, _seats(database).taxable) == ("Seats+", False)


def test_options_are_added_on_the_product_page(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    client.post("/products", data=product_form(token))
    seats = _seats(database)
    path = f"/products/{seats.id}/pricing-options"
    opened = client.post(path, data={"csrf_token": token, "option_rows": "0", "action": "add_row"})
    assert 'name="option_rows" value="1"' in opened.text
    form = {k: v for k, v in product_form(token, code="annual").items() if k not in {"sku", "name"}}

    taken = client.post(path, data=form | {row("code"): "monthly"})
    assert taken.status_code == 422
    assert "unique per product" in field_error(taken.text, row("code"))
    assert _seats(database) == seats

    assert client.post(path, data=form).status_code == 303
    assert [o.code for o in _seats(database).pricing_options] == ["monthly", "annual"]


def test_an_archived_option_leaves_the_subscription_form(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, token = admin
    client.post("/products", data=product_form(token))
    seats = _seats(database)
    option = seats.pricing_options[0].id
    choice = f'<option value="{option}"'
    assert choice in client.get("/subscriptions/new").text

    archive = f"/products/{seats.id}/pricing-options/{option}/archive"
    assert client.post(archive, data={"csrf_token": token}).status_code == 303
    page = client.get(f"/products/{seats.id}/edit").text
    assert "Archived" in page
    assert "takes no new subscriptions" in page
    assert "Archived" in client.get("/products").text
    assert choice not in client.get("/subscriptions/new").text
    assert catalogue.get_pricing_option(database, option).active is False

    unarchive = f"/products/{seats.id}/pricing-options/{option}/unarchive"
    assert client.post(unarchive, data={"csrf_token": token}).status_code == 303
    assert choice in client.get("/subscriptions/new").text


def test_an_operator_may_not_change_the_catalogue(
    operator: tuple[TestClient, str], acme: Acme, database: Database
) -> None:
    client, token = operator
    product = _products(database)[0]
    option = product.pricing_options[0].id
    for path in (
        f"/products/{product.id}",
        f"/products/{product.id}/pricing-options",
        f"/products/{product.id}/pricing-options/{option}/archive",
    ):
        assert client.post(path, data={"csrf_token": token, "name": "X"}).status_code == 403
    assert client.get(f"/products/{product.id}/edit").status_code == 403
    assert _products(database)[0] == product
