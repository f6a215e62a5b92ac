"""Billing > Subscriptions: the list, ordering, a subscription's pages, generation and cancelling."""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.db.models import Invoice
from recur.domain.catalogue import CancelAt, SubscriptionStatus
from recur.domain.errors import DomainError
from recur.services import accounts, catalogue, invoicing, subscriptions
from recur.services.subscriptions import SubscriptionSpec
from recur.services.users import UserInfo
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.errors import found, refusal_status
from recur.web.forms import sentence
from recur.web.params import PageId, id_filter, ids_named_by
from recur.web.posted import Posted
from recur.web.templating import render

router = APIRouter()

PAGE_SIZE = 25
SUBSCRIPTION_FIELDS = {"account_id", "pricing_option_id", "quantity", "start_date", "auto_renew"}


@router.get("/subscriptions")
def subscription_list(
    request: Request,
    account_id: str | None = None,
    product_id: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    user: UserInfo = Depends(viewer),
) -> Response:
    db = ctx(request).db
    account, product = id_filter(account_id), id_filter(product_id)
    state = SubscriptionStatus(status) if status in set(SubscriptionStatus) else None
    page = subscriptions.list_subscription_rows(
        db,
        account,
        state,
        product,
        limit=PAGE_SIZE,
        cursor=cursor or None,
        today=ctx(request).clock.today(),
    )
    filters = {"account_id": account, "product_id": product, "status": state}
    return render(
        request,
        "subscriptions/list.html",
        page=page,
        filters=filters,
        accounts=accounts.list_accounts(db, limit=100).items,
        products=catalogue.list_products(db, limit=100).items,
        statuses=list(SubscriptionStatus),
        status_of=subscriptions.effective_status,
    )


@router.get("/subscriptions/new")
def subscription_new(
    request: Request, account_id: int | None = None, user: UserInfo = Depends(operator)
) -> Response:
    today = ctx(request).clock.today()
    values = {"account_id": account_id or "", "quantity": 1, "start_date": today.isoformat()}
    return _subscription_form(request, values)


@router.post("/subscriptions", dependencies=[Depends(check_csrf)])
def subscription_create(
    request: Request, form: Posted, user: UserInfo = Depends(operator)
) -> Response:
    account_id = form.id("account_id")
    option_id = form.id("pricing_option_id")
    quantity = form.integer("quantity")
    start = form.day("start_date")
    renew = {"yes": True, "no": False}.get(form.text("auto_renew"))
    if form.ok and account_id and option_id and quantity is not None and start:
        try:
            spec = SubscriptionSpec(account_id, option_id, quantity, start, renew)
            sub = subscriptions.create_subscription(
                ctx(request).db, spec, actor=f"user:{user.email}"
            )
            return RedirectResponse(f"/subscriptions/{sub.id}", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, SUBSCRIPTION_FIELDS)
    return _subscription_form(request, form.data, form.errors, status_code=422)


@router.get("/subscriptions/{subscription_id}")
def subscription_overview(
    request: Request, subscription_id: PageId, user: UserInfo = Depends(viewer)
) -> Response:
    return _subscription_page(request, subscription_id, "overview")


@router.get("/subscriptions/{subscription_id}/pending")
def subscription_pending(
    request: Request,
    subscription_id: PageId,
    generated: str | None = None,
    user: UserInfo = Depends(viewer),
) -> Response:
    created: list[Invoice] = []
    if generated:
        db = ctx(request).db
        ids = ids_named_by(generated.split(","))
        created = [found(invoicing.get_invoice, db, i) for i in ids]
    return _subscription_page(request, subscription_id, "pending", created=created)


@router.get("/subscriptions/{subscription_id}/generate")
def subscription_generate_form(
    request: Request, subscription_id: PageId, user: UserInfo = Depends(operator)
) -> Response:
    return _subscription_page(request, subscription_id, "generate", key=str(uuid.uuid4()))


@router.post("/subscriptions/{subscription_id}/generate", dependencies=[Depends(check_csrf)])
def subscription_generate(
    request: Request, form: Posted, subscription_id: PageId, user: UserInfo = Depends(operator)
) -> Response:
    key = form.text("idempotency_key") or str(uuid.uuid4())
    try:
        issued = invoicing.generate_for_subscription(
            ctx(request).db,
            subscription_id,
            ctx(request).clock.today(),
            actor=f"user:{user.email}",
            idempotency_key=key,
        )
    except DomainError as error:
        return _subscription_page(
            request,
            subscription_id,
            "generate",
            key=key,
            error=sentence(error.message),
            status_code=refusal_status(error),
        )
    ids = ",".join(str(inv.id) for inv in issued.invoices)
    return RedirectResponse(
        f"/subscriptions/{subscription_id}/pending?generated={ids}", status_code=303
    )


@router.post("/subscriptions/{subscription_id}/cancel", dependencies=[Depends(check_csrf)])
def subscription_cancel(
    request: Request, form: Posted, subscription_id: PageId, user: UserInfo = Depends(operator)
) -> Response:
    at = form.text("at")
    if at not in set(CancelAt):
        return _subscription_page(
            request, subscription_id, "overview", error="Choose when to cancel.", status_code=422
        )
    try:
        subscriptions.cancel_subscription(
            ctx(request).db,
            subscription_id,
            CancelAt(at),
            ctx(request).clock.today(),
            actor=f"user:{user.email}",
        )
    except DomainError as error:
        return _subscription_page(
            request, subscription_id, "overview", error=sentence(error.message), status_code=409
        )
    return RedirectResponse(f"/subscriptions/{subscription_id}", status_code=303)


def _subscription_page(
    request: Request,
    subscription_id: int,
    section: str,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    db = ctx(request).db
    today = ctx(request).clock.today()
    sub = found(subscriptions.get_subscription, db, subscription_id)
    pending = invoicing.pending_for_subscription(db, subscription_id, today)
    return render(
        request,
        "subscriptions/page.html",
        status_code=status_code,
        sub=sub,
        section=section,
        pending=pending,
        status=subscriptions.effective_status(sub, today),
        term_end=subscriptions.term_end(sub, today),
        created=extra.pop("created", []),
        key=extra.pop("key", None),
        error=extra.pop("error", None),
    )


def _subscription_form(
    request: Request, values: Any, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    db = ctx(request).db
    return render(
        request,
        "subscriptions/form.html",
        status_code=status_code,
        values=values,
        errors=errors or {},
        accounts=accounts.list_accounts(db, limit=100).items,
        products=catalogue.list_products(db, limit=100).items,
    )
