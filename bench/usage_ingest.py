"""Usage ingestion benchmark on PostgreSQL (SPEC §13; figures in docs/performance.md).

    scripts/with-postgres.sh .venv/bin/python bench/usage_ingest.py \
        [--records 1000000] [--clients 4] [--workers 2] [--only spread hot csv]

Builds a reseller in a fresh database `recur_usage_bench` through the services: one
Azure-like usage option (monthly, meters vm.hours, storage.gb and ip.hours, 3 days'
delay), 200 accounts and 1,000 usage subscriptions started on 2025-10-01, and an
administrator. Then, against `recur serve --workers 2` (today pinned at 2027-03-15, no
scheduler; bench/api_load.py starts it), `--clients` threads send POST /api/v1/usage
batches of 10,000 records, each taken from a queue of bodies encoded beforehand:

- spread: records across all 1,000 subscriptions (3,000 a day, a day after another,
  as a reseller's daily feed), so that each batch touches every account;
- hot: the same number of records for 4 subscriptions of one account only.

It prints records/s, the batches' p50/p95, and the server processes' resident memory
(VmRSS) after the first tenth of the records and at the end, and their peak (VmHWM).

- csv: a file of 100,000 records uploaded through the back office (FastAPI's
  TestClient in this process, signed in as the administrator): the check
  (POST /usage/check: read, checked, nothing stored) and the store (POST /usage/confirm).
"""

import argparse
import http.client
import json
import os
import queue
import re
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

from recur.app import create_app
from recur.db.migrate import recreate_postgres_database
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.usage import MeterSpec
from recur.services import accounts, catalogue, subscriptions
from recur.services.users import create_user
from recur.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))
from api_load import family, free_port, serve
from web_pages import ADMIN_EMAIL, ADMIN_PASSWORD, AS_OF, sign_in

BENCH_DB = "recur_usage_bench"
BATCH = 10_000
METERS = ("vm.hours", "storage.gb", "ip.hours")


def build(
    server_url: str, name: str, accounts_count: int, subs_count: int, start: date
) -> tuple[str, list[list[int]]]:
    """A fresh database with the reseller; its URL and each account's subscription ids."""
    url = recreate_postgres_database(server_url, name)
    db = Database(url)
    started = time.perf_counter()
    meters = (
        MeterSpec("vm.hours", "Virtual machines", "hours", Decimal("0.096")),
        MeterSpec("storage.gb", "Storage", "GB-days", Decimal("0.0007")),
        MeterSpec("ip.hours", "Public IP addresses", "hours", Decimal("0.005")),
    )
    option = catalogue.PricingOptionSpec(
        code="monthly-eur",
        billing_period=BillingCycle.MONTHLY,
        billing_type=BillingType.USAGE,
        unit_price=Decimal(0),
        currency="EUR",
        meters=meters,
        usage_delay_days=3,
    )
    product = catalogue.create_product(
        db, catalogue.ProductSpec("AZURE", "Azure plan", [option]), "bench"
    )
    option_id = product.pricing_options[0].id
    owned: list[list[int]] = []
    for a in range(accounts_count):
        spec = accounts.AccountSpec(f"Customer {a:04}", f"ap{a}@example.com", "EUR")
        owned.append([])
        account_id = accounts.create_account(db, spec, "bench").id
        for _ in range(subs_count // accounts_count):
            sub = subscriptions.SubscriptionSpec(account_id, option_id, 1, start)
            owned[-1].append(subscriptions.create_subscription(db, sub, "bench").id)
    create_user(db, ADMIN_EMAIL, "admin", ADMIN_PASSWORD, actor="bench")
    db.dispose()
    print(
        f"built {accounts_count} accounts, {subs_count} usage subscriptions in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return url, owned


def records(
    subs: list[int], first: date, days: int, count: int, prefix: str
) -> Iterator[dict[str, object]]:
    """`count` records as a daily feed sends them: every meter of every subscription for
    one day, then the next day (after `days` days, the first day again, as hourly
    records of the same days would be)."""
    per_day = len(subs) * len(METERS)
    for i in range(count):
        day = first + timedelta((i // per_day) % days)
        yield {
            "id": f"{prefix}{i}",
            "subscription_id": subs[(i // len(METERS)) % len(subs)],
            "meter": METERS[i % len(METERS)],
            "quantity": f"{(i * 7919) % 240}.{i % 100:02}",
            "occurred_on": day.isoformat(),
        }


def bodies(feed: Iterator[dict[str, object]]) -> list[bytes]:
    out, batch = [], []
    for record in feed:
        batch.append(record)
        if len(batch) == BATCH:
            out.append(json.dumps({"records": batch}).encode())
            batch = []
    if batch:
        out.append(json.dumps({"records": batch}).encode())
    return out


def rss_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def send(url: str, workers: int, clients: int, payloads: list[bytes], label: str) -> None:
    port, token = free_port(), secrets.token_urlsafe(24)
    server = serve(url, workers, port, token)
    try:
        pids = family(server.pid)
        todo: queue.Queue[bytes] = queue.Queue()
        for payload in payloads:
            todo.put(payload)
        latencies: list[float] = []
        errors: list[str] = []
        sent = [0]
        rss_early: dict[int, int] = {}
        lock = threading.Lock()

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            while True:
                try:
                    payload = todo.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                conn.request("POST", "/api/v1/usage", payload, headers)
                response = conn.getresponse()
                body = response.read()
                with lock:
                    latencies.append(time.perf_counter() - started)
                    if response.status != 201:
                        errors.append(f"{response.status} {body[:300]!r}")
                    sent[0] += 1
                    if sent[0] == max(1, len(payloads) // 10) and not rss_early:
                        rss_early.update({pid: rss_kb(pid, "VmRSS") for pid in pids})

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        rss_end = {pid: rss_kb(pid, "VmRSS") for pid in pids}
        peak = {pid: rss_kb(pid, "VmHWM") for pid in pids}
    finally:
        os.killpg(server.pid, 15)
        server.wait()
    total = sum(len(json.loads(p)["records"]) for p in payloads[:1]) * len(payloads)
    latencies.sort()
    print(
        f"\n{label}: {total:,} records in {len(payloads)} batches, {clients} clients, "
        f"{workers} server processes: {elapsed:.1f} s, {total / elapsed:,.0f} records/s; "
        f"batch p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(0.95 * len(latencies))] * 1000:.0f} ms; errors {len(errors)}"
    )
    for error in errors[:5]:
        print(f"  {error}")
    for pid in pids:
        print(
            f"  process {pid}: RSS after 10 % {rss_early.get(pid, 0) / 1024:.0f} MB, "
            f"at the end {rss_end[pid] / 1024:.0f} MB, peak {peak[pid] / 1024:.0f} MB"
        )


def upload_csv(url: str, subs: list[int], rows: int) -> None:
    path = Path(f"/tmp/recur-usage-bench-{os.getpid()}.csv")
    with path.open("w") as out:
        out.write("id,subscription_id,meter,quantity,occurred_on\n")
        for r in records(subs, date(2027, 1, 1), 60, rows, "csv-"):
            out.write(f"{r['id']},{r['subscription_id']},{r['meter']},{r['quantity']},")
            out.write(f"{r['occurred_on']}\n")
    settings = Settings(database_url=url, today=AS_OF, scheduler="off", secret_key="bench")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        sign_in(client)
        form = client.get("/usage")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None, "no CSRF token on /usage"
        started = time.perf_counter()
        with path.open("rb") as f:
            checked = client.post(
                "/usage/check",
                data={"csrf_token": csrf.group(1)},
                files={"file": ("usage.csv", f, "text/csv")},
            )
        check_s = time.perf_counter() - started
        token = re.search(r'name="token" value="([^"]+)"', checked.text)
        if checked.status_code != 200 or token is None:
            raise SystemExit(f"check failed: {checked.status_code} {checked.text[:500]}")
        started = time.perf_counter()
        stored = client.post(
            "/usage/confirm", data={"csrf_token": csrf.group(1), "token": token.group(1)}
        )
        store_s = time.perf_counter() - started
        flash = client.get("/usage").text
    path.unlink()
    done = re.search(r"Stored (\d+) usage records", flash)
    if stored.status_code != 303 or done is None or int(done.group(1)) != rows:
        raise SystemExit(f"store failed: {stored.status_code} {flash[:500]}")
    print(
        f"\nCSV upload of {rows:,} rows through the back office: check {check_s:.1f} s, "
        f"store {store_s:.1f} s, {check_s + store_s:.1f} s in all"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("RECUR_TEST_POSTGRES_URL"))
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--only", nargs="+", default=["spread", "hot", "csv"])
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("no --database-url and no RECUR_TEST_POSTGRES_URL")
    url, owned = build(args.database_url, BENCH_DB, 200, 1000, date(2025, 10, 1))
    every = [sub for subs in owned for sub in subs]
    days = (AS_OF - date(2025, 10, 1)).days
    if "spread" in args.only:
        payloads = bodies(records(every, date(2025, 10, 1), days, args.records, "s-"))
        send(url, args.workers, args.clients, payloads, "spread (1,000 subscriptions)")
    if "hot" in args.only:
        payloads = bodies(records(owned[0][:4], date(2025, 10, 1), days, args.records, "h-"))
        send(url, args.workers, args.clients, payloads, "hot (4 subscriptions of 1 account)")
    if "csv" in args.only:
        upload_csv(url, every, args.csv_rows)


if __name__ == "__main__":
    main()
