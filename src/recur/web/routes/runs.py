"""Billing > Billing runs: what the billing service did, and running it now."""

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur import presentation as fmt
from recur.domain.errors import DomainError
from recur.domain.users import User
from recur.services import billing_run
from recur.services.run_heartbeat import shown_status
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.forms import sentence
from recur.web.params import ListQuery
from recur.web.templating import flash, render

router = APIRouter()


@router.get("/billing-runs")
def run_list(request: Request, view: ListQuery, user: User = Depends(viewer)) -> Response:
    page = billing_run.list_billing_runs(ctx(request).db, view.limit, view.cursor, view.sort)
    now = datetime.now(UTC)
    statuses = {run.id: shown_status(run, now) for run in page.items}
    return render(request, "runs/list.html", page=page, statuses=statuses)


@router.post("/billing-runs", dependencies=[Depends(check_csrf)])
def run_now(request: Request, user: User = Depends(operator)) -> Response:
    context = ctx(request)
    today = context.clock.today()
    try:
        run = billing_run.run_billing(context.db, today, today, triggered_by=f"user:{user.email}")
    except DomainError as error:
        flash(request, sentence(error.message))
    else:
        issued = {0: "nothing was due", 1: "1 invoice issued"}.get(
            run.invoices_issued, f"{run.invoices_issued} invoices issued"
        )
        errors = f", {run.errors_count} account(s) failed" if run.errors_count else ""
        flash(
            request, f"Billing run #{run.id} as of {fmt.day(today)} {run.status}: {issued}{errors}."
        )
    return RedirectResponse("/billing-runs", status_code=303)
