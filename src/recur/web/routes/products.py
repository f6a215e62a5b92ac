"""Billing > Products: the catalogue and its pricing options."""

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.errors import DomainError
from recur.domain.usage import MeterSpec
from recur.domain.users import User
from recur.services import catalogue
from recur.services.catalogue import PricingOptionSpec, ProductSpec
from recur.services.meters import parse_meter_lines
from recur.services.validation import PRICE_PLACES
from recur.web.auth import admin, check_csrf, ctx, viewer
from recur.web.forms import Form
from recur.web.params import ListQuery
from recur.web.posted import Posted
from recur.web.templating import render

router = APIRouter()

PRODUCT_FIELDS = {
    "sku",
    "name",
    "code",
    "billing_period",
    "billing_type",
    "unit_price",
    "setup_fee",
    "currency",
    "term_months",
    "billing_day",
    "anniversary_billing",
    "meters",
    "usage_delay_days",
}


@router.get("/products")
def product_list(request: Request, view: ListQuery, user: User = Depends(viewer)) -> Response:
    page = catalogue.list_products(ctx(request).db, view.limit, view.cursor, view.sort)
    return render(request, "products/list.html", page=page)


@router.get("/products/new")
def product_new(request: Request, user: User = Depends(admin)) -> Response:
    values = {
        "taxable": "on",
        "code": "monthly",
        "billing_period": "monthly",
        "billing_type": "prepaid",
        "currency": "EUR",
        "setup_fee": "0",
        "auto_renew": "on",
    }
    return _product_form(request, values)


@router.post("/products", dependencies=[Depends(check_csrf)])
def product_create(request: Request, form: Posted, user: User = Depends(admin)) -> Response:
    spec = _read_product(form)
    if form.ok and spec is not None:
        try:
            catalogue.create_product(ctx(request).db, spec, actor=f"user:{user.email}")
            return RedirectResponse("/products", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, PRODUCT_FIELDS)
    return _product_form(request, form.data, form.errors, status_code=422)


def _read_product(form: Form) -> ProductSpec | None:
    sku, name, code = form.required("sku"), form.required("name"), form.required("code")
    period, kind = form.text("billing_period"), form.text("billing_type")
    if period not in set(BillingCycle):
        form.errors["billing_period"] = "Choose a billing period."
    if kind not in set(BillingType):
        form.errors["billing_type"] = "Choose prepaid, postpaid or usage."
    unit_price = form.decimal("unit_price", PRICE_PLACES)
    setup_fee = form.decimal("setup_fee", PRICE_PLACES, default=Decimal(0))
    currency = form.required("currency").upper()
    term = form.integer("term_months", optional=True)
    billing_day = form.integer("billing_day", optional=True)
    meters = _read_meters(form)
    usage_delay_days = form.integer("usage_delay_days", optional=True) or 0
    if not form.ok or unit_price is None or setup_fee is None:
        return None
    option = PricingOptionSpec(
        code=code,
        billing_period=BillingCycle(period),
        billing_type=BillingType(kind),
        unit_price=unit_price,
        currency=currency,
        setup_fee=setup_fee,
        term_months=term,
        auto_renew=form.flag("auto_renew"),
        billing_day=billing_day,
        anniversary_billing=form.flag("anniversary_billing"),
        meters=meters,
        usage_delay_days=usage_delay_days,
    )
    return ProductSpec(sku=sku, name=name, pricing_options=[option], taxable=form.flag("taxable"))


def _read_meters(form: Form) -> tuple[MeterSpec, ...]:
    """A usage option's meters, typed one a line (services/meters.py reads them)."""
    try:
        return tuple(parse_meter_lines(form.text("meters")))
    except DomainError as error:
        form.add_domain_error(error, PRODUCT_FIELDS)
        return ()


def _product_form(
    request: Request, values: Any, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "products/form.html",
        status_code=status_code,
        values=values,
        errors=errors or {},
        periods=list(BillingCycle),
        types=list(BillingType),
    )
