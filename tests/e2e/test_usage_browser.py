"""Billing > Usage in a real browser: SPEC §15's records uploaded as a CSV file,
checked before anything is stored, then stored on confirmation."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from recur.db.migrate import upgrade
from recur.db.models import UsageRecord
from recur.db.session import Database
from recur.services.subscriptions import SubscriptionSpec, create_subscription
from tests.e2e.conftest import seed_users_quickly, serving
from tests.e2e.test_backoffice import sign_in
from tests.integration.usage import azure_option
from tests.web.acme import OPERATOR, seed_acme

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class UsageServer:
    base_url: str
    database_url: str
    account_id: int
    u1: int


@pytest.fixture(scope="module")
def usage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UsageServer]:
    folder = tmp_path_factory.mktemp("e2e-usage")
    url = f"sqlite:///{folder / 'recur.sqlite3'}"
    upgrade(url)
    db = Database(url)
    acme = seed_acme(db)
    option = azure_option(db, sku="AZURE-PLAN")
    u1 = create_subscription(
        db, SubscriptionSpec(acme.account_id, option, 1, date(2027, 1, 11)), "seed"
    ).id
    seed_users_quickly(db)
    db.dispose()
    env = {"RECUR_TODAY": "2027-02-01", "RECUR_SECRET_KEY": "e2e"}
    with serving(url, folder, env) as base:
        yield UsageServer(base, url, acme.account_id, u1)


@pytest.fixture
def operator(browser: Browser, usage_server: UsageServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield sign_in(context, usage_server.base_url, OPERATOR)
    context.close()


def stored(url: str) -> dict[str, str]:
    db = Database(url)
    try:
        with db.read() as session:
            return {r.id: str(r.quantity.normalize()) for r in session.scalars(select(UsageRecord))}
    finally:
        db.dispose()


def test_a_csv_of_usage_is_checked_then_stored(
    operator: Page, usage_server: UsageServer, tmp_path: Path
) -> None:
    u1 = usage_server.u1
    header = "id,subscription_id,meter,quantity,occurred_on\n"
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(header + f"r1,{u1},vm.hours,120.5,2027-01-15\nr9,{u1},gpu,1,2027-01-20\n")
    right = tmp_path / "usage.csv"
    right.write_text(
        header
        + f"r1,{u1},vm.hours,120.5,2027-01-15\n"
        + f"r2,{u1},vm.hours,300,2027-01-31\n"
        + f"r2,{u1},vm.hours,300,2027-01-31\n"
        + f"r3,{u1},storage.gb,512,2027-02-01\n"
    )
    page = operator
    page.get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()

    page.get_by_label("CSV file").set_input_files(wrong)
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#check-refused")).to_have_text("1")
    refusals = page.locator("#check-refusals")
    expect(refusals).to_contain_text("line 3")
    expect(refusals).to_contain_text("meter 'gpu' is not on subscription")
    expect(page.get_by_role("button", name="Store")).to_have_count(0)
    assert stored(usage_server.database_url) == {}

    page.get_by_label("CSV file").set_input_files(right)
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#check-accepted")).to_have_text("3")
    expect(page.locator("#check-duplicates")).to_have_text("1")
    assert stored(usage_server.database_url) == {}
    page.get_by_role("button", name="Store 3 records").click()
    expect(page.get_by_text("Stored 3 usage records (duplicates: 1).")).to_be_visible()
    assert stored(usage_server.database_url) == {"r1": "120.5", "r2": "3E+2", "r3": "512"}

    # SPEC §15 as of 2027-02-01: U1's records make the 2027-02-14 invoice, to the cent.
    page.goto(f"{usage_server.base_url}/accounts/{usage_server.account_id}/pending")
    row = page.locator("#pending-invoices tbody tr", has_text="14 Feb 2027").first
    expect(row).to_contain_text("50.61")
    expect(row).to_contain_text("12.15")
    expect(row).to_contain_text("62.76")
    behind = page.locator("#pending-subscriptions")
    expect(behind.locator("tr", has_text="420.5")).to_contain_text("40.37")
    expect(behind.locator("tr", has_text="512")).to_contain_text("10.24")
