"""Checks that hold for any database the services have written, whatever happened.

Every issued invoice is whole (it has items; subtotal = sum of items; total =
subtotal + tax), every ledger row belongs to exactly one item of the same
charge and every item to one ledger row, and numbers are gap-free per year.
"""

import re
from collections import defaultdict
from dataclasses import fields
from datetime import timedelta
from decimal import Decimal

from recur.db.models import Invoice
from recur.db.session import Database
from recur.domain.issued import IssuedInvoice, IssuedItem
from recur.services.invoicing import Generated, get_invoice

from .factories import invoices, items, ledger

_NUMBER = re.compile(r"^(INV|CN)-(\d{4})-(\d{6})$")


def assert_books_balanced(db: Database) -> None:
    issued = invoices(db)
    for invoice in issued:
        assert invoice.items, f"{invoice.number} has no items"
        assert invoice.subtotal == sum((Decimal(i.amount) for i in invoice.items), Decimal(0))
        assert invoice.total == invoice.subtotal + invoice.tax
        assert [i.position for i in invoice.items] == list(range(1, len(invoice.items) + 1))
    assert_numbers_gap_free(db)
    assert_ledger_matches_items(db)


def assert_numbers_gap_free(db: Database) -> None:
    """Invoices are numbered INV-…, credit notes CN-…, each series gap-free per year."""
    by_series: dict[tuple[str, int], list[int]] = defaultdict(list)
    for invoice in invoices(db):
        match = _NUMBER.match(invoice.number)
        assert match, invoice.number
        assert match[1] == ("CN" if invoice.type == "credit" else "INV"), invoice.number
        year, serial = int(match[2]), int(match[3])
        assert year == invoice.issue_date.year, invoice.number
        by_series[match[1], year].append(serial)
    for series, serials in by_series.items():
        assert sorted(serials) == list(range(1, len(serials) + 1)), f"numbers of {series}"


def assert_ledger_matches_items(db: Database) -> None:
    rows = ledger(db)
    by_item = {row.invoice_item_id: row for row in rows}
    assert len(by_item) == len(rows), "two ledger rows point at one item"
    # Adjustments and usage items may bill a first day again (BilledPeriod.repeat_key).
    keys = [
        (r.subscription_id, r.kind, r.period_start)
        for r in rows
        if r.kind not in ("adjustment", "usage")
    ]
    assert len(set(keys)) == len(keys), "days are billed for the first time twice"
    all_items = items(db)
    assert {i.id for i in all_items} == set(by_item), "an item without ledger row or vice versa"
    for item in all_items:
        row = by_item[item.id]
        assert (row.subscription_id, row.kind, row.period_start) == (
            item.subscription_id,
            item.kind,
            item.period_start,
        )
        # The item shows the period inclusive; one-off charges cover their start day.
        assert row.period_end - timedelta(days=1) == item.period_end


def stored_as_answered(db: Database, generated: Generated) -> list[Invoice]:
    """The invoices a generation issued, read back: each equal, field by field, to the
    answer the generation gave without reading them."""
    stored = [get_invoice(db, answer.id) for answer in generated.invoices]
    for answer, invoice in zip(generated.invoices, stored, strict=True):
        assert as_issued(invoice) == answer, invoice.number
    return stored


def as_issued(invoice: Invoice) -> IssuedInvoice:
    items = tuple(
        IssuedItem(**{f.name: getattr(item, f.name) for f in fields(IssuedItem)})
        for item in invoice.items
    )
    header = {f.name: getattr(invoice, f.name) for f in fields(IssuedInvoice) if f.name != "items"}
    return IssuedInvoice(**header, items=items)
