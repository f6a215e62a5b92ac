"""The catalogue as the services hand it to the doors: products and their pricing options."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from recur.domain.usage import Meter


@dataclass(frozen=True, slots=True)
class ProductRef:
    """What a pricing option shows of its product."""

    id: int
    sku: str
    name: str
    taxable: bool


@dataclass(frozen=True, slots=True)
class PricingOption:
    id: int
    product: ProductRef
    code: str
    billing_period: str  # a BillingCycle value
    billing_type: str  # a BillingType value
    unit_price: Decimal
    setup_fee: Decimal
    currency: str
    term_months: int
    auto_renew: bool
    billing_day: int | None
    anniversary_billing: bool
    active: bool
    # Usage options (SPEC §13); other options have neither.
    usage_delay_days: int = 0
    meters: tuple[Meter, ...] = ()

    @property
    def product_id(self) -> int:
        return self.product.id


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    sku: str
    name: str
    taxable: bool
    created_at: datetime  # aware (UTC)
    pricing_options: tuple[PricingOption, ...]

    @property
    def ref(self) -> ProductRef:
        return ProductRef(self.id, self.sku, self.name, self.taxable)
