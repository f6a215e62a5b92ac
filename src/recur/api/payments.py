"""Payments, credit notes applied or refunded, voids and receivables (SPEC §18)."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.openapi import file_response
from recur.api.params import Cursor, IdPath, IdQuery, Limit, Sort
from recur.api.schemas import (
    AgingOut,
    BalanceOut,
    CreditApplyIn,
    CreditNoteUsesOut,
    InvoiceOut,
    ListOut,
    PaymentIn,
    PaymentOut,
    RefundIn,
    VoidOut,
)
from recur.csv_export import aging_csv
from recur.domain.receivables import AllocationSpec, PaymentSpec, RefundSpec
from recur.services import payments, receivables

router = APIRouter(tags=["payments"], route_class=ApiRoute)


@router.post(
    "/payments",
    operation_id="record_payment",
    summary="Record a payment",
    status_code=201,
    response_model=PaymentOut,
    responses=documented(403, 404, 409),
)
def record_payment(
    body: PaymentIn,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    """Money received from an account, allocated to its invoices; what is not allocated stays as
    credit."""
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


@router.get(
    "/payments",
    operation_id="list_payments",
    summary="List payments",
    response_model=ListOut[PaymentOut],
    responses=documented(),
)
def list_payments(
    ctx: Ctx,
    account_id: IdQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Sort = None,
) -> dict[str, Any]:
    """Payments received, a page at a time, newest first by default. Sorts:
    `received_on`, `amount`, `id`."""
    found = payments.list_payments(ctx.db, account_id, limit, cursor, sort)
    return present.page(found, present.payment)


@router.delete(
    "/payments/{payment_id}",
    operation_id="undo_payment",
    summary="Undo a payment",
    status_code=204,
    responses=documented(403, 404, 409),
)
def undo_payment(
    payment_id: IdPath, request: Request, ctx: Ctx, caller: Caller, key: IdempotencyKey = None
) -> Response:
    """Take a payment back: the invoices it settled are open again by as much; the
    payment stays on record, marked undone."""

    def undo() -> None:
        payments.undo_payment(ctx.db, payment_id, caller.actor)

    return respond(ctx, request, caller, key, None, 204, undo)


@router.post(
    "/credit-notes/{credit_note_id}/apply",
    operation_id="apply_credit_note",
    summary="Apply a credit note to an invoice",
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
    """Settle part or all of an open invoice of the same account with a credit note's remaining
    credit."""
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
    operation_id="refund_credit_note",
    summary="Refund a credit note",
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
    """Record that part or all of a credit note's remaining credit was paid back."""
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


@router.get(
    "/credit-notes/{credit_note_id}/uses",
    response_model=CreditNoteUsesOut,
    summary="Where a credit note went",
    operation_id="credit_note_uses",
    responses=documented(404),
)
def credit_note_uses(credit_note_id: IdPath, ctx: Ctx) -> CreditNoteUsesOut:
    """The invoices it was applied to and its refunds, oldest first, each with the id
    that undoes it."""
    return present.credit_note_uses(*payments.credit_note_uses(ctx.db, credit_note_id))


@router.delete(
    "/credit-applications/{application_id}",
    status_code=204,
    summary="Undo a credit note's application",
    operation_id="undo_credit_application",
    responses=documented(403, 404, 409),
)
def undo_credit_application(
    application_id: IdPath, request: Request, ctx: Ctx, caller: Caller, key: IdempotencyKey = None
) -> Response:
    """The invoice is open again by the amount and the credit note has it left; the
    application of a void's credit note is refused (`409`)."""

    def undo() -> None:
        payments.undo_credit_application(ctx.db, application_id, caller.actor)

    return respond(ctx, request, caller, key, None, 204, undo)


@router.delete(
    "/refunds/{refund_id}",
    status_code=204,
    summary="Undo a credit note's refund",
    operation_id="undo_refund",
    responses=documented(403, 404),
)
def undo_refund(
    refund_id: IdPath, request: Request, ctx: Ctx, caller: Caller, key: IdempotencyKey = None
) -> Response:
    """The credit note has the amount left again."""

    def undo() -> None:
        payments.undo_refund(ctx.db, refund_id, caller.actor)

    return respond(ctx, request, caller, key, None, 204, undo)


@router.post(
    "/invoices/{invoice_id}/void",
    operation_id="void_invoice",
    summary="Void an invoice",
    response_model=VoidOut,
    responses=documented(403, 404, 409),
)
def void_invoice(
    invoice_id: IdPath,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    """An invoice with nothing paid is voided by a credit note of its full amount."""

    def void() -> VoidOut:
        voided = payments.void_invoice(ctx.db, invoice_id, caller.actor, today)
        return VoidOut(
            invoice=present.invoice(voided.invoice, today),
            credit_note=present.invoice(voided.credit_note, today),
        )

    return respond(ctx, request, caller, key, None, 200, void)


@router.get(
    "/accounts/{account_id}/balance",
    operation_id="get_account_balance",
    summary="Get an account's balance",
    response_model=list[BalanceOut],
    responses=documented(404),
)
def account_balance(account_id: IdPath, ctx: Ctx) -> list[BalanceOut]:
    """Per currency: what is invoiced and due, the credit available, and the balance."""
    return [present.balance(b) for b in receivables.account_balance(ctx.db, account_id)]


@router.get(
    "/reports/aging",
    operation_id="get_aging_report",
    summary="Receivables aging report",
    response_model=AgingOut,
    responses={
        200: file_response(
            "text/csv",
            "The report: JSON, or CSV with `format=csv` (then named by Content-Disposition)",
            'attachment; filename="aging-2027-01-31.csv"',
            binary=False,
        ),
        **documented(404),
    },
)
def aging_report(
    ctx: Ctx,
    today: Today,
    as_of: Annotated[date | None, Query(description="Default: today")] = None,
    account_id: IdQuery = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """What is due by how late, per account and overall, on `as_of`; `format=csv` for a
    spreadsheet."""
    report = receivables.aging(ctx.db, as_of or today, account_id)
    if format == "csv":
        return aging_csv(report)  # named as the back office names it
    return present.aging(report)
