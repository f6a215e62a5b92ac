"""Work that plays the engine over the whole book, run in a child process.

The engine is pure Python: a thread of the server computing the next 30 days of
100,000 subscriptions, or a whole-book forecast, would hold the interpreter's lock
for seconds or minutes, and every request of that server process would wait for it
between statements. A child process has an interpreter of its own. It is spawned
(not forked: the server's threads and open connections stay behind), opens the
database by its URL and answers with plain values.

The children are daemons: they end with the server, and whatever they were
computing is lost with them (the callers say what that leaves behind).
"""

import atexit
import logging
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import Any, TypeVar

from recur.db.session import Database

log = logging.getLogger("recur.offload")

T = TypeVar("T")


def database_url(db: Database) -> str:
    """What a child needs to open `db` (password included: it never leaves the machine)."""
    return db.engine.url.render_as_string(hide_password=False)


@contextmanager
def opened(url: str) -> Iterator[Database]:
    """In a child process: the database at `url` for one piece of work, closed after
    (a child serves whichever database its server asks for, tests' many included)."""
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()


class Offload:
    """A pool of `processes` child processes, started at its first use."""

    def __init__(self, name: str, processes: int = 1) -> None:
        self.name = name
        self.processes = processes
        self._pool: Pool | None = None
        self._starting = threading.Lock()

    def submit(
        self,
        work: Callable[..., T],
        args: tuple[Any, ...],
        failed: Callable[[BaseException], None],
        done: Callable[[T], None] | None = None,
    ) -> None:
        """Run `work(*args)` in a child; `done` (or `failed`) is then called in this
        process, from the pool's result thread. `work` must be a module's function
        and its arguments and result plain values (they are pickled)."""
        self._started().apply_async(work, args, callback=done, error_callback=failed)

    def _started(self) -> Pool:
        with self._starting:
            if self._pool is None:
                spawn = multiprocessing.get_context("spawn")
                self._pool = spawn.Pool(self.processes)
                # Ended before the interpreter tears its modules down, or the pool's
                # own finaliser complains about them on the way out.
                atexit.register(self._pool.terminate)
                log.info("child processes started", extra={"pool": self.name})
            return self._pool
