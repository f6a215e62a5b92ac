"""What a subscription may be changed to (SPEC §10), for the doors that offer a choice.

A plan switch goes to an option with the subscription's currency, billing period,
billing type, billing day and anniversary billing, so that period boundaries never
move; `changes.change_subscription` refuses any other. This module only lists them.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from recur.db.models import PricingOption
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.services.subscriptions import in_force

# What a plan switch keeps of the subscription's option (SPEC §10).
SWITCH_KEEPS = ("currency", "billing_period", "billing_type", "billing_day", "anniversary_billing")


@dataclass(frozen=True)
class ChangeChoices:
    """The quantity and option in force today, and the options a switch may go to."""

    quantity: int
    option: PricingOption  # with its product
    options: list[PricingOption]  # every compatible option (the current one too), by product

    @property
    def changeable(self) -> bool:
        """One-time (and usage) subscriptions do not change."""
        recurring = self.option.billing_period != BillingCycle.ONE_TIME
        return recurring and self.option.billing_type in (BillingType.PREPAID, BillingType.POSTPAID)

    @property
    def on_sale(self) -> list[PricingOption]:
        """The options a form offers: those still sold, and the current one."""
        return [o for o in self.options if o.active or o.id == self.option.id]


def change_choices(db: Database, subscription_id: int, today: date) -> ChangeChoices:
    """Raises NotFound (`subscription_not_found`) as `in_force` does."""
    quantity, option_id = in_force(db, subscription_id, today)
    with db.read() as session:
        own = session.scalars(
            select(PricingOption)
            .where(PricingOption.id == option_id)
            .options(joinedload(PricingOption.product))
        ).one()
        # A column compared with None reads IS NULL: an option without a billing day
        # matches those without one.
        kept = [getattr(PricingOption, name) == getattr(own, name) for name in SWITCH_KEEPS]
        options = session.scalars(
            select(PricingOption)
            .where(*kept)
            .options(joinedload(PricingOption.product))
            .order_by(PricingOption.product_id, PricingOption.id)
        ).all()
        return ChangeChoices(quantity, own, list(options))
