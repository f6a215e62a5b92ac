"""Billing > Subscriptions: the list, ordering, a subscription's pages, generation,
changes and cancelling (each change and cancellation previewed before it is confirmed)."""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur import presentation as fmt
from recur.csv_export import csv_response, subscription_columns
from recur.db.session import Database
from recur.domain.catalogue import CancelAt, SubscriptionStatus
from recur.domain.errors import DomainError
from recur.domain.idempotency import StoredResponse
from recur.domain.invoices import PendingInvoice, totals_by_currency
from recur.domain.subscriptions import Subscription
from recur.domain.users import User
from recur.services import (
    accounts,
    catalogue,
    changes,
    idempotency,
    invoicing,
    subscriptions,
    usage,
)
from recur.services.change_options import ChangeChoices, change_choices
from recur.services.changes import ChangeSpec
from recur.services.subscriptions import SubscriptionSpec
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.errors import found, refusal_status
from recur.web.forms import Form, sentence
from recur.web.params import ListQuery, PageId, id_filter, ids_named_by
from recur.web.posted import Posted
from recur.web.routes.accounts import Issuing
from recur.web.routes.audit import recent_activity
from recur.web.templating import flash, render

router = APIRouter()

SUBSCRIPTION_FIELDS = {"account_id", "pricing_option_id", "quantity", "start_date", "auto_renew"}
CHANGE_FIELDS = {"quantity", "pricing_option_id", "effective"}
# What the Change form sends: the confirmation step sends it again, unchanged.
CHANGE_FORM = ("quantity", "pricing_option_id", "effective", "effective_date")
# The Change form's choices of when; "date" takes the form's effective_date.
WHEN = ("now", "end_of_period", "date")


@router.get("/subscriptions")
def subscription_list(
    request: Request,
    view: ListQuery,
    account_id: str | None = None,
    product_id: str | None = None,
    status: str | None = None,
    user: User = Depends(viewer),
) -> Response:
    db = ctx(request).db
    today = ctx(request).clock.today()
    account, product = id_filter(account_id), id_filter(product_id)
    state = SubscriptionStatus(status) if status in set(SubscriptionStatus) else None
    if view.csv:
        return csv_response(
            "subscriptions",
            subscription_columns(today),
            lambda at, size: subscriptions.list_subscription_rows(
                db, account, state, product, size, at, today, view.sort
            ),
            today,
        )
    page = subscriptions.list_subscription_rows(
        db, account, state, product, view.limit, view.cursor, today, view.sort
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
    request: Request, account_id: int | None = None, user: User = Depends(operator)
) -> Response:
    today = ctx(request).clock.today()
    values = {"account_id": account_id or "", "quantity": 1, "start_date": today.isoformat()}
    return _subscription_form(request, values)


@router.post("/subscriptions", dependencies=[Depends(check_csrf)])
def subscription_create(request: Request, form: Posted, user: User = Depends(operator)) -> Response:
    account_id = form.id("account_id")
    option_id = form.id("pricing_option_id")
    quantity = form.integer("quantity")
    start = form.day("start_date")
    renew = {"yes": True, "no": False}.get(form.text("auto_renew"))
    for problem in subscriptions.order_problems(quantity, start):  # all errors at once
        form.add_domain_error(problem, SUBSCRIPTION_FIELDS)
    if form.ok and account_id and option_id and quantity is not None and start:
        try:
            spec = SubscriptionSpec(account_id, option_id, quantity, start, renew)
            sub = subscriptions.create_subscription(ctx(request).db, spec, actor=user.actor)
            return RedirectResponse(f"/subscriptions/{sub.id}", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, SUBSCRIPTION_FIELDS)
    return _subscription_form(request, form.data, form.errors, status_code=422)


@router.get("/subscriptions/{subscription_id}")
def subscription_overview(
    request: Request, subscription_id: PageId, user: User = Depends(viewer)
) -> Response:
    return _subscription_page(request, subscription_id, "overview")


@router.get("/subscriptions/{subscription_id}/pending")
def subscription_pending(
    request: Request,
    subscription_id: PageId,
    generated: str | None = None,
    user: User = Depends(viewer),
) -> Response:
    db = ctx(request).db
    ids = ids_named_by(generated.split(",")) if generated else []
    created = [found(invoicing.get_invoice, db, i) for i in ids]
    return _subscription_page(request, subscription_id, "pending", created=created)


@router.get("/subscriptions/{subscription_id}/generate")
def subscription_generate_form(
    request: Request, subscription_id: PageId, user: User = Depends(operator)
) -> Response:
    return _subscription_page(request, subscription_id, "generate", key=str(uuid.uuid4()))


@router.post("/subscriptions/{subscription_id}/generate", dependencies=[Depends(check_csrf)])
def subscription_generate(
    request: Request, form: Posted, subscription_id: PageId, user: User = Depends(operator)
) -> Response:
    key = form.text("idempotency_key") or str(uuid.uuid4())
    try:
        issued = invoicing.generate_for_subscription(
            ctx(request).db,
            subscription_id,
            ctx(request).clock.today(),
            actor=user.actor,
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


@router.post("/subscriptions/{subscription_id}/change", dependencies=[Depends(check_csrf)])
def subscription_change(
    request: Request, form: Posted, subscription_id: PageId, user: User = Depends(operator)
) -> Response:
    """First the documents the change will issue (nothing stored), then, confirmed, the change."""
    db, today = ctx(request).db, ctx(request).clock.today()
    action = form.text("action")
    if action == "edit":  # back from the confirmation to the form, as it was filled in
        return _subscription_page(request, subscription_id, "overview", change_form=form)
    choices = found(change_choices, db, subscription_id, today)
    spec = _read_change(form, choices)
    status_code = 422
    if form.ok and spec is not None:
        key = form.text("idempotency_key") or str(uuid.uuid4())
        try:
            if action == "confirm":
                actor = user.actor
                once = _Once(db, f"web:change:{subscription_id}:{user.id}", key, form)
                once.run(
                    lambda: changes.change_subscription(db, subscription_id, spec, today, actor)
                )
                flash(request, "The change is saved.")
                return RedirectResponse(f"/subscriptions/{subscription_id}", status_code=303)
            documents = changes.preview_change(db, subscription_id, spec, today)
        except DomainError as error:
            form.add_domain_error(error, CHANGE_FIELDS)
            status_code = refusal_status(error)
        else:
            confirm = Confirmation(documents, key=key, change=_described(spec, choices))
            return _subscription_page(
                request, subscription_id, "change", form=form, confirm=confirm
            )
    return _subscription_page(
        request, subscription_id, "overview", change_form=form, status_code=status_code
    )


@router.post(
    "/subscriptions/{subscription_id}/changes/{change_id}/withdraw",
    dependencies=[Depends(check_csrf)],
)
def change_withdraw(
    request: Request, subscription_id: PageId, change_id: PageId, user: User = Depends(operator)
) -> Response:
    context = ctx(request)
    try:
        found(
            changes.withdraw_change,
            context.db,
            subscription_id,
            change_id,
            context.clock.today(),
            user.actor,
        )
    except DomainError as error:
        return _subscription_page(
            request,
            subscription_id,
            "overview",
            error=sentence(error.message),
            status_code=refusal_status(error),
        )
    flash(request, "The change is withdrawn.")
    return RedirectResponse(f"/subscriptions/{subscription_id}", status_code=303)


@router.post("/subscriptions/{subscription_id}/cancel", dependencies=[Depends(check_csrf)])
def subscription_cancel(
    request: Request, form: Posted, subscription_id: PageId, user: User = Depends(operator)
) -> Response:
    """First the documents the cancellation will issue (its credit note), then, confirmed, it."""
    db, today = ctx(request).db, ctx(request).clock.today()
    at = form.text("at")
    if at not in set(CancelAt):
        return _subscription_page(
            request, subscription_id, "overview", error="Choose when to cancel.", status_code=422
        )
    try:
        if form.text("action") == "confirm":
            subscriptions.cancel_subscription(
                db, subscription_id, CancelAt(at), today, actor=user.actor
            )
            flash(request, "The subscription is cancelled.")
            return RedirectResponse(f"/subscriptions/{subscription_id}", status_code=303)
        documents = found(changes.preview_cancellation, db, subscription_id, CancelAt(at), today)
    except DomainError as error:
        return _subscription_page(
            request,
            subscription_id,
            "overview",
            error=sentence(error.message),
            status_code=refusal_status(error),
        )
    return _subscription_page(
        request, subscription_id, "cancel", form=form, confirm=Confirmation(documents)
    )


@dataclass(frozen=True)
class _Once:
    """A confirmed change runs once per key: a second click (or a resubmitted page)
    finds the key's answer and changes nothing more (services.idempotency)."""

    db: Database
    scope: str
    key: str
    form: Form

    def run(self, act: Callable[[], object]) -> None:
        typed = "\n".join(self.form.text(name) for name in CHANGE_FORM)
        request = hashlib.sha256(typed.encode()).hexdigest()
        if idempotency.reserve(self.db, self.scope, self.key, request) is not None:
            return  # done by the first submission
        try:
            act()
        except BaseException:
            idempotency.release(self.db, self.scope, self.key)
            raise
        idempotency.complete(self.db, self.scope, self.key, StoredResponse(303, None))


@dataclass(frozen=True)
class Confirmation:
    """A change's or a cancellation's confirmation step: what it will issue, and when."""

    documents: list[PendingInvoice]
    key: str = ""
    change: list[str] | None = None  # the change in words: "Quantity 10 → 15", …


def _read_change(form: Form, choices: ChangeChoices) -> ChangeSpec | None:
    """The Change form as a ChangeSpec: a quantity or plan left as in force today is not
    part of the change (SPEC §10: what a change does not name stays as it was)."""
    quantity = form.integer("quantity")
    option_id = form.id("pricing_option_id")
    when = form.text("effective")
    effective: str | None = when
    if when == "date":
        day = form.day("effective_date")
        effective = day.isoformat() if day else None
    elif when not in WHEN:
        form.errors["effective"] = "Choose when the change takes effect."
    if not form.ok or effective is None:
        return None
    return ChangeSpec(
        quantity=None if quantity == choices.quantity else quantity,
        pricing_option_id=None if option_id == choices.option.id else option_id,
        effective=effective,
    )


def _option_names(choices: ChangeChoices) -> dict[int, str]:
    return {
        o.id: f"{o.product.name} ({o.code}, {fmt.price(o.unit_price, o.currency)})"
        for o in choices.options
    }


def _described(spec: ChangeSpec, choices: ChangeChoices) -> list[str]:
    names = _option_names(choices)
    said = []
    if spec.quantity is not None:
        said.append(f"Quantity {choices.quantity} → {spec.quantity}")
    if spec.pricing_option_id is not None:
        new = names.get(spec.pricing_option_id, f"option #{spec.pricing_option_id}")
        said.append(f"Plan {names[choices.option.id]} → {new}")
    return said


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
    choices = change_choices(db, subscription_id, today)
    pending = invoicing.pending_for_subscription(db, subscription_id, today)
    change_form: Form | None = extra.pop("change_form", None)
    names = _option_names(choices)
    return render(
        request,
        "subscriptions/page.html",
        status_code=status_code,
        sub=sub,
        section=section,
        pending=pending,
        status=subscriptions.effective_status(sub, today),
        term_end=subscriptions.term_end(sub, today),
        choices=choices,
        option_names=names,
        plans=[(o.id, names[o.id]) for o in choices.on_sale],
        changes=changes.list_changes(db, subscription_id, today),
        activity=recent_activity(request, "subscription", subscription_id),
        change_values=change_form.data if change_form else _change_defaults(choices),
        change_errors=change_form.errors if change_form else {},
        created=extra.pop("created", []),
        key=extra.pop("key", None),
        error=extra.pop("error", None),
        form=extra.pop("form", None),
        change_form_fields=CHANGE_FORM,
        confirm=extra.pop("confirm", None),
        usage=usage.usage_overview(db, subscription_id, today),
        issuing=_issuing(db, sub, today) if section == "generate" else None,
    )


def _issuing(db: Database, sub: Subscription, today: date) -> Issuing:
    """What Generate Invoices will issue for the subscription: the engine's preview of
    the generation itself (nothing when it has nothing pending)."""
    try:
        documents = invoicing.preview_generation(db, sub.account_id, [sub.id], today)
    except DomainError:  # nothing pending: the pop-up says so
        documents = []
    return Issuing(documents, totals_by_currency(documents))


def _change_defaults(choices: ChangeChoices) -> dict[str, Any]:
    return {
        "quantity": choices.quantity,
        "pricing_option_id": choices.option.id,
        "effective": "now",
        "effective_date": "",
    }


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
