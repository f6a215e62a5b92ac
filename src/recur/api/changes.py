"""/subscriptions/{id}/changes: quantity changes and plan switches, their previews and
withdrawals (SPEC §10, §16)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.params import IdPath
from recur.api.schemas import ChangeIn, ChangeOut, ListOut, PreviewOut
from recur.services import changes

router = APIRouter(prefix="/subscriptions", tags=["changes"], route_class=ApiRoute)


def _spec(body: ChangeIn) -> changes.ChangeSpec:
    return changes.ChangeSpec(
        quantity=body.quantity, pricing_option_id=body.pricing_option_id, effective=body.effective
    )


@router.post(
    "/{subscription_id}/changes",
    operation_id="create_change",
    summary="Change a subscription",
    status_code=201,
    response_model=ChangeOut,
    responses=documented(403, 404, 409),
)
def change_subscription(
    subscription_id: IdPath,
    body: ChangeIn,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    """A quantity change or a plan switch, effective now, at the end of the billing period or on a
    date."""

    def produce() -> ChangeOut:
        made = changes.change_subscription(
            ctx.db, subscription_id, _spec(body), today, caller.actor
        )
        return present.change(made)

    return respond(ctx, request, caller, key, body, 201, produce)


@router.get(
    "/{subscription_id}/changes",
    operation_id="list_changes",
    summary="List a subscription's changes",
    response_model=ListOut[ChangeOut],
    responses=documented(404),
)
def list_changes(subscription_id: IdPath, ctx: Ctx, today: Today) -> dict[str, Any]:
    """Every change of the subscription, by effective date, then by creation."""
    found = changes.list_changes(ctx.db, subscription_id, today)
    return {"data": [present.change(c) for c in found], "total": len(found), "next_cursor": None}


@router.delete(
    "/{subscription_id}/changes/{change_id}",
    operation_id="withdraw_change",
    summary="Withdraw a change",
    status_code=204,
    response_class=Response,
    responses=documented(403, 404, 409),
)
def withdraw_change(
    subscription_id: IdPath,
    change_id: IdPath,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    """Withdraw a change whose effective date is still ahead (one in effect: 409)."""

    def produce() -> None:
        changes.withdraw_change(ctx.db, subscription_id, change_id, today, caller.actor)

    return respond(ctx, request, caller, key, None, 204, produce)


@router.post(
    "/{subscription_id}/changes/preview",
    operation_id="preview_change",
    summary="Preview a change",
    response_model=PreviewOut,
    responses=documented(403, 404, 409),
)
def preview_change(subscription_id: IdPath, body: ChangeIn, ctx: Ctx, today: Today) -> PreviewOut:
    """The subscription's pending documents if the change were made: what confirming it
    issues, and when. Nothing is stored; refused as the change itself would be."""
    return present.preview(changes.preview_change(ctx.db, subscription_id, _spec(body), today))
