"""Billing > Billing runs: what the billing service did, and running it now."""

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from recur import presentation as fmt
from recur.domain.errors import DomainError, InvalidInput
from recur.domain.users import User
from recur.services import billing_run
from recur.services.run_heartbeat import shown_status
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.forms import Form, sentence, words
from recur.web.params import ListQuery
from recur.web.posted import Posted
from recur.web.templating import flash, render

router = APIRouter()


@router.get("/billing-runs")
def run_list(request: Request, view: ListQuery, user: User = Depends(viewer)) -> Response:
    page = billing_run.list_billing_runs(ctx(request).db, view.limit, view.cursor, view.sort)
    now = datetime.now(UTC)
    statuses = {run.id: shown_status(run, now) for run in page.items}
    return render(request, "runs/list.html", page=page, statuses=statuses)


# The documents a dry run lists one by one; beyond, its totals speak for them.
PREVIEW_ROWS = 50


@router.get("/billing-runs/preview")
def run_preview(
    request: Request, as_of: str | None = None, user: User = Depends(operator)
) -> Response:
    """Run now's first step: the as-of date asked, and what a run would issue (a dry run)."""
    context = ctx(request)
    today = context.clock.today()
    form = Form(FormData({"as_of": as_of or today.isoformat()}))
    day = form.day("as_of")
    preview = None
    if day is not None:
        try:
            preview = billing_run.preview_run(context.db, day, today)
        except DomainError as error:
            form.errors["as_of"] = words(error, "as_of")
    return render(
        request,
        "runs/preview.html",
        status_code=200 if form.ok else 422,
        nav_section="runs",
        as_of=form.text("as_of"),
        errors=form.errors,
        preview=preview,
        shown=preview.documents[:PREVIEW_ROWS] if preview else [],
    )


@router.post("/billing-runs", dependencies=[Depends(check_csrf)])
def run_now(request: Request, form: Posted, user: User = Depends(operator)) -> Response:
    """Run now's second step, confirmed after its preview: the run as of the date asked."""
    context = ctx(request)
    today = context.clock.today()
    as_of = form.day("as_of") if form.text("as_of") else today
    try:
        if as_of is None:
            raise InvalidInput("invalid_as_of", "as_of must be a date (YYYY-MM-DD)")
        run = billing_run.run_billing(context.db, as_of, today, triggered_by=user.actor)
    except DomainError as error:
        flash(request, sentence(error.message))
    else:
        issued = (
            "nothing was due"
            if not run.invoices_issued
            else f"{fmt.plural(run.invoices_issued, 'invoice')} issued"
        )
        errors = f", {fmt.plural(run.errors_count, 'account')} failed" if run.errors_count else ""
        flash(
            request, f"Billing run #{run.id} as of {fmt.day(as_of)} {run.status}: {issued}{errors}."
        )
    return RedirectResponse("/billing-runs", status_code=303)
