"""Pending documents (invoices and credit notes) as the terminal shows them: `recur pending`
and the previews of `recur subscription change` and `cancel`."""

from collections.abc import Mapping, Sequence

import typer

from recur.cli.table import print_table, say
from recur.domain.catalogue import InvoiceType
from recur.domain.invoices import InvoiceTotals, PendingInvoice
from recur.presentation import day, money, period, price, ratio

_TYPE_NAMES = {InvoiceType.INVOICE: "Invoice", InvoiceType.CREDIT: "Credit note"}


def type_name(document: PendingInvoice) -> str:
    return _TYPE_NAMES[InvoiceType(document.type)]


def totals(document: PendingInvoice) -> list[str]:
    """Subtotal, tax and total, each in the document's currency."""
    t = document.totals
    return [money(amount, document.currency) for amount in (t.subtotal, t.tax, t.total)]


def print_items(document: PendingInvoice) -> None:
    """The document's items, each with the arithmetic of its amount in words."""
    print_table(
        [
            "Subscription",
            "Kind",
            "Description",
            "Period",
            "Qty",
            "Unit price",
            "Proration",
            "Amount",
            "Explanation",
        ],
        [
            [
                str(c.subscription_id),
                c.kind.value,
                c.description,
                period(c.period_start, c.period_last_day),
                str(c.quantity),
                price(c.unit_price, c.currency),
                ratio(c.proration),
                money(c.amount, c.currency),
                c.explanation,
            ]
            for c in document.items
        ],
        right={0, 4, 5, 6, 7},
    )


def print_documents(documents: Sequence[PendingInvoice]) -> None:
    """Each document's type, dates and totals, then its items."""
    if not documents:
        typer.echo("nothing pending")
    for document in documents:
        subtotal, tax, total = totals(document)
        typer.echo()
        say(
            f"{type_name(document)} issued {day(document.issue_date)}, "
            f"due {day(document.due_date)}: subtotal {subtotal}, tax {tax}, total {total}"
        )
        print_items(document)


def print_totals(sums: Mapping[str, InvoiceTotals]) -> None:
    """What the documents shown add up to, per currency."""
    for currency, t in sums.items():
        typer.echo(
            f"in all, {currency}: subtotal {money(t.subtotal, currency)}, "
            f"tax {money(t.tax, currency)}, total {money(t.total, currency)}"
        )
