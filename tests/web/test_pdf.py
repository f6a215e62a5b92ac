"""The invoice PDF: WeasyPrint output that poppler reads and renders."""

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from recur.db.session import Database
from recur.services import documents, invoicing
from tests.web.acme import Acme
from tests.web.conftest import TODAY

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils is not installed"
)


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return result.stdout


def test_the_pdf_carries_the_invoice(database: Database, acme: Acme, tmp_path: Path) -> None:
    [issued] = invoicing.generate_for_account(
        database, acme.account_id, [acme.s1, acme.s3], TODAY, actor="user:test"
    ).invoices
    invoice = invoicing.get_invoice(database, issued.id)
    pdf = documents.document_pdf(database, invoice, "Recur Cloud Services")
    text = _text(pdf, tmp_path)
    for expected in (
        issued.number,
        "Recur Cloud Services",
        "Acme Ltd",
        "billing@acme.example",
        "15 Jan 2027",
        "14 Feb 2027",
        "Office 365 E3 (monthly)",
        "Azure usage (monthly)",
        "11 Feb 2027 – 10 Mar 2027",
        "11 Jan 2027 – 10 Feb 2027",
        "€12.50",
        "€225.00",
        "€54.00",
        "€279.00",
    ):
        assert expected in text, expected


def test_the_back_office_serves_the_pdf_and_it_renders(
    operator: tuple[TestClient, str], tmp_path: Path
) -> None:
    client, _ = operator
    response = client.get("/invoices/1/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "INV-2027-000001.pdf" in response.headers["content-disposition"]
    assert "INV-2027-000001" in _text(response.content, tmp_path)
    (tmp_path / "invoice.pdf").write_bytes(response.content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(tmp_path / "invoice.pdf"),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    [png] = tmp_path.glob("page*.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert png.stat().st_size > 2000
