"""`recur worker`: the Billing Service alone, without the web server.

Several workers may share one PostgreSQL database: each run claims accounts in
batches with SKIP LOCKED, so they split the work and never bill a period twice.
SIGTERM or SIGINT stops a worker after the batch in hand; it exits with 0.
Also runnable as `python -m recur.worker`.
"""

import logging
import signal
from datetime import date
from types import FrameType
from typing import Annotated

import typer

from recur.context import context_from_settings
from recur.delivery_worker import DeliveryWorker
from recur.domain.errors import DomainError
from recur.logging_setup import configure_logging
from recur.scheduler import BillingSchedule
from recur.services.billing_run import BATCH_SIZE

log = logging.getLogger("recur.worker")


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="One run, then exit (implied by --as-of).")
    ] = False,
    as_of: Annotated[
        date | None,
        typer.Option(formats=["%Y-%m-%d"], help="Bill as of this date (default: today)."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Accounts per transaction.")
    ] = BATCH_SIZE,
    interval: Annotated[
        int | None,
        typer.Option(min=1, help="Seconds between runs (default: RECUR_BILLING_INTERVAL)."),
    ] = None,
) -> None:
    """Run the Billing Service: bill as of today now, then every interval."""
    configure_logging()
    ctx = context_from_settings()
    schedule = BillingSchedule(
        ctx.db,
        ctx.clock,
        interval or ctx.settings.billing_interval,
        batch_size=batch_size,
        triggered_by="worker",
    )

    delivery = DeliveryWorker(ctx.db, ctx.settings)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping after the current batch", extra={"signal": signum})
        schedule.stop()
        delivery.shutdown(timeout=0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if once or as_of is not None:
        try:
            run = schedule.run_once(as_of)
        except DomainError as error:
            typer.echo(f"error: {error.message} ({error.code})", err=True)
            raise typer.Exit(2) from error
        typer.echo(
            f"billing run {run.id} as of {run.as_of.isoformat()} {run.status}: "
            f"{run.accounts_processed} accounts, {run.invoices_issued} invoices, "
            f"{run.errors_count} errors ({run.worker})"
        )
    else:
        delivery.start()  # sends the outbox's e-mails beside the billing runs
        schedule.loop()
        delivery.shutdown()
    ctx.db.dispose()


def main() -> None:
    typer.run(worker)


if __name__ == "__main__":
    main()
