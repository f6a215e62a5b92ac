"""The credit note's PDF: titled Credit note, naming the invoice it corrects, with
negative totals and each item's arithmetic in words (SPEC §11, §14; both databases)."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from recur.db.session import Database
from recur.domain.roles import Role
from recur.services import documents, invoicing, tokens
from recur.services.corrections import corrected_invoices
from tests.web.acme import OPERATOR, seed_users
from tests.web.beta import advance_to, back_office, seed_beta
from tests.web.conftest import sign_in
from tests.web.test_pdf import _text


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    advance_to(db, seed_beta(db), date(2027, 3, 20))  # CN-2027-000001 and INV-2027-000003
    yield db
    db.dispose()


def test_the_credit_note_pdf(database: Database, tmp_path: Path) -> None:
    credit = invoicing.get_invoice_by_number(database, "CN-2027-000001")
    corrects = list(corrected_invoices(database, credit).values())
    assert corrects == ["INV-2027-000001"]
    text = _text(documents.document_pdf(database, credit, "Recur Cloud Services"), tmp_path)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert any(line.endswith("Credit note") for line in lines[:3])  # its title
    assert "Invoice" not in text
    for expected in ("CN-2027-000001", "Corrects INV-2027-000001", "20 Mar 2027", "Beta GmbH"):
        assert any(expected in line for line in lines), expected
    for total in ("Subtotal -€174.19", "20 % -€174.19 -€34.84", "VAT -€34.84", "Total -€209.03"):
        assert any(line.endswith(total) for line in lines), total
    [item] = credit.items
    assert item.explanation
    assert " ".join(item.explanation.split()[:3]) in " ".join(lines)
    assert "12/31" in text


def test_an_invoice_pdf_shows_its_explanations_and_stays_an_invoice(
    database: Database, tmp_path: Path
) -> None:
    invoice = invoicing.get_invoice_by_number(database, "INV-2027-000003")
    text = _text(documents.document_pdf(database, invoice, "Recur Cloud Services"), tmp_path)
    assert "Credit note" not in text
    assert "Payment due by" in text
    assert "€348.38" in text
    assert "12/31" in text  # +15 × 50.00 × 12/31, in words


def test_the_back_office_serves_the_credit_note_pdf(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    seed_users(database)
    credit = invoicing.get_invoice_by_number(database, "CN-2027-000001")
    with back_office(db_url, date(2027, 3, 20)) as client:
        sign_in(client, OPERATOR)
        response = client.get(f"/invoices/{credit.id}/pdf")
    assert response.status_code == 200
    assert "CN-2027-000001.pdf" in response.headers["content-disposition"]
    text = _text(response.content, tmp_path)
    assert "Credit note" in text
    assert "INV-2027-000001" in text
    assert "-€209.03" in text


def test_the_api_serves_the_same_credit_note_pdf(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    credit = invoicing.get_invoice_by_number(database, "CN-2027-000001")
    _, token = tokens.create_token(database, Role.VIEWER, "pdf reader", actor="test")
    with back_office(db_url, date(2027, 3, 20)) as client:
        response = client.get(
            f"/api/v1/invoices/{credit.id}/pdf", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200
    text = _text(response.content, tmp_path)
    assert "Credit note" in text
    assert "Corrects INV-2027-000001" in " ".join(text.split())
