"""What a subscription may be changed to (SPEC §10), for the doors that offer a choice.

A plan switch goes to an option with the subscription's currency, billing period,
billing type, billing day and anniversary billing, so that period boundaries never
move; `changes.change_subscription` refuses any other. This module only lists them.
"""

from dataclasses import dataclass
from datetime import date

from recur.db.repositories import subscriptions as stored
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.products import PricingOption
from recur.services.subscriptions import in_force


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
        options = stored.switch_options(session, option_id)
    own = next(o for o in options if o.id == option_id)  # it keeps what it has
    return ChangeChoices(quantity, own, options)
