"""The catalogue in a real browser: a product with two pricing options made without
JavaScript's help (rows added by a round trip), every error shown at once, then an
option archived out of the subscription form; a usage option's meters typed as rows."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from recur.db.session import Database
from recur.services import catalogue
from tests.e2e.conftest import Server
from tests.e2e.test_backoffice import sign_in
from tests.e2e.test_generate_popup import AXE
from tests.web.acme import ADMIN

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin(browser: Browser, server: Server) -> Iterator[Page]:
    # bypass_csp: lets a test inject axe-core (the app's CSP forbids inline scripts).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield sign_in(context, server.base_url, ADMIN)
    context.close()


def _skus(url: str) -> dict[str, list[tuple[str, bool]]]:
    db = Database(url)
    try:
        return {
            p.sku: [(o.code, o.active) for o in p.pricing_options]
            for p in catalogue.list_products(db, limit=100).items
        }
    finally:
        db.dispose()


def test_a_product_with_two_options_then_one_archived(admin: Page, server: Server) -> None:
    page = admin
    page.goto(f"{server.base_url}/products/new")
    page.get_by_label("SKU").fill("SEAT-2")
    page.get_by_label("Name", exact=True).fill("Seats")
    first = page.locator("#option-0")
    first.get_by_label("Unit price").fill("12,50")  # a decimal comma, refused below
    page.get_by_role("button", name="Add another pricing option").click()
    second = page.locator("#option-1")
    expect(second).to_be_visible()
    expect(first.get_by_label("Unit price")).to_have_value("12,50")  # kept
    second.get_by_label("Code").fill("annual")
    second.get_by_label("Billing period").select_option("annual")
    second.get_by_label("Unit price").fill("120.00")
    second.get_by_label("Currency").fill("XXX")
    second.get_by_label("Currency").press("Enter")  # saves: Enter never removes a row

    expect(page.locator(".field-error")).to_have_count(2)
    expect(first.locator(".field-error")).to_contain_text("point for decimals")
    expect(second.locator(".field-error")).to_contain_text("not a currency in use")
    assert "SEAT-2" not in _skus(server.database_url)

    first.get_by_label("Unit price").fill("12.50")
    second.get_by_label("Currency").fill("EUR")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", name="Seats")).to_be_visible()
    assert _skus(server.database_url)["SEAT-2"] == [("monthly", True), ("annual", True)]

    page.get_by_role("button", name="Archive annual").click()
    expect(page.get_by_role("status")).to_contain_text("archived")
    assert _skus(server.database_url)["SEAT-2"] == [("monthly", True), ("annual", False)]
    page.goto(f"{server.base_url}/subscriptions/new")
    choices = page.locator("#f-pricing_option_id option").all_inner_texts()
    assert any("Seats — monthly" in c for c in choices)
    assert not any("Seats — annual" in c for c in choices)


def _meters(url: str, sku: str) -> list[tuple[str, str, str, Decimal]]:
    db = Database(url)
    try:
        product = next(p for p in catalogue.list_products(db, limit=100).items if p.sku == sku)
        return [(m.code, m.name, m.unit, m.unit_price) for m in product.pricing_options[0].meters]
    finally:
        db.dispose()


def test_a_usage_option_with_its_meters(admin: Page, server: Server) -> None:
    page = admin
    page.goto(f"{server.base_url}/products/new")
    page.get_by_label("SKU").fill("VM-USAGE")
    page.get_by_label("Name", exact=True).fill("Virtual machines")
    option = page.locator("#option-0")
    option.get_by_label("Billing type").select_option("usage")
    option.get_by_label("Unit price").fill("0")
    option.get_by_role("button", name="Add meter").click()
    option.get_by_role("button", name="Add meter").click()
    expect(option.get_by_label("Billing type")).to_have_value("usage")  # kept
    option.get_by_label("Meter 1 code").fill("vm.hours")
    option.get_by_label("Meter 1 name").fill("Virtual machines")
    option.get_by_label("Meter 1 unit", exact=True).fill("hours")
    option.get_by_label("Meter 1 price per unit").fill("0,09")  # refused below
    option.get_by_label("Meter 2 code").fill("vm.hours")  # a duplicate, refused below
    option.get_by_label("Meter 2 unit", exact=True).fill("GB")
    option.get_by_label("Meter 2 price per unit").fill("0.02")
    option.get_by_label("Meter 2 price per unit").press("Enter")  # saves, removes nothing

    errors = option.locator(".field-error")
    expect(errors).to_have_count(3)
    expect(option.get_by_label("Meter 1 price per unit")).to_have_accessible_description(
        "Meter unit price must use a point for decimals: write 0.09, not 0,09."
    )
    expect(option.get_by_label("Meter 2 code")).to_have_accessible_description(
        "Meter codes must be unique per option."
    )
    expect(option.get_by_label("Meter 2 name")).to_have_accessible_description(
        "Meter name must not be empty."
    )
    assert "VM-USAGE" not in _skus(server.database_url)
    # The meter table with its errors is as accessible as the rest of the form.
    page.add_script_tag(path=str(AXE))
    results: dict[str, Any] = page.evaluate("axe.run(document)")
    assert not [v["id"] for v in results["violations"] if v["impact"] in ("serious", "critical")]

    option.get_by_label("Meter 1 price per unit").fill("0.096")
    option.get_by_label("Meter 2 code").fill("storage.gb")
    option.get_by_label("Meter 2 name").fill("Storage")
    option.get_by_role("button", name="Add meter").click()
    option.get_by_role("button", name="Remove meter 3 of pricing option 1").click()
    expect(option.get_by_label("Meter 3 code")).to_have_count(0)
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", name="Virtual machines")).to_be_visible()
    assert _meters(server.database_url, "VM-USAGE") == [
        ("vm.hours", "Virtual machines", "hours", Decimal("0.096")),
        ("storage.gb", "Storage", "GB", Decimal("0.02")),
    ]
