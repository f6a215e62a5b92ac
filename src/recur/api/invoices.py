"""/invoices: issued invoices and credit notes, their PDF, and payment."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.openapi import file_response
from recur.api.params import Cursor, Format, IdPath, IdQuery, Limit, Sort, csv_list
from recur.api.schemas import InvoiceOut, ListOut
from recur.csv_export import INVOICE_COLUMNS, csv_response
from recur.domain.catalogue import InvoiceSource, InvoiceStatus, InvoiceType
from recur.domain.issued import InvoiceFilter
from recur.services import documents, invoicing, payments

router = APIRouter(prefix="/invoices", tags=["invoices"], route_class=ApiRoute)

DateFilter = Annotated[date | None, Query(description="Inclusive")]


@router.get(
    "",
    operation_id="list_invoices",
    summary="List invoices",
    response_model=ListOut[InvoiceOut],
    responses=documented() | csv_list("invoices"),
)
def list_invoices(
    ctx: Ctx,
    today: Today,
    account_id: IdQuery = None,
    status: InvoiceStatus | None = None,
    source: InvoiceSource | None = None,
    type: Annotated[
        InvoiceType | None,
        Query(description="`credit`: credit notes only; `invoice`: no credit notes"),
    ] = None,
    issued_from: DateFilter = None,
    issued_to: DateFilter = None,
    number: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Sort = None,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Issued invoices and credit notes, a page at a time, newest first by default.
    Sorts: `issue_date`, `number`, `type`, `account` (its name), `due_date`, `total`,
    `status`, `source`, `id`."""
    where = InvoiceFilter(
        account_id=account_id,
        status=status,
        source=source,
        type=type,
        issued_from=issued_from,
        issued_to=issued_to,
        number=number or None,
    )
    if format == "csv":  # a table's rows: no invoice's items are read
        return csv_response(
            "invoices",
            INVOICE_COLUMNS,
            lambda at, size: invoicing.list_invoice_rows(ctx.db, where, size, at, sort),
            today,
        )
    page = invoicing.list_invoices(ctx.db, where, limit, cursor, sort)
    return present.page(page, lambda invoice: present.invoice(invoice, today))


@router.get(
    "/{invoice_id}",
    operation_id="get_invoice",
    summary="Get an invoice",
    response_model=InvoiceOut,
    responses=documented(404),
)
def get_invoice(invoice_id: IdPath, ctx: Ctx, today: Today) -> InvoiceOut:
    """One invoice or credit note: its items, totals and what is still due."""
    return present.invoice(invoicing.get_invoice(ctx.db, invoice_id), today)


@router.get(
    "/{invoice_id}/pdf",
    operation_id="get_invoice_pdf",
    summary="Download an invoice's PDF",
    response_class=Response,
    responses={
        200: file_response(
            "application/pdf", "The invoice as PDF", 'inline; filename="INV-2027-000001.pdf"'
        ),
        **documented(404),
    },
)
async def invoice_pdf(invoice_id: IdPath, ctx: Ctx) -> Response:
    """The invoice or credit note as a PDF document, named by its number."""
    invoice = await run_in_threadpool(invoicing.get_invoice, ctx.db, invoice_id)
    pdf = await run_in_threadpool(documents.document_pdf, ctx.db, invoice, ctx.settings.seller_name)
    headers = {"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post(
    "/{invoice_id}/pay",
    operation_id="pay_invoice",
    summary="Pay an invoice in full",
    response_model=InvoiceOut,
    responses=documented(403, 404, 409),
)
def pay_invoice(
    invoice_id: IdPath,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    """A payment of the whole amount due, received today (SPEC §18)."""
    return respond(
        ctx,
        request,
        caller,
        key,
        None,
        200,
        lambda: present.invoice(
            payments.pay_in_full(ctx.db, invoice_id, caller.actor, today), today
        ),
    )
