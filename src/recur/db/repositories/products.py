"""The catalogue: products and their pricing options, read and written."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from recur.db.models import Meter as MeterRow
from recur.db.models import PricingOption as OptionRow
from recur.db.models import Product as ProductRow
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
    row = ProductRow(
        sku=sku,
        name=name,
        taxable=taxable,
        pricing_options=[
            OptionRow(**option, meters=[MeterRow(**asdict(meter)) for meter in option_meters])
            for option, option_meters in zip(options, meters, strict=True)
        ],
    )
    session.add(row)
    session.flush()
    return _record(row)


def get_pricing_option(session: Session, option_id: int) -> PricingOption | None:
    row = session.scalar(
        select(OptionRow).where(OptionRow.id == option_id).options(selectinload(OptionRow.product))
    )
    return None if row is None else option_record(row)
