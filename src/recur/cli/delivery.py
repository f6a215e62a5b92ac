"""`recur invoice send NUMBER` and `recur invoice deliveries NUMBER` (cli/billing.py
reads the words): e-mail a document through the outbox, and show its delivery log."""

from recur.cli.app import context
from recur.cli.table import print_table, say
from recur.services import delivery, invoicing


def send(number: str) -> None:
    """Queue an e-mail of the invoice or credit note (send, or send again)."""
    db = context().db
    document = invoicing.get_invoice_by_number(db, number)
    queued = delivery.send_document(db, document.id, "cli")
    say(f"{document.number} is queued to be e-mailed (outbox #{queued})")


def deliveries(number: str) -> None:
    """The document's delivery log: each queueing, each try (a retry after a failure)."""
    db = context().db
    document = invoicing.get_invoice_by_number(db, number)
    log = delivery.deliveries(db, document.id)
    if not log:
        say(f"{document.number} has not been e-mailed")
        return
    print_table(
        ["When (UTC)", "E-mail", "Attempt", "Status", "To", "Reason"],
        [
            [
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                f"#{e.outbox_id}",
                "" if e.attempt is None else f"{e.attempt}{' (retry)' if e.retry else ''}",
                e.outcome.value,
                e.recipients or "",
                e.error or "",
            ]
            for e in log
        ],
    )
