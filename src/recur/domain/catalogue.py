"""The vocabulary of the catalogue, accounts, subscriptions and invoices."""

from enum import StrEnum


class BillingCycle(StrEnum):
    """A pricing option's `billing_period`: how many months one charge covers."""

    ONE_TIME = "one_time"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return _CYCLE_MONTHS[self]


_CYCLE_MONTHS = {
    BillingCycle.ONE_TIME: 0,
    BillingCycle.MONTHLY: 1,
    BillingCycle.QUARTERLY: 3,
    BillingCycle.SEMIANNUAL: 6,
    BillingCycle.ANNUAL: 12,
}


class BillingType(StrEnum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"
    USAGE = "usage"  # billed in arrears from metered records (SPEC §13)


class PartialCharges(StrEnum):
    """When a partial first period (aligned billing day) is issued."""

    ON_ORDER_DAY = "on_order_day"
    NEXT_BILLING_DAY = "next_billing_day"


class InvoiceGrouping(StrEnum):
    CONSOLIDATED = "consolidated"
    PER_PRODUCT = "per_product"
    PER_SUBSCRIPTION = "per_subscription"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ChargeKind(StrEnum):
    """What an invoice item bills; the ledger's exactly-once key includes it.

    An adjustment corrects days of a period already billed (SPEC §11): its quantity
    is what is in force less what was billed, negative for a credit."""

    RECURRING = "recurring"
    SETUP = "setup"
    ONE_TIME = "one_time"
    ADJUSTMENT = "adjustment"
    USAGE = "usage"  # the records of one meter and period (SPEC §13)


class InvoiceType(StrEnum):
    INVOICE = "invoice"
    CREDIT = "credit"


class InvoiceStatus(StrEnum):
    """What a document's allocations make it (domain.receivables.payment_status); `void`
    an invoice cancelled by its credit note. Whether it is overdue depends on the day:
    derived when shown, never stored."""

    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class PaymentMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    DIRECT_DEBIT = "direct_debit"
    CASH = "cash"
    OTHER = "other"


class InvoiceSource(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class CancelAt(StrEnum):
    NOW = "now"
    END_OF_PERIOD = "end_of_period"
