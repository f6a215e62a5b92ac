"""The SPEC §8 worked example (Acme Ltd), seeded through the services, and its users."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from argon2 import PasswordHasher

from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.services import accounts, billing_run, catalogue, subscriptions, users
from recur.services.accounts import AccountSpec
from recur.services.catalogue import PricingOptionSpec, ProductSpec
from recur.services.subscriptions import SubscriptionSpec

PASSWORD = "correct horse battery"
OPERATOR = "operator@example.com"
VIEWER = "viewer@example.com"
ADMIN = "admin@example.com"

# Argon2 at its production cost takes ~0.4 s a hash here; the tests need no such cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass(frozen=True)
class Acme:
    account_id: int
    s1: int  # Office 365 E3, monthly prepaid 12.50 × 10 from 2027-01-11
    s2: int  # Cloud Backup 1 TB, monthly prepaid 20.00 + setup 50.00 from 2027-01-20
    s3: int  # Azure usage, monthly postpaid 100.00 from 2027-01-11


def _product(db: Database, sku: str, name: str, kind: BillingType, price: str, setup: str) -> int:
    option = PricingOptionSpec(
        code="monthly",
        billing_period=BillingCycle.MONTHLY,
        billing_type=kind,
        unit_price=Decimal(price),
        currency="EUR",
        setup_fee=Decimal(setup),
    )
    product = catalogue.create_product(db, ProductSpec(sku, name, [option]), actor="seed")
    return catalogue.get_product(db, product.id).pricing_options[0].id


def seed_acme(db: Database, name: str = "Acme Ltd") -> Acme:
    """Acme with S1–S3 and the billing run of 2027-01-11 (S1's January invoice)."""
    o365 = _product(db, "O365-E3", "Office 365 E3", BillingType.PREPAID, "12.50", "0")
    backup = _product(db, "BACKUP-1TB", "Cloud Backup 1 TB", BillingType.PREPAID, "20.00", "50.00")
    azure = _product(db, "AZURE", "Azure usage", BillingType.POSTPAID, "100.00", "0")
    spec = AccountSpec(
        name=name,
        email="billing@acme.example",
        currency="EUR",
        billing_day=11,
        tax_rate=Decimal(24),
    )
    account = accounts.create_account(db, spec, actor="seed")

    def order(option: int, quantity: int, start: date) -> int:
        sub = SubscriptionSpec(account.id, option, quantity, start)
        return subscriptions.create_subscription(db, sub, actor="seed").id

    s1 = order(o365, 10, date(2027, 1, 11))
    s2 = order(backup, 1, date(2027, 1, 20))
    s3 = order(azure, 1, date(2027, 1, 11))
    billing_run.run_billing(db, date(2027, 1, 11), date(2027, 1, 11), triggered_by="seed")
    return Acme(account.id, s1, s2, s3)


def account_form(csrf: str, **changes: str) -> dict[str, str]:
    """Acme's account as its edit form posts it unchanged, but for `changes`."""
    return {
        "csrf_token": csrf,
        "name": "Acme Ltd",
        "email": "billing@acme.example",
        "currency": "EUR",
        "billing_day": "11",
        "payment_terms_days": "30",
        "tax_rate": "24",
        "status": "active",
        "tax_treatment": "standard",
        **changes,
    }


def seed_users(db: Database) -> None:
    users.create_user(db, OPERATOR, "operator", PASSWORD, actor="seed")
    users.create_user(db, VIEWER, "viewer", PASSWORD, actor="seed")
    users.create_user(db, ADMIN, "admin", PASSWORD, actor="seed")
