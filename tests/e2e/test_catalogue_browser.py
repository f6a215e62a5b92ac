"""The catalogue in a real browser: a product with two pricing options made without
JavaScript's help (rows added by a round trip), every error shown at once, then an
option archived out of the subscription form."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from recur.db.session import Database
from recur.services import catalogue
from tests.e2e.conftest import Server
from tests.e2e.test_backoffice import sign_in
from tests.web.acme import ADMIN

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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
