"""Issued invoices: what an issuing transaction writes, as plain values.

An issued invoice is a pending one (domain.invoices) with an id, a number and a
source; its items are the charges as printed (inclusive period end, proration
to six places). The persistence layer writes exactly these values, so a
generation can answer with them without reading its invoices back, and an
idempotent retry can answer with the same values from a stored record.

A stored invoice (`Invoice`) is an issued one as the doors show it: with its
account's name and the time it was written. `InvoiceFilter` selects them.
"""

from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from recur.domain.accounts import AccountRef
from recur.domain.catalogue import InvoiceSource, InvoiceStatus, InvoiceType
from recur.domain.charges import Charge
from recur.domain.identity import (
    Buyer,
    Seller,
    TaxTreatment,
    buyer_of_record,
    buyer_record,
    seller_of_record,
    seller_record,
)
from recur.domain.invoices import PendingInvoice, TaxLine, tax_breakdown
from recur.domain.money import check_amounts


@dataclass(slots=True, unsafe_hash=True)  # a value: see charges.HOT_RECORDS
class IssuedItem:
    subscription_id: int
    kind: str
    description: str
    period_start: date
    period_end: date  # the last day of the period, as printed
    quantity: int
    unit_price: Decimal
    proration: Decimal
    amount: Decimal
    taxable: bool
    tax_rate: Decimal = Decimal(0)  # the rate applied to it: 0 for an untaxed line
    explanation: str = ""
    corrects_invoice_id: int | None = None  # adjustments: the invoice that billed the period
    meter: str | None = None  # usage: the meter's code …
    usage_quantity: Decimal | None = None  # … and the quantity of its records (SPEC §13)


@dataclass(frozen=True, slots=True)
class IssuedInvoice:
    """An invoice as issued: unpaid, with the same fields as its stored row."""

    id: int
    number: str
    account_id: int
    issue_date: date
    due_date: date
    currency: str
    source: str
    generated_by: str | None
    billing_run_id: int | None
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    tax_rate: Decimal  # the rate the tax was computed with, kept for corrections
    items: tuple[IssuedItem, ...]
    type: str = InvoiceType.INVOICE.value
    status: str = InvoiceStatus.UNPAID.value
    paid_at: datetime | None = None
    # What its allocations settled, signed as `total` (a credit note's is what was
    # applied or refunded of it): the sum of its allocations, kept with them.
    amount_paid: Decimal = Decimal(0)
    tax_treatment: str = TaxTreatment.STANDARD.value
    # Who it names, as they were when it was issued (None: issued before snapshots).
    seller: Seller | None = None
    buyer: Buyer | None = None

    @property
    def tax_breakdown(self) -> tuple[TaxLine, ...]:
        """Per rate: base and tax, summing to subtotal and tax (computed as at issue)."""
        lines = ((item.tax_rate, item.amount) for item in self.items)
        return tax_breakdown(lines, self.currency)

    def numbered(self, number: str) -> "IssuedInvoice":
        return replace(self, number=number)

    @property
    def amount_due(self) -> Decimal:
        """What is still open, signed as `total` (a credit note: what is left to use)."""
        return self.total - self.amount_paid

    @property
    def amount_remaining(self) -> Decimal | None:
        """A credit note's credit not yet applied or refunded (None: an invoice)."""
        return -self.amount_due if self.type == InvoiceType.CREDIT else None

    def is_overdue(self, today: date) -> bool:
        """Unpaid or partly paid after its due date: depends on the day, never stored."""
        open_statuses = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)
        return (
            self.type == InvoiceType.INVOICE
            and self.status in open_statuses
            and (today > self.due_date)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice(IssuedInvoice):
    """An invoice (or credit note) as stored: as issued, with its account and the time
    it was written (aware, UTC). `account.id` is `account_id`."""

    account: AccountRef
    created_at: datetime


@dataclass(frozen=True)
class InvoiceFilter:
    """Which stored invoices a list shows (every field optional)."""

    account_id: int | None = None
    status: InvoiceStatus | None = None
    source: InvoiceSource | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    number: str | None = None
    type: InvoiceType | None = None  # invoices or credit notes


def issued_item(charge: Charge, tax_rate: Decimal) -> IssuedItem:
    return IssuedItem(
        subscription_id=charge.subscription_id,
        kind=charge.kind.value,
        description=charge.description,
        period_start=charge.period_start,
        period_end=charge.period_last_day,
        quantity=charge.quantity,
        unit_price=charge.unit_price,
        proration=charge.proration_shown,
        amount=charge.amount,
        taxable=charge.taxable,
        tax_rate=tax_rate,
        explanation=charge.explanation,
        corrects_invoice_id=charge.corrects_invoice_id,
        meter=None if charge.usage is None else charge.usage.meter.code,
        usage_quantity=None if charge.usage is None else charge.usage.quantity,
    )


def issued_invoice(
    invoice_id: int,
    number: str,
    draft: PendingInvoice,
    source: InvoiceSource,
    generated_by: str | None = None,
    billing_run_id: int | None = None,
    seller: Seller | None = None,
) -> IssuedInvoice:
    totals = draft.totals
    check_amounts(totals.subtotal, totals.total, *(charge.amount for charge in draft.items))
    return IssuedInvoice(
        id=invoice_id,
        number=number,
        account_id=draft.account_id,
        issue_date=draft.issue_date,
        due_date=draft.due_date,
        currency=draft.currency,
        source=source.value,
        generated_by=generated_by,
        billing_run_id=billing_run_id,
        subtotal=draft.totals.subtotal,
        tax=draft.totals.tax,
        total=draft.totals.total,
        tax_rate=draft.tax_rate,
        items=tuple(
            issued_item(charge, rate)
            for charge, rate in zip(draft.items, draft.tax_rates, strict=True)
        ),
        type=draft.type.value,
        tax_treatment=draft.tax_treatment,
        seller=seller,
        buyer=draft.buyer,
    )


# JSON records: dates as ISO strings, amounts as decimal strings (never floats).
_DATES = {"issue_date", "due_date", "period_start", "period_end"}
_DECIMALS = {
    "subtotal",
    "tax",
    "total",
    "tax_rate",
    "unit_price",
    "proration",
    "amount",
    "usage_quantity",
    "amount_paid",
}


def to_record(invoice: IssuedInvoice) -> dict[str, Any]:
    """A JSON-safe record of the invoice, read back exactly by `from_record`."""
    record = _encode(invoice)
    record["items"] = [_encode(item) for item in invoice.items]
    record["seller"] = None if invoice.seller is None else seller_record(invoice.seller)
    record["buyer"] = None if invoice.buyer is None else buyer_record(invoice.buyer)
    return record


def from_record(record: dict[str, Any]) -> IssuedInvoice:
    items = tuple(IssuedItem(**_decode(item)) for item in record["items"])
    seller, buyer = record.get("seller"), record.get("buyer")
    return IssuedInvoice(
        **{
            **_decode(record),
            "items": items,
            "seller": None if seller is None else seller_of_record(seller),
            "buyer": None if buyer is None else buyer_of_record(buyer),
        }
    )


def _encode(value: IssuedInvoice | IssuedItem) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for field in fields(value):
        data = getattr(value, field.name)
        if data is None:
            pass
        elif field.name in _DATES:
            data = data.isoformat()
        elif field.name in _DECIMALS:
            data = str(data)
        record[field.name] = data
    return record


def _decode(record: dict[str, Any]) -> dict[str, Any]:
    decoded = dict(record)
    for name, field in record.items():
        if field is None:
            continue
        if name in _DATES:
            decoded[name] = date.fromisoformat(field)
        elif name in _DECIMALS:
            decoded[name] = Decimal(field)
    return decoded
