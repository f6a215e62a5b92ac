"""The dashboard in a real browser, at a desktop's and a phone's width (SPEC §19)."""

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_backoffice import sign_in
from tests.web.acme import VIEWER

pytestmark = pytest.mark.e2e


@pytest.fixture(params=[1366, 390], ids=["desktop", "phone"])
def home(request: pytest.FixtureRequest, browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    page = sign_in(context, server.base_url, VIEWER)
    page.goto(f"{server.base_url}/")
    # The first view of the server starts computing the figures (in a child process):
    # "Computing…" for each until then, as the page says.
    deadline = time.monotonic() + 120
    while "Refreshing" in page.locator("#computed-EUR").inner_text():
        assert time.monotonic() < deadline, "the figures were not computed in the background"
        time.sleep(0.2)
        page.reload()
    yield page
    context.close()


def test_the_dashboard_reads_and_links_at_every_width(home: Page, server: Server) -> None:
    width = home.viewport_size["width"] if home.viewport_size else 0
    section = home.locator("#currency-EUR")
    expect(home.get_by_role("heading", name="EUR")).to_be_visible()
    # S1 10 × 12.50 + S3 100.00 in force on 15 January (tests/web/acme.py).
    mrr = section.locator("#mrr-EUR")
    expect(mrr).to_contain_text("€225.00")
    for figure in ("#mrr-EUR", "#arr-EUR", "#next-EUR", "#overdue-EUR"):
        box = section.locator(figure).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width  # every figure in view, none cut off
    charts = section.locator("figure.chart img")
    expect(charts).to_have_count(2)
    for n in range(2):
        chart = charts.nth(n)
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] <= width
        assert "2027-01" in (chart.get_attribute("alt") or "")
    # The charts' figures as tables, for whoever cannot read the pictures.
    section.locator("details.chart-data summary").click()
    expect(home.locator("#mrr-table-EUR")).to_contain_text("€225.00")
    expect(home.locator("#recent-runs")).to_contain_text("11 Jan 2027")  # the seed's run
    home.locator("#overdue-EUR").click()
    expect(home).to_have_url(f"{server.base_url}/reports/aging")
    home.go_back()
    details = home.locator("#currency-EUR details.chart-data")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    home.locator("#invoiced-table-EUR").get_by_role("link", name="2027-01").click()
    expect(home.get_by_role("heading", name="Invoices")).to_be_visible()
    assert "issued_from=2027-01-01" in home.url
