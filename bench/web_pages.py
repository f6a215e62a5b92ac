"""Back-office page times on PostgreSQL, with 20,000 accounts and 100,000 subscriptions.

Builds the data of bench/billing_run.py (N accounts × M subscriptions, one account
with 1,000 subscriptions, last month's invoices) in a fresh database
`recur_web_bench`, runs one billing run as of 2027-03-15 (so that the invoice list
is big), creates an administrator, signs in through the sign-in form (with its CSRF
token) and times every main page of the back office through FastAPI's TestClient.

For each page: the server time (from the ASGI call to the last byte of the
response, measured inside the TestClient) as median and p95 of --requests requests
after --warmup requests, and the SQL statements the page ran (counted with
SQLAlchemy's `before_cursor_execute` on the application's engine) and their time.
Then an N+1 check: every list page again with a page size of 5 instead of 25 (and
every account page for the 1,000-subscription account as well as a 5-subscription
one); the statement count must be the same.

    scripts/with-postgres.sh .venv/bin/python bench/web_pages.py [--accounts 20000]
        [--reuse] [--only accounts] [--sql] [--json out.json]

`--reuse` keeps `recur_web_bench` if it already holds the data (it is migrated to
the newest revision and analysed again), to iterate without rebuilding. Results
are described in docs/performance.md ("Back-office page times").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

import billing_run

from recur.app import create_app
from recur.db.migrate import recreate_postgres_database, upgrade
from recur.db.models import Account, BillingRun, Invoice, Subscription, User
from recur.db.session import Database, normalise_url
from recur.domain.pages import Cursor, encode_cursor
from recur.services.billing_run import run_billing
from recur.services.invoicing import pending_for_account
from recur.services.users import create_user
from recur.settings import Settings

BENCH_DB = "recur_web_bench"
AS_OF = date(2027, 3, 15)
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-password-1"
BUDGET_MS = 100.0
PREVIEW_ACCOUNT = 1  # bench/billing_run.build: account 1 has --preview-subs subscriptions


# --- the data set ---------------------------------------------------------------------


def bench_url(server_url: str) -> tuple[str, str]:
    """(URL of recur_web_bench, psycopg URL of the server's `postgres` database)."""
    base = make_url(normalise_url(server_url))
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    return base.set(database=BENCH_DB).render_as_string(hide_password=False), admin


def populated(url: str, accounts: int) -> bool:
    """True when the database holds the data set and its billing run."""
    db = Database(url)
    try:
        with db.read() as session:
            count = session.scalar(select(func.count()).select_from(Account)) or 0
            runs = session.scalar(
                select(func.count()).select_from(BillingRun).where(BillingRun.status == "completed")
            )
            users = session.scalar(select(func.count()).where(User.email == ADMIN_EMAIL))
        return count == accounts + 1 and bool(runs) and bool(users)
    except Exception:
        return False
    finally:
        db.dispose()


def prepare(args: argparse.Namespace) -> str:
    url, admin = bench_url(args.database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)
        ).fetchone()
    if args.reuse and exists:
        upgrade(url)  # newer migrations (indexes) apply to the kept data
        if populated(url, args.accounts):
            print(f"reusing {BENCH_DB}", flush=True)
            analyse(url)
            return url
    recreate_postgres_database(args.database_url, BENCH_DB)
    started = time.perf_counter()
    subs, _ = billing_run.build(
        url, args.accounts, args.subs_per_account, args.preview_subs, AS_OF, args.seed
    )
    print(
        f"built {args.accounts + 1:,} accounts, {subs:,} subscriptions in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    db = Database(url)
    started = time.perf_counter()
    run = run_billing(db, AS_OF, AS_OF, "bench")
    print(
        f"billing run as of {AS_OF}: {run.invoices_issued:,} invoices, "
        f"{run.charges_issued:,} charges in {time.perf_counter() - started:.0f} s ({run.status})",
        flush=True,
    )
    create_user(db, ADMIN_EMAIL, "admin", ADMIN_PASSWORD, actor="bench")
    db.dispose()
    analyse(url)
    return url


def analyse(url: str) -> None:
    db = Database(url)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    db.dispose()


@dataclass(frozen=True)
class Subjects:
    """What the pages are about: a typical account, its invoice and subscription, etc."""

    account: int  # 5 subscriptions
    invoice: int
    subscription: int
    product: int  # the most sold product
    rare_product: int  # the least sold product
    accounts: int
    subscriptions: int
    invoices: int


def subjects(url: str, accounts: int) -> Subjects:
    db = Database(url)
    account = accounts // 2 + 1
    with db.read() as session:
        invoice = session.scalar(
            select(Invoice.id)
            .where(Invoice.account_id == account)
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
            .limit(1)
        )
        subscription = session.scalar(
            select(func.min(Subscription.id)).where(Subscription.account_id == account)
        )
        by_product = session.execute(
            text(
                "SELECT o.product_id, count(*) FROM subscriptions s"
                " JOIN pricing_options o ON o.id = s.pricing_option_id"
                " GROUP BY o.product_id ORDER BY count(*) DESC, o.product_id"
            )
        ).all()
        counts = [
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Account, Subscription, Invoice)
        ]
    db.dispose()
    assert invoice is not None
    assert subscription is not None
    return Subjects(
        account=account,
        invoice=invoice,
        subscription=subscription,
        product=by_product[0][0],
        rare_product=by_product[-1][0],
        accounts=counts[0],
        subscriptions=counts[1],
        invoices=counts[2],
    )


# --- measuring -------------------------------------------------------------------------


class Timed:
    """An ASGI wrapper: the server time of the last HTTP request, to the last byte sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.perf_counter() - started


@dataclass
class SqlCounter:
    """Statements run on the application's engine (and its read-only variant)."""

    statements: list[str] = field(default_factory=list)
    seconds: float = 0.0
    _started: list[float] = field(default_factory=list)

    def install(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)
        self._started.append(time.perf_counter())

    def _after(self, *_args: Any) -> None:
        if self._started:
            self.seconds += time.perf_counter() - self._started.pop()

    def reset(self) -> None:
        self.statements.clear()
        self.seconds = 0.0
        self._started.clear()


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    group: str  # for --only
    note: str = ""


@dataclass
class Result:
    page: Page
    server_ms: list[float]
    sql_ms: list[float]
    statements: int
    statements_varied: bool
    bytes: int
    rows: int
    sql: list[str]

    @property
    def p50(self) -> float:
        return statistics.median(self.server_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.server_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def pages(s: Subjects) -> list[Page]:
    a, p = s.account, PREVIEW_ACCOUNT

    # A keyset cursor halfway down each list (in id order: the bench knows ids, not names).
    def halfway(sort: str, rows: int) -> str:
        return encode_cursor(Cursor(sort, rows // 2, rows // 2))

    return [
        Page("accounts list", "/accounts", "accounts"),
        Page("accounts, by e-mail (no index)", "/accounts?sort=-email", "accounts", "sorted"),
        Page("accounts, search (few hits)", "/accounts?q=account+01234", "accounts"),
        Page("accounts, search (many hits)", "/accounts?q=account+01", "accounts"),
        Page("accounts, search (e-mail)", "/accounts?q=billing%2B12345%40", "accounts"),
        Page(
            "accounts, a later page",
            f"/accounts?sort=id&cursor={halfway('id', s.accounts)}",
            "accounts",
            "keyset ½ way",
        ),
        Page("account overview", f"/accounts/{a}", "account"),
        Page("account subscriptions", f"/accounts/{a}/subscriptions", "account"),
        Page("account pending invoices", f"/accounts/{a}/pending", "account"),
        Page("account generate pop-up", f"/accounts/{a}/generate", "account"),
        Page("account invoices", f"/accounts/{a}/invoices", "account"),
        Page("1,000-sub account overview", f"/accounts/{p}", "big"),
        Page("1,000-sub account subscriptions", f"/accounts/{p}/subscriptions", "big"),
        Page("1,000-sub account invoices", f"/accounts/{p}/invoices", "big"),
        Page("1,000-sub account pending", f"/accounts/{p}/pending", "big", "engine preview"),
        Page("1,000-sub account generate", f"/accounts/{p}/generate", "big", "engine preview"),
        Page("subscriptions list", "/subscriptions", "subscriptions"),
        Page("subscriptions, by account", f"/subscriptions?account_id={a}", "subscriptions"),
        Page(
            "subscriptions, by product",
            f"/subscriptions?product_id={s.product}",
            "subscriptions",
            "most sold",
        ),
        Page(
            "subscriptions, by product (rare)",
            f"/subscriptions?product_id={s.rare_product}",
            "subscriptions",
            "least sold",
        ),
        Page("subscriptions, status cancelled", "/subscriptions?status=cancelled", "subscriptions"),
        Page("subscriptions, status active", "/subscriptions?status=active", "subscriptions"),
        Page(
            "subscriptions, product + status",
            f"/subscriptions?product_id={s.rare_product}&status=cancelled",
            "subscriptions",
        ),
        Page(
            "subscriptions, a later page",
            f"/subscriptions?cursor={halfway('id', s.subscriptions)}",
            "subscriptions",
            "keyset ½ way",
        ),
        Page("subscription page", f"/subscriptions/{s.subscription}", "subscriptions"),
        Page("invoices list", "/invoices", "invoices"),
        Page("invoices, by total (no index)", "/invoices?sort=-total", "invoices", "sorted"),
        Page("invoices, unpaid", "/invoices?status=unpaid", "invoices"),
        Page("invoices, by account", f"/invoices?account_id={a}", "invoices"),
        Page(
            "invoices, run's date + automatic",
            f"/invoices?issued_from={AS_OF}&issued_to={AS_OF}&source=automatic",
            "invoices",
            "billing-run link",
        ),
        Page("invoices, by number", "/invoices?number=INV-2027-01234", "invoices"),
        Page(
            "invoices, a later page",
            f"/invoices?sort=-id&cursor={halfway('-id', s.invoices)}",
            "invoices",
            "keyset ½ way",
        ),
        Page("invoice page", f"/invoices/{s.invoice}", "invoices"),
        Page("products", "/products", "other"),
        Page("billing runs", "/billing-runs", "other"),
    ]


ROW = re.compile(r"<tr[ >]")


def measure(
    client: TestClient, timed: Timed, sql: SqlCounter, page: Page, warmup: int, requests: int
) -> Result:
    for _ in range(warmup):
        response = client.get(page.path)
        if response.status_code != 200:
            raise SystemExit(f"{page.path}: HTTP {response.status_code}\n{response.text[:2000]}")
    server_ms, sql_ms, counts = [], [], set()
    statements: list[str] = []
    body = ""
    for _ in range(requests):
        sql.reset()
        response = client.get(page.path)
        server_ms.append(timed.last * 1000)
        sql_ms.append(sql.seconds * 1000)
        counts.add(len(sql.statements))
        statements = list(sql.statements)
        body = response.text
        assert response.status_code == 200, page.path
    return Result(
        page=page,
        server_ms=server_ms,
        sql_ms=sql_ms,
        statements=max(counts),
        statements_varied=len(counts) > 1,
        bytes=len(body.encode()),
        rows=len(ROW.findall(body)),
        sql=statements,
    )


def statements_of(client: TestClient, sql: SqlCounter, path: str) -> int:
    sql.reset()
    response = client.get(path)
    assert response.status_code == 200, path
    return len(sql.statements)


def n_plus_one(
    client: TestClient, sql: SqlCounter, measured: list[Page], s: Subjects
) -> list[tuple[str, int, int, str]]:
    """(page, statements small, statements big, what differs) for each check."""
    checks: list[tuple[str, int, int, str]] = []
    lists = [
        p for p in measured if p.path.split("?")[0] in ("/accounts", "/subscriptions", "/invoices")
    ]
    for page in lists:
        joiner = "&" if "?" in page.path else "?"
        small = statements_of(client, sql, f"{page.path}{joiner}limit=5")
        big = statements_of(client, sql, page.path)
        checks.append((page.name, small, big, "page size 5 vs 25"))
    for suffix in ("", "/subscriptions", "/invoices", "/pending", "/generate"):
        small = statements_of(client, sql, f"/accounts/{s.account}{suffix}")
        big = statements_of(client, sql, f"/accounts/{PREVIEW_ACCOUNT}{suffix}")
        checks.append(
            (
                f"/accounts/{{id}}{suffix}",
                small,
                big,
                "5-subscription vs 1,000-subscription account",
            )
        )
    return checks


def sign_in(client: TestClient) -> None:
    form = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if form.status_code != 200 or match is None:
        raise SystemExit("the sign-in form has no CSRF token")
    response = client.post(
        "/login",
        data={
            "csrf_token": match.group(1),
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "next": "/accounts",
        },
    )
    if response.status_code != 303 or response.headers.get("location") != "/accounts":
        raise SystemExit(f"sign-in failed: HTTP {response.status_code}")


def preview_alone(url: str, calls: int) -> list[float]:
    db = Database(url)
    pending_for_account(db, PREVIEW_ACCOUNT, AS_OF)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        pending_for_account(db, PREVIEW_ACCOUNT, AS_OF)
        times.append((time.perf_counter() - started) * 1000)
    db.dispose()
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def report(
    results: list[Result],
    checks: list[tuple[str, int, int, str]],
    preview: list[float],
    preview_subs: int,
) -> bool:
    ok = True
    print()
    print("| page | path | p50 ms | p95 ms | SQL | SQL ms | rows | |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        engine = "engine preview" in r.page.note
        over = r.p50 > BUDGET_MS and not engine
        flag = "OVER" if over else ""
        if engine:
            flag = "engine preview included"
        elif r.page.note:
            flag = f"{flag} {r.page.note}".strip()
        varied = "*" if r.statements_varied else ""
        print(
            f"| {r.page.name} | `{r.page.path}` | {r.p50:.1f} | {r.p95:.1f} | "
            f"{r.statements}{varied} | {statistics.median(r.sql_ms):.1f} | {r.rows} | {flag} |"
        )
        ok = ok and not over
    print()
    print(
        f"engine preview alone (pending_for_account, {preview_subs:,} subscriptions), "
        f"{len(preview)} calls: "
        f"p50 {statistics.median(preview):.1f} ms, p95 {p95(preview):.1f} ms"
    )
    print()
    print("N+1 check (SQL statements must not grow with the rows shown):")
    for name, small, big, what in checks:
        verdict = "ok" if small == big else "GROWS"
        ok = ok and small == big
        print(f"  {verdict:5} {name}: {small} vs {big} ({what})")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--subs-per-account", type=int, default=5)
    parser.add_argument("--preview-subs", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RECUR_TEST_POSTGRES_URL") or os.environ.get("RECUR_DATABASE_URL"),
        help=f"a PostgreSQL server; {BENCH_DB} is (re)created on it",
    )
    parser.add_argument("--reuse", action="store_true", help=f"keep {BENCH_DB} if it is built")
    parser.add_argument("--only", action="append", help="page groups or names to time")
    parser.add_argument("--sql", action="store_true", help="print each page's statements")
    parser.add_argument("--json", metavar="FILE", help="write the figures to FILE")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no database: pass --database-url or set RECUR_TEST_POSTGRES_URL")
    if not make_url(normalise_url(args.database_url)).drivername.startswith("postgresql"):
        parser.error("the benchmark needs PostgreSQL")

    print(f"machine: {billing_run.machine()}", flush=True)
    url = prepare(args)
    s = subjects(url, args.accounts)
    print(
        f"data: {s.accounts:,} accounts, {s.subscriptions:,} subscriptions, "
        f"{s.invoices:,} invoices; as of {AS_OF}",
        flush=True,
    )
    settings = Settings(database_url=url, today=AS_OF, scheduler="off", secret_key="bench")
    app = create_app(settings)
    sql = SqlCounter()
    sql.install(app.state.ctx.db.engine)
    timed = Timed(app)
    selected = [
        p
        for p in pages(s)
        if not args.only or any(o in (p.group, p.name) or o in p.path for o in args.only)
    ]
    results = []
    with TestClient(timed, follow_redirects=False) as client:
        sign_in(client)
        for page in selected:
            result = measure(client, timed, sql, page, args.warmup, args.requests)
            results.append(result)
            print(
                f"  {page.name}: p50 {result.p50:.1f} ms, {result.statements} statements",
                flush=True,
            )
            if args.sql:
                for statement in result.sql:
                    print("      " + " ".join(statement.split())[:400])
        checks = n_plus_one(client, sql, selected, s)
    preview = preview_alone(url, args.requests)
    ok = report(results, checks, preview, args.preview_subs)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "pages": [
                        {
                            "name": r.page.name,
                            "path": r.page.path,
                            "p50_ms": r.p50,
                            "p95_ms": r.p95,
                            "statements": r.statements,
                            "sql_ms": statistics.median(r.sql_ms),
                            "rows": r.rows,
                        }
                        for r in results
                    ],
                    "n_plus_one": checks,
                    "preview_p50_ms": statistics.median(preview),
                    "preview_p95_ms": p95(preview),
                },
                indent=2,
            )
        )
    print()
    print(
        "all pages within 100 ms (engine-preview pages aside), no N+1"
        if ok
        else "SOME PAGES ARE OVER 100 ms OR RUN MORE STATEMENTS FOR MORE ROWS"
    )


if __name__ == "__main__":
    main()
