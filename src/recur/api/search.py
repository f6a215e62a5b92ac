"""/search: the global search, as the back office's top bar does it."""

from typing import Annotated

from fastapi import APIRouter, Query

from recur.api.deps import Ctx
from recur.api.errors import ApiRoute, documented
from recur.api.schemas import SearchHitOut, SearchOut
from recur.domain.catalogue import InvoiceType
from recur.services import search as searching

router = APIRouter(prefix="/search", tags=["search"], route_class=ApiRoute)


@router.get(
    "",
    response_model=SearchOut,
    responses=documented(),
    summary="Find accounts, invoices and subscriptions",
    operation_id="search",
)
def search(
    ctx: Ctx,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=searching.MAX_SEARCH,
            description="Part of an account's name or e-mail, part of an invoice number,"
            " or a subscription id (`42` or `#42`); case-insensitive",
        ),
    ],
) -> SearchOut:
    """Accounts whose name or e-mail contains `q`, invoices and credit notes whose
    number contains it (the first 10 of each, with how many match in all), and the
    subscription it names by id. The lists (`GET /accounts?search=`,
    `GET /invoices?number=`) page through every match."""
    found = searching.search(ctx.db, q)
    hits = [
        SearchHitOut(type="account", id=a.id, label=a.name, detail=a.email)
        for a in found.accounts.items
    ]
    hits += [
        SearchHitOut(
            type="invoice",
            id=i.id,
            label=i.number,
            detail=f"{'credit note' if i.type == InvoiceType.CREDIT.value else 'invoice'} of {i.account.name}",
        )
        for i in found.invoices.items
    ]
    hits += [
        SearchHitOut(
            type="subscription",
            id=s.id,
            label=f"{s.pricing_option.product.name} #{s.id}",
            detail=s.account.name,
        )
        for s in found.subscriptions
    ]
    return SearchOut(
        query=found.text,
        data=hits,
        accounts_total=found.accounts.total,
        invoices_total=found.invoices.total,
    )
