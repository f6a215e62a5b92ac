"""Reads on the event loop, for the API's hottest read: an account's preview.

A sync route runs in the server's thread pool: a hop there and back per request,
and under load the worker thread and the event loop hand Python's GIL to each other
while the request's own work waits. On PostgreSQL these reads go through psycopg's
async driver instead, from a small pool of autocommit connections of the process's
own: the queries go in one round trip (a pipeline), with no transaction to begin or
end, and the event loop serves other requests while PostgreSQL answers. SQLite
(the embedded default) is read in the thread pool, in a read transaction.

Each statement is a statement of `db/rows.py` (compiled once, no IN lists) and
answers the same rows, by position and by name. As in any READ COMMITTED
transaction, each statement sees the database as it was when that statement
started: a preview may read its terms and its subscriptions a moment apart, and a
generation reads both again under the account's lock.
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from anyio import to_thread
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from recur.db import driver
from recur.db.rows import Query, fetch_rows, for_psycopg
from recur.db.session import PING_IF_IDLE_FOR, PLAN_ONCE, Database, is_sqlite

# Connections per server process: a read holds one for a round trip, so a few serve
# every request a process has in flight.
POOL_SIZE = 4
# Seconds a read waits for a connection (to open the pool, or one free): a database
# that cannot be reached fails the request, as the sync engine would, rather than
# holding it for psycopg_pool's default 30 s.
WAIT_FOR_CONNECTION = 5.0


class LoopReads:
    """Read-only queries awaited on the running event loop (see the module docstring).

    The pool opens on first use, on the loop that uses it; `close` ends it.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.postgres = not is_sqlite(db.engine)
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._opening = asyncio.Lock()

    async def fetch_rows(self, *queries: Query) -> list[Sequence[Any]]:
        """All rows of each query (as `db.rows.fetch_rows`), in one round trip on PostgreSQL."""
        if not self.postgres:
            return await to_thread.run_sync(self._fetch_in_thread, queries)
        pool = self._pool or await self._open()
        statements = for_psycopg(queries, self.db.engine.dialect)
        async with pool.connection() as connection:
            return list(await driver.fetch_pipelined_async(connection, statements))

    def _fetch_in_thread(self, queries: tuple[Query, ...]) -> list[Sequence[Any]]:
        with self.db.read() as session:
            return fetch_rows(session, *queries)

    async def _open(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        async with self._opening:
            if self._pool is None:
                engine = self.db.engine
                _, params = engine.dialect.create_connect_args(engine.url)
                pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
                    kwargs={**params, "autocommit": True},
                    min_size=1,
                    max_size=POOL_SIZE,
                    configure=_plan_once,
                    check=_ping_if_idle,
                    reset=_returned,
                    timeout=WAIT_FOR_CONNECTION,
                    open=False,
                )
                # Not ready in time: psycopg_pool closes it, and the next read tries again.
                await pool.open(wait=True, timeout=WAIT_FOR_CONNECTION)
                self._pool = pool
            return self._pool

    async def listen(
        self, channel: str, heard: Callable[[], None], listening: Callable[[bool], None]
    ) -> None:
        """`driver.listen` on this database (PostgreSQL), until cancelled."""
        engine = self.db.engine
        _, params = engine.dialect.create_connect_args(engine.url)
        await driver.listen(params, channel, heard, listening)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _plan_once(connection: AsyncConnection[Any]) -> None:
    """As the sync engine's connections do (db/session.py)."""
    await connection.execute(PLAN_ONCE)


# When each pooled connection was last given back: as the sync engine does, a
# connection is pinged before use only if it sat idle, when the server may have
# dropped it; one in steady use is known good.
_returned_at: "WeakKeyDictionary[AsyncConnection[Any], float]" = WeakKeyDictionary()


async def _returned(connection: AsyncConnection[Any]) -> None:
    _returned_at[connection] = time.monotonic()


async def _ping_if_idle(connection: AsyncConnection[Any]) -> None:
    returned = _returned_at.get(connection)
    if returned is None or time.monotonic() - returned < PING_IF_IDLE_FOR:
        return  # new (just configured), or in steady use
    await AsyncConnectionPool.check_connection(connection)
