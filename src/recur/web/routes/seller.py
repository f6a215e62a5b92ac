"""The seller's settings in the back office (administrators only)."""

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.domain.errors import DomainError
from recur.domain.identity import Seller
from recur.domain.users import User
from recur.services import seller
from recur.web.address import address_fields, address_values, read_address
from recur.web.auth import admin, check_csrf, ctx
from recur.web.posted import Posted
from recur.web.templating import flash, render

router = APIRouter()

TEXTS = (
    "legal_name",
    "tax_id",
    "registration",
    "iban",
    "bic",
    "bank_details",
    "footer",
    "logo_url",
)
FIELDS = set(TEXTS) | address_fields("address")


@router.get("/settings/seller")
def seller_form(request: Request, user: User = Depends(admin)) -> Response:
    saved = seller.seller(ctx(request).db)
    values = {name: getattr(saved, name) or "" for name in TEXTS}
    return _page(request, values | address_values(saved.address, "address"), {})


@router.post("/settings/seller", dependencies=[Depends(check_csrf)])
def seller_save(request: Request, form: Posted, user: User = Depends(admin)) -> Response:
    """A plain `def` route: the service's transaction runs in the thread pool."""
    spec = Seller(
        legal_name=form.text("legal_name"),
        address=read_address(form, "address"),
        tax_id=form.text("tax_id"),
        registration=form.text("registration"),
        iban=form.text("iban"),
        bic=form.text("bic"),
        bank_details=form.text("bank_details"),
        footer=form.text("footer"),
        logo_url=form.text("logo_url"),
    )
    try:
        seller.update_seller(ctx(request).db, spec, user.actor)
    except DomainError as error:
        form.add_domain_error(error, FIELDS)
        return _page(request, {name: form.text(name) for name in FIELDS}, form.errors, 422)
    flash(request, "The seller's settings are saved.")
    return RedirectResponse("/settings/seller", status_code=303)


def _page(
    request: Request, values: Mapping[str, object], errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        request, "seller/settings.html", status_code=status_code, values=values, errors=errors
    )
