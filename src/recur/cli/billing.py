"""`recur db upgrade`, `demo`, `billing run`, `pending`, `generate`, `invoices`, `invoice`."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from recur.cli import delivery, payments
from recur.cli.app import Yes, app, confirm, context, domain_errors
from recur.cli.documents import print_documents, print_items, print_totals, totals, type_name
from recur.cli.output import as_json, emit, json_wanted
from recur.cli.table import print_table, say
from recur.db.migrate import upgrade
from recur.demo import check_demo_target, create_demo_users, has_data, invoice_count, load_demo
from recur.domain.invoices import totals_by_currency
from recur.domain.issued import Invoice, InvoiceFilter
from recur.presentation import day as day_text
from recur.presentation import money, period, plural, price, ratio
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
@domain_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    upgrade(context().settings.database_url)
    if json_wanted():
        emit({"database": "up to date"})
    else:
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
        if json_wanted():
            emit({"loaded": False, "invoices": invoice_count(ctx.db), "sign_ins": []})
            return
        typer.echo(
            "the database already has data: demo not loaded (its sign-ins were printed when "
            "it was; `recur user create` adds one)"
        )
        return
    if not force:
        check_demo_target(ctx.db)
    load_demo(ctx.db, ctx.clock.today())
    count = invoice_count(ctx.db)
    signins = create_demo_users(ctx.db)
    if json_wanted():
        emit(
            {
                "loaded": True,
                "invoices": count,
                "sign_ins": [{"email": e, "password": pw, "role": r} for e, pw, r in signins],
            }
        )
        return
    typer.echo(f"demo loaded: {count} invoices of history up to {ctx.clock.today()}")
    if signins:
        typer.echo("sign in to the back office with one of (shown once; keep them):")
    for email, password, role in signins:
        typer.echo(f"  {role:<9} {email}  password: {password}")


DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Only show what it would issue; issue nothing.")
]
# The documents a run's preview lists one by one; beyond, its totals speak for them.
RUN_PREVIEW_ROWS = 50


@billing_app.command("run")
@domain_errors
def billing_run_command(as_of: AsOf = None, yes: Yes = False, dry_run: DryRun = False) -> None:
    """Issue every charge due by AS_OF (default today), after showing what it will issue
    (a dry run) and asking; a second run issues nothing."""
    ctx = context()
    today = ctx.clock.today()
    day = as_of or today
    preview = billing_run.preview_run(ctx.db, day, today)
    if not json_wanted():
        _print_run_preview(preview)
    if dry_run:
        if json_wanted():
            emit({"dry_run": True, "preview": _run_preview_json(preview), "run": None})
        return
    if not preview.documents:
        yes = True  # nothing to issue: the run only records that it ran
    confirm(_issue_question(len(preview.documents)), yes)
    run = billing_run.run_billing(ctx.db, day, today, "cli")
    if json_wanted():
        emit({"dry_run": False, "preview": _run_preview_json(preview), "run": run})
        return
    typer.echo(
        f"billing run {run.id} as of {run.as_of}: {run.status}, "
        f"{plural(run.accounts_processed, 'account')}, {plural(run.invoices_issued, 'invoice')}, "
        f"{plural(run.charges_issued, 'charge')}, {plural(run.errors_count, 'error')}"
    )
    for error in run.errors:
        say(f"  account {error.account_id}: {error.message}", err=True)


def _print_run_preview(preview: billing_run.RunPreview) -> None:
    say(
        f"A billing run as of {preview.as_of} would issue "
        f"{plural(len(preview.documents), 'document')} for {plural(preview.accounts, 'account')}"
    )
    if preview.documents:
        shown = preview.documents[:RUN_PREVIEW_ROWS]
        print_table(
            ["Account", "Issue date", "Type", "Currency", "Subtotal", "Tax", "Total"],
            [
                [str(d.account_id), d.issue_date, type_name(d), d.currency, *totals(d)]
                for d in shown
            ],
            right={0, 4, 5, 6},
        )
        if len(preview.documents) > len(shown):
            typer.echo(f"(the first {len(shown)} are listed)")
        print_totals(preview.totals)
    for account_id, message in preview.failures:
        say(f"  account {account_id} would fail: {message}", err=True)


def _run_preview_json(preview: billing_run.RunPreview) -> dict[str, object]:
    return {
        "as_of": preview.as_of,
        "accounts": preview.accounts,
        "documents": preview.documents,
        "totals": preview.totals,
        "failures": [{"account_id": a, "message": m} for a, m in preview.failures],
    }


@app.command()
@domain_errors
def pending(
    account: Annotated[str, typer.Argument(help="Account id or name (any case).")],
    as_of: AsOf = None,
) -> None:
    """Show an account's pending invoices: what will be issued, when, for how much."""
    ctx = context()
    found = accounts.find_account(ctx.db, account)
    today = ctx.clock.today()
    preview = invoicing.pending_for_account(ctx.db, found.id, as_of or today, today)
    if json_wanted():
        emit(
            {
                "account": {"id": found.id, "name": found.name},
                "as_of": preview.as_of,
                "documents": preview.invoices,
                "totals": totals_by_currency(preview.invoices),
            }
        )
        return
    say(f"Pending invoices of {found.name} as of {day_text(preview.as_of)}")
    if not preview.invoices:
        typer.echo("nothing pending")
        return
    print_table(
        ["#", "Account", "Issue date", "Type", "Currency", "Subtotal", "Tax", "Total"],
        [
            [str(n), found.name, inv.issue_date, type_name(inv), inv.currency, *totals(inv)]
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
    account: Annotated[str, typer.Argument(help="Account id or name (any case).")],
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
    yes: Yes = False,
    dry_run: DryRun = False,
) -> None:
    """Generate invoices now, today, for the chosen subscriptions of an account, after
    showing what will be issued and asking."""
    ctx = context()
    today = ctx.clock.today()
    found = accounts.find_account(ctx.db, account)
    selection = (
        subscription or invoicing.pending_for_account(ctx.db, found.id, today).subscription_ids
    )
    documents = invoicing.preview_generation(ctx.db, found.id, selection, today)
    shown = {
        "account": {"id": found.id, "name": found.name},
        "subscriptions": selection,
        "documents": documents,
        "totals": totals_by_currency(documents),
    }
    if not json_wanted():
        say(f"Generating for {found.name} would issue today:")
        print_documents(documents)
        print_totals(totals_by_currency(documents))
    if dry_run:
        if json_wanted():
            emit({"dry_run": True, **shown, "issued": []})
        return
    confirm(_issue_question(len(documents)), yes)
    issued = invoicing.generate_for_account(ctx.db, found.id, selection, today, "cli")
    if json_wanted():
        emit({"dry_run": False, **shown, "issued": issued.invoices})
        return
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
    if json_wanted():
        emit(page)
        return
    print_table(
        ["Number", "Account", "Issue date", "Due date", "Total", "Status", "Source"],
        [
            [
                i.number,
                i.account.name,
                i.issue_date,
                i.due_date,
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
    corrects = list(corrected_invoices(db, inv).values())
    if json_wanted():
        emit({**as_json(inv), "corrects": corrects})
        return
    _print_invoice(inv, corrects)


_VERBS: dict[str, Callable[[str], None]] = {
    "void": payments.void,
    "send": delivery.send,
    "deliveries": delivery.deliveries,
}


def _print_invoice(inv: Invoice, corrects: list[str]) -> None:
    say(f"{inv.number}  {inv.account.name}  ({inv.type}, {inv.status}, {inv.source})")
    say(f"paid {money(inv.amount_paid, inv.currency)}, open {money(inv.amount_due, inv.currency)}")
    say(
        f"issued {day_text(inv.issue_date)}, due {day_text(inv.due_date)}"
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


def _issue_question(count: int) -> str:
    return "Issue this document?" if count == 1 else f"Issue these {count} documents?"
