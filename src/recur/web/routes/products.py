"""Billing > Products: the catalogue, its products' edits and their pricing options."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.domain.errors import DomainError
from recur.domain.products import Product
from recur.domain.users import User
from recur.services import catalogue
from recur.services.catalogue import ProductChanges, ProductSpec
from recur.web import option_rows
from recur.web.auth import admin, check_csrf, ctx, viewer
from recur.web.forms import Form
from recur.web.params import ListQuery, PageId
from recur.web.posted import Posted
from recur.web.templating import flash, render

router = APIRouter()

PRODUCT_FIELDS = {"sku", "name", "taxable"}


@router.get("/products")
def product_list(request: Request, view: ListQuery, user: User = Depends(viewer)) -> Response:
    page = catalogue.list_products(ctx(request).db, view.limit, view.cursor, view.sort)
    return render(request, "products/list.html", page=page)


@router.get("/products/new")
def product_new(request: Request, user: User = Depends(admin)) -> Response:
    return _new_form(request, {"taxable": "on"} | option_rows.new_rows(1))


@router.post("/products", dependencies=[Depends(check_csrf)])
def product_create(request: Request, form: Posted, user: User = Depends(admin)) -> Response:
    rearranged = option_rows.rearranged(form)
    if rearranged is not None:
        return _new_form(request, rearranged)
    sku, name = form.required("sku"), _name(form)
    specs = option_rows.read_rows(form)
    if form.ok:
        spec = ProductSpec(sku, name, specs, taxable=form.flag("taxable"))
        try:
            product = catalogue.create_product(ctx(request).db, spec, user.actor)
            return _saved(request, product.id, f"Product {product.name} created.")
        except DomainError as error:
            form.add_domain_error(error, PRODUCT_FIELDS)
    return _new_form(request, form.data, form.errors, status_code=422)


@router.get("/products/{product_id}/edit")
def product_edit(request: Request, product_id: PageId, user: User = Depends(admin)) -> Response:
    product = _product(request, product_id)
    values = {"name": product.name, "taxable": "on" if product.taxable else ""}
    return _edit_form(request, product, values)


@router.post("/products/{product_id}", dependencies=[Depends(check_csrf)])
def product_update(
    request: Request, product_id: PageId, form: Posted, user: User = Depends(admin)
) -> Response:
    name = _name(form)
    if form.ok:
        changes = ProductChanges(name=name, taxable=form.flag("taxable"))
        try:
            product = catalogue.update_product(ctx(request).db, product_id, changes, user.actor)
            return _saved(request, product.id, f"Product {product.name} saved.")
        except DomainError as error:
            form.add_domain_error(error, PRODUCT_FIELDS)
    product = _product(request, product_id)
    return _edit_form(request, product, form.data, form.errors, status_code=422)


@router.post("/products/{product_id}/pricing-options", dependencies=[Depends(check_csrf)])
def options_add(
    request: Request, product_id: PageId, form: Posted, user: User = Depends(admin)
) -> Response:
    product = _product(request, product_id)
    values = {"name": product.name, "taxable": "on" if product.taxable else ""}
    rearranged = option_rows.rearranged(form)
    if rearranged is not None:
        return _edit_form(request, product, values | rearranged)
    specs = option_rows.read_rows(form, taken=[o.code for o in product.pricing_options])
    if form.ok:
        try:
            added = catalogue.add_pricing_options(ctx(request).db, product_id, specs, user.actor)
            return _saved(request, added.id, f"{_options(len(specs))} added to {added.name}.")
        except DomainError as error:
            form.add_domain_error(error, set())
    posted = {k: v for k, v in form.data.items() if k.startswith("option")}
    return _edit_form(request, product, values | posted, form.errors, status_code=422)


@router.post(
    "/products/{product_id}/pricing-options/{option_id}/archive",
    dependencies=[Depends(check_csrf)],
)
def option_archive(
    request: Request, product_id: PageId, option_id: PageId, user: User = Depends(admin)
) -> Response:
    option = catalogue.archive_pricing_option(ctx(request).db, product_id, option_id, user.actor)
    said = (
        f"Pricing option {option.code} archived: it takes no new subscriptions; those on it go on."
    )
    return _saved(request, product_id, said)


@router.post(
    "/products/{product_id}/pricing-options/{option_id}/unarchive",
    dependencies=[Depends(check_csrf)],
)
def option_unarchive(
    request: Request, product_id: PageId, option_id: PageId, user: User = Depends(admin)
) -> Response:
    option = catalogue.unarchive_pricing_option(ctx(request).db, product_id, option_id, user.actor)
    return _saved(request, product_id, f"Pricing option {option.code} is on sale again.")


def _name(form: Form) -> str:
    """The product's name, by the catalogue's own rule."""
    name = form.required("name")
    if name:
        try:
            catalogue.check_product_name(name)
        except DomainError as error:
            form.add_domain_error(error, PRODUCT_FIELDS)
    return name


def _options(count: int) -> str:
    return "1 pricing option" if count == 1 else f"{count} pricing options"


def _saved(request: Request, product_id: int, said: str) -> Response:
    """Back to the product's page, which says what was done."""
    flash(request, said)
    return RedirectResponse(f"/products/{product_id}/edit", status_code=303)


def _product(request: Request, product_id: int) -> Product:
    return catalogue.get_product(ctx(request).db, product_id)


def _new_form(
    request: Request, values: Any, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "products/form.html",
        status_code=status_code,
        values=values,
        errors=errors or {},
        rows=option_rows.row_count(Form(values)),
        meter_rows=option_rows.meter_counts(Form(values)),
    )


def _edit_form(
    request: Request,
    product: Product,
    values: Any,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    values = dict(values)
    values.setdefault(option_rows.ROW_COUNT, "0")
    return render(
        request,
        "products/edit.html",
        status_code=status_code,
        product=product,
        values=values,
        errors=errors or {},
        rows=option_rows.row_count(Form(values)),
        meter_rows=option_rows.meter_counts(Form(values)),
    )
