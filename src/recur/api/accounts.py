"""/accounts: customers, their pending invoices and manual generation."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, generated, respond
from recur.api.params import AsOf, Cursor, Format, IdPath, Limit, Sort, csv_list
from recur.api.responses import ModelResponse
from recur.api.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    AccountPendingOut,
    AddressIn,
    GenerateIn,
    GenerateOut,
    ListOut,
)
from recur.csv_export import ACCOUNT_COLUMNS, csv_response
from recur.domain.identity import NO_ADDRESS, Address
from recur.services import accounts, invoicing

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=ApiRoute)


def _address(body: AddressIn | None) -> Address:
    return NO_ADDRESS if body is None else body.domain()


@router.post(
    "",
    operation_id="create_account",
    summary="Create an account",
    status_code=201,
    response_model=AccountOut,
    responses=documented(403),
)
def create_account(
    body: AccountIn, request: Request, ctx: Ctx, caller: Caller, key: IdempotencyKey = None
) -> Response:
    """A customer: its currency, billing day, payment terms, tax and billing address."""
    spec = accounts.AccountSpec(
        **body.model_dump() | {"billing_address": _address(body.billing_address)}
    )
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        201,
        lambda: present.account(accounts.create_account(ctx.db, spec, caller.actor)),
    )


@router.get(
    "",
    operation_id="list_accounts",
    summary="List accounts",
    response_model=ListOut[AccountOut],
    responses=documented() | csv_list("accounts"),
)
def list_accounts(
    ctx: Ctx,
    today: Today,
    search: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Sort = None,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Accounts, a page at a time; `search` matches the name or the e-mail. Sorts: `name`
    (the default), `email`, `currency`, `billing_day`, `status`, `id` (creation order)."""
    if format == "csv":
        return csv_response(
            "accounts",
            ACCOUNT_COLUMNS,
            lambda at, size: accounts.list_accounts(ctx.db, search, size, at, sort),
            today,
        )
    found = accounts.list_accounts(ctx.db, search, limit, cursor, sort)
    return present.page(found, present.account)


@router.get(
    "/{account_id}",
    operation_id="get_account",
    summary="Get an account",
    response_model=AccountOut,
    responses=documented(404),
)
def get_account(account_id: IdPath, ctx: Ctx) -> AccountOut:
    """One account."""
    return present.account(accounts.get_account(ctx.db, account_id))


@router.patch(
    "/{account_id}",
    operation_id="update_account",
    summary="Update an account",
    response_model=AccountOut,
    responses=documented(403, 404, 409),
)
def update_account(
    account_id: IdPath,
    body: AccountPatch,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    key: IdempotencyKey = None,
) -> Response:
    """Only the fields sent change. The currency is locked once the account has
    subscriptions, the billing schedule once it has invoices (409)."""
    changes = body.changes()
    if "billing_address" in changes:
        changes["billing_address"] = _address(body.billing_address)
    return respond(
        ctx,
        request,
        caller,
        key,
        body,
        200,
        lambda: present.account(accounts.update_account(ctx.db, account_id, changes, caller.actor)),
    )


@router.get(
    "/{account_id}/pending-invoices",
    operation_id="list_account_pending_invoices",
    summary="Preview an account's pending invoices",
    response_model=AccountPendingOut,
    responses=documented(404),
)
async def account_pending(
    account_id: IdPath, ctx: Ctx, today: Today, as_of: AsOf = None
) -> ModelResponse:
    """What the account will be invoiced on `as_of` (default today) if nothing changes: the
    documents the engine would issue, and the subscriptions behind them. Nothing is stored."""
    # The API's hottest read: on the event loop, not in the thread pool (db/loop_reads.py).
    day = as_of or today

    def answer(pending: invoicing.AccountPending) -> ModelResponse:
        # The preview's subscriptions carry what is in force today (SPEC §10).
        return ModelResponse(
            AccountPendingOut(
                as_of=day,
                data=[present.pending_invoice(p) for p in pending.invoices],
                subscriptions=[
                    present.subscription(s, today, (s.quantity, s.pricing_option_id))
                    for s in pending.subscriptions
                ],
            )
        )

    return await invoicing.pending_for_account_on_loop(
        ctx.loop_reads, account_id, day, answer, today
    )


@router.post(
    "/{account_id}/invoices/generate",
    operation_id="generate_account_invoices",
    summary="Generate an account's invoices now",
    status_code=201,
    response_model=GenerateOut,
    responses=documented(403, 404, 409),
)
def generate_for_account(
    account_id: IdPath,
    body: GenerateIn,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> ModelResponse:
    """Issue the pending invoices of the chosen subscriptions of the account, dated today. With an
    `Idempotency-Key`, a retry answers the first invoices (`Idempotent-Replayed: true`)."""
    return generated(
        invoicing.generate_for_account(
            ctx.db, account_id, body.subscription_ids, today, caller.actor, key
        ),
        today,
    )
