"""Payments on an invoice's page, credit notes applied or refunded, voids, and
Billing > Aging (SPEC §18). Refusals show on the document's page, nothing changed."""

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.csv_export import aging_csv
from recur.domain.errors import DomainError
from recur.domain.receivables import BUCKET_NAMES, AllocationSpec, PaymentSpec, RefundSpec
from recur.domain.users import User
from recur.services import invoicing, payments, receivables
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.errors import found
from recur.web.forms import Form, sentence
from recur.web.params import PageId, date_or_none, id_filter
from recur.web.posted import Posted
from recur.web.routes.invoices import show_invoice
from recur.web.templating import flash, render

router = APIRouter()

AMOUNT_PLACES = 4  # the amount columns'; the service checks the currency's own


def _settle(request: Request, invoice_id: int, form: Form, change: Callable[[], str]) -> Response:
    """Make the change the form asks for and come back with its notice, or show the
    document again with what was wrong (nothing changed)."""
    found(invoicing.get_invoice, ctx(request).db, invoice_id)
    if not form.ok:
        return show_invoice(request, invoice_id, " ".join(form.errors.values()), 422)
    try:
        notice = change()
    except DomainError as error:
        status = 404 if error.code.endswith("not_found") else 409
        status = 422 if error.code.startswith(("invalid_", "missing_")) else status
        return show_invoice(request, invoice_id, sentence(error.message), status)
    flash(request, notice)
    return RedirectResponse(f"/invoices/{invoice_id}", status_code=303)


def _undo(request: Request, form: Posted, undo: Callable[[], str]) -> Response:
    """An undo button's post: it names the document whose page it came from."""
    return _settle(request, form.id("invoice_id") or 0, form, undo)


@router.post("/invoices/{invoice_id}/payments", dependencies=[Depends(check_csrf)])
def record_payment(
    request: Request, form: Posted, invoice_id: PageId, user: User = Depends(operator)
) -> Response:
    amount = form.decimal("amount", AMOUNT_PLACES)
    received_on = form.day("received_on")
    context = ctx(request)

    def record() -> str:
        invoice = invoicing.get_invoice(context.db, invoice_id)
        assert amount is not None
        assert received_on is not None
        spec = PaymentSpec(
            invoice.account_id,
            amount,
            invoice.currency,
            received_on,
            form.text("method"),
            form.text("reference"),
            (AllocationSpec(invoice_id, amount),),
        )
        payments.record_payment(context.db, spec, user.actor, context.clock.today())
        return f"A payment of {amount} {invoice.currency} is recorded on {invoice.number}."

    return _settle(request, invoice_id, form, record)


@router.post("/payments/{payment_id}/undo", dependencies=[Depends(check_csrf)])
def undo_payment(
    request: Request, form: Posted, payment_id: PageId, user: User = Depends(operator)
) -> Response:
    def undo() -> str:
        payments.undo_payment(ctx(request).db, payment_id, user.actor)
        return f"Payment #{payment_id} is undone."

    return _undo(request, form, undo)


@router.post("/credit-applications/{application_id}/undo", dependencies=[Depends(check_csrf)])
def undo_credit_application(
    request: Request, form: Posted, application_id: PageId, user: User = Depends(operator)
) -> Response:
    def undo() -> str:
        note = payments.undo_credit_application(ctx(request).db, application_id, user.actor)
        return f"The application of {note.number} is undone."

    return _undo(request, form, undo)


@router.post("/refunds/{refund_id}/undo", dependencies=[Depends(check_csrf)])
def undo_refund(
    request: Request, form: Posted, refund_id: PageId, user: User = Depends(operator)
) -> Response:
    def undo() -> str:
        note = payments.undo_refund(ctx(request).db, refund_id, user.actor)
        return f"The refund on {note.number} is undone."

    return _undo(request, form, undo)


@router.post("/invoices/{invoice_id}/void", dependencies=[Depends(check_csrf)])
def void_invoice(
    request: Request, form: Posted, invoice_id: PageId, user: User = Depends(operator)
) -> Response:
    context = ctx(request)

    def void() -> str:
        voided = payments.void_invoice(context.db, invoice_id, user.actor, context.clock.today())
        return (
            f"{voided.invoice.number} is void: credit note {voided.credit_note.number} cancels it."
        )

    return _settle(request, invoice_id, form, void)


@router.post("/credit-notes/{credit_note_id}/apply", dependencies=[Depends(check_csrf)])
def apply_credit_note(
    request: Request, form: Posted, credit_note_id: PageId, user: User = Depends(operator)
) -> Response:
    amount = form.decimal("amount", AMOUNT_PLACES)
    number = form.required("invoice_number")
    db = ctx(request).db

    def apply() -> str:
        invoice = invoicing.get_invoice_by_number(db, number)
        assert amount is not None
        note = payments.apply_credit_note(db, credit_note_id, invoice.id, amount, user.actor)
        return f"{amount} {note.currency} of {note.number} is applied to {invoice.number}."

    return _settle(request, credit_note_id, form, apply)


@router.post("/credit-notes/{credit_note_id}/refund", dependencies=[Depends(check_csrf)])
def refund_credit_note(
    request: Request, form: Posted, credit_note_id: PageId, user: User = Depends(operator)
) -> Response:
    amount = form.decimal("amount", AMOUNT_PLACES)
    refunded_on = form.day("refunded_on")
    context = ctx(request)

    def refund() -> str:
        assert amount is not None
        assert refunded_on is not None
        spec = RefundSpec(amount, refunded_on, form.text("reference"))
        note = payments.refund_credit_note(
            context.db, credit_note_id, spec, user.actor, context.clock.today()
        )
        return f"A refund of {amount} {note.currency} is recorded on {note.number}."

    return _settle(request, credit_note_id, form, refund)


@router.get("/reports/aging")
def aging_page(
    request: Request,
    as_of: str | None = None,
    account_id: str | None = None,
    format: str | None = None,
    user: User = Depends(viewer),
) -> Response:
    context = ctx(request)
    day = date_or_none(as_of) or context.clock.today()
    report = found(receivables.aging, context.db, day, id_filter(account_id))
    if format == "csv":
        return aging_csv(report)
    return render(
        request, "reports/aging.html", report=report, buckets=BUCKET_NAMES, account_id=account_id
    )
