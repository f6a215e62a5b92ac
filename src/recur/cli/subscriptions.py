"""`recur subscription change`, `cancel`, `changes`: a subscription's lifecycle (SPEC §10–11).

A change or cancellation first prints what it will issue (the engine's own preview) and
asks before it is made, unless --yes.
"""

from typing import Annotated

import typer

from recur.cli.app import Yes, app, confirm, context, domain_errors
from recur.cli.documents import print_documents
from recur.cli.output import emit, emit_items, json_wanted
from recur.cli.table import print_table, say
from recur.domain.catalogue import CancelAt
from recur.domain.subscriptions import SubscriptionChange
from recur.services import changes, subscriptions
from recur.services.validation import MAX_ID

subscription_app = typer.Typer(
    help="A subscription's changes and cancellation.", no_args_is_help=True
)
app.add_typer(subscription_app, name="subscription")

SubscriptionId = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="Subscription id.")]


@subscription_app.command("change")
@domain_errors
def change(
    subscription_id: SubscriptionId,
    quantity: Annotated[int | None, typer.Option(help="The new quantity.")] = None,
    pricing_option: Annotated[
        int | None,
        typer.Option(
            "--pricing-option",
            min=1,
            max=MAX_ID,
            help="Switch to this pricing option (same currency, period, type and billing day).",
        ),
    ] = None,
    effective: Annotated[
        str, typer.Option(help="now, end_of_period or a date YYYY-MM-DD on or after today.")
    ] = "now",
    yes: Yes = False,
) -> None:
    """Change a subscription's quantity or pricing option, showing first what it will issue."""
    ctx = context()
    today = ctx.clock.today()
    spec = changes.ChangeSpec(
        quantity=quantity, pricing_option_id=pricing_option, effective=effective
    )
    documents = changes.preview_change(ctx.db, subscription_id, spec, today)
    if not json_wanted():
        say(f"Subscription {subscription_id} with this change would have pending:")
        print_documents(documents)
    confirm("Make this change?", yes)
    made = changes.change_subscription(ctx.db, subscription_id, spec, today, "cli")
    if json_wanted():
        emit({"pending": documents, "change": made})
        return
    typer.echo(f"change {made.id} made: {_what(made)} from {made.effective_date}")


@subscription_app.command("cancel")
@domain_errors
def cancel(
    subscription_id: SubscriptionId,
    at: Annotated[
        CancelAt,
        typer.Option(help="now: service ends today; end_of_period: at the end of this period."),
    ],
    yes: Yes = False,
) -> None:
    """Cancel a subscription, showing first the credit note and invoices it will issue."""
    ctx = context()
    today = ctx.clock.today()
    documents = changes.preview_cancellation(ctx.db, subscription_id, at, today)
    if not json_wanted():
        say(f"Subscription {subscription_id} cancelled {at.value} would have pending:")
        print_documents(documents)
    confirm("Cancel it?", yes)
    sub = subscriptions.cancel_subscription(ctx.db, subscription_id, at, today, "cli")
    if json_wanted():
        emit({"pending": documents, "subscription": sub})
        return
    typer.echo(f"subscription {sub.id} cancelled: service ends on {sub.end_date}")


@subscription_app.command("changes")
@domain_errors
def list_changes(subscription_id: SubscriptionId) -> None:
    """A subscription's changes, by effective date; scheduled ones can still be withdrawn."""
    ctx = context()
    today = ctx.clock.today()
    found = changes.list_changes(ctx.db, subscription_id, today)
    if json_wanted():
        emit_items(found)
        return
    if not found:
        typer.echo(f"subscription {subscription_id} has no changes")
        return
    print_table(
        ["Change", "Effective", "Quantity", "Pricing option", "Status", "Made", "By"],
        [
            [
                str(c.id),
                c.effective_date,
                "" if c.quantity is None else str(c.quantity),
                "" if c.pricing_option_id is None else str(c.pricing_option_id),
                "scheduled" if c.withdrawable else "in effect",
                c.created_at,
                c.created_by,
            ]
            for c in found
        ],
        right={0, 2, 3},
    )


def _what(made: SubscriptionChange) -> str:
    parts = []
    if made.quantity is not None:
        parts.append(f"quantity {made.quantity}")
    if made.pricing_option_id is not None:
        parts.append(f"pricing option {made.pricing_option_id}")
    return " and ".join(parts)
