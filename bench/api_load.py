"""API latency under load: 16 concurrent clients against `recur serve` on PostgreSQL.

    scripts/with-postgres.sh .venv/bin/python bench/api_load.py [--workers 1 2 4] \
        [--threads T] [--accounts 20000] [--clients 16] [--seconds 20] [--reuse] [--rate R]

It builds (or, with --reuse, keeps) the data set of bench/web_pages.py on the
server of RECUR_TEST_POSTGRES_URL: 20,000 accounts × 5 subscriptions, billed by
a run as of 2027-03-15. For each worker count it starts `recur serve --workers N`
(today pinned at that date, no scheduler) and runs the clients in a closed loop
with no think time. Each client goes through accounts of its own (with 5
subscriptions, in a random order: --order fixes it), and on each:

    GET  /api/v1/accounts/{id}/pending-invoices
    POST /api/v1/accounts/{id}/invoices/generate   (the pending subscriptions,
                                                    a fresh Idempotency-Key)

Pending always looks one period ahead, so every generation issues the next one.
With --rate R the clients are paced instead, R cycles per second between them, and
a GET is timed from when its cycle was due.
The first --warm-up seconds are not counted. Prints p50/p95/p99 per route, the
requests per second, every non-2xx answer, and the CPU seconds that the server,
PostgreSQL and the load generator each used while measured.

The clients are a small asyncio HTTP/1.1 client (keep-alive, one connection
each): on two cores the load generator's own CPU competes with the server's,
and a general-purpose client costs several times more per request.
"""

import argparse
import asyncio
import itertools
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from recur.db.models import Subscription
from recur.db.session import Database

sys.path.insert(0, str(Path(__file__).parent))
import web_pages
from web_pages import AS_OF


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(
        self, method: str, path: str, body: object = None, key: str | None = None
    ) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\n{self.head}"
        if key is not None:
            head += f"Idempotency-Key: {key}\r\n"
        if method == "POST":
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    counting: bool = False


async def client_loop(
    client: Client, accounts: list[int], until: float, tally: Tally, every: float
) -> None:
    """Cycles back to back (every == 0: closed loop), or one cycle every `every`
    seconds. Paced, a cycle's GET is timed from when it was due, so that a client
    held up by a slow answer does not hide the wait (coordinated omission)."""
    due = time.perf_counter() + random.uniform(0, every)
    for account in itertools.cycle(accounts):
        if time.monotonic() >= until:
            break
        if every:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            started, due = due, due + every
        else:
            started = time.perf_counter()
        status, body = await client.call("GET", f"/api/v1/accounts/{account}/pending-invoices")
        seconds = time.perf_counter() - started
        if tally.counting:
            tally.latencies["GET pending-invoices"].append(seconds)
        if status != 200:
            tally.errors.append(f"GET pending {account}: {status} {body[:200]!r}")
            continue
        selection = [s["id"] for s in json.loads(body)["subscriptions"]]
        started = time.perf_counter()
        status, body = await client.call(
            "POST",
            f"/api/v1/accounts/{account}/invoices/generate",
            {"subscription_ids": selection},
            key=uuid.uuid4().hex,
        )
        seconds = time.perf_counter() - started
        if tally.counting:
            tally.latencies["POST invoices/generate"].append(seconds)
        if status != 201:
            tally.errors.append(f"POST generate {account}: {status} {body[:200]!r}")


async def load(port: int, token: str, accounts: list[int], args: argparse.Namespace) -> Tally:
    tally = Tally()
    until = time.monotonic() + args.warm_up + args.seconds

    async def count_after_warm_up() -> None:
        await asyncio.sleep(args.warm_up)
        tally.counting = True

    every = args.clients / args.rate if args.rate else 0.0
    clients = [
        client_loop(Client(port, token), accounts[k :: args.clients], until, tally, every)
        for k in range(args.clients)
    ]
    await asyncio.gather(count_after_warm_up(), *clients)
    return tally


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU of each of the processes that are still running."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def cpu_since(before: dict[int, float], now: dict[int, float]) -> float:
    """CPU used since `before` by the processes running now (one started since counts
    whole). One that ended in between is left out: subtracting what it had used
    before would count less than nothing for it."""
    return sum(used - before.get(pid, 0.0) for pid, used in now.items())


def pgrep(*criteria: str) -> list[int]:
    found = subprocess.run(["pgrep", *criteria], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


def family(pid: int) -> list[int]:
    """The process and all its descendants (uvicorn's worker processes)."""
    pids = [pid]
    for child in pgrep("-P", str(pid)):
        pids += family(child)
    return pids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pick_accounts(url: str, seed: int | None) -> list[int]:
    """The accounts with 5 subscriptions (not account 1, the 1,000-subscription one), in
    shuffled (by `seed`, or at random): each client goes through accounts of its own, so
    that every generation issues an account's next period, as an operator's would.
    Sixteen accounts billed over and over would soon be billed centuries ahead."""
    db = Database(url)
    with db.read() as session:
        five = session.scalars(
            select(Subscription.account_id)
            .group_by(Subscription.account_id)
            .having(func.count() == 5)
            .order_by(Subscription.account_id)
        ).all()
    db.dispose()
    accounts = list(five)
    random.Random(seed).shuffle(accounts)
    return accounts


def serve(
    url: str, workers: int, port: int, token: str, threads: int | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RECUR_DATABASE_URL": url,
        "RECUR_TODAY": AS_OF.isoformat(),
        "RECUR_SCHEDULER": "off",
        "RECUR_API_TOKEN": token,
    }
    if threads is not None:
        env["RECUR_SERVER_THREADS"] = str(threads)
    command = [str(Path(sys.executable).parent / "recur"), "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
                if b" 200 " in s.recv(200):
                    time.sleep(1)  # every worker process up
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("recur serve did not become ready")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def measure(url: str, workers: int, accounts: list[int], args: argparse.Namespace) -> bool:
    port, token = free_port(), secrets.token_urlsafe(24)
    server = serve(url, workers, port, token, args.threads)
    try:
        server_pids, postgres = family(server.pid), pgrep("-x", "postgres")
        before = cpu_seconds(server_pids), cpu_seconds(postgres)
        load_generator = time.process_time()
        started = time.monotonic()
        tally = asyncio.run(load(port, token, accounts, args))
        elapsed = time.monotonic() - started
        # PostgreSQL backends started during the load count whole.
        used = [
            cpu_since(before[0], cpu_seconds(server_pids)),
            cpu_since(before[1], cpu_seconds(pgrep("-x", "postgres"))),
            time.process_time() - load_generator,
        ]
    finally:
        os.killpg(server.pid, 15)
        server.wait()
    load_kind = f"{args.rate:g} cycles/s offered" if args.rate else "closed loop"
    threads = f" × {args.threads} thread(s)" if args.threads else ""
    print(
        f"\n{workers} server process(es){threads}, {args.clients} clients ({load_kind}), "
        f"{args.seconds:.0f} s measured "
        f"after {args.warm_up:.0f} s warm-up; CPU over the {elapsed:.0f} s: server {used[0]:.1f} s, "
        f"PostgreSQL {used[1]:.1f} s, load generator {used[2]:.1f} s"
    )
    for route, values in tally.latencies.items():
        print(
            f"  {route:24} n={len(values):5}  {len(values) / args.seconds:6.1f} req/s  "
            f"p50 {percentile(values, 0.50):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms  "
            f"p99 {percentile(values, 0.99):6.1f} ms"
        )
    print(f"  errors: {len(tally.errors)}")
    for error in tally.errors[:10]:
        print(f"    {error}")
    return not tally.errors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("RECUR_TEST_POSTGRES_URL"))
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--threads", type=int, default=None, help="RECUR_SERVER_THREADS (default: the server's)"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warm-up", type=float, default=3)
    parser.add_argument(
        "--rate", type=float, default=0, help="cycles/s offered by all clients (0: closed loop)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the data set if built")
    parser.add_argument("--seed", type=int, default=2027, help="the data set's")
    parser.add_argument("--order", type=int, default=None, help="seed of the accounts' order")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("no --database-url and no RECUR_TEST_POSTGRES_URL")
    data = argparse.Namespace(
        database_url=args.database_url,
        accounts=args.accounts,
        subs_per_account=5,
        preview_subs=1000,
        seed=args.seed,
        reuse=args.reuse,
    )
    url = web_pages.prepare(data)
    accounts = pick_accounts(url, args.order)
    results = [measure(url, workers, accounts, args) for workers in args.workers]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
