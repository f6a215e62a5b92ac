"""Lists in a real browser, at a laptop's 1366 px and a phone's 390 px: sorting by a
column header, previous and next pages, Export CSV, and the top bar's global search."""

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from recur.db.session import Database
from recur.services import accounts
from recur.services.accounts import AccountSpec
from tests.e2e.conftest import Server
from tests.e2e.test_backoffice import sign_in
from tests.web.acme import OPERATOR

pytestmark = pytest.mark.e2e

CUSTOMERS = 30  # with the seed's Acme Ltd: 31 accounts, two pages of 25


@pytest.fixture(scope="module")
def customers(server: Server) -> Server:
    db = Database(server.database_url)
    for n in range(CUSTOMERS):
        spec = AccountSpec(name=f"Customer {n:02d}", email=f"c{n:02d}@example.com", currency="EUR")
        accounts.create_account(db, spec, actor="e2e")
    db.dispose()
    return server


@pytest.fixture(params=[1366, 390], ids=["1366px", "390px"])
def page(request: pytest.FixtureRequest, browser: Browser, customers: Server) -> Iterator[Page]:
    width = request.param
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    yield sign_in(context, customers.base_url, OPERATOR)
    context.close()


def first_names(page: Page) -> list[str]:
    return page.locator("table.data tbody tr td:first-child > a").all_inner_texts()


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"the page scrolls sideways ({width}px)"


def test_sorting_by_a_header_and_paging(page: Page, customers: Server) -> None:
    page.goto(f"{customers.base_url}/accounts")
    name = page.get_by_role("columnheader", name="Name")
    expect(name).to_have_attribute("aria-sort", "ascending")
    assert first_names(page)[0] == "Acme Ltd"
    name.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(page.get_by_role("columnheader", name="Name")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert first_names(page)[:2] == ["Customer 29", "Customer 28"]
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    assert first_names(page) == [f"Customer {n:02d}" for n in range(4, -1, -1)] + ["Acme Ltd"]
    page.get_by_role("link", name="Previous page").click()
    assert first_names(page)[0] == "Customer 29"
    no_sideways_scroll(page)


def test_export_csv_downloads_every_row_in_the_sort(
    page: Page, customers: Server, tmp_path: Path
) -> None:
    page.goto(f"{customers.base_url}/accounts?sort=-email")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("accounts-")
    saved = tmp_path / "accounts.csv"
    download.value.save_as(saved)
    with saved.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == CUSTOMERS + 1  # every row, not the page of 25
    assert [r["email"] for r in rows[:2]] == ["c29@example.com", "c28@example.com"]


def test_the_global_search_from_the_top_bar(page: Page, customers: Server) -> None:
    page.goto(f"{customers.base_url}/invoices")
    box = page.get_by_role("searchbox", name="Search accounts, invoices and subscriptions")
    expect(box).to_be_visible()
    box.fill("c07@EXAMPLE")
    box.press("Enter")
    expect(page.get_by_role("heading", name="Search: “c07@EXAMPLE”")).to_be_visible()
    page.get_by_role("link", name="Customer 07").click()
    expect(page.get_by_role("heading", name="Customer 07")).to_be_visible()
    page.goto(f"{customers.base_url}/search?q=%23{customers.acme.s1}")
    expect(page.locator("#search-subscriptions")).to_contain_text("Acme Ltd")
    no_sideways_scroll(page)
