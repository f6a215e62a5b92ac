"""Subscriptions: ordering, cancelling, and what the engine needs of them."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import NamedTuple

from sqlalchemy.orm import Session

from recur.db.audit import action, record
from recur.db.billing_store import states_by_id, subscription_state
from recur.db.repositories import accounts as accounts_stored
from recur.db.repositories import subscriptions as stored
from recur.db.session import Database
from recur.domain.calendar import add_months, months_between
from recur.domain.catalogue import AccountStatus, BillingCycle, CancelAt, SubscriptionStatus
from recur.domain.charges import (
    SubscriptionTerms,
    first_period_to_correct,
    next_planned_issue_date,
    period_start_of,
)
from recur.domain.errors import Conflict, InvalidInput, NotFound, refuse_all
from recur.domain.money import MAX_AMOUNT
from recur.domain.pages import Page
from recur.domain.subscriptions import Subscription, SubscriptionFilter
from recur.domain.timeline import in_force_on
from recur.services.catalogue import check_on_sale
from recur.services.meters import check_usage_quantity
from recur.services.validation import check_day, check_quantity


@dataclass(frozen=True)
class SubscriptionSpec:
    account_id: int
    pricing_option_id: int
    quantity: int
    start_date: date
    auto_renew: bool | None = None  # default: the pricing option's


def order_problems(quantity: int | None, start_date: date | None) -> list[InvalidInput]:
    """What is wrong with an order's quantity and start date, all of it (None: not given,
    which the door reports itself)."""
    checks: list[Callable[[], object]] = []
    if quantity is not None:
        checks.append(lambda: check_quantity(quantity))
    if start_date is not None:
        checks.append(lambda: check_day(start_date, "start_date"))
    problems: list[InvalidInput] = []
    for check in checks:
        try:
            check()
        except InvalidInput as problem:
            problems.append(problem)
    return problems


@action
def create_subscription(db: Database, spec: SubscriptionSpec, actor: str) -> Subscription:
    refuse_all(order_problems(spec.quantity, spec.start_date))

    def work(session: Session) -> Subscription:
        account = accounts_stored.lock_account(session, spec.account_id)
        if account is None:
            raise NotFound("account_not_found", f"account {spec.account_id} does not exist")
        if account.status != AccountStatus.ACTIVE:
            raise Conflict("account_closed", f"account {account.id} is closed")
        option = stored.pricing_option(session, spec.pricing_option_id)
        if option is None:
            raise NotFound(
                "pricing_option_not_found",
                f"pricing option {spec.pricing_option_id} does not exist",
            )
        check_on_sale(option)
        if option.currency != account.currency:
            raise InvalidInput(
                "currency_mismatch",
                f"pricing option {option.id} is in {option.currency}, account {account.id} bills in {account.currency}",
            )
        check_usage_quantity(option.billing_type, spec.quantity)
        if spec.quantity * max(option.unit_price, option.setup_fee) >= MAX_AMOUNT:
            raise InvalidInput(  # its invoices could not be written
                "invalid_quantity", f"quantity × unit price must be below {MAX_AMOUNT:,}"
            )
        auto_renew = option.auto_renew if spec.auto_renew is None else spec.auto_renew
        end = _term_end_without_renewal(
            spec.start_date, option.term_months, auto_renew, option.billing_period
        )
        sub = stored.add(session, account, option, spec.quantity, spec.start_date, auto_renew, end)
        sub = reschedule(session, sub)
        record(
            session, actor, "subscription.created", "subscription", sub.id, account_id=account.id
        )
        return sub

    return db.run(work)


def _term_end_without_renewal(
    start: date, term_months: int, auto_renew: bool, cycle: str
) -> date | None:
    """Without auto-renewal service ends at the term end (SPEC §1); one-time prices have no term."""
    if auto_renew or cycle == BillingCycle.ONE_TIME:
        return None
    return add_months(start, term_months)


class SubscriptionFacts(NamedTuple):
    """A subscription's own columns, without the ORM (read with a preview's inputs)."""

    id: int
    account_id: int
    pricing_option_id: int
    quantity: int
    start_date: date
    auto_renew: bool
    term_months: int
    status: str
    end_date: date | None
    next_charge_date: date | None


def term_end(sub: Subscription | SubscriptionFacts, today: date) -> date | None:
    """The end of the current term: renewing terms follow each other from the start date."""
    if sub.term_months == 0:
        return None
    if not sub.auto_renew:
        return add_months(sub.start_date, sub.term_months)
    # Every term ending before today's month ends before today: start from the last of
    # those rather than walk every term since the start.
    n = max(1, months_between(sub.start_date, today) // sub.term_months)
    while add_months(sub.start_date, n * sub.term_months) <= today:
        n += 1
    return add_months(sub.start_date, n * sub.term_months)


def effective_status(sub: Subscription | SubscriptionFacts, today: date) -> SubscriptionStatus:
    """An active subscription whose service has ended by today reads as expired."""
    status = SubscriptionStatus(sub.status)
    if status is SubscriptionStatus.ACTIVE and sub.end_date is not None and sub.end_date <= today:
        return SubscriptionStatus.EXPIRED
    return status


@action
def cancel_subscription(
    db: Database, subscription_id: int, at: CancelAt, today: date, actor: str
) -> Subscription:
    """End the service `at` now or at the end of the period; billed days on or after the
    end are credited by the engine (SPEC §1, §11)."""
    return db.run(lambda session: cancel_in(session, subscription_id, at, today, actor))


def cancel_in(
    session: Session, subscription_id: int, at: CancelAt, today: date, actor: str
) -> Subscription:
    """`cancel_subscription`'s work, in `session` (a dry run shows what it will issue)."""
    sub = locked_subscription(session, subscription_id)
    if sub.status == SubscriptionStatus.CANCELLED:
        raise Conflict("already_cancelled", f"subscription {sub.id} is already cancelled")
    if sub.end_date is not None and sub.end_date <= today:
        raise Conflict(
            "already_ended", f"subscription {sub.id} ended on {sub.end_date.isoformat()}"
        )
    end = _cancellation_date(session, sub, CancelAt(at), today)
    end = end if sub.end_date is None else min(end, sub.end_date)
    stored.end_service(session, sub.id, end)
    cancelled = replace(sub, end_date=end, status=SubscriptionStatus.CANCELLED.value)
    sub = reschedule(session, cancelled, touched=end)
    record(
        session,
        actor,
        "subscription.cancelled",
        "subscription",
        sub.id,
        at=str(at),
        end_date=str(end),
    )
    return sub


def _cancellation_date(session: Session, sub: Subscription, at: CancelAt, today: date) -> date:
    if today < sub.start_date:
        return sub.start_date  # never started: nothing of it is billed
    if at is CancelAt.NOW:
        return today
    return period_end_containing(session, sub, today)


def period_end_containing(session: Session, sub: Subscription, today: date) -> date:
    """The end of the billing period that contains today (today for a one-time price or
    a day out of service)."""
    terms = _terms(session, sub)
    if terms.cycle is BillingCycle.ONE_TIME:
        return today
    period = terms.schedule.period_containing(today)
    return today if period is None else period.end


def locked_subscription(session: Session, subscription_id: int) -> Subscription:
    """The subscription, its account's lock taken first (as by every writer)."""
    sub = stored.locked(session, subscription_id)
    if sub is None:
        raise subscription_not_found(subscription_id)
    return sub


def subscription_not_found(subscription_id: int) -> NotFound:
    """The refusal of every use case given a subscription that does not exist."""
    return NotFound("subscription_not_found", f"subscription {subscription_id} does not exist")


def _terms(session: Session, sub: Subscription) -> SubscriptionTerms:
    return subscription_state(session, sub.id)[0]


def reschedule(session: Session, sub: Subscription, touched: date | None = None) -> Subscription:
    """After what is in force changed from `touched` on: the billed periods from the one
    containing it are read for corrections from now on, and the subscription is next due
    when the engine says (its first charge, adjustment or credit). Returns `sub` so."""
    if touched is not None:
        start = period_start_of(_terms(session, sub), touched)
        if sub.reconcile_from is None or start < sub.reconcile_from:
            stored.correct_from(session, sub.id, start)
    terms, billed = subscription_state(session, sub.id)
    scheduled = replace(
        sub,
        reconcile_from=first_period_to_correct(terms, billed),
        next_charge_date=next_planned_issue_date(terms, billed),
    )
    stored.schedule(session, sub.id, scheduled.reconcile_from, scheduled.next_charge_date)
    return scheduled


def in_force(db: Database, subscription_id: int, today: date) -> tuple[int, int]:
    """The (quantity, pricing option) in force on `today`; the start date's for a
    subscription that has not started (SPEC §10)."""
    with db.read() as session:
        state = states_by_id(session, [subscription_id]).get(subscription_id)
    if state is None:
        raise subscription_not_found(subscription_id)
    segment = in_force_on(state[0].timeline, today)
    return segment.quantity, segment.plan.option_id


def get_subscription(db: Database, subscription_id: int) -> Subscription:
    with db.read() as session:
        sub = stored.get(session, subscription_id)
    if sub is None:
        raise subscription_not_found(subscription_id)
    return sub


def get_subscriptions(db: Database, account_id: int, ids: list[int]) -> list[Subscription]:
    """The account's subscriptions among `ids`, in id order."""
    with db.read() as session:
        return stored.of_account(session, account_id, ids)


def list_subscriptions(
    db: Database,
    account_id: int | None = None,
    status: SubscriptionStatus | None = None,
    product_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    today: date | None = None,
    sort: str | None = None,
) -> Page[Subscription]:
    """Subscriptions, filtered, in `sort` order (repositories.subscriptions.SORTING);
    `status` means the effective status as of `today`."""
    where = SubscriptionFilter(account_id, status, product_id, today)
    with db.read() as session:
        return stored.page(session, where, limit, cursor, sort)


def list_subscription_rows(
    db: Database,
    account_id: int | None = None,
    status: SubscriptionStatus | None = None,
    product_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    today: date | None = None,
    sort: str | None = None,
) -> Page[Subscription]:
    """`list_subscriptions` for a table of subscriptions
    (repositories.subscriptions.table_page)."""
    where = SubscriptionFilter(account_id, status, product_id, today)
    with db.read() as session:
        return stored.table_page(session, where, limit, cursor, sort)
