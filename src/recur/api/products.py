"""/products: the catalogue (creating products needs an admin token)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Admin, Ctx
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.params import Cursor, IdPath, Limit, Sort
from recur.api.schemas import (
    ListOut,
    PricingOptionIn,
    PricingOptionOut,
    PricingOptionPatch,
    PricingOptionsIn,
    ProductIn,
    ProductOut,
    ProductPatch,
)
from recur.domain.usage import MeterSpec
from recur.services import catalogue

router = APIRouter(prefix="/products", tags=["products"], route_class=ApiRoute)


@router.post(
    "",
    operation_id="create_product",
    summary="Create a product",
    status_code=201,
    response_model=ProductOut,
    responses=documented(403, 409),
)
def create_product(
    body: ProductIn, request: Request, ctx: Ctx, caller: Admin, key: IdempotencyKey = None
) -> Response:
    """A product with one or more pricing options (admins only). Prices are decimal strings."""
    spec = catalogue.ProductSpec(
        sku=body.sku,
        name=body.name,
        taxable=body.taxable,
        pricing_options=[_option_spec(o) for o in body.pricing_options],
    )
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        201,
        lambda: present.product(catalogue.create_product(ctx.db, spec, caller.actor)),
    )


@router.get(
    "",
    operation_id="list_products",
    summary="List products",
    response_model=ListOut[ProductOut],
    responses=documented(),
)
def list_products(
    ctx: Ctx, limit: Limit = 50, cursor: Cursor = None, sort: Sort = None
) -> dict[str, Any]:
    """The catalogue, a page at a time (`next_cursor` fetches the next page). Sorts: `id`
    (the default: creation order), `name`, `sku`."""
    return present.page(catalogue.list_products(ctx.db, limit, cursor, sort), present.product)


@router.get(
    "/{product_id}",
    operation_id="get_product",
    summary="Get a product",
    response_model=ProductOut,
    responses=documented(404),
)
def get_product(product_id: IdPath, ctx: Ctx) -> ProductOut:
    """One product and its pricing options."""
    return present.product(catalogue.get_product(ctx.db, product_id))


@router.patch(
    "/{product_id}",
    operation_id="update_product",
    summary="Edit a product's name or taxability",
    response_model=ProductOut,
    responses=documented(403, 404),
)
def update_product(
    product_id: IdPath,
    body: ProductPatch,
    request: Request,
    ctx: Ctx,
    caller: Admin,
    key: IdempotencyKey = None,
) -> Response:
    """Only the fields sent change (`null` is refused). Issued invoices keep the
    taxability their items were issued with; every document issued from now on,
    those shown as pending included, follows the product's."""
    changes = catalogue.ProductChanges(**body.changes())
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        200,
        lambda: present.product(
            catalogue.update_product(ctx.db, product_id, changes, caller.actor)
        ),
    )


@router.post(
    "/{product_id}/pricing-options",
    operation_id="add_pricing_options",
    summary="Add pricing options to a product",
    status_code=201,
    response_model=ProductOut,
    responses=documented(403, 404),
)
def add_pricing_options(
    product_id: IdPath,
    body: PricingOptionsIn,
    request: Request,
    ctx: Ctx,
    caller: Admin,
    key: IdempotencyKey = None,
) -> Response:
    """Added together or not at all, by the same rules as a new product's options;
    codes stay unique within the product. Answers the product with all its options."""
    specs = [_option_spec(o) for o in body.pricing_options]
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        201,
        lambda: present.product(
            catalogue.add_pricing_options(ctx.db, product_id, specs, caller.actor)
        ),
    )


@router.patch(
    "/{product_id}/pricing-options/{option_id}",
    operation_id="update_pricing_option_prices",
    summary="Correct the prices of an unused pricing option",
    response_model=PricingOptionOut,
    responses=documented(403, 404, 409),
)
def update_pricing_option_prices(
    product_id: IdPath,
    option_id: IdPath,
    body: PricingOptionPatch,
    request: Request,
    ctx: Ctx,
    caller: Admin,
    key: IdempotencyKey = None,
) -> Response:
    """`unit_price` and `setup_fee` of an option no subscription has used yet. Once a
    subscription uses it its prices never change (`409 pricing_option_in_use`): archive it
    and add an option with the new prices; subscriptions move by a plan switch."""
    changes = catalogue.PriceChanges(**body.changes())
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        200,
        lambda: present.pricing_option(
            catalogue.change_prices(ctx.db, product_id, option_id, changes, caller.actor)
        ),
    )


@router.post(
    "/{product_id}/pricing-options/{option_id}/archive",
    operation_id="archive_pricing_option",
    summary="Archive a pricing option",
    response_model=PricingOptionOut,
    responses=documented(403, 404),
)
def archive_pricing_option(
    product_id: IdPath, option_id: IdPath, ctx: Ctx, caller: Admin
) -> PricingOptionOut:
    """It takes no new subscriptions nor plan switches (`409 pricing_option_inactive`);
    subscriptions already on it go on renewing and billing. `active` becomes false.
    Archiving an archived option changes nothing more."""
    return present.pricing_option(
        catalogue.archive_pricing_option(ctx.db, product_id, option_id, caller.actor)
    )


@router.post(
    "/{product_id}/pricing-options/{option_id}/unarchive",
    operation_id="unarchive_pricing_option",
    summary="Sell an archived pricing option again",
    response_model=PricingOptionOut,
    responses=documented(403, 404),
)
def unarchive_pricing_option(
    product_id: IdPath, option_id: IdPath, ctx: Ctx, caller: Admin
) -> PricingOptionOut:
    """`active` becomes true: new subscriptions and plan switches may go to it again."""
    return present.pricing_option(
        catalogue.unarchive_pricing_option(ctx.db, product_id, option_id, caller.actor)
    )


def _option_spec(body: PricingOptionIn) -> catalogue.PricingOptionSpec:
    return catalogue.PricingOptionSpec(
        **body.model_dump(exclude={"meters"}),
        meters=tuple(MeterSpec(**m.model_dump()) for m in body.meters),
    )
