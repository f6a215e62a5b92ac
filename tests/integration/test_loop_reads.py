"""The API's preview read on the event loop answers exactly as the sync read does, and its
pooled PostgreSQL connections are looked after as the sync engine's are."""

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import pytest
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import func, select

from recur.db import loop_reads
from recur.db.loop_reads import LoopReads
from recur.db.session import Database
from recur.domain.calendar import add_months
from recur.domain.catalogue import BillingType
from recur.domain.errors import NotFound
from recur.services.invoicing import (
    LOOP_SHARE,
    AccountPending,
    pending_for_account,
    pending_for_account_on_loop,
)
from tests.integration import factories as f

T = TypeVar("T")
_BACKEND_PID = (select(func.pg_backend_pid()), {})


def on_loop(db: Database, work: Callable[[LoopReads], Awaitable[T]]) -> T:
    """`work` on an event loop, with reads of its own (closed after)."""

    async def run() -> T:
        reads = LoopReads(db)
        try:
            return await work(reads)
        finally:
            await reads.close()

    return asyncio.run(run())


async def backend_pid(reads: LoopReads) -> int:
    ((pid,),) = (await reads.fetch_rows(_BACKEND_PID))[0]
    return int(pid)


def test_the_preview_read_on_the_loop_is_the_preview(db: Database) -> None:
    account = f.account(db, billing_day=11, tax_rate="24")
    prepaid = f.product(db, unit_price="12.50", setup_fee="50.00")
    postpaid = f.product(db, "Azure usage", billing_type=BillingType.POSTPAID, unit_price="100")
    f.subscribe(db, account, prepaid, date(2027, 1, 20), quantity=10)
    f.subscribe(db, account, postpaid, date(2027, 1, 11))
    f.subscribe(db, f.account(db, "Other"), prepaid, date(2027, 1, 11))
    as_of = date(2027, 1, 15)

    on_the_loop = on_loop(
        db, lambda reads: pending_for_account_on_loop(reads, account, as_of, _same)
    )
    expected = pending_for_account(db, account, as_of)
    assert len(expected.invoices) == 2
    assert len(expected.subscriptions) == 2
    assert on_the_loop == expected


def _same(pending: AccountPending) -> AccountPending:
    return pending


@pytest.mark.parametrize("months", [LOOP_SHARE - 20, LOOP_SHARE + 20])
def test_a_preview_beyond_the_loops_share_is_the_same_preview(db: Database, months: int) -> None:
    """Past LOOP_SHARE charges the preview is computed in a thread: the same answer."""
    as_of = date(2027, 1, 15)
    account = f.account(db)
    product = f.product(db, unit_price="9.99")
    f.subscribe(db, account, product, add_months(as_of, -months // 2))
    f.subscribe(db, account, product, add_months(as_of, -months // 2), quantity=3)

    expected = pending_for_account(db, account, as_of)
    charges = sum(len(invoice.items) for invoice in expected.invoices)
    assert (charges > LOOP_SHARE) == (months > LOOP_SHARE)
    assert on_loop(db, lambda reads: pending_for_account_on_loop(reads, account, as_of, _same)) == (
        expected
    )


def test_an_unknown_account_has_no_preview_on_the_loop(db: Database) -> None:
    with pytest.raises(NotFound, match="account 999 does not exist"):
        on_loop(db, lambda reads: pending_for_account_on_loop(reads, 999, date(2027, 1, 15), _same))


@pytest.mark.postgres
def test_a_pooled_connection_dropped_while_idle_is_replaced_unseen(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(reads: LoopReads) -> tuple[int, int]:
        first = await backend_pid(reads)
        with pg_db.engine.begin() as conn:  # as a server restart or an idle timeout would
            assert conn.scalar(select(func.pg_terminate_backend(first)))
        monkeypatch.setattr(loop_reads, "PING_IF_IDLE_FOR", 0.0)
        return first, await backend_pid(reads)

    first, second = on_loop(pg_db, scenario)
    assert second != first


@pytest.mark.postgres
def test_only_a_pooled_connection_that_sat_idle_is_pinged(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []

    async def ping(connection: object) -> None:
        pings.append(connection)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", ping)

    async def scenario(reads: LoopReads) -> list[int]:
        for _ in range(3):  # in steady use: no round trip spent on pinging
            await backend_pid(reads)
        in_steady_use = len(pings)
        monkeypatch.setattr(loop_reads, "PING_IF_IDLE_FOR", 0.0)
        await backend_pid(reads)
        return [in_steady_use, len(pings)]

    assert on_loop(pg_db, scenario) == [0, 1]


@pytest.mark.postgres
def test_an_unreachable_database_fails_the_read_soon_and_a_later_read_tries_again(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loop_reads, "WAIT_FOR_CONNECTION", 0.5)
    nowhere = Database(pg_db.engine.url.set(port=free_port()).render_as_string(False))

    async def scenario(reads: LoopReads) -> float:
        started = time.monotonic()
        for _ in range(2):  # each read tries to open the pool afresh
            with pytest.raises(PoolTimeout):
                await backend_pid(reads)
        await asyncio.sleep(0.1)
        # No pool left behind, its workers trying to connect for ever.
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return time.monotonic() - started

    assert on_loop(nowhere, scenario) < 5
    nowhere.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
