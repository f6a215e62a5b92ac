"""Billing > Invoices: the list, an invoice, its PDF, and marking it paid (its other
payments: web/routes/payments.py)."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.csv_export import INVOICE_COLUMNS, csv_response
from recur.domain.catalogue import InvoiceSource, InvoiceStatus, InvoiceType, PaymentMethod
from recur.domain.errors import DomainError
from recur.domain.issued import InvoiceFilter
from recur.domain.users import User
from recur.services import accounts, delivery, documents, invoicing, payments
from recur.services.corrections import corrected_invoices
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.errors import found
from recur.web.forms import sentence
from recur.web.params import ListQuery, PageId, date_or_none, id_filter
from recur.web.routes.audit import recent_activity
from recur.web.templating import flash, render

router = APIRouter()


@router.get("/invoices")
def invoice_list(
    request: Request,
    view: ListQuery,
    number: str | None = None,
    account_id: str | None = None,
    status: str | None = None,
    source: str | None = None,
    type: str | None = None,
    issued_from: str | None = None,
    issued_to: str | None = None,
    user: User = Depends(viewer),
) -> Response:
    db = ctx(request).db
    where = InvoiceFilter(
        account_id=id_filter(account_id),
        status=InvoiceStatus(status) if status in set(InvoiceStatus) else None,
        source=InvoiceSource(source) if source in set(InvoiceSource) else None,
        type=InvoiceType(type) if type in set(InvoiceType) else None,
        issued_from=date_or_none(issued_from),
        issued_to=date_or_none(issued_to),
        number=number or None,
    )
    if view.csv:
        return csv_response(
            "invoices",
            INVOICE_COLUMNS,
            lambda at, size: invoicing.list_invoice_rows(db, where, size, at, view.sort),
            ctx(request).clock.today(),
        )
    page = invoicing.list_invoice_rows(db, where, view.limit, view.cursor, view.sort)
    return render(
        request,
        "invoices/list.html",
        page=page,
        where=where,
        accounts=accounts.list_accounts(db, limit=100).items,
        statuses=list(InvoiceStatus),
        sources=list(InvoiceSource),
        types=list(InvoiceType),
    )


@router.get("/invoices/{invoice_id}")
def invoice_page(request: Request, invoice_id: PageId, user: User = Depends(viewer)) -> Response:
    return show_invoice(request, invoice_id)


def show_invoice(
    request: Request, invoice_id: int, error: str | None = None, status_code: int = 200
) -> Response:
    """An invoice's page, with what settled it; `error`: a refusal shown above it."""
    db = ctx(request).db
    invoice = found(invoicing.get_invoice, db, invoice_id)
    allocations, refunds = payments.settlements(db, invoice_id)
    return render(
        request,
        "invoices/page.html",
        status_code=status_code,
        invoice=invoice,
        corrects=corrected_invoices(db, invoice),
        deliveries=delivery.deliveries(db, invoice_id),
        allocations=allocations,
        refunds=refunds,
        methods=list(PaymentMethod),
        error=error,
        activity=recent_activity(request, "invoice", invoice_id),
    )


@router.get("/invoices/{invoice_id}/pdf")
def invoice_pdf(request: Request, invoice_id: PageId, user: User = Depends(viewer)) -> Response:
    context = ctx(request)
    invoice = found(invoicing.get_invoice, context.db, invoice_id)
    pdf = documents.document_pdf(context.db, invoice, context.settings.seller_name)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{invoice.number}.pdf"'},
    )


@router.post("/invoices/{invoice_id}/pay", dependencies=[Depends(check_csrf)])
def invoice_pay(request: Request, invoice_id: PageId, user: User = Depends(operator)) -> Response:
    context = ctx(request)
    try:
        invoice = payments.pay_in_full(context.db, invoice_id, user.actor, context.clock.today())
    except DomainError as error:
        found(invoicing.get_invoice, context.db, invoice_id)
        return show_invoice(request, invoice_id, sentence(error.message), 409)
    flash(request, f"{invoice.number} is marked as paid.")
    return RedirectResponse(f"/invoices/{invoice_id}", status_code=303)
