"""The SPEC §14 worked example (Beta GmbH), seeded and advanced through the services."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient

from recur.app import create_app
from recur.clock import TestClock
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.services import accounts, billing_run, catalogue, changes, subscriptions
from recur.services.accounts import AccountSpec
from recur.services.catalogue import PricingOptionSpec, ProductSpec
from recur.services.changes import ChangeSpec
from recur.services.subscriptions import SubscriptionSpec
from recur.settings import Settings


@dataclass(frozen=True)
class Beta:
    account_id: int
    s1: int  # Microsoft 365 E3 × 10 from 2027-03-01
    e3: int  # monthly prepaid 30.00
    e5: int  # monthly prepaid 50.00
    e3_annual: int  # annual prepaid: not a plan S1 may switch to
    e3_usd: int  # another currency: not one either
    e3_15th: int  # billed on the 15th: not one either


def _option(
    db: Database,
    sku: str,
    name: str,
    price: str,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    billing_day: int | None = None,
) -> int:
    options = [
        PricingOptionSpec(
            cycle.value, cycle, BillingType.PREPAID, Decimal(price), "EUR", billing_day=billing_day
        )
    ]
    product = catalogue.create_product(db, ProductSpec(sku, name, options), actor="seed")
    return catalogue.get_product(db, product.id).pricing_options[0].id


def seed_beta(db: Database) -> Beta:
    """Beta GmbH with S1 and the run of 2027-03-01 (INV-2027-000001, 360.00)."""
    e3 = _option(db, "M365-E3", "Microsoft 365 E3", "30.00")
    e5 = _option(db, "M365-E5", "Microsoft 365 E5", "50.00")
    e3_annual = _option(db, "M365-E3-Y", "Microsoft 365 E3 annual", "330.00", BillingCycle.ANNUAL)
    usd = PricingOptionSpec(
        "monthly", BillingCycle.MONTHLY, BillingType.PREPAID, Decimal(33), "USD"
    )
    product = catalogue.create_product(
        db, ProductSpec("M365-E3-US", "Microsoft 365 E3 (US)", [usd]), actor="seed"
    )
    e3_usd = catalogue.get_product(db, product.id).pricing_options[0].id
    e3_15th = _option(db, "M365-E3-15", "Microsoft 365 E3 (15th)", "30.00", billing_day=15)
    spec = AccountSpec(
        name="Beta GmbH",
        email="billing@beta.example",
        currency="EUR",
        billing_day=1,
        payment_terms_days=14,
        tax_rate=Decimal(20),
    )
    account = accounts.create_account(db, spec, actor="seed")
    s1 = subscriptions.create_subscription(
        db, SubscriptionSpec(account.id, e3, 10, date(2027, 3, 1)), actor="seed"
    ).id
    run(db, date(2027, 3, 1))
    return Beta(account.id, s1, e3, e5, e3_annual, e3_usd, e3_15th)


def run(db: Database, day: date) -> None:
    billing_run.run_billing(db, day, day, triggered_by="seed")


def change(db: Database, beta: Beta, on: date, spec: ChangeSpec) -> None:
    changes.change_subscription(db, beta.s1, spec, on, actor="seed")


def advance_to(db: Database, beta: Beta, day: date) -> None:
    """SPEC §14's table up to and including the runs of `day` (from 2027-03-11 on)."""
    steps = [
        (date(2027, 3, 11), ChangeSpec(quantity=15), True),
        (date(2027, 3, 20), ChangeSpec(pricing_option_id=beta.e5), True),
        (date(2027, 3, 25), ChangeSpec(quantity=12, effective="2027-04-10"), False),
        (date(2027, 4, 1), None, True),
    ]
    for on, spec, runs in steps:
        if on > day:
            return
        if spec is not None:
            change(db, beta, on, spec)
        if runs:
            run(db, on)


@contextmanager
def back_office(db_url: str, today: date) -> Iterator[TestClient]:
    """The app on `db_url` with a test clock starting at `today` (see `move_clock`)."""
    settings = Settings(
        database_url=db_url, today=today, test_clock=True, scheduler="off", secret_key="test"
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def move_clock(client: TestClient, day: date) -> None:
    clock = client.app.state.ctx.clock  # type: ignore[attr-defined]
    assert isinstance(clock, TestClock)
    clock.set(day)
