"""Delivery benchmark on PostgreSQL: automatic e-mail does not slow the billing run,
and how fast the outbox is delivered to a local SMTP server (docs/performance.md).

Builds the billing-run data set twice (bench/billing_run.py's `build`), once with no
account sending automatically and once with every account sending automatically,
and times one billing run of each. Then sends --send e-mails of the outbox through
an aiosmtpd server on 127.0.0.1 with the delivery worker's own function (each e-mail
renders its PDF, as in production) and prints the rate.

    scripts/with-postgres.sh .venv/bin/python bench/delivery.py [--accounts 20000]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text

from recur.db.models import DeliveryOutbox
from recur.db.session import Database
from recur.services.billing_run import run_billing
from recur.services.delivery import MailSettingsSpec, deliver_due, update_mail_settings
from recur.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))
from billing_run import AS_OF, build, recreate_database


class Sink:
    """An SMTP server that accepts and counts."""

    received = 0

    async def handle_DATA(self, _server: object, _session: object, _envelope: object) -> str:  # noqa: N802
        self.received += 1
        return "250 OK"


def billing_run(server_url: str, accounts: int, auto_send: bool) -> tuple[float, int, str]:
    """Seconds of one billing run, invoices issued, and the database's URL."""
    url = recreate_database(server_url)
    build(url, accounts, 1, 1, AS_OF, 7)
    db = Database(url)
    if auto_send:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE accounts SET auto_send = true"))
    started = time.perf_counter()
    run = run_billing(db, AS_OF, AS_OF, "bench")
    seconds = time.perf_counter() - started
    db.dispose()
    return seconds, run.invoices_issued, url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--send", type=int, default=200, help="e-mails to deliver")
    parser.add_argument("--database-url", default=os.environ.get("RECUR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    plain, issued, _ = billing_run(args.database_url, args.accounts, auto_send=False)
    print(f"billing run, no automatic e-mail: {issued:,} invoices in {plain:.1f} s", flush=True)
    queued_run, issued, url = billing_run(args.database_url, args.accounts, auto_send=True)
    db = Database(url)
    with db.read() as session:
        queued = session.scalar(select(func.count()).select_from(DeliveryOutbox))
    print(
        f"billing run, automatic e-mail on: {issued:,} invoices, {queued:,} e-mails queued, "
        f"in {queued_run:.1f} s ({queued_run / plain - 1:+.1%})",
        flush=True,
    )
    env = Settings(database_url=url, secret_key="bench")
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    spec = MailSettingsSpec("127.0.0.1", port, "none", "billing@bench.example.com", None, None)
    update_mail_settings(db, spec, "bench", env)
    deliver_due(db, env, limit=5)  # WeasyPrint loads its fonts once
    started = time.perf_counter()
    done = deliver_due(db, env, limit=args.send)
    seconds = time.perf_counter() - started
    controller.stop()
    print(
        f"outbox delivery: {done.sent} e-mails with their PDF in {seconds:.1f} s "
        f"= {done.sent / seconds:.1f} e-mails/s (one worker thread; {sink.received} received)"
    )
    db.dispose()


if __name__ == "__main__":
    main()
