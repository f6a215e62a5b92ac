"""Customer accounts as the services hand them to the doors."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from recur.domain.identity import NO_ADDRESS, Address, TaxTreatment


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What a subscription or an invoice shows of its account."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    email: str
    currency: str
    billing_day: int | None
    partial_charges: str  # a PartialCharges value
    invoice_grouping: str  # an InvoiceGrouping value
    payment_terms_days: int
    tax_rate: Decimal
    status: str  # an AccountStatus value
    created_at: datetime  # aware (UTC)
    # The buyer's identity (SPEC §17); defaults so records built before it stay valid.
    billing_address: Address = NO_ADDRESS
    tax_id: str | None = None
    tax_treatment: str = TaxTreatment.STANDARD.value  # a TaxTreatment value
    tax_exemption_reason: str | None = None  # set exactly when exempt
    # Delivery by e-mail (SPEC §17): to `billing_email` (None: `email`) with `cc_emails`;
    # `auto_send` queues every document issued to it.
    billing_email: str | None = None
    cc_emails: tuple[str, ...] = ()
    auto_send: bool = False

    @property
    def ref(self) -> AccountRef:
        return AccountRef(self.id, self.name)

    @property
    def send_to(self) -> str:
        return self.billing_email or self.email

    @property
    def recipients(self) -> tuple[str, ...]:
        return (self.send_to, *self.cc_emails)


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """What the accounts list shows beside each account."""

    open_balance: Decimal
    next_invoice_date: date | None  # the earliest planned issue date of its subscriptions
