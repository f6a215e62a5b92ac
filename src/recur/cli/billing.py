"""`recur db upgrade`, `demo`, `billing run`, `pending`, `generate`, `invoices`, `invoice`."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from recur.cli import delivery, payments
from recur.cli.app import app, context, domain_errors
from recur.cli.documents import print_items, totals, type_name
from recur.cli.table import print_table, say
from recur.db.migrate import upgrade
from recur.demo import check_demo_target, create_demo_users, has_data, invoice_count, load_demo
from recur.domain.issued import Invoice, InvoiceFilter
from recur.presentation import day, money, period, price, ratio
from recur.services import accounts, billing_run, invoicing
from recur.services.corrections import corrected_invoices
from recur.services.validation import MAX_ID

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
billing_app = typer.Typer(help="The Billing Service.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(billing_app, name="billing")

AsOf = Annotated[
    date | None, typer.Option(formats=["%Y-%m-%d"], help="Date to bill as of (default: today).")
]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    upgrade(context().settings.database_url)
    typer.echo("database is up to date")


@app.command()
@domain_errors
def demo(
    force: Annotated[
        bool, typer.Option("--force", help="Load even into PostgreSQL or a database with data.")
    ] = False,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Do nothing, successfully, if the database has data."),
    ] = False,
) -> None:
    """Load a realistic demo catalogue, accounts, a year of billing history and sign-ins
    into an empty embedded database."""
    ctx = context()
    if if_empty and not force and has_data(ctx.db):
        typer.echo(
            "the database already has data: demo not loaded (its sign-ins were printed when "
            "it was; `recur user create` adds one)"
        )
        return
    if not force:
        check_demo_target(ctx.db)
    load_demo(ctx.db, ctx.clock.today())
    count = invoice_count(ctx.db)
    typer.echo(f"demo loaded: {count} invoices of history up to {ctx.clock.today()}")
    signins = create_demo_users(ctx.db)
    if signins:
        typer.echo("sign in to the back office with one of (shown once; keep them):")
    for email, password, role in signins:
        typer.echo(f"  {role:<9} {email}  password: {password}")


@billing_app.command("run")
@domain_errors
def billing_run_command(as_of: AsOf = None) -> None:
    """Issue every charge due by AS_OF (default today); a second run issues nothing."""
    ctx = context()
    today = ctx.clock.today()
    run = billing_run.run_billing(ctx.db, as_of or today, today, "cli")
    typer.echo(
        f"billing run {run.id} as of {run.as_of}: {run.status}, {run.accounts_processed} accounts, "
        f"{run.invoices_issued} invoices, {run.charges_issued} charges, {run.errors_count} errors"
    )
    for error in run.errors:
        say(f"  account {error.account_id}: {error.message}", err=True)


@app.command()
@domain_errors
def pending(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")], as_of: AsOf = None
) -> None:
    """Show an account's pending invoices: what will be issued, when, for how much."""
    ctx = context()
    found = accounts.find_account(ctx.db, account)
    today = ctx.clock.today()
    preview = invoicing.pending_for_account(ctx.db, found.id, as_of or today, today)
    say(f"Pending invoices of {found.name} as of {preview.as_of}")
    if not preview.invoices:
        typer.echo("nothing pending")
        return
    print_table(
        ["#", "Account", "Issue date", "Type", "Currency", "Subtotal", "Tax", "Total"],
        [
            [str(n), found.name, str(inv.issue_date), type_name(inv), inv.currency, *totals(inv)]
            for n, inv in enumerate(preview.invoices, start=1)
        ],
        right={0, 5, 6, 7},
    )
    for n, inv in enumerate(preview.invoices, start=1):
        typer.echo(f"\n#{n} items")
        print_items(inv)


@app.command()
@domain_errors
def generate(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    subscription: Annotated[
        list[int] | None,
        typer.Option(
            "--subscription",
            "-s",
            min=1,
            max=MAX_ID,
            help="Subscription id (repeatable; default: all pending).",
        ),
    ] = None,
) -> None:
    """Generate invoices now, today, for the chosen subscriptions of an account."""
    ctx = context()
    today = ctx.clock.today()
    found = accounts.find_account(ctx.db, account)
    selection = (
        subscription or invoicing.pending_for_account(ctx.db, found.id, today).subscription_ids
    )
    issued = invoicing.generate_for_account(ctx.db, found.id, selection, today, "cli")
    for inv in issued.invoices:
        typer.echo(f"issued {inv.number} dated {inv.issue_date}: {money(inv.total, inv.currency)}")


@app.command()
@domain_errors
def invoices(
    account: Annotated[str | None, typer.Option(help="Account id or exact name.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
) -> None:
    """List issued invoices, newest first."""
    ctx = context()
    where = InvoiceFilter(account_id=accounts.find_account(ctx.db, account).id if account else None)
    page = invoicing.list_invoices(ctx.db, where, limit)
    print_table(
        ["Number", "Account", "Issue date", "Due date", "Total", "Status", "Source"],
        [
            [
                i.number,
                i.account.name,
                str(i.issue_date),
                str(i.due_date),
                money(i.total, i.currency),
                i.status,
                i.source,
            ]
            for i in page.items
        ],
        right={4},
    )
    typer.echo(f"{len(page.items)} of {page.total} invoices")


@app.command()
@domain_errors
def invoice(
    number: Annotated[
        str,
        typer.Argument(
            help="Invoice number, e.g. INV-2027-000001 (or `void`, `send`, `deliveries`)."
        ),
    ],
    target: Annotated[
        str | None, typer.Argument(help="After a verb: the number of the document.")
    ] = None,
) -> None:
    """Show one invoice or credit note: its header, the invoices it corrects, its items.
    `recur invoice void NUMBER` voids an invoice issued in error (a credit note cancels it);
    `recur invoice send NUMBER` queues its e-mail (send or resend);
    `recur invoice deliveries NUMBER` shows its delivery log."""
    verb = _VERBS.get(number)
    if verb is not None and target is not None:
        verb(target)
        return
    db = context().db
    inv = invoicing.get_invoice_by_number(db, number)
    _print_invoice(inv, list(corrected_invoices(db, inv).values()))


_VERBS: dict[str, Callable[[str], None]] = {
    "void": payments.void,
    "send": delivery.send,
    "deliveries": delivery.deliveries,
}


def _print_invoice(inv: Invoice, corrects: list[str]) -> None:
    say(f"{inv.number}  {inv.account.name}  ({inv.type}, {inv.status}, {inv.source})")
    say(f"paid {money(inv.amount_paid, inv.currency)}, open {money(inv.amount_due, inv.currency)}")
    say(
        f"issued {day(inv.issue_date)}, due {day(inv.due_date)}"
        + (f", by {inv.generated_by}" if inv.generated_by else "")
    )
    if corrects:
        say(f"corrects {', '.join(corrects)}")
    print_table(
        ["Description", "Period", "Qty", "Unit price", "Proration", "Amount", "Explanation"],
        [
            [
                item.description,
                period(item.period_start, item.period_end),
                str(item.quantity),
                price(item.unit_price, inv.currency),
                ratio(item.proration),
                money(item.amount, inv.currency),
                item.explanation,
            ]
            for item in inv.items
        ],
        right={2, 3, 4, 5},
    )
    for label, value in (("Subtotal", inv.subtotal), ("Tax", inv.tax), ("Total", inv.total)):
        typer.echo(f"{label:>10}: {money(Decimal(value), inv.currency)}")
