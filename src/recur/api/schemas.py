"""The API's request and response bodies (Pydantic), separate from the ORM models.

Inputs have strict JSON types: money is a string ("12.50", read by the same parser
as the back office's forms), whole numbers are JSON integers (not `true`, `1.0` or
"1"). Their bounds come from services.validation, which the services check again
for every door: ids fit a 32-bit key, dates stay in the calendar arithmetic's range.
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from recur.domain.audit import Door
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
    PaymentMethod,
    SubscriptionStatus,
)
from recur.domain.errors import InvalidInput
from recur.domain.identity import Address, TaxTreatment
from recur.services import identity_rules
from recur.services import validation as rules


def _shared(rule: Callable[[Any, str], Any]) -> Callable[[Any, ValidationInfo], Any]:
    """A rule of services.validation as a Pydantic validator, with the rule's own message."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        try:
            return rule(value, info.field_name or "value")
        except InvalidInput as error:
            raise PydanticCustomError(error.code, error.message) from None

    return validate


def _money(places: int) -> Callable[[Any, str], Decimal]:
    def read(value: Any, field: str) -> Decimal:
        # A JSON number is refused, whole or not: 0.1 has no exact binary value, and
        # one type for every amount is simpler for clients than two.
        if not isinstance(value, str):
            raise InvalidInput(f"invalid_{field}", f'{field} must be a JSON string such as "12.50"')
        return rules.parse_amount(value, field, places)

    return read


def _amount_schema(places: int, example: str) -> WithJsonSchema:
    pattern = rf"^[0-9]+(\.[0-9]{{1,{places}}})?$"
    description = f"A decimal string: digits and at most one point, up to {places} decimals"
    return WithJsonSchema(
        {"type": "string", "pattern": pattern, "description": description, "examples": [example]}
    )


Code = Annotated[str, Field(min_length=1, max_length=rules.CODE_LENGTH)]
Name = Annotated[str, Field(min_length=1, max_length=rules.NAME_LENGTH)]
Email = Annotated[str, Field(min_length=3, max_length=rules.EMAIL_LENGTH, pattern=r"@")]
Id = Annotated[int, Strict(), Field(ge=1, le=rules.MAX_ID)]
Day = Annotated[date, AfterValidator(_shared(rules.check_day))]
Flag = Annotated[bool, Strict()]
BillingDay = Annotated[int, Strict(), Field(ge=1, le=rules.LAST_BILLING_DAY)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
PriceIn = Annotated[
    Decimal,
    BeforeValidator(_shared(_money(rules.PRICE_PLACES))),
    _amount_schema(rules.PRICE_PLACES, "12.50"),
]
TaxRate = Annotated[
    Decimal,
    BeforeValidator(_shared(_money(rules.TAX_RATE_PLACES))),
    _amount_schema(rules.TAX_RATE_PLACES, "24"),
]
Quantity = Annotated[int, Strict(), Field(ge=1, le=rules.MAX_QUANTITY)]
TermMonths = Annotated[int, Strict(), Field(ge=0, le=rules.MAX_TERM_MONTHS)]
PaymentTerms = Annotated[int, Strict(), Field(ge=0, le=rules.MAX_PAYMENT_TERMS_DAYS)]
Amount = Annotated[
    str,
    Field(
        pattern=r"^-?\d+(\.\d+)?$",
        description="A decimal string in the currency's places; negative on credit notes",
        examples=["125.00"],
    ),
]

# What a service refuses, said in the schema too: the service keeps the rule (the same for
# every door, with its own code and message), the schema tells clients about it.
NotEmpty = Field(json_schema_extra={"minLength": 1})
AtLeastOne = Field(json_schema_extra={"minItems": 1})


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Patch(Input):
    """A partial update: only the fields sent change."""

    # The fields whose null means something (no address, anniversary billing); a null
    # sent for any other is refused rather than taken as "no change".
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    def changes(self) -> dict[str, Any]:
        """The fields sent, by name (422 `null_field` naming those wrongly null)."""
        sent = self.model_dump(exclude_unset=True)
        nulls = sorted(k for k, v in sent.items() if v is None and k not in self.NULLABLE)
        if nulls:
            raise InvalidInput("null_field", f"{', '.join(nulls)} cannot be null")
        return sent


# --- errors -------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(examples=["account_not_found"])
    message: str = Field(examples=["account 7 does not exist"])


class ErrorResponse(BaseModel):
    error: ErrorDetail


# --- catalogue ----------------------------------------------------------------------------


class MeterIn(Input):
    code: Code
    name: Name
    unit: Annotated[str, Field(min_length=1, max_length=64, examples=["hours"])]
    unit_price: PriceIn


class MeterOut(BaseModel):
    id: int
    code: str
    name: str
    unit: str
    unit_price: Amount


class PricingOptionIn(Input):
    code: Code
    billing_period: BillingCycle
    billing_type: BillingType
    unit_price: PriceIn
    setup_fee: PriceIn = Decimal(0)
    currency: Currency
    term_months: TermMonths | None = None
    auto_renew: Flag = True
    billing_day: BillingDay | None = None
    anniversary_billing: Flag = Field(
        False,
        description="Bill on each subscription's own start day, whatever the billing day "
        "(no pro-rata at the start); not with the option's own billing_day",
    )
    meters: list[MeterIn] = Field(
        default_factory=list,
        max_length=50,
        description='billing_type "usage": what its records are priced by (at least one)',
    )
    usage_delay_days: Annotated[int, Strict(), Field(ge=0, le=31)] = Field(
        0, description="Usage options: days after a period's end to wait for late records"
    )


class ProductIn(Input):
    sku: Code
    name: Name
    taxable: Flag = True
    pricing_options: list[PricingOptionIn] = Field(min_length=1, max_length=50)


class ProductPatch(Patch):
    """Only the fields sent change. Issued documents keep their taxability; documents not
    yet issued follow the product's."""

    name: Name | None = None
    taxable: Flag | None = None


class PricingOptionsIn(Input):
    pricing_options: list[PricingOptionIn] = Field(min_length=1, max_length=50)


class PricingOptionPatch(Patch):
    """New prices for an option no subscription has used; once one has, a 409."""

    unit_price: PriceIn | None = None
    setup_fee: PriceIn | None = None


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
    anniversary_billing: bool
    active: bool
    meters: list[MeterOut]
    usage_delay_days: int


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    taxable: bool
    pricing_options: list[PricingOptionOut]


# --- accounts -----------------------------------------------------------------------------


class AddressIn(Input):
    """Empty, or at least one line, a city and a country (ISO 3166-1 alpha-2)."""

    lines: Annotated[
        list[Annotated[str, Field(max_length=identity_rules.ADDRESS_LINE_LENGTH)]],
        Field(max_length=identity_rules.MAX_ADDRESS_LINES),
    ] = []
    postcode: Annotated[str | None, Field(max_length=identity_rules.POSTCODE_LENGTH)] = None
    city: Annotated[str | None, Field(max_length=identity_rules.CITY_LENGTH)] = None
    region: Annotated[str | None, Field(max_length=identity_rules.REGION_LENGTH)] = None
    country: Annotated[str | None, Field(max_length=2, examples=["DE"])] = None

    def domain(self) -> Address:
        return Address(tuple(self.lines), self.postcode, self.city, self.region, self.country)


class AddressOut(BaseModel):
    lines: list[str]
    postcode: str | None
    city: str | None
    region: str | None
    country: str | None


TaxId = Annotated[str | None, Field(max_length=identity_rules.TAX_ID_LENGTH)]
Reason = Annotated[str | None, Field(max_length=identity_rules.REASON_LENGTH)]
BillingEmail = Annotated[
    str | None, Field(max_length=rules.EMAIL_LENGTH, description="null: the account's email")
]
CcEmails = Annotated[
    list[Annotated[str, NotEmpty, Field(max_length=rules.EMAIL_LENGTH)]],
    Field(max_length=rules.MAX_CC),
]


class AccountIn(Input):
    name: Name
    email: Email
    currency: Currency
    billing_day: BillingDay | None = None
    partial_charges: PartialCharges = PartialCharges.ON_ORDER_DAY
    invoice_grouping: InvoiceGrouping = InvoiceGrouping.CONSOLIDATED
    payment_terms_days: PaymentTerms = 30
    tax_rate: TaxRate = Decimal(0)
    billing_address: AddressIn | None = None
    tax_id: TaxId = None
    tax_treatment: TaxTreatment = TaxTreatment.STANDARD
    tax_exemption_reason: Reason = Field(None, description="Required when tax_treatment is exempt")
    billing_email: BillingEmail = None
    cc_emails: CcEmails = []
    auto_send: Flag = False


class AccountPatch(Patch):
    """Only the fields sent change; `billing_day: null` means anniversary billing."""

    NULLABLE = frozenset(
        {"billing_day", "billing_address", "tax_id", "tax_exemption_reason", "billing_email"}
    )

    name: Name | None = None
    email: Email | None = None
    currency: Currency | None = None
    billing_day: BillingDay | None = None
    partial_charges: PartialCharges | None = None
    invoice_grouping: InvoiceGrouping | None = None
    payment_terms_days: PaymentTerms | None = None
    tax_rate: TaxRate | None = None
    status: AccountStatus | None = None
    billing_address: AddressIn | None = Field(None, description="null: no address")
    tax_id: TaxId = None
    tax_treatment: TaxTreatment | None = None
    tax_exemption_reason: Reason = None
    billing_email: BillingEmail = None
    cc_emails: CcEmails | None = None
    auto_send: Flag | None = None


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
    billing_address: AddressOut
    tax_id: str | None
    tax_treatment: TaxTreatment
    tax_exemption_reason: str | None
    billing_email: str | None
    cc_emails: list[str]
    auto_send: bool


# --- subscriptions ------------------------------------------------------------------------


class SubscriptionIn(Input):
    account_id: Id
    pricing_option_id: Id
    quantity: Quantity
    start_date: Day
    auto_renew: Flag | None = Field(None, description="Default: the pricing option's")


class CancelIn(Input):
    at: CancelAt


class SubscriptionOut(BaseModel):
    id: int
    account_id: int
    pricing_option_id: int = Field(
        description="The option in force today (on the start date, for one not started yet)"
    )
    quantity: int = Field(
        description="The quantity in force today (on the start date, for one not started yet)"
    )
    start_date: date
    auto_renew: bool
    status: SubscriptionStatus
    term_end: date | None
    end_date: date | None
    next_charge_date: date | None


# --- changes ------------------------------------------------------------------------------

When = Annotated[
    str,
    NotEmpty,
    Field(
        max_length=20,
        description='"now", "end_of_period" (the end of the billing period that contains '
        'today) or a date "YYYY-MM-DD" on or after today and the start date',
        examples=["now", "end_of_period", "2027-04-10"],
    ),
]


class ChangeIn(Input):
    """A field left out (or null) stays as it is; at least one of them is needed."""

    quantity: Quantity | None = None
    pricing_option_id: Id | None = Field(
        None,
        description="An option with the same currency, billing period, billing type, "
        "billing_day and anniversary_billing",
    )
    effective: When = "now"


class ChangeOut(BaseModel):
    id: int
    subscription_id: int
    effective_date: date
    quantity: int | None
    pricing_option_id: int | None
    created_at: datetime
    created_by: str
    withdrawable: bool = Field(description="Its effective date is still ahead: it can be deleted")


# --- invoices -----------------------------------------------------------------------------


class ItemOut(BaseModel):
    subscription_id: int
    kind: ChargeKind
    description: str
    explanation: str = Field(
        description="The amount's arithmetic in words",
        examples=["5 added × 30.00 × 21/31 days (11–31 Mar 2027)"],
    )
    period_start: date
    period_end: date = Field(description="Inclusive: the last day the item covers")
    quantity: int | str = Field(
        description="Units billed (a number); a usage item's is the exact sum of its "
        "records, a decimal string",
        examples=[10, "420.5"],
    )
    unit_price: Amount
    proration: Amount
    amount: Amount
    taxable: bool = Field(description="Whether its product is taxed")
    tax_rate: Amount = Field(
        description="The rate (%) applied to it: 0 for an untaxed line, and under an exempt "
        "or reverse-charge treatment; a correction's repeats the invoice it corrects",
        examples=["24.00"],
    )
    corrects_invoice_id: int | None = Field(
        description="An adjustment's: the invoice that first billed the period it corrects"
    )
    meter: str | None = Field(
        default=None, description="A usage item's: the code of the meter it bills"
    )


class DocumentSellerOut(BaseModel):
    legal_name: str
    address: AddressOut
    tax_id: str | None
    registration: str | None
    iban: str | None
    bic: str | None
    bank_details: str | None
    footer: str | None


class BuyerOut(BaseModel):
    name: str
    address: AddressOut
    tax_id: str | None
    tax_exemption_reason: str | None


class TaxLineOut(BaseModel):
    """One rate of a document: the sum of its lines at that rate, and its tax."""

    rate: Amount = Field(examples=["24.00"])
    base: Amount
    tax: Amount


TaxBreakdown = Annotated[
    list[TaxLineOut],
    Field(
        description="One entry per rate, 0 for untaxed lines: bases sum to the subtotal "
        "and taxes to the tax"
    ),
]
DocumentTreatment = Annotated[
    TaxTreatment,
    Field(description="The account's tax treatment when it was (or will be) issued"),
]


class PendingInvoiceOut(BaseModel):
    account_id: int
    type: InvoiceType = Field(description="`credit`: a credit note, with negative totals")
    issue_date: date
    due_date: date
    currency: str
    subtotal: Amount
    tax: Amount
    total: Amount
    tax_treatment: DocumentTreatment
    tax_breakdown: TaxBreakdown
    items: list[ItemOut]


class PendingOut(BaseModel):
    as_of: date
    data: list[PendingInvoiceOut]


class PreviewOut(BaseModel):
    """The subscription's pending documents (invoices and credit notes) if the request
    were made: what confirming it will issue, and when."""

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
    tax_rate: Amount = Field(description="the account's tax rate (%) when it was issued")
    tax_treatment: DocumentTreatment
    tax_breakdown: TaxBreakdown
    seller: DocumentSellerOut | None = Field(
        description="The seller as it was when issued (null: issued before Recur kept it)"
    )
    buyer: BuyerOut | None = Field(
        description="The account as it was when issued (null: issued before Recur kept it)"
    )
    paid_at: datetime | None
    items: list[ItemOut]
    amount_paid: Amount = Field(description="what its allocations settled, signed as the total")
    amount_due: Amount = Field(description="what is still open, signed as the total")
    overdue: bool = Field(description="unpaid or partly paid after its due date (as of today)")
    amount_remaining: Amount | None = Field(
        description="credit notes: the credit not yet applied or refunded; invoices: null"
    )


class GenerateIn(Input):
    subscription_ids: Annotated[list[Id], AtLeastOne] = Field(max_length=1000)


class GenerateOut(BaseModel):
    invoices: list[InvoiceOut]


# --- payments and receivables (SPEC §18) ------------------------------------------------------

# Up to the amount columns' 4 places here; the service checks the currency's own.
MoneyIn = Annotated[Decimal, BeforeValidator(_shared(_money(4))), _amount_schema(4, "125.00")]
Reference = Annotated[str, Field(max_length=rules.REFERENCE_LENGTH)]


class AllocationIn(Input):
    invoice_id: Id
    amount: MoneyIn


class PaymentIn(Input):
    account_id: Id
    amount: MoneyIn
    currency: Currency
    received_on: Day
    method: PaymentMethod
    reference: Reference = ""
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=rules.MAX_ALLOCATIONS)


class AllocationOut(BaseModel):
    invoice_id: int
    amount: Amount


class PaymentOut(BaseModel):
    id: int
    account_id: int
    amount: Amount
    currency: str
    received_on: date
    method: str
    reference: str
    allocations: list[AllocationOut]
    unallocated: Amount = Field(description="what stays on the account as credit")
    created_by: str
    created_at: datetime
    undone_at: datetime | None


class CreditApplyIn(Input):
    invoice_id: Id
    amount: MoneyIn


class RefundIn(Input):
    amount: MoneyIn
    refunded_on: Day
    reference: Reference = ""


class VoidOut(BaseModel):
    invoice: InvoiceOut
    credit_note: InvoiceOut


class CreditApplicationOut(BaseModel):
    id: int = Field(description="`DELETE /credit-applications/{id}` undoes it")
    invoice_id: int
    invoice_number: str
    amount: Amount
    applied_at: datetime


class RefundOut(BaseModel):
    id: int = Field(description="`DELETE /refunds/{id}` undoes it")
    amount: Amount
    refunded_on: date
    reference: str


class CreditNoteUsesOut(BaseModel):
    applications: list[CreditApplicationOut]
    refunds: list[RefundOut]


class BalanceOut(BaseModel):
    currency: str
    invoiced_due: Amount
    credits: Amount
    balance: Amount


class AgingRowOut(BaseModel):
    account_id: int | None
    account_name: str | None
    currency: str
    current: Amount
    days_1_30: Amount = Field(alias="1_30")
    days_31_60: Amount = Field(alias="31_60")
    days_61_90: Amount = Field(alias="61_90")
    over_90: Amount
    total: Amount

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class AgingOut(BaseModel):
    as_of: date
    overall: list[AgingRowOut]
    accounts: list[AgingRowOut]


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
    prev_cursor: str | None = None  # the page before; None on the first page


class ClockIn(Input):
    today: Day


class ClockOut(BaseModel):
    today: date


class StatusOut(BaseModel):
    status: str


# --- delivery by e-mail (docs/delivery.md) ------------------------------------------------


class MailSettingsIn(Input):
    """`password` absent or null keeps the saved one; "" removes it."""

    host: Annotated[str, NotEmpty, Field(max_length=253)]
    port: Annotated[int, Strict(), Field(ge=1, le=65535)]
    security: Annotated[str, NotEmpty, Field(examples=["none", "starttls", "tls"], max_length=10)]
    sender: Annotated[str, NotEmpty, Field(max_length=rules.EMAIL_LENGTH)]
    username: Annotated[str | None, Field(max_length=rules.EMAIL_LENGTH)] = None
    password: Annotated[str | None, Field(max_length=500)] = None


class MailSettingsOut(BaseModel):
    """The password is never shown back: only whether one is set."""

    host: str
    port: int
    security: str
    sender: str
    username: str | None
    password_set: bool


class SellerIn(Input):
    legal_name: Annotated[str, NotEmpty, Field(max_length=identity_rules.LEGAL_NAME_LENGTH)]
    address: AddressIn = AddressIn()
    tax_id: TaxId = None
    registration: Annotated[str | None, Field(max_length=identity_rules.REGISTRATION_LENGTH)] = None
    iban: Annotated[str | None, Field(max_length=50)] = None
    bic: Annotated[str | None, Field(max_length=11)] = None
    bank_details: Annotated[str | None, Field(max_length=identity_rules.BANK_DETAILS_LENGTH)] = (
        Field(None, description="Free text, for an account an IBAN does not name")
    )
    footer: Annotated[str | None, Field(max_length=identity_rules.FOOTER_LENGTH)] = None
    logo_url: Annotated[str | None, Field(max_length=identity_rules.LOGO_URL_LENGTH)] = Field(
        None,
        description="The logo printed on documents: a data: URL of a PNG, JPEG or GIF "
        "image (never a link: nothing is fetched)",
    )


class SellerOut(DocumentSellerOut):
    logo_url: str | None


class SendOut(BaseModel):
    outbox_id: int
    status: str = Field(examples=["queued"])


class DeliveryOut(BaseModel):
    outbox_id: int
    outcome: str = Field(examples=["queued", "sent", "failed"])
    at: datetime
    recipients: str | None
    error: str | None
    attempt: int | None = Field(description="The try's number for its queued e-mail")
    retry: bool = Field(description="A try after a failure")


class MailTemplateIn(Input):
    subject: Annotated[str, Field(max_length=10_000)]
    body: Annotated[str, Field(max_length=10_000)]


class MailTemplateOut(BaseModel):
    kind: str = Field(examples=["invoice", "credit_note", "statement"])
    subject: str
    body: str
    placeholders: list[str]


class StatementSendIn(Input):
    period_from: Day = Field(alias="from")
    period_to: Day = Field(alias="to")


class MonthAmountOut(BaseModel):
    month: str = Field(description="YYYY-MM", examples=["2027-03"])
    total: Amount


class MetricsOut(BaseModel):
    """The business's figures in one currency (SPEC §19). Every figure is null until
    the figures have been computed once in this server process (in the background:
    `refreshing` is then true, ask again shortly); never a zero in their place."""

    currency: str
    as_of: date
    mrr: Amount | None = Field(description="Monthly recurring revenue in force today")
    arr: Amount | None = Field(description="12 × MRR")
    mrr_change: Amount | None = Field(
        description="MRR today less MRR at the end of the month a year ago"
    )
    arr_change: Amount | None
    mrr_by_month: list[MonthAmountOut] | None = Field(
        description="MRR at the end of each of the last 12 months, then today (`total`: the MRR)"
    )
    next_30_days: Amount | None = Field(
        description="Total of the documents the engine would issue in the next 30 days"
    )
    overdue: Amount | None = Field(description="Amounts due past their due date")
    invoiced_by_month: list[MonthAmountOut] | None = Field(
        description="Totals issued per month (credit notes net), the last 12 months"
    )
    computed_at: datetime | None = Field(
        description="When the book was read for these figures: they are computed in the "
        "background and kept until the book changes; null: never computed yet"
    )
    refreshing: bool = Field(
        description="The book (or the day) has changed since `computed_at`, or the figures "
        "were never computed yet (all null): newer figures are being computed"
    )


class ForecastOut(BaseModel):
    """Every document the engine would issue from `as_of` for `months` months, in the
    order they would be issued, each as a pending invoice."""

    as_of: date
    months: int
    data: list[PendingInvoiceOut]


class ForecastJobOut(BaseModel):
    """A whole-book forecast: `running` until `done` (or `failed`, with its `error`);
    its documents at `documents_url` once done."""

    id: int
    as_of: date
    months: int
    status: str = Field(description="`running`, `done` or `failed`")
    requested_by: str
    started_at: datetime
    finished_at: datetime | None
    documents: int
    error: str | None
    documents_url: str


class AuditEventOut(BaseModel):
    """Who did what, when, and from which door (SPEC §19)."""

    id: int
    occurred_at: datetime
    actor: str = Field(description="Who: `user:<e-mail>`, `token:<name>`, `scheduler`, `cli`…")
    door: Door
    action: str = Field(description="What, as `subject.verb`: `account.created`…")
    subject_type: str
    subject_id: int | None
    detail: dict[str, Any]


# --- global search --------------------------------------------------------------------------


class SearchHitOut(BaseModel):
    type: Literal["account", "invoice", "subscription"]
    id: int
    label: str  # an account's name, an invoice's number, a subscription's product and id
    detail: str  # an account's e-mail; the account of an invoice or subscription


class SearchOut(BaseModel):
    query: str
    data: list[SearchHitOut]
    accounts_total: int  # every match, of which at most 10 are in `data`
    invoices_total: int
