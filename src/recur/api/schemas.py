"""The API's request and response bodies (Pydantic), separate from the ORM models.

Inputs are bounded so that a wrong request is refused with 422 here rather than
failing in the database: ids fit a 32-bit key, texts hold no NUL, dates stay in
a range the calendar arithmetic can serve, amounts fit their NUMERIC columns.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from recur.domain.catalogue import (
    AccountStatus,
    BillingCycle,
    BillingType,
    CancelAt,
    ChargeKind,
    InvoiceGrouping,
    InvoiceSource,
    InvoiceStatus,
    InvoiceType,
    PartialCharges,
    SubscriptionStatus,
)

MAX_ID = 2**31 - 1
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)


def _printable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("must be valid Unicode text") from error
    return value


def _in_calendar(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
    return value


# Some character that is neither NUL nor blank (the services strip what they store).
_VISIBLE = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
Code = Annotated[
    str, Field(min_length=1, max_length=64, pattern=_VISIBLE), AfterValidator(_printable)
]
Name = Annotated[
    str, Field(min_length=1, max_length=200, pattern=_VISIBLE), AfterValidator(_printable)
]
Email = Annotated[
    str,
    Field(min_length=3, max_length=320, pattern=r"^[^\x00]*@[^\x00]*$"),
    AfterValidator(_printable),
]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[date, AfterValidator(_in_calendar)]
BillingDay = Annotated[int, Field(ge=1, le=28)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
# Below services.validation.MAX_PRICE, what a price column holds on both databases.
PriceIn = Annotated[Decimal, Field(ge=0, lt=10**12, decimal_places=6, examples=["12.50"])]
TaxRate = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2, examples=["24"])]
Quantity = Annotated[int, Field(ge=1, le=MAX_ID)]  # the column's 32-bit INTEGER
PaymentTerms = Annotated[int, Field(ge=0, le=365)]
Amount = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["125.00"])]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(examples=["account_not_found"])
    message: str = Field(examples=["account 7 does not exist"])


class ErrorResponse(BaseModel):
    error: ErrorDetail


# --- catalogue ----------------------------------------------------------------------------


class PricingOptionIn(Input):
    code: Code
    billing_period: BillingCycle
    billing_type: BillingType
    unit_price: PriceIn
    setup_fee: PriceIn = Decimal(0)
    currency: Currency
    term_months: Annotated[int, Field(ge=0, le=1200)] | None = None
    auto_renew: bool = True
    billing_day: BillingDay | None = None


class ProductIn(Input):
    sku: Code
    name: Name
    taxable: bool = True
    pricing_options: list[PricingOptionIn] = Field(min_length=1, max_length=50)


class PricingOptionOut(BaseModel):
    id: int
    code: str
    billing_period: BillingCycle
    billing_type: BillingType
    unit_price: Amount
    setup_fee: Amount
    currency: str
    term_months: int
    auto_renew: bool
    billing_day: int | None
    active: bool


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    taxable: bool
    pricing_options: list[PricingOptionOut]


# --- accounts -----------------------------------------------------------------------------


class AccountIn(Input):
    name: Name
    email: Email
    currency: Currency
    billing_day: BillingDay | None = None
    partial_charges: PartialCharges = PartialCharges.ON_ORDER_DAY
    invoice_grouping: InvoiceGrouping = InvoiceGrouping.CONSOLIDATED
    payment_terms_days: PaymentTerms = 30
    tax_rate: TaxRate = Decimal(0)


class AccountPatch(Input):
    """Only the fields sent change; `billing_day: null` means anniversary billing."""

    name: Name | None = None
    email: Email | None = None
    currency: Currency | None = None
    billing_day: BillingDay | None = None
    partial_charges: PartialCharges | None = None
    invoice_grouping: InvoiceGrouping | None = None
    payment_terms_days: PaymentTerms | None = None
    tax_rate: TaxRate | None = None
    status: AccountStatus | None = None


class AccountOut(BaseModel):
    id: int
    name: str
    email: str
    currency: str
    billing_day: int | None
    partial_charges: PartialCharges
    invoice_grouping: InvoiceGrouping
    payment_terms_days: int
    tax_rate: Amount
    status: AccountStatus


# --- subscriptions ------------------------------------------------------------------------


class SubscriptionIn(Input):
    account_id: Id
    pricing_option_id: Id
    quantity: Quantity
    start_date: Day
    auto_renew: bool | None = Field(None, description="Default: the pricing option's")


class CancelIn(Input):
    at: CancelAt


class SubscriptionOut(BaseModel):
    id: int
    account_id: int
    pricing_option_id: int
    quantity: int
    start_date: date
    auto_renew: bool
    status: SubscriptionStatus
    term_end: date | None
    end_date: date | None
    next_charge_date: date | None


# --- invoices -----------------------------------------------------------------------------


class ItemOut(BaseModel):
    subscription_id: int
    kind: ChargeKind
    description: str
    period_start: date
    period_end: date = Field(description="Inclusive: the last day the item covers")
    quantity: int
    unit_price: Amount
    proration: Amount
    amount: Amount


class PendingInvoiceOut(BaseModel):
    account_id: int
    issue_date: date
    due_date: date
    currency: str
    subtotal: Amount
    tax: Amount
    total: Amount
    items: list[ItemOut]


class PendingOut(BaseModel):
    as_of: date
    data: list[PendingInvoiceOut]


class AccountPendingOut(PendingOut):
    subscriptions: list[SubscriptionOut] = Field(
        description="The subscriptions behind the pending invoices"
    )


class InvoiceOut(BaseModel):
    id: int
    number: str
    account_id: int
    issue_date: date
    due_date: date
    currency: str
    type: InvoiceType
    status: InvoiceStatus
    source: InvoiceSource
    generated_by: str | None
    billing_run_id: int | None
    subtotal: Amount
    tax: Amount
    total: Amount
    tax_rate: Amount = Field(description="the tax rate (%) the invoice was issued with")
    paid_at: datetime | None
    items: list[ItemOut]


class GenerateIn(Input):
    subscription_ids: list[Id] = Field(max_length=1000)


class GenerateOut(BaseModel):
    invoices: list[InvoiceOut]


# --- billing runs -------------------------------------------------------------------------


class BillingRunIn(Input):
    as_of: Day | None = Field(None, description="Default: today; never after today")


class BillingRunErrorOut(BaseModel):
    account_id: int | None
    code: str
    message: str
    occurred_at: datetime


class BillingRunOut(BaseModel):
    id: int
    as_of: date
    worker: str
    triggered_by: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None
    accounts_processed: int
    invoices_issued: int
    charges_issued: int
    errors_count: int
    errors: list[BillingRunErrorOut]


# --- lists, clock, health -----------------------------------------------------------------

T = TypeVar("T")


class ListOut(BaseModel, Generic[T]):
    data: list[T]
    total: int
    next_cursor: str | None


class ClockIn(Input):
    today: Day


class ClockOut(BaseModel):
    today: date


class StatusOut(BaseModel):
    status: str
