"""API latency under load: 16 concurrent clients against a running `recur serve`.

    RECUR_API_TOKEN=... python bench/api_load.py --base-url http://127.0.0.1:8000 \
        --token $RECUR_API_TOKEN --seconds 20

It creates its own product and accounts (one per client, each with 3 monthly
subscriptions), then each client alternates GET /accounts/{id}/pending-invoices
and POST /accounts/{id}/invoices/generate (each generation issues the next
period, so there is always something pending). Prints p50/p95/p99 per route.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from collections import defaultdict

import httpx


async def setup(client: httpx.AsyncClient, clients: int) -> list[tuple[int, list[int]]]:
    sku = f"BENCH-{uuid.uuid4().hex[:8]}"
    product = await client.post(
        "/api/v1/products",
        json={
            "sku": sku,
            "name": "Bench seat",
            "pricing_options": [
                {
                    "code": "m",
                    "billing_period": "monthly",
                    "billing_type": "prepaid",
                    "unit_price": "9.99",
                    "currency": "EUR",
                }
            ],
        },
    )
    product.raise_for_status()
    option = product.json()["pricing_options"][0]["id"]
    accounts = []
    for n in range(clients):
        body = {"name": f"Bench {n}", "email": f"b{n}@example.com", "currency": "EUR"}
        account = (await client.post("/api/v1/accounts", json={**body, "tax_rate": "24"})).json()
        subs = []
        for k in range(3):
            sub = await client.post(
                "/api/v1/subscriptions",
                json={
                    "account_id": account["id"],
                    "pricing_option_id": option,
                    "quantity": k + 1,
                    "start_date": "2026-01-01",
                },
            )
            sub.raise_for_status()
            subs.append(sub.json()["id"])
        accounts.append((account["id"], subs))
    return accounts


async def worker(
    client: httpx.AsyncClient,
    account: tuple[int, list[int]],
    until: float,
    latencies: dict[str, list[float]],
) -> None:
    account_id, subs = account
    while time.monotonic() < until:
        started = time.perf_counter()
        response = await client.get(f"/api/v1/accounts/{account_id}/pending-invoices")
        latencies["GET pending-invoices"].append(time.perf_counter() - started)
        response.raise_for_status()
        started = time.perf_counter()
        response = await client.post(
            f"/api/v1/accounts/{account_id}/invoices/generate",
            json={"subscription_ids": subs},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        latencies["POST generate"].append(time.perf_counter() - started)
        response.raise_for_status()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"}
    limits = httpx.Limits(max_connections=args.clients * 2)
    async with httpx.AsyncClient(
        base_url=args.base_url, headers=headers, timeout=60, limits=limits
    ) as client:
        accounts = await setup(client, args.clients)
        latencies: dict[str, list[float]] = defaultdict(list)
        until = time.monotonic() + args.seconds
        started = time.monotonic()
        await asyncio.gather(*(worker(client, a, until, latencies) for a in accounts))
        elapsed = time.monotonic() - started
    print(f"{args.clients} clients, {elapsed:.1f} s")
    for route, values in latencies.items():
        print(
            f"{route:22} n={len(values):6}  {len(values) / elapsed:7.1f} req/s  "
            f"p50 {percentile(values, 0.50):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms  "
            f"p99 {percentile(values, 0.99):7.1f} ms  mean {statistics.mean(values) * 1000:7.1f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
