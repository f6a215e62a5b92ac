"""Payments, allocations and what an account owes (SPEC §18), as plain values.

A payment's allocations settle invoices; a credit note's settle invoices too (applied)
or leave the account (refunded). A document's `amount_paid` is the sum of what settled
it and its status follows from that alone (`payment_status`); whether it is overdue
depends on the day it is looked at, so it is derived when shown.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from recur.domain.catalogue import InvoiceStatus
from recur.domain.errors import Conflict, InvalidInput
from recur.domain.money import to_money


def payment_status(total: Decimal, amount_paid: Decimal) -> InvoiceStatus:
    """A document's status from what settled it (both signed alike)."""
    if amount_paid == 0:
        return InvoiceStatus.UNPAID
    return InvoiceStatus.PAID if amount_paid == total else InvoiceStatus.PARTIALLY_PAID


@dataclass(frozen=True, slots=True)
class AllocationSpec:
    """Part of a payment (or credit note) put on one invoice."""

    invoice_id: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PaymentSpec:
    account_id: int
    amount: Decimal
    currency: str
    received_on: date
    method: str  # a PaymentMethod value
    reference: str
    allocations: tuple[AllocationSpec, ...]


@dataclass(frozen=True, slots=True)
class RefundSpec:
    amount: Decimal
    refunded_on: date
    reference: str


@dataclass(frozen=True, slots=True)
class OpenDocument:
    """What an allocation needs to know of the invoice it settles, read under its lock."""

    id: int
    number: str
    account_id: int
    currency: str
    type: str
    status: str
    total: Decimal
    amount_paid: Decimal

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.amount_paid


@dataclass(frozen=True, slots=True)
class Allocation:
    """An allocation as the doors show it: which invoice, how much, and from what."""

    id: int
    invoice_id: int
    invoice_number: str
    amount: Decimal
    payment_id: int | None  # … from a payment
    credit_note_id: int | None  # … or from a credit note applied
    credit_note_number: str | None
    received_on: date | None  # the payment's date (None: a credit note's)
    method: str | None
    reference: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    account_id: int
    amount: Decimal
    currency: str
    received_on: date
    method: str
    reference: str
    created_by: str
    created_at: datetime
    undone_at: datetime | None
    allocations: tuple[AllocationSpec, ...]

    @property
    def unallocated(self) -> Decimal:
        """What stays on the account as credit (nothing once undone)."""
        if self.undone_at is not None:
            return Decimal(0)
        return self.amount - sum((a.amount for a in self.allocations), Decimal(0))


@dataclass(frozen=True, slots=True)
class Refund:
    id: int
    credit_note_id: int
    amount: Decimal
    refunded_on: date
    reference: str
    created_at: datetime


_OPEN = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)


def checked_allocations(
    amount: Decimal, allocations: Sequence[AllocationSpec], documents: dict[int, OpenDocument]
) -> None:
    """Refuse allocations that exceed `amount` or an invoice's amount due, that name an
    invoice twice, or that settle a document that is not an open invoice. `documents`
    are the allocated invoices, read under their locks, by id."""
    ids = [a.invoice_id for a in allocations]
    if len(set(ids)) != len(ids):
        raise InvalidInput("invalid_allocations", "allocations must name each invoice once")
    allocated = sum((a.amount for a in allocations), Decimal(0))
    if allocated > amount:
        raise Conflict(
            "over_allocated",
            f"the allocations ({allocated}) exceed the amount ({amount}): nothing was recorded",
        )
    for allocation in allocations:
        document = documents[allocation.invoice_id]
        if document.type != "invoice" or document.status not in _OPEN:
            raise Conflict(
                "invoice_not_open",
                f"{document.number} is not an open invoice: nothing was recorded",
            )
        if allocation.amount > document.amount_due:
            raise Conflict(
                "over_allocated",
                f"{allocation.amount} exceeds the "
                f"{to_money(document.amount_due, document.currency)} due on "
                f"{document.number}: nothing was recorded",
            )


# --- what an account owes ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's balance in one currency: open invoices less unapplied credits."""

    currency: str
    invoiced_due: Decimal
    credits: Decimal  # credit notes not yet used, and payments not allocated

    @property
    def balance(self) -> Decimal:
        return self.invoiced_due - self.credits


# The aging buckets by days past due (SPEC §18): each name and its first day; the
# last bucket has no end.
BUCKETS: tuple[tuple[str, int], ...] = (
    ("current", 0),  # not yet due, or due today
    ("1_30", 1),
    ("31_60", 31),
    ("61_90", 61),
    ("over_90", 91),
)
BUCKET_NAMES = tuple(name for name, _ in BUCKETS)


def bucket_starts(as_of: date) -> list[tuple[str, date]]:
    """Every bucket but the last with the earliest due date it holds on `as_of`, in
    order: an invoice is in the first whose earliest date it is due on or after."""
    starts = [first for _, first in BUCKETS[1:]]
    return [
        (name, as_of - timedelta(days=start - 1))
        for (name, _), start in zip(BUCKETS[:-1], starts, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class AgingRow:
    """Amounts due in one currency, per bucket; `account_id` None: the whole book."""

    account_id: int | None
    account_name: str | None
    currency: str
    buckets: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), Decimal(0))


@dataclass(frozen=True, slots=True)
class Aging:
    as_of: date
    overall: list[AgingRow]  # one per currency
    accounts: list[AgingRow]  # one per account and currency


def aging_of(as_of: date, amounts: Iterable[tuple[int, str, str, str, Decimal]]) -> Aging:
    """The report from (account id, account name, currency, bucket, amount due) sums."""
    per_account: dict[tuple[int, str], AgingRow] = {}
    overall: dict[str, AgingRow] = {}
    for account_id, name, currency, bucket, amount in amounts:
        row = per_account.setdefault(
            (account_id, currency),
            AgingRow(account_id, name, currency, dict.fromkeys(BUCKET_NAMES, Decimal(0))),
        )
        row.buckets[bucket] += amount
        book = overall.setdefault(
            currency, AgingRow(None, None, currency, dict.fromkeys(BUCKET_NAMES, Decimal(0)))
        )
        book.buckets[bucket] += amount
    accounts = sorted(
        per_account.values(), key=lambda r: (r.account_name or "", r.account_id or 0, r.currency)
    )
    return Aging(as_of, [overall[c] for c in sorted(overall)], accounts)
