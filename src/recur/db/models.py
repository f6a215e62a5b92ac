"""SQLAlchemy models. Constraints live here too, so the database refuses bad rows."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    column,
    false,
    func,
    literal,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnClause

from recur.db.money import Money
from recur.domain.audit import Door
from recur.domain.catalogue import (
    AccountStatus,
    BillingCycle,
    BillingType,
    ChargeKind,
    InvoiceGrouping,
    InvoiceSource,
    InvoiceStatus,
    InvoiceType,
    PartialCharges,
    PaymentMethod,
    SubscriptionStatus,
)
from recur.domain.identity import TaxTreatment

# Money (exact on both databases, see db/money.py): 6 places for unit prices (a seat
# may cost 0.0125); amounts keep 4 places, enough for any ISO 4217 minor unit (KWD
# has 3); tax rates are percentages with 2 places.
Price = Money(6)
Amount = Money(4)
Rate = Money(2, precision=5)
Proration = Money(6, precision=9)
UsageQuantity = Money(6)  # a usage record's quantity: exact, 6 places (SPEC §13)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(name: str, values: type) -> str:
    return f"{name} IN ({', '.join(repr(v.value) for v in values)})"  # type: ignore[attr-defined]


def percentage(name: str) -> CheckConstraint:
    """0 ≤ rate ≤ 100, its bounds written in the column's own storage (scaled on SQLite)."""
    rate: ColumnClause[Decimal] = column(name, Rate)
    return CheckConstraint(and_(rate >= literal(0, Rate), rate <= literal(100, Rate)), name=name)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("billing_day BETWEEN 1 AND 28", name="billing_day"),
        CheckConstraint(one_of("partial_charges", PartialCharges), name="partial_charges"),
        CheckConstraint(one_of("invoice_grouping", InvoiceGrouping), name="invoice_grouping"),
        CheckConstraint(one_of("status", AccountStatus), name="status"),
        CheckConstraint("payment_terms_days >= 0", name="payment_terms"),
        percentage("tax_rate"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint(one_of("tax_treatment", TaxTreatment), name="tax_treatment"),
        CheckConstraint(
            "(tax_treatment = 'exempt') = (tax_exemption_reason IS NOT NULL)",
            name="tax_exemption_reason",
        ),
        # Substring search (ILIKE '%…%') on PostgreSQL: trigram indexes (migration 0002).
        Index(
            "ix_accounts_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_accounts_email_trgm",
            "email",
            postgresql_using="gin",
            postgresql_ops={"email": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(320))
    currency: Mapped[str] = mapped_column(String(3))
    billing_day: Mapped[int | None] = mapped_column(Integer)
    partial_charges: Mapped[str] = mapped_column(String(20), default=PartialCharges.ON_ORDER_DAY)
    invoice_grouping: Mapped[str] = mapped_column(String(20), default=InvoiceGrouping.CONSOLIDATED)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    tax_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal(0))
    status: Mapped[str] = mapped_column(String(10), default=AccountStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The buyer's identity an invoice names (SPEC §17); address parts all NULL: none given.
    address_lines: Mapped[list[str] | None] = mapped_column(JSON)
    postcode: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    tax_id: Mapped[str | None] = mapped_column(String(40))
    tax_treatment: Mapped[str] = mapped_column(
        String(20), default=TaxTreatment.STANDARD, server_default=TaxTreatment.STANDARD.value
    )
    tax_exemption_reason: Mapped[str | None] = mapped_column(String(500))
    # Where its documents go by e-mail (SPEC §17, docs/delivery.md): `billing_email`
    # (None: `email`) with `cc_emails`; `auto_send` queues every document issued to it.
    billing_email: Mapped[str | None] = mapped_column(String(320))
    cc_emails: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    auto_send: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    subscriptions: Mapped[list["Subscription"]] = relationship(back_populates="account")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    taxable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    pricing_options: Mapped[list["PricingOption"]] = relationship(
        back_populates="product", order_by="PricingOption.id"
    )


class PricingOption(Base):
    __tablename__ = "pricing_options"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint(one_of("billing_period", BillingCycle), name="billing_period"),
        CheckConstraint(one_of("billing_type", BillingType), name="billing_type"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("setup_fee >= 0", name="setup_fee"),
        CheckConstraint("term_months >= 0", name="term_months"),
        CheckConstraint("billing_day BETWEEN 1 AND 28", name="billing_day"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint(
            "NOT anniversary_billing OR billing_day IS NULL", name="anniversary_billing"
        ),
        CheckConstraint("usage_delay_days BETWEEN 0 AND 31", name="usage_delay_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    billing_period: Mapped[str] = mapped_column(String(12))
    billing_type: Mapped[str] = mapped_column(String(10))
    unit_price: Mapped[Decimal] = mapped_column(Price)
    setup_fee: Mapped[Decimal] = mapped_column(Price, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3))
    term_months: Mapped[int] = mapped_column(Integer)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    billing_day: Mapped[int | None] = mapped_column(Integer)
    # "Exclude from pro-rata": billed on each subscription's own start day (SPEC §12).
    anniversary_billing: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Usage options (SPEC §13): days after a period's end to wait for late records.
    usage_delay_days: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="pricing_options")
    # Loaded with the options (one query per batch of options, never one per option).
    meters: Mapped[list["Meter"]] = relationship(order_by="Meter.id", lazy="selectin")


class Subscription(Base):
    """A subscription and its billing cursor.

    `recurring_billed_until` is the end of the last invoiced recurring period and
    `next_charge_date` the planned issue date of its first unbilled charge (None:
    nothing more to bill); both are rewritten in the transaction that issues.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint(one_of("status", SubscriptionStatus), name="status"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        Index("ix_subscriptions_next_charge", "next_charge_date", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    pricing_option_id: Mapped[int] = mapped_column(ForeignKey("pricing_options.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=SubscriptionStatus.ACTIVE, index=True)
    auto_renew: Mapped[bool] = mapped_column(Boolean)
    term_months: Mapped[int] = mapped_column(Integer)
    end_date: Mapped[date | None] = mapped_column(Date)
    recurring_billed_until: Mapped[date | None] = mapped_column(Date)
    setup_billed: Mapped[bool] = mapped_column(Boolean, default=False)
    one_time_billed: Mapped[bool] = mapped_column(Boolean, default=False)
    next_charge_date: Mapped[date | None] = mapped_column(Date)
    # The first day whose billing may differ from what is in force (a change, a
    # withdrawal or a cancellation touched it): the ledger's facts of the billed periods
    # ending after it are the engine's input; None when every billed day is as billed.
    reconcile_from: Mapped[date | None] = mapped_column(Date)
    # How many issuing transactions billed it: each writes its ledger facts with
    # billing_seq + 1, unique per subscription (see BilledPeriod).
    billing_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    account: Mapped[Account] = relationship(back_populates="subscriptions")
    pricing_option: Mapped[PricingOption] = relationship()


# What settled a document never exceeds it; signed as its total (SPEC §18).
PAID_WITHIN_TOTAL = (
    "(total >= 0 AND amount_paid >= 0 AND amount_paid <= total)"
    " OR (total < 0 AND amount_paid <= 0 AND amount_paid >= total)"
)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(one_of("type", InvoiceType), name="type"),
        CheckConstraint(one_of("status", InvoiceStatus), name="status"),
        CheckConstraint(one_of("source", InvoiceSource), name="source"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("total = subtotal + tax", name="total"),  # exact: see db/money.py
        CheckConstraint(PAID_WITHIN_TOTAL, name="amount_paid"),
        percentage("tax_rate"),
        CheckConstraint(one_of("tax_treatment", TaxTreatment), name="tax_treatment"),
        Index("ix_invoices_account_issue", "account_id", "issue_date"),
        # The invoice list's order (issue_date DESC, id DESC), scanned backwards (migration 0002).
        Index("ix_invoices_issue_date_id", "issue_date", "id"),
        Index(
            "ix_invoices_number_trgm",
            "number",
            postgresql_using="gin",
            postgresql_ops={"number": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    type: Mapped[str] = mapped_column(String(10), default=InvoiceType.INVOICE)
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.UNPAID, index=True)
    source: Mapped[str] = mapped_column(String(10))
    generated_by: Mapped[str | None] = mapped_column(String(200))
    billing_run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_runs.id"))
    subtotal: Mapped[Decimal] = mapped_column(Amount)
    tax: Mapped[Decimal] = mapped_column(Amount)
    total: Mapped[Decimal] = mapped_column(Amount)
    # The account's rate when it was issued: a later correction reproduces its tax.
    tax_rate: Mapped[Decimal] = mapped_column(Rate)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The sum of its allocations (Allocation), written with them under the row's lock.
    amount_paid: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0), server_default="0")
    # The account's treatment when it was issued, and who it names as they were then
    # (domain/identity.py records; NULL for documents issued before snapshots).
    tax_treatment: Mapped[str] = mapped_column(
        String(20), default=TaxTreatment.STANDARD, server_default=TaxTreatment.STANDARD.value
    )
    seller: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    buyer: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))

    account: Mapped[Account] = relationship()
    items: Mapped[list["InvoiceItem"]] = relationship(
        back_populates="invoice",
        order_by="InvoiceItem.position",
        foreign_keys="InvoiceItem.invoice_id",
    )


class InvoiceItem(Base):
    """One line; `period_end` is inclusive, as invoices show it."""

    __tablename__ = "invoice_items"
    __table_args__ = (
        CheckConstraint(one_of("kind", ChargeKind), name="kind"),
        # An adjustment's quantity is in force − billed: negative for a credit.
        CheckConstraint("quantity <> 0", name="quantity"),
        CheckConstraint("period_end >= period_start", name="period"),
        percentage("tax_rate"),
        CheckConstraint("taxable OR tax_rate = 0", name="untaxed_rate"),
        CheckConstraint(
            "(kind = 'usage') = (meter IS NOT NULL AND usage_quantity IS NOT NULL)", name="usage"
        ),
        UniqueConstraint("invoice_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    position: Mapped[int] = mapped_column(Integer)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(300))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Price)
    proration: Mapped[Decimal] = mapped_column(Proration)
    amount: Mapped[Decimal] = mapped_column(Amount)
    taxable: Mapped[bool] = mapped_column(Boolean)
    # The rate applied to it: 0 for an untaxed line (its document's tax per rate).
    tax_rate: Mapped[Decimal] = mapped_column(Rate)
    explanation: Mapped[str] = mapped_column(Text, default="")
    # An adjustment names the invoice that first billed the period it corrects.
    corrects_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    # A usage item: its meter's code and the exact sum of its records (`quantity` is 1).
    meter: Mapped[str | None] = mapped_column(String(64))
    usage_quantity: Mapped[Decimal | None] = mapped_column(UsageQuantity)

    invoice: Mapped[Invoice] = relationship(back_populates="items", foreign_keys=[invoice_id])


# Kinds that may bill the same first day again: adjustments correct days already
# billed; usage items of one period may be several (late records).
REPEATABLE = "kind IN ('adjustment', 'usage')"


class BilledPeriod(Base):
    """The ledger: the facts of what was billed, one row per item of a subscription —
    `quantity` units of the pricing option for the days [period_start, period_end) of
    the billing period starting `billing_period_start`.

    Two unique indexes make a double bill impossible. Days billed for the first time
    are unique per (subscription, kind, first day): `repeat_key` is 0 for them, and
    the item's own id for the kinds that may bill a first day again (adjustments, usage,
    whose records are billed once by their own link to their item,
    UsageRecord.invoice_item_id). The same index serves the reads of a subscription's
    facts. Every issuing transaction that
    bills a subscription writes its facts with the subscription's `billing_seq` it
    read + 1 and marks one of them `first_of_billing`: (subscription, billing_seq) is
    unique among those, so two transactions that read the same billed state cannot
    both commit, and adjustments are kept exactly once.

    The ledger refers to its item and its subscription; the item refers to its
    invoice, and the pricing option is a catalogue row that is never deleted (its
    prices are immutable once in use), so no more foreign keys are checked per row.
    """

    __tablename__ = "billed_periods"
    __table_args__ = (
        UniqueConstraint(
            "subscription_id", "kind", "period_start", "repeat_key", name="uq_billed_periods_once"
        ),
        Index(
            "uq_billed_periods_billing",
            "subscription_id",
            "billing_seq",
            unique=True,
            postgresql_where=text("first_of_billing"),
            sqlite_where=text("first_of_billing"),
        ),
        CheckConstraint(one_of("kind", ChargeKind), name="kind"),
        CheckConstraint(
            f"CASE WHEN {REPEATABLE} THEN repeat_key = invoice_item_id ELSE repeat_key = 0 END",
            name="repeat_key",
        ),
        CheckConstraint("period_end > period_start", name="period"),
        CheckConstraint("quantity <> 0", name="quantity"),
        CheckConstraint("billing_seq >= 1", name="billing_seq"),
    )

    invoice_item_id: Mapped[int] = mapped_column(
        ForeignKey("invoice_items.id"), primary_key=True, autoincrement=False
    )
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    kind: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive
    billing_period_start: Mapped[date] = mapped_column(Date)
    pricing_option_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    billing_seq: Mapped[int] = mapped_column(Integer)
    first_of_billing: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_key: Mapped[int] = mapped_column(Integer, server_default="0")


class SubscriptionChange(Base):
    """A change: from `effective_date` on, the quantity and/or the pricing option
    (None: unchanged), SPEC §10."""

    __tablename__ = "subscription_changes"
    __table_args__ = (
        CheckConstraint("quantity IS NULL OR quantity >= 1", name="quantity"),
        CheckConstraint(
            "quantity IS NOT NULL OR pricing_option_id IS NOT NULL", name="changes_something"
        ),
        Index("ix_subscription_changes_order", "subscription_id", "effective_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    effective_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int | None] = mapped_column(Integer)
    pricing_option_id: Mapped[int | None] = mapped_column(ForeignKey("pricing_options.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class InvoiceSequence(Base):
    """Last number issued per series (INV, CN) and calendar year of the issue date
    (gap-free)."""

    __tablename__ = "invoice_sequences"
    __table_args__ = (
        CheckConstraint("last_number >= 0", name="last_number"),
        CheckConstraint("series IN ('INV', 'CN')", name="series"),
    )

    series: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class BillingRun(Base):
    __tablename__ = "billing_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'completed', 'failed', 'interrupted')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    worker: Mapped[str] = mapped_column(String(200))
    triggered_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Written with every batch; a running run whose heart stopped was killed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accounts_processed: Mapped[int] = mapped_column(Integer, default=0)
    invoices_issued: Mapped[int] = mapped_column(Integer, default=0)
    charges_issued: Mapped[int] = mapped_column(Integer, default=0)
    errors_count: Mapped[int] = mapped_column(Integer, default=0)

    errors: Mapped[list["BillingRunError"]] = relationship(order_by="BillingRunError.id")


class BillingRunError(Base):
    __tablename__ = "billing_run_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_run_id: Mapped[int] = mapped_column(ForeignKey("billing_runs.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """A request's key and what it produced, so that a retry returns the first result."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditEvent(Base):
    """Who did what: every state change writes one (db/audit.py)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(one_of("door", Door), name="door"),
        # A subject's activity, an actor's, and the log by date: newest first.
        Index("ix_audit_events_subject", "subject_type", "subject_id", "occurred_at"),
        Index("ix_audit_events_actor", "actor", "occurred_at"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    door: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, object]] = mapped_column(JSON)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'operator', 'viewer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set while the user may not sign in; disabling also ends their sessions.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A back-office sign-in. The cookie carries a random secret; only its SHA-256
    hash is stored, and every request checks the row, so revoking it ends the session."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInFailure(Base):
    """Failed sign-ins counted per key ("account:<e-mail>" or "client:<address>"),
    and until when that key must wait (services/sign_in.py)."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """An API bearer token, stored as its SHA-256 hash."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("role IN ('admin', 'operator', 'viewer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Written at most once a minute per token (services/tokens.py), never per request.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Meter(Base):
    """What a usage pricing option charges for, per unit (SPEC §13)."""

    __tablename__ = "meters"
    __table_args__ = (
        UniqueConstraint("pricing_option_id", "code"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pricing_option_id: Mapped[int] = mapped_column(ForeignKey("pricing_options.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(64))
    unit_price: Mapped[Decimal] = mapped_column(Price)


class UsageRecord(Base):
    """A usage record as its sender identified it: the primary key is the sender's own
    id, so the database itself keeps each record once, whatever the retries and races.
    `invoice_item_id` is the item that billed it (None until billed)."""

    __tablename__ = "usage_records"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity"),
        Index("ix_usage_records_subscription_occurred", "subscription_id", "occurred_on"),
        # What the engine bills: a subscription's records not billed yet.
        Index(
            "ix_usage_records_unbilled",
            "subscription_id",
            "received_on",
            postgresql_where=text("invoice_item_id IS NULL"),
            sqlite_where=text("invoice_item_id IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"))
    quantity: Mapped[Decimal] = mapped_column(UsageQuantity)
    occurred_on: Mapped[date] = mapped_column(Date)
    received_on: Mapped[date] = mapped_column(Date)
    invoice_item_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_items.id"))

    meter: Mapped[Meter] = relationship()
    invoice_item: Mapped[InvoiceItem | None] = relationship()


class MailSettings(Base):
    """The SMTP server and the e-mail templates, edited by an admin; one row (id 1),
    absent until first saved (the RECUR_SMTP_* settings stand in until then)."""

    __tablename__ = "mail_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single"),
        CheckConstraint("security IN ('none', 'starttls', 'tls')", name="security"),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    security: Mapped[str] = mapped_column(String(10))
    sender: Mapped[str] = mapped_column(String(320))
    username: Mapped[str | None] = mapped_column(String(320))
    password: Mapped[str | None] = mapped_column(String(500))  # never shown back nor logged


class MailTemplate(Base):
    """The subject and body of one kind of e-mail, edited by an admin; no row: the
    default (domain/delivery.py)."""

    __tablename__ = "mail_templates"
    __table_args__ = (
        CheckConstraint("kind IN ('invoice', 'credit_note', 'statement')", name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


class SellerSettings(Base):
    """The installation's own identity (SPEC §17), edited by an admin; one row (id 1),
    absent until first saved."""

    __tablename__ = "seller_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    address_lines: Mapped[list[str] | None] = mapped_column(JSON)
    postcode: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    tax_id: Mapped[str | None] = mapped_column(String(40))
    registration: Mapped[str | None] = mapped_column(String(200))
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    bank_details: Mapped[str | None] = mapped_column(String(1000))
    footer: Mapped[str | None] = mapped_column(String(1000))
    logo_url: Mapped[str | None] = mapped_column(Text)  # a data: URL


class DeliveryOutbox(Base):
    """An e-mail of a document to send: written in the transaction that issues the
    document (or asks to send it), sent after that transaction commits by the delivery
    worker, which marks it sent in the transaction that claimed it (services/delivery.py).
    `message_id` is fixed per row, so a resend after a crash is recognisable."""

    __tablename__ = "delivery_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sent')", name="status"),
        # A document, or a statement of account (an account and a period).
        CheckConstraint(
            "(invoice_id IS NULL) = (statement_from IS NOT NULL AND statement_to IS NOT NULL)",
            name="one_subject",
        ),
        # What the worker claims: queued rows by when they are next due.
        Index(
            "ix_delivery_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    statement_from: Mapped[date | None] = mapped_column(Date)
    statement_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryAttempt(Base):
    """A document's delivery log: each queueing, each sent e-mail and each failure."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (CheckConstraint("outcome IN ('queued', 'sent', 'failed')", name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("delivery_outbox.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recipients: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class Payment(Base):
    """Money received from an account (SPEC §18); undoing it keeps the row, without
    its allocations."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint(one_of("method", PaymentMethod), name="method"),
        CheckConstraint("length(currency) = 3", name="currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    allocations: Mapped[list["Allocation"]] = relationship(
        back_populates="payment", order_by="Allocation.id"
    )


class Allocation(Base):
    """Part of a payment, or of a credit note applied, settling one invoice."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    payment: Mapped[Payment | None] = relationship(back_populates="allocations")
    invoice: Mapped[Invoice] = relationship(foreign_keys=[invoice_id])
    credit_note: Mapped[Invoice | None] = relationship(foreign_keys=[credit_note_id])


class Refund(Base):
    """Part of a credit note paid back to the customer."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount)
    refunded_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ForecastJob(Base):
    """A whole-book forecast computed in the background (SPEC §19): `running` until its
    documents are all written, then `done` (or `failed`, with its error)."""

    __tablename__ = "forecast_jobs"
    __table_args__ = (CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    months: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    documents: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class ForecastDocument(Base):
    """One document of a forecast job, in issue order (`position`); `record` is the
    document with its items (recur.domain.issued.to_record)."""

    __tablename__ = "forecast_documents"

    job_id: Mapped[int] = mapped_column(ForeignKey("forecast_jobs.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    issue_date: Mapped[date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Amount)
    tax: Mapped[Decimal] = mapped_column(Amount)
    total: Mapped[Decimal] = mapped_column(Amount)
    record: Mapped[dict[str, object]] = mapped_column(JSON)
