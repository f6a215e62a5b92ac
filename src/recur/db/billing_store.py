"""Reading the engine's inputs and writing what it issued: the billing persistence.

Locking protocol (the same for every writer, so no two can deadlock on order):
lock the account row first, then read its subscriptions and billed cursors.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, exists, select
from sqlalchemy.orm import Session

from recur.db import bulk
from recur.db.models import (
    Account,
    BilledPeriod,
    Invoice,
    InvoiceItem,
    PricingOption,
    Product,
    Subscription,
)
from recur.db.numbering import reserve_numbers
from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    ChargeKind,
    InvoiceGrouping,
    InvoiceSource,
    PartialCharges,
    SubscriptionStatus,
)
from recur.domain.charges import BilledState, Charge, SubscriptionTerms, next_planned_issue_date
from recur.domain.invoices import AccountTerms, PendingInvoice, SubscriptionState


def lock_account(session: Session, account_id: int) -> Account | None:
    """Take the account's row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
    return session.execute(
        select(Account).where(Account.id == account_id).with_for_update()
    ).scalar_one_or_none()


def claim_due_accounts(
    session: Session,
    as_of: date,
    limit: int,
    skip: Iterable[int] = (),
    wait: bool = False,
    after: int | None = None,
) -> list[int]:
    """Lock up to `limit` accounts with charges due by `as_of`, skipping those another
    worker holds (FOR UPDATE SKIP LOCKED), so that workers share a run without waiting.

    With `wait`, block on held accounts instead: the run's last pass, so that an
    account a manual generation held is billed once it commits, not left behind.
    `after` (an account id) continues a sweep in id order where the last batch ended,
    so that a run's claims do not rescan the accounts it has already billed."""
    due = exists().where(
        Subscription.account_id == Account.id,
        Subscription.next_charge_date <= as_of,
        Subscription.status != SubscriptionStatus.SUSPENDED,
    )
    query = select(Account.id).where(due).order_by(Account.id).limit(limit)
    if after is not None:
        query = query.where(Account.id > after)
    skipped = list(skip)
    if skipped:
        query = query.where(Account.id.not_in(skipped))
    return list(session.execute(query.with_for_update(skip_locked=not wait)).scalars())


def account_terms(account: Account) -> AccountTerms:
    return AccountTerms(
        account_id=account.id,
        currency=account.currency,
        tax_rate=account.tax_rate,
        grouping=InvoiceGrouping(account.invoice_grouping),
        payment_terms_days=account.payment_terms_days,
    )


def _state_query() -> Select[Any]:
    """The columns the engine reads (no ORM objects: a run loads thousands per batch)."""
    return (
        select(
            Subscription.id,
            Subscription.account_id,
            Subscription.quantity,
            Subscription.start_date,
            Subscription.end_date,
            Subscription.status,
            Subscription.recurring_billed_until,
            Subscription.setup_billed,
            Subscription.one_time_billed,
            Product.id.label("product_id"),
            Product.name.label("product_name"),
            Product.taxable,
            PricingOption.currency,
            PricingOption.billing_period,
            PricingOption.billing_type,
            PricingOption.unit_price,
            PricingOption.setup_fee,
            PricingOption.billing_day.label("option_billing_day"),
            Account.billing_day.label("account_billing_day"),
            Account.partial_charges,
        )
        .join(PricingOption, Subscription.pricing_option_id == PricingOption.id)
        .join(Product, PricingOption.product_id == Product.id)
        .join(Account, Subscription.account_id == Account.id)
        .order_by(Subscription.id)
    )


def subscription_states(
    session: Session,
    account_ids: Sequence[int],
    subscription_ids: Sequence[int] | None = None,
    due_by: date | None = None,
) -> dict[int, list[SubscriptionState]]:
    """The engine's inputs per account: terms and billed state of each subscription
    that still has something to bill (optionally only those with a charge due by `due_by`)."""
    query = _state_query().where(
        Subscription.account_id.in_(account_ids), Subscription.next_charge_date.is_not(None)
    )
    if subscription_ids is not None:
        query = query.where(Subscription.id.in_(subscription_ids))
    if due_by is not None:
        query = query.where(Subscription.next_charge_date <= due_by)
    states: dict[int, list[SubscriptionState]] = defaultdict(list)
    # Core, not the ORM: plain columns, no identity map, thousands of rows a batch.
    for row in session.connection().execute(query).all():
        states[row.account_id].append(_state_of_row(row))
    return states


def _state_of_row(row: Row[Any]) -> SubscriptionState:
    """The engine's view of one row of `_state_query` (unpacked by position: this runs
    for every subscription of every batch and preview)."""
    (
        sub_id,
        account_id,
        quantity,
        start_date,
        end_date,
        status,
        billed_until,
        setup_billed,
        one_time_billed,
        product_id,
        product_name,
        taxable,
        currency,
        billing_period,
        billing_type,
        unit_price,
        setup_fee,
        option_billing_day,
        account_billing_day,
        partial_charges,
    ) = row
    terms = SubscriptionTerms(
        subscription_id=sub_id,
        account_id=account_id,
        product_id=product_id,
        product_name=product_name,
        taxable=taxable,
        currency=currency,
        cycle=_CYCLES[billing_period],
        billing_type=_BILLING_TYPES[billing_type],
        unit_price=unit_price,
        setup_fee=setup_fee,
        quantity=quantity,
        start_date=start_date,
        billing_day=option_billing_day if option_billing_day is not None else account_billing_day,
        partial_charges=_PARTIAL_CHARGES[partial_charges],
        end_date=end_date,
        suspended=status == SubscriptionStatus.SUSPENDED,
    )
    return terms, _billed(billed_until, setup_billed, one_time_billed)


# Enum lookups by value, without Enum.__call__'s overhead on the hot path.
_CYCLES = {c.value: c for c in BillingCycle}
_BILLING_TYPES = {t.value: t for t in BillingType}
_PARTIAL_CHARGES = {p.value: p for p in PartialCharges}
_NOTHING_ONCE: frozenset[ChargeKind] = frozenset()


def subscription_state(session: Session, subscription_id: int) -> SubscriptionState:
    """One subscription's engine inputs, whether or not it still owes anything."""
    return _state_of_row(
        session.execute(_state_query().where(Subscription.id == subscription_id)).one()
    )


def _billed(recurring_until: date | None, setup_billed: bool, one_time_billed: bool) -> BilledState:
    if not (setup_billed or one_time_billed):
        return BilledState(recurring_until, _NOTHING_ONCE)
    once = {ChargeKind.SETUP} if setup_billed else set()
    if one_time_billed:
        once.add(ChargeKind.ONE_TIME)
    return BilledState(recurring_until, frozenset(once))


# An invoice's number until the end of its issuing transaction (never committed).
PROVISIONAL = "DRAFT-{}"


def issue_invoices(
    session: Session,
    drafts: Sequence[PendingInvoice],
    terms_by_subscription: dict[int, SubscriptionState],
    source: InvoiceSource,
    generated_by: str | None = None,
    billing_run_id: int | None = None,
) -> list[int]:
    """Persist drafts exactly as previewed, with numbers, the ledger and the cursors.

    Ids are reserved first so that each table is written in one bulk statement
    (COPY on PostgreSQL): a batch costs a handful of round trips, not one per item.
    The ledger's unique key makes a second issue of any period fail the whole
    transaction.
    """
    if not drafts:
        return []
    charges = [charge for draft in drafts for charge in draft.items]
    invoice_ids = bulk.reserve_ids(session, Invoice, len(drafts))
    item_ids = bulk.reserve_ids(session, InvoiceItem, len(charges))
    bulk.insert_rows(
        session,
        Invoice,
        [
            _invoice_row(
                invoice_id,
                draft,
                PROVISIONAL.format(invoice_id),
                source,
                generated_by,
                billing_run_id,
            )
            for invoice_id, draft in zip(invoice_ids, drafts, strict=True)
        ],
    )
    positions = (
        (invoice_id, position, charge)
        for invoice_id, draft in zip(invoice_ids, drafts, strict=True)
        for position, charge in enumerate(draft.items, start=1)
    )
    bulk.insert_rows(
        session,
        InvoiceItem,
        [_item_row(item_id, *placed) for item_id, placed in zip(item_ids, positions, strict=True)],
    )
    bulk.insert_rows(
        session,
        BilledPeriod,
        [
            {
                "subscription_id": c.subscription_id,
                "kind": c.kind.value,
                "period_start": c.period_start,
                "period_end": c.period_end,
                "invoice_item_id": item_id,
            }
            for c, item_id in zip(charges, item_ids, strict=True)
        ],
    )
    _advance_cursors(session, charges, terms_by_subscription)
    # Numbers last: the year's sequence row is locked from here to commit, so
    # concurrent issuers (workers, manual generations) wait on each other only
    # for this statement and the commit, not for the whole batch.
    numbers = _numbers_for(session, drafts)
    bulk.update_by_id(
        session,
        Invoice,
        [{"id": i, "number": n} for i, n in zip(invoice_ids, numbers, strict=True)],
    )
    return invoice_ids


def _numbers_for(session: Session, drafts: Sequence[PendingInvoice]) -> list[str]:
    by_year: dict[int, int] = defaultdict(int)
    for draft in drafts:
        by_year[draft.issue_date.year] += 1
    reserved = {
        year: iter(reserve_numbers(session, year, n)) for year, n in sorted(by_year.items())
    }
    return [next(reserved[d.issue_date.year]) for d in drafts]


def _invoice_row(
    invoice_id: int,
    draft: PendingInvoice,
    number: str,
    source: InvoiceSource,
    by: str | None,
    run_id: int | None,
) -> dict[str, object]:
    return {
        "id": invoice_id,
        "number": number,
        "account_id": draft.account_id,
        "issue_date": draft.issue_date,
        "due_date": draft.due_date,
        "currency": draft.currency,
        "source": source.value,
        "generated_by": by,
        "billing_run_id": run_id,
        "subtotal": draft.totals.subtotal,
        "tax": draft.totals.tax,
        "total": draft.totals.total,
        "type": "invoice",
        "status": "unpaid",
    }


def _item_row(item_id: int, invoice_id: int, position: int, charge: Charge) -> dict[str, object]:
    return {
        "id": item_id,
        "invoice_id": invoice_id,
        "position": position,
        "subscription_id": charge.subscription_id,
        "kind": charge.kind.value,
        "description": charge.description,
        "period_start": charge.period_start,
        "period_end": charge.period_last_day,
        "quantity": charge.quantity,
        "unit_price": charge.unit_price,
        "proration": charge.proration_shown,
        "amount": charge.amount,
        "taxable": charge.taxable,
    }


def _advance_cursors(
    session: Session, charges: Sequence[Charge], states: dict[int, SubscriptionState]
) -> None:
    issued: dict[int, list[Charge]] = defaultdict(list)
    for charge in charges:
        issued[charge.subscription_id].append(charge)
    rows: list[dict[str, object]] = []
    for sub_id, sub_charges in issued.items():
        terms, billed = states[sub_id]
        after = billed.after(sub_charges)
        rows.append(
            {
                "id": sub_id,
                "recurring_billed_until": after.recurring_until,
                "setup_billed": ChargeKind.SETUP in after.once,
                "one_time_billed": ChargeKind.ONE_TIME in after.once,
                "next_charge_date": next_planned_issue_date(terms, after),
            }
        )
    bulk.update_by_id(session, Subscription, rows)
