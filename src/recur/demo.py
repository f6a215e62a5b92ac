"""A realistic demo: a reseller's catalogue, customers in several currencies, a year of history.

Everything goes through the services, as an operator's actions would.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select

from recur.db.models import Base, Invoice, Subscription
from recur.db.session import Database, is_sqlite
from recur.domain.calendar import add_months
from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    CancelAt,
    InvoiceGrouping,
    InvoiceType,
    PartialCharges,
)
from recur.domain.errors import Conflict
from recur.domain.identity import NO_ADDRESS, Address, Seller, TaxTreatment
from recur.domain.roles import Role
from recur.domain.usage import MeterSpec
from recur.services import (
    accounts,
    billing_run,
    catalogue,
    invoicing,
    payments,
    seller,
    subscriptions,
    usage,
    users,
)
from recur.services.changes import ChangeSpec, change_subscription

ACTOR = "demo"

# Catalogue: price per currency for each product's pricing options.
_CURRENCIES = {
    "EUR": Decimal(1),
    "GBP": Decimal("0.85"),
    "JPY": Decimal(160),
    "KWD": Decimal("0.33"),
}


@dataclass(frozen=True)
class _Option:
    code: str
    cycle: BillingCycle
    billing_type: BillingType
    eur_price: Decimal
    eur_setup: Decimal = Decimal(0)
    term_months: int | None = None
    # Usage options (SPEC §13): (code, name, unit, EUR price per unit), days to wait.
    meters: tuple[tuple[str, str, str, Decimal], ...] = ()
    usage_delay_days: int = 0


_PRODUCTS: list[tuple[str, str, bool, list[_Option]]] = [
    (
        "MS365-E3",
        "Microsoft 365 E3",
        True,
        [
            _Option("monthly", BillingCycle.MONTHLY, BillingType.PREPAID, Decimal("33.00")),
            _Option(
                "annual",
                BillingCycle.ANNUAL,
                BillingType.PREPAID,
                Decimal("356.40"),
                term_months=12,
            ),
        ],
    ),
    (
        "MS365-BP",
        "Microsoft 365 Business Premium",
        True,
        [_Option("monthly", BillingCycle.MONTHLY, BillingType.PREPAID, Decimal("20.60"))],
    ),
    (
        "BACKUP-1TB",
        "Cloud Backup 1 TB",
        True,
        [
            _Option(
                "monthly",
                BillingCycle.MONTHLY,
                BillingType.PREPAID,
                Decimal("20.00"),
                Decimal("50.00"),
            )
        ],
    ),
    (
        "AZURE-USAGE",
        "Azure usage",
        True,
        [
            _Option(
                "monthly",
                BillingCycle.MONTHLY,
                BillingType.USAGE,
                Decimal(0),
                meters=(
                    ("vm.hours", "Virtual machines", "hours", Decimal("0.096")),
                    ("storage.gb", "Storage", "GB-days", Decimal("0.0007")),
                ),
                usage_delay_days=3,
            )
        ],
    ),
    (
        "SUPPORT-Q",
        "Premium support",
        True,
        [_Option("quarterly", BillingCycle.QUARTERLY, BillingType.PREPAID, Decimal("450.00"))],
    ),
    (
        "ONBOARDING",
        "Onboarding workshop",
        False,
        [_Option("once", BillingCycle.ONE_TIME, BillingType.PREPAID, Decimal("750.00"))],
    ),
]


def _local(eur: Decimal, currency: str, places: int | None = None) -> Decimal:
    """A EUR price in `currency`, to the currency's places (or `places`: a meter's 6)."""
    if places is None:
        places = {"JPY": 0, "KWD": 3}.get(currency, 2)
    return (eur * _CURRENCIES[currency]).quantize(Decimal(1).scaleb(-places))


@dataclass(frozen=True)
class _Customer:
    name: str
    email: str
    currency: str
    billing_day: int | None
    grouping: InvoiceGrouping
    tax_rate: Decimal
    partial: PartialCharges = PartialCharges.ON_ORDER_DAY
    terms: int = 30
    address: Address = NO_ADDRESS
    tax_id: str | None = None
    exemption: str | None = None  # the reason, when the account's supplies are exempt


_CUSTOMERS = [
    _Customer(
        "Acme Ltd",
        "billing@acme.example",
        "EUR",
        11,
        InvoiceGrouping.CONSOLIDATED,
        Decimal(24),
        address=Address(("Mannerheimintie 12",), "00100", "Helsinki", None, "FI"),
        tax_id="FI12345671",
    ),
    _Customer(
        "Northwind GmbH",
        "ap@northwind.example",
        "EUR",
        1,
        InvoiceGrouping.PER_PRODUCT,
        Decimal(19),
        PartialCharges.NEXT_BILLING_DAY,
        address=Address(("Friedrichstraße 88",), "10117", "Berlin", None, "DE"),
        tax_id="DE123456789",
    ),
    _Customer(
        "Contoso UK Ltd",
        "finance@contoso.example",
        "GBP",
        5,
        InvoiceGrouping.CONSOLIDATED,
        Decimal(20),
        terms=14,
        address=Address(("1 Poultry",), "EC2R 8EJ", "London", None, "GB"),
        tax_id="GB123456789",
    ),
    _Customer(
        "Sakura Systems KK",
        "keiri@sakura.example",
        "JPY",
        None,
        InvoiceGrouping.PER_SUBSCRIPTION,
        Decimal(10),
        address=Address(("2-1-1 Marunouchi", "Chiyoda-ku"), "100-0005", "Tokyo", None, "JP"),
    ),
    _Customer(
        "Gulf Trading Co.",
        "accounts@gulf.example",
        "KWD",
        15,
        InvoiceGrouping.CONSOLIDATED,
        Decimal(0),
        address=Address(("Arabian Gulf Street",), "13001", "Kuwait City", None, "KW"),
        exemption="Services supplied to a customer outside the EU (art. 44 Directive 2006/112/EC)",
    ),
]

# The reseller that issues the demo's documents: what an EU VAT invoice names.
_SELLER = Seller(
    legal_name="Recur Cloud Services Ltd",
    address=Address(("4 Grand Canal Square",), "D02 X525", "Dublin", None, "IE"),
    tax_id="IE1234567T",
    registration="Companies Registration Office no. 654321",
    iban="IE29AIBK93115212345678",
    bic="AIBKIE2D",
    bank_details=None,
    footer="Recur Cloud Services Ltd · billing@recur.example · +353 1 555 0100",
)

# (customer index, product sku, option code, quantity, months before today it started, day offset)
_ORDERS = [
    (0, "MS365-E3", "monthly", 10, 12, 0),
    (0, "BACKUP-1TB", "monthly", 1, 12, 9),
    (0, "AZURE-USAGE", "monthly", 1, 4, 0),
    (0, "ONBOARDING", "once", 1, 12, 0),
    (1, "MS365-BP", "monthly", 25, 11, 6),
    (1, "SUPPORT-Q", "quarterly", 1, 10, 3),
    (1, "BACKUP-1TB", "monthly", 2, 4, 17),
    (2, "MS365-E3", "annual", 40, 9, 2),
    (3, "MS365-BP", "monthly", 12, 12, 30),
    (3, "BACKUP-1TB", "monthly", 1, 5, 8),
    (4, "MS365-E3", "monthly", 8, 7, 4),
    (4, "SUPPORT-Q", "quarterly", 1, 7, 4),
    (4, "ONBOARDING", "once", 2, 1, 10),
]


# Demo sign-ins, one per role, each with a random password: `recur demo` prints them
# once (and so does `make run`). No installation has a published password.
DEMO_USERS = [
    ("admin@recur.local", Role.ADMIN),
    ("operator@recur.local", Role.OPERATOR),
    ("viewer@recur.local", Role.VIEWER),
]


def create_demo_users(db: Database) -> list[tuple[str, str, Role]]:
    """Create the demo sign-ins that do not exist yet: (email, password, role) of each."""
    existing = {u.email for u in users.list_users(db)}
    created = []
    for email, role in DEMO_USERS:
        if email not in existing:
            password = secrets.token_urlsafe(12)
            users.create_user(db, email, role, password, ACTOR)
            created.append((email, password, role))
    return created


def has_data(db: Database) -> bool:
    """True if any table holds a row: users, tokens, catalogue, accounts or billing."""
    with db.read() as session:
        return any(
            session.scalar(select(exists().select_from(table)))
            for table in Base.metadata.sorted_tables
        )


def check_demo_target(db: Database) -> None:
    """The demo is for trying Recur: refuse a database in use, or a production one."""
    if not is_sqlite(db.engine):
        raise Conflict(
            "demo_into_postgresql",
            "refusing to load demo data into PostgreSQL, a production database "
            "(pass --force to load it anyway)",
        )
    if has_data(db):
        raise Conflict(
            "database_not_empty",
            "refusing to load demo data into a database that already has data "
            "(pass --force to load it anyway)",
        )


def load_demo(db: Database, today: date) -> None:
    """Create the catalogue, customers and orders, then replay a year of billing up to today."""
    seller.update_seller(db, _SELLER, ACTOR)
    options = _create_catalogue(db)
    customers = [_create_customer(db, c) for c in _CUSTOMERS]
    first = add_months(today, -12)
    usage_feed: _UsageFeed = {}
    for index, sku, code, quantity, months_ago, offset in _ORDERS:
        customer = _CUSTOMERS[index]
        start = add_months(today, -months_ago) + timedelta(days=offset)
        created = subscriptions.create_subscription(
            db,
            subscriptions.SubscriptionSpec(
                customers[index], options[(sku, code, customer.currency)], quantity, start
            ),
            ACTOR,
        )
        if sku == "AZURE-USAGE":
            _add_usage(usage_feed, created.id, start, today)
    _replay_history(db, first, today, usage_feed)


# Usage records by the day they are received: what the reseller's feed sends that day.
_UsageFeed = dict[date, list[dict[str, object]]]


def _add_usage(feed: _UsageFeed, subscription_id: int, start: date, today: date) -> None:
    """Daily Azure consumption from `start` to yesterday: virtual-machine hours (fewer at
    weekends) and storage slowly growing. Each day's records arrive the next day, except
    one virtual-machine record in eleven, which arrives a week late: some of those miss
    their period's invoice (planned 3 days after its end) and go out with the next one."""
    rng = random.Random(subscription_id)  # the same history on every load
    day, storage = start, Decimal(480)
    while day < today:
        hours = Decimal(rng.randint(40, 60) if day.weekday() >= 5 else rng.randint(90, 130))
        storage += Decimal(rng.randint(0, 40)) / 10
        delay = 8 if (day - start).days % 11 == 7 else 1
        for meter, quantity, arrives in (
            ("vm.hours", hours + Decimal(rng.randint(0, 99)) / 100, day + timedelta(delay)),
            ("storage.gb", storage, day + timedelta(1)),
        ):
            feed.setdefault(min(arrives, today), []).append(
                {
                    "id": f"azure-{subscription_id}-{meter}-{day.isoformat()}",
                    "subscription_id": subscription_id,
                    "meter": meter,
                    "quantity": str(quantity),
                    "occurred_on": day,
                }
            )
        day += timedelta(1)


def _create_catalogue(db: Database) -> dict[tuple[str, str, str], int]:
    ids: dict[tuple[str, str, str], int] = {}
    for sku, name, taxable, options in _PRODUCTS:
        specs = [
            catalogue.PricingOptionSpec(
                code=f"{o.code}-{currency.lower()}",
                billing_period=o.cycle,
                billing_type=o.billing_type,
                unit_price=_local(o.eur_price, currency),
                setup_fee=_local(o.eur_setup, currency),
                currency=currency,
                term_months=o.term_months,
                meters=tuple(
                    MeterSpec(code, name, unit, _local(price, currency, 6))
                    for code, name, unit, price in o.meters
                ),
                usage_delay_days=o.usage_delay_days,
            )
            for o in options
            for currency in _CURRENCIES
        ]
        product = catalogue.create_product(
            db, catalogue.ProductSpec(sku, name, specs, taxable), ACTOR
        )
        for option in product.pricing_options:
            ids[(sku, option.code.rsplit("-", 1)[0], option.currency)] = option.id
    return ids


def _create_customer(db: Database, c: _Customer) -> int:
    spec = accounts.AccountSpec(
        name=c.name,
        email=c.email,
        currency=c.currency,
        billing_day=c.billing_day,
        partial_charges=c.partial,
        invoice_grouping=c.grouping,
        payment_terms_days=c.terms,
        tax_rate=c.tax_rate,
        billing_address=c.address,
        tax_id=c.tax_id,
        tax_treatment=(TaxTreatment.EXEMPT if c.exemption else TaxTreatment.STANDARD).value,
        tax_exemption_reason=c.exemption,
    )
    return accounts.create_account(db, spec, ACTOR).id


def _replay_history(db: Database, first: date, today: date, usage_feed: _UsageFeed) -> None:
    """Run the billing service on each past day it had work, as it would have, and take in
    each day's usage records on the day they arrive; pay old invoices; one manual
    generation, seats added and removed mid-period (an adjustment and a credit note) and
    one cancellation, so the history shows every kind of event."""
    manual_done = cancelled = False
    changes = [
        (add_months(today, -3), "Acme Ltd", "MS365-E3", 15),  # 5 seats added
        (add_months(today, -1), "Northwind GmbH", "MS365-BP", 20),  # 5 seats removed
    ]
    arrivals = sorted(usage_feed)
    while True:
        due = _next_due(db)
        # Records received on or before the next due day go in first: they may make
        # their subscription due earlier (never before the day they arrive).
        if arrivals and (due is None or arrivals[0] <= due):
            received = arrivals.pop(0)
            usage.ingest(db, usage_feed[received], received, ACTOR)
            continue
        if due is None or due >= today:
            break
        run_day = max(due, first)
        billing_run.run_billing(db, run_day, run_day, "scheduler")
        while changes and run_day >= changes[0][0]:
            _, name, sku, quantity = changes.pop(0)
            account_id = accounts.find_account(db, name).id
            change = ChangeSpec(quantity=quantity, effective="now")
            change_subscription(db, _subscription_of(db, account_id, sku), change, run_day, ACTOR)
        if not manual_done and run_day >= add_months(today, -6):
            acme = accounts.find_account(db, "Acme Ltd")
            backup = _subscription_of(db, acme.id, "BACKUP-1TB")
            invoicing.generate_for_account(db, acme.id, [backup], run_day, "user:admin@recur.local")
            manual_done = True
        if not cancelled and run_day >= add_months(today, -2):
            gulf = accounts.find_account(db, "Gulf Trading Co.")
            subscriptions.cancel_subscription(
                db,
                _subscription_of(db, gulf.id, "SUPPORT-Q"),
                CancelAt.END_OF_PERIOD,
                run_day,
                ACTOR,
            )
            cancelled = True
    old_invoices = invoicing.InvoiceFilter(
        issued_to=today - timedelta(days=45), type=InvoiceType.INVOICE
    )
    for invoice in invoicing.list_invoices(db, old_invoices, 100).items:
        payments.pay_in_full(db, invoice.id, ACTOR, today)


def _next_due(db: Database) -> date | None:
    with db.read() as session:
        return session.scalar(select(func.min(Subscription.next_charge_date)))


def _subscription_of(db: Database, account_id: int, sku: str) -> int:
    page = subscriptions.list_subscriptions(db, account_id=account_id, limit=100)
    return next(s.id for s in page.items if s.pricing_option.product.sku == sku)


def invoice_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)
