"""The catalogue: products and their pricing options."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from recur.db.audit import record
from recur.db.repositories import products as stored
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.pages import Page
from recur.domain.products import PricingOption, Product
from recur.domain.usage import MeterSpec
from recur.services.meters import check_usage_option
from recur.services.validation import (
    CODE_LENGTH,
    MAX_TERM_MONTHS,
    NAME_LENGTH,
    check_billing_day,
    check_currency,
    check_money,
    check_text,
)


@dataclass(frozen=True)
class PricingOptionSpec:
    code: str
    billing_period: BillingCycle
    billing_type: BillingType
    unit_price: Decimal
    currency: str
    setup_fee: Decimal = Decimal(0)
    term_months: int | None = None  # default: the billing period
    auto_renew: bool = True
    billing_day: int | None = None
    anniversary_billing: bool = False  # "exclude from pro-rata" (SPEC §12)
    meters: tuple[MeterSpec, ...] = ()  # usage options (SPEC §13)
    usage_delay_days: int = 0


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    pricing_options: list[PricingOptionSpec] = field(default_factory=list)
    taxable: bool = True


def create_product(db: Database, spec: ProductSpec, actor: str) -> Product:
    options = [_pricing_option(o) for o in spec.pricing_options]
    meters = [
        check_usage_option(
            o.billing_period, o.billing_type, o.unit_price, o.meters, o.usage_delay_days
        )
        for o in spec.pricing_options
    ]
    if not options:
        raise InvalidInput("missing_pricing_options", "a product needs at least one pricing option")
    codes = [o["code"] for o in options]
    if len(set(codes)) != len(codes):
        raise InvalidInput(
            "duplicate_pricing_code", "pricing option codes must be unique per product"
        )
    sku = check_text(spec.sku, "sku", CODE_LENGTH)
    name = check_text(spec.name, "name", NAME_LENGTH)

    def work(session: Session) -> Product:
        if stored.sku_taken(session, sku):
            raise Conflict("sku_taken", f"a product with SKU {sku!r} already exists")
        product = stored.add_product(session, sku, name, spec.taxable, options, meters)
        record(session, actor, "product.created", "product", product.id, sku=sku)
        return product

    return db.run(work)


def _pricing_option(spec: PricingOptionSpec) -> dict[str, Any]:
    """The option's validated column values."""
    code = check_text(spec.code, "code", CODE_LENGTH)
    cycle = BillingCycle(spec.billing_period)
    term = spec.term_months if spec.term_months is not None else cycle.months
    if cycle is BillingCycle.ONE_TIME:
        term = 0
    elif isinstance(term, bool) or not 1 <= term <= MAX_TERM_MONTHS or term % cycle.months:
        raise InvalidInput(
            "invalid_term_months",
            f"term_months must be a positive multiple of the billing period ({cycle.months}), "
            f"at most {MAX_TERM_MONTHS}",
        )
    return {
        "code": code,
        "billing_period": cycle.value,
        "billing_type": BillingType(spec.billing_type).value,
        "unit_price": check_money(spec.unit_price, "unit_price"),
        "setup_fee": check_money(spec.setup_fee, "setup_fee"),
        "currency": check_currency(spec.currency),
        "term_months": term,
        "auto_renew": spec.auto_renew,
        "billing_day": check_billing_day(spec.billing_day),
        "anniversary_billing": _check_anniversary(spec),
        "usage_delay_days": spec.usage_delay_days,
    }


def _check_anniversary(spec: PricingOptionSpec) -> bool:
    """An option billed on each subscription's own start day has no billing day of its
    own (SPEC §12)."""
    if spec.anniversary_billing and spec.billing_day is not None:
        raise InvalidInput(
            "invalid_anniversary_billing",
            "anniversary_billing bills on each subscription's start day: "
            "it cannot be combined with a billing_day",
        )
    return spec.anniversary_billing


def get_product(db: Database, product_id: int) -> Product:
    with db.read() as session:
        product = stored.get_product(session, product_id)
    if product is None:
        raise NotFound("product_not_found", f"product {product_id} does not exist")
    return product


def list_products(
    db: Database, limit: int = 50, cursor: str | None = None, sort: str | None = None
) -> Page[Product]:
    with db.read() as session:
        return stored.list_products(session, limit, cursor, sort)


def get_pricing_option(db: Database, option_id: int) -> PricingOption:
    with db.read() as session:
        option = stored.get_pricing_option(session, option_id)
    if option is None:
        raise NotFound("pricing_option_not_found", f"pricing option {option_id} does not exist")
    return option
