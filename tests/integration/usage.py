"""Set-up for usage tests: a usage option (SPEC §15's Azure plan) and its subscription."""

from datetime import date
from decimal import Decimal

from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.usage import MeterSpec
from recur.services.catalogue import PricingOptionSpec, ProductSpec, create_product
from tests.integration.factories import ACTOR, account, subscribe

AZURE_METERS = (
    MeterSpec("vm.hours", "Virtual machines", "hours", Decimal("0.096")),
    MeterSpec("storage.gb", "Storage", "GB", Decimal("0.02")),
)


def azure_option(db: Database, sku: str = "AZURE", delay: int = 3) -> int:
    created = create_product(
        db,
        ProductSpec(
            sku=sku,
            name="Azure plan",
            pricing_options=[
                PricingOptionSpec(
                    code="usage",
                    billing_period=BillingCycle.MONTHLY,
                    billing_type=BillingType.USAGE,
                    unit_price=Decimal(0),
                    currency="EUR",
                    meters=AZURE_METERS,
                    usage_delay_days=delay,
                )
            ],
        ),
        ACTOR,
    )
    return created.pricing_options[0].id


def usage_subscription(db: Database, start: date = date(2027, 1, 11)) -> int:
    """U1 of SPEC §15: Acme Ltd's Azure plan from 2027-01-11."""
    return subscribe(db, account(db), azure_option(db), start)


def rec(
    record_id: str, sub: int, meter: str, quantity: object, occurred_on: str
) -> dict[str, object]:
    return {
        "id": record_id,
        "subscription_id": sub,
        "meter": meter,
        "quantity": quantity,
        "occurred_on": occurred_on,
    }
