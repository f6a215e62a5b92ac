"""Subscriptions and their changes as the services hand them to the doors."""

from dataclasses import dataclass
from datetime import date, datetime

from recur.domain.accounts import AccountRef
from recur.domain.catalogue import SubscriptionStatus
from recur.domain.products import PricingOption

# What a plan switch keeps of the subscription's pricing option, so that period
# boundaries never move (SPEC §10).
SWITCH_KEEPS = ("currency", "billing_period", "billing_type", "billing_day", "anniversary_billing")


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as ordered: `quantity` and `pricing_option` are those of its start
    (what is in force on a day comes from its changes: services.subscriptions.in_force)."""

    id: int
    account: AccountRef
    pricing_option: PricingOption  # with its product
    quantity: int
    start_date: date
    status: str  # a SubscriptionStatus value
    auto_renew: bool
    term_months: int
    end_date: date | None  # the first day without service
    next_charge_date: date | None
    reconcile_from: date | None  # the first billed period that may need a correction
    created_at: datetime  # aware (UTC)
    # The end (exclusive) of the last invoiced recurring period; None before the first.
    billed_until: date | None = None

    @property
    def account_id(self) -> int:
        return self.account.id

    @property
    def pricing_option_id(self) -> int:
        return self.pricing_option.id


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """Which subscriptions a list shows; `status` is the effective status as of `today`."""

    account_id: int | None = None
    status: SubscriptionStatus | None = None
    product_id: int | None = None
    today: date | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    """A change as the doors show it on a day (SPEC §10): what it sets from its date."""

    id: int
    subscription_id: int
    effective_date: date
    quantity: int | None
    pricing_option_id: int | None
    created_at: datetime  # aware (UTC)
    created_by: str
    withdrawable: bool  # its date is still ahead (see `withdrawable`)


def withdrawable(effective_date: date, today: date) -> bool:
    """A change can be withdrawn until it takes effect; after, a new change undoes it."""
    return effective_date > today
