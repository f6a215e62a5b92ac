"""Tax as documents show it (SPEC §17, §3): each line's rate, the breakdown per rate,
the treatment (no tax under exempt or reverse charge), identical in the preview and
the issued document; a credit note repeats the rates of the invoice it corrects; an
issued document keeps the seller and buyer it was issued to. Both databases."""

from datetime import date
from decimal import Decimal

import pytest

from recur.db.final_writes import COPY_FROM_ROWS
from recur.db.session import Database
from recur.domain.identity import Address, Seller, TaxTreatment
from recur.domain.invoices import PendingInvoice, TaxLine
from recur.domain.issued import Invoice
from recur.services import accounts, billing_run, changes, invoicing, seller
from recur.services.changes import ChangeSpec
from tests.integration.factories import ACTOR, account, product, subscribe

JAN = date(2027, 1, 11)
ADDRESS = Address(("Hauptstraße 1",), "10115", "Berlin", None, "DE")
SELLER = Seller(
    "Recur Cloud Services GmbH",
    Address(("Unter den Linden 5",), "10117", "Berlin", None, "DE"),
    "DE123456789",
    "HRB 12345 B",
    "DE89370400440532013000",
    "COBADEFFXXX",
    None,
    "Thank you for your business.",
)
TREATMENTS = {
    TaxTreatment.STANDARD: {},
    TaxTreatment.EXEMPT: {"tax_exemption_reason": "Exempt under § 4 Nr. 21 UStG"},
    TaxTreatment.REVERSE_CHARGE: {"tax_id": "FR12345678901"},
}


def _mixed_account(db: Database, treatment: TaxTreatment) -> tuple[int, list[int]]:
    """An account at 24 % with a taxed (100.00) and an untaxed (30.00) line a month."""
    account_id = account(db, tax_rate="24")
    accounts.update_account(
        db,
        account_id,
        {"tax_treatment": treatment.value, "billing_address": ADDRESS, **TREATMENTS[treatment]},
        ACTOR,
    )
    taxed = product(db, "Cloud seats", unit_price="100.00")
    untaxed = product(db, "Training voucher", unit_price="30.00", taxable=False)
    return account_id, [subscribe(db, account_id, option, JAN) for option in (taxed, untaxed)]


def _figures(document: PendingInvoice | Invoice) -> tuple[object, ...]:
    """What must be the same in the preview and the issued document."""
    if isinstance(document, PendingInvoice):
        totals = (document.totals.subtotal, document.totals.tax, document.totals.total)
        rates = document.tax_rates
    else:
        totals = (document.subtotal, document.tax, document.total)
        rates = tuple(item.tax_rate for item in document.items)
    return totals, rates, document.tax_breakdown, document.tax_treatment


EXPECTED = {
    TaxTreatment.STANDARD: (
        (Decimal(24), Decimal(0)),
        (TaxLine(Decimal(24), Decimal("100.00"), Decimal("24.00")),
         TaxLine(Decimal(0), Decimal("30.00"), Decimal("0.00"))),
    ),
    TaxTreatment.EXEMPT: (
        (Decimal(0), Decimal(0)),
        (TaxLine(Decimal(0), Decimal("130.00"), Decimal("0.00")),),
    ),
    TaxTreatment.REVERSE_CHARGE: (
        (Decimal(0), Decimal(0)),
        (TaxLine(Decimal(0), Decimal("130.00"), Decimal("0.00")),),
    ),
}  # fmt: skip


@pytest.mark.parametrize("treatment", list(TaxTreatment))
def test_the_issued_document_is_the_preview_under_each_treatment(
    db: Database, treatment: TaxTreatment
) -> None:
    account_id, subs = _mixed_account(db, treatment)
    pending = invoicing.pending_for_account(db, account_id, JAN).invoices[0]
    assert pending.issue_date == JAN
    billing_run.run_billing(db, JAN, JAN, triggered_by=ACTOR)
    [listed] = invoicing.list_invoices(db, limit=10).items
    issued = invoicing.get_invoice(db, listed.id)
    assert _figures(issued) == _figures(pending)
    rates, breakdown = EXPECTED[treatment]
    assert sorted(item.tax_rate for item in issued.items) == sorted(rates)
    assert issued.tax_breakdown == breakdown
    assert sum(line.base for line in breakdown) == issued.subtotal
    assert sum(line.tax for line in breakdown) == issued.tax
    assert issued.tax_treatment == treatment
    assert issued.total == issued.subtotal + issued.tax
    assert [item.taxable for item in issued.items] == [True, False]
    # A manual generation (February's, merged) follows the same rule.
    [february] = invoicing.pending_for_account(db, account_id, JAN).invoices
    [made] = invoicing.generate_for_account(db, account_id, subs, JAN, ACTOR).invoices
    assert _figures(invoicing.get_invoice(db, made.id)) == _figures(february)
    assert made.tax_breakdown == breakdown


def test_a_credit_note_repeats_the_rates_of_the_invoice_it_corrects(db: Database) -> None:
    account_id = account(db, tax_rate="24", billing_day=1)
    option = product(db, "Cloud seats", unit_price="31.00")
    sub = subscribe(db, account_id, option, date(2027, 1, 1), quantity=10)
    billing_run.run_billing(db, date(2027, 1, 1), date(2027, 1, 1), triggered_by=ACTOR)
    accounts.update_account(db, account_id, {"tax_rate": Decimal(20)}, ACTOR)
    today = date(2027, 1, 17)
    changes.change_subscription(db, sub, ChangeSpec(quantity=5), today, ACTOR)

    pending = invoicing.pending_for_account(db, account_id, today).invoices[0]
    assert (pending.issue_date, pending.type) == (today, "credit")
    billing_run.run_billing(db, today, today, triggered_by=ACTOR)
    january, note = (invoicing.get_invoice(db, i.id) for i in _by_issue(db))
    assert january.tax == Decimal("74.40")  # 310.00 at 24 %
    assert note.type == "credit"
    [credit] = note.items
    assert credit.corrects_invoice_id == january.id
    assert credit.tax_rate == Decimal(24)  # the invoice's, not the account's 20 %
    # 5 × 31.00 × 15/31 = 75.00 credited, at 24 %: 18.00
    assert note.tax_breakdown == (TaxLine(Decimal(24), Decimal("-75.00"), Decimal("-18.00")),)
    assert (note.subtotal, note.tax, note.total) == (
        Decimal("-75.00"),
        Decimal("-18.00"),
        Decimal("-93.00"),
    )
    assert _figures(note) == _figures(pending)
    # What is billed from now on is at the account's new rate.
    billing_run.run_billing(db, date(2027, 2, 1), date(2027, 2, 1), triggered_by=ACTOR)
    february = invoicing.get_invoice(db, _by_issue(db)[-1].id)
    assert [item.tax_rate for item in february.items] == [Decimal(20)]
    assert february.tax == Decimal("31.00")  # 155.00 at 20 %


def _by_issue(db: Database) -> list[Invoice]:
    return sorted(invoicing.list_invoices(db, limit=50).items, key=lambda i: i.id)


def test_an_issued_document_keeps_who_it_was_issued_to(db: Database) -> None:
    seller.update_seller(db, SELLER, ACTOR)
    account_id, _ = _mixed_account(db, TaxTreatment.REVERSE_CHARGE)
    billing_run.run_billing(db, JAN, JAN, triggered_by=ACTOR)
    [issued] = invoicing.list_invoices(db, limit=10).items
    before = invoicing.get_invoice(db, issued.id)
    assert before.seller == SELLER
    assert before.buyer is not None
    assert (before.buyer.name, before.buyer.address, before.buyer.tax_id) == (
        "Acme Ltd",
        ADDRESS,
        "FR12345678901",
    )

    moved = Address(("Rue de Rivoli 1",), "75001", "Paris", None, "FR")
    seller.update_seller(
        db, Seller("Other Name SAS", moved, "FR98765432109", None, None, None, None, None), ACTOR
    )
    accounts.update_account(
        db,
        account_id,
        {"name": "Acme Renamed", "billing_address": moved, "tax_treatment": "standard"},
        ACTOR,
    )
    after = invoicing.get_invoice(db, issued.id)
    assert (after.seller, after.buyer, after.tax_treatment) == (
        before.seller,
        before.buyer,
        TaxTreatment.REVERSE_CHARGE.value,
    )
    assert after.tax_breakdown == before.tax_breakdown


def test_a_run_of_many_documents_keeps_each_buyer(db: Database) -> None:
    """Enough documents in one batch that PostgreSQL writes them with COPY (db/final_writes.py):
    the snapshots go through it as JSON, each document with its own account."""
    seller.update_seller(db, SELLER, ACTOR)
    option = product(db, "Cloud seats", unit_price="10.00")
    count = COPY_FROM_ROWS + 5
    ids = [account(db, f"Customer {n}", tax_rate="24") for n in range(count)]
    for account_id in ids:
        subscribe(db, account_id, option, JAN)
    billing_run.run_billing(db, JAN, JAN, triggered_by=ACTOR)
    issued = invoicing.list_invoices(db, limit=count).items
    assert len(issued) == count
    assert {(i.account_id, i.buyer.name if i.buyer else None) for i in issued} == {
        (account_id, f"Customer {n}") for n, account_id in enumerate(ids)
    }
    assert {i.seller for i in issued} == {SELLER}
