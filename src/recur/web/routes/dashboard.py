"""The home page (the dashboard) and the forecasts: the business at a glance (SPEC §19)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from recur.csv_export import forecast_csv
from recur.domain.calendar import add_months, days_in_month
from recur.domain.errors import DomainError
from recur.domain.invoices import PendingInvoice
from recur.domain.metrics import MonthFigure, month_totals
from recur.domain.users import User
from recur.services import accounts, billing_run, forecast
from recur.services import metrics as figures
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.charts import bar_chart, line_chart
from recur.web.errors import found
from recur.web.forms import sentence
from recur.web.params import PageId
from recur.web.templating import flash, render

router = APIRouter()

RECENT_RUNS = 5


@dataclass(frozen=True)
class CurrencySection:
    """One currency's figures with its charts; None until first computed (in the
    background: the page says so)."""

    currency: str
    figures: figures.Metrics | None
    mrr_chart: str | None
    invoiced_chart: str | None


def month_range(month: str) -> tuple[date, date]:
    """The first and last day of a YYYY-MM month (an invoice list's filter)."""
    first = date.fromisoformat(f"{month}-01")
    return first, first.replace(day=days_in_month(first.year, first.month))


@router.get("/")
def dashboard(request: Request, user: User = Depends(viewer)) -> Response:
    context = ctx(request)
    today = context.clock.today()
    sections = []
    for currency in figures.currencies(context.db):
        found_figures = figures.metrics(context.db, currency, today)
        if found_figures is None:
            sections.append(CurrencySection(currency, None, None, None))
            continue
        sections.append(
            CurrencySection(
                currency,
                found_figures,
                _chart(line_chart, f"MRR ({currency})", found_figures.mrr_by_month),
                _chart(
                    bar_chart, f"Invoiced per month ({currency})", found_figures.invoiced_by_month
                ),
            )
        )
    runs = billing_run.list_billing_runs(context.db, limit=RECENT_RUNS).items
    return render(
        request,
        "dashboard/home.html",
        sections=sections,
        runs=runs,
        month_range=month_range,
        next_until=add_months(today, 1),
    )


Chart = Callable[[str, tuple[str, ...], tuple[Decimal, ...]], str]


def _chart(draw: Chart, title: str, months: list[MonthFigure]) -> str:
    return draw(title, tuple(m.month for m in months), tuple(m.amount for m in months))


@router.get("/accounts/{account_id}/forecast")
def account_forecast(
    request: Request, account_id: PageId, months: int = 12, user: User = Depends(viewer)
) -> Response:
    context = ctx(request)
    today = context.clock.today()
    account = found(accounts.get_account, context.db, account_id)
    documents = forecast.account_forecast(context.db, account_id, today, months)
    totals = _month_totals(documents, account.currency)
    return render(
        request,
        "accounts/forecast.html",
        account=account,
        section="forecast",
        months=months,
        documents=documents,
        totals=totals,
        chart=_chart(bar_chart, f"Forecast per month ({account.currency})", totals),
    )


def _month_totals(documents: list[PendingInvoice], currency: str) -> list[MonthFigure]:
    return month_totals(((d.issue_date, d.totals.total) for d in documents), currency)


@router.get("/accounts/{account_id}/forecast.csv")
def account_forecast_csv(
    request: Request, account_id: PageId, months: int = 12, user: User = Depends(viewer)
) -> Response:
    context = ctx(request)
    documents = forecast.account_forecast(context.db, account_id, context.clock.today(), months)
    return forecast_csv(f"forecast-account-{account_id}", forecast.as_issued(documents))


@router.get("/forecast")
def book_forecast_form(request: Request, user: User = Depends(viewer)) -> Response:
    return render(request, "forecast/start.html", max_months=forecast.MAX_MONTHS)


@router.post("/forecast", dependencies=[Depends(check_csrf)])
def book_forecast_start(
    request: Request, months: Annotated[str, Form()] = "12", user: User = Depends(operator)
) -> Response:
    context = ctx(request)
    try:
        # Not a number: 0 months, refused in the words every door uses.
        wanted = int(months) if months.strip().isdigit() else 0
        job = forecast.start_book_forecast(
            context.db, context.clock.today(), wanted, f"user:{user.email}"
        )
    except DomainError as error:
        flash(request, sentence(error.message))
        return RedirectResponse("/forecast", status_code=303)
    return RedirectResponse(f"/forecast/jobs/{job.id}", status_code=303)


@router.get("/forecast/jobs/{job_id}.csv")
def book_forecast_csv(request: Request, job_id: PageId, user: User = Depends(viewer)) -> Response:
    documents = found(forecast.finished_documents, ctx(request).db, job_id)
    return forecast_csv(f"forecast-{job_id}", documents)


@router.get("/forecast/jobs/{job_id}")
def book_forecast_job(request: Request, job_id: PageId, user: User = Depends(viewer)) -> Response:
    db = ctx(request).db
    job = found(forecast.get_job, db, job_id)
    sections = []
    if job.status == "done":
        for currency, totals in forecast.job_month_totals(db, job_id).items():
            chart = _chart(bar_chart, f"Forecast per month ({currency})", totals)
            sections.append((currency, totals, chart))
    return render(request, "forecast/job.html", job=job, sections=sections)
