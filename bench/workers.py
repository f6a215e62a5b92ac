"""One billing run shared by 1, 2 and 4 `recur worker` processes on PostgreSQL.

    scripts/with-postgres.sh .venv/bin/python bench/workers.py [--accounts 20000] [--workers 1 2 4]

For each worker count it rebuilds the data of bench/billing_run.py, starts the
workers at once (`recur worker --once --as-of …`), waits for all of them, and
prints the run's throughput as `N subscription-periods/s`, with each worker's share.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from recur.db.models import BilledPeriod, BillingRun
from recur.db.session import Database
from recur.services.billing_run import BATCH_SIZE

sys.path.insert(0, str(Path(__file__).parent))
from billing_run import AS_OF, build, recreate_database


def bench(server_url: str, accounts: int, workers: int, batch_size: int) -> None:
    url = recreate_database(server_url)
    build(url, accounts, 5, 0, AS_OF, seed=2027)
    db = Database(url)
    with db.read() as session:
        billed_before = session.scalar(select(func.count()).select_from(BilledPeriod)) or 0
    env = {**os.environ, "RECUR_DATABASE_URL": url, "RECUR_TODAY": AS_OF.isoformat()}
    command = [
        str(Path(sys.executable).parent / "recur"),
        "worker",
        "--once",
        "--as-of",
        AS_OF.isoformat(),
        "--batch-size",
        str(batch_size),
    ]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(workers)
    ]
    codes = [p.wait() for p in processes]
    seconds = time.perf_counter() - started
    with db.read() as session:
        billed = (
            session.scalar(select(func.count()).select_from(BilledPeriod)) or 0
        ) - billed_before
        shares = session.execute(
            select(BillingRun.worker, BillingRun.charges_issued).where(BillingRun.as_of == AS_OF)
        ).all()
    db.dispose()
    print(
        f"{workers} worker(s), exit codes {codes}: {billed:,} charges in {seconds:.1f} s, "
        f"shares {[n for _, n in shares]}"
    )
    print(f"{billed / seconds:.0f} subscription-periods/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--database-url", default=os.environ.get("RECUR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no database: run under scripts/with-postgres.sh or pass --database-url")
    for count in args.workers:
        bench(args.database_url, args.accounts, count, args.batch_size)


if __name__ == "__main__":
    main()
