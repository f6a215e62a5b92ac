"""`recur accounts`, `recur subscriptions`, `recur products`: the lists behind the
other commands' ids and names, a page at a time (--cursor for the next)."""

from typing import Annotated, Any

import typer

from recur.cli.app import app, context, domain_errors
from recur.cli.output import emit, json_wanted
from recur.cli.table import print_table
from recur.domain.catalogue import SubscriptionStatus
from recur.domain.pages import MAX_LIMIT, Page
from recur.presentation import money, percent, price
from recur.services import accounts as account_service
from recur.services import catalogue
from recur.services import subscriptions as subscription_service

Limit = Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="How many to list.")]
Cursor = Annotated[
    str | None, typer.Option(help="Continue where the last page ended (its next cursor).")
]


def _footer(page: Page[Any], noun: str) -> None:
    typer.echo(f"{len(page.items)} of {page.total} {noun}")
    if page.next_cursor:
        typer.echo(f"next page: --cursor {page.next_cursor}")


@app.command("accounts")
@domain_errors
def list_accounts(
    search: Annotated[str | None, typer.Option(help="Part of a name or e-mail.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> None:
    """List accounts, by name, with their open balance."""
    db = context().db
    page = account_service.list_accounts(db, search=search, limit=limit, cursor=cursor)
    if json_wanted():
        emit(page)
        return
    summaries = account_service.account_summaries(db, [a.id for a in page.items])
    print_table(
        ["Id", "Name", "E-mail", "Currency", "Tax", "Open balance", "Next invoice", "Status"],
        [
            [
                str(a.id),
                a.name,
                a.email,
                a.currency,
                percent(a.tax_rate),
                money(summaries[a.id].open_balance, a.currency),
                summaries[a.id].next_invoice_date,
                a.status,
            ]
            for a in page.items
        ],
        right={0, 4, 5},
    )
    _footer(page, "accounts")


@app.command("subscriptions")
@domain_errors
def list_subscriptions(
    account: Annotated[str | None, typer.Option(help="Account id or name (any case).")] = None,
    status: Annotated[SubscriptionStatus | None, typer.Option(help="As of today.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> None:
    """List subscriptions, with what they bill and their next charge."""
    ctx = context()
    today = ctx.clock.today()
    account_id = account_service.find_account(ctx.db, account).id if account else None
    page = subscription_service.list_subscription_rows(
        ctx.db, account_id, status, limit=limit, cursor=cursor, today=today
    )
    if json_wanted():
        emit(page)
        return
    print_table(
        ["Id", "Account", "Product", "Qty", "Unit price", "Start", "Next charge", "Status"],
        [
            [
                str(s.id),
                s.account.name,
                s.pricing_option.product.name,
                str(s.quantity),
                price(s.pricing_option.unit_price, s.pricing_option.currency),
                s.start_date,
                s.next_charge_date,
                subscription_service.effective_status(s, today).value,
            ]
            for s in page.items
        ],
        right={0, 3, 4},
    )
    _footer(page, "subscriptions")


@app.command("products")
@domain_errors
def list_products(limit: Limit = 50, cursor: Cursor = None) -> None:
    """List products and their pricing options (the ids `recur subscription change` takes)."""
    page = catalogue.list_products(context().db, limit=limit, cursor=cursor)
    if json_wanted():
        emit(page)
        return
    print_table(
        ["Product", "SKU", "Option", "Code", "Period", "Type", "Unit price", "Active"],
        [
            [
                f"{p.name} (#{p.id})",
                p.sku,
                str(o.id),
                o.code,
                o.billing_period,
                o.billing_type,
                price(o.unit_price, o.currency),
                "yes" if o.active else "no",
            ]
            for p in page.items
            for o in p.pricing_options
        ],
        right={2, 6},
    )
    _footer(page, "products")
