"""A client generated from /openapi.json by openapi-python-client drives the main path
against a live server: catalogue, account, subscription, pending invoices, generation,
the invoice and its PDF. What the document declares is what a client can use."""

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from recur.db.migrate import upgrade
from tests.e2e.conftest import serving

pytestmark = pytest.mark.e2e

TOKEN = "generated-client-token-0123456789abcdef"  # an admin token, 32+ characters
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "recur_generated_client"

# The generator reads JSON, bytes (application/octet-stream) and text; a PDF is bytes to it
# once told so (its documented remedy for binary types it does not name).
CONFIG = """\
content_type_overrides:
  application/pdf: application/octet-stream
post_hooks: []
"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("generated-client")
    url = f"sqlite:///{folder / 'recur.sqlite3'}"
    upgrade(url)
    env = {"RECUR_TODAY": "2027-01-15", "RECUR_API_TOKEN": TOKEN, "RECUR_SECRET_KEY": "e2e"}
    with serving(url, folder, env) as base:
        yield base


@pytest.fixture(scope="module")
def generated(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated from the live server's document and imported."""
    folder = tmp_path_factory.mktemp("client")
    document = folder / "openapi.json"
    document.write_bytes(httpx.get(f"{base_url}/openapi.json").raise_for_status().content)
    (folder / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(document), "--meta", "none",
         "--output-path", str(folder / PACKAGE), "--config", str(folder / "config.yaml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # A part the generator could not read is left out with a warning: none may be.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _part(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_drives_the_main_path_pdf_included(
    base_url: str, generated: ModuleType
) -> None:
    models = _part("models")
    client = generated.AuthenticatedClient(base_url=base_url, token=TOKEN)

    option = models.PricingOptionIn(
        code="monthly",
        billing_period=models.BillingCycle.MONTHLY,
        billing_type=models.BillingType.PREPAID,
        unit_price="12.50",
        currency="EUR",
    )
    product = _part("api.products.create_product").sync(
        client=client,
        body=models.ProductIn(sku="O365-E3", name="Office 365 E3", pricing_options=[option]),
    )
    assert isinstance(product, models.ProductOut), product
    assert product.pricing_options[0].unit_price == "12.50"

    account = _part("api.accounts.create_account").sync(
        client=client,
        body=models.AccountIn(
            name="Acme Ltd", email="ap@acme.example", currency="EUR", billing_day=11, tax_rate="24"
        ),
    )
    assert isinstance(account, models.AccountOut), account

    subscription = _part("api.subscriptions.create_subscription").sync(
        client=client,
        body=models.SubscriptionIn(
            account_id=account.id,
            pricing_option_id=product.pricing_options[0].id,
            quantity=10,
            start_date=date(2027, 1, 11),
        ),
    )
    assert isinstance(subscription, models.SubscriptionOut), subscription

    pending = _part("api.accounts.list_account_pending_invoices").sync(account.id, client=client)
    assert isinstance(pending, models.AccountPendingOut), pending
    assert [s.id for s in pending.subscriptions] == [subscription.id]
    previewed = sum(Decimal(document.total) for document in pending.data)

    answer = _part("api.accounts.generate_account_invoices").sync_detailed(
        account.id,
        client=client,
        body=models.GenerateIn(subscription_ids=[subscription.id]),
        idempotency_key="generated-client-1",
    )
    assert answer.status_code == 201, answer.content
    [issued] = answer.parsed.invoices
    assert Decimal(issued.total) == previewed  # what the preview showed, issued
    retried = _part("api.accounts.generate_account_invoices").sync_detailed(
        account.id,
        client=client,
        body=models.GenerateIn(subscription_ids=[subscription.id]),
        idempotency_key="generated-client-1",
    )
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert [i.id for i in retried.parsed.invoices] == [issued.id]

    invoice = _part("api.invoices.get_invoice").sync(issued.id, client=client)
    assert isinstance(invoice, models.InvoiceOut), invoice
    assert (invoice.number, invoice.total, invoice.amount_due) == (
        issued.number,
        issued.total,
        issued.total,
    )

    pdf = _part("api.invoices.get_invoice_pdf").sync_detailed(issued.id, client=client)
    assert pdf.status_code == 200
    assert pdf.parsed.payload.read().startswith(b"%PDF")
    assert f'filename="{invoice.number}.pdf"' in pdf.headers["Content-Disposition"]

    missing = _part("api.invoices.get_invoice").sync_detailed(999_999, client=client)
    assert missing.status_code == 404
    assert missing.parsed.error.code == "invoice_not_found"
