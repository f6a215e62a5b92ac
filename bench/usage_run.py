"""A billing run over usage subscriptions on PostgreSQL (SPEC §13; docs/performance.md).

    scripts/with-postgres.sh .venv/bin/python bench/usage_run.py [--records 300000] \
        [--profile 25]

Builds the reseller of bench/usage_ingest.py in a fresh database `recur_usage_run`:
200 accounts, 1,000 usage subscriptions (3 meters, 3 days' delay) started on
2026-11-11 (periods from the 11th to the 10th). Their records go in through the
usage service as a daily feed would send them: each day's records (every meter of
every subscription) received the next day, 100 days from 2026-11-11, 300,000 in all,
in batches of at most 10,000. The database is then copied (CREATE DATABASE … TEMPLATE),
and one `run_billing` as of 2027-03-15 is timed on the copy: four periods are due per
subscription (planned on 13 Dec, 13 Jan, 13 Feb and 13 Mar), 12,000 usage items.
A second copy is billed under cProfile; the top functions by own and cumulative time
are printed.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from recur.db.models import InvoiceItem, UsageRecord
from recur.db.session import Database, normalise_url
from recur.services import usage
from recur.services.billing_run import run_billing

sys.path.insert(0, str(Path(__file__).parent))
from usage_ingest import BATCH, METERS, build, records

BENCH_DB = "recur_usage_run"
START = date(2026, 11, 11)
AS_OF = date(2027, 3, 15)


def feed(url: str, subs: list[int], count: int) -> None:
    db = Database(url)
    per_day = len(subs) * len(METERS)
    days = -(-count // per_day)
    everything = list(records(subs, START, days, count, "r-"))
    started = time.perf_counter()
    for day in range(days):
        received = START + timedelta(day + 1)
        todays = everything[day * per_day : (day + 1) * per_day]
        for i in range(0, len(todays), BATCH):
            usage.ingest(db, todays[i : i + BATCH], received, "bench")
    print(
        f"ingested {count:,} records over {days} days in {time.perf_counter() - started:.1f} s "
        f"(the service in this process)",
        flush=True,
    )
    with db.read() as session:
        session.execute(text("ANALYZE"))
    db.dispose()


def copy(url: str, name: str) -> str:
    base = make_url(normalise_url(url))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {base.database}"))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def bill(url: str, profile: int) -> None:
    db = Database(url)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    run = run_billing(db, AS_OF, AS_OF, "bench")
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    with db.read() as session:
        items = session.scalar(
            select(func.count()).select_from(InvoiceItem).where(InvoiceItem.kind == "usage")
        )
        unbilled = session.scalar(
            select(func.count())
            .select_from(UsageRecord)
            .where(UsageRecord.invoice_item_id.is_(None))
        )
    db.dispose()
    label = "profiled" if profiler else "timed"
    print(
        f"\n{label} run as of {AS_OF} ({run.status}): {run.invoices_issued:,} invoices, "
        f"{items:,} usage items in {seconds:.2f} s = {(items or 0) / seconds:,.0f} items/s; "
        f"records left unbilled: {unbilled}",
        flush=True,
    )
    if profiler:
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(profile)
            print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("RECUR_TEST_POSTGRES_URL"))
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--profile", type=int, default=25, help="functions shown (0: none)")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("no --database-url and no RECUR_TEST_POSTGRES_URL")
    url, owned = build(args.database_url, BENCH_DB, 200, 1000, START)
    feed(url, [sub for subs in owned for sub in subs], args.records)
    bill(copy(url, f"{BENCH_DB}_timed"), 0)
    if args.profile:
        bill(copy(url, f"{BENCH_DB}_profiled"), args.profile)


if __name__ == "__main__":
    main()
