"""Usage (SPEC §13): meters, usage records and what a batch of them amounts to."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from recur.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """A meter as given, before it is stored."""

    code: str
    name: str
    unit: str
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Meter:
    id: int
    pricing_option_id: int
    code: str
    name: str
    unit: str
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class UsageIn:
    """A record as sent, read and checked in itself (not yet against the database)."""

    id: str
    subscription_id: int
    meter: str  # the meter's code
    quantity: Decimal
    occurred_on: date

    def same_content(self, other: "UsageIn") -> bool:
        """Sent again unchanged (a duplicate), not reused for another record (a conflict).
        Quantities compare as numbers: "120.50" is 120.5."""
        return (
            self.subscription_id == other.subscription_id
            and self.meter == other.meter
            and self.quantity == other.quantity
            and self.occurred_on == other.occurred_on
        )


@dataclass(frozen=True, slots=True)
class UsageTerms:
    """What a record of a subscription is checked against: its days of service and
    its option's meters (code → meter id; none unless the option is billed by usage)."""

    subscription_id: int
    start_date: date
    end_date: date | None  # the first day without service
    meter_ids: dict[str, int]


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """A stored record, as the doors show it."""

    id: str
    subscription_id: int
    meter: str
    unit: str
    quantity: Decimal
    occurred_on: date
    received_on: date
    invoice_id: int | None  # the invoice that billed it


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the record at `index` (0-based, its position in the batch) is refused."""

    index: int
    record_id: str
    error: DomainError


@dataclass(frozen=True, slots=True)
class MeterUsage:
    """A meter's records in one usage period: the sum and how many they are."""

    period_start: date
    period_end: date  # exclusive
    meter: str
    unit: str
    unit_price: Decimal
    quantity: Decimal
    records: int


def quantity_text(quantity: Decimal) -> str:
    """A quantity as people write it: "120.5", "300", never "3E+2" nor "300.000000"."""
    return format(quantity.normalize(), "f")
