"""The seller's settings (SPEC §17): read by every caller, replaced by admins only.
docs/identity.md."""

from fastapi import APIRouter

from recur.api import presenters as present
from recur.api.deps import Admin, Ctx
from recur.api.errors import ApiRoute, documented
from recur.api.schemas import SellerIn, SellerOut
from recur.domain.identity import Seller
from recur.services import seller

router = APIRouter(tags=["seller"], route_class=ApiRoute)


@router.get(
    "/seller",
    operation_id="get_seller",
    summary="Get the seller",
    response_model=SellerOut,
    responses=documented(),
)
def get_seller(ctx: Ctx) -> SellerOut:
    """The seller's identity printed on every document."""
    return present.seller(seller.seller(ctx.db))


@router.put(
    "/seller",
    operation_id="update_seller",
    summary="Set the seller",
    response_model=SellerOut,
    responses=documented(403),
)
def put_seller(body: SellerIn, ctx: Ctx, admin: Admin) -> SellerOut:
    """Replace the seller's identity (admins only); documents already issued keep theirs."""
    spec = Seller(
        legal_name=body.legal_name,
        address=body.address.domain(),
        tax_id=body.tax_id,
        registration=body.registration,
        iban=body.iban,
        bic=body.bic,
        bank_details=body.bank_details,
        footer=body.footer,
    )
    return present.seller(seller.update_seller(ctx.db, spec, admin.actor))
