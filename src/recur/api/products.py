"""/products: the catalogue (creating products needs an admin token)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Admin, Ctx
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.params import Cursor, IdPath, Limit, Sort
from recur.api.schemas import ListOut, ProductIn, ProductOut
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
        pricing_options=[
            catalogue.PricingOptionSpec(
                **o.model_dump(exclude={"meters"}),
                meters=tuple(MeterSpec(**m.model_dump()) for m in o.meters),
            )
            for o in body.pricing_options
        ],
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
