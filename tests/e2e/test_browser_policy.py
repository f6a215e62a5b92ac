"""The Content-Security-Policy in a real browser: /docs and the back office run under
it without a violation, load nothing from elsewhere, and no site can frame them."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_backoffice import sign_in
from tests.web.acme import VIEWER

pytestmark = pytest.mark.e2e


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


class Watched:
    """A page's console complaints and the addresses it requested."""

    def __init__(self, page: Page) -> None:
        self.page, self.complaints, self.requested = page, list[str](), list[str]()
        page.on("console", self._console)
        page.on("request", lambda request: self.requested.append(request.url))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.complaints.append(message.text)


def test_docs_run_under_the_policy_from_this_server_alone(
    context: BrowserContext, server: Server
) -> None:
    watched = Watched(context.new_page())
    watched.page.goto(f"{server.base_url}/docs")
    expect(watched.page.locator(".opblock-summary-path").first).to_be_visible()
    expect(
        watched.page.get_by_text("/api/v1/accounts/{account_id}/pending-invoices")
    ).to_be_visible()
    assert watched.complaints == []
    assert all(url.startswith(server.base_url) for url in watched.requested), watched.requested


def test_the_back_office_runs_under_the_policy(context: BrowserContext, server: Server) -> None:
    page = sign_in(context, server.base_url, VIEWER)
    watched = Watched(page)
    page.goto(f"{server.base_url}/accounts/{server.acme.account_id}/pending")
    expect(page.locator("#pending-invoices")).to_be_visible()
    page.goto(f"{server.base_url}/subscriptions")
    assert watched.complaints == []


def test_no_page_can_be_framed(context: BrowserContext, server: Server) -> None:
    page = context.new_page()
    page.set_content(f'<iframe src="{server.base_url}/login"></iframe>')
    page.wait_for_timeout(500)
    framed = page.frames[1]
    assert framed.locator("form").count() == 0  # the sign-in form is not shown
