"""Changes to a subscription: quantities and plan switches from an effective date
(SPEC §10), withdrawals, and what each will issue, shown before it is made.

A change only records what is in force from its date; the engine derives what every
period owes from that, and corrects billed periods by adjustments and credit notes.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from recur.db.audit import action, record
from recur.db.repositories import changes as stored
from recur.db.repositories import subscriptions as stored_subscriptions
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, CancelAt
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.invoices import PendingInvoice
from recur.domain.products import PricingOption
from recur.domain.subscriptions import SWITCH_KEEPS, Subscription, SubscriptionChange
from recur.services.catalogue import check_on_sale
from recur.services.invoicing import subscription_pending
from recur.services.meters import check_changeable
from recur.services.subscriptions import (
    cancel_in,
    locked_subscription,
    period_end_containing,
    reschedule,
    subscription_not_found,
)
from recur.services.validation import check_day, check_quantity

NOW = "now"
END_OF_PERIOD = "end_of_period"


@dataclass(frozen=True)
class ChangeSpec:
    quantity: int | None = None
    pricing_option_id: int | None = None
    effective: str = NOW  # "now" | "end_of_period" | "YYYY-MM-DD"


@action
def change_subscription(
    db: Database, subscription_id: int, spec: ChangeSpec, today: date, actor: str
) -> SubscriptionChange:
    """Record the change; the engine bills and corrects what follows from it."""
    return db.run(lambda session: _change_in(session, subscription_id, spec, today, actor))


def preview_change(
    db: Database, subscription_id: int, spec: ChangeSpec, today: date
) -> list[PendingInvoice]:
    """The subscription's pending documents as of today if the change were made: the
    change's own work in a transaction that is rolled back."""
    with db.dry_run() as session:
        _change_in(session, subscription_id, spec, today, actor="preview")
        return subscription_pending(session, subscription_id, today)


def preview_cancellation(
    db: Database, subscription_id: int, at: CancelAt, today: date
) -> list[PendingInvoice]:
    """The subscription's pending documents as of today if it were cancelled `at` (the
    credit note of a cancellation `now` among them)."""
    with db.dry_run() as session:
        cancel_in(session, subscription_id, at, today, actor="preview")
        return subscription_pending(session, subscription_id, today)


def list_changes(db: Database, subscription_id: int, today: date) -> list[SubscriptionChange]:
    """The subscription's changes in the order they apply."""
    with db.read() as session:
        if stored_subscriptions.account_of(session, subscription_id) is None:
            raise subscription_not_found(subscription_id)
        return stored.of_subscription(session, subscription_id, today)


@action
def withdraw_change(
    db: Database, subscription_id: int, change_id: int, today: date, actor: str
) -> None:
    """Withdraw a change still to come; the periods it touched are reconciled."""

    def work(session: Session) -> None:
        sub = locked_subscription(session, subscription_id)
        change = stored.get(session, sub.id, change_id, today)
        if change is None:
            raise NotFound(
                "change_not_found",
                f"subscription {sub.id} has no change {change_id}",
            )
        if not change.withdrawable:
            raise Conflict(
                "change_in_effect",
                f"change {change.id} took effect on {change.effective_date.isoformat()}; "
                "make a new change instead",
            )
        effective = change.effective_date
        stored.delete(session, change.id)
        reschedule(session, sub, touched=effective)
        record(
            session,
            actor,
            "subscription.change_withdrawn",
            "subscription",
            sub.id,
            change_id=change_id,
            effective_date=effective.isoformat(),
        )

    db.run(work)


def _change_in(
    session: Session, subscription_id: int, spec: ChangeSpec, today: date, actor: str
) -> SubscriptionChange:
    if spec.quantity is None and spec.pricing_option_id is None:
        raise InvalidInput("nothing_to_change", "give a quantity, a pricing option or both")
    if spec.quantity is not None:
        check_quantity(spec.quantity)
    sub = locked_subscription(session, subscription_id)
    option = sub.pricing_option
    check_changeable(option.billing_type, sub.id)
    if option.billing_period == BillingCycle.ONE_TIME:
        raise InvalidInput(
            "unchangeable_subscription",
            f"subscription {sub.id} has a one-time price: it cannot change",
        )
    effective = _effective_date(session, sub, spec.effective, today)
    if sub.end_date is not None and effective >= sub.end_date:
        raise Conflict(
            "subscription_ended",
            f"subscription {sub.id} ends on {sub.end_date.isoformat()}: "
            "a change must take effect before then",
        )
    if spec.pricing_option_id is not None:
        _check_switch(session, option, spec.pricing_option_id)
    change = stored.add(
        session,
        sub.id,
        effective,
        spec.quantity,
        spec.pricing_option_id,
        created_at=datetime.now(UTC),
        created_by=actor,
        today=today,
    )
    reschedule(session, sub, touched=effective)
    record(
        session,
        actor,
        "subscription.changed",
        "subscription",
        sub.id,
        change_id=change.id,
        effective_date=effective.isoformat(),
        quantity=spec.quantity,
        pricing_option_id=spec.pricing_option_id,
    )
    return change


def _effective_date(session: Session, sub: Subscription, effective: str, today: date) -> date:
    """SPEC §10: now (today, or the start for one not started), the end of the period
    containing today (the start, likewise), or a date on or after both."""
    if effective in (NOW, END_OF_PERIOD) and today < sub.start_date:
        return sub.start_date
    if effective == NOW:
        return today
    if effective == END_OF_PERIOD:
        return period_end_containing(session, sub, today)
    try:
        day = date.fromisoformat(effective)
    except ValueError:
        raise InvalidInput(
            "invalid_effective", 'effective must be "now", "end_of_period" or a date YYYY-MM-DD'
        ) from None
    check_day(day, "effective")
    if day < today or day < sub.start_date:
        raise InvalidInput(
            "invalid_effective",
            f"a change takes effect on or after today ({today.isoformat()}) and the "
            f"subscription's start ({sub.start_date.isoformat()})",
        )
    return day


def _check_switch(session: Session, current: PricingOption, option_id: int) -> None:
    """A plan switch keeps every period boundary: same currency, billing period, billing
    type, billing day and alignment (SPEC §10)."""
    target = stored_subscriptions.pricing_option(session, option_id)
    if target is None:
        raise NotFound("pricing_option_not_found", f"pricing option {option_id} does not exist")
    check_on_sale(target)
    differs = [name for name in SWITCH_KEEPS if getattr(target, name) != getattr(current, name)]
    if differs:
        raise InvalidInput(
            "incompatible_pricing_option",
            f"pricing option {target.id} differs in {', '.join(differs)}: "
            "a switch keeps the same billing periods",
        )
