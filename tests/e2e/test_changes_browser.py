"""SPEC §14 through the back office, in a real browser against a real server.

The server's test clock (RECUR_TEST_CLOCK=1) is moved through the API from one row
of the table to the next; every change and the cancellation is previewed on the
page, confirmed, and the billing run's documents are checked on the pages.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from recur.db.migrate import upgrade
from recur.db.session import Database
from recur.domain.roles import Role
from recur.services import tokens
from tests.e2e.conftest import seed_users_quickly, serving
from tests.e2e.test_backoffice import shot, sign_in
from tests.web.acme import OPERATOR
from tests.web.beta import Beta, seed_beta

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class BetaServer:
    base_url: str
    beta: Beta
    token: str  # an API token, to move the test clock

    def set_today(self, day: str) -> None:
        response = httpx.put(
            f"{self.base_url}/api/v1/test/clock",
            json={"today": day},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def beta_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BetaServer]:
    folder = tmp_path_factory.mktemp("e2e-changes")
    url = f"sqlite:///{folder / 'recur.sqlite3'}"
    upgrade(url)
    db = Database(url)
    beta = seed_beta(db)  # with the run of 2027-03-01: INV-2027-000001
    seed_users_quickly(db)
    _, token = tokens.create_token(db, Role.OPERATOR, "e2e clock", actor="seed")
    db.dispose()
    env = {"RECUR_TODAY": "2027-03-01", "RECUR_TEST_CLOCK": "1", "RECUR_SECRET_KEY": "e2e"}
    with serving(url, folder, env) as base:
        yield BetaServer(base, beta, token)


@pytest.fixture
def operator(browser: Browser, beta_server: BetaServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield sign_in(context, beta_server.base_url, OPERATOR)
    context.close()


def documents(page: Page, table_id: str) -> list[str]:
    """The documents a confirmation step shows, once its page has loaded."""
    rows = page.locator(f"#{table_id} tbody.pending-invoice > tr:first-child")
    expect(rows.first).to_be_visible()
    return [" ".join(t.split()) for t in rows.all_inner_texts()]


def shows(text: str, *parts: str) -> bool:
    return all(part in text for part in parts)


def run_billing(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/billing-runs")
    page.get_by_role("button", name="Run now").click()
    page.get_by_role("button", name=re.compile("Confirm the run")).click()
    expect(page.locator(".notice.success")).to_contain_text("Billing run")


def listed(page: Page, base_url: str, number: str) -> str:
    page.goto(f"{base_url}/invoices")
    row = page.locator("#invoice-list tbody tr", has_text=number)
    return " ".join(row.inner_text().split())


def open_subscription(page: Page, server: BetaServer, day: str) -> None:
    server.set_today(day)
    page.goto(f"{server.base_url}/subscriptions/{server.beta.s1}")
    expect(page.get_by_role("heading", name="Change", exact=True)).to_be_visible()


def test_the_changes_example_through_the_browser(operator: Page, beta_server: BetaServer) -> None:
    page, server, base = operator, beta_server, beta_server.base_url
    assert "€360.00" in listed(page, base, "INV-2027-000001")

    # 2027-03-11: quantity 15, now; the preview shows the adjustment and April's invoice.
    open_subscription(page, server, "2027-03-11")
    expect(page.locator("#quantity-in-force")).to_have_text("10")
    change = page.locator("#change-form")
    change.get_by_label("Quantity").fill("15")
    change.get_by_role("button", name="Preview the change").click()
    rows = documents(page, "change-documents")
    assert len(rows) == 2, rows
    assert shows(rows[0], "11 Mar 2027", "€101.61", "€121.93"), rows
    assert shows(rows[1], "1 Apr 2027", "€450.00", "€540.00"), rows
    expect(page.locator("#change-documents .explanation").first).to_contain_text("21/31")
    shot(page, "12-subscription-change")
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator(".notice.success")).to_contain_text("The change is saved")
    expect(page.locator("#quantity-in-force")).to_have_text("15")
    run_billing(page, base)
    assert "€121.93" in listed(page, base, "INV-2027-000002")

    # 2027-03-20: switch to E5, now: a credit note for E3 and an invoice for E5.
    open_subscription(page, server, "2027-03-20")
    page.locator("#change-form").get_by_label("Plan").select_option(
        label="Microsoft 365 E5 (monthly, €50.00)"
    )
    page.get_by_role("button", name="Preview the change").click()
    rows = documents(page, "change-documents")
    assert any(shows(r, "20 Mar 2027", "-€209.03", "Credit note") for r in rows), rows
    assert any(shows(r, "20 Mar 2027", "€348.38", "Invoice") for r in rows), rows
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator("#product-in-force")).to_contain_text("Microsoft 365 E5")
    run_billing(page, base)
    credit = listed(page, base, "CN-2027-000001")
    assert shows(credit, "Credit note", "-€209.03"), credit
    assert "€348.38" in listed(page, base, "INV-2027-000003")
    page.get_by_label("Type").select_option("credit")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#invoice-list tbody tr")).to_have_count(1)
    page.get_by_role("link", name="CN-2027-000001").click()
    expect(page.get_by_role("heading", name="Credit note CN-2027-000001")).to_be_visible()
    expect(page.locator("#corrects")).to_have_text("INV-2027-000001")
    expect(page.locator("#total")).to_have_text("-€209.03")
    expect(page.locator("#invoice-items .explanation")).to_contain_text("12/31")
    shot(page, "13-credit-note")
    page.locator("#corrects").get_by_role("link", name="INV-2027-000001").click()
    expect(page.get_by_role("heading", name="Invoice INV-2027-000001")).to_be_visible()

    # 2027-03-25: quantity 12 from 2027-04-10, withdrawable until it takes effect.
    open_subscription(page, server, "2027-03-25")
    change = page.locator("#change-form")
    change.get_by_label("Quantity").fill("12")
    change.get_by_label("Effective date").fill("2027-04-10")
    expect(change.locator('input[name="effective"][value="date"]')).to_be_checked()
    change.get_by_role("button", name="Preview the change").click()
    [row] = documents(page, "change-documents")
    assert shows(row, "1 Apr 2027", "€774.00"), row
    items = page.locator("#change-documents table.items")
    expect(items).to_contain_text("€225.00")
    expect(items).to_contain_text("€420.00")
    page.get_by_role("button", name="Confirm the change").click()
    scheduled = page.locator("#change-list tbody tr", has_text="10 Apr 2027")
    expect(scheduled.get_by_role("button", name="Withdraw")).to_be_visible()
    expect(page.locator("#quantity-in-force")).to_have_text("15")

    # 2027-04-01: the run issues the two items of April.
    server.set_today("2027-04-01")
    run_billing(page, base)
    assert "€774.00" in listed(page, base, "INV-2027-000004")

    # 2027-04-16: cancel now; the preview shows the credit note before it is confirmed.
    open_subscription(page, server, "2027-04-16")
    expect(page.locator("#quantity-in-force")).to_have_text("12")
    cancel = page.locator("#cancel-form")
    cancel.get_by_label("Now (16 Apr 2027)").check()
    cancel.get_by_role("button", name="Cancel subscription").click()
    [row] = documents(page, "cancel-documents")
    assert shows(row, "16 Apr 2027", "-€360.00", "Credit note"), row
    page.get_by_role("button", name="Confirm the cancellation").click()
    expect(page.locator(".notice.success")).to_contain_text("cancelled")
    run_billing(page, base)
    credit = listed(page, base, "CN-2027-000002")
    assert shows(credit, "Credit note", "-€360.00"), credit
    page.goto(f"{base}/subscriptions/{server.beta.s1}/pending")
    expect(page.locator(".empty")).to_contain_text("Nothing is pending")
