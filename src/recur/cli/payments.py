"""`recur payment record|undo|apply-credit|refund|undo-application|undo-refund|uses`
and `recur invoice void NUMBER` (SPEC §18)."""

from datetime import date
from typing import Annotated

import typer

from recur.cli.app import app, context, domain_errors
from recur.cli.output import emit, json_wanted
from recur.cli.table import print_table, say
from recur.domain.catalogue import PaymentMethod
from recur.domain.errors import InvalidInput
from recur.domain.receivables import AllocationSpec, PaymentSpec, RefundSpec
from recur.presentation import day, money
from recur.services import accounts, invoicing, payments
from recur.services.validation import parse_amount

payment_app = typer.Typer(help="Payments received from accounts.", no_args_is_help=True)
app.add_typer(payment_app, name="payment")

AMOUNT_PLACES = 4  # the amount columns'; the service checks the currency's own


@payment_app.command("record")
@domain_errors
def record(
    account: Annotated[str, typer.Argument(help="Account id or name (any case).")],
    amount: Annotated[str, typer.Option(help="The amount received, e.g. 125.00.")],
    method: Annotated[PaymentMethod, typer.Option()] = PaymentMethod.BANK_TRANSFER,
    received_on: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (default: today).", metavar="DATE")
    ] = None,
    reference: Annotated[str, typer.Option(help="Bank reference or note.")] = "",
    currency: Annotated[str | None, typer.Option(help="Default: the account's currency.")] = None,
    allocate: Annotated[
        list[str] | None,
        typer.Option(
            help="NUMBER=AMOUNT: put AMOUNT on invoice NUMBER (repeatable); the rest stays "
            "on the account as credit."
        ),
    ] = None,
) -> None:
    """Record a payment, settling the invoices it names."""
    ctx = context()
    found = accounts.find_account(ctx.db, account)
    today = ctx.clock.today()
    spec = PaymentSpec(
        account_id=found.id,
        amount=parse_amount(amount, "amount", AMOUNT_PLACES),
        currency=currency or found.currency,
        received_on=_day(received_on, "received_on") if received_on else today,
        method=method.value,
        reference=reference,
        allocations=tuple(_allocation(text) for text in allocate or []),
    )
    payment = payments.record_payment(ctx.db, spec, "cli", today)
    if json_wanted():
        emit(payment)
        return
    say(
        f"payment #{payment.id}: {money(payment.amount, payment.currency)} from {found.name}, "
        f"{money(payment.unallocated, payment.currency)} left on the account as credit"
    )


@payment_app.command("undo")
@domain_errors
def undo(payment_id: Annotated[int, typer.Argument(help="The payment's id.")]) -> None:
    """Take a payment back: the invoices it settled are open again."""
    payments.undo_payment(context().db, payment_id, "cli")
    if json_wanted():
        emit({"payment_id": payment_id, "undone": True})
        return
    say(f"payment #{payment_id} is undone")


@payment_app.command("apply-credit")
@domain_errors
def apply_credit(
    credit_note: Annotated[str, typer.Argument(help="The credit note's number.")],
    invoice: Annotated[str, typer.Argument(help="The number of the open invoice it settles.")],
    amount: Annotated[str, typer.Option(help="How much of the credit note to apply.")],
) -> None:
    """Apply part of a credit note to an open invoice of the same account and currency."""
    db = context().db
    note = invoicing.get_invoice_by_number(db, credit_note)
    target = invoicing.get_invoice_by_number(db, invoice)
    applied = parse_amount(amount, "amount", AMOUNT_PLACES)
    after = payments.apply_credit_note(db, note.id, target.id, applied, "cli")
    say(
        f"{money(applied, after.currency)} of {after.number} applied to {target.number}; "
        f"{money(after.amount_remaining, after.currency)} left"
    )


@payment_app.command("refund")
@domain_errors
def refund(
    credit_note: Annotated[str, typer.Argument(help="The credit note's number.")],
    amount: Annotated[str, typer.Option(help="How much was paid back.")],
    refunded_on: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (default: today).", metavar="DATE")
    ] = None,
    reference: Annotated[str, typer.Option(help="Bank reference or note.")] = "",
) -> None:
    """Record part of a credit note paid back to the customer."""
    ctx = context()
    note = invoicing.get_invoice_by_number(ctx.db, credit_note)
    today = ctx.clock.today()
    spec = RefundSpec(
        parse_amount(amount, "amount", AMOUNT_PLACES),
        _day(refunded_on, "refunded_on") if refunded_on else today,
        reference,
    )
    after = payments.refund_credit_note(ctx.db, note.id, spec, "cli", today)
    say(
        f"refund of {money(spec.amount, after.currency)} recorded on {after.number}; "
        f"{money(after.amount_remaining, after.currency)} left"
    )


@payment_app.command("uses")
@domain_errors
def uses(credit_note: Annotated[str, typer.Argument(help="The credit note's number.")]) -> None:
    """Where a credit note went: its applications and refunds, with the ids that undo them."""
    db = context().db
    note, applications, refunds = payments.credit_note_uses(
        db, invoicing.get_invoice_by_number(db, credit_note).id
    )
    c = note.currency
    print_table(
        ["Kind", "Id", "Date", "Invoice / reference", "Amount"],
        [
            [
                "application",
                str(a.id),
                day(a.created_at.date()),
                a.invoice_number,
                money(a.amount, c),
            ]
            for a in applications
        ]
        + [
            ["refund", str(f.id), day(f.refunded_on), f.reference, money(f.amount, c)]
            for f in refunds
        ],
        right={1, 4},
    )


@payment_app.command("undo-application")
@domain_errors
def undo_application(
    application_id: Annotated[int, typer.Argument(help="Its id (`recur payment uses`).")],
) -> None:
    """Take back a credit note's application: the invoice is open again by as much."""
    note = payments.undo_credit_application(context().db, application_id, "cli")
    say(f"application #{application_id} of {note.number} is undone")


@payment_app.command("undo-refund")
@domain_errors
def undo_refund(
    refund_id: Annotated[int, typer.Argument(help="Its id (`recur payment uses`).")],
) -> None:
    """Take back a refund recorded in error: the credit note has it left again."""
    note = payments.undo_refund(context().db, refund_id, "cli")
    say(f"refund #{refund_id} of {note.number} is undone")


def void(number: str) -> None:
    """`recur invoice void NUMBER` (cli/billing.py reads the words)."""
    ctx = context()
    invoice = invoicing.get_invoice_by_number(ctx.db, number)
    voided = payments.void_invoice(ctx.db, invoice.id, "cli", ctx.clock.today())
    if json_wanted():
        emit(voided)
        return
    say(f"{voided.invoice.number} is void: credit note {voided.credit_note.number} cancels it")


def _allocation(text: str) -> AllocationSpec:
    number, sep, amount = text.partition("=")
    if not sep:
        raise InvalidInput("invalid_allocate", "--allocate must be NUMBER=AMOUNT")
    invoice = invoicing.get_invoice_by_number(context().db, number.strip())
    return AllocationSpec(invoice.id, parse_amount(amount, "allocate", AMOUNT_PLACES))


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"invalid_{field}", f"{field} must be a date (YYYY-MM-DD)") from None
