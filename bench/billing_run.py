"""Billing-run benchmark on PostgreSQL (run by `make bench`).

Builds N accounts × M subscriptions in a fresh database `recur_bench` on the
server named by --database-url (default: RECUR_TEST_POSTGRES_URL, else
RECUR_DATABASE_URL), then, in a fresh child process so that its memory is its
own, times one billing run as of a date on which every subscription has one
period due, and the pending preview of an account with 1,000 subscriptions.

Prints the throughput as a line `N subscription-periods/s`, the peak memory of
the run at two sizes (to show it stays flat as N grows) and the preview's
latency (p50/p95). Results are described in docs/performance.md.

    scripts/with-postgres.sh .venv/bin/python bench/billing_run.py [--accounts 20000]

A reseller's biggest customers (`make bench` runs this too): 500 accounts of 200
subscriptions each, every invoice hundreds of items.

    bench/billing_run.py --accounts 500 --subs-per-account 200 --memory-accounts 0
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, make_url

from recur.db.billing_store import subscription_state
from recur.db.migrate import recreate_postgres_database
from recur.db.models import (
    Account,
    Invoice,
    InvoiceItem,
    PricingOption,
    Product,
    Subscription,
)
from recur.db.session import Database, normalise_url
from recur.domain.calendar import add_months
from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    CancelAt,
    ChargeKind,
    InvoiceGrouping,
    PartialCharges,
    SubscriptionStatus,
)
from recur.domain.charges import (
    BilledState,
    SubscriptionTerms,
    due_charges,
    next_planned_issue_date,
    planned_issue_date,
)
from recur.services.billing_run import BATCH_SIZE, run_billing
from recur.services.changes import ChangeSpec, change_subscription
from recur.services.invoicing import pending_for_account
from recur.services.subscriptions import cancel_subscription

BENCH_DB = "recur_bench"
AS_OF = date(2027, 3, 15)
CHUNK = 1_000  # accounts built per round trip batch

# --- the catalogue ------------------------------------------------------------

# (sku, name, taxable, [(code, period, type, EUR price, EUR setup fee, billing day, weight)])
CATALOGUE: list[tuple[str, str, bool, list[tuple[str, str, str, str, str, int | None, int]]]] = [
    (
        "O365-E3",
        "Office 365 E3",
        True,
        [
            ("monthly", "monthly", "prepaid", "12.50", "0", None, 30),
            ("annual", "annual", "prepaid", "135.00", "0", None, 8),
        ],
    ),
    (
        "BACKUP-1TB",
        "Cloud Backup 1 TB",
        True,
        [("monthly", "monthly", "prepaid", "20.00", "50.00", None, 10)],
    ),
    (
        "AZURE-USAGE",
        "Azure usage",
        True,
        [("monthly", "monthly", "postpaid", "100.00", "0", None, 12)],
    ),
    (
        "VM-STD",
        "Virtual machine (standard)",
        True,
        [
            ("monthly", "monthly", "postpaid", "45.90", "0", None, 8),
            ("quarterly", "quarterly", "prepaid", "130.00", "25.00", None, 4),
        ],
    ),
    (
        "DOMAIN",
        "Domain registration",
        True,
        [("annual", "annual", "prepaid", "15.00", "0", None, 4)],
    ),
    (
        "SUPPORT",
        "Premium support",
        False,
        [
            ("monthly", "monthly", "prepaid", "299.00", "0", None, 5),
            ("semiannual", "semiannual", "postpaid", "1500.00", "0", None, 2),
        ],
    ),
    (
        "SSL-EV",
        "SSL certificate (EV)",
        True,
        [("annual", "annual", "prepaid", "79.00", "10.00", None, 3)],
    ),
    # a product-specific billing day overrides the account's
    (
        "EMAIL-ARCH",
        "Email archive 50 GB",
        True,
        [("monthly-d1", "monthly", "prepaid", "4.20", "0", 1, 10)],
    ),
    (
        "SEC-SUITE",
        "Security suite",
        True,
        [("monthly", "monthly", "prepaid", "8.75", "15.00", None, 4)],
    ),
]
# currency, rate from EUR, minor unit, share of accounts
CURRENCIES = [
    ("EUR", "1", 2, 60),
    ("USD", "1.08", 2, 25),
    ("JPY", "162", 0, 10),
    ("KWD", "0.333", 3, 5),
]


@dataclass(frozen=True)
class Option:
    id: int
    product_id: int
    product_name: str
    taxable: bool
    currency: str
    cycle: BillingCycle
    billing_type: BillingType
    unit_price: Decimal
    setup_fee: Decimal
    billing_day: int | None
    weight: int


@dataclass(frozen=True)
class AccountRow:
    id: int
    currency: str
    billing_day: int | None
    partial_charges: PartialCharges


def build_catalogue(conn: Connection) -> dict[str, list[Option]]:
    """Products and their pricing options, one option per currency."""
    by_currency: dict[str, list[Option]] = {c: [] for c, *_ in CURRENCIES}
    option_id = 0
    for product_id, (sku, name, taxable, options) in enumerate(CATALOGUE, start=1):
        conn.execute(
            insert(Product),
            [{"id": product_id, "sku": sku, "name": name, "taxable": taxable}],
        )
        rows = []
        for code, period, btype, price, setup, bday, weight in options:
            cycle = BillingCycle(period)
            for currency, rate, places, _ in CURRENCIES:
                option_id += 1
                q = Decimal(1).scaleb(-places)
                option = Option(
                    id=option_id,
                    product_id=product_id,
                    product_name=name,
                    taxable=taxable,
                    currency=currency,
                    cycle=cycle,
                    billing_type=BillingType(btype),
                    unit_price=(Decimal(price) * Decimal(rate)).quantize(q),
                    setup_fee=(Decimal(setup) * Decimal(rate)).quantize(q),
                    billing_day=bday,
                    weight=weight,
                )
                by_currency[currency].append(option)
                rows.append(
                    {
                        "id": option_id,
                        "product_id": product_id,
                        "code": f"{code}-{currency.lower()}",
                        "billing_period": period,
                        "billing_type": btype,
                        "unit_price": option.unit_price,
                        "setup_fee": option.setup_fee,
                        "currency": currency,
                        "term_months": cycle.months,
                        "auto_renew": True,
                        "billing_day": bday,
                        "active": True,
                    }
                )
        conn.execute(insert(PricingOption), rows)
    return by_currency


# --- accounts and subscriptions ---------------------------------------------------


def _terms(
    sub_id: int, account: AccountRow, option: Option, quantity: int, start: date, end: date | None
) -> SubscriptionTerms:
    return SubscriptionTerms(
        subscription_id=sub_id,
        account_id=account.id,
        product_id=option.product_id,
        product_name=option.product_name,
        taxable=option.taxable,
        currency=option.currency,
        cycle=option.cycle,
        billing_type=option.billing_type,
        unit_price=option.unit_price,
        setup_fee=option.setup_fee,
        quantity=quantity,
        start_date=start,
        billing_day=option.billing_day if option.billing_day is not None else account.billing_day,
        partial_charges=account.partial_charges,
        end_date=end,
    )


def steady_state(terms: SubscriptionTerms, as_of: date) -> BilledState:
    """Billed up to (not including) the last period planned on or before `as_of`,
    so that exactly that one period is due; the setup fee was billed long ago."""
    months = terms.cycle.months
    last = None
    for period in terms.schedule.periods(add_months(as_of, -2 * months - 1)):
        if planned_issue_date(terms, period) > as_of:
            break
        last = period
    assert last is not None
    until = None if last.start == terms.start_date else last.start
    return BilledState(until, frozenset({ChargeKind.SETUP}))


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def subscription_row(
    rng: random.Random, sub_id: int, account: AccountRow, options: list[Option], as_of: date
) -> dict[str, Any]:
    option = rng.choices(options, weights=[o.weight for o in options])[0]
    quantity = rng.choice((1, 1, 1, 2, 3, 5, 10, 25, 50))
    roll = rng.random()
    end: date | None = None
    status = SubscriptionStatus.ACTIVE
    if roll < 0.05:  # a new order: setup fee and first (maybe partial) period due
        start = _random_day(rng, as_of - timedelta(days=27), as_of)
        billed = BilledState()
    elif roll < 0.06:  # cancelled months ago, fully billed: nothing due
        start = _random_day(rng, date(2023, 1, 1), date(2025, 6, 30))
        end = _random_day(rng, add_months(start, 1), as_of - timedelta(days=60))
        status = SubscriptionStatus.CANCELLED
        billed = BilledState(end, frozenset({ChargeKind.SETUP}))
    else:  # steady state: one period due
        start = _random_day(rng, date(2023, 1, 1), date(2025, 12, 31))
        billed = steady_state(_terms(sub_id, account, option, quantity, start, None), as_of)
    terms = _terms(sub_id, account, option, quantity, start, end)
    return {
        "id": sub_id,
        "account_id": account.id,
        "pricing_option_id": option.id,
        "quantity": quantity,
        "start_date": start,
        "status": status.value,
        "auto_renew": True,
        "term_months": option.cycle.months,
        "end_date": end,
        "recurring_billed_until": billed.recurring_until,
        "setup_billed": ChargeKind.SETUP in billed.once,
        "one_time_billed": False,
        "next_charge_date": next_planned_issue_date(terms, billed),
    }


def account_row(
    rng: random.Random, account_id: int, name: str
) -> tuple[dict[str, Any], AccountRow]:
    currency = rng.choices([c for c, *_ in CURRENCIES], weights=[c[3] for c in CURRENCIES])[0]
    billing_day = None if rng.random() < 0.3 else rng.randint(1, 28)
    partial = PartialCharges.NEXT_BILLING_DAY if rng.random() < 0.2 else PartialCharges.ON_ORDER_DAY
    grouping = rng.choices(list(InvoiceGrouping), weights=[70, 20, 10])[0]
    row = {
        "id": account_id,
        "name": name,
        "email": f"billing+{account_id}@example.com",
        "currency": currency,
        "billing_day": billing_day,
        "partial_charges": partial.value,
        "invoice_grouping": grouping.value,
        "payment_terms_days": rng.choice((14, 30, 30, 30, 45)),
        "tax_rate": Decimal(rng.choice(("0", "7.5", "20", "24", "24"))),
        "status": "active",
    }
    return row, AccountRow(account_id, currency, billing_day, partial)


def build(
    url: str, accounts: int, subs_per_account: int, preview_subs: int, as_of: date, seed: int
) -> tuple[int, int]:
    """The data set; returns (subscriptions, id of the preview account). Streams in chunks."""
    rng = random.Random(seed)
    db = Database(url)
    subscriptions = 0
    with db.engine.begin() as conn:
        options = build_catalogue(conn)
    # account 1 is the preview account: many subscriptions, consolidated
    plan: Iterator[tuple[int, int]] = iter(
        [(1, preview_subs)] + [(i, subs_per_account) for i in range(2, accounts + 2)]
    )
    sub_id = 0
    done = False
    while not done:
        account_rows, sub_rows = [], []
        for _ in range(CHUNK):
            step = next(plan, None)
            if step is None:
                done = True
                break
            account_id, n = step
            name = "Bench preview account" if account_id == 1 else f"Bench account {account_id:06d}"
            row, acct = account_row(rng, account_id, name)
            if account_id == 1:
                row.update(currency="EUR", invoice_grouping="consolidated", billing_day=1)
                acct = AccountRow(1, "EUR", 1, acct.partial_charges)
            account_rows.append(row)
            for _ in range(n):
                sub_id += 1
                sub_rows.append(subscription_row(rng, sub_id, acct, options[acct.currency], as_of))
        if account_rows:
            with db.engine.begin() as conn:
                conn.execute(insert(Account), account_rows)
                conn.execute(insert(Subscription), sub_rows)
            subscriptions += len(sub_rows)
    with db.engine.begin() as conn:
        for table in ("products", "pricing_options", "accounts", "subscriptions"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            )
        seed_history(conn, add_months(as_of, -1))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    db.dispose()
    return subscriptions, 1


def seed_history(conn: Connection, issued: date) -> None:
    """Last month's invoices: one per account, an item and a ledger row per billed
    subscription. A live database has history; an empty `invoices` table would also
    leave the foreign-key checks of the run with cached sequential-scan plans."""
    conn.execute(
        text(
            "INSERT INTO invoices (number, account_id, issue_date, due_date, currency, type, status,"
            " source, subtotal, tax, total, tax_rate)"
            " SELECT 'INV-' || extract(year FROM CAST(:issued AS date)) || '-'"
            " || lpad(CAST(row_number() OVER (ORDER BY a.id) AS text), 6, '0'), a.id, :issued,"
            " CAST(:issued AS date) + a.payment_terms_days, a.currency, 'invoice', 'paid', 'automatic', 0, 0, 0, a.tax_rate"
            " FROM accounts a ORDER BY a.id"
        ),
        {"issued": issued},
    )
    conn.execute(
        text(
            "INSERT INTO invoice_items (invoice_id, position, subscription_id, kind, description,"
            " period_start, period_end, quantity, unit_price, proration, amount, taxable, tax_rate)"
            " SELECT i.id, row_number() OVER (PARTITION BY s.account_id ORDER BY s.id), s.id, 'recurring',"
            " p.name || ' (' || o.billing_period || ')',"
            " CAST(s.recurring_billed_until - make_interval(months => s.term_months) AS date),"
            " s.recurring_billed_until - 1, s.quantity, o.unit_price, 1, round(o.unit_price * s.quantity, 2),"
            " p.taxable, CASE WHEN p.taxable THEN i.tax_rate ELSE 0 END"
            " FROM subscriptions s JOIN invoices i ON i.account_id = s.account_id"
            " JOIN pricing_options o ON o.id = s.pricing_option_id JOIN products p ON p.id = o.product_id"
            " WHERE s.recurring_billed_until IS NOT NULL ORDER BY s.id"
        )
    )
    conn.execute(
        text(
            "UPDATE subscriptions SET billing_seq = 1"
            " WHERE id IN (SELECT subscription_id FROM invoice_items)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO billed_periods (subscription_id, kind, period_start, period_end,"
            " billing_period_start, pricing_option_id, quantity, invoice_item_id,"
            " billing_seq, first_of_billing)"
            " SELECT i.subscription_id, i.kind, i.period_start, i.period_end + 1, i.period_start,"
            " s.pricing_option_id, i.quantity, i.id, 1, true"
            " FROM invoice_items i JOIN subscriptions s ON s.id = i.subscription_id ORDER BY i.id"
        )
    )
    conn.execute(
        text(
            "UPDATE invoices i SET subtotal = t.amount, total = t.amount"
            " FROM (SELECT invoice_id, sum(amount) AS amount FROM invoice_items GROUP BY invoice_id) t"
            " WHERE t.invoice_id = i.id"
        )
    )
    conn.execute(
        text(
            "INSERT INTO invoice_sequences (series, year, last_number)"
            " SELECT 'INV', extract(year FROM CAST(:issued AS date)), count(*) FROM invoices"
        ),
        {"issued": issued},
    )


def apply_changes(url: str, as_of: date, seed: int, preview_account: int) -> Counter[str]:
    """A busy day's changes since the last run, through the services: one subscription
    in ten gains or loses seats (every one of the preview account's does), one in fifty
    is cancelled `now`, each a few days into its last billed period, so that the run
    issues their adjustments and credits with the periods due."""
    rng = random.Random(seed)
    db = Database(url)
    with db.read() as session:
        rows = session.execute(
            select(
                Subscription.id,
                Subscription.account_id,
                Subscription.recurring_billed_until,
                PricingOption.billing_period,
            )
            .join(PricingOption, Subscription.pricing_option_id == PricingOption.id)
            .where(Subscription.end_date.is_(None))
            .order_by(Subscription.id)
        ).all()
    done: Counter[str] = Counter()
    for sub_id, account_id, billed_until, cycle in rows:
        if cycle == BillingCycle.ONE_TIME or billed_until is None:
            continue
        day = min(billed_until - timedelta(days=3), as_of)
        draw = rng.random()
        if draw < 0.02 and account_id != preview_account:
            cancel_subscription(db, sub_id, CancelAt.NOW, day, "bench")
            done["cancelled"] += 1
        elif draw < 0.12 or account_id == preview_account:
            spec = ChangeSpec(quantity=rng.randint(1, 40))
            change_subscription(db, sub_id, spec, day, "bench")
            done["changed"] += 1
    db.dispose()
    return done


def verify_sample(url: str, as_of: date, size: int = 300) -> Counter[int]:
    """Check stored cursors against the engine on a sample; returns due-charge counts."""
    db = Database(url)
    due: Counter[int] = Counter()
    with db.transaction() as session:
        rows = session.execute(select(Subscription).order_by(func.random()).limit(size)).scalars()
        for sub in rows:
            terms, billed = subscription_state(session, sub.id)
            expected = next_planned_issue_date(terms, billed)
            if sub.next_charge_date != expected:
                raise SystemExit(
                    f"subscription {sub.id}: next_charge_date {sub.next_charge_date} != engine's {expected}"
                )
            due[
                sum(1 for c in due_charges(terms, billed, as_of) if c.kind is ChargeKind.RECURRING)
            ] += 1
    db.dispose()
    return due


# --- measuring (in a child process) ---------------------------------------------------


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(args: argparse.Namespace) -> dict[str, Any]:
    url, as_of = args.bench_url, date.fromisoformat(args.as_of)
    db = Database(url)
    with db.transaction() as session:  # connect and warm up before the baseline
        session.execute(select(func.count()).select_from(Account)).scalar_one()
    rss_before = maxrss_mb()
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    run = run_billing(db, as_of, as_of, "bench", batch_size=args.batch_size)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "rss_peak_mb": maxrss_mb(),
        "run": _run_figures(db, run.id),
        "status": run.status,
        "errors": run.errors_count,
    }
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.dump_stats(args.profile)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(45)
        result["profile"] = out.getvalue()
    if args.preview_calls:
        # Let the run's 100,000 row changes be vacuumed and analysed first, as autovacuum
        # soon would: otherwise its work lands on the preview's timings.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        result["preview"] = _preview(db, args.preview_account, as_of, args.preview_calls)
    if args.catch_up:
        later = add_months(as_of, 3)
        started = time.perf_counter()
        run = run_billing(db, later, later, "bench catch-up", batch_size=args.batch_size)
        result["catch_up"] = {
            "seconds": time.perf_counter() - started,
            "as_of": later.isoformat(),
            "run": _run_figures(db, run.id),
        }
    db.dispose()
    return result


def _run_figures(db: Database, run_id: int) -> dict[str, int]:
    with db.transaction() as session:
        rows = session.execute(
            select(InvoiceItem.kind, func.count())
            .join(Invoice, InvoiceItem.invoice_id == Invoice.id)
            .where(Invoice.billing_run_id == run_id)
            .group_by(InvoiceItem.kind)
        ).tuples()
        kinds: dict[str, int] = dict(rows.all())
    run = _get_run(db, run_id)
    return {
        "accounts": run["accounts_processed"],
        "invoices": run["invoices_issued"],
        "charges": run["charges_issued"],
        "periods": int(kinds.get("recurring", 0)),
        "setup": int(kinds.get("setup", 0)),
        "adjustments": int(kinds.get("adjustment", 0)),
    }


def _get_run(db: Database, run_id: int) -> dict[str, Any]:
    with db.engine.connect() as conn:
        row = (
            conn.execute(text("SELECT * FROM billing_runs WHERE id = :id"), {"id": run_id})
            .mappings()
            .one()
        )
        return dict(row)


def _preview(db: Database, account_id: int, as_of: date, calls: int) -> dict[str, Any]:
    pending = pending_for_account(db, account_id, as_of)  # warm-up
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        pending_for_account(db, account_id, as_of)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "subscriptions": len(pending.subscription_ids),
        "invoices": len(pending.invoices),
        "items": sum(len(i.items) for i in pending.invoices),
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[max(0, round(0.95 * len(latencies)) - 1)],
        "calls": calls,
    }


# --- orchestration ---------------------------------------------------------------


def recreate_database(server_url: str) -> str:
    return recreate_postgres_database(server_url, BENCH_DB)


def run_size(args: argparse.Namespace, accounts: int, main: bool) -> dict[str, Any]:
    as_of = date.fromisoformat(args.as_of)
    url = recreate_database(args.database_url)
    started = time.perf_counter()
    subs, preview_account = build(
        url, accounts, args.subs_per_account, args.preview_subs, as_of, args.seed
    )
    build_seconds = time.perf_counter() - started
    if args.changes:
        done = apply_changes(url, as_of, args.seed, preview_account)
        print(f"[{accounts} accounts] changes since the last run: {dict(done)}", flush=True)
    due = verify_sample(url, as_of)
    print(
        f"[{accounts} accounts] built {subs:,} subscriptions in {build_seconds:.1f} s; "
        f"sample of {sum(due.values())} checked against the engine, recurring periods due: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(due.items())),
        flush=True,
    )
    child = [
        sys.executable,
        __file__,
        "--measure",
        "--bench-url",
        url,
        "--as-of",
        args.as_of,
        "--batch-size",
        str(args.batch_size),
    ]
    if main:
        child += [
            "--preview-account",
            str(preview_account),
            "--preview-calls",
            str(args.preview_calls),
        ]
        if args.catch_up:
            child.append("--catch-up")
        if args.profile:
            child += ["--profile", args.profile]
    else:
        child += ["--preview-calls", "0"]
    output = subprocess.run(child, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result.update(subscriptions=subs, accounts=accounts, build_seconds=build_seconds)
    return result


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    mem_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=20_000, help="accounts (default 20000)")
    parser.add_argument(
        "--subs-per-account", type=int, default=5, help="subscriptions per account (default 5)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help=f"accounts per run batch (default {BATCH_SIZE})",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RECUR_TEST_POSTGRES_URL") or os.environ.get("RECUR_DATABASE_URL"),
        help="a PostgreSQL server; recur_bench is (re)created on it",
    )
    parser.add_argument(
        "--memory-accounts",
        type=int,
        default=5_000,
        help="a smaller size run first to compare memory (default 5000; 0: skip)",
    )
    parser.add_argument(
        "--preview-subs", type=int, default=1_000, help="subscriptions of the preview account"
    )
    parser.add_argument("--preview-calls", type=int, default=50)
    parser.add_argument(
        "--catch-up", action="store_true", help="then a run three months later (catch-up)"
    )
    parser.add_argument(
        "--changes",
        action="store_true",
        help="one subscription in ten changed and one in fifty cancelled before the run",
    )
    parser.add_argument("--profile", metavar="FILE", help="profile the run with cProfile into FILE")
    parser.add_argument("--as-of", default=AS_OF.isoformat())
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bench-url", help=argparse.SUPPRESS)
    parser.add_argument("--preview-account", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        print(json.dumps(measure(args), default=str))
        return
    if not args.database_url:
        parser.error(
            "no database: pass --database-url or set RECUR_TEST_POSTGRES_URL (make bench does)"
        )
    if not make_url(normalise_url(args.database_url)).drivername.startswith("postgresql"):
        parser.error("the benchmark needs PostgreSQL")

    print(f"machine: {machine()}", flush=True)
    sizes = []
    if 0 < args.memory_accounts < args.accounts:
        sizes.append(run_size(args, args.memory_accounts, main=False))
    result = run_size(args, args.accounts, main=True)
    sizes.append(result)

    run = result["run"]
    print(
        f"billing run as of {args.as_of}, batch size {args.batch_size}: {run['accounts']:,} accounts, "
        f"{run['invoices']:,} invoices, {run['charges']:,} charges ({run['periods']:,} recurring periods, "
        f"{run['setup']:,} setup fees, {run['adjustments']:,} adjustments) in {result['seconds']:.2f} s, "
        f"status {result['status']}, errors {result['errors']}"
    )
    if "profile" in result:
        print(result["profile"])
        print("(profiled: cProfile slows the run, so the throughput below is not comparable)")
    print(f"{run['periods'] / result['seconds']:.0f} subscription-periods/s")
    print(f"{run['charges'] / result['seconds']:.0f} charges/s (items, setup fees included)")
    for size in sizes:
        print(
            f"memory, {size['accounts']:,} accounts ({size['subscriptions']:,} subscriptions): "
            f"peak RSS {size['rss_peak_mb']:.1f} MB ({size['rss_before_mb']:.1f} MB before the run) "
            f"({size['run']['periods'] / size['seconds']:.0f} periods/s)"
        )
    if len(sizes) == 2:
        growth = sizes[1]["rss_peak_mb"] - sizes[0]["rss_peak_mb"]
        print(
            f"peak RSS growth from {sizes[0]['accounts']:,} to {sizes[1]['accounts']:,} accounts: {growth:+.1f} MB"
        )
    if "preview" in result:
        p = result["preview"]
        print(
            f"preview of an account with {args.preview_subs:,} subscriptions ({p['invoices']} pending invoices, "
            f"{p['items']:,} items), {p['calls']} calls: p50 {p['p50_ms']:.1f} ms, p95 {p['p95_ms']:.1f} ms"
        )
    if "catch_up" in result:
        c = result["catch_up"]
        print(
            f"catch-up run as of {c['as_of']}: {c['run']['periods']:,} periods in {c['seconds']:.2f} s, "
            f"{c['run']['periods'] / c['seconds']:.0f} subscription-periods/s"
        )
    if result["errors"]:
        sys.exit(f"the run recorded {result['errors']} account errors: its figures are not a bench")


if __name__ == "__main__":
    main()
