"""Payments, credit notes applied or refunded, voids and receivables (SPEC §18)."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.params import Cursor, IdPath, IdQuery, Limit, Sort
from recur.api.schemas import (
    AgingOut,
    BalanceOut,
    CreditApplyIn,
    InvoiceOut,
    ListOut,
    PaymentIn,
    PaymentOut,
    RefundIn,
    VoidOut,
)
from recur.domain.receivables import AllocationSpec, PaymentSpec, RefundSpec
from recur.services import payments, receivables

router = APIRouter(tags=["payments"], route_class=ApiRoute)

CSV = "text/csv; charset=utf-8"


@router.post(
    "/payments", status_code=201, response_model=PaymentOut, responses=documented(403, 404, 409)
)
def record_payment(
    body: PaymentIn,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    spec = PaymentSpec(
        account_id=body.account_id,
        amount=body.amount,
        currency=body.currency,
        received_on=body.received_on,
        method=body.method.value,
        reference=body.reference,
        allocations=tuple(AllocationSpec(a.invoice_id, a.amount) for a in body.allocations),
    )
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        201,
        lambda: present.payment(payments.record_payment(ctx.db, spec, caller.actor, today)),
    )


@router.get("/payments", response_model=ListOut[PaymentOut], responses=documented())
def list_payments(
    ctx: Ctx,
    account_id: IdQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Sort = None,
) -> dict[str, Any]:
    """Sorts: `received_on` (default `-received_on`), `amount`, `id`."""
    found = payments.list_payments(ctx.db, account_id, limit, cursor, sort)
    return present.page(found, present.payment)


@router.delete("/payments/{payment_id}", status_code=204, responses=documented(403, 404, 409))
def undo_payment(
    payment_id: IdPath, request: Request, ctx: Ctx, caller: Caller, key: IdempotencyKey = None
) -> Response:
    def undo() -> None:
        payments.undo_payment(ctx.db, payment_id, caller.actor)

    return respond(ctx, request, caller, key, None, 204, undo)


@router.post(
    "/credit-notes/{credit_note_id}/apply",
    response_model=InvoiceOut,
    responses=documented(403, 404, 409),
)
def apply_credit_note(
    credit_note_id: IdPath,
    body: CreditApplyIn,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        200,
        lambda: present.invoice(
            payments.apply_credit_note(
                ctx.db, credit_note_id, body.invoice_id, body.amount, caller.actor
            ),
            today,
        ),
    )


@router.post(
    "/credit-notes/{credit_note_id}/refund",
    response_model=InvoiceOut,
    responses=documented(403, 404, 409),
)
def refund_credit_note(
    credit_note_id: IdPath,
    body: RefundIn,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    spec = RefundSpec(body.amount, body.refunded_on, body.reference)
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        200,
        lambda: present.invoice(
            payments.refund_credit_note(ctx.db, credit_note_id, spec, caller.actor, today), today
        ),
    )


@router.post(
    "/invoices/{invoice_id}/void", response_model=VoidOut, responses=documented(403, 404, 409)
)
def void_invoice(
    invoice_id: IdPath,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    def void() -> VoidOut:
        voided = payments.void_invoice(ctx.db, invoice_id, caller.actor, today)
        return VoidOut(
            invoice=present.invoice(voided.invoice, today),
            credit_note=present.invoice(voided.credit_note, today),
        )

    return respond(ctx, request, caller, key, None, 200, void)


@router.get(
    "/accounts/{account_id}/balance", response_model=list[BalanceOut], responses=documented(404)
)
def account_balance(account_id: IdPath, ctx: Ctx) -> list[BalanceOut]:
    return [present.balance(b) for b in receivables.account_balance(ctx.db, account_id)]


@router.get(
    "/reports/aging",
    response_model=AgingOut,
    responses={200: {"content": {"text/csv": {}}}, **documented(404)},
)
def aging_report(
    ctx: Ctx,
    today: Today,
    as_of: Annotated[date | None, Query(description="Default: today")] = None,
    account_id: IdQuery = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    report = receivables.aging(ctx.db, as_of or today, account_id)
    if format == "csv":
        return Response(receivables.aging_csv(report), media_type=CSV)
    return present.aging(report)
