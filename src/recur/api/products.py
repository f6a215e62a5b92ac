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


@router.post("", status_code=201, response_model=ProductOut, responses=documented(403, 409))
def create_product(
    body: ProductIn, request: Request, ctx: Ctx, caller: Admin, key: IdempotencyKey = None
) -> Response:
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


@router.get("", response_model=ListOut[ProductOut], responses=documented())
def list_products(
    ctx: Ctx, limit: Limit = 50, cursor: Cursor = None, sort: Sort = None
) -> dict[str, Any]:
    """Sorts: `id` (the default: creation order), `name`, `sku`."""
    return present.page(catalogue.list_products(ctx.db, limit, cursor, sort), present.product)


@router.get("/{product_id}", response_model=ProductOut, responses=documented(404))
def get_product(product_id: IdPath, ctx: Ctx) -> ProductOut:
    return present.product(catalogue.get_product(ctx.db, product_id))
