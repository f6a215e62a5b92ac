"""An account's statement in the back office: shown for a period, downloaded as PDF
and e-mailed through the outbox (services/statements.py)."""

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from recur.domain.errors import DomainError
from recur.domain.users import User
from recur.services import accounts, delivery, statements
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.errors import found
from recur.web.forms import Form as SubmittedForm
from recur.web.params import PageId
from recur.web.templating import flash, render

router = APIRouter()

PERIOD_FIELDS = {"from", "to"}


@router.get("/accounts/{account_id}/statement")
def statement_page(
    request: Request,
    account_id: PageId,
    period_from: Annotated[str, Query(alias="from", max_length=20)] = "",
    period_to: Annotated[str, Query(alias="to", max_length=20)] = "",
    user: User = Depends(viewer),
) -> Response:
    context = ctx(request)
    today = context.clock.today()
    form = SubmittedForm(
        FormData(
            {
                "from": period_from or date(today.year, 1, 1).isoformat(),
                "to": period_to or today.isoformat(),
            }
        )
    )
    period = _period(form)
    shown = None
    if period is not None:
        try:
            shown = statements.statement(context.db, account_id, *period)
        except DomainError as error:
            form.add_domain_error(error, PERIOD_FIELDS)
    account = found(accounts.get_account, context.db, account_id)
    return render(
        request,
        "accounts/statement.html",
        status_code=200 if form.ok else 422,
        account=account,
        section="statement",
        values=form.data,
        errors=form.errors,
        statement=shown,
        query=urlencode({"from": form.text("from"), "to": form.text("to")}),
        deliveries=delivery.statement_deliveries(context.db, account_id),
    )


@router.get("/accounts/{account_id}/statement.pdf")
async def statement_pdf(
    request: Request,
    account_id: PageId,
    period_from: Annotated[date, Query(alias="from")],
    period_to: Annotated[date, Query(alias="to")],
    user: User = Depends(viewer),
) -> Response:
    context = ctx(request)
    pdf = await run_in_threadpool(
        statements.statement_pdf,
        context.db,
        account_id,
        period_from,
        period_to,
        context.settings.seller_name,
    )
    name = statements.statement_file_name(account_id, period_from, period_to)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post("/accounts/{account_id}/statement/send", dependencies=[Depends(check_csrf)])
def statement_send(
    request: Request,
    account_id: PageId,
    period_from: Annotated[str, Form(alias="from")] = "",
    period_to: Annotated[str, Form(alias="to")] = "",
    user: User = Depends(operator),
) -> Response:
    """A plain `def` route: the service's transaction runs in the thread pool."""
    db = ctx(request).db
    form = SubmittedForm(FormData({"from": period_from, "to": period_to}))
    period = _period(form)
    if period is not None:
        try:
            statements.send_statement(db, account_id, *period, actor=user.actor)
            flash(request, "The statement is queued to be e-mailed; the log below shows when.")
        except DomainError as error:
            form.add_domain_error(error, PERIOD_FIELDS)
    if not form.ok:
        flash(request, "Not sent: " + " ".join(form.errors.values()))
    query = urlencode({"from": period_from, "to": period_to})
    return RedirectResponse(f"/accounts/{account_id}/statement?{query}", status_code=303)


def _period(form: SubmittedForm) -> tuple[date, date] | None:
    first, last = form.day("from"), form.day("to")
    return None if first is None or last is None else (first, last)
