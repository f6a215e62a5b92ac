"""`recur usage import FILE.csv` and `recur usage show SUBSCRIPTION` (SPEC §13, §16)."""

import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, TextIO

import typer

from recur.cli.app import app, context, domain_errors
from recur.cli.output import emit, emit_items, json_wanted
from recur.cli.table import print_table, say
from recur.domain.errors import DomainError
from recur.domain.usage import quantity_text
from recur.services import usage
from recur.services.usage_csv import csv_records, file_line
from recur.services.validation import MAX_ID

usage_app = typer.Typer(help="Usage records of usage subscriptions.", no_args_is_help=True)
app.add_typer(usage_app, name="usage")

# Some batches of an import were refused (the others are stored).
EXIT_PARTIAL = 6


@usage_app.command("import")
@domain_errors
def import_usage(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="CSV: id, subscription_id, meter, quantity, occurred_on.",
        ),
    ],
    batch: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Commit batches of N records, each all or nothing (default: the whole file at once).",
        ),
    ] = None,
) -> None:
    """Store a file of usage records: all or nothing, or batch by batch with --batch."""
    ctx = context()
    today = ctx.clock.today()
    with (
        file.open(newline="", encoding="utf-8-sig") as handle,
        typer.progressbar(length=file.stat().st_size, label="reading", file=sys.stderr) as bar,
    ):
        records = list(csv_records(_lines(handle, bar.update)))
    size = batch or max(len(records), 1)
    starts = range(0, max(len(records), 1), size)
    accepted = duplicates = 0
    failed: list[str] = []
    with typer.progressbar(starts, label="storing", file=sys.stderr) as chunks:
        for start in chunks:
            part = records[start : start + size]

            def where(index: int, start: int = start) -> str:
                return file_line(start + index)

            try:
                done = usage.ingest(ctx.db, part, today, "cli", max_records=None, where=where)
            except DomainError as error:
                if batch is None:
                    raise
                lines = f"{file_line(start)}–{file_line(start + len(part) - 1)}".replace(
                    "line ", ""
                )
                failed.append(f"batch {start // size + 1} (lines {lines}): {error.message}")
                continue
            accepted += done.accepted
            duplicates += done.duplicates
    if json_wanted():
        emit({"accepted": accepted, "duplicates": duplicates, "refused": failed})
    else:
        say(f"accepted: {accepted}, duplicates: {duplicates}")
        for refusal in failed:
            say(f"refused: {refusal}", err=True)
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


def _lines(handle: TextIO, advance: Callable[[int], None]) -> Iterator[str]:
    """The file's lines, the progress bar advanced by each one's bytes."""
    for line in handle:
        advance(len(line.encode()))
        yield line


@usage_app.command("show")
@domain_errors
def show_usage(
    subscription_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="Subscription id.")],
    occurred_from: Annotated[
        date | None, typer.Option("--from", formats=["%Y-%m-%d"], help="From this day (included).")
    ] = None,
    occurred_to: Annotated[
        date | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Until this day (included).")
    ] = None,
) -> None:
    """A subscription's usage records, by the day they occurred."""
    db = context().db
    records = []
    cursor: str | None = None
    while True:
        page = usage.list_usage(db, subscription_id, occurred_from, occurred_to, 100, cursor)
        records.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    if json_wanted():
        emit_items(records)
        return
    if not records:
        say(f"subscription {subscription_id} has no usage records")
        return
    print_table(
        ["Id", "Meter", "Quantity", "Occurred", "Received", "Invoice"],
        [
            [
                r.id,
                r.meter,
                f"{quantity_text(r.quantity)} {r.unit}",
                r.occurred_on,
                r.received_on,
                "" if r.invoice_id is None else str(r.invoice_id),
            ]
            for r in records
        ],
        right={2},
    )
