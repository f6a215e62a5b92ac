"""Subscriptions: ordering, cancelling, and what the engine needs of them."""

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import Session, joinedload

from recur.db.audit import record
from recur.db.billing_store import (
    lock_account,
    subscription_state,
)
from recur.db.models import PricingOption, Subscription
from recur.db.repositories.pages import paginate
from recur.db.session import Database
from recur.domain.calendar import add_months, months_between
from recur.domain.catalogue import AccountStatus, BillingCycle, CancelAt, SubscriptionStatus
from recur.domain.charges import (
    SubscriptionTerms,
    first_period_to_correct,
    next_planned_issue_date,
    period_start_of,
)
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.money import MAX_AMOUNT
from recur.domain.pages import Page
from recur.domain.timeline import in_force_on
from recur.services.meters import check_usage_quantity
from recur.services.validation import check_day, check_quantity

_T = TypeVar("_T", bound=tuple[Any, ...])


@dataclass(frozen=True)
class SubscriptionSpec:
    account_id: int
    pricing_option_id: int
    quantity: int
    start_date: date
    auto_renew: bool | None = None  # default: the pricing option's


def create_subscription(db: Database, spec: SubscriptionSpec, actor: str) -> Subscription:
    check_quantity(spec.quantity)
    check_day(spec.start_date, "start_date")

    def work(session: Session) -> Subscription:
        account = lock_account(session, spec.account_id)
        if account is None:
            raise NotFound("account_not_found", f"account {spec.account_id} does not exist")
        if account.status != AccountStatus.ACTIVE:
            raise Conflict("account_closed", f"account {account.id} is closed")
        option = session.get(PricingOption, spec.pricing_option_id)
        if option is None:
            raise NotFound(
                "pricing_option_not_found",
                f"pricing option {spec.pricing_option_id} does not exist",
            )
        if not option.active:
            raise Conflict(
                "pricing_option_inactive", f"pricing option {option.id} is no longer sold"
            )
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
        sub = Subscription(
            account_id=account.id,
            pricing_option_id=option.id,
            quantity=spec.quantity,
            start_date=spec.start_date,
            auto_renew=auto_renew,
            term_months=option.term_months,
            status=SubscriptionStatus.ACTIVE.value,
            end_date=_term_end_without_renewal(
                spec.start_date, option.term_months, auto_renew, option.billing_period
            ),
        )
        session.add(sub)
        session.flush()
        reschedule(session, sub)
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


def _has_status(status: SubscriptionStatus, today: date | None) -> ColumnElement[bool]:
    """SQL for `effective_status(sub, today) == status`."""
    if status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRED):
        return Subscription.status == status.value
    if today is None:
        raise ValueError("filtering on active or expired needs today's date")
    ended = and_(Subscription.end_date.is_not(None), Subscription.end_date <= today)
    is_active = Subscription.status == SubscriptionStatus.ACTIVE.value
    return (
        and_(is_active, ended) if status is SubscriptionStatus.EXPIRED else and_(is_active, ~ended)
    )


def effective_status(sub: Subscription | SubscriptionFacts, today: date) -> SubscriptionStatus:
    """An active subscription whose service has ended by today reads as expired."""
    status = SubscriptionStatus(sub.status)
    if status is SubscriptionStatus.ACTIVE and sub.end_date is not None and sub.end_date <= today:
        return SubscriptionStatus.EXPIRED
    return status


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
    sub.end_date = end if sub.end_date is None else min(end, sub.end_date)
    sub.status = SubscriptionStatus.CANCELLED.value
    reschedule(session, sub, touched=sub.end_date)
    record(
        session,
        actor,
        "subscription.cancelled",
        "subscription",
        sub.id,
        at=str(at),
        end_date=str(sub.end_date),
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
    lock_account(session, _subscription_exists(session, subscription_id))
    return session.get_one(Subscription, subscription_id, populate_existing=True)


def _subscription_exists(session: Session, subscription_id: int) -> int:
    """The subscription's account; NotFound if there is no such subscription."""
    account_id = session.scalar(
        select(Subscription.account_id).where(Subscription.id == subscription_id)
    )
    if account_id is None:
        raise NotFound("subscription_not_found", f"subscription {subscription_id} does not exist")
    return account_id


def _terms(session: Session, sub: Subscription) -> SubscriptionTerms:
    session.flush()
    return subscription_state(session, sub.id)[0]


def reschedule(session: Session, sub: Subscription, touched: date | None = None) -> None:
    """After what is in force changed from `touched` on: the billed periods from the one
    containing it are read for corrections from now on, and the subscription is next due
    when the engine says (its first charge, adjustment or credit)."""
    if touched is not None:
        start = period_start_of(_terms(session, sub), touched)
        if sub.reconcile_from is None or start < sub.reconcile_from:
            sub.reconcile_from = start
    session.flush()
    terms, billed = subscription_state(session, sub.id)
    sub.reconcile_from = first_period_to_correct(terms, billed)
    sub.next_charge_date = next_planned_issue_date(terms, billed)


def in_force(db: Database, subscription_id: int, today: date) -> tuple[int, int]:
    """The (quantity, pricing option) in force on `today`; the start date's for a
    subscription that has not started (SPEC §10)."""
    with db.read() as session:
        _subscription_exists(session, subscription_id)
        terms = subscription_state(session, subscription_id)[0]
    segment = in_force_on(terms.timeline, today)
    return segment.quantity, segment.plan.option_id


def get_subscription(db: Database, subscription_id: int) -> Subscription:
    with db.read() as session:
        sub = session.scalar(
            _with_details(select(Subscription).where(Subscription.id == subscription_id))
        )
        if sub is None:
            raise NotFound(
                "subscription_not_found", f"subscription {subscription_id} does not exist"
            )
        return sub


def get_subscriptions(db: Database, account_id: int, ids: list[int]) -> list[Subscription]:
    """The account's subscriptions among `ids`, in id order."""
    wanted = set(ids)
    query = _with_details(select(Subscription).where(Subscription.account_id == account_id))
    with db.read() as session:
        return [sub for sub in session.scalars(query.order_by(Subscription.id)) if sub.id in wanted]


def _with_details(query: Select[tuple[Subscription]]) -> Select[tuple[Subscription]]:
    return query.options(
        joinedload(Subscription.account),
        joinedload(Subscription.pricing_option).joinedload(PricingOption.product),
    )


def list_subscriptions(
    db: Database,
    account_id: int | None = None,
    status: SubscriptionStatus | None = None,
    product_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    today: date | None = None,
) -> Page[Subscription]:
    """Subscriptions, filtered; `status` means the effective status as of `today`."""
    query = _filtered(_with_details(select(Subscription)), account_id, status, product_id, today)
    with db.read() as session:
        return paginate(session, query, limit, cursor, _as_row)


def list_subscription_rows(
    db: Database,
    account_id: int | None = None,
    status: SubscriptionStatus | None = None,
    product_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    today: date | None = None,
) -> Page[Subscription]:
    """`list_subscriptions` for a table of subscriptions, fast far into the list too: the
    page's ids are found on `subscriptions` alone (an index scan past the offset), then
    only those rows are loaded with their account, pricing option and product."""
    ids = _filtered(select(Subscription.id), account_id, status, product_id, today)
    with db.read() as session:
        page: Page[int] = paginate(session, ids, limit, cursor, _as_row)
        rows = session.scalars(
            _with_details(select(Subscription)).where(Subscription.id.in_(page.items))
        )
        by_id = {sub.id: sub for sub in rows}
        return Page([by_id[i] for i in page.items], page.total, page.next_cursor)


def _filtered(
    query: Select[_T],
    account_id: int | None,
    status: SubscriptionStatus | None,
    product_id: int | None,
    today: date | None,
) -> Select[_T]:
    query = query.order_by(Subscription.id)
    if account_id is not None:
        query = query.where(Subscription.account_id == account_id)
    if status is not None:
        query = query.where(_has_status(SubscriptionStatus(status), today))
    if product_id is not None:
        query = query.join(PricingOption).where(PricingOption.product_id == product_id)
    return query


def _as_row(row: Any) -> Any:  # temporary: the repository refactor replaces it
    return row
