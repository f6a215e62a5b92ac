"""The API's preview read on the event loop answers exactly as the sync read does, and its
pooled PostgreSQL connections are looked after as the sync engine's are."""

import asyncio
from datetime import date

import pytest
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import func, select

from recur.db import loop_reads
from recur.db.loop_reads import LoopReads
from recur.db.session import Database
from recur.domain.catalogue import BillingType
from recur.domain.errors import NotFound
from recur.services.invoicing import pending_for_account, pending_for_account_on_loop
from tests.integration import factories as f

_BACKEND_PID = (select(func.pg_backend_pid()), {})


def test_the_preview_read_on_the_loop_is_the_preview(db: Database) -> None:
    account = f.account(db, billing_day=11, tax_rate="24")
    prepaid = f.product(db, unit_price="12.50", setup_fee="50.00")
    postpaid = f.product(db, "Azure usage", billing_type=BillingType.POSTPAID, unit_price="100")
    f.subscribe(db, account, prepaid, date(2027, 1, 20), quantity=10)
    f.subscribe(db, account, postpaid, date(2027, 1, 11))
    f.subscribe(db, f.account(db, "Other"), prepaid, date(2027, 1, 11))
    as_of = date(2027, 1, 15)

    async def on_loop() -> object:
        reads = LoopReads(db)
        try:
            return await pending_for_account_on_loop(reads, account, as_of)
        finally:
            await reads.close()

    on_the_loop = asyncio.run(on_loop())
    expected = pending_for_account(db, account, as_of)
    assert len(expected.invoices) == 2
    assert len(expected.subscriptions) == 2
    assert on_the_loop == expected


def test_an_unknown_account_has_no_preview_on_the_loop(db: Database) -> None:
    async def on_loop() -> None:
        reads = LoopReads(db)
        try:
            await pending_for_account_on_loop(reads, 999, date(2027, 1, 15))
        finally:
            await reads.close()

    with pytest.raises(NotFound, match="account 999 does not exist"):
        asyncio.run(on_loop())


@pytest.mark.postgres
def test_a_pooled_connection_dropped_while_idle_is_replaced_unseen(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> tuple[int, int]:
        reads = LoopReads(pg_db)
        try:
            ((first,),) = (await reads.fetch_rows(_BACKEND_PID))[0]
            with pg_db.engine.begin() as conn:  # as a server restart or an idle timeout would
                assert conn.scalar(select(func.pg_terminate_backend(first)))
            monkeypatch.setattr(loop_reads, "PING_IF_IDLE_FOR", 0.0)
            ((second,),) = (await reads.fetch_rows(_BACKEND_PID))[0]
            return first, second
        finally:
            await reads.close()

    first, second = asyncio.run(scenario())
    assert second != first


@pytest.mark.postgres
def test_only_a_pooled_connection_that_sat_idle_is_pinged(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []

    async def ping(connection: object) -> None:
        pings.append(connection)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", ping)

    async def scenario() -> list[int]:
        reads = LoopReads(pg_db)
        try:
            for _ in range(3):  # in steady use: no round trip spent on pinging
                await reads.fetch_rows(_BACKEND_PID)
            in_steady_use = len(pings)
            monkeypatch.setattr(loop_reads, "PING_IF_IDLE_FOR", 0.0)
            await reads.fetch_rows(_BACKEND_PID)
            return [in_steady_use, len(pings)]
        finally:
            await reads.close()

    assert asyncio.run(scenario()) == [0, 1]
