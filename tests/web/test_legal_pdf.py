"""The PDF as an EU VAT invoice (Directive 2006/112/EC art. 226, SPEC §17), read back
with pdftotext: every item the article asks for is there, and the per-rate figures
add up to the total, for mixed taxed and untaxed lines, reverse charge, exemption and
a credit note; a paid invoice says so; the logo is embedded, nothing fetched. Both
databases."""

import re
import subprocess
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from recur.db.session import Database
from recur.domain.errors import InvalidInput
from recur.domain.identity import Address, Seller, TaxTreatment
from recur.domain.issued import Invoice
from recur.services import accounts, billing_run, changes, documents, invoicing, payments, seller
from recur.services.changes import ChangeSpec
from tests.integration.factories import ACTOR, account, product, subscribe
from tests.web.acme import OPERATOR, seed_users
from tests.web.beta import back_office
from tests.web.conftest import sign_in

JAN = date(2027, 1, 11)
# A 1×1 PNG.
LOGO = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SELLER = Seller(
    legal_name="Recur Cloud Services GmbH",
    address=Address(("Unter den Linden 5",), "10117", "Berlin", None, "DE"),
    tax_id="DE123456789",
    registration="HRB 12345 B Berlin",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    bank_details=None,
    footer="Managing director: Jane Doe",
    logo_url=LOGO,
)
BUYER_ADDRESS = Address(("12 Rue de Rivoli",), "75001", "Paris", None, "FR")
TREATMENTS = {
    TaxTreatment.STANDARD: {},
    TaxTreatment.EXEMPT: {"tax_exemption_reason": "Exempt: art. 132(1)(i) Directive 2006/112/EC"},
    TaxTreatment.REVERSE_CHARGE: {},
}


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    seller.update_seller(db, SELLER, ACTOR)
    yield db
    db.dispose()


def _issue(db: Database, treatment: TaxTreatment) -> tuple[int, int, Invoice]:
    """An account in Paris at 24 % under `treatment`, billed a taxed line (2 × 50.00)
    and an untaxed one (30.00): (account, taxed subscription, its invoice)."""
    account_id = account(db, "Client SARL", tax_rate="24")
    values = {"billing_address": BUYER_ADDRESS, "tax_id": "FR12345678901"}
    values |= {"tax_treatment": treatment.value, **TREATMENTS[treatment]}
    accounts.update_account(db, account_id, values, ACTOR)
    seats = product(db, "Cloud seats", unit_price="50.00")
    taxed = subscribe(db, account_id, seats, JAN, quantity=2)
    untaxed = product(db, "Training voucher", unit_price="30.00", taxable=False)
    subscribe(db, account_id, untaxed, JAN)
    billing_run.run_billing(db, JAN, JAN, triggered_by=ACTOR)
    [listed] = invoicing.list_invoices(db, limit=5).items
    return account_id, taxed, invoicing.get_invoice(db, listed.id)


def _text(db: Database, invoice: Invoice, tmp_path: Path) -> str:
    path = tmp_path / f"{invoice.number}.pdf"
    path.write_bytes(documents.document_pdf(db, invoice, "unused: the seller is set"))
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return out.stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


def _amount(text: str) -> Decimal:
    return Decimal(text.replace("€", "").replace(",", ""))


def _check_figures_add_up(text: str, invoice: Invoice) -> list[tuple[Decimal, Decimal, Decimal]]:
    """The per-rate rows as printed: their bases sum to the subtotal, their taxes to
    the tax, and subtotal + tax is the total, all as printed."""
    money = r"(-?€[\d,]+\.\d\d)"
    rows = [
        (Decimal(m[1]), _amount(m[2]), _amount(m[3]))
        for m in re.finditer(rf"^\s*(\d+(?:\.\d+)?) %(?: \(untaxed\))?\s+{money}\s+{money}\s*$",
                             text, re.M)
    ]  # fmt: skip
    printed = {
        label: _amount(m[1])
        for label in ("Subtotal", "VAT", "Total")
        if (m := re.search(rf"^\s*{label}\s+{money}\s*$", text, re.M))
    }
    assert rows, text
    assert sum(base for _, base, _ in rows) == printed["Subtotal"] == invoice.subtotal
    assert sum(tax for _, _, tax in rows) == printed["VAT"] == invoice.tax
    assert printed["Subtotal"] + printed["VAT"] == printed["Total"] == invoice.total
    return rows


def _art_226(text: str, invoice: Invoice) -> None:
    flat = _flat(text)
    for expected in (
        invoice.number,
        "11 Jan 2027",  # issue date
        "10 Feb 2027",  # due date (30 days)
        "Recur Cloud Services GmbH",
        "Unter den Linden 5",
        "10117 Berlin",
        "Germany",
        "VAT / tax id: DE123456789",
        "Registration: HRB 12345 B Berlin",
        "Client SARL",
        "12 Rue de Rivoli",
        "75001 Paris",
        "France",
        "VAT / tax id: FR12345678901",
        "Cloud seats (monthly)",
        "Training voucher (monthly)",
        "11 Jan 2027 – 10 Feb 2027",  # each line's period
        "€50.00",  # unit price …
        "€100.00",  # … and amount
        "€30.00",
        "IBAN: DE89370400440532013000",
        "BIC: COBADEFFXXX",
        "Managing director: Jane Doe",
    ):
        assert expected in flat, expected


def test_mixed_taxed_and_untaxed_lines(database: Database, tmp_path: Path) -> None:
    _, _, invoice = _issue(database, TaxTreatment.STANDARD)
    text = _text(database, invoice, tmp_path)
    _art_226(text, invoice)
    rows = _check_figures_add_up(text, invoice)
    assert rows == [
        (Decimal(24), Decimal("100.00"), Decimal("24.00")),
        (Decimal(0), Decimal("30.00"), Decimal("0.00")),
    ]
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert "24 %" in lines["Cloud"]  # each line's rate …
    assert "untaxed" in lines["Training"]  # … and an untaxed line says so
    assert "Reverse charge" not in text
    assert "Exempt" not in text
    assert "Paid" not in text.replace("Payment", "")


def test_a_reverse_charge_invoice(database: Database, tmp_path: Path) -> None:
    _, _, invoice = _issue(database, TaxTreatment.REVERSE_CHARGE)
    text = _text(database, invoice, tmp_path)
    _art_226(text, invoice)
    assert _check_figures_add_up(text, invoice) == [(Decimal(0), Decimal("130.00"), Decimal(0))]
    flat = _flat(text)
    assert "Reverse charge" in flat
    assert "art. 196 Directive 2006/112/EC" in flat


def test_an_exempt_invoice(database: Database, tmp_path: Path) -> None:
    _, _, invoice = _issue(database, TaxTreatment.EXEMPT)
    text = _text(database, invoice, tmp_path)
    _art_226(text, invoice)
    assert _check_figures_add_up(text, invoice) == [(Decimal(0), Decimal("130.00"), Decimal(0))]
    assert "Exempt from VAT: Exempt: art. 132(1)(i) Directive 2006/112/EC" in _flat(text)
    assert "Reverse charge" not in text


def test_a_credit_note_names_what_it_corrects_at_its_rates(
    database: Database, tmp_path: Path
) -> None:
    account_id, taxed, invoice = _issue(database, TaxTreatment.STANDARD)
    accounts.update_account(database, account_id, {"tax_rate": Decimal(19)}, ACTOR)
    today = date(2027, 1, 26)  # 16 of the period's 31 days left
    changes.change_subscription(database, taxed, ChangeSpec(quantity=1), today, ACTOR)
    billing_run.run_billing(database, today, today, triggered_by=ACTOR)
    notes = invoicing.list_invoices(database, limit=9).items
    [note] = [invoicing.get_invoice(database, n.id) for n in notes if n.type == "credit"]
    text = _text(database, note, tmp_path)
    flat = _flat(text)
    assert "Credit note" in flat
    assert note.number in flat
    assert f"Corrects {invoice.number} of 11 Jan 2027" in flat
    assert {item.tax_rate for item in note.items} == {Decimal(24)}  # not the new 19 %
    # −1 × 50.00 × 16/31 = −25.81, at 24 %: −6.19
    assert _check_figures_add_up(text, note) == [(Decimal(24), Decimal("-25.81"), Decimal("-6.19"))]


def test_a_paid_invoice_says_paid_and_the_logo_is_embedded(
    database: Database, tmp_path: Path
) -> None:
    _, _, invoice = _issue(database, TaxTreatment.STANDARD)
    paid = payments.pay_in_full(database, invoice.id, ACTOR, JAN)
    text = _text(database, paid, tmp_path)
    assert re.search(r"^\s*Paid\s*$", text, re.M), text
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / f"{invoice.number}.pdf")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[2:]
    # The 1×1 logo (and its transparency mask), and nothing else.
    assert [line.split()[2:5] for line in images] == [["image", "1", "1"], ["smask", "1", "1"]]


def test_an_issued_pdf_keeps_the_identities_it_was_issued_with(
    database: Database, tmp_path: Path
) -> None:
    account_id, _, invoice = _issue(database, TaxTreatment.REVERSE_CHARGE)
    renamed = Seller("Renamed Seller AG", SELLER.address, "DE999999999", *[None] * 5)
    seller.update_seller(database, renamed, ACTOR)
    accounts.update_account(
        database, account_id, {"name": "Renamed Client", "tax_treatment": "standard"}, ACTOR
    )
    flat = _flat(_text(database, invoicing.get_invoice(database, invoice.id), tmp_path))
    assert "Recur Cloud Services GmbH" in flat
    assert "Renamed Seller AG" not in flat
    assert "Client SARL" in flat
    assert "Renamed Client" not in flat
    assert "Reverse charge" in flat


@pytest.mark.parametrize(
    "logo",
    [
        "https://example.com/logo.png",
        "/etc/passwd",
        "file:///etc/hostname",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "data:image/png;base64,bm90IGEgcG5n",  # "not a png"
        "data:image/png;base64,%%%",
    ],
)
def test_a_logo_is_only_an_image_in_a_data_url(database: Database, logo: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        seller.update_seller(database, Seller(**{**_fields(SELLER), "logo_url": logo}), ACTOR)
    assert refused.value.code == "invalid_logo_url"
    assert seller.seller(database) == SELLER


def _fields(value: Seller) -> dict[str, object]:
    return {name: getattr(value, name) for name in Seller.__slots__}


def test_the_invoice_page_shows_the_breakdown_and_the_treatment(
    database: Database, db_url: str
) -> None:
    seed_users(database)
    _, _, invoice = _issue(database, TaxTreatment.STANDARD)
    with back_office(db_url, JAN) as client:
        sign_in(client, OPERATOR)
        page = _flat(re.sub(r"<[^>]+>", " ", client.get(f"/invoices/{invoice.id}").text))
    assert "VAT 24 % on €100.00 €24.00" in page
    assert "VAT 0 % on €30.00 €0.00" in page
