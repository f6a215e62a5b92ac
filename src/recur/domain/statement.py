"""A statement of account: what an account was invoiced, credited, paid and refunded
over a period, with the balance before, after each line and at the end, per currency.

The balance here is the account's ledger: invoices add their total, credit notes (whose
totals are negative) and payments take away, refunds of credit notes add back. A credit
note applied to an invoice moves nothing (both were already counted) and is listed for
the record. Summed to a day it is what `balances` reports on that day.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class EntryKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    REFUND = "refund"
    CREDIT_APPLIED = "credit_applied"


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One movement; `amount` is what it adds to what the account owes (None: nothing,
    a credit note applied)."""

    day: date
    kind: EntryKind
    currency: str
    reference: str  # the document's number, the payment's or refund's reference
    description: str
    amount: Decimal | None
    order: int = 0  # the same day: documents before what settles them
    applied: Decimal | None = None  # how much of a credit note was applied


@dataclass(frozen=True, slots=True)
class StatementLine:
    entry: StatementEntry
    balance: Decimal  # after this line


@dataclass(frozen=True, slots=True)
class CurrencyStatement:
    currency: str
    opening: Decimal  # owed at the end of the day before the period
    lines: tuple[StatementLine, ...]
    closing: Decimal  # owed at the end of the period's last day


@dataclass(frozen=True, slots=True)
class Statement:
    account_id: int
    account_name: str
    period_from: date
    period_to: date
    currencies: tuple[CurrencyStatement, ...]


def statement_of(
    entries: Iterable[StatementEntry], period_from: date, period_to: date
) -> tuple[CurrencyStatement, ...]:
    """Per currency (in code order), from every entry up to `period_to`: the opening
    balance, the period's lines with their running balance, the closing balance."""
    by_currency: dict[str, list[StatementEntry]] = {}
    for entry in entries:
        if entry.day <= period_to:
            by_currency.setdefault(entry.currency, []).append(entry)
    return tuple(
        _one_currency(currency, by_currency[currency], period_from)
        for currency in sorted(by_currency)
    )


def _one_currency(
    currency: str, entries: Sequence[StatementEntry], period_from: date
) -> CurrencyStatement:
    ordered = sorted(entries, key=lambda e: (e.day, e.order, e.reference))
    opening = sum(
        (e.amount for e in ordered if e.day < period_from and e.amount is not None), Decimal(0)
    )
    balance, lines = opening, []
    for entry in ordered:
        if entry.day < period_from:
            continue
        balance += entry.amount or Decimal(0)
        lines.append(StatementLine(entry, balance))
    return CurrencyStatement(currency, opening, tuple(lines), balance)
