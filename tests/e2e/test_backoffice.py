"""The seed's paths through the back office, in a real browser against a real server.

The tests share one server and run in order: each picks up the state the
previous one left (as an operator's day would).
"""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import ROOT, Server
from tests.web.acme import OPERATOR, PASSWORD, VIEWER

pytestmark = pytest.mark.e2e

SHOTS = ROOT / "docs" / "screenshots"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(context: BrowserContext, base_url: str, email: str) -> Page:
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signing in lands on the dashboard; the tests start from the accounts.
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(f"{base_url}/accounts")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    return page


@pytest.fixture
def operator(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    yield sign_in(context, server.base_url, OPERATOR)
    context.close()


def pending_rows(page: Page) -> list[str]:
    rows = page.locator("#pending-invoices tbody.pending-invoice > tr:first-child")
    return [" ".join(t.split()) for t in rows.all_inner_texts()]


def test_generate_for_an_account_as_the_seed_describes(operator: Page, server: Server) -> None:
    page = operator
    shot(page, "01-accounts-list")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="Acme Ltd").click()
    page.get_by_role("navigation", name="Account").get_by_role(
        "link", name="Pending Invoices"
    ).click()

    rows = pending_rows(page)
    assert len(rows) == 2
    assert "20 Jan 2027" in rows[0]
    assert "€79.60" in rows[0]
    assert "11 Feb 2027" in rows[1]
    assert "€279.00" in rows[1]
    page.locator("#pending-invoices summary").nth(1).click()
    expect(page.locator("#pending-invoices table.items").nth(1)).to_contain_text(
        "11 Feb 2027 – 10 Mar 2027"
    )
    shot(page, "02-account-pending-invoices")

    page.get_by_role("navigation", name="Account").get_by_role(
        "link", name="Generate Invoices"
    ).click()
    dialog = page.locator("#generate-dialog")
    expect(dialog).to_be_visible()
    dialog.locator(f"#cand-{server.acme.s1}").check()
    dialog.locator(f"#cand-{server.acme.s3}").check()
    dialog.get_by_role("button", name="Insert to Selected").click()
    selected = dialog.locator("#selected-list li[data-subscription]")
    expect(selected).to_have_count(2)
    expect(dialog.locator("#selected-list")).to_contain_text("Office 365 E3")
    expect(dialog.locator("#selected-list")).to_contain_text("Azure usage")
    shot(page, "03-generate-pop-up-with-selection")

    dialog.get_by_role("button", name="Generate Invoices").click()
    confirmation = page.locator("#confirmation")
    expect(confirmation).to_contain_text("Invoice generated")
    expect(confirmation).to_contain_text("€279.00")
    number = confirmation.get_by_role("link").inner_text()
    assert re.fullmatch(r"INV-2027-\d{6}", number)
    rows = pending_rows(page)
    assert any("11 Mar 2027" in r and "€279.00" in r for r in rows), rows
    assert any("20 Jan 2027" in r and "€79.60" in r for r in rows), rows
    shot(page, "04-confirmation")

    confirmation.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=re.compile(number))).to_be_visible()
    items = page.locator("#invoice-items tbody tr")
    expect(items).to_have_count(2)
    expect(page.locator("#invoice-items")).to_contain_text("11 Feb 2027 – 10 Mar 2027")
    expect(page.locator("#invoice-items")).to_contain_text("11 Jan 2027 – 10 Feb 2027")
    expect(page.locator("#subtotal")).to_have_text("€225.00")
    expect(page.locator("#tax")).to_have_text("€54.00")
    expect(page.locator("#total")).to_have_text("€279.00")
    expect(page.locator(".facts")).to_contain_text(f"user:{OPERATOR}")
    expect(page.locator(".facts")).to_contain_text("15 Feb 2027".replace("15", "14"))
    shot(page, "05-invoice-page")

    page.get_by_role("link", name="Invoices", exact=True).first.click()
    expect(page.locator("#invoice-list")).to_contain_text(number)
    expect(page.locator("#invoice-list")).to_contain_text("Manual")
    shot(page, "06-invoices-list")


def test_generate_for_one_subscription(operator: Page, server: Server) -> None:
    page = operator
    page.get_by_role("link", name="Subscriptions").first.click()
    shot(page, "07-subscriptions-list")
    page.locator(f'a[href="/subscriptions/{server.acme.s2}"]').first.click()
    side = page.get_by_role("navigation", name="Subscription")
    side.get_by_role("link", name="Pending Invoices").click()
    expect(page.locator("#pending-invoices")).to_contain_text("€79.60")
    side.get_by_role("link", name="Generate Invoices").click()
    page.locator("#generate-dialog").get_by_role("button", name="Generate Invoices").click()
    confirmation = page.locator("#confirmation")
    expect(confirmation).to_contain_text("€79.60")
    confirmation.get_by_role("link").click()
    expect(page.locator("#total")).to_have_text("€79.60")
    expect(page.locator("#invoice-items")).to_contain_text("20 Jan 2027 – 10 Feb 2027")


def test_products_and_billing_runs(operator: Page) -> None:
    page = operator
    page.get_by_role("link", name="Products").click()
    expect(page.locator("table.data")).to_contain_text("Cloud Backup 1 TB")
    shot(page, "08-products")
    page.get_by_role("link", name="Billing runs").click()
    page.get_by_role("button", name=re.compile("Run now")).click()
    expect(page.locator("#run-preview")).to_contain_text("What the run as of 15 Jan 2027")
    page.get_by_role("button", name=re.compile("Confirm the run")).click()
    expect(page.locator(".notice.success")).to_contain_text("Billing run")
    shot(page, "09-billing-runs")


def test_viewer_reads_but_cannot_generate(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = sign_in(context, server.base_url, VIEWER)
    page.goto(f"{server.base_url}/accounts/{server.acme.account_id}/pending")
    expect(page.locator("#pending-invoices")).to_be_visible()
    expect(page.get_by_role("link", name="Generate Invoices")).to_have_count(0)
    expect(page.get_by_role("button", name="Generate Invoices")).to_have_count(0)
    token = page.evaluate(
        'fetch(\'/accounts\').then(r => r.text()).then(t => t.match(/name="csrf_token" value="([^"]+)"/)[1])'
    )
    forged = page.request.post(
        f"{server.base_url}/accounts/{server.acme.account_id}/generate",
        form={"csrf_token": token, "selected": str(server.acme.s1), "action": "generate"},
    )
    assert forged.status == 403
    context.close()


def test_a_form_without_its_csrf_token_is_refused(operator: Page, server: Server) -> None:
    response = operator.request.post(
        f"{server.base_url}/accounts/{server.acme.account_id}/generate",
        form={"selected": str(server.acme.s1), "action": "generate"},
    )
    assert response.status == 403


def test_double_click_on_generate_issues_one_invoice(operator: Page, server: Server) -> None:
    page = operator
    page.goto(f"{server.base_url}/invoices")
    before = int(page.locator(".pager span").inner_text().split()[0])
    page.goto(f"{server.base_url}/accounts/{server.acme.account_id}/pending")
    page.get_by_role("link", name="Generate Invoices").first.click()
    dialog = page.locator("#generate-dialog")
    dialog.locator(f"#cand-{server.acme.s1}").check()
    dialog.get_by_role("button", name="Insert to Selected").click()
    dialog.get_by_role("button", name="Generate Invoices").dblclick()
    expect(page.locator("#confirmation")).to_contain_text("Invoice generated")
    page.goto(f"{server.base_url}/invoices")
    after = int(page.locator(".pager span").inner_text().split()[0])
    assert after == before + 1


def test_the_pdf_downloads_and_reads(operator: Page, server: Server, tmp_path: Path) -> None:
    page = operator
    page.goto(f"{server.base_url}/invoices?source=manual")
    first = page.locator("#invoice-list tbody tr").last
    number = first.locator("td").first.inner_text()
    first.get_by_role("link", name=number).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    pdf = tmp_path / "invoice.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert number in text
    assert "€279.00" in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-singlefile", str(pdf), str(SHOTS / "11-invoice-pdf")],
        check=True,
    )


def test_phone_width(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = sign_in(context, server.base_url, OPERATOR)
    page.goto(f"{server.base_url}/accounts/{server.acme.account_id}/pending")
    expect(page.locator("#pending-invoices")).to_be_visible()
    shot(page, "10-account-pending-390px")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391"
        " && !e.closest('.table-wrap')).map(e => e.tagName + '.' + e.className)"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px): {wide}"
    context.close()
