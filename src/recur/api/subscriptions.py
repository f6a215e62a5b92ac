"""/subscriptions: ordering, cancelling, a subscription's pending invoices and generation."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, generated, respond
from recur.api.params import AsOf, Cursor, Format, IdPath, IdQuery, Limit, Sort, csv_list
from recur.api.responses import ModelResponse
from recur.api.schemas import (
    CancelIn,
    GenerateOut,
    ListOut,
    PendingOut,
    PreviewOut,
    SubscriptionIn,
    SubscriptionOut,
)
from recur.context import AppContext
from recur.csv_export import csv_response, subscription_columns
from recur.domain.catalogue import SubscriptionStatus
from recur.domain.subscriptions import Subscription
from recur.services import changes, invoicing, subscriptions
from recur.services.in_force import in_force_of

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"], route_class=ApiRoute)


def shown(ctx: AppContext, sub: Subscription, today: date) -> SubscriptionOut:
    """The subscription with the quantity and pricing option in force today."""
    return present.subscription(sub, today, subscriptions.in_force(ctx.db, sub.id, today))


@router.post(
    "",
    operation_id="create_subscription",
    summary="Create a subscription",
    status_code=201,
    response_model=SubscriptionOut,
    responses=documented(403, 404, 409),
)
def create_subscription(
    body: SubscriptionIn,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    """Order a pricing option for an account, from a start date; it is billed from there."""
    spec = subscriptions.SubscriptionSpec(**body.model_dump())

    def produce() -> SubscriptionOut:
        sub = subscriptions.create_subscription(ctx.db, spec, caller.actor)
        return shown(ctx, sub, today)

    return respond(ctx, request, caller, key, body, 201, produce)


@router.get(
    "",
    operation_id="list_subscriptions",
    summary="List subscriptions",
    response_model=ListOut[SubscriptionOut],
    responses=documented() | csv_list("subscriptions"),
)
def list_subscriptions(
    ctx: Ctx,
    today: Today,
    account_id: IdQuery = None,
    status: SubscriptionStatus | None = None,
    product_id: IdQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Sort = None,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Subscriptions, a page at a time, filtered by account, status or product. Sorts:
    `id` (the default), `account` (its name), `quantity`, `start_date`, `status`,
    `next_charge_date`, `end_date` (those without one last)."""
    if format == "csv":
        return csv_response(
            "subscriptions",
            subscription_columns(today),
            lambda at, size: subscriptions.list_subscription_rows(
                ctx.db, account_id, status, product_id, size, at, today, sort
            ),
            today,
        )
    found = subscriptions.list_subscriptions(
        ctx.db, account_id, status, product_id, limit, cursor, today, sort
    )
    in_force = in_force_of(ctx.db, [sub.id for sub in found.items], today)
    return present.page(found, lambda sub: present.subscription(sub, today, in_force[sub.id]))


@router.get(
    "/{subscription_id}",
    operation_id="get_subscription",
    summary="Get a subscription",
    response_model=SubscriptionOut,
    responses=documented(404),
)
def get_subscription(subscription_id: IdPath, ctx: Ctx, today: Today) -> SubscriptionOut:
    """One subscription, with the quantity and pricing option in force today."""
    return shown(ctx, subscriptions.get_subscription(ctx.db, subscription_id), today)


@router.post(
    "/{subscription_id}/cancel",
    operation_id="cancel_subscription",
    summary="Cancel a subscription",
    response_model=SubscriptionOut,
    responses=documented(403, 404, 409),
)
def cancel_subscription(
    subscription_id: IdPath,
    body: CancelIn,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    """Now (credit note for the days already billed) or at the end of its term or billing period."""

    def produce() -> SubscriptionOut:
        sub = subscriptions.cancel_subscription(
            ctx.db, subscription_id, body.at, today, caller.actor
        )
        return shown(ctx, sub, today)

    return respond(ctx, request, caller, key, body, 200, produce)


@router.post(
    "/{subscription_id}/cancel/preview",
    operation_id="preview_cancellation",
    summary="Preview a cancellation",
    response_model=PreviewOut,
    responses=documented(403, 404, 409),
)
def preview_cancellation(
    subscription_id: IdPath, body: CancelIn, ctx: Ctx, today: Today
) -> PreviewOut:
    """The subscription's pending documents if it were cancelled so: the credit note a
    cancellation `now` issues for days already billed, and what is still due. Nothing is
    stored."""
    return present.preview(changes.preview_cancellation(ctx.db, subscription_id, body.at, today))


@router.get(
    "/{subscription_id}/pending-invoices",
    operation_id="list_subscription_pending_invoices",
    summary="Preview a subscription's pending invoices",
    response_model=PendingOut,
    responses=documented(404),
)
def subscription_pending(
    subscription_id: IdPath, ctx: Ctx, today: Today, as_of: AsOf = None
) -> PendingOut:
    """What the subscription will be invoiced on `as_of` (default today). Nothing is stored."""
    day = as_of or today
    pending = invoicing.pending_for_subscription(ctx.db, subscription_id, day, today)
    return PendingOut(as_of=day, data=[present.pending_invoice(p) for p in pending])


@router.post(
    "/{subscription_id}/invoices/generate",
    operation_id="generate_subscription_invoices",
    summary="Generate a subscription's invoices now",
    status_code=201,
    response_model=GenerateOut,
    responses=documented(403, 404, 409),
)
def generate_for_subscription(
    subscription_id: IdPath,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> ModelResponse:
    """Issue the subscription's pending invoices, dated today. With an `Idempotency-Key`, a retry
    answers the first invoices (`Idempotent-Replayed: true`)."""
    return generated(
        invoicing.generate_for_subscription(ctx.db, subscription_id, today, caller.actor, key),
        today,
    )
