"""Dashboard and forecast times on PostgreSQL, on bench/web_pages.py's data set.

Builds (or, with --reuse, keeps) `recur_web_bench`: N accounts × M subscriptions, one
account with 1,000 subscriptions, last month's invoices and a billing run as of
2027-03-15 (bench/billing_run.py's builder). Then, with today = 2027-03-15:

- the dashboard (`GET /`, every currency's figures and charts): server time through
  FastAPI's TestClient. Its first view (the server started computing the figures
  in a child process at its start), the views while they are computed and how long
  after the start they appear, then median and p95 of --requests views with nothing changed,
  then the same after a state change (a user created: every change moves the book);
- `GET /api/v1/metrics?currency=EUR` alone, the same way;
- an account's 12-month forecast (`GET /api/v1/accounts/{id}/forecast`) for a
  5-subscription account and for the 1,000-subscription one;
- the whole book's 12-month forecast job, from start to done (it never holds a
  request: the start answers at once, a child process computes it), and the
  dashboard's server time meanwhile.

    scripts/with-postgres.sh .venv/bin/python bench/dashboard.py [--accounts 20000] [--reuse]

Results are described in docs/performance.md ("Dashboard and forecast").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

import billing_run
import web_pages

from recur.app import create_app
from recur.db.session import normalise_url
from recur.services.users import create_user
from recur.settings import Settings

DASHBOARD_BUDGET_MS = 300.0
FORECAST_BUDGET_MS = 200.0
TOKEN = "bench-dashboard-token-0123456789abcdef"


def timed_gets(
    client: TestClient, timed: web_pages.Timed, path: str, requests: int, **headers: str
) -> list[float]:
    """Server times (ms) of `requests` GETs of `path` after a first one, printed apart
    (it may compute what later ones find kept)."""
    first = client.get(path, headers=headers)
    if first.status_code != 200:
        raise SystemExit(f"{path}: HTTP {first.status_code}\n{first.text[:2000]}")
    print(f"  {path}: first request {timed.last * 1000:.0f} ms", flush=True)
    found = []
    for _ in range(requests):
        client.get(path, headers=headers)
        found.append(timed.last * 1000)
    return found


REFRESHING = ("Computing…", "<strong>Refreshing:</strong>")


def view(client: TestClient, timed: web_pages.Timed) -> tuple[float, bool]:
    """(server ms, whether a next 30 days is still being computed) of a dashboard view."""
    page = client.get("/")
    if page.status_code != 200:
        raise SystemExit(f"/: HTTP {page.status_code}\n{page.text[:2000]}")
    return timed.last * 1000, any(mark in page.text for mark in REFRESHING)


def dashboard(
    client: TestClient, timed: web_pages.Timed, requests: int, name: str, started: float
) -> None:
    """A first view, views every half second until the background refresh (started at
    `started`, perf_counter) is done, then `requests` views with nothing changed."""
    first, refreshing = view(client, timed)
    print(f"  dashboard, {name}: first view {first:.0f} ms (refreshing: {refreshing})")
    meanwhile = []
    while refreshing:
        time.sleep(0.5)
        ms, refreshing = view(client, timed)
        meanwhile.append(ms)
    print(
        f"  every currency's figures computed in the background "
        f"{time.perf_counter() - started:.1f} s after {name}",
        flush=True,
    )
    if meanwhile:
        print(line(f"dashboard while it computed ({len(meanwhile)} views)", meanwhile))
    steady = [view(client, timed)[0] for _ in range(requests)]
    print(line("dashboard, nothing changed", steady, DASHBOARD_BUDGET_MS), flush=True)


def line(name: str, times: list[float], budget: float | None = None) -> str:
    p50 = statistics.median(times)
    verdict = "" if budget is None else (" OK" if p50 < budget else f" OVER {budget:.0f} ms")
    return f"  {name}: p50 {p50:.1f} ms, p95 {web_pages.p95(times):.1f} ms{verdict}"


def book_forecast(
    client: TestClient, timed: web_pages.Timed, auth: dict[str, str]
) -> tuple[float, float, int, list[float]]:
    """(ms to answer the start, seconds until done, documents, server ms of the
    dashboard views every half second meanwhile) of a 12-month job."""
    started = time.perf_counter()
    answer = client.get("/api/v1/forecast?months=12", headers=auth)
    answered = (time.perf_counter() - started) * 1000
    if answer.status_code != 202:
        raise SystemExit(f"forecast: HTTP {answer.status_code}\n{answer.text[:2000]}")
    location = answer.headers["Location"]
    views = []
    while True:
        job = client.get(location, headers=auth).json()
        if job["status"] != "running":
            break
        time.sleep(0.5)
        views.append(view(client, timed)[0])
    if job["status"] != "done":
        raise SystemExit(f"forecast job {job['status']}: {job['error']}")
    return answered, time.perf_counter() - started, int(job["documents"]), views


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--subs-per-account", type=int, default=5)
    parser.add_argument("--preview-subs", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--requests", type=int, default=10, help="timed requests each")
    parser.add_argument("--skip-book", action="store_true", help="do not time the book's job")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RECUR_TEST_POSTGRES_URL") or os.environ.get("RECUR_DATABASE_URL"),
        help=f"a PostgreSQL server; {web_pages.BENCH_DB} is (re)created on it",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the data set if it is built")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no database: pass --database-url or set RECUR_TEST_POSTGRES_URL")
    if not make_url(normalise_url(args.database_url)).drivername.startswith("postgresql"):
        parser.error("the benchmark needs PostgreSQL")

    print(f"machine: {billing_run.machine()}", flush=True)
    url = web_pages.prepare(args)
    settings = Settings(
        database_url=url,
        today=web_pages.AS_OF,
        scheduler="off",
        secret_key="bench",
        api_token=TOKEN,
    )
    app = create_app(settings)
    timed = web_pages.Timed(app)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    server_start = time.perf_counter()
    with TestClient(timed, follow_redirects=False) as client:  # starts computing the figures
        web_pages.sign_in(client)
        dashboard(client, timed, args.requests, "server start", server_start)
        db = app.state.ctx.db
        email = f"bench-{time.time_ns()}@example.com"  # a new one each run: --reuse
        create_user(db, email, "viewer", web_pages.ADMIN_PASSWORD, "bench")
        dashboard(client, timed, args.requests, "a change", time.perf_counter())
        metrics = timed_gets(client, timed, "/api/v1/metrics?currency=EUR", args.requests, **auth)
        print(line("GET /api/v1/metrics?currency=EUR", metrics))
        for account, name in (
            (2, "5 subscriptions"),
            (web_pages.PREVIEW_ACCOUNT, f"{args.preview_subs:,} subscriptions"),
        ):
            path = f"/api/v1/accounts/{account}/forecast?months=12"
            times = timed_gets(client, timed, path, args.requests, **auth)
            budget = FORECAST_BUDGET_MS if account != web_pages.PREVIEW_ACCOUNT else None
            print(line(f"account forecast, {name}", times, budget))
        if not args.skip_book:
            answered, seconds, documents, views = book_forecast(client, timed, auth)
            print(
                f"  whole-book 12-month forecast job: started in {answered:.0f} ms, "
                f"done in {seconds:.1f} s, {documents:,} documents",
                flush=True,
            )
            print(line(f"dashboard while the job ran ({len(views)} views)", views))


if __name__ == "__main__":
    main()
