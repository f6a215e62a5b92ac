"""The catalogue: products and their pricing options."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from recur.db.audit import action, record
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


@dataclass(frozen=True)
class CheckedOption:
    """A pricing option that passed every rule: its column values and its meters."""

    columns: dict[str, Any]
    meters: tuple[MeterSpec, ...]

    @property
    def code(self) -> str:
        return str(self.columns["code"])


@dataclass(frozen=True)
class ProductChanges:
    """What an edit of a product sets; None leaves a field as it is."""

    name: str | None = None
    taxable: bool | None = None


@dataclass(frozen=True)
class PriceChanges:
    """New prices for a pricing option no subscription uses yet; None keeps a price."""

    unit_price: Decimal | None = None
    setup_fee: Decimal | None = None


MAX_PRICING_OPTIONS = 50  # per request, as the API's schema says


def check_pricing_option(spec: PricingOptionSpec) -> CheckedOption:
    """One option checked against every rule (the back office checks each of its rows
    with it, to show all of a form's errors at once; the services check with it again)."""
    columns = _pricing_option(spec)
    meters = check_usage_option(
        spec.billing_period, spec.billing_type, spec.unit_price, spec.meters, spec.usage_delay_days
    )
    return CheckedOption(columns, meters)


def check_new_codes(codes: Sequence[str], taken: Iterable[str] = ()) -> None:
    """Pricing option codes are unique per product: among the new ones and the `taken`."""
    seen = set(taken)
    for code in codes:
        if code in seen:
            raise InvalidInput(
                "duplicate_pricing_code",
                f"pricing option codes must be unique per product: {code!r} is used twice",
            )
        seen.add(code)


def _check_options(specs: Sequence[PricingOptionSpec]) -> list[CheckedOption]:
    if not specs:
        raise InvalidInput("missing_pricing_options", "a product needs at least one pricing option")
    if len(specs) > MAX_PRICING_OPTIONS:
        raise InvalidInput(
            "invalid_pricing_options",
            f"at most {MAX_PRICING_OPTIONS} pricing options are added at once",
        )
    return [check_pricing_option(spec) for spec in specs]


def check_product_name(name: str) -> str:
    return check_text(name, "name", NAME_LENGTH)


@action
def create_product(db: Database, spec: ProductSpec, actor: str) -> Product:
    options = _check_options(spec.pricing_options)
    check_new_codes([o.code for o in options])
    sku = check_text(spec.sku, "sku", CODE_LENGTH)
    name = check_product_name(spec.name)

    def work(session: Session) -> Product:
        if stored.sku_taken(session, sku):
            raise Conflict("sku_taken", f"a product with SKU {sku!r} already exists")
        product = stored.add_product(
            session,
            sku,
            name,
            spec.taxable,
            [o.columns for o in options],
            [o.meters for o in options],
        )
        record(session, actor, "product.created", "product", product.id, sku=sku)
        return product

    return db.run(work)


@action
def update_product(db: Database, product_id: int, changes: ProductChanges, actor: str) -> Product:
    """A product's name and taxability. Issued documents keep what they were issued with
    (each item stores whether it was taxable); documents not yet issued, pending ones
    included, follow the product as it is when they are issued."""
    name = None if changes.name is None else check_product_name(changes.name)
    if name is None and changes.taxable is None:
        raise InvalidInput("nothing_to_change", "send name or taxable to change a product")

    def work(session: Session) -> Product:
        product = stored.update_product(session, product_id, name, changes.taxable)
        if product is None:
            raise NotFound("product_not_found", f"product {product_id} does not exist")
        detail = {"name": name, "taxable": changes.taxable}
        record(
            session,
            actor,
            "product.updated",
            "product",
            product_id,
            **{k: v for k, v in detail.items() if v is not None},
        )
        return product

    return db.run(work)


@action
def add_pricing_options(
    db: Database, product_id: int, specs: Sequence[PricingOptionSpec], actor: str
) -> Product:
    """New pricing options for a product already sold; its other options are untouched."""
    options = _check_options(specs)
    codes = [o.code for o in options]
    check_new_codes(codes)

    def work(session: Session) -> Product:
        # Locked: two additions of the same code wait for each other, and the second is
        # refused with the message below rather than by the unique key.
        taken = stored.lock_product_codes(session, product_id)
        if taken is None:
            raise NotFound("product_not_found", f"product {product_id} does not exist")
        check_new_codes(codes, taken)
        product = stored.add_pricing_options(
            session, product_id, [o.columns for o in options], [o.meters for o in options]
        )
        record(session, actor, "product.pricing_options_added", "product", product_id, codes=codes)
        return product

    return db.run(work)


@action
def archive_pricing_option(
    db: Database, product_id: int, option_id: int, actor: str
) -> PricingOption:
    """No new subscription, nor plan switch, may go to the option; the subscriptions
    already on it go on renewing and billing as before."""
    return _set_on_sale(db, product_id, option_id, False, actor)


@action
def unarchive_pricing_option(
    db: Database, product_id: int, option_id: int, actor: str
) -> PricingOption:
    """The option is sold again."""
    return _set_on_sale(db, product_id, option_id, True, actor)


def _set_on_sale(
    db: Database, product_id: int, option_id: int, active: bool, actor: str
) -> PricingOption:
    def work(session: Session) -> PricingOption:
        _lock_option(session, product_id, option_id)
        option = stored.set_option_active(session, option_id, active)
        action = "pricing_option.unarchived" if active else "pricing_option.archived"
        record(session, actor, action, "pricing_option", option_id, product_id=product_id)
        return option

    return db.run(work)


@action
def change_prices(
    db: Database, product_id: int, option_id: int, changes: PriceChanges, actor: str
) -> PricingOption:
    """Correct the prices of an option no subscription has used. Once one has, its prices
    never change (SPEC §10): a new price is a new option, the old one archived, and
    subscriptions move by a plan switch."""
    prices = {
        name: check_money(value, name)
        for name, value in (("unit_price", changes.unit_price), ("setup_fee", changes.setup_fee))
        if value is not None
    }
    if not prices:
        raise InvalidInput("nothing_to_change", "send unit_price or setup_fee to change prices")

    def work(session: Session) -> PricingOption:
        option = _lock_option(session, product_id, option_id)
        if stored.option_in_use(session, option_id):
            raise Conflict(
                "pricing_option_in_use",
                f"pricing option {option_id} ({option.code}) is used by subscriptions: its "
                "prices never change. Archive it and add an option with the new prices",
            )
        check_usage_option(
            option.billing_period,
            option.billing_type,
            prices.get("unit_price", option.unit_price),
            tuple(MeterSpec(m.code, m.name, m.unit, m.unit_price) for m in option.meters),
            option.usage_delay_days,
        )
        changed = stored.set_option_prices(session, option_id, prices)
        record(
            session,
            actor,
            "pricing_option.prices_changed",
            "pricing_option",
            option_id,
            **{name: str(value) for name, value in prices.items()},
        )
        return changed

    return db.run(work)


def check_on_sale(option: PricingOption) -> None:
    """An archived option takes no new subscription nor plan switch (those already on it
    go on): the one refusal creating a subscription and changing one both give."""
    if not option.active:
        raise Conflict(
            "pricing_option_inactive",
            f"pricing option {option.id} ({option.product.name}, {option.code}) is archived: "
            "it takes no new subscriptions; choose an option on sale",
        )


def _lock_option(session: Session, product_id: int, option_id: int) -> PricingOption:
    """The option, locked for the transaction; NotFound unless it is the product's."""
    option = stored.lock_pricing_option(session, option_id)
    if option is None or option.product_id != product_id:
        raise NotFound(
            "pricing_option_not_found",
            f"pricing option {option_id} does not exist for product {product_id}",
        )
    return option


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
