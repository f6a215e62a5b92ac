"""/metrics and /forecast: the business's figures and what the engine will issue (SPEC §19)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.params import Cursor, IdPath, Limit
from recur.api.schemas import ForecastJobOut, ForecastOut, ListOut, MetricsOut, PendingInvoiceOut
from recur.csv_export import forecast_csv
from recur.services import forecast
from recur.services import metrics as figures

router = APIRouter(tags=["metrics"], route_class=ApiRoute)

Months = Annotated[int, Query(description="How many months ahead (1–24)")]
Format = Annotated[Literal["json", "csv"], Query(description="`csv`: one row per document")]


@router.get(
    "/metrics",
    response_model=MetricsOut,
    summary="The business's figures in one currency",
    operation_id="get_metrics",
    responses=documented(),
)
def get_metrics(
    ctx: Ctx, today: Today, currency: Annotated[str, Query(description="ISO 4217, e.g. EUR")]
) -> MetricsOut:
    """MRR and ARR in force today with their last 12 month ends, the total the engine
    would issue in the next 30 days, what is overdue, and totals issued per month.

    The figures are computed in the background and kept until the book changes: the
    answer is immediate, with `computed_at`, and `refreshing` while newer figures are
    being computed (then ask again). Every figure is null until computed once."""
    return present.metrics(currency, today, figures.metrics(ctx.db, currency, today))


@router.get(
    "/accounts/{account_id}/forecast",
    response_model=ForecastOut,
    summary="What an account will be issued over the next months",
    operation_id="get_account_forecast",
    responses={200: {"content": {"text/csv": {}}}, **documented(404)},
)
def get_account_forecast(
    account_id: IdPath, ctx: Ctx, today: Today, months: Months = 12, format: Format = "json"
) -> Any:
    """Every document the engine would issue to the account from today for `months`
    months if nothing changed and every run happened on time, in issue order, each as
    a pending invoice is shown."""
    documents = forecast.account_forecast(ctx.db, account_id, today, months)
    if format == "csv":
        return forecast_csv(f"forecast-account-{account_id}", forecast.as_issued(documents))
    return ForecastOut(
        as_of=today, months=months, data=[present.pending_invoice(d) for d in documents]
    )


@router.get(
    "/forecast",
    status_code=202,
    response_model=ForecastJobOut,
    summary="Start the whole book's forecast",
    operation_id="start_book_forecast",
    responses={
        202: {"headers": {"Location": {"description": "The job", "schema": {"type": "string"}}}},
        **documented(403),
    },
)
def start_book_forecast(
    request: Request, ctx: Ctx, caller: Caller, today: Today, months: Months = 12
) -> JSONResponse:
    """Compute every account's forecast in the background: answers at once with the job;
    fetch it at its `Location` until `done`, then its documents."""
    job = forecast.start_book_forecast(ctx.db, today, months, caller.actor)
    body = present.forecast_job(job, _documents_url(request, job.id))
    location = str(request.url_for("get_forecast_job", job_id=job.id).path)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": location}
    )


@router.get(
    "/forecast/jobs/{job_id}",
    response_model=ForecastJobOut,
    summary="A whole-book forecast job",
    operation_id="get_forecast_job",
    responses=documented(404),
)
def get_forecast_job(request: Request, job_id: IdPath, ctx: Ctx) -> ForecastJobOut:
    """The job's status; once `done`, its documents are at `documents_url`."""
    return present.forecast_job(forecast.get_job(ctx.db, job_id), _documents_url(request, job_id))


@router.get(
    "/forecast/jobs/{job_id}/documents",
    response_model=ListOut[PendingInvoiceOut],
    summary="A finished forecast job's documents",
    operation_id="list_forecast_documents",
    responses={200: {"content": {"text/csv": {}}}, **documented(404, 409)},
)
def list_forecast_documents(
    job_id: IdPath,
    ctx: Ctx,
    limit: Limit = 50,
    cursor: Cursor = None,
    format: Format = "json",
) -> Any:
    """The job's documents in issue order, a page at a time (`format=csv`: all of them,
    one row per document). Refused (`409`) until the job is done."""
    if format == "csv":
        return forecast_csv(f"forecast-{job_id}", forecast.finished_documents(ctx.db, job_id))
    return present.page(forecast.job_page(ctx.db, job_id, limit, cursor), present.forecast_document)


def _documents_url(request: Request, job_id: int) -> str:
    return str(request.url_for("list_forecast_documents", job_id=job_id).path)
