"""The catalogue: products and their pricing options, read and written."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, selectinload

from recur.db.models import Meter as MeterRow
from recur.db.models import PricingOption as OptionRow
from recur.db.models import Product as ProductRow
from recur.db.models import Subscription as SubscriptionRow
from recur.db.models import SubscriptionChange as ChangeRow
from recur.db.repositories.pages import SortField, Sorting, paginate
from recur.db.repositories.usage import meter_record
from recur.db.repositories.utc import as_utc
from recur.domain.pages import Page
from recur.domain.products import PricingOption, Product, ProductRef
from recur.domain.usage import MeterSpec


def _ref(row: ProductRow) -> ProductRef:
    return ProductRef(row.id, row.sku, row.name, row.taxable)


def option_record(row: OptionRow, product: ProductRef | None = None) -> PricingOption:
    """The option's record; its product's reference is `product`, else its loaded row's.
    Its meters are loaded with it (`OptionRow.meters` is a select-in relationship)."""
    return PricingOption(
        id=row.id,
        product=_ref(row.product) if product is None else product,
        code=row.code,
        billing_period=row.billing_period,
        billing_type=row.billing_type,
        unit_price=row.unit_price,
        setup_fee=row.setup_fee,
        currency=row.currency,
        term_months=row.term_months,
        auto_renew=row.auto_renew,
        billing_day=row.billing_day,
        anniversary_billing=row.anniversary_billing,
        active=row.active,
        usage_delay_days=row.usage_delay_days,
        meters=tuple(meter_record(meter) for meter in row.meters),
    )


def _record(row: ProductRow) -> Product:
    """The product with its options (loaded with it: selectinload, or just written)."""
    ref = _ref(row)
    return Product(
        id=row.id,
        sku=row.sku,
        name=row.name,
        taxable=row.taxable,
        created_at=as_utc(row.created_at),
        pricing_options=tuple(option_record(o, ref) for o in row.pricing_options),
    )


_WITH_OPTIONS = selectinload(ProductRow.pricing_options)


def get_product(session: Session, product_id: int) -> Product | None:
    row = session.scalar(
        select(ProductRow).where(ProductRow.id == product_id).options(_WITH_OPTIONS)
    )
    return None if row is None else _record(row)


SORTING = Sorting(
    {
        "id": SortField(ProductRow.id),
        "name": SortField(ProductRow.name),
        "sku": SortField(ProductRow.sku),
    },
    default="id",
    id=ProductRow.id,
)


def list_products(
    session: Session, limit: int, cursor: str | None, sort: str | None = None
) -> Page[Product]:
    """Products in `sort` order (creation order by default), each with its options
    (one more query per page)."""
    query = select(ProductRow).options(_WITH_OPTIONS)
    return paginate(session, query, limit, cursor, _record, SORTING, sort)


def sku_taken(session: Session, sku: str) -> bool:
    return session.scalar(select(ProductRow.id).where(ProductRow.sku == sku)) is not None


def add_product(
    session: Session,
    sku: str,
    name: str,
    taxable: bool,
    options: Sequence[Mapping[str, Any]],
    meters: Sequence[Sequence[MeterSpec]],
) -> Product:
    """A new product and its pricing options, from validated column values, each option
    with its meters (none unless billed by usage)."""
    row = ProductRow(sku=sku, name=name, taxable=taxable, pricing_options=_options(options, meters))
    session.add(row)
    session.flush()
    return _record(row)


def _options(
    options: Sequence[Mapping[str, Any]], meters: Sequence[Sequence[MeterSpec]]
) -> list[OptionRow]:
    return [
        OptionRow(**option, meters=[MeterRow(**asdict(meter)) for meter in option_meters])
        for option, option_meters in zip(options, meters, strict=True)
    ]


def update_product(
    session: Session, product_id: int, name: str | None, taxable: bool | None
) -> Product | None:
    row = session.get(ProductRow, product_id, with_for_update=True)
    if row is None:
        return None
    if name is not None:
        row.name = name
    if taxable is not None:
        row.taxable = taxable
    session.flush()
    return _record(row)


def lock_product_codes(session: Session, product_id: int) -> list[str] | None:
    """The product's option codes, its row locked; None if there is no such product."""
    if session.get(ProductRow, product_id, with_for_update=True) is None:
        return None
    return list(session.scalars(select(OptionRow.code).where(OptionRow.product_id == product_id)))


def add_pricing_options(
    session: Session,
    product_id: int,
    options: Sequence[Mapping[str, Any]],
    meters: Sequence[Sequence[MeterSpec]],
) -> Product:
    """New options, from validated column values, for the product (locked by the caller)."""
    rows = _options(options, meters)
    for row in rows:
        row.product_id = product_id
    session.add_all(rows)
    session.flush()
    product = session.scalar(
        select(ProductRow)
        .where(ProductRow.id == product_id)
        .options(_WITH_OPTIONS)
        .execution_options(populate_existing=True)
    )
    assert product is not None  # locked by the caller
    return _record(product)


def lock_pricing_option(session: Session, option_id: int) -> PricingOption | None:
    row = session.scalar(
        select(OptionRow)
        .where(OptionRow.id == option_id)
        .options(selectinload(OptionRow.product))
        .with_for_update(of=OptionRow)
    )
    return None if row is None else option_record(row)


def option_in_use(session: Session, option_id: int) -> bool:
    """Whether a subscription starts on the option or a change moves one to it."""
    started = exists().where(SubscriptionRow.pricing_option_id == option_id)
    switched = exists().where(ChangeRow.pricing_option_id == option_id)
    return bool(session.scalar(select(started | switched)))


def set_option_active(session: Session, option_id: int, active: bool) -> PricingOption:
    return _set_option(session, option_id, {"active": active})


def set_option_prices(session: Session, option_id: int, prices: Mapping[str, Any]) -> PricingOption:
    return _set_option(session, option_id, prices)


def _set_option(session: Session, option_id: int, values: Mapping[str, Any]) -> PricingOption:
    session.execute(update(OptionRow).where(OptionRow.id == option_id).values(**values))
    row = session.scalar(
        select(OptionRow)
        .where(OptionRow.id == option_id)
        .options(selectinload(OptionRow.product))
        .execution_options(populate_existing=True)
    )
    assert row is not None  # locked by the caller
    return option_record(row)


def get_pricing_option(session: Session, option_id: int) -> PricingOption | None:
    row = session.scalar(
        select(OptionRow).where(OptionRow.id == option_id).options(selectinload(OptionRow.product))
    )
    return None if row is None else option_record(row)
