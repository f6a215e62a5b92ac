"""The reads behind the workspace's figures (SPEC §19): recurring subscriptions with
their timelines, totals issued per day, the accounts of a currency."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Exists, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from recur.db.models import Account, AuditEvent, Invoice, PricingOption, Subscription
from recur.db.models import SubscriptionChange as Change
from recur.domain.catalogue import BillingCycle, BillingType, SubscriptionStatus
from recur.domain.metrics import MrrStep, RecurringService
from recur.domain.timeline import InForce, Plan, ScheduledChange, segments_of

_MONTHS = {cycle.value: cycle.months for cycle in BillingCycle}


def _recurring(currency: str) -> list[ColumnElement[bool]]:
    """The currency's recurring (not one-time, not usage) subscriptions; suspended ones
    are left out: they bring nothing while suspended."""
    return [
        PricingOption.currency == currency,
        PricingOption.billing_period != BillingCycle.ONE_TIME.value,
        PricingOption.billing_type != BillingType.USAGE.value,
        Subscription.status != SubscriptionStatus.SUSPENDED.value,
    ]


def _changed() -> Exists:
    return exists().where(Change.subscription_id == Subscription.id)


def mrr_steps(session: Session, currency: str) -> list[MrrStep]:
    """The recurring subscriptions that never changed, summed per billing period and
    per day they start (+) or end (−): two grouped statements, whatever their number."""
    in_force = func.sum(PricingOption.unit_price * Subscription.quantity)
    steps = []
    for day, sign in ((Subscription.start_date, 1), (Subscription.end_date, -1)):
        rows = session.execute(
            select(PricingOption.billing_period, day, in_force)
            .join(PricingOption, Subscription.pricing_option_id == PricingOption.id)
            .where(*_recurring(currency), ~_changed(), day.is_not(None))
            .group_by(PricingOption.billing_period, day)
        ).all()
        steps += [
            MrrStep(when, _MONTHS[period], sign * Decimal(total)) for period, when, total in rows
        ]
    return steps


def changed_services(session: Session, currency: str, since: date) -> list[RecurringService]:
    """The recurring subscriptions with changes in service on or after `since`, each with
    its timeline (SPEC §10)."""
    rows = session.execute(
        select(
            Subscription.id,
            Subscription.start_date,
            Subscription.end_date,
            Subscription.quantity,
            PricingOption.billing_period,
            PricingOption.id.label("option_id"),
            PricingOption.product_id,
            PricingOption.unit_price,
        )
        .join(PricingOption, Subscription.pricing_option_id == PricingOption.id)
        .where(
            *_recurring(currency),
            _changed(),
            or_(Subscription.end_date.is_(None), Subscription.end_date > since),
        )
        .order_by(Subscription.id)
    ).all()
    changes = _changes_of(session, currency)
    return [
        RecurringService(
            row.start_date,
            row.end_date,
            _MONTHS[row.billing_period],
            segments_of(
                InForce(
                    row.start_date,
                    _plan(row.option_id, row.product_id, row.unit_price),
                    row.quantity,
                ),
                changes.get(row.id, ()),
            ),
        )
        for row in rows
    ]


def _changes_of(session: Session, currency: str) -> dict[int, list[ScheduledChange]]:
    """The changes of the currency's subscriptions, in the order they apply (SPEC §10)."""
    option = aliased(PricingOption)
    rows = session.execute(
        select(
            Change.subscription_id,
            Change.effective_date,
            Change.quantity,
            option.id.label("option_id"),
            option.product_id,
            option.unit_price,
        )
        .join(Subscription, Change.subscription_id == Subscription.id)
        .join(PricingOption, Subscription.pricing_option_id == PricingOption.id)
        .outerjoin(option, Change.pricing_option_id == option.id)
        .where(PricingOption.currency == currency)
        .order_by(Change.subscription_id, Change.effective_date, Change.id)
    ).all()
    found: dict[int, list[ScheduledChange]] = defaultdict(list)
    for row in rows:
        plan = None
        if row.option_id is not None:
            plan = _plan(row.option_id, row.product_id, row.unit_price)
        found[row.subscription_id].append(ScheduledChange(row.effective_date, row.quantity, plan))
    return found


def _plan(option_id: int, product_id: int, unit_price: Decimal) -> Plan:
    """A plan as MRR reads it: only its option and price matter."""
    return Plan(option_id, product_id, "", False, unit_price)


def totals_per_day(session: Session, currency: str, since: date) -> list[tuple[date, Decimal]]:
    """The sum of the totals of the documents issued each day from `since` (credit notes
    are negative), in the currency."""
    rows = session.execute(
        select(Invoice.issue_date, func.sum(Invoice.total))
        .where(Invoice.currency == currency, Invoice.issue_date >= since)
        .group_by(Invoice.issue_date)
    ).all()
    return [(day, Decimal(total)) for day, total in rows]


def account_ids(session: Session, due_by: date, currency: str | None = None) -> list[int]:
    """The ids of the accounts (of one currency) with a subscription whose next charge
    falls on or before `due_by`, in id order: no other can be issued anything by then."""
    due = exists().where(
        Subscription.account_id == Account.id, Subscription.next_charge_date <= due_by
    )
    query = select(Account.id).where(due).order_by(Account.id)
    if currency is not None:
        query = query.where(Account.currency == currency)
    return list(session.scalars(query))


def currencies(session: Session) -> list[str]:
    """The currencies the book holds: its accounts'."""
    return list(session.scalars(select(Account.currency).distinct().order_by(Account.currency)))


def book_version(session: Session) -> tuple[object, ...]:
    """Moves whenever what the figures read may have changed: every state change writes
    an audit event, and every issue writes invoices (a billing run writes no event per
    invoice). The times tell a database emptied and filled again from the one before."""
    newest = []
    for key, stamp in ((AuditEvent.id, AuditEvent.occurred_at), (Invoice.id, Invoice.created_at)):
        # The newest row by its key (an index), not max() of an unindexed time.
        row = session.execute(select(key, stamp).order_by(key.desc()).limit(1)).first()
        newest.append(None if row is None else tuple(row))
    return tuple(newest)
