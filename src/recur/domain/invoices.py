"""Grouping charges into invoices and computing their totals (SPEC §3, §5, §6).

A pending invoice is exactly what will be issued: the services persist these
drafts unchanged, adding only number, issue date, due date and source.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import chain, islice

from recur.domain.catalogue import ChargeKind, InvoiceGrouping, InvoiceType
from recur.domain.charges import (
    BilledState,
    Charge,
    SubscriptionTerms,
    due_charges,
    each_pending_charge,
    pending_charges,
)
from recur.domain.errors import InvalidInput
from recur.domain.identity import Buyer, TaxTreatment, applied_rate
from recur.domain.money import round_money, to_money

# The most charges one preview computes: a preview far ahead over subscriptions
# billed long ago would otherwise grow without bound (and hold its server meanwhile).
PREVIEW_CHARGE_LIMIT = 10_000

_KIND_ORDER = {
    ChargeKind.SETUP: 0,
    ChargeKind.ONE_TIME: 1,
    ChargeKind.RECURRING: 2,
    ChargeKind.ADJUSTMENT: 3,
    ChargeKind.USAGE: 4,
}


@dataclass(frozen=True, slots=True)
class AccountTerms:
    """The account's billing options that shape its invoices."""

    account_id: int
    currency: str
    tax_rate: Decimal
    grouping: InvoiceGrouping
    payment_terms_days: int
    tax_treatment: str = TaxTreatment.STANDARD.value
    buyer: Buyer | None = None  # who its documents name (None: not read, as in unit tests)

    @property
    def applied_rate(self) -> Decimal:
        """The rate its new taxable lines get (none under exempt or reverse charge)."""
        return applied_rate(self.tax_treatment, self.tax_rate)


@dataclass(frozen=True, slots=True)
class InvoiceTotals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class TaxLine:
    """One rate of a document: the sum of its lines at that rate, and the tax on it."""

    rate: Decimal
    base: Decimal
    tax: Decimal


def tax_breakdown(lines: Iterable[tuple[Decimal, Decimal]], currency: str) -> tuple[TaxLine, ...]:
    """Per rate, highest first, of (rate, amount) lines: the base and its tax, rounded
    half up once per rate (SPEC §3). Untaxed lines are the rate 0. The one tax rule of
    previews, issued documents and their PDFs."""
    bases: dict[Decimal, Decimal] = {}
    for line_rate, amount in lines:
        # Equal rates are one key however written ("24" and "24.00").
        bases[line_rate] = bases.get(line_rate, Decimal(0)) + amount
    return tuple(
        TaxLine(line_rate, to_money(base, currency), round_money(base * line_rate / 100, currency))
        for line_rate, base in sorted(bases.items(), reverse=True)
    )


def item_rate(charge: Charge, account: AccountTerms) -> Decimal:
    """The rate one line is taxed at: none if its product is untaxed; a correction's is
    the rate of the invoice it corrects (a credit note repeats its rates); else the
    account's under its treatment."""
    if not charge.taxable:
        return Decimal(0)
    if charge.tax_rate is not None:
        return charge.tax_rate
    return account.applied_rate


@dataclass(frozen=True, slots=True)
class PendingInvoice:
    """An invoice (or a credit note) to be issued on `issue_date`: its items and totals,
    exactly."""

    account_id: int
    currency: str
    issue_date: date
    due_date: date
    items: tuple[Charge, ...]
    totals: InvoiceTotals
    tax_rate: Decimal  # the account's, as it was when the totals were computed
    type: InvoiceType = InvoiceType.INVOICE
    tax_rates: tuple[Decimal, ...] = ()  # each item's (item_rate), in the items' order
    tax_treatment: str = TaxTreatment.STANDARD.value
    buyer: Buyer | None = None

    @property
    def tax_breakdown(self) -> tuple[TaxLine, ...]:
        amounts = (item.amount for item in self.items)
        return tax_breakdown(zip(self.tax_rates, amounts, strict=True), self.currency)

    @property
    def subscription_ids(self) -> list[int]:
        return sorted({item.subscription_id for item in self.items})


SubscriptionState = tuple[SubscriptionTerms, BilledState]


def totals_by_currency(documents: Iterable[PendingInvoice]) -> dict[str, InvoiceTotals]:
    """What a set of documents adds up to, per currency (a credit note's totals are
    negative, so they count against the invoices')."""
    sums: dict[str, InvoiceTotals] = {}
    for document in documents:
        t = document.totals
        before = sums.get(document.currency, InvoiceTotals(Decimal(0), Decimal(0), Decimal(0)))
        sums[document.currency] = InvoiceTotals(
            before.subtotal + t.subtotal, before.tax + t.tax, before.total + t.total
        )
    return dict(sorted(sums.items()))


def invoice_totals(breakdown: Iterable[TaxLine], currency: str) -> InvoiceTotals:
    """Subtotal of the rounded lines, and tax: the sum of each rate's rounded tax (one
    rate per invoice: its taxable lines' sum times the rate, rounded once, SPEC §3)."""
    lines = list(breakdown)
    subtotal = to_money(sum((line.base for line in lines), Decimal(0)), currency)
    tax = sum((line.tax for line in lines), Decimal(0))
    return InvoiceTotals(subtotal, tax, subtotal + tax)


def item_order(charge: Charge) -> tuple[date, int, int, date]:
    return (
        charge.planned_issue_date,
        charge.subscription_id,
        _KIND_ORDER[charge.kind],
        charge.period_start,
    )


def group_into_invoices(
    account: AccountTerms, charges: Iterable[Charge], issue_date_of: Callable[[Charge], date]
) -> list[PendingInvoice]:
    """One document per issue date, type (a negative amount goes on a credit note, never
    on an invoice: SPEC §11) and, as the account's grouping says, product or subscription."""
    # Currency is part of the key although subscriptions must be in the account's
    # currency: an invoice can never mix two currencies, whatever the data says.
    groups: dict[tuple[date, str, InvoiceType, int], list[Charge]] = {}
    for charge in charges:
        kind = InvoiceType.CREDIT if charge.amount < 0 else InvoiceType.INVOICE
        key = (issue_date_of(charge), charge.currency, kind, _group_id(account.grouping, charge))
        groups.setdefault(key, []).append(charge)
    invoices = []
    for (issue_date, currency, kind, _), items in sorted(groups.items(), key=_document_order):
        items.sort(key=item_order)
        # A credit note is due when issued: it is the seller who owes.
        terms = 0 if kind is InvoiceType.CREDIT else account.payment_terms_days
        rates = tuple(item_rate(item, account) for item in items)
        breakdown = tax_breakdown(zip(rates, (i.amount for i in items), strict=True), currency)
        invoices.append(
            PendingInvoice(
                account_id=account.account_id,
                currency=currency,
                issue_date=issue_date,
                due_date=issue_date + timedelta(days=terms),
                items=tuple(items),
                totals=invoice_totals(breakdown, currency),
                tax_rate=account.tax_rate,
                type=kind,
                tax_rates=rates,
                tax_treatment=account.tax_treatment,
                buyer=account.buyer,
            )
        )
    return invoices


def _document_order(
    group: tuple[tuple[date, str, InvoiceType, int], list[Charge]],
) -> tuple[date, str, bool, int]:
    """By issue date, credit notes first (they are numbered first on the same day)."""
    (issue_date, currency, kind, group_id), _ = group
    return issue_date, currency, kind is not InvoiceType.CREDIT, group_id


def _group_id(grouping: InvoiceGrouping, charge: Charge) -> int:
    if grouping is InvoiceGrouping.PER_PRODUCT:
        return charge.product_id
    if grouping is InvoiceGrouping.PER_SUBSCRIPTION:
        return charge.subscription_id
    return 0


class TooManyCharges(InvalidInput):
    """A preview would hold more than `limit` charges."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            "preview_too_large",
            f"this preview would hold more than {limit:,} charges: "
            "ask for an earlier as_of, or issue what is due first",
        )
        self.limit = limit


def pending_invoices(
    account: AccountTerms,
    subscriptions: Sequence[SubscriptionState],
    as_of: date,
    limit: int = PREVIEW_CHARGE_LIMIT,
) -> list[PendingInvoice]:
    """The preview: pending charges grouped by effective issue date max(planned, as_of).

    Refused (TooManyCharges) beyond `limit` charges, having priced at most one more.
    """
    every = chain.from_iterable(each_pending_charge(t, b, as_of) for t, b in subscriptions)
    charges = list(islice(every, limit + 1))
    if len(charges) > limit:
        raise TooManyCharges(limit)
    return group_into_invoices(account, charges, lambda c: max(c.planned_issue_date, as_of))


def due_invoices(
    account: AccountTerms, subscriptions: Sequence[SubscriptionState], as_of: date
) -> list[PendingInvoice]:
    """What a billing run as of `as_of` issues: every charge planned on or before it."""
    charges = [c for terms, billed in subscriptions for c in due_charges(terms, billed, as_of)]
    return group_into_invoices(account, charges, lambda _: as_of)


def manual_invoices(
    account: AccountTerms, subscriptions: Sequence[SubscriptionState], today: date
) -> list[PendingInvoice]:
    """A manual generation: every pending charge of the selection, issued today."""
    charges = [c for terms, billed in subscriptions for c in pending_charges(terms, billed, today)]
    return group_into_invoices(account, charges, lambda _: today)
