"""`recur account create|update|statement`: accounts with their billing identity and
e-mail delivery (SPEC §17), and their statement of account."""

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from recur.cli.app import app, context, domain_errors
from recur.cli.table import print_table, say
from recur.domain.accounts import Account
from recur.domain.catalogue import InvoiceGrouping, PartialCharges
from recur.domain.identity import Address, TaxTreatment
from recur.domain.statement import Statement
from recur.presentation import day, money
from recur.services import accounts, statements
from recur.services.validation import TAX_RATE_PLACES, parse_amount

account_app = typer.Typer(help="Customer accounts.", no_args_is_help=True)
app.add_typer(account_app, name="account")

Text = Annotated[str | None, typer.Option()]
Lines = Annotated[
    list[str] | None, typer.Option("--address-line", help="A street line (repeatable).")
]
Cc = Annotated[
    list[str] | None, typer.Option("--cc", help="A CC address for documents (repeatable).")
]


@account_app.command("create")
@domain_errors
def create(
    name: Annotated[str, typer.Argument(help="The account's name.")],
    email: Annotated[str, typer.Option(help="Billing e-mail.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code, e.g. EUR.")],
    billing_day: Annotated[int | None, typer.Option(help="1–28; default: anniversary.")] = None,
    partial_charges: PartialCharges = PartialCharges.ON_ORDER_DAY,
    invoice_grouping: InvoiceGrouping = InvoiceGrouping.CONSOLIDATED,
    payment_terms: Annotated[int, typer.Option(help="Days until an invoice is due.")] = 30,
    tax_rate: Annotated[str, typer.Option(help="Percent, e.g. 20 or 7.5.")] = "0",
    tax_id: Text = None,
    tax_treatment: TaxTreatment = TaxTreatment.STANDARD,
    exemption_reason: Annotated[str | None, typer.Option(help="Required when exempt.")] = None,
    address_line: Lines = None,
    postcode: Text = None,
    city: Text = None,
    region: Text = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2, e.g. FR.")] = None,
    billing_email: Annotated[
        str | None, typer.Option(help="Send documents here (default: --email).")
    ] = None,
    cc: Cc = None,
    auto_send: Annotated[bool, typer.Option(help="E-mail every document when issued.")] = False,
) -> None:
    """Create an account."""
    spec = accounts.AccountSpec(
        name=name,
        email=email,
        currency=currency.upper(),
        billing_day=billing_day,
        partial_charges=partial_charges,
        invoice_grouping=invoice_grouping,
        payment_terms_days=payment_terms,
        tax_rate=parse_amount(tax_rate, "tax_rate", TAX_RATE_PLACES),
        billing_address=Address(tuple(address_line or ()), postcode, city, region, country),
        tax_id=tax_id,
        tax_treatment=tax_treatment.value,
        tax_exemption_reason=exemption_reason,
        billing_email=billing_email,
        cc_emails=tuple(cc or ()),
        auto_send=auto_send,
    )
    _show(accounts.create_account(context().db, spec, "cli"), "created")


@account_app.command("update")
@domain_errors
def update(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    name: Text = None,
    email: Text = None,
    payment_terms: Annotated[int | None, typer.Option()] = None,
    tax_rate: Text = None,
    tax_id: Annotated[str | None, typer.Option(help='"" removes it.')] = None,
    tax_treatment: Annotated[TaxTreatment | None, typer.Option()] = None,
    exemption_reason: Text = None,
    address_line: Lines = None,
    postcode: Text = None,
    city: Text = None,
    region: Text = None,
    country: Text = None,
    billing_email: Annotated[str | None, typer.Option(help='"" sends to --email.')] = None,
    cc: Cc = None,
    no_cc: Annotated[bool, typer.Option("--no-cc", help="Remove every CC address.")] = False,
    auto_send: Annotated[bool | None, typer.Option("--auto-send/--no-auto-send")] = None,
) -> None:
    """Change what the options name; the rest stays as it is."""
    ctx = context()
    found = accounts.find_account(ctx.db, account)
    given: dict[str, Any] = {
        "name": name,
        "email": email,
        "payment_terms_days": payment_terms,
        "tax_rate": None
        if tax_rate is None
        else parse_amount(tax_rate, "tax_rate", TAX_RATE_PLACES),
        "tax_id": tax_id,
        "tax_treatment": None if tax_treatment is None else tax_treatment.value,
        "tax_exemption_reason": exemption_reason,
        "billing_email": billing_email,
        "cc_emails": () if no_cc else None if cc is None else tuple(cc),
        "auto_send": auto_send,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    for key in ("tax_id", "billing_email"):  # "" removes the value
        if changes.get(key) == "":
            changes[key] = None
    address = _address(found.billing_address, address_line, postcode, city, region, country)
    if address != found.billing_address:
        changes["billing_address"] = address
    _show(accounts.update_account(ctx.db, found.id, changes, "cli"), "updated")


def _address(
    kept: Address,
    lines: list[str] | None,
    postcode: str | None,
    city: str | None,
    region: str | None,
    country: str | None,
) -> Address:
    """The stored address with the parts given replaced ("" empties a part)."""
    return Address(
        kept.lines if lines is None else tuple(line for line in lines if line),
        _part(postcode, kept.postcode),
        _part(city, kept.city),
        _part(region, kept.region),
        _part(country, kept.country),
    )


def _part(given: str | None, kept: str | None) -> str | None:
    return kept if given is None else (given or None)


def _show(account: Account, done: str) -> None:
    say(f"account #{account.id} {account.name} {done} ({account.currency})")
    say(f"documents go to {', '.join(account.recipients)}")
    say("every document is e-mailed when issued" if account.auto_send else "e-mailed on request")


@account_app.command("statement")
@domain_errors
def statement(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    period_from: Annotated[date, typer.Option("--from", formats=["%Y-%m-%d"])],
    period_to: Annotated[date, typer.Option("--to", formats=["%Y-%m-%d"])],
    output: Annotated[
        Path | None, typer.Option(help="Write the statement's PDF to this file.")
    ] = None,
    send: Annotated[bool, typer.Option(help="E-mail it to the account.")] = False,
) -> None:
    """Show an account's statement over a period; write its PDF, or e-mail it."""
    ctx = context()
    found = accounts.find_account(ctx.db, account)
    shown = statements.statement(ctx.db, found.id, period_from, period_to)
    _print_statement(shown)
    if output is not None:
        pdf = statements.statement_pdf(
            ctx.db, found.id, period_from, period_to, ctx.settings.seller_name
        )
        output.write_bytes(pdf)
        say(f"wrote {output}")
    if send:
        queued = statements.send_statement(ctx.db, found.id, period_from, period_to, "cli")
        say(f"queued to be e-mailed to {', '.join(found.recipients)} (outbox #{queued})")


def _print_statement(shown: Statement) -> None:
    say(f"statement of {shown.account_name}, {day(shown.period_from)} to {day(shown.period_to)}")
    if not shown.currencies:
        typer.echo("nothing to show")
    for part in shown.currencies:
        c = part.currency
        rows = [[day(shown.period_from), "", "Opening balance", "", money(part.opening, c)]]
        rows += [
            [
                day(line.entry.day),
                line.entry.reference,
                line.entry.description
                + ("" if line.entry.applied is None else f" ({money(line.entry.applied, c)})"),
                "" if line.entry.amount is None else money(line.entry.amount, c),
                money(line.balance, c),
            ]
            for line in part.lines
        ]
        rows.append([day(shown.period_to), "", "Closing balance", "", money(part.closing, c)])
        typer.echo()
        print_table(["Date", "Reference", "Description", "Amount", "Balance"], rows, right={3, 4})
