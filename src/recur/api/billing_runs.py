"""/billing-runs: run the Billing Service now, and its record of runs."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.params import Cursor, IdPath, Limit, Sort
from recur.api.schemas import BillingRunIn, BillingRunOut, ListOut
from recur.services import billing_run

router = APIRouter(prefix="/billing-runs", tags=["billing runs"], route_class=ApiRoute)


@router.post(
    "",
    operation_id="start_billing_run",
    summary="Run the Billing Service now",
    status_code=201,
    response_model=BillingRunOut,
    responses=documented(403),
)
def start_billing_run(
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    body: BillingRunIn | None = None,
    key: IdempotencyKey = None,
) -> Response:
    """Issue every charge due by `as_of` (default today), dated `as_of`; answers when done."""
    as_of = (body.as_of if body else None) or today

    def produce() -> BillingRunOut:
        run = billing_run.run_billing(ctx.db, as_of, today, caller.actor)
        return present.billing_run(run)

    return respond(ctx, request, caller, key, body, 201, produce)


@router.get(
    "",
    operation_id="list_billing_runs",
    summary="List billing runs",
    response_model=ListOut[BillingRunOut],
    responses=documented(),
)
def list_billing_runs(
    ctx: Ctx, limit: Limit = 50, cursor: Cursor = None, sort: Sort = None
) -> dict[str, Any]:
    """The Billing Service's runs, with their errors. Sorts: `id` (default `-id`, newest
    first), `as_of`, `started_at`, `invoices_issued`, `errors_count`."""
    found = billing_run.list_billing_runs(ctx.db, limit, cursor, sort)
    return present.page(found, present.billing_run)


@router.get(
    "/{run_id}",
    operation_id="get_billing_run",
    summary="Get a billing run",
    response_model=BillingRunOut,
    responses=documented(404),
)
def get_billing_run(run_id: IdPath, ctx: Ctx) -> BillingRunOut:
    """One run: its counts and the errors of the accounts it could not bill."""
    return present.billing_run(billing_run.get_billing_run(ctx.db, run_id))
